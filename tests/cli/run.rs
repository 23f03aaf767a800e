//! The pipeline end to end: branch, commits, trailers, re-runs, resume, skip, dry run.

use crate::harness::{
    BRANCH, LLD_SUBJECT, SPEC_SUBJECT, TRIAGE_SUBJECT, TestRepo, approved, blocked, revise,
};

/// A good drafter, and a reviewer that asks for one revision and then approves.
fn setup() -> (TestRepo, String) {
    TestRepo::reviewed(&[&revise(&["name the files"]), approved()], "")
}

#[test]
fn until_spec_commits_brief_design_and_spec_with_trailers() {
    let (repo, issue) = setup();
    let main_before = repo.rev("main");
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(0);

    assert!(
        repo.branches().contains(&BRANCH.to_string()),
        "{:?}",
        repo.branches()
    );
    assert_eq!(
        repo.rev("main"),
        main_before,
        "the base branch must not move"
    );
    assert_eq!(
        repo.subjects(BRANCH)[..3],
        [SPEC_SUBJECT, LLD_SUBJECT, TRIAGE_SUBJECT]
    );
    assert_eq!(
        repo.rev(&format!("{BRANCH}~3")),
        main_before,
        "branch starts at main"
    );

    let brief = repo.show(BRANCH, "docs/issues/7.md").unwrap();
    assert!(brief.starts_with("# Add a --verbose flag\n"), "{brief}");
    assert!(brief.contains("Add `--verbose`."));
    assert_eq!(
        repo.trailer(&format!("{BRANCH}~2"), "Orchestrate-Stage")
            .as_deref(),
        Some("triage")
    );
    assert_eq!(
        repo.trailer(&format!("{BRANCH}~2"), "Orchestrate-Verdict")
            .as_deref(),
        Some("passed")
    );

    let lld = format!("{BRANCH}~1");
    let trailers = repo.trailers(&lld);
    let get = |k: &str| {
        trailers
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("Orchestrate-Issue"), Some("7"));
    assert_eq!(get("Orchestrate-Stage"), Some("lld"));
    assert_eq!(get("Orchestrate-Verdict"), Some("approved"));
    assert_eq!(get("Orchestrate-Rounds"), Some("2"));
    assert!(
        get("Orchestrate-Drafter")
            .unwrap()
            .ends_with("/bin/drafter")
    );
    assert!(
        get("Orchestrate-Reviewer")
            .unwrap()
            .ends_with("/bin/reviewer")
    );
    // The approved design is the round-2 revision, with both rounds in the review log.
    let design = repo.show(&lld, "docs/lld/7.md").unwrap();
    assert!(design.contains("lld round 2"), "{design}");
    let log = repo.show(&lld, "docs/reviews/7-lld.md").unwrap();
    assert!(
        log.contains("### Round 1: REVISE") && log.contains("name the files"),
        "{log}"
    );
    assert!(log.contains("### Round 2: APPROVED"), "{log}");

    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Stage").as_deref(),
        Some("spec")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
    assert!(
        repo.show(BRANCH, "docs/specs/7.md")
            .unwrap()
            .contains("spec round 2")
    );
    assert!(repo.show(BRANCH, "docs/reviews/7-spec.md").is_some());
    assert_eq!(
        repo.call_roles(),
        [
            "lld drafter 1",
            "lld reviewer 1",
            "lld drafter 2",
            "lld reviewer 2",
            "spec drafter 1",
            "spec reviewer 1",
            "spec drafter 2",
            "spec reviewer 2",
        ]
    );
}

#[test]
fn the_checkout_index_and_uncommitted_files_are_untouched() {
    let (repo, issue) = setup();
    // A user mid-work on another branch: staged, unstaged and untracked changes.
    repo.git(&["switch", "-q", "-c", "feature"]);
    repo.write("src/lib.rs", "pub fn widget() { /* staged */ }\n");
    repo.git(&["add", "src/lib.rs"]);
    repo.write(
        "src/lib.rs",
        "pub fn widget() { /* staged, then edited */ }\n",
    );
    repo.write("notes.txt", "untracked\n");
    repo.write("docs/lld/7.md", "my own scratch file, untracked\n");
    let before = repo.checkout_state();

    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(0);

    assert_eq!(repo.checkout_state(), before);
    assert_eq!(
        repo.read("docs/lld/7.md"),
        "my own scratch file, untracked\n"
    );
    // The issue branch starts from the branch checked out when the run started.
    assert_eq!(repo.rev(&format!("{BRANCH}~3")), repo.rev("feature"));
}

