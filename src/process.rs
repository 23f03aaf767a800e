//! Child processes: every program the tool starts runs through here.
//!
//! Models run as programs (`cmd:`), and so will an impl stage's test loop, `agent:`
//! implementers, `git push` and the gate editor. They share the same hazards: a program may
//! start children of its own, hang, print without end, exit while a background child it left
//! behind still holds its output open, or be abandoned when the user presses Ctrl-C. This
//! module handles them once. Each program runs in **its own process group**, and
//!
//! - a timeout stops the whole group: SIGTERM, a short grace, then SIGKILL, and is reported as
//!   [`ProcessError::TimedOut`] with what had been printed so far;
//! - dropping the future of [`Command::run`] (a `tokio::select!` that Ctrl-C won) SIGKILLs the
//!   group, so an abandoned call leaves nothing running;
//! - stdout is kept up to a limit the caller sets (or, for output read from its end such as a
//!   test run's, a bounded head and tail); past it nothing more is stored, the output is
//!   marked truncated and counted, and the pipe is still drained, so the program never blocks
//!   on it and memory stays bounded whatever it prints. Of stderr only a bounded tail is kept:
//!   it is for error messages;
//! - when the program exits, everything already read is kept; output still flowing from
//!   children it left behind is read for a short grace, then the group is killed. A program's
//!   reply is never lost to a background process that holds the pipe.
//!
//! The module reads no environment itself: the child inherits this process's environment,
//! minus the variables the caller names, plus the ones it adds, or exactly the environment the
//! caller gives. A process that leaves the group on purpose (`setsid`) is beyond its reach.

mod pipes;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod watch;

use std::ffi::OsString;
use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::time::Instant;

use pipes::{Capture, Io, Keep};

/// How long a program gets to exit after SIGTERM, at a timeout, before the group is killed.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long, by default, output may keep flowing after the program exits (from children it
/// left behind) before they are killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// After the group is killed, how long to read what is still buffered in the pipes. Short: no
/// writer is left, unless a process escaped the group.
const KILL_DRAIN: Duration = Duration::from_millis(500);
/// Default bound on stored stdout.
const STDOUT_LIMIT: usize = 16 * 1024 * 1024;
/// Default bound on the stored stderr tail.
const STDERR_TAIL: usize = 16 * 1024;

/// A program to run, built like [`std::process::Command`]; [`Command::run`] runs it.
#[derive(Clone, Debug)]
pub struct Command {
    program: Program,
    dir: Option<PathBuf>,
    clear_env: bool,
    remove: Vec<OsString>,
    vars: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    /// A program (and its arguments) that starts this one: the sandbox launcher.
    launcher: Vec<OsString>,
    timeout: Option<Duration>,
    stdout_limit: usize,
    stdout_head: Option<usize>,
    stderr_tail: usize,
    exit_grace: Duration,
}

#[derive(Clone, Debug)]
enum Program {
    Shell(String),
    Exec {
        program: OsString,
        args: Vec<OsString>,
    },
}

impl Command {
    /// `sh -c COMMAND`: the shell finds the program on `PATH`, expands and redirects.
    pub fn shell(command: impl Into<String>) -> Command {
        Command::with(Program::Shell(command.into()))
    }

    /// A program with arguments, no shell in between.
    pub fn new(program: impl Into<OsString>) -> Command {
        Command::with(Program::Exec {
            program: program.into(),
            args: Vec::new(),
        })
    }

    fn with(program: Program) -> Command {
        Command {
            program,
            dir: None,
            clear_env: false,
            remove: Vec::new(),
            vars: Vec::new(),
            stdin: None,
            launcher: Vec::new(),
            timeout: None,
            stdout_limit: STDOUT_LIMIT,
            stdout_head: None,
            stderr_tail: STDERR_TAIL,
            exit_grace: EXIT_GRACE,
        }
    }

