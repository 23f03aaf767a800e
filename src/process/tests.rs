//! Real `sh` children: each test checks what a caller (or a user waiting on a stuck tool)
//! would see: the output, the status in words, and which processes are still running.

use std::time::Duration;

use super::watch::{assert_stops, pid_in};
use super::{Command, ProcessError};

use super::watch::DEADLINE;
/// A timeout long enough for a script to have started what it starts (and set its traps)
/// before it fires, even on a loaded machine.
const STARTUP: Duration = Duration::from_secs(2);

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// Run with an outer deadline, so a module that waits forever fails instead of hanging.
async fn run(cmd: Command) -> Result<super::Output, ProcessError> {
    tokio::time::timeout(DEADLINE, cmd.run())
        .await
        .expect("the run ends")
}

#[tokio::test]
async fn a_timeout_stops_the_program_and_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = Command::shell("echo started; sleep 30 & echo $! > bg.pid; wait")
        .current_dir(dir.path())
        .timeout(STARTUP);
    let Err(ProcessError::TimedOut {
        timeout, partial, ..
    }) = run(cmd).await
    else {
        panic!("expected a timeout");
    };
    assert_eq!(timeout, STARTUP);
    assert_eq!(
        text(&partial.stdout),
        "started\n",
        "what it printed is kept"
    );
    assert_eq!(partial.status.to_string(), "killed by SIGTERM");
    assert_stops(
        "the background sleep",
        pid_in(&dir.path().join("bg.pid")).await,
    );
}

#[tokio::test]
async fn a_timeout_kills_what_ignores_sigterm_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    // An ignored signal stays ignored in children: only SIGKILL stops either of them.
    let cmd = Command::shell("trap '' TERM; sleep 30 & echo $! > bg.pid; wait")
        .current_dir(dir.path())
        .timeout(STARTUP);
    let Err(ProcessError::TimedOut { partial, .. }) = run(cmd).await else {
        panic!("expected a timeout");
    };
    assert_eq!(partial.status.to_string(), "killed by SIGKILL");
    assert_stops(
        "the background sleep",
        pid_in(&dir.path().join("bg.pid")).await,
    );
}

#[tokio::test]
async fn huge_output_is_kept_up_to_the_limit_and_the_program_still_finishes() {
    const LIMIT: usize = 1024 * 1024;
    let cmd = Command::shell("yes | head -c 100000000; echo finished >&2").stdout_limit(LIMIT);
    let out = run(cmd).await.unwrap();
    assert!(out.status.success(), "{}", out.status);
    assert_eq!(text(&out.stderr), "finished\n", "it ran to its end");
    assert_eq!(out.stdout.len(), LIMIT);
    assert!(out.stdout_truncated);
    assert!(
        out.stdout.capacity() <= 2 * LIMIT,
        "100 MB printed, {} bytes held",
        out.stdout.capacity()
    );
    assert!(out.stdout.starts_with(b"y\ny\n"));
}

#[tokio::test]
async fn output_at_the_limit_is_not_truncated() {
    let out = run(Command::shell("printf 12345").stdout_limit(5))
        .await
        .unwrap();
    assert_eq!(text(&out.stdout), "12345");
    assert!(!out.stdout_truncated);
    let out = run(Command::shell("printf 123456").stdout_limit(5))
        .await
        .unwrap();
    assert_eq!(text(&out.stdout), "12345");
    assert!(out.stdout_truncated);
}

#[tokio::test]
async fn a_head_and_a_tail_are_kept_and_everything_is_counted() {
    let cmd =
        Command::shell("echo first; yes | head -c 10000000; echo last").stdout_head_and_tail(8, 6);
    let out = run(cmd).await.unwrap();
    assert_eq!(text(&out.stdout), "first\ny\n\nlast\n");
    assert_eq!(out.stdout_cut, Some(8), "dropped between head and tail");
    assert!(out.stdout_truncated);
    assert_eq!(out.stdout_total, 6 + 10_000_000 + 5);
    assert!(out.stdout.capacity() <= 8 + 2 * 6 + 64 * 1024);

    let out = run(Command::shell("printf 12345678").stdout_head_and_tail(4, 4))
        .await
        .unwrap();
    assert_eq!(text(&out.stdout), "12345678");
    assert_eq!((out.stdout_cut, out.stdout_total), (None, 8));
    let out = run(Command::shell("printf 123456789").stdout_limit(4))
        .await
        .unwrap();
    assert_eq!((out.stdout_cut, out.stdout_total), (Some(4), 9));
}

#[tokio::test]
async fn stderr_keeps_a_bounded_tail() {
    let cmd =
        Command::shell("yes noise | head -n 1000000 >&2; echo second-last >&2; echo last >&2")
            .stderr_tail(1000);
    let out = run(cmd).await.unwrap();
    assert!(out.stderr.len() <= 1000, "{} bytes kept", out.stderr.len());
    assert!(out.stderr_truncated);
    assert!(text(&out.stderr).ends_with("noise\nsecond-last\nlast\n"));
    assert_eq!(out.stderr_lines(2), "second-last\nlast");
}

#[tokio::test]
async fn a_line_cut_by_the_tail_bound_is_left_out() {
    let out = run(Command::shell("printf 'abcdef\\nxyz\\n' >&2").stderr_tail(6))
        .await
        .unwrap();
    assert_eq!(text(&out.stderr), "f\nxyz\n");
    assert_eq!(out.stderr_lines(5), "xyz");
}

