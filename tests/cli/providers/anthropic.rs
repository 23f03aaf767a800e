//! What only Anthropic does: prompt caching marked in the request, and the tests that drive
//! one provider through the whole binary (an overall timeout, `--json` progress, the spinner
//! on a terminal). What every provider does is in `providers.rs`.

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::Provider;
use crate::harness::{Run, TestRepo, revise};
use crate::vendors::*;

pub const KEY: &str = "sk-ant-api03-test-key-0123456789abcdef";

/// A repository whose lld drafter is Claude Opus and reviewer Claude Sonnet, both at `url`.
fn setup(url: &str, extra: &str) -> (TestRepo, String) {
    Provider::anthropic().setup(url, extra)
}

pub fn run_with_key(repo: &TestRepo, args: &[&str]) -> Run {
    repo.run_env(&[("ANTHROPIC_API_KEY", KEY)], args)
}

fn lld(repo: &TestRepo, issue: &str) -> Run {
    run_with_key(repo, &["7", "--issue-file", issue, "--until", "lld"])
}

#[test]
fn review_rounds_repeat_the_cached_prefix_byte_for_byte() {
    let vendor = Vendor::start();
    let first_review = anthropic_reply(&revise(&["name the config file"]));
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ANTHROPIC_PATH))
            .and(wiremock::matchers::body_string_contains(REVIEW_MARKER))
            .respond_with(first_review)
            .up_to_n_times(1)
            .with_priority(1),
    );
    vendor.draft_and_review(
        ANTHROPIC_PATH,
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
fn a_stream_that_never_ends_hits_the_overall_timeout() {
    let server = RawServer::start(|_request, stream| {
        let events = anthropic_events("The", USAGE, "end_turn");
        start_stream(stream, "text/event-stream", &sse(&events[..2]));
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
    let vendor = approving_anthropic();
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
        start_stream(stream, "text/event-stream", &sse(&events[..3]));
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
