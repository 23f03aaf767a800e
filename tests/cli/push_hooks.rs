//! The pull request's `git push` runs no code from the run: no hook unless the user asks
//! for theirs (`github.push_hooks = true`), never a hook that appeared or changed during the
//! run, and no model key in its environment. Pushed through the loopback GitHub of
//! `github.rs` to a local bare repository.

use std::path::{Path, PathBuf};

use crate::github::{BRANCH40, Hub, PR_URL, PULLS_PATH, TOKEN};
use crate::harness::*;

/// Shell lines an agent runs to write `verbose` and the test proving it.
const AGENT_EDIT: &str = "printf 'pub fn widget() {}\\n\\npub fn verbose() -> bool {\\n    true\\n}\\n' > src/lib.rs\nmkdir -p tests\necho \"grep -q 'fn verbose' src/lib.rs\" > tests/verbose.sh";

/// An executable hook at `path` that appends `line` and its environment's names to `log`.
fn hook_script(path: &Path, log: &Path, line: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let body = format!(
        "#!/bin/sh\necho '{line}' >> '{log}'\nenv | cut -d= -f1 >> '{log}'\n",
        log = log.display()
    );
    std::fs::write(path, body).unwrap();
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).unwrap();
}

/// Run issue 40 to its pull request with `-c` settings, the GitHub token and model keys set.
fn run_to_pr(hub: &Hub, settings: &[&str]) -> Run {
    run_to_pr_with(hub, settings, &[])
}

fn run_to_pr_with(hub: &Hub, settings: &[&str], more: &[&str]) -> Run {
    let mut args: Vec<&str> = Vec::new();
    for setting in settings {
        args.extend(["-c", setting]);
    }
    args.extend(["40", "--no-input", "--no-gate-before-pr"]);
    args.extend_from_slice(more);
    hub.run_env(
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("ANTHROPIC_API_KEY", "sk-ant-api03-push-must-not-see"),
            ("OPENAI_API_KEY", "sk-proj-push-must-not-see"),
        ],
        &args,
    )
}

/// The run pushed the branch and opened one pull request.
fn assert_one_pull_request(hub: &Hub, run: &Run) {
    run.expect_code(0).stdout_has(PR_URL);
    assert_eq!(hub.requests("POST", PULLS_PATH).len(), 1);
    let local = hub.repo.git(&["rev-parse", BRANCH40]);
    assert_eq!(hub.remote_tip(BRANCH40).as_deref(), Some(local.as_str()));
}

#[test]
fn a_hook_an_agent_plants_never_runs_on_the_push() {
    let hub = Hub::new();
    let ran = hub.repo.logs.join("planted-ran");
    // The agent works in a worktree whose `.git` is a file; the hooks are in the common dir.
    let plant = format!(
        "hooks=\"$(git rev-parse --git-common-dir)/hooks\"\nmkdir -p \"$hooks\"\nprintf '#!/bin/sh\\necho planted >> {ran}\\n' > \"$hooks/pre-push\"\nchmod +x \"$hooks/pre-push\"\n{AGENT_EDIT}",
        ran = ran.display()
    );
    let agent = hub
        .repo
        .model("agent", &plant)
        .replacen("cmd:", "agent:", 1);
    let implementer = format!("stages.impl.implementer={agent}");
    let run = run_to_pr(&hub, &[&implementer]);
    assert_one_pull_request(&hub, &run);
    assert!(
        hub.repo
            .calls()
            .iter()
            .any(|c| c.starts_with("impl implementer")),
        "the agent did not run"
    );
    assert!(!ran.exists(), "the planted pre-push hook ran");
}

#[test]
fn the_users_own_hook_runs_when_asked_and_sees_no_model_key() {
    let hub = Hub::new();
    let log = hub.repo.logs.join("user-hook");
    hook_script(
        &hub.repo.root.join(".git/hooks/pre-push"),
        &log,
        "user hook ran",
    );
    let run = run_to_pr(&hub, &["github.push_hooks=true"]);
    assert_one_pull_request(&hub, &run);
    let seen = std::fs::read_to_string(&log).expect("the user's pre-push hook did not run");
    assert!(seen.starts_with("user hook ran\n"), "{seen}");
    let names: Vec<&str> = seen.lines().collect();
    // The push still has the user's git credentials; no model's.
    assert!(names.contains(&"GITHUB_TOKEN"), "{seen}");
    for key in ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"] {
        assert!(!names.contains(&key), "the hook saw {key}");
    }

    // Without `push_hooks`, the same hook does not run.
    let hub = Hub::new();
    let log = hub.repo.logs.join("user-hook");
    hook_script(
        &hub.repo.root.join(".git/hooks/pre-push"),
        &log,
        "user hook ran",
    );
    assert_one_pull_request(&hub, &run_to_pr(&hub, &[]));
    assert!(!log.exists(), "a hook ran without github.push_hooks");
}

/// A hub whose user keeps their hooks outside the repository (`core.hooksPath`), where the
/// lld and spec drafter, a `cmd:` model (not contained: a model client keeps its own state),
/// adds a `pre-push` during the run; the hooks directory, the planted hook and the log any
/// hook writes to.
fn hub_with_a_hook_planted_by_a_model() -> (Hub, PathBuf, PathBuf, PathBuf) {
    let hub = Hub::new();
    let hooks = hub.repo.base().join("my-hooks");
    let log = hub.repo.logs.join("hooks-ran");
    hook_script(&hooks.join("post-commit"), &log, "user post-commit ran");
    hub.repo
        .git(&["config", "core.hooksPath", &hooks.display().to_string()]);
    let planted = hooks.join("pre-push");
    hub.repo.model(
        "drafter",
        &format!(
            "[ -e '{planted}' ] || {{ printf '#!/bin/sh\\necho planted >> {log}\\n' > '{planted}'; chmod +x '{planted}'; }}\n{}",
            draft_script(),
            planted = planted.display(),
            log = log.display(),
        ),
    );
    (hub, hooks, planted, log)
}

#[test]
fn a_hook_added_during_the_run_does_not_run_even_when_hooks_are_asked_for() {
    let (hub, hooks, planted, log) = hub_with_a_hook_planted_by_a_model();
    let run = run_to_pr(&hub, &["github.push_hooks=true"]);
    assert_one_pull_request(&hub, &run);
    assert!(planted.exists(), "the drafter planted no hook");
    assert!(!log.exists(), "a hook ran on the push");
    run.stderr_has(&format!(
        "warning: the push runs no hooks: `pre-push` changed in {} during the run",
        hooks.display()
    ));

    // In --json, one event says so, whatever the number of pushes.
    let (hub, hooks, _, log) = hub_with_a_hook_planted_by_a_model();
    let run = run_to_pr_with(&hub, &["github.push_hooks=true"], &["--json"]);
    run.expect_code(0);
    assert!(!log.exists(), "a hook ran on the push");
    let events = crate::schema::assert_events(&run, "a push whose hooks changed during the run");
    let skipped: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "push_hooks_skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{events:?}");
    assert_eq!(skipped[0]["dir"], hooks.display().to_string());
    assert_eq!(skipped[0]["changed"], serde_json::json!(["pre-push"]));
}
