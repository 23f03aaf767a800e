//! The Gemini provider against a loopback server answering as the Gemini API does
//! (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse`, `x-goog-api-key`, one
//! `GenerateContentResponse` per `data:` event): streaming, usage and cost with cached
//! content, keys, retries, errors (before and inside the stream), finish reasons and faults.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{Run, TestRepo};
use crate::vendors::*;

const KEY: &str = "AIzaSyD-test-key-0123456789abcdefghijkl";
const GOOGLE_KEY: &str = "AIzaSyG-google-var-key-0123456789abcdef";
const BRANCH: &str = "orchestrate/7-add-a-verbose-flag";
const DRAFTER: &str = "gemini-3-pro-preview";
const REVIEWER: &str = "gemini-2.5-flash";
const DRAFTER_LABEL: &str = "gemini:gemini-3-pro-preview";

/// The path a model's streamed calls go to (wiremock's `path` leaves out `?alt=sse`).
fn endpoint(model: &str) -> String {
    format!("/v1beta/models/{model}:streamGenerateContent")
}

/// A repository whose lld drafter is `drafter` and reviewer `reviewer`, Gemini at `url`.
fn setup_models(url: &str, extra: &str, drafter: &str, reviewer: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.gemini]\nbase_url = \"{url}\"\nretry_delay = \"10ms\"\n{extra}\n[stages.lld]\ndrafter = \"{drafter}\"\nreviewer = \"{reviewer}\"\n"
    ));
    let issue = repo.default_issue();
    (repo, issue)
}

/// Gemini 3 Pro drafts, Gemini 2.5 Flash reviews, both named by their aliases.
fn setup(url: &str, extra: &str) -> (TestRepo, String) {
    setup_models(url, extra, "gemini:3-pro-preview", "gemini:flash")
}

fn lld_env(repo: &TestRepo, issue: &str, env: &[(&str, &str)]) -> Run {
    repo.run_env(env, &["7", "--issue-file", issue, "--until", "lld"])
}

fn lld(repo: &TestRepo, issue: &str) -> Run {
    lld_env(repo, issue, &[("GEMINI_API_KEY", KEY)])
}

/// Usage as `usageMetadata` reports it on the last chunk of a stream.
#[derive(Clone, Copy)]
struct Tokens {
    prompt: u64,
    cached: u64,
    candidates: u64,
    thoughts: u64,
}

const TOKENS: Tokens = Tokens {
    prompt: 1000,
    cached: 0,
    candidates: 250,
    thoughts: 0,
};

fn usage_metadata(t: Tokens) -> Value {
    let mut usage = json!({
        "promptTokenCount": t.prompt,
        "candidatesTokenCount": t.candidates,
        "totalTokenCount": t.prompt + t.candidates + t.thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": t.prompt}],
    });
    if t.cached > 0 {
        usage["cachedContentTokenCount"] = json!(t.cached);
        usage["cacheTokensDetails"] = json!([{"modality": "TEXT", "tokenCount": t.cached}]);
    }
    if t.thoughts > 0 {
        usage["thoughtsTokenCount"] = json!(t.thoughts);
    }
    usage
}

/// One `GenerateContentResponse` chunk.
fn chunk(parts: Value, finish: Option<&str>, usage: Value) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(reason) = finish {
        candidate["finishReason"] = json!(reason);
    }
    json!({"candidates": [candidate], "usageMetadata": usage,
           "modelVersion": DRAFTER, "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"})
}

/// A streamed reply: an optional thought summary first, then the text in a few pieces, the
/// last carrying `finish` and the full usage (earlier chunks carry the prompt count only, as
/// Gemini's running totals do).
fn stream(
    thought: Option<&str>,
    text: &str,
    tokens: Tokens,
    finish: &str,
) -> Vec<(&'static str, Value)> {
    let running = json!({"promptTokenCount": tokens.prompt, "totalTokenCount": tokens.prompt});
    let mut events = Vec::new();
    if let Some(thought) = thought {
        events.push((
            "",
            chunk(
                json!([{"text": thought, "thought": true}]),
                None,
                running.clone(),
            ),
        ));
    }
    let pieces: Vec<char> = text.chars().collect();
    let size = pieces.len().div_ceil(3).max(1);
    let pieces: Vec<String> = if pieces.is_empty() {
        vec![String::new()]
    } else {
        pieces.chunks(size).map(|c| c.iter().collect()).collect()
    };
    let last = pieces.len() - 1;
    for (i, piece) in pieces.iter().enumerate() {
        let (finish, usage) = if i == last {
            (Some(finish), usage_metadata(tokens))
        } else {
            (None, running.clone())
        };
        events.push(("", chunk(json!([{"text": piece}]), finish, usage)));
    }
    events
}

