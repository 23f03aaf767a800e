//! What a run reports as it goes: typed events, rendered by `ui` for people (stderr) or as
//! JSON lines (`--json`). The pipeline never prints, and events carry data, not sentences:
//! verdicts, decisions, reasons and outcomes are enums, so a `--json` reader gets a schema and
//! the human renderer chooses the words. The last event of every run is [`Event::Finished`],
//! whose [`Outcome`] says how the run ended.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use super::branch::{Redaction, Verdict};
pub use super::plan::{Action, Reason};
use crate::llm::{FailureClass, Usage};
use crate::stage::{Gate, Role, Stage};

/// Receives events as they happen.
pub trait EventSink: Sync {
    fn emit(&self, event: Event);
}

/// An event sink that drops everything (for library callers that do not listen).
pub struct Silent;

impl EventSink for Silent {
    fn emit(&self, _event: Event) {}
}

/// How contained programs are kept off the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SandboxNetwork {
    /// A network namespace of their own (only their own loopback).
    Namespace,
    /// Landlock's network rules: no TCP connection; other traffic still goes out.
    TcpOnly,
    /// Not kept off the network.
    Open,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The plan, before anything runs; with `--dry-run`, all the run does.
    Plan(Plan),
    /// A lock file from a run that died was found and taken over.
    StaleLockTakenOver {
        issue: u64,
        pid: Option<u32>,
    },
    StageStarted {
        stage: Stage,
        reason: Reason,
    },
    StageSkipped {
        stage: Stage,
        reason: Reason,
    },
    /// A model is working.
    ModelStarted {
        stage: Stage,
        role: Role,
        model: String,
        round: u32,
        /// Set when the call asks the drafter to fix a draft's missing sections.
        fix: Option<SectionFix>,
    },
    /// Streamed output is arriving (about `tokens` so far).
    ModelProgress {
        stage: Stage,
        role: Role,
        tokens: u64,
    },
    ModelFinished {
        stage: Stage,
        role: Role,
        model: String,
        round: u32,
        /// Set when the call asked the drafter to fix a draft's missing sections.
        fix: Option<SectionFix>,
        elapsed_ms: u64,
        /// Tokens as the vendor reported them, retried attempts included.
        usage: Option<Usage>,
        /// USD, when the model's price is known.
        cost_usd: Option<f64>,
    },
    /// A transient failure; the call will be tried again after `delay_ms`.
    ModelRetrying {
        stage: Stage,
        role: Role,
        model: String,
        attempt: u32,
        attempts: u32,
        error: String,
        class: FailureClass,
        delay_ms: u64,
    },
    /// A draft failed the mechanical check — it lacked required sections, or (a brief a
    /// triage model wrote) was shorter than `stages.triage.min_chars`: it goes back to its
    /// model (`fix`; for lld and spec without a review), or, when the requests to fix it are
    /// used up (`fix` is `null`), the stage blocks.
    DraftIncomplete {
        stage: Stage,
        round: u32,
        problems: Vec<SectionProblem>,
        /// Set when the draft was too short.
        too_short: Option<TooShort>,
        fix: Option<SectionFix>,
    },
    /// A reviewer's verdict (`null` when the reply had none that could be taken: counted as
    /// revise, and `problem` says why).
    Verdict {
        stage: Stage,
        round: u32,
        verdict: Option<ReviewVerdict>,
        problem: Option<VerdictProblem>,
        /// The changes the reviewer listed.
        feedback_items: usize,
    },
    /// A stage's work was committed.
    Committed {
        stage: Stage,
        commit: String,
        verdict: Verdict,
        paths: Vec<String>,
    },
    /// A person's edit of the artifact at a gate was committed.
    Edited {
        stage: Stage,
        gate: Gate,
        commit: String,
        path: String,
    },
    StageFinished {
        stage: Stage,
        verdict: Verdict,
        rounds: u32,
        elapsed_ms: u64,
        commit: Option<String>,
        /// Why the stage blocked.
        reason: Option<String>,
        /// What the stage's calls cost in this run.
        usage: Option<Usage>,
        cost_usd: Option<f64>,
    },
    /// The impl stage's worktree is ready: made now (`created`), or reused. Changes found in
    /// it were saved in `recovered` before it was reset: left by a run that was stopped, or,
    /// when `outside_run`, written or staged there while no run was working in it (by hand,
    /// or by another program).
    Worktree {
        issue: u64,
        path: PathBuf,
        created: bool,
        recovered: Option<PathBuf>,
        outside_run: bool,
    },
    /// The base branch has commits the issue branch lacks, found as impl starts: `base` at
    /// `at`, `newer` commits the branch does not have. `how` says what the run did about it;
    /// `commit` is the merge commit it made, if any.
    BaseMoved {
        base: String,
        at: String,
        newer: u64,
        how: BaseUpdate,
        commit: Option<String>,
    },
    /// The test command started: on the unchanged tree (`attempt` is `null`: the baseline), or
    /// after implementation attempt `attempt`.
    TestsStarted {
        attempt: Option<u32>,
        command: String,
        /// A check of the attempt (`null`: the attempt's own run, or the baseline).
        check: Option<TestCheck>,
    },
    /// How this run contains the test command and `agent:` programs (said once, when the
    /// impl stage starts).
    Sandbox {
        /// `sandbox.mode` as it applies: "auto", "required" or "off".
        mode: String,
        /// The Landlock ABI writes are confined with; `None`: writes are not confined.
        landlock: Option<u8>,
        /// How an attempt's tests are kept off the network.
        network: SandboxNetwork,
        /// `sandbox.test_network`: an attempt's tests may reach the network.
        test_network: bool,
        /// What the sandbox cannot do here, and why; `None` when it does everything.
        shortfall: Option<String>,
        /// Paths `sandbox.writable` or `sandbox.agent_writable` name that do not exist, so
        /// could not be made writable (`KEY: PATH`).
        #[serde(default)]
        missing: Vec<String>,
    },
    /// The test command finished.
    TestsFinished {
        attempt: Option<u32>,
        command: String,
        check: Option<TestCheck>,
        result: TestResult,
        /// The failing tests, when the runner names them.
        failing: Vec<String>,
        elapsed_ms: u64,
        /// The baseline result was known from an earlier run on the same tree.
        cached: bool,
    },
    /// An implementation attempt ended: `attempt` of at most `of`.
    Attempt {
        attempt: u32,
        of: u32,
        #[serde(flatten)]
        result: AttemptResult,
        /// The files the attempt changed (since the stage began).
        files: Vec<String>,
        /// Changes an agent made to protected paths, reverted.
        reverted: Vec<String>,
        /// Files the change may not hold (a symlink leading out of the worktree, a file over
        /// `stages.impl.max_file_size`), put back as on the base.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        refused: Vec<RefusedFile>,
    },
    /// The run stopped at a gate for a person's decision; `commit` records that on the branch
    /// (`None` when an earlier run already did).
    GateWaiting {
        gate: Gate,
        issue: u64,
        artifact: String,
        commit: Option<String>,
    },
    GateDecided {
        gate: Gate,
        decision: GateDecision,
        commit: String,
    },
    /// GitHub is reached for `repo` through `api`, with a token from `token` (where it was
    /// found: a variable's name or a program — never the value).
    #[serde(rename = "github")]
    GitHub {
        repo: String,
        api: String,
        token: String,
    },
    /// A GitHub request waits `seconds` before it is tried again.
    #[serde(rename = "github_waiting")]
    GitHubWaiting {
        #[serde(flatten)]
        reason: ForgeWaitReason,
        seconds: u64,
        attempt: u32,
    },
    /// The issue was read from GitHub: `comments` of `comments_total` comments kept, the body
    /// cut to fit (`body_cut`), and `hidden_removed` HTML comments and invisible characters
    /// removed before any model sees the text.
    IssueRead {
        issue: u64,
        url: String,
        comments: u64,
        comments_total: u64,
        body_cut: bool,
        hidden_removed: usize,
    },
    /// `git push` of `commit` to `remote` as `branch` started.
    Pushing {
        remote: String,
        branch: String,
        commit: String,
    },
    /// The push runs without the repository's hooks although `github.push_hooks` asks for
    /// them: they changed since the run started. `changed` names the paths under `dir` (the
    /// hooks directory at push time) that appeared, changed or went, or the hooks directory
    /// of the start when `core.hooksPath` now names another; it is empty, and `dir` may be
    /// unknown, when the hooks could not be read.
    PushHooksSkipped {
        dir: Option<String>,
        changed: Vec<String>,
    },
    /// The push finished (`up_to_date`: the remote had it already).
    Pushed {
        remote: String,
        branch: String,
        commit: String,
        up_to_date: bool,
    },
    /// The pull request of the branch: opened now (`created`), or updated.
    PullRequest {
        url: String,
        number: u64,
        created: bool,
        draft: bool,
        base: String,
    },
    /// The issue's worktree was removed (its work is on the branch). Changes found in it that
    /// no commit had (made by hand while the issue waited at a gate, say) were saved in
    /// `recovered` first.
    WorktreeRemoved {
        issue: u64,
        recovered: Option<PathBuf>,
    },
    /// A program the run started (an agent, the test command, a `cmd:` model) changed the
    /// user's repository outside the issue's worktree: each change, and whether it was undone
    /// (hooks, config, `info/` and refs are; the user's files, `HEAD` and index are left as
    /// they are, and named).
    Contained {
        stage: Stage,
        #[serde(flatten)]
        by: ContainedBy,
        changes: Vec<ContainedChange>,
    },
    Warning(Warning),
    /// Secrets were removed from something written (a file, a commit message, a
    /// transcript): which place, and which variables or kinds of token — never the values.
    Redacted(Redaction),
    /// The last event of a run.
    Finished(Summary),
    /// The run failed: the last event of a run that ended in an error (emitted by the
    /// command line, which chooses the advice and the exit code).
    Error {
        /// `None` when the failure is not about one issue (the options, the configuration).
        issue: Option<u64>,
        message: String,
        hints: Vec<String>,
        exit_code: u8,
    },
}

