//! Configuration layers and where each key came from.
//!
//! Each layer (built-in defaults, user file, repository file, `-c` overrides) is parsed into a
//! TOML table, and every key it sets is recorded with its origin (file and line, or the `-c`
//! argument). Layers merge key by key, later ones winning; the origin map merges the same way,
//! so an error found after merging still names the file, line and key the user wrote.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};

use super::ConfigError;

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Defaults,
    File { path: PathBuf, line: usize },
    Override { arg: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Defaults => write!(f, "the built-in defaults"),
            Origin::File { path, line } => write!(f, "{}, line {line}", path.display()),
            Origin::Override { arg } => write!(f, "`-c {arg}`"),
        }
    }
}

/// Origins of every key set by any layer, by dotted path (`stages.lld.drafter`).
#[derive(Clone, Debug, Default)]
pub struct Origins {
    by_key: BTreeMap<String, Origin>,
}

impl Origins {
    /// The origin of `key`, or of its nearest parent table that has one.
    pub fn of(&self, key: &str) -> Origin {
        let mut key = key;
        loop {
            if let Some(origin) = self.by_key.get(key) {
                return origin.clone();
            }
            match key.rfind(['.', '[']) {
                Some(at) => key = &key[..at],
                None => return Origin::Defaults,
            }
        }
    }

    /// Whether some layer other than the defaults set `key` itself (not only its table).
    pub fn is_set(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    fn set(&mut self, key: String, origin: Origin) {
        self.by_key.insert(key, origin);
    }

    /// Forget `key` and everything under it: a later layer replaced the value wholesale.
    fn clear_under(&mut self, key: &str) {
        let nested = format!("{key}.");
        let indexed = format!("{key}[");
        self.by_key
            .retain(|k, _| k != key && !k.starts_with(&nested) && !k.starts_with(&indexed));
    }
}

/// One parsed layer.
pub struct Layer {
    pub table: toml::Table,
    origins: Vec<(String, Origin)>,
}

impl Layer {
    /// Parse a configuration file's text.
    pub fn from_file(path: PathBuf, text: &str) -> Result<Layer, ConfigError> {
        let line_of = |offset: usize| line_at(text, offset);
        let spanned = DeTable::parse(text).map_err(|e| ConfigError::Syntax {
            path: path.clone(),
            line: e.span().map(|s| line_of(s.start)),
            message: e.message().trim().to_string(),
        })?;
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.clone(),
            line: e.span().map(|s| line_of(s.start)),
            message: e.message().trim().to_string(),
        })?;
        let mut origins = Vec::new();
        collect_origins(spanned.get_ref(), "", &mut |key, offset| {
            origins.push((
                key,
                Origin::File {
                    path: path.clone(),
                    line: line_of(offset),
                },
            ))
        });
        Ok(Layer { table, origins })
    }

    /// The built-in defaults.
    pub fn defaults() -> Result<Layer, ConfigError> {
        let table: toml::Table =
            toml::from_str(super::DEFAULTS).map_err(|e| ConfigError::Syntax {
                path: PathBuf::from("<built-in defaults>"),
                line: None,
                message: e.message().to_string(),
            })?;
        Ok(Layer {
            table,
            origins: Vec::new(),
        })
    }

    /// A `-c key=value` argument. The value is read as TOML, else taken as a string.
    pub fn from_override(arg: &str) -> Result<Layer, ConfigError> {
        let bad = |message: &str| ConfigError::BadOverride {
            arg: arg.to_string(),
            message: message.to_string(),
        };
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected key=value"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("the key is empty"));
        }
        if key.contains(['\n', '=', '[', ']', '#']) {
            return Err(bad(
                "the key must be a dotted TOML key such as stages.lld.drafter",
            ));
        }
        let as_toml = (!value.contains(['\n', '\r']))
            .then(|| toml::from_str::<toml::Table>(&format!("{key} = {value}")).ok())
            .flatten();
        let table = match as_toml {
            Some(table) => table,
            None => {
                let quoted = toml::Value::String(value.to_string()).to_string();
                toml::from_str::<toml::Table>(&format!("{key} = {quoted}")).map_err(|_| {
                    bad("the key must be a dotted TOML key such as stages.lld.drafter")
                })?
            }
        };
        let mut origins = Vec::new();
        let origin = Origin::Override {
            arg: arg.to_string(),
        };
        collect_table_keys(&table, "", &mut |key| origins.push((key, origin.clone())));
        Ok(Layer { table, origins })
    }
}

