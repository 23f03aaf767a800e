//! `clean`: remove what runs left on this machine for an issue — its worktree, transcripts, a
//! stale lock — and, when asked, its branch. Nothing is deleted that exists nowhere else
//! unless forced: the changes in the worktree that no commit has are saved under
//! `recovered/<issue>/` before it goes (a clean that cannot save them removes nothing without
//! `--force`); work a run could not commit (`recovered/`) is kept unless forced, and so is a
//! branch whose commits no remote has. A branch holding commits git orchestrate did not make
//! (no `Orchestrate-*` trailer) is a person's: `--all` never deletes it, and naming its issue
//! needs `--force`. The issue's lock is taken first, so a clean and a run of the same issue
//! exclude each other.

use std::path::{Path, PathBuf};

use crate::error_chain::chain;
use crate::git::{ObjectId, Repo};
use crate::pipeline::branch::message::is_orchestrate_trailer;
use crate::pipeline::branch::{IssueBranch, Redaction};
use crate::pipeline::local::lock::IssueLock;
use crate::pipeline::{PipelineError, Session, recovery};

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
    /// The worktree, and what became of the changes in it that no commit had.
    Worktree {
        path: PathBuf,
        work: WorktreeWork,
    },
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

/// The changes in a removed worktree that no commit had.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum WorktreeWork {
    /// There were none.
    #[default]
    None,
    /// Saved in `path`: `files` paths, secrets removed from the copy as `redacted` says.
    Saved {
        path: PathBuf,
        files: usize,
        redacted: Vec<Redaction>,
    },
    /// Not saved, and removed anyway (`--force`): why they could not be saved.
    Lost { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// The branch, not asked to delete.
    Branch(String),
    /// The branch, asked to delete with `--all`, but holding commits git orchestrate did not
    /// make (no `Orchestrate-*` trailer): id and subject of each.
    OthersBranch {
        name: String,
        commits: Vec<(ObjectId, String)>,
    },
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
    let mut cleaned = Cleaned::default();
    // Refused before anything is removed, so a refusal changes nothing.
    let mut delete_branch = false;
    if let (true, Some(branch)) = (options.branch, &branch) {
        let others = others_commits(repo, branch.head(), prefix)?;
        if others.is_empty() || (!options.all && options.force) {
            delete_branch = true;
        } else if options.all {
            cleaned.kept.push(Kept::OthersBranch {
                name: branch.name.clone(),
                commits: others,
            });
        } else {
            return Err(PipelineError::OthersCommits {
                issue,
                branch: branch.name.clone(),
                commits: others,
            });
        }
    }
    if let (true, Some(branch)) = (delete_branch, &branch) {
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

    // Saved work goes first when forced, so that what is saved from the worktree now stays.
    let recovered = session.state.issue_recovered(issue);
    if options.force && remove(&recovered)? {
        cleaned.removed.push(Removed::Recovered(recovered.clone()));
    }
    let work = save_worktree_work(session, issue, branch.as_ref(), options)?;
    if repo.remove_issue_worktree(issue)? {
        cleaned.removed.push(Removed::Worktree {
            path: worktree,
            work,
        });
    }
    let transcripts = session.state.issue_transcripts(issue);
    if remove(&transcripts)? {
        cleaned.removed.push(Removed::Transcripts(transcripts));
    }
    if let Some(branch) = branch {
        if delete_branch {
            let tip = branch.head();
            repo.delete_branch(&branch.name, tip)?;
            cleaned.removed.push(Removed::Branch {
                name: branch.name,
                tip,
            });
        } else if !options.branch {
            cleaned.kept.push(Kept::Branch(branch.name));
        }
    }
    if !options.force && recovered.exists() {
        cleaned.kept.push(Kept::Recovered(recovered));
    }
    if let Some(stale) = stale {
        cleaned.removed.push(Removed::StaleLock { pid: stale.pid });
    }
    // Releasing the lock removes its file.
    drop(lock);
    Ok(cleaned)
}

/// Save the changes in `issue`'s worktree that no commit has (compared with the branch's
/// tip), before it is removed. When they cannot be saved: an error, or with `--force`, why.
fn save_worktree_work(
    session: &Session,
    issue: u64,
    branch: Option<&IssueBranch>,
    options: &CleanOptions,
) -> Result<WorktreeWork, PipelineError> {
    let message = format!(
        "Changes found in the worktree of #{issue} that no commit has (left by a run that was stopped, or made by hand), saved when `git orchestrate clean` removed it.\n"
    );
    let at = branch.map(IssueBranch::head);
    match recovery::save_worktree(session, issue, at, "clean-worktree", &message) {
        Ok(None) => Ok(WorktreeWork::None),
        Ok(Some(saved)) => Ok(WorktreeWork::Saved {
            path: saved.path,
            files: saved.files,
            redacted: saved.redacted,
        }),
        Err(error) if options.force => Ok(WorktreeWork::Lost {
            reason: chain(&error),
        }),
        Err(error) => Err(PipelineError::UnsavedWorktree {
            issue,
            branch: options.branch,
            source: Box::new(error),
        }),
    }
}

/// The commits on the branch at `tip` past its base (what no branch outside `prefix`, no
/// remote-tracking branch outside it and no tag holds) that git orchestrate did not make: no
/// `Orchestrate-*` trailer. Id and subject of each, newest first.
fn others_commits(
    repo: &Repo,
    tip: ObjectId,
    prefix: &str,
) -> Result<Vec<(ObjectId, String)>, PipelineError> {
    let mut others = Vec::new();
    for id in repo.commits_past_base(tip, prefix)? {
        let info = repo.commit_info(id)?;
        if !info
            .trailers
            .iter()
            .any(|(key, _)| is_orchestrate_trailer(key))
        {
            others.push((id, info.summary));
        }
    }
    Ok(others)
}

/// Remove `path` and everything under it; whether it was there (under a file, it is not).
fn remove(path: &Path) -> Result<bool, PipelineError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(false)
        }
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