/// Why a GitHub request waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ForgeWaitReason {
    /// The primary rate limit is used up until it resets.
    RateLimit,
    /// GitHub asked to slow down (`retry-after`).
    SecondaryRateLimit,
    /// GitHub answered with a server error.
    ServerError { status: u16 },
    /// The connection failed.
    Network,
    /// GitHub did not answer in time.
    TimedOut,
}

/// What a run did about a base branch that moved on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BaseUpdate {
    /// The branch held only the tool's documents: they were carried onto the base's tip by
    /// a merge commit, where impl starts.
    Carried,
    /// `--update-base`: the base was merged into the branch's code.
    Merged,
    /// The branch holds code and `--update-base` was not given: impl works on it as it is.
    Kept,
}

/// How a test run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestResult {
    Passed,
    Failed,
    /// Failed, but only tests that already failed on the baseline (allowed by
    /// `allow_red_baseline`).
    KnownFailures,
    /// Stopped at `test_timeout`, with everything it started.
    TimedOut,
    /// The shell did not find the command (exit status 127).
    NotFound,
}

/// How an implementation attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AttemptResult {
    /// The tests pass, the original tests still pass, and a test proves the change (or no
    /// proof is asked for).
    Passed,
    /// The tests fail; the output goes back to the implementer.
    TestsFailed,
    /// The tests fail exactly as after the previous attempt: the loop stops.
    Stagnated,
    /// The reply's edits could not be applied (none applied): why, per block (the first
    /// few of `count`), and what the reply was instead of edit blocks.
    EditsRejected {
        problems: Vec<String>,
        count: usize,
        shape: RejectShape,
    },
    /// The agent exited with a failure.
    AgentFailed {
        status: String,
        /// The last lines of its error output (empty when it printed none).
        #[serde(default)]
        stderr_tail: String,
    },
    /// The agent was stopped at its provider's timeout.
    AgentTimedOut { timeout_secs: u64 },
    /// Nothing changed since the previous attempt.
    NoChange,
    /// The reply was the previous attempt's reply again (white space aside): neither applied
    /// nor tested again, and the loop stops.
    Repeated,
    /// The change cannot be the implementation: it touches only ignore files and editor or
    /// agent state (`expected` empty), or only files outside `expected`, those the spec
    /// names. `files` are the files it touched.
    NotTheImplementation {
        files: Vec<String>,
        expected: Vec<String>,
    },
    /// The tests pass, but fail with the test files the change modified or deleted (`files`)
    /// put back as they are on the base: the change hides failures (`failing`, when named).
    OriginalTestsFail {
        files: Vec<String>,
        failing: Vec<String>,
    },
    /// The tests pass, but nothing proves the change: no test fails without it.
    NoProof { why: NoProofWhy },
    /// The agent, or the test command run after it, changed the user's repository outside
    /// the worktree (what could be undone was).
    Contained {
        by: ContainedRunner,
        changes: Vec<ContainedChange>,
    },
}

