//! `git orchestrate [run] ISSUE...`: run the pipeline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use super::{
    CliError, Exit, GlobalArgs, gate_value, open_session, parse_issue, runtime, stage_value,
};
use crate::env::Env;
use crate::issue::IssueRef;
use crate::llm::CallLimits;
use crate::ops;
use crate::pipeline::events::Summary;
use crate::pipeline::io::NoInput;
use crate::pipeline::{Event, EventSink, HooksAtStart, Interrupt, Outcome, RunIo, RunOptions};
use crate::stage::{Gate, Stage};
use crate::ui::{
    Ended, HumanRenderer, JsonRenderer, Lane, Lanes, TerminalGatekeeper, Ui, render_runs,
};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The issue: a number (99), #99, or a GitHub issue URL.
    #[arg(value_name = "ISSUE", value_parser = parse_issue, add = super::issue_completer())]
    issues: Vec<IssueRef>,

    /// The issue, as an option (same as the positional ISSUE).
    #[arg(long = "issue", value_name = "N", value_parser = parse_issue, add = super::issue_completer())]
    issue: Option<IssueRef>,

    /// Read the issue from a Markdown file (its first `# ` line is the title) instead of
    /// GitHub.
    #[arg(long, value_name = "PATH")]
    issue_file: Option<PathBuf>,

    /// Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only.
    #[arg(long, value_name = "STAGE", value_parser = stage_value(), hide_possible_values = true)]
    until: Option<Stage>,

    /// Print the plan (each stage: run or skip and why, gates, models, branch, paths) and
    /// change nothing; no model is called.
    #[arg(long)]
    dry_run: bool,

    /// Take earlier stages as they are on the branch; redo STAGE and everything after it.
    #[arg(long, value_name = "STAGE", value_parser = stage_value(), hide_possible_values = true)]
    resume_from: Option<Stage>,

    /// Do not run the lld stage, even if there is no design yet.
    #[arg(long)]
    skip_lld: bool,

    /// Do not run the spec stage, even if there is no spec yet.
    #[arg(long)]
    skip_spec: bool,

    /// Do not run STAGE (repeatable).
    #[arg(long = "skip", value_name = "STAGE", value_parser = stage_value(), hide_possible_values = true)]
    skip: Vec<Stage>,

    /// Ask for approval before the pull request, whatever the configuration says.
    #[arg(long)]
    gate_before_pr: bool,

    /// Do not ask for approval before the pull request.
    #[arg(long)]
    no_gate_before_pr: bool,

    /// Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable).
    #[arg(long = "gate", value_name = "NAME", value_parser = gate_value(), hide_possible_values = true)]
    gate: Vec<Gate>,

    /// Turn off a gate for this run (repeatable).
    #[arg(long = "no-gate", value_name = "NAME", value_parser = gate_value(), hide_possible_values = true)]
    no_gate: Vec<Gate>,

    /// Base branch for a new issue branch and its pull request (default: the branch checked
    /// out now).
    #[arg(long, value_name = "BRANCH")]
    base: Option<String>,

    /// Merge the base branch into the issue branch before impl, in memory (a conflict
    /// changes nothing); while the branch holds only the design documents, impl starts from
    /// the base's current tip without it.
    #[arg(long)]
    update_base: bool,

    /// Take failures the tests already have on the unchanged tree as known: impl then
    /// requires only that no new test fails (stages.impl.allow_red_baseline).
    #[arg(long)]
    allow_red_baseline: bool,

    /// Run on a closed or locked GitHub issue.
    #[arg(long)]
    force: bool,

    /// Keep stages whose inputs changed since they were made (an edited issue, a hand-edited
    /// design) as they are, instead of redoing them (orchestrator.on_stale = "keep").
    #[arg(long)]
    keep_stale: bool,

    /// Never prompt; a gate stops the run (also when there is no terminal).
    #[arg(long)]
    no_input: bool,

    /// Machine-readable events, one JSON object per line, on stdout.
    #[arg(long)]
    json: bool,

    /// With several issues, run up to N at once (each in its own worktree); one table at
    /// the end says how each ended.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 1, value_parser = parse_jobs)]
    jobs: usize,
}

/// The most issues run at once: each holds a thread, a worktree and model calls.
const MAX_JOBS: usize = 1000;

/// `-j N`: at least one, at most [`MAX_JOBS`] (more than the issues named is fine: there are
/// never more jobs than issues).
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("-j 0 would run no issue at all; give 1 or more".into()),
        Ok(n) if n > MAX_JOBS => Err(format!(
            "-j {n} is more issues at once than this tool runs; give at most {MAX_JOBS}"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of issues to run at once")),
    }
}

