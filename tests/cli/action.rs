//! `git orchestrate action` as a GitHub Actions job runs it: the event in the file
//! `GITHUB_EVENT_PATH` names (shaped as GitHub's webhook payloads, from
//! `tests/fixtures/events/`), the API on loopback, the branch kept on the remote between jobs.

use std::path::{Path, PathBuf};

use serde_json::Value;
use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::github::{BRANCH40, Hub, PR_URL, PULLS_PATH, TOKEN, comment_json, github_json};
use crate::harness::Run;
use crate::implement::{GOOD_EDIT, impl_calls};

const COMMENTS_PATH: &str = "/repos/acme/widgets/issues/40/comments";

/// A fixture from `tests/fixtures/events/`, changed by `edit`, written where the job would
/// find it.
fn event(hub: &Hub, fixture: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events")
        .join(fixture);
    let mut payload: Value = serde_json::from_slice(&std::fs::read(source).unwrap()).unwrap();
    edit(&mut payload);
    let n = std::fs::read_dir(hub.repo.base()).unwrap().count();
    let file = hub.repo.base().join(format!("event-{n}.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(&payload).unwrap()).unwrap();
    file
}

/// A new comment on issue 40 with `body`, by an account with `association`.
fn comment(hub: &Hub, body: &str, association: &str) -> PathBuf {
    event(hub, "issue_comment-created.json", |e| {
        e["comment"]["body"] = body.into();
        e["comment"]["author_association"] = association.into();
    })
}

/// `git orchestrate action` for event `name` in the file `file`, as a job runs it.
fn action(hub: &Hub, name: &str, file: &Path) -> Run {
    hub.run_env(
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_EVENT_NAME", name),
            ("GITHUB_EVENT_PATH", file.to_str().unwrap()),
        ],
        &["action"],
    )
}

/// Issue 40 with its comments endpoint: every comment posted is answered as GitHub does.
fn hub() -> Hub {
    let hub = Hub::new();
    hub.api.mount(
        Mock::given(method("POST"))
            .and(path(COMMENTS_PATH))
            .respond_with(github_json(
                201,
                comment_json(
                    492700401,
                    "github-actions[bot]",
                    "NONE",
                    "waiting at before_pr",
                ),
            )),
    );
    hub
}

/// The bodies of the comments posted on issue 40.
fn comments_posted(hub: &Hub) -> Vec<String> {
    hub.requests("POST", COMMENTS_PATH)
        .iter()
        .map(|r| {
            let sent: Value = serde_json::from_slice(&r.body).unwrap();
            sent["body"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The refs of the repository and of the remote: what "no git change" compares.
fn all_refs(hub: &Hub) -> String {
    let local = hub.repo.git(&["for-each-ref"]);
    let remote = hub
        .repo
        .git(&["--git-dir", &hub.bare.to_string_lossy(), "for-each-ref"]);
    format!("{local}\n--\n{remote}")
}

/// The job of an `orchestrate` label: the run stops at before_pr, the branch is pushed and
/// the issue says what is needed.
fn labeled_to_the_gate(hub: &Hub) -> Run {
    let file = event(hub, "issues-labeled.json", |_| {});
    let run = action(hub, "issues", &file);
    run.expect_code(0);
    run
}

/// An implementer that adds `verbose`, and after a rejection renames it.
fn renaming_implementer(hub: &Hub) {
    let rename = "src/lib.rs\n<<<<<<< SEARCH\npub fn verbose() -> bool {\n=======\npub fn is_verbose() -> bool {\n>>>>>>> REPLACE\n\ntests/verbose.sh\n<<<<<<< SEARCH\ngrep -q 'fn verbose' src/lib.rs\n=======\ngrep -q 'fn is_verbose' src/lib.rs\n>>>>>>> REPLACE\n";
    hub.repo.model(
        "implementer",
        &format!(
            "if grep -q 'rejected by a person' \"$PROMPT\"; then\ncat <<'REPLY'\n{rename}\nREPLY\nelse\ncat <<'REPLY'\n{GOOD_EDIT}\nREPLY\nfi"
        ),
    );
}

#[test]
fn the_orchestrate_label_runs_to_the_gate_and_says_so_on_the_issue_then_approve_opens_the_pr() {
    let hub = hub();
    let run = labeled_to_the_gate(&hub);
    run.stderr_has("running #40 (asked by @alice)")
        .stderr_has("at gate before_pr")
        .stderr_has("Commented on #40");

    // The branch lives on the remote: the next job starts from a fresh checkout.
    let local = hub.repo.git(&["rev-parse", BRANCH40]);
    assert_eq!(hub.remote_tip(BRANCH40).as_deref(), Some(local.as_str()));
    assert!(hub.requests("POST", PULLS_PATH).is_empty());

    let posted = comments_posted(&hub);
    assert_eq!(posted.len(), 1, "{posted:?}");
    let body = &posted[0];
    for part in [
        "`before_pr`",
        "`/orchestrate approve`",
        "`/orchestrate reject <what to change>`",
        &format!("/acme/widgets/blob/{BRANCH40}/docs/reports/40.md"),
    ] {
        assert!(body.contains(part), "the comment lacks {part:?}:\n{body}");
    }
    let auth = hub.requests("POST", COMMENTS_PATH)[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(auth.ends_with(TOKEN));

    // A fresh job has no local branch: it is fetched.
    hub.repo.git(&["branch", "-D", BRANCH40]);
    let file = comment(&hub, "/orchestrate approve", "MEMBER");
    let run = action(&hub, "issue_comment", &file);
    run.expect_code(0)
        .stdout_has(PR_URL)
        .stderr_has("approving the gate #40 waits at");
    assert_eq!(hub.requests("POST", PULLS_PATH).len(), 1);
    let subjects = hub.repo.subjects(BRANCH40);
    assert_eq!(
        subjects[1], "orchestrate(gate): approve before_pr for #40",
        "{subjects:?}"
    );
    assert_eq!(impl_calls(&hub.repo).len(), 1, "impl ran again");
    // No comment for a completed run: the pull request links the issue.
    assert_eq!(comments_posted(&hub).len(), 1);
    let local = hub.repo.git(&["rev-parse", BRANCH40]);
    assert_eq!(hub.remote_tip(BRANCH40).as_deref(), Some(local.as_str()));
}

#[test]
fn a_reject_comment_records_the_feedback_and_the_run_revises() {
    let hub = hub();
    renaming_implementer(&hub);
    labeled_to_the_gate(&hub);
    let file = comment(
        &hub,
        "/orchestrate reject please add tests\r\nand call it is_verbose",
        "COLLABORATOR",
    );
    let run = action(&hub, "issue_comment", &file);
    run.expect_code(0).stderr_has("at gate before_pr");

    let subjects = hub.repo.subjects(BRANCH40);
    let rejected = subjects
        .iter()
        .position(|s| s == "orchestrate(gate): reject before_pr for #40")
        .unwrap_or_else(|| panic!("no rejection commit: {subjects:?}"));
    let message = hub.repo.git(&[
        "log",
        "-1",
        "--format=%B",
        &format!("{BRANCH40}~{rejected}"),
    ]);
    assert!(
        message.contains("please add tests\nand call it is_verbose"),
        "{message}"
    );
    assert_eq!(impl_calls(&hub.repo).len(), 2, "impl did not run again");
    let lib = hub.repo.show(BRANCH40, "src/lib.rs").unwrap();
    assert!(lib.contains("pub fn is_verbose()"), "{lib}");
    // Waiting again, asked again.
    assert_eq!(comments_posted(&hub).len(), 2);
    assert!(hub.requests("POST", PULLS_PATH).is_empty());
}

/// The job's own log says how to answer a gate from the issue, not with a local command.
#[test]
fn at_a_gate_the_job_log_names_the_comments_that_answer_it() {
    let hub = hub();
    let run = labeled_to_the_gate(&hub);
    run.stderr_has("comment `/orchestrate approve` on the issue")
        .stderr_has("comment `/orchestrate reject <what to change>` on the issue");
    assert!(
        !run.stderr.contains("git orchestrate approve"),
        "{}",
        run.stderr
    );
}

/// A person's decision is committed before the run; when the run then fails, the decision
/// still reaches the remote, or the next job would start without it.
#[test]
fn a_decision_is_pushed_even_when_the_run_after_it_fails() {
    let hub = hub();
    labeled_to_the_gate(&hub);
    let before = hub.remote_tip(BRANCH40);
    hub.repo.model(
        "implementer",
        "echo 'quota exceeded for this month' >&2\nexit 3",
    );
    let file = comment(&hub, "/orchestrate reject call it is_verbose", "OWNER");
    let run = action(&hub, "issue_comment", &file);
    run.expect_code(1)
        .stderr_has("quota exceeded for this month");

    let subjects = hub.repo.subjects(BRANCH40);
    assert_eq!(
        subjects[0], "orchestrate(gate): reject before_pr for #40",
        "{subjects:?}"
    );
    let local = hub.repo.git(&["rev-parse", BRANCH40]);
    assert_eq!(hub.remote_tip(BRANCH40).as_deref(), Some(local.as_str()));
    assert_ne!(hub.remote_tip(BRANCH40), before);
}

/// When the push fails as well, the error says both, and what is lost.
#[test]
fn a_failed_run_whose_push_fails_too_says_both() {
    let hub = hub();
    labeled_to_the_gate(&hub);
    hub.repo.model(
        "implementer",
        "echo 'quota exceeded for this month' >&2\nexit 3",
    );
    let hook = hub.bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'the remote is read-only today' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = comment(&hub, "/orchestrate reject call it is_verbose", "OWNER");
    let run = action(&hub, "issue_comment", &file);
    run.expect_code(1)
        .stderr_has("quota exceeded for this month")
        .stderr_has("the remote is read-only today")
        .stderr_has("the branch could not be pushed")
        .stderr_has("comment the same `/orchestrate` command again");
}

#[test]
fn shell_text_in_a_comment_is_feedback_and_nothing_runs() {
    let hub = hub();
    renaming_implementer(&hub);
    labeled_to_the_gate(&hub);
    let marks: Vec<PathBuf> = (1..=3)
        .map(|n| hub.repo.base().join(format!("pwned-{n}")))
        .collect();
    let feedback = format!(
        "$(touch {}); `touch {}` && echo x > {} | sh -c 'id' \"$HOME\" ${{IFS}}",
        marks[0].display(),
        marks[1].display(),
        marks[2].display()
    );
    let file = comment(&hub, &format!("/orchestrate reject {feedback}"), "OWNER");
    action(&hub, "issue_comment", &file).expect_code(0);
    let log = hub.repo.git(&["log", "--format=%B", BRANCH40]);
    assert!(log.contains(&feedback), "the feedback was changed:\n{log}");
    for mark in &marks {
        assert!(!mark.exists(), "{} was created", mark.display());
    }
}

#[test]
fn commands_from_accounts_without_write_access_are_ignored() {
    let hub = hub();
    let before = all_refs(&hub);
    for association in ["NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR"] {
        let file = comment(&hub, "/orchestrate approve", association);
        action(&hub, "issue_comment", &file)
            .expect_code(0)
            .stderr_has("ignored: @alice has no write access")
            .stderr_has(association);
    }
    assert_eq!(all_refs(&hub), before);
    assert!(hub.api.requests().is_empty(), "the API was called");
    assert!(hub.repo.calls().is_empty());
}

#[test]
fn events_that_ask_for_nothing_are_ignored_with_the_reason() {
    let hub = hub();
    let before = all_refs(&hub);
    let cases: Vec<(&str, PathBuf, &str)> = vec![
        (
            "issues",
            event(&hub, "issues-labeled.json", |e| {
                e["label"]["name"] = "bug".into();
            }),
            "ignored: the label `bug` was added",
        ),
        (
            "issue_comment",
            event(&hub, "issue_comment-created.json", |e| {
                e["issue"]["pull_request"] = serde_json::json!({
                    "url": "https://api.github.com/repos/acme/widgets/pulls/40",
                    "html_url": "https://github.com/acme/widgets/pull/40",
                    "diff_url": "https://github.com/acme/widgets/pull/40.diff",
                    "patch_url": "https://github.com/acme/widgets/pull/40.patch",
                    "merged_at": null
                });
            }),
            "ignored: a comment on a pull request",
        ),
        (
            "issue_comment",
            event(&hub, "issue_comment-created.json", |e| {
                e["comment"]["user"]["login"] = "github-actions[bot]".into();
                e["comment"]["user"]["type"] = "Bot".into();
            }),
            "ignored: a comment by the bot @github-actions[bot]",
        ),
        (
            "issue_comment",
            comment(&hub, "Looks good to me!", "MEMBER"),
            "ignored: the comment's first line is not an `/orchestrate` command",
        ),
        (
            "push",
            event(&hub, "push.json", |_| {}),
            "ignored: unsupported event `push`",
        ),
    ];
    for (name, file, said) in cases {
        action(&hub, name, &file).expect_code(0).stderr_has(said);
    }
    assert_eq!(all_refs(&hub), before);
    assert!(hub.api.requests().is_empty(), "the API was called");
}

#[test]
fn outside_actions_or_with_a_broken_event_file_it_is_an_error() {
    let hub = hub();
    hub.run_env(
        &[("GITHUB_TOKEN", TOKEN), ("GITHUB_EVENT_NAME", "issues")],
        &["action"],
    )
    .expect_code(1)
    .stderr_has("$GITHUB_EVENT_PATH is not set")
    .stderr_has("GitHub Actions")
    .stderr_has("git orchestrate <ISSUE>");

    let broken = hub.repo.base().join("event.json");
    std::fs::write(&broken, "{\"action\": \"labeled\", \"issue\": ").unwrap();
    action(&hub, "issues", &broken)
        .expect_code(1)
        .stderr_has(&broken.display().to_string())
        .stderr_has("is not a GitHub `issues` event")
        .stderr_has("EOF while parsing");

    let missing = hub.repo.base().join("nowhere.json");
    action(&hub, "issues", &missing)
        .expect_code(1)
        .stderr_has("cannot read the event file");
    assert!(hub.api.requests().is_empty());
}

#[test]
fn an_event_from_another_repository_is_refused() {
    let hub = hub();
    let file = event(&hub, "issues-labeled.json", |e| {
        e["repository"]["full_name"] = "evil/fork".into();
    });
    action(&hub, "issues", &file)
        .expect_code(1)
        .stderr_has("the event is from evil/fork, but runs here work with acme/widgets")
        .stderr_has("github.repo");
    assert!(hub.repo.calls().is_empty());
}

#[test]
fn the_job_refuses_to_run_tests_uncontained_unless_the_configuration_allows_it() {
    let hub = hub();
    let file = event(&hub, "issues-labeled.json", |_| {});
    let refused = hub.run_env(
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_EVENT_NAME", "issues"),
            ("GITHUB_EVENT_PATH", file.to_str().unwrap()),
            ("GIT_ORCHESTRATE_SANDBOX_SIMULATE", "no-landlock"),
        ],
        &["action"],
    );
    assert_ne!(refused.code, 0, "{}", refused.stderr);
    refused
        .stderr_has("sandbox.mode is \"required\", but agents and tests cannot be contained here");
    assert!(impl_calls(&hub.repo).is_empty());

    // The repository's configuration decides otherwise: the job runs, and says so.
    let config = hub.repo.read(".orchestrate.toml");
    hub.repo
        .config(&format!("{config}\n[sandbox]\nmode = \"auto\"\n"));
    let run = hub.run_env(
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_EVENT_NAME", "issues"),
            ("GITHUB_EVENT_PATH", file.to_str().unwrap()),
            ("GIT_ORCHESTRATE_SANDBOX_SIMULATE", "no-landlock"),
        ],
        &["action"],
    );
    run.expect_code(0)
        .stderr_has("warning: tests and agents run uncontained");
}
