//! What only Gemini does: the key read from `GOOGLE_API_KEY` too, the `google` alias, error
//! bodies in an array, errors and blocked prompts inside the stream, thought parts, CRLF event
//! lines, the retry delay its error body asks for, and a declared `kind = "gemini"` server.
//! What every provider does is in `providers.rs`.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::{Provider, assert_design_from_the_vendor, assert_no_design};
use crate::harness::{BRANCH, Run, TestRepo};
use crate::vendors::*;

pub const KEY: &str = "AIzaSyD-test-key-0123456789abcdefghijkl";
const GOOGLE_KEY: &str = "AIzaSyG-google-var-key-0123456789abcdef";
const DRAFTER: &str = "gemini-3-pro-preview";
const REVIEWER: &str = "gemini-2.5-flash";
const ENDPOINT: &str = "/v1beta/models/gemini-3-pro-preview:streamGenerateContent";
const TOKENS: Usage = Usage::new(1000, 250);

fn gemini() -> Provider {
    Provider::gemini()
}

/// Gemini 3 Pro drafts, Gemini 2.5 Flash reviews, both named by their aliases.
fn setup(url: &str, extra: &str) -> (TestRepo, String) {
    gemini().setup(url, extra)
}

fn lld_env(repo: &TestRepo, issue: &str, env: &[(&str, &str)]) -> Run {
    repo.run_env(env, &["7", "--issue-file", issue, "--until", "lld"])
}

fn lld(repo: &TestRepo, issue: &str) -> Run {
    gemini().lld(repo, issue)
}

/// The drafter's path answers every call with `response`.
fn mount_drafter(vendor: &Vendor, response: ResponseTemplate) {
    let p = gemini();
    p.mount_drafter(vendor, p.drafter_id, response);
}

#[test]
fn the_key_is_read_from_google_api_key_when_gemini_api_key_is_unset() {
    let vendor = Vendor::start();
    gemini().approving(&vendor);
    let (repo, issue) = setup(&vendor.url(), "");
    lld_env(&repo, &issue, &[("GOOGLE_API_KEY", GOOGLE_KEY)]).expect_code(0);
    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.headers.get("x-goog-api-key").unwrap(), GOOGLE_KEY);
    }
}

#[test]
fn an_error_body_in_an_array_is_read_too() {
    // Gemini wraps errors in a JSON array on its array-streaming form; the text is the same.
    let vendor = Vendor::start();
    mount_drafter(
        &vendor,
        json_error(
            400,
            json!([gemini_error_body(
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
fn an_error_inside_the_stream_is_reported_with_its_status() {
    let vendor = Vendor::start();
    let events = gemini_events(None, &design(), TOKENS, "STOP");
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
    assert_no_design(&repo);

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
fn the_google_alias_names_the_same_provider() {
    let vendor = Vendor::start();
    gemini().approving(&vendor);
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
    gemini().mount(
        &vendor,
        sse_response(sse(&gemini_events(
            Some(thought),
            &design(),
            TOKENS,
            "STOP",
        ))),
        sse_response(sse(&gemini_events(
            Some(thought),
            &approval(),
            TOKENS,
            "STOP",
        ))),
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
        sse_response(sse(&gemini_events(None, text, tokens, "STOP")).replace('\n', "\r\n"))
    };
    gemini().mount(&vendor, crlf(&design(), TOKENS), crlf(&approval(), TOKENS));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);
    assert_design_from_the_vendor(&repo);
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
            .and(path(ENDPOINT))
            .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {
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
    gemini().approving(&vendor);
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
    gemini().approving(&vendor);
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
