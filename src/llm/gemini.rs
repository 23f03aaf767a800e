//! Google's Gemini API (`POST {base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse`),
//! streamed as server-sent events, each a `GenerateContentResponse`: text in
//! `candidates[0].content.parts`, `finishReason` on the last, `usageMetadata` (running totals).
//! Gemini caches repeated prompt prefixes itself; the prompt puts its stable part first.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::http::{self, Call, End};
use super::keys::ApiKey;
use super::{BoxFuture, CallObserver, LlmError, Model, Reply, Request, Usage};
use crate::config::{ModelSpec, ProviderConfig};

pub struct Gemini {
    /// The provider's name (`anthropic`, or a declared `[providers.NAME]`), for messages.
    provider: String,
    label: String,
    url: String,
    key: Option<ApiKey>,
    client: reqwest::Client,
    idle: Duration,
    timeout: Duration,
    max_tokens: Option<u32>,
}

impl Gemini {
    pub fn new(
        spec: &ModelSpec,
        provider: &ProviderConfig,
        key: Option<ApiKey>,
        client: reqwest::Client,
    ) -> Gemini {
        let base = provider
            .base_url
            .as_deref()
            .unwrap_or("https://generativelanguage.googleapis.com");
        Gemini {
            provider: provider.name.clone(),
            label: spec.label(),
            url: http::join(
                base,
                &format!("v1beta/models/{}:streamGenerateContent?alt=sse", spec.model),
            ),
            key,
            client,
            idle: provider.idle_timeout,
            timeout: provider.timeout,
            max_tokens: provider.max_output_tokens,
        }
    }

    fn body(&self, request: &Request) -> Value {
        let mut body = json!({
            "contents": [{"role": "user", "parts": [{"text": request.prompt.text}]}],
        });
        if let Some(max) = self.max_tokens {
            body["generationConfig"] = json!({"maxOutputTokens": max});
        }
        body
    }

    async fn run(&self, request: &Request, observer: &dyn CallObserver) -> Result<Reply, LlmError> {
        let body = self.body(request);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.key {
            headers.insert("x-goog-api-key", http::secret_header(key.expose())?);
        }
        headers.insert("accept", HeaderValue::from_static("text/event-stream"));
        let call = Call {
            provider: &self.provider,
            model: &self.label,
            url: self.url.clone(),
            headers,
            body: &body,
            idle: self.idle,
            body_retry_after: Some(retry_delay),
            key: self.key.as_ref().map(|k| k.expose()),
        };
        let mut events = http::send(&self.client, call, vendor_message)
            .await?
            .events();
        let mut text = String::new();
        let mut usage: Option<Usage> = None;
        let mut finish: Option<String> = None;
        let mut blocked: Option<String> = None;
        while let Some(event) = events
            .next()
            .await
            .map_err(|e| http::with_usage(e, usage))?
        {
            let data = http::parse_json(&self.label, &event.data)?;
            if data.get("error").is_some() {
                return Err(stream_error(&self.provider, &self.label, &data["error"]));
            }
            if let Some(meta) = data.get("usageMetadata") {
                usage = Some(read_usage(meta));
            }
            if let Some(reason) = data["promptFeedback"]["blockReason"].as_str() {
                blocked = Some(reason.to_string());
            }
            let candidate = &data["candidates"][0];
            if let Some(parts) = candidate["content"]["parts"].as_array() {
                for part in parts {
                    // Thought summaries are not the answer.
                    if part["thought"].as_bool() == Some(true) {
                        continue;
                    }
                    if let Some(t) = part["text"].as_str() {
                        text.push_str(t);
                    }
                }
                observer.progress(http::estimate_tokens(text.len()));
            }
            if let Some(reason) = candidate["finishReason"].as_str() {
                finish = Some(reason.to_string());
            }
        }
        let end = match (finish.as_deref(), blocked) {
            (_, Some(reason)) => End::Refused(format!("the prompt was blocked ({reason})")),
            (None, None) => End::Unfinished("the stream ended before a finishReason"),
            (Some("STOP"), None) => End::Stop,
            (Some("MAX_TOKENS"), None) => End::Truncated(self.max_tokens),
            (Some(other), None) => End::Refused(format!("finishReason {other}")),
        };
        http::finish(&self.label, text, usage, end)
    }
}

impl Model for Gemini {
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

/// `promptTokenCount` includes cached tokens; thinking is billed as output.
fn read_usage(meta: &Value) -> Usage {
    let n = |key: &str| meta[key].as_u64().unwrap_or(0);
    Usage {
        input: n("promptTokenCount"),
        output: n("candidatesTokenCount") + n("thoughtsTokenCount"),
        cached_input: n("cachedContentTokenCount"),
        cache_write_input: 0,
    }
}

fn stream_error(provider: &str, model: &str, error: &Value) -> LlmError {
    let status = error["code"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(500);
    LlmError::Http {
        provider: provider.to_string(),
        model: model.to_string(),
        status,
        message: describe(error),
        retry_after: None,
    }
}

fn describe(error: &Value) -> String {
    let message = error["message"].as_str().unwrap_or("no details");
    match error["status"].as_str() {
        Some(status) => format!("{status}: {message}"),
        None => message.to_string(),
    }
}

/// The wait a 429 or 503 asks for: `error.details[]` holds a `google.rpc.RetryInfo` with a
/// `retryDelay` such as `"30s"` or `"1.5s"`.
fn retry_delay(body: &str) -> Option<Duration> {
    let value: Value = serde_json::from_str(body).ok()?;
    let value = match &value {
        Value::Array(items) => items.first()?.clone(),
        _ => value,
    };
    value["error"]["details"]
        .as_array()?
        .iter()
        .find_map(|detail| {
            let text = detail["retryDelay"].as_str()?;
            let secs: f64 = text.strip_suffix('s')?.parse().ok()?;
            (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
        })
}

/// `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT"}}`, sometimes in
/// an array.
fn vendor_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let value = match &value {
        Value::Array(items) => items.first()?.clone(),
        _ => value,
    };
    value.get("error").map(describe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_in_the_error_body_is_read() {
        let body = r#"{"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}"#;
        assert_eq!(retry_delay(body), Some(Duration::from_millis(1500)));
        assert_eq!(retry_delay(r#"{"error": {"code": 503}}"#), None);
        assert_eq!(
            vendor_message(body).as_deref(),
            Some("RESOURCE_EXHAUSTED: Resource exhausted")
        );
    }
}
