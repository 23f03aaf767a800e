//! `eval`: the repository's own history as a benchmark of its configuration.
//!
//! Each commit of a range that changes tests and code is a candidate task: its parent is
//! the base, its message (or the GitHub issue it names) the issue, its test-file changes the
//! *hidden tests*, which no model sees. [`start`] reads the range and keeps the candidates
//! that meet SWE-bench's rule (`check.rs`), before any model is called; [`run_task`] takes
//! one task through the pipeline in a scratch repository of its own (gates off, never the
//! `pr` stage), judges the impl stage's code with the hidden tests, and keeps its branch in
//! the user's repository only as `refs/orchestrate-eval/<run-id>/<task>`; [`finish`] makes
//! the report. Everything a run keeps is under `<git-common-dir>/orchestrate/eval/<run-id>/`:
//!
//! ```text
//! plan.json            the candidates, which are tasks, which were chosen, the options
//! tasks/<n>/result.json  a finished task (a resumed run skips it)
//! tasks/<n>/repo/      the task's scratch repository (its branch, worktree, transcripts)
//! tasks/<n>/issue.md   the issue text the pipeline read
//! validate/            the scratch repository validation runs in
//! report.json, report.md
//! ```
//!
//! The user's checkout, index and branches are never touched: the pipeline runs in the
//! scratch repositories (which read the user's objects through `alternates`), and the only
//! refs written in the user's repository are the run's own.

mod check;
pub mod discover;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use serde::Serialize;

pub use check::Checker;
use discover::Found;
use report::{
    Candidate, CandidateStatus, EvalReport, EvalSummary, IssueText, Judgement, SkipReason,
    StageVerdict, TaskResult,
};

use crate::config::Config;
use crate::env::{Env, GIT_REPOSITORY_VARS};
use crate::git::{GitError, ObjectId, Repo};
use crate::issue::IssueRef;
use crate::llm::CallLimits;
use crate::pipeline::events::{Outcome, RowResult, Summary};
use crate::pipeline::{Event, EventSink, PipelineError, RunIo, RunOptions, Session};
use crate::stage::{Gate, Stage};

/// Where every ref of an eval run lives: `refs/orchestrate-eval/<run-id>/<task>`.
pub const REF_PREFIX: &str = "refs/orchestrate-eval/";

/// The branch a task's scratch repository holds its base on.
const BASE_BRANCH: &str = "eval-base";

/// What `eval` was asked to do.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    pub range: String,
    pub merges: bool,
    pub issue_text: IssueText,
    /// Run at most this many valid tasks, the first ones of the range.
    pub limit: Option<usize>,
    /// Run this many valid tasks, chosen at random with `seed`.
    pub sample: Option<usize>,
    pub seed: u64,
    /// USD per task (`budget.max_usd_per_issue`, already in the configuration).
    pub budget: Option<f64>,
    /// The `-c` overrides, recorded in the report.
    pub overrides: Vec<String>,
}

/// Why an eval operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Pipeline(Box<PipelineError>),
    #[error("no eval run `{run_id}` in {}", .dir.display())]
    NoSuchRun { run_id: String, dir: PathBuf },
    #[error("`{run_id}` is not the name of an eval run")]
    BadRunId {
        run_id: String,
        /// Where runs are kept.
        dir: Option<PathBuf>,
    },
    #[error("could not {action} {}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not an eval run's record: {source}", .path.display())]
    BadRecord {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("run `{run_id}` has no report yet (it never finished): resume it first")]
    NoReport { run_id: String },
    #[error("`{range}` is not a range of commits of this repository")]
    Range { range: String, source: GitError },
}

impl From<PipelineError> for EvalError {
    fn from(error: PipelineError) -> EvalError {
        EvalError::Pipeline(Box::new(error))
    }
}

impl From<GitError> for EvalError {
    fn from(error: GitError) -> EvalError {
        PipelineError::from(error).into()
    }
}

