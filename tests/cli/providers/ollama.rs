//! What only Ollama does: a local model's price is known to be zero, an error line in the
//! middle of its JSON lines, and a declared `kind = "ollama"` server named by its own table.
//! What every provider does is in `providers.rs`.

use serde_json::json;

use super::{Provider, assert_no_design};
use crate::harness::{BRANCH, TestRepo};
use crate::vendors::*;

#[test]
fn a_budget_allows_a_local_model_whose_price_is_zero() {
    let ollama = Provider::ollama();
    let vendor = Vendor::start();
    ollama.approving(&vendor);
    let repo = TestRepo::new();
    ollama.configure(
        &repo,
        &vendor.url(),
        "",
        ollama.drafter,
        "[budget]\nmax_usd_per_issue = 1.0\n",
    );
    let issue = repo.default_issue();
    ollama.lld(&repo, &issue).expect_code(0);
    assert_eq!(vendor.requests().len(), 2);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0000")
    );
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn an_error_line_mid_stream_is_reported() {
    let ollama = Provider::ollama();
    let vendor = Vendor::start();
    let mut body: String = ollama_lines(&design(), 700, 150, "stop")
        .lines()
        .take(1)
        .map(|l| format!("{l}\n"))
        .collect();
    body.push_str(
        &json!({"error": "an error was encountered while running the model: unexpected EOF"})
            .to_string(),
    );
    body.push('\n');
    ollama.mount_drafter(&vendor, ollama.drafter_id, lines_response(body));
    let (repo, issue) = ollama.setup(&vendor.url(), "max_retries = 0");
    ollama
        .lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("ollama:llama3.2")
        .stderr_has("an error was encountered while running the model: unexpected EOF");
    assert_no_design(&repo);
}

#[test]
fn a_declared_ollama_server_is_named_by_its_own_table_in_errors() {
    let port = closed_port();
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.gpu]\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:{port}\"\nretry_delay = \"10ms\"\nmax_retries = 0\n\n[stages.lld]\ndrafter = \"gpu:llama3.2\"\nreviewer = \"gpu:llama3.2\"\n"
    ));
    let issue = repo.default_issue();
    let run = Provider::ollama().lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has(&format!(
            "could not reach gpu at http://127.0.0.1:{port}/api/chat"
        ))
        .stderr_has("([providers.gpu] base_url)");
    assert!(
        !run.stderr.contains("[providers.ollama]"),
        "the hint names a table that does not configure this server:\n{}",
        run.stderr
    );
}