fn reply(text: &str, tokens: Tokens) -> ResponseTemplate {
    sse_response(sse(&stream(None, text, tokens, "STOP")))
}

/// Mount `draft` on the drafter's path and `review` on the reviewer's.
fn mount_models(vendor: &Vendor, draft: ResponseTemplate, review: ResponseTemplate) {
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(endpoint(DRAFTER)))
            .respond_with(draft),
    );
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(endpoint(REVIEWER)))
            .respond_with(review),
    );
}

/// The drafter's path answers every call with `response`.
fn mount_drafter(vendor: &Vendor, response: ResponseTemplate) {
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(endpoint(DRAFTER)))
            .respond_with(response),
    );
}

/// A Gemini error body, with the `details` the real API adds.
fn error_body(status: u16, code_name: &str, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": code_name,
                     "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                  "reason": "REASON", "domain": "googleapis.com",
                                  "metadata": {"service": "generativelanguage.googleapis.com"}}]}})
}

fn error_response(status: u16, code_name: &str, message: &str) -> ResponseTemplate {
    json_error(status, error_body(status, code_name, message))
}

#[test]
fn a_design_drafted_and_reviewed_by_gemini_records_models_tokens_and_cost() {
    let vendor = Vendor::start();
    let draft_tokens = Tokens {
        prompt: 10_000,
        cached: 4_000,
        candidates: 500,
        thoughts: 300,
    };
    let review_tokens = Tokens {
        prompt: 2_000,
        cached: 0,
        candidates: 400,
        thoughts: 0,
    };
    mount_models(
        &vendor,
        reply(&design(), draft_tokens),
        reply(&approval(), review_tokens),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);

    // Aliases resolved: the ids sent are the vendor's, and so are the ids recorded.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("gemini:gemini-3-pro-preview")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
        Some("gemini:gemini-2.5-flash")
    );
    // in = 10000 + 2000; out = (500 candidates + 300 thoughts) + 400.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=12000 out=1200")
    );
    // gemini-3-pro-preview ($2 in, $0.2 cached, $12 out per million):
    //   6000 fresh × 2 = 0.0120, 4000 cached × 0.2 = 0.0008, 800 out × 12 = 0.0096 → 0.0224
    // gemini-2.5-flash ($0.3 in, $2.5 out): 2000 × 0.3 = 0.0006, 400 × 2.5 = 0.0010 → 0.0016
    // Total 0.0240 (0.0312 if the cached tokens were priced as fresh input).
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0240")
    );
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );

    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.headers.get("x-goog-api-key").unwrap(), KEY);
        assert_eq!(request.url.query(), Some("alt=sse"), "{}", request.url);
        assert!(
            !request.url.as_str().contains(KEY),
            "the key goes in a header, never the URL"
        );
    }
    assert_eq!(requests[0].url.path(), endpoint(DRAFTER));
    assert_eq!(requests[1].url.path(), endpoint(REVIEWER));
    let bodies = vendor.bodies();
    for body in &bodies {
        assert_eq!(body["contents"][0]["role"], "user");
        let prompt = body["contents"][0]["parts"][0]["text"].as_str().unwrap();
        assert!(prompt.contains("Add a --verbose flag"), "{prompt}");
    }
    let review_prompt = bodies[1]["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(review_prompt.contains(REVIEW_MARKER));
    assert!(
        review_prompt.contains("from the vendor"),
        "the reviewer sees the draft"
    );
}

#[test]
fn the_key_is_read_from_google_api_key_when_gemini_api_key_is_unset() {
    let vendor = Vendor::start();
    mount_models(
        &vendor,
        reply(&design(), TOKENS),
        reply(&approval(), TOKENS),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld_env(&repo, &issue, &[("GOOGLE_API_KEY", GOOGLE_KEY)]).expect_code(0);
    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.headers.get("x-goog-api-key").unwrap(), GOOGLE_KEY);
    }
}