#[test]
fn a_second_run_calls_no_model() {
    let (repo, issue) = setup();
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(0);
    let calls = repo.calls().len();
    let tip = repo.rev(BRANCH);

    // Without --issue-file: the brief on the branch is the issue now.
    let run = repo.run(&["7", "--until", "spec"]);
    run.expect_code(0).stderr_has("Skipping lld: done in");
    assert_eq!(repo.calls().len(), calls);
    assert_eq!(repo.rev(BRANCH), tip);
}

#[test]
fn resume_from_spec_redoes_only_the_spec() {
    let (repo, issue) = setup();
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(0);
    let lld_commit = repo.rev(&format!("{BRANCH}~1"));
    let before = repo.calls().len();

    repo.run(&["7", "--until", "spec", "--resume-from", "spec"])
        .expect_code(0);

    let new_calls: Vec<String> = repo.call_roles()[before..].to_vec();
    assert!(
        new_calls.iter().all(|c| c.starts_with("spec ")),
        "{new_calls:?}"
    );
    assert_eq!(
        new_calls.first().map(String::as_str),
        Some("spec drafter 1"),
        "a fresh draft"
    );
    assert_eq!(
        repo.rev(&format!("{BRANCH}~2")),
        lld_commit,
        "the design commit is kept"
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Stage").as_deref(),
        Some("spec")
    );
    assert_eq!(repo.subjects(BRANCH).len(), 5, "one new commit on top");
}

#[test]
fn resume_from_a_stage_whose_predecessors_are_incomplete_is_refused() {
    let (repo, issue) = TestRepo::reviewed(&[&blocked("contradiction")], "");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(3);
    let tip = repo.rev(BRANCH);
    let calls = repo.calls().len();

    repo.run(&["7", "--resume-from", "spec"])
        .expect_code(1)
        .stderr_has("cannot resume from spec: lld is not complete")
        .stderr_has("blocked")
        .stderr_has("hint:");
    assert_eq!(repo.rev(BRANCH), tip);
    assert_eq!(repo.calls().len(), calls);

    // Before any branch exists, resuming past triage is refused too.
    let (fresh, issue) = TestRepo::reviewed(&[&blocked("contradiction")], "");
    fresh
        .run(&["9", "--issue-file", &issue, "--resume-from", "lld"])
        .expect_code(1)
        .stderr_has("triage is not complete");
    assert_eq!(fresh.branches(), ["main"]);
}

#[test]
fn skip_lld_goes_on_to_the_spec_without_a_design() {
    let (repo, issue) = setup();
    repo.run(&["7", "--issue-file", &issue, "--until", "spec", "--skip-lld"])
        .expect_code(0)
        .stderr_has("Skipping lld: --skip lld");
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_none());
    assert!(repo.show(BRANCH, "docs/specs/7.md").is_some());
    assert!(repo.call_roles().iter().all(|c| c.starts_with("spec ")));
    assert!(
        repo.prompt(1)
            .contains("There is no design document: the lld stage was skipped")
    );
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let (repo, issue) = setup();
    repo.config(&format!(
        "{}\n[gates]\nafter_lld = true\n",
        repo.read(".orchestrate.toml")
    ));
    let before = repo.checkout_state();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld", "--dry-run"]);
    run.expect_code(0)
        .stdout_has("Plan for #7 Add a --verbose flag")
        .stdout_has("orchestrate/7-add-a-verbose-flag (new, from main)")
        .stdout_has("docs/lld/7.md")
        .stdout_has("after_lld on")
        .stdout_has("after --until lld")
        .stdout_has("/bin/reviewer")
        .stdout_has("Nothing was changed (--dry-run).");
    assert!(
        run.stdout.contains("triage  run") && run.stdout.contains("no brief yet"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains("Plan for"),
        "the plan is the command's output, on stdout only:\n{}",
        run.stderr
    );
    assert_eq!(repo.branches(), ["main"]);
    assert!(repo.calls().is_empty());
    assert_eq!(repo.checkout_state(), before);
    assert!(
        !repo.root.join(".git/orchestrate").exists(),
        "no local state either"
    );

    // On an existing branch the plan says what is done.
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
        "--no-gate",
        "after_lld",
    ])
    .expect_code(0);
    repo.run(&["7", "--until", "spec", "--dry-run"])
        .expect_code(0)
        .stdout_has("(existing)")
        .stdout_has("done in");
}

