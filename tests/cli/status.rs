//! `status`, progress output, `--json` events and the command line itself.

use crate::harness::{BRANCH, TestRepo, approved, normalise, revise};

fn designed_repo() -> TestRepo {
    let (repo, issue) = TestRepo::reviewed(&[&revise(&["tighten"]), approved()], "");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    repo
}

/// The table row of `stage` in `status` output.
fn row<'a>(out: &'a str, stage: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(stage))
        .unwrap_or_else(|| panic!("no {stage} row in:\n{out}"))
}

#[test]
fn status_shows_each_stage_from_the_branch_history() {
    let repo = designed_repo();
    let run = repo.run(&["status", "7"]);
    run.expect_code(0)
        .stdout_has("#7 Add a --verbose flag")
        .stdout_has(&format!("branch: {BRANCH}"))
        .stdout_has("next: `git orchestrate 7` continues with spec");
    let out = &run.stdout;
    let triage = row(out, "triage");
    assert!(
        triage.contains("done") && triage.contains("passed"),
        "{triage}"
    );
    let lld = row(out, "lld");
    for part in [
        "done",
        "approved",
        " 2 ",
        "bin/drafter",
        "bin/reviewer",
        "2026-01-01 00:00",
    ] {
        assert!(lld.contains(part), "{part:?} missing from {lld:?}");
    }
    assert!(row(out, "spec").contains("pending"));
    assert!(row(out, "impl").contains("pending"));

    // Status reads history only: delete all local state and ask again.
    std::fs::remove_dir_all(repo.root.join(".git/orchestrate")).unwrap();
    assert_eq!(repo.run(&["status", "7"]).stdout, run.stdout);
}

#[test]
fn status_shows_blocked_waiting_and_tokens() {
    let repo = designed_repo();
    // Waiting at a gate: after_lld turned on in configuration.
    let config = repo.read(".orchestrate.toml");
    repo.config(&format!("{config}\n[gates]\nafter_lld = true\n"));
    let run = repo.run(&["status", "7"]);
    run.expect_code(0)
        .stdout_has("next: waiting at gate after_lld for a decision on docs/lld/7.md:")
        .stdout_has("git orchestrate approve 7");
    assert!(
        row(&run.stdout, "lld").contains("waiting"),
        "{}",
        run.stdout
    );

    // Tokens come from the trailer, when a provider reported them.
    let tip = repo.rev(BRANCH);
    let tree = repo.git(&["rev-parse", &format!("{BRANCH}^{{tree}}")]);
    let message = "orchestrate(lld): design for #7 Add a --verbose flag\n\nOrchestrate-Issue: 7\nOrchestrate-Stage: lld\nOrchestrate-Verdict: approved\nOrchestrate-Tokens: in=18234 out=4410\n";
    let base = repo.rev(&format!("{BRANCH}~1"));
    let _ = tip;
    // Re-make the lld commit with a tokens trailer, on top of the triage commit.
    let commit = repo.git(&["commit-tree", &tree, "-p", &base, "-m", message]);
    repo.git(&["update-ref", &format!("refs/heads/{BRANCH}"), &commit]);
    let run = repo.run(&["status", "7", "-c", "gates.after_lld=false"]);
    assert!(
        row(&run.stdout, "lld").contains("in=18234 out=4410"),
        "{}",
        run.stdout
    );
}

