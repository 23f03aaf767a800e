//! The OpenAI provider against a loopback server answering as the chat completions API does:
//! streaming with a final usage chunk and `data: [DONE]`, usage and cost (cached input at the
//! cache rate), declared OpenAI-compatible servers with and without a key, retries, errors
//! and faults.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{Run, TestRepo};
use crate::vendors::*;

/// A project key of the shape OpenAI issues (not a real one).
const KEY: &str = "sk-proj-T3stK3y0123456789abcdefghijklmnopqrstuvwxyzABCD";
const BRANCH: &str = "orchestrate/7-add-a-verbose-flag";
const ENDPOINT: &str = "/v1/chat/completions";

/// A repository whose lld drafter is `openai:gpt` (the alias of gpt-5) and reviewer
/// `openai:gpt-5-mini`, both at `url` (the server root; the base URL is `url/v1`).
/// `extra` goes into `[providers.openai]`.
fn setup(url: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.openai]\nbase_url = \"{url}/v1\"\nretry_delay = \"10ms\"\n{extra}\n[stages.lld]\ndrafter = \"openai:gpt\"\nreviewer = \"openai:gpt-5-mini\"\n"
    ));
    let issue = repo.default_issue();
    (repo, issue)
}

/// A repository whose lld drafter and reviewer are `local:qwen2.5-coder`, served by a declared
/// OpenAI-compatible provider at `url/v1`. `provider` goes into `[providers.local]`, `extra`
/// after the stage table (it must start with a table header).
fn setup_local(url: &str, provider: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.local]\nkind = \"openai\"\nbase_url = \"{url}/v1\"\nretry_delay = \"10ms\"\n{provider}\n[stages.lld]\ndrafter = \"local:qwen2.5-coder\"\nreviewer = \"local:qwen2.5-coder\"\n\n{extra}"
    ));
    let issue = repo.default_issue();
    (repo, issue)
}

fn lld_args(issue: &str) -> [&str; 5] {
    ["7", "--issue-file", issue, "--until", "lld"]
}

/// The lld stage, with `OPENAI_API_KEY` set.
fn lld(repo: &TestRepo, issue: &str) -> Run {
    repo.run_env(&[("OPENAI_API_KEY", KEY)], &lld_args(issue))
}

fn mount_always(vendor: &Vendor, response: ResponseTemplate) {
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(response),
    );
}

fn stream(events: &[(&str, Value)]) -> ResponseTemplate {
    sse_response(openai_body(events))
}

/// Every file of the tool's local state (`.git/orchestrate/`: transcripts, recovered work).
fn state_files(repo: &TestRepo) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((path.display().to_string(), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo.root.join(".git/orchestrate"), &mut out);
    out.sort();
    out
}

/// The prompts of this run's transcripts, in call order.
fn transcript_prompts(repo: &TestRepo) -> Vec<String> {
    state_files(repo)
        .into_iter()
        .filter(|(path, _)| path.contains("/transcripts/"))
        .filter_map(|(_, text)| {
            let start = text.find("\n\n# Prompt\n\n")? + "\n\n# Prompt\n\n".len();
            let end = text.rfind("\n\n# Reply\n\n")?;
            Some(text[start..end].to_string())
        })
        .collect()
}

/// `secret` appears nowhere the user or a later reader could see it.
#[track_caller]
fn assert_never_shown(repo: &TestRepo, run: &Run, secret: &str) {
    assert!(
        !run.stderr.contains(secret),
        "stderr shows the key:\n{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains(secret),
        "stdout shows the key:\n{}",
        run.stdout
    );
    for (path, text) in state_files(repo) {
        assert!(!text.contains(secret), "{path} holds the key");
    }
    assert!(
        state_files(repo)
            .iter()
            .any(|(path, _)| path.contains("/transcripts/")),
        "no transcript was kept, so none could be checked"
    );
    let history = repo.git(&["log", "--all", "-p"]);
    assert!(!history.contains(secret), "the history holds the key");
}

