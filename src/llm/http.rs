//! What the HTTP providers share: the one client, sending a streamed request and turning a
//! vendor's error response into an [`LlmError`] with its class, and reading the reply as
//! server-sent events or JSON lines with an idle timeout on every read.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderValue};

use super::LlmError;

/// How long connecting may take; the call's own timeout covers the rest.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of an error body is read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

pub fn client() -> Result<reqwest::Client, LlmError> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("git-orchestrate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| LlmError::Connect {
            provider: "http".into(),
            url: String::new(),
            detail: format!("could not set up the HTTP client: {e}"),
            dns: false,
        })
}

/// A request to send.
pub struct Call<'a> {
    pub provider: &'a str,
    /// `provider:model`, for messages.
    pub model: &'a str,
    pub url: String,
    pub headers: HeaderMap,
    pub body: &'a serde_json::Value,
    pub idle: Duration,
    /// Reads a wait the vendor asks for in an error body (Gemini's `RetryInfo`), where it
    /// sends one there rather than in a `retry-after` header.
    pub body_retry_after: Option<fn(&str) -> Option<Duration>>,
    /// The key sent, so that it is scrubbed from anything the vendor echoes back.
    pub key: Option<&'a str>,
}

/// Mark a header value as sensitive, so it is never printed, even in debug output.
pub fn secret_header(value: &str) -> Result<HeaderValue, LlmError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| LlmError::MissingKey {
        provider: "http".into(),
        vars: vec!["an API key made of printable characters".into()],
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// Send `call` and return its body as a stream, or the vendor's error.
/// `vendor_message` pulls the vendor's own error text out of an error body.
pub async fn send(
    client: &reqwest::Client,
    call: Call<'_>,
    vendor_message: fn(&str) -> Option<String>,
) -> Result<Body, LlmError> {
    // A server that accepts and then says nothing is as dead as a stream that stops: the
    // idle limit covers waiting for the response head too.
    let sent = client
        .post(&call.url)
        .headers(call.headers)
        .json(call.body)
        .send();
    let response = tokio::time::timeout(call.idle, sent)
        .await
        .map_err(|_| LlmError::Idle {
            model: call.model.to_string(),
            after: call.idle,
            usage: None,
        })?
        .map_err(|e| connect_error(call.provider, &call.url, &e))?;
    let status = response.status();
    let mut retry_after = retry_after(response.headers());
    let mut body = Body {
        inner: Box::pin(response.bytes_stream()),
        idle: call.idle,
        model: call.model.to_string(),
    };
    if status.is_success() {
        return Ok(body);
    }
    let mut text = Vec::new();
    while text.len() < ERROR_BODY_LIMIT {
        match body.next_chunk().await {
            Ok(Some(chunk)) => text.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&text);
    if retry_after.is_none() {
        retry_after = call.body_retry_after.and_then(|read| read(&text));
    }
    let message = vendor_message(&text).unwrap_or_else(|| {
        let plain = text.trim();
        if plain.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("no details")
                .to_string()
        } else {
            plain.chars().take(500).collect()
        }
    });
    let secrets: Vec<String> = call.key.iter().map(|k| k.to_string()).collect();
    Err(LlmError::Http {
        provider: call.provider.to_string(),
        model: call.model.to_string(),
        status: status.as_u16(),
        message: super::keys::scrub(&message, &secrets),
        retry_after,
    })
}

/// `retry-after` (seconds) or `retry-after-ms`, as vendors send them.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    text("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|s| Duration::from_secs_f64(s.max(0.0)))
}

/// A reqwest error in words, with its causes (the top level alone says little).
/// A request to `url` that got no answer, in one plain sentence naming the host, and
/// whether its name did not resolve.
pub(crate) fn connect_error(provider: &str, url: &str, error: &reqwest::Error) -> LlmError {
    let cause = crate::error_chain::NetCause::of(error);
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| url.to_string());
    LlmError::Connect {
        provider: provider.to_string(),
        url: url.to_string(),
        detail: cause.sentence(&host, &crate::error_chain::innermost(error)),
        dns: cause == crate::error_chain::NetCause::Dns,
    }
}

pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_connect() {
        "connection failed".to_string()
    } else if error.is_timeout() {
        "timed out".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// A response body read with an idle timeout.
pub struct Body {
    inner: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    idle: Duration,
    model: String,
}

impl Body {
    /// The next chunk; `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, LlmError> {
        match tokio::time::timeout(self.idle, self.inner.next()).await {
            Ok(Some(Ok(bytes))) => Ok(Some(bytes)),
            Ok(Some(Err(e))) => Err(LlmError::Dropped {
                model: self.model.clone(),
                detail: describe(&e),
                usage: None,
            }),
            Ok(None) => Ok(None),
            Err(_) => Err(LlmError::Idle {
                model: self.model.clone(),
                after: self.idle,
                usage: None,
            }),
        }
    }

    /// Server-sent events, as `(event name, data)`.
    pub fn events(self) -> Events {
        let model = self.model.clone();
        let chunks = futures_util::stream::unfold(self, |mut body| async move {
            match body.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), body)),
                Ok(None) => None,
                Err(e) => Some((Err(e), body)),
            }
        });
        Events {
            inner: Box::pin(chunks.eventsource()),
            model,
        }
    }

    /// Newline-delimited JSON (Ollama), one line at a time.
    pub fn lines(self) -> Lines {
        Lines {
            body: self,
            buffer: Vec::new(),
            done: false,
        }
    }
}

