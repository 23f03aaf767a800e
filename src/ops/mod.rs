//! One function per user-visible operation, as cargo's `ops`: [`open`] a repository with its
//! configuration, then [`run::run`], [`status`], [`gate::approve`], [`gate::reject`] or
//! [`clean::clean`]; [`init::init`] writes a repository's `.orchestrate.toml` (and, when
//! asked, its GitHub Actions workflow). Each takes plain option structs and returns data; the
//! command line parses arguments into those structs and renders what comes back, and never
//! reaches into the pipeline itself.
//!
//! Operations that write to an issue's branch share one preamble, [`claim`]: find the branch,
//! refuse one that is checked out in a work tree, take the issue's lock, and read the branch
//! again under the lock (another run may have moved it meanwhile), with its state.

pub mod action;
pub mod clean;
pub mod doctor;
pub mod eval;
pub mod gate;
pub mod init;
pub mod run;
pub mod status;
mod status_cache;

use std::path::PathBuf;

use crate::config::{self, ConfigError, LoadOptions};
use crate::env::Env;
use crate::git::Repo;
use crate::pipeline::branch::{IssueBranch, IssueState};
use crate::pipeline::local::lock::{IssueLock, StaleLock};
use crate::pipeline::{PipelineError, Session};

/// Which configuration to read, beyond the repository's own file.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Use this file instead of the repository's `.orchestrate.toml`.
    pub config_file: Option<PathBuf>,
    /// `-c key=value` overrides, in order.
    pub overrides: Vec<String>,
}

/// Why a repository could not be opened with its configuration.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Config(Box<ConfigError>),
    #[error(transparent)]
    Pipeline(Box<PipelineError>),
}

impl From<ConfigError> for OpenError {
    fn from(error: ConfigError) -> OpenError {
        OpenError::Config(Box::new(error))
    }
}

impl From<PipelineError> for OpenError {
    fn from(error: PipelineError) -> OpenError {
        OpenError::Pipeline(Box::new(error))
    }
}

/// Open the repository around the current directory (as git finds it: `GIT_DIR`, worktrees)
/// and load its configuration.
pub fn open(options: &OpenOptions, env: &Env) -> Result<Session, OpenError> {
    let repo = Repo::discover(env).map_err(PipelineError::from)?;
    let load = LoadOptions {
        repo_root: repo.workdir().map(PathBuf::from),
        config_file: options.config_file.clone(),
        overrides: options.overrides.clone(),
    };
    let config = config::load(&load, env)?;
    Ok(Session::new(repo, config, env.clone()))
}

/// An issue's branch, claimed for writing.
pub struct Claimed {
    pub branch: IssueBranch,
    /// What the branch says, read under the lock.
    pub state: IssueState,
    /// `None` when the operation changes nothing (a dry run).
    pub lock: Option<IssueLock>,
    /// A lock file left by a run that died, taken over.
    pub stale: Option<StaleLock>,
}

/// Claim `located` (the issue's existing branch, or the one a run would create) for writing:
/// refuse a branch checked out in a work tree, lock the issue (unless `lock` is false: the
/// operation writes nothing), then read the branch and its state again under the lock.
pub fn claim(
    session: &Session,
    issue: u64,
    located: IssueBranch,
    lock: bool,
) -> Result<Claimed, PipelineError> {
    let repo = &session.repo;
    if let Some(path) = repo.checked_out_at(&located.name)? {
        return Err(PipelineError::BranchCheckedOut {
            branch: located.name,
            path,
        });
    }
    let (held, stale) = match lock {
        true => {
            let (held, stale) = IssueLock::acquire(&session.state.locks(), issue)?;
            (Some(held), stale)
        }
        false => (None, None),
    };
    let prefix = &session.config.orchestrator.branch_prefix;
    let branch = match IssueBranch::existing(repo, prefix, issue)? {
        Some(existing) => existing,
        // The branch was there and is gone: nothing to claim.
        None if located.tip.is_some() => {
            return Err(PipelineError::NoBranch {
                issue,
                prefix: prefix.clone(),
            });
        }
        None => located,
    };
    // Before the branch exists, its base is what it will start from: artifacts already there
    // (a design written by hand on main) count. An operation that writes nothing does not
    // write the local cache either.
    let cache = lock.then(|| session.state.history_cache());
    let state = IssueState::load(
        repo,
        branch.head(),
        &session.config,
        issue,
        cache.as_deref(),
    )?;
    Ok(Claimed {
        branch,
        state,
        lock: held,
        stale,
    })
}
