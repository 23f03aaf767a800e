//! GitHub end to end: the issue read from the API (a loopback server answering with GitHub's
//! documented bodies and headers), every stage run with scripted models, the branch pushed by
//! the real `git push` to a local bare repository (the user's own git configuration sends
//! `https://github.com/acme/widgets.git` there with `insteadOf`), one pull request opened,
//! its address recorded on the branch.

use std::path::PathBuf;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::harness::{Run, TestRepo, by_round};
use crate::implement::{GOOD_EDIT, impl_repo};
use crate::vendors::Vendor;

/// The token every test hands over in `GITHUB_TOKEN`.
pub(crate) const TOKEN: &str = "ghp_Zq8x3Lw0TestToken4Orchestrate9Pq2Rk7";
pub(crate) const BRANCH40: &str = "orchestrate/40-add-a-verbose-flag";
pub(crate) const ISSUE_PATH: &str = "/repos/acme/widgets/issues/40";
pub(crate) const PULLS_PATH: &str = "/repos/acme/widgets/pulls";
pub(crate) const PR_URL: &str = "https://github.com/acme/widgets/pull/57";

/// A repository whose `origin` is GitHub's acme/widgets, pushed to a local bare repository,
/// with scripted models for every stage and the API on loopback.
pub(crate) struct Hub {
    pub repo: TestRepo,
    pub api: Vendor,
    pub bare: PathBuf,
}

impl Hub {
    /// Issue 40 open on the API, with no comments and no pull request yet.
    pub(crate) fn new() -> Hub {
        let hub = Hub::bare();
        hub.api.mount(
            Mock::given(method("GET"))
                .and(path(ISSUE_PATH))
                .respond_with(github_ok(issue_json(40, "Add a --verbose flag", BODY))),
        );
        hub.mount_pulls(json!([]), json!(pull_json(57, BRANCH40, true)));
        hub
    }

    /// The repository, the remote and the server, with nothing mounted.
    pub(crate) fn bare() -> Hub {
        let (repo, _) = impl_repo(&by_round(&[GOOD_EDIT]), "");
        let bare = repo.base().join("widgets.git");
        repo.git(&[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            &bare.to_string_lossy(),
        ]);
        repo.git(&[
            "remote",
            "add",
            "origin",
            "https://github.com/acme/widgets.git",
        ]);
        repo.git(&[
            "config",
            &format!("url.{}.insteadOf", bare.display()),
            "https://github.com/acme/widgets.git",
        ]);
        repo.git(&["push", "-q", "origin", "main"]);
        Hub {
            repo,
            api: Vendor::start(),
            bare,
        }
    }

    /// The open pull requests of the branch (`found`), and what creating one answers.
    pub(crate) fn mount_pulls(&self, found: Value, created: Value) {
        self.api.mount(
            Mock::given(method("GET"))
                .and(path(PULLS_PATH))
                .and(query_param("head", format!("acme:{BRANCH40}")))
                .respond_with(github_ok(found)),
        );
        self.api.mount(
            Mock::given(method("POST"))
                .and(path(PULLS_PATH))
                .respond_with(github_json(201, created)),
        );
    }

