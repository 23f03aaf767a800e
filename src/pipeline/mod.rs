//! The pipeline: stages run in order on the issue's branch, each ending in PASS (artifact
//! committed), BLOCK (stop, say why; what was paid for is still committed) or RETRY (transient
//! model failures, retried in the model layer, never here).
//!
//! Start at [`run::run`] for the run loop: the only place that dispatches stages, holds at
//! gates and runs a stage again after a person rejected it. The stages themselves are in
//! [`stages`], each behind one entry point that takes a [`StageContext`]; [`branch`] is the
//! issue branch as a record (finding it, committing to it, reading where the issue stands);
//! [`local`] is the state kept under the git directory (locks, transcripts, recovered work).
//! The pipeline never prints: it emits [`Event`]s, which the `ui` renders.

pub mod base;
pub mod branch;
pub mod contain;
pub mod context;
pub mod events;
pub mod gate;
pub mod github;
pub mod grounding;
pub mod interrupt;
pub mod io;
pub mod local;
pub mod models;
pub mod plan;
pub mod prompts;
pub mod push;
pub mod recovery;
pub mod run;
pub mod spend;
pub mod stages;
pub mod stale;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub use context::StageContext;
pub use events::{Event, EventSink, Outcome};
pub use interrupt::Interrupt;
pub use io::RunIo;
pub use local::lock::LockError;
pub use prompts::{OVERRIDE_DIR, PromptError};

use crate::config::Config;
use crate::env::Env;
use crate::git::{GitError, ObjectId, Repo};
use crate::issue::{IssueError, IssueRef};
use crate::llm::{CallLimits, LlmError};
use crate::redact::Redactor;
use crate::stage::{Gate, Role, Stage};
use local::StateDir;

/// An open repository with its configuration: what every operation works in.
///
/// A run owns its session (the repository handle is not shared between threads), so the
/// run's future can move between threads; an operation on several issues opens one each.
pub struct Session {
    pub repo: Repo,
    pub config: Config,
    pub env: Env,
    pub state: StateDir,
    /// Removes the credentials this process knows from everything written or shown.
    pub redactor: Redactor,
    /// How many calls each provider takes at once; runs side by side share one.
    pub limits: CallLimits,
    /// The hooks a push would run, as they were when the session opened (only read with
    /// `github.push_hooks`; `None` otherwise, or when they could not be read). Runs side by
    /// side share the first one's, taken before any of them ran anything.
    pub hooks_at_start: HooksAtStart,
}

/// See [`Session::hooks_at_start`].
pub type HooksAtStart = Option<std::sync::Arc<crate::git::Hooks>>;

impl Session {
    pub fn new(repo: Repo, config: Config, env: Env) -> Session {
        let state = StateDir::new(repo.common_dir());
        let redactor = Redactor::new(
            &env,
            config
                .providers
                .values()
                .filter_map(|p| p.api_key_env.clone()),
        );
        let hooks_at_start = match config.github.push_hooks {
            true => repo.hooks().ok().map(std::sync::Arc::new),
            false => None,
        };
        Session {
            repo,
            config,
            env,
            state,
            redactor,
            limits: CallLimits::new(),
            hooks_at_start,
        }
    }

    /// Each configured provider's `api_key_env`: the variables that hold model keys here,
    /// besides the vendors' own.
    pub fn key_variables(&self) -> Vec<String> {
        self.config
            .providers
            .values()
            .filter_map(|p| p.api_key_env.clone())
            .collect()
    }
}

/// What a run was asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub issue: IssueRef,
    /// Read the issue from this Markdown file.
    pub issue_file: Option<PathBuf>,
    pub until: Option<Stage>,
    pub resume_from: Option<Stage>,
    pub skip: BTreeSet<Stage>,
    /// Gates turned on (`true`) or off for this run; they win over configuration and over
    /// what the branch history says.
    pub gate_overrides: BTreeMap<Gate, bool>,
    pub dry_run: bool,
    pub base: Option<String>,
    /// Merge the base into the issue branch before impl even when the branch holds code
    /// (`--update-base`; while it holds only documents, the base's tip is taken anyway).
    pub update_base: bool,
    /// Run on a closed or locked issue.
    pub force: bool,
    /// Keep stale stages as they are (`--keep-stale`, or `orchestrator.on_stale = "keep"`).
    pub keep_stale: bool,
}

