//! Work that no commit has — what a run that was stopped left in an issue's worktree, or what
//! a person wrote there — saved under the local state's `recovered/<issue>/` before the
//! worktree is reset or removed, with every secret the session knows removed first, as from
//! everything the tool writes. Nothing paid for or written by a person is deleted unsaved.

use std::path::PathBuf;

use super::branch::{Redaction, redacted_files};
use super::{PipelineError, Session};
use crate::git::{FileChange, ObjectId};

/// Where work was saved, and what was removed from the copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    /// The folder: a file per changed path as the work had it, `DELETED` listing the paths it
    /// deleted, `COMMIT_MESSAGE` saying where the work came from.
    pub path: PathBuf,
    /// How many paths the work changed.
    pub files: usize,
    /// Secrets removed from the copy, by file.
    pub redacted: Vec<Redaction>,
}

/// Save `changes` of `issue` in a new folder `recovered/<issue>/<label>-<run>/`, secrets
/// removed, with `message` saying what they are.
pub fn save(
    session: &Session,
    issue: u64,
    label: &str,
    changes: &[FileChange],
    message: &str,
) -> Result<Saved, PipelineError> {
    let (files, redacted) = redacted_files(&session.redactor, changes);
    let path = session
        .state
        .save_recovery(issue, label, &files, message)
        .map_err(|source| PipelineError::SaveRecovered {
            path: session.state.issue_recovered(issue),
            source,
        })?;
    Ok(Saved {
        path,
        files: changes.len(),
        redacted,
    })
}

/// Save what `issue`'s worktree holds that no commit has (changed, added and deleted files,
/// commits made inside it), compared with `at` — the branch's tip; without a branch, the
/// commit the worktree was last prepared at. `None` when it holds nothing, or there is no
/// worktree. The worktree is left as it is.
pub fn save_worktree(
    session: &Session,
    issue: u64,
    at: Option<ObjectId>,
    label: &str,
    message: &str,
) -> Result<Option<Saved>, PipelineError> {
    let changes = session.repo.issue_worktree_work(issue, at)?;
    if changes.is_empty() {
        return Ok(None);
    }
    save(session, issue, label, &changes, message).map(Some)
}
