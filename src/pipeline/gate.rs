//! Human gates. A gate after a stage holds the pipeline until a person approves the stage's
//! artifact, rejects it with feedback, or edits it. Decisions are commits (`Orchestrate-Gate`),
//! and so is a run stopping to wait (`Orchestrate-Waiting`), so the branch says what is
//! pending on any clone, whatever turned the gate on. On a terminal the run asks; otherwise it
//! stops and the person decides later with `approve` or `reject`.
//!
//! Holding at a gate returns the person's decision ([`Held`]); running the stage again after
//! a rejection is the run loop's business, never the gate's.

use std::collections::BTreeMap;

use super::branch::{IssueBranch, IssueState, Message, Redaction, StageState};
use super::context::RunState;
use super::events::{Event, GateDecision};
use super::io::{GateChoice, GatePrompt, RunIo};
use super::{PipelineError, Session};
use crate::config::GatesConfig;
use crate::git::{FileChange, ObjectId};
use crate::stage::Gate;

/// The gates that are on: configuration; then every gate the branch has an event at since
/// its stage last changed (a run waited there, or a person decided there: the person expects
/// to be asked again about a revision); then the run's own flags.
pub fn effective(
    configured: GatesConfig,
    state: &IssueState,
    overrides: &BTreeMap<Gate, bool>,
) -> GatesConfig {
    let mut gates = configured;
    for gate in state.gates.keys() {
        gates.set(*gate, true);
    }
    for (gate, on) in overrides {
        gates.set(*gate, *on);
    }
    gates
}

/// The first gate that is on, whose stage is done, that nobody has passed since, and that
/// still holds something back ([`moot`]).
pub fn waiting_gate(state: &IssueState, gates: &GatesConfig) -> Option<Gate> {
    Gate::ALL.into_iter().find(|gate| {
        gates.get(*gate)
            && state.stage(gate.stage()).state.is_done()
            && !state.gate_passed(*gate)
            && !moot(state, *gate)
    })
}

/// A gate before the pull request, once the branch records the pull request (opened by a run
/// with the gate off): there is nothing left for it to hold.
fn moot(state: &IssueState, gate: Gate) -> bool {
    gate == Gate::BeforePr && state.stage(crate::stage::Stage::Pr).state.is_done()
}

/// The last gate that is on, whose stage is done, and that a person has passed.
fn last_passed_gate(state: &IssueState, gates: &GatesConfig) -> Option<Gate> {
    Gate::ALL.into_iter().rev().find(|gate| {
        gates.get(*gate) && state.stage(gate.stage()).state.is_done() && state.gate_passed(*gate)
    })
}

/// A decision given on the command line.
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
    /// Secrets removed from what was committed (the feedback, say).
    pub redacted: Vec<Redaction>,
}

/// Record `decision` at `gate` (else the gate the issue waits at) as a commit on `branch`,
/// whose `state` was read under the issue's lock.
pub fn record(
    session: &Session,
    branch: &mut IssueBranch,
    state: &IssueState,
    issue: u64,
    gate: Option<Gate>,
    decision: Decision,
) -> Result<Recorded, PipelineError> {
    let gates = effective(session.config.gates, state, &BTreeMap::new());
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
        None => match waiting_gate(state, &gates) {
            Some(gate) => gate,
            // Approving again what is approved already is not an error: say so, change nothing.
            None if decision == Decision::Approve
                && let Some(gate) = last_passed_gate(state, &gates) =>
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
            branch: branch.name.clone(),
            commit: None,
            redacted: Vec::new(),
        });
    }
    let message = decision_message(gate, issue, &decision);
    let committed = branch.commit(session, issue, "gate", &[], &message.render())?;
    Ok(Recorded {
        gate,
        branch: branch.name.clone(),
        commit: Some(committed.id),
        redacted: committed.redacted,
    })
}

fn decision_message(gate: Gate, issue: u64, decision: &Decision) -> Message {
    match decision {
        Decision::Approve => Message::gate(gate, issue, true),
        Decision::Reject(feedback) => {
            let mut message = Message::gate(gate, issue, false);
            message.paragraph(feedback.clone());
            message
        }
    }
}

/// How holding at a gate ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// A person approved (or edited, then approved): go on.
    Passed,
    /// A person rejected with this feedback: the stage is to be revised with it.
    Rejected(String),
    /// Nobody could answer, or the person stopped: the run stops here.
    Waiting,
}

/// Ask at `gate` until a person decides, or stop there. Decisions, edits and the stop are
/// committed; `waiting_recorded` says the branch already records that the issue waits here.
pub async fn hold(
    run: &mut RunState,
    io: &RunIo<'_>,
    gate: Gate,
    waiting_recorded: bool,
) -> Result<Held, PipelineError> {
    let stage = gate.stage();
    let path = run.artifact(stage);
    let issue = run.issue.number;
    loop {
        let gatekeeper = io.gatekeeper;
        if !gatekeeper.can_ask() {
            return wait(run, io, gate, waiting_recorded);
        }
        let prompt = GatePrompt {
            gate,
            issue,
            title: run.issue.title.clone(),
            artifact_path: path.clone(),
            artifact: run.read_artifact(&path)?.unwrap_or_default(),
            editor: run.session.repo.editor().ok(),
        };
        let choice = tokio::select! {
            choice = gatekeeper.ask(&prompt) => choice,
            _ = io.interrupt.triggered() => return Err(PipelineError::Interrupted),
        };
        match choice {
            GateChoice::Approve => {
                let commit =
                    run.commit("gate", &[], &Message::gate(gate, issue, true), io.events)?;
                io.events.emit(Event::GateDecided {
                    gate,
                    decision: GateDecision::Approved,
                    commit: commit.short(),
                });
                return Ok(Held::Passed);
            }
            GateChoice::Reject(feedback) => {
                let message = decision_message(gate, issue, &Decision::Reject(feedback.clone()));
                let commit = run.commit("gate", &[], &message, io.events)?;
                io.events.emit(Event::GateDecided {
                    gate,
                    decision: GateDecision::Rejected,
                    commit: commit.short(),
                });
                return Ok(Held::Rejected(feedback));
            }
            GateChoice::Edited(text) => {
                let files = [FileChange::file(path.clone(), text)];
                let message = Message::edit(stage, gate, issue);
                let commit = run.commit(stage.name(), &files, &message, io.events)?;
                io.events.emit(Event::Edited {
                    stage,
                    gate,
                    commit: commit.short(),
                    path: path.clone(),
                });
            }
            GateChoice::Quit => return wait(run, io, gate, waiting_recorded),
        }
    }
}

/// Stop at `gate`: record on the branch that the issue waits there (once), and say so.
fn wait(
    run: &mut RunState,
    io: &RunIo<'_>,
    gate: Gate,
    waiting_recorded: bool,
) -> Result<Held, PipelineError> {
    let issue = run.issue.number;
    let commit = if waiting_recorded {
        None
    } else {
        Some(run.commit("gate", &[], &Message::waiting(gate, issue), io.events)?)
    };
    io.events.emit(Event::GateWaiting {
        gate,
        issue,
        artifact: run.artifact(gate.stage()),
        commit: commit.map(|c| c.short()),
    });
    Ok(Held::Waiting)
}
