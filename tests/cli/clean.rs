//! `git orchestrate clean`: an issue's worktree and local state go, saved work and the branch
//! stay unless asked, a branch with unpushed work needs --force, and a live run's issue is
//! left alone.

use std::path::PathBuf;

use crate::harness::{BRANCH, TestRepo};

/// A repository with issue 7's branch (one commit on main), its worktree under
/// `.git/orchestrate/worktrees/7` as the impl stage makes it, a transcript and saved work.
fn issue_with_state() -> TestRepo {
    let repo = TestRepo::new();
    repo.git(&["branch", BRANCH, "main"]);
    let worktree = worktree_path(&repo, 7);
    repo.git(&[
        "worktree",
        "add",
        "--detach",
        "--quiet",
        worktree.to_str().unwrap(),
        BRANCH,
    ]);
    std::fs::write(worktree.join("scratch.rs"), "// work in progress\n").unwrap();
    state_file(&repo, "transcripts/7/run-1/01-impl.md", "# Model\n");
    state_file(
        &repo,
        "recovered/7/impl-run-1/src/lib.rs",
        "pub fn saved() {}\n",
    );
    repo
}

fn worktree_path(repo: &TestRepo, issue: u64) -> PathBuf {
    repo.root
        .join(".git/orchestrate/worktrees")
        .join(issue.to_string())
}

fn state(repo: &TestRepo, path: &str) -> PathBuf {
    repo.root.join(".git/orchestrate").join(path)
}

