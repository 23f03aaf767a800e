//! Human gates: stopping without a terminal, `approve` and `reject` from the command line,
//! and the terminal prompt (a, r, e, q, Ctrl-C) through a real pseudo-terminal.

use std::path::PathBuf;
use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

use crate::harness::{
    BIN, BRANCH, LLD_SUBJECT, SPEC_SUBJECT, TRIAGE_SUBJECT, TestRepo, approved, complete_doc,
};

const APPROVE_SUBJECT: &str = "orchestrate(gate): approve after_lld for #7";
const WAITING_SUBJECT: &str = "orchestrate(gate): waiting at after_lld for #7";
const REJECT_SUBJECT: &str = "orchestrate(gate): reject after_lld for #7";
const FEEDBACK: &str = "Use the existing logger";
const PROMPT: &str = "Approve it? [a]pprove, [r]eject with feedback, [e]dit, [v]iew, [q]uit: ";
/// Generous: a pty expectation waits for real processes (git, models), never for a clock.
const PTY_TIMEOUT_MS: u64 = 20_000;

/// A repository whose drafter writes a complete document marked with the call number (so
/// every draft differs from the last) and whose reviewer approves at once. `extra` is more
/// configuration (e.g. `[gates]`).
fn setup(extra: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    let drafter = repo.model(
        "drafter",
        &format!(
            "cat <<DOC\n{}\nDOC",
            complete_doc("$ORCHESTRATE_STAGE call $N")
        ),
    );
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, extra);
    let issue = repo.default_issue();
    (repo, issue)
}

const GATE_ON: &str = "[gates]\nafter_lld = true\n";

/// The files a commit changed (first parent).
fn changed_files(repo: &TestRepo, rev: &str) -> String {
    repo.git(&["diff", "--name-only", &format!("{rev}~1"), rev])
}

/// The index (1-based, as `repo.prompt` takes it) of the first call with `stage role`.
fn first_call(repo: &TestRepo, stage_role: &str, after: usize) -> usize {
    repo.call_roles()
        .iter()
        .enumerate()
        .skip(after)
        .find(|(_, c)| c.starts_with(stage_role))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| {
            panic!(
                "no `{stage_role}` call after {after}: {:?}",
                repo.call_roles()
            )
        })
}

/// The state a fresh run leaves with the gate on and no terminal: lld committed, and the
/// branch records that the issue waits at after_lld (an empty commit).
#[track_caller]
fn assert_waiting_after_lld(repo: &TestRepo) {
    assert_eq!(
        repo.subjects(BRANCH)[..3],
        [WAITING_SUBJECT, LLD_SUBJECT, TRIAGE_SUBJECT],
        "the branch ends at the design commit and the record of the wait"
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Waiting").as_deref(),
        Some("after_lld")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict"),
        None,
        "waiting is not a verdict"
    );
    assert_eq!(
        repo.git(&["diff", "--stat", &format!("{BRANCH}~1"), BRANCH]),
        "",
        "the record of the wait changes no file"
    );
    assert_designed_not_specified(repo);
}

/// lld done and nothing after it.
#[track_caller]
fn assert_designed_not_specified(repo: &TestRepo) {
    assert_eq!(repo.call_roles(), ["lld drafter 1", "lld reviewer 1"]);
    assert!(repo.show(BRANCH, "docs/lld/7.md").is_some());
    assert!(
        repo.show(BRANCH, "docs/specs/7.md").is_none(),
        "the spec did not run"
    );
}

// ---------------------------------------------------------------------------------------
// No terminal

#[test]
fn without_a_terminal_the_run_stops_at_the_gate_with_exit_4() {
    let (repo, issue) = setup(GATE_ON);
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "spec"]);
    run.expect_code(4)
        .stderr_has("after_lld")
        .stderr_has("git orchestrate approve 7")
        .stderr_has("git orchestrate reject 7 -m");
    assert!(
        !run.stderr.contains("--gate"),
        "the gate is configured, so the commands need no --gate:\n{}",
        run.stderr
    );
    assert_waiting_after_lld(&repo);
    assert!(!repo.lock_path(7).exists(), "the lock is released");
}