/// What an eval run says as it goes, besides its tasks' pipeline events.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EvalEvent {
    /// The range was read: `commits` commits, `candidates` of them change tests and code.
    EvalStarted {
        run_id: String,
        range: String,
        commits: u64,
        candidates: u64,
    },
    /// A commit was checked (or needs no check): a task, or skipped and why.
    Candidate(Candidate),
    /// A task's pipeline starts.
    TaskStarted {
        task: u64,
        commit: String,
        subject: String,
    },
    /// A task was run and judged.
    TaskJudged(TaskResult),
    /// The run's report: the same document as `report.json`.
    EvalFinished(Box<EvalReport>),
}

/// Where eval runs are kept.
pub fn eval_dir(repo: &Repo) -> PathBuf {
    repo.common_dir().join("orchestrate").join("eval")
}

/// A run of `eval` under way: its directory, its plan, and what its tasks share.
pub struct EvalRun {
    pub dir: PathBuf,
    pub plan: EvalReport,
}

impl EvalRun {
    /// The tasks still to run: chosen, with no result yet.
    pub fn pending(&self) -> Vec<u64> {
        self.plan
            .chosen
            .iter()
            .copied()
            .filter(|task| !self.result_path(*task).is_file())
            .collect()
    }

    fn task_dir(&self, task: u64) -> PathBuf {
        self.dir.join("tasks").join(task.to_string())
    }

    fn result_path(&self, task: u64) -> PathBuf {
        self.task_dir(task).join("result.json")
    }

    /// The ref task `task`'s branch is kept under.
    pub fn task_ref(&self, task: u64) -> String {
        format!("{REF_PREFIX}{}/{task}", self.plan.run_id)
    }
}

