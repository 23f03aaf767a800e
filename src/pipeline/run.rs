//! The run loop: plan, choose and build the models, then run each stage in order, holding at
//! gates, until the pipeline is done, blocked, waiting for a person, interrupted, or the run
//! reaches the stage it was asked to stop after.
//!
//! This is the only place that dispatches stages, and the only place that runs a stage again
//! after a person rejected it at its gate: the gate returns the decision, the loop acts on it.
//! The run owns its state ([`RunState`]), so the whole run can move between threads.

use std::path::PathBuf;
use std::time::Instant;

use super::branch::{IssueBranch, IssueState};
use super::context::{self, RunState, StageContext};
use super::events::{
    Event, ImplementerKind, Outcome, Plan, PlanGate, PlanImpl, PlanModel, PlanPullRequest,
    PlanStep, RowResult, Summary, SummaryRow, Warning,
};
use super::gate::{self, Held};
use super::github::{self, Connection};
use super::io::RunIo;
use super::local::lock::IssueLock;
use super::models::Models;
use super::plan::{self, Planned, Reason, Start, Step};
use super::prompts::Prompts;
use super::spend::Ledger;
use super::stages::{self, StageOutcome, implement};
use super::stale::{self, InputContext};
use super::{PipelineError, RunOptions, Session};
use crate::config::OnStale;
use crate::config::{Config, GatesConfig, ProviderKind};
use crate::issue::Issue;
use crate::llm::ModelContext;
use crate::llm::pricing::PriceBook;
use crate::stage::{Gate, Role, Stage};
use crate::testing::TestCommand;

/// An issue claimed for a run: its text, its branch (existing, or the one the run will
/// create), the branch's state read under the issue's lock, and the lock (none for a dry run).
pub struct Claim {
    pub issue: Issue,
    pub branch: IssueBranch,
    pub state: IssueState,
    pub lock: Option<IssueLock>,
    /// GitHub, when the issue was read from it.
    pub github: Option<Connection>,
}

