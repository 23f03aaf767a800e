//! Providers: the built-in ones (their settings in `defaults.toml`), overridden key by key by
//! `[providers.NAME]` tables, and new ones declared with `kind = "..."`, which start from the
//! built-in provider of that kind.

use std::collections::BTreeMap;
use std::time::Duration;

use super::layers::Origins;
use super::model::ProviderKind;
use super::raw::RawProvider;
use super::{ConfigError, invalid};

/// A provider as the model layer uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    /// What the vendor's own SDK calls its base URL (`https://api.anthropic.com`).
    pub base_url: Option<String>,
    /// The environment variable holding the API key, for HTTP providers.
    pub api_key_env: Option<String>,
    /// Longest a single model call may take.
    pub timeout: Duration,
    /// Longest a streamed reply may go without a byte before it is given up as dead.
    pub idle_timeout: Duration,
    /// How many times a transient failure is retried.
    pub max_retries: u32,
    /// The first wait before a retry; it doubles each time (with jitter).
    pub retry_delay: Duration,
    /// The most output tokens asked for (sent where the API takes or needs it).
    pub max_output_tokens: Option<u32>,
    /// For OpenAI-compatible servers: the request field that carries `max_output_tokens`
    /// (`max_tokens` or `max_completion_tokens`); unset: chosen by server.
    pub max_tokens_field: Option<String>,
    /// The most calls to this provider at once, across every issue a process runs.
    pub max_concurrent: u32,
}

/// Settings a provider has when nothing at all sets them.
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const FALLBACK_IDLE: Duration = Duration::from_secs(120);
const FALLBACK_DELAY: Duration = Duration::from_secs(1);
const FALLBACK_CONCURRENT: u32 = 4;

pub fn resolve(
    raw: BTreeMap<String, RawProvider>,
    origins: &Origins,
) -> Result<BTreeMap<String, ProviderConfig>, ConfigError> {
    // Built-ins first (aliases such as `claude` apply to their canonical provider, after it),
    // so that declared providers can start from them.
    let mut builtin: Vec<(&String, &RawProvider, ProviderKind)> = raw
        .iter()
        .filter_map(|(name, table)| ProviderKind::builtin(name).map(|kind| (name, table, kind)))
        .collect();
    builtin.sort_by_key(|(name, _, kind)| (kind.name(), name.as_str() != kind.name()));
    let mut providers = BTreeMap::new();
    for kind in ProviderKind::ALL {
        providers.insert(kind.name().to_string(), empty(kind.name(), kind));
    }
    for (name, table, kind) in builtin {
        let key = format!("providers.{name}");
        if let Some(declared) = &table.kind
            && ProviderKind::from_kind(declared) != Some(kind)
        {
            return Err(invalid(
                origins,
                &format!("{key}.kind"),
                format!("`{name}` is a built-in {kind} provider and cannot change kind"),
                Some("declare the provider under another name"),
            ));
        }
        if let Some(entry) = providers.get_mut(kind.name()) {
            apply(entry, table, &key, origins)?;
        }
    }
    for (name, table) in raw
        .iter()
        .filter(|(n, _)| ProviderKind::builtin(n).is_none())
    {
        let key = format!("providers.{name}");
        let kind = match &table.kind {
            Some(kind) => ProviderKind::from_kind(kind).ok_or_else(|| {
                invalid(
                    origins,
                    &format!("{key}.kind"),
                    format!("unknown provider kind `{kind}`"),
                    Some("kind is one of anthropic, gemini, openai, ollama, cmd, agent"),
                )
            })?,
            None => {
                return Err(invalid(
                    origins,
                    &key,
                    format!("unknown provider `{name}`"),
                    Some(
                        "a new provider needs a kind, for example kind = \"openai\" with base_url and api_key_env",
                    ),
                ));
            }
        };
        let mut entry = providers
            .get(kind.name())
            .cloned()
            .unwrap_or_else(|| empty(name, kind));
        entry.name = name.clone();
        entry.base_url = None;
        entry.api_key_env = None;
        apply(&mut entry, table, &key, origins)?;
        if entry.base_url.is_none() && !kind.is_program() {
            return Err(invalid(
                origins,
                &key,
                format!("provider `{name}` has no base_url"),
                Some("say where it answers, for example base_url = \"http://localhost:8000/v1\""),
            ));
        }
        providers.insert(name.clone(), entry);
    }
    Ok(providers)
}