impl RunOptions {
    /// A run of `issue` with nothing else asked.
    pub fn new(issue: IssueRef) -> RunOptions {
        RunOptions {
            issue,
            issue_file: None,
            until: None,
            resume_from: None,
            skip: BTreeSet::new(),
            gate_overrides: BTreeMap::new(),
            dry_run: false,
            base: None,
            update_base: false,
            force: false,
            keep_stale: false,
        }
    }
}

/// Why a run or an operation failed. Messages say what went wrong; the advice that names
/// commands and flags is chosen by the command line, per variant.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error("{stage}: the {role} ({model}) failed")]
    Model {
        stage: Stage,
        role: Role,
        model: String,
        source: LlmError,
    },
    /// A `cmd:` model (or an agent outside an attempt) changed the user's repository.
    #[error(
        "{stage}: the {role} ({model}) changed the repository outside its work: {}",
        crate::pipeline::events::ContainedChange::list(.changes)
    )]
    Contained {
        stage: Stage,
        role: Role,
        model: String,
        changes: Vec<crate::pipeline::events::ContainedChange>,
    },
    #[error("{stage}: cannot use {model} as {role}")]
    ModelSetup {
        stage: Stage,
        role: Role,
        model: String,
        source: LlmError,
    },
    #[error("no {role} is configured for the {stage} stage")]
    NoModel { stage: Stage, role: Role },
    #[error("{message}")]
    NoDefaults {
        stage: Stage,
        role: Role,
        message: String,
    },
    #[error("{stage}: {model} has no known price, and a budget is set")]
    NoPrice {
        stage: Stage,
        role: Role,
        model: String,
    },
    #[error("{stage}: {model} reports no tokens, so its cost cannot be counted against the budget")]
    Unmetered {
        stage: Stage,
        role: Role,
        model: String,
    },
    #[error("{message}")]
    OverBudget { stage: Stage, message: String },
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error("git orchestrate needs a work tree, and {} is a bare repository", .path.display())]
    BareRepository { path: PathBuf },
    #[error("HEAD is detached, so there is no branch to start {branch} from")]
    DetachedHead { branch: String },
    #[error("the current branch {name} has no commits yet, so there is nothing to start from")]
    UnbornHead { name: String },
    #[error("base `{base}` is not a branch or commit of this repository")]
    BaseNotFound { base: String },
    #[error("issue #{issue} has several branches: {}", .branches.join(", "))]
    AmbiguousBranch { issue: u64, branches: Vec<String> },
    #[error("{branch} is checked out in {}; orchestrate will not move a branch under a checkout", .path.display())]
    BranchCheckedOut { branch: String, path: PathBuf },
    #[error(
        "cannot create branch {branch}: branch {blocking} exists, and git cannot keep both (one name would be a branch and a folder of branches)"
    )]
    BranchBlocked {
        branch: String,
        blocking: String,
        prefix: String,
    },
    #[error("cannot resume from {from}: {stage} is not complete on {branch} ({state})")]
    ResumeIncomplete {
        from: Stage,
        stage: Stage,
        branch: String,
        state: String,
    },
    #[error("issue #{issue} has no branch yet")]
    NoBranch { issue: u64, prefix: String },
    /// A stage was given the settings of another kind of stage: a bug.
    #[error("internal error: the {stage} stage has no settings of its kind")]
    WrongSettings { stage: Stage },
    #[error("issue #{issue} is not waiting at a gate: {detail}")]
    NotAtGate { issue: u64, detail: String },
    /// The branch was checked out in a work tree while the run worked, so the `kind` commit
    /// (a stage name, or `gate`) was not made; its `files` and message are saved in
    /// `saved_to`.
    #[error(
        "{branch} was checked out in {} during the run, so orchestrate did not move it under that checkout; the {kind} commit {}",
        .path.display(),
        .saved_to.as_ref().map(|d| format!("is saved in {}", d.display())).unwrap_or_else(|| "could not be saved".into())
    )]
    CheckedOutDuringRun {
        branch: String,
        path: PathBuf,
        kind: String,
        files: Vec<String>,
        saved_to: Option<PathBuf>,
    },
    /// A commit could not land; `moved` says why, and the work is saved in `saved_to`.
    #[error("{moved}")]
    BranchMoved {
        moved: GitError,
        saved_to: Option<PathBuf>,
    },
    /// `clean --branch` without `--force` on a branch whose work exists only here.
    #[error("branch {branch} was not deleted: no remote-tracking branch contains its tip {}, so its commits exist only in this repository", .tip.short())]
    UnpushedBranch {
        issue: u64,
        branch: String,
        tip: ObjectId,
    },
    /// `clean ISSUE --branch` without `--force` on a branch holding commits git orchestrate
    /// did not make (no `Orchestrate-*` trailer): a person's work.
    #[error("branch {branch} was not deleted: {}", others_commits(.commits))]
    OthersCommits {
        issue: u64,
        branch: String,
        /// Each commit past the base without an `Orchestrate-*` trailer: id and subject.
        commits: Vec<(ObjectId, String)>,
    },
    /// `clean` without `--force` could not save the changes in an issue's worktree that no
    /// commit has, so it removed nothing of that issue.
    #[error(
        "the worktree of #{issue} was not removed: the changes in it that no commit has could not be saved"
    )]
    UnsavedWorktree {
        issue: u64,
        /// `clean` was asked to delete the branch too.
        branch: bool,
        source: Box<PipelineError>,
    },
    #[error("could not remove {}", .path.display())]
    RemoveState {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot save the changes found in the worktree under {}", .path.display())]
    SaveRecovered {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stages.impl.protected: {message}")]
    Protected { message: String },
    #[error("cannot change {} in the worktree", .path.display())]
    Worktree {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the agent removed the issue's worktree ({}) during attempt {attempt}; nothing of the attempt can be read", .path.display())]
    WorktreeRemoved {
        issue: u64,
        attempt: u32,
        path: PathBuf,
    },
    #[error("no test command: stages.impl.test_command is not set, and none was detected")]
    NoTestCommand,
    #[error("the issue's URL is on {url_host}, but this run's GitHub is {github_host}")]
    IssueOnOtherHost {
        url_host: String,
        github_host: String,
    },
    #[error("sandbox.mode is \"required\", but agents and tests cannot be contained here: {why}")]
    Uncontained { why: String },
    #[error("the test command `{command}` could not be run")]
    Tests {
        command: String,
        source: crate::testing::TestError,
    },
    #[error(transparent)]
    Forge(#[from] crate::forge::ForgeError),
    #[error("#{number} is a pull request, not an issue: {url}")]
    IsPullRequest { number: u64, url: String },
    #[error("issue #{number} is {}: {url}", describe_state(.state, *.locked))]
    IssueNotOpen {
        number: u64,
        state: String,
        locked: bool,
        url: String,
    },
    /// The pull request is open and recorded on the branch here, but the record did not
    /// reach the remote.
    #[error(
        "the pull request is open at {url}, but the commit on {branch} that records it was not pushed to {remote}"
    )]
    RecordNotPushed {
        url: String,
        remote: String,
        branch: String,
        source: Box<GitError>,
    },
    #[error("no branch to open the pull request of {branch} into: HEAD is not on a branch")]
    NoPullRequestBase { branch: String },
    #[error("--update-base has no base to merge into {branch}: HEAD is not on a branch")]
    NoBaseToMerge { branch: String },
    #[error(
        "merging {base} into {branch} conflicts in {}; nothing was changed",
        .files.join(", ")
    )]
    BaseConflict {
        issue: u64,
        base: String,
        branch: String,
        files: Vec<String>,
    },
    #[error("interrupted")]
    Interrupted,
}

/// `closed`, `locked`, `closed and locked`.
fn describe_state(state: &str, locked: bool) -> String {
    match (state == "open", locked) {
        (true, true) => "locked".into(),
        (false, true) => format!("{state} and locked"),
        _ => state.to_string(),
    }
}

/// How many commits, and the first few: `2 commits git orchestrate did not make (no
/// Orchestrate-* trailer): 1a2b3c4 Fix the docs, 5d6e7f8 Notes`.
pub fn others_commits(commits: &[(ObjectId, String)]) -> String {
    const LISTED: usize = 3;
    let listed: Vec<String> = commits
        .iter()
        .take(LISTED)
        .map(|(id, subject)| format!("{} {subject}", id.short()))
        .collect();
    let more = match commits.len().saturating_sub(LISTED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let count = match commits.len() {
        1 => "1 commit".to_string(),
        n => format!("{n} commits"),
    };
    format!(
        "it has {count} git orchestrate did not make (no Orchestrate-* trailer): {}{more}",
        listed.join(", ")
    )
}