/// Run the pipeline for one claimed issue.
pub async fn run(
    mut session: Session,
    claim: Claim,
    opts: &RunOptions,
    io: &RunIo<'_>,
) -> Result<Outcome, PipelineError> {
    let Some(workdir) = session.repo.workdir().map(PathBuf::from) else {
        return Err(PipelineError::BareRepository {
            path: session.repo.common_dir().to_path_buf(),
        });
    };
    let Claim {
        issue,
        branch,
        state,
        lock,
        github,
    } = claim;
    let prompts = Prompts::load(Some(&workdir))?;
    let issue_text = issue.input_text();
    let stale = stale::staleness(
        &state,
        &InputContext {
            repo: &session.repo,
            config: &session.config,
            prompts: &prompts,
            issue: issue.number,
            issue_text: Some(&issue_text),
        },
    )?;
    let keep_stale = opts.keep_stale || session.config.orchestrator.on_stale == OnStale::Keep;
    let plan = plan::plan(&state, &stale, keep_stale, opts, &branch.name)?;
    let gates = gate::effective(session.config.gates, &state, &opts.gate_overrides);
    let runs_impl = plan
        .iter()
        .any(|p| p.stage == Stage::Impl && matches!(p.step, Step::Run(_)));
    let runs_pr = plan
        .iter()
        .any(|p| p.stage == Stage::Pr && matches!(p.step, Step::Run(_)));
    // A run that will stop at the before_pr gate (nobody can answer, and the gate has not
    // been passed for the code this run ends with) does not reach the pull request.
    let stops_before_pr = gates.get(Gate::BeforePr)
        && !io.gatekeeper.can_ask()
        && (runs_impl || !state.gate_passed(Gate::BeforePr));
    // The pull request's repository and token, found before any model is
    // called, and before anything copies the redactor the token is added to.
    let github = match (runs_pr && !stops_before_pr && !opts.dry_run, github) {
        (true, reading) => {
            let target = github::target(&session, None)?;
            match reading.filter(|c| c.forge().repo() == &target.repo) {
                Some(connection) => Some(connection),
                None => Some(github::connect(&mut session, target, io).await?),
            }
        }
        (false, reading) => reading,
    };

    // Who commits is known before anything is paid for: a model's work must not be refused
    // its commit.
    if !opts.dry_run {
        session.repo.committer()?;
    }
    let mut ctx = ModelContext::new(workdir, session.env.clone(), session.redactor.clone())?;
    ctx.limits = session.limits.clone();
    ctx.key_variables = session.key_variables();
    ctx.agent_env = session.config.sandbox.agent_env.clone();
    let mut ledger = Ledger::new(
        PriceBook::new(&session.config.prices),
        session.config.budget.clone(),
        issue.number,
    );
    if session.config.budget.is_set()
        && let Some(brief) = session.config.paths.artifact(Stage::Triage, issue.number)
    {
        ledger.read_branch(&session.repo, branch.tip, &brief)?;
    }
    let tests = runs_impl
        .then(|| context::test_command(&session.config, &session.repo, &session.env, branch.head()))
        .flatten();
    let mut models = Models::choose(&session.config, &plan, ctx, ledger).await;
    let pr_base = match (&opts.base, &branch.base_name) {
        (Some(base), _) | (None, Some(base)) => Some(base.clone()),
        (None, None) => match session.repo.head()? {
            crate::git::Head::Branch { name, .. } => Some(name),
            _ => None,
        },
    };
    let pull_request = runs_pr.then(|| plan_pull_request(&session, pr_base.clone()));
    io.events.emit(Event::Plan(plan_event(PlanView {
        plan: &plan,
        models: &models,
        gates: &gates,
        state: &state,
        issue: &issue,
        branch: &branch,
        config: &session.config,
        dry_run: opts.dry_run,
        tests: tests.as_ref(),
        worktrees: session.state.root().join("worktrees"),
        pull_request,
    })));
    // Found before any model is called, not when the run reaches the stage.
    if runs_impl && tests.is_none() && !opts.dry_run {
        return Err(PipelineError::NoTestCommand);
    }
    if opts.update_base && !runs_impl {
        io.events.emit(Event::Warning(Warning::UpdateBaseUnused));
    }
    for path in &prompts.unknown {
        io.events.emit(Event::Warning(Warning::UnusedPromptFile {
            path: path.clone(),
        }));
    }
    models.build(&session.config, &plan)?;
    if !opts.dry_run {
        let transcripts = session
            .state
            .transcripts(issue.number, session.redactor.clone());
        models.keep_transcripts(transcripts);
    }
    let mut run = Run {
        state: RunState {
            session,
            issue,
            branch,
            state,
            prompts,
            models,
            skip: opts.skip.clone(),
            repo_context: None,
            github,
            pr_base,
            update_base: opts.update_base,
            push_hooks_skipped: false,
        },
        gates,
        opts,
        io,
        rows: Vec::new(),
        _lock: lock,
    };
    if opts.dry_run {
        run.finish(&Outcome::Planned);
        return Ok(Outcome::Planned);
    }
    run.execute(plan).await
}

/// One run in progress.
struct Run<'a> {
    state: RunState,
    /// The gates that are on for this run.
    gates: GatesConfig,
    opts: &'a RunOptions,
    io: &'a RunIo<'a>,
    rows: Vec<SummaryRow>,
    /// Held until the run ends.
    _lock: Option<IssueLock>,
}

