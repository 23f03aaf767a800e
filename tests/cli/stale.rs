//! Stale stages: when the issue, a design, a prompt or a model changes after a stage was
//! made, what depends on it is redone — and only that — from what is on the branch.

use crate::harness::*;
use crate::implement::{CHECK, GOOD_EDIT, impl_calls};

/// A drafter whose every document differs (it names the call), so a revision changes the
/// file.
fn counting_drafter(repo: &TestRepo) -> String {
    repo.model(
        "drafter",
        &format!(
            "cat <<DOC\n{}\nDOC",
            complete_doc("$ORCHESTRATE_STAGE call $N")
        ),
    )
}

/// The implementer: the good edit first; told that its documents changed, one more line.
const IMPLEMENTER: &str = "if grep -q 'written for documents that changed since' \"$PROMPT\"; then\ncat <<'REPLY'\nsrc/lib.rs\n<<<<<<< SEARCH\npub fn verbose() -> bool {\n=======\npub fn verbose() -> bool {\n    // as the changed spec says\n>>>>>>> REPLACE\nREPLY\nelse\ncat <<'REPLY'\nGOOD_EDIT_HERE\nREPLY\nfi";

/// A repository with every stage through impl done on the issue branch, and the issue file.
fn done_through_impl(extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "tests"]);
    let drafter = counting_drafter(&repo);
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    let implementer = repo.model(
        "implementer",
        &IMPLEMENTER.replace("GOOD_EDIT_HERE", GOOD_EDIT),
    );
    repo.config_models(
        &drafter,
        &reviewer,
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"sh check.sh\"\n{extra}"
        ),
    );
    let issue = repo.default_issue();
    run(&repo, &issue, &[]).expect_code(0);
    (repo, issue)
}

fn run(repo: &TestRepo, issue: &str, more: &[&str]) -> Run {
    let mut args = vec!["7", "--issue-file", issue, "--until", "impl"];
    args.extend_from_slice(more);
    repo.run(&args)
}

/// Commit `content` at `path` on the issue branch as a person would (in their checkout).
fn hand_edit(repo: &TestRepo, path: &str, content: &str) -> String {
    repo.git(&["checkout", "-q", BRANCH]);
    repo.write(path, content);
    repo.git(&["commit", "-q", "-am", "a person's edit"]);
    let commit = repo.rev("HEAD");
    repo.git(&["checkout", "-q", "main"]);
    commit[..7].to_string()
}