/// A run id for a run started at `now`: its UTC time, `20260107-093000`, with `-2`, `-3`
/// ... when one of that name exists in `dir`.
fn new_run_id(dir: &Path, now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let base: String = stamp
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect::<String>()
        .replace('T', "-");
    let mut id = base.clone();
    let mut n = 2;
    while dir.join(&id).exists() {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Whether `id` can name a run (no path separators, nothing hidden).
fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Read the range, check its candidates (up to the limit), choose the tasks and write the
/// plan of a new run; `emit` hears of each commit as it is decided. No model is called.
pub async fn start(
    session: &mut Session,
    options: &EvalOptions,
    checker: &Checker,
    io: &RunIo<'_>,
    emit: &(dyn Fn(EvalEvent) + Sync),
) -> Result<EvalRun, EvalError> {
    let began = Instant::now();
    let root = eval_dir(&session.repo);
    let run_id = new_run_id(&root, SystemTime::now());
    let dir = root.join(&run_id);
    create_dir(&dir)?;
    let planned = plan(session, options, checker, io, emit, run_id, &dir, began).await;
    if planned.is_err() {
        // A run stopped before its plan was written cannot be resumed: nothing is kept.
        let _ = std::fs::remove_dir_all(&dir);
    }
    planned
}

/// [`start`]'s work, in the run's directory `dir`.
#[allow(clippy::too_many_arguments)] // start's own, passed through once
async fn plan(
    session: &mut Session,
    options: &EvalOptions,
    checker: &Checker,
    io: &RunIo<'_>,
    emit: &(dyn Fn(EvalEvent) + Sync),
    run_id: String,
    dir: &Path,
    began: Instant,
) -> Result<EvalRun, EvalError> {
    let configured = session.config.implement.test_command.clone();
    let commits = session
        .repo
        .commits_in(&options.range, options.merges)
        .map_err(|source| EvalError::Range {
            range: options.range.clone(),
            source,
        })?;
    let found = discover::discover(&session.repo, &commits, configured.as_deref())?;
    emit(EvalEvent::EvalStarted {
        run_id: run_id.clone(),
        range: options.range.clone(),
        commits: found.len() as u64,
        candidates: found
            .iter()
            .filter(|f| f.candidate.status == CandidateStatus::NotChecked)
            .count() as u64,
    });
    let issues = match options.issue_text {
        IssueText::Github => github_issues(session, &found, io).await?,
        IssueText::Message => BTreeMap::new(),
    };
    let validate_dir = dir.join("validate");
    let scratch = session.repo.scratch(&validate_dir, &session.env)?;
    let wanted = options.limit.or(options.sample);
    let seed = options.sample.map(|_| options.seed);
    let mut candidates: Vec<Candidate> = found.iter().map(|f| f.candidate.clone()).collect();
    let mut chosen = Vec::new();
    for index in discover::order(found.len(), seed) {
        let item = &found[index];
        let candidate = &mut candidates[index];
        if matches!(candidate.status, CandidateStatus::Skipped { .. }) {
            emit(EvalEvent::Candidate(candidate.clone()));
            continue;
        }
        if wanted.is_some_and(|n| chosen.len() >= n) {
            continue;
        }
        if options.issue_text == IssueText::Github {
            match issues.get(&candidate.task) {
                Some(Ok(_)) => {}
                Some(Err(detail)) => {
                    candidate.status = skipped(SkipReason::IssueNotRead, Some(detail.clone()));
                }
                None => candidate.status = skipped(SkipReason::NoIssue, None),
            }
            if candidate.status != CandidateStatus::NotChecked {
                emit(EvalEvent::Candidate(candidate.clone()));
                continue;
            }
        }
        let (Some(parent), commit) = (item.parent, item.commit) else {
            continue;
        };
        let verdict = io_interruptible(
            io,
            checker.validate(&scratch, 1, parent, commit, &item.hidden),
        )
        .await??;
        candidate.status = match verdict {
            None => {
                chosen.push(candidate.task);
                CandidateStatus::Valid
            }
            Some(rejected) => skipped(rejected.reason, rejected.detail),
        };
        emit(EvalEvent::Candidate(candidate.clone()));
    }
    // The worktree validation used holds nothing anyone needs.
    let _ = scratch.remove_issue_worktree(1);
    chosen.sort_unstable();
    for item in &found {
        let text = match issues.get(&item.candidate.task) {
            Some(Ok(text)) => text.clone(),
            _ => {
                let info = session.repo.commit_info(item.commit)?;
                discover::issue_file_text(&info.summary, &info.body())
            }
        };
        if chosen.contains(&item.candidate.task) {
            let task_dir = dir.join("tasks").join(item.candidate.task.to_string());
            create_dir(&task_dir)?;
            write_file(&task_dir.join("issue.md"), text.as_bytes())?;
        }
    }
    let plan = EvalReport {
        run_id,
        range: options.range.clone(),
        merges: options.merges,
        issue_text: options.issue_text,
        overrides: options.overrides.clone(),
        budget_usd: options.budget,
        started: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        candidates,
        chosen,
        tasks: Vec::new(),
        summary: EvalSummary::default(),
        validation_ms: began.elapsed().as_millis() as u64,
    };
    write_json(&dir.join("plan.json"), &plan)?;
    Ok(EvalRun {
        dir: dir.to_path_buf(),
        plan,
    })
}

fn skipped(reason: SkipReason, detail: Option<String>) -> CandidateStatus {
    CandidateStatus::Skipped { reason, detail }
}

/// `future`, or [`PipelineError::Interrupted`] at Ctrl-C.
async fn io_interruptible<T>(
    io: &RunIo<'_>,
    future: impl std::future::Future<Output = T>,
) -> Result<T, PipelineError> {
    crate::pipeline::context::interruptible(io.interrupt, future).await
}

/// The text of the GitHub issue each candidate names, as an issue file (`Err`: why it could
/// not be read).
async fn github_issues(
    session: &mut Session,
    found: &[Found],
    io: &RunIo<'_>,
) -> Result<BTreeMap<u64, Result<String, String>>, EvalError> {
    let mut texts = BTreeMap::new();
    let named: Vec<(u64, u64)> = found
        .iter()
        .filter(|f| f.candidate.status == CandidateStatus::NotChecked)
        .filter_map(|f| f.candidate.names_issue.map(|n| (f.candidate.task, n)))
        .collect();
    if named.is_empty() {
        return Ok(texts);
    }
    let target = crate::pipeline::github::target(session, None)?;
    let connection = crate::pipeline::github::connect(session, target, io).await?;
    for (task, number) in named {
        let text = match crate::pipeline::github::read_issue(&connection, number, true, io).await {
            Ok(issue) => Ok(discover::issue_file_text(&issue.title, &issue.body)),
            Err(error) => Err(crate::error_chain::chain(&error)),
        };
        texts.insert(task, text);
    }
    Ok(texts)
}

/// The run `run_id`, to go on with: its plan, read back.
pub fn resume(repo: &Repo, run_id: &str) -> Result<EvalRun, EvalError> {
    let dir = run_dir(repo, run_id)?;
    let plan: EvalReport = read_json(&dir.join("plan.json"))?;
    Ok(EvalRun { dir, plan })
}

fn run_dir(repo: &Repo, run_id: &str) -> Result<PathBuf, EvalError> {
    if !valid_run_id(run_id) {
        return Err(EvalError::BadRunId {
            run_id: run_id.to_string(),
            dir: Some(eval_dir(repo)),
        });
    }
    let root = eval_dir(repo);
    let dir = root.join(run_id);
    match dir.join("plan.json").is_file() {
        true => Ok(dir),
        false => Err(EvalError::NoSuchRun {
            run_id: run_id.to_string(),
            dir: root,
        }),
    }
}

/// What the tasks of a run share (across threads).
pub struct TaskContext<'a> {
    pub run: &'a EvalRun,
    /// The user's repository (its git directory), which each task opens for itself.
    pub git_dir: PathBuf,
    /// The user's work tree, whose prompt templates (`.orchestrate/prompts/`) are part of the
    /// configuration measured.
    pub workdir: Option<PathBuf>,
    pub config: &'a Config,
    pub env: &'a Env,
    pub checker: &'a Checker,
    pub limits: CallLimits,
}

/// Keeps the run's summary while passing its events on.
struct Keep<'s> {
    events: &'s dyn EventSink,
    summary: std::sync::Mutex<Option<Summary>>,
}

