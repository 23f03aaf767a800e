//! Deciding, before anything runs, what each stage will do and why — the same decision the
//! run acts on and `--dry-run` prints.

use super::history::{IssueState, StageState};
use super::stage::Stage;
use super::{PipelineError, RunOptions};

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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Run(Start),
    /// Done already, or skipped by a flag.
    Skip,
    /// After `--until`.
    Beyond,
    /// Not built in this version.
    Unavailable,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub stage: Stage,
    pub action: Action,
    pub reason: String,
}

/// Plan every stage.
pub fn plan(
    state: &IssueState,
    opts: &RunOptions,
    branch: &str,
) -> Result<Vec<Step>, PipelineError> {
    check_options(opts)?;
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
                    state: describe(
                        &record.state,
                        record.last_change.as_ref().map(|c| c.id.short()),
                    ),
                });
            }
        }
    }
    let mut steps = Vec::new();
    for stage in Stage::ALL {
        let (action, reason) = decide(stage, state, opts);
        steps.push(Step {
            stage,
            action,
            reason,
        });
    }
    Ok(steps)
}

fn check_options(opts: &RunOptions) -> Result<(), PipelineError> {
    let conflict = |message: String| Err(PipelineError::ConflictingOptions { message });
    if let (Some(from), Some(until)) = (opts.resume_from, opts.until)
        && from > until
    {
        return conflict(format!("--resume-from {from} comes after --until {until}"));
    }
    if let Some(from) = opts.resume_from
        && opts.skip.contains(&from)
    {
        return conflict(format!(
            "--resume-from {from} and --skip {from} contradict each other"
        ));
    }
    Ok(())
}

fn decide(stage: Stage, state: &IssueState, opts: &RunOptions) -> (Action, String) {
    if opts.until.is_some_and(|until| stage > until) {
        let until = opts.until.map(Stage::name).unwrap_or_default();
        return (Action::Beyond, format!("after --until {until}"));
    }
    if opts.skip.contains(&stage) {
        return (Action::Skip, format!("--skip {stage}"));
    }
    if !stage.is_available() {
        return (Action::Unavailable, "not available in this version".into());
    }
    if let Some(from) = opts.resume_from {
        if stage >= from {
            return (Action::Run(Start::Fresh), format!("--resume-from {from}"));
        }
        return (Action::Skip, "taken as it is (--resume-from)".into());
    }
    let record = state.stage(stage);
    let short = record.last_change.as_ref().map(|c| c.id.short());
    let noun = stage.artifact_noun();
    match &record.state {
        StageState::Missing => (Action::Run(Start::Fresh), format!("no {noun} yet")),
        StageState::Done { .. } => (Action::Skip, describe(&record.state, short)),
        StageState::Blocked => (
            Action::Run(Start::FromDraft),
            format!(
                "blocked in {}: trying again from the blocked draft",
                short.unwrap_or_default()
            ),
        ),
        StageState::Draft { why } => (Action::Run(Start::FromDraft), why.clone()),
        StageState::Rejected { feedback } => {
            let gate = stage.gate_after().map(|g| g.name()).unwrap_or("its gate");
            (
                Action::Run(Start::FromFeedback(feedback.clone())),
                format!("rejected at {gate}: revising with the feedback"),
            )
        }
    }
}

/// A stage's state in words, for plans and errors.
pub fn describe(state: &StageState, commit: Option<String>) -> String {
    let at = commit.map(|c| format!(" in {c}")).unwrap_or_default();
    match state {
        StageState::Missing => "not started".into(),
        StageState::Done { by_person: true } => format!("done: written by hand{at}"),
        StageState::Done { by_person: false } => format!("done{at}"),
        StageState::Blocked => format!("blocked{at}"),
        StageState::Draft { why } => format!("a draft: {why}"),
        StageState::Rejected { .. } => format!("rejected at its gate{at}"),
    }
}
