//! Tokens, cost and budgets: what models used and cost, recorded per stage; limits checked
//! before each call against the branch's trailers and the current run.

use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::harness::{BRANCH, Run, TestRepo, approved};
use crate::providers::{ANTHROPIC_KEY as KEY, run_with_anthropic_key as run_with_key};
use crate::vendors::*;

/// Claude Opus drafts and Claude Sonnet reviews, at `url`. One Opus call of 1200 in / 300 out
/// costs 1200 × $5/M + 300 × $25/M = $0.0135; one Sonnet call $0.0081.
fn setup(url: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.anthropic]\nbase_url = \"{url}\"\nretry_delay = \"10ms\"\n\n[stages.lld]\ndrafter = \"claude:opus-4.5\"\nreviewer = \"claude:sonnet\"\n\n[stages.spec]\ndrafter = \"claude:opus-4.5\"\nreviewer = \"claude:sonnet\"\n\n{extra}"
    ));
    let issue = repo.default_issue();
    (repo, issue)
}

fn lld(repo: &TestRepo, issue: &str, extra: &[&str]) -> Run {
    let mut args = vec!["7", "--issue-file", issue, "--until", "lld"];
    args.extend_from_slice(extra);
    run_with_key(repo, &args)
}

#[test]
fn over_the_issue_budget_the_stage_blocks_saying_what_was_spent_where() {
    let vendor = approving_anthropic();
    let (repo, issue) = setup(&vendor.url(), "[budget]\nmax_usd_per_issue = 0.01\n");
    lld(&repo, &issue, &[])
        .expect_code(3)
        .stderr_has("over budget: $0.0135 spent on #7 of its max_usd_per_issue $0.01 (lld $0.0135)")
        .stderr_has("max_usd_per_issue");
    assert_eq!(
        vendor.requests().len(),
        1,
        "checked before the review was paid for"
    );
    // What was paid for is kept, and its cost recorded.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0135")
    );
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );
}

#[test]
fn a_stage_limit_applies_to_that_stage_only() {
    let vendor = approving_anthropic();
    let (repo, issue) = setup(&vendor.url(), "[budget.stages]\nspec = 0.01\n");
    let run = run_with_key(&repo, &["7", "--issue-file", &issue, "--until", "spec"]);
    run.expect_code(3)
        .stderr_has("over budget: $0.0135 spent on spec of its $0.01 limit");
    // lld was unaffected: drafted, reviewed and approved; spec stopped after its draft.
    assert_eq!(vendor.requests().len(), 3);
    assert_eq!(
        repo.trailer(&format!("{BRANCH}~1"), "Orchestrate-Verdict")
            .as_deref(),
        Some("approved")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Stage").as_deref(),
        Some("spec")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("blocked")
    );

    // max_usd_per_stage applies to every stage.
    let vendor = approving_anthropic();
    let (repo, issue) = setup(&vendor.url(), "[budget]\nmax_usd_per_stage = 0.01\n");
    lld(&repo, &issue, &[])
        .expect_code(3)
        .stderr_has("spent on lld of its $0.01 limit");
}

#[test]
fn what_earlier_runs_spent_counts_from_the_branch_trailers() {
    let vendor = approving_anthropic();
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue, &[]).expect_code(0);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0216")
    );
    let tip = repo.rev(BRANCH);

    lld(
        &repo,
        &issue,
        &[
            "--resume-from",
            "lld",
            "-c",
            "budget.max_usd_per_issue=0.02",
        ],
    )
    .expect_code(3)
    .stderr_has("over budget: $0.0216 spent on #7")
    .stderr_has("of which earlier runs $0.0216");
    assert_eq!(vendor.requests().len(), 2, "no call was made");
    assert_eq!(repo.rev(BRANCH), tip, "nothing new to commit");

    // With room left, the redo goes ahead.
    lld(
        &repo,
        &issue,
        &["--resume-from", "lld", "-c", "budget.max_usd_per_issue=1.0"],
    )
    .expect_code(0);
    assert_eq!(vendor.requests().len(), 4);
}

