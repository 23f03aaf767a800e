//! What only OpenAI and the servers that speak its API do: a stream that ends at its
//! finish_reason without `data: [DONE]`, a server echoing the whole key, and declared
//! OpenAI-compatible providers (`kind = "openai"`) with and without a key or a price. What
//! every provider does is in `providers.rs`.

use super::{Provider, assert_design_from_the_vendor, assert_never_shown};
use crate::harness::{BRANCH, Run, TestRepo};
use crate::vendors::*;

/// A project key of the shape OpenAI issues (not a real one).
pub const KEY: &str = "sk-proj-T3stK3y0123456789abcdefghijklmnopqrstuvwxyzABCD";

fn openai() -> Provider {
    Provider::openai()
}

/// `openai:gpt` drafts (the alias of gpt-5) and `openai:gpt-5-mini` reviews, both at `url`.
fn setup(url: &str, extra: &str) -> (TestRepo, String) {
    openai().setup(url, extra)
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
    openai().lld(repo, issue)
}

#[test]
fn a_stream_with_its_finish_reason_but_no_done_marker_still_works() {
    let vendor = Vendor::start();
    openai().mount(
        &vendor,
        sse_response(sse(&openai_events(&design(), 900, 200, 0, "stop"))),
        sse_response(sse(&openai_events(&approval(), 900, 200, 0, "stop"))),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);
    assert_eq!(vendor.requests().len(), 2);
    assert_design_from_the_vendor(&repo);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=1800 out=400")
    );
}

#[test]
fn a_compatible_server_echoing_the_whole_key_has_it_scrubbed() {
    let vendor = Vendor::start();
    openai().mount_drafter(
        &vendor,
        "openai:gpt-5",
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
fn a_reply_carrying_a_nul_character_is_no_document() {
    let vendor = Vendor::start();
    let binary = format!("{}\0\u{1}binary", design());
    openai().mount(
        &vendor,
        sse_response(openai_body(&openai_events(&binary, 900, 200, 0, "stop"))),
        openai_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("openai:gpt-5 replied with a NUL character")
        .stderr_has("hint:");
    assert_eq!(vendor.requests().len(), 1, "not retried, not reviewed");
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

// ---------------------------------------------------------------------------------------
// Declared OpenAI-compatible providers

#[test]
fn a_declared_server_without_api_key_env_gets_no_key_and_has_no_price() {
    let vendor = Vendor::start();
    openai().approving(&vendor);
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
    openai().approving(&vendor);
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
    openai().approving(&vendor);
    let (repo, issue) = setup_local(&vendor.url(), "", "[budget]\nmax_usd_per_issue = 1.0\n");
    repo.run(&lld_args(&issue))
        .expect_code(1)
        .stderr_has("local:qwen2.5-coder has no known price, and a budget is set")
        .stderr_has("[prices.\"qwen2.5-coder\"]");
    assert!(vendor.requests().is_empty(), "an unknown price is not $0");
}

/// A reply streamed as llama.cpp's server streams it: no usage chunk at the end.
fn reply_without_usage(text: &str) -> wiremock::ResponseTemplate {
    let mut events = openai_events(text, 0, 0, 0, "stop");
    let usage = events.pop().unwrap();
    assert!(usage.1["usage"].is_object());
    sse_response(openai_body(&events))
}

#[test]
fn under_a_budget_a_priced_server_that_reports_no_usage_gets_no_further_call() {
    let vendor = Vendor::start();
    openai().mount(
        &vendor,
        reply_without_usage(&design()),
        reply_without_usage(&approval()),
    );
    let priced = "[prices.\"qwen2.5-coder\"]\ninput = 0.5\noutput = 1.0\n\n[budget]\nmax_usd_per_issue = 1.0\n";
    let (repo, issue) = setup_local(&vendor.url(), "", priced);
    repo.run(&lld_args(&issue))
        .expect_code(3)
        .stderr_has("local:qwen2.5-coder reported no token usage")
        .stderr_has("no further call");
    assert_eq!(vendor.requests().len(), 1, "the review was not asked for");
    // The draft that was paid for is kept, as blocked, and no cost is claimed for it.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    assert_design_from_the_vendor(&repo);
    assert_eq!(repo.trailer(BRANCH, "Orchestrate-Cost"), None);

    // A server declared free needs no token counts to keep within a budget.
    let vendor = Vendor::start();
    openai().mount(
        &vendor,
        reply_without_usage(&design()),
        reply_without_usage(&approval()),
    );
    let free = "[prices.\"qwen2.5-coder\"]\ninput = 0.0\noutput = 0.0\n\n[budget]\nmax_usd_per_issue = 1.0\n";
    let (repo, issue) = setup_local(&vendor.url(), "", free);
    repo.run(&lld_args(&issue)).expect_code(0);
    assert_eq!(vendor.requests().len(), 2);
}

#[test]
fn a_declared_server_naming_an_unset_key_variable_fails_before_any_request() {
    let vendor = Vendor::start();
    openai().approving(&vendor);
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
fn a_declared_server_gets_its_output_limit_as_max_tokens_which_llama_cpp_reads() {
    // llama.cpp's server (and vLLM's, Ollama's, LM Studio's) reads `max_tokens`; some ignore
    // `max_completion_tokens`, so a limit sent only there would not hold.
    let vendor = Vendor::start();
    openai().approving(&vendor);
    let (repo, issue) = setup_local(&vendor.url(), "max_output_tokens = 1024\n", "");
    lld(&repo, &issue).expect_code(0);
    for body in vendor.bodies() {
        assert_eq!(body["max_tokens"], 1024, "{body}");
        assert!(body.get("max_completion_tokens").is_none(), "{body}");
    }

    // The field is the configuration's to choose (an Azure deployment of OpenAI's models).
    let vendor = Vendor::start();
    openai().approving(&vendor);
    let (repo, issue) = setup_local(
        &vendor.url(),
        "max_output_tokens = 1024\nmax_tokens_field = \"max_completion_tokens\"\n",
        "",
    );
    lld(&repo, &issue).expect_code(0);
    for body in vendor.bodies() {
        assert_eq!(body["max_completion_tokens"], 1024, "{body}");
        assert!(body.get("max_tokens").is_none(), "{body}");
    }

    // A field no server reads is refused before any call.
    let (repo, issue) = setup_local(&vendor.url(), "max_tokens_field = \"max_new_tokens\"\n", "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("providers.local.max_tokens_field")
        .stderr_has("`max_new_tokens` is not a field an OpenAI-compatible server reads");
}