#[track_caller]
fn assert_not_retried(run: &Run, vendor: &Vendor) {
    assert!(
        !run.stderr.contains("gave up after") && !run.stderr.contains("retrying"),
        "retried:\n{}",
        run.stderr
    );
    assert_eq!(vendor.requests().len(), 1, "must not be retried");
}

/// Answer a `RawServer` request with `body` sent as a chunked response in pieces of `piece`
/// bytes, each flushed on its own, so that lines, events and characters arrive split.
pub fn send_in_pieces(
    stream: &mut std::net::TcpStream,
    content_type: &str,
    body: &str,
    piece: usize,
) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    for bytes in body.as_bytes().chunks(piece) {
        let _ = stream.write_all(format!("{:x}\r\n", bytes.len()).as_bytes());
        let _ = stream.write_all(bytes);
        let _ = stream.write_all(b"\r\n");
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let _ = stream.flush();
}

// ---------------------------------------------------------------------------------------
// The happy path

#[test]
fn a_design_drafted_by_gpt_and_reviewed_by_gpt_mini_records_models_tokens_and_cost() {
    let vendor = Vendor::start();
    // The drafter read 32000 of its 40000 prompt tokens from OpenAI's prompt cache, the
    // reviewer 8000 of its 20000.
    vendor.draft_and_review(
        ENDPOINT,
        stream(&openai_events(&design(), 40_000, 1_000, 32_000, "stop")),
        stream(&openai_events(&approval(), 20_000, 500, 8_000, "stop")),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);

    // The alias resolved: the id sent is the vendor's, and so is the id recorded.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("openai:gpt-5")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
        Some("openai:gpt-5-mini")
    );
    // `prompt_tokens` counts the cached tokens too.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=60000 out=1500")
    );
    // USD per million tokens, from prices.toml:
    //   gpt-5 (input 1.25, cached 0.125, output 10):
    //     8000 fresh × 1.25 + 32000 cached × 0.125 + 1000 out × 10 = 10000 + 4000 + 10000 → $0.0240
    //   gpt-5-mini (input 0.25, cached 0.025, output 2):
    //     12000 fresh × 0.25 + 8000 cached × 0.025 + 500 out × 2 = 3000 + 200 + 1000 → $0.0042
    // $0.0282 in all. Cached input at the full input rate would be $0.0620.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0282")
    );
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );

    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            &format!("Bearer {KEY}")
        );
    }
    let bodies = vendor.bodies();
    assert_eq!(bodies[0]["model"], "gpt-5");
    assert_eq!(bodies[1]["model"], "gpt-5-mini");
    let prompts = transcript_prompts(&repo);
    assert_eq!(prompts.len(), 2, "one transcript per call");
    for (body, prompt) in bodies.iter().zip(&prompts) {
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"].as_array().unwrap().len(), 1);
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(body["messages"][0]["content"].as_str().unwrap(), prompt);
        assert!(
            body.get("max_completion_tokens").is_none(),
            "no output limit is configured for openai"
        );
    }
    assert!(prompts[0].contains("Add a --verbose flag"));
    assert!(prompts[1].contains(REVIEW_MARKER));
}

#[test]
fn the_output_token_limit_is_sent_as_max_completion_tokens() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, openai_reply(&design()), openai_reply(&approval()));
    let (repo, issue) = setup(&vendor.url(), "max_output_tokens = 500");
    lld(&repo, &issue).expect_code(0);
    let bodies = vendor.bodies();
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_eq!(body["max_completion_tokens"], 500);
        assert!(
            body.get("max_tokens").is_none(),
            "max_tokens is deprecated for chat completions"
        );
    }
}

#[test]
fn a_stream_with_its_finish_reason_but_no_done_marker_still_works() {
    let vendor = Vendor::start();
    vendor.draft_and_review(
        ENDPOINT,
        sse_response(sse(&openai_events(&design(), 900, 200, 0, "stop"))),
        sse_response(sse(&openai_events(&approval(), 900, 200, 0, "stop"))),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);
    assert_eq!(vendor.requests().len(), 2);
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=1800 out=400")
    );
}