#[test]
fn status_without_an_issue_lists_every_issue_branch_newest_first() {
    let repo = designed_repo();
    let issue = repo.issue("# Fix the sprocket leak\n\nIt leaks.\n");
    // Issue 12's work is a day newer than issue 7's: it comes first.
    repo.run_env(
        &[("GIT_COMMITTER_DATE", "1767312000 +0000")],
        &["12", "--issue-file", &issue, "--until", "triage"],
    )
    .expect_code(0);
    repo.git(&["branch", "unrelated"]);
    let run = repo.run(&["status"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[2].starts_with("#7")
            && lines[2].contains("spec pending")
            && lines[2].contains(BRANCH),
        "{}",
        lines[2]
    );
    assert!(
        lines[1].starts_with("#12") && lines[1].contains("orchestrate/12-fix-the-sprocket-leak"),
        "{}",
        lines[1]
    );

    // Global options may come before the subcommand.
    repo.run(&["-c", "gates.after_lld=true", "status"])
        .expect_code(0)
        .stdout_has("waiting at after_lld");
}

/// `status` with no issue keeps each branch's status by its tip: what it says after a branch
/// moves, goes away, or the configuration changes is what the history says now.
#[test]
fn status_of_every_issue_follows_the_branches_and_the_configuration() {
    let (repo, issue) = TestRepo::approving("");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    let table = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("status");
        let run = repo.run(&all);
        run.expect_code(0);
        run.stdout.clone()
    };
    assert!(table(&[]).contains("spec pending"), "{}", table(&[]));
    assert!(
        repo.root.join(".git/orchestrate/cache/status").is_file(),
        "the statuses are kept"
    );
    // Same tip, another configuration.
    let gated = ["-c", "gates.after_lld=true"];
    assert!(
        table(&gated).contains("waiting at after_lld"),
        "{}",
        table(&gated)
    );
    // The branch moves.
    repo.run(&["-c", "gates.after_lld=true", "approve", "7"])
        .expect_code(0);
    let approved_now = table(&gated);
    assert!(approved_now.contains("spec pending"), "{approved_now}");
    // The branch goes away.
    repo.git(&["branch", "-D", BRANCH]);
    assert_eq!(table(&[]), "no issue has an orchestrate branch yet\n");
}

#[test]
fn status_of_an_issue_without_a_branch_is_an_error_with_a_hint() {
    let repo = TestRepo::new();
    repo.run(&["status", "5"])
        .expect_code(1)
        .stderr_has("issue #5 has no orchestrate branch")
        .stderr_has("hint: start it with: git orchestrate 5 (from GitHub; or --issue-file");
    repo.run(&["status"])
        .expect_code(0)
        .stdout_has("no issue has an orchestrate branch yet");
}

#[test]
fn status_json_is_machine_readable() {
    let repo = designed_repo();
    let run = repo.run(&["status", "7", "--json"]);
    run.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["issue"], 7);
    assert_eq!(value["branch"], BRANCH);
    assert_eq!(value["stages"][1]["stage"], "lld");
    assert_eq!(value["stages"][1]["state"], "done");
    assert_eq!(value["stages"][1]["rounds"], 2);
}

#[test]
fn progress_lines_and_the_final_table() {
    let (repo, issue) = TestRepo::reviewed(&[&revise(&["tighten"]), approved()], "");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(0);
    let stderr = normalise(&repo, &run.stderr);
    insta::assert_snapshot!(stderr, @"
           Issue #7 Add a --verbose flag on orchestrate/7-add-a-verbose-flag (new, from main)
        Starting triage: no brief yet
       Committed triage (passed) [ID]: docs/issues/7.md
        Finished triage: passed ([TIME], [ID])
        Starting lld: no design yet
                 lld round 1: drafter cmd:[TMP]/bin/drafter answered ([TIME])
                 lld round 1: reviewer cmd:[TMP]/bin/reviewer answered ([TIME])
        Reviewed lld round 1: REVISE (1 feedback item)
                 lld round 2: drafter cmd:[TMP]/bin/drafter answered ([TIME])
                 lld round 2: reviewer cmd:[TMP]/bin/reviewer answered ([TIME])
        Reviewed lld round 2: APPROVED
       Committed lld (approved) [ID]: docs/lld/7.md, docs/reviews/7-lld.md
        Finished lld: approved in 2 rounds ([TIME], [ID])

      stage   result   detail                commit   time
      triage  done     passed                [ID]     [TIME]
      lld     done     approved in 2 rounds  [ID]     [TIME]
      spec    not run  after --until lld
      impl    not run  after --until lld
      pr      not run  after --until lld
    #7: stopped after lld, as asked (--until lld).
    ");

    // --quiet keeps only the outcome.
    let (repo2, issue) = TestRepo::approving("");
    let quiet = repo2.run(&["7", "--issue-file", &issue, "--until", "lld", "-q"]);
    quiet.expect_code(0);
    assert_eq!(quiet.stderr, "", "quiet run printed: {}", quiet.stderr);
}

#[test]
fn json_events_are_one_object_per_line_on_stdout() {
    let (repo, issue) = TestRepo::approving("");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld", "--json"]);
    run.expect_code(0);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "plan",
            "stage_started",
            "committed",
            "stage_finished",
            "stage_started",
            "model_started",
            "model_finished",
            "model_started",
            "model_finished",
            "verdict",
            "committed",
            "stage_finished",
            "finished"
        ]
    );
    assert_eq!(events[0]["branch"], BRANCH);
    assert_eq!(events[9]["verdict"], "approved");
    assert_eq!(events[12]["outcome"], "stopped_after");
    assert_eq!(events[12]["stage"], "lld");
    assert!(
        !run.stderr.contains("Starting"),
        "human lines leaked into --json: {}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let repo = TestRepo::new();
    repo.run(&["7", "--until", "bogus"])
        .expect_code(2)
        .stderr_has("`bogus` is not a stage");
    repo.run(&["run"]).expect_code(2).stderr_has("which issue?");
    repo.run(&["seven"])
        .expect_code(2)
        .stderr_has("is not an issue");
    repo.run(&["7", "--gate", "after_lld", "--no-gate", "after_lld"])
        .expect_code(2);
    repo.run(&[]).expect_code(2).stderr_has("Usage:");
    repo.run(&["--version"])
        .expect_code(0)
        .stdout_has("git-orchestrate");
}