impl Args {
    pub fn is_empty(&self) -> bool {
        self.issues.is_empty() && self.issue.is_none()
    }

    /// Gates this run turns on or off.
    fn gate_overrides(&self) -> BTreeMap<Gate, bool> {
        let mut gates = BTreeMap::new();
        for gate in &self.gate {
            gates.insert(*gate, true);
        }
        for gate in &self.no_gate {
            gates.insert(*gate, false);
        }
        if self.gate_before_pr {
            gates.insert(Gate::BeforePr, true);
        }
        if self.no_gate_before_pr {
            gates.insert(Gate::BeforePr, false);
        }
        gates
    }

    /// The flag that turns `gate` on for this run, as the user wrote it.
    fn turned_on(&self, gate: Gate) -> Option<String> {
        if gate == Gate::BeforePr && self.gate_before_pr {
            return Some("--gate-before-pr".into());
        }
        self.gate.contains(&gate).then(|| format!("--gate {gate}"))
    }

    /// The flag that turns `gate` off for this run, as the user wrote it.
    fn turned_off(&self, gate: Gate) -> Option<String> {
        if gate == Gate::BeforePr && self.no_gate_before_pr {
            return Some("--no-gate-before-pr".into());
        }
        self.no_gate
            .contains(&gate)
            .then(|| format!("--no-gate {gate}"))
    }

    fn skipped(&self) -> BTreeSet<Stage> {
        let mut skip: BTreeSet<Stage> = self.skip.iter().copied().collect();
        if self.skip_lld {
            skip.insert(Stage::Lld);
        }
        if self.skip_spec {
            skip.insert(Stage::Spec);
        }
        skip
    }

    /// Options that contradict each other are a usage error, before anything is opened.
    fn check(&self, issues: &[IssueRef]) -> Result<(), CliError> {
        if issues.is_empty() {
            return Err(CliError::usage(
                "which issue? give its number: git orchestrate 7 --issue-file issue.md",
            ));
        }
        let mut seen = BTreeSet::new();
        for issue in issues {
            if !seen.insert(issue.number) {
                return Err(CliError::usage(format!(
                    "issue #{} is named twice; each issue runs once, on its own branch",
                    issue.number
                ))
                .hint(format!(
                    "name each issue once: git orchestrate run {}",
                    issues
                        .iter()
                        .map(|i| i.number)
                        .collect::<BTreeSet<_>>()
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                )));
            }
        }
        if self.issue_file.is_some() && issues.len() > 1 {
            return Err(CliError::usage(
                "--issue-file holds one issue; run one issue at a time with it",
            ));
        }
        for gate in Gate::ALL {
            if let (Some(on), Some(off)) = (self.turned_on(gate), self.turned_off(gate)) {
                return Err(CliError::usage(format!(
                    "{on} and {off} contradict each other"
                )));
            }
        }
        if let (Some(from), Some(until)) = (self.resume_from, self.until)
            && from > until
        {
            return Err(CliError::usage(format!(
                "--resume-from {from} comes after --until {until}"
            )));
        }
        if let Some(from) = self.resume_from
            && self.skipped().contains(&from)
        {
            return Err(CliError::usage(format!(
                "--resume-from {from} and --skip {from} contradict each other"
            )));
        }
        Ok(())
    }

    /// The options that matter to run the same issues again, for advice that says how to go
    /// on: where to stop, what to skip, and the configuration given on the command line.
    fn rerun_options(&self, global: &GlobalArgs) -> String {
        let mut parts = Vec::new();
        if let Some(until) = self.until {
            parts.push(format!("--until {until}"));
        }
        if self.force {
            parts.push("--force".into());
        }
        for stage in self.skipped() {
            parts.push(format!("--skip {stage}"));
        }
        if self.allow_red_baseline {
            parts.push("--allow-red-baseline".into());
        }
        if self.keep_stale {
            parts.push("--keep-stale".into());
        }
        if let Some(file) = &global.config_file {
            parts.push(format!("--config {}", shell_word(&file.to_string_lossy())));
        }
        for value in &global.config_overrides {
            parts.push(format!("-c {}", shell_word(value)));
        }
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    }

