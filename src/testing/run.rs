//! Running the test command: its own process group, a timeout, the environment given and no
//! other, and its output kept within bounds however much it prints.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use crate::process::{Command, Output, ProcessError};

use super::failures::{Failures, readable};
use super::feedback::{self, Signature};
use super::passing::passing;

/// Bytes kept from the start of the output: what a build or a runner says first.
pub const HEAD_BYTES: usize = 16 * 1024;
/// Bytes kept from the end of the output: the failures and the summary.
pub const TAIL_BYTES: usize = 256 * 1024;

/// How a test run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestStatus {
    /// Exit status 0.
    Passed,
    /// Any other exit status but 127.
    Failed { code: i32 },
    /// Exit status 127: the shell did not find the command. Running it again changes
    /// nothing until the command or the `PATH` does.
    NotFound,
    /// Still running at the timeout; it was stopped with everything it started.
    TimedOut,
    /// Killed by a signal (a crash, the out-of-memory killer, a `kill`), not at our timeout.
    Killed { signal: i32 },
}

impl TestStatus {
    pub fn passed(self) -> bool {
        self == TestStatus::Passed
    }
}

/// One run of the test command.
#[derive(Clone, Debug)]
pub struct TestRun {
    pub status: TestStatus,
    /// Stdout and stderr interleaved as a terminal would have shown them (colour codes and
    /// progress rewrites removed): the first [`HEAD_BYTES`] and the last [`TAIL_BYTES`], with a
    /// line saying how much was left out between them. Lines cut by those bounds are left
    /// out whole.
    pub output_tail: String,
    /// How many bytes the command printed in all.
    pub total_bytes: u64,
    pub elapsed: Duration,
    /// The failing tests its output names.
    pub failures: Failures,
    /// The passing tests its output names (runners that name them: see [`super::passing`]).
    pub passed: BTreeSet<String>,
}

impl TestRun {
    /// The text a model reads about this run (see [`feedback::feedback_tail`]).
    pub fn feedback(&self) -> String {
        feedback::feedback_tail(&self.failures, &self.output_tail)
    }