#[test]
fn no_input_stops_at_the_gate_with_exit_4() {
    let (repo, issue) = setup(GATE_ON);
    repo.run(&["7", "--issue-file", &issue, "--until", "spec", "--no-input"])
        .expect_code(4)
        .stderr_has("git orchestrate approve 7")
        .stderr_has("git orchestrate reject 7 -m");
    assert_waiting_after_lld(&repo);
}

/// The printed command lines that go on from a gate (`git orchestrate approve|reject ...`).
fn printed_commands(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("git orchestrate approve ") || l.starts_with("git orchestrate reject ")
        })
        .map(str::to_string)
        .collect()
}

/// Run a printed command line as a person would: through the shell and `git`, which finds
/// `git-orchestrate` on PATH.
fn run_in_shell(repo: &TestRepo, line: &str) -> (i32, String) {
    let tool = repo.base().join("tool");
    std::fs::create_dir_all(&tool).unwrap_or_else(|e| panic!("mkdir {}: {e}", tool.display()));
    let link = tool.join("git-orchestrate");
    if !link.exists() {
        std::os::unix::fs::symlink(BIN, &link).unwrap_or_else(|e| panic!("symlink {BIN}: {e}"));
    }
    let mut cmd = Command::new("sh");
    repo.apply_env(&mut cmd);
    let path = cmd
        .get_envs()
        .find(|(k, _)| *k == "PATH")
        .and_then(|(_, v)| v)
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", tool.display()))
        .arg("-c")
        .arg(line)
        .current_dir(&repo.root);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("sh -c {line:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The ways a gate can be turned on for a run.
#[derive(Clone, Copy, Debug)]
enum TurnedOn {
    /// `[gates] after_lld = true` in `.orchestrate.toml` (untracked: this clone only).
    Config,
    /// `--gate after_lld`.
    Flag,
    /// `-c gates.after_lld=true`.
    Override,
}

impl TurnedOn {
    const ALL: [TurnedOn; 3] = [TurnedOn::Config, TurnedOn::Flag, TurnedOn::Override];

    fn setup(self) -> (TestRepo, String) {
        match self {
            TurnedOn::Config => setup(GATE_ON),
            TurnedOn::Flag | TurnedOn::Override => setup(""),
        }
    }

    /// The arguments that turn the gate on, for the first run only.
    fn args(self) -> &'static [&'static str] {
        match self {
            TurnedOn::Config => &[],
            TurnedOn::Flag => &["--gate", "after_lld"],
            TurnedOn::Override => &["-c", "gates.after_lld=true"],
        }
    }
}

/// Whatever turned the gate on, the run that stops there records it on the branch: the
/// commands it prints work exactly as printed, with no flag repeated, and `status` says the
/// issue waits there — also when the configuration that turned it on is gone.
#[test]
fn a_gate_turned_on_any_way_keeps_its_word_without_flags_repeated() {
    for way in TurnedOn::ALL {
        let (repo, issue) = way.setup();
        let mut args = vec![
            "7",
            "--issue-file",
            issue.as_str(),
            "--until",
            "spec",
            "--no-input",
        ];
        args.extend(way.args());
        let run = repo.run(&args);
        run.expect_code(4);
        assert_waiting_after_lld(&repo);
        let commands = printed_commands(&run.stderr);
        assert_eq!(
            commands,
            [
                "git orchestrate approve 7",
                "git orchestrate reject 7 -m \"what to change\""
            ],
            "{way:?}: {}",
            run.stderr
        );
        if let TurnedOn::Config = way {
            // What turned the gate on is gone: the branch alone carries the wait.
            std::fs::remove_file(repo.root.join(".orchestrate.toml")).unwrap();
            let drafter = repo.bin.join("drafter");
            let reviewer = repo.bin.join("reviewer");
            repo.config_models(
                &format!("cmd:{}", drafter.display()),
                &format!("cmd:{}", reviewer.display()),
                "",
            );
        }

        let status = repo.run(&["status", "7"]);
        status
            .expect_code(0)
            .stdout_has("waiting at gate after_lld");
        let lld_row = status
            .stdout
            .lines()
            .find(|l| l.starts_with("lld "))
            .unwrap_or_else(|| panic!("{way:?}: no lld row:\n{}", status.stdout));
        assert!(lld_row.contains("waiting"), "{way:?}: {}", status.stdout);

        // A plain re-run does not slip past a gate that waits for a person.
        let calls = repo.calls().len();
        repo.run(&["7", "--until", "spec"])
            .expect_code(4)
            .stderr_has("git orchestrate approve 7");
        assert_eq!(repo.calls().len(), calls, "{way:?}: nothing was called");
        assert_eq!(
            repo.subjects(BRANCH)[..2],
            [WAITING_SUBJECT, LLD_SUBJECT],
            "{way:?}: the wait is recorded once"
        );

        // Reject exactly as printed, with real feedback in place of the placeholder.
        let reject = commands[1].replace("\"what to change\"", &format!("\"{FEEDBACK}\""));
        let (code, out) = run_in_shell(&repo, &reject);
        assert_eq!(code, 0, "{way:?}: {reject}: {out}");
        assert_eq!(repo.subjects(BRANCH)[0], REJECT_SUBJECT);

        // The next run, with no flag, revises the design and asks again.
        let calls = repo.calls().len();
        let run = repo.run(&["7", "--until", "spec"]);
        run.expect_code(4).stderr_has("git orchestrate approve 7");
        assert_eq!(
            repo.call_roles()[calls..],
            ["lld drafter 1", "lld reviewer 1"],
            "{way:?}: the design was revised and reviewed, nothing else"
        );
        assert_eq!(
            repo.subjects(BRANCH)[..3],
            [WAITING_SUBJECT, LLD_SUBJECT, REJECT_SUBJECT]
        );

        // Approve exactly as printed; the next run goes on to the spec.
        let (code, out) = run_in_shell(&repo, &commands[0]);
        assert_eq!(code, 0, "{way:?}: {}: {out}", commands[0]);
        assert_eq!(repo.subjects(BRANCH)[0], APPROVE_SUBJECT);
        let calls = repo.calls().len();
        repo.run(&["7", "--until", "spec"]).expect_code(0);
        assert_eq!(
            repo.call_roles()[calls..],
            ["spec drafter 1", "spec reviewer 1"],
            "{way:?}"
        );
        assert_eq!(repo.subjects(BRANCH)[..2], [SPEC_SUBJECT, APPROVE_SUBJECT]);
    }
}

/// The wait is in the branch history, so another clone that has the branch knows it too.
#[test]
fn another_clone_with_the_branch_knows_the_issue_waits_at_the_gate() {
    let (repo, issue) = setup("");
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "spec",
        "-c",
        "gates.after_lld=true",
    ])
    .expect_code(4);
    let clone = repo.base().join("clone");
    repo.git(&[
        "clone",
        "-q",
        repo.root.to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    let in_clone = |args: &[&str]| {
        let mut cmd = repo.cmd();
        cmd.current_dir(&clone);
        crate::harness::Run::from(cmd.args(args).output().unwrap())
    };
    let git_in_clone = |args: &[&str]| {
        let mut cmd = Command::new("git");
        repo.apply_env(&mut cmd);
        let out = cmd.args(args).current_dir(&clone).output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git_in_clone(&["branch", BRANCH, &format!("origin/{BRANCH}")]);
    in_clone(&["status", "7"])
        .expect_code(0)
        .stdout_has("waiting at gate after_lld");
    in_clone(&["approve", "7"]).expect_code(0);
    assert_eq!(
        git_in_clone(&["log", "-1", "--format=%s", BRANCH]),
        APPROVE_SUBJECT
    );
}

/// `--no-gate` turns a recorded wait off for one run, as it turns off a configured gate.
#[test]
fn no_gate_goes_past_a_recorded_wait() {
    let (repo, issue) = setup("");
    repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "spec",
        "--gate",
        "after_lld",
    ])
    .expect_code(4);
    let calls = repo.calls().len();
    repo.run(&["7", "--until", "spec", "--no-gate", "after_lld"])
        .expect_code(0);
    assert_eq!(
        repo.call_roles()[calls..],
        ["spec drafter 1", "spec reviewer 1"]
    );
}

