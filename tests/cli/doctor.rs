//! `doctor`: a line per check, advice under what is wrong, exit 0 only when a run could
//! start. Providers and GitHub are loopback servers answering as the vendors document; the
//! repository, its remote and its leftovers are made by the tests.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::github::{TOKEN, github_json};
use crate::harness::{Run, TestRepo, approved};
use crate::vendors::Vendor;

const API_KEY: &str = "sk-ant-api03-doctorTestKey0123456789";

/// A repository whose every role is a `cmd:` script, with a test command that exists and a
/// GitHub `origin`.
fn healthy() -> TestRepo {
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(
        &drafter,
        &reviewer,
        &format!("[stages.impl]\nimplementer = \"{drafter}\"\ntest_command = \"sh -c true\"\n"),
    );
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/widgets.git",
    ]);
    repo
}

/// A repository whose every role is Anthropic's model, served by `vendor`.
fn on_anthropic() -> (TestRepo, Vendor) {
    let repo = TestRepo::new();
    let model = "claude:opus-4.5";
    repo.config_models(
        model,
        model,
        &format!("[stages.impl]\nimplementer = \"{model}\"\ntest_command = \"sh -c true\"\n"),
    );
    (repo, Vendor::start())
}

fn doctor(repo: &TestRepo, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    let run = repo.run_env(vars, &all);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// The line of the check `name`.
#[track_caller]
fn line<'r>(run: &'r Run, name: &str) -> &'r str {
    run.stdout
        .lines()
        .find(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(&format!("{name}:")))
        })
        .unwrap_or_else(|| panic!("no `{name}` line:\n{}", run.stdout))
}

/// The `repo` GitHub answers for acme/widgets, with the token's `permissions`.
fn repository(push: bool) -> serde_json::Value {
    json!({
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": "widgets",
        "full_name": "acme/widgets",
        "private": false,
        "html_url": "https://github.com/acme/widgets",
        "default_branch": "main",
        "has_issues": true,
        "permissions": {"admin": false, "maintain": false, "push": push, "triage": true, "pull": true}
    })
}

fn github_api(scopes: &str, push: bool) -> Vendor {
    let api = Vendor::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/widgets"))
            .respond_with(
                github_json(200, repository(push)).insert_header("x-oauth-scopes", scopes),
            ),
    );
    api
}

#[test]
fn a_healthy_repository_passes_every_check() {
    let repo = healthy();
    let api = github_api("repo, read:org", true);
    let api_url = format!("github.api_url={}", api.url());
    let run = doctor(&repo, &[("GITHUB_TOKEN", TOKEN)], &["-c", &api_url]);
    run.expect_code(0);
    let checks: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with("ready"))
        .collect();
    assert!(checks.len() >= 9, "{}", run.stdout);
    for check in &checks {
        assert!(check.starts_with("✓ "), "not ✓: {check}\n{}", run.stdout);
    }
    assert!(
        line(&run, "git").contains("2.30.0 or later"),
        "{}",
        run.stdout
    );
    assert!(line(&run, "HEAD").contains("on branch main"));
    assert_eq!(
        line(&run, "identity"),
        "✓ identity: commits as Ada Author <ada@example.com>"
    );
    assert!(line(&run, "config").contains(".orchestrate.toml"));
    assert!(line(&run, "config").contains("1 -c override"));
    assert!(line(&run, "github").contains("acme/widgets"));
    assert_eq!(
        line(&run, "github token"),
        "✓ github token: from GITHUB_TOKEN"
    );
    assert!(line(&run, "github access").contains("token scopes: repo, read:org"));
    assert!(line(&run, "test command").contains("`sh -c true` (stages.impl.test_command)"));
    assert!(line(&run, "local state").contains("no locks or worktrees"));
    let drafter = format!("model cmd:{}", repo.bin.join("drafter").display());
    assert!(
        line(&run, &drafter).contains("lld drafter, spec drafter, impl implementer"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("ready: a run can start here\n"));
    assert!(!run.stdout.contains(TOKEN));
}

#[test]
fn no_identity_to_commit_with_is_an_error_with_the_fix() {
    let repo = healthy();
    let run = doctor(
        &repo,
        &[("GIT_AUTHOR_NAME", ""), ("GIT_COMMITTER_NAME", "")],
        &["--offline"],
    );
    run.expect_code(1);
    assert!(
        line(&run, "identity").starts_with("✗ identity: git has no identity to commit with"),
        "{}",
        run.stdout
    );
    run.stdout_has("git config --global user.name");
}