impl EventSink for Keep<'_> {
    fn emit(&self, event: Event) {
        if let Event::Finished(summary) = &event {
            *self.summary.lock().unwrap_or_else(|e| e.into_inner()) = Some(summary.clone());
        }
        self.events.emit(event);
    }
}

/// Run task `task` through the pipeline and judge it; its result is written, so a resumed
/// run skips it. An interrupted task writes nothing (it runs again from the start).
pub async fn run_task(
    cx: &TaskContext<'_>,
    task: u64,
    io: &RunIo<'_>,
) -> Result<TaskResult, EvalError> {
    let began = Instant::now();
    let user = Repo::open(&cx.git_dir, cx.env)?;
    // The task's programs work in its scratch repository, and the pipeline checks that one
    // after each; the user's repository is checked around the whole task, as a run checks it
    // around each program: what changed there is undone where it can be, and the task is an
    // error for it. Its index is left byte for byte as it was.
    let watched = user.snapshot_keeping_index()?;
    let candidate = cx
        .run
        .plan
        .candidates
        .iter()
        .find(|c| c.task == task)
        .cloned()
        .ok_or_else(|| EvalError::NoSuchRun {
            run_id: format!("{}/{task}", cx.run.plan.run_id),
            dir: cx.run.dir.clone(),
        })?;
    let commit = parse_id(&candidate.commit)?;
    let found = discover::discover_one(
        &user,
        task,
        commit,
        cx.config.implement.test_command.as_deref(),
    )?;
    let Some(parent) = found.parent else {
        return Err(PipelineError::BaseNotFound {
            base: format!("{}^", candidate.commit),
        }
        .into());
    };
    // A task that did not finish starts again from nothing.
    let task_dir = cx.run.task_dir(task);
    let repo_dir = task_dir.join("repo");
    if repo_dir.exists() {
        std::fs::remove_dir_all(&repo_dir).map_err(|source| EvalError::Io {
            action: "remove",
            path: repo_dir.clone(),
            source,
        })?;
    }
    let task_ref = cx.run.task_ref(task);
    user.delete_ref(&task_ref)?;
    let scratch = user.scratch(&repo_dir, cx.env)?;
    scratch.set_ref(&format!("refs/heads/{BASE_BRANCH}"), parent)?;
    if let Some(workdir) = &cx.workdir {
        copy_prompts(workdir, &repo_dir)?;
    }
    let scratch_env = cx.env.without(GIT_REPOSITORY_VARS);
    let mut session = Session::new(scratch, cx.config.clone(), scratch_env);
    session.limits = cx.limits.clone();
    let keep = Keep {
        events: io.events,
        summary: std::sync::Mutex::new(None),
    };
    let task_io = RunIo {
        events: &keep,
        gatekeeper: io.gatekeeper,
        interrupt: io.interrupt,
    };
    let options = task_options(task, &task_dir);
    let ran = crate::ops::run::run(session, &options, &task_io).await;
    let summary = keep
        .summary
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let error = match ran {
        Err(PipelineError::Interrupted) | Ok(Outcome::Interrupted) => {
            // Stopped: what its programs changed in the user's repository is still undone
            // where it can be (the task has no result to say it in; `--resume` runs it again).
            let _ = user.contain(&watched);
            return Err(PipelineError::Interrupted.into());
        }
        Err(error) => Some(crate::error_chain::chain(&error)),
        Ok(_) => None,
    };
    let scratch = Repo::open(&repo_dir, &cx.env.without(GIT_REPOSITORY_VARS))?;
    let prefix = format!("{}{task}-", cx.config.orchestrator.branch_prefix);
    let branch = scratch.branches_with_prefix(&prefix)?.into_iter().next();
    let stages = stage_verdicts(summary.as_ref());
    let pipeline_passed = stages
        .iter()
        .any(|s| s.stage == Stage::Impl.name() && s.verdict == "passed");
    let impl_committed = summary.as_ref().is_some_and(impl_has_code);
    let mut kept_as = None;
    let mut solved = None;
    let mut judge_ms = None;
    let mut error = error;
    if let Some((_, tip)) = &branch {
        user.take_objects(&scratch, *tip, parent)?;
        user.set_ref(&task_ref, *tip)?;
        kept_as = Some(task_ref.clone());
        if impl_committed {
            match io_interruptible(
                io,
                cx.checker
                    .judge(&scratch, task, *tip, commit, &found.hidden),
            )
            .await?
            {
                Ok(judged) => {
                    solved = Some(judged.solved);
                    judge_ms = Some(judged.elapsed_ms);
                }
                Err(e) => error = Some(crate::error_chain::chain(&e)),
            }
        } else if error.is_none() {
            // No code was written: the hidden tests fail as on the parent.
            solved = Some(false);
        }
    } else if error.is_none() {
        solved = Some(false);
    }
    let escaped = user.contain(&watched)?;
    if !escaped.is_empty() {
        let list: Vec<String> = escaped.iter().map(describe_escaped).collect();
        error = Some(format!(
            "the task changed your repository outside its scratch repository: {}",
            list.join("; ")
        ));
    }
    let judgement = match (error.is_some(), pipeline_passed, solved) {
        (true, _, _) | (false, _, None) => Judgement::Error,
        (false, true, Some(true)) => Judgement::PassedSolved,
        (false, true, Some(false)) => Judgement::FalsePass,
        (false, false, Some(true)) => Judgement::Cautious,
        (false, false, Some(false)) => Judgement::Unsolved,
    };
    let usage = summary.as_ref().and_then(|s| s.usage).unwrap_or_default();
    let result = TaskResult {
        task,
        commit: candidate.commit.clone(),
        subject: candidate.subject.clone(),
        stages,
        pipeline_passed,
        solved,
        judgement,
        tokens_in: usage.input + usage.cached_input + usage.cache_write_input,
        tokens_out: usage.output,
        cost_usd: match summary.as_ref() {
            Some(s) => s
                .cost_usd
                .or(Some(0.0).filter(|_| usage == Default::default())),
            None => Some(0.0),
        },
        elapsed_ms: began.elapsed().as_millis() as u64,
        judge_ms,
        kept_as,
        error,
    };
    write_json(&cx.run.result_path(task), &result)?;
    Ok(result)
}

