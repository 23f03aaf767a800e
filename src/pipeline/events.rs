//! What a run reports as it goes: typed events, rendered by `ui` for people (stderr) or as
//! JSON lines (`--json`). The pipeline never prints.

use serde::Serialize;

use super::stage::{Gate, Stage};
use crate::llm::{FailureClass, Role, Usage};

/// Receives events as they happen.
pub trait EventSink: Sync {
    fn emit(&self, event: Event);
}

/// An event sink that drops everything (for library callers that do not listen).
pub struct Silent;

impl EventSink for Silent {
    fn emit(&self, _event: Event) {}
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The plan, before anything runs; the whole output of `--dry-run`.
    Plan(Plan),
    /// A lock file from a run that died was found and taken over.
    StaleLockTakenOver {
        issue: u64,
        pid: Option<u32>,
    },
    StageStarted {
        stage: Stage,
        reason: String,
    },
    StageSkipped {
        stage: Stage,
        reason: String,
    },
    /// A model is working.
    ModelStarted {
        stage: Stage,
        role: Role,
        model: String,
        round: u32,
    },
    /// Streamed output is arriving (about `tokens` so far).
    ModelProgress {
        stage: Stage,
        role: Role,
        tokens: u64,
    },
    ModelFinished {
        stage: Stage,
        role: Role,
        model: String,
        round: u32,
        elapsed_ms: u64,
        /// Tokens as the vendor reported them, retried attempts included.
        usage: Option<Usage>,
        /// USD, when the model's price is known.
        cost_usd: Option<f64>,
    },
    /// A transient failure; the call will be tried again after `delay_ms`.
    ModelRetrying {
        stage: Stage,
        role: Role,
        model: String,
        attempt: u32,
        attempts: u32,
        error: String,
        class: FailureClass,
        delay_ms: u64,
    },
    /// A draft lacked required sections and went back to the drafter without a review.
    DraftIncomplete {
        stage: Stage,
        round: u32,
        problems: Vec<String>,
    },
    /// A reviewer's verdict (`none` when the reply had none).
    Verdict {
        stage: Stage,
        round: u32,
        verdict: String,
        feedback_items: usize,
    },
    Committed {
        stage: Stage,
        commit: String,
        verdict: String,
        paths: Vec<String>,
    },
    StageFinished {
        stage: Stage,
        verdict: String,
        rounds: u32,
        elapsed_ms: u64,
        commit: Option<String>,
        reason: Option<String>,
        /// What the stage's calls cost in this run.
        usage: Option<Usage>,
        cost_usd: Option<f64>,
    },
    /// The run stopped at a gate; these commands go on.
    GateWaiting {
        gate: Gate,
        issue: u64,
        artifact: String,
        commands: Vec<String>,
    },
    GateDecided {
        gate: Gate,
        decision: String,
        commit: String,
    },
    Warning {
        message: String,
    },
    Finished(Summary),
}

/// The plan of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub issue: u64,
    pub title: String,
    pub branch: String,
    /// Whether the branch exists already.
    pub branch_exists: bool,
    /// Where a new branch starts.
    pub base: Option<String>,
    pub steps: Vec<PlanStep>,
    pub dry_run: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanStep {
    pub stage: Stage,
    /// `run`, `skip`, or `unavailable`.
    pub action: String,
    pub reason: String,
    pub artifact: Option<String>,
    pub models: Vec<PlanModel>,
    pub gate: Option<PlanGate>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanModel {
    pub role: Role,
    /// `None` when the stage needs this role and nothing is configured.
    pub model: Option<String>,
    /// Why a model that configuration does not name was chosen.
    pub why: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanGate {
    pub gate: Gate,
    pub enabled: bool,
    pub passed: bool,
}

/// The end of a run: one row per stage, and how the run ended.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub issue: u64,
    pub branch: String,
    pub outcome: String,
    pub rows: Vec<SummaryRow>,
    /// What the run's model calls used and cost.
    pub usage: Option<Usage>,
    pub cost_usd: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    pub stage: Stage,
    /// `done`, `skipped`, `blocked`, `waiting`, `not run`, ...
    pub result: String,
    pub detail: String,
    pub commit: Option<String>,
    pub elapsed_ms: Option<u64>,
}