/// The `stage role` of every model call since `from` (an index into the calls).
fn calls_since(repo: &TestRepo, from: usize) -> Vec<String> {
    repo.calls()
        .into_iter()
        .skip(from)
        .map(|c| c.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn a_hand_edited_design_redoes_spec_and_impl_only_from_what_is_on_the_branch() {
    let (repo, issue) = done_through_impl("");
    assert!(repo.trailer(BRANCH, "Orchestrate-Input").is_some());
    let spec_before = repo.show(BRANCH, "docs/specs/7.md").unwrap();
    let lld = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    let edit = hand_edit(
        &repo,
        "docs/lld/7.md",
        &format!("{lld}\n## Also\nLog to stderr.\n"),
    );

    // status says what is stale, why, in which commit, by whom; no model is called.
    let calls = repo.calls().len();
    repo.run(&["status", "7"])
        .expect_code(0)
        .stdout_has(&format!(
            "spec: stale: docs/lld/7.md changed in {edit} (Ada Author) after the spec was approved"
        ))
        .stdout_has("impl: stale: it was made from the implementation spec, which is stale and is redone first")
        .stdout_has("next: spec is stale: docs/lld/7.md changed in");
    let json = repo.run(&["status", "7", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let spec = &status["stages"][2];
    assert_eq!(spec["state"], "stale");
    assert_eq!(spec["stale"]["because"], "input");
    assert_eq!(spec["stale"]["path"], "docs/lld/7.md");
    assert_eq!(spec["stale"]["commit"], edit.as_str());
    assert_eq!(spec["stale"]["author"], "Ada Author");
    assert_eq!(
        status["stages"][1]["state"], "done",
        "a person's design is never stale"
    );
    // The list of issues marks it.
    let list = repo.run(&["status"]);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("#7 ") && l.contains("spec stale")),
        "{}",
        list.stdout
    );

    // The dry run shows the plan, with no model called.
    run(&repo, &issue, &["--dry-run"])
        .expect_code(0)
        .stdout_has("lld     skip")
        .stdout_has(&format!(
            "stale: docs/lld/7.md changed in {edit} (Ada Author) after the spec was approved; revising it to match"
        ));
    assert_eq!(repo.calls().len(), calls);

    // The run redoes spec (revising the spec on the branch) and impl, not triage or lld.
    run(&repo, &issue, &[])
        .expect_code(0)
        .stderr_has("Starting spec: stale: docs/lld/7.md changed in")
        .stderr_has("Starting impl: stale: it was made from the implementation spec, which is stale and is redone first; the implementer goes on from the code on the branch");
    let redone = calls_since(&repo, calls);
    assert_eq!(
        redone,
        ["spec drafter", "spec reviewer", "impl implementer"],
        "only spec and impl are redone"
    );
    let revise = repo.prompt(calls + 1);
    assert!(
        revise.contains(spec_before.trim()),
        "the drafter revises the spec it made"
    );
    assert!(revise.contains("What this implementation spec was made from changed since"));
    let implement = crate::implement::impl_prompt(&repo, 2);
    assert!(
        implement.contains("written for documents that changed since"),
        "{implement}"
    );
    assert!(
        implement.contains("```diff\n--- a/docs/specs/7.md"),
        "{implement}"
    );
    assert!(
        repo.show(BRANCH, "src/lib.rs")
            .unwrap()
            .contains("// as the changed spec says")
    );
    assert_eq!(
        repo.show(BRANCH, "docs/lld/7.md").unwrap(),
        format!("{lld}\n## Also\nLog to stderr.\n")
    );

    // Nothing is stale after the redo: a run again calls no model.
    let calls = repo.calls().len();
    let status = repo.run(&["status", "7"]);
    assert!(!status.stdout.contains("stale"), "{}", status.stdout);
    run(&repo, &issue, &[]).expect_code(0);
    assert_eq!(repo.calls().len(), calls);
}

#[test]
fn a_hand_edited_spec_redoes_only_impl() {
    let (repo, issue) = done_through_impl("");
    let spec = repo.show(BRANCH, "docs/specs/7.md").unwrap();
    hand_edit(
        &repo,
        "docs/specs/7.md",
        &format!("{spec}\n- also: log it\n"),
    );
    let calls = repo.calls().len();
    run(&repo, &issue, &[]).expect_code(0);
    assert_eq!(calls_since(&repo, calls), ["impl implementer"]);
    let prompt = crate::implement::impl_prompt(&repo, 2);
    assert!(
        prompt.contains("+- also: log it"),
        "the spec's diff: {prompt}"
    );
}

#[test]
fn an_edited_issue_redoes_every_stage_from_its_previous_artifact() {
    let (repo, issue) = done_through_impl("");
    let lld_before = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    std::fs::write(
        &issue,
        "# Add a --verbose flag\n\nUsers cannot see what the widget does.\nAdd `--verbose`, and `-v` for short.\n",
    )
    .unwrap();
    let calls = repo.calls().len();
    run(&repo, &issue, &[])
        .expect_code(0)
        .stderr_has("Starting triage: stale: the issue's text changed after the brief was written");
    assert_eq!(
        calls_since(&repo, calls),
        [
            "lld drafter",
            "lld reviewer",
            "spec drafter",
            "spec reviewer",
            "impl implementer"
        ]
    );
    assert!(
        repo.show(BRANCH, "docs/issues/7.md")
            .unwrap()
            .contains("`-v` for short")
    );
    assert!(
        repo.prompt(calls + 1).contains(lld_before.trim()),
        "the lld drafter revises its design"
    );
}

#[test]
fn a_changed_prompt_template_for_spec_makes_spec_stale() {
    let (repo, issue) = done_through_impl("");
    let builtin = include_str!("../../src/pipeline/prompts/spec-draft.md");
    repo.write(
        ".orchestrate/prompts/spec-draft.md",
        &format!("{builtin}\nAlways list the error cases.\n"),
    );
    repo.run(&["status", "7"])
        .expect_code(0)
        .stdout_has("spec: stale: a prompt template of spec changed after the spec was approved");
    let calls = repo.calls().len();
    run(&repo, &issue, &[]).expect_code(0);
    assert_eq!(
        calls_since(&repo, calls),
        ["spec drafter", "spec reviewer", "impl implementer"]
    );
}

#[test]
fn a_new_model_for_lld_makes_it_stale_and_keep_stale_keeps_it_saying_so() {
    let (repo, issue) = done_through_impl("");
    let other = repo.model(
        "other-drafter",
        &format!("cat <<DOC\n{}\nDOC", complete_doc("other $N")),
    );
    let config = std::fs::read_to_string(repo.root.join(".orchestrate.toml")).unwrap();
    let (lld, rest) = config.split_once("[stages.spec]").unwrap();
    let drafter_line = lld
        .lines()
        .find(|l| l.starts_with("drafter"))
        .unwrap()
        .to_string();
    repo.write(
        ".orchestrate.toml",
        &format!(
            "{}[stages.spec]{rest}",
            lld.replace(&drafter_line, &format!("drafter = \"{other}\""))
        ),
    );
    let calls = repo.calls().len();
    run(&repo, &issue, &["--keep-stale"])
        .expect_code(0)
        .stderr_has("stale, kept as it is in")
        .stderr_has(&format!("the drafter is now {other}"));
    assert_eq!(repo.calls().len(), calls, "--keep-stale calls no model");

    // orchestrator.on_stale = "keep" does the same; without either, lld is redone.
    run(&repo, &issue, &["-c", "orchestrator.on_stale=keep"]).expect_code(0);
    assert_eq!(repo.calls().len(), calls);
    run(&repo, &issue, &[]).expect_code(0);
    assert_eq!(
        calls_since(&repo, calls),
        [
            "lld drafter",
            "lld reviewer",
            "spec drafter",
            "spec reviewer",
            "impl implementer"
        ]
    );
    assert_eq!(
        repo.trailer(&format!("{BRANCH}~2"), "Orchestrate-Drafter")
            .as_deref(),
        Some(other.as_str())
    );
}

#[test]
fn branches_made_before_the_input_trailer_are_never_stale() {
    let (repo, issue) = done_through_impl("");
    // The same history without `Orchestrate-Input`, as an older version wrote it.
    repo.git(&["checkout", "-q", BRANCH]);
    let rewrite = repo.git_output(&[
        "-c",
        "advice.filterBranch=false",
        "filter-branch",
        "-f",
        "--msg-filter",
        "grep -v '^Orchestrate-Input:'",
        "main..HEAD",
    ]);
    assert!(rewrite.status.success(), "{rewrite:?}");
    repo.git(&["checkout", "-q", "main"]);
    assert!(repo.trailer(BRANCH, "Orchestrate-Input").is_none());
    let builtin = include_str!("../../src/pipeline/prompts/spec-draft.md");
    repo.write(
        ".orchestrate/prompts/spec-draft.md",
        &format!("{builtin}\nMore.\n"),
    );
    let status = repo.run(&["status", "7"]);
    assert!(!status.stdout.contains("stale"), "{}", status.stdout);
    let calls = repo.calls().len();
    run(&repo, &issue, &[]).expect_code(0);
    assert_eq!(repo.calls().len(), calls);
    assert!(impl_calls(&repo).len() == 1);
}

/// GitHub's issue 40, as filed for its first `reads`, then edited: `-v` added.
fn edited_on_github(reads: u64) -> crate::github::Hub {
    use crate::github::{BODY, Hub, ISSUE_PATH, github_ok, issue_json};
    use wiremock::Mock;
    use wiremock::matchers::{method, path};
    let hub = Hub::bare();
    let answer = |body: &str| {
        Mock::given(method("GET"))
            .and(path(ISSUE_PATH))
            .respond_with(github_ok(issue_json(40, "Add a --verbose flag", body)))
    };
    hub.api.mount(answer(BODY).up_to_n_times(reads));
    hub.api
        .mount(answer("Users need `--verbose`, and `-v` for short."));
    hub
}

#[test]
fn status_refresh_reads_the_issue_once_and_says_the_brief_is_stale() {
    // The issue as the run reads it, then as it reads after someone edited it on GitHub.
    let hub = edited_on_github(1);
    hub.run(&["40", "--until", "spec"]).expect_code(0);

    // Plain status stays offline: no request, and the brief is taken as current.
    let requests = hub.api.requests().len();
    let offline = hub.run(&["status", "40"]);
    offline.expect_code(0);
    assert!(!offline.stdout.contains("stale"), "{}", offline.stdout);
    assert_eq!(hub.api.requests().len(), requests);

    // --refresh reads the issue, once, and sees the edit.
    hub.run(&["status", "40", "--refresh"])
        .expect_code(0)
        .stdout_has("triage: stale: the issue's text changed after the brief was written")
        .stdout_has("lld: stale: it was made from the brief, which is stale and is redone first")
        .stdout_has("next: triage is stale");
    assert_eq!(hub.api.requests().len(), requests + 1, "one request");

    // With no issue, --refresh reads each issue that has a branch, and the list marks it.
    let list = hub.run(&["status", "--refresh"]);
    list.expect_code(0);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("#40 ") && l.contains("triage stale")),
        "{}",
        list.stdout
    );
    assert_eq!(hub.api.requests().len(), requests + 2);
    // Without it, the list stays offline (and its cache never kept the refreshed answer).
    let offline = hub.run(&["status"]);
    assert!(!offline.stdout.contains("stale"), "{}", offline.stdout);
    assert_eq!(hub.api.requests().len(), requests + 2);
}

