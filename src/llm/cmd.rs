//! The `cmd:` provider: any program as a model.
//!
//! The program runs through `sh -c` in the target repository's root, with the prompt on stdin
//! and `ORCHESTRATE_ROLE`, `ORCHESTRATE_STAGE`, `ORCHESTRATE_ISSUE` and `ORCHESTRATE_ROUND` set;
//! its stdout is the reply. It runs in its own process group, so a timeout, a Ctrl-C or a
//! dropped call stops the program *and everything it started*: nothing is left running.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::{BoxFuture, CallObserver, LlmError, Model, Reply, Request};

/// How long a program gets to exit after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long output may keep flowing after the program exits (from children it left behind).
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How much of stderr an error message quotes.
const STDERR_TAIL_LINES: usize = 15;

pub struct CmdModel {
    command: String,
    timeout: Duration,
    workdir: PathBuf,
}

impl CmdModel {
    pub fn new(command: String, timeout: Duration, workdir: PathBuf) -> CmdModel {
        CmdModel {
            command,
            timeout,
            workdir,
        }
    }

    async fn run(&self, request: &Request) -> Result<Reply, LlmError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .current_dir(&self.workdir)
            .env("ORCHESTRATE_ROLE", request.role.name())
            .env("ORCHESTRATE_STAGE", &request.stage)
            .env("ORCHESTRATE_ISSUE", request.issue.to_string())
            .env("ORCHESTRATE_ROUND", request.round.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| LlmError::Spawn {
                command: self.command.clone(),
                source,
            })?;
        let mut group = ProcessGroup::of(&child);

        let prompt = request.prompt.text.clone().into_bytes();
        let mut stdin = child.stdin.take();
        let writer = tokio::spawn(async move {
            if let Some(stdin) = stdin.as_mut() {
                // A program that exits without reading its prompt is its own business: the
                // broken pipe is not an error of ours.
                let _ = stdin.write_all(&prompt).await;
                let _ = stdin.shutdown().await;
            }
        });
        let stdout = read_all(child.stdout.take());
        let stderr = read_all(child.stderr.take());

        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(source)) => {
                return Err(LlmError::Spawn {
                    command: self.command.clone(),
                    source,
                });
            }
            Err(_) => {
                group.terminate(&mut child).await;
                writer.abort();
                return Err(LlmError::TimedOut {
                    model: format!("cmd:{}", crate::config::redact_command(&self.command)),
                    timeout: self.timeout,
                });
            }
        };
        // Output still open after the program exited belongs to children it left running.
        let drained = tokio::time::timeout(DRAIN_GRACE, async {
            (
                stdout.await.unwrap_or_default(),
                stderr.await.unwrap_or_default(),
            )
        })
        .await;
        group.kill();
        writer.abort();
        let (out, err) = drained.unwrap_or_default();

        if !status.success() {
            use std::os::unix::process::ExitStatusExt;
            return Err(LlmError::Exit {
                command: self.command.clone(),
                status: describe_status(status),
                signalled: status.signal().is_some(),
                not_found: status.code() == Some(127),
                stderr_tail: tail(&String::from_utf8_lossy(&err)),
            });
        }
        let text = String::from_utf8_lossy(&out).into_owned();
        if text.trim().is_empty() {
            return Err(LlmError::Empty {
                model: format!("cmd:{}", crate::config::redact_command(&self.command)),
                usage: None,
            });
        }
        Ok(Reply { text, usage: None })
    }
}

impl Model for CmdModel {
    fn complete<'a>(
        &'a self,
        request: &'a Request,
        _observer: &'a dyn CallObserver,
    ) -> BoxFuture<'a, Result<Reply, LlmError>> {
        Box::pin(self.run(request))
    }
}

fn read_all<R>(pipe: Option<R>) -> tokio::task::JoinHandle<Vec<u8>>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf).await;
        }
        buf
    })
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(127), _) => "exit status 127: command not found".into(),
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(sig) => format!("killed by {sig}"),
            Err(_) => format!("killed by signal {signal}"),
        },
        (None, None) => "no exit status".into(),
    }
}

fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[start..].join("\n")
}

/// The process group a program runs in. Dropping it kills whatever is still in the group, so
/// a call that is abandoned (Ctrl-C, an error elsewhere) leaves nothing behind.
struct ProcessGroup(Option<Pid>);

impl ProcessGroup {
    fn of(child: &tokio::process::Child) -> ProcessGroup {
        ProcessGroup(
            child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .map(Pid::from_raw),
        )
    }

    /// SIGTERM, a grace period, then SIGKILL.
    async fn terminate(&mut self, child: &mut tokio::process::Child) {
        if let Some(pid) = self.0 {
            let _ = killpg(pid, Signal::SIGTERM);
            if tokio::time::timeout(TERM_GRACE, child.wait())
                .await
                .is_err()
            {
                let _ = child.start_kill();
            }
        }
        self.kill();
        let _ = child.wait().await;
    }

    /// Kill what is left of the group, once: afterwards the id may belong to someone else.
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = killpg(pid, Signal::SIGKILL);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}
