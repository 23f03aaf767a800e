//! `approve` and `reject`: a person's decision at the gate an issue waits at, recorded as a
//! commit on its branch.

use super::claim;
use crate::pipeline::branch::IssueBranch;
use crate::pipeline::gate::{self, Decision, Recorded};
use crate::pipeline::{PipelineError, Session};
use crate::stage::Gate;

/// Pass `gate` (default: the gate the issue waits at).
pub fn approve(
    session: &Session,
    issue: u64,
    gate: Option<Gate>,
) -> Result<Recorded, PipelineError> {
    decide(session, issue, gate, Decision::Approve)
}

/// Reject at `gate` (default: the gate the issue waits at); `feedback` goes to the drafter
/// when the next run revises the stage.
pub fn reject(
    session: &Session,
    issue: u64,
    gate: Option<Gate>,
    feedback: &str,
) -> Result<Recorded, PipelineError> {
    decide(
        session,
        issue,
        gate,
        Decision::Reject(feedback.trim().to_string()),
    )
}

fn decide(
    session: &Session,
    issue: u64,
    gate: Option<Gate>,
    decision: Decision,
) -> Result<Recorded, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let Some(existing) = IssueBranch::existing(&session.repo, prefix, issue)? else {
        return Err(PipelineError::NoBranch {
            issue,
            prefix: prefix.clone(),
        });
    };
    let mut claimed = claim(session, issue, existing, true)?;
    gate::record(
        session,
        &mut claimed.branch,
        &claimed.state,
        issue,
        gate,
        decision,
    )
}
