//! Models: one trait, one file per provider, and the single retry layer.
//!
//! A [`Model`] turns a prompt into a reply. Every failure says whether it is *transient*
//! (capacity, rate limits, timeouts: worth another try) or *deterministic* (bad credentials, a
//! program that fails, an empty reply: the same call would fail the same way). Transient
//! failures are retried here, and only here, so retries never multiply across layers.

mod cmd;
mod retry;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;

use crate::config::{ModelSpec, ProviderConfig, ProviderKind};
use crate::env::Env;

pub use retry::RetryNotice;

/// A boxed future, so that [`Model`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a model is being called; programs see it as `ORCHESTRATE_ROLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Triage,
    Drafter,
    Reviewer,
    Implementer,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Triage => "triage",
            Role::Drafter => "drafter",
            Role::Reviewer => "reviewer",
            Role::Implementer => "implementer",
        }
    }
}

/// A prompt, with the length of its stable prefix: the part that stays byte-for-byte the
/// same across rounds of a stage (instructions, the issue, approved documents), which
/// providers with prompt caching can mark as cacheable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    pub text: String,
    pub stable_prefix: usize,
}

/// One call to a model.
#[derive(Clone, Debug)]
pub struct Request {
    pub prompt: Prompt,
    pub role: Role,
    /// The stage name (`lld`).
    pub stage: String,
    pub issue: u64,
    /// 1-based review round or attempt.
    pub round: u32,
}

/// Tokens as the vendor reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached_input: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input += other.input;
        self.output += other.output;
        self.cached_input += other.cached_input;
    }
}

/// A model's answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub text: String,
    /// `None` when the provider does not report usage (programs run through `cmd:`).
    pub usage: Option<Usage>,
}

/// Whether a failure is worth retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureClass {
    Transient,
    Deterministic,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("could not start model program `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("model program `{command}` failed ({status}){}", stderr_suffix(.stderr_tail))]
    Exit {
        command: String,
        status: String,
        /// Killed by a signal rather than exiting on its own.
        signalled: bool,
        not_found: bool,
        stderr_tail: String,
    },
    #[error("model program `{command}` was still running after {}; it was stopped", humantime::format_duration(*.timeout))]
    TimedOut { command: String, timeout: Duration },
    #[error("{model} replied with nothing")]
    Empty { model: String },
    #[error("the {provider} provider is not available in this version of git-orchestrate")]
    Unsupported { provider: String },
}

fn stderr_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{}", indent(tail.trim_end()))
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl LlmError {
    pub fn class(&self) -> FailureClass {
        match self {
            LlmError::TimedOut { .. } => FailureClass::Transient,
            LlmError::Exit { signalled, .. } if *signalled => FailureClass::Transient,
            LlmError::Spawn { .. }
            | LlmError::Exit { .. }
            | LlmError::Empty { .. }
            | LlmError::Unsupported { .. } => FailureClass::Deterministic,
        }
    }

    /// A server-requested wait before retrying (`retry-after`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        None
    }

    pub fn hints(&self) -> Vec<String> {
        match self {
            LlmError::Spawn { .. } => vec!["check that `sh` can run on this machine".into()],
            LlmError::Exit {
                command, not_found, ..
            } => {
                if *not_found {
                    let program = command.split_whitespace().next().unwrap_or(command);
                    vec![format!(
                        "`{program}` was not found: install it, put it on PATH, or fix the model in .orchestrate.toml"
                    )]
                } else {
                    vec![format!(
                        "run `{}` by hand with the prompt on stdin to see what it does",
                        crate::config::redact_command(command)
                    )]
                }
            }
            LlmError::TimedOut { .. } => vec![
                "raise the limit with [providers.cmd] timeout = \"40m\" if the model needs longer"
                    .into(),
            ],
            LlmError::Empty { .. } => vec![
                "a model program must print its answer on stdout; check that it reads the prompt from stdin".into(),
            ],
            LlmError::Unsupported { provider } => vec![format!(
                "drive a command-line client through cmd: instead, for example `cmd:claude -p`; the {provider} HTTP provider is being added"
            )],
        }
    }
}

/// A provider's implementation for one model.
pub trait Model: Send + Sync {
    fn complete<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, LlmError>>;
}

/// What providers need from the surroundings.
#[derive(Clone, Debug)]
pub struct ModelContext {
    /// Programs run here: the target repository's root, never the tool's own directory.
    pub workdir: PathBuf,
    pub env: Env,
}

/// A model ready to call, with its provider's retry policy.
pub struct ModelHandle {
    pub spec: ModelSpec,
    model: Box<dyn Model>,
    max_retries: u32,
}

impl std::fmt::Debug for ModelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelHandle")
            .field("spec", &self.spec.label())
            .finish()
    }
}

impl ModelHandle {
    /// The model as shown to people and recorded in trailers.
    pub fn label(&self) -> String {
        self.spec.label()
    }

    /// Call the model, retrying transient failures within the provider's limit.
    /// `notice` hears about each retry before its wait.
    pub async fn call(
        &self,
        request: &Request,
        notice: &(dyn Fn(RetryNotice) + Sync),
    ) -> Result<Reply, LlmError> {
        retry::with_retries(self.model.as_ref(), request, self.max_retries, notice).await
    }
}

/// Build the client for `spec`.
pub fn build(
    spec: &ModelSpec,
    provider: &ProviderConfig,
    ctx: &ModelContext,
) -> Result<ModelHandle, LlmError> {
    let model: Box<dyn Model> = match spec.kind {
        ProviderKind::Cmd => Box::new(cmd::CmdModel::new(
            spec.model.clone(),
            provider.timeout,
            ctx.workdir.clone(),
        )),
        ProviderKind::Anthropic
        | ProviderKind::Gemini
        | ProviderKind::OpenAi
        | ProviderKind::Ollama
        | ProviderKind::Agent => {
            return Err(LlmError::Unsupported {
                provider: spec.provider.clone(),
            });
        }
    };
    Ok(ModelHandle {
        spec: spec.clone(),
        model,
        max_retries: provider.max_retries,
    })
}
