//! Several issues in one command: `git orchestrate run 12 13 14 -j 3`. Each issue runs on
//! its own branch with its own lock, side by side; calls to one provider share its
//! `max_concurrent` slots; one issue's failure does not stop the others; the exit code is the
//! worst of theirs; one table at the end; Ctrl-C stops them all.
//!
//! The issues are briefed first (`--until triage` from an issue file), so the runs read their
//! issue from the branch and need no GitHub.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::faults::{Spawned, wait_dead, wait_until};
use crate::gates::{finish, spawn_pty};
use crate::harness::{TestRepo, approved, blocked, draft_script};
use crate::implement::{CHECK, GOOD_EDIT};
use crate::schema::assert_events;

const ISSUES: [(u64, &str); 3] = [
    (12, "Add a colour flag"),
    (13, "Read the config from XDG"),
    (14, "Retry flaky downloads"),
];

/// A repository whose lld and spec models run `drafter` and `reviewer`, `extra` added to the
/// configuration, with issues 12, 13 and 14 briefed on their branches.
fn briefed(drafter: &str, reviewer: &str, extra: &str) -> TestRepo {
    let repo = TestRepo::new();
    let drafter = repo.model("drafter", drafter);
    let reviewer = repo.model("reviewer", reviewer);
    repo.config_models(&drafter, &reviewer, extra);
    brief(&repo, &ISSUES);
    repo
}

/// Commit the brief of each of `issues` on its branch, from an issue file.
fn brief(repo: &TestRepo, issues: &[(u64, &str)]) {
    for (number, title) in issues {
        let file = repo.issue(&format!("# {title}\n\nIssue {number} asks for it.\n"));
        repo.run(&[
            &number.to_string(),
            "--issue-file",
            &file,
            "--until",
            "triage",
        ])
        .expect_code(0);
    }
}

fn answer(reply: &str) -> String {
    format!("cat <<'REPLY'\n{reply}\nREPLY")
}

/// The branch of issue `number`.
#[track_caller]
fn branch(repo: &TestRepo, number: u64) -> String {
    let prefix = format!("orchestrate/{number}-");
    repo.branches()
        .into_iter()
        .find(|b| b.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no branch for #{number}: {:?}", repo.branches()))
}

/// The stage of each commit on issue `number`'s branch, newest first.
fn stages(repo: &TestRepo, number: u64) -> Vec<String> {
    let branch = branch(repo, number);
    repo.subjects(&branch)
        .iter()
        .filter_map(|s| {
            s.strip_prefix("orchestrate(")
                .and_then(|s| s.split(')').next())
                .map(str::to_string)
        })
        .collect()
}

/// The row of the final table for issue `number` (the table is the last thing said).
#[track_caller]
fn row(stderr: &str, number: u64) -> String {
    let start = format!("  #{number} ");
    stderr
        .lines()
        .rev()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no row for #{number} in the table:\n{stderr}"))
        .to_string()
}

/// A drafter that waits, at its first lld call, until all three issues' drafters are called:
/// it finishes only if the three runs are under way at the same time.
fn meeting_drafter() -> String {
    format!(
        "if [ \"$ORCHESTRATE_STAGE\" = lld ]; then\n  mkdir -p \"$LOG/met\"; touch \"$LOG/met/$ORCHESTRATE_ISSUE\"\n  waited=0\n  while [ \"$(ls \"$LOG/met\" | wc -l)\" -lt 3 ]; do\n    waited=$((waited + 1))\n    if [ $waited -gt 600 ]; then echo \"issue $ORCHESTRATE_ISSUE waited alone: the runs are not side by side\" >&2; exit 3; fi\n    sleep 0.05\n  done\nfi\n{}",
        draft_script()
    )
}

#[test]
fn three_issues_run_side_by_side_each_on_its_own_branch() {
    let repo = briefed(&meeting_drafter(), &answer(approved()), "");
    let main = repo.rev("main");
    let before = repo.checkout_state();

    let run = repo.run(&["run", "12", "13", "14", "-j", "3", "--until", "spec"]);
    run.expect_code(0);

    for (number, _) in ISSUES {
        assert_eq!(
            stages(&repo, number),
            ["spec", "lld", "triage"],
            "#{number}: {}",
            run.stderr
        );
        assert!(
            !repo.lock_path(number).exists(),
            "#{number}'s lock is released"
        );
        assert!(
            row(&run.stderr, number).contains("stopped after spec"),
            "{}",
            run.stderr
        );
    }
    // The calls were made for each issue in its own right.
    for (number, _) in ISSUES {
        let calls = repo
            .calls()
            .iter()
            .filter(|c| c.contains(&format!("issue={number} ")))
            .count();
        assert_eq!(
            calls, 4,
            "#{number}: lld and spec, drafted and reviewed once each"
        );
    }
    assert_eq!(repo.rev("main"), main, "the base branch did not move");
    assert_eq!(repo.checkout_state(), before, "the checkout is untouched");

    // Not on a terminal, every line of a run says which issue it is about.
    let (runs, table) = run
        .stderr
        .split_once("\n\n")
        .unwrap_or_else(|| panic!("no table after the runs:\n{}", run.stderr));
    for line in runs.lines() {
        assert!(
            ["#12 ", "#13 ", "#14 "].iter().any(|p| line.starts_with(p)),
            "a line without its issue: {line:?}\n{}",
            run.stderr
        );
    }
    assert!(runs.contains("#13     Starting lld"), "{}", run.stderr);
    assert!(table.trim_start().starts_with("issue"), "{table}");
}

#[test]
fn issues_side_by_side_implement_in_worktrees_of_their_own() {
    let repo = TestRepo::new();
    repo.write("check.sh", CHECK);
    repo.git(&["add", "check.sh"]);
    repo.git(&["commit", "-q", "-m", "tests"]);
    let implementer = repo.model("implementer", &answer(GOOD_EDIT));
    let drafter = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(
        &drafter,
        &reviewer,
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"sh check.sh\"\n"
        ),
    );
    brief(&repo, &ISSUES[..2]);
    let before = repo.checkout_state();

    let run = repo.run(&["run", "12", "13", "-j", "2", "--until", "impl"]);
    run.expect_code(0);

    let worktrees = repo.git(&["worktree", "list", "--porcelain"]);
    for number in [12, 13] {
        assert_eq!(stages(&repo, number), ["impl", "spec", "lld", "triage"]);
        let code = repo.show(&branch(&repo, number), "src/lib.rs").unwrap();
        assert!(code.contains("pub fn verbose()"), "#{number}: {code}");
        assert!(
            worktrees.contains(&format!(".git/orchestrate/worktrees/{number}\n")),
            "#{number} has its own worktree:\n{worktrees}"
        );
    }
    assert_eq!(repo.checkout_state(), before, "the checkout is untouched");
}

