//! Anthropic's Messages API (`POST {base_url}/v1/messages`), streamed as server-sent events:
//! `message_start` (input usage), `content_block_delta` (text), `message_delta` (stop reason,
//! output usage), `message_stop`. The prompt's stable prefix is marked with
//! `cache_control`, so later rounds of a stage read it from Anthropic's prompt cache.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::http::{self, Call, End};
use super::keys::ApiKey;
use super::{BoxFuture, CallObserver, LlmError, Model, Reply, Request, Usage};
use crate::config::{ModelSpec, ProviderConfig};

const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; used when configuration gives none.
const DEFAULT_MAX_TOKENS: u32 = 16384;

pub struct Anthropic {
    /// The provider's name (`anthropic`, or a declared `[providers.NAME]`), for messages.
    provider: String,
    label: String,
    model: String,
    url: String,
    key: Option<ApiKey>,
    client: reqwest::Client,
    idle: Duration,
    timeout: Duration,
    max_tokens: u32,
}

impl Anthropic {
    pub fn new(
        spec: &ModelSpec,
        provider: &ProviderConfig,
        key: Option<ApiKey>,
        client: reqwest::Client,
    ) -> Anthropic {
        let base = provider
            .base_url
            .as_deref()
            .unwrap_or("https://api.anthropic.com");
        Anthropic {
            provider: provider.name.clone(),
            label: spec.label(),
            model: spec.model.clone(),
            url: http::join(base, "v1/messages"),
            key,
            client,
            idle: provider.idle_timeout,
            timeout: provider.timeout,
            max_tokens: provider.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        }
    }

    /// The request body: one user message whose first block, the stable prefix, is cacheable.
    pub fn body(&self, request: &Request) -> Value {
        let (stable, rest) = request.prompt.split();
        let mut blocks = Vec::new();
        if !stable.is_empty() {
            blocks.push(
                json!({"type": "text", "text": stable, "cache_control": {"type": "ephemeral"}}),
            );
        }
        if !rest.is_empty() {
            blocks.push(json!({"type": "text", "text": rest}));
        }
        json!({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "stream": true,
            "messages": [{"role": "user", "content": blocks}],
        })
    }

    async fn run(&self, request: &Request, observer: &dyn CallObserver) -> Result<Reply, LlmError> {
        let body = self.body(request);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.key {
            headers.insert("x-api-key", http::secret_header(key.expose())?);
        }
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        headers.insert("accept", HeaderValue::from_static("text/event-stream"));
        let call = Call {
            provider: &self.provider,
            model: &self.label,
            url: self.url.clone(),
            headers,
            body: &body,
            idle: self.idle,
            body_retry_after: None,
            key: self.key.as_ref().map(|k| k.expose()),
        };
        let mut events = http::send(&self.client, call, vendor_message)
            .await?
            .events();
        let mut text = String::new();
        let mut usage: Option<Usage> = None;
        let mut stop: Option<String> = None;
        let mut finished = false;
        while let Some(event) = events
            .next()
            .await
            .map_err(|e| http::with_usage(e, usage))?
        {
            let data = http::parse_json(&self.label, &event.data)?;
            let kind = data["type"].as_str().unwrap_or(event.name.as_str());
            match kind {
                "message_start" => usage = Some(read_usage(&data["message"]["usage"], usage)),
                "content_block_delta" => {
                    if let Some(delta) = data["delta"]["text"].as_str() {
                        text.push_str(delta);
                        observer.progress(http::estimate_tokens(text.len()));
                    }
                }
                "message_delta" => {
                    if let Some(reason) = data["delta"]["stop_reason"].as_str() {
                        stop = Some(reason.to_string());
                    }
                    usage = Some(read_usage(&data["usage"], usage));
                }
                "message_stop" => {
                    finished = true;
                    break;
                }
                "error" => {
                    return Err(stream_error(
                        &self.provider,
                        &self.label,
                        &data["error"],
                        usage,
                    ));
                }
                // ping, content_block_start, content_block_stop, and anything new.
                _ => {}
            }
        }
        let end = match (finished, stop.as_deref()) {
            (false, _) => End::Unfinished("the stream ended before its message_stop event"),
            (true, Some("max_tokens")) => End::Truncated(Some(self.max_tokens)),
            (true, Some("refusal")) => {
                End::Refused("the model refused (stop_reason: refusal)".into())
            }
            (true, _) => End::Stop,
        };
        http::finish(&self.label, text, usage, end)
    }
}

impl Model for Anthropic {
    fn complete<'a>(
        &'a self,
        request: &'a Request,
        observer: &'a dyn CallObserver,
    ) -> BoxFuture<'a, Result<Reply, LlmError>> {
        Box::pin(http::within(
            &self.label,
            self.timeout,
            self.run(request, observer),
        ))
    }
}

/// Anthropic reports input without the cache tokens, which it counts apart; `Usage.input`
/// counts them all. `message_delta` repeats the totals so far.
fn read_usage(value: &Value, known: Option<Usage>) -> Usage {
    let mut usage = known.unwrap_or_default();
    let n = |key: &str| value[key].as_u64();
    if let Some(input) = n("input_tokens") {
        let read = n("cache_read_input_tokens").unwrap_or(0);
        let written = n("cache_creation_input_tokens").unwrap_or(0);
        usage.input = input + read + written;
        usage.cached_input = read;
        usage.cache_write_input = written;
    }
    if let Some(output) = n("output_tokens") {
        usage.output = output;
    }
    usage
}

/// An `error` event in the middle of a stream (overloaded, for one).
fn stream_error(provider: &str, model: &str, error: &Value, usage: Option<Usage>) -> LlmError {
    let kind = error["type"].as_str().unwrap_or("error");
    let message = error["message"].as_str().unwrap_or("no details");
    let status = match kind {
        "overloaded_error" => 529,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "timeout_error" => 504,
        _ => {
            return LlmError::Dropped {
                model: model.to_string(),
                detail: format!("{kind}: {message}"),
                usage,
            };
        }
    };
    LlmError::Http {
        provider: provider.to_string(),
        model: model.to_string(),
        status,
        message: format!("{kind}: {message}"),
        retry_after: None,
    }
}

/// `{"type": "error", "error": {"type": "...", "message": "..."}}`
fn vendor_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let error = &value["error"];
    let message = error["message"].as_str()?;
    Some(match error["type"].as_str() {
        Some(kind) => format!("{kind}: {message}"),
        None => message.to_string(),
    })
}
