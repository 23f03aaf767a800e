//! The pipeline's vocabulary: its stages in order, the gates between them, and the roles
//! models play. Every layer names these (configuration keys, trailers, events, prompts), so
//! they live below all of them and depend on nothing.

use std::fmt;

use serde::Serialize;

/// A pipeline stage, in pipeline order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
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

    /// Whether the stage is a draft → review → revise loop.
    pub fn is_reviewed(self) -> bool {
        matches!(self, Stage::Lld | Stage::Spec)
    }

    /// The roles the stage calls models for, and whether each is required to run it.
    pub fn roles(self) -> &'static [(Role, bool)] {
        match self {
            Stage::Triage => &[(Role::Triage, false)],
            Stage::Lld | Stage::Spec => &[(Role::Drafter, true), (Role::Reviewer, true)],
            Stage::Impl => &[(Role::Implementer, true)],
            Stage::Pr => &[],
        }
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
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
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

/// Why a model is being called; programs see it as `ORCHESTRATE_ROLE`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Triage,
    Drafter,
    Reviewer,
    Implementer,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Triage => "triage",
            Role::Drafter => "drafter",
            Role::Reviewer => "reviewer",
            Role::Implementer => "implementer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