    /// Run with the token in `GITHUB_TOKEN` and the API on loopback.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_env(&[("GITHUB_TOKEN", TOKEN)], args)
    }

    pub(crate) fn run_env(&self, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let api = format!("github.api_url={}", self.api.url());
        let mut all: Vec<&str> = vec!["-c", &api];
        all.extend_from_slice(args);
        self.repo.run_env(vars, &all)
    }

    /// The requests the API received with `method` on `path`.
    pub(crate) fn requests(&self, verb: &str, on: &str) -> Vec<Request> {
        self.api
            .requests()
            .into_iter()
            .filter(|r| r.method.as_str() == verb && r.url.path() == on)
            .collect()
    }

    /// The tip of `branch` in the bare repository, if it has the branch.
    pub(crate) fn remote_tip(&self, branch: &str) -> Option<String> {
        let out = self.repo.git_output(&[
            "--git-dir",
            &self.bare.to_string_lossy(),
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

pub(crate) const BODY: &str = "Users need a `--verbose` flag.\n\nIt should print every step.";

/// A 200 answer with the headers GitHub sends on every REST response.
pub(crate) fn github_ok(body: Value) -> ResponseTemplate {
    github_json(200, body)
}

pub(crate) fn github_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json; charset=utf-8")
        .insert_header("x-github-api-version-selected", "2022-11-28")
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "4987")
        .insert_header("x-ratelimit-reset", "1767229200")
        .insert_header("x-ratelimit-used", "13")
        .insert_header("x-ratelimit-resource", "core")
        .insert_header("x-oauth-scopes", "repo, read:org")
        .set_body_json(body)
}

fn user(login: &str) -> Value {
    json!({
        "login": login,
        "id": 1001,
        "node_id": "MDQ6VXNlcjEwMDE=",
        "avatar_url": format!("https://avatars.githubusercontent.com/u/1001?v=4"),
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "type": "User",
        "site_admin": false
    })
}

/// An issue as `GET /repos/{owner}/{repo}/issues/{number}` answers it.
pub(crate) fn issue_json(number: u64, title: &str, body: &str) -> Value {
    json!({
        "id": 1_000_000 + number,
        "node_id": "I_kwDOAbCdEf5xYz",
        "url": format!("https://api.github.com/repos/acme/widgets/issues/{number}"),
        "repository_url": "https://api.github.com/repos/acme/widgets",
        "labels_url": format!("https://api.github.com/repos/acme/widgets/issues/{number}/labels{{/name}}"),
        "comments_url": format!("https://api.github.com/repos/acme/widgets/issues/{number}/comments"),
        "events_url": format!("https://api.github.com/repos/acme/widgets/issues/{number}/events"),
        "html_url": format!("https://github.com/acme/widgets/issues/{number}"),
        "number": number,
        "state": "open",
        "state_reason": null,
        "title": title,
        "body": body,
        "user": user("octocat"),
        "labels": [
            {"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "url": "https://api.github.com/repos/acme/widgets/labels/enhancement", "name": "enhancement", "description": "New feature", "color": "a2eeef", "default": true},
            {"id": 208045947, "node_id": "MDU6TGFiZWwyMDgwNDU5NDc=", "url": "https://api.github.com/repos/acme/widgets/labels/cli", "name": "cli", "description": null, "color": "f29513", "default": false}
        ],
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": 0,
        "closed_at": null,
        "created_at": "2026-11-30T09:00:00Z",
        "updated_at": "2026-11-30T09:30:00Z",
        "closed_by": null,
        "author_association": "MEMBER",
        "reactions": {"url": format!("https://api.github.com/repos/acme/widgets/issues/{number}/reactions"), "total_count": 0}
    })
}

/// A comment as `GET /repos/{owner}/{repo}/issues/{number}/comments` lists it.
pub(crate) fn comment_json(id: u64, login: &str, association: &str, body: &str) -> Value {
    json!({
        "id": id,
        "node_id": "IC_kwDOAbCdEf5xYz",
        "url": format!("https://api.github.com/repos/acme/widgets/issues/comments/{id}"),
        "html_url": format!("https://github.com/acme/widgets/issues/40#issuecomment-{id}"),
        "issue_url": "https://api.github.com/repos/acme/widgets/issues/40",
        "body": body,
        "user": user(login),
        "created_at": "2026-11-30T10:00:00Z",
        "updated_at": "2026-11-30T10:00:00Z",
        "author_association": association
    })
}

/// A pull request as `POST /repos/{owner}/{repo}/pulls` and the list answer it.
pub(crate) fn pull_json(number: u64, branch: &str, draft: bool) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/acme/widgets/pulls/{number}"),
        "id": 2_000_000 + number,
        "node_id": "PR_kwDOAbCdEf5xYz",
        "html_url": format!("https://github.com/acme/widgets/pull/{number}"),
        "diff_url": format!("https://github.com/acme/widgets/pull/{number}.diff"),
        "number": number,
        "state": "open",
        "locked": false,
        "title": "Add a --verbose flag (#40)",
        "user": user("octocat"),
        "body": "",
        "draft": draft,
        "head": {"label": format!("acme:{branch}"), "ref": branch, "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "user": user("acme")},
        "base": {"label": "acme:main", "ref": "main", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "user": user("acme")},
        "created_at": "2026-12-01T12:00:00Z",
        "updated_at": "2026-12-01T12:00:00Z",
        "merged": false,
        "mergeable": null
    })
}