/// Who changed the user's repository in an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainedRunner {
    Agent,
    Tests,
}

/// Which program a `contained` event is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum ContainedBy {
    /// An `agent:` implementer, in impl attempt `attempt`.
    Agent { attempt: u32 },
    /// The test command: of attempt `attempt` (`null`: the baseline), and which check.
    Tests {
        attempt: Option<u32>,
        check: Option<TestCheck>,
    },
    /// A `cmd:` model playing `role`, in round `round`.
    Model {
        role: Role,
        model: String,
        round: u32,
    },
}

/// A file an attempt left that no commit may hold; it was put back as on the base.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RefusedFile {
    pub path: String,
    #[serde(flatten)]
    pub why: Refusal,
}

/// Why a file was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "refused", rename_all = "snake_case")]
pub enum Refusal {
    /// A symbolic link whose target is outside the worktree (or inside `.git`).
    SymlinkOutside { target: String },
    /// A file larger than `stages.impl.max_file_size`.
    TooLarge { bytes: u64, limit: u64 },
}

impl RefusedFile {
    /// `big.bin (150.0 MiB, over the 50.0 MiB limit ...)`: the file and why, for people and
    /// for the implementer.
    pub fn describe(&self) -> String {
        match &self.why {
            Refusal::SymlinkOutside { target } => format!(
                "{} (a symlink to `{target}`, outside the worktree)",
                self.path
            ),
            Refusal::TooLarge { bytes, limit } => format!(
                "{} ({}, over stages.impl.max_file_size of {}; GitHub refuses files over 100 MB)",
                self.path,
                human_size(*bytes),
                human_size(*limit)
            ),
        }
    }
}

