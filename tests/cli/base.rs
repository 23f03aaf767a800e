//! The base branch moving on under an issue branch: while the branch holds only the tool's
//! documents, impl starts from the base's current tip (the documents carried onto it by a
//! merge commit); once it holds code, `--update-base` merges the base in, and a conflict
//! changes nothing; `status` says how far the base moved.

use crate::harness::*;
use crate::implement::{
    BLOCKED_SUBJECT, FIX_EDIT, GOOD_EDIT, IMPL_SUBJECT, WRONG_EDIT, impl_calls, impl_repo,
};

/// The subject of the tool's merge of `main` into the issue branch.
const MERGE_SUBJECT: &str = "Merge main into orchestrate/7-add-a-verbose-flag";

/// A repository whose tests fail on `main` (a `not yet` line), with an implementer that
/// answers [`GOOD_EDIT`], and issue 7 blocked at impl on that red baseline.
fn blocked_on_a_red_base() -> (TestRepo, String) {
    let (repo, issue) = impl_repo(&by_round(&[GOOD_EDIT]), "");
    repo.write("src/lib.rs", "pub fn widget() {}\n// not yet\n");
    repo.git(&["commit", "-q", "-am", "red"]);
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3)
        .stderr_has("the tests already fail on the unchanged tree");
    (repo, issue)
}

/// A commit on `main` (the user's checkout) writing `path`.
fn commit_on_main(repo: &TestRepo, path: &str, content: &str, message: &str) -> String {
    repo.write(path, content);
    repo.git(&["add", path]);
    repo.git(&["commit", "-q", "-m", message]);
    repo.rev("main")
}

/// The parents of `rev`.
fn parents(repo: &TestRepo, rev: &str) -> Vec<String> {
    repo.git(&["rev-list", "--parents", "-n", "1", rev])
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// The merge commits on the branch.
fn merges(repo: &TestRepo) -> Vec<String> {
    repo.git(&["rev-list", "--merges", BRANCH])
        .lines()
        .map(str::to_string)
        .collect()
}

fn short(id: &str) -> &str {
    &id[..7]
}

#[test]
fn a_red_baseline_fixed_on_the_base_is_picked_up_while_the_branch_holds_no_code() {
    let (repo, issue) = blocked_on_a_red_base();
    let blocked = repo.rev(BRANCH);
    let documents = ["docs/issues/7.md", "docs/lld/7.md", "docs/specs/7.md"];
    let before: Vec<Option<String>> = documents.iter().map(|d| repo.show(BRANCH, d)).collect();

    // The user fixes the tests on main, and runs again.
    let fixed = commit_on_main(&repo, "src/lib.rs", "pub fn widget() {}\n", "fix the tests");
    let checkout = repo.checkout_state();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl"]);
    run.expect_code(0).stderr_has(&format!(
        "impl starts from main at {} (1 commit newer); the documents were carried onto it in",
        short(&fixed)
    ));

    // The merge: the blocked commit and main's tip, the documents kept; impl on top of it.
    let subjects = repo.subjects(BRANCH);
    assert_eq!(
        subjects[..3],
        [IMPL_SUBJECT, MERGE_SUBJECT, BLOCKED_SUBJECT]
    );
    let merge = repo.rev(&format!("{BRANCH}^"));
    assert_eq!(parents(&repo, &merge), [blocked.clone(), fixed.clone()]);
    assert!(
        run.stderr
            .contains(&format!("carried onto it in {}", short(&merge)))
    );
    assert_eq!(
        repo.trailer(&merge, "Orchestrate-Issue").as_deref(),
        Some("7")
    );
    assert_eq!(
        repo.trailer(&merge, "Orchestrate-Base").as_deref(),
        Some("main")
    );
    let after: Vec<Option<String>> = documents.iter().map(|d| repo.show(BRANCH, d)).collect();
    assert_eq!(after, before);
    assert!(after.iter().all(Option::is_some));
    let lib = repo.show(BRANCH, "src/lib.rs").unwrap();
    assert!(
        lib.contains("pub fn verbose()") && !lib.contains("not yet"),
        "{lib}"
    );
    // The impl commit changes only the implementation and its report: main's fix is the
    // merge's, and the report's baseline is the merge.
    assert_eq!(
        repo.git(&["show", "--format=", "--name-only", BRANCH]),
        "docs/reports/7.md\nsrc/lib.rs\ntests/verbose.sh"
    );
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(
        report.contains(&format!(
            "The tests on the unchanged tree (commit {merge}): passed"
        )),
        "{report}"
    );
    assert_eq!(impl_calls(&repo).len(), 1);
    // The user's checkout is untouched: still main, as it was.
    assert_eq!(repo.checkout_state(), checkout);
    assert_eq!(repo.rev("main"), fixed);
}

#[test]
fn with_the_base_where_it_was_nothing_is_merged_and_a_rerun_is_idempotent() {
    let (repo, issue) = blocked_on_a_red_base();
    assert!(merges(&repo).is_empty());
    let blocked = repo.rev(BRANCH);

    // main did not move: nothing to merge, nothing new committed.
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3)
        .stderr_has("nothing new was committed");
    assert_eq!(repo.rev(BRANCH), blocked);
    assert!(merges(&repo).is_empty());

    // main moves without fixing the tests: the documents are carried onto it once, the
    // block recorded there; the next run finds main in the branch and merges nothing.
    let moved = commit_on_main(&repo, "README.md", "# Widget\n\nNewer.\n", "docs");
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl", "--json"]);
    run.expect_code(3);
    assert_eq!(merges(&repo).len(), 1);
    let tip = repo.rev(BRANCH);
    let merge = repo.rev(&format!("{BRANCH}^"));
    assert_eq!(parents(&repo, &merge)[1], moved);
    // --json says it, as the schema describes.
    let events = crate::schema::assert_events(&run, "a run that carries the documents");
    let said: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "base_moved")
        .collect();
    assert_eq!(
        said,
        [&serde_json::json!({
            "event": "base_moved",
            "issue": 7,
            "base": "main",
            "at": short(&moved),
            "newer": 1,
            "how": "carried",
            "commit": short(&merge),
        })]
    );
    let again = repo.run(&["7", "--issue-file", &issue, "--until", "impl"]);
    again.expect_code(3).stderr_has("nothing new was committed");
    assert!(!again.stderr.contains("carried"), "{}", again.stderr);
    assert_eq!(repo.rev(BRANCH), tip);
    assert_eq!(merges(&repo).len(), 1);
    assert!(impl_calls(&repo).is_empty());
}