#[test]
fn a_bare_issue_number_without_a_github_remote_says_how_to_go_on() {
    let (repo, _) = setup();
    repo.run(&["7"])
        .expect_code(1)
        .stderr_has("the repository has no remote `origin`")
        .stderr_has("github.repo")
        .stderr_has("--issue-file");
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn models_run_in_the_repository_root_with_the_protocol_variables() {
    let (repo, issue) = setup();
    std::fs::create_dir_all(repo.root.join("src/deep")).unwrap();
    let mut cmd = repo.cmd();
    cmd.current_dir(repo.root.join("src/deep")).args([
        "7",
        "--issue-file",
        &issue,
        "--until",
        "lld",
    ]);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = repo.calls();
    assert!(!calls.is_empty());
    for call in &calls {
        assert!(
            call.contains(&format!("cwd={}", repo.root.display())),
            "{call}"
        );
        assert!(call.contains("issue=7"), "{call}");
    }
}

#[test]
fn prompts_are_grounded_in_the_target_repository() {
    let (repo, issue) = setup();
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    for n in [1, 2] {
        let prompt = repo.prompt(n);
        assert!(prompt.contains("## The repository: widget"), "{prompt}");
        assert!(prompt.contains("src/lib.rs"), "{prompt}");
        assert!(
            prompt.contains("Widget turns sprockets into widgets."),
            "{prompt}"
        );
        assert!(
            prompt.contains("Users cannot see what the widget does."),
            "{prompt}"
        );
    }
    assert!(
        repo.prompt(2).contains("\"verdict\""),
        "the reviewer is asked for the verdict JSON"
    );
}

/// The advice at the end of a blocked run repeats the options that matter (`--until`), so
/// following it goes on as the first run was asked to.
#[test]
fn following_the_advice_of_a_blocked_run_goes_on() {
    let repo = TestRepo::new();
    let drafter = repo.model("drafter", &crate::harness::draft_script());
    // Blocks the first review only.
    let reviewer = repo.model(
        "reviewer",
        &format!(
            "if [ -e \"$LOG/blocked-once\" ]; then\ncat <<'REPLY'\n{}\nREPLY\nelse\ntouch \"$LOG/blocked-once\"\ncat <<'REPLY'\n{}\nREPLY\nfi",
            approved(),
            crate::harness::blocked("not yet")
        ),
    );
    repo.config_models(
        &drafter,
        &reviewer,
        "[stages.impl]\nimplementer = \"cmd:true\"\ntest_command = \"true\"\n",
    );
    let issue = repo.default_issue();
    for until in [None, Some("spec")] {
        let _ = std::fs::remove_file(repo.logs.join("blocked-once"));
        let number = if until.is_some() { "8" } else { "7" };
        let mut args = vec![number, "--issue-file", issue.as_str()];
        args.extend(until.map(|u| ["--until", u]).into_iter().flatten());
        let run = repo.run(&args);
        run.expect_code(3);
        let command = run
            .stderr
            .lines()
            .find_map(|l| {
                l.split('`')
                    .nth(1)
                    .filter(|c| c.starts_with("git orchestrate"))
            })
            .unwrap_or_else(|| panic!("no command in the advice:\n{}", run.stderr))
            .to_string();
        let options = until.map(|u| format!(" --until {u}")).unwrap_or_default();
        assert_eq!(command, format!("git orchestrate {number}{options}"));
        let args: Vec<&str> = command.split_whitespace().skip(2).collect();
        // Without --until the run goes on to impl, whose implementer changes nothing here: it
        // blocks there, past the design stages the advice was about.
        let code = if until.is_some() { 0 } else { 3 };
        let run = repo.run(&args);
        run.expect_code(code);
        if until.is_none() {
            run.stderr_has("blocked at impl");
        }
    }
}
