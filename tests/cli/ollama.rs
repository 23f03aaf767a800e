//! The Ollama provider against a loopback server answering as Ollama's `/api/chat` does:
//! JSON lines ending in a `done: true` line with the token counts, no key, no cost, and its
//! errors and faults.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{Run, TestRepo};
use crate::vendors::*;

const BRANCH: &str = "orchestrate/7-add-a-verbose-flag";
const ENDPOINT: &str = "/api/chat";

/// A repository whose lld drafter and reviewer are `ollama:MODEL` at `url`. `provider` goes
/// into `[providers.ollama]`, `extra` after the stage table (it must start with a table header).
fn setup_model(url: &str, model: &str, provider: &str, extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.ollama]\nbase_url = \"{url}\"\nretry_delay = \"10ms\"\n{provider}\n[stages.lld]\ndrafter = \"ollama:{model}\"\nreviewer = \"ollama:{model}\"\n\n{extra}"
    ));
    let issue = repo.default_issue();
    (repo, issue)
}

fn setup(url: &str, provider: &str) -> (TestRepo, String) {
    setup_model(url, "llama3.2", provider, "")
}

/// The lld stage; no key of any vendor is set.
fn lld(repo: &TestRepo, issue: &str) -> Run {
    repo.run(&["7", "--issue-file", issue, "--until", "lld"])
}

fn lines_response(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/x-ndjson")
        .set_body_raw(body, "application/x-ndjson")
}

fn mount_always(vendor: &Vendor, response: ResponseTemplate) {
    vendor.mount(
        Mock::given(method("POST"))
            .and(path(ENDPOINT))
            .respond_with(response),
    );
}

/// The prompts of this run's transcripts (`.git/orchestrate/transcripts/`), in call order.
fn transcript_prompts(repo: &TestRepo) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
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
    let mut files = Vec::new();
    walk(&repo.root.join(".git/orchestrate/transcripts"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, text)| {
            let start = text.find("\n\n# Prompt\n\n")? + "\n\n# Prompt\n\n".len();
            let end = text.rfind("\n\n# Reply\n\n")?;
            Some(text[start..end].to_string())
        })
        .collect()
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

// ---------------------------------------------------------------------------------------
// The happy path

#[test]
fn a_design_drafted_and_reviewed_by_a_local_model_records_tokens_and_costs_nothing() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, ollama_reply(&design()), ollama_reply(&approval()));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue).expect_code(0);

    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("ollama:llama3.2")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
        Some("ollama:llama3.2")
    );
    // Two calls, each prompt_eval_count 700 / eval_count 150.
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Tokens").as_deref(),
        Some("in=1400 out=300")
    );
    // A local model costs nothing, and that is known (not merely unpriced).
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0000")
    );
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("from the vendor")
    );

    let requests = vendor.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert!(request.headers.get("authorization").is_none());
    }
    let prompts = transcript_prompts(&repo);
    assert_eq!(prompts.len(), 2, "one transcript per call");
    for (body, prompt) in vendor.bodies().iter().zip(&prompts) {
        assert_eq!(body["model"], "llama3.2");
        assert_eq!(body["stream"], true);
        assert_eq!(body["messages"].as_array().unwrap().len(), 1);
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(body["messages"][0]["content"].as_str().unwrap(), prompt);
        assert!(
            body.get("options").is_none(),
            "no output limit is configured for ollama"
        );
    }
    assert!(prompts[0].contains("Add a --verbose flag"));
    assert!(prompts[1].contains(REVIEW_MARKER));
}

#[test]
fn the_output_token_limit_is_sent_as_num_predict() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, ollama_reply(&design()), ollama_reply(&approval()));
    let (repo, issue) = setup(&vendor.url(), "max_output_tokens = 256");
    lld(&repo, &issue).expect_code(0);
    let bodies = vendor.bodies();
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_eq!(body["options"]["num_predict"], 256);
    }
}