#[test]
fn a_missing_key_names_both_variables_before_any_request() {
    let vendor = Vendor::start();
    mount_models(
        &vendor,
        reply(&design(), TOKENS),
        reply(&approval(), TOKENS),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld_env(&repo, &issue, &[])
        .expect_code(1)
        .stderr_has("no API key for gemini: GEMINI_API_KEY or GOOGLE_API_KEY is not set")
        .stderr_has("export GEMINI_API_KEY=...");
    assert!(vendor.requests().is_empty());
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn resource_exhausted_is_retried_honouring_retry_after() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(endpoint(DRAFTER)))
            .respond_with(
                error_response(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "Resource has been exhausted (e.g. check quota).",
                )
                .insert_header("retry-after", "0"),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    mount_models(
        &vendor,
        reply(&design(), TOKENS),
        reply(&approval(), TOKENS),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(0)
        .stderr_has("attempt 1 of 4")
        .stderr_has("HTTP 429");
    assert_eq!(vendor.requests().len(), 3, "one retry, then the reviewer");
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );
}

#[test]
fn unavailable_after_every_retry_says_it_is_capacity_not_credentials() {
    let vendor = Vendor::start();
    mount_drafter(
        &vendor,
        error_response(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(
            "gemini answered HTTP 503 for gemini:gemini-3-pro-preview: UNAVAILABLE: The model is overloaded. Please try again later.",
        )
        .stderr_has("gave up after 4 attempts")
        .stderr_has("capacity or an outage, not your credentials");
    assert_eq!(vendor.requests().len(), 4, "max_retries = 3");
    assert_eq!(
        repo.subjects(BRANCH).len(),
        2,
        "only the brief was committed"
    );
}

#[test]
fn server_errors_and_rate_limits_are_retried_up_to_max_retries() {
    for (status, code_name, message, hint) in [
        (
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            "capacity or an outage, not your credentials",
        ),
        (
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            "rate limit or your quota, not your credentials",
        ),
    ] {
        let vendor = Vendor::start();
        mount_drafter(&vendor, error_response(status, code_name, message));
        let (repo, issue) = setup(&vendor.url(), "max_retries = 2");
        lld(&repo, &issue)
            .expect_code(1)
            .stderr_has(&format!(
                "gemini answered HTTP {status} for {DRAFTER_LABEL}: {code_name}: {message}"
            ))
            .stderr_has("gave up after 3 attempts")
            .stderr_has(hint);
        assert_eq!(vendor.requests().len(), 3, "HTTP {status}: max_retries = 2");
    }
}

#[test]
fn client_errors_are_not_retried_and_say_what_to_fix() {
    for (status, code_name, message, hint) in [
        (
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            "the key was refused: check GEMINI_API_KEY (or GOOGLE_API_KEY)",
        ),
        (
            400,
            "INVALID_ARGUMENT",
            "* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.",
            "max_output_tokens",
        ),
        (
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
            "the key is valid but may not use gemini:gemini-3-pro-preview: check the key's permissions and GEMINI_API_KEY",
        ),
    ] {
        let vendor = Vendor::start();
        mount_drafter(&vendor, error_response(status, code_name, message));
        let (repo, issue) = setup(&vendor.url(), "");
        let run = lld(&repo, &issue);
        run.expect_code(1)
            .stderr_has(&format!(
                "gemini answered HTTP {status} for {DRAFTER_LABEL}: {code_name}: {message}"
            ))
            .stderr_has(hint);
        assert!(
            !run.stderr.contains("gave up after") && !run.stderr.contains("retrying"),
            "{status} was retried:\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains(KEY), "the key leaked:\n{}", run.stderr);
        assert_eq!(
            vendor.requests().len(),
            1,
            "HTTP {status} must not be retried"
        );
        assert_eq!(repo.subjects(BRANCH).len(), 2, "only the brief");
    }
}

#[test]
fn an_unknown_model_is_not_retried_and_names_the_model() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(endpoint("gemini-9")))
            .respond_with(error_response(
                404,
                "NOT_FOUND",
                "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
            )),
    );
    let (repo, issue) = setup_models(&vendor.url(), "", "gemini:gemini-9", "gemini:flash");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini answered HTTP 404 for gemini:gemini-9: NOT_FOUND: models/gemini-9 is not found for API version v1beta")
        .stderr_has("check the model name `gemini:gemini-9`");
    assert_eq!(vendor.requests().len(), 1, "404 must not be retried");
}

#[test]
fn an_error_body_in_an_array_is_read_too() {
    // Gemini wraps errors in a JSON array on its array-streaming form; the text is the same.
    let vendor = Vendor::start();
    mount_drafter(
        &vendor,
        json_error(
            400,
            json!([error_body(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key."
            )]),
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini answered HTTP 400 for gemini:gemini-3-pro-preview: INVALID_ARGUMENT: API key not valid.")
        .stderr_has("check GEMINI_API_KEY");
    assert_eq!(vendor.requests().len(), 1);
}

#[test]
fn a_reply_cut_off_at_max_tokens_is_not_retried_reviewed_or_committed() {
    let vendor = Vendor::start();
    mount_models(
        &vendor,
        sse_response(sse(&stream(
            None,
            "# Design\n\n## Context\nHalf a sen",
            TOKENS,
            "MAX_TOKENS",
        ))),
        reply(&approval(), TOKENS),
    );
    let (repo, issue) = setup(&vendor.url(), "max_output_tokens = 1000");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(
            "the reply from gemini:gemini-3-pro-preview was cut off at the output-token limit (1000 tokens); it was not used",
        )
        .stderr_has("[providers.gemini] max_output_tokens");
    assert_eq!(vendor.requests().len(), 1, "not retried, never reviewed");
    assert_eq!(
        vendor.bodies()[0]["generationConfig"]["maxOutputTokens"],
        1000
    );
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_truncated_review_keeps_the_paid_draft_and_counts_its_tokens() {
    let vendor = Vendor::start();
    mount_models(
        &vendor,
        reply(&design(), TOKENS),
        sse_response(sse(&stream(
            None,
            "{\"verdict\": \"APPR",
            TOKENS,
            "MAX_TOKENS",
        ))),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("the reply from gemini:gemini-2.5-flash was cut off");
    assert_eq!(vendor.requests().len(), 2, "the review was not retried");
    // The draft was paid for: it is committed, as blocked, with both calls' tokens.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=2000 out=500")
    );
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );
}

#[test]
fn a_safety_stop_is_a_refusal_and_not_retried() {
    let vendor = Vendor::start();
    // As Gemini ends a candidate it stopped: no more text, finishReason SAFETY, ratings.
    let mut events = stream(None, "# Design\n\nThe widget", TOKENS, "STOP");
    let last = events.len() - 1;
    events[last].1["candidates"][0]["finishReason"] = json!("SAFETY");
    events[last].1["candidates"][0]["safetyRatings"] = json!([
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}
    ]);
    mount_drafter(&vendor, sse_response(sse(&events)));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini:gemini-3-pro-preview declined to answer")
        .stderr_has("SAFETY");
    assert_eq!(vendor.requests().len(), 1, "a refusal is not retried");
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_blocked_prompt_is_a_refusal() {
    let vendor = Vendor::start();
    // A blocked prompt gets no candidates at all, only promptFeedback.
    let blocked = json!({
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 1000, "totalTokenCount": 1000},
        "modelVersion": DRAFTER, "responseId": "mAitaLmkHPPlz7IPvtfUqQ4",
    });
    mount_drafter(&vendor, sse_response(sse(&[("", blocked)])));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini:gemini-3-pro-preview declined to answer")
        .stderr_has("PROHIBITED_CONTENT");
    assert_eq!(vendor.requests().len(), 1, "a refusal is not retried");
}

#[test]
fn a_stream_without_a_finish_reason_broke_off_and_is_retried() {
    let vendor = Vendor::start();
    let events = stream(None, &design(), TOKENS, "STOP");
    let cut = sse(&events[..events.len() - 1]);
    mount_drafter(&vendor, sse_response(cut));
    let (repo, issue) = setup(&vendor.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("the reply from gemini:gemini-3-pro-preview broke off")
        .stderr_has("gave up after 2 attempts");
    assert_eq!(
        vendor.requests().len(),
        2,
        "a dropped stream is transient: retried once"
    );
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn malformed_json_is_not_its_documented_format_and_not_retried() {
    let vendor = Vendor::start();
    mount_drafter(
        &vendor,
        sse_response(
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\n\n".into(),
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini:gemini-3-pro-preview sent something that is not its documented format");
    assert_eq!(vendor.requests().len(), 1);
}

#[test]
fn an_empty_completion_replied_with_nothing() {
    let vendor = Vendor::start();
    // Gemini's empty answer: a candidate with no parts, finished normally.
    let empty = json!({
        "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 1000, "totalTokenCount": 1000},
        "modelVersion": DRAFTER, "responseId": "mAitaLmkHPPlz7IPvtfUqQ4",
    });
    mount_drafter(&vendor, sse_response(sse(&[("", empty)])));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini:gemini-3-pro-preview replied with nothing");
    assert_eq!(vendor.requests().len(), 1);
}

#[test]
fn an_error_inside_the_stream_is_reported_with_its_status() {
    let vendor = Vendor::start();
    let events = stream(None, &design(), TOKENS, "STOP");
    let mut body = sse(&events[..1]);
    body.push_str(&format!(
        "data: {}\n\n",
        json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})
    ));
    mount_drafter(&vendor, sse_response(body));
    let (repo, issue) = setup(&vendor.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(
            "gemini answered HTTP 503 for gemini:gemini-3-pro-preview: UNAVAILABLE: The model is overloaded. Please try again later.",
        )
        .stderr_has("gave up after 2 attempts")
        .stderr_has("not your credentials");
    assert_eq!(vendor.requests().len(), 2, "503 is transient: retried once");
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());

    // A deterministic one inside the stream is not retried.
    let vendor = Vendor::start();
    let mut body = sse(&events[..1]);
    body.push_str(&format!(
        "data: {}\n\n",
        json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}})
    ));
    mount_drafter(&vendor, sse_response(body));
    let (repo, issue) = setup(&vendor.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(
            "gemini answered HTTP 400 for gemini:gemini-3-pro-preview: INVALID_ARGUMENT: Request contains an invalid argument.",
        );
    assert_eq!(vendor.requests().len(), 1);
}

#[test]
fn a_connection_reset_mid_stream_is_retried_and_then_reported() {
    let connections = Arc::new(AtomicU32::new(0));
    let seen = connections.clone();
    let server = RawServer::start(move |_request, stream_| {
        seen.fetch_add(1, Ordering::SeqCst);
        let events = stream(None, &design(), TOKENS, "STOP");
        start_stream(stream_, &sse(&events[..2]));
        // Close without finishing the chunked body: the peer sees the connection drop.
        let _ = stream_.shutdown(std::net::Shutdown::Both);
    });
    let (repo, issue) = setup(&server.url(), "max_retries = 1");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("the reply from gemini:gemini-3-pro-preview broke off")
        .stderr_has("gave up after 2 attempts");
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_silent_stream_hits_the_idle_timeout() {
    let server = RawServer::start(|_request, stream_| {
        let events = stream(None, &design(), TOKENS, "STOP");
        start_stream(stream_, &sse(&events[..1]));
        std::thread::sleep(Duration::from_secs(5));
    });
    let (repo, issue) = setup(&server.url(), "idle_timeout = \"1s\"\nmax_retries = 0");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini:gemini-3-pro-preview sent nothing for 1s; the stream was given up");
}

#[test]
fn a_server_that_never_answers_hits_the_idle_timeout() {
    // No status line, no headers: nothing at all comes back for longer than idle_timeout,
    // which is "no bytes from the server for this long: the stream is dead" (defaults.toml).
    let server = RawServer::start(|_request, _stream| {
        std::thread::sleep(Duration::from_secs(5));
    });
    let (repo, issue) = setup(
        &server.url(),
        "idle_timeout = \"1s\"\ntimeout = \"4s\"\nmax_retries = 0",
    );
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("gemini:gemini-3-pro-preview sent nothing for 1s; the stream was given up");
}

#[test]
fn the_google_alias_names_the_same_provider() {
    let vendor = Vendor::start();
    mount_models(
        &vendor,
        reply(&design(), TOKENS),
        reply(&approval(), TOKENS),
    );
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.google]\nbase_url = \"{}\"\n\n[stages.lld]\ndrafter = \"google:pro\"\nreviewer = \"google:flash\"\n",
        vendor.url()
    ));
    let issue = repo.default_issue();
    lld(&repo, &issue).expect_code(0);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("gemini:gemini-3-pro-preview")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
        Some("gemini:gemini-2.5-flash")
    );
    // 1000 in / 250 out each: 1000 × $2 + 250 × $12 = 0.0050; 1000 × $0.3 + 250 × $2.5 = 0.000925.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0059")
    );
    assert_eq!(vendor.requests().len(), 2);
}

