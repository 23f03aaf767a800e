//! The issue branch checked out while a run works on it (in the user's checkout or in a linked
//! worktree): the run does not move it under that checkout, saves the commit it could not
//! make, and says how to commit it there. The checkout happens inside a scripted drafter, so
//! the test needs no timing: the branch exists (triage committed it) and is checked out before
//! the lld commit is attempted.

use std::path::Path;
use std::process::Command;

use crate::harness::{BRANCH, LLD_SUBJECT, Run, TRIAGE_SUBJECT, TestRepo, approved, draft_script};

/// A repository whose lld drafter runs `checkout(repo)` (once) before it answers, and whose
/// reviewer approves; and the default issue file.
fn drafter_checking_out(checkout: impl Fn(&TestRepo) -> String) -> (TestRepo, String) {
    let repo = TestRepo::new();
    let checkout = checkout(&repo);
    let body = format!(
        "if [ ! -f \"$LOG/checked-out\" ]; then\n  {checkout} >&2\n  touch \"$LOG/checked-out\"\nfi\n{}",
        draft_script()
    );
    let drafter = repo.model("drafter", &body);
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();
    (repo, issue)
}

/// Staged and unstaged changes in the checkout at `dir` (untracked files aside).
fn changes_in(repo: &TestRepo, dir: &Path) -> String {
    let mut cmd = Command::new("git");
    repo.apply_env(&mut cmd);
    let out = cmd
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(dir)
        .output()
        .expect("git status");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one directory the run saved its lld commit in, with the files that commit held.
#[track_caller]
fn assert_saved(repo: &TestRepo, run: &Run) {
    let recovered = repo.root.join(".git/orchestrate/recovered/7");
    let saved: Vec<_> = std::fs::read_dir(&recovered)
        .unwrap_or_else(|e| panic!("{}: {e}", recovered.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let dir = &saved[0];
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("lld-"),
        "{}",
        dir.display()
    );
    assert!(run.stderr.contains(dir.to_str().unwrap()), "{}", run.stderr);
    let design = std::fs::read_to_string(dir.join("docs/lld/7.md")).unwrap();
    assert!(design.contains("lld round 1"), "{design}");
    let reviews = std::fs::read_to_string(dir.join("docs/reviews/7-lld.md")).unwrap();
    assert!(reviews.contains("complete and grounded"), "{reviews}");
    let message = std::fs::read_to_string(dir.join("COMMIT_MESSAGE")).unwrap();
    assert!(message.starts_with(LLD_SUBJECT), "{message}");
    assert!(
        message.contains("Orchestrate-Verdict: approved"),
        "{message}"
    );
}

/// Paste the command the hint gives, as a user would, from the repository root.
#[track_caller]
fn follow_hint(repo: &TestRepo, run: &Run) {
    let mut lines = run.stderr.lines();
    lines
        .find(|l| l.starts_with("hint: to commit the saved work"))
        .unwrap_or_else(|| panic!("no hint to commit the saved work:\n{}", run.stderr));
    let command: Vec<&str> = lines
        .take_while(|l| l.starts_with("      "))
        .map(str::trim)
        .collect();
    assert!(
        !command.is_empty(),
        "no command under the hint:\n{}",
        run.stderr
    );
    let command = command.join("\n");
    let mut cmd = Command::new("sh");
    repo.apply_env(&mut cmd);
    let out = cmd
        .args(["-c", &command])
        .current_dir(&repo.root)
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{command}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_issue_branch_checked_out_here_during_a_run_is_not_moved_and_the_work_is_saved() {
    let (repo, issue) = drafter_checking_out(|_| format!("git switch -q {BRANCH}"));
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(1)
        .stderr_has(&format!(
            "error: {BRANCH} was checked out in {} during the run",
            repo.root.display()
        ))
        .stderr_has("the lld commit is saved in")
        .stderr_has(&format!(
            "hint: to commit the saved work on {BRANCH} in that checkout, run:"
        ));

    assert_eq!(
        repo.subjects(BRANCH),
        [TRIAGE_SUBJECT, "initial"],
        "not moved"
    );
    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]),
        format!("refs/heads/{BRANCH}")
    );
    assert_eq!(
        changes_in(&repo, &repo.root),
        "",
        "nothing staged or changed"
    );
    assert_saved(&repo, &run);
    assert!(!repo.lock_path(7).exists());

    // The hint's command commits the work in that checkout, and the issue goes on from there.
    follow_hint(&repo, &run);
    assert_eq!(repo.subjects(BRANCH)[..2], [LLD_SUBJECT, TRIAGE_SUBJECT]);
    assert_eq!(changes_in(&repo, &repo.root), "");
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("approved")
    );
    repo.git(&["switch", "-q", "main"]);
    let calls = repo.calls().len();
    repo.run(&["7", "--until", "lld"]).expect_code(0);
    assert_eq!(
        repo.calls().len(),
        calls,
        "lld is done: no model is called again"
    );
}

#[test]
fn the_issue_branch_checked_out_in_a_linked_worktree_during_a_run_is_not_moved() {
    let (repo, issue) = drafter_checking_out(|repo| {
        let worktree = repo.base().join("issue-7-worktree");
        format!("git worktree add -q '{}' {BRANCH}", worktree.display())
    });
    let worktree = repo.base().join("issue-7-worktree");
    let before = repo.checkout_state();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(1).stderr_has(&format!(
        "error: {BRANCH} was checked out in {} during the run",
        worktree.display()
    ));

    assert_eq!(
        repo.subjects(BRANCH),
        [TRIAGE_SUBJECT, "initial"],
        "not moved"
    );
    assert_eq!(
        changes_in(&repo, &worktree),
        "",
        "nothing staged or changed"
    );
    assert_eq!(
        repo.checkout_state(),
        before,
        "the main checkout is untouched"
    );
    assert_saved(&repo, &run);

    follow_hint(&repo, &run);
    assert_eq!(repo.subjects(BRANCH)[..2], [LLD_SUBJECT, TRIAGE_SUBJECT]);
    assert_eq!(changes_in(&repo, &worktree), "");
    assert_eq!(repo.checkout_state(), before);
}
