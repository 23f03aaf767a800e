//! The JSON a script reads: `run --json` events and `status --json`, checked against the JSON
//! Schemas committed under `docs/schema/` — which must be what the code generates — for real
//! runs that pass, block, stop at a gate, and plan.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Run, TestRepo, approved, blocked};

/// Set to rewrite the committed schemas from the code.
const UPDATE: &str = "GIT_ORCHESTRATE_UPDATE_SCHEMAS";

fn schema_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema")
        .join(name)
}

#[allow(clippy::disallowed_methods)] // a developer's switch, read only by this test
fn updating() -> bool {
    std::env::var_os(UPDATE).is_some()
}

/// The committed schema `name`, after checking it is what the code generates.
fn committed(name: &str, generated: Value) -> Value {
    let path = schema_path(name);
    let text = format!("{}\n", serde_json::to_string_pretty(&generated).unwrap());
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "{} is not what the code generates; regenerate it with:\n    {UPDATE}=1 cargo test --test cli schema",
        path.display()
    );
    generated
}

fn events_schema() -> Value {
    committed(
        "run-events.schema.json",
        git_orchestrate::ui::json::events_schema(),
    )
}

fn status_schema() -> Value {
    committed(
        "status.schema.json",
        git_orchestrate::ui::json::status_schema(),
    )
}

fn doctor_schema() -> Value {
    committed(
        "doctor.schema.json",
        git_orchestrate::ui::json::doctor_schema(),
    )
}

fn eval_events_schema() -> Value {
    committed(
        "eval-events.schema.json",
        git_orchestrate::ui::json::eval_events_schema(),
    )
}

fn eval_report_schema() -> Value {
    committed(
        "eval-report.schema.json",
        git_orchestrate::ui::json::eval_report_schema(),
    )
}

fn eval_compare_schema() -> Value {
    committed(
        "eval-compare.schema.json",
        git_orchestrate::ui::json::eval_compare_schema(),
    )
}

/// What `eval --compare --json` printed, checked against its schema.
#[track_caller]
pub(crate) fn assert_eval_comparison(document: &Value, what: &str) {
    assert_valid(&eval_compare_schema(), document, what);
}

/// An eval run's `report.json`, checked against its schema.
#[track_caller]
pub(crate) fn assert_eval_report(document: &Value, what: &str) {
    assert_valid(&eval_report_schema(), document, what);
}

/// The lines of `eval --json`: the eval's own events against theirs, the tasks' run events
/// against the run events' schema; the last is the report.
#[track_caller]
pub(crate) fn assert_eval_lines(lines: &[Value], what: &str) {
    const OWN: [&str; 5] = [
        "eval_started",
        "candidate",
        "task_started",
        "task_judged",
        "eval_finished",
    ];
    let own = eval_events_schema();
    let runs = events_schema();
    for line in lines {
        match line["event"].as_str() {
            Some(event) if OWN.contains(&event) => assert_valid(&own, line, what),
            _ => assert_valid(&runs, line, what),
        }
    }
    let last = lines.last().expect("lines");
    assert_eq!(last["event"], "eval_finished", "{what}");
    let mut report = last.clone();
    report.as_object_mut().unwrap().remove("event");
    assert_valid(&eval_report_schema(), &report, what);
}

#[track_caller]
fn assert_valid(schema: &Value, document: &Value, what: &str) {
    let validator = jsonschema::validator_for(schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\n{document:#}",
        errors.join("\n")
    );
}

/// Every line of a `--json` run, parsed and checked against the events schema.
#[track_caller]
pub(crate) fn assert_events(run: &Run, what: &str) -> Vec<Value> {
    let schema = events_schema();
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l}")))
        .collect();
    assert!(!events.is_empty(), "{what}: no events\n{}", run.stderr);
    for event in &events {
        assert_valid(&schema, event, what);
    }
    let last = events.last().unwrap();
    assert_eq!(
        last["event"], "finished",
        "{what}: the outcome is the last event"
    );
    events
}

/// `git-orchestrate ARGS` (a `status --json`), parsed and checked against the status schema.
#[track_caller]
pub(crate) fn status_json(repo: &TestRepo, args: &[&str]) -> Value {
    let run = repo.run(args);
    run.expect_code(0);
    let document: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", run.stdout));
    assert_valid(&status_schema(), &document, &format!("{args:?}"));
    document
}

#[test]
fn the_committed_schemas_are_what_the_code_generates() {
    for schema in [
        events_schema(),
        status_schema(),
        doctor_schema(),
        eval_events_schema(),
        eval_report_schema(),
        eval_compare_schema(),
    ] {
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        jsonschema::validator_for(&schema).expect("the schema compiles");
    }
}

