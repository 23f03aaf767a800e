//! Zero configuration: with no model named, `git orchestrate 99` uses what this machine has,
//! preferring the original pairing and a reviewer from another vendor, and says why.
//!
//! Each test controls what "this machine" has: the keys in the environment, a PATH holding
//! only git, sh and the programs the test writes, and an Ollama address of its choosing.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{BRANCH, Run, TestRepo, approved};
use crate::vendors::*;

/// Run with exactly `keys` set and a PATH of git, sh and `extra_path`.
fn run_on_machine(
    repo: &TestRepo,
    keys: &[(&str, &str)],
    extra_path: Option<&std::path::Path>,
    args: &[&str],
) -> Run {
    let mut paths = vec![repo.minimal_path()];
    if let Some(extra) = extra_path {
        paths.insert(0, extra.to_path_buf());
    }
    let path = std::env::join_paths(paths).unwrap();
    let mut vars: Vec<(&str, &std::ffi::OsStr)> = vec![("PATH", path.as_os_str())];
    vars.extend(keys.iter().map(|(k, v)| (*k, std::ffi::OsStr::new(v))));
    repo.run_env(&vars, args)
}

#[test]
fn with_both_keys_claude_drafts_and_gemini_reviews() {
    let anthropic = Vendor::start();
    anthropic.mount(
        Mock::given(method("POST"))
            .and(path(ANTHROPIC_PATH))
            .respond_with(anthropic_reply(&design())),
    );
    let gemini = Vendor::start();
    gemini.mount(
        Mock::given(method("POST"))
            .and(path(
                "/v1beta/models/gemini-3-pro-preview:streamGenerateContent",
            ))
            .respond_with(gemini_reply(&approval())),
    );
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.anthropic]\nbase_url = \"{}\"\n[providers.gemini]\nbase_url = \"{}\"\n[providers.ollama]\nbase_url = \"http://127.0.0.1:{}\"\n",
        anthropic.url(),
        gemini.url(),
        closed_port()
    ));
    let issue = repo.default_issue();
    let keys = [
        ("ANTHROPIC_API_KEY", "sk-ant-test-0123456789"),
        ("GEMINI_API_KEY", "gm-test-0123456789"),
    ];

    let plan = run_on_machine(
        &repo,
        &keys,
        None,
        &["7", "--issue-file", &issue, "--until", "lld", "--dry-run"],
    );
    plan.expect_code(0)
        .stdout_has("defaults were chosen")
        .stdout_has("drafter anthropic:claude-opus-4-5: the original pairing: ANTHROPIC_API_KEY and GEMINI_API_KEY are set")
        .stdout_has("reviewer gemini:gemini-3-pro-preview: the original pairing");

    run_on_machine(
        &repo,
        &keys,
        None,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(0);
    assert_eq!(anthropic.requests().len(), 1);
    assert_eq!(gemini.requests().len(), 1);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("anthropic:claude-opus-4-5")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
        Some("gemini:gemini-3-pro-preview")
    );

    // status says the same, and why.
    let status = run_on_machine(&repo, &keys, None, &["status", "7"]);
    status
        .expect_code(0)
        .stdout_has("models (not configured, so chosen from this machine):")
        .stdout_has("drafter anthropic:claude-opus-4-5: the original pairing");
}

#[test]
fn one_key_and_a_program_of_another_vendor_pair_up() {
    let openai = Vendor::start();
    openai.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(openai_reply(&design())),
    );
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.openai]\nbase_url = \"{}/v1\"\n[providers.ollama]\nbase_url = \"http://127.0.0.1:{}\"\n",
        openai.url(),
        closed_port()
    ));
    // A `claude` program on PATH: the reviewer, as `claude -p`. It logs its arguments.
    let programs = repo.base().join("programs");
    std::fs::create_dir_all(&programs).unwrap();
    let claude = programs.join("claude");
    std::fs::write(
        &claude,
        format!(
            "#!/bin/sh\necho \"$@\" > \"{}/claude-args\"\ncat > /dev/null\ncat <<'REPLY'\n{}\nREPLY\n",
            repo.logs.display(),
            approved()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&claude).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&claude, perms).unwrap();
    let issue = repo.default_issue();
    let keys = [("OPENAI_API_KEY", "sk-test-openai-0123456789")];

    run_on_machine(&repo, &keys, Some(&programs), &["7", "--issue-file", &issue, "--until", "lld", "--dry-run"])
        .expect_code(0)
        .stdout_has("drafter openai:gpt-5: OPENAI_API_KEY is set")
        .stdout_has("reviewer cmd:claude -p: the `claude` program is on PATH; from another vendor than the drafter");

    run_on_machine(
        &repo,
        &keys,
        Some(&programs),
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(0);
    assert_eq!(openai.bodies()[0]["model"], "gpt-5");
    assert_eq!(
        std::fs::read_to_string(repo.logs.join("claude-args"))
            .unwrap()
            .trim(),
        "-p"
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Reviewer").as_deref(),
        Some("cmd:claude -p")
    );
}

#[test]
fn a_local_ollama_is_found_and_reviews_its_own_drafts_when_alone() {
    let ollama = Vendor::start();
    ollama.mount(
        Mock::given(method("GET"))
            .and(path("/api/tags"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"models": [
                {"name": "llama3.2:latest", "model": "llama3.2:latest", "modified_at": "2025-05-04T17:37:44.706015396-07:00",
                 "size": 2019393189u64, "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                 "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}}
            ]}))),
    );
    ollama.mount(
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .and(wiremock::matchers::body_string_contains(REVIEW_MARKER))
            .respond_with(ollama_reply(&approval()))
            .with_priority(1),
    );
    ollama.mount(
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .respond_with(ollama_reply(&design()))
            .with_priority(2),
    );
    let repo = TestRepo::new();
    repo.config(&format!(
        "[providers.ollama]\nbase_url = \"{}\"\n",
        ollama.url()
    ));
    let issue = repo.default_issue();
    run_on_machine(
        &repo,
        &[],
        None,
        &["7", "--issue-file", &issue, "--until", "lld", "--dry-run"],
    )
    .expect_code(0)
    .stdout_has("drafter ollama:llama3.2:latest: Ollama answers at")
    .stdout_has("no second vendor is available, so the drafter reviews too");
    run_on_machine(
        &repo,
        &[],
        None,
        &["7", "--issue-file", &issue, "--until", "lld"],
    )
    .expect_code(0);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Drafter").as_deref(),
        Some("ollama:llama3.2:latest")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Cost").as_deref(),
        Some("0.0000")
    );
}

#[test]
fn configured_models_are_used_without_looking_around() {
    // With every role configured nothing is probed: a key that would win is ignored.
    let (repo, issue) = TestRepo::approving("");
    let run = run_on_machine(
        &repo,
        &[("ANTHROPIC_API_KEY", "sk-ant-unused-0123456789")],
        None,
        &["7", "--issue-file", &issue, "--until", "lld", "--dry-run"],
    );
    run.expect_code(0);
    assert!(
        !run.stderr.contains("defaults were chosen"),
        "{}",
        run.stderr
    );
}
