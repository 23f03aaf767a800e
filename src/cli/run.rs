//! `git orchestrate [run] ISSUE...`: run the pipeline.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{
    CliError, Exit, GlobalArgs, open_session, parse_gate, parse_issue, parse_stage, runtime,
};
use crate::config::GatesConfig;
use crate::env::Env;
use crate::issue::IssueRef;
use crate::pipeline::gate::NoInput;
use crate::pipeline::run::RunIo;
use crate::pipeline::{
    EventSink, Gate, Interrupt, PipelineError, RunOptions, RunOutcome, Session, Stage,
};
use crate::ui::{HumanRenderer, JsonRenderer, TerminalGatekeeper, Ui};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The issue: a number (99), #99, or a GitHub issue URL.
    #[arg(value_name = "ISSUE", value_parser = parse_issue)]
    issues: Vec<IssueRef>,

    /// The issue, as an option (same as the positional ISSUE).
    #[arg(long = "issue", value_name = "N", value_parser = parse_issue)]
    issue: Option<IssueRef>,

    /// Read the issue from a Markdown file (its first `# ` line is the title). Needed until
    /// the issue has a brief on its branch.
    #[arg(long, value_name = "PATH")]
    issue_file: Option<PathBuf>,

    /// Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only.
    #[arg(long, value_name = "STAGE", value_parser = parse_stage)]
    until: Option<Stage>,

    /// Print the plan (each stage: run or skip and why, gates, models, branch, paths) and
    /// change nothing; no model is called.
    #[arg(long)]
    dry_run: bool,

    /// Take earlier stages as they are on the branch; redo STAGE and everything after it.
    #[arg(long, value_name = "STAGE", value_parser = parse_stage)]
    resume_from: Option<Stage>,

    /// Do not run the lld stage, even if there is no design yet.
    #[arg(long)]
    skip_lld: bool,

    /// Do not run the spec stage, even if there is no spec yet.
    #[arg(long)]
    skip_spec: bool,

    /// Do not run STAGE (repeatable).
    #[arg(long = "skip", value_name = "STAGE", value_parser = parse_stage)]
    skip: Vec<Stage>,

    /// Ask for approval before the pull request, whatever the configuration says.
    #[arg(long, overrides_with = "no_gate_before_pr")]
    gate_before_pr: bool,

    /// Do not ask for approval before the pull request.
    #[arg(long, overrides_with = "gate_before_pr")]
    no_gate_before_pr: bool,

    /// Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable).
    #[arg(long = "gate", value_name = "NAME", value_parser = parse_gate)]
    gate: Vec<Gate>,

    /// Turn off a gate for this run (repeatable).
    #[arg(long = "no-gate", value_name = "NAME", value_parser = parse_gate)]
    no_gate: Vec<Gate>,

    /// Base branch for a new issue branch (default: the branch checked out now).
    #[arg(long, value_name = "BRANCH")]
    base: Option<String>,

    /// Never prompt; a gate stops the run (also when there is no terminal).
    #[arg(long)]
    no_input: bool,

    /// Machine-readable events, one JSON object per line, on stdout.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn is_empty(&self) -> bool {
        self.issues.is_empty() && self.issue.is_none()
    }

    fn gates(&self, configured: GatesConfig) -> GatesConfig {
        let mut gates = configured;
        let mut set = |gate: Gate, on: bool| match gate {
            Gate::AfterLld => gates.after_lld = on,
            Gate::AfterSpec => gates.after_spec = on,
            Gate::BeforePr => gates.before_pr = on,
        };
        for gate in &self.gate {
            set(*gate, true);
        }
        for gate in &self.no_gate {
            set(*gate, false);
        }
        if self.gate_before_pr {
            set(Gate::BeforePr, true);
        }
        if self.no_gate_before_pr {
            set(Gate::BeforePr, false);
        }
        gates
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
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let mut issues = args.issues.clone();
    issues.extend(args.issue.clone());
    if issues.is_empty() {
        return Err(CliError::usage(
            "which issue? give its number: git orchestrate 7 --issue-file issue.md",
        ));
    }
    if args.issue_file.is_some() && issues.len() > 1 {
        return Err(CliError::usage(
            "--issue-file holds one issue; run one issue at a time with it",
        ));
    }
    if let Some(gate) = args.gate.iter().find(|g| args.no_gate.contains(g)) {
        return Err(CliError::usage(format!(
            "--gate {gate} and --no-gate {gate} contradict each other"
        )));
    }
    let session = open_session(global, env)?;
    let interrupt = Interrupt::new();
    let runtime = runtime(&interrupt)?;
    let human = HumanRenderer::new(ui);
    let json = JsonRenderer::new();
    let events: &dyn EventSink = if args.json { &json } else { &human };
    let terminal = TerminalGatekeeper::new(terminal_enabled(&args, ui));
    let io = RunIo {
        events,
        gatekeeper: if terminal_enabled(&args, ui) {
            &terminal
        } else {
            &NoInput
        },
        interrupt: &interrupt,
    };

    let mut worst = Exit::Ok;
    for issue in issues {
        let options = RunOptions {
            issue: issue.number,
            issue_file: args.issue_file.clone(),
            until: args.until,
            resume_from: args.resume_from,
            skip: args.skipped(),
            gates: args.gates(session.config.gates),
            dry_run: args.dry_run,
            base: args.base.clone(),
        };
        let outcome = runtime.block_on(crate::pipeline::run::run(&session, &options, &io));
        let exit = match outcome {
            Ok(outcome) => report(&outcome, &options, &session, ui, args.json),
            Err(PipelineError::Interrupted) => interrupted(ui),
            Err(error) => {
                let error = CliError::from(error);
                error.report(ui);
                error.exit
            }
        };
        worst = worse(worst, exit);
        if exit == Exit::Interrupted || interrupt.is_triggered() {
            return Ok(Exit::Interrupted);
        }
    }
    // Model programs are killed with their calls; nothing else should hold the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(worst)
}

fn terminal_enabled(args: &Args, ui: &Ui) -> bool {
    !args.no_input && !args.json && ui.interactive()
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

fn interrupted(ui: &Ui) -> Exit {
    ui.stderr("interrupted: the branch is at its last commit and the lock is released; run again to continue");
    Exit::Interrupted
}

fn report(
    outcome: &RunOutcome,
    options: &RunOptions,
    session: &Session,
    ui: &Ui,
    json: bool,
) -> Exit {
    let issue = options.issue;
    match outcome {
        RunOutcome::Planned => Exit::Ok,
        RunOutcome::Completed => {
            if !json {
                ui.status(&format!("#{issue}: every stage is done."));
            }
            Exit::Ok
        }
        RunOutcome::StoppedAfter(stage) => {
            if !json {
                ui.status(&format!(
                    "#{issue}: stopped after {stage}, as asked (--until {stage})."
                ));
            }
            Exit::Ok
        }
        RunOutcome::Blocked { stage, reason } => {
            let paths = &session.config.paths;
            let artifact =
                crate::pipeline::history::artifact_path(paths, *stage, issue).unwrap_or_default();
            let reviews = crate::pipeline::history::reviews_path(paths, *stage, issue);
            ui.error(
                &format!("#{issue} is blocked at {stage}: {reason}"),
                &[
                    format!("the last draft and every review are committed: see {artifact} and {reviews}"),
                    format!(
                        "run `git orchestrate {issue}` to try again from that draft, or edit {artifact} by hand and commit it"
                    ),
                ],
            );
            Exit::Blocked
        }
        RunOutcome::AtGate { .. } => Exit::Gate,
        RunOutcome::Interrupted => interrupted(ui),
    }
}