impl Run<'_> {
    async fn execute(&mut self, plan: Vec<Planned>) -> Result<Outcome, PipelineError> {
        let outcome = match self.execute_plan(&plan).await {
            Err(PipelineError::Interrupted) => Ok(Outcome::Interrupted),
            other => other,
        };
        if let Ok(outcome) = &outcome {
            for planned in &plan {
                if !self.rows.iter().any(|r| r.stage == planned.stage) {
                    let reason = match planned.step {
                        Step::Beyond => Some(planned.reason.clone()),
                        _ => None,
                    };
                    self.rows
                        .push(row(planned.stage, RowResult::NotRun { reason }, None, None));
                }
            }
            self.finish(outcome);
        }
        outcome
    }

    /// The last event: how the run ended, with a row per stage.
    fn finish(&mut self, outcome: &Outcome) {
        let total = self.state.models.run_total();
        self.io.events.emit(Event::Finished(Summary {
            issue: self.state.issue.number,
            branch: self.state.branch.name.clone(),
            outcome: outcome.clone(),
            rows: std::mem::take(&mut self.rows),
            usage: total.usage(),
            cost_usd: total.cost(),
        }));
    }

    async fn execute_plan(&mut self, plan: &[Planned]) -> Result<Outcome, PipelineError> {
        for planned in plan {
            let stage = planned.stage;
            if self.io.interrupt.is_triggered() {
                return Err(PipelineError::Interrupted);
            }
            let mut ran = false;
            match &planned.step {
                Step::Beyond => {
                    let reason = Some(planned.reason.clone());
                    self.rows
                        .push(row(stage, RowResult::NotRun { reason }, None, None));
                    continue;
                }
                Step::Skip => {
                    self.io.events.emit(Event::StageSkipped {
                        stage,
                        reason: planned.reason.clone(),
                    });
                    let commit = self.state.state.stage(stage).short_commit();
                    let reason = planned.reason.clone();
                    self.rows
                        .push(row(stage, RowResult::Skipped { reason }, commit, None));
                }
                Step::Run(start) => {
                    if let Some(blocked) = self
                        .run_stage(stage, start.clone(), planned.reason.clone())
                        .await?
                    {
                        return Ok(blocked);
                    }
                    ran = true;
                }
            }
            let flagged = self.opts.skip.contains(&stage);
            let done = ran || (!flagged && self.state.state.stage(stage).state.is_done());
            if self.opts.until == Some(stage) {
                return Ok(Outcome::StoppedAfter { stage });
            }
            if let Some(gate) = stage.gate_after()
                && done
                && self.gates.get(gate)
                && (ran || !self.state.state.gate_passed(gate))
                && let Some(stopped) = self.pass_gate(gate, ran).await?
            {
                return Ok(stopped);
            }
        }
        Ok(Outcome::Completed)
    }

    /// Run one stage and record its row; `Some(outcome)` when the run stops there (blocked).
    async fn run_stage(
        &mut self,
        stage: Stage,
        start: Start,
        reason: Reason,
    ) -> Result<Option<Outcome>, PipelineError> {
        self.io.events.emit(Event::StageStarted { stage, reason });
        let started = Instant::now();
        let outcome = {
            let mut cx = StageContext::new(stage, &mut self.state, self.io);
            stages::run(&mut cx, start).await?
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let spent = self.state.models.run_spent(stage);
        let (verdict, commit, rounds, reason) = match &outcome {
            StageOutcome::Passed {
                commit,
                verdict,
                rounds,
            } => (*verdict, Some(*commit), *rounds, None),
            StageOutcome::Blocked {
                commit,
                reason,
                rounds,
            } => (
                crate::pipeline::branch::Verdict::Blocked,
                *commit,
                *rounds,
                Some(reason.clone()),
            ),
        };
        self.io.events.emit(Event::StageFinished {
            stage,
            verdict,
            rounds,
            elapsed_ms,
            commit: commit.map(|c| c.short()),
            reason: reason.clone(),
            usage: spent.usage(),
            cost_usd: spent.cost(),
        });
        // A stage run again after a rejection replaces its row.
        self.rows.retain(|r| r.stage != stage);
        let committed = commit.is_some();
        let code = match commit {
            Some(commit) if stage == Stage::Impl => self.holds_code(commit, stage)?,
            _ => false,
        };
        let commit = commit.map(|c| c.short());
        match reason {
            None => {
                let result = RowResult::Done { verdict, rounds };
                self.rows.push(row(stage, result, commit, Some(elapsed_ms)));
                Ok(None)
            }
            Some(reason) => {
                let result = RowResult::Blocked {
                    reason: reason.clone(),
                };
                self.rows.push(row(stage, result, commit, Some(elapsed_ms)));
                let paths = &self.state.session.config.paths;
                let issue = self.state.issue.number;
                Ok(Some(Outcome::Blocked {
                    stage,
                    reason,
                    artifact: paths.artifact(stage, issue),
                    reviews: stage.is_reviewed().then(|| paths.reviews(stage, issue)),
                    committed,
                    code,
                    rounds,
                }))
            }
        }
    }

    /// Whether `commit` (a blocked stage's) changed anything besides the stage's own
    /// documents: the impl stage's advice mentions committed code only when there is some.
    fn holds_code(
        &self,
        commit: crate::git::ObjectId,
        stage: Stage,
    ) -> Result<bool, PipelineError> {
        let repo = &self.state.session.repo;
        let Some(parent) = repo.first_parent(commit)? else {
            return Ok(true);
        };
        let paths = &self.state.session.config.paths;
        let issue = self.state.issue.number;
        let own = paths.artifact(stage, issue);
        Ok(repo
            .commit_changes(parent, commit)?
            .iter()
            .any(|c| Some(&c.path) != own.as_ref()))
    }

    /// Hold at `gate` until a person lets the run through; a rejection runs the stage again
    /// with the feedback and asks again. `Some(outcome)` when the run stops there.
    async fn pass_gate(&mut self, gate: Gate, ran: bool) -> Result<Option<Outcome>, PipelineError> {
        let mut ran = ran;
        loop {
            let recorded = !ran && self.state.state.gate_waiting(gate);
            match gate::hold(&mut self.state, self.io, gate, recorded).await? {
                Held::Passed => return Ok(None),
                Held::Waiting => {
                    if let Some(last) = self.rows.iter_mut().find(|r| r.stage == gate.stage()) {
                        last.waiting_at = Some(gate);
                    }
                    return Ok(Some(Outcome::Waiting { gate }));
                }
                Held::Rejected(feedback) => {
                    let stage = gate.stage();
                    let reason = Reason::Rejected { gate };
                    if let Some(blocked) = self
                        .run_stage(stage, Start::FromFeedback(feedback), reason)
                        .await?
                    {
                        return Ok(Some(blocked));
                    }
                    ran = true;
                }
            }
        }
    }
}

