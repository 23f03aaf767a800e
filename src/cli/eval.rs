//! `git orchestrate eval <RANGE>`: replay the repository's own history as tasks, judged by
//! the tests each commit added (hidden from every model); `--resume`, `--clean` and
//! `--compare` work on runs kept under `<git-common-dir>/orchestrate/eval/`.

use std::sync::Mutex;

use super::{CliError, Exit, GlobalArgs, runtime};
use crate::env::Env;
use crate::llm::CallLimits;
use crate::ops::eval::report::{Comparison, IssueText, Judgement, TaskResult};
use crate::ops::eval::{self, EvalEvent, EvalOptions, TaskContext};
use crate::ops::{self, OpenOptions};
use crate::pipeline::io::NoInput;
use crate::pipeline::{Event, EventSink, Interrupt, RunIo, Session};
use crate::ui::eval::{
    emit_json, render_comparison, render_eval_cleaned, render_eval_event, render_markdown,
    render_report,
};
use crate::ui::{HumanRenderer, JsonRenderer, Lanes, Ui};

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("what")
        .required(true)
        .args(["range", "resume", "clean", "compare"])
))]
pub struct Args {
    /// The commits to replay (main~50..main, v1.0..v1.1): each that changes test files and
    /// other files is a candidate task.
    #[arg(value_name = "RANGE")]
    range: Option<String>,

    /// Take the range's first-parent merge commits (merged pull requests) instead of its
    /// commits.
    #[arg(long, requires = "range")]
    merges: bool,

    /// Where a task's issue text comes from: the commit message, or the GitHub issue it
    /// names (Fixes #12).
    #[arg(long, value_name = "SOURCE", default_value = "message", value_parser = ["message", "github"])]
    issue_text: String,

    /// Run at most N valid tasks, the first ones of the range.
    #[arg(long, value_name = "N", conflicts_with = "sample", value_parser = parse_count)]
    limit: Option<usize>,

    /// Run N valid tasks chosen at random (reproducibly, with --seed).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    sample: Option<usize>,

    /// The seed of --sample's choice.
    #[arg(long, value_name = "S", default_value_t = 1, requires = "sample")]
    seed: u64,

    /// The most a task may cost, in USD (budget.max_usd_per_issue).
    #[arg(long, value_name = "USD")]
    budget: Option<f64>,

    /// Run up to N tasks at once, each in its own scratch repository and worktree.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 1, value_parser = parse_count)]
    jobs: usize,

    /// Machine-readable output: the tasks' run events and the eval's own, one JSON object
    /// per line; the last line is the report.
    #[arg(long)]
    json: bool,

    /// Go on with an eval run that was stopped; finished tasks are not run again.
    #[arg(long, value_name = "RUN-ID")]
    resume: Option<String>,

    /// Remove an eval run's refs (refs/orchestrate-eval/RUN-ID/) and scratch repositories;
    /// its reports stay.
    #[arg(long, value_name = "RUN-ID")]
    clean: Option<String>,

    /// Set two eval runs side by side: which tasks each solved, and what each cost.
    #[arg(long, value_names = ["A", "B"], num_args = 2)]
    compare: Option<Vec<String>>,
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("give 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    if let Some(ids) = &args.compare {
        return compare(global, env, ui, &ids[0], &ids[1], args.json);
    }
    if let Some(id) = &args.clean {
        let session = super::open_session(global, env, ui)?;
        let cleaned = eval::clean(&session.repo, id)?;
        ui.status(&render_eval_cleaned(
            id,
            cleaned.refs.len(),
            cleaned.scratch,
        ));
        return Ok(Exit::Ok);
    }
    if let Some(budget) = args.budget
        && !(budget.is_finite() && budget > 0.0)
    {
        return Err(
            CliError::usage(format!("--budget {budget} is not a positive amount of USD"))
                .hint("give the most one task may cost, in dollars: --budget 2.50"),
        );
    }
    if let Some(range) = &args.range
        && range.starts_with('-')
    {
        return Err(
            CliError::usage(format!("`{range}` is not a revision range"))
                .hint("name the commits to replay: git orchestrate eval main~20..main"),
        );
    }
    let interrupt = Interrupt::new();
    let runtime = runtime(&interrupt)?;
    let result = Evaluation {
        args: &args,
        global,
        env,
        ui,
        runtime: &runtime,
        interrupt: &interrupt,
    }
    .go();
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

/// One `eval` (new or resumed).
struct Evaluation<'a> {
    args: &'a Args,
    global: &'a GlobalArgs,
    env: &'a Env,
    ui: &'a Ui,
    runtime: &'a tokio::runtime::Runtime,
    interrupt: &'a Interrupt,
}

