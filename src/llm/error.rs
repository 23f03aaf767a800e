//! Provider failures, each with its class (worth a retry or not), the usage it cost when the
//! vendor said, and advice for the person reading it.

use std::time::Duration;

use serde::Serialize;

use super::Usage;

/// Whether a failure is worth retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    #[error("{model} was still working after {}; it was stopped", humantime::format_duration(*.timeout))]
    TimedOut { model: String, timeout: Duration },
    #[error("{model} replied with nothing")]
    Empty { model: String, usage: Option<Usage> },
    #[error("{model} printed more than {} on stdout; the reply was not used", mebibytes(*.limit))]
    ReplyTooLarge { model: String, limit: usize },
    #[error("the {provider} provider is not available in this version of git-orchestrate")]
    Unsupported { provider: String },
    #[error("no API key for {provider}: {} is not set", .vars.join(" or "))]
    MissingKey { provider: String, vars: Vec<String> },
    #[error("{provider} answered HTTP {status} for {model}: {message}")]
    Http {
        provider: String,
        model: String,
        status: u16,
        /// The vendor's own error text.
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("could not reach {provider} at {url}: {detail}")]
    Connect {
        provider: String,
        url: String,
        detail: String,
    },
    #[error("{model} sent nothing for {}; the stream was given up", humantime::format_duration(*.after))]
    Idle {
        model: String,
        after: Duration,
        usage: Option<Usage>,
    },
    #[error("the reply from {model} broke off: {detail}")]
    Dropped {
        model: String,
        detail: String,
        usage: Option<Usage>,
    },
    #[error("{model} sent something that is not its documented format: {detail}")]
    Malformed { model: String, detail: String },
    #[error("the reply from {model} was cut off at the output-token limit{}; it was not used", .limit.map(|l| format!(" ({l} tokens)")).unwrap_or_default())]
    Truncated {
        model: String,
        limit: Option<u32>,
        usage: Option<Usage>,
    },
    #[error("{model} declined to answer: {reason}")]
    Refused {
        model: String,
        reason: String,
        usage: Option<Usage>,
    },
    #[error("replaying recorded model exchanges: {detail}")]
    Replay { detail: String },
    #[error("{detail}")]
    Replayed { detail: String, class: FailureClass },
    #[error("{source} (gave up after {attempts} attempts)")]
    Retried {
        attempts: u32,
        source: Box<LlmError>,
    },
}

/// A byte count as people read limits: `16 MiB`.
fn mebibytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn stderr_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = tail
            .trim_end()
            .lines()
            .map(|l| format!("  | {l}"))
            .collect();
        format!(":\n{}", quoted.join("\n"))
    }
}

/// HTTP statuses that say "not now" rather than "not like this".
fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429 | 500 | 502 | 503 | 504 | 529)
}

impl LlmError {
    pub fn class(&self) -> FailureClass {
        use FailureClass::*;
        match self {
            LlmError::TimedOut { .. }
            | LlmError::Connect { .. }
            | LlmError::Idle { .. }
            | LlmError::Dropped { .. } => Transient,
            LlmError::Exit { signalled, .. } if *signalled => Transient,
            // An account out of credit gets 429 too, and no retry will refill it.
            LlmError::Http { message, .. } if message.contains("insufficient_quota") => {
                Deterministic
            }
            LlmError::Http { status, .. } if transient_status(*status) => Transient,
            LlmError::Replayed { class, .. } => *class,
            LlmError::Retried { source, .. } => source.class(),
            LlmError::Spawn { .. }
            | LlmError::Exit { .. }
            | LlmError::Empty { .. }
            | LlmError::ReplyTooLarge { .. }
            | LlmError::Unsupported { .. }
            | LlmError::MissingKey { .. }
            | LlmError::Http { .. }
            | LlmError::Malformed { .. }
            | LlmError::Truncated { .. }
            | LlmError::Refused { .. }
            | LlmError::Replay { .. } => Deterministic,
        }
    }

    /// A server-requested wait before retrying (`retry-after`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What the failed attempt cost, when the vendor said.
    pub fn usage(&self) -> Option<Usage> {
        match self {
            LlmError::Empty { usage, .. }
            | LlmError::Idle { usage, .. }
            | LlmError::Dropped { usage, .. }
            | LlmError::Truncated { usage, .. }
            | LlmError::Refused { usage, .. } => *usage,
            _ => None,
        }
    }

    /// The failure under any retry wrapper.
    pub fn root(&self) -> &LlmError {
        match self {
            LlmError::Retried { source, .. } => source.root(),
            other => other,
        }
    }

