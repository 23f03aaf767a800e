//! The stage loop: plan, lock, then run each stage in order, holding at gates, until the
//! pipeline is done, blocked, waiting for a person, interrupted, or `--until` says stop.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::Instant;

use super::branch::IssueBranch;
use super::events::{Event, EventSink, Plan, PlanGate, PlanModel, PlanStep, Summary, SummaryRow};
use super::gate::{self, GateOutcome, Gatekeeper};
use super::history::{IssueState, artifact_path};
use super::interrupt::Interrupt;
use super::lock::IssueLock;
use super::message::Message;
use super::plan::{self, Action, Start, Step};
use super::prompts::Prompts;
use super::spend::Ledger;
use super::stage::Stage;
use super::statedir::run_id;
use super::{PipelineError, RunOptions, RunOutcome, Session, review, triage};
use crate::git::{FileChange, ObjectId};
use crate::issue::{Issue, parse_issue, read_issue_file};
use crate::llm::aliases;
use crate::llm::defaults::{self, Defaults};
use crate::llm::pricing::PriceBook;
use crate::llm::{ModelContext, ModelHandle, Role};

/// Who the run talks to.
pub struct RunIo<'a> {
    pub events: &'a dyn EventSink,
    pub gatekeeper: &'a dyn Gatekeeper,
    pub interrupt: &'a Interrupt,
}

/// How one stage ended.
pub(super) enum StageResult {
    Passed {
        commit: ObjectId,
        verdict: String,
        rounds: u32,
    },
    Blocked {
        commit: Option<ObjectId>,
        reason: String,
        rounds: u32,
    },
}

/// Run the pipeline for one issue.
pub async fn run(
    session: &Session,
    opts: &RunOptions,
    io: &RunIo<'_>,
) -> Result<RunOutcome, PipelineError> {
    let repo = &session.repo;
    let Some(workdir) = repo.workdir().map(PathBuf::from) else {
        return Err(PipelineError::BareRepository {
            path: repo.common_dir().to_path_buf(),
        });
    };
    let prefix = &session.config.orchestrator.branch_prefix;
    let issue = load_issue(session, opts)?;
    let located = IssueBranch::locate(
        repo,
        prefix,
        issue.number,
        &issue.title,
        opts.base.as_deref(),
    )?;
    if let Some(path) = repo.checked_out_at(&located.name)? {
        return Err(PipelineError::BranchCheckedOut {
            branch: located.name,
            path,
        });
    }
    let prompts = Prompts::load(Some(&workdir))?;

    let lock = if opts.dry_run {
        None
    } else {
        let (lock, stale) = IssueLock::acquire(&session.state.locks(), issue.number)?;
        if let Some(stale) = stale {
            io.events.emit(Event::StaleLockTakenOver {
                issue: issue.number,
                pid: stale.pid,
            });
        }
        Some(lock)
    };
    // Under the lock, read the branch again: another run may have moved it meanwhile.
    let branch = match IssueBranch::existing(repo, prefix, issue.number)? {
        Some(existing) => existing,
        None => located,
    };
    // Before the branch exists, its base is what it will start from: artifacts already there
    // (a design written by hand on main) count.
    // A dry run changes nothing, not even the local cache.
    let cache = (!opts.dry_run).then(|| session.state.history_cache());
    let state = IssueState::load(
        repo,
        branch.head(),
        &session.config,
        issue.number,
        cache.as_deref(),
    )?;
    let steps = plan::plan(&state, opts, &branch.name)?;

    let model_ctx = ModelContext::new(workdir, session.env.clone())?;
    let defaults = choose_defaults(session, &steps, &model_ctx).await;
    let mut ledger = Ledger::new(
        PriceBook::new(&session.config.prices),
        session.config.budget.clone(),
        issue.number,
    );
    if session.config.budget.is_set()
        && let Some(brief) = artifact_path(&session.config.paths, Stage::Triage, issue.number)
    {
        ledger.read_branch(repo, branch.tip, &brief)?;
    }

    let mut run = Run {
        session,
        opts,
        io,
        issue,
        branch,
        state,
        prompts,
        models: RefCell::new(BTreeMap::new()),
        model_ctx,
        defaults,
        ledger: Mutex::new(ledger),
        transcripts: PathBuf::new(),
        calls: Cell::new(0),
        context: RefCell::new(None),
    };
    io.events.emit(Event::Plan(run.plan_event(&steps)));
    for path in &run.prompts.unknown {
        io.events.emit(Event::Warning {
            message: format!(
                "{} matches no prompt template and is not used",
                path.display()
            ),
        });
    }
    run.check_models(&steps)?;
    if opts.dry_run {
        return Ok(RunOutcome::Planned);
    }
    run.transcripts = session.state.transcripts(run.issue.number, &run_id());
    let outcome = run.execute(steps).await;
    drop(lock);
    outcome
}