#[test]
fn thought_parts_are_not_part_of_the_document() {
    let vendor = Vendor::start();
    let thought = "**Weighing the options** THOUGHT-SUMMARY-MARKER: the user wants a flag";
    mount_models(
        &vendor,
        sse_response(sse(&stream(Some(thought), &design(), TOKENS, "STOP"))),
        sse_response(sse(&stream(Some(thought), &approval(), TOKENS, "STOP"))),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);
    let doc = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    assert!(doc.contains("from the vendor"), "{doc}");
    assert!(!doc.contains("THOUGHT-SUMMARY-MARKER"), "{doc}");
    let review_prompt = vendor.bodies()[1]["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !review_prompt.contains("THOUGHT-SUMMARY-MARKER"),
        "the reviewer was shown the drafter's thoughts"
    );
    let review = repo.show(BRANCH, "docs/reviews/7-lld.md").unwrap();
    assert!(!review.contains("THOUGHT-SUMMARY-MARKER"), "{review}");
}

#[test]
fn events_with_crlf_line_endings_are_read() {
    // Gemini ends its event lines with CRLF.
    let vendor = Vendor::start();
    let crlf = |text: &str, tokens| {
        sse_response(sse(&stream(None, text, tokens, "STOP")).replace('\n', "\r\n"))
    };
    mount_models(&vendor, crlf(&design(), TOKENS), crlf(&approval(), TOKENS));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=2000 out=500")
    );
}

