//! The `cmd:` provider: any program as a model.
//!
//! The program runs through `sh -c` in the target repository's root, with the prompt on stdin
//! and `ORCHESTRATE_ROLE`, `ORCHESTRATE_STAGE`, `ORCHESTRATE_ISSUE` and `ORCHESTRATE_ROUND` set;
//! its stdout is the reply. It runs through [`crate::process`], in its own process group, so a
//! timeout, a Ctrl-C or a dropped call stops the program *and everything it started*: nothing
//! is left running. A program that exits while a background child it started still holds
//! stdout open is answered with what it printed; the child is killed after a short grace.
//!
//! The program sees the environment it is built with ([`CmdModel::with_env`]: the user's
//! without GitHub tokens and credentials that are not its model keys, chosen by
//! [`crate::redact::child_env::program_environment`]), never more of this process's.
//!
//! The `agent:` provider is the same, except that the program runs in the directory the
//! request names (the issue's worktree), edits files there itself, and may print nothing: its
//! work is judged by the files it changed, not by its reply.
//!
//! A reply may be at most [`REPLY_LIMIT`] (16 MiB, far beyond any document a model writes):
//! a program printing more is reported as an error naming the limit, never cut silently. It
//! must be UTF-8: anything else is an error, never a document decoded lossily.
//!
//! An agent's output is not its work (the files are), so neither rule stops it: output
//! beyond the limit keeps its start and its end (where agents sum up), with a line saying
//! how much was cut between them, and bytes that are not UTF-8 are read lossily.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::{BoxFuture, CallObserver, LlmError, Model, Reply, Request};
use crate::config::redact_command;
use crate::process::{self, ProcessError};

/// The most stdout a reply may be.
const REPLY_LIMIT: usize = 16 * 1024 * 1024;
/// Of an agent's output beyond [`REPLY_LIMIT`], how much of its start is kept; the rest of
/// the limit goes to its end.
const AGENT_HEAD: usize = 1024 * 1024;
/// How much of stderr is kept for error messages, and how many of its lines they quote.
const STDERR_TAIL_BYTES: usize = 16 * 1024;
const STDERR_TAIL_LINES: usize = 15;

pub struct CmdModel {
    command: String,
    timeout: Duration,
    workdir: PathBuf,
    /// An `agent:` program: runs in the request's directory and may print nothing.
    agent: bool,
    /// Every variable the program sees, besides the `ORCHESTRATE_*` ones.
    env: Vec<(OsString, OsString)>,
}

impl CmdModel {
    pub fn new(command: String, timeout: Duration, workdir: PathBuf) -> CmdModel {
        CmdModel {
            command,
            timeout,
            workdir,
            agent: false,
            env: Vec::new(),
        }
    }

    pub fn agent(command: String, timeout: Duration, workdir: PathBuf) -> CmdModel {
        CmdModel {
            agent: true,
            ..CmdModel::new(command, timeout, workdir)
        }
    }

    /// Run the program with exactly these variables (and the `ORCHESTRATE_*` ones).
    pub fn with_env(self, env: Vec<(OsString, OsString)>) -> CmdModel {
        CmdModel { env, ..self }
    }

    /// The model as messages name it, with secrets in the command masked.
    fn name(&self) -> String {
        let kind = if self.agent { "agent" } else { "cmd" };
        format!("{kind}:{}", redact_command(&self.command))
    }

    async fn run(&self, request: &Request) -> Result<Reply, LlmError> {
        let dir = match (&request.workdir, self.agent) {
            (Some(dir), true) => dir,
            _ => &self.workdir,
        };
        // An agent works in the issue's worktree: git must find that repository from the
        // directory, never the user's through a `GIT_DIR` this process was started with.
        let env = self.env.iter().filter(|(name, _)| {
            !(self.agent
                && name
                    .to_str()
                    .is_some_and(|n| crate::env::GIT_REPOSITORY_VARS.contains(&n)))
        });
        let mut command = process::Command::shell(&self.command)
            .current_dir(dir)
            .env_clear()
            .envs(env.cloned());
        if self.agent {
            command = command.via(request.contained.launcher.clone());
            if let Some(tmp) = &request.contained.tmpdir {
                command = command.env("TMPDIR", tmp);
            }
        }
        let command = command
            .env("ORCHESTRATE_ROLE", request.role.name())
            .env("ORCHESTRATE_STAGE", &request.stage)
            .env("ORCHESTRATE_ISSUE", request.issue.to_string())
            .env("ORCHESTRATE_ROUND", request.round.to_string())
            .stdin(request.prompt.text.as_bytes())
            .timeout(self.timeout)
            .stderr_tail(STDERR_TAIL_BYTES);
        let command = if self.agent {
            command.stdout_head_and_tail(AGENT_HEAD, REPLY_LIMIT - AGENT_HEAD)
        } else {
            command.stdout_limit(REPLY_LIMIT)
        };
        let output = command.run().await.map_err(|error| match error {
            ProcessError::Spawn { source, .. } | ProcessError::Wait { source, .. } => {
                LlmError::Spawn {
                    command: redact_command(&self.command),
                    source,
                }
            }
            ProcessError::TimedOut { .. } => LlmError::TimedOut {
                model: self.name(),
                timeout: self.timeout,
            },
        })?;
        if output.left_behind {
            tracing::debug!(
                model = %self.name(),
                "the program left a process holding its output open; it was stopped"
            );
        }

        if !output.status.success() {
            return Err(LlmError::Exit {
                // Messages show the command line, so never with the secrets it may carry.
                command: redact_command(&self.command),
                status: output.status.to_string(),
                signalled: output.status.signal().is_some(),
                not_found: output.status.not_found(),
                stderr_tail: output.stderr_lines(STDERR_TAIL_LINES),
            });
        }
        if self.agent {
            return Ok(Reply {
                text: agent_output(&output),
                usage: None,
            });
        }
        if output.stdout_truncated {
            return Err(LlmError::ReplyTooLarge {
                model: self.name(),
                limit: REPLY_LIMIT,
            });
        }
        let text = String::from_utf8(output.stdout).map_err(|e| LlmError::NotText {
            model: self.name(),
            what: "bytes that are not UTF-8",
            offset: e.utf8_error().valid_up_to(),
        })?;
        if text.trim().is_empty() && !self.agent {
            return Err(LlmError::Empty {
                model: self.name(),
                usage: None,
            });
        }
        Ok(Reply { text, usage: None })
    }
}

/// What an agent printed, as text: read lossily, with a line where output was cut.
fn agent_output(output: &process::Output) -> String {
    let Some(at) = output.stdout_cut else {
        return String::from_utf8_lossy(&output.stdout).into_owned();
    };
    let (head, tail) = output.stdout.split_at(at.min(output.stdout.len()));
    let cut = output
        .stdout_total
        .saturating_sub(output.stdout.len() as u64);
    format!(
        "{}\n[git-orchestrate: {cut} bytes of the agent's output were cut here; it printed {} bytes in all]\n{}",
        String::from_utf8_lossy(head),
        output.stdout_total,
        String::from_utf8_lossy(tail)
    )
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