#[test]
fn events_split_across_network_reads_are_put_back_together() {
    let text = format!("{}\nNaïve café — ✓ déjà vu\n", design());
    let draft = openai_body(&openai_events(&text, 900, 200, 0, "stop"));
    let review = openai_body(&openai_events(&approval(), 900, 200, 0, "stop"));
    let server = RawServer::start(move |request, stream| {
        let body = if request.contains(REVIEW_MARKER) {
            &review
        } else {
            &draft
        };
        send_in_pieces(stream, "text/event-stream", body, 7);
    });
    let (repo, issue) = setup(&server.url(), "");
    lld(&repo, &issue).expect_code(0);
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("Naïve café — ✓ déjà vu")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=1800 out=400")
    );
}

#[test]
fn a_missing_openai_key_is_reported_before_any_request() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, openai_reply(&design()), openai_reply(&approval()));
    let (repo, issue) = setup(&vendor.url(), "");
    repo.run(&lld_args(&issue))
        .expect_code(1)
        .stderr_has("no API key for openai: OPENAI_API_KEY is not set");
    assert!(vendor.requests().is_empty());
    assert_eq!(repo.branches(), ["main"]);
}

// ---------------------------------------------------------------------------------------
// Declared OpenAI-compatible providers

#[test]
fn a_declared_server_without_api_key_env_gets_no_key_and_has_no_price() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, openai_reply(&design()), openai_reply(&approval()));
    let (repo, issue) = setup_local(&vendor.url(), "", "");
    // OPENAI_API_KEY is set, and must not be sent to another server.
    let run = lld(&repo, &issue);
    run.expect_code(0);
    assert_never_shown(&repo, &run, KEY);

    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert!(
            request.headers.get("authorization").is_none(),
            "a declared server without api_key_env gets no key"
        );
    }
    let bodies = vendor.bodies();
    assert_eq!(bodies[0]["model"], "qwen2.5-coder", "its names are its own");
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("local:qwen2.5-coder")
    );
    // Two calls of 900 in / 200 out; no price is known, so no cost is claimed (not even $0).
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=1800 out=400")
    );
    assert_eq!(repo.trailer(BRANCH, "Orchestrate-Cost"), None);
}

#[test]
fn a_declared_server_is_priced_by_prices_in_the_configuration() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, openai_reply(&design()), openai_reply(&approval()));
    let (repo, issue) = setup_local(
        &vendor.url(),
        "",
        "[prices.\"qwen2.5-coder\"]\ninput = 0.5\noutput = 1.0\n",
    );
    repo.run(&lld_args(&issue)).expect_code(0);
    // Two calls of 900 in / 200 out: 1800 × $0.5 + 400 × $1.0 per million → $0.0013.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=1800 out=400")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0013")
    );
}

#[test]
fn a_declared_server_without_a_price_is_refused_under_a_budget() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, openai_reply(&design()), openai_reply(&approval()));
    let (repo, issue) = setup_local(&vendor.url(), "", "[budget]\nmax_usd_per_issue = 1.0\n");
    repo.run(&lld_args(&issue))
        .expect_code(1)
        .stderr_has("local:qwen2.5-coder has no known price, and a budget is set")
        .stderr_has("[prices.\"qwen2.5-coder\"]");
    assert!(vendor.requests().is_empty(), "an unknown price is not $0");
}