/// Merge `layers` in order (later wins) into one table and the origin of each key.
pub fn merge(layers: Vec<Layer>) -> (toml::Table, Origins) {
    let mut merged = toml::Table::new();
    let mut origins = Origins::default();
    for layer in layers {
        for (key, _) in &layer.origins {
            if replaces_wholesale(&layer.table, key) {
                origins.clear_under(key);
            }
        }
        for (key, origin) in layer.origins {
            origins.set(key, origin);
        }
        merge_table(&mut merged, layer.table);
    }
    (merged, origins)
}

/// Whether `key` in `table` is a leaf value (not a table): setting it replaces any table or
/// array an earlier layer had there, along with the origins of what was under it.
fn replaces_wholesale(table: &toml::Table, key: &str) -> bool {
    let mut current = table;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        match current.get(part) {
            Some(toml::Value::Table(inner)) if parts.peek().is_some() => current = inner,
            Some(toml::Value::Table(_)) => return false,
            Some(_) => return parts.peek().is_none(),
            None => return false,
        }
    }
    false
}

fn merge_table(into: &mut toml::Table, from: toml::Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => {
                merge_table(existing, incoming)
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn collect_origins(table: &DeTable<'_>, prefix: &str, record: &mut impl FnMut(String, usize)) {
    for (key, value) in table.iter() {
        let path = join(prefix, key.get_ref());
        record(path.clone(), key.span().start);
        if let DeValue::Table(inner) = value.get_ref() {
            collect_origins(inner, &path, record);
        }
    }
}

fn collect_table_keys(table: &toml::Table, prefix: &str, record: &mut impl FnMut(String)) {
    for (key, value) in table {
        let path = join(prefix, key);
        record(path.clone());
        if let toml::Value::Table(inner) = value {
            collect_table_keys(inner, &path, record);
        }
    }
}

fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_name_file_and_line() {
        let text = "[orchestrator]\nbranch_prefix = \"x/\"\n\n[stages.lld]\ndrafter = \"cmd:a\"\n";
        let layer = Layer::from_file(PathBuf::from("/r/.orchestrate.toml"), text).unwrap();
        let (_, origins) = merge(vec![layer]);
        assert_eq!(
            origins.of("stages.lld.drafter"),
            Origin::File {
                path: PathBuf::from("/r/.orchestrate.toml"),
                line: 5
            }
        );
        assert_eq!(
            origins.of("orchestrator.branch_prefix").to_string(),
            "/r/.orchestrate.toml, line 2"
        );
        assert_eq!(
            origins.of("stages.lld.required_sections[2]").to_string(),
            "/r/.orchestrate.toml, line 4"
        );
    }

    #[test]
    fn overrides_read_toml_then_strings() {
        let layer = Layer::from_override("gates.after_lld=true").unwrap();
        assert_eq!(
            layer.table["gates"]["after_lld"],
            toml::Value::Boolean(true)
        );
        let layer = Layer::from_override("stages.lld.drafter=openai:gpt-5").unwrap();
        assert_eq!(
            layer.table["stages"]["lld"]["drafter"],
            toml::Value::String("openai:gpt-5".into())
        );
        let layer = Layer::from_override("stages.lld.max_revisions=2").unwrap();
        assert_eq!(
            layer.table["stages"]["lld"]["max_revisions"],
            toml::Value::Integer(2)
        );
        assert!(Layer::from_override("no-equals").is_err());
        assert!(Layer::from_override("=x").is_err());
        let injected = Layer::from_override("a=1\nb=2").unwrap();
        assert_eq!(injected.table["a"], toml::Value::String("1\nb=2".into()));
    }

    #[test]
    fn later_layers_win_key_by_key() {
        let a = Layer::from_file(
            PathBuf::from("a"),
            "[gates]\nafter_lld = true\nafter_spec = true\n",
        )
        .unwrap();
        let b = Layer::from_override("gates.after_spec=false").unwrap();
        let (merged, origins) = merge(vec![a, b]);
        assert_eq!(merged["gates"]["after_lld"], toml::Value::Boolean(true));
        assert_eq!(merged["gates"]["after_spec"], toml::Value::Boolean(false));
        assert!(matches!(
            origins.of("gates.after_spec"),
            Origin::Override { .. }
        ));
        assert!(matches!(
            origins.of("gates.after_lld"),
            Origin::File { line: 2, .. }
        ));
    }
}
