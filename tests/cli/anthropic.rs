//! The Anthropic provider against a loopback server answering as the Messages API does:
//! streaming, usage and cost, prompt caching, retries, errors and faults.

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::harness::{Run, TestRepo, revise};
use crate::vendors::*;

pub const KEY: &str = "sk-ant-api03-test-key-0123456789abcdef";
const BRANCH: &str = "orchestrate/7-add-a-verbose-flag";
const ENDPOINT: &str = "/v1/messages";

/// A repository whose lld drafter is Claude Opus and reviewer Claude Sonnet, both at `url`.
fn setup(url: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.anthropic]\nbase_url = \"{url}\"\nretry_delay = \"10ms\"\n{extra}\n[stages.lld]\ndrafter = \"claude:opus-4.5\"\nreviewer = \"claude:sonnet\"\n"
    ));
    let issue = repo.default_issue();
    (repo, issue)
}

pub fn run_with_key(repo: &TestRepo, args: &[&str]) -> Run {
    repo.run_env(&[("ANTHROPIC_API_KEY", KEY)], args)
}

fn lld(repo: &TestRepo, issue: &str) -> Run {
    run_with_key(repo, &["7", "--issue-file", issue, "--until", "lld"])
}

#[test]
fn a_design_drafted_and_reviewed_by_claude_records_models_tokens_and_cost() {
    let vendor = Vendor::start();
    vendor.draft_and_review(
        ENDPOINT,
        anthropic_reply(&design()),
        anthropic_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);

    // Aliases resolved: the ids sent are the vendor's, and so are the ids recorded.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("anthropic:claude-opus-4-5")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
        Some("anthropic:claude-sonnet-4-5")
    );
    // Two calls of 1200 in / 300 out: Opus 1200 × $5 + 300 × $25, Sonnet 1200 × $3 + 300 × $15.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=2400 out=600")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0216")
    );
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );

    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.headers.get("x-api-key").unwrap(), KEY);
        assert_eq!(
            request.headers.get("anthropic-version").unwrap(),
            "2023-06-01"
        );
    }
    let bodies = vendor.bodies();
    assert_eq!(bodies[0]["model"], "claude-opus-4-5");
    assert_eq!(bodies[1]["model"], "claude-sonnet-4-5");
    assert_eq!(bodies[0]["stream"], true);
    assert_eq!(bodies[0]["max_tokens"], 16384);
    assert_eq!(bodies[0]["messages"][0]["role"], "user");

    // status shows what was spent.
    let status = repo.run(&["status", "7"]);
    assert!(
        status.stdout.contains("in=2400 out=600"),
        "{}",
        status.stdout
    );
}

#[test]
fn review_rounds_repeat_the_cached_prefix_byte_for_byte() {
    let vendor = Vendor::start();
    let first_review = anthropic_reply(&revise(&["name the config file"]));
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .and(wiremock::matchers::body_string_contains(REVIEW_MARKER))
            .respond_with(first_review)
            .up_to_n_times(1)
            .with_priority(1),
    );
    vendor.draft_and_review(
        ENDPOINT,
        anthropic_reply(&design()),
        anthropic_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);

    let reviews: Vec<serde_json::Value> = vendor
        .bodies()
        .into_iter()
        .filter(|b| b.to_string().contains(REVIEW_MARKER))
        .collect();
    assert_eq!(reviews.len(), 2);
    let blocks =
        |body: &serde_json::Value| body["messages"][0]["content"].as_array().unwrap().clone();
    let (round1, round2) = (blocks(&reviews[0]), blocks(&reviews[1]));
    assert_eq!(round1[0]["cache_control"], json!({"type": "ephemeral"}));
    assert_eq!(round2[0]["cache_control"], json!({"type": "ephemeral"}));
    assert_eq!(
        round1[0]["text"], round2[0]["text"],
        "the marked prefix must repeat exactly"
    );
    assert!(
        round1[0]["text"]
            .as_str()
            .unwrap()
            .contains("## The issue brief")
    );
    assert_ne!(
        round1[1]["text"], round2[1]["text"],
        "the draft under review changes"
    );
    assert!(round1[1].get("cache_control").is_none());
}

