//! The pipeline: stages run in order on the issue's branch, each ending in PASS (artifact
//! committed), BLOCK (stop, say why; what was paid for is still committed) or RETRY (transient
//! model failures, retried once in the model layer).
//!
//! Start at [`run::run`] for the stage loop, [`review`] for the draft → review → revise loop,
//! [`history`] for how the branch says where an issue stands, and [`gate`] for human gates.

pub mod branch;
mod cache;
mod calls;
pub mod events;
pub mod gate;
pub mod grounding;
pub mod history;
pub mod interrupt;
pub mod lock;
pub mod message;
mod plan;
pub mod prompts;
mod review;
pub mod run;
pub mod sections;
pub mod spend;
pub mod stage;
pub mod statedir;
pub mod status;
mod triage;
pub mod verdict;

use std::collections::BTreeSet;
use std::path::PathBuf;

pub use events::{Event, EventSink};
pub use interrupt::Interrupt;
pub use stage::{Gate, Stage};

use crate::config::{Config, GatesConfig};
use crate::env::Env;
use crate::git::{GitError, Repo};
use crate::issue::IssueError;
use crate::llm::{LlmError, Role};
use lock::LockError;
use prompts::PromptError;
use statedir::StateDir;

/// An open repository with its configuration: what every command works in.
pub struct Session {
    pub repo: Repo,
    pub config: Config,
    pub env: Env,
    pub state: StateDir,
}

impl Session {
    pub fn new(repo: Repo, config: Config, env: Env) -> Session {
        let state = StateDir::new(repo.common_dir());
        Session {
            repo,
            config,
            env,
            state,
        }
    }
}

/// What a run was asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub issue: u64,
    /// Read the issue from this Markdown file.
    pub issue_file: Option<PathBuf>,
    pub until: Option<Stage>,
    pub resume_from: Option<Stage>,
    pub skip: BTreeSet<Stage>,
    /// The gates for this run: configuration with the run's flags applied.
    pub gates: GatesConfig,
    pub dry_run: bool,
    pub base: Option<String>,
}

/// How a run ended, short of an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every stage is done.
    Completed,
    /// Stopped after the `--until` stage.
    StoppedAfter(Stage),
    /// `--dry-run`: the plan was shown.
    Planned,
    Blocked {
        stage: Stage,
        reason: String,
    },
    /// Waiting for a person at a gate.
    AtGate {
        gate: Gate,
    },
    Interrupted,
}

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
    #[error("{stage}: the {} ({model}) failed: {source}", .role.name())]
    Model {
        stage: Stage,
        role: Role,
        model: String,
        source: LlmError,
    },
    #[error("{stage}: cannot use {model} as {}: {source}", .role.name())]
    ModelSetup {
        stage: Stage,
        role: Role,
        model: String,
        source: LlmError,
    },
    #[error("no {} is configured for the {stage} stage", .role.name())]
    NoModel { stage: Stage, role: Role },
    #[error("{message}")]
    NoDefaults { message: String },
    #[error("{stage}: {model} has no known price, and a budget is set")]
    NoPrice {
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
    #[error("cannot resume from {from}: {stage} is not complete on {branch} ({state})")]
    ResumeIncomplete {
        from: Stage,
        stage: Stage,
        branch: String,
        state: String,
    },
    #[error("issue #{issue} has no branch yet")]
    NoBranch { issue: u64, prefix: String },
    #[error("the {stage} stage is not available in this version of git-orchestrate")]
    StageUnavailable { stage: Stage, last: Option<Stage> },
    #[error("{message}")]
    ConflictingOptions { message: String },
    #[error("git orchestrate needs the issue text: {message}")]
    NoIssueSource { message: String },
    #[error("issue #{issue} is not waiting at a gate: {detail}")]
    NotAtGate { issue: u64, detail: String },
    #[error("{source}")]
    BranchMoved {
        source: GitError,
        saved_to: Option<PathBuf>,
    },
    #[error("the editor failed: {message}")]
    Editor { message: String },
    #[error("interrupted")]
    Interrupted,
}