    pub fn hints(&self) -> Vec<String> {
        match self {
            LlmError::Retried { source, .. } => {
                let mut hints = source.hints();
                if source.class() == FailureClass::Transient {
                    hints.push("finished stages are kept: run the same command again later to go on".into());
                }
                hints
            }
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
            LlmError::TimedOut { model, .. } => {
                let provider = model.split(':').next().unwrap_or("cmd");
                vec![format!(
                    "raise the limit with [providers.{provider}] timeout = \"40m\" if the model needs longer"
                )]
            }
            LlmError::Empty { model, .. } if model.starts_with("cmd:") => vec![
                "a model program must print its answer on stdout; check that it reads the prompt from stdin".into(),
            ],
            LlmError::Empty { .. } => {
                vec!["the model produced no text; try again, or another model".into()]
            }
            LlmError::ReplyTooLarge { .. } => vec![
                "a model program must print only its answer on stdout; send logs and progress to stderr".into(),
            ],
            LlmError::Unsupported { provider } => vec![format!(
                "the {provider} provider comes with the impl stage; drafters and reviewers can use cmd:, anthropic:, gemini:, openai: or ollama:"
            )],
            LlmError::MissingKey { provider, vars } if vars.iter().any(|v| v.starts_with("api_key_env")) => vec![
                format!("name the environment variable that holds its key: [providers.{provider}] api_key_env = \"MY_KEY_VAR\""),
            ],
            LlmError::MissingKey { provider, vars } => vec![
                format!("export {}=... (the key is read from the environment, never from files)", vars[0]),
                format!("or name the variable that holds it: [providers.{provider}] api_key_env = \"MY_KEY_VAR\""),
            ],
            LlmError::Http {
                provider,
                model,
                status,
                message,
                ..
            } => http_hints(provider, model, *status, message),
            LlmError::Connect { provider, url, .. } => vec![
                format!("check that {url} is right and the server is running ([providers.{provider}] base_url)"),
            ],
            LlmError::Idle { .. } | LlmError::Dropped { .. } => vec![
                "the connection or the provider failed mid-reply; run again to retry (finished stages are kept)".into(),
            ],
            LlmError::Malformed { model, .. } => {
                let provider = model.split(':').next().unwrap_or("the provider");
                vec![format!(
                    "check that [providers.{provider}] base_url reaches the vendor's own API, or a proxy that passes its stream through unchanged"
                )]
            }
            LlmError::Truncated { model, .. } => {
                let provider = model.split(':').next().unwrap_or("the provider");
                vec![format!(
                    "raise [providers.{provider}] max_output_tokens, or ask for a shorter document in the prompt templates"
                )]
            }
            LlmError::Refused { .. } => vec![
                "read the issue for content a provider may refuse, or use another model".into(),
            ],
            LlmError::Replay { .. } => vec![
                "a replay must run the same command, in the same repository state, as the recording".into(),
            ],
            LlmError::Replayed { .. } => vec![],
        }
    }
}

fn http_hints(provider: &str, model: &str, status: u16, message: &str) -> Vec<String> {
    let key = match provider {
        "anthropic" => "ANTHROPIC_API_KEY".to_string(),
        "gemini" => "GEMINI_API_KEY (or GOOGLE_API_KEY)".to_string(),
        "openai" => "OPENAI_API_KEY".to_string(),
        other => format!("the key of [providers.{other}] (api_key_env)"),
    };
    // Gemini answers 400 to a bad key; OpenAI answers 429 to an account out of credit.
    if message.to_ascii_lowercase().contains("api key") && matches!(status, 400 | 401 | 403) {
        return vec![format!("the key was refused: check {key}")];
    }
    if message.contains("insufficient_quota") {
        return vec![format!(
            "the account behind {key} is out of credit: check its billing"
        )];
    }
    match status {
        401 => vec![format!("the key was refused: check {key}")],
        403 => vec![format!(
            "the key is valid but may not use {model}: check the key's permissions and {key}"
        )],
        404 => vec![format!(
            "check the model name `{model}` in .orchestrate.toml (and the provider's base_url)"
        )],
        400 | 413 | 422 => vec![format!(
            "the provider refused the request as invalid: check the model name `{model}` and [providers.{provider}] max_output_tokens"
        )],
        429 => vec![
            "this is the provider's rate limit or your quota, not your credentials: wait, then run again".into(),
            format!("or allow more retries: [providers.{provider}] max_retries"),
        ],
        500..=599 => vec![
            "this is the provider's capacity or an outage, not your credentials: wait, then run again".into(),
        ],
        _ => vec![],
    }
}