#[test]
fn lines_split_across_network_reads_are_put_back_together() {
    let text = format!("{}\nNaïve café — ✓ déjà vu\n", design());
    let draft = ollama_lines(&text, 700, 150, "stop");
    let review = ollama_lines(&approval(), 700, 150, "stop");
    let server = RawServer::start(move |request, stream| {
        let body = if request.contains(REVIEW_MARKER) {
            &review
        } else {
            &draft
        };
        crate::openai::send_in_pieces(stream, "application/x-ndjson", body, 7);
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
        Some("in=1400 out=300")
    );
}

#[test]
fn a_budget_allows_a_local_model_whose_price_is_zero() {
    let vendor = Vendor::start();
    vendor.draft_and_review(ENDPOINT, ollama_reply(&design()), ollama_reply(&approval()));
    let (repo, issue) = setup_model(
        &vendor.url(),
        "llama3.2",
        "",
        "[budget]\nmax_usd_per_issue = 1.0\n",
    );
    lld(&repo, &issue).expect_code(0);
    assert_eq!(vendor.requests().len(), 2);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0000")
    );
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn a_model_not_pulled_is_not_retried_and_quotes_ollama() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        json_error(
            404,
            json!({"error": "model \"llama9\" not found, try pulling it first"}),
        ),
    );
    let (repo, issue) = setup_model(&vendor.url(), "llama9", "", "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has(
            "ollama answered HTTP 404 for ollama:llama9: model \"llama9\" not found, try pulling it first",
        )
        .stderr_has("check the model name `ollama:llama9`");
    assert_not_retried(&run, &vendor);
    assert_eq!(vendor.bodies()[0]["model"], "llama9");
}

#[test]
fn a_reply_cut_off_at_num_predict_is_never_reviewed_or_committed() {
    let vendor = Vendor::start();
    vendor.draft_and_review(
        ENDPOINT,
        lines_response(ollama_lines(
            "# Design\n\n## Context\nHalf a sen",
            700,
            256,
            "length",
        )),
        ollama_reply(&approval()),
    );
    let (repo, issue) = setup(&vendor.url(), "max_output_tokens = 256");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has(
            "the reply from ollama:llama3.2 was cut off at the output-token limit (256 tokens); it was not used",
        )
        .stderr_has("[providers.ollama] max_output_tokens");
    assert_not_retried(&run, &vendor);
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_stream_without_its_done_line_is_retried_and_never_taken_as_whole() {
    let vendor = Vendor::start();
    let lines = ollama_lines(&design(), 700, 150, "stop");
    let cut: String = lines
        .lines()
        .filter(|l| !l.contains("\"done\":true"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(cut.len() < lines.len(), "the done line was left out");
    mount_always(&vendor, lines_response(cut));
    let (repo, issue) = setup(&vendor.url(), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(
            "the reply from ollama:llama3.2 broke off: the stream ended before its done message",
        )
        .stderr_has("gave up after 2 attempts");
    assert_eq!(
        vendor.requests().len(),
        2,
        "a dropped stream is transient: retried once (max_retries = 1)"
    );
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn an_error_line_mid_stream_is_reported() {
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
    mount_always(&vendor, lines_response(body));
    let (repo, issue) = setup(&vendor.url(), "max_retries = 0");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has("ollama:llama3.2")
        .stderr_has("an error was encountered while running the model: unexpected EOF");
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
}

#[test]
fn a_malformed_line_is_not_retried() {
    let vendor = Vendor::start();
    mount_always(
        &vendor,
        lines_response(
            "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\",\"message\":{\"role\":\"assis\n"
                .into(),
        ),
    );
    let (repo, issue) = setup(&vendor.url(), "");
    let run = lld(&repo, &issue);
    run.expect_code(1)
        .stderr_has("ollama:llama3.2 sent something that is not its documented format");
    assert_not_retried(&run, &vendor);
}

#[test]
fn a_server_that_is_not_running_is_named_with_its_base_url() {
    let port = closed_port();
    let (repo, issue) = setup(&format!("http://127.0.0.1:{port}"), "");
    lld(&repo, &issue)
        .expect_code(1)
        .stderr_has(&format!(
            "could not reach ollama at http://127.0.0.1:{port}/api/chat"
        ))
        .stderr_has(&format!(
            "check that http://127.0.0.1:{port}/api/chat is right and the server is running ([providers.ollama] base_url)"
        ))
        .stderr_has("gave up after 2 attempts");
}

#[test]
fn a_declared_ollama_server_is_named_by_its_own_table_in_errors() {
    let port = closed_port();
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.gpu]\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:{port}\"\nretry_delay = \"10ms\"\nmax_retries = 0\n\n[stages.lld]\ndrafter = \"gpu:llama3.2\"\nreviewer = \"gpu:llama3.2\"\n"
    ));
    let issue = repo.default_issue();
    let run = lld(&repo, &issue);
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