fn state_file(repo: &TestRepo, path: &str, content: &str) {
    let path = state(repo, path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// The worktrees git knows, besides the main one.
fn linked_worktrees(repo: &TestRepo) -> usize {
    repo.git(&["worktree", "list", "--porcelain"])
        .matches("worktree ")
        .count()
        - 1
}

#[test]
fn removes_the_worktree_and_transcripts_and_keeps_saved_work_and_the_branch() {
    let repo = issue_with_state();
    let tip = repo.rev(BRANCH);
    let checkout = repo.checkout_state();

    let run = repo.run(&["clean", "7"]);
    run.expect_code(0);
    assert!(!worktree_path(&repo, 7).exists());
    assert_eq!(linked_worktrees(&repo), 0);
    assert!(!state(&repo, "transcripts/7").exists());
    assert!(state(&repo, "recovered/7/impl-run-1/src/lib.rs").exists());
    assert_eq!(repo.rev(BRANCH), tip);
    assert_eq!(repo.checkout_state(), checkout, "the checkout is untouched");
    let recovered = state(&repo, "recovered/7");
    run.stderr_has(&format!(
        "#7: removed worktree {}, transcripts; kept branch {BRANCH} (--branch deletes it), work saved from runs in {} (--force deletes it)",
        worktree_path(&repo, 7).display(),
        recovered.display()
    ));

    // --force takes the saved work too; a second clean finds nothing else.
    repo.run(&["clean", "7", "--force"])
        .expect_code(0)
        .stderr_has("#7: removed saved work");
    assert!(!recovered.exists());
    repo.run(&["clean", "7"])
        .expect_code(0)
        .stderr_has(&format!("#7: nothing to remove; kept branch {BRANCH}"));
}

#[test]
fn branch_with_unpushed_work_needs_force() {
    let repo = issue_with_state();
    let tip = repo.rev(BRANCH);

    let refused = repo.run(&["clean", "7", "--branch"]);
    refused
        .expect_code(1)
        .stderr_has(&format!("branch {BRANCH} was not deleted: no remote-tracking branch contains its tip"))
        .stderr_has(&format!("hint: push it first (git push -u origin {BRANCH}), or delete it anyway: git orchestrate clean 7 --branch --force"));
    // A refusal changes nothing.
    assert_eq!(repo.rev(BRANCH), tip);
    assert!(worktree_path(&repo, 7).exists());
    assert!(state(&repo, "transcripts/7").exists());

    let forced = repo.run(&["clean", "7", "--branch", "--force"]);
    forced
        .expect_code(0)
        .stderr_has(&format!("branch {BRANCH} (was {})", &tip[..7]));
    assert!(!repo.branches().contains(&BRANCH.to_string()));
    assert!(!worktree_path(&repo, 7).exists());
    assert!(!state(&repo, "recovered/7").exists());
}

#[test]
fn a_pushed_branch_is_deleted_with_branch_alone() {
    let repo = issue_with_state();
    let tip = repo.rev(BRANCH);
    // As if pushed: a remote-tracking branch holds the tip.
    repo.git(&["update-ref", &format!("refs/remotes/origin/{BRANCH}"), &tip]);

    repo.run(&["clean", "7", "--branch"])
        .expect_code(0)
        .stderr_has(&format!("branch {BRANCH} (was {})", &tip[..7]));
    assert!(!repo.branches().contains(&BRANCH.to_string()));
    // Saved work stays without --force.
    assert!(state(&repo, "recovered/7").exists());
}

#[test]
fn a_branch_checked_out_is_never_deleted() {
    let repo = issue_with_state();
    repo.git(&["switch", "-q", BRANCH]);
    repo.run(&["clean", "7", "--branch", "--force"])
        .expect_code(1)
        .stderr_has(&format!("branch {BRANCH} is checked out in"));
    assert!(repo.branches().contains(&BRANCH.to_string()));
    assert!(worktree_path(&repo, 7).exists(), "nothing was removed");
}

#[test]
fn all_cleans_every_issue_with_local_state() {
    let repo = issue_with_state();
    state_file(
        &repo,
        "transcripts/12/run-1/01-lld-drafter-round1.md",
        "# Model\n",
    );
    state_file(&repo, "locks/15.lock", "999999\n");
    repo.git(&["branch", "orchestrate/20-other", "main"]);

    let run = repo.run(&["clean", "--all"]);
    run.expect_code(0)
        .stderr_has("#7: removed worktree")
        .stderr_has("#12: removed transcripts")
        .stderr_has("#15: removed the lock left by a run that died (pid 999999)");
    assert!(!run.stderr.contains("#20"), "{}", run.stderr);
    assert!(
        !state(&repo, "transcripts")
            .read_dir()
            .unwrap()
            .any(|_| true)
    );
    assert!(!state(&repo, "locks/15.lock").exists());

    // With --branch, issues that have only a branch count too.
    repo.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    repo.run(&["clean", "--all", "--branch"])
        .expect_code(0)
        .stderr_has("#20: removed branch orchestrate/20-other");
    assert!(
        !repo
            .branches()
            .contains(&"orchestrate/20-other".to_string())
    );
}

#[test]
fn an_issue_a_live_run_holds_is_left_alone() {
    let repo = issue_with_state();
    let lock = state(&repo, "locks/7.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&lock)
        .unwrap();
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    // This test process plays the live run: it holds the lock as a run does.
    file.lock().unwrap();

    repo.run(&["clean", "7"])
        .expect_code(1)
        .stderr_has(&format!(
            "issue #7 is already being worked on by another git orchestrate run (pid {})",
            std::process::id()
        ))
        .stderr_has("hint: wait for that run to finish");
    assert!(worktree_path(&repo, 7).exists());
    assert!(state(&repo, "transcripts/7").exists());
    drop(file);
    repo.run(&["clean", "7"]).expect_code(0);
    assert!(!worktree_path(&repo, 7).exists());
}

#[test]
fn an_unknown_issue_has_nothing_to_remove() {
    let repo = TestRepo::new();
    repo.run(&["clean", "99"])
        .expect_code(0)
        .stderr_has("#99: nothing to remove");
    repo.run(&["clean", "--all"])
        .expect_code(0)
        .stderr_has("nothing to clean");
}

#[test]
fn an_issue_or_all_is_required() {
    let repo = TestRepo::new();
    repo.run(&["clean"]).expect_code(2).stderr_has("--all");
    repo.run(&["clean", "7", "--all"]).expect_code(2);
}