#[test]
fn a_declared_server_naming_an_unset_key_variable_fails_before_any_request() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, openai_reply(&design()), openai_reply(&approval()));
    let (repo, issue) = setup_local(&vendor.url(), "api_key_env = \"ROUTER_KEY\"", "");
    // OPENAI_API_KEY does not stand in for the variable the provider names.
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("no API key for local: ROUTER_KEY is not set");
    assert!(vendor.requests().is_empty());
    assert_eq!(repo.branches(), ["main"]);

    // Set, it is sent as the bearer token.
    let run = repo.run_env(
        &[("ROUTER_KEY", "sk-or-v1-router-key-4242")],
        &lld_args(&issue),
    );
    run.expect_code(0);
    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            "Bearer sk-or-v1-router-key-4242"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Rate limits, quota and outages

#[test]
fn a_rate_limit_is_retried_honouring_retry_after_ms() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(
                openai_error(
                    429,
                    "tokens",
                    "rate_limit_exceeded",
                    "Rate limit reached for gpt-5 in organization org-abc123 on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits to learn more.",
                )
                .insert_header("retry-after-ms", "0")
                .insert_header("x-ratelimit-remaining-tokens", "1000"),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    vendor.draft_and_review(ENDPOINT, openai_reply(&design()), openai_reply(&approval()));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(0)
        .stderr_has("attempt 1 of 4")
        .stderr_has("HTTP 429");
    assert_eq!(vendor.requests().len(), 3, "one retry, then the reviewer");
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_some());
}

#[test]
fn an_account_out_of_credit_is_not_retried_and_says_billing() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        openai_error(
            429,
            "insufficient_quota",
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("openai answered HTTP 429 for openai:gpt-5: insufficient_quota: You exceeded your current quota")
        .stderr_has("the account behind OPENAI_API_KEY is out of credit: check its billing");
    assert_not_retried(&run, &vendor);
    assert!(
        !run.stderr.contains("rate limit"),
        "not a rate limit:\n{}",
        run.stderr
    );
}