#[test]
fn a_configuration_that_does_not_parse_is_reported_with_its_line() {
    let repo = healthy();
    repo.config("[stages.lld]\ndrafter = \"cmd:x\"\nreviewer = \n");
    let run = doctor(&repo, &[], &["--offline"]);
    run.expect_code(1);
    let config = line(&run, "config");
    assert!(config.starts_with("✗ config: "), "{config}");
    assert!(config.contains(".orchestrate.toml"), "{config}");
    assert!(config.contains("line 3"), "{config}");
    assert!(
        run.stdout
            .contains("hint: fix the TOML syntax at that line")
    );
    // The rest is still checked.
    assert!(line(&run, "git").starts_with("✓"));
    assert!(run.stdout.ends_with("not ready: fix the ✗ lines above\n"));
}

#[test]
fn a_key_the_provider_refuses_is_an_error_naming_its_variable() {
    let (repo, vendor) = on_anthropic();
    vendor.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "type": "error",
                "error": {"type": "authentication_error", "message": "invalid x-api-key"}
            }))),
    );
    let base = format!("providers.anthropic.base_url={}", vendor.url());
    let run = doctor(&repo, &[("ANTHROPIC_API_KEY", API_KEY)], &["-c", &base]);
    run.expect_code(1);
    let model = line(&run, "model anthropic:claude-opus-4-5");
    assert!(model.starts_with("✗ "), "{model}");
    assert!(model.contains("key from ANTHROPIC_API_KEY"), "{model}");
    assert!(model.contains("401"), "{model}");
    assert!(model.contains("invalid x-api-key"), "{model}");
    assert!(
        run.stdout
            .contains("hint: the key was refused: check ANTHROPIC_API_KEY")
    );
    assert!(!run.stdout.contains(API_KEY) && !run.stderr.contains(API_KEY));
    // One model, one request, with the key in the vendor's header.
    let requests = vendor.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].headers["x-api-key"], API_KEY);
    assert_eq!(requests[0].headers["anthropic-version"], "2023-06-01");
}

#[test]
fn a_missing_key_is_an_error_saying_which_variable() {
    let (repo, vendor) = on_anthropic();
    let base = format!("providers.anthropic.base_url={}", vendor.url());
    let run = doctor(&repo, &[], &["-c", &base]);
    run.expect_code(1);
    let model = line(&run, "model anthropic:claude-opus-4-5");
    assert!(
        model.contains("no key: ANTHROPIC_API_KEY is not set"),
        "{model}"
    );
    assert!(run.stdout.contains("hint: export ANTHROPIC_API_KEY=..."));
    assert!(vendor.requests().is_empty());
}

#[test]
fn a_provider_that_never_answers_fails_its_check_and_doctor_finishes() {
    let (repo, vendor) = on_anthropic();
    vendor.mount(
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": [], "has_more": false}))
                    .set_delay(Duration::from_secs(60)),
            ),
    );
    let base = format!("providers.anthropic.base_url={}", vendor.url());
    let run = doctor(
        &repo,
        &[("ANTHROPIC_API_KEY", API_KEY)],
        &["-c", &base, "--timeout", "1s"],
    );
    run.expect_code(1);
    let model = line(&run, "model anthropic:claude-opus-4-5");
    assert!(model.starts_with("✗ "), "{model}");
    assert!(model.contains("did not answer"), "{model}");
    assert!(model.contains("within 1s"), "{model}");
}

#[test]
fn a_token_without_the_repo_scope_is_a_warning_saying_so() {
    let repo = healthy();
    let api = github_api("read:org", true);
    let api_url = format!("github.api_url={}", api.url());
    let run = doctor(&repo, &[("GITHUB_TOKEN", TOKEN)], &["-c", &api_url]);
    run.expect_code(0);
    let access = line(&run, "github access");
    assert!(access.starts_with("! "), "{access}");
    assert!(access.contains("read:org"), "{access}");
    assert!(access.contains("`repo` is needed"), "{access}");
    assert!(
        run.stdout
            .contains("scope (https://github.com/settings/tokens)")
    );
    let requests = api.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
}

#[test]
fn offline_sends_no_request() {
    let (repo, vendor) = on_anthropic();
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/widgets.git",
    ]);
    let base = format!("providers.anthropic.base_url={}", vendor.url());
    let api_url = format!("github.api_url={}", vendor.url());
    let run = doctor(
        &repo,
        &[("ANTHROPIC_API_KEY", API_KEY), ("GITHUB_TOKEN", TOKEN)],
        &["--offline", "-c", &base, "-c", &api_url],
    );
    run.expect_code(0);
    assert!(vendor.requests().is_empty(), "{:?}", vendor.requests());
    let model = line(&run, "model anthropic:claude-opus-4-5");
    assert!(model.contains("key from ANTHROPIC_API_KEY"), "{model}");
    assert!(model.contains("not contacted (--offline)"), "{model}");
    assert_eq!(
        line(&run, "github access"),
        "✓ github access: not checked (--offline)"
    );
}

