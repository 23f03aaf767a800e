//! Bad input and faults, as a user meets them: the exit code, the `error:` and `hint:` lines,
//! and what is left in the repository afterwards (which commits and branches exist, that
//! nothing paid for is lost, that no lock or model process is left behind).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::harness::{
    BIN, BRANCH, GOOD_BRIEF, Run, TRIAGE_SUBJECT, TestRepo, approved, brief_script, draft_script,
    revise,
};

/// How long a polling loop waits before it gives up. Generous: it bounds a failure, never a
/// passing run.
const DEADLINE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A repository whose lld drafter runs `drafter_body` and whose reviewer approves.
fn setup_with_drafter(drafter_body: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    let drafter = repo.model("drafter", drafter_body);
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, extra);
    let issue = repo.default_issue();
    (repo, issue)
}

/// Local branches (refs/heads only, so a detached HEAD does not show up).
fn heads(repo: &TestRepo) -> Vec<String> {
    let out = repo.git(&["for-each-ref", "--format=%(refname:short)", "refs/heads"]);
    out.lines().map(str::to_string).collect()
}

/// Nothing happened: only `main`, no model called, no lock left behind.
#[track_caller]
fn assert_nothing_done(repo: &TestRepo) {
    assert_eq!(heads(repo), ["main"], "no branch may be created");
    assert!(
        repo.calls().is_empty(),
        "no model may be called: {:?}",
        repo.calls()
    );
    assert!(!repo.lock_path(7).exists(), "no lock may be left behind");
}

/// Run the binary in `dir` (rather than the repository root) with the hermetic environment.
fn run_in(repo: &TestRepo, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    repo.apply_env(&mut cmd);
    let out = cmd
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run git-orchestrate");
    Run::from(out)
}

#[track_caller]
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A process's state letter and process group, from `/proc/<pid>/stat`; `None` once it is gone.
fn proc_stat(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: read after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Whether a process has exited (gone, or a zombie nobody has reaped yet).
fn is_dead(pid: i32) -> bool {
    !matches!(proc_stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

/// Live processes in process group `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| match proc_stat(pid) {
            Some((state, pg)) => pg == pgid && state != 'Z' && state != 'X',
            None => false,
        })
        .collect()
}

#[track_caller]
pub(crate) fn wait_dead(what: &str, pid: i32) {
    wait_until(&format!("{what} (pid {pid}) has exited"), || is_dead(pid));
}

/// Read a pid a model script wrote, waiting for the file to appear.
#[track_caller]
fn read_pid_file(path: &Path) -> i32 {
    let mut pid = None;
    wait_until(&format!("{} is written", path.display()), || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        pid.is_some()
    });
    pid.unwrap_or_default()
}

/// The binary running in the background. Dropping it kills it if it is still running, so a
/// failing test leaves nothing behind.
pub(crate) struct Spawned {
    child: Child,
}

impl Spawned {
    pub(crate) fn start(repo: &TestRepo, args: &[&str]) -> Spawned {
        let mut cmd = Command::new(BIN);
        repo.apply_env(&mut cmd);
        let child = cmd
            .current_dir(&repo.root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn git-orchestrate");
        Spawned { child }
    }

    pub(crate) fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid fits i32")
    }

    /// Wait (up to the deadline) for the run to end; its exit code (-1 if killed) and output.
    #[track_caller]
    pub(crate) fn finish(mut self) -> Run {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "git-orchestrate (pid {}) did not exit within {DEADLINE:?}",
                self.child.id()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        let mut stderr = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut stdout).expect("read stdout");
        }
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut stderr).expect("read stderr");
        }
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Kills a model's process group when dropped, so a failing test (or one that orphans a model
/// on purpose) leaves nothing running. `pid` is a member of the group; the group is killed only
/// while that process is still alive in it, so a group id reused by the system is left alone.
struct GroupGuard {
    pid: i32,
}

impl GroupGuard {
    fn of(pid: i32) -> GroupGuard {
        GroupGuard { pid }
    }