#[test]
fn rate_limits_are_retried_honouring_retry_after() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(
                anthropic_error(
                    429,
                    "rate_limit_error",
                    "Number of request tokens has exceeded your per-minute rate limit",
                )
                .insert_header("retry-after", "0"),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    vendor.draft_and_review(
        ENDPOINT,
        anthropic_reply(&design()),
        anthropic_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(0)
        .stderr_has("attempt 1 of 4")
        .stderr_has("HTTP 429");
    assert_eq!(vendor.requests().len(), 3, "one retry, then the reviewer");
}

#[test]
fn overloaded_after_every_retry_says_it_is_capacity_not_credentials() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(anthropic_error(529, "overloaded_error", "Overloaded")),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("anthropic answered HTTP 529 for anthropic:claude-opus-4-5: overloaded_error: Overloaded")
        .stderr_has("gave up after 4 attempts")
        .stderr_has("not your credentials");
    assert_eq!(vendor.requests().len(), 4, "max_retries = 3");
    assert_eq!(
        repo.subjects(BRANCH).len(),
        2,
        "only the brief was committed"
    );
}

#[test]
fn client_errors_are_not_retried_and_say_what_to_fix() {
    for (status, kind, message, hint) in [
        (
            400,
            "invalid_request_error",
            "max_tokens: 99999999 > 64000, which is the maximum allowed",
            "max_output_tokens",
        ),
        (
            401,
            "authentication_error",
            "invalid x-api-key",
            "check ANTHROPIC_API_KEY",
        ),
        (
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
            "ANTHROPIC_API_KEY",
        ),
        (
            404,
            "not_found_error",
            "model: claude-opus-4-5",
            "check the model name `anthropic:claude-opus-4-5`",
        ),
    ] {
        let vendor = Vendor::start();
        vendor.mount(
            Mock::given(method("POST"))
                .and(path(ENDPOINT))
                .respond_with(anthropic_error(status, kind, message)),
        );
        let (repo, issue) = setup(&vendor.url(), "");
        let run = lld(&repo, &issue);
        run.expect_code(1)
            .stderr_has(&format!(
                "anthropic answered HTTP {status} for anthropic:claude-opus-4-5: {kind}: {message}"
            ))
            .stderr_has(hint);
        assert!(
            !run.stderr.contains("gave up after"),
            "{status} was retried:\n{}",
            run.stderr
        );
        assert_eq!(
            vendor.requests().len(),
            1,
            "HTTP {status} must not be retried"
        );
    }
}

