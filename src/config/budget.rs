//! Spending: `[budget]` limits and `[prices."MODEL"]` entries.

use std::collections::BTreeMap;

use super::layers::Origins;
use super::raw::{RawBudget, RawPrice};
use super::{ConfigError, invalid};

/// Spending limits, in USD. `None`: no limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BudgetConfig {
    pub per_issue: Option<f64>,
    /// The limit of any one stage, unless `stages` names that stage.
    pub per_stage: Option<f64>,
    /// Limits for particular stages, by stage name.
    pub stages: BTreeMap<String, f64>,
}

impl BudgetConfig {
    /// Whether any limit is set.
    pub fn is_set(&self) -> bool {
        self.per_issue.is_some() || self.per_stage.is_some() || !self.stages.is_empty()
    }

    /// The limit for one stage.
    pub fn for_stage(&self, stage: &str) -> Option<f64> {
        self.stages.get(stage).copied().or(self.per_stage)
    }
}

/// A model's price in USD per million tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Input read from the provider's prompt cache.
    pub cached_input: f64,
    /// Input written to the prompt cache (Anthropic bills it above the input rate).
    pub cache_write: f64,
}

impl Price {
    /// Whether every token is free, so that what a call cost is known without its usage.
    pub fn is_free(&self) -> bool {
        [self.input, self.output, self.cached_input, self.cache_write]
            .iter()
            .all(|rate| *rate == 0.0)
    }
}

pub fn resolve_budget(raw: RawBudget, origins: &Origins) -> Result<BudgetConfig, ConfigError> {
    let check = |key: &str, value: Option<f64>| -> Result<Option<f64>, ConfigError> {
        match value {
            Some(v) if !(v.is_finite() && v > 0.0) => Err(invalid(
                origins,
                key,
                format!("{v} is not a positive amount of USD"),
                Some("write a number of dollars, such as 5.0; remove the key for no limit"),
            )),
            other => Ok(other),
        }
    };
    let mut stages = BTreeMap::new();
    for (name, value) in [
        ("triage", raw.stages.triage),
        ("lld", raw.stages.lld),
        ("spec", raw.stages.spec),
        ("impl", raw.stages.implement),
    ] {
        if let Some(v) = check(&format!("budget.stages.{name}"), value)? {
            stages.insert(name.to_string(), v);
        }
    }
    Ok(BudgetConfig {
        per_issue: check("budget.max_usd_per_issue", raw.max_usd_per_issue)?,
        per_stage: check("budget.max_usd_per_stage", raw.max_usd_per_stage)?,
        stages,
    })
}

pub fn resolve_prices(
    raw: BTreeMap<String, RawPrice>,
    origins: &Origins,
) -> Result<BTreeMap<String, Price>, ConfigError> {
    let mut prices = BTreeMap::new();
    for (model, price) in raw {
        let key = format!("prices.\"{model}\"");
        let values = [
            Some(price.input),
            Some(price.output),
            price.cached_input,
            price.cache_write,
        ];
        if values
            .iter()
            .flatten()
            .any(|v| !(v.is_finite() && *v >= 0.0))
        {
            return Err(invalid(
                origins,
                &format!("prices.{model}"),
                format!("prices for {key} must be zero or more USD per million tokens"),
                None,
            ));
        }
        prices.insert(
            model,
            Price {
                input: price.input,
                output: price.output,
                cached_input: price.cached_input.unwrap_or(price.input),
                cache_write: price.cache_write.unwrap_or(price.input),
            },
        );
    }
    Ok(prices)
}