    fn pgid(&self) -> Option<i32> {
        match proc_stat(self.pid) {
            Some((state, pgid)) if state != 'Z' && state != 'X' && pgid > 1 => Some(pgid),
            _ => None,
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid() {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

/// A pid that is certainly not running: a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait true");
    pid
}

// ---------------------------------------------------------------------------------------
// 1-4. Where the tool is run
// ---------------------------------------------------------------------------------------

#[test]
fn a_sha256_repository_is_refused_with_what_to_do() {
    let repo = TestRepo::empty();
    repo.git(&["init", "-q", "--object-format=sha256", "-b", "main", "."]);
    let issue = repo.default_issue();
    for args in [
        &["7", "--issue-file", issue.as_str()][..],
        &["status"],
        &["doctor", "--offline"],
    ] {
        let run = repo.run(args);
        assert_ne!(run.code, 0, "{args:?}");
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(
            said.contains(
                "this repository stores its objects by SHA-256, which this tool cannot read yet"
            ),
            "{args:?}: {said}"
        );
        assert!(!said.contains("class=Repository"), "{args:?}: {said}");
    }
    repo.run(&["status"]).stderr_has(
        "hint: git-orchestrate is built on libgit2, which reads SHA-1 repositories only",
    );
}

#[test]
fn outside_a_git_repository_it_says_so() {
    let repo = TestRepo::empty();
    let issue = repo.default_issue();
    repo.run(&["7", "--issue-file", &issue])
        .expect_code(1)
        .stderr_has("error:")
        .stderr_has("not a git repository")
        .stderr_has("hint:");
    repo.run(&["status"])
        .expect_code(1)
        .stderr_has("not a git repository");
    assert!(!repo.root.join(".git").exists(), "no repository is created");
    assert_eq!(
        std::fs::read_dir(&repo.root).unwrap().count(),
        0,
        "nothing is written"
    );
}

#[test]
fn a_bare_repository_cannot_run_stages_but_has_a_status() {
    let repo = TestRepo::new();
    let bare = repo.base().join("widget.git");
    let bare_str = bare.to_str().unwrap();
    repo.git(&["clone", "-q", "--bare", ".", bare_str]);
    let refs_before = repo.git(&["--git-dir", bare_str, "for-each-ref"]);
    let issue = repo.default_issue();

    run_in(
        &repo,
        &bare,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(1)
    .stderr_has("needs a work tree")
    .stderr_has("bare repository")
    .stderr_has("hint:");
    assert_eq!(
        repo.git(&["--git-dir", bare_str, "for-each-ref"]),
        refs_before
    );
    assert!(repo.calls().is_empty());
    assert!(!bare.join("orchestrate/locks/7.lock").exists());

    run_in(&repo, &bare, &["status"])
        .expect_code(0)
        .stdout_has("no issue has an orchestrate branch yet");
}

#[test]
fn a_detached_head_needs_a_base_and_base_main_works() {
    let (repo, issue) = TestRepo::approving("");
    let main = repo.rev("main");
    repo.git(&["switch", "-q", "--detach"]);
    let before = repo.checkout_state();

    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("detached")
        .stderr_has("hint:")
        .stderr_has("--base");
    assert_nothing_done(&repo);
    assert_eq!(repo.checkout_state(), before);

    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "--base",
        "main",
    ])
    .expect_code(0);
    assert_eq!(heads(&repo), ["main", BRANCH]);
    assert_eq!(
        repo.rev(&format!("{BRANCH}~2")),
        main,
        "the branch starts at --base"
    );
    assert_eq!(
        repo.checkout_state(),
        before,
        "the detached checkout is untouched"
    );
}

#[test]
fn an_unborn_branch_has_nothing_to_start_from() {
    let repo = TestRepo::empty();
    repo.git(&["init", "-q", "-b", "main", "."]);
    let issue = repo.use_models(&[approved()], "");

    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("main")
        .stderr_has("has no commits yet")
        .stderr_has("hint:");
    assert!(heads(&repo).is_empty(), "{:?}", heads(&repo));
    assert!(repo.calls().is_empty());
    assert!(!repo.lock_path(7).exists());
}

// ---------------------------------------------------------------------------------------
// 5. The issue file
// ---------------------------------------------------------------------------------------

#[test]
fn a_missing_issue_file_is_an_error() {
    let (repo, _) = TestRepo::approving("");
    let missing = repo.base().join("no-such-issue.md");
    let run = repo.run(&["7", "--issue-file", missing.to_str().unwrap()]);
    run.expect_code(1)
        .stderr_has("cannot read issue file")
        .stderr_has(missing.to_str().unwrap());
    assert_nothing_done(&repo);

    // A directory is no issue file either.
    let dir = repo.base().join("logs");
    repo.run(&["7", "--issue-file", dir.to_str().unwrap()])
        .expect_code(1)
        .stderr_has("cannot read issue file")
        .stderr_has("hint:");
    assert_nothing_done(&repo);
}

#[test]
fn an_empty_issue_file_is_an_error() {
    let (repo, _) = TestRepo::approving("");
    let issue = repo.issue("");
    repo.run(&["7", "--issue-file", &issue])
        .expect_code(1)
        .stderr_has(&issue)
        .stderr_has("is empty");
    assert_nothing_done(&repo);
}

#[test]
fn a_whitespace_only_issue_file_is_empty_too() {
    let (repo, _) = TestRepo::approving("");
    let issue = repo.issue("  \n\n\t\n");
    repo.run(&["7", "--issue-file", &issue])
        .expect_code(1)
        .stderr_has("is empty");
    assert_nothing_done(&repo);
}

#[test]
fn an_issue_file_that_is_not_utf8_is_an_error() {
    let (repo, _) = TestRepo::approving("");
    let path = repo.base().join("binary-issue.md");
    std::fs::write(&path, b"# Title\n\xff\xfe bad").unwrap();
    repo.run(&["7", "--issue-file", path.to_str().unwrap()])
        .expect_code(1)
        .stderr_has(path.to_str().unwrap())
        .stderr_has("not UTF-8");
    assert_nothing_done(&repo);
}

#[test]
fn an_issue_file_over_one_mebibyte_is_refused_naming_the_limit() {
    let (repo, _) = TestRepo::approving("");
    let path = repo.base().join("huge-issue.md");
    let mut text = String::from("# Huge\n\n");
    text.push_str(&"x".repeat(1024 * 1024 + 1 - text.len()));
    std::fs::write(&path, &text).unwrap();
    repo.run(&["7", "--issue-file", path.to_str().unwrap()])
        .expect_code(1)
        .stderr_has(path.to_str().unwrap())
        .stderr_has("larger than 1 MiB")
        .stderr_has("hint:");
    assert_nothing_done(&repo);

    // A file that never ends is refused as soon as it passes the limit.
    let started = Instant::now();
    repo.run(&["7", "--issue-file", "/dev/zero"])
        .expect_code(1)
        .stderr_has("/dev/zero")
        .stderr_has("larger than 1 MiB");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_nothing_done(&repo);
}

#[test]
fn escape_and_control_characters_in_the_title_reach_no_commit_or_branch() {
    let (repo, _) = TestRepo::approving("");
    let issue = repo.issue("# Fix \x1b[31mRed\x1b[0m alert\x07 now\r\n\nThe alert is red.\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    let branch = "orchestrate/7-fix-red-alert-now";
    assert_eq!(heads(&repo), ["main", branch]);
    assert_eq!(
        repo.subjects(branch)[..2],
        [
            "orchestrate(lld): design for #7 Fix Red alert now",
            "orchestrate(triage): brief for #7 Fix Red alert now",
        ]
    );
    let messages = repo.git_output(&["log", "--format=%B", branch]).stdout;
    assert!(
        !messages
            .iter()
            .any(|b| *b == 0x1b || *b == 0x07 || *b == b'\r'),
        "{}",
        String::from_utf8_lossy(&messages)
    );
    let brief = repo.show(branch, "docs/issues/7.md").unwrap();
    assert!(brief.starts_with("# Fix Red alert now\n"), "{brief:?}");
    // The prompts name the clean title too.
    assert!(!repo.prompt(1).contains('\x1b'));
}

// ---------------------------------------------------------------------------------------
// 6. Configuration
// ---------------------------------------------------------------------------------------

/// Write `toml` as the repo's `.orchestrate.toml`, run, and expect an error naming the file,
/// `line N` and `key`, with nothing done.
#[track_caller]
fn expect_config_error(repo: &TestRepo, issue: &str, toml: &str, line: usize, key: &str) -> Run {
    repo.config(toml);
    let run = repo.run(&["7", "--issue-file", issue, "--until", "lld"]);
    run.expect_code(1)
        .stderr_has(".orchestrate.toml")
        .stderr_has(&format!("line {line}"))
        .stderr_has(key);
    assert_nothing_done(repo);
    run
}

#[test]
fn config_an_unknown_key_names_file_line_and_key() {
    let (repo, issue) = TestRepo::approving("");
    let drafter = repo.good_drafter();
    let toml = format!("[stages.lld]\ndrafter = \"{drafter}\"\ndrafterr = \"{drafter}\"\n");
    expect_config_error(&repo, &issue, &toml, 3, "drafterr");
}

#[test]
fn config_a_wrong_type_names_file_line_and_key() {
    let (repo, issue) = TestRepo::approving("");
    let drafter = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    let toml = format!(
        "[stages.lld]\ndrafter = \"{drafter}\"\nreviewer = \"{reviewer}\"\n\nmax_revisions = \"three\"\n"
    );
    expect_config_error(&repo, &issue, &toml, 5, "max_revisions");
}

#[test]
fn config_an_unknown_provider_names_file_line_and_key() {
    let (repo, issue) = TestRepo::approving("");
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    let toml = format!("[stages.lld]\nreviewer = \"{reviewer}\"\ndrafter = \"acme:big\"\n");
    expect_config_error(&repo, &issue, &toml, 3, "drafter").stderr_has("acme");
}

#[test]
fn config_an_unknown_provider_lists_each_known_provider_once() {
    let (repo, issue) = TestRepo::approving("");
    repo.config(
        "[providers.local]\nkind = \"openai\"\nbase_url = \"http://localhost:8080/v1\"\n\n[stages.lld]\ndrafter = \"acme:big\"\n",
    );
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(1).stderr_has("known providers: ");
    let list = run.stderr.split("known providers: ").nth(1).unwrap();
    // The list runs to the end of the line, closed by `)`; names may carry `(or alias)`.
    let list = list
        .lines()
        .next()
        .unwrap()
        .trim_end()
        .trim_end_matches(')');
    let names: Vec<&str> = list
        .split(", ")
        .map(|n| n.split(" (or").next().unwrap().trim())
        .collect();
    for name in [
        "anthropic",
        "gemini",
        "openai",
        "ollama",
        "cmd",
        "agent",
        "local",
    ] {
        let count = names.iter().filter(|n| **n == name).count();
        assert_eq!(count, 1, "{name} listed {count} times: {list}");
    }
}

#[test]
fn config_an_unknown_stage_table_names_file_line_and_key() {
    let (repo, issue) = TestRepo::approving("");
    let drafter = repo.good_drafter();
    let toml = format!("# my config\n\n[stages.review]\ndrafter = \"{drafter}\"\n");
    expect_config_error(&repo, &issue, &toml, 3, "review");
}

#[test]
fn config_a_syntax_error_names_file_and_line() {
    let (repo, issue) = TestRepo::approving("");
    repo.config("[gates]\nafter_lld = true\n[stages.lld\ndrafter = \"cmd:x\"\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has(".orchestrate.toml")
        .stderr_has("line 3")
        .stderr_has("hint:");
    assert_nothing_done(&repo);
}

#[test]
fn config_a_bad_override_names_the_override() {
    let (repo, issue) = TestRepo::approving("");
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "-c",
        "stages.lld.max_revisions=many",
    ])
    .expect_code(1)
    .stderr_has("-c stages.lld.max_revisions=many");
    assert_nothing_done(&repo);

    // An unknown key in an override.
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "-c",
        "stages.lld.drafterr=cmd:x",
    ])
    .expect_code(1)
    .stderr_has("-c stages.lld.drafterr=cmd:x")
    .stderr_has("drafterr");
    assert_nothing_done(&repo);