#[test]
fn a_provider_takes_no_more_calls_at_once_than_max_concurrent() {
    // Each call counts the calls running beside it (itself included).
    let busy = "mkdir -p \"$LOG/busy\"; touch \"$LOG/busy/$$\"\nls \"$LOG/busy\" | wc -l >> \"$LOG/overlap\"\nsleep 0.3\nrm -f \"$LOG/busy/$$\"\n";
    let repo = briefed(
        &format!("{busy}{}", draft_script()),
        &format!("{busy}{}", answer(approved())),
        "[providers.cmd]\nmax_concurrent = 1\n",
    );
    repo.run(&["run", "12", "13", "14", "-j", "3", "--until", "lld"])
        .expect_code(0);
    let overlap = std::fs::read_to_string(repo.logs.join("overlap")).unwrap();
    let counts: Vec<u32> = overlap.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(counts.len(), 6, "three drafts and three reviews: {overlap}");
    assert!(
        counts.iter().all(|&n| n == 1),
        "providers.cmd.max_concurrent = 1, yet calls overlapped: {counts:?}"
    );
    for (number, _) in ISSUES {
        assert_eq!(stages(&repo, number), ["lld", "triage"]);
    }
}

#[test]
fn one_issue_failing_or_blocking_does_not_stop_the_others() {
    let drafter = format!(
        "if [ \"$ORCHESTRATE_ISSUE\" = 13 ]; then echo 'model not found: gpt-nothing' >&2; exit 3; fi\n{}",
        draft_script()
    );
    let reviewer = format!(
        "if [ \"$ORCHESTRATE_ISSUE\" = 14 ]; then\n{}\nelse\n{}\nfi",
        answer(&blocked("the issue contradicts itself")),
        answer(approved())
    );
    let repo = briefed(&drafter, &reviewer, "");
    let run = repo.run(&["run", "12", "13", "14", "-j", "2", "--until", "spec"]);
    // The worst of the three: an error (1) is worse than a block (3) here.
    run.expect_code(1);

    assert_eq!(stages(&repo, 12), ["spec", "lld", "triage"]);
    assert_eq!(
        stages(&repo, 13),
        ["triage"],
        "nothing committed for the failed issue"
    );
    assert_eq!(stages(&repo, 14)[0], "lld", "the blocked draft is kept");
    assert_eq!(
        repo.trailer(&branch(&repo, 14), "Orchestrate-Verdict")
            .as_deref(),
        Some("blocked")
    );

    run.stderr_has("#13 error:").stderr_has("gpt-nothing");
    assert!(row(&run.stderr, 12).contains("stopped after spec"));
    let failed = row(&run.stderr, 13);
    assert!(failed.contains("error"), "{failed}");
    assert!(
        failed.contains("git orchestrate 13 --until spec"),
        "{failed}"
    );
    let blocked_row = row(&run.stderr, 14);
    assert!(blocked_row.contains("blocked at lld"), "{blocked_row}");

    // Run alone, the blocked issue says the same: each issue's exit code is its own.
    repo.run(&["14", "--until", "spec"]).expect_code(3);
}

