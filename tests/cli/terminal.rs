//! Small things people notice at a terminal: `--version` names the commit, colour only where
//! wanted (never with `NO_COLOR`), `-q` keeps to errors and gates, and a reader that goes
//! away (`| head -1`) ends the program quietly.

use std::process::{Command, Stdio};

use crate::harness::{BIN, Run, TestRepo, approved};

const ESC: char = '\x1b';

#[test]
fn version_names_the_commit_it_was_built_from() {
    let repo = TestRepo::new();
    let run = repo.run(&["--version"]);
    run.expect_code(0);
    let line = run.stdout.trim_end();
    let pattern =
        regex::Regex::new(r"^git-orchestrate 0\.1\.0( \([0-9a-f]{9} \d{4}-\d{2}-\d{2}\))?$")
            .unwrap();
    assert!(pattern.is_match(line), "{line:?}");
    // Built from this crate's checkout, it says which commit.
    let commit = env!("GIT_ORCHESTRATE_COMMIT");
    if !commit.is_empty() {
        assert_eq!(line, format!("git-orchestrate 0.1.0 ({commit})"));
    }
    assert_eq!(repo.run(&["-V"]).stdout, run.stdout);
}

/// The environment of a test run with `NO_COLOR` as given (the harness sets it).
fn coloured(repo: &TestRepo, no_color: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = repo.cmd();
    cmd.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    Run::from(cmd.args(args).output().unwrap())
}

#[test]
fn no_color_wins_even_over_a_forced_colour() {
    let repo = TestRepo::new();
    // An error of ours and a usage error of clap's, both styled when colour is on.
    for args in [&["status", "99"][..], &["completions", "nosuchshell"][..]] {
        let forced = coloured(&repo, None, args);
        assert!(forced.stderr.contains(ESC), "{args:?}: {:?}", forced.stderr);
        let plain = coloured(&repo, Some("1"), args);
        assert_eq!(plain.code, forced.code);
        assert!(!plain.stderr.contains(ESC), "{args:?}: {:?}", plain.stderr);
        assert!(!plain.stdout.contains(ESC), "{args:?}: {:?}", plain.stdout);
        assert!(plain.stderr.contains("error"), "{}", plain.stderr);
    }
    // Not a terminal and nothing forced: no colour either.
    let mut cmd = repo.cmd();
    cmd.env_remove("NO_COLOR").args(["status", "99"]);
    let piped = Run::from(cmd.output().unwrap());
    assert!(!piped.stderr.contains(ESC), "{:?}", piped.stderr);
    assert!(
        piped.stderr.contains("no orchestrate branch"),
        "{}",
        piped.stderr
    );
}

/// On a terminal colour is on, unless `NO_COLOR` says otherwise.
#[test]
fn no_color_on_a_terminal() {
    let repo = TestRepo::new();
    let on_terminal = |no_color: bool| {
        let mut cmd = Command::new(BIN);
        repo.apply_env(&mut cmd);
        cmd.env_remove("NO_COLOR").env("TERM", "xterm");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        cmd.args(["status", "99"]).current_dir(&repo.root);
        let mut session = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
        session.exp_eof().unwrap()
    };
    let colour = on_terminal(false);
    assert!(colour.contains(ESC), "{colour:?}");
    let plain = on_terminal(true);
    assert!(!plain.contains(ESC), "{plain:?}");
    assert!(
        plain.contains("error: issue #99 has no orchestrate branch"),
        "{plain:?}"
    );
}