    // An override that is not KEY=VALUE at all.
    repo.run(&["7", "--issue-file", &issue, "-c", "gates.after_lld"])
        .expect_code(1)
        .stderr_has("gates.after_lld")
        .stderr_has("hint:");
    assert_nothing_done(&repo);
}

#[test]
fn config_a_missing_config_file_is_an_error() {
    let (repo, issue) = TestRepo::approving("");
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "--config",
        "/nonexistent.toml",
    ])
    .expect_code(1)
    .stderr_has("cannot read configuration file")
    .stderr_has("/nonexistent.toml");
    assert_nothing_done(&repo);

    // An error in a --config file names that file and the line.
    let other = repo.base().join("other.toml");
    std::fs::write(&other, "[gates]\n\nafter_lld = 3\n").unwrap();
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--config",
        other.to_str().unwrap(),
    ])
    .expect_code(1)
    .stderr_has(other.to_str().unwrap())
    .stderr_has("line 3")
    .stderr_has("after_lld");
    assert_nothing_done(&repo);
}

#[test]
fn config_an_override_beats_the_repo_file() {
    let repo = TestRepo::new();
    let good = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models("cmd:/nonexistent/drafter", &reviewer, "");
    let issue = repo.default_issue();

    let set_drafter = format!("stages.lld.drafter={good}");
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "-c",
        &set_drafter,
    ])
    .expect_code(0);
    let drafter = repo.trailer(BRANCH, "Orchestrate-Drafter").unwrap();
    assert!(drafter.ends_with("/bin/drafter"), "{drafter}");
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
}