// ---------------------------------------------------------------------------------------
// approve

#[test]
fn approve_records_an_empty_gate_commit_and_the_next_run_goes_on_to_the_spec() {
    let (repo, issue) = setup(GATE_ON);
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(4);
    let lld_commit = repo.rev(BRANCH);

    let run = repo.run(&["approve", "7"]);
    run.expect_code(0);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("after_lld"),
        "{run:?}"
    );
    assert_eq!(repo.subjects(BRANCH)[0], APPROVE_SUBJECT);
    assert_eq!(repo.rev(&format!("{BRANCH}~1")), lld_commit);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Issue").as_deref(),
        Some("7")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Gate").as_deref(),
        Some("after_lld")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("human-approved")
    );
    assert_eq!(
        repo.git(&["diff", "--stat", &format!("{BRANCH}~1"), BRANCH]),
        "",
        "a gate decision changes no file"
    );

    let calls = repo.calls().len();
    let run = repo.run(&["7", "--until", "spec"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("Waiting"), "{}", run.stderr);
    assert_eq!(
        repo.call_roles()[calls..],
        ["spec drafter 1", "spec reviewer 1"]
    );
    assert_eq!(
        repo.subjects(BRANCH)[..4],
        [SPEC_SUBJECT, APPROVE_SUBJECT, WAITING_SUBJECT, LLD_SUBJECT]
    );
    assert!(repo.show(BRANCH, "docs/specs/7.md").is_some());

    // A later run has nothing left to ask at after_lld either.
    let calls = repo.calls().len();
    repo.run(&["7", "--until", "spec"]).expect_code(0);
    assert_eq!(repo.calls().len(), calls);
}

