//! `git orchestrate clean`: an issue's worktree and local state go, the changes in the
//! worktree no commit has are saved first (or nothing goes without --force), saved work and
//! the branch stay unless asked, a branch with unpushed work needs --force, one with a
//! person's commits is never deleted by --all, and a live run's issue is left alone.

use std::path::{Path, PathBuf};

use crate::harness::{BRANCH, Run, TestRepo, files_under};
use crate::implement_faults::{agent_repo, assert_stopped, finish, spawn, ticker, wait_for};

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

/// The one folder `clean` saved `issue`'s worktree changes in.
fn saved_by_clean(repo: &TestRepo, issue: u64) -> PathBuf {
    let dir = state(repo, &format!("recovered/{issue}"));
    let saved: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("clean-worktree-"))
        })
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    saved[0].clone()
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
    // The file left in the worktree is saved first, and said.
    let saved = saved_by_clean(&repo, 7);
    assert_eq!(
        std::fs::read_to_string(saved.join("scratch.rs")).unwrap(),
        "// work in progress\n"
    );
    run.stderr_has(&format!(
        "#7: removed worktree {} (its changes no commit had, 1 file, are saved in {}), transcripts; kept branch {BRANCH} (--branch deletes it), work saved from runs in {} (--force deletes it)",
        worktree_path(&repo, 7).display(),
        saved.display(),
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
    // --force took the work saved before; what the worktree held is saved now, and stays.
    assert!(!state(&repo, "recovered/7/impl-run-1").exists());
    let saved = saved_by_clean(&repo, 7);
    assert!(saved.join("scratch.rs").exists());
    forced.stderr_has(&format!("are saved in {}", saved.display()));
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

/// `git` in `dir` (a worktree), with the test's environment.
fn git_in(repo: &TestRepo, dir: &Path, args: &[&str]) -> String {
    let mut cmd = std::process::Command::new("git");
    repo.apply_env(&mut cmd);
    let out = cmd.args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
fn a_hand_edit_in_the_worktree_is_saved_before_it_is_removed() {
    let repo = issue_with_state();
    let worktree = worktree_path(&repo, 7);
    // Every kind of change a person can make there: an edit, a staged edit, a new file, a
    // deleted file, a commit past the branch, and a secret in a file.
    std::fs::write(worktree.join("README.md"), "# Widget\n\nEdited by hand.\n").unwrap();
    std::fs::create_dir_all(worktree.join("docs")).unwrap();
    std::fs::write(worktree.join("docs/notes.md"), "staged notes\n").unwrap();
    git_in(&repo, &worktree, &["add", "docs/notes.md"]);
    std::fs::remove_file(worktree.join("src/lib.rs")).unwrap();
    std::fs::write(worktree.join("committed.txt"), "committed inside\n").unwrap();
    git_in(&repo, &worktree, &["add", "committed.txt"]);
    git_in(
        &repo,
        &worktree,
        &["commit", "-q", "-m", "inside the worktree"],
    );
    let secret = "s3cr3t-value-0123456789";
    std::fs::write(worktree.join(".env"), format!("SERVICE_TOKEN={secret}\n")).unwrap();

    let run = repo.run_env(&[("SERVICE_TOKEN", secret)], &["clean", "7"]);
    run.expect_code(0);
    assert!(!worktree.exists());
    let saved = saved_by_clean(&repo, 7);
    let read = |path: &str| {
        std::fs::read_to_string(saved.join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}: {:?} {}", files_under(&saved), run.stderr))
    };
    assert_eq!(read("README.md"), "# Widget\n\nEdited by hand.\n");
    assert_eq!(read("docs/notes.md"), "staged notes\n");
    assert_eq!(read("committed.txt"), "committed inside\n");
    assert_eq!(read("scratch.rs"), "// work in progress\n");
    assert_eq!(read("DELETED"), "src/lib.rs\n");
    assert_eq!(read(".env"), "SERVICE_TOKEN=[REDACTED]\n");
    assert!(read("COMMIT_MESSAGE").contains("worktree of #7"));
    let everything: String = files_under(&state(&repo, "recovered"))
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    assert!(!everything.contains(secret), "a secret was saved");
    run.stderr_has(&format!(
        "#7: removed worktree {} (its changes no commit had, 6 files, are saved in {}, secrets removed from .env)",
        worktree.display(),
        saved.display()
    ));
}

#[test]
fn what_an_agent_left_when_its_run_was_killed_is_saved_by_clean() {
    let body = format!(
        "echo 'pub fn killed_attempt() {{}}' >> src/lib.rs\necho 'half done' > notes.txt\n{}\ntouch \"$LOG/agent-started\"\nsleep 300",
        ticker(Path::new("$LOG/agent.ticks"))
    );
    let (repo, issue) = agent_repo(&body, "");
    let mut child = spawn(&repo, &["7", "--issue-file", &issue, "--until", "impl"]);
    wait_for(&repo.logs.join("agent-started"), &mut child);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let pid = child.id();
    let killed: Run = finish(child);
    assert_eq!(killed.code, -1, "killed: {killed:?}");
    assert_stopped(&repo.logs.join("agent.ticks"));
    // The killed run's private TMPDIR (the next run would remove it; clean does not).
    for entry in std::fs::read_dir("/tmp").unwrap().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("git-orchestrate-tmp-{pid}-"))
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }

    let run = repo.run(&["clean", "7"]);
    run.expect_code(0);
    assert!(!worktree_path(&repo, 7).exists());
    let saved = saved_by_clean(&repo, 7);
    let lib = std::fs::read_to_string(saved.join("src/lib.rs")).unwrap();
    assert!(lib.contains("pub fn killed_attempt() {}"), "{lib}");
    assert_eq!(
        std::fs::read_to_string(saved.join("notes.txt")).unwrap(),
        "half done\n"
    );
    run.stderr_has(&format!("2 files, are saved in {}", saved.display()));
}

#[test]
fn a_worktree_whose_changes_cannot_be_saved_is_kept_unless_forced() {
    let repo = issue_with_state();
    // A file where the folder of saved work goes: no one, root included, can save there.
    std::fs::remove_dir_all(state(&repo, "recovered")).unwrap();
    state_file(&repo, "recovered", "in the way\n");
    let worktree = worktree_path(&repo, 7);
    // Pushed, so that only the worktree stands in the way of deleting the branch.
    let tip = repo.rev(BRANCH);
    repo.git(&["update-ref", &format!("refs/remotes/origin/{BRANCH}"), &tip]);

    let refused = repo.run(&["clean", "7", "--branch"]);
    refused
        .expect_code(1)
        .stderr_has("the worktree of #7 was not removed: the changes in it that no commit has could not be saved: cannot save the changes found in the worktree under")
        .stderr_has("hint: nothing of #7 was removed")
        .stderr_has("hint: or remove the worktree anyway, losing those changes: git orchestrate clean 7 --branch --force");
    assert!(worktree.join("scratch.rs").exists(), "the worktree stays");
    assert!(
        state(&repo, "transcripts/7").exists(),
        "nothing was removed"
    );
    assert!(repo.branches().contains(&BRANCH.to_string()));

    let forced = repo.run(&["clean", "7", "--force"]);
    forced
        .expect_code(0)
        .stderr_has(&format!(
            "#7: removed worktree {} (its changes no commit had were not saved)",
            worktree.display()
        ))
        .stderr_has(&format!(
            "warning: #7: the worktree {} was removed with --force although its changes no commit had could not be saved (cannot save the changes found in the worktree under",
            worktree.display()
        ))
        .stderr_has("they are gone");
    assert!(!worktree.exists());
    assert!(!state(&repo, "transcripts/7").exists());
}

/// A commit on `parent` with `message`, made without touching any checkout; its id.
fn commit_on(repo: &TestRepo, parent: &str, message: &str) -> String {
    repo.git(&[
        "commit-tree",
        &format!("{parent}^{{tree}}"),
        "-p",
        parent,
        "-m",
        message,
    ])
}

#[test]
fn a_branch_a_person_made_under_the_prefix_is_kept_by_all() {
    let repo = TestRepo::new();
    // A branch of the tool's: its commits carry Orchestrate-* trailers.
    let tools = commit_on(
        &repo,
        "main",
        "orchestrate(triage): brief for #20 Other\n\nOrchestrate-Issue: 20\nOrchestrate-Stage: triage\nOrchestrate-Verdict: passed",
    );
    repo.git(&["branch", "orchestrate/20-other", &tools]);
    // A person's, under the same prefix, with one of the tool's commits and one of theirs.
    let tool_first = commit_on(
        &repo,
        "main",
        "orchestrate(triage): brief for #5 Mine\n\nOrchestrate-Issue: 5\nOrchestrate-Stage: triage\nOrchestrate-Verdict: passed",
    );
    let persons = commit_on(&repo, &tool_first, "My notes");
    repo.git(&["branch", "orchestrate/5-mine", &persons]);
    // main moves on: its commits are no one's work on the branches.
    let moved = commit_on(&repo, "main", "main moves on");
    repo.git(&["update-ref", "refs/heads/main", &moved]);

    let run = repo.run(&["clean", "--all", "--branch", "--force"]);
    run.expect_code(0)
        .stderr_has(&format!(
            "#5: nothing to remove; kept branch orchestrate/5-mine (it has 1 commit git orchestrate did not make (no Orchestrate-* trailer): {} My notes; only `git orchestrate clean 5 --branch --force` deletes it)",
            &persons[..7]
        ))
        .stderr_has("#20: removed branch orchestrate/20-other");
    let branches = repo.branches();
    assert!(
        branches.contains(&"orchestrate/5-mine".to_string()),
        "{branches:?}"
    );
    assert!(
        !branches.contains(&"orchestrate/20-other".to_string()),
        "{branches:?}"
    );
    assert_eq!(repo.rev("orchestrate/5-mine"), persons);

    // Named, it is refused without --force, and deleted with it.
    repo.run(&["clean", "5", "--branch"])
        .expect_code(1)
        .stderr_has(&format!(
            "branch orchestrate/5-mine was not deleted: it has 1 commit git orchestrate did not make (no Orchestrate-* trailer): {} My notes",
            &persons[..7]
        ))
        .stderr_has("hint: to delete it anyway, with them: git orchestrate clean 5 --branch --force");
    assert_eq!(repo.rev("orchestrate/5-mine"), persons);
    repo.run(&["clean", "5", "--branch", "--force"])
        .expect_code(0)
        .stderr_has("#5: removed branch orchestrate/5-mine");
    assert!(!repo.branches().contains(&"orchestrate/5-mine".to_string()));
}