#[test]
fn config_the_user_file_is_read_and_the_repo_file_overrides_it() {
    let repo = TestRepo::new();
    let user_drafter = repo.model("user-drafter", &draft_script());
    let repo_drafter = repo.model("repo-drafter", &draft_script());
    let reviewer = repo.reviewer("user-reviewer", &[approved()]);
    let user_file = repo.home.join(".config/git-orchestrate/config.toml");
    std::fs::create_dir_all(user_file.parent().unwrap()).unwrap();
    std::fs::write(
        &user_file,
        format!("[stages.lld]\ndrafter = \"{user_drafter}\"\nreviewer = \"{reviewer}\"\n"),
    )
    .unwrap();
    let issue = repo.default_issue();

    // The user file alone is enough.
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    let names: Vec<String> = repo
        .calls()
        .iter()
        .map(|c| c.rsplit("name=").next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["user-drafter", "user-reviewer"]);

    // The repo file overrides it key by key: its drafter, the user's reviewer.
    repo.config(&format!("[stages.lld]\ndrafter = \"{repo_drafter}\"\n"));
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "--resume-from",
        "lld",
    ])
    .expect_code(0);
    assert!(
        repo.trailer(BRANCH, "Orchestrate-Drafter")
            .unwrap()
            .ends_with("/bin/repo-drafter")
    );
    assert!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer")
            .unwrap()
            .ends_with("/bin/user-reviewer")
    );
}

#[test]
fn config_an_error_in_the_user_file_names_that_file() {
    let (repo, issue) = TestRepo::approving("");
    let user_file = repo.home.join(".config/git-orchestrate/config.toml");
    std::fs::create_dir_all(user_file.parent().unwrap()).unwrap();
    std::fs::write(
        &user_file,
        "[gates]\nafter_lld = true\nbefore_prr = false\n",
    )
    .unwrap();
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has(user_file.to_str().unwrap())
        .stderr_has("line 3")
        .stderr_has("before_prr");
    assert_nothing_done(&repo);
}

#[test]
fn config_bad_artifact_paths_are_refused_before_any_model_is_called() {
    let (repo, issue) = TestRepo::approving("");
    // The models are configured: without the check they would be called, and paid.
    let models = repo.read(".orchestrate.toml");
    let paths_line = models.lines().count() + 2;
    for (paths, line, key, names) in [
        ("lld = \"docs/.git/x\"", 1, "paths.lld", "`.git` part"),
        (
            "spec = \"docs/.GIT/{issue}.md\"",
            1,
            "paths.spec",
            "`.git` part",
        ),
        (
            "brief = \"docs/lld/{issue}.md\"",
            1,
            "paths.brief",
            "`paths.lld` (the design",
        ),
        (
            "lld = \"docs/reviews/{issue}-lld.md\"",
            1,
            "paths.lld",
            "`paths.reviews` (the lld review log",
        ),
        (
            "lld = \"docs/x.md\"\nspec = \"docs/x.md/y.md\"",
            2,
            "paths.spec",
            "needs `docs/x.md` to be a folder",
        ),
        (
            "lld = \"docs/{nope}/{issue}.md\"",
            1,
            "paths.lld",
            "`{nope}`",
        ),
    ] {
        let toml = format!("{models}\n[paths]\n{paths}\n");
        expect_config_error(&repo, &issue, &toml, paths_line + line, key)
            .stderr_has(names)
            .stderr_has("hint:");
    }
}

#[test]
fn a_branch_named_like_the_prefix_is_found_before_any_model_is_called() {
    let (repo, issue) = TestRepo::approving("");
    repo.git(&["branch", "orchestrate"]);
    let tips = (repo.rev("main"), repo.rev("orchestrate"));
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has(&format!(
            "error: cannot create branch {BRANCH}: branch orchestrate exists"
        ))
        .stderr_has(
            "hint: rename that branch, for example: git branch -m orchestrate orchestrate-old",
        )
        .stderr_has("hint: or change orchestrator.branch_prefix (now \"orchestrate/\")");
    assert_eq!(
        heads(&repo),
        ["main", "orchestrate"],
        "no branch is created"
    );
    assert_eq!((repo.rev("main"), repo.rev("orchestrate")), tips);
    assert!(
        repo.calls().is_empty(),
        "no model is called: {:?}",
        repo.calls()
    );
    assert!(!repo.lock_path(7).exists());

    // As the hint says; then a branch in a folder named like the issue branch blocks it too,
    // and is not taken for it.
    repo.git(&["branch", "-m", "orchestrate", "orchestrate-old"]);
    let nested = format!("{BRANCH}/old");
    repo.git(&["branch", &nested]);
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has(&format!(
            "error: cannot create branch {BRANCH}: branch {nested} exists"
        ));
    assert!(
        repo.calls().is_empty(),
        "no model is called: {:?}",
        repo.calls()
    );

    repo.git(&["branch", "-D", &nested]);
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    assert_eq!(repo.subjects(BRANCH)[1], TRIAGE_SUBJECT);
}

// ---------------------------------------------------------------------------------------
// 7. The per-issue lock
// ---------------------------------------------------------------------------------------