#[test]
fn approving_a_passed_gate_again_with_the_gate_named_commits_nothing() {
    let (repo, issue) = setup(GATE_ON);
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(4);
    repo.run(&["approve", "7", "--gate", "after_lld"])
        .expect_code(0);
    let tip = repo.rev(BRANCH);
    let run = repo.run(&["approve", "7", "--gate", "after_lld"]);
    run.expect_code(0);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("already approved"),
        "{run:?}"
    );
    assert_eq!(repo.rev(BRANCH), tip, "nothing committed");
}

#[test]
fn approving_twice_says_it_was_already_approved_and_commits_nothing() {
    let (repo, issue) = setup(GATE_ON);
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(4);
    repo.run(&["approve", "7"]).expect_code(0);
    let tip = repo.rev(BRANCH);
    let run = repo.run(&["approve", "7"]);
    run.expect_code(0);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("already approved"),
        "{run:?}"
    );
    assert_eq!(repo.rev(BRANCH), tip, "nothing committed");
}

// ---------------------------------------------------------------------------------------
// reject

#[test]
fn reject_records_the_feedback_and_the_next_run_revises_the_design_and_asks_again() {
    let (repo, issue) = setup(GATE_ON);
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(4);
    let first_design = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    assert!(first_design.contains("lld call 1"), "{first_design}");

    repo.run(&["reject", "7", "-m", FEEDBACK]).expect_code(0);
    assert_eq!(repo.subjects(BRANCH)[0], REJECT_SUBJECT);
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Issue").as_deref(),
        Some("7")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Gate").as_deref(),
        Some("after_lld")
    );
    assert_eq!(
        repo.trailer(BRANCH, "Orchestrate-Verdict").as_deref(),
        Some("rejected")
    );
    let body = repo.git(&["log", "-1", "--format=%b", BRANCH]);
    assert!(body.contains(FEEDBACK), "{body}");
    assert_eq!(
        repo.git(&["diff", "--stat", &format!("{BRANCH}~1"), BRANCH]),
        ""
    );

    // Between the rejection and the next run, status says so.
    let status = repo.run(&["status", "7"]);
    status.expect_code(0);
    let lld_line = status
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("lld"))
        .unwrap_or_else(|| panic!("no lld row:\n{}", status.stdout));
    assert!(lld_line.contains("rejected"), "{}", status.stdout);

    let calls = repo.calls().len();
    let run = repo.run(&["7", "--until", "spec"]);
    run.expect_code(4).stderr_has("git orchestrate approve 7");
    let new: Vec<String> = repo.call_roles()[calls..].to_vec();
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(new[0].starts_with("lld drafter"), "{new:?}");
    assert!(new[1].starts_with("lld reviewer"), "{new:?}");
    let prompt = repo.prompt(calls + 1);
    assert!(
        prompt.contains("Why (lld call 1)."),
        "the revision starts from the previous design:\n{prompt}"
    );
    assert!(prompt.contains(FEEDBACK), "{prompt}");

    assert_eq!(
        repo.subjects(BRANCH)[..3],
        [WAITING_SUBJECT, LLD_SUBJECT, REJECT_SUBJECT]
    );
    let revised = repo.show(BRANCH, "docs/lld/7.md").unwrap();
    assert_ne!(revised, first_design);
    assert!(repo.show(BRANCH, "docs/specs/7.md").is_none());
}