/// A byte count as people read it: `150.0 MiB`, `12 KiB`, `900 bytes`.
pub fn human_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB * KIB {
        format!("{:.1} GiB", b / (KIB * KIB * KIB))
    } else if b >= KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.0} KiB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// One change the check after a program found in the user's repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ContainedChange {
    pub what: ContainedWhat,
    /// The path (relative to the work tree when inside it), or the ref's full name; empty
    /// for `head` and `index`.
    pub name: String,
    pub how: ContainedHow,
    /// Put back as it was before the program ran.
    pub undone: bool,
}

/// Where a contained change was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainedWhat {
    /// A file under the git directory's `hooks/`.
    Hook,
    /// The git directory's `config`.
    Config,
    /// A file under the git directory's `info/`.
    Info,
    /// A ref: a branch, tag, note, remote-tracking branch.
    Ref,
    /// The checkout's `HEAD`.
    Head,
    /// The checkout's index.
    Index,
    /// A file of the user's checkout.
    File,
}

/// How it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainedHow {
    Added,
    Modified,
    Removed,
}

/// How many contained changes a sentence names one by one.
const CHANGES_NAMED: usize = 10;

impl ContainedChange {
    /// The changes in one phrase, the first [`CHANGES_NAMED`] one by one.
    pub fn list(changes: &[ContainedChange]) -> String {
        let mut text = changes
            .iter()
            .take(CHANGES_NAMED)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        if changes.len() > CHANGES_NAMED {
            text.push_str(&format!("; and {} more", changes.len() - CHANGES_NAMED));
        }
        text
    }
}

impl fmt::Display for ContainedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match (self.what, self.how) {
            (ContainedWhat::Ref, ContainedHow::Added) => "was created",
            (ContainedWhat::Ref, ContainedHow::Modified) => "was moved",
            (ContainedWhat::Ref, ContainedHow::Removed) => "was deleted",
            (_, ContainedHow::Added) => "was added",
            (_, ContainedHow::Modified) => "was changed",
            (_, ContainedHow::Removed) => "was removed",
        };
        match self.what {
            ContainedWhat::Head => write!(f, "the checkout's HEAD {how}")?,
            ContainedWhat::Index => write!(f, "the checkout's index {how}")?,
            ContainedWhat::File => write!(f, "{} in the checkout {how}", self.name)?,
            ContainedWhat::Ref => write!(f, "ref {} {how}", self.name)?,
            _ => write!(f, "{} {how}", self.name)?,
        }
        let after = match (self.undone, self.what, self.how) {
            (false, ContainedWhat::File | ContainedWhat::Head | ContainedWhat::Index, _) => {
                "left as it is"
            }
            (false, _, _) => "it could not be undone",
            (true, ContainedWhat::Ref, ContainedHow::Added) => "deleted again",
            (true, ContainedWhat::Ref, ContainedHow::Modified) => "put back",
            (true, _, ContainedHow::Added) => "removed again",
            (true, _, _) => "restored",
        };
        write!(f, " ({after})")
    }
}

