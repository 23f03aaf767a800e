//! The check after every program the run starts (an agent's attempt, a test run, a `cmd:`
//! model): what it changed in the user's repository outside the issue's worktree is found,
//! undone where the tool can (hooks, config, refs), named where it cannot (the user's files,
//! index), the attempt fails for it with the reason fed back, and a `contained` event says
//! it. These run with `sandbox.mode = "off"`: the check holds where no sandbox does.

use std::hash::{Hash, Hasher};
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::harness::*;
use crate::implement::{BLOCKED_SUBJECT, IMPL_SUBJECT, impl_calls, impl_prompt};
use crate::implement_faults::agent_repo;
use crate::schema::assert_events;

/// Shell lines writing src/lib.rs with `verbose` and the test proving it.
const GOOD: &str = "printf 'pub fn widget() {}\\n\\npub fn verbose() -> bool {\\n    true\\n}\\n' > src/lib.rs\nmkdir -p tests\necho \"grep -q 'fn verbose' src/lib.rs\" > tests/verbose.sh";

/// The sandbox off: only the after-check stands between a program and the repository.
const OFF: &str = "[sandbox]\nmode = \"off\"\n";

/// An agent that, in its first attempt only, runs `evil` (with `$common`, the git common
/// dir, set), then writes the good change.
fn misbehaving_agent(evil: &str) -> String {
    format!(
        "common=$(git rev-parse --git-common-dir)\nif [ ! -e \"$LOG/misbehaved\" ]; then\n  touch \"$LOG/misbehaved\"\n{evil}\nfi\n{GOOD}"
    )
}

/// Everything of the user's repository a program must not change, byte for byte: every ref
/// but the issue's branch, the git directory's config, hooks (with their modes) and info,
/// and the checkout (HEAD, index, files).
fn repository_state(repo: &TestRepo) -> String {
    let refs: Vec<String> = repo
        .git(&[
            "for-each-ref",
            "--format=%(refname) %(symref) %(objectname)",
        ])
        .lines()
        .filter(|l| !l.starts_with("refs/heads/orchestrate/7-"))
        .map(str::to_string)
        .collect();
    let git_dir = repo.root.join(".git");
    let mut files = Vec::new();
    for part in ["config", "hooks", "info"] {
        let path = git_dir.join(part);
        if path.is_file() {
            files.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
        files.extend(files_under(&path));
    }
    files.sort();
    let modes: Vec<String> = files
        .iter()
        .map(|(path, content)| {
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            content.hash(&mut hasher);
            let path = path
                .strip_prefix(&*repo.root.display().to_string())
                .unwrap_or(path);
            format!("{path} {mode:o} {:016x}", hasher.finish())
        })
        .collect();
    format!(
        "refs:\n{}\nfiles:\n{}\ncheckout:\n{}",
        refs.join("\n"),
        modes.join("\n"),
        repo.checkout_state()
    )
}

fn run_json(repo: &TestRepo, issue: &str) -> (Run, Vec<Value>) {
    let run = repo.run(&["7", "--issue-file", issue, "--until", "impl", "--json"]);
    let events = assert_events(&run, "a run with a misbehaving program");
    (run, events)
}

fn contained(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event"] == "contained")
        .collect()
}

/// `what name how undone` for each change of a `contained` event.
fn changes(event: &Value) -> Vec<String> {
    event["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!("{} {} {} {}", c["what"], c["name"], c["how"], c["undone"]).replace('"', "")
        })
        .collect()
}

fn report(repo: &TestRepo) -> String {
    repo.show(BRANCH, "docs/reports/7.md").unwrap()
}

#[test]
fn an_agent_planting_hooks_config_and_refs_fails_its_attempt_and_all_is_put_back() {
    let (repo, issue) = agent_repo(
        &misbehaving_agent(
            "  printf '#!/bin/sh\\ntouch \"%s/hook-ran\"\\n' \"$LOG\" > \"$common/hooks/pre-push\"\n  chmod +x \"$common/hooks/pre-push\"\n  git config --file \"$common/config\" core.hooksPath \"$LOG\"\n  git config --file \"$common/config\" alias.x '!touch \"$LOG/alias-ran\"'\n  git branch planted HEAD\n  git tag v-planted HEAD\n  git notes add -m planted HEAD\n  git update-ref refs/heads/orchestrate/2-fake HEAD",
        ),
        OFF,
    );
    let before = repository_state(&repo);

    let (run, events) = run_json(&repo, &issue);
    run.expect_code(0);

    // What the check found, each undone.
    let found = contained(&events);
    assert_eq!(found.len(), 1, "{events:?}");
    assert_eq!(found[0]["by"], "agent");
    assert_eq!(found[0]["attempt"], 1);
    assert_eq!(
        changes(found[0]),
        [
            "hook .git/hooks/pre-push added true",
            "config .git/config modified true",
            "ref refs/heads/orchestrate/2-fake added true",
            "ref refs/heads/planted added true",
            "ref refs/notes/commits added true",
            "ref refs/tags/v-planted added true",
        ]
    );
    let attempts: Vec<&Value> = events.iter().filter(|e| e["event"] == "attempt").collect();
    assert_eq!(attempts[0]["result"], "contained");
    assert_eq!(attempts[0]["by"], "agent");
    assert_eq!(attempts[1]["result"], "passed");

    // The repository is as it was, byte for byte; nothing planted ever ran.
    assert_eq!(repository_state(&repo), before);
    assert!(!repo.logs.join("hook-ran").exists());
    assert!(!repo.logs.join("alias-ran").exists());

    // The reason went back to the agent, and the report keeps it.
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("Your previous attempt changed things outside the worktree: .git/hooks/pre-push was added (removed again); .git/config was changed (restored); ref refs/heads/orchestrate/2-fake was created (deleted again); ref refs/heads/planted was created (deleted again)"),
        "{prompt}"
    );
    assert_eq!(repo.subjects(BRANCH)[0], IMPL_SUBJECT);
    let report = report(&repo);
    assert!(
        report.contains("refused: the agent changed the user's repository outside the worktree: .git/hooks/pre-push was added (removed again)"),
        "{report}"
    );
}