impl Evaluation<'_> {
    fn emit(&self, event: EvalEvent) {
        match self.args.json {
            true => {
                let _ = emit_json(self.ui, &event);
            }
            false => render_eval_event(self.ui, &event),
        }
    }

    /// The session the run measures: the configuration as it stands, with `overrides` and
    /// the budget.
    fn session(&self, overrides: &[String], budget: Option<f64>) -> Result<Session, CliError> {
        let mut overrides = overrides.to_vec();
        if let Some(budget) = budget {
            overrides.push(format!("budget.max_usd_per_issue={budget}"));
        }
        let options = OpenOptions {
            config_file: self.global.config_file.clone(),
            overrides,
        };
        let session = ops::open(&options, self.env)?;
        self.ui.protect(&session.redactor);
        Ok(session)
    }

    fn go(&self) -> Result<Exit, CliError> {
        let silent = crate::pipeline::events::Silent;
        let io = RunIo {
            events: &silent,
            gatekeeper: &NoInput,
            interrupt: self.interrupt,
        };
        let checker = |session: &Session| {
            self.runtime
                .block_on(eval::Checker::new(&session.config, &session.env))
                .map_err(eval::EvalError::from)
        };
        let (run, session, checker) = match (&self.args.resume, &self.args.range) {
            (Some(id), _) => {
                let session = super::open_session(self.global, self.env, self.ui)?;
                let run = eval::resume(&session.repo, id)?;
                // The tasks left run as the finished ones did, or the report would mix two
                // configurations: settings given now that differ are refused, not dropped.
                let overrides = &self.global.config_overrides;
                if !overrides.is_empty() && overrides != &run.plan.overrides {
                    return Err(CliError::usage(format!(
                        "eval run `{id}` keeps the configuration it started with; -c {} cannot change it",
                        overrides.join(" -c ")
                    ))
                    .hint(format!("go on as it started: git orchestrate eval --resume {id}"))
                    .hint("to measure another configuration, start a new run with the same range and compare the two: git orchestrate eval --compare A B"));
                }
                if let Some(budget) = self.args.budget
                    && Some(budget) != run.plan.budget_usd
                {
                    return Err(CliError::usage(format!(
                        "eval run `{id}` keeps the budget it started with; --budget {budget} cannot change it"
                    ))
                    .hint(format!("go on as it started: git orchestrate eval --resume {id}")));
                }
                let session = self.session(&run.plan.overrides, run.plan.budget_usd)?;
                let checker = checker(&session)?;
                (run, session, checker)
            }
            (None, Some(range)) => {
                let options = EvalOptions {
                    range: range.clone(),
                    merges: self.args.merges,
                    issue_text: match self.args.issue_text.as_str() {
                        "github" => IssueText::Github,
                        _ => IssueText::Message,
                    },
                    limit: self.args.limit,
                    sample: self.args.sample,
                    seed: self.args.seed,
                    budget: self.args.budget,
                    overrides: self.global.config_overrides.clone(),
                };
                let mut session = self.session(&options.overrides, options.budget)?;
                let checker = checker(&session)?;
                let emit = |event: EvalEvent| self.emit(event);
                let run = self.runtime.block_on(eval::start(
                    &mut session,
                    &options,
                    &checker,
                    &io,
                    &emit,
                ))?;
                (run, session, checker)
            }
            (None, None) => return Err(CliError::usage("which commits? give a RANGE")),
        };
        let cx = TaskContext {
            run: &run,
            git_dir: session.repo.common_dir().to_path_buf(),
            workdir: session.repo.workdir().map(std::path::Path::to_path_buf),
            config: &session.config,
            env: &session.env,
            checker: &checker,
            limits: CallLimits::new(),
        };
        let failed = self.tasks(&cx);
        let report = eval::finish(&run)?;
        let markdown = render_markdown(&report);
        let saved = eval::save_markdown(&run, &markdown)?;
        match self.args.json {
            true => emit_json(self.ui, &EvalEvent::EvalFinished(Box::new(report)))?,
            false => {
                self.ui.data(&render_report(&report))?;
                self.ui.status(&format!(
                    "report: {} (and report.json); the tasks' branches are under refs/orchestrate-eval/{}/",
                    saved.display(),
                    run.plan.run_id
                ));
            }
        }
        if self.interrupt.is_triggered() {
            self.ui.stderr(&format!(
                "interrupted: finished tasks are kept; go on with: git orchestrate eval --resume {}",
                run.plan.run_id
            ));
            return Ok(Exit::Interrupted);
        }
        Ok(if failed { Exit::Error } else { Exit::Ok })
    }

    /// Run the pending tasks, up to `-j` at once; whether one ended in an error.
    fn tasks(&self, cx: &TaskContext<'_>) -> bool {
        let pending = cx.run.pending();
        let jobs = self.args.jobs.min(pending.len()).max(1);
        let lanes = Lanes::new(self.ui, !self.args.json);
        let queue = Mutex::new(pending.into_iter());
        let failed = Mutex::new(false);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    loop {
                        if self.interrupt.is_triggered() {
                            break;
                        }
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                        let Some(task) = next else {
                            break;
                        };
                        let result = self.task(cx, task, &lanes);
                        let error = result
                            .as_ref()
                            .is_none_or(|r| r.judgement == Judgement::Error);
                        if error && !self.interrupt.is_triggered() {
                            *failed.lock().unwrap_or_else(|e| e.into_inner()) = true;
                        }
                        if let Some(result) = result {
                            self.emit(EvalEvent::TaskJudged(result));
                        }
                    }
                });
            }
        });
        lanes.close();
        failed.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// One task, in its lane; `None` when it could not be run (said in its lane).
    fn task(&self, cx: &TaskContext<'_>, task: u64, lanes: &Lanes<'_>) -> Option<TaskResult> {
        if let Some(candidate) = cx.run.plan.candidates.iter().find(|c| c.task == task) {
            self.emit(EvalEvent::TaskStarted {
                task,
                commit: candidate.commit.clone(),
                subject: candidate.subject.clone(),
            });
        }
        let lane = lanes.lane(task);
        let human = HumanRenderer::new(self.ui).in_lane(&lane);
        // How the task's run ended is said by the eval's own line (its judgement), not by
        // the run's closing words, whose advice is for `git orchestrate N`.
        let human = WithoutFinish(&human);
        let json = JsonRenderer::for_issue(self.ui, task);
        let io = RunIo {
            events: if self.args.json { &json } else { &human },
            gatekeeper: &NoInput,
            interrupt: self.interrupt,
        };
        let result = self.runtime.block_on(eval::run_task(cx, task, &io));
        match result {
            Ok(result) => {
                lane.finish(if result.solved == Some(true) {
                    "solved"
                } else {
                    "not solved"
                });
                Some(result)
            }
            Err(error) => {
                let error = CliError::from(error);
                if error.exit == Exit::Interrupted {
                    lane.finish("interrupted");
                } else {
                    lane.error(error.message(), error.hints());
                    lane.finish("error");
                }
                None
            }
        }
    }
}

