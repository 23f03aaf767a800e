//! Human gates. A gate after a stage holds the pipeline until a person approves the stage's
//! artifact, rejects it with feedback (the stage is then revised with that feedback), or edits
//! it. Decisions are commits (`Orchestrate-Gate`), so they survive the process and show in
//! `git log`. On a terminal the run asks; otherwise it stops and says which command goes on.

use super::branch::IssueBranch;
use super::events::Event;
use super::history::{IssueState, StageState};
use super::lock::IssueLock;
use super::message::Message;
use super::plan::Start;
use super::run::{Run, StageResult};
use super::stage::{Gate, Stage};
use super::{PipelineError, Session};
use crate::config::GatesConfig;
use crate::git::{FileChange, ObjectId};
use crate::llm::BoxFuture;

/// What a person is shown at a gate.
#[derive(Clone, Debug)]
pub struct GatePrompt {
    pub gate: Gate,
    pub issue: u64,
    pub title: String,
    pub artifact_path: String,
    pub artifact: String,
    /// The editor git would use, if one could be found.
    pub editor: Option<String>,
}

/// A person's answer at a gate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateChoice {
    Approve,
    Reject(String),
    /// The artifact as the person left it in the editor (only when it changed).
    Edited(String),
    Quit,
}

/// Whoever answers at gates.
pub trait Gatekeeper {
    /// Whether someone can answer (a terminal, and no `--no-input`).
    fn can_ask(&self) -> bool;
    fn ask<'a>(&'a self, prompt: &'a GatePrompt) -> BoxFuture<'a, GateChoice>;
}

/// Nobody: every gate stops the run.
pub struct NoInput;

impl Gatekeeper for NoInput {
    fn can_ask(&self) -> bool {
        false
    }

    fn ask<'a>(&'a self, _prompt: &'a GatePrompt) -> BoxFuture<'a, GateChoice> {
        Box::pin(async { GateChoice::Quit })
    }
}

pub fn enabled(gates: &GatesConfig, gate: Gate) -> bool {
    match gate {
        Gate::AfterLld => gates.after_lld,
        Gate::AfterSpec => gates.after_spec,
        Gate::BeforePr => gates.before_pr,
    }
}

/// The first enabled gate whose stage is done and that nobody has passed since.
pub fn waiting_gate(state: &IssueState, gates: &GatesConfig) -> Option<Gate> {
    Gate::ALL.into_iter().find(|gate| {
        enabled(gates, *gate)
            && state.stage(gate.stage()).state.is_done()
            && !state.gate_passed(*gate)
    })
}

/// The last enabled gate a person has passed, whose stage is done.
fn last_passed_gate(state: &IssueState, gates: &GatesConfig) -> Option<Gate> {
    Gate::ALL.into_iter().rev().find(|gate| {
        enabled(gates, *gate)
            && state.stage(gate.stage()).state.is_done()
            && state.gate_passed(*gate)
    })
}

/// The commands that go on from a gate.
pub fn commands(issue: u64, gate: Gate, gates: &GatesConfig) -> Vec<String> {
    let flag = if enabled(gates, gate) {
        String::new()
    } else {
        format!(" --gate {gate}")
    };
    vec![
        format!("git orchestrate approve {issue}{flag}"),
        format!("git orchestrate reject {issue}{flag} -m \"what to change\""),
    ]
}

/// A decision recorded from the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject(String),
}

/// What recording a decision did.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub gate: Gate,
    pub branch: String,
    /// `None` when the gate had been approved already and nothing was committed.
    pub commit: Option<ObjectId>,
}