#[test]
fn a_second_run_on_the_same_issue_is_refused_while_another_issue_may_run() {
    // Issue 7's drafter waits for the test's go-ahead; other issues' drafters do not.
    let body = format!(
        "if [ \"$ORCHESTRATE_ISSUE\" = 7 ]; then while [ ! -f \"$TEST_LOGS/go\" ]; do sleep 0.1; done; fi\n{}",
        draft_script()
    );
    let (repo, issue) = setup_with_drafter(&body, "");
    let first = Spawned::start(&repo, &["7", "--issue-file", &issue, "--until", "lld"]);
    wait_until("the first run holds the lock", || {
        repo.lock_path(7).exists()
    });
    wait_until("the first run calls its drafter", || {
        !repo.calls().is_empty()
    });

    let tip = repo.rev(BRANCH);
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("already being worked on")
        .stderr_has(&format!("pid {}", first.pid()))
        .stderr_has("hint:");
    assert_eq!(repo.rev(BRANCH), tip, "the refused run changes nothing");
    assert_eq!(repo.calls().len(), 1, "the refused run calls no model");
    assert!(
        repo.lock_path(7).exists(),
        "the refused run leaves the owner's lock alone"
    );

    // A different issue runs meanwhile.
    let other = repo.issue("# Add a quiet flag\n\nAdd `--quiet`.\n");
    repo.run(&["8", "--issue-file", &other, "--until", "lld"])
        .expect_code(0);
    assert!(heads(&repo).contains(&"orchestrate/8-add-a-quiet-flag".to_string()));
    assert!(!repo.lock_path(8).exists());

    std::fs::write(repo.logs.join("go"), "").unwrap();
    first.finish().expect_code(0);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
    assert!(!repo.lock_path(7).exists(), "the lock is released");
}

#[test]
fn a_stale_lock_file_is_taken_over_with_a_warning() {
    let (repo, issue) = TestRepo::approving("");
    let pid = dead_pid();
    let lock = repo.lock_path(7);
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, format!("{pid}\n")).unwrap();

    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0)
        .stderr_has("warning:")
        .stderr_has("took over the lock")
        .stderr_has(&pid.to_string());
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
    assert!(!lock.exists());
}

#[test]
fn a_lock_left_by_a_killed_run_is_taken_over() {
    // While `$LOG/hang` exists the drafter records its pid and hangs.
    let body = format!(
        "if [ -f \"$LOG/hang\" ]; then echo $$ > \"$LOG/drafter.pid\"; sleep 300; fi\n{}",
        draft_script()
    );
    let (repo, issue) = setup_with_drafter(&body, "");
    std::fs::write(repo.logs.join("hang"), "").unwrap();
    let first = Spawned::start(&repo, &["7", "--issue-file", &issue, "--until", "lld"]);
    let killed_pid = first.pid();
    let drafter = read_pid_file(&repo.logs.join("drafter.pid"));
    let orphans = GroupGuard::of(drafter);
    assert!(repo.lock_path(7).exists());

    kill(Pid::from_raw(killed_pid), Signal::SIGKILL).unwrap();
    assert_eq!(first.finish().code, -1, "killed");
    assert!(
        repo.lock_path(7).exists(),
        "a killed run cannot clean up its lock file"
    );
    let tip = repo.rev(BRANCH);
    assert!(repo.subjects(&tip)[0].starts_with("orchestrate(triage)"));

    std::fs::remove_file(repo.logs.join("hang")).unwrap();
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0)
        .stderr_has("warning:")
        .stderr_has("took over the lock")
        .stderr_has(&format!("pid {killed_pid}"));
    assert_eq!(
        repo.rev(&format!("{BRANCH}~1")),
        tip,
        "it goes on from the triage commit"
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
    assert!(!repo.lock_path(7).exists());
    // Nobody was left to stop the killed run's model: clean it up.
    drop(orphans);
    wait_dead("the orphaned drafter", drafter);
}

// ---------------------------------------------------------------------------------------
// 8. Model programs that fail
// ---------------------------------------------------------------------------------------

/// Only the triage commit on the issue branch.
#[track_caller]
fn assert_only_triage(repo: &TestRepo) {
    assert_eq!(repo.subjects(BRANCH), [TRIAGE_SUBJECT, "initial"]);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Stage").as_deref(),
        Some("triage")
    );
    assert!(!repo.lock_path(7).exists(), "the lock is released");
}

#[test]
fn a_missing_drafter_program_is_named_with_a_hint() {
    let repo = TestRepo::new();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models("cmd:/nonexistent/drafter", &reviewer, "");
    let issue = repo.default_issue();

    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(1)
        .stderr_has("/nonexistent/drafter")
        .stderr_has("hint:")
        .stderr_has("not found")
        .stderr_has("PATH");
    assert_only_triage(&repo);
    assert!(
        repo.calls().is_empty(),
        "the reviewer is not asked about nothing"
    );
}

#[test]
fn a_failing_drafter_shows_its_stderr_and_exit_status() {
    let (repo, issue) = setup_with_drafter("echo boom >&2; exit 3", "");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("boom")
        .stderr_has("exit status 3")
        .stderr_has("hint:");
    assert_only_triage(&repo);
    assert_eq!(repo.call_roles(), ["lld drafter 1"]);
}

#[test]
fn a_drafter_that_prints_nothing_is_an_error() {
    let (repo, issue) = setup_with_drafter("true", "");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("replied with nothing")
        .stderr_has("hint:");
    assert_only_triage(&repo);
    assert_eq!(
        repo.call_roles(),
        ["lld drafter 1"],
        "an empty reply is not retried"
    );
}