#[test]
fn an_agent_writing_into_the_users_checkout_and_index_is_named_and_its_files_left_alone() {
    let (repo, issue) = agent_repo(
        &misbehaving_agent(
            "  root=\"$common/..\"\n  echo planted > \"$root/planted.txt\"\n  echo 'Changed by an agent.' >> \"$root/README.md\"\n  echo staged > \"$root/staged.txt\"\n  (cd \"$root\" && git add staged.txt)",
        ),
        OFF,
    );
    let refs_before = repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);

    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl"]);
    run.expect_code(0).stderr_has(
        "the agent of impl attempt 1 changed the repository outside the worktree: the checkout's index was changed (left as it is); README.md in the checkout was changed (left as it is); planted.txt in the checkout was added (left as it is); staged.txt in the checkout was added (left as it is)",
    );
    // The user's files are theirs: left as the agent made them.
    assert_eq!(repo.read("planted.txt"), "planted\n");
    assert!(repo.read("README.md").ends_with("Changed by an agent.\n"));
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        " M README.md\nA  staged.txt\n?? .orchestrate.toml\n?? planted.txt"
    );
    let refs_after: Vec<String> = repo
        .git(&["for-each-ref", "--format=%(refname) %(objectname)"])
        .lines()
        .filter(|l| !l.starts_with("refs/heads/orchestrate/7-"))
        .map(str::to_string)
        .collect();
    assert_eq!(refs_after.join("\n"), refs_before);
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("README.md in the checkout was changed (left as it is)"),
        "{prompt}"
    );
}

#[test]
fn tests_that_plant_a_hook_fail_the_attempt_and_block_when_they_always_do() {
    // The test command plants a hook once the change is there (not on the baseline).
    // Each attempt changes the code a little more, so each is tested.
    let (repo, issue) = agent_repo(
        &format!("{GOOD}\necho \"// attempt $N\" >> src/lib.rs"),
        &format!("max_test_retries = 1\n{OFF}"),
    );
    repo.write(
        "plant.sh",
        "if grep -q 'fn verbose' src/lib.rs; then\n  common=$(git rev-parse --git-common-dir)\n  echo '#!/bin/sh' > \"$common/hooks/pre-commit\"\nfi\n",
    );
    repo.git(&["add", "plant.sh"]);
    repo.git(&["commit", "-q", "-m", "plant"]);
    repo.config(
        &std::fs::read_to_string(repo.root.join(".orchestrate.toml"))
            .unwrap()
            .replace(
                "test_command = \"sh check.sh\"",
                "test_command = \"sh check.sh && sh plant.sh\"",
            ),
    );
    let before = repository_state(&repo);

    let (run, events) = run_json(&repo, &issue);
    run.expect_code(3);

    let found = contained(&events);
    assert!(!found.is_empty(), "{events:?}");
    assert_eq!(found[0]["by"], "tests");
    assert_eq!(found[0]["attempt"], 1);
    assert_eq!(changes(found[0]), ["hook .git/hooks/pre-commit added true"]);
    let attempts: Vec<&Value> = events.iter().filter(|e| e["event"] == "attempt").collect();
    assert!(
        attempts
            .iter()
            .all(|a| a["result"] == "contained" && a["by"] == "tests"),
        "{attempts:?}"
    );
    assert_eq!(repository_state(&repo), before);

    assert_eq!(repo.subjects(BRANCH)[0], BLOCKED_SUBJECT);
    let report = report(&repo);
    assert!(
        report.contains("refused: running the tests changed the user's repository outside the worktree: .git/hooks/pre-commit was added (removed again)"),
        "{report}"
    );
    let prompt = impl_prompt(&repo, 2);
    assert!(
        prompt.contains("After your previous attempt, running `sh check.sh && sh plant.sh` changed things outside the worktree: .git/hooks/pre-commit was added (removed again)"),
        "{prompt}"
    );
    let last = events.last().unwrap();
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .contains("the user's repository was changed outside the worktree twice"),
        "{last}"
    );
}