/// Everything a run can write down: commits (messages and files on every ref), the local
/// state directory (transcripts, locks, caches), and what it printed.
pub(crate) fn everything_written(repo: &TestRepo, run: &Run) -> String {
    let mut all = repo.git(&["log", "--all", "-p", "--format=%B"]);
    all.push_str(&run.stdout);
    all.push_str(&run.stderr);
    let state = repo.root.join(".git/orchestrate");
    for entry in walk(&state) {
        if let Ok(bytes) = std::fs::read(&entry) {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    all
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn an_issue_goes_from_github_to_one_draft_pull_request() {
    let hub = Hub::new();
    let before = hub.repo.checkout_state();
    let run = hub.run(&["40", "--no-input", "--no-gate-before-pr"]);
    run.stderr_has("Committed pr (passed) ")
        .stderr_has("PR #57 opened draft into main");
    run.expect_code(0)
        .stdout_has(PR_URL)
        .stderr_has("token from GITHUB_TOKEN");
    assert_eq!(
        hub.repo.checkout_state(),
        before,
        "the checkout was touched"
    );

    // The brief records where the issue came from.
    let brief = hub
        .repo
        .git(&["show", &format!("{BRANCH40}:docs/issues/40.md")]);
    assert!(brief.starts_with("# Add a --verbose flag\n"), "{brief}");
    for line in [
        "- Issue: https://github.com/acme/widgets/issues/40",
        "- Author: @octocat",
        "- Labels: enhancement, cli",
        "- State: open",
        "- Read: 20",
    ] {
        assert!(brief.contains(line), "brief lacks {line:?}:\n{brief}");
    }

    // Every stage, then the pull request's record, on the branch; all of it pushed.
    let subjects = hub.repo.subjects(BRANCH40);
    assert_eq!(
        subjects[0],
        "orchestrate(pr): pull request for #40 Add a --verbose flag"
    );
    assert!(
        subjects[1].starts_with("orchestrate(impl):"),
        "{subjects:?}"
    );
    let trailers = hub.repo.trailers(BRANCH40);
    assert!(
        trailers.contains(&("Orchestrate-PR".into(), PR_URL.into())),
        "{trailers:?}"
    );
    assert!(trailers.contains(&("Orchestrate-Stage".into(), "pr".into())));
    let local = hub.repo.git(&["rev-parse", BRANCH40]);
    assert_eq!(hub.remote_tip(BRANCH40).as_deref(), Some(local.as_str()));

    // Exactly one pull request, drafted, into the base, closing the issue.
    let posts = hub.requests("POST", PULLS_PATH);
    assert_eq!(posts.len(), 1);
    let sent: Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(sent["title"], "Add a --verbose flag (#40)");
    assert_eq!(sent["head"], format!("acme:{BRANCH40}"));
    assert_eq!(sent["base"], "main");
    assert_eq!(sent["draft"], true);
    let body = sent["body"].as_str().unwrap();
    assert!(body.contains("Closes #40"), "{body}");
    assert!(body.contains("Users need a `--verbose` flag."), "{body}");
    let pushed = hub.repo.git(&["rev-parse", &format!("{BRANCH40}~1")]);
    for doc in [
        "docs/issues/40.md",
        "docs/lld/40.md",
        "docs/specs/40.md",
        "docs/reports/40.md",
    ] {
        let link = format!("/acme/widgets/blob/{pushed}/{doc}");
        assert!(body.contains(&link), "body lacks {link}:\n{body}");
    }
    assert!(body.contains("| lld | approved |"), "{body}");
    assert!(body.contains("| impl | passed |"), "{body}");
    // What proves the change, from the report, in one place for the reviewer.
    assert!(
        body.contains("## Verification\n\n- **Proving tests**: on the code without the change, with only the change's test files (`tests/verbose.sh`) applied, `tests/verbose.sh` fail; with the change they pass."),
        "{body}"
    );
    assert!(
        body.contains("- **Original tests**: the change modifies no test file of the base"),
        "{body}"
    );
    assert!(
        body.contains("- **Baseline** (the code without the change): passed"),
        "{body}"
    );
    let auth = posts[0].headers.get("authorization").unwrap();
    assert!(auth.to_str().unwrap().ends_with(TOKEN));

    // The worktree is gone; status knows the pull request without asking GitHub.
    assert!(!hub.repo.root.join(".git/orchestrate/worktrees/40").exists());
    let requests = hub.api.requests().len();
    hub.repo
        .run(&["status", "40"])
        .expect_code(0)
        .stdout_has(&format!("pull request: {PR_URL}"))
        // What to do next is the pull request as recorded, not "open a pull request".
        .stdout_has(&format!(
            "next: every stage is done: Opened draft pull request #57 into main: {PR_URL}\n  review and merge it on GitHub; its state now: `gh pr view {PR_URL}`"
        ));
    assert!(
        !hub.repo
            .run(&["status", "40"])
            .stdout
            .contains("open a pull request")
    );
    assert_eq!(hub.api.requests().len(), requests);

    // The token is written nowhere.
    let written = everything_written(&hub.repo, &run);
    assert!(!written.contains(TOKEN), "the token was written down");
    assert!(!body.contains(TOKEN));

    // A re-run finds everything done: one request reads the issue again (to see whether it
    // changed since its brief), nothing else, and no second pull request.
    let again = hub.run(&["40", "--no-input", "--no-gate-before-pr"]);
    again.expect_code(0);
    assert_eq!(hub.requests("POST", PULLS_PATH).len(), 1);
    assert_eq!(hub.api.requests().len(), requests + 1);
    assert_eq!(hub.api.requests()[requests].url.path(), ISSUE_PATH);
}

/// The plan says where the pull request would go, and asks nothing of GitHub for it.
#[test]
fn a_dry_run_says_where_the_pull_request_would_go() {
    let hub = Hub::new();
    let run = hub.run(&["40", "--dry-run", "--base", "main"]);
    run.expect_code(0).stdout_has(
        "pr pushes the branch to origin and opens a draft pull request on acme/widgets into main",
    );
    assert!(hub.requests("GET", PULLS_PATH).is_empty());
    assert_eq!(hub.remote_tip(BRANCH40), None, "nothing pushed");

    // A push remote of its own (a fork), and no draft.
    let run = hub.run(&[
        "-c",
        "github.push_remote=fork",
        "-c",
        "github.draft=false",
        "40",
        "--dry-run",
    ]);
    run.expect_code(0).stdout_has(
        "pr pushes the branch to fork and opens a pull request on acme/widgets into main",
    );

    // A remote that is not on GitHub: the plan says the run could not open it.
    hub.repo.git(&[
        "remote",
        "set-url",
        "origin",
        "https://gitlab.com/acme/widgets.git",
    ]);
    let run = hub.run(&["-c", "github.repo=acme/widgets", "40", "--dry-run"]);
    run.expect_code(0)
        .stdout_has("opens a draft pull request on acme/widgets");
    let file = hub.repo.default_issue();
    let plain = hub.repo.run(&["40", "--issue-file", &file, "--dry-run"]);
    plain.expect_code(0).stdout_has(
        "pr pushes the branch to origin, but cannot tell where to open a draft pull request:",
    );
}

#[test]
fn the_gate_before_the_pull_request_holds_until_approved() {
    let hub = Hub::new();
    hub.run(&["40", "--no-input"])
        .expect_code(4)
        .stderr_has("git orchestrate approve 40");
    assert_eq!(hub.remote_tip(BRANCH40), None, "pushed before the gate");
    assert!(hub.requests("POST", PULLS_PATH).is_empty());

    hub.repo.run(&["approve", "40"]).expect_code(0);
    let run = hub.run(&["40", "--no-input"]);
    run.expect_code(0).stdout_has(PR_URL);
    assert_eq!(hub.requests("POST", PULLS_PATH).len(), 1);
    let local = hub.repo.git(&["rev-parse", BRANCH40]);
    assert_eq!(hub.remote_tip(BRANCH40).as_deref(), Some(local.as_str()));
    // Models ran once: the second run only pushed and opened the pull request.
    let impl_calls = hub
        .repo
        .call_roles()
        .into_iter()
        .filter(|c| c.starts_with("impl "))
        .count();
    assert_eq!(impl_calls, 1);
}

/// Issue 40 waiting at the gate before the pull request, with a person's edit of the code in
/// its worktree (made while it waits); and that worktree.
fn hand_edited_at_the_gate() -> (Hub, PathBuf) {
    let hub = Hub::new();
    hub.run(&["40", "--no-input"]).expect_code(4);
    let worktree = hub.repo.root.join(".git/orchestrate/worktrees/40");
    std::fs::write(
        worktree.join("src/lib.rs"),
        "pub fn widget() { by_hand() }\n",
    )
    .unwrap();
    (hub, worktree)
}

#[test]
fn a_hand_edit_in_the_worktree_at_the_gate_is_saved_before_the_pull_request_removes_it() {
    let (hub, worktree) = hand_edited_at_the_gate();

    hub.repo.run(&["approve", "40"]).expect_code(0);
    let run = hub.run(&["40", "--no-input"]);
    run.expect_code(0).stdout_has(PR_URL);
    assert!(!worktree.exists());
    let recovered = hub.repo.root.join(".git/orchestrate/recovered/40");
    let saved: Vec<(String, String)> = crate::harness::files_under(&recovered)
        .into_iter()
        .filter(|(path, _)| path.ends_with("/src/lib.rs"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0].1, "pub fn widget() { by_hand() }\n");
    let dir = std::path::Path::new(&saved[0].0)
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    run.stderr_has(&format!(
        "the worktree of #40 held changes no commit has; they are saved in {} and the worktree is removed",
        dir.display()
    ));
}

#[test]
fn a_worktree_whose_hand_edit_cannot_be_saved_is_kept_after_the_pull_request() {
    let (hub, worktree) = hand_edited_at_the_gate();
    // A file where saved work goes: nothing can be saved there, root or not.
    let recovered = hub.repo.root.join(".git/orchestrate/recovered");
    let _ = std::fs::remove_dir_all(&recovered);
    std::fs::write(&recovered, "in the way\n").unwrap();

    hub.repo.run(&["approve", "40"]).expect_code(0);
    let run = hub.run(&["40", "--no-input"]);
    run.expect_code(0).stdout_has(PR_URL).stderr_has(&format!(
        "the worktree {} is kept: it holds changes no commit has, and they could not be saved",
        worktree.display()
    ));
    assert_eq!(
        std::fs::read_to_string(worktree.join("src/lib.rs")).unwrap(),
        "pub fn widget() { by_hand() }\n"
    );
}

#[test]
fn json_events_say_what_github_did_and_never_the_token() {
    let hub = Hub::new();
    let run = hub.run(&["40", "--no-input", "--no-gate-before-pr", "--json"]);
    run.expect_code(0);
    let events =
        crate::schema::assert_events(&run, "a run from a GitHub issue to its pull request");
    let of = |kind: &str| {
        events
            .iter()
            .find(|e| e["event"] == kind)
            .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
    };
    assert_eq!(of("github")["token"], "GITHUB_TOKEN");
    assert_eq!(
        of("issue_read")["url"],
        "https://github.com/acme/widgets/issues/40"
    );
    assert_eq!(of("pull_request")["url"], PR_URL);
    assert_eq!(of("pull_request")["created"], true);
    assert!(!run.stdout.contains(TOKEN));
}