/// A provider for unit tests: `name` of `kind`, its key in `var`, answering nowhere
/// (`127.0.0.1:9` refuses connections), one-second timeouts, no retries, one call at once.
#[cfg(test)]
pub fn for_tests(name: &str, kind: ProviderKind, var: Option<&str>) -> ProviderConfig {
    ProviderConfig {
        base_url: Some("http://127.0.0.1:9".into()),
        api_key_env: var.map(str::to_string),
        timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        retry_delay: Duration::ZERO,
        max_concurrent: 1,
        ..empty(name, kind)
    }
}

fn empty(name: &str, kind: ProviderKind) -> ProviderConfig {
    ProviderConfig {
        name: name.to_string(),
        kind,
        base_url: None,
        api_key_env: None,
        timeout: FALLBACK_TIMEOUT,
        idle_timeout: FALLBACK_IDLE,
        max_retries: 0,
        retry_delay: FALLBACK_DELAY,
        max_output_tokens: None,
        max_tokens_field: None,
        max_concurrent: FALLBACK_CONCURRENT,
    }
}

fn apply(
    entry: &mut ProviderConfig,
    table: &RawProvider,
    key: &str,
    origins: &Origins,
) -> Result<(), ConfigError> {
    let positive = |field: &str, value: Duration| {
        if value.is_zero() {
            Err(invalid(
                origins,
                &format!("{key}.{field}"),
                format!("a {field} of zero would stop every call at once"),
                Some("write a duration such as \"20m\" or \"90s\""),
            ))
        } else {
            Ok(value)
        }
    };
    if let Some(url) = &table.base_url {
        let trimmed = url.trim().trim_end_matches('/');
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(invalid(
                origins,
                &format!("{key}.base_url"),
                format!("`{url}` is not an http:// or https:// URL"),
                None,
            ));
        }
        entry.base_url = Some(trimmed.to_string());
    }
    if let Some(var) = &table.api_key_env {
        entry.api_key_env = Some(var.clone());
    }
    if let Some(timeout) = table.timeout {
        entry.timeout = positive("timeout", timeout.0)?;
    }
    if let Some(idle) = table.idle_timeout {
        entry.idle_timeout = positive("idle_timeout", idle.0)?;
    }
    if let Some(retries) = table.max_retries {
        entry.max_retries = retries;
    }
    if let Some(delay) = table.retry_delay {
        entry.retry_delay = delay.0;
    }
    if let Some(max) = table.max_output_tokens {
        if max == 0 {
            return Err(invalid(
                origins,
                &format!("{key}.max_output_tokens"),
                "max_output_tokens must be at least 1".into(),
                None,
            ));
        }
        entry.max_output_tokens = Some(max);
    }
    if let Some(field) = &table.max_tokens_field {
        if !matches!(field.as_str(), "max_tokens" | "max_completion_tokens") {
            return Err(invalid(
                origins,
                &format!("{key}.max_tokens_field"),
                format!("`{field}` is not a field an OpenAI-compatible server reads"),
                Some(
                    "write \"max_tokens\" (llama.cpp, vLLM, Ollama, LM Studio) or \"max_completion_tokens\" (OpenAI)",
                ),
            ));
        }
        entry.max_tokens_field = Some(field.clone());
    }
    if let Some(max) = table.max_concurrent {
        if max == 0 {
            return Err(invalid(
                origins,
                &format!("{key}.max_concurrent"),
                "a max_concurrent of 0 would never let a call start".into(),
                Some("write 1 or more (the default is 4)"),
            ));
        }
        entry.max_concurrent = max;
    }
    Ok(())
}
