//! Checking a provider without calling a model: where its key comes from (the variable's
//! name, never its value), and one cheap authenticated request — the vendor's list of models
//! (Anthropic `GET /v1/models`, Gemini `GET /v1beta/models`, OpenAI-compatible
//! `GET {base}/models`, Ollama `GET /api/tags`) — which proves the address, the key and the
//! network at no cost. `doctor` uses both.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use super::{LlmError, http, keys};
use crate::config::{ProviderConfig, ProviderKind};
use crate::env::Env;

/// Where a provider's key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Set in this variable (the first of the provider's variables that is set).
    Variable(String),
    /// The provider works without a key (Ollama, a local OpenAI-compatible server, programs).
    NotNeeded,
    /// None of these variables is set.
    Missing { vars: Vec<String> },
    /// A declared provider that needs a key names no variable for it.
    Unnamed,
}

/// Where `provider`'s key would be read from, as a model call would read it.
pub fn key_source(env: &Env, provider: &ProviderConfig) -> KeySource {
    let vars = keys::variables(provider);
    let needs_key = matches!(
        provider.kind,
        ProviderKind::Anthropic | ProviderKind::Gemini
    ) || (provider.kind == ProviderKind::OpenAi && !vars.is_empty());
    if !needs_key {
        return KeySource::NotNeeded;
    }
    if vars.is_empty() {
        return KeySource::Unnamed;
    }
    match vars.iter().find(|var| env.non_empty(var).is_some()) {
        Some(var) => KeySource::Variable(var.clone()),
        None => KeySource::Missing { vars },
    }
}

/// The error a model call would meet for a key that is missing or unnamed.
pub fn missing_key(provider: &ProviderConfig) -> LlmError {
    let vars = keys::variables(provider);
    LlmError::MissingKey {
        provider: provider.name.clone(),
        vars: if vars.is_empty() {
            vec![format!("api_key_env (in [providers.{}])", provider.name)]
        } else {
            vars
        },
    }
}

/// The request that lists `provider`'s models, without sending it: its URL and headers.
fn list_request(env: &Env, provider: &ProviderConfig) -> Result<(String, HeaderMap), LlmError> {
    let base = provider.base_url.as_deref().unwrap_or_default();
    let mut headers = HeaderMap::new();
    let key = match provider.kind {
        ProviderKind::Anthropic | ProviderKind::Gemini => keys::required(env, provider, false)?,
        ProviderKind::OpenAi => keys::for_openai(env, provider, false)?,
        _ => None,
    };
    let url = match provider.kind {
        ProviderKind::Anthropic => {
            if let Some(key) = &key {
                headers.insert("x-api-key", http::secret_header(key.expose())?);
            }
            headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
            http::join(base, "v1/models")
        }
        ProviderKind::Gemini => {
            if let Some(key) = &key {
                headers.insert("x-goog-api-key", http::secret_header(key.expose())?);
            }
            http::join(base, "v1beta/models")
        }
        ProviderKind::OpenAi => {
            if let Some(key) = &key {
                headers.insert(
                    reqwest::header::AUTHORIZATION,
                    http::secret_header(&format!("Bearer {}", key.expose()))?,
                );
            }
            http::join(base, "models")
        }
        ProviderKind::Ollama => http::join(base, "api/tags"),
        ProviderKind::Cmd | ProviderKind::Agent => {
            return Err(LlmError::Unsupported {
                provider: provider.name.clone(),
            });
        }
    };
    Ok((url, headers))
}

/// How a probe went wrong beyond what a model call reports: no answer in time.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error("{provider} did not answer {url} within {}", humantime::format_duration(*.after))]
    TimedOut {
        provider: String,
        url: String,
        after: Duration,
    },
}