#[test]
fn a_drafter_leaving_a_background_child_on_stdout_is_answered_and_the_child_stopped() {
    // The drafter prints its reply and exits, but the `sleep` it leaves behind holds stdout
    // open, so end-of-file never comes on its own.
    let body = format!(
        "{}\nsleep 1000 &\necho $! > \"$LOG/sleep.pid\"\nexit 0",
        draft_script()
    );
    let (repo, issue) = setup_with_drafter(&body, "");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    let sleeper = read_pid_file(&repo.logs.join("sleep.pid"));
    let _cleanup = GroupGuard::of(sleeper);
    run.expect_code(0);
    let design = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    assert!(design.contains("lld round 1"), "{design}");
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
    wait_dead("the drafter's background sleep", sleeper);
}

#[test]
fn a_drafter_reply_over_the_limit_is_refused_not_cut() {
    // 16 MiB and one byte of `y` lines: one byte more than a reply may be.
    let (repo, issue) = setup_with_drafter("yes | head -c 16777217", "");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("more than 16 MiB")
        .stderr_has("stderr");
    assert_only_triage(&repo);
    assert_eq!(repo.call_roles(), ["lld drafter 1"], "not retried");
}

#[test]
fn a_drafter_reply_that_is_not_text_is_an_error_naming_the_model() {
    // A NUL byte in the middle of a document, and bytes that are not UTF-8.
    for (body, what) in [
        ("printf '# Design\\n\\0binary\\n'", "a NUL character"),
        ("printf '# Design\\n\\377\\376\\n'", "not UTF-8"),
    ] {
        let (repo, issue) = setup_with_drafter(body, "");
        repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
            .expect_code(1)
            .stderr_has(&format!("cmd:{}", repo.bin.join("drafter").display()))
            .stderr_has(what)
            .stderr_has("hint:");
        assert_only_triage(&repo);
        assert_eq!(repo.call_roles(), ["lld drafter 1"], "not retried");
    }
}

/// A drafter that starts a background `sleep` and waits for it, recording both pids.
const HANGING: &str =
    "sleep 300 &\necho $! > \"$LOG/sleep.pid.$N\"\necho $$ > \"$LOG/drafter.pid.$N\"\nwait";

#[test]
fn a_hanging_drafter_is_stopped_at_its_timeout_with_everything_it_started() {
    let (repo, issue) = setup_with_drafter(HANGING, "[providers.cmd]\ntimeout = \"1s\"\n");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    let drafter = read_pid_file(&repo.logs.join("drafter.pid.1"));
    let sleeper = read_pid_file(&repo.logs.join("sleep.pid.1"));
    let _cleanup = GroupGuard::of(sleeper);
    run.expect_code(1)
        .stderr_has("still working after 1s")
        .stderr_has("hint:")
        .stderr_has("timeout");
    wait_dead("the drafter", drafter);
    wait_dead("the drafter's background sleep", sleeper);
    assert_only_triage(&repo);
    assert_eq!(
        repo.call_roles(),
        ["lld drafter 1"],
        "max_retries = 0 for cmd by default"
    );
}

#[test]
fn a_timeout_is_transient_and_retried_within_max_retries() {
    let (repo, issue) = setup_with_drafter(
        HANGING,
        "[providers.cmd]\ntimeout = \"1s\"\nmax_retries = 1\n",
    );
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("attempt 1 of 2")
        .stderr_has("still working after 1s");
    assert_eq!(
        repo.call_roles(),
        ["lld drafter 1", "lld drafter 1"],
        "one retry"
    );
    for n in 1..=2 {
        wait_dead(
            "a drafter",
            read_pid_file(&repo.logs.join(format!("drafter.pid.{n}"))),
        );
        wait_dead(
            "a sleep",
            read_pid_file(&repo.logs.join(format!("sleep.pid.{n}"))),
        );
    }
    assert_only_triage(&repo);
}

#[test]
fn a_failing_drafter_is_not_retried() {
    let (repo, issue) = setup_with_drafter(
        "echo 'bad flag' >&2; exit 2",
        "[providers.cmd]\nmax_retries = 2\n",
    );
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("bad flag");
    assert_eq!(
        repo.call_roles(),
        ["lld drafter 1"],
        "a deterministic failure is not retried"
    );
    assert_only_triage(&repo);
}

// ---------------------------------------------------------------------------------------
// 9. A reviewer with no verdict
// ---------------------------------------------------------------------------------------

#[test]
fn a_reviewer_without_a_verdict_never_approves() {
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    let reviewer = repo.model("reviewer", "echo 'Nice work, ship it!'");
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();

    let run = repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "-c",
        "stages.lld.max_revisions=1",
    ]);
    run.expect_code(3);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Stage").as_deref(),
        Some("lld")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    assert_eq!(
        repo.call_roles(),
        [
            "lld drafter 1",
            "lld reviewer 1",
            "lld drafter 2",
            "lld reviewer 2"
        ]
    );
    assert!(run.stderr.contains("no verdict"), "{}", run.stderr);
    assert!(run.stderr.contains("blocked at lld"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    let second_draft = repo.prompt(3);
    assert!(second_draft.contains("no verdict"), "{second_draft}");
    assert!(
        second_draft.contains("Nice work, ship it!"),
        "{second_draft}"
    );
    // The last draft is kept, not approved.
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("lld round 2")
    );
    assert!(!repo.lock_path(7).exists());
}

// ---------------------------------------------------------------------------------------
// 10. The issue branch moved by someone else
// ---------------------------------------------------------------------------------------