/// One change the check around a task found in the user's repository, in words.
fn describe_escaped(found: &crate::git::Found) -> String {
    use crate::git::{How, Place};
    let what = match found.place {
        Place::Hook | Place::Config | Place::Info => found.name.clone(),
        Place::Ref => format!("the ref {}", found.name),
        Place::Head => "the checkout's HEAD".to_string(),
        Place::Index => "the checkout's index".to_string(),
        Place::File => format!("{} in the checkout", found.name),
    };
    let how = match found.how {
        How::Added => "added",
        How::Modified => "changed",
        How::Removed => "removed",
    };
    let after = if found.undone {
        "put back"
    } else {
        "left as it is"
    };
    format!("{what} was {how} ({after})")
}

/// The user's prompt templates (`.orchestrate/prompts/*.md` in `from`), copied into the task's
/// repository `to`, where the pipeline reads them: they are part of the configuration.
fn copy_prompts(from: &Path, to: &Path) -> Result<(), EvalError> {
    let dir = from.join(crate::pipeline::OVERRIDE_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "md") || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|source| EvalError::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        let target = to
            .join(crate::pipeline::OVERRIDE_DIR)
            .join(entry.file_name());
        write_file(&target, &bytes)?;
    }
    Ok(())
}

/// The pipeline's options for a task: its issue from `issue.md`, from the base branch, gates
/// off, up to impl (never `pr`).
fn task_options(task: u64, task_dir: &Path) -> RunOptions {
    let mut options = RunOptions::new(IssueRef {
        number: task,
        repo: None,
        host: None,
    });
    options.issue_file = Some(task_dir.join("issue.md"));
    options.until = Some(Stage::Impl);
    options.base = Some(BASE_BRANCH.to_string());
    options.force = true;
    for gate in Gate::ALL {
        options.gate_overrides.insert(gate, false);
    }
    options
}