/// Passes on every event but the last (`finished`).
struct WithoutFinish<'s>(&'s dyn EventSink);

impl EventSink for WithoutFinish<'_> {
    fn emit(&self, event: Event) {
        if !matches!(event, Event::Finished(_)) {
            self.0.emit(event);
        }
    }
}

fn compare(
    global: &GlobalArgs,
    env: &Env,
    ui: &Ui,
    a: &str,
    b: &str,
    json: bool,
) -> Result<Exit, CliError> {
    let session = super::open_session(global, env, ui)?;
    let left = eval::load_report(&session.repo, a)?;
    let right = eval::load_report(&session.repo, b)?;
    let comparison = Comparison::of(&left, &right);
    match json {
        true => {
            let line = serde_json::to_string(&comparison).map_err(std::io::Error::other)?;
            ui.data(&format!("{line}\n"))?;
        }
        false => ui.data(&render_comparison(&comparison))?,
    }
    Ok(Exit::Ok)
}

impl From<eval::EvalError> for CliError {
    fn from(error: eval::EvalError) -> CliError {
        match error {
            eval::EvalError::Pipeline(e) => (*e).into(),
            other => {
                let hints = super::hints::eval(&other);
                let mut cli = CliError::new(Exit::Error, crate::error_chain::chain(&other));
                for hint in hints {
                    cli = cli.hint(hint);
                }
                cli
            }
        }
    }
}
