//! The pipeline's vocabulary: its stages, in order, and the gates between them.

use std::fmt;

use serde::Serialize;

/// A pipeline stage, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Triage,
    Lld,
    Spec,
    Impl,
    Pr,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Triage,
        Stage::Lld,
        Stage::Spec,
        Stage::Impl,
        Stage::Pr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Triage => "triage",
            Stage::Lld => "lld",
            Stage::Spec => "spec",
            Stage::Impl => "impl",
            Stage::Pr => "pr",
        }
    }

    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// What the stage's artifact is called in messages.
    pub fn artifact_noun(self) -> &'static str {
        match self {
            Stage::Triage => "brief",
            Stage::Lld => "design",
            Stage::Spec => "implementation spec",
            Stage::Impl => "implementation",
            Stage::Pr => "pull request",
        }
    }

    /// Whether this version can run the stage. `impl` and `pr` are part of the contract (their
    /// config keys, trailers and gates are accepted) but are not built yet.
    pub fn is_available(self) -> bool {
        matches!(self, Stage::Triage | Stage::Lld | Stage::Spec)
    }

    /// Whether the stage is a draft → review → revise loop.
    pub fn is_reviewed(self) -> bool {
        matches!(self, Stage::Lld | Stage::Spec)
    }

    /// The gate a run passes after this stage, before the next one.
    pub fn gate_after(self) -> Option<Gate> {
        match self {
            Stage::Lld => Some(Gate::AfterLld),
            Stage::Spec => Some(Gate::AfterSpec),
            Stage::Impl => Some(Gate::BeforePr),
            Stage::Triage | Stage::Pr => None,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A point where a person may be asked before the pipeline goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    AfterLld,
    AfterSpec,
    BeforePr,
}

impl Gate {
    pub const ALL: [Gate; 3] = [Gate::AfterLld, Gate::AfterSpec, Gate::BeforePr];

    pub fn name(self) -> &'static str {
        match self {
            Gate::AfterLld => "after_lld",
            Gate::AfterSpec => "after_spec",
            Gate::BeforePr => "before_pr",
        }
    }

    pub fn parse(name: &str) -> Option<Gate> {
        Gate::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The stage whose artifact the gate looks at.
    pub fn stage(self) -> Stage {
        match self {
            Gate::AfterLld => Stage::Lld,
            Gate::AfterSpec => Stage::Spec,
            Gate::BeforePr => Stage::Impl,
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
