//! The generated files committed with the code — manual pages under `man/`, completion
//! scripts under `completions/` — are what the code generates now, and the scripts work: the
//! bash one completes both `git-orchestrate <TAB>` and, through git's own completion,
//! `git orchestrate <TAB>`.

use std::path::{Path, PathBuf};
use std::process::Command;

use git_orchestrate::cli::generate::{self, SHELLS};

use crate::harness::TestRepo;

/// Set to rewrite the committed files from the code.
const UPDATE: &str = "GIT_ORCHESTRATE_UPDATE_GENERATED";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[allow(clippy::disallowed_methods)] // a developer's switch, read only by this test
fn updating() -> bool {
    std::env::var_os(UPDATE).is_some()
}

/// Every generated file: its path under the crate, and its bytes.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = generate::man_pages()
        .into_iter()
        .map(|(name, bytes)| (PathBuf::from("man").join(name), bytes))
        .collect();
    for shell in SHELLS {
        files.push((
            PathBuf::from("completions").join(generate::completion_file_name(shell)),
            generate::completion(shell).into_bytes(),
        ));
    }
    files
}

/// The files in `dir` (relative to the crate), sorted.
fn committed_in(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| Path::new(dir).join(e.file_name()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn the_committed_man_pages_and_completions_are_what_the_code_generates() {
    let files = generated();
    if updating() {
        for dir in ["man", "completions"] {
            for stale in committed_in(dir) {
                if !files.iter().any(|(path, _)| *path == stale) {
                    std::fs::remove_file(root().join(stale)).unwrap();
                }
            }
        }
        for (path, bytes) in &files {
            let full = root().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, bytes).unwrap();
        }
    }
    let regenerate =
        format!("regenerate them with:\n    {UPDATE}=1 cargo test --test cli generated");
    let mut problems = Vec::new();
    for (path, bytes) in &files {
        match std::fs::read(root().join(path)) {
            Ok(on_disk) if on_disk == *bytes => {}
            Ok(_) => problems.push(format!("{} differs", path.display())),
            Err(_) => problems.push(format!("{} is missing", path.display())),
        }
    }
    let mut expected: Vec<&PathBuf> = files.iter().map(|(path, _)| path).collect();
    expected.sort();
    for dir in ["man", "completions"] {
        for path in committed_in(dir) {
            if !expected.contains(&&path) {
                problems.push(format!("{} is not generated any more", path.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the committed man pages and completions are not what the code generates:\n  {}\n{regenerate}",
        problems.join("\n  ")
    );
    let names: Vec<String> = expected.iter().map(|p| p.display().to_string()).collect();
    for name in [
        "man/git-orchestrate.1",
        "man/git-orchestrate-status.1",
        "completions/git-orchestrate.bash",
        "completions/_git-orchestrate",
        "completions/git-orchestrate.fish",
        "completions/git-orchestrate.elv",
        "completions/_git-orchestrate.ps1",
    ] {
        assert!(names.contains(&name.to_string()), "{name} in {names:?}");
    }
}

/// `completions SHELL` prints exactly the committed script: the command and the files come
/// from the same code.
#[test]
fn the_completions_command_prints_the_committed_scripts() {
    let repo = TestRepo::new();
    for shell in SHELLS {
        let name = shell.to_string();
        let run = repo.run(&["completions", &name]);
        run.expect_code(0);
        assert!(run.stderr.is_empty(), "{name}: {}", run.stderr);
        assert_eq!(run.stdout, generate::completion(shell), "{name}");
        assert!(run.stdout.contains("orchestrate"), "{name}: {}", run.stdout);
    }
    let run = repo.run(&["completions", "nosuchshell"]);
    run.expect_code(2);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        run.stderr_has(shell);
    }
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// The man page names the subcommands' pages, and shows the plain version, not a commit.
#[test]
fn the_man_page_lists_the_subcommand_pages() {
    let pages = generate::man_pages();
    let (name, main) = &pages[0];
    assert_eq!(name, "git-orchestrate.1");
    let main = String::from_utf8_lossy(main);
    for sub in ["status", "approve", "reject", "clean", "completions"] {
        assert!(
            main.contains(&format!("git\\-orchestrate\\-{sub}(1)")),
            "{sub}: {main}"
        );
    }
    assert!(main.contains("v0.1.0"), "{main}");
    let (_, status) = pages
        .iter()
        .find(|(name, _)| name == "git-orchestrate-status.1")
        .unwrap();
    let status = String::from_utf8_lossy(status);
    assert!(status.contains("git orchestrate status"), "{status}");
    assert!(status.contains("\\-\\-json"), "{status}");
}

/// The program on PATH as `git-orchestrate`, as an install puts it (the scripts call it back
/// for the candidates), before the host's PATH.
pub(crate) fn path_with_program(repo: &TestRepo) -> std::ffi::OsString {
    let installed = repo.base().join("installed");
    if !installed.exists() {
        std::fs::create_dir_all(&installed).unwrap();
        std::os::unix::fs::symlink(crate::harness::BIN, installed.join("git-orchestrate")).unwrap();
    }
    let mut dirs = vec![installed];
    dirs.extend(std::env::split_paths(&repo.path_with_models()));
    std::env::join_paths(dirs).unwrap()
}

/// Run `script` in bash after sourcing the bash completion (and git's, when `with_git`),
/// in the repository, with the program installed, and return what it printed.
fn bash(repo: &TestRepo, with_git: Option<&Path>, script: &str) -> String {
    let file = repo.base().join("git-orchestrate.bash");
    std::fs::write(&file, generate::completion(clap_complete::Shell::Bash)).unwrap();
    let git = with_git
        .map(|p| format!("source {}\n", p.display()))
        .unwrap_or_default();
    let mut cmd = Command::new("bash");
    repo.apply_env(&mut cmd);
    let out = cmd
        .env("PATH", path_with_program(repo))
        .arg("--norc")
        .arg("-c")
        .arg(format!("{git}source {}\n{script}", file.display()))
        .current_dir(&repo.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The function the script registers for `git-orchestrate`.
const FUNCTION: &str = "_clap_complete_git_orchestrate";

/// What the completion function offers for `words`, the last one being completed: bash's
/// `COMPREPLY`, one candidate a line.
pub(crate) fn offers(function: &str, words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    format!(
        "COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n\
         {function}\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cword = words.len() - 1,
        line = words.join(" "),
    )
}

/// `FUNCTION git-orchestrate CURRENT PREVIOUS`, as bash calls it for `words`.
fn direct(words: &[&str]) -> String {
    let current = words[words.len() - 1];
    let previous = words[words.len() - 2];
    offers(
        &format!("{FUNCTION} git-orchestrate '{current}' '{previous}'"),
        words,
    )
}

/// The candidates, one a line, as a list.
fn listed(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn bash_completes_git_orchestrate_typed_either_way() {
    let repo = TestRepo::new();
    let registered = bash(
        &repo,
        None,
        &format!(
            "complete -p git-orchestrate\n{}",
            direct(&["git-orchestrate", "sta"])
        ),
    );
    assert!(
        registered.contains(&format!("-F {FUNCTION} git-orchestrate\n")),
        "{registered}"
    );
    assert!(registered.lines().any(|l| l == "status"), "{registered}");
    let options = bash(&repo, None, &direct(&["git-orchestrate", "status", "--j"]));
    assert_eq!(options.trim(), "--json");

    // The function git's completion calls, on its own.
    let shim = bash(
        &repo,
        None,
        &offers("_git_orchestrate", &["git", "orchestrate", "status", "--j"]),
    );
    assert_eq!(shim.trim(), "--json");
    let shim = bash(
        &repo,
        None,
        &offers(
            "_git_orchestrate",
            &["git", "orchestrate", "completions", "fi"],
        ),
    );
    assert_eq!(shim.trim(), "fish");

    // Through git's own completion, where the machine has it.
    let git_completion = Path::new("/usr/share/bash-completion/completions/git");
    if git_completion.is_file() {
        let through_git = bash(
            &repo,
            Some(git_completion),
            &offers("__git_wrap__git_main", &["git", "orchestrate", "app"]),
        );
        assert_eq!(through_git.trim(), "approve", "{through_git}");
    }
}

#[test]
fn stages_and_gates_complete_by_name() {
    let repo = TestRepo::new();
    let until = bash(
        &repo,
        None,
        &offers(
            "_git_orchestrate",
            &["git", "orchestrate", "7", "--until", "s"],
        ),
    );
    assert_eq!(until.trim(), "spec");
    let resume = bash(
        &repo,
        None,
        &offers(
            "_git_orchestrate",
            &["git", "orchestrate", "run", "7", "--resume-from", ""],
        ),
    );
    assert_eq!(
        resume.split_whitespace().collect::<Vec<_>>(),
        ["triage", "lld", "spec", "impl", "pr"]
    );
    let gate = bash(
        &repo,
        None,
        &offers(
            "_git_orchestrate",
            &["git", "orchestrate", "approve", "7", "--gate", "after_"],
        ),
    );
    assert_eq!(
        gate.split_whitespace().collect::<Vec<_>>(),
        ["after_lld", "after_spec"]
    );
}

/// A repository with the branches of issues 7 and 12 (and a branch that is not an issue's).
fn repo_with_issue_branches() -> TestRepo {
    let repo = TestRepo::new();
    for branch in ["orchestrate/7-x", "orchestrate/12-y", "feature/99-z"] {
        repo.git(&["branch", branch]);
    }
    repo
}

#[test]
fn issue_arguments_complete_with_the_issues_that_have_a_branch() {
    let repo = repo_with_issue_branches();
    for command in ["status", "approve", "reject", "clean", "run"] {
        let offered = bash(&repo, None, &direct(&["git-orchestrate", command, ""]));
        let issues: Vec<&str> = listed(&offered)
            .into_iter()
            .filter(|c| !c.starts_with('-'))
            .collect();
        assert_eq!(issues, ["7", "12"], "{command}: {offered}");
    }
    // A run without the word `run`, `--issue`, a prefix typed, and `#`.
    let offered = bash(&repo, None, &direct(&["git-orchestrate", "1"]));
    assert_eq!(listed(&offered), ["12"], "{offered}");
    let offered = bash(
        &repo,
        None,
        &direct(&["git-orchestrate", "run", "--issue", ""]),
    );
    assert_eq!(listed(&offered), ["7", "12"], "{offered}");
    let offered = bash(
        &repo,
        None,
        &direct(&["git-orchestrate", "clean", "7", "#"]),
    );
    assert_eq!(listed(&offered), ["#7", "#12"], "{offered}");
    // Through git: `git orchestrate approve <TAB>`.
    let offered = bash(
        &repo,
        None,
        &offers("_git_orchestrate", &["git", "orchestrate", "approve", "1"]),
    );
    assert_eq!(listed(&offered), ["12"], "{offered}");
    let git_completion = Path::new("/usr/share/bash-completion/completions/git");
    if git_completion.is_file() {
        let offered = bash(
            &repo,
            Some(git_completion),
            &offers(
                "__git_wrap__git_main",
                &["git", "orchestrate", "status", "7"],
            ),
        );
        assert_eq!(listed(&offered), ["7"], "{offered}");
    }
    // With a branch prefix of the repository's own, its branches.
    repo.config("[orchestrator]\nbranch_prefix = \"feature/\"\n");
    let offered = bash(&repo, None, &direct(&["git-orchestrate", "status", "9"]));
    assert_eq!(listed(&offered), ["99"], "{offered}");
    // Outside a repository: none, and no error.
    let outside = TestRepo::empty();
    let offered = bash(&outside, None, &direct(&["git-orchestrate", "status", "1"]));
    assert_eq!(offered.trim(), "", "{offered}");
}

/// The completion protocol itself: the variable names the shell; unknown shells are refused
/// with advice; without words, the script is printed.
#[test]
fn the_program_answers_the_scripts_and_only_when_asked() {
    let repo = repo_with_issue_branches();
    let run = repo.run_env(
        &[("GIT_ORCHESTRATE_COMPLETE", std::ffi::OsStr::new("fish"))],
        &["--", "git-orchestrate", "approve", ""],
    );
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with("7\torchestrate/7-x\n12\torchestrate/12-y\n"),
        "{}",
        run.stdout
    );
    let run = repo.run_env(
        &[("GIT_ORCHESTRATE_COMPLETE", std::ffi::OsStr::new("bash"))],
        &[],
    );
    run.expect_code(0);
    assert_eq!(run.stdout, generate::completion(clap_complete::Shell::Bash));
    let run = repo.run_env(
        &[("GIT_ORCHESTRATE_COMPLETE", std::ffi::OsStr::new("tcsh"))],
        &["--", "git-orchestrate", ""],
    );
    run.expect_code(2)
        .stderr_has("error: GIT_ORCHESTRATE_COMPLETE=tcsh: not a shell this program completes for")
        .stderr_has(
            "hint: print the script for your shell with: git orchestrate completions SHELL",
        );
    // Set to nothing, or to 0, it is a normal run.
    for off in ["", "0"] {
        repo.run_env(
            &[("GIT_ORCHESTRATE_COMPLETE", std::ffi::OsStr::new(off))],
            &["status"],
        )
        .expect_code(0);
    }
}

/// fish, where it is installed: the script, in `conf.d` of a new HOME, completes
/// `git-orchestrate` and, through fish's own git completion, `git orchestrate`.
#[test]
fn fish_completes_git_orchestrate_and_through_its_git_completion_issue_numbers() {
    let repo = repo_with_issue_branches();
    let Some(fish) = fish_for(&repo) else {
        return;
    };
    let offered = fish(&[
        "git-orchestrate approve ",
        "git orchestrate approve 1",
        "git orchestrate sta",
        "git orch",
        "git orchestrate 7 --until s",
    ]);
    assert_eq!(
        offered,
        [
            vec!["7\torchestrate/7-x", "12\torchestrate/12-y"],
            vec!["12\torchestrate/12-y"],
            vec!["status\tShow where issues stand, read from their branches"],
            vec!["orchestrate\tTake an issue to a pull request"],
            vec!["spec"],
        ]
    );
}

/// A function that runs fish in `repo` with the fish script in a new HOME's `conf.d` and
/// the program on PATH, and returns `complete -C LINE`'s candidates for each line (options
/// left out). `None`, said, when fish is not installed.
pub(crate) fn fish_for(repo: &TestRepo) -> Option<impl Fn(&[&str]) -> Vec<Vec<String>> + '_> {
    let path = path_with_program(repo);
    let fish = std::env::split_paths(&path)
        .map(|d| d.join("fish"))
        .find(|p| p.is_file());
    let Some(fish) = fish else {
        eprintln!("note: skipped: fish is not installed (apt-get install fish)");
        return None;
    };
    let home = repo.base().join("fish-home");
    let conf = home.join(".config/fish/conf.d");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("git-orchestrate.fish"),
        generate::completion(clap_complete::Shell::Fish),
    )
    .unwrap();
    Some(move |lines: &[&str]| {
        let script: Vec<String> = lines
            .iter()
            .map(|line| format!("complete -C '{line}'; echo ---"))
            .collect();
        let mut cmd = Command::new(&fish);
        repo.apply_env(&mut cmd);
        let out = cmd
            .env("PATH", &path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .args(["-c", &script.join("\n")])
            .current_dir(&repo.root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "fish: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        said.split("---\n")
            .take(lines.len())
            .map(|block| {
                block
                    .lines()
                    .filter(|l| !l.starts_with('-'))
                    .map(String::from)
                    .collect()
            })
            .collect()
    })
}

/// zsh, where it is installed: the script as compinit autoloads it from `fpath` (as
/// `_git-orchestrate`, which zsh's git completion also calls for `git orchestrate`, with the
/// words from `orchestrate` on), and as `source`d (it registers). zsh's `_describe` is
/// replaced by one that prints what it is given: the candidates, `value:description`.
#[test]
fn zsh_completes_when_autoloaded_and_through_git_and_registers_when_sourced() {
    let repo = repo_with_issue_branches();
    let path = path_with_program(&repo);
    let Some(zsh) = std::env::split_paths(&path)
        .map(|d| d.join("zsh"))
        .find(|p| p.is_file())
    else {
        eprintln!("note: skipped: zsh is not installed (apt-get install zsh)");
        return;
    };
    let functions = repo.base().join("zfunc");
    std::fs::create_dir_all(&functions).unwrap();
    let file = functions.join(generate::completion_file_name(clap_complete::Shell::Zsh));
    std::fs::write(&file, generate::completion(clap_complete::Shell::Zsh)).unwrap();
    let script = format!(
        "fpath=({dir} $fpath)\n\
         _describe() {{ local name=${{@[-1]}}; print -rl -- \"${{(@P)name}}\" }}\n\
         autoload -Uz _git-orchestrate\n\
         words=(git-orchestrate approve ''); CURRENT=3; _git-orchestrate\n\
         echo ---\n\
         words=(orchestrate status 1); CURRENT=3; _git-orchestrate\n\
         echo ---\n\
         compdef() {{ print -r -- \"compdef $*\" }}\n\
         source {file}\n\
         words=(git-orchestrate 7 --until s); CURRENT=4; _clap_dynamic_completer_git_orchestrate\n",
        dir = functions.display(),
        file = file.display(),
    );
    let mut cmd = Command::new(zsh);
    repo.apply_env(&mut cmd);
    let out = cmd
        .env("PATH", &path)
        .args(["-f", "-c", &script])
        .current_dir(&repo.root)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "zsh: {}{said}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parts: Vec<Vec<&str>> = said
        .split("---\n")
        .map(|part| part.lines().filter(|l| !l.starts_with('-')).collect())
        .collect();
    assert_eq!(
        parts,
        [
            vec!["7:orchestrate/7-x", "12:orchestrate/12-y"],
            vec!["12:orchestrate/12-y"],
            vec![
                "compdef _clap_dynamic_completer_git_orchestrate git-orchestrate",
                "spec"
            ],
        ],
        "{said}"
    );
}