    /// Add an argument (to a program started with [`Command::new`]; a shell command carries its
    /// own).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Command {
        if let Program::Exec { args, .. } = &mut self.program {
            args.push(arg.into());
        }
        self
    }

    pub fn args<I, S>(self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        args.into_iter().fold(self, Command::arg)
    }

    /// The working directory (this process's own if not set).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Command {
        self.dir = Some(dir.into());
        self
    }

    /// Set a variable. Variables set here win over [`Command::env_remove`].
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Command {
        self.vars.push((name.into(), value.into()));
        self
    }

    pub fn envs<I, K, V>(self, vars: I) -> Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        vars.into_iter().fold(self, |cmd, (k, v)| cmd.env(k, v))
    }

    /// Do not pass `name` on from this process's environment.
    pub fn env_remove(mut self, name: impl Into<OsString>) -> Command {
        self.remove.push(name.into());
        self
    }

    /// Pass nothing on from this process's environment: the child sees only the variables set
    /// with [`Command::env`]. Include `PATH` if the program is to be found.
    pub fn env_clear(mut self) -> Command {
        self.clear_env = true;
        self
    }

    /// Write these bytes to the program's stdin, then close it. Without this stdin is
    /// `/dev/null`. A program that exits without reading them is not an error.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Command {
        self.stdin = Some(bytes.into());
        self
    }

    /// Start the program through `launcher` (a program and its arguments, to which the
    /// program's own are added): the sandbox launcher. Empty: started directly.
    pub fn via(mut self, launcher: Vec<OsString>) -> Command {
        self.launcher = launcher;
        self
    }

    /// Stop the program and everything it started if it has not exited after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Command {
        self.timeout = Some(timeout);
        self
    }

    /// Keep at most this many bytes of stdout (16 MiB unless set); see
    /// [`Output::stdout_truncated`].
    pub fn stdout_limit(mut self, bytes: usize) -> Command {
        self.stdout_limit = bytes;
        self.stdout_head = None;
        self
    }

    /// Keep the first `head` bytes of stdout and its last `tail`, instead of a prefix: for
    /// output whose end says the most (a summary) and whose start may say what went wrong
    /// first. What falls between is read and thrown away; [`Output::stdout_cut`] says where.
    pub fn stdout_head_and_tail(mut self, head: usize, tail: usize) -> Command {
        self.stdout_head = Some(head);
        self.stdout_limit = tail;
        self
    }

    /// Keep the last this-many bytes of stderr (16 KiB unless set).
    pub fn stderr_tail(mut self, bytes: usize) -> Command {
        self.stderr_tail = bytes;
        self
    }

    /// How long output may keep flowing after the program exits (2 s unless set).
    pub fn exit_grace(mut self, grace: Duration) -> Command {
        self.exit_grace = grace;
        self
    }

    /// The program as messages name it: the shell command, or the program without its
    /// arguments (which may carry secrets).
    pub fn describe(&self) -> String {
        match &self.program {
            Program::Shell(command) => command.clone(),
            Program::Exec { program, .. } => program.to_string_lossy().into_owned(),
        }
    }

    fn build(&self) -> tokio::process::Command {
        let mut argv: Vec<&std::ffi::OsStr> =
            self.launcher.iter().map(OsString::as_os_str).collect();
        match &self.program {
            Program::Shell(command) => {
                argv.extend(["sh".as_ref(), "-c".as_ref(), std::ffi::OsStr::new(command)]);
            }
            Program::Exec { program, args } => {
                argv.push(program);
                argv.extend(args.iter().map(OsString::as_os_str));
            }
        }
        let mut cmd = tokio::process::Command::new(argv[0]);
        cmd.args(&argv[1..]);
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        if self.clear_env {
            cmd.env_clear();
        }
        for name in &self.remove {
            cmd.env_remove(name);
        }
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        let stdin = match self.stdin {
            Some(_) => Stdio::piped(),
            None => Stdio::null(),
        };
        cmd.stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        cmd
    }

    /// Run the program to its end (or its timeout). Dropping the future kills the program's
    /// whole process group.
    pub async fn run(self) -> Result<Output, ProcessError> {
        let started = Instant::now();
        let program = self.describe();
        let mut child = self.build().spawn().map_err(|source| ProcessError::Spawn {
            program: program.clone(),
            source,
        })?;
        let mut group = Group::of(&child);
        let keep = match self.stdout_head {
            Some(head) => Keep::HeadAndTail(head),
            None => Keep::Head,
        };
        let mut out = Capture::new(keep, self.stdout_limit);
        let mut err = Capture::new(Keep::Tail, self.stderr_tail);
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let deadline = self.timeout.map(|t| started + t);

        let ending = {
            let input = self.stdin.unwrap_or_default();
            let mut io = Io::new((stdin, input), (stdout, &mut out), (stderr, &mut err));
            let ending = match io.during(child.wait(), deadline).await {
                Some(Ok(status)) => {
                    let drained = io.drain_until(Instant::now() + self.exit_grace).await;
                    Ending::Exited(status, !drained)
                }
                Some(Err(source)) => return Err(ProcessError::Wait { program, source }),
                None => match stop(&mut io, &mut child, &mut group).await {
                    Ok(status) => Ending::TimedOut(status),
                    Err(source) => return Err(ProcessError::Wait { program, source }),
                },
            };
            // Whatever is left of the group goes, even with its output closed: the program is
            // done, so anything it left behind is a stray.
            group.kill();
            io.drain_until(Instant::now() + KILL_DRAIN).await;
            ending
        };

        let (out, err) = (out.finish(), err.finish());
        let output = |status, left_behind| Output {
            status: Status(status),
            stdout_truncated: out.cut.is_some(),
            stdout_cut: out.cut,
            stdout_total: out.total,
            stdout: out.bytes,
            stderr: err.bytes,
            stderr_truncated: err.cut.is_some(),
            left_behind,
            elapsed: started.elapsed(),
        };
        match ending {
            Ending::Exited(status, left_behind) => Ok(output(status, left_behind)),
            Ending::TimedOut(status) => Err(ProcessError::TimedOut {
                program,
                timeout: self.timeout.unwrap_or_default(),
                partial: Box::new(output(status, false)),
            }),
        }
    }
}

