//! `clean`: remove what runs left on this machine for an issue — its worktree, transcripts, a
//! stale lock — and, when asked, its branch. Work a run could not commit (`recovered/`) is kept
//! unless forced, and so is a branch whose commits no remote has, because those are the only
//! copies. The issue's lock is taken first, so a clean and a run of the same issue exclude
//! each other.

use std::path::{Path, PathBuf};

use crate::git::ObjectId;
use crate::pipeline::branch::IssueBranch;
use crate::pipeline::local::lock::IssueLock;
use crate::pipeline::{PipelineError, Session};

/// What to clean.
#[derive(Clone, Debug, Default)]
pub struct CleanOptions {
    /// These issues; with `all`, ignored.
    pub issues: Vec<u64>,
    /// Every issue with a worktree or local state (and, with `branch`, an issue branch).
    pub all: bool,
    /// Delete the issue branch too.
    pub branch: bool,
    /// Also delete saved work, and branches no remote-tracking branch contains.
    pub force: bool,
}

/// One issue's clean: what went and what stayed, or why nothing was done.
#[derive(Debug)]
pub struct IssueReport {
    pub issue: u64,
    pub outcome: Result<Cleaned, PipelineError>,
}

/// What was removed for an issue, and what was kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub removed: Vec<Removed>,
    pub kept: Vec<Kept>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removed {
    Worktree(PathBuf),
    Transcripts(PathBuf),
    /// Saved work (only with `force`).
    Recovered(PathBuf),
    /// A lock file left by a run that was killed, with the pid it names.
    StaleLock {
        pid: Option<u32>,
    },
    Branch {
        name: String,
        tip: ObjectId,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// The branch, not asked to delete.
    Branch(String),
    /// Saved work, not forced.
    Recovered(PathBuf),
}

/// Clean each issue `options` names; one report per issue, in order. A failure for one issue
/// does not stop the others.
pub fn clean(session: &Session, options: &CleanOptions) -> Result<Vec<IssueReport>, PipelineError> {
    let issues = if options.all {
        every_issue(session, options.branch)?
    } else {
        let mut issues = options.issues.clone();
        issues.dedup();
        issues
    };
    Ok(issues
        .into_iter()
        .map(|issue| IssueReport {
            issue,
            outcome: clean_issue(session, issue, options),
        })
        .collect())
}

/// Issues with a worktree or local state, and with `branches`, an issue branch.
fn every_issue(session: &Session, branches: bool) -> Result<Vec<u64>, PipelineError> {
    let repo = &session.repo;
    let mut issues: Vec<u64> = repo
        .issue_worktrees()?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    issues.extend(session.state.issues());
    if branches {
        let prefix = &session.config.orchestrator.branch_prefix;
        for (name, _) in repo.branches_with_prefix(prefix)? {
            issues.extend(super::status::issue_of(&name, prefix));
        }
    }
    issues.sort_unstable();
    issues.dedup();
    Ok(issues)
}

fn clean_issue(
    session: &Session,
    issue: u64,
    options: &CleanOptions,
) -> Result<Cleaned, PipelineError> {
    let repo = &session.repo;
    let (lock, stale) = IssueLock::acquire(&session.state.locks(), issue)?;
    let prefix = &session.config.orchestrator.branch_prefix;
    // Without --branch the branch is only mentioned, so several of them are no reason to stop.
    let branch = match IssueBranch::existing(repo, prefix, issue) {
        Ok(branch) => branch,
        Err(error) if options.branch => return Err(error),
        Err(_) => None,
    };
    let worktree = repo.issue_worktree_path(issue);
    // Refused before anything is removed, so a refusal changes nothing.
    if let (true, Some(branch)) = (options.branch, &branch) {
        if let Some(path) = repo.checked_out_at(&branch.name)?
            && !same_place(&path, &worktree)
        {
            return Err(crate::git::GitError::CheckedOut {
                branch: branch.name.clone(),
                path,
            }
            .into());
        }
        if !options.force && !repo.on_remote(branch.head())? {
            return Err(PipelineError::UnpushedBranch {
                issue,
                branch: branch.name.clone(),
                tip: branch.head(),
            });
        }
    }

    let mut cleaned = Cleaned::default();
    if repo.remove_issue_worktree(issue)? {
        cleaned.removed.push(Removed::Worktree(worktree));
    }
    let transcripts = session.state.issue_transcripts(issue);
    if remove(&transcripts)? {
        cleaned.removed.push(Removed::Transcripts(transcripts));
    }
    if let Some(branch) = branch {
        if options.branch {
            let tip = branch.head();
            repo.delete_branch(&branch.name, tip)?;
            cleaned.removed.push(Removed::Branch {
                name: branch.name,
                tip,
            });
        } else {
            cleaned.kept.push(Kept::Branch(branch.name));
        }
    }
    let recovered = session.state.issue_recovered(issue);
    if options.force {
        if remove(&recovered)? {
            cleaned.removed.push(Removed::Recovered(recovered));
        }
    } else if recovered.exists() {
        cleaned.kept.push(Kept::Recovered(recovered));
    }
    if let Some(stale) = stale {
        cleaned.removed.push(Removed::StaleLock { pid: stale.pid });
    }
    // Releasing the lock removes its file.
    drop(lock);
    Ok(cleaned)
}

/// Remove `path` and everything under it; whether it was there.
fn remove(path: &Path) -> Result<bool, PipelineError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(PipelineError::RemoveState {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn same_place(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.components().eq(b.components()),
    }
}