#[tokio::test]
async fn a_reply_survives_a_background_child_holding_stdout_which_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = Command::shell(
        "cat >/dev/null; printf '# Design\\n'; sleep 1000 & echo $! > bg.pid; exit 0",
    )
    .current_dir(dir.path())
    .stdin("the prompt")
    .exit_grace(Duration::from_millis(200));
    let out = run(cmd).await.unwrap();
    assert!(out.status.success(), "{}", out.status);
    assert_eq!(text(&out.stdout), "# Design\n");
    assert!(out.left_behind);
    assert_stops(
        "the background sleep",
        pid_in(&dir.path().join("bg.pid")).await,
    );
}

#[tokio::test]
async fn output_from_a_background_child_within_the_grace_is_kept() {
    let cmd = Command::shell("(sleep 0.2; echo late) & echo early").exit_grace(DEADLINE);
    let out = run(cmd).await.unwrap();
    assert_eq!(text(&out.stdout), "early\nlate\n");
    assert!(!out.left_behind);
}

#[tokio::test]
async fn dropping_the_run_kills_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = Command::shell("echo $$ > sh.pid; sleep 30 & echo $! > bg.pid; wait")
        .current_dir(dir.path());
    let started = async {
        (
            pid_in(&dir.path().join("sh.pid")).await,
            pid_in(&dir.path().join("bg.pid")).await,
        )
    };
    // As a Ctrl-C does upstream: another branch wins the select and the run is dropped.
    let (shell, sleeper) = tokio::select! {
        done = cmd.run() => panic!("the run ended on its own: {done:?}"),
        pids = started => pids,
    };
    assert_stops("the shell", shell);
    assert_stops("the background sleep", sleeper);
}

#[tokio::test]
async fn a_missing_command_is_exit_127_command_not_found() {
    let out = run(Command::shell("/nonexistent/program --flag"))
        .await
        .unwrap();
    assert!(out.status.not_found());
    assert_eq!(out.status.to_string(), "exit status 127: command not found");
    assert!(text(&out.stderr).contains("/nonexistent/program"));
}

#[tokio::test]
async fn a_missing_program_without_a_shell_cannot_be_started() {
    let err = run(Command::new("/nonexistent/program").arg("--flag"))
        .await
        .unwrap_err();
    assert!(matches!(err, ProcessError::Spawn { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "could not start `/nonexistent/program`: No such file or directory (os error 2)"
    );
}

#[tokio::test]
async fn exit_statuses_read_as_words() {
    let out = run(Command::shell("echo oops >&2; exit 3")).await.unwrap();
    assert_eq!(out.status.to_string(), "exit status 3");
    assert!(!out.status.success());
    assert_eq!(out.stderr_lines(15), "oops");
    let out = run(Command::shell("kill -KILL $$")).await.unwrap();
    assert_eq!(out.status.to_string(), "killed by SIGKILL");
    assert_eq!(out.status.signal(), Some(9));
}

#[tokio::test]
async fn stdin_is_written_then_closed_or_null() {
    let out = run(Command::shell("cat").stdin("prompt")).await.unwrap();
    assert_eq!(text(&out.stdout), "prompt");
    // Without input, stdin is /dev/null: `cat` ends at once instead of waiting on ours.
    let out = run(Command::shell("cat")).await.unwrap();
    assert_eq!(text(&out.stdout), "");
    // Unread input (more than a pipe holds) is not an error.
    let out = run(Command::shell("exit 0").stdin(vec![b'x'; 4 * 1024 * 1024]))
        .await
        .unwrap();
    assert!(out.status.success());
}

#[tokio::test]
async fn program_arguments_are_passed_without_a_shell() {
    let out = run(Command::new("printf").args(["%s|", "a b", "$HOME"]))
        .await
        .unwrap();
    assert_eq!(text(&out.stdout), "a b|$HOME|");
}

#[tokio::test]
async fn environment_is_added_removed_or_given_whole() {
    let dir = tempfile::tempdir().unwrap();
    let probe = "echo \"${CARGO_MANIFEST_DIR-unset} ${ADDED-unset}\"";
    let inherited = run(Command::shell(probe)).await.unwrap();
    assert_eq!(
        text(&inherited.stdout),
        format!("{} unset\n", env!("CARGO_MANIFEST_DIR"))
    );

    let out = run(Command::shell(probe)
        .env_remove("CARGO_MANIFEST_DIR")
        .env("ADDED", "yes"))
    .await
    .unwrap();
    assert_eq!(text(&out.stdout), "unset yes\n");

    let out = run(Command::new("env")
        .env_clear()
        .env("ONLY", "this")
        .current_dir(dir.path()))
    .await;
    // `env` itself is found on this process's PATH; the child sees one variable.
    let out = out.unwrap();
    assert_eq!(text(&out.stdout), "ONLY=this\n");
}

#[tokio::test]
async fn the_program_runs_in_the_given_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::shell("pwd -P").current_dir(dir.path()))
        .await
        .unwrap();
    assert_eq!(
        text(&out.stdout).trim_end(),
        dir.path().canonicalize().unwrap().to_str().unwrap()
    );
}
