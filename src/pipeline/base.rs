//! The base branch moving on: before impl, the issue branch catches up with it.
//!
//! The issue branch forks from its base when triage commits the brief, and the base goes on.
//! While the branch holds only the tool's documents — every path it changed since its fork
//! point is one of the issue's artifacts or review logs — it has nothing of its own to keep
//! on the old base: impl starts from the base's current tip, the documents carried onto it by
//! a merge commit (parents: the branch tip, the base tip; documents never conflict with code).
//! So a red baseline fixed on the base is picked up by the next run. Once the branch holds
//! code, the base is merged in only when asked (`--update-base`), and a conflict changes
//! nothing. Both merges are made in memory and land by compare-and-swap; nothing is merged
//! when the base has nothing the branch lacks, so a re-run makes no empty merge.
//!
//! The base is `--base`, else the branch checked out when the run started. With a detached
//! `HEAD` and no `--base` there is none: nothing is carried (the run says nothing: no base
//! was named), and `--update-base` is refused.

use super::branch::IssueBranch;
use super::branch::message::TRAILER_ISSUE;
use super::events::{BaseUpdate, Event, EventSink};
use super::{PipelineError, Session};
use crate::git::{MergeRequest, Merged, ObjectId};
use crate::stage::Stage;

/// On the tool's merge commits: the base that was merged in, as the run named it.
pub const TRAILER_BASE: &str = "Orchestrate-Base";

/// What [`catch_up`] works on.
pub struct CatchUp<'a> {
    pub session: &'a Session,
    pub branch: &'a mut IssueBranch,
    pub issue: u64,
    /// The base's name (`--base`, else the branch checked out when the run started).
    pub base: Option<&'a str>,
    /// `--update-base`: merge the base in even when the branch holds code.
    pub update: bool,
    /// The code without the change, when impl goes on from code an earlier run left (a
    /// blocked attempt's, or one a person rejected at the gate).
    pub continuing: Option<ObjectId>,
}

/// Bring the base onto the issue branch, as the module says. Returns the code without the
/// change once the branch moved: the new tip, or — when impl goes on from earlier code — that
/// code's starting point with the base merged in too, so that the change stays the change.
pub fn catch_up(
    req: CatchUp<'_>,
    events: &dyn EventSink,
) -> Result<Option<ObjectId>, PipelineError> {
    let repo = &req.session.repo;
    let Some(name) = req.base else {
        return match req.update {
            true => Err(PipelineError::NoBaseToMerge {
                branch: req.branch.name.clone(),
            }),
            false => Ok(None),
        };
    };
    let Some(base_tip) = repo.resolve_commit(name)? else {
        return Err(PipelineError::BaseNotFound { base: name.into() });
    };
    // A branch not made yet starts from the base's tip anyway.
    let Some(tip) = req.branch.tip else {
        return Ok(None);
    };
    let Some(divergence) = repo.divergence(tip, base_tip)? else {
        return Ok(None);
    };
    if divergence.ahead == 0 {
        return Ok(None);
    }
    let documents = documents(req.session, req.issue);
    let code = repo
        .changed_paths(divergence.merge_base, tip)?
        .iter()
        .any(|path| !documents.contains(path));
    let moved = |how: BaseUpdate, commit: Option<ObjectId>| Event::BaseMoved {
        base: name.to_string(),
        at: base_tip.short(),
        newer: divergence.ahead as u64,
        how,
        commit: commit.map(|c| c.short()),
    };
    if code && !req.update {
        events.emit(moved(BaseUpdate::Kept, None));
        return Ok(None);
    }
    let newer = match divergence.ahead {
        1 => "1 commit newer".to_string(),
        n => format!("{n} commits newer"),
    };
    let merge = |ours: ObjectId, theirs: ObjectId, subject: &str, body: &str| {
        let message = format!(
            "{subject}\n\n{body}\n\n{TRAILER_ISSUE}: {}\n{TRAILER_BASE}: {name}\n",
            req.issue
        );
        let message = req.session.redactor.redact(&message).text.into_owned();
        let request = MergeRequest {
            ours,
            theirs,
            keep: &documents,
            message: &message,
        };
        match repo.merge_commit(&request)? {
            Merged::Commit(id) => Ok((id, message)),
            Merged::Conflicts(files) => Err(PipelineError::BaseConflict {
                issue: req.issue,
                base: name.to_string(),
                branch: req.branch.name.clone(),
                files,
            }),
        }
    };
    // The earlier run's starting point gets the base first; the branch then merges that, so
    // both stay reachable from the branch.
    let baseline = match req.continuing {
        Some(earlier) if code && earlier != tip => {
            let (id, _) = merge(
                earlier,
                base_tip,
                &format!(
                    "Merge {name} into the code #{}'s implementation began from",
                    req.issue
                ),
                &format!(
                    "The code without the change ({}) with {name} at {} ({newer}) merged in: the impl report measures the change against it.",
                    earlier.short(),
                    base_tip.short()
                ),
            )?;
            Some(id)
        }
        _ => None,
    };
    let subject = format!("Merge {name} into {}", req.branch.name);
    let body = match code {
        false => format!(
            "The branch held only the documents of #{}: impl starts from {name} at {} ({newer} than where the branch began), with them carried onto it.",
            req.issue,
            base_tip.short()
        ),
        true => format!(
            "--update-base: {name} at {} ({newer} than where the branch began) merged in before impl.",
            base_tip.short()
        ),
    };
    let (merged, message) = merge(tip, baseline.unwrap_or(base_tip), &subject, &body)?;
    repo.advance_branch(&req.branch.name, tip, merged, &message)?;
    req.branch.tip = Some(merged);
    let how = match code {
        false => BaseUpdate::Carried,
        true => BaseUpdate::Merged,
    };
    events.emit(moved(how, Some(merged)));
    Ok(Some(baseline.unwrap_or(merged)))
}

/// The files the tool writes for `issue`: each stage's artifact and each reviewed stage's
/// review log.
fn documents(session: &Session, issue: u64) -> Vec<String> {
    let paths = &session.config.paths;
    let artifacts = Stage::ALL
        .into_iter()
        .filter_map(|stage| paths.artifact(stage, issue));
    let reviews = Stage::ALL
        .into_iter()
        .filter(|stage| stage.is_reviewed())
        .map(|stage| paths.reviews(stage, issue));
    artifacts.chain(reviews).collect()
}