// ---------------------------------------------------------------------------------------
// Nothing waits

#[test]
fn approve_and_reject_without_a_branch_are_errors_with_a_hint() {
    let (repo, _) = setup(GATE_ON);
    repo.run(&["approve", "7"])
        .expect_code(1)
        .stderr_has("no branch")
        .stderr_has("hint:");
    repo.run(&["reject", "7", "-m", FEEDBACK])
        .expect_code(1)
        .stderr_has("no branch")
        .stderr_has("hint:");
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn approve_and_reject_when_no_gate_waits_are_errors() {
    let (repo, issue) = setup("");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    let tip = repo.rev(BRANCH);

    repo.run(&["approve", "7"])
        .expect_code(1)
        .stderr_has("not waiting at a gate");
    repo.run(&["reject", "7", "-m", FEEDBACK])
        .expect_code(1)
        .stderr_has("not waiting at a gate");
    // A named gate whose stage is not done has nothing to decide.
    repo.run(&["approve", "7", "--gate", "after_spec"])
        .expect_code(1)
        .stderr_has("after_spec");
    repo.run(&["reject", "7", "--gate", "after_spec", "-m", FEEDBACK])
        .expect_code(1);
    assert_eq!(repo.rev(BRANCH), tip, "nothing committed");
}

#[test]
fn reject_needs_feedback() {
    let (repo, issue) = setup(GATE_ON);
    repo.run(&["7", "--issue-file", &issue, "--until", "spec"])
        .expect_code(4);
    let tip = repo.rev(BRANCH);
    repo.run(&["reject", "7", "-m", ""]).expect_code(2);
    repo.run(&["reject", "7", "-m", "  "]).expect_code(2);
    repo.run(&["reject", "7"]).expect_code(2);
    assert_eq!(repo.rev(BRANCH), tip, "nothing committed");
}

// ---------------------------------------------------------------------------------------
// A terminal

/// The binary on a pseudo-terminal (stdin, stdout and stderr), in the hermetic environment.
pub(crate) fn spawn_pty(repo: &TestRepo, args: &[&str], editor: Option<&PathBuf>) -> PtySession {
    let mut cmd = Command::new(BIN);
    repo.apply_env(&mut cmd);
    if let Some(editor) = editor {
        cmd.env("GIT_EDITOR", editor);
    }
    cmd.args(args).current_dir(&repo.root);
    rexpect::session::spawn_command(cmd, Some(PTY_TIMEOUT_MS))
        .unwrap_or_else(|e| panic!("cannot start {BIN} on a pseudo-terminal: {e}"))
}

/// Wait for the end of the output and the process; return its exit code and the output not
/// read yet.
pub(crate) fn finish(session: &mut PtySession) -> (i32, String) {
    let rest = session
        .exp_eof()
        .unwrap_or_else(|e| panic!("waiting for the process to end: {e}"));
    let status = session
        .process()
        .wait()
        .unwrap_or_else(|e| panic!("waiting for the exit status: {e}"));
    match status {
        WaitStatus::Exited(_, code) => (code, rest),
        other => panic!("the process did not exit normally: {other:?}\n{rest}"),
    }
}

#[track_caller]
fn expect(session: &mut PtySession, text: &str) -> String {
    session
        .exp_string(text)
        .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}"))
}