#[test]
fn a_missing_key_is_reported_before_any_request() {
    let vendor = Vendor::start();
    vendor.draft_and_review(
        ENDPOINT,
        anthropic_reply(&design()),
        anthropic_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("no API key for anthropic: ANTHROPIC_API_KEY is not set");
    assert!(vendor.requests().is_empty());
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn a_refused_connection_is_retried_then_named() {
    let port = closed_port();
    let (repo, issue) = setup(&format!("http://127.0.0.1:{port}"), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(&format!(
            "could not reach anthropic at http://127.0.0.1:{port}/v1/messages"
        ))
        .stderr_has("gave up after 2 attempts")
        .stderr_has("base_url");
}

#[test]
fn a_connection_reset_mid_stream_is_retried_and_then_reported() {
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = connections.clone();
    let server = RawServer::start(move |_request, stream| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let events = anthropic_events("The design", USAGE, "end_turn");
        start_stream(stream, &sse(&events[..4]));
        // Close without finishing the chunked body: the peer sees the connection drop.
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    let (repo, issue) = setup(&server.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("the reply from anthropic:claude-opus-4-5 broke off")
        .stderr_has("gave up after 2 attempts");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn a_stream_without_its_final_event_is_not_taken_as_whole() {
    let vendor = Vendor::start();
    let events = anthropic_events(&design(), USAGE, "end_turn");
    let cut = sse(&events[..events.len() - 2]);
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(sse_response(cut)),
    );
    let (repo, issue) = setup(&vendor.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("broke off: the stream ended before its message_stop event");
    assert_eq!(
        vendor.requests().len(),
        2,
        "a dropped stream is transient: retried once"
    );
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn malformed_json_and_empty_replies_are_deterministic() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(sse_response(
                "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {\n\n"
                    .into(),
            )),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("sent something that is not its documented format");
    assert_eq!(vendor.requests().len(), 1);

    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(sse_response(sse(&anthropic_events("", USAGE, "end_turn")))),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("anthropic:claude-opus-4-5 replied with nothing");
    assert_eq!(vendor.requests().len(), 1);
}

#[test]
fn a_reply_cut_off_at_max_tokens_is_never_reviewed_or_committed_as_whole() {
    let vendor = Vendor::start();
    let truncated = sse(&anthropic_events(
        "# Design\n\n## Context\nHalf a sen",
        USAGE,
        "max_tokens",
    ));
    vendor.draft_and_review(
        ENDPOINT,
        sse_response(truncated),
        anthropic_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "max_output_tokens = 2048");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("was cut off at the output-token limit (2048 tokens); it was not used")
        .stderr_has("max_output_tokens");
    assert_eq!(vendor.requests().len(), 1, "not retried, never reviewed");
    assert_eq!(vendor.bodies()[0]["max_tokens"], 2048);
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_truncated_review_keeps_the_paid_draft_and_counts_its_tokens() {
    let vendor = Vendor::start();
    let cut_review = sse(&anthropic_events(
        "{\"verdict\": \"APPR",
        USAGE,
        "max_tokens",
    ));
    vendor.draft_and_review(
        ENDPOINT,
        anthropic_reply(&design()),
        sse_response(cut_review),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(1).stderr_has("cut off");
    // The draft was paid for: it is committed, as blocked, with both calls' tokens.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=2400 out=600")
    );
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );
}

#[test]
fn a_silent_stream_hits_the_idle_timeout() {
    let server = RawServer::start(|_request, stream| {
        let events = anthropic_events("The", USAGE, "end_turn");
        start_stream(stream, &sse(&events[..2]));
        std::thread::sleep(Duration::from_secs(5));
    });
    let (repo, issue) = setup(&server.url(), "idle_timeout = \"1s\"\nmax_retries = 0");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("anthropic:claude-opus-4-5 sent nothing for 1s; the stream was given up");
}

#[test]
fn a_stream_that_never_ends_hits_the_overall_timeout() {
    let server = RawServer::start(|_request, stream| {
        let events = anthropic_events("The", USAGE, "end_turn");
        start_stream(stream, &sse(&events[..2]));
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(200));
            let ping = sse(&[("ping", json!({"type": "ping"}))]);
            if stream
                .write_all(format!("{:x}\r\n{ping}\r\n", ping.len()).as_bytes())
                .is_err()
            {
                return;
            }
        }
    });
    let (repo, issue) = setup(
        &server.url(),
        "timeout = \"2s\"\nidle_timeout = \"1s\"\nmax_retries = 0",
    );
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("anthropic:claude-opus-4-5 was still working after 2s; it was stopped");
}

#[test]
fn streamed_progress_is_reported_as_events() {
    let vendor = Vendor::start();
    vendor.draft_and_review(
        ENDPOINT,
        anthropic_reply(&design()),
        anthropic_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = run_with_key(
        &repo,
        &["7", "--issue-file", &issue, "--until", "lld", "--json"],
    );
    run.expect_code(0);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "model_progress" && e["tokens"].as_u64().unwrap() > 0)
    );
    let finished: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "model_finished")
        .collect();
    assert_eq!(finished[0]["usage"]["input"], 1200);
    assert_eq!(finished[0]["cost_usd"], 0.0135);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["usage"]["output"], 600);
}

#[test]
fn on_a_terminal_the_spinner_counts_tokens_as_they_arrive() {
    // A reply streamed slowly: a delta every 150 ms for about 2 seconds.
    let server = RawServer::start(|request, stream| {
        let text = if request.contains(REVIEW_MARKER) {
            approval()
        } else {
            design()
        };
        let events = anthropic_events(&text, USAGE, "end_turn");
        start_stream(stream, &sse(&events[..3]));
        let pieces: Vec<String> = text
            .chars()
            .collect::<Vec<_>>()
            .chunks(40)
            .map(|c| c.iter().collect())
            .collect();
        for piece in pieces {
            std::thread::sleep(Duration::from_millis(150));
            let delta = sse(&[(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
            )]);
            let _ = stream.write_all(format!("{:x}\r\n{delta}\r\n", delta.len()).as_bytes());
            let _ = stream.flush();
        }
        let end = sse(&events[events.len() - 3..]);
        let _ = stream.write_all(format!("{:x}\r\n{end}\r\n0\r\n\r\n", end.len()).as_bytes());
    });
    let (repo, issue) = setup(&server.url(), "");
    let mut cmd = std::process::Command::new(crate::harness::BIN);
    repo.apply_env(&mut cmd);
    cmd.env("TERM", "xterm")
        .env("ANTHROPIC_API_KEY", KEY)
        .args(["7", "--issue-file", &issue, "--until", "lld"])
        .current_dir(&repo.root);
    let mut session = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    session
        .exp_regex(r"is working, \d+ tokens in")
        .expect("the spinner shows the tokens received so far");
    let rest = session.exp_eof().unwrap();
    assert!(rest.contains("Finished lld: approved"), "{rest}");
}