/// The schemas are strict: a field they do not describe, or a value outside an enum, fails.
#[test]
fn the_schemas_reject_what_they_do_not_describe() {
    let events = events_schema();
    let validator = jsonschema::validator_for(&events).unwrap();
    let verdict = serde_json::json!({
        "issue": 7, "event": "verdict", "stage": "lld", "round": 1, "verdict": "approved",
        "feedback_items": 0
    });
    assert!(validator.is_valid(&verdict), "{verdict}");
    let mut anonymous = verdict.clone();
    anonymous.as_object_mut().unwrap().remove("issue");
    assert!(
        !validator.is_valid(&anonymous),
        "an event that does not say which issue it is about passed"
    );
    let mut extra = verdict.clone();
    extra["mood"] = "cheerful".into();
    assert!(!validator.is_valid(&extra), "an unknown field passed");
    let mut wrong = verdict.clone();
    wrong["verdict"] = "APPROVED".into();
    assert!(
        !validator.is_valid(&wrong),
        "a verdict outside the enum passed"
    );
    let finished = serde_json::json!({
        "event": "finished", "issue": 7, "branch": "b", "outcome": "waiting", "gate": "after_lld",
        "rows": [{"stage": "lld", "result": "done", "verdict": "approved", "rounds": 1,
                  "waiting_at": "after_lld", "commit": "abc1234", "elapsed_ms": 3}],
        "usage": null, "cost_usd": null
    });
    assert!(validator.is_valid(&finished), "{finished}");
    let mut row_extra = finished.clone();
    row_extra["rows"][0]["detail"] = "approved in 1 round".into();
    assert!(!validator.is_valid(&row_extra), "prose in a row passed");

    let status = status_schema();
    let validator = jsonschema::validator_for(&status).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"issue": 7})));
}

#[test]
fn a_run_that_passes_emits_events_that_match_the_schema() {
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();

    let plan = repo.run(&[
        "7",
        "--issue-file",
        &issue,
        "--until",
        "spec",
        "--dry-run",
        "--json",
    ]);
    plan.expect_code(0);
    let events = assert_events(&plan, "a dry run");
    assert_eq!(events[0]["event"], "plan");
    assert_eq!(events.last().unwrap()["outcome"], "planned");

    let run = repo.run(&["7", "--issue-file", &issue, "--until", "spec", "--json"]);
    run.expect_code(0);
    let events = assert_events(&run, "a run to the spec");
    let finished = events.last().unwrap();
    assert_eq!(finished["outcome"], "stopped_after");
    assert_eq!(finished["stage"], "spec");
    let results: Vec<&str> = finished["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["done", "done", "done", "not_run", "not_run"]);

    let status = status_json(&repo, &["status", "7", "--json"]);
    assert_eq!(status["issue"], 7);
    assert_eq!(status["stages"][1]["state"], "done");
    assert_eq!(status["stages"][1]["verdict"], "approved");
    assert_eq!(status["stages"][1]["rounds"], 1);
    // Dates are RFC 3339, with their offset (UTC).
    assert_eq!(status["stages"][1]["date"], "2026-01-01T00:00:00Z");
    // No test command is configured or detected: a run would stop before impl.
    assert_eq!(status["next"]["action"], "needs_test_command");
    let all = status_json(&repo, &["status", "--json"]);
    assert_eq!(all.as_array().map(Vec::len), Some(1));

    // The impl stage: a failing attempt, then a passing one; every event matches the schema.
    let implementer = repo.model(
        "implementer",
        "if [ \"$ORCHESTRATE_ROUND\" = 1 ]; then echo 'no edits, sorry'; else printf 'src/lib.rs\\n<<<<<<< SEARCH\\npub fn widget() {}\\n=======\\npub fn widget() {} // fixed\\n>>>>>>> REPLACE\\n'; fi",
    );
    repo.config_models(
        &drafter,
        &reviewer,
        // `true` can prove nothing: no proof is asked for (the proof's events are checked
        // against the schema in proof.rs).
        &format!(
            "[stages.impl]\nimplementer = \"{implementer}\"\ntest_command = \"true\"\nrequire_proof = false\n"
        ),
    );
    let run = repo.run(&["7", "--until", "impl", "--json"]);
    run.expect_code(0);
    let events = assert_events(&run, "a run through impl");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for kind in ["worktree", "tests_started", "tests_finished", "attempt"] {
        assert!(kinds.contains(&kind), "no {kind} event: {kinds:?}");
    }
    let attempts: Vec<&Value> = events.iter().filter(|e| e["event"] == "attempt").collect();
    assert_eq!(attempts[0]["result"], "edits_rejected");
    assert_eq!(attempts[1]["result"], "passed");
    assert_eq!(events.last().unwrap()["outcome"], "stopped_after");
    let status = status_json(&repo, &["status", "7", "--json"]);
    assert_eq!(status["stages"][3]["attempts"], 2);
    assert_eq!(status["stages"][3]["tests"], "\"true\" passed");
    // before_pr is on in the configuration: a person decides before the pull request.
    assert_eq!(status["next"]["action"], "decide");
    assert_eq!(status["next"]["gate"], "before_pr");
}

#[test]
fn a_blocked_run_emits_events_that_match_the_schema() {
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[&blocked("the issue contradicts itself")]);
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "spec", "--json"]);
    run.expect_code(3);
    let events = assert_events(&run, "a blocked run");
    let finished = events.last().unwrap();
    assert_eq!(finished["outcome"], "blocked");
    assert_eq!(finished["stage"], "lld");
    assert_eq!(finished["artifact"], "docs/lld/7.md");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "verdict" && e["verdict"] == "blocked"),
        "{events:?}"
    );

    let status = status_json(&repo, &["status", "7", "--json"]);
    assert_eq!(status["stages"][1]["state"], "blocked");
    assert_eq!(status["next"]["action"], "retry");
    assert_eq!(status["next"]["stage"], "lld");
}

