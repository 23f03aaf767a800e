//! Models: one trait, one file per provider, and the single retry layer.
//!
//! A [`Model`] turns a prompt into a reply. Every failure says whether it is *transient*
//! (capacity, rate limits, dropped connections, timeouts: worth another try) or
//! *deterministic* (bad credentials, a wrong model name, a reply cut off at the token limit:
//! the same call would fail the same way). Transient failures are retried here, and only here,
//! so retries never multiply across layers. What every attempt cost is reported as it happens,
//! so a call whose output could not be used still counts against the budget.

mod anthropic;
mod cmd;
pub mod defaults;
mod error;
mod gemini;
mod http;
mod keys;
mod limit;
mod ollama;
mod openai;
pub mod pricing;
pub mod probe;
mod record;
mod retry;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::{ModelSpec, ProviderConfig, ProviderKind};
use crate::env::Env;
use crate::redact::Redactor;
use crate::redact::child_env::program_environment;

pub use crate::stage::Role;
pub use error::{FailureClass, LlmError};
pub use http::client;
pub use limit::CallLimits;
pub use record::Tapes;
pub use retry::RetryNotice;

/// A boxed future, so that [`Model`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A prompt, with the length of its stable prefix: the part that stays byte-for-byte the
/// same across rounds of a stage (instructions, the issue, approved documents), which
/// providers with prompt caching can mark as cacheable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    pub text: String,
    pub stable_prefix: usize,
}

impl Prompt {
    /// The prompt split at its stable prefix (on a character boundary).
    pub fn split(&self) -> (&str, &str) {
        let mut at = self.stable_prefix.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        self.text.split_at(at)
    }
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
    /// Where an `agent:` program runs (the issue's worktree); other models ignore it.
    pub workdir: Option<PathBuf>,
    /// How an `agent:` program is started contained; other models ignore it.
    pub contained: Contained,
}

/// How an `agent:` program is started contained: through the sandbox launcher (its program
/// and arguments, before the agent's own), with a private temporary directory as `TMPDIR`.
/// The default starts it directly.
#[derive(Clone, Debug, Default)]
pub struct Contained {
    pub launcher: Vec<std::ffi::OsString>,
    pub tmpdir: Option<PathBuf>,
    /// Whether the launcher's rules keep the program from writing the user's checkout (so
    /// the check after it need not read the checkout's files).
    pub keeps_off_checkout: bool,
}

/// Tokens as the vendor reported them. `input` counts every input token, including those
/// read from (`cached_input`) or written to (`cache_write_input`) the vendor's prompt cache.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached_input: u64,
    #[serde(default)]
    pub cache_write_input: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input += other.input;
        self.output += other.output;
        self.cached_input += other.cached_input;
        self.cache_write_input += other.cache_write_input;
    }

    pub fn is_zero(&self) -> bool {
        *self == Usage::default()
    }
}

/// A model's answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub text: String,
    /// `None` when the provider does not report usage (programs run through `cmd:`).
    pub usage: Option<Usage>,
}

/// Hears what happens during a call: text arriving, retries, and what each attempt cost.
pub trait CallObserver: Sync {
    /// About `tokens` of output have arrived so far (an estimate while streaming).
    fn progress(&self, _tokens: u64) {}
    /// A transient failure; the call is tried again after the notice's delay.
    fn retrying(&self, _notice: &RetryNotice<'_>) {}
    /// One attempt's usage, whether or not its output could be used.
    fn spent(&self, _usage: Usage) {}
}

/// An observer that ignores everything.
pub struct Unobserved;

impl CallObserver for Unobserved {}

/// A provider's implementation for one model.
pub trait Model: Send + Sync {
    fn complete<'a>(
        &'a self,
        request: &'a Request,
        observer: &'a dyn CallObserver,
    ) -> BoxFuture<'a, Result<Reply, LlmError>>;
}

/// What providers need from the surroundings.
#[derive(Clone)]
pub struct ModelContext {
    /// Programs run here: the target repository's root, never the tool's own directory.
    pub workdir: PathBuf,
    pub env: Env,
    /// The one HTTP client for every provider.
    pub http: reqwest::Client,
    /// Recording or replaying model exchanges (`GIT_ORCHESTRATE_RECORD` / `_REPLAY`).
    pub tapes: Option<Arc<Tapes>>,
    /// How many calls each provider takes at once, shared with the other runs of this process.
    pub limits: CallLimits,
    /// Each configured provider's `api_key_env`: model keys a `cmd:` or `agent:` program
    /// may see.
    pub key_variables: Vec<String>,
    /// `sandbox.agent_env`: variables those programs see whatever they look like.
    pub agent_env: Vec<String>,
}