    fn options(&self, issue: IssueRef) -> RunOptions {
        RunOptions {
            issue,
            issue_file: self.issue_file.clone(),
            until: self.until,
            resume_from: self.resume_from,
            skip: self.skipped(),
            gate_overrides: self.gate_overrides(),
            dry_run: self.dry_run,
            base: self.base.clone(),
            update_base: self.update_base,
            force: self.force,
            keep_stale: self.keep_stale,
        }
    }
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    // Flags that set a configuration key win over `-c`, so they come last.
    let mut global = global.clone();
    if args.allow_red_baseline {
        global
            .config_overrides
            .push("stages.impl.allow_red_baseline=true".into());
    }
    let global = &global;
    let mut issues = args.issues.clone();
    issues.extend(args.issue.clone());
    if let Err(error) = args.check(&issues) {
        error.report(ui);
        if args.json {
            JsonRenderer::new(ui).emit(error_event(&error, None));
        }
        return Ok(error.exit);
    }
    let interrupt = Interrupt::new();
    let runtime = runtime(&interrupt)?;
    let runner = Runner {
        rerun: args.rerun_options(global),
        args: &args,
        global,
        env,
        ui,
        runtime: &runtime,
        interrupt: &interrupt,
        limits: CallLimits::new(),
        hooks_at_start: std::sync::OnceLock::new(),
    };
    let exit = match issues.as_slice() {
        [issue] => runner.one(issue.clone(), None).0,
        _ => runner.several(issues),
    };
    // Model programs are killed with their calls; nothing else should hold the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(exit)
}

/// What the runs of one command share.
struct Runner<'a> {
    args: &'a Args,
    global: &'a GlobalArgs,
    env: &'a Env,
    ui: &'a Ui,
    runtime: &'a tokio::runtime::Runtime,
    interrupt: &'a Interrupt,
    /// One set of provider slots for every issue (`providers.NAME.max_concurrent`).
    limits: CallLimits,
    /// The hooks a push may run: the first session's, taken before any issue ran anything.
    hooks_at_start: std::sync::OnceLock<HooksAtStart>,
    /// The options that matter to run an issue again, for advice.
    rerun: String,
}

impl Runner<'_> {
    /// Several issues: up to `-j` at once, each on a thread of its own (its git work does
    /// not hold up the others' model calls), then one table of how each ended. One issue's
    /// failure does not stop the others; Ctrl-C stops them all.
    fn several(&self, issues: Vec<IssueRef>) -> Exit {
        let jobs = self.args.jobs.min(issues.len()).max(1);
        let lanes = (jobs > 1).then(|| Lanes::new(self.ui, !self.args.json));
        let queue = Mutex::new(issues.iter().cloned().enumerate());
        let ended: Mutex<Vec<Option<(Exit, Ended)>>> = Mutex::new(vec![None; issues.len()]);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                        let Some((index, issue)) = next else {
                            break;
                        };
                        let result = if self.interrupt.is_triggered() {
                            (Exit::Interrupted, Ended::NotStarted)
                        } else {
                            let lane = lanes.as_ref().map(|l| l.lane(issue.number));
                            self.one(issue, lane.as_ref())
                        };
                        ended.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(result);
                    }
                });
            }
        });
        if let Some(lanes) = &lanes {
            lanes.close();
        }
        let ended = ended.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut worst = Exit::Ok;
        let mut rows = Vec::new();
        for (issue, result) in issues.iter().zip(ended) {
            let (exit, ended) = result.unwrap_or((Exit::Interrupted, Ended::NotStarted));
            worst = worse(worst, exit);
            rows.push((issue.number, ended));
        }
        if !self.args.json {
            render_runs(self.ui, &rows, Some(&self.rerun));
        }
        worst
    }

    /// Run one issue, in `lane` when it is one of several at once.
    fn one(&self, issue: IssueRef, lane: Option<&Lane<'_>>) -> (Exit, Ended) {
        let number = issue.number;
        let mut human = HumanRenderer::new(self.ui).rerun_with(self.rerun.clone());
        if let Some(lane) = lane {
            human = human.in_lane(lane);
        }
        let json = JsonRenderer::for_issue(self.ui, number);
        let events = Finish::new(if self.args.json { &json } else { &human });
        // Issues side by side do not prompt: a run at a gate stops there, as with
        // --no-input, and the table at the end says how to go on.
        let ask = lane.is_none() && !self.args.no_input && !self.args.json && self.ui.interactive();
        let terminal = TerminalGatekeeper::new(ask);
        let io = RunIo {
            events: &events,
            gatekeeper: if ask { &terminal } else { &NoInput },
            interrupt: self.interrupt,
        };
        let run = || -> Result<Outcome, CliError> {
            let mut session = open_session(self.global, self.env, self.ui)?;
            session.limits = self.limits.clone();
            session.hooks_at_start = self
                .hooks_at_start
                .get_or_init(|| session.hooks_at_start.clone())
                .clone();
            let options = self.args.options(issue);
            Ok(self
                .runtime
                .block_on(ops::run::run(session, &options, &io))?)
        };
        match run() {
            Ok(outcome) => {
                let exit = exit_of(&outcome);
                let summary = events.take().unwrap_or_else(|| bare(number, outcome));
                (exit, Ended::Finished(Box::new(summary)))
            }
            Err(error) => {
                match (error.exit == Exit::Interrupted, lane) {
                    (true, Some(lane)) => lane.stderr(INTERRUPTED),
                    (true, None) => self.ui.stderr(INTERRUPTED),
                    (false, Some(lane)) => lane.error(error.message(), error.hints()),
                    (false, None) => error.report(self.ui),
                }
                if let Some(lane) = lane {
                    lane.finish("error");
                }
                if self.args.json {
                    json.emit(error_event(&error, Some(number)));
                }
                let ended = match error.exit {
                    Exit::Interrupted => {
                        Ended::Finished(Box::new(bare(number, Outcome::Interrupted)))
                    }
                    _ => Ended::Failed {
                        message: error.message().to_string(),
                    },
                };
                (error.exit, ended)
            }
        }
    }
}

