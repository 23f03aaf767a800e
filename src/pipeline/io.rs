//! Who a run talks to: the event sink its progress goes to, the gatekeeper that answers at
//! gates (a person on a terminal, or nobody), and the Ctrl-C it races every wait against.

use super::events::EventSink;
use super::interrupt::Interrupt;
use crate::llm::BoxFuture;
use crate::stage::Gate;

/// Who the run talks to.
pub struct RunIo<'a> {
    pub events: &'a dyn EventSink,
    pub gatekeeper: &'a dyn Gatekeeper,
    pub interrupt: &'a Interrupt,
}

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
pub trait Gatekeeper: Sync {
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
