//! What a call cost: a built-in price table (`prices.toml`) that `[prices."MODEL"]` extends
//! and overrides, applied to the usage the vendor reported. Cached input is priced at the
//! cache rate. Models run by a local Ollama cost nothing; a model without a price has no
//! cost, which is never taken as zero where a budget depends on it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Usage;
use crate::config::{ModelSpec, Price, ProviderKind};

const BUILTIN: &str = include_str!("prices.toml");

#[derive(Deserialize)]
struct RawPrice {
    input: f64,
    output: f64,
    cached_input: Option<f64>,
    cache_write: Option<f64>,
}

/// The prices in force for a run.
#[derive(Clone, Debug, Default)]
pub struct PriceBook {
    /// Built-in, by provider kind name, then model id.
    builtin: BTreeMap<String, BTreeMap<String, Price>>,
    /// From configuration, by `provider:model` or model id.
    configured: BTreeMap<String, Price>,
}

impl PriceBook {
    pub fn new(configured: &BTreeMap<String, Price>) -> PriceBook {
        let raw: BTreeMap<String, BTreeMap<String, RawPrice>> =
            toml::from_str(BUILTIN).unwrap_or_default();
        let builtin = raw
            .into_iter()
            .map(|(kind, models)| {
                let models = models
                    .into_iter()
                    .map(|(model, p)| {
                        let price = Price {
                            input: p.input,
                            output: p.output,
                            cached_input: p.cached_input.unwrap_or(p.input),
                            cache_write: p.cache_write.unwrap_or(p.input),
                        };
                        (model, price)
                    })
                    .collect();
                (kind, models)
            })
            .collect();
        PriceBook {
            builtin,
            configured: configured.clone(),
        }
    }

    /// The price of a (resolved) model, if known.
    pub fn price(&self, spec: &ModelSpec) -> Option<Price> {
        let undated = strip_date(&spec.model);
        for key in [
            spec.label(),
            spec.model.clone(),
            format!("{}:{undated}", spec.provider),
            undated.to_string(),
        ] {
            if let Some(price) = self.configured.get(&key) {
                return Some(*price);
            }
        }
        if spec.kind == ProviderKind::Ollama {
            return Some(Price {
                input: 0.0,
                output: 0.0,
                cached_input: 0.0,
                cache_write: 0.0,
            });
        }
        // Built-in prices are the vendors' own, so they apply to the built-in providers only.
        if ProviderKind::builtin(&spec.provider) != Some(spec.kind) {
            return None;
        }
        let table = self.builtin.get(spec.kind.name())?;
        table
            .get(&spec.model)
            .or_else(|| table.get(undated))
            .copied()
    }
}

/// `claude-opus-4-5-20251101` → `claude-opus-4-5`; `-latest` too.
fn strip_date(model: &str) -> &str {
    if let Some(base) = model.strip_suffix("-latest") {
        return base;
    }
    match model.rsplit_once('-') {
        Some((base, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => model,
    }
}

/// USD for `usage` at `price`.
pub fn cost(price: &Price, usage: &Usage) -> f64 {
    let cached = usage.cached_input.min(usage.input);
    let written = usage.cache_write_input.min(usage.input - cached);
    let fresh = usage.input - cached - written;
    let per_million = |tokens: u64, rate: f64| tokens as f64 * rate / 1_000_000.0;
    per_million(fresh, price.input)
        + per_million(cached, price.cached_input)
        + per_million(written, price.cache_write)
        + per_million(usage.output, price.output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ModelSpec {
        ModelSpec::parse(text, &[]).unwrap()
    }

    #[test]
    fn builtin_prices_cover_the_default_models() {
        let book = PriceBook::new(&BTreeMap::new());
        for model in [
            "claude:opus-4.5",
            "gemini:3-pro-preview",
            "openai:gpt-5",
            "claude:haiku",
        ] {
            assert!(book.price(&spec(model)).is_some(), "{model}");
        }
        assert!(
            book.price(&spec("anthropic:claude-opus-4-5-20251101"))
                .is_some()
        );
        assert_eq!(book.price(&spec("ollama:llama3.2")).unwrap().output, 0.0);
        assert!(book.price(&spec("openai:some-new-model")).is_none());
        assert!(book.price(&spec("cmd:claude -p")).is_none());
    }

    #[test]
    fn configuration_overrides_and_extends() {
        let mut configured = BTreeMap::new();
        let cheap = Price {
            input: 1.0,
            output: 2.0,
            cached_input: 0.5,
            cache_write: 1.0,
        };
        configured.insert("claude-opus-4-5".to_string(), cheap);
        configured.insert("local:qwen".to_string(), cheap);
        let book = PriceBook::new(&configured);
        assert_eq!(book.price(&spec("claude:opus-4.5")), Some(cheap));
        let declared = vec![("local".to_string(), ProviderKind::OpenAi)];
        let local = ModelSpec::parse("local:qwen", &declared).unwrap();
        assert_eq!(book.price(&local), Some(cheap));
        let other = ModelSpec::parse("local:gpt-5", &declared).unwrap();
        assert_eq!(
            book.price(&other),
            None,
            "vendor prices do not apply to other servers"
        );
    }

    #[test]
    fn cached_input_is_priced_at_the_cache_rate() {
        let price = Price {
            input: 5.0,
            output: 25.0,
            cached_input: 0.5,
            cache_write: 6.25,
        };
        let usage = Usage {
            input: 3_000_000,
            output: 1_000_000,
            cached_input: 1_000_000,
            cache_write_input: 1_000_000,
        };
        // 1M fresh at 5 + 1M cached at 0.5 + 1M written at 6.25 + 1M out at 25.
        assert!((cost(&price, &usage) - 36.75).abs() < 1e-9);
    }
}