#[test]
fn json_events_say_which_issue_they_belong_to() {
    let repo = briefed(&draft_script(), &answer(approved()), "");
    let run = repo.run(&["run", "12", "13", "-j", "2", "--until", "lld", "--json"]);
    run.expect_code(0);
    let events = assert_events(&run, "run 12 13 -j 2 --json");
    for event in &events {
        let issue = event["issue"].as_u64();
        assert!(matches!(issue, Some(12 | 13)), "{event}");
    }
    for number in [12, 13] {
        let finished: Vec<_> = events
            .iter()
            .filter(|e| e["event"] == "finished" && e["issue"] == number)
            .collect();
        assert_eq!(finished.len(), 1, "#{number} finishes once: {}", run.stdout);
        assert_eq!(finished[0]["outcome"], "stopped_after");
    }
    // stdout is for the events alone: the table is for people.
    assert!(!run.stdout.contains("issue  result"), "{}", run.stdout);
}

#[test]
fn side_by_side_runs_stop_at_gates_without_asking() {
    let repo = briefed(
        &draft_script(),
        &answer(approved()),
        "[gates]\nafter_lld = true\n",
    );
    // On a terminal a single run would ask at the gate; two at once must not.
    let mut session = spawn_pty(
        &repo,
        &["run", "12", "13", "-j", "2", "--until", "spec"],
        None,
    );
    let (code, output) = finish(&mut session);
    assert_eq!(code, 4, "{output}");
    assert!(!output.contains("Approve it?"), "{output}");
    assert!(output.contains("waiting at after_lld"), "{output}");
    assert!(output.contains("git orchestrate approve 12"), "{output}");
    assert!(output.contains("git orchestrate approve 13"), "{output}");
    for number in [12, 13] {
        assert_eq!(stages(&repo, number), ["gate", "lld", "triage"]);
    }
    eprintln!("{output}");
}

#[test]
fn ctrl_c_stops_every_issue_and_starts_no_other() {
    // The drafter records which issue it works for, then hangs. The file appears whole (a
    // rename), so a reader never sees it empty.
    let drafter = "mkdir -p \"$LOG/working\"; echo $$ > \"$LOG/$ORCHESTRATE_ISSUE.pid\"; mv \"$LOG/$ORCHESTRATE_ISSUE.pid\" \"$LOG/working/$ORCHESTRATE_ISSUE\"\nsleep 300";
    let repo = briefed(drafter, &answer(approved()), "");
    let tips: Vec<String> = ISSUES
        .iter()
        .map(|(n, _)| repo.rev(&branch(&repo, *n)))
        .collect();
    let run = Spawned::start(
        &repo,
        &["run", "12", "13", "14", "-j", "2", "--until", "lld"],
    );
    let working = repo.logs.join("working");
    wait_until("two drafters are working", || {
        std::fs::read_dir(&working).is_ok_and(|d| d.count() == 2)
    });
    let pids: Vec<i32> = std::fs::read_dir(&working)
        .unwrap()
        .flatten()
        .map(|e| {
            std::fs::read_to_string(e.path())
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        })
        .collect();

    kill(Pid::from_raw(run.pid()), Signal::SIGINT).unwrap();
    let run = run.finish();
    run.expect_code(130);

    for pid in pids {
        wait_dead("a drafter", pid);
    }
    assert!(
        !working.join("14").exists(),
        "#14 was not started after Ctrl-C"
    );
    assert!(
        row(&run.stderr, 14).contains("not started"),
        "{}",
        run.stderr
    );
    // Each issue has one row in the table, however it ended.
    for (number, _) in ISSUES {
        let rows = run
            .stderr
            .lines()
            .filter(|l| l.starts_with(&format!("  #{number} ")))
            .count();
        assert_eq!(rows, 1, "#{number}:\n{}", run.stderr);
    }
    for ((number, _), tip) in ISSUES.iter().zip(&tips) {
        assert_eq!(
            &repo.rev(&branch(&repo, *number)),
            tip,
            "#{number} is at its last commit"
        );
        assert!(!repo.lock_path(*number).exists(), "#{number}'s lock");
    }
}

#[test]
fn bad_lists_of_issues_are_refused_before_anything_runs() {
    let repo = briefed(&draft_script(), &answer(approved()), "");
    let before: Vec<String> = repo.branches();

    let zero = repo.run(&["run", "12", "13", "-j", "0"]);
    zero.expect_code(2).stderr_has("-j 0 would run no issue");

    for huge in ["1001", "99999999999"] {
        repo.run(&["run", "12", "13", "-j", huge])
            .expect_code(2)
            .stderr_has(&format!(
                "-j {huge} is more issues at once than this tool runs; give at most 1000"
            ));
    }

    let twice = repo.run(&["run", "12", "13", "#12", "-j", "2"]);
    twice
        .expect_code(2)
        .stderr_has("issue #12 is named twice")
        .stderr_has("hint: name each issue once: git orchestrate run 12 13");

    let json = repo.run(&["run", "12", "12", "--json"]);
    json.expect_code(2);
    let events: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{}", json.stdout);
    assert_eq!(events[0]["event"], "error");
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap()
            .contains("named twice")
    );

    assert_eq!(repo.branches(), before);
    assert_eq!(repo.calls().len(), 0, "no model was called");
}