#[test]
fn a_run_stopped_at_a_gate_emits_events_that_match_the_schema() {
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, "[gates]\nafter_lld = true\n");
    let issue = repo.default_issue();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "spec", "--json"]);
    run.expect_code(4);
    let events = assert_events(&run, "a gate stop");
    let waiting = events
        .iter()
        .find(|e| e["event"] == "gate_waiting")
        .unwrap_or_else(|| panic!("no gate_waiting event: {events:?}"));
    assert_eq!(waiting["gate"], "after_lld");
    assert!(waiting["commit"].is_string(), "{waiting}");
    let finished = events.last().unwrap();
    assert_eq!(finished["outcome"], "waiting");
    assert_eq!(finished["gate"], "after_lld");

    let status = status_json(&repo, &["status", "7", "--json"]);
    assert_eq!(status["waiting_at"], "after_lld");
    assert_eq!(status["stages"][1]["state"], "waiting");
    assert_eq!(status["next"]["action"], "decide");
    assert_eq!(status["next"]["gate"], "after_lld");
}

/// A run that fails says so on stdout too: its last line is an error event with the message,
/// the hints and the exit code — also for options that contradict each other.
#[test]
fn a_failed_run_ends_with_an_error_event() {
    let repo = TestRepo::new();
    let drafter = repo.model("drafter", "echo 'no such model' >&2\nexit 3");
    let reviewer = repo.reviewer("reviewer", &[approved()]);
    repo.config_models(&drafter, &reviewer, "");
    let issue = repo.default_issue();
    let run = repo.run(&["7", "--issue-file", &issue, "--until", "spec", "--json"]);
    run.expect_code(1);
    let schema = events_schema();
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for event in &events {
        assert_valid(&schema, event, "a failed run");
    }
    let last = events.last().unwrap();
    assert_eq!(last["event"], "error", "{last}");
    assert_eq!(last["issue"], 7);
    assert_eq!(last["exit_code"], 1);
    assert!(
        last["message"].as_str().unwrap().contains("exit status 3"),
        "{last}"
    );
    assert!(!last["hints"].as_array().unwrap().is_empty(), "{last}");

    let usage = repo.run(&["7", "--until", "lld", "--resume-from", "spec", "--json"]);
    usage.expect_code(2);
    let last: Value = serde_json::from_str(usage.stdout.lines().last().unwrap()).unwrap();
    assert_valid(&schema, &last, "a usage error");
    assert_eq!(last["event"], "error");
    assert_eq!(last["issue"], Value::Null);
    assert_eq!(last["exit_code"], 2);
}

/// `doctor --json` is one document the schema describes, whether ready or not.
#[test]
fn doctor_json_matches_its_schema() {
    let schema = doctor_schema();
    let repo = TestRepo::new();
    let drafter = repo.good_drafter();
    repo.config_models(
        &drafter,
        &drafter,
        &format!("[stages.impl]\nimplementer = \"{drafter}\"\n"),
    );
    let run = repo.run(&["doctor", "--offline", "--json"]);
    // No test command and no GitHub remote: warnings, and still ready.
    run.expect_code(0);
    let document: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
    assert_valid(&schema, &document, "doctor --json");
    assert_eq!(document["ready"], true);
    let checks = document["checks"].as_array().unwrap();
    let test = checks.iter().find(|c| c["name"] == "test command").unwrap();
    assert_eq!(test["level"], "warning");
    assert_eq!(test["ok"], true);
    assert!(test["hint"].as_str().unwrap().contains("test_command"));

    repo.config("[stages.lld\n");
    let run = repo.run(&["doctor", "--offline", "--json"]);
    run.expect_code(1);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid(&schema, &document, "doctor --json, broken configuration");
    assert_eq!(document["ready"], false);
    let config = document["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "config")
        .unwrap();
    assert_eq!(
        (config["ok"].clone(), config["level"].clone()),
        (Value::Bool(false), Value::from("error"))
    );
}
