//! The stage loop: plan, lock, then run each stage in order, holding at gates, until the
//! pipeline is done, blocked, waiting for a person, interrupted, or `--until` says stop.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use super::branch::IssueBranch;
use super::events::{Event, EventSink, Plan, PlanGate, PlanModel, PlanStep, Summary, SummaryRow};
use super::gate::{self, GateChoice, GatePrompt, Gatekeeper};
use super::grounding::RepoContext;
use super::history::{IssueState, artifact_path};
use super::interrupt::Interrupt;
use super::lock::IssueLock;
use super::message::Message;
use super::plan::{self, Action, Start, Step};
use super::prompts::Prompts;
use super::stage::{Gate, Stage};
use super::statedir::run_id;
use super::{PipelineError, RunOptions, RunOutcome, Session, review, triage};
use crate::config::ModelSpec;
use crate::git::{FileChange, ObjectId};
use crate::issue::{Issue, parse_issue, read_issue_file};
use crate::llm::{self, ModelContext, ModelHandle, Prompt, Reply, Request, RetryNotice, Role};

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

    let mut run = Run {
        session,
        opts,
        io,
        issue,
        branch,
        state,
        prompts,
        models: RefCell::new(BTreeMap::new()),
        model_ctx: ModelContext {
            workdir,
            env: session.env.clone(),
        },
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
    models: RefCell<BTreeMap<(Stage, Role), Rc<ModelHandle>>>,
    model_ctx: ModelContext,
    transcripts: PathBuf,
    calls: Cell<u32>,
    context: RefCell<Option<String>>,
}

