//! API keys go to the vendor and nowhere else: not in commits, not in the run state under
//! `.git/`, not in recordings, not in `--json` events or any output, even with tracing on,
//! and not when a vendor echoes the key back in an error.

use std::path::Path;

use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::harness::{BRANCH, TestRepo, draft_script, files_under};
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

// ---------------------------------------------------------------------------------------
// Every sink goes through one redaction step: a model that prints the environment, a command
// line that carries a key, feedback that quotes a token.

const ANTHROPIC: &str = "sk-ant-probe-SECRET-1a2b3c";
const GITHUB: &str = "ghp_probeSECRET9z8y7x";
const PASSWORD: &str = "hunter2-hunter2-probe";
const SECRETS: [&str; 3] = [ANTHROPIC, GITHUB, PASSWORD];

/// Lets model programs see the credentials below that are not model keys (they would not,
/// otherwise), so that what they print holds every kind of secret.
const SEE_ALL: &str = "[sandbox]\nagent_env = [\"GITHUB_TOKEN\", \"DEPLOY_PASSWORD\"]\n";

/// The credentials a user's shell might hold.
fn credentials() -> [(&'static str, &'static str); 3] {
    [
        ("ANTHROPIC_API_KEY", ANTHROPIC),
        ("GITHUB_TOKEN", GITHUB),
        ("DEPLOY_PASSWORD", PASSWORD),
    ]
}

#[track_caller]
fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} holds a secret:\n{text}");
    }
}

/// A repository whose drafter and reviewer print the environment into their replies, and see
/// every credential of [`credentials`] ([`SEE_ALL`]).
fn leaky_models() -> (TestRepo, String) {
    let repo = TestRepo::new();
    let drafter = repo.model(
        "drafter",
        &format!("{}\necho '## Notes'\nenv", draft_script()),
    );
    let reviewer = repo.model(
        "reviewer",
        &format!("env\ncat <<'REPLY'\n{}\nREPLY", crate::harness::approved()),
    );
    repo.config_models(&drafter, &reviewer, SEE_ALL);
    let issue = repo.default_issue();
    (repo, issue)
}

#[test]
fn secrets_a_model_prints_are_kept_out_of_commits_transcripts_and_output() {
    let (repo, issue) = leaky_models();
    let run = repo.run_env(
        &credentials(),
        &["7", "--issue-file", &issue, "--until", "lld"],
    );
    run.expect_code(0);

    // The artifact and the review log are committed with the values masked.
    let design = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    assert!(design.contains("ANTHROPIC_API_KEY=[REDACTED]"), "{design}");
    assert!(design.contains("GITHUB_TOKEN=[REDACTED]"), "{design}");
    assert!(design.contains("DEPLOY_PASSWORD=[REDACTED]"), "{design}");
    let reviews = repo.show(BRANCH, "docs/reviews/7-lld.md").unwrap();
    assert!(reviews.contains("GITHUB_TOKEN=[REDACTED]"), "{reviews}");
    let history = repo.git(&["log", "--all", "-p", "--format=%H%n%B"]);
    assert_no_secret(&history, "the history");

    // Transcripts under the local state directory too.
    let state = files_under(&repo.root.join(".git/orchestrate"));
    assert!(state.iter().any(|(p, _)| p.contains("transcripts")));
    for (path, text) in &state {
        assert_no_secret(text, path);
    }

    // The run says what it removed and where, by name, never by value.
    assert_no_secret(&run.stderr, "the output");
    for place in ["docs/lld/7.md", "docs/reviews/7-lld.md", "the transcript"] {
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains("removed") && l.contains(place))
            .unwrap_or_else(|| panic!("no redaction notice for {place}:\n{}", run.stderr));
        assert!(line.contains("GITHUB_TOKEN"), "{line}");
    }
}

#[test]
fn json_events_say_what_was_redacted_and_never_carry_a_secret() {
    let (repo, issue) = leaky_models();
    let run = repo.run_env(
        &credentials(),
        &["7", "--issue-file", &issue, "--until", "lld", "--json"],
    );
    run.expect_code(0);
    assert_no_secret(&run.stdout, "the --json events");
    let redacted: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "redacted")
        .collect();
    let design = redacted
        .iter()
        .find(|e| e["place"] == "docs/lld/7.md")
        .unwrap_or_else(|| panic!("no redacted event for the design: {}", run.stdout));
    let found: Vec<&str> = design["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for name in ["ANTHROPIC_API_KEY", "GITHUB_TOKEN", "DEPLOY_PASSWORD"] {
        assert!(found.contains(&name), "{found:?}");
    }
}