    /// What identifies this run's failure (see [`feedback::signature`]).
    pub fn signature(&self) -> Signature {
        feedback::signature(&self.failures, &self.output_tail)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The shell could not be started or waited for; a command that fails or is not found is
    /// a [`TestRun`], not an error.
    #[error("could not run the test command `{command}`")]
    Run {
        command: String,
        source: ProcessError,
    },
}

/// Run `command` with `sh -c` in `cwd`, with exactly the variables in `env` (see
/// [`super::test_environment`]), stdin `/dev/null`, stderr sent to the same pipe as stdout;
/// stopped with everything it started after `timeout`. Dropping the future kills them too.
pub async fn run<I, K, V>(
    command: &str,
    cwd: &Path,
    env: I,
    timeout: Duration,
    launcher: Vec<OsString>,
) -> Result<TestRun, TestError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<OsString>,
    V: Into<OsString>,
{
    // One pipe for both streams, so their lines keep the order they were written in; on a
    // line of its own, so the command is parsed as the user wrote it. `sh` by name rather
    // than `Command::shell`, so messages about the shell do not show this prefix.
    let script = format!("exec 2>&1\n{command}");
    let result = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .via(launcher)
        .env_clear()
        .envs(env)
        .timeout(timeout)
        .stdout_head_and_tail(HEAD_BYTES, TAIL_BYTES)
        .run()
        .await;
    let (output, timed_out) = match result {
        Ok(output) => (output, false),
        Err(ProcessError::TimedOut { partial, .. }) => (*partial, true),
        Err(source) => {
            return Err(TestError::Run {
                command: command.to_string(),
                source,
            });
        }
    };
    let status = if timed_out {
        TestStatus::TimedOut
    } else {
        status(&output)
    };
    let output_tail = text(&output);
    let failures = Failures::parse(&output_tail);
    let passed = passing(&output_tail);
    Ok(TestRun {
        status,
        total_bytes: output.stdout_total + stderr_len(&output),
        output_tail,
        elapsed: output.elapsed,
        failures,
        passed,
    })
}

fn status(output: &Output) -> TestStatus {
    match (output.status.code(), output.status.signal()) {
        (Some(0), _) => TestStatus::Passed,
        (Some(127), _) => TestStatus::NotFound,
        (Some(code), _) => TestStatus::Failed { code },
        (None, Some(signal)) => TestStatus::Killed { signal },
        // A process that ended has a code or a signal; this is only for completeness.
        (None, None) => TestStatus::Failed { code: -1 },
    }
}

/// Whatever reached stderr before the shell sent it to stdout (nothing, in practice).
fn stderr_len(output: &Output) -> u64 {
    u64::try_from(output.stderr.len()).unwrap_or(u64::MAX)
}

/// The output as text: head, a line for the gap, tail; then stderr, if anything reached it.
fn text(output: &Output) -> String {
    let bytes = &output.stdout;
    let mut text = match output.stdout_cut {
        None => String::from_utf8_lossy(bytes).into_owned(),
        Some(at) => {
            let (head, tail) = bytes.split_at(at.min(bytes.len()));
            // Lines cut by the bounds are left out whole.
            let head = match head.iter().rposition(|b| *b == b'\n') {
                Some(end) => &head[..=end],
                None => &[],
            };
            let tail = match tail.iter().position(|b| *b == b'\n') {
                Some(start) => &tail[start + 1..],
                None => &[],
            };
            let kept = u64::try_from(head.len() + tail.len()).unwrap_or(u64::MAX);
            let dropped = output.stdout_total.saturating_sub(kept);
            format!(
                "{}{}\n{}",
                String::from_utf8_lossy(head),
                feedback::gap_line(dropped),
                String::from_utf8_lossy(tail)
            )
        }
    };
    if !output.stderr.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    readable(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Instant;

    use super::*;
    use crate::env::Env;
    use crate::process::watch::{assert_stops, pid_in};
    use crate::testing::test_environment;

    /// Bounds a failure, never a passing run.
    const DEADLINE: Duration = Duration::from_secs(30);
    const PATH: (&str, &str) = ("PATH", "/usr/local/bin:/usr/bin:/bin");

    async fn run_in(dir: &Path, command: &str, timeout: Duration) -> TestRun {
        tokio::time::timeout(DEADLINE, run(command, dir, [PATH], timeout, Vec::new()))
            .await
            .expect("the run ends")
            .expect("the shell starts")
    }

    async fn sh(command: &str) -> TestRun {
        let dir = tempfile::tempdir().unwrap();
        run_in(dir.path(), command, DEADLINE).await
    }

    #[tokio::test]
    async fn a_passing_run() {
        let run = sh("echo 'test result: ok. 3 passed'").await;
        assert_eq!(run.status, TestStatus::Passed);
        assert!(run.status.passed());
        assert_eq!(run.output_tail, "test result: ok. 3 passed\n");
        assert_eq!(run.total_bytes, 26);
        assert!(!run.failures.known());
    }

    #[tokio::test]
    async fn a_failing_run_names_its_failures() {
        let run = sh("echo 'test a::b ... FAILED'; echo '--- FAIL: TestX (0.01s)'; exit 101").await;
        assert_eq!(run.status, TestStatus::Failed { code: 101 });
        assert!(!run.status.passed());
        let names: Vec<&str> = run.failures.names.iter().map(String::as_str).collect();
        assert_eq!(names, ["TestX", "a::b"]);
        assert!(
            run.feedback()
                .starts_with("Failing tests (2):\n- TestX\n- a::b\n")
        );
    }

    #[tokio::test]
    async fn a_command_not_found_is_told_apart() {
        let run = sh("no-such-test-runner --all").await;
        assert_eq!(run.status, TestStatus::NotFound);
        assert!(
            run.output_tail.contains("no-such-test-runner")
                && run.output_tail.contains("not found"),
            "{}",
            run.output_tail
        );
    }

    #[tokio::test]
    async fn a_crash_is_killed_by_a_signal() {
        let run = sh("kill -SEGV $$").await;
        assert_eq!(run.status, TestStatus::Killed { signal: 11 });
    }

    #[tokio::test]
    async fn stderr_is_interleaved_with_stdout_in_order() {
        let run = sh("echo one; echo two >&2; echo three; echo four >&2").await;
        assert_eq!(run.output_tail, "one\ntwo\nthree\nfour\n");
    }

    #[tokio::test]
    async fn a_hanging_test_is_stopped_at_the_timeout_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let run = run_in(
            dir.path(),
            "echo started; sleep 300 & echo $! > child.pid; wait",
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(run.status, TestStatus::TimedOut);
        assert_eq!(run.output_tail, "started\n", "what it printed is kept");
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_stops(
            "the test's child",
            pid_in(&dir.path().join("child.pid")).await,
        );
    }

    #[tokio::test]
    async fn dropping_the_run_leaves_no_process_behind() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        let test = run(
            "sleep 300 & echo $! > child.pid; wait",
            dir.path(),
            [PATH],
            DEADLINE,
            Vec::new(),
        );
        // As Ctrl-C does upstream: another branch of a select wins and the run is dropped.
        let child = tokio::select! {
            done = test => panic!("the run ended on its own: {done:?}"),
            pid = pid_in(&pid_file) => pid,
        };
        assert_stops("the test's child", child);
    }

    #[tokio::test]
    async fn fifty_megabytes_of_output_keep_a_bounded_head_and_tail() {
        // 50 MB of whole lines.
        const PRINTED: u64 = 22 * (50 * 1024 * 1024 / 22);
        let run = sh(&format!(
            "echo first line; yes 'a line of test output' | head -c {PRINTED}; echo; echo 'test result: FAILED'; exit 1"
        ))
        .await;
        assert_eq!(run.status, TestStatus::Failed { code: 1 });
        assert_eq!(run.total_bytes, 11 + PRINTED + 1 + 20);
        assert!(
            run.output_tail.len() <= HEAD_BYTES + TAIL_BYTES + 64,
            "{} bytes kept",
            run.output_tail.len()
        );
        assert!(run.output_tail.len() > TAIL_BYTES, "the tail is kept whole");
        assert!(
            run.output_tail
                .starts_with("first line\na line of test output\n")
        );
        assert!(
            run.output_tail
                .ends_with("a line of test output\n\ntest result: FAILED\n")
        );
        let gap: Vec<&str> = run
            .output_tail
            .lines()
            .filter(|l| l.starts_with("[… output not kept: "))
            .collect();
        assert_eq!(gap.len(), 1, "one line for the gap");
        // Every other line is whole: lines cut by the bounds are left out.
        assert!(
            run.output_tail
                .lines()
                .filter(|l| !l.starts_with("[…"))
                .all(|l| [
                    "first line",
                    "a line of test output",
                    "",
                    "test result: FAILED"
                ]
                .contains(&l))
        );
    }

    #[tokio::test]
    async fn the_test_sees_the_environment_without_credentials() {
        let env = Env::from_pairs([
            PATH,
            ("HOME", "/home/tester"),
            ("ANTHROPIC_API_KEY", "sk-ant-secret-value"),
            ("MY_SERVICE_TOKEN", "service-secret-value"),
            ("DB_PASSWORD", "db-secret-value"),
            ("LOCAL_LLM_AUTH", "custom-secret-value"),
            ("NPM_TOKEN", "allowed-value"),
        ]);
        let (vars, removed) = test_environment(
            &env,
            &["LOCAL_LLM_AUTH".to_string()],
            &["NPM_TOKEN".to_string()],
        );
        assert_eq!(removed.len(), 4);
        let dir = tempfile::tempdir().unwrap();
        let run =
            tokio::time::timeout(DEADLINE, run("env", dir.path(), vars, DEADLINE, Vec::new()))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(run.status, TestStatus::Passed);
        let seen = &run.output_tail;
        assert!(!seen.contains("secret"), "{seen}");
        assert!(seen.contains("HOME=/home/tester\n"), "{seen}");
        assert!(seen.contains("NPM_TOKEN=allowed-value\n"), "{seen}");
        assert!(
            seen.contains("PATH=/usr/local/bin:/usr/bin:/bin\n"),
            "{seen}"
        );
        // Nothing of this process's own environment passes: only what was given (and what
        // the shell sets itself).
        let names: BTreeSet<&str> = seen.lines().filter_map(|l| l.split('=').next()).collect();
        let extra: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !["HOME", "NPM_TOKEN", "PATH", "PWD", "OLDPWD", "SHLVL", "_"].contains(n))
            .collect();
        assert_eq!(extra, Vec::<&str>::new());
    }
}