/// List `provider`'s models once, within `timeout` (connecting and reading the answer
/// included): `Ok` for any 2xx answer, else what a model call would have met.
pub async fn list_models(
    client: &reqwest::Client,
    env: &Env,
    provider: &ProviderConfig,
    timeout: Duration,
) -> Result<(), ProbeError> {
    let (url, headers) = list_request(env, provider)?;
    let exchange = async {
        let response = client
            .get(&url)
            .headers(headers)
            .send()
            .await
            .map_err(|e| http::connect_error(&provider.name, &url, &e))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(());
        }
        let secrets: Vec<String> = keys::variables(provider)
            .iter()
            .filter_map(|var| env.non_empty(var).map(str::to_string))
            .collect();
        let message = vendor_message(&body).unwrap_or_else(|| {
            let plain = body.trim();
            if plain.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no details")
                    .to_string()
            } else {
                plain.chars().take(300).collect()
            }
        });
        Err(LlmError::Http {
            provider: provider.name.clone(),
            model: format!("{}: the list of models", provider.name),
            status: status.as_u16(),
            message: keys::scrub(&message, &secrets),
            retry_after: None,
        })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result.map_err(ProbeError::Llm),
        Err(_) => Err(ProbeError::TimedOut {
            provider: provider.name.clone(),
            url,
            after: timeout,
        }),
    }
}

/// The vendors' error text: `{"error": {"message": ...}}` (Anthropic, OpenAI, Gemini) or
/// `{"error": "..."}` (Ollama).
fn vendor_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = value.get("error")?;
    error
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| error.as_str())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(name: &str, kind: ProviderKind, var: Option<&str>) -> ProviderConfig {
        crate::config::test_provider(name, kind, var)
    }

    #[test]
    fn keys_are_named_by_their_variable() {
        let env = Env::from_pairs([("GOOGLE_API_KEY", "g-value")]);
        let gemini = provider("gemini", ProviderKind::Gemini, Some("GEMINI_API_KEY"));
        assert_eq!(
            key_source(&env, &gemini),
            KeySource::Variable("GOOGLE_API_KEY".into())
        );
        let anthropic = provider("anthropic", ProviderKind::Anthropic, None);
        assert_eq!(
            key_source(&env, &anthropic),
            KeySource::Missing {
                vars: vec!["ANTHROPIC_API_KEY".into()]
            }
        );
        let local = provider("vllm", ProviderKind::OpenAi, None);
        assert_eq!(key_source(&env, &local), KeySource::NotNeeded);
        let proxy = provider("proxy", ProviderKind::Anthropic, None);
        assert_eq!(key_source(&env, &proxy), KeySource::Unnamed);
        assert!(missing_key(&proxy).to_string().contains("api_key_env"));
    }

    #[test]
    fn each_vendor_lists_its_models_at_its_own_address() {
        let env = Env::from_pairs([("ANTHROPIC_API_KEY", "sk-ant-x"), ("OPENAI_API_KEY", "k")]);
        let (url, headers) =
            list_request(&env, &provider("anthropic", ProviderKind::Anthropic, None)).unwrap();
        assert_eq!(url, "http://127.0.0.1:9/v1/models");
        assert!(headers.contains_key("x-api-key"));
        let (url, headers) =
            list_request(&env, &provider("openai", ProviderKind::OpenAi, None)).unwrap();
        assert_eq!(url, "http://127.0.0.1:9/models");
        assert!(headers.contains_key("authorization"));
        let (url, _) = list_request(&env, &provider("ollama", ProviderKind::Ollama, None)).unwrap();
        assert_eq!(url, "http://127.0.0.1:9/api/tags");
        assert!(matches!(
            list_request(&env, &provider("gemini", ProviderKind::Gemini, None)),
            Err(LlmError::MissingKey { .. })
        ));
    }

    #[test]
    fn vendor_messages_are_read_from_either_shape() {
        assert_eq!(
            vendor_message(
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#
            ),
            Some("invalid x-api-key".into())
        );
        assert_eq!(
            vendor_message(r#"{"error":"model not found"}"#),
            Some("model not found".into())
        );
        assert_eq!(vendor_message("<html>"), None);
    }
}