/// What the plan event is drawn from.
struct PlanView<'a> {
    plan: &'a [Planned],
    models: &'a Models,
    gates: &'a GatesConfig,
    state: &'a IssueState,
    issue: &'a Issue,
    branch: &'a IssueBranch,
    config: &'a Config,
    dry_run: bool,
    tests: Option<&'a TestCommand>,
    /// Where issues' worktrees are made.
    worktrees: PathBuf,
    /// Where the pr stage would go, when the run reaches it.
    pull_request: Option<PlanPullRequest>,
}

/// Where the pr stage would push and open the pull request, from the configuration and the
/// remotes alone.
fn plan_pull_request(session: &Session, base: Option<String>) -> PlanPullRequest {
    let settings = &session.config.github;
    let (repo, problem) = match github::target(session, None) {
        Ok(target) => (Some(target.repo.to_string()), None),
        Err(error) => (None, Some(crate::error_chain::chain(&error))),
    };
    PlanPullRequest {
        repo,
        push_remote: settings
            .push_remote
            .clone()
            .unwrap_or_else(|| settings.remote.clone()),
        base,
        draft: settings.draft,
        problem,
    }
}

fn plan_event(view: PlanView<'_>) -> Plan {
    let steps = view
        .plan
        .iter()
        .map(|planned| {
            let stage = planned.stage;
            let models = match planned.step {
                Step::Run(_) => stage
                    .roles()
                    .iter()
                    .map(|(role, _)| {
                        let chosen = view.models.chosen(stage, *role);
                        PlanModel {
                            role: *role,
                            model: chosen.map(|c| c.spec.label()),
                            why: chosen.and_then(|c| c.why.clone()),
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let gate = stage.gate_after().map(|gate| PlanGate {
                gate,
                enabled: view.gates.get(gate),
                passed: view.state.gate_passed(gate),
            });
            let implement =
                (stage == Stage::Impl && matches!(planned.step, Step::Run(_))).then(|| PlanImpl {
                    worktree: view.worktrees.join(view.issue.number.to_string()),
                    implementer_kind: match view.models.chosen(stage, Role::Implementer) {
                        Some(c) if c.spec.kind == ProviderKind::Agent => ImplementerKind::Agent,
                        _ => ImplementerKind::Text,
                    },
                    test_command: view.tests.map(|t| t.command.clone()),
                    test_source: view.tests.map(implement::source_of),
                    max_attempts: view.config.implement.max_test_retries + 1,
                });
            PlanStep {
                stage,
                action: planned.step.action(),
                reason: planned.reason.clone(),
                artifact: view.config.paths.artifact(stage, view.issue.number),
                models,
                gate,
                implement,
                pull_request: (stage == Stage::Pr && matches!(planned.step, Step::Run(_)))
                    .then(|| view.pull_request.clone())
                    .flatten(),
            }
        })
        .collect();
    Plan {
        issue: view.issue.number,
        title: view.issue.title.clone(),
        branch: view.branch.name.clone(),
        branch_exists: view.branch.tip.is_some(),
        base: view.branch.base_name.clone(),
        steps,
        dry_run: view.dry_run,
    }
}

fn row(
    stage: Stage,
    result: RowResult,
    commit: Option<String>,
    elapsed_ms: Option<u64>,
) -> SummaryRow {
    SummaryRow {
        stage,
        result,
        waiting_at: None,
        commit,
        elapsed_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run's future can move between threads (so several issues can run side by side):
    /// this fails to compile if anything it holds across an await is not `Send`.
    #[test]
    fn a_run_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        #[allow(dead_code)]
        fn check(session: Session, claim: Claim, opts: &RunOptions, io: &RunIo<'_>) {
            let future = run(session, claim, opts, io);
            assert_send(&future);
        }
    }
}