#[test]
fn a_model_without_a_price_and_a_budget_is_an_error_before_any_call() {
    let vendor = Vendor::start();
    vendor.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(openai_reply(&design())),
    );
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.local]\nkind = \"openai\"\nbase_url = \"{}/v1\"\n\n[stages.lld]\ndrafter = \"local:qwen2.5-coder\"\nreviewer = \"local:qwen2.5-coder\"\n\n[budget]\nmax_usd_per_issue = 5.0\n",
        vendor.url()
    ));
    let issue = repo.default_issue();
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("local:qwen2.5-coder has no known price, and a budget is set")
        .stderr_has("[prices.\"qwen2.5-coder\"]");
    assert!(vendor.requests().is_empty());
    assert_eq!(repo.branches(), ["main"]);

    // A program reports no tokens at all: with a budget it cannot be counted either.
    let (repo, issue) = TestRepo::approving("[budget]\nmax_usd_per_issue = 5.0\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has("reports no tokens, so its cost cannot be counted against the budget")
        .stderr_has("cmd:")
        .stderr_has("remove [budget]");
    assert!(repo.calls().is_empty());
}

#[test]
fn under_a_budget_a_program_must_be_declared_free_a_per_token_price_counts_nothing() {
    // A per-token price for a program would count $0 for every call: refused before any call.
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    let prices = |price: f64| {
        format!(
            "[prices.\"{drafter}\"]\ninput = {price:.1}\noutput = {price:.1}\n\n[prices.\"{reviewer}\"]\ninput = {price:.1}\noutput = {price:.1}\n\n[budget]\nmax_usd_per_issue = 5.0\n"
        )
    };
    repo.config_models(&drafter, &reviewer, &prices(1.0));
    let issue = repo.default_issue();
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(1)
        .stderr_has(&format!(
            "lld: {drafter} reports no tokens, so its cost cannot be counted against the budget"
        ))
        .stderr_has("input = 0.0");
    assert!(repo.calls().is_empty());
    assert_eq!(repo.branches(), ["main"]);

    // Declared free, it runs under the budget.
    repo.config_models(&drafter, &reviewer, &prices(0.0));
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    assert_eq!(repo.call_roles(), ["lld drafter 1", "lld reviewer 1"]);
}

#[test]
fn configured_prices_override_the_built_in_table_and_cached_input_is_cheaper() {
    let vendor = Vendor::start();
    // 1200 input tokens of which 1000 read from the cache, and 300 output.
    let usage = AnthropicUsage {
        input: 200,
        cache_read: 1000,
        cache_write: 0,
        output: 300,
    };
    let reply = |text: &str| sse_response(sse(&anthropic_events(text, usage, "end_turn")));
    vendor.draft_and_review(ANTHROPIC_PATH, reply(&design()), reply(&approval()));
    let (repo, issue) = setup(
        &vendor.url(),
        "[prices.\"claude-sonnet-4-5\"]\ninput = 10.0\noutput = 20.0\ncached_input = 1.0\n",
    );
    lld(&repo, &issue, &[]).expect_code(0);
    // Opus (built in): 200 × 5 + 1000 × 0.5 + 300 × 25 = 9000 → $0.0090.
    // Sonnet (configured): 200 × 10 + 1000 × 1 + 300 × 20 = 9000 → $0.0090.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0180")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=2400 out=600")
    );
}

#[test]
fn calls_whose_output_could_not_be_used_still_count() {
    let vendor = Vendor::start();
    // The first draft lacks its sections and goes back; both drafts were paid for.
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ANTHROPIC_PATH))
            .and(wiremock::matchers::body_string_contains(
                "Reply with the design document only",
            ))
            .respond_with(anthropic_reply("# Design\n\nNo sections at all."))
            .with_priority(1),
    );
    vendor.draft_and_review(
        ANTHROPIC_PATH,
        anthropic_reply(&design()),
        anthropic_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue, &[]).expect_code(0);
    assert_eq!(vendor.requests().len(), 3);
    // Two Opus calls and a Sonnet call: 0.0135 × 2 + 0.0081.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=3600 out=900")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0351")
    );
}

#[test]
fn the_run_says_what_each_call_stage_and_run_used() {
    let vendor = approving_anthropic();
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue, &[])
        .expect_code(0)
        .stderr_has("answered")
        .stderr_has("1,200 in / 300 out tokens, $0.0135")
        .stderr_has("1,200 in / 300 out tokens, $0.0081")
        .stderr_has("models used 2,400 in / 600 out tokens, $0.0216 in this run");
    assert!(KEY.starts_with("sk-ant"));
}