/// Issue 7 blocked at impl after an attempt that left a `not yet` line in src/lib.rs: the
/// branch holds code.
fn blocked_with_code() -> (TestRepo, String) {
    let (repo, issue) = impl_repo(&by_round(&[WRONG_EDIT]), "max_test_retries = 0\n");
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3);
    assert!(repo.show(BRANCH, "src/lib.rs").unwrap().contains("not yet"));
    (repo, issue)
}

#[test]
fn update_base_merges_the_base_into_code_on_the_branch() {
    let (repo, _) = blocked_with_code();
    let moved = commit_on_main(&repo, "docs/guide.md", "# Guide\n", "a guide");

    // Without --update-base the branch's code is worked on as it is, and the run says so
    // (this implementer changes nothing).
    repo.model("implementer", "echo 'Nothing to change.'");
    let run = repo.run(&["7", "--until", "impl"]);
    run.expect_code(3).stderr_has(&format!(
        "main at {} is 1 commit newer than the branch; impl works on the branch's code as it is (--update-base merges main in first)",
        short(&moved)
    ));
    assert!(merges(&repo).is_empty());
    assert_eq!(repo.show(BRANCH, "docs/guide.md"), None);
    let blocked = repo.rev(BRANCH);

    // With it, main comes in first; the implementer fixes what the blocked attempt left.
    repo.model("implementer", &by_round(&[FIX_EDIT]));
    let checkout = repo.checkout_state();
    let run = repo.run(&["7", "--until", "impl", "--update-base"]);
    run.expect_code(0)
        .stderr_has(&format!(
            "main at {} (1 commit newer) merged into the branch in",
            short(&moved)
        ))
        .stderr_has("Attempt 1 of 1: the tests pass");
    let subjects = repo.subjects(BRANCH);
    assert_eq!(subjects[..2], [IMPL_SUBJECT, MERGE_SUBJECT]);
    let merge = repo.rev(&format!("{BRANCH}^"));
    assert_eq!(parents(&repo, &merge)[0], blocked);
    assert_eq!(
        repo.show(BRANCH, "docs/guide.md").as_deref(),
        Some("# Guide\n")
    );
    assert_eq!(
        repo.git(&["merge-base", "--is-ancestor", &moved, BRANCH]),
        ""
    );
    let lib = repo.show(BRANCH, "src/lib.rs").unwrap();
    assert!(
        lib.contains("pub fn verbose()") && !lib.contains("not yet"),
        "{lib}"
    );
    // The change is still the implementation alone: main's guide is not part of it.
    let report = repo.show(BRANCH, "docs/reports/7.md").unwrap();
    assert!(report.contains("`src/lib.rs`"), "{report}");
    assert!(!report.contains("guide.md"), "{report}");
    assert_eq!(repo.checkout_state(), checkout);

    // Once impl is done, --update-base has nothing to do, and says so.
    commit_on_main(
        &repo,
        "docs/more.md",
        "# More
",
        "more",
    );
    let tip = repo.rev(BRANCH);
    repo.run(&["7", "--until", "impl", "--update-base"])
        .expect_code(0)
        .stderr_has("--update-base merges the base only as impl starts, and impl does not run in this run: nothing was merged");
    assert_eq!(repo.rev(BRANCH), tip);
}