impl ModelContext {
    /// `redactor` removes secrets from recordings.
    pub fn new(workdir: PathBuf, env: Env, redactor: Redactor) -> Result<ModelContext, LlmError> {
        let http = http::client()?;
        let tapes = Tapes::from_env(&env, redactor)?.map(Arc::new);
        Ok(ModelContext {
            workdir,
            env,
            http,
            tapes,
            limits: CallLimits::new(),
            key_variables: Vec::new(),
            agent_env: Vec::new(),
        })
    }

    /// What a `cmd:` or `agent:` program running `command` sees of the environment.
    fn program_env(&self, command: &str) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        program_environment(&self.env, command, &self.key_variables, &self.agent_env).0
    }
}

impl std::fmt::Debug for ModelContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelContext")
            .field("workdir", &self.workdir)
            .finish_non_exhaustive()
    }
}

/// A model ready to call, with its provider's retry policy.
pub struct ModelHandle {
    /// The model with aliases resolved (`anthropic:claude-opus-4-5`).
    pub spec: ModelSpec,
    model: Box<dyn Model>,
    max_retries: u32,
    retry_delay: Duration,
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
    pub async fn call(
        &self,
        request: &Request,
        observer: &dyn CallObserver,
    ) -> Result<Reply, LlmError> {
        let policy = retry::Policy {
            max_retries: self.max_retries,
            base_delay: self.retry_delay,
        };
        let reply = retry::with_retries(self.model.as_ref(), request, policy, observer).await?;
        // What the call cost is already reported; a reply that is not text is still no
        // document, whichever provider sent it (JSON can carry `\u0000` as well as a program).
        if let Some(offset) = reply.text.find('\0') {
            return Err(LlmError::NotText {
                model: self.label(),
                what: "a NUL character",
                offset,
            });
        }
        Ok(reply)
    }
}

/// Build the client for `spec`. Keys are looked up here, so a missing one is reported
/// before anything is sent.
pub fn build(
    spec: &ModelSpec,
    provider: &ProviderConfig,
    ctx: &ModelContext,
) -> Result<ModelHandle, LlmError> {
    let spec = spec.clone();
    let replaying = ctx.tapes.as_ref().is_some_and(|t| t.is_replay());
    let model: Box<dyn Model> = match spec.kind {
        ProviderKind::Cmd => Box::new(
            cmd::CmdModel::new(spec.model.clone(), provider.timeout, ctx.workdir.clone())
                .with_env(ctx.program_env(&spec.model)),
        ),
        ProviderKind::Anthropic => Box::new(anthropic::Anthropic::new(
            &spec,
            provider,
            keys::required(&ctx.env, provider, replaying)?,
            ctx.http.clone(),
        )),
        ProviderKind::Gemini => Box::new(gemini::Gemini::new(
            &spec,
            provider,
            keys::required(&ctx.env, provider, replaying)?,
            ctx.http.clone(),
        )),
        ProviderKind::OpenAi => Box::new(openai::OpenAi::new(
            &spec,
            provider,
            keys::for_openai(&ctx.env, provider, replaying)?,
            ctx.http.clone(),
        )),
        ProviderKind::Ollama => Box::new(ollama::Ollama::new(&spec, provider, ctx.http.clone())),
        ProviderKind::Agent => Box::new(
            cmd::CmdModel::agent(spec.model.clone(), provider.timeout, ctx.workdir.clone())
                .with_env(ctx.program_env(&spec.model)),
        ),
    };
    // An agent's work is the files it edits, which a recording cannot replay.
    let model = match &ctx.tapes {
        Some(tapes) if spec.kind != ProviderKind::Agent => tapes.wrap(&spec, model),
        _ => model,
    };
    let model = ctx
        .limits
        .wrap(&spec.provider, provider.max_concurrent, model);
    Ok(ModelHandle {
        spec,
        model,
        max_retries: provider.max_retries,
        retry_delay: provider.retry_delay,
    })
}