#[test]
fn on_a_terminal_a_approves_and_the_run_goes_on() {
    let (repo, issue) = setup(GATE_ON);
    let mut session = spawn_pty(
        &repo,
        &["7", "--issue-file", &issue, "--until", "spec"],
        None,
    );
    let before = expect(&mut session, PROMPT);
    assert!(before.contains("Gate after_lld"), "{before}");
    assert!(before.contains("docs/lld/7.md"), "{before}");
    session.send_line("a").unwrap();
    let (code, rest) = finish(&mut session);
    assert_eq!(code, 0, "{rest}");

    assert_eq!(
        repo.subjects(BRANCH)[..4],
        [SPEC_SUBJECT, APPROVE_SUBJECT, LLD_SUBJECT, TRIAGE_SUBJECT]
    );
    let gate = format!("{BRANCH}~1");
    assert_eq!(
        repo.trailer(&gate, "Orchestrate-Verdict").as_deref(),
        Some("human-approved")
    );
    assert_eq!(
        repo.trailer(&gate, "Orchestrate-Gate").as_deref(),
        Some("after_lld")
    );
    assert_eq!(changed_files(&repo, &gate), "");
    assert_eq!(
        repo.call_roles(),
        [
            "lld drafter 1",
            "lld reviewer 1",
            "spec drafter 1",
            "spec reviewer 1"
        ]
    );
}

#[test]
fn on_a_terminal_r_rejects_revises_and_asks_again() {
    let (repo, issue) = setup(GATE_ON);
    let mut session = spawn_pty(
        &repo,
        &["7", "--issue-file", &issue, "--until", "spec"],
        None,
    );
    expect(&mut session, PROMPT);
    session.send_line("r").unwrap();
    expect(&mut session, "What should change?");
    session.send_line(FEEDBACK).unwrap();
    // The design is revised, reviewed, and the gate asks about the new one.
    expect(&mut session, PROMPT);
    let calls = repo.call_roles();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(calls[2].starts_with("lld drafter"), "{calls:?}");
    assert!(calls[3].starts_with("lld reviewer"), "{calls:?}");
    let prompt = repo.prompt(3);
    assert!(prompt.contains(FEEDBACK), "{prompt}");
    assert!(prompt.contains("Why (lld call 1)."), "{prompt}");

    session.send_line("q").unwrap();
    let (code, rest) = finish(&mut session);
    assert_eq!(code, 4, "{rest}");

    assert_eq!(
        repo.subjects(BRANCH)[..4],
        [WAITING_SUBJECT, LLD_SUBJECT, REJECT_SUBJECT, LLD_SUBJECT]
    );
    let reject = format!("{BRANCH}~2");
    assert_eq!(
        repo.trailer(&reject, "Orchestrate-Verdict").as_deref(),
        Some("rejected")
    );
    let body = repo.git(&["log", "-1", "--format=%b", &reject]);
    assert!(body.contains(FEEDBACK), "{body}");
    assert!(
        repo.show(BRANCH, "docs/lld/7.md")
            .unwrap()
            .contains("lld call 3")
    );
    assert!(repo.show(BRANCH, "docs/specs/7.md").is_none());
}