/// git's own colour settings count: `git -c color.ui=never orchestrate ...` and
/// `color.orchestrate = never` in the repository turn colour off on a terminal, as for git's
/// own commands; `color.orchestrate = always` wins over `color.ui = never`.
#[test]
fn gits_colour_configuration_is_honoured_on_a_terminal() {
    let repo = TestRepo::new();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap().to_path_buf();
    let on_terminal = |git_args: &[&str]| {
        let mut cmd = Command::new("git");
        repo.apply_env(&mut cmd);
        // The harness's PATH (git, sh) with the binary's directory first, as an install.
        let mut path = vec![bin_dir.clone()];
        path.extend(std::env::split_paths(&repo.path_with_models()));
        cmd.env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .env("PATH", std::env::join_paths(path).unwrap())
            .args(git_args)
            .args(["orchestrate", "status", "99"])
            .current_dir(&repo.root);
        let mut session = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
        session.exp_eof().unwrap()
    };
    assert!(on_terminal(&[]).contains(ESC), "colour by default");
    let never = on_terminal(&["-c", "color.ui=never"]);
    assert!(!never.contains(ESC), "{never:?}");
    assert!(
        never.contains("error: issue #99 has no orchestrate branch"),
        "{never:?}"
    );
    repo.git(&["config", "color.orchestrate", "never"]);
    assert!(!on_terminal(&[]).contains(ESC));
    repo.git(&["config", "color.orchestrate", "always"]);
    assert!(on_terminal(&["-c", "color.ui=never"]).contains(ESC));
}

#[test]
fn quiet_says_only_errors_and_gates() {
    let (repo, issue) = TestRepo::approving("[gates]\nafter_lld = true\n");
    let (loud_repo, loud_issue) = TestRepo::approving("[gates]\nafter_lld = true\n");
    let loud = loud_repo.run(&["7", "--issue-file", &loud_issue, "--until", "spec"]);
    loud.expect_code(4);
    loud.stderr_has("round 1");

    // The same run, quiet: nothing but what the gate needs from a person.
    let quiet = repo.run(&["-q", "7", "--issue-file", &issue, "--until", "spec"]);
    quiet.expect_code(4);
    assert!(quiet.stderr.len() < loud.stderr.len(), "{}", quiet.stderr);
    quiet.stderr_has("after_lld").stderr_has("approve");
    assert!(!quiet.stderr.contains("round 1"), "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("Finished"), "{}", quiet.stderr);

    // A stage that passes says nothing at all.
    let passing = repo.run(&["-q", "approve", "7"]);
    passing.expect_code(0);
    let done = repo.run(&["-q", "7", "--until", "spec"]);
    done.expect_code(0);
    assert_eq!(done.stderr, "", "a quiet run that passes prints nothing");

    // An error still shows.
    let drafter = repo.model("broken", "echo 'no such model' >&2\nexit 3");
    let reviewer = repo.reviewer("reviewer2", &[approved()]);
    repo.config_models(&drafter, &reviewer, "");
    let other = repo.issue("# Add a quiet flag\n\nAdd `--quiet`.\n");
    let failed = repo.run(&["-q", "8", "--issue-file", &other, "--until", "lld"]);
    failed.expect_code(1);
    failed.stderr_has("error:");
    assert!(!failed.stderr.contains("round 1"), "{}", failed.stderr);
}

/// Run the binary with its stdout a pipe whose reader is already gone.
fn into_closed_pipe(repo: &TestRepo, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Command::new(BIN);
    repo.apply_env(&mut cmd);
    let out = cmd
        .args(args)
        .current_dir(&repo.root)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    Run::from(out)
}

#[test]
fn a_reader_that_goes_away_ends_the_program_quietly() {
    let (repo, issue) = TestRepo::approving("");
    repo.run(&["7", "--issue-file", &issue, "--until", "lld"])
        .expect_code(0);
    for args in [
        &["status"][..],
        &["status", "7"][..],
        &["status", "7", "--json"][..],
        &["completions", "bash"][..],
        &["--version"][..],
        &["--help"][..],
        &["7", "--until", "spec", "--dry-run"][..],
    ] {
        let run = into_closed_pipe(&repo, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{args:?}");
    }

    // `| head -1`: the reader takes a line and leaves while the program still writes.
    let mut cmd = Command::new(BIN);
    repo.apply_env(&mut cmd);
    let mut child = cmd
        .args(["completions", "zsh"])
        .current_dir(&repo.root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("git-orchestrate"), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr, "");
}