/// Record `decision` at `gate` (else the gate the issue waits at) as a commit.
pub fn record(
    session: &Session,
    issue: u64,
    gate: Option<Gate>,
    decision: Decision,
) -> Result<Recorded, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let Some(mut branch) = IssueBranch::existing(&session.repo, prefix, issue)? else {
        return Err(PipelineError::NoBranch {
            issue,
            prefix: prefix.clone(),
        });
    };
    if let Some(path) = session.repo.checked_out_at(&branch.name)? {
        return Err(PipelineError::BranchCheckedOut {
            branch: branch.name,
            path,
        });
    }
    let (_lock, _stale) = IssueLock::acquire(&session.state.locks(), issue)?;
    // Read the tip again under the lock: a run may have committed since.
    let Some(current) = IssueBranch::existing(&session.repo, prefix, issue)? else {
        return Err(PipelineError::NoBranch {
            issue,
            prefix: prefix.clone(),
        });
    };
    branch = current;
    let tip = branch.head();
    let cache = session.state.history_cache();
    let state = IssueState::load(&session.repo, tip, &session.config, issue, Some(&cache))?;
    let gate = match gate {
        Some(gate) => {
            let record = state.stage(gate.stage());
            if !record.state.is_done() {
                return Err(PipelineError::NotAtGate {
                    issue,
                    detail: format!(
                        "the {} stage is {}, so there is nothing to decide at {gate}",
                        gate.stage(),
                        match &record.state {
                            StageState::Rejected { .. } =>
                                "waiting to be revised after a rejection",
                            other => other.label(),
                        }
                    ),
                });
            }
            gate
        }
        None => match waiting_gate(&state, &session.config.gates) {
            Some(gate) => gate,
            // Approving again what is approved already is not an error: say so, change nothing.
            None if decision == Decision::Approve
                && let Some(gate) = last_passed_gate(&state, &session.config.gates) =>
            {
                gate
            }
            None => {
                return Err(PipelineError::NotAtGate {
                    issue,
                    detail: "no enabled gate has a finished stage waiting for a decision".into(),
                });
            }
        },
    };
    if decision == Decision::Approve && state.gate_passed(gate) {
        return Ok(Recorded {
            gate,
            branch: branch.name,
            commit: None,
        });
    }
    let message = match &decision {
        Decision::Approve => Message::gate(gate, issue, true),
        Decision::Reject(feedback) => {
            let mut m = Message::gate(gate, issue, false);
            m.paragraph(feedback.clone());
            m
        }
    };
    let commit = branch.commit(
        &session.repo,
        &session.state,
        issue,
        "gate",
        &[],
        &message.render(),
    )?;
    Ok(Recorded {
        gate,
        branch: branch.name,
        commit: Some(commit),
    })
}

/// How holding at a gate ended.
pub(super) enum GateOutcome {
    Passed,
    Waiting,
    Blocked(String),
}

impl Run<'_> {
    /// Ask at a gate until it is passed, or stop there.
    pub(super) async fn hold_at_gate(
        &mut self,
        gate: Gate,
        stage: Stage,
    ) -> Result<GateOutcome, PipelineError> {
        let path = self.artifact(stage);
        loop {
            let gatekeeper = self.io.gatekeeper;
            if !gatekeeper.can_ask() {
                self.io.events.emit(Event::GateWaiting {
                    gate,
                    issue: self.issue.number,
                    artifact: path.clone(),
                    commands: commands(self.issue.number, gate, &self.session.config.gates),
                });
                return Ok(GateOutcome::Waiting);
            }
            let prompt = GatePrompt {
                gate,
                issue: self.issue.number,
                title: self.issue.title.clone(),
                artifact_path: path.clone(),
                artifact: self.read_artifact(&path)?.unwrap_or_default(),
                editor: self.session.repo.editor().ok(),
            };
            let choice = tokio::select! {
                choice = gatekeeper.ask(&prompt) => choice,
                _ = self.io.interrupt.triggered() => return Err(PipelineError::Interrupted),
            };
            match choice {
                GateChoice::Approve => {
                    let commit =
                        self.commit("gate", &[], &Message::gate(gate, self.issue.number, true))?;
                    self.io.events.emit(Event::GateDecided {
                        gate,
                        decision: "approved".into(),
                        commit: commit.short(),
                    });
                    return Ok(GateOutcome::Passed);
                }
                GateChoice::Reject(feedback) => {
                    let mut message = Message::gate(gate, self.issue.number, false);
                    message.paragraph(feedback.clone());
                    let commit = self.commit("gate", &[], &message)?;
                    self.io.events.emit(Event::GateDecided {
                        gate,
                        decision: "rejected".into(),
                        commit: commit.short(),
                    });
                    if let StageResult::Blocked { reason, .. } = self
                        .run_stage(
                            stage,
                            Start::FromFeedback(feedback),
                            &format!("rejected at {gate}: revising with the feedback"),
                        )
                        .await?
                    {
                        return Ok(GateOutcome::Blocked(reason));
                    }
                }
                GateChoice::Edited(text) => {
                    let mut message = Message::new(format!(
                        "orchestrate({stage}): edit {} for #{} at {gate}",
                        stage.artifact_noun(),
                        self.issue.number
                    ));
                    message
                        .paragraph(format!("Edited by hand at the {gate} gate."))
                        .trailer(super::history::TRAILER_ISSUE, self.issue.number.to_string());
                    let files = [FileChange {
                        path: path.clone(),
                        content: text.into_bytes(),
                    }];
                    let commit = self.commit(stage.name(), &files, &message)?;
                    self.io.events.emit(Event::Committed {
                        stage,
                        commit: commit.short(),
                        verdict: "edited".into(),
                        paths: vec![path.clone()],
                    });
                }
                GateChoice::Quit => {
                    self.io.events.emit(Event::GateWaiting {
                        gate,
                        issue: self.issue.number,
                        artifact: path.clone(),
                        commands: commands(self.issue.number, gate, &self.session.config.gates),
                    });
                    return Ok(GateOutcome::Waiting);
                }
            }
        }
    }
}