#[test]
fn the_retry_delay_gemini_asks_for_in_its_error_body_is_honoured() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(endpoint(DRAFTER)))
            .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({"error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan and billing details.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                        {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                         "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0s"}
                ]}})))
            .up_to_n_times(1)
            .with_priority(1),
    );
    mount_models(
        &vendor,
        reply(&design(), TOKENS),
        reply(&approval(), TOKENS),
    );
    // Without the body's retryDelay the first wait would be 15 to 30 seconds.
    let (repo, issue) = setup(&vendor.url(), "");
    let config = repo
        .read(".orchestrate.toml")
        .replace("retry_delay = \"10ms\"", "retry_delay = \"30s\"");
    repo.config(&config);
    lld(&repo, &issue)
        .expect_code(0)
        .stderr_has("retrying in 0.0s");
    assert_eq!(vendor.requests().len(), 3);
}

#[test]
fn a_declared_gemini_kind_server_never_receives_the_google_key() {
    let vendor = Vendor::start();
    mount_models(
        &vendor,
        reply(&design(), TOKENS),
        reply(&approval(), TOKENS),
    );
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.proxy]\nkind = \"gemini\"\nbase_url = \"{}\"\n\n[stages.lld]\ndrafter = \"proxy:{DRAFTER}\"\nreviewer = \"proxy:{REVIEWER}\"\n",
        vendor.url()
    ));
    let issue = repo.default_issue();
    lld_env(
        &repo,
        &issue,
        &[("GEMINI_API_KEY", KEY), ("GOOGLE_API_KEY", GOOGLE_KEY)],
    )
    .expect_code(1)
    .stderr_has("no API key for proxy")
    .stderr_has("[providers.proxy] api_key_env");
    assert!(
        vendor.requests().is_empty(),
        "nothing may be sent without its own key"
    );

    // Given its own variable, it uses that, and only that.
    let config = repo.read(".orchestrate.toml").replace(
        "kind = \"gemini\"\n",
        "kind = \"gemini\"\napi_key_env = \"PROXY_KEY\"\n",
    );
    repo.config(&config);
    lld_env(
        &repo,
        &issue,
        &[
            ("GEMINI_API_KEY", KEY),
            ("PROXY_KEY", "proxy-key-0123456789"),
        ],
    )
    .expect_code(0);
    for request in vendor.requests() {
        assert_eq!(
            request.headers.get("x-goog-api-key").unwrap(),
            "proxy-key-0123456789"
        );
    }
}
