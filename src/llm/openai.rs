//! OpenAI-compatible chat completions (`POST {base_url}/chat/completions`), streamed as
//! server-sent events ending in `data: [DONE]`: OpenAI itself, and vLLM, llama.cpp's server,
//! LM Studio or OpenRouter through `[providers.NAME] kind = "openai"`. Usage comes in a last
//! chunk when asked for with `stream_options.include_usage`.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::http::{self, Call, End};
use super::keys::ApiKey;
use super::{BoxFuture, CallObserver, LlmError, Model, Reply, Request, Usage};
use crate::config::{ModelSpec, ProviderConfig};

pub struct OpenAi {
    provider: String,
    label: String,
    model: String,
    url: String,
    key: Option<ApiKey>,
    client: reqwest::Client,
    idle: Duration,
    timeout: Duration,
    max_tokens: Option<u32>,
    /// The request field `max_tokens` goes in (see [`max_tokens_field`]).
    max_tokens_field: String,
}

/// The field that carries the output limit: the configured one, else `max_completion_tokens`
/// for OpenAI's own API (the built-in `openai` provider, or a server at api.openai.com),
/// which has deprecated `max_tokens`, and `max_tokens` for every other OpenAI-compatible
/// server — llama.cpp's, vLLM's, Ollama's and LM Studio's read that one, and some ignore the
/// other, so a limit sent there would not hold.
fn max_tokens_field(provider: &ProviderConfig, base: &str) -> String {
    if let Some(field) = &provider.max_tokens_field {
        return field.clone();
    }
    let host = base
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(base)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if provider.name == "openai" || host == "api.openai.com" {
        "max_completion_tokens".into()
    } else {
        "max_tokens".into()
    }
}

impl OpenAi {
    pub fn new(
        spec: &ModelSpec,
        provider: &ProviderConfig,
        key: Option<ApiKey>,
        client: reqwest::Client,
    ) -> OpenAi {
        let base = provider
            .base_url
            .as_deref()
            .unwrap_or("https://api.openai.com/v1");
        OpenAi {
            provider: provider.name.clone(),
            label: spec.label(),
            model: spec.model.clone(),
            url: http::join(base, "chat/completions"),
            key,
            client,
            idle: provider.idle_timeout,
            timeout: provider.timeout,
            max_tokens: provider.max_output_tokens,
            max_tokens_field: max_tokens_field(provider, base),
        }
    }

    fn body(&self, request: &Request) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [{"role": "user", "content": request.prompt.text}],
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        if let Some(max) = self.max_tokens {
            body[self.max_tokens_field.as_str()] = json!(max);
        }
        body
    }

    async fn run(&self, request: &Request, observer: &dyn CallObserver) -> Result<Reply, LlmError> {
        let body = self.body(request);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.key {
            headers.insert(
                "authorization",
                http::secret_header(&format!("Bearer {}", key.expose()))?,
            );
        }
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
        let mut finish: Option<String> = None;
        while let Some(event) = events
            .next()
            .await
            .map_err(|e| http::with_usage(e, usage))?
        {
            if event.data.trim() == "[DONE]" {
                break;
            }
            let data = http::parse_json(&self.label, &event.data)?;
            if let Some(error) = data.get("error").filter(|e| !e.is_null()) {
                return Err(LlmError::Dropped {
                    model: self.label.clone(),
                    detail: describe(error),
                    usage,
                });
            }
            if let Some(u) = data.get("usage").filter(|u| u.is_object()) {
                usage = Some(read_usage(u));
            }
            let choice = &data["choices"][0];
            if let Some(delta) = choice["delta"]["content"].as_str() {
                text.push_str(delta);
                observer.progress(http::estimate_tokens(text.len()));
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                finish = Some(reason.to_string());
            }
        }
        let end = match finish.as_deref() {
            None => End::Unfinished("the stream ended before a finish_reason"),
            Some("length") => End::Truncated(self.max_tokens),
            Some("content_filter") => End::Refused("finish_reason content_filter".into()),
            Some(_) => End::Stop,
        };
        http::finish(&self.label, text, usage, end)
    }
}

impl Model for OpenAi {
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

/// `prompt_tokens` includes `prompt_tokens_details.cached_tokens`.
fn read_usage(value: &Value) -> Usage {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    Usage {
        input: n(&value["prompt_tokens"]),
        output: n(&value["completion_tokens"]),
        cached_input: n(&value["prompt_tokens_details"]["cached_tokens"]),
        cache_write_input: 0,
    }
}

fn describe(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        _ => {
            let message = error["message"].as_str().unwrap_or("no details");
            match error["code"].as_str().or(error["type"].as_str()) {
                Some(code) => format!("{code}: {message}"),
                None => message.to_string(),
            }
        }
    }
}

/// `{"error": {"message": "...", "type": "...", "code": "..."}}`, and what compatible
/// servers send instead (`{"detail": ...}`, `{"message": ...}`).
fn vendor_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    if let Some(error) = value.get("error") {
        return Some(describe(error));
    }
    value.get("detail").or(value.get("message")).map(|v| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    })
}