#[test]
fn on_a_terminal_e_commits_the_persons_edit_and_asks_again() {
    let (repo, issue) = setup(GATE_ON);
    let editor = repo.base().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf '%s\\n' 'Edited by a person.' >> \"$1\"\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&editor).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&editor, perms).unwrap();

    let mut session = spawn_pty(
        &repo,
        &["7", "--issue-file", &issue, "--until", "spec"],
        Some(&editor),
    );
    expect(&mut session, PROMPT);
    session.send_line("e").unwrap();
    // The edit is committed and the gate asks about the edited design.
    expect(&mut session, PROMPT);
    let edit = BRANCH.to_string();
    assert_eq!(repo.subjects(BRANCH)[1], LLD_SUBJECT);
    assert_eq!(changed_files(&repo, &edit), "docs/lld/7.md");
    let edited = repo.show(&edit, "docs/lld/7.md").unwrap();
    assert!(edited.contains("Edited by a person."), "{edited}");
    assert!(edited.contains("Why (lld call 1)."), "{edited}");
    assert_eq!(
        repo.trailer(&edit, "Orchestrate-Stage"),
        None,
        "a person's edit: {:?}",
        repo.trailers(&edit)
    );
    let edit_commit = repo.rev(BRANCH);

    session.send_line("a").unwrap();
    let (code, rest) = finish(&mut session);
    assert_eq!(code, 0, "{rest}");

    assert_eq!(repo.subjects(BRANCH)[0], SPEC_SUBJECT);
    assert_eq!(repo.subjects(BRANCH)[1], APPROVE_SUBJECT);
    assert_eq!(repo.rev(&format!("{BRANCH}~2")), edit_commit);
    assert_eq!(repo.subjects(BRANCH)[3], LLD_SUBJECT);
    let spec_drafter = first_call(&repo, "spec drafter", 0);
    let prompt = repo.prompt(spec_drafter);
    assert!(
        prompt.contains("Edited by a person."),
        "the spec is drafted from the edited design:\n{prompt}"
    );
    assert_eq!(
        repo.call_roles(),
        [
            "lld drafter 1",
            "lld reviewer 1",
            "spec drafter 1",
            "spec reviewer 1"
        ],
        "an edit is not reviewed again by the model"
    );
}

#[test]
fn on_a_terminal_q_stops_at_the_gate_with_the_commands_to_go_on() {
    let (repo, issue) = setup(GATE_ON);
    let mut session = spawn_pty(
        &repo,
        &["7", "--issue-file", &issue, "--until", "spec"],
        None,
    );
    expect(&mut session, PROMPT);
    session.send_line("q").unwrap();
    let (code, rest) = finish(&mut session);
    assert_eq!(code, 4, "{rest}");
    assert!(rest.contains("git orchestrate approve 7"), "{rest}");
    assert!(rest.contains("git orchestrate reject 7 -m"), "{rest}");
    assert_waiting_after_lld(&repo);
    assert!(!repo.lock_path(7).exists());
}

#[test]
fn on_a_terminal_ctrl_c_at_the_prompt_exits_130_and_releases_the_lock() {
    let (repo, issue) = setup(GATE_ON);
    let mut session = spawn_pty(
        &repo,
        &["7", "--issue-file", &issue, "--until", "spec"],
        None,
    );
    expect(&mut session, PROMPT);
    assert!(
        repo.lock_path(7).exists(),
        "the run holds the lock while it asks"
    );
    session.send_control('c').unwrap();
    let (code, rest) = finish(&mut session);
    assert_eq!(code, 130, "{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    assert_eq!(
        repo.subjects(BRANCH)[..2],
        [LLD_SUBJECT, TRIAGE_SUBJECT],
        "an interrupted run records no wait: the next run asks again"
    );
    assert_designed_not_specified(&repo);
    assert!(!repo.lock_path(7).exists(), "the lock is released");
}
