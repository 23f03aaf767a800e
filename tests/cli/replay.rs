//! Record and replay: `GIT_ORCHESTRATE_RECORD=DIR` saves every model exchange, and
//! `GIT_ORCHESTRATE_REPLAY=DIR` serves the same run from them with no network, so a user's
//! run becomes a reproducible test. A request that does not match is an error naming the
//! difference.

use std::path::Path;

use crate::harness::{BRANCH, Run, TestRepo};
use crate::providers::Provider;
use crate::vendors::*;

const KEY: &str = "sk-ant-api03-recorded-run-0123456789";

/// Claude Opus drafts and Claude Sonnet reviews, at `url`, with no retries.
fn configure(repo: &TestRepo, url: &str) {
    let anthropic = Provider::anthropic();
    anthropic.configure(repo, url, "max_retries = 0", anthropic.drafter, "");
}

fn run(repo: &TestRepo, vars: &[(&str, &Path)], key: bool, args: &[&str]) -> Run {
    let mut all: Vec<(&str, &std::ffi::OsStr)> =
        vars.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    if key {
        all.push(("ANTHROPIC_API_KEY", std::ffi::OsStr::new(KEY)));
    }
    repo.run_env(&all, args)
}

/// Record one run of the design stage; returns the recording and the branch tip.
fn record() -> (tempfile::TempDir, String) {
    let vendor = approving_anthropic();
    let repo = TestRepo::new();
    configure(&repo, &vendor.url());
    let issue = repo.default_issue();
    let tape = tempfile::tempdir().unwrap();
    run(
        &repo,
        &[("GIT_ORCHESTRATE_RECORD", tape.path())],
        true,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(0);
    (tape, repo.rev(BRANCH))
}

#[test]
fn a_recorded_run_replays_with_no_network_and_no_key_into_the_same_commits() {
    let (tape, recorded_tip) = record();
    let files: Vec<_> = std::fs::read_dir(tape.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files.iter().min().unwrap()).unwrap())
            .unwrap();
    assert_eq!(first["model"], "anthropic:claude-opus-4-5");
    assert_eq!(first["stage"], "lld");
    assert_eq!(first["role"], "drafter");
    assert!(
        first["prompt"]
            .as_str()
            .unwrap()
            .contains("Add a --verbose flag")
    );
    assert!(
        first["outcome"]["reply"]["text"]
            .as_str()
            .unwrap()
            .contains("from the vendor")
    );
    for file in &files {
        assert!(!std::fs::read_to_string(file).unwrap().contains(KEY));
    }

    // Another clone of the same repository, nothing listening, no key.
    let repo = TestRepo::new();
    configure(&repo, &format!("http://127.0.0.1:{}", closed_port()));
    let issue = repo.default_issue();
    run(
        &repo,
        &[("GIT_ORCHESTRATE_REPLAY", tape.path())],
        false,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(0);
    assert_eq!(
        repo.rev(BRANCH),
        recorded_tip,
        "the replay makes exactly the recorded commits"
    );
}

#[test]
fn a_request_that_does_not_match_the_recording_is_an_error_naming_the_difference() {
    let (tape, _) = record();
    let repo = TestRepo::new();
    configure(&repo, &format!("http://127.0.0.1:{}", closed_port()));
    let issue = repo.issue(
        "# Add a --verbose flag\n\nUsers cannot see what the widget does.\nAdd `--loud` instead.\n",
    );
    run(
        &repo,
        &[("GIT_ORCHESTRATE_REPLAY", tape.path())],
        false,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(1)
    .stderr_has("the prompt of lld drafter round 1 differs from")
    .stderr_has("and is now `Add `--loud` instead.`")
    .stderr_has("hint:");

    // A call the recording never made.
    let repo = TestRepo::new();
    configure(&repo, &format!("http://127.0.0.1:{}", closed_port()));
    repo.config(&format!(
        "{}\n[stages.spec]\ndrafter = \"claude:opus-4.5\"\nreviewer = \"claude:sonnet\"\n",
        repo.read(".orchestrate.toml")
    ));
    let issue = repo.default_issue();
    run(
        &repo,
        &[("GIT_ORCHESTRATE_REPLAY", tape.path())],
        false,
        &["7", "--issue-file", &issue, "--until", "spec"],
    )
    .expect_code(1)
    .stderr_has("no recording of spec drafter round 1");

    // Another model than the recorded one.
    let repo = TestRepo::new();
    configure(&repo, &format!("http://127.0.0.1:{}", closed_port()));
    let config = repo
        .read(".orchestrate.toml")
        .replace("claude:opus-4.5", "claude:haiku");
    repo.config(&config);
    let issue = repo.default_issue();
    run(
        &repo,
        &[("GIT_ORCHESTRATE_REPLAY", tape.path())],
        false,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(1)
    .stderr_has(
        "was recorded with anthropic:claude-opus-4-5, and this run uses anthropic:claude-haiku-4-5",
    );
}

#[test]
fn replaying_a_missing_or_empty_recording_is_a_clear_error() {
    let repo = TestRepo::new();
    configure(&repo, &format!("http://127.0.0.1:{}", closed_port()));
    let issue = repo.default_issue();
    let empty = tempfile::tempdir().unwrap();
    run(
        &repo,
        &[("GIT_ORCHESTRATE_REPLAY", empty.path())],
        false,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(1)
    .stderr_has("holds no recordings");
    let missing = repo.base().join("no-such-dir");
    run(
        &repo,
        &[("GIT_ORCHESTRATE_REPLAY", &missing)],
        false,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(1)
    .stderr_has("cannot read");
    assert_eq!(repo.branches(), ["main"]);
}