#[test]
fn a_branch_moved_during_a_stage_is_not_overwritten_and_the_work_is_saved() {
    // The first call commits on the issue branch behind the run's back (with plumbing, as
    // another run of git-orchestrate would: a move without its reflog line is a program's,
    // which the check after the call puts back), then answers.
    let move_branch = [
        "if [ ! -f \"$LOG/foreign\" ]; then".to_string(),
        format!("  BR=refs/heads/{BRANCH}"),
        "  TIP=$(git rev-parse \"$BR\")".to_string(),
        "  NEW=$(git commit-tree \"$TIP^{tree}\" -p \"$TIP\" -m 'someone else')".to_string(),
        "  git update-ref -m 'git-orchestrate: another run' \"$BR\" \"$NEW\" \"$TIP\"".to_string(),
        "  echo \"$NEW\" > \"$LOG/foreign\"".to_string(),
        "fi".to_string(),
    ];
    let body = format!("{}\n{}", move_branch.join("\n"), draft_script());
    let (repo, issue) = setup_with_drafter(&body, "");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(1)
        .stderr_has("moved")
        .stderr_has(".git/orchestrate/recovered/")
        .stderr_has("hint:");

    let foreign = std::fs::read_to_string(repo.logs.join("foreign")).unwrap();
    assert_eq!(
        repo.rev(BRANCH),
        foreign.trim(),
        "the foreign commit is kept"
    );
    assert_eq!(repo.subjects(BRANCH)[..2], ["someone else", TRIAGE_SUBJECT]);

    let recovered = repo.root.join(".git/orchestrate/recovered/7");
    let saved: Vec<PathBuf> = std::fs::read_dir(&recovered)
        .unwrap_or_else(|e| panic!("{}: {e}", recovered.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(
        run.stderr.contains(saved[0].to_str().unwrap()),
        "{}",
        run.stderr
    );
    let draft = std::fs::read_to_string(saved[0].join("docs/lld/7.md")).unwrap();
    assert!(draft.contains("lld round 1"), "{draft}");
    assert!(!repo.lock_path(7).exists());

    // As the hint says, a re-run goes on from the new tip, keeping the foreign commit.
    repo.run(&["7", "--until", "lld"]).expect_code(0);
    assert_eq!(repo.rev(&format!("{BRANCH}~1")), foreign.trim());
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
}

// ---------------------------------------------------------------------------------------
// 11. Ctrl-C
// ---------------------------------------------------------------------------------------

/// Every stage ends in a commit: without an identity to commit with, the run stops before
/// it pays for anything.
#[test]
fn no_identity_to_commit_with_stops_the_run_before_any_model_is_called() {
    let (repo, issue) = setup_with_drafter(&draft_script(), "");
    let triager = repo.model("triager", &brief_script(GOOD_BRIEF));
    let triage = format!("stages.triage.drafter={triager}");
    let run = repo.run_env(
        &[("GIT_AUTHOR_NAME", ""), ("GIT_COMMITTER_NAME", "")],
        &["-c", &triage, "7", "--issue-file", &issue, "--until", "lld"],
    );
    run.expect_code(1)
        .stderr_has("git has no identity to commit with")
        .stderr_has("hint: tell git who you are: git config --global user.name");
    assert!(
        repo.calls().is_empty(),
        "a model was called: {:?}",
        repo.calls()
    );
    assert_nothing_done(&repo);
}

#[test]
fn ctrl_c_during_a_model_call_stops_cleanly() {
    // While `$LOG/hang` exists the drafter records its pid and hangs.
    let body = format!(
        "if [ -f \"$LOG/hang\" ]; then echo $$ > \"$LOG/drafter.pid\"; sleep 300; fi\n{}",
        draft_script()
    );
    let (repo, issue) = setup_with_drafter(&body, "");
    std::fs::write(repo.logs.join("hang"), "").unwrap();
    let run = Spawned::start(&repo, &["7", "--issue-file", &issue, "--until", "lld"]);
    let drafter = read_pid_file(&repo.logs.join("drafter.pid"));
    let cleanup = GroupGuard::of(drafter);
    let pgid = cleanup.pgid().expect("the drafter is running");

    kill(Pid::from_raw(run.pid()), Signal::SIGINT).unwrap();
    run.finish()
        .expect_code(130)
        .stderr_has("interrupted")
        .stderr_has("run again");

    assert!(repo.subjects(BRANCH)[0].starts_with("orchestrate(triage)"));
    assert_only_triage(&repo);
    wait_dead("the drafter", drafter);
    wait_until("nothing the drafter started is left", || {
        group_members(pgid).is_empty()
    });

    // Running again continues from the triage commit.
    std::fs::remove_file(repo.logs.join("hang")).unwrap();
    let triage = repo.rev(BRANCH);
    repo.run(&["7", "--until", "lld"])
        .expect_code(0)
        .stderr_has("Skipping triage");
    assert_eq!(repo.rev(&format!("{BRANCH}~1")), triage);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
}

// ---------------------------------------------------------------------------------------
// 12. A model failing after a paid review
// ---------------------------------------------------------------------------------------

#[test]
fn a_drafter_failing_after_a_review_keeps_the_paid_work() {
    let repo = TestRepo::new();
    let drafter = repo.model(
        "drafter",
        &format!(
            "if [ \"$ORCHESTRATE_ROUND\" = 2 ]; then echo 'quota exceeded' >&2; exit 1; fi\n{}",
            draft_script()
        ),
    );
    let reviewer = repo.reviewer("reviewer", &[&revise(&["name the files"]), approved()]);
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();

    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("quota exceeded");
    assert_eq!(
        repo.call_roles(),
        ["lld drafter 1", "lld reviewer 1", "lld drafter 2"]
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Stage").as_deref(),
        Some("lld")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    assert_eq!(repo.subjects(&format!("{BRANCH}~1"))[0], TRIAGE_SUBJECT);
    let design = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    assert!(design.contains("lld round 1"), "{design}");
    let log = repo.show(BRANCH, "docs/reviews/7-lld.md").unwrap();
    assert!(
        log.contains("Round 1: REVISE") && log.contains("name the files"),
        "{log}"
    );
    assert!(!repo.lock_path(7).exists());
}

#[test]
fn a_reviewer_failing_after_a_paid_draft_keeps_the_draft() {
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    let reviewer = repo.model(
        "reviewer",
        &format!(
            "if [ \"$ORCHESTRATE_ROUND\" = 2 ]; then echo 'reviewer down' >&2; exit 1; fi\ncat <<'REPLY'\n{}REPLY",
            revise(&["name the files"])
        ),
    );
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();

    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("reviewer down")
        .stderr_has("hint:");
    assert_eq!(
        repo.call_roles(),
        [
            "lld drafter 1",
            "lld reviewer 1",
            "lld drafter 2",
            "lld reviewer 2"
        ]
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    // The last draft (paid for, not yet reviewed) and the round-1 review are kept.
    let design = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    assert!(design.contains("lld round 2"), "{design}");
    let log = repo.show(BRANCH, "docs/reviews/7-lld.md").unwrap();
    assert!(log.contains("name the files"), "{log}");

    // A re-run continues from that draft: it is revised, not redrafted blind.
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, "");
    let before = repo.calls().len();
    repo.run(&["7", "--until", "lld"]).expect_code(0);
    let first_new = repo.prompt(before + 1);
    assert!(first_new.contains("lld round 2"), "{first_new}");
}

// ---------------------------------------------------------------------------------------
// 13. The issue branch checked out by the user
// ---------------------------------------------------------------------------------------

#[test]
fn the_issue_branch_checked_out_in_the_users_checkout_is_not_moved() {
    let (repo, issue) = TestRepo::approving("");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    repo.git(&["switch", "-q", BRANCH]);
    let tip = repo.rev(BRANCH);
    let calls = repo.calls().len();
    let before = repo.checkout_state();

    repo.run(&["7", "--until", "lld", "--resume-from", "lld"])
        .expect_code(1)
        .stderr_has(BRANCH)
        .stderr_has("checked out")
        .stderr_has("hint:");
    assert_eq!(repo.rev(BRANCH), tip);
    assert_eq!(repo.calls().len(), calls, "no model is called");
    assert_eq!(repo.checkout_state(), before);
    assert!(!repo.lock_path(7).exists());
}

// ---------------------------------------------------------------------------------------
// 14-15. Models that cannot be used
// ---------------------------------------------------------------------------------------

#[test]
fn no_model_configured_or_found_stops_before_any_commit_listing_every_option() {
    let (repo, issue) = TestRepo::approving("");
    // Nothing on this machine: no keys, no model programs on PATH, no Ollama answering.
    repo.config("[providers.ollama]\nbase_url = \"http://127.0.0.1:9\"\n");
    let mut cmd = repo.cmd();
    cmd.env("PATH", repo.minimal_path())
        .args(["7", "--issue-file", &issue, "--until", "lld"]);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for option in [
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "OPENAI_API_KEY",
        "Ollama",
        "claude",
        "codex",
        "[stages.lld]",
        "hint:",
    ] {
        assert!(stderr.contains(option), "{option} missing from:\n{stderr}");
    }
    assert_nothing_done(&repo);
}

#[test]
fn an_http_provider_without_its_key_is_refused_before_any_request() {
    let (repo, issue) = TestRepo::approving("");
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models("claude:opus-4.5", &reviewer, "");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("no API key for anthropic: ANTHROPIC_API_KEY is not set")
        .stderr_has("hint: export ANTHROPIC_API_KEY=");
    assert_nothing_done(&repo);
}

// ---------------------------------------------------------------------------------------
// 16. Usage errors
// ---------------------------------------------------------------------------------------

#[test]
fn usage_errors_exit_2_and_change_nothing() {
    let (repo, issue) = TestRepo::approving("");
    repo.run(&["7", "--issue-file", &issue, "--until", "bogus"])
        .expect_code(2)
        .stderr_has("bogus");
    repo.run(&["run"]).expect_code(2);
    repo.run(&["reject", "7", "-m", ""])
        .expect_code(2)
        .stderr_has("-m");
    repo.run(&["reject", "7", "-m", "   "]).expect_code(2);
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--resume-from",
        "spec",
        "--until",
        "lld",
    ])
    .expect_code(2)
    .stderr_has("--resume-from")
    .stderr_has("--until");
    assert_nothing_done(&repo);
}

#[test]
fn a_gate_turned_both_on_and_off_is_a_usage_error() {
    let (repo, issue) = TestRepo::approving("");
    for flags in [
        ["--gate-before-pr", "--no-gate-before-pr"],
        ["--no-gate-before-pr", "--gate-before-pr"],
    ] {
        repo.run(&["7", "--issue-file", &issue, flags[0], flags[1]])
            .expect_code(2)
            .stderr_has("--gate-before-pr and --no-gate-before-pr contradict each other");
    }
    // The long spelling and the short one contradict each other too.
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--gate",
        "before_pr",
        "--no-gate-before-pr",
    ])
    .expect_code(2)
    .stderr_has("--gate before_pr and --no-gate-before-pr contradict each other");
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--gate-before-pr",
        "--no-gate",
        "before_pr",
    ])
    .expect_code(2)
    .stderr_has("--gate-before-pr and --no-gate before_pr contradict each other");
    assert_nothing_done(&repo);
}

#[test]
fn an_issue_url_on_another_host_is_not_read_as_the_github_issue_of_the_same_name() {
    let (repo, _) = TestRepo::approving("");
    for url in [
        "https://gitlab.com/acme/widgets/issues/7",
        "https://github.example.com/acme/widgets/issues/7",
    ] {
        repo.run(&[url, "--until", "triage"])
            .expect_code(1)
            .stderr_has(&format!(
                "the issue's URL is on {}, but this run's GitHub is github.com",
                url.split('/').nth(2).unwrap()
            ))
            .stderr_has("hint: for a GitHub Enterprise server at")
            .stderr_has("--issue-file ISSUE.md");
    }
    assert!(repo.calls().is_empty(), "no model was called");
}
