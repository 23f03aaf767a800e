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
    /// The issue every event is about, added to those that do not name it themselves.
    issue: Option<u64>,
}

impl<'u> JsonRenderer<'u> {
    pub fn new(ui: &'u Ui) -> JsonRenderer<'u> {
        JsonRenderer { ui, issue: None }
    }

    /// Events of `issue`'s run: each line carries `"issue": N`, so the lines of issues run
    /// side by side can be told apart.
    pub fn for_issue(ui: &'u Ui, issue: u64) -> JsonRenderer<'u> {
        JsonRenderer {
            ui,
            issue: Some(issue),
        }
    }
}

/// `line` (one JSON object) with `"issue": issue` first, unless it names an issue already.
fn tagged(line: String, issue: u64) -> String {
    let names_one = serde_json::from_str::<Value>(&line)
        .ok()
        .and_then(|v| v.as_object().map(|o| o.contains_key("issue")))
        .unwrap_or(true);
    match line.strip_prefix('{') {
        Some(rest) if !names_one => {
            let sep = if rest.starts_with('}') { "" } else { "," };
            format!("{{\"issue\":{issue}{sep}{rest}")
        }
        _ => line,
    }
}

impl EventSink for JsonRenderer<'_> {
    fn emit(&self, event: Event) {
        let Ok(line) = serde_json::to_string(&event) else {
            return;
        };
        let line = match self.issue {
            Some(issue) => tagged(line, issue),
            None => line,
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
    let mut schema = schema.to_value();
    name_the_issue(&mut schema);
    strict(schema)
}

/// Every event of a run names its issue (see [`JsonRenderer::for_issue`]): add `issue` to
/// each variant that does not carry it already, itself or in the type it refers to.
fn name_the_issue(schema: &mut Value) {
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    let has_issue = |v: &Value| {
        v.get("properties")
            .is_some_and(|p| p.get("issue").is_some())
    };
    let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
        return;
    };
    for variant in variants {
        let referred = variant
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| defs.get(name));
        if has_issue(variant) || referred.is_some_and(has_issue) {
            continue;
        }
        if let Some(properties) = variant.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert(
                "issue".into(),
                serde_json::json!({
                    "description": "The issue whose run this event belongs to.",
                    "type": "integer",
                    "format": "uint64",
                    "minimum": 0
                }),
            );
        }
        if let Some(required) = variant.get_mut("required").and_then(Value::as_array_mut) {
            required.push("issue".into());
        }
    }
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

/// The JSON Schema of the lines `eval --json` prints besides its tasks' run events (which
/// `run-events.schema.json` describes): the last is `eval_finished`, the report.
pub fn eval_events_schema() -> Value {
    let mut schema = schemars::schema_for!(crate::ops::eval::EvalEvent);
    schema.insert(
        "title".into(),
        "git orchestrate eval --json: the eval's own events, one per line".into(),
    );
    strict(schema.to_value())
}

/// The JSON Schema of an eval run's `report.json` (and of `eval_finished`'s report).
pub fn eval_report_schema() -> Value {
    let mut schema = schemars::schema_for!(crate::ops::eval::report::EvalReport);
    schema.insert(
        "title".into(),
        "git orchestrate eval: report.json, the candidates, the tasks' results and the summary"
            .into(),
    );
    strict(schema.to_value())
}

/// The JSON Schema of `eval --compare A B --json`.
pub fn eval_compare_schema() -> Value {
    let mut schema = schemars::schema_for!(crate::ops::eval::report::Comparison);
    schema.insert(
        "title".into(),
        "git orchestrate eval --compare A B --json: two runs on the tasks both judged".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_names_its_issue_once() {
        assert_eq!(
            tagged(r#"{"event":"stage_started","stage":"lld"}"#.into(), 12),
            r#"{"issue":12,"event":"stage_started","stage":"lld"}"#
        );
        // An event that names the issue itself keeps its own field, and only it.
        let own = r#"{"event":"worktree_removed","issue":12}"#;
        assert_eq!(tagged(own.into(), 12), own);
        assert_eq!(tagged("{}".into(), 3), r#"{"issue":3}"#);
    }

    #[test]
    fn the_schema_requires_the_issue_on_every_event() {
        let schema = events_schema();
        let defs = &schema["$defs"];
        for variant in schema["oneOf"].as_array().unwrap() {
            let own = variant["properties"].get("issue").is_some();
            let referred = variant["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .is_some_and(|name| defs[name]["properties"].get("issue").is_some());
            assert!(own || referred, "{variant}");
        }
    }
}