#[test]
fn a_spinner_shows_on_a_terminal_while_a_model_works() {
    let repo = TestRepo::new();
    let drafter = repo.model(
        "drafter",
        &format!(
            "sleep 2\ncat <<'DOC'\n{}\nDOC",
            crate::harness::complete_doc("slow")
        ),
    );
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();
    let mut cmd = std::process::Command::new(crate::harness::BIN);
    repo.apply_env(&mut cmd);
    // A terminal that can move the cursor (with TERM unset or "dumb" there is no spinner).
    cmd.env("TERM", "xterm")
        .args(["7", "--issue-file", &issue, "--until", "lld"])
        .current_dir(&repo.root);
    let mut session = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    session
        .exp_string("lld round 1: drafter")
        .expect("a progress line names the working model");
    session
        .exp_string("is working")
        .expect("the spinner's message");
    let rest = session.exp_eof().unwrap();
    assert!(rest.contains("Finished lld: approved"), "{rest}");
    // Without a terminal (every other test) there is no spinner text at all.
    let (plain, issue) = TestRepo::approving("");
    let run = plain.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    assert!(!run.stderr.contains("is working"), "{}", run.stderr);
}

#[test]
fn answers_cached_from_history_keep_gate_decisions_below_them() {
    let (repo, issue) = TestRepo::approving("[gates]\nafter_lld = true\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(4);
    repo.run(&["approve", "7"]).expect_code(0);
    repo.run(&["7", "--until", "spec"]).expect_code(0);
    // Remembered now: at the spec commit, the design's last change and the approval above it.
    repo.run(&["status", "7"]).expect_code(0);
    assert!(repo.root.join(".git/orchestrate/cache/history").exists());

    // A person adds a commit on top; the walk from it stops at the remembered commit.
    let tip = repo.rev(BRANCH);
    let tree = repo.git(&["rev-parse", &format!("{tip}^{{tree}}")]);
    let note = repo.git(&[
        "commit-tree",
        &tree,
        "-p",
        &tip,
        "-m",
        "A note from a person",
    ]);
    repo.git(&["update-ref", &format!("refs/heads/{BRANCH}"), &note]);

    let cached = repo.run(&["status", "7"]);
    cached.expect_code(0);
    assert!(
        row(&cached.stdout, "lld").contains("done"),
        "{}",
        cached.stdout
    );
    assert!(
        !cached.stdout.contains("waiting at gate"),
        "{}",
        cached.stdout
    );
    // The same answer as reading all history again.
    std::fs::remove_dir_all(repo.root.join(".git/orchestrate")).unwrap();
    assert_eq!(repo.run(&["status", "7"]).stdout, cached.stdout);

    // A damaged cache costs time, not correctness.
    std::fs::write(
        repo.root.join(".git/orchestrate/cache/history"),
        "v1 garbage\n\0\0\n",
    )
    .unwrap();
    assert_eq!(repo.run(&["status", "7"]).stdout, cached.stdout);
}
