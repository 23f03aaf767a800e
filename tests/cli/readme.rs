//! The README's configuration reference is the embedded defaults, key by key: a test, so the
//! two cannot drift apart.

use std::collections::BTreeMap;

use toml::Value;

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Table(table) => {
            for (key, inner) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, inner, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The TOML block that follows "The defaults:" in the README's Configuration section.
fn readme_defaults() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("a Configuration section");
    let after = section
        .split("The defaults:")
        .nth(1)
        .expect("\"The defaults:\"");
    let block = after.split("```toml\n").nth(1).expect("a toml block");
    block.split("\n```").next().unwrap().to_string()
}

#[test]
fn the_readme_configuration_reference_is_the_embedded_defaults() {
    let embedded = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/config/defaults.toml"
    ))
    .unwrap();
    let mut defaults = BTreeMap::new();
    let embedded: toml::Table = toml::from_str(&embedded).unwrap();
    flatten("", &Value::Table(embedded), &mut defaults);
    let text = readme_defaults();
    let shown_table: toml::Table = toml::from_str(&text)
        .unwrap_or_else(|e| panic!("the README's defaults are not TOML: {e}\n{text}"));
    let mut shown = BTreeMap::new();
    flatten("", &Value::Table(shown_table), &mut shown);

    // Every key the README shows is a default, with the same value.
    for (key, value) in &shown {
        assert_eq!(
            defaults.get(key),
            Some(value),
            "README shows {key} = {value}, the embedded defaults say {:?}",
            defaults.get(key)
        );
    }
    // Every default is there: in the reference, or (the HTTP providers' settings) in the
    // provider tables of the Models section.
    let providers = models_provider_tables();
    for (key, value) in &defaults {
        match shown.get(key).or_else(|| providers.get(key)) {
            Some(documented) => assert_eq!(
                documented, value,
                "the README shows {key} = {documented}, the embedded defaults say {value}"
            ),
            None => panic!("the README's configuration reference lacks {key}"),
        }
    }
}

/// The `[providers.*]` keys of the TOML blocks in the README's Models section.
fn models_provider_tables() -> BTreeMap<String, Value> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let models = readme
        .split("\n## Models\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Models section");
    let mut out = BTreeMap::new();
    for block in models.split("```toml\n").skip(1) {
        let text = block.split("\n```").next().unwrap_or_default();
        if let Ok(table) = toml::from_str::<toml::Table>(text)
            && let Some(providers) = table.get("providers")
        {
            flatten("providers", providers, &mut out);
        }
    }
    out
}