#[test]
fn a_bare_repository_cannot_run() {
    let repo = TestRepo::empty();
    repo.git(&["init", "-q", "--bare", "-b", "main", "."]);
    let run = doctor(&repo, &[], &["--offline"]);
    run.expect_code(1);
    let line = line(&run, "repository");
    assert!(line.starts_with("✗ repository: "), "{line}");
    assert!(line.contains("bare repository"), "{line}");
    assert!(
        run.stdout
            .contains("hint: run it in a clone with a work tree")
    );
}

#[test]
fn outside_a_repository_doctor_says_so() {
    let repo = TestRepo::empty();
    let run = doctor(&repo, &[], &["--offline"]);
    run.expect_code(1);
    assert!(line(&run, "repository").starts_with("✗ repository: not a git repository"));
}

#[test]
fn a_detached_head_is_a_warning_about_base() {
    let repo = healthy();
    repo.git(&["checkout", "-q", "--detach"]);
    let run = doctor(&repo, &[("GITHUB_TOKEN", TOKEN)], &["--offline"]);
    run.expect_code(0);
    let head = line(&run, "HEAD");
    assert!(head.starts_with("! HEAD: detached at "), "{head}");
    assert!(run.stdout.contains("--base main"), "{}", run.stdout);
}

#[test]
fn leftovers_of_earlier_runs_are_listed_with_how_to_clean_them() {
    let repo = healthy();
    // A pid that was alive a moment ago and is not any more.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let lock = repo.lock_path(7);
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, format!("{dead}\n")).unwrap();
    let worktree = repo.root.join(".git/orchestrate/worktrees/9");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        &worktree.to_string_lossy(),
        "HEAD",
    ]);

    let run = doctor(&repo, &[("GITHUB_TOKEN", TOKEN)], &["--offline"]);
    run.expect_code(0);
    assert_eq!(
        line(&run, "lock #7"),
        format!("! lock #7: left by a run of issue #7 that died (pid {dead})")
    );
    assert!(
        run.stdout
            .contains("hint: git orchestrate clean 7 removes it")
    );
    let left = line(&run, "worktree #9");
    assert!(
        left.starts_with("! worktree #9: left by an earlier run at "),
        "{left}"
    );
    assert!(left.ends_with("worktrees/9"), "{left}");
    assert!(
        run.stdout
            .contains("hint: git orchestrate clean 9 removes it")
    );
    // Nothing was taken or removed.
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), format!("{dead}\n"));
    assert!(worktree.exists());
}

#[test]
fn the_triage_model_is_named_once() {
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    repo.config(&format!(
        "[stages.triage]\ndrafter = \"{drafter}\"\n[stages.lld]\ndrafter = \"{drafter}\"\nreviewer = \"{drafter}\"\n"
    ));
    let run = doctor(&repo, &[], &["--offline"]);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains("triage triage"), "{all}");
    assert!(all.contains("triage, lld drafter, lld reviewer"), "{all}");
}

/// A directory holding a fake `python3` that runs `body`, first on PATH.
fn fake_python(repo: &TestRepo, body: &str) -> std::ffi::OsString {
    let dir = repo.base().join(format!("py-{}", body.len()));
    std::fs::create_dir_all(&dir).unwrap();
    crate::harness::write_executable(&dir.join("python3"), &format!("#!/bin/sh\n{body}\n"));
    let mut dirs = vec![dir];
    dirs.extend(std::env::split_paths(&repo.path_with_models()));
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn the_test_runner_is_started_and_a_missing_pytest_is_said() {
    let repo = healthy();
    let command = "stages.impl.test_command=python3 -m pytest -q";
    // A Python without pytest: the program is there, the runner is not.
    let path = fake_python(
        &repo,
        "if [ \"$1 $2 $3\" = \"-m pytest --version\" ]; then echo '/usr/bin/python3: No module named pytest' >&2; exit 1; fi",
    );
    let path = path.to_str().unwrap();
    let run = doctor(&repo, &[("PATH", path)], &["-c", command]);
    assert!(
        line(&run, "test command")
            .contains("`python3 -m pytest -q` (stages.impl.test_command): `python3` is"),
        "{}",
        run.stdout
    );
    assert!(
        line(&run, "test command").ends_with(
            "but `python3 -m pytest --version` fails: /usr/bin/python3: No module named pytest"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("install what `python3 -m pytest -q` needs"),
        "{}",
        run.stdout
    );

    // With pytest installed, doctor says the runner starts.
    let path = fake_python(&repo, "echo 'pytest 8.3.4'");
    let run = doctor(&repo, &[("PATH", path.to_str().unwrap())], &["-c", command]);
    assert!(
        line(&run, "test command").contains("`python3 -m pytest --version` runs"),
        "{}",
        run.stdout
    );
}