/// The `error` event of a run that ended in `error`.
fn error_event(error: &CliError, issue: Option<u64>) -> Event {
    Event::Error {
        issue,
        message: error.message().to_string(),
        hints: error.hints().to_vec(),
        exit_code: error.exit as u8,
    }
}

/// A summary with nothing but how the run ended (a dry run; a run stopped by Ctrl-C
/// before it could say more).
fn bare(issue: u64, outcome: Outcome) -> Summary {
    Summary {
        issue,
        branch: String::new(),
        outcome,
        rows: Vec::new(),
        usage: None,
        cost_usd: None,
    }
}

/// Passes events on, keeping the run's summary for the table at the end.
struct Finish<'s> {
    events: &'s dyn EventSink,
    summary: Mutex<Option<Summary>>,
}

impl<'s> Finish<'s> {
    fn new(events: &'s dyn EventSink) -> Finish<'s> {
        Finish {
            events,
            summary: Mutex::new(None),
        }
    }

    fn take(&self) -> Option<Summary> {
        self.summary
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

impl EventSink for Finish<'_> {
    fn emit(&self, event: Event) {
        if let Event::Finished(summary) = &event {
            *self.summary.lock().unwrap_or_else(|e| e.into_inner()) = Some(summary.clone());
        }
        self.events.emit(event);
    }
}

/// `word` as a shell reads it back: as it is when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    match plain {
        true => word.to_string(),
        false => format!("'{}'", word.replace('\'', "'\\''")),
    }
}

/// What an interrupted run says when it ends by an error rather than an outcome.
const INTERRUPTED: &str =
    "interrupted: the branch is at its last commit and the lock is released; run again to continue";

fn exit_of(outcome: &Outcome) -> Exit {
    match outcome {
        Outcome::Completed | Outcome::StoppedAfter { .. } | Outcome::Planned => Exit::Ok,
        Outcome::Blocked { .. } => Exit::Blocked,
        Outcome::Waiting { .. } => Exit::Gate,
        Outcome::Interrupted => Exit::Interrupted,
    }
}

/// With several issues, the exit code says the worst thing that happened.
fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::Gate => 1,
        Exit::Blocked => 2,
        Exit::Usage => 3,
        Exit::Error => 4,
        Exit::Interrupted => 5,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn args(argv: &[&str]) -> Args {
        let cli = Cli::try_parse_from(argv).unwrap();
        cli.run
    }

    #[test]
    fn an_issue_url_keeps_its_repository_for_the_run() {
        let args = args(&["g", "https://github.com/octo/widget/issues/7"]);
        let options = args.options(args.issues[0].clone());
        assert_eq!(options.issue.number, 7);
        assert_eq!(options.issue.repo.as_deref(), Some("octo/widget"));
    }

    #[test]
    fn advice_repeats_the_options_that_matter() {
        let argv = [
            "g",
            "7",
            "--skip-lld",
            "-c",
            "stages.spec.drafter=cmd:my model",
            "--dry-run",
        ];
        let cli = Cli::try_parse_from(argv).unwrap();
        assert_eq!(
            cli.run.rerun_options(&cli.global),
            "--skip lld -c 'stages.spec.drafter=cmd:my model'"
        );
        let cli = Cli::try_parse_from(["g", "7", "--until", "lld"]).unwrap();
        assert_eq!(cli.run.rerun_options(&cli.global), "--until lld");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn gate_flags_become_overrides() {
        let args = args(&["g", "7", "--gate", "after_spec", "--no-gate-before-pr"]);
        let overrides = args.gate_overrides();
        assert_eq!(overrides.get(&Gate::AfterSpec), Some(&true));
        assert_eq!(overrides.get(&Gate::BeforePr), Some(&false));
        assert_eq!(
            overrides.get(&Gate::AfterLld),
            None,
            "unnamed gates follow the config"
        );
    }
}
