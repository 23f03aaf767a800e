//! API keys go to the vendor and nowhere else: not in commits, not in the run state under
//! `.git/`, not in recordings, not in `--json` events or any output, even with tracing on,
//! and not when a vendor echoes the key back in an error.

use std::path::Path;

use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::harness::{TestRepo, files_under};
use crate::providers::Provider;
use crate::vendors::*;

const KEY: &str = "sk-ant-api03-SECRET-do-not-leak-7f3a9c1e5b";

/// Claude Opus drafts and Claude Sonnet reviews, at `url`.
fn setup(url: &str) -> (TestRepo, String) {
    Provider::anthropic().setup(url, "")
}

/// Run with the key, tracing at its most verbose, and recording exchanges to `record`.
fn run_loud(repo: &TestRepo, record: &Path, args: &[&str]) -> String {
    let out = repo
        .cmd()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("GIT_ORCHESTRATE_LOG", "trace")
        .env("GIT_ORCHESTRATE_RECORD", record)
        .arg("-vv")
        .args(args)
        .output()
        .unwrap();
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_key_is_sent_to_the_vendor_and_written_nowhere() {
    let vendor = approving_anthropic();
    let (repo, issue) = setup(&vendor.url());
    let record = repo.base().join("recording");

    let mut outputs = String::new();
    outputs.push_str(&run_loud(
        &repo,
        &record,
        &["7", "--issue-file", &issue, "--until", "lld"],
    ));
    outputs.push_str(&run_loud(
        &repo,
        &record,
        &["7", "--until", "lld", "--resume-from", "lld", "--json"],
    ));
    outputs.push_str(&run_loud(&repo, &record, &["status", "7", "--json"]));
    outputs.push_str(&run_loud(
        &repo,
        &record,
        &["7", "--until", "lld", "--dry-run"],
    ));
    assert!(outputs.contains("exit Some(0)"), "{outputs}");

    // The key really went out, so a leak would have had something to leak.
    let sent = vendor.requests();
    assert_eq!(sent.len(), 4);
    assert!(
        sent.iter()
            .all(|r| r.headers.get("x-api-key").unwrap() == KEY)
    );

    assert!(!outputs.contains(KEY), "the key is in the output");
    let history = repo.git(&["log", "--all", "-p", "--format=%H%n%B"]);
    assert!(history.contains("Orchestrate-Stage: lld"));
    assert!(!history.contains(KEY), "the key is in a commit");
    let reflog = repo.git(&["reflog", "--all"]);
    assert!(!reflog.contains(KEY));
    let state = files_under(&repo.root.join(".git/orchestrate"));
    assert!(
        state.iter().any(|(p, _)| p.contains("transcripts")),
        "transcripts exist"
    );
    for (path, text) in state.iter().chain(files_under(&record).iter()) {
        assert!(!text.contains(KEY), "the key is in {path}");
    }
    assert!(!files_under(&record).is_empty(), "exchanges were recorded");
}

#[test]
fn a_key_echoed_back_by_the_vendor_is_scrubbed() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ANTHROPIC_PATH))
            .respond_with(anthropic_error(
                401,
                "authentication_error",
                &format!("invalid x-api-key: {KEY}"),
            )),
    );
    let (repo, issue) = setup(&vendor.url());
    let record = repo.base().join("recording");
    let output = run_loud(
        &repo,
        &record,
        &["7", "--issue-file", &issue, "--until", "lld", "--json"],
    );
    assert!(output.contains("exit Some(1)"), "{output}");
    assert!(output.contains("invalid x-api-key: [REDACTED]"), "{output}");
    assert!(!output.contains(KEY), "{output}");
    for (path, text) in files_under(&repo.root.join(".git/orchestrate"))
        .iter()
        .chain(files_under(&record).iter())
    {
        assert!(!text.contains(KEY), "the key is in {path}");
    }
}