/// Each stage's verdict, as the summary's rows say.
fn stage_verdicts(summary: Option<&Summary>) -> Vec<StageVerdict> {
    let Some(summary) = summary else {
        return Vec::new();
    };
    summary
        .rows
        .iter()
        .filter(|row| row.stage != Stage::Pr)
        .map(|row| StageVerdict {
            stage: row.stage.name().to_string(),
            verdict: match &row.result {
                RowResult::Done { verdict, .. } => verdict.as_str().to_string(),
                RowResult::Skipped { .. } => "skipped".into(),
                RowResult::Blocked { .. } => "blocked".into(),
                RowResult::NotRun { .. } => "not_run".into(),
            },
        })
        .collect()
}

/// Whether the impl stage committed code (passed, or blocked with its attempt committed).
fn impl_has_code(summary: &Summary) -> bool {
    let passed = summary.rows.iter().any(|row| {
        row.stage == Stage::Impl
            && matches!(&row.result, RowResult::Done { .. })
            && row.commit.is_some()
    });
    let blocked_with_code = matches!(
        &summary.outcome,
        Outcome::Blocked {
            stage: Stage::Impl,
            code: true,
            ..
        }
    );
    passed || blocked_with_code
}

fn parse_id(hex: &str) -> Result<ObjectId, EvalError> {
    ObjectId::parse(hex).ok_or_else(|| {
        PipelineError::BaseNotFound {
            base: hex.to_string(),
        }
        .into()
    })
}