/// Look for zero-config models only when a stage that runs has a role nobody configured.
async fn choose_defaults(
    session: &Session,
    steps: &[Step],
    ctx: &ModelContext,
) -> Option<Result<Defaults, String>> {
    let config = &session.config;
    let unconfigured = steps.iter().any(|step| {
        matches!(step.action, Action::Run(_))
            && match step.stage {
                Stage::Lld => config.lld.drafter.is_none() || config.lld.reviewer.is_none(),
                Stage::Spec => config.spec.drafter.is_none() || config.spec.reviewer.is_none(),
                _ => false,
            }
    });
    if !unconfigured {
        return None;
    }
    let found = defaults::look(&ctx.env, config.providers.get("ollama"), &ctx.http).await;
    Some(defaults::choose(&found))
}

/// The issue from `--issue-file`; else, on a re-run, from the brief already on the branch.
fn load_issue(session: &Session, opts: &RunOptions) -> Result<Issue, PipelineError> {
    if let Some(path) = &opts.issue_file {
        return Ok(read_issue_file(opts.issue, path)?);
    }
    let prefix = &session.config.orchestrator.branch_prefix;
    if let Some(branch) = IssueBranch::existing(&session.repo, prefix, opts.issue)?
        && let Some(brief_path) = artifact_path(&session.config.paths, Stage::Triage, opts.issue)
        && let Some(bytes) = session.repo.read_file(branch.head(), &brief_path)?
    {
        let text = String::from_utf8_lossy(&bytes);
        if !text.trim().is_empty() {
            return Ok(parse_issue(opts.issue, &text));
        }
    }
    Err(PipelineError::NoIssueSource {
        message: format!(
            "issue #{} has no brief on a branch yet, and reading issues from GitHub is not available yet",
            opts.issue
        ),
    })
}

/// One run in progress.
pub(super) struct Run<'a> {
    pub session: &'a Session,
    pub opts: &'a RunOptions,
    pub io: &'a RunIo<'a>,
    pub issue: Issue,
    pub branch: IssueBranch,
    /// The branch's state when the run started.
    pub state: IssueState,
    pub prompts: Prompts,
    pub(super) models: RefCell<BTreeMap<(Stage, Role), Rc<ModelHandle>>>,
    pub(super) model_ctx: ModelContext,
    /// Zero-config models, when a stage that runs names none: chosen, or why none could be.
    pub(super) defaults: Option<Result<Defaults, String>>,
    pub(super) ledger: Mutex<Ledger>,
    pub(super) transcripts: PathBuf,
    pub(super) calls: Cell<u32>,
    pub(super) context: RefCell<Option<String>>,
}