#[test]
fn server_errors_after_every_retry_say_it_is_not_your_credentials() {
    for (status, message) in [
        (
            500,
            "The server had an error while processing your request. Sorry about that!",
        ),
        (
            503,
            "The engine is currently overloaded, please try again later.",
        ),
    ] {
        let vendor = Vendor::start();
        mount_always(
            &vendor,
            json_error(
                status,
                json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}}),
            ),
        );
        let (repo, issue) = setup(&vendor.url(), "");
        lld(&repo, &issue)
            .expect_code(1)
            .stderr_has(&format!(
                "openai answered HTTP {status} for openai:gpt-5: server_error: {message}"
            ))
            .stderr_has("gave up after 4 attempts")
            .stderr_has("not your credentials");
        assert_eq!(vendor.requests().len(), 4, "max_retries = 3, for {status}");
        assert_eq!(
            repo.subjects(BRANCH).len(),
            2,
            "only the brief was committed"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Client errors

#[test]
fn a_refused_key_is_not_retried_names_the_variable_and_is_never_shown() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        openai_error(
            401,
            "invalid_request_error",
            "invalid_api_key",
            "Incorrect API key provided: sk-proj-********************************************ABCD. You can find your API key at https://platform.openai.com/account/api-keys.",
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("openai answered HTTP 401 for openai:gpt-5: invalid_api_key: Incorrect API key provided: sk-proj-****")
        .stderr_has("the key was refused: check OPENAI_API_KEY");
    assert_not_retried(&run, &vendor);
    assert_never_shown(&repo, &run, KEY);
}

#[test]
fn a_compatible_server_echoing_the_whole_key_has_it_scrubbed() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        openai_error(
            401,
            "invalid_request_error",
            "invalid_api_key",
            &format!("Incorrect API key provided: {KEY}."),
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("Incorrect API key provided: [REDACTED]")
        .stderr_has("check OPENAI_API_KEY");
    assert_never_shown(&repo, &run, KEY);
}

#[test]
fn an_unknown_model_is_not_retried_and_points_at_the_model_name() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        openai_error(
            404,
            "invalid_request_error",
            "model_not_found",
            "The model `gpt-5` does not exist or you do not have access to it.",
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("openai answered HTTP 404 for openai:gpt-5: model_not_found: The model `gpt-5` does not exist")
        .stderr_has("check the model name `openai:gpt-5`");
    assert_not_retried(&run, &vendor);
}

// ---------------------------------------------------------------------------------------
// How a reply ends

#[test]
fn a_reply_cut_off_at_the_length_limit_is_never_reviewed_or_committed() {
    let vendor = Vendor::start();
    vendor.draft_and_review(
        ENDPOINT,
        stream(&openai_events(
            "# Design\n\n## Context\nHalf a sen",
            900,
            500,
            0,
            "length",
        )),
        openai_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "max_output_tokens = 500");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has(
            "the reply from openai:gpt-5 was cut off at the output-token limit (500 tokens); it was not used",
        )
        .stderr_has("max_output_tokens");
    assert_not_retried(&run, &vendor);
    assert_eq!(vendor.bodies()[0]["max_completion_tokens"], 500);
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_content_filter_stop_is_a_refusal() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        stream(&openai_events("I can", 900, 2, 0, "content_filter")),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("openai:gpt-5 declined to answer");
    assert_not_retried(&run, &vendor);
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_stream_cut_before_its_finish_reason_is_retried_and_never_taken_as_whole() {
    let vendor = Vendor::start();
    let events = openai_events(&design(), 900, 200, 0, "stop");
    // Everything up to the chunk with the finish_reason: the text is all there, the end is not.
    let cut = sse(&events[..events.len() - 2]);
    mount_always(&vendor, sse_response(cut));
    let (repo, issue) = setup(&vendor.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(
            "the reply from openai:gpt-5 broke off: the stream ended before a finish_reason",
        )
        .stderr_has("gave up after 2 attempts");
    assert_eq!(
        vendor.requests().len(),
        2,
        "a dropped stream is transient: retried once"
    );
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn malformed_json_is_not_retried() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        sse_response(
            "data: {\"id\": \"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\", \"object\": \"chat.completion.chunk\", \"choices\": [\n\n"
                .into(),
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("openai:gpt-5 sent something that is not its documented format");
    assert_not_retried(&run, &vendor);
}

#[test]
fn an_empty_completion_is_not_retried() {
    let vendor = Vendor::start();
    mount_always(&vendor, stream(&openai_events("", 900, 0, 0, "stop")));
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("openai:gpt-5 replied with nothing");
    assert_not_retried(&run, &vendor);
}

// ---------------------------------------------------------------------------------------
// Connection faults

#[test]
fn a_refused_connection_is_retried_then_named() {
    let port = closed_port();
    let (repo, issue) = setup(&format!("http://127.0.0.1:{port}"), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(&format!(
            "could not reach openai at http://127.0.0.1:{port}/v1/chat/completions"
        ))
        .stderr_has("gave up after 2 attempts")
        .stderr_has("[providers.openai] base_url");
}

#[test]
fn a_connection_reset_mid_stream_is_retried_and_then_reported() {
    let connections = Arc::new(AtomicU32::new(0));
    let seen = connections.clone();
    let server = RawServer::start(move |_request, stream| {
        seen.fetch_add(1, Ordering::SeqCst);
        let events = openai_events("The design of the widget", 900, 200, 0, "stop");
        start_stream(stream, &sse(&events[..3]));
        // Close without finishing the chunked body: the peer sees the connection drop.
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    let (repo, issue) = setup(&server.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("the reply from openai:gpt-5 broke off")
        .stderr_has("gave up after 2 attempts");
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_silent_stream_hits_the_idle_timeout() {
    let server = RawServer::start(|_request, stream| {
        let events = openai_events("The", 900, 200, 0, "stop");
        start_stream(stream, &sse(&events[..2]));
        std::thread::sleep(Duration::from_secs(5));
    });
    let (repo, issue) = setup(&server.url(), "idle_timeout = \"1s\"\nmax_retries = 0");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("openai:gpt-5 sent nothing for 1s; the stream was given up");
}
