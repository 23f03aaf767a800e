//! Provider failures, each with its class (worth a retry or not), the usage it cost when the
//! vendor said, and advice for the person reading it.

use std::time::Duration;

use serde::Serialize;

use super::Usage;

/// Whether a failure is worth retrying.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FailureClass {
    Transient,
    Deterministic,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("could not start model program `{command}`")]
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
    #[error(
        "{model} replied with {what} at byte {offset}, so the reply is not text; it was not used"
    )]
    NotText {
        model: String,
        /// `a NUL character`, `bytes that are not UTF-8`.
        what: &'static str,
        offset: usize,
    },
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
        /// The host name did not resolve: a network problem more often than a wrong URL.
        dns: bool,
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
    #[error("{last} (gave up after {attempts} attempts)")]
    Retried {
        attempts: u32,
        /// The last attempt's failure (shown in the message, so not a `source()`).
        last: Box<LlmError>,
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
            LlmError::Retried { last: source, .. } => source.class(),
            LlmError::Spawn { .. }
            | LlmError::Exit { .. }
            | LlmError::Empty { .. }
            | LlmError::ReplyTooLarge { .. }
            | LlmError::NotText { .. }
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
            LlmError::Retried { last: source, .. } => source.root(),
            other => other,
        }
    }
}
