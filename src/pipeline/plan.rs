//! Deciding, before anything runs, what each stage will do and why — the same decision the
//! run acts on and `--dry-run` prints.

use std::collections::BTreeMap;

use serde::Serialize;

use super::branch::history::DraftWhy;
use super::branch::{IssueState, StageState};
use super::stale::StaleWhy;
use super::{PipelineError, RunOptions};
use crate::stage::{Gate, Stage};

/// How a stage that runs begins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// From nothing.
    Fresh,
    /// From the artifact on the branch, which goes to review first (a blocked draft, or a
    /// hand-written one that is not trusted as finished).
    FromDraft,
    /// From the artifact on the branch, revised first with a person's feedback.
    FromFeedback(String),
    /// From the artifact on the branch (for impl, the code), revised to match inputs that
    /// changed since it was made.
    Stale(StaleWhy),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Run(Start),
    /// Done already, or skipped by the run's options.
    Skip,
    /// After the stage the run stops after.
    Beyond,
}

/// What the plan does with a stage, as events report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Run,
    Skip,
    NotRun,
}

impl Step {
    pub fn action(&self) -> Action {
        match self {
            Step::Run(_) => Action::Run,
            Step::Skip => Action::Skip,
            Step::Beyond => Action::NotRun,
        }
    }
}

/// Why the plan does what it does with a stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Reason {
    /// There is no artifact yet.
    Missing { stage: Stage },
    /// Done on the branch (by a person, or approved or passed).
    Done {
        by_person: bool,
        commit: Option<String>,
    },
    /// Blocked in `commit`: the stage tries again from the blocked draft. `before_any_model`:
    /// impl blocked on the branch's own code (its tests, before any attempt), so a run tests
    /// it again and calls a model only once that passes.
    Blocked {
        commit: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        before_any_model: bool,
    },
    /// The artifact on the branch is a draft that goes through review.
    Draft { draft: DraftWhy },
    /// Rejected at `gate`: revised with the person's feedback.
    Rejected { gate: Gate },
    /// The run was asked to skip the stage.
    Skipped { stage: Stage },
    /// The run stops after `until`.
    AfterUntil { until: Stage },
    /// Done, but made from inputs that changed since: redone from the artifact on the branch.
    Stale { stale: StaleWhy },
    /// Stale, and kept as it is (`--keep-stale`, `orchestrator.on_stale = "keep"`).
    KeptStale {
        stale: StaleWhy,
        commit: Option<String>,
    },
    /// The run was asked to redo everything from `from`.
    ResumeFrom { from: Stage },
    /// Before the stage the run resumes from: taken as it is on the branch.
    TakenAsIs,
}

/// One stage's part in the plan.
#[derive(Clone, Debug)]
pub struct Planned {
    pub stage: Stage,
    pub step: Step,
    pub reason: Reason,
}

/// Plan every stage; `stale` says which done stages were made from inputs that changed, and
/// `keep_stale` whether they are kept as they are rather than redone.
pub fn plan(
    state: &IssueState,
    stale: &BTreeMap<Stage, StaleWhy>,
    keep_stale: bool,
    opts: &RunOptions,
    branch: &str,
) -> Result<Vec<Planned>, PipelineError> {
    if let Some(from) = opts.resume_from {
        for stage in Stage::ALL.into_iter().filter(|s| *s < from) {
            if opts.skip.contains(&stage) {
                continue;
            }
            let record = state.stage(stage);
            if !record.state.is_done() {
                return Err(PipelineError::ResumeIncomplete {
                    from,
                    stage,
                    branch: branch.to_string(),
                    state: record.describe(),
                });
            }
        }
    }
    Ok(Stage::ALL
        .into_iter()
        .map(|stage| {
            let stale = stale.get(&stage).map(|why| (why, keep_stale));
            let (step, reason) = decide(stage, state, stale, opts);
            Planned {
                stage,
                step,
                reason,
            }
        })
        .collect())
}

fn decide(
    stage: Stage,
    state: &IssueState,
    stale: Option<(&StaleWhy, bool)>,
    opts: &RunOptions,
) -> (Step, Reason) {
    if let Some(until) = opts.until.filter(|until| stage > *until) {
        return (Step::Beyond, Reason::AfterUntil { until });
    }
    if opts.skip.contains(&stage) {
        return (Step::Skip, Reason::Skipped { stage });
    }
    if let Some(from) = opts.resume_from {
        if stage >= from {
            return (Step::Run(Start::Fresh), Reason::ResumeFrom { from });
        }
        return (Step::Skip, Reason::TakenAsIs);
    }
    let record = state.stage(stage);
    let commit = record.short_commit();
    match &record.state {
        StageState::Missing => (Step::Run(Start::Fresh), Reason::Missing { stage }),
        StageState::Done { .. } if let Some((why, keep)) = stale => match keep {
            true => (
                Step::Skip,
                Reason::KeptStale {
                    stale: why.clone(),
                    commit,
                },
            ),
            false => (
                Step::Run(Start::Stale(why.clone())),
                Reason::Stale { stale: why.clone() },
            ),
        },
        StageState::Done { by_person } => (
            Step::Skip,
            Reason::Done {
                by_person: *by_person,
                commit,
            },
        ),
        StageState::Blocked => (
            Step::Run(Start::FromDraft),
            Reason::Blocked {
                commit,
                before_any_model: stage == Stage::Impl && record.blocked_before_attempts(),
            },
        ),
        StageState::Draft(why) => (
            Step::Run(Start::FromDraft),
            Reason::Draft { draft: why.clone() },
        ),
        StageState::Rejected { feedback } => match stage.gate_after() {
            Some(gate) => (
                Step::Run(Start::FromFeedback(feedback.clone())),
                Reason::Rejected { gate },
            ),
            // Only stages with a gate after them can be rejected.
            None => (
                Step::Run(Start::FromDraft),
                Reason::Blocked {
                    commit,
                    before_any_model: false,
                },
            ),
        },
    }
}