#[test]
fn a_baseline_that_tags_the_repository_blocks_before_any_model_is_paid() {
    let (repo, issue) = agent_repo(GOOD, OFF);
    repo.config(
        &std::fs::read_to_string(repo.root.join(".orchestrate.toml"))
            .unwrap()
            .replace(
                "test_command = \"sh check.sh\"",
                "test_command = \"git tag -f from-the-tests && sh check.sh\"",
            ),
    );
    let before = repository_state(&repo);

    let run = repo.run(&["7", "--issue-file", &issue, "--until", "impl"]);
    run.expect_code(3).stderr_has(
        "the tests on the unchanged tree (the baseline) changed the repository outside the worktree: ref refs/tags/from-the-tests was created (deleted again)",
    ).stderr_has("the tests change the repository outside the worktree on the unchanged tree (the baseline)");
    assert!(impl_calls(&repo).is_empty());
    assert_eq!(repository_state(&repo), before);
}

#[test]
fn a_cmd_model_that_writes_a_hook_is_refused_and_the_hook_removed() {
    let repo = TestRepo::new();
    let drafter = repo.model(
        "drafter",
        &format!(
            "common=$(git rev-parse --git-common-dir)\necho '#!/bin/sh' > \"$common/hooks/pre-commit\"\n{}",
            draft_script()
        ),
    );
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, OFF);
    let issue = repo.default_issue();
    let before = repository_state(&repo);

    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(1)
        .stderr_has("error: lld: the drafter (")
        .stderr_has("changed the repository outside its work: .git/hooks/pre-commit was added (removed again)")
        .stderr_has("hint: ")
        .stderr_has("runs as you, outside any sandbox");
    assert!(!repo.root.join(".git/hooks/pre-commit").exists());
    assert_eq!(repository_state(&repo), before);
}

#[test]
fn another_issues_commit_during_a_model_call_is_the_tools_own_and_not_undone() {
    // Issue 12's drafter is still out when issue 13's lld commit lands (its reviewer leaves a
    // mark; 12's drafter waits for it, then a little longer).
    let repo = TestRepo::new();
    let drafter = repo.model(
        "drafter",
        &format!(
            "if [ \"$ORCHESTRATE_ISSUE\" = 12 ]; then\n  i=0\n  while [ ! -e \"$LOG/13-reviewed\" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n  sleep 0.5\nfi\n{}",
            draft_script()
        ),
    );
    let reviewer = repo.model(
        "reviewer",
        &format!(
            "if [ \"$ORCHESTRATE_ISSUE\" = 13 ]; then touch \"$LOG/13-reviewed\"; fi\ncat <<'REPLY'\n{}\nREPLY",
            approved()
        ),
    );
    repo.config_models(&drafter, &reviewer, OFF);
    for (number, title) in [(12, "Add a flag"), (13, "Fix a typo")] {
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

    let run = repo.run(&["run", "12", "13", "-j", "2", "--until", "lld"]);
    run.expect_code(0);
    assert!(
        !run.stderr.contains("outside the worktree"),
        "{}",
        run.stderr
    );
    assert!(repo.logs.join("13-reviewed").exists());
    for branch in repo
        .branches()
        .iter()
        .filter(|b| b.starts_with("orchestrate/"))
    {
        assert!(
            repo.subjects(branch)[0].starts_with("orchestrate(lld)"),
            "{branch}: {:?}",
            repo.subjects(branch)
        );
    }
}

#[test]
fn a_cmd_model_that_only_writes_into_the_checkout_is_named_and_the_stage_goes_on() {
    // As a person at the keyboard might while the model works: said, not refused.
    let repo = TestRepo::new();
    let drafter = repo.model(
        "drafter",
        &format!("echo notes > notes.txt\n{}", draft_script()),
    );
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, OFF);
    let issue = repo.default_issue();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "lld"]);
    run.expect_code(0).stderr_has(
        "changed the repository outside the worktree: notes.txt in the checkout was added (left as it is)",
    );
    assert_eq!(repo.read("notes.txt"), "notes\n");
}

#[test]
fn a_contained_agent_allowed_to_write_the_checkout_is_still_checked_there() {
    // Contained, an agent's check skips the checkout's files only while the kernel keeps it
    // off them: widened to the checkout, the check reads them again. (Its `$LOG` is not
    // writable to it, so it misbehaves in every attempt.)
    let (repo, issue) = agent_repo(
        &misbehaving_agent("  echo planted > \"$common/../planted.txt\""),
        "",
    );
    let root = repo.root.canonicalize().unwrap();
    let config = std::fs::read_to_string(repo.root.join(".orchestrate.toml")).unwrap();
    std::fs::write(
        repo.root.join(".orchestrate.toml"),
        format!(
            "{config}\n[sandbox]\nagent_writable = [\"{}\"]\n",
            root.display()
        ),
    )
    .unwrap();
    repo.run(&["7", "--issue-file", &issue, "--until", "impl"])
        .expect_code(3)
        .stderr_has(
            "the agent of impl attempt 1 changed the repository outside the worktree: planted.txt in the checkout was added (left as it is)",
        )
        .stderr_has("the user's repository was changed outside the worktree 4 times");
    assert_eq!(repo.read("planted.txt"), "planted\n");
}