/// What an unappliable reply was, for the blocked reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectShape {
    /// Whole files in code fences instead of edit blocks.
    WholeFiles,
    /// A unified diff instead of edit blocks.
    UnifiedDiff,
    /// No blocks at all.
    NoBlocks,
    /// Blocks whose SEARCH text matches nothing, or more than once, or a missing file.
    NoMatch,
    /// Blocks for paths that may not be changed.
    Refused,
    /// Blocks that could not be read.
    Unreadable,
    /// The files could not be written.
    Io,
}

/// Why an attempt whose tests pass has no proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoProofWhy {
    /// The change adds or changes no test (and names no new passing test).
    NoTest,
    /// The tests pass on the code without the change too, with the change's tests applied.
    PassesWithout,
    /// On the code without the change, the tests did not finish in time.
    TimedOut,
}

/// A run of the test command that checks an attempt beyond its own run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestCheck {
    /// On the code without the change, with only the change's test files applied: a test
    /// must fail.
    Proof,
    /// On the change's code, with the test files it modified or deleted as on the base: the
    /// tests must pass.
    Originals,
}

/// A person's decision at a gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateDecision {
    Approved,
    Rejected,
}

/// Something the person should know that did not stop the run.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum Warning {
    /// A file in the prompt override directory matches no template.
    UnusedPromptFile { path: PathBuf },
    /// A model exchange could not be saved under the local state directory.
    TranscriptNotSaved { dir: PathBuf, error: String },
    /// The issue's worktree, done with, was kept: it holds changes no commit has, and they
    /// could not be saved.
    WorktreeKept { path: PathBuf, error: String },
    /// The issue came from GitHub, but could not be read again to see whether it changed
    /// since its brief was written: the run goes on with the issue as the brief filed it.
    IssueNotRefreshed { issue: u64, error: String },
    /// `--update-base` was given, but impl does not run in this run (done, or beyond
    /// `--until`), so nothing is merged.
    UpdateBaseUnused,
}

/// The plan of a run.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub issue: u64,
    pub title: String,
    pub branch: String,
    /// Whether the branch exists already.
    pub branch_exists: bool,
    /// Where a new branch starts.
    pub base: Option<String>,
    pub steps: Vec<PlanStep>,
    pub dry_run: bool,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PlanStep {
    pub stage: Stage,
    pub action: Action,
    pub reason: Reason,
    pub artifact: Option<String>,
    pub models: Vec<PlanModel>,
    pub gate: Option<PlanGate>,
    /// For the impl stage: where it works and how it tests.
    pub implement: Option<PlanImpl>,
    /// For the pr stage: where the branch is pushed and the pull request opened.
    pub pull_request: Option<PlanPullRequest>,
}

/// Where the pr stage will push and open the pull request, read from the configuration and
/// the remotes (nothing is asked of GitHub for a plan).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PlanPullRequest {
    /// `owner/name`, when it could be told; else `problem` says why not.
    pub repo: Option<String>,
    /// The remote the branch is pushed to (`github.push_remote`, else `github.remote`).
    pub push_remote: String,
    /// The branch the pull request goes into; `None` on a detached HEAD without `--base`.
    pub base: Option<String>,
    pub draft: bool,
    /// Why the repository could not be told (the run would stop there).
    pub problem: Option<String>,
}

/// What the impl stage will work with.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PlanImpl {
    /// The issue's worktree (made on first use).
    pub worktree: PathBuf,
    /// `text` (answers with edit blocks) or `agent` (edits files itself).
    pub implementer_kind: ImplementerKind,
    /// `None` when no test command is configured or detected.
    pub test_command: Option<String>,
    pub test_source: Option<TestSource>,
    pub max_attempts: u32,
}

/// How an implementer works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImplementerKind {
    Text,
    Agent,
}

