//! `git orchestrate [run] ISSUE...`: run the pipeline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{
    CliError, Exit, GlobalArgs, open_session, parse_gate, parse_issue, parse_stage, runtime,
};
use crate::env::Env;
use crate::issue::IssueRef;
use crate::ops;
use crate::pipeline::io::NoInput;
use crate::pipeline::{Event, EventSink, Interrupt, Outcome, RunIo, RunOptions};
use crate::stage::{Gate, Stage};
use crate::ui::{HumanRenderer, JsonRenderer, TerminalGatekeeper, Ui};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The issue: a number (99), #99, or a GitHub issue URL.
    #[arg(value_name = "ISSUE", value_parser = parse_issue)]
    issues: Vec<IssueRef>,

    /// The issue, as an option (same as the positional ISSUE).
    #[arg(long = "issue", value_name = "N", value_parser = parse_issue)]
    issue: Option<IssueRef>,

    /// Read the issue from a Markdown file (its first `# ` line is the title) instead of
    /// GitHub.
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
    #[arg(long)]
    gate_before_pr: bool,

    /// Do not ask for approval before the pull request.
    #[arg(long)]
    no_gate_before_pr: bool,

    /// Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable).
    #[arg(long = "gate", value_name = "NAME", value_parser = parse_gate)]
    gate: Vec<Gate>,

    /// Turn off a gate for this run (repeatable).
    #[arg(long = "no-gate", value_name = "NAME", value_parser = parse_gate)]
    no_gate: Vec<Gate>,

    /// Base branch for a new issue branch and its pull request (default: the branch checked
    /// out now).
    #[arg(long, value_name = "BRANCH")]
    base: Option<String>,

    /// Take failures the tests already have on the unchanged tree as known: impl then
    /// requires only that no new test fails (stages.impl.allow_red_baseline).
    #[arg(long)]
    allow_red_baseline: bool,

    /// Run on a closed or locked GitHub issue.
    #[arg(long)]
    force: bool,

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
            force: self.force,
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
    let human = HumanRenderer::new(ui).rerun_with(args.rerun_options(global));
    let json = JsonRenderer::new(ui);
    let events: &dyn EventSink = if args.json { &json } else { &human };
    let fail = |error: CliError, issue: Option<u64>| -> Exit {
        if error.exit == Exit::Interrupted {
            ui.stderr(INTERRUPTED);
        } else {
            error.report(ui);
        }
        if args.json {
            events.emit(Event::Error {
                issue,
                message: error.message().to_string(),
                hints: error.hints().to_vec(),
                exit_code: error.exit as u8,
            });
        }
        error.exit
    };
    if let Err(error) = args.check(&issues) {
        return Ok(fail(error, None));
    }
    let interrupt = Interrupt::new();
    let runtime = runtime(&interrupt)?;
    let ask = !args.no_input && !args.json && ui.interactive();
    let terminal = TerminalGatekeeper::new(ask);
    let io = RunIo {
        events,
        gatekeeper: if ask { &terminal } else { &NoInput },
        interrupt: &interrupt,
    };

    let mut worst = Exit::Ok;
    for issue in issues {
        let number = issue.number;
        // Each issue's run owns its own handle on the repository.
        let exit = match open_session(global, env, ui) {
            Err(error) => fail(error, Some(number)),
            Ok(session) => {
                let options = args.options(issue);
                match runtime.block_on(ops::run::run(session, &options, &io)) {
                    Ok(outcome) => exit_of(&outcome),
                    Err(error) => fail(CliError::from(error), Some(number)),
                }
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