impl PipelineError {
    /// Whether the error is a misuse of the command line (exit code 2) rather than a failure.
    pub fn is_usage(&self) -> bool {
        matches!(self, PipelineError::ConflictingOptions { .. })
    }

    pub fn hints(&self) -> Vec<String> {
        match self {
            PipelineError::Git(e) => e.hints(),
            PipelineError::Issue(e) => e.hints(),
            PipelineError::Lock(e) => e.hints(),
            PipelineError::Prompt(e) => e.hints(),
            PipelineError::Model { source, .. } | PipelineError::ModelSetup { source, .. } => {
                source.hints()
            }
            PipelineError::NoDefaults { .. } => vec![
                "or give models for one run: -c stages.lld.drafter=\"cmd:claude -p\" -c stages.lld.reviewer=\"cmd:gemini -p\"".into(),
            ],
            PipelineError::NoPrice { model, .. } => {
                let id = model.split_once(':').map(|(_, m)| m).unwrap_or(model);
                vec![
                    format!("give its price in USD per million tokens:\n[prices.\"{id}\"]\ninput = 1.0\noutput = 2.0"),
                    "programs run through cmd: report no tokens, so their cost cannot be counted: remove [budget] to use them".into(),
                ]
            }
            PipelineError::OverBudget { .. } => vec![
                "raise [budget] max_usd_per_issue or max_usd_per_stage (or [budget.stages]) to go on".into(),
            ],
            PipelineError::Llm(e) => e.hints(),
            PipelineError::NoModel { stage, role } => vec![
                format!("name one in .orchestrate.toml, for example:\n[stages.{stage}]\n{} = \"cmd:claude -p\"", role.name()),
                format!("or for this run only: -c stages.{stage}.{}=\"cmd:claude -p\"", role.name()),
            ],
            PipelineError::BareRepository { .. } => vec![
                "run it in a clone with a work tree (`git clone` the repository, then run there)".into(),
            ],
            PipelineError::DetachedHead { .. } => vec![
                "name the base branch: --base main (or switch to a branch first)".into(),
            ],
            PipelineError::UnbornHead { .. } => vec![
                "make a first commit, or name a base that has commits: --base BRANCH".into(),
            ],
            PipelineError::BaseNotFound { .. } => {
                vec!["list branches with `git branch -a`; fetch a remote one first if needed".into()]
            }
            PipelineError::AmbiguousBranch { branches, .. } => vec![format!(
                "keep one and delete the others: git branch -D {}",
                branches.iter().skip(1).cloned().collect::<Vec<_>>().join(" ")
            )],
            PipelineError::BranchCheckedOut { .. } => vec![
                "switch that checkout to another branch (for example `git switch -`), then run again".into(),
            ],
            PipelineError::ResumeIncomplete { stage, .. } => vec![
                "run without --resume-from to finish the earlier stages first".into(),
                format!("or go on without it: --skip {stage}"),
            ],
            PipelineError::NoBranch { issue, prefix } => vec![format!(
                "start the issue first: git orchestrate {issue} --issue-file ISSUE.md (its branch will be {prefix}{issue}-...)"
            )],
            PipelineError::StageUnavailable { last, .. } => match last {
                Some(last) => vec![format!(
                    "the design stages are done; stop there with --until {last}"
                )],
                None => vec!["run up to the spec with --until spec".into()],
            },
            PipelineError::ConflictingOptions { .. } => vec![],
            PipelineError::NoIssueSource { .. } => vec![
                "write the issue to a Markdown file (first `# ` line is the title) and pass --issue-file PATH".into(),
            ],
            PipelineError::NotAtGate { issue, .. } => {
                vec![format!("`git orchestrate status {issue}` shows where the issue stands")]
            }
            PipelineError::BranchMoved { source, saved_to } => {
                let mut hints = source.hints();
                if let Some(dir) = saved_to {
                    hints.insert(
                        0,
                        format!("the work that could not be committed is saved in {}", dir.display()),
                    );
                }
                hints
            }
            PipelineError::Editor { .. } => vec![
                "set the editor git uses: git config core.editor \"nano\" (or GIT_EDITOR)".into(),
            ],
            PipelineError::Interrupted => vec![],
        }
    }
}