/// Where the test command comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum TestSource {
    /// `stages.impl.test_command`.
    Config,
    /// Detected from a file at the repository root.
    Detected { file: String },
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PlanModel {
    pub role: Role,
    /// `None` when nothing is configured for the role (and, for a required role, nothing
    /// could be chosen).
    pub model: Option<String>,
    /// Why a model that configuration does not name was chosen.
    pub why: Option<String>,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PlanGate {
    pub gate: Gate,
    pub enabled: bool,
    pub passed: bool,
}

/// How a run ended, short of an error.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every stage is done.
    Completed,
    /// Stopped after the stage the run was asked to stop after.
    StoppedAfter {
        stage: Stage,
    },
    /// A dry run: the plan was shown, nothing changed.
    Planned,
    Blocked {
        stage: Stage,
        reason: String,
        /// The stage's artifact and review log, where the last work is committed.
        artifact: Option<String>,
        reviews: Option<String>,
        /// Whether the stage's last work was committed (nothing is when no draft was written).
        committed: bool,
        /// impl: whether that commit holds code, not only the report.
        code: bool,
        /// How many reviews the stage had in this run.
        rounds: u32,
    },
    /// Waiting for a person at a gate.
    Waiting {
        gate: Gate,
    },
    Interrupted,
}

/// The end of a run: how it ended, one row per stage, and what the models cost.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub issue: u64,
    pub branch: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub rows: Vec<SummaryRow>,
    /// What the run's model calls used and cost.
    pub usage: Option<Usage>,
    pub cost_usd: Option<f64>,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct SummaryRow {
    pub stage: Stage,
    #[serde(flatten)]
    pub result: RowResult,
    /// The gate after the stage, when the run stopped there.
    pub waiting_at: Option<Gate>,
    pub commit: Option<String>,
    pub elapsed_ms: Option<u64>,
}

/// What the run did with a stage.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RowResult {
    /// Ran and finished: `verdict` after `rounds` review rounds (0 for unreviewed stages).
    Done {
        verdict: Verdict,
        rounds: u32,
    },
    Skipped {
        reason: Reason,
    },
    Blocked {
        reason: String,
    },
    /// Not reached (after a stop, or after the stage the run stopped at).
    NotRun {
        reason: Option<Reason>,
    },
}

/// What a reviewer decided. (In events, a review without one is `null`: counted as revise.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewVerdict {
    Approved,
    Revise,
    Blocked,
}

/// Why a review has no verdict that could be taken (it counts as revise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictProblem {
    /// No verdict could be read.
    Missing,
    /// Verdicts that contradict each other.
    Conflicting,
    /// An approval with conditions or doubts attached (`approved with changes`, `approved
    /// if ...`, `conditionally approved`).
    Qualified,
    /// The verdict was in JSON that could not be parsed.
    MalformedJson,
}

/// A request to the drafter to fix a draft's missing or empty sections: the `attempt`th of at
/// most `of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SectionFix {
    pub attempt: u32,
    pub of: u32,
}

/// A draft shorter than its stage asks for: `chars` characters (white space at its ends not
/// counted), fewer than `min`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TooShort {
    pub chars: u64,
    pub min: u64,
}

impl fmt::Display for TooShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.chars == 1 { "" } else { "s" };
        write!(
            f,
            "too short: {} character{plural}, at least {} wanted",
            self.chars, self.min
        )
    }
}

/// What is wrong with one required section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "problem", content = "section", rename_all = "snake_case")]
pub enum SectionProblem {
    /// No heading names the section.
    Missing(String),
    /// Headings name it, but nothing is written under any of them.
    Empty(String),
}

impl SectionProblem {
    /// The problems of a draft in one phrase, each kind once: `missing sections: Context,
    /// Test; empty: Requirements`.
    pub fn summary(problems: &[SectionProblem]) -> String {
        let missing: Vec<&str> = problems
            .iter()
            .filter_map(|p| match p {
                SectionProblem::Missing(name) => Some(name.as_str()),
                SectionProblem::Empty(_) => None,
            })
            .collect();
        let empty: Vec<&str> = problems
            .iter()
            .filter_map(|p| match p {
                SectionProblem::Empty(name) => Some(name.as_str()),
                SectionProblem::Missing(_) => None,
            })
            .collect();
        let plural = |names: &[&str]| if names.len() == 1 { "" } else { "s" };
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "missing section{}: {}",
                plural(&missing),
                missing.join(", ")
            ));
        }
        if !empty.is_empty() {
            let label = if missing.is_empty() {
                format!("empty section{}", plural(&empty))
            } else {
                "empty".to_string()
            };
            parts.push(format!("{label}: {}", empty.join(", ")));
        }
        parts.join("; ")
    }
}

impl fmt::Display for SectionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionProblem::Missing(name) => write!(f, "missing section: {name}"),
            SectionProblem::Empty(name) => write!(f, "empty section: {name}"),
        }
    }
}