/// The run's report from its plan and the results written so far; saved as `report.json`.
pub fn finish(run: &EvalRun) -> Result<EvalReport, EvalError> {
    let mut report = run.plan.clone();
    report.tasks = run
        .plan
        .chosen
        .iter()
        .filter(|task| run.result_path(**task).is_file())
        .map(|task| read_json::<TaskResult>(&run.result_path(*task)))
        .collect::<Result<_, _>>()?;
    report.summary = EvalSummary::of(&report.tasks);
    write_json(&run.dir.join("report.json"), &report)?;
    Ok(report)
}

/// Save the report's Markdown (rendered by the `ui`) beside `report.json`.
pub fn save_markdown(run: &EvalRun, text: &str) -> Result<PathBuf, EvalError> {
    let path = run.dir.join("report.md");
    write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// The report of finished run `run_id`.
pub fn load_report(repo: &Repo, run_id: &str) -> Result<EvalReport, EvalError> {
    let dir = run_dir(repo, run_id)?;
    let path = dir.join("report.json");
    if !path.is_file() {
        return Err(EvalError::NoReport {
            run_id: run_id.to_string(),
        });
    }
    read_json(&path)
}

/// What `eval --clean` removed.
#[derive(Debug, Default)]
pub struct Cleaned {
    pub refs: Vec<String>,
    /// The run's scratch repositories and worktrees were removed (its reports stay).
    pub scratch: bool,
}

/// Remove run `run_id`'s refs and scratch repositories; its plan and reports stay, so
/// `--compare` still reads it.
pub fn clean(repo: &Repo, run_id: &str) -> Result<Cleaned, EvalError> {
    let dir = run_dir(repo, run_id)?;
    let mut cleaned = Cleaned::default();
    for (name, _) in repo.refs_under(&format!("{REF_PREFIX}{run_id}/"))? {
        repo.delete_ref(&name)?;
        cleaned.refs.push(name);
    }
    let mut places = vec![dir.join("validate")];
    if let Ok(entries) = std::fs::read_dir(dir.join("tasks")) {
        places.extend(entries.flatten().map(|e| e.path().join("repo")));
    }
    for place in places {
        if place.exists() {
            std::fs::remove_dir_all(&place).map_err(|source| EvalError::Io {
                action: "remove",
                path: place.clone(),
                source,
            })?;
            cleaned.scratch = true;
        }
    }
    // git's records of the scratch repositories' worktrees were inside them: nothing of the
    // user's repository refers to them.
    Ok(cleaned)
}

fn create_dir(dir: &Path) -> Result<(), EvalError> {
    std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
        action: "create",
        path: dir.to_path_buf(),
        source,
    })
}

/// Write `bytes` to `path` whole or not at all (a killed run leaves no half file).
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), EvalError> {
    let io = |source| EvalError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), EvalError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| EvalError::BadRecord {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    write_file(path, &bytes)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| EvalError::BadRecord {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn run_ids_are_times_and_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let id = new_run_id(dir.path(), now);
        assert_eq!(id, "20260101-000000");
        std::fs::create_dir(dir.path().join(&id)).unwrap();
        assert_eq!(new_run_id(dir.path(), now), "20260101-000000-2");
        assert!(valid_run_id(&id));
        assert!(!valid_run_id("../x"));
        assert!(!valid_run_id(""));
        assert!(!valid_run_id(".hidden"));
    }
}
