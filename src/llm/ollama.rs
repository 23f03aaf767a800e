//! A local Ollama server (`POST {base_url}/api/chat`), streamed as JSON lines: each carries
//! `message.content`; the last has `done: true`, `done_reason` and the token counts
//! (`prompt_eval_count`, `eval_count`). No key.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::http::{self, Call, End};
use super::{BoxFuture, CallObserver, LlmError, Model, Reply, Request, Usage};
use crate::config::{ModelSpec, ProviderConfig};

pub struct Ollama {
    /// The provider's name (`anthropic`, or a declared `[providers.NAME]`), for messages.
    provider: String,
    label: String,
    model: String,
    url: String,
    client: reqwest::Client,
    idle: Duration,
    timeout: Duration,
    max_tokens: Option<u32>,
}

impl Ollama {
    pub fn new(spec: &ModelSpec, provider: &ProviderConfig, client: reqwest::Client) -> Ollama {
        let base = provider
            .base_url
            .as_deref()
            .unwrap_or("http://localhost:11434");
        Ollama {
            provider: provider.name.clone(),
            label: spec.label(),
            model: spec.model.clone(),
            url: http::join(base, "api/chat"),
            client,
            idle: provider.idle_timeout,
            timeout: provider.timeout,
            max_tokens: provider.max_output_tokens,
        }
    }

    fn body(&self, request: &Request) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [{"role": "user", "content": request.prompt.text}],
            "stream": true,
        });
        if let Some(max) = self.max_tokens {
            body["options"] = json!({"num_predict": max});
        }
        body
    }

    async fn run(&self, request: &Request, observer: &dyn CallObserver) -> Result<Reply, LlmError> {
        let body = self.body(request);
        let call = Call {
            provider: &self.provider,
            model: &self.label,
            url: self.url.clone(),
            headers: HeaderMap::new(),
            body: &body,
            idle: self.idle,
            body_retry_after: None,
            key: None,
        };
        let mut lines = http::send(&self.client, call, vendor_message)
            .await?
            .lines();
        let mut text = String::new();
        let mut usage: Option<Usage> = None;
        let mut done: Option<String> = None;
        while let Some(line) = lines.next().await? {
            let data = http::parse_json(&self.label, &line)?;
            if let Some(error) = data["error"].as_str() {
                return Err(LlmError::Dropped {
                    model: self.label.clone(),
                    detail: error.to_string(),
                    usage,
                });
            }
            if let Some(delta) = data["message"]["content"].as_str() {
                text.push_str(delta);
                observer.progress(http::estimate_tokens(text.len()));
            }
            if data["done"].as_bool() == Some(true) {
                usage = Some(Usage {
                    input: data["prompt_eval_count"].as_u64().unwrap_or(0),
                    output: data["eval_count"].as_u64().unwrap_or(0),
                    cached_input: 0,
                    cache_write_input: 0,
                });
                done = Some(data["done_reason"].as_str().unwrap_or("stop").to_string());
                break;
            }
        }
        let end = match done.as_deref() {
            None => End::Unfinished("the stream ended before its done message"),
            Some("length") => End::Truncated(self.max_tokens),
            Some(_) => End::Stop,
        };
        http::finish(&self.label, text, usage, end)
    }
}

impl Model for Ollama {
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

/// `{"error": "model \"x\" not found, try pulling it first"}`
fn vendor_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value["error"].as_str().map(str::to_string)
}
