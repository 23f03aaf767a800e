//! API keys: read from the environment variable a provider names, held in a type that cannot
//! be printed, and missing ones reported before anything is sent.

use secrecy::{ExposeSecret, SecretString};

use super::LlmError;
use crate::config::{ProviderConfig, ProviderKind};
use crate::env::Env;

/// An API key. `Debug` prints `[REDACTED]`; the value is only read to build a request header.
#[derive(Clone, Debug)]
pub struct ApiKey(SecretString);

impl ApiKey {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The variables a provider's key may be in, in the order they are read.
pub fn variables(provider: &ProviderConfig) -> Vec<String> {
    let mut vars: Vec<String> = provider.api_key_env.iter().cloned().collect();
    // Only a built-in provider falls back to its vendor's variable: a declared one talks to
    // a server of the user's choosing, which must never receive a key it was not given.
    let builtin = provider.name == provider.kind.name();
    let fallback = match provider.kind {
        ProviderKind::Anthropic if builtin => Some("ANTHROPIC_API_KEY"),
        ProviderKind::Gemini if builtin => Some("GEMINI_API_KEY"),
        ProviderKind::OpenAi if builtin => Some("OPENAI_API_KEY"),
        _ => None,
    };
    if let Some(var) = fallback
        && vars.is_empty()
    {
        vars.push(var.to_string());
    }
    if provider.kind == ProviderKind::Gemini && provider.name == "gemini" {
        vars.push("GOOGLE_API_KEY".into());
    }
    vars.dedup();
    vars
}

fn lookup(env: &Env, vars: &[String]) -> Option<ApiKey> {
    vars.iter()
        .find_map(|var| env.non_empty(var))
        .map(|value| ApiKey(SecretString::from(value.trim().to_string())))
}

/// A key the provider cannot work without. When replaying recordings no request is sent,
/// so no key is needed.
pub fn required(
    env: &Env,
    provider: &ProviderConfig,
    replaying: bool,
) -> Result<Option<ApiKey>, LlmError> {
    let vars = variables(provider);
    if vars.is_empty() {
        return Err(LlmError::MissingKey {
            provider: provider.name.clone(),
            vars: vec![format!("api_key_env (in [providers.{}])", provider.name)],
        });
    }
    match lookup(env, &vars) {
        Some(key) => Ok(Some(key)),
        None if replaying => Ok(None),
        None => Err(LlmError::MissingKey {
            provider: provider.name.clone(),
            vars,
        }),
    }
}

/// OpenAI-compatible servers: OpenAI itself needs a key; a local server (vLLM, llama.cpp,
/// LM Studio) often has none, so a key is required only when `api_key_env` names one.
pub fn for_openai(
    env: &Env,
    provider: &ProviderConfig,
    replaying: bool,
) -> Result<Option<ApiKey>, LlmError> {
    let vars = variables(provider);
    if vars.is_empty() {
        return Ok(None);
    }
    required(env, provider, replaying)
}

/// Replace every occurrence of a secret in `text`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "[REDACTED]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(name: &str, kind: ProviderKind, var: Option<&str>) -> ProviderConfig {
        crate::config::test_provider(name, kind, var)
    }

    #[test]
    fn gemini_reads_both_variables_and_keys_do_not_print() {
        let env = Env::from_pairs([("GOOGLE_API_KEY", "g-secret-value")]);
        let gemini = provider("gemini", ProviderKind::Gemini, Some("GEMINI_API_KEY"));
        let key = required(&env, &gemini, false).unwrap().unwrap();
        assert_eq!(key.expose(), "g-secret-value");
        assert!(!format!("{key:?}").contains("g-secret-value"));
        let err = required(&Env::default(), &gemini, false).unwrap_err();
        assert!(
            err.to_string().contains("GEMINI_API_KEY or GOOGLE_API_KEY"),
            "{err}"
        );
        assert!(required(&Env::default(), &gemini, true).unwrap().is_none());
    }

    #[test]
    fn declared_providers_never_inherit_a_vendor_key() {
        let env = Env::from_pairs([
            ("GEMINI_API_KEY", "real-google-key-value"),
            ("ANTHROPIC_API_KEY", "real-anthropic-key"),
        ]);
        let proxy = provider("proxy", ProviderKind::Gemini, None);
        assert!(variables(&proxy).is_empty());
        let err = required(&env, &proxy, false).unwrap_err();
        assert!(err.to_string().contains("api_key_env"), "{err}");
        let claude_proxy = provider("gateway", ProviderKind::Anthropic, Some("GATEWAY_KEY"));
        assert_eq!(variables(&claude_proxy), ["GATEWAY_KEY"]);
        assert!(required(&env, &claude_proxy, false).is_err());
    }

    #[test]
    fn local_openai_servers_need_no_key() {
        let local = provider("vllm", ProviderKind::OpenAi, None);
        assert!(
            for_openai(&Env::default(), &local, false)
                .unwrap()
                .is_none()
        );
        let named = provider("router", ProviderKind::OpenAi, Some("ROUTER_KEY"));
        assert!(for_openai(&Env::default(), &named, false).is_err());
    }

    #[test]
    fn scrubbing() {
        let secrets = vec!["sk-abcdefgh1234".to_string()];
        assert_eq!(
            scrub("key sk-abcdefgh1234 bad", &secrets),
            "key [REDACTED] bad"
        );
    }
}
