//! The stages, one module each, behind one interface: an entry point that takes the stage's
//! [`StageContext`] and how to begin ([`Start`]), does the stage's work, commits it, and
//! returns how the stage ended ([`StageOutcome`]). [`run`] is the one dispatch.
//!
//! - [`triage`]: the issue brief (written by a model, or the issue text normalised);
//! - [`review`]: the draft → review → revise loop of the design stages, `lld` and `spec`;
//! - [`implement`]: the `impl` stage — code in the worktree, an implement → test →
//!   fix loop, the change and a report committed.
//!
//! - [`pr`]: push the branch, open or update its pull request, record it.
//!
//! [`sections`] is the mechanical check of a document's required sections, which a brief a
//! triage model wrote and every lld and spec draft pass before anything else sees them.

pub mod implement;
pub mod pr;
pub mod review;
pub mod sections;
pub mod triage;

use super::PipelineError;
use super::branch::Verdict;
use super::context::StageContext;
use super::plan::Start;
use crate::git::ObjectId;
use crate::stage::Stage;

/// How a stage ended.
#[derive(Clone, Debug)]
pub enum StageOutcome {
    /// Its artifact is committed and the pipeline goes on.
    Passed {
        commit: ObjectId,
        verdict: Verdict,
        /// Review rounds (0 for stages without review).
        rounds: u32,
    },
    /// The pipeline stops; what was produced is committed (`commit`) when there was any.
    Blocked {
        commit: Option<ObjectId>,
        reason: String,
        rounds: u32,
    },
}

/// Run `stage`.
pub async fn run(cx: &mut StageContext<'_>, start: Start) -> Result<StageOutcome, PipelineError> {
    match cx.stage() {
        Stage::Triage => triage::run(cx, start).await,
        Stage::Lld | Stage::Spec => review::run(cx, start).await,
        Stage::Impl => implement::run(cx, start).await,
        Stage::Pr => pr::run(cx).await,
    }
}