impl Run<'_> {
    /// Commit files on the issue branch.
    pub fn commit(
        &mut self,
        stage: &str,
        files: &[FileChange],
        message: &Message,
    ) -> Result<ObjectId, PipelineError> {
        self.branch.commit(
            &self.session.repo,
            &self.session.state,
            self.issue.number,
            stage,
            files,
            &message.render(),
        )
    }

    /// The text of `path` at the branch head, if present.
    pub fn read_artifact(&self, path: &str) -> Result<Option<String>, PipelineError> {
        Ok(self
            .session
            .repo
            .read_file(self.branch.head(), path)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    pub fn artifact(&self, stage: Stage) -> String {
        artifact_path(&self.session.config.paths, stage, self.issue.number).unwrap_or_default()
    }

    pub(super) async fn run_stage(
        &mut self,
        stage: Stage,
        start: Start,
        reason: &str,
    ) -> Result<StageResult, PipelineError> {
        self.io.events.emit(Event::StageStarted {
            stage,
            reason: reason.to_string(),
        });
        let started = Instant::now();
        let result = match stage {
            Stage::Triage => triage::run(self).await?,
            Stage::Lld | Stage::Spec => review::run(self, stage, start).await?,
            Stage::Impl | Stage::Pr => {
                return Err(PipelineError::StageUnavailable {
                    stage,
                    last: Some(Stage::Spec),
                });
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let spent = self
            .ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .run_spent(stage);
        let event = match &result {
            StageResult::Passed {
                commit,
                verdict,
                rounds,
            } => Event::StageFinished {
                stage,
                verdict: verdict.clone(),
                rounds: *rounds,
                elapsed_ms,
                commit: Some(commit.short()),
                reason: None,
                usage: spent.usage(),
                cost_usd: spent.cost(),
            },
            StageResult::Blocked {
                commit,
                reason,
                rounds,
            } => Event::StageFinished {
                stage,
                verdict: "blocked".into(),
                rounds: *rounds,
                elapsed_ms,
                commit: commit.map(|c| c.short()),
                reason: Some(reason.clone()),
                usage: spent.usage(),
                cost_usd: spent.cost(),
            },
        };
        self.io.events.emit(event);
        Ok(result)
    }

    async fn execute(&mut self, steps: Vec<Step>) -> Result<RunOutcome, PipelineError> {
        let mut rows = Vec::new();
        let outcome = self.execute_steps(&steps, &mut rows).await;
        let outcome = match outcome {
            Err(PipelineError::Interrupted) => Ok(RunOutcome::Interrupted),
            other => other,
        };
        if let Ok(outcome) = &outcome {
            for step in &steps {
                if !rows.iter().any(|r| r.stage == step.stage) {
                    let reason = match step.action {
                        Action::Beyond | Action::Unavailable => step.reason.as_str(),
                        _ => "",
                    };
                    rows.push(row(step.stage, "not run", reason, None, None));
                }
            }
            let total = self
                .ledger
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .run_total();
            self.io.events.emit(Event::Finished(Summary {
                issue: self.issue.number,
                branch: self.branch.name.clone(),
                outcome: outcome_name(outcome).into(),
                rows,
                usage: total.usage(),
                cost_usd: total.cost(),
            }));
        }
        outcome
    }

    async fn execute_steps(
        &mut self,
        steps: &[Step],
        rows: &mut Vec<SummaryRow>,
    ) -> Result<RunOutcome, PipelineError> {
        let mut last_done: Option<Stage> = None;
        for step in steps {
            let stage = step.stage;
            if self.io.interrupt.is_triggered() {
                return Err(PipelineError::Interrupted);
            }
            let mut ran = false;
            match &step.action {
                Action::Beyond => {
                    rows.push(row(stage, "not run", &step.reason, None, None));
                    continue;
                }
                Action::Unavailable => {
                    return Err(PipelineError::StageUnavailable {
                        stage,
                        last: last_done,
                    });
                }
                Action::Skip => {
                    self.io.events.emit(Event::StageSkipped {
                        stage,
                        reason: step.reason.clone(),
                    });
                    let commit = self
                        .state
                        .stage(stage)
                        .last_change
                        .as_ref()
                        .map(|c| c.id.short());
                    rows.push(row(stage, "skipped", &step.reason, commit, None));
                }
                Action::Run(start) => {
                    let started = Instant::now();
                    let result = self.run_stage(stage, start.clone(), &step.reason).await?;
                    let elapsed = Some(started.elapsed().as_millis() as u64);
                    match result {
                        StageResult::Passed {
                            commit,
                            verdict,
                            rounds,
                        } => {
                            let detail = rounds_detail(&verdict, rounds);
                            rows.push(row(stage, "done", &detail, Some(commit.short()), elapsed));
                            ran = true;
                        }
                        StageResult::Blocked { commit, reason, .. } => {
                            rows.push(row(
                                stage,
                                "blocked",
                                &reason,
                                commit.map(|c| c.short()),
                                elapsed,
                            ));
                            return Ok(RunOutcome::Blocked { stage, reason });
                        }
                    }
                }
            }
            let flagged = self.opts.skip.contains(&stage);
            let done = ran || (!flagged && self.state.stage(stage).state.is_done());
            if done {
                last_done = Some(stage);
            }
            if self.opts.until == Some(stage) {
                return Ok(RunOutcome::StoppedAfter(stage));
            }
            if let Some(gate) = stage.gate_after()
                && done
                && gate::enabled(&self.opts.gates, gate)
                && (ran || !self.state.gate_passed(gate))
            {
                match self.hold_at_gate(gate, stage).await? {
                    GateOutcome::Passed => {}
                    GateOutcome::Waiting => {
                        if let Some(last) = rows.last_mut() {
                            last.result = format!("{}, waiting at {gate}", last.result);
                        }
                        return Ok(RunOutcome::AtGate { gate });
                    }
                    GateOutcome::Blocked(reason) => {
                        if let Some(last) = rows.last_mut() {
                            last.result = "blocked".into();
                            last.detail = reason.clone();
                        }
                        return Ok(RunOutcome::Blocked { stage, reason });
                    }
                }
            }
        }
        Ok(RunOutcome::Completed)
    }

    fn plan_event(&self, steps: &[Step]) -> Plan {
        let plan_steps = steps
            .iter()
            .map(|step| {
                let stage = step.stage;
                let action = match step.action {
                    Action::Run(_) => "run",
                    Action::Skip => "skip",
                    Action::Beyond => "not run",
                    Action::Unavailable => "unavailable",
                };
                let models = if matches!(step.action, Action::Run(_)) {
                    Run::roles(stage)
                        .iter()
                        .map(|(role, _)| {
                            let chosen = self.model_spec(stage, *role);
                            PlanModel {
                                role: *role,
                                model: chosen.as_ref().map(|c| aliases::resolve(&c.spec).label()),
                                why: chosen.and_then(|c| c.why),
                            }
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let gate = stage
                    .gate_after()
                    .filter(|_| stage.is_available())
                    .map(|gate| PlanGate {
                        gate,
                        enabled: gate::enabled(&self.opts.gates, gate),
                        passed: self.state.gate_passed(gate),
                    });
                PlanStep {
                    stage,
                    action: action.into(),
                    reason: step.reason.clone(),
                    artifact: artifact_path(&self.session.config.paths, stage, self.issue.number),
                    models,
                    gate,
                }
            })
            .collect();
        Plan {
            issue: self.issue.number,
            title: self.issue.title.clone(),
            branch: self.branch.name.clone(),
            branch_exists: self.branch.tip.is_some(),
            base: self.branch.base_name.clone(),
            steps: plan_steps,
            dry_run: self.opts.dry_run,
        }
    }
}

fn row(
    stage: Stage,
    result: &str,
    detail: &str,
    commit: Option<String>,
    elapsed_ms: Option<u64>,
) -> SummaryRow {
    SummaryRow {
        stage,
        result: result.into(),
        detail: detail.into(),
        commit,
        elapsed_ms,
    }
}

fn rounds_detail(verdict: &str, rounds: u32) -> String {
    match rounds {
        0 => verdict.to_string(),
        1 => format!("{verdict} in 1 round"),
        n => format!("{verdict} in {n} rounds"),
    }
}

fn outcome_name(outcome: &RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Completed => "completed",
        RunOutcome::StoppedAfter(_) => "stopped",
        RunOutcome::Planned => "planned",
        RunOutcome::Blocked { .. } => "blocked",
        RunOutcome::AtGate { .. } => "waiting",
        RunOutcome::Interrupted => "interrupted",
    }
}
