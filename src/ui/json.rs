//! `--json`: every event as one JSON object per line on stdout; and the JSON Schemas of what
//! `run --json` and `status --json` print, derived from the same types that are serialised, so
//! the schema cannot say one thing while the output says another. The schemas are committed
//! under `docs/schema/` for readers, and a test fails when they are stale.

use serde::Serialize;
use serde_json::Value;

use super::Ui;
use crate::ops::status::IssueStatus;
use crate::pipeline::{Event, EventSink};

pub struct JsonRenderer<'u> {
    ui: &'u Ui,
}

impl<'u> JsonRenderer<'u> {
    pub fn new(ui: &'u Ui) -> JsonRenderer<'u> {
        JsonRenderer { ui }
    }
}

impl EventSink for JsonRenderer<'_> {
    fn emit(&self, event: Event) {
        let Ok(line) = serde_json::to_string(&event) else {
            return;
        };
        // Through the Ui, so secrets are removed. A reader that went away is not the run's
        // problem: the run finishes regardless.
        let _ = self.ui.data(&format!("{line}\n"));
    }
}

/// What `status --json` prints: one issue, or every issue with a branch.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum StatusDocument {
    Issue(Box<IssueStatus>),
    All(Vec<IssueStatus>),
}

/// The JSON Schema of one line of `run --json`.
pub fn events_schema() -> Value {
    let mut schema = schemars::schema_for!(Event);
    schema.insert(
        "title".into(),
        "git orchestrate run --json: one event per line".into(),
    );
    strict(schema.to_value())
}

/// The JSON Schema of `status --json`.
pub fn status_schema() -> Value {
    let mut schema = schemars::schema_for!(StatusDocument);
    schema.insert(
        "title".into(),
        "git orchestrate status --json: one issue, or every issue with a branch".into(),
    );
    strict(schema.to_value())
}

/// The JSON Schema of `doctor --json`.
pub fn doctor_schema() -> Value {
    let mut schema = schemars::schema_for!(super::DoctorDocument);
    schema.insert(
        "title".into(),
        "git orchestrate doctor --json: every check, and whether a run could start".into(),
    );
    strict(schema.to_value())
}

/// Make every object in the schema closed (`unevaluatedProperties: false`), so output with a
/// field the schema does not describe fails validation. Each event variant is closed where
/// it stands, since it adds its `event` tag beside the type it refers to; the types referred
/// to that way are left open for the variant to close.
fn strict(mut schema: Value) -> Value {
    let mut in_place = Vec::new();
    if let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) {
        for variant in variants {
            if let Some(name) = variant
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                in_place.push(name.to_string());
            }
            close(variant);
        }
    }
    if let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) {
        for (name, def) in defs.iter_mut() {
            if !in_place.contains(name) {
                close(def);
            }
        }
    }
    schema
}

fn close(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let is_object = object.get("type").and_then(Value::as_str) == Some("object")
        || object.contains_key("properties")
        || object.contains_key("oneOf") && object.get("type").is_none_or(|t| t == "object");
    let is_enum_of_strings = object
        .get("oneOf")
        .and_then(Value::as_array)
        .is_some_and(|v| {
            v.iter()
                .all(|s| s.get("type") == Some(&Value::from("string")))
        });
    if is_object && !is_enum_of_strings {
        object.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
}
