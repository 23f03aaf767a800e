//! The configuration as written: the shape of the merged TOML tables.
//!
//! Unknown keys are errors (`deny_unknown_fields`). Fields without `Option` are always
//! present after merging because the built-in defaults set them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Visitor};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub orchestrator: RawOrchestrator,
    pub stages: RawStages,
    pub gates: RawGates,
    pub paths: RawPaths,
    pub github: RawGithub,
    #[serde(default)]
    pub providers: BTreeMap<String, RawProvider>,
    pub budget: RawBudget,
    pub sandbox: RawSandbox,
    #[serde(default)]
    pub prices: BTreeMap<String, RawPrice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub max_usd_per_issue: Option<f64>,
    pub max_usd_per_stage: Option<f64>,
    #[serde(default)]
    pub stages: RawStageBudgets,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStageBudgets {
    pub triage: Option<f64>,
    pub lld: Option<f64>,
    pub spec: Option<f64>,
    #[serde(rename = "impl")]
    pub implement: Option<f64>,
}

/// USD per million tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: f64,
    pub output: f64,
    pub cached_input: Option<f64>,
    pub cache_write: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrchestrator {
    pub skip_existing_lld: bool,
    pub skip_existing_spec: bool,
    pub branch_prefix: String,
    pub on_stale: OnStale,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStages {
    pub triage: RawTriage,
    pub lld: RawReviewStage,
    pub spec: RawReviewStage,
    #[serde(rename = "impl")]
    pub implement: RawImpl,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTriage {
    pub drafter: Option<String>,
    pub required_sections: Vec<String>,
    pub min_chars: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReviewStage {
    pub drafter: Option<String>,
    pub reviewer: Option<String>,
    pub max_revisions: u32,
    pub required_sections: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImpl {
    pub implementer: Option<String>,
    pub max_test_retries: u32,
    pub test_command: Option<String>,
    pub test_timeout: DurationValue,
    pub protected: Vec<String>,
    pub context_tokens: u64,
    pub allow_red_baseline: bool,
    pub require_proof: bool,
    pub test_env: Vec<String>,
    pub max_file_size: SizeValue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGates {
    pub after_lld: bool,
    pub after_spec: bool,
    pub before_pr: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaths {
    pub brief: String,
    pub lld: String,
    pub spec: String,
    pub reviews: String,
    pub report: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGithub {
    pub remote: String,
    pub repo: Option<String>,
    pub api_url: Option<String>,
    pub draft: bool,
    pub push_remote: Option<String>,
    pub max_wait: DurationValue,
    pub timeout: DurationValue,
    pub push_timeout: DurationValue,
    pub push_hooks: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSandbox {
    pub mode: Option<String>,
    pub writable: Vec<String>,
    pub agent_writable: Vec<String>,
    pub agent_env: Vec<String>,
    pub test_network: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub kind: Option<String>,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    pub timeout: Option<DurationValue>,
    pub idle_timeout: Option<DurationValue>,
    pub max_retries: Option<u32>,
    pub retry_delay: Option<DurationValue>,
    pub max_output_tokens: Option<u32>,
    pub max_tokens_field: Option<String>,
    pub max_concurrent: Option<u32>,
}

/// What a run does with a stage made from inputs that changed since.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnStale {
    /// Redo it, and everything after it, from the artifact on the branch.
    #[default]
    Redo,
    /// Keep it as it is, saying so.
    Keep,
}

/// A duration written as `"20m"`, `"90s"`, `"1h 30m"`, or a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = DurationValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"20m\" or \"1h\", or a number of seconds")
            }

            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<DurationValue, E> {
                Ok(DurationValue(Duration::from_secs(secs)))
            }

            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<DurationValue, E> {
                u64::try_from(secs)
                    .map(|s| DurationValue(Duration::from_secs(s)))
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationValue, E> {
                humantime::parse_duration(text.trim())
                    .map(DurationValue)
                    .map_err(|e| {
                        E::custom(format!(
                            "`{text}` is not a duration ({e}); write \"90s\", \"20m\" or \"1h\""
                        ))
                    })
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A size written as `"50 MiB"`, `"100MB"`, `"512 KiB"`, or a number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeValue(pub u64);

impl SizeValue {
    /// `text` as a size: a number (decimals allowed) and a unit among B, KB, MB, GB (powers
    /// of 1000) and KiB, MiB, GiB (powers of 1024), case aside; no unit is bytes.
    pub fn parse(text: &str) -> Option<u64> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number.parse().ok()?;
        let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" | "bytes" => 1.0,
            "kb" | "k" => 1e3,
            "mb" | "m" => 1e6,
            "gb" | "g" => 1e9,
            "kib" => 1024.0,
            "mib" => 1024.0 * 1024.0,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        let bytes = (number * factor).round();
        (bytes.is_finite() && bytes >= 0.0 && bytes <= u64::MAX as f64).then_some(bytes as u64)
    }
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl Visitor<'_> for SizeVisitor {
            type Value = SizeValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"50 MiB\" or \"100MB\", or a number of bytes")
            }

            fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<SizeValue, E> {
                Ok(SizeValue(bytes))
            }

            fn visit_i64<E: de::Error>(self, bytes: i64) -> Result<SizeValue, E> {
                u64::try_from(bytes)
                    .map(SizeValue)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<SizeValue, E> {
                SizeValue::parse(text).map(SizeValue).ok_or_else(|| {
                    E::custom(format!(
                        "`{text}` is not a size; write \"50 MiB\", \"100MB\" or a number of bytes"
                    ))
                })
            }
        }

        deserializer.deserialize_any(SizeVisitor)
    }
}