#[test]
fn a_conflicting_update_base_changes_nothing_and_names_the_file() {
    let (repo, _) = blocked_with_code();
    commit_on_main(
        &repo,
        "src/lib.rs",
        "pub fn widget() {}\n// main's own line\n",
        "main changes the same line",
    );
    let refs = repo.git(&["for-each-ref"]);
    let checkout = repo.checkout_state();
    let worktree = repo.root.join(".git/orchestrate/worktrees/7");
    let worktree_state = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&worktree)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let worktree_head = worktree_state(&["rev-parse", "HEAD"]);
    let worktree_files = worktree_state(&["status", "--porcelain", "--untracked-files=all"]);
    let calls = repo.calls().len();

    let run = repo.run(&["7", "--until", "impl", "--update-base", "-q"]);
    insta::assert_snapshot!(normalise(&repo, &run.stderr), @"
    error: merging main into orchestrate/7-add-a-verbose-flag conflicts in src/lib.rs; nothing was changed
    hint: orchestrate/7-add-a-verbose-flag, its worktree and your checkout are as they were
    hint: merge it yourself and commit the resolution: `git switch orchestrate/7-add-a-verbose-flag && git merge main`, resolve, `git commit`, `git switch -`; then run `git orchestrate 7` again
    hint: or run without --update-base: impl then works on the branch's code as it is
    ");
    run.expect_code(1);
    assert_eq!(repo.git(&["for-each-ref"]), refs);
    assert_eq!(repo.checkout_state(), checkout);
    assert_eq!(worktree_state(&["rev-parse", "HEAD"]), worktree_head);
    assert_eq!(
        worktree_state(&["status", "--porcelain", "--untracked-files=all"]),
        worktree_files
    );
    assert_eq!(repo.calls().len(), calls, "no model was called");
}

#[test]
fn update_base_needs_a_base_on_a_detached_head() {
    let (repo, _) = blocked_with_code();
    commit_on_main(&repo, "docs/guide.md", "# Guide\n", "a guide");
    let tip = repo.rev(BRANCH);
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.run(&["7", "--until", "impl", "--update-base"])
        .expect_code(1)
        .stderr_has("--update-base has no base to merge into orchestrate/7-add-a-verbose-flag: HEAD is not on a branch")
        .stderr_has("hint: name the branch to merge: --update-base --base main");
    assert_eq!(repo.rev(BRANCH), tip);
    // Named, it is merged.
    repo.model("implementer", &by_round(&[FIX_EDIT]));
    repo.run(&["7", "--until", "impl", "--update-base", "--base", "main"])
        .expect_code(0);
    assert_eq!(
        repo.show(BRANCH, "docs/guide.md").as_deref(),
        Some("# Guide\n")
    );
}

#[test]
fn status_says_how_far_the_base_moved() {
    let (repo, issue) = TestRepo::approving("");
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(0);
    let fork = repo.rev("main");
    let status = repo.run(&["status", "7"]);
    status.expect_code(0);
    assert!(!status.stdout.contains("base:"), "{}", status.stdout);
    let json = crate::schema::status_json(&repo, &["status", "7", "--json"]);
    assert_eq!(json["base"]["ahead"], 0);

    commit_on_main(&repo, "a.txt", "a\n", "one");
    let tip = commit_on_main(&repo, "b.txt", "b\n", "two");
    repo.run(&["status", "7"]).expect_code(0).stdout_has(&format!(
        "branch: orchestrate/7-add-a-verbose-flag\nbase: main is 2 commits ahead of this branch's fork point (merge-base {})\n\n",
        short(&fork)
    ));
    let json = crate::schema::status_json(&repo, &["status", "7", "--json"]);
    assert_eq!(
        json["base"],
        serde_json::json!({
            "branch": "main",
            "tip": short(&tip),
            "merge_base": short(&fork),
            "ahead": 2,
        })
    );
    // The base moving on is information, not staleness: nothing is stale, and a run redoes
    // nothing.
    let status = repo.run(&["status", "7"]);
    assert!(!status.stdout.contains("stale"), "{}", status.stdout);
    let calls = repo.calls().len();
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(0);
    assert_eq!(repo.calls().len(), calls);
}