#[test]
fn a_run_reads_the_github_issue_again_and_an_edit_redoes_the_brief() {
    let hub = edited_on_github(2);
    hub.run(&["40", "--until", "spec"]).expect_code(0);
    // Read again, unchanged: nothing is redone.
    let calls = hub.repo.calls().len();
    hub.run(&["40", "--until", "spec"]).expect_code(0);
    assert_eq!(hub.repo.calls().len(), calls);
    // Edited on GitHub since: the brief is redone, and what was made from it.
    hub.run(&["40", "--until", "spec"])
        .expect_code(0)
        .stderr_has("Starting triage: stale: the issue's text changed after the brief was written");
    assert!(
        hub.repo
            .show("orchestrate/40-add-a-verbose-flag", "docs/issues/40.md")
            .unwrap()
            .contains("`-v` for short")
    );
    assert!(hub.repo.calls().len() > calls);

    // Without a token the issue cannot be read again: the run says so and goes on with the
    // issue as its brief filed it, which is current: nothing is redone.
    let calls = hub.repo.calls().len();
    let run = hub.repo.run(&[
        "-c",
        &format!("github.api_url={}", hub.api.url()),
        "40",
        "--until",
        "spec",
    ]);
    run.expect_code(0)
        .stderr_has("could not read issue #40 from GitHub again")
        .stderr_has("going on with the issue as its brief filed it");
    assert_eq!(hub.repo.calls().len(), calls, "{}", run.stderr);
}

#[test]
fn a_rerun_without_the_issue_file_reads_the_brief_and_finds_nothing_stale() {
    // With a triage model, the brief keeps the issue as filed; without one, it is the issue.
    for triage in [true, false] {
        let (repo, issue) = done_through_impl("");
        if triage {
            let triager = repo.model("triager", &brief_script(GOOD_BRIEF));
            let config = std::fs::read_to_string(repo.root.join(".orchestrate.toml")).unwrap();
            repo.write(
                ".orchestrate.toml",
                &format!("[stages.triage]\ndrafter = \"{triager}\"\n\n{config}"),
            );
            // A triage model now: the brief is redone once (its model changed), then current.
            run(&repo, &issue, &[]).expect_code(0);
        }
        let calls = repo.calls().len();
        repo.run(&["7", "--until", "impl"]).expect_code(0);
        assert_eq!(repo.calls().len(), calls, "triage model: {triage}");
        let status = repo.run(&["status", "7"]);
        assert!(!status.stdout.contains("stale"), "{}", status.stdout);
    }
}