impl Run<'_> {
    /// The model configured for `role` in `stage`, if any.
    pub fn model_spec(&self, stage: Stage, role: Role) -> Option<&ModelSpec> {
        let config = &self.session.config;
        match (stage, role) {
            (Stage::Triage, Role::Triage) => config.triage.drafter.as_ref(),
            (Stage::Lld, Role::Drafter) => config.lld.drafter.as_ref(),
            (Stage::Lld, Role::Reviewer) => config.lld.reviewer.as_ref(),
            (Stage::Spec, Role::Drafter) => config.spec.drafter.as_ref(),
            (Stage::Spec, Role::Reviewer) => config.spec.reviewer.as_ref(),
            (Stage::Impl, Role::Implementer) => config.implement.implementer.as_ref(),
            _ => None,
        }
    }

    /// The roles a stage calls, and whether each is required.
    fn roles(stage: Stage) -> &'static [(Role, bool)] {
        match stage {
            Stage::Triage => &[(Role::Triage, false)],
            Stage::Lld | Stage::Spec => &[(Role::Drafter, true), (Role::Reviewer, true)],
            Stage::Impl => &[(Role::Implementer, true)],
            Stage::Pr => &[],
        }
    }

    /// Every model the planned stages need, built before anything is called or committed.
    fn check_models(&self, steps: &[Step]) -> Result<(), PipelineError> {
        for step in steps.iter().filter(|s| matches!(s.action, Action::Run(_))) {
            for (role, required) in Run::roles(step.stage) {
                match self.model_spec(step.stage, *role) {
                    Some(_) => {
                        self.model(step.stage, *role)?;
                    }
                    None if *required => {
                        return Err(PipelineError::NoModel {
                            stage: step.stage,
                            role: *role,
                        });
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// The client for `role` in `stage`, built on first use.
    pub fn model(&self, stage: Stage, role: Role) -> Result<Rc<ModelHandle>, PipelineError> {
        if let Some(model) = self.models.borrow().get(&(stage, role)) {
            return Ok(model.clone());
        }
        let spec = self
            .model_spec(stage, role)
            .ok_or(PipelineError::NoModel { stage, role })?;
        let provider = self
            .session
            .config
            .providers
            .get(&spec.provider)
            .cloned()
            .ok_or_else(|| PipelineError::ModelSetup {
                stage,
                role,
                model: spec.label(),
                source: llm::LlmError::Unsupported {
                    provider: spec.provider.clone(),
                },
            })?;
        let handle = llm::build(spec, &provider, &self.model_ctx).map_err(|source| {
            PipelineError::ModelSetup {
                stage,
                role,
                model: spec.label(),
                source,
            }
        })?;
        let handle = Rc::new(handle);
        self.models
            .borrow_mut()
            .insert((stage, role), handle.clone());
        Ok(handle)
    }

    /// The repository context for prompts, read once per run from the branch's head.
    pub fn repo_context(&self) -> Result<String, PipelineError> {
        if let Some(text) = self.context.borrow().as_ref() {
            return Ok(text.clone());
        }
        let text = RepoContext::read(&self.session.repo, self.branch.head())?.render();
        *self.context.borrow_mut() = Some(text.clone());
        Ok(text)
    }

    /// Call a model, racing Ctrl-C; the exchange is kept as a transcript either way.
    pub async fn call(
        &self,
        stage: Stage,
        role: Role,
        round: u32,
        prompt: Prompt,
    ) -> Result<Reply, PipelineError> {
        let model = self.model(stage, role)?;
        let label = model.label();
        let events = self.io.events;
        events.emit(Event::ModelStarted {
            stage,
            role,
            model: label.clone(),
            round,
        });
        let request = Request {
            prompt,
            role,
            stage: stage.name().to_string(),
            issue: self.issue.number,
            round,
        };
        let notice = |n: RetryNotice| {
            events.emit(Event::ModelRetrying {
                stage,
                role,
                model: label.clone(),
                attempt: n.attempt,
                attempts: n.attempts,
                error: n.error.to_string(),
                class: n.error.class(),
                delay_ms: n.delay.as_millis() as u64,
            })
        };
        let started = Instant::now();
        let outcome = tokio::select! {
            result = model.call(&request, &notice) => Some(result),
            _ = self.io.interrupt.triggered() => None,
        };
        self.save_transcript(stage, role, round, &label, &request.prompt.text, &outcome);
        match outcome {
            None => Err(PipelineError::Interrupted),
            Some(Err(source)) => Err(PipelineError::Model {
                stage,
                role,
                model: label,
                source,
            }),
            Some(Ok(reply)) => {
                events.emit(Event::ModelFinished {
                    stage,
                    role,
                    model: label,
                    round,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    usage: reply.usage,
                });
                Ok(reply)
            }
        }
    }

    fn save_transcript(
        &self,
        stage: Stage,
        role: Role,
        round: u32,
        model: &str,
        prompt: &str,
        outcome: &Option<Result<Reply, llm::LlmError>>,
    ) {
        let seq = self.calls.get() + 1;
        self.calls.set(seq);
        let error;
        let reply = match outcome {
            Some(Ok(reply)) => Ok(reply.text.as_str()),
            Some(Err(e)) => {
                error = e.to_string();
                Err(error.as_str())
            }
            None => Err("interrupted"),
        };
        let name = format!("{seq:02}-{stage}-{}-round{round}", role.name());
        if let Err(e) =
            self.session
                .state
                .save_transcript(&self.transcripts, &name, model, prompt, reply)
        {
            self.io.events.emit(Event::Warning {
                message: format!(
                    "could not save the model transcript in {}: {e}",
                    self.transcripts.display()
                ),
            });
        }
    }

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

    async fn run_stage(
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
            self.io.events.emit(Event::Finished(Summary {
                issue: self.issue.number,
                branch: self.branch.name.clone(),
                outcome: outcome_name(outcome).into(),
                rows,
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

    /// Ask at a gate until it is passed, or stop there.
    async fn hold_at_gate(
        &mut self,
        gate: Gate,
        stage: Stage,
    ) -> Result<GateOutcome, PipelineError> {
        let path = self.artifact(stage);
        loop {
            let gatekeeper = self.io.gatekeeper;
            if !gatekeeper.can_ask() {
                self.io.events.emit(Event::GateWaiting {
                    gate,
                    issue: self.issue.number,
                    artifact: path.clone(),
                    commands: gate::commands(self.issue.number, gate, &self.session.config.gates),
                });
                return Ok(GateOutcome::Waiting);
            }
            let prompt = GatePrompt {
                gate,
                issue: self.issue.number,
                title: self.issue.title.clone(),
                artifact_path: path.clone(),
                artifact: self.read_artifact(&path)?.unwrap_or_default(),
                editor: self.session.repo.editor().ok(),
            };
            let choice = tokio::select! {
                choice = gatekeeper.ask(&prompt) => choice,
                _ = self.io.interrupt.triggered() => return Err(PipelineError::Interrupted),
            };
            match choice {
                GateChoice::Approve => {
                    let commit =
                        self.commit("gate", &[], &Message::gate(gate, self.issue.number, true))?;
                    self.io.events.emit(Event::GateDecided {
                        gate,
                        decision: "approved".into(),
                        commit: commit.short(),
                    });
                    return Ok(GateOutcome::Passed);
                }
                GateChoice::Reject(feedback) => {
                    let mut message = Message::gate(gate, self.issue.number, false);
                    message.paragraph(feedback.clone());
                    let commit = self.commit("gate", &[], &message)?;
                    self.io.events.emit(Event::GateDecided {
                        gate,
                        decision: "rejected".into(),
                        commit: commit.short(),
                    });
                    if let StageResult::Blocked { reason, .. } = self
                        .run_stage(
                            stage,
                            Start::FromFeedback(feedback),
                            &format!("rejected at {gate}: revising with the feedback"),
                        )
                        .await?
                    {
                        return Ok(GateOutcome::Blocked(reason));
                    }
                }
                GateChoice::Edited(text) => {
                    let mut message = Message::new(format!(
                        "orchestrate({stage}): edit {} for #{} at {gate}",
                        stage.artifact_noun(),
                        self.issue.number
                    ));
                    message
                        .paragraph(format!("Edited by hand at the {gate} gate."))
                        .trailer(super::history::TRAILER_ISSUE, self.issue.number.to_string());
                    let files = [FileChange {
                        path: path.clone(),
                        content: text.into_bytes(),
                    }];
                    let commit = self.commit(stage.name(), &files, &message)?;
                    self.io.events.emit(Event::Committed {
                        stage,
                        commit: commit.short(),
                        verdict: "edited".into(),
                        paths: vec![path.clone()],
                    });
                }
                GateChoice::Quit => {
                    self.io.events.emit(Event::GateWaiting {
                        gate,
                        issue: self.issue.number,
                        artifact: path.clone(),
                        commands: gate::commands(
                            self.issue.number,
                            gate,
                            &self.session.config.gates,
                        ),
                    });
                    return Ok(GateOutcome::Waiting);
                }
            }
        }
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
                        .map(|(role, _)| PlanModel {
                            role: *role,
                            model: self.model_spec(stage, *role).map(ModelSpec::label),
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

enum GateOutcome {
    Passed,
    Waiting,
    Blocked(String),
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
