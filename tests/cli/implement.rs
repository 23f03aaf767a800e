//! The impl stage end to end: scripted text and agent implementers, a test command that is a
//! script committed in the repository, the code committed on the branch with its report.

use crate::harness::*;

pub(crate) const IMPL_SUBJECT: &str =
    "orchestrate(impl): implementation for #7 Add a --verbose flag";
pub(crate) const BLOCKED_SUBJECT: &str =
    "orchestrate(impl): blocked implementation for #7 Add a --verbose flag";

/// The test command: runs every `tests/*.sh` (a test each, named by its path), and passes
/// unless one of them fails or src/lib.rs holds `not yet` lines; fails in cargo's words
/// otherwise, naming a test after how many there are (so different failures have different
/// names, and the same failure the same name).
pub(crate) const CHECK: &str = r#"#!/bin/sh
status=0
n=$(grep -c 'not yet' src/lib.rs)
echo "running 1 test"
for t in tests/*.sh; do
  [ -e "$t" ] || continue
  if sh "$t" >/dev/null 2>&1; then echo "test $t ... ok"; else echo "test $t ... FAILED"; status=1; fi
done
if [ "$n" = 0 ]; then
  echo "test tests::verbose ... ok"
  exit $status
fi
echo "test tests::verbose_$n ... FAILED"
echo
echo "failures:"
echo "    tests::verbose_$n"
echo
echo "test result: FAILED. 0 passed; 1 failed"
exit 1
"#;

/// An edit block adding the test that proves `verbose`: it fails without the function.
pub(crate) const PROVING_TEST: &str =
    "tests/verbose.sh\n<<<<<<< SEARCH\n=======\ngrep -q 'fn verbose' src/lib.rs\n>>>>>>> REPLACE\n";

/// Edit blocks adding `verbose` to src/lib.rs, with the test that proves it.
pub(crate) const GOOD_EDIT: &str = "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\n\npub fn verbose() -> bool {\n    true\n}\n>>>>>>> REPLACE\n\ntests/verbose.sh\n<<<<<<< SEARCH\n=======\ngrep -q 'fn verbose' src/lib.rs\n>>>>>>> REPLACE\n";

/// The code of [`GOOD_EDIT`] alone, with no test.
pub(crate) const UNTESTED_EDIT: &str = "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\n\npub fn verbose() -> bool {\n    true\n}\n>>>>>>> REPLACE\n";

/// An edit that leaves a `not yet` line: the tests fail.
pub(crate) const WRONG_EDIT: &str = "src/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\n// not yet\n>>>>>>> REPLACE\n";

/// Turns the `not yet` line into `verbose`, with the test that proves it: the tests pass.
pub(crate) const FIX_EDIT: &str = "src/lib.rs\n<<<<<<< SEARCH\n// not yet\n=======\npub fn verbose() -> bool {\n    true\n}\n>>>>>>> REPLACE\n\ntests/verbose.sh\n<<<<<<< SEARCH\n=======\ngrep -q 'fn verbose' src/lib.rs\n>>>>>>> REPLACE\n";

/// A repository with check.sh committed, approving design models, and `implementer` (a
/// script body answering by `$ORCHESTRATE_ROUND`) as the text implementer.
pub(crate) fn impl_repo(implementer_body: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "tests"]);
    let implementer = repo.model("implementer", implementer_body);
    let issue = repo.use_models(
        &[approved()],
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"sh check.sh\"\n{extra}"
        ),
    );
    (repo, issue)
}

pub(crate) fn impl_calls(repo: &TestRepo) -> Vec<String> {
    repo.call_roles()
        .into_iter()
        .filter(|c| c.starts_with("impl "))
        .collect()
}

/// The prompt of the `n`th implementer call (1-based).
pub(crate) fn impl_prompt(repo: &TestRepo, n: usize) -> String {
    let calls = repo.call_roles();
    let index = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("impl "))
        .nth(n - 1)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("no implementer call {n}: {calls:?}"));
    repo.prompt(index)
}

#[test]
fn a_run_goes_from_issue_file_to_a_passing_impl_commit() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    let before = repo.checkout_state();
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0)
        .stderr_has("stopped after impl");

    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    let trailers = repo.trailers(BRANCH);
    let get = |k: &str| {
        trailers
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("Orchestrate-Stage").as_deref(), Some("impl"));
    assert_eq!(get("Orchestrate-Verdict").as_deref(), Some("passed"));
    assert_eq!(get("Orchestrate-Attempts").as_deref(), Some("1"));
    assert_eq!(
        get("Orchestrate-Tests").as_deref(),
        Some("\"sh check.sh\" passed")
    );
    assert!(
        get("Orchestrate-Implementer")
            .unwrap()
            .ends_with("implementer")
    );

    // The code and the report are in the one commit.
    let changed = repo.git(&["show", "--format=", "--name-only", BRANCH]);
    assert_eq!(changed, "docs/reports/7.md\nsrc/lib.rs\ntests/verbose.sh");
    assert!(
        repo.show(BRANCH, "src/lib.rs")
            .unwrap()
            .contains("pub fn verbose()")
    );
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(
        report.contains("**Passed**: `sh check.sh` passes after 1 attempt."),
        "{report}"
    );
    assert!(
        report.contains("| `src/lib.rs` | modified | 4 | 0 |"),
        "{report}"
    );
    let base = repo.rev(&format!("{BRANCH}^"));
    assert!(
        report.contains(&format!(
            "The tests on the unchanged tree (commit {base}): passed"
        )),
        "{report}"
    );

    // The user's checkout is untouched; the worktree sits at the new commit, clean.
    assert_eq!(repo.checkout_state(), before);
    let worktree = repo.root.join(".git/orchestrate/worktrees/7");
    assert!(worktree.join("src/lib.rs").exists());
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&worktree)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&head.stdout).trim(),
        repo.rev(BRANCH)
    );
}

#[test]
fn a_failing_first_attempt_is_fixed_by_the_second_with_the_test_output_in_its_prompt() {
    let (repo, issue) = impl_repo(&by_round(&[WRONG_EDIT, FIX_EDIT]), "");
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests fail")
        .stderr_has("Attempt 2 of 4: the tests pass");
    assert_eq!(
        impl_calls(&repo),
        ["impl implementer 1", "impl implementer 2"]
    );
    let second = impl_prompt(&repo, 2);
    assert!(second.contains("`sh check.sh` failed"), "{second}");
    assert!(second.contains("tests::verbose_1"), "{second}");
    // The current diff goes back too.
    assert!(second.contains("+// not yet"), "{second}");
    // The stable part comes first and is the same in both prompts.
    let first = impl_prompt(&repo, 1);
    let stable = first.find("## Attempt 1").unwrap();
    assert_eq!(first[..stable], second[..stable]);
    // The format's example names a file of this repository that the spec names.
    assert!(
        first.contains("```\nsrc/lib.rs\n<<<<<<< SEARCH\nthe exact lines to replace"),
        "{first}"
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Attempts").as_deref(),
        Some("2")
    );
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(
        report.contains("### Attempt 1\n\n- Result: the tests fail"),
        "{report}"
    );
    assert!(report.contains("`tests::verbose_1`"), "{report}");
}

/// Round N adds another `not yet` line: a different failure every time.
fn never_green() -> String {
    "cat <<REPLY\nsrc/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\n// not yet $ORCHESTRATE_ROUND\n>>>>>>> REPLACE\nREPLY".into()
}

#[test]
fn tests_that_never_pass_block_after_max_test_retries_with_the_last_attempt_committed() {
    let (repo, issue) = impl_repo(&never_green(), "max_test_retries = 2\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3)
        .stderr_has("blocked at impl: the tests still fail after 3 attempts (stages.impl.max_test_retries = 2)")
        .stderr_has("hint: the last attempt's code and docs/reports/7.md (each attempt, the last failure) are committed on the branch");
    assert_eq!(impl_calls(&repo).len(), 3);
    assert_eq!(repo.subjects(BRANCH)[0], BLOCKED_SUBJECT);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    // What a re-run will do is said as it is: the code stays on the branch (there is no
    // draft to try again from).
    let plan = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "--dry-run"]);
    plan.expect_code(0);
    let said = format!("{}{}", plan.stdout, plan.stderr);
    assert!(
        said.contains("trying again from the code on the branch, told the last failure"),
        "{said}"
    );
    assert!(!said.contains("blocked draft"), "{said}");
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tests").as_deref(),
        Some("\"sh check.sh\" failed")
    );
    // Nothing paid for is lost: the last attempt's code is committed with the report.
    let lib = repo.show(BRANCH, "src/lib.rs").unwrap();
    assert!(lib.contains("// not yet 3"), "{lib}");
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(report.contains("## Last failure"), "{report}");

    // Status says so.
    repo.run(&["status", "7"])
        .expect_code(0)
        .stdout_has("3 attempts")
        .stdout_has("impl: blocked: the tests still fail after 3 attempts (stages.impl.max_test_retries = 2)")
        .stdout_has("impl: tests \"sh check.sh\" failed");
}

#[test]
fn the_same_failure_twice_in_a_row_stops_the_loop_early() {
    // Each round changes the comment, never the number of `not yet` lines.
    let body = "if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then\ncat <<REPLY\nsrc/lib.rs\n<<<<<<< SEARCH\npub fn widget() {}\n=======\npub fn widget() {}\n// not yet 1\n>>>>>>> REPLACE\nREPLY\nelse\nprev=$((ORCHESTRATE_ROUND - 1))\ncat <<REPLY\nsrc/lib.rs\n<<<<<<< SEARCH\n// not yet $prev\n=======\n// not yet $ORCHESTRATE_ROUND\n>>>>>>> REPLACE\nREPLY\nfi";
    let (repo, issue) = impl_repo(body, "max_test_retries = 5\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3)
        .stderr_has("the tests failed the same way twice in a row (attempts 1 and 2)");
    assert_eq!(
        impl_calls(&repo).len(),
        2,
        "a third identical attempt is not paid for"
    );
}

#[test]
fn a_red_baseline_blocks_before_any_implementer_call() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    repo.write("src/lib.rs", "pub fn widget() {}\n// not yet\n");
    repo.git(&["commit", "-q", "-am", "red"]);
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3)
        .stderr_has("the tests already fail on the unchanged tree (the baseline): tests::verbose_1; no model was called");
    assert!(impl_calls(&repo).is_empty());
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Attempts").as_deref(),
        Some("0")
    );
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(report.contains("None: no model was called."), "{report}");
    assert!(report.contains("tests::verbose_1"), "{report}");
}

#[test]
fn with_a_red_baseline_allowed_only_new_failures_count() {
    // The baseline fails with one `not yet` line; the implementer adds `verbose` and leaves
    // the known failure as it is.
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "allow_red_baseline = true\n");
    repo.write("src/lib.rs", "pub fn widget() {}\n// not yet\n");
    repo.git(&["commit", "-q", "-am", "red"]);
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0)
        .stderr_has("only tests that fail on the baseline too failed");
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("passed")
    );
}

#[test]
fn allow_red_baseline_is_also_a_flag() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    repo.write("src/lib.rs", "pub fn widget() {}\n// not yet\n");
    repo.git(&["commit", "-q", "-am", "red"]);
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "impl",
        "--allow-red-baseline",
    ])
    .expect_code(0);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("passed")
    );
}

#[test]
fn without_a_test_command_the_run_stops_before_any_model_call() {
    let repo = TestRepo::new();
    let implementer = repo.model("implementer", &by_round(&[GOOD_EDIT]));
    let issue = repo.use_models(
        &[approved()],
        &format!("[stages.impl]\nimplementer = \"{implementer}\"\n"),
    );
    repo.run(&["7", "--issue-file", &issue])
        .expect_code(1)
        .stderr_has("no test command: stages.impl.test_command is not set, and none was detected")
        .stderr_has("test_command = \"make check\"");
    assert!(repo.calls().is_empty(), "{:?}", repo.calls());
    assert!(
        repo.branches()
            .iter()
            .all(|b| !b.starts_with("orchestrate/"))
    );
}

#[test]
fn the_test_command_is_detected_and_the_dry_run_says_from_what() {
    let repo = TestRepo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"widget\"\nversion = \"0.1.0\"\n",
    );
    repo.git(&["add", "."]);
    repo.git(&["commit", "-q", "-m", "cargo"]);
    let implementer = repo.model("implementer", "true");
    let issue = repo.use_models(
        &[approved()],
        &format!("[stages.impl]\nimplementer = \"{implementer}\"\n"),
    );
    let run = repo.run(&["7", "--issue-file", &issue, "--dry-run"]);
    run.expect_code(0)
        .stdout_has("impl works in ")
        .stdout_has(".git/orchestrate/worktrees/7")
        .stdout_has("(answers with edit blocks), at most 4 attempts")
        .stdout_has("test command: `cargo test` (detected from Cargo.toml)");
    assert!(repo.calls().is_empty());
    assert!(!repo.root.join(".git/orchestrate/worktrees").exists());
}

#[test]
fn the_test_command_sees_no_credentials() {
    // The test command here only records its environment: nothing it runs could prove a
    // change, so no proof is asked for.
    let (repo, issue) = impl_repo(
        &by_round(&[GOOD_EDIT]),
        "test_env = [\"ALLOWED_TOKEN\"]\nrequire_proof = false\n",
    );
    let env_log = repo.base().join("test-env.txt");
    repo.write(
        "check.sh",
        &format!("#!/bin/sh\nenv > \"{}\"\nexit 0\n", env_log.display()),
    );
    repo.git(&["commit", "-q", "-am", "env check"]);
    repo.run_env(
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-secret-value-1234567890"),
            ("GITHUB_TOKEN", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            ("MY_SERVICE_PASSWORD", "hunter2hunter2"),
            ("ALLOWED_TOKEN", "kept-for-tests"),
            ("PLAIN_SETTING", "visible"),
        ],
        &["7", "--issue-file", &issue, "--until", "impl"],
    )
    .expect_code(0);
    let seen = std::fs::read_to_string(&env_log).unwrap();
    for gone in [
        "ANTHROPIC_API_KEY",
        "GITHUB_TOKEN",
        "MY_SERVICE_PASSWORD",
        "hunter2",
    ] {
        assert!(!seen.contains(gone), "{gone} reached the tests:\n{seen}");
    }
    assert!(seen.contains("ALLOWED_TOKEN=kept-for-tests"), "{seen}");
    assert!(seen.contains("PLAIN_SETTING=visible"), "{seen}");
    assert!(seen.contains("PATH="), "{seen}");
}

#[test]
fn after_spec_holds_before_any_code_is_written_and_before_pr_after_the_impl_commit() {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--no-input",
        "--gate",
        "after_spec",
    ])
    .expect_code(4)
    .stderr_has("at gate after_spec");
    assert!(impl_calls(&repo).is_empty());
    repo.run(&["approve", "7"]).expect_code(0);

    // before_pr is on by default: the run stops after the impl commit.
    repo.run(&["7", "--no-input"])
        .expect_code(4)
        .stderr_has("at gate before_pr");
    assert_eq!(impl_calls(&repo).len(), 1);
    assert!(repo.subjects(BRANCH).contains(&IMPL_SUBJECT.to_string()));
    repo.run(&["approve", "7"]).expect_code(0);
    repo.run(&["7", "--no-input", "--until", "impl"])
        .expect_code(0);
    assert_eq!(impl_calls(&repo).len(), 1, "a done impl is not run again");
}

#[test]
fn a_rerun_after_a_block_continues_from_the_blocked_tree_with_the_last_failure() {
    let (repo, issue) = impl_repo(&by_round(&[WRONG_EDIT]), "max_test_retries = 0\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3);
    let blocked = repo.rev(BRANCH);

    // A better implementer: it fixes what the blocked attempt left.
    repo.model("implementer", &by_round(&[FIX_EDIT]));
    repo.run(&["7", "--until", "impl"]).expect_code(0);
    assert_eq!(repo.rev(&format!("{BRANCH}^")), blocked);
    let prompt = impl_prompt(&repo, 2);
    assert!(prompt.contains("An earlier run blocked"), "{prompt}");
    assert!(prompt.contains("tests::verbose_1"), "{prompt}");
    let lib = repo.show(BRANCH, "src/lib.rs").unwrap();
    assert!(
        lib.contains("pub fn verbose()") && !lib.contains("not yet"),
        "{lib}"
    );
}

#[test]
fn a_rejection_at_before_pr_sends_the_feedback_to_the_implementer() {
    // Round 1 adds `verbose`; after the rejection, round 1 of the next run renames it.
    let rename = "src/lib.rs\n<<<<<<< SEARCH\npub fn verbose() -> bool {\n=======\npub fn is_verbose() -> bool {\n>>>>>>> REPLACE\n";
    let (repo, issue) = impl_repo(
        &format!(
            "if grep -q 'Call it is_verbose' \"$PROMPT\"; then\ncat <<'REPLY'\n{rename}\nREPLY\nelse\ncat <<'REPLY'\n{GOOD_EDIT}\nREPLY\nfi"
        ),
        "",
    );
    repo.run(&["7", "--issue-file", &issue, "--no-input"])
        .expect_code(4)
        .stderr_has("at gate before_pr");
    repo.run(&[
        "reject",
        "7",
        "-m",
        "Call it is_verbose, as the other flags are named.",
    ])
    .expect_code(0);
    repo.run(&["7", "--no-input"])
        .expect_code(4)
        .stderr_has("at gate before_pr");
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("rejected by a person at the before_pr gate"),
        "{prompt}"
    );
    assert!(prompt.contains("Call it is_verbose"), "{prompt}");
    let lib = repo.show(BRANCH, "src/lib.rs").unwrap();
    assert!(lib.contains("pub fn is_verbose()"), "{lib}");
}

#[test]
fn files_the_test_command_writes_are_not_committed() {
    let (repo, issue) = impl_repo(&by_round(&[WRONG_EDIT, FIX_EDIT]), "");
    // The tests leave a log and a cache behind, as many runners do.
    repo.write(
        "check.sh",
        &format!("mkdir -p .cache && date > .cache/run && echo ran >> test-output.log\n{CHECK}"),
    );
    repo.git(&["commit", "-q", "-am", "noisy tests"]);
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0);
    let changed = repo.git(&["show", "--format=", "--name-only", BRANCH]);
    assert_eq!(changed, "docs/reports/7.md\nsrc/lib.rs\ntests/verbose.sh");

    // An agent's change is read from the whole worktree: what the tests wrote is told apart,
    // left out, and said.
    let agent = repo.model(
        "agent",
        "if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then printf '// not yet\\n' >> src/lib.rs; else sed -i 's|// not yet|pub fn loud() -> bool { true }|' src/lib.rs; echo \"grep -q 'fn loud' src/lib.rs\" > tests/loud.sh; fi",
    );
    let agent = agent.replacen("cmd:", "agent:", 1);
    repo.run(&[
        "7",
        "--until",
        "impl",
        "--resume-from",
        "impl",
        "-c",
        &format!("stages.impl.implementer={agent}"),
    ])
    .expect_code(0);
    let changed = repo.git(&["show", "--format=", "--name-only", BRANCH]);
    assert_eq!(changed, "docs/reports/7.md\nsrc/lib.rs\ntests/loud.sh");
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(
        report.contains("Left out (written by the test command, not by the implementer): `.cache/run`, `test-output.log`."),
        "{report}"
    );
}

#[test]
fn a_reply_editing_greet_txt_then_license_changes_each_in_its_own_file() {
    // As a model writes it: prose, fences, and a file name with no dot. The LICENSE block
    // once went to greet.txt, the path of the block before it. (The spec names src/lib.rs,
    // so the reply changes it too.)
    let reply = format!(
        "Here are the changes.\n\n{UNTESTED_EDIT}\ngreet.txt\n```text\n<<<<<<< SEARCH\nHello\n=======\nHello, world\n>>>>>>> REPLACE\n```\n\n\
                 LICENSE\n```text\n<<<<<<< SEARCH\nMIT License\n=======\nMIT License\n\nCopyright (c) Widget\n>>>>>>> REPLACE\n```\n"
    );
    let (repo, issue) = impl_repo(&by_round(&[&reply]), "require_proof = false\n");
    repo.write("greet.txt", "Hello\n");
    repo.write("LICENSE", "MIT License\n");
    repo.git(&["add", "greet.txt", "LICENSE"]);
    repo.git(&["commit", "-q", "-m", "greeting and license"]);
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass");

    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    assert_eq!(
        repo.git(&["show", "--format=", "--name-only", BRANCH]),
        "LICENSE\ndocs/reports/7.md\ngreet.txt\nsrc/lib.rs"
    );
    assert_eq!(
        repo.show(BRANCH, "greet.txt").as_deref(),
        Some("Hello, world\n")
    );
    assert_eq!(
        repo.show(BRANCH, "LICENSE").as_deref(),
        Some("MIT License\n\nCopyright (c) Widget\n")
    );
}