enum Ending {
    /// The program exited; `true` if something it left behind still held its output open.
    Exited(ExitStatus, bool),
    TimedOut(ExitStatus),
}

/// At a timeout: SIGTERM to the group, a grace, then SIGKILL. Output keeps being read
/// meanwhile, so a program that prints on its way out is not blocked by a full pipe.
async fn stop(
    io: &mut Io<'_>,
    child: &mut Child,
    group: &mut Group,
) -> std::io::Result<ExitStatus> {
    group.signal(Signal::SIGTERM);
    if let Some(status) = io
        .during(child.wait(), Some(Instant::now() + TERM_GRACE))
        .await
    {
        return status;
    }
    group.kill();
    child.wait().await
}

/// What a program did.
#[derive(Clone, Debug)]
pub struct Output {
    pub status: Status,
    /// Stdout, up to the limit set with [`Command::stdout_limit`].
    pub stdout: Vec<u8>,
    /// The program printed more than the limit; the rest was read and thrown away.
    pub stdout_truncated: bool,
    /// Where in `stdout` the bytes thrown away were: its end, or between the head and the tail
    /// kept with [`Command::stdout_head_and_tail`]. `None` if everything was kept.
    pub stdout_cut: Option<usize>,
    /// How many bytes the program wrote to stdout, kept or not.
    pub stdout_total: u64,
    /// The last bytes of stderr (see [`Command::stderr_tail`]).
    pub stderr: Vec<u8>,
    /// Stderr was longer than what is kept.
    pub stderr_truncated: bool,
    /// After the program exited, something it had started still held its output open past
    /// the grace, and was killed.
    pub left_behind: bool,
    pub elapsed: Duration,
}

impl Output {
    /// The last `n` lines of stderr as text. A line cut by the byte bound is left out.
    pub fn stderr_lines(&self, n: usize) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let mut lines: Vec<&str> = text.lines().collect();
        if self.stderr_truncated && lines.len() > 1 {
            lines.remove(0);
        }
        let start = lines.len().saturating_sub(n);
        lines[start..].join("\n")
    }
}

/// How a program ended; displays as words ("exit status 3", "killed by SIGKILL").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(ExitStatus);

impl Status {
    pub fn success(self) -> bool {
        self.0.success()
    }

    pub fn code(self) -> Option<i32> {
        self.0.code()
    }

    /// The signal that killed the program, if one did.
    pub fn signal(self) -> Option<i32> {
        self.0.signal()
    }

    /// Exit status 127: the shell did not find the command.
    pub fn not_found(self) -> bool {
        self.0.code() == Some(127)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.code(), self.0.signal()) {
            (Some(127), _) => f.write_str("exit status 127: command not found"),
            (Some(code), _) => write!(f, "exit status {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(sig) => write!(f, "killed by {sig}"),
                Err(_) => write!(f, "killed by signal {signal}"),
            },
            (None, None) => f.write_str("no exit status"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("could not start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("lost track of `{program}` while waiting for it: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
    #[error("`{program}` was still running after {}; it was stopped with everything it started", humantime::format_duration(*.timeout))]
    TimedOut {
        program: String,
        timeout: Duration,
        /// What it had printed, and how it ended once stopped.
        partial: Box<Output>,
    },
}

/// The process group a program runs in. Dropping it kills whatever is still in the group, so
/// a call that is abandoned (Ctrl-C, an error elsewhere) leaves nothing behind.
struct Group(Option<Pid>);

impl Group {
    fn of(child: &Child) -> Group {
        Group(
            child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .map(Pid::from_raw),
        )
    }

    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.0 {
            let _ = killpg(pid, signal);
        }
    }

    /// Kill what is left of the group, once: afterwards the id may be reused by another group.
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = killpg(pid, Signal::SIGKILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}