#[test]
fn credentials_in_a_command_line_are_masked_in_trailers_and_errors() {
    let repo = TestRepo::new();
    let drafter = repo.model("drafter", &draft_script());
    let reviewer = repo.reviewer("reviewer", &[crate::harness::approved()]);
    let with_secrets = format!(
        "{drafter} --api-key plainvalue-1234 -k ghp_abcdefghij1234 --base https://alice:pw-123456@example.com/x -H 'x-api-key: hdrvalue-5678' -H 'Authorization: Bearer bearervalue-9012'"
    );
    repo.config_models(&with_secrets, &reviewer, "");
    let issue = repo.default_issue();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(0);
    let drafter_trailer = repo.trailer(BRANCH, "Orchestrate-Drafter").unwrap();
    for secret in [
        "plainvalue-1234",
        "ghp_abcdefghij1234",
        "pw-123456",
        "hdrvalue-5678",
        "bearervalue-9012",
    ] {
        assert!(!drafter_trailer.contains(secret), "{drafter_trailer}");
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
    }
    let history = repo.git(&["log", "--all", "--format=%B"]);
    assert!(!history.contains("pw-123456"), "{history}");

    // A program that fails: its command line is shown masked.
    let failing = repo.run(&[
        "8",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "-c",
        "stages.lld.drafter=\"cmd:false --api-key sk-xyzSECRET6\"",
    ]);
    failing.expect_code(1);
    assert!(failing.stderr.contains("--api-key"), "{}", failing.stderr);
    assert!(
        !failing.stderr.contains("sk-xyzSECRET6"),
        "{}",
        failing.stderr
    );
}

#[test]
fn a_token_in_rejection_feedback_is_not_committed() {
    let repo = TestRepo::new();
    let drafter = repo.model("drafter", &draft_script());
    let reviewer = repo.reviewer("reviewer", &[crate::harness::approved()]);
    repo.config_models(&drafter, &reviewer, "[gates]\nafter_lld = true\n");
    let issue = repo.default_issue();
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(4);
    let run = repo.run_env(
        &credentials(),
        &[
            "reject",
            "7",
            "-m",
            &format!("call the API with {GITHUB} instead"),
        ],
    );
    run.expect_code(0);
    let body = repo.git(&["log", "-1", "--format=%B", BRANCH]);
    assert!(
        body.contains("call the API with [REDACTED] instead"),
        "{body}"
    );
    assert!(
        run.stderr
            .contains("removed GITHUB_TOKEN from the commit message"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.stderr, "the output");
}

#[test]
fn an_error_that_quotes_a_secret_is_shown_masked() {
    let repo = TestRepo::new();
    let drafter = repo.model("drafter", "env >&2\nexit 3");
    let reviewer = repo.reviewer("reviewer", &[crate::harness::approved()]);
    repo.config_models(&drafter, &reviewer, SEE_ALL);
    let issue = repo.default_issue();
    let run = repo.run_env(
        &credentials(),
        &["7", "--issue-file", &issue, "--until", "lld"],
    );
    run.expect_code(1);
    assert!(
        run.stderr.contains("DEPLOY_PASSWORD=[REDACTED]"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.stderr, "the error");
    let json = repo.run_env(
        &credentials(),
        &["7", "--issue-file", &issue, "--until", "lld", "--json"],
    );
    json.expect_code(1);
    assert_no_secret(&json.stdout, "the --json output");
    assert_no_secret(&json.stderr, "the error");
    for (path, text) in files_under(&repo.root.join(".git/orchestrate")) {
        assert_no_secret(&text, &path);
    }
}

#[test]
fn a_flag_that_counts_tokens_is_recorded_as_written_so_the_command_can_be_run_again() {
    let (repo, issue) = crate::implement_faults::agent_repo(
        "printf 'pub fn widget() {}\\n\\npub fn verbose() -> bool {\\n    true\\n}\\n' > src/lib.rs\nmkdir -p tests\necho \"grep -q 'fn verbose' src/lib.rs\" > tests/verbose.sh",
        "",
    );
    let config = repo.read(".orchestrate.toml");
    let line = config
        .lines()
        .find(|l| l.starts_with("implementer = "))
        .unwrap();
    let with_flags = line.replace("\"\n", "").trim_end_matches('"').to_string()
        + " --map-tokens 0 --api-key sk-abcdefghijklmnopqrstuv\"";
    repo.config(&config.replace(line, &with_flags));
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl"]);
    run.expect_code(0);
    let implementer = repo.trailer(BRANCH, "Orchestrate-Implementer").unwrap();
    assert!(
        implementer.ends_with("--map-tokens 0 --api-key ***"),
        "{implementer}"
    );
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(report.contains("--map-tokens 0 --api-key ***"), "{report}");
    assert!(!report.contains("sk-abcdefghijklmnopqrstuv"));
}