type EventResult =
    Result<eventsource_stream::Event, eventsource_stream::EventStreamError<LlmError>>;

pub struct Events {
    inner: Pin<Box<dyn Stream<Item = EventResult> + Send>>,
    model: String,
}

/// One server-sent event.
pub struct Event {
    pub name: String,
    pub data: String,
}

impl Events {
    pub async fn next(&mut self) -> Result<Option<Event>, LlmError> {
        match self.inner.next().await {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(Event {
                name: event.event,
                data: event.data,
            })),
            Some(Err(eventsource_stream::EventStreamError::Transport(e))) => Err(e),
            Some(Err(e)) => Err(LlmError::Malformed {
                model: self.model.clone(),
                detail: format!("the event stream could not be read: {e}"),
            }),
        }
    }
}

pub struct Lines {
    body: Body,
    buffer: Vec<u8>,
    done: bool,
}

impl Lines {
    /// The next non-empty line; `None` at the end.
    pub async fn next(&mut self) -> Result<Option<String>, LlmError> {
        loop {
            if let Some(at) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=at).collect();
                let line = String::from_utf8_lossy(&line).trim().to_string();
                if line.is_empty() {
                    continue;
                }
                return Ok(Some(line));
            }
            if self.done {
                let rest = String::from_utf8_lossy(&self.buffer).trim().to_string();
                self.buffer.clear();
                return Ok((!rest.is_empty()).then_some(rest));
            }
            match self.body.next_chunk().await? {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => self.done = true,
            }
        }
    }
}

/// Parse one JSON message of a stream, naming the model when it is not JSON.
pub fn parse_json(model: &str, data: &str) -> Result<serde_json::Value, LlmError> {
    serde_json::from_str(data).map_err(|e| LlmError::Malformed {
        model: model.to_string(),
        detail: format!("{e} in {}", excerpt(data)),
    })
}

fn excerpt(data: &str) -> String {
    let short: String = data.chars().take(120).collect();
    if short.len() < data.len() {
        format!("`{short}…`")
    } else {
        format!("`{short}`")
    }
}

/// Join a base URL and a path without doubling or dropping the slash.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// A rough token count of streamed text, for progress only.
pub fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

/// How a streamed reply ended, as the vendor said.
pub enum End {
    /// The model finished normally.
    Stop,
    /// The output-token limit cut it off.
    Truncated(Option<u32>),
    /// The vendor stopped it (safety, policy).
    Refused(String),
    /// The stream ended without the vendor's final event.
    Unfinished(&'static str),
}

/// Turn what a stream produced into a reply, or the error it amounts to. A truncated, refused
/// or unfinished reply is never returned as if it were whole.
pub fn finish(
    model: &str,
    text: String,
    usage: Option<super::Usage>,
    end: End,
) -> Result<super::Reply, LlmError> {
    let model = model.to_string();
    match end {
        End::Stop if text.trim().is_empty() => Err(LlmError::Empty { model, usage }),
        End::Stop => Ok(super::Reply { text, usage }),
        End::Truncated(limit) => Err(LlmError::Truncated {
            model,
            limit,
            usage,
        }),
        End::Refused(reason) => Err(LlmError::Refused {
            model,
            reason,
            usage,
        }),
        End::Unfinished(detail) => Err(LlmError::Dropped {
            model,
            detail: detail.to_string(),
            usage,
        }),
    }
}

/// Attach the usage known so far to a failure in mid-stream.
pub fn with_usage(error: LlmError, known: Option<super::Usage>) -> LlmError {
    match error {
        LlmError::Dropped {
            model,
            detail,
            usage: None,
        } => LlmError::Dropped {
            model,
            detail,
            usage: known,
        },
        LlmError::Idle {
            model,
            after,
            usage: None,
        } => LlmError::Idle {
            model,
            after,
            usage: known,
        },
        other => other,
    }
}

/// Run `call` within the model's overall time limit.
pub async fn within<T>(
    model: &str,
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, LlmError>>,
) -> Result<T, LlmError> {
    tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| {
            Err(LlmError::TimedOut {
                model: model.to_string(),
                timeout,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_milliseconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut dated = HeaderMap::new();
        dated.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&dated), None);
    }

    #[test]
    fn urls_join_cleanly() {
        assert_eq!(
            join("https://a/v1/", "/chat/completions"),
            "https://a/v1/chat/completions"
        );
        assert_eq!(
            join("http://localhost:11434", "api/chat"),
            "http://localhost:11434/api/chat"
        );
    }
}
