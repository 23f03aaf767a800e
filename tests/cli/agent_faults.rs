//! What an agent leaves that a reviewer would not accept, and agents that end badly: symlinks
//! leading out of the worktree, files too large for GitHub, output beyond the reply limit, and
//! an agent that removes its own worktree.

use crate::harness::*;
use crate::implement::IMPL_SUBJECT;
use crate::implement_faults::{
    AGENT_GOOD, agent_repo, changed, report, run_issue, worktree, worktree_status,
};

#[test]
fn symlinks_an_agent_makes_out_of_the_worktree_are_refused_and_never_committed() {
    let body = format!(
        "{AGENT_GOOD}\nln -s /etc/passwd passwd\nln -s \"$HOME/.ssh/id_rsa\" docs-key\nln -s ../../.. up\nln -s src/lib.rs lib-link"
    );
    let (repo, issue) = agent_repo(&body, "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("impl attempt 1: refused passwd (a symlink to `/etc/passwd`, outside the worktree); it was put back as on the base")
        .stderr_has("refused docs-key (a symlink to `")
        .stderr_has("refused up (a symlink to `../../..`");
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    // A link inside the tree is the agent's to make.
    assert_eq!(
        changed(&repo, BRANCH),
        [
            "docs/reports/7.md",
            "lib-link",
            "src/lib.rs",
            "tests/verbose.sh"
        ]
    );
    let report = report(&repo);
    assert!(
        report.contains("- Refused: passwd (a symlink to `/etc/passwd`, outside the worktree)"),
        "{report}"
    );
    assert!(!worktree(&repo).join("passwd").exists());
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn a_file_over_fifty_mebibytes_is_refused_with_githubs_limit_named() {
    // Sparse: 60 MiB on the file system's word, no time to write.
    let body = format!("{AGENT_GOOD}\ntruncate -s 60M model.bin\nprintf 'small' > notes.txt");
    let (repo, issue) = agent_repo(&body, "");
    run_issue(&repo, &issue).expect_code(0).stderr_has(
        "impl attempt 1: refused model.bin (60.0 MiB, over stages.impl.max_file_size of 50.0 MiB; GitHub refuses files over 100 MB)",
    );
    assert_eq!(
        changed(&repo, BRANCH),
        [
            "docs/reports/7.md",
            "notes.txt",
            "src/lib.rs",
            "tests/verbose.sh"
        ]
    );
    assert!(report(&repo).contains("- Refused: model.bin (60.0 MiB"));
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn a_configured_max_file_size_applies_and_a_grown_file_is_put_back_as_on_the_base() {
    let body = format!("{AGENT_GOOD}\nhead -c 4096 /dev/zero | tr '\\0' x >> data.txt");
    let (repo, issue) = agent_repo(&body, "max_file_size = \"2 KiB\"\n");
    repo.write("data.txt", "on the base\n");
    repo.git(&["add", "data.txt"]);
    repo.git(&["commit", "-q", "-m", "data"]);
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("refused data.txt (4 KiB, over stages.impl.max_file_size of 2 KiB;");
    assert_eq!(
        repo.show(BRANCH, "data.txt").as_deref(),
        Some("on the base\n")
    );
    assert_eq!(worktree_status(&repo), "");
}

#[test]
fn a_refused_file_is_told_to_the_implementer_when_the_tests_fail() {
    // The first attempt's change fails the tests; the second is the good one.
    let body = format!(
        "if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then ln -s /etc/shadow shadow; echo '// wip' >> src/lib.rs; mkdir -p tests; echo 'exit 1' > tests/failing.sh; else rm -f tests/failing.sh; {AGENT_GOOD}; fi"
    );
    let (repo, issue) = agent_repo(&body, "");
    run_issue(&repo, &issue).expect_code(0);
    let prompt = crate::implement::impl_prompt(&repo, 2);
    assert!(
        prompt.contains("These files were put back as they were, because no commit may hold them: shadow (a symlink to `/etc/shadow`, outside the worktree)."),
        "{prompt}"
    );
    assert!(!changed(&repo, BRANCH).contains(&"shadow".to_string()));
}

#[test]
fn agent_output_beyond_sixteen_mebibytes_is_cut_and_the_change_still_counts() {
    // 17 MiB of progress lines, then a summary: the stage goes on, the summary is kept.
    let body = format!(
        "{AGENT_GOOD}\nyes 'thinking...' | head -c 17825792\necho 'SUMMARY: added verbose'"
    );
    let (repo, issue) = agent_repo(&body, "");
    run_issue(&repo, &issue)
        .expect_code(0)
        .stderr_has("Attempt 1 of 4: the tests pass");
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    assert!(
        repo.show(BRANCH, "src/lib.rs")
            .unwrap()
            .contains("pub fn verbose()")
    );
    // The transcript keeps the start and the end, and says what was cut between.
    let transcript = files_under(&repo.root.join(".git/orchestrate/transcripts"))
        .into_iter()
        .map(|(_, text)| text)
        .find(|text| text.contains("SUMMARY: added verbose"))
        .expect("a transcript holding the agent's summary");
    assert!(
        transcript.contains(
            "bytes of the agent's output were cut here; it printed 17825815 bytes in all"
        ),
        "the cut is said"
    );
    assert!(transcript.len() < 17 * 1024 * 1024);
}

#[test]
fn an_agent_that_removes_its_worktree_is_named_and_the_next_run_makes_it_again() {
    let body = "d=$(pwd); cd /; rm -rf \"$d\"";
    let (repo, issue) = agent_repo(body, "\n[sandbox]\nmode = \"off\"\n");
    run_issue(&repo, &issue)
        .expect_code(1)
        .stderr_has("the agent removed the issue's worktree")
        .stderr_has("hint: run `git orchestrate 7` again");
    assert!(!worktree(&repo).exists());
    // Nothing of the failed run is committed as an implementation.
    assert_ne!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);

    // The next run, with an agent that behaves, makes the worktree again and passes.
    let good = crate::implement_faults::agent(&repo, "agent", AGENT_GOOD);
    assert!(good.starts_with("agent:"));
    run_issue(&repo, &issue).expect_code(0);
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    assert_eq!(worktree_status(&repo), "");
}
