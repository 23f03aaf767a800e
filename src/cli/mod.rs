//! The command line: arguments (clap), one file per subcommand, exit codes, and turning
//! errors into `error:` / `hint:` lines. Below this module nothing knows about clap.

mod action;
mod approve;
mod clean;
mod complete;
mod completions;
mod doctor;
mod error;
mod eval;
pub mod generate;
mod hints;
mod init;
mod install_docs;
mod reject;
mod run;
mod sandbox_exec;
mod status;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

pub use error::{CliError, Exit};

use crate::env::Env;
use crate::issue::IssueRef;
use crate::ops::{self, OpenOptions};
use crate::pipeline::{Interrupt, Session};
use crate::stage::{Gate, Stage};
use crate::ui::{Ui, Verbosity};

/// Take an issue to a pull request through a design-first LLM pipeline.
///
/// Each stage (brief, design, spec, ...) is drafted by one model, reviewed by another, and
/// committed on the issue's branch, so `git log` is the progress record and a re-run goes on
/// where the history ends. `git orchestrate 7` is `git orchestrate run 7`.
#[derive(Debug, Parser)]
#[command(
    name = "git-orchestrate",
    bin_name = "git orchestrate",
    version = env!("GIT_ORCHESTRATE_VERSION"),
    args_conflicts_with_subcommands = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    pub(crate) run: run::Args,

    #[command(flatten)]
    pub(crate) global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the pipeline for issues (the default command).
    Run(run::Args),
    /// Show where issues stand, read from their branches.
    Status(status::Args),
    /// Pass the gate an issue is waiting at.
    Approve(approve::Args),
    /// Reject at the gate; the stage is revised with your feedback on the next run.
    Reject(reject::Args),
    /// Remove an issue's worktree and local run state; with --branch, its branch too.
    Clean(clean::Args),
    /// In GitHub Actions: act on the event that started the job (a label, a command comment).
    Action(action::Args),
    /// Check whether a run could start here, and say what to fix.
    Doctor(doctor::Args),
    /// Write a commented .orchestrate.toml for this machine; --github-action adds a workflow.
    Init(init::Args),
    /// Replay this repository's history as tasks, judged by the tests each commit added.
    Eval(eval::Args),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Install the manual pages and completion scripts where man and the shells find them.
    InstallDocs(install_docs::Args),
}

/// Options every command takes.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// Override a configuration key for this run; VALUE is read as TOML, else as a string
    /// (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh).
    #[arg(short = 'c', value_name = "KEY=VALUE", global = true)]
    config_overrides: Vec<String>,

    /// Use this configuration file instead of the repository's .orchestrate.toml.
    #[arg(long = "config", value_name = "PATH", global = true)]
    config_file: Option<PathBuf>,

    /// Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,

    /// Say less: only errors, warnings and what a gate needs from you.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

/// The program: parse, run, and say how it went. Returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == crate::sandbox::SUBCOMMAND) {
        return sandbox_exec::run(&args[2..]);
    }
    let env = Env::from_process();
    // A completion script calling back for candidates (before anything else: a shell waits).
    if let Some(code) = complete::answer(&args, &env) {
        return code;
    }
    let args = hoist_subcommand(args);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Under git, `--help` opens the manual page, which may not be installed: the
            // advice names `-h`, which always works.
            let text: String = e
                .render()
                .ansi()
                .to_string()
                .split_inclusive('\n')
                .map(|line| match line.contains("For more information, try") {
                    true => line.replace("--help", "-h"),
                    false => line.to_string(),
                })
                .collect();
            let color = !env.no_color();
            crate::ui::parser_output(&text, e.use_stderr(), color);
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Ok.into()
                }
                _ => Exit::Usage.into(),
            };
        }
    };
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    init_tracing(&env, cli.global.verbose);
    // Colour only matters on a terminal: only then is git asked what its configuration says.
    let terminal = crate::ui::output_is_terminal();
    let color = !terminal || env.no_color() || crate::git::color_wanted(&env).unwrap_or(true);
    let ui = Ui::new(&env, verbosity, color);
    let result = match cli.command {
        Some(Command::Run(args)) => run::run(args, &cli.global, &env, &ui),
        Some(Command::Status(args)) => status::run(args, &cli.global, &env, &ui),
        Some(Command::Approve(args)) => approve::run(args, &cli.global, &env, &ui),
        Some(Command::Reject(args)) => reject::run(args, &cli.global, &env, &ui),
        Some(Command::Clean(args)) => clean::run(args, &cli.global, &env, &ui),
        Some(Command::Action(args)) => action::run(args, &cli.global, &env, &ui),
        Some(Command::Doctor(args)) => doctor::run(args, &cli.global, &env, &ui),
        Some(Command::Init(args)) => init::run(args, &cli.global, &env, &ui),
        Some(Command::Eval(args)) => eval::run(args, &cli.global, &env, &ui),
        Some(Command::Completions(args)) => completions::run(args, &ui),
        Some(Command::InstallDocs(args)) => install_docs::run(args, &env, &ui),
        None if cli.run.is_empty() => {
            // No issue and no command is a usage error: the help goes to stderr.
            let mut command = <Cli as clap::CommandFactory>::command();
            ui.stderr(command.render_help().to_string().trim_end());
            Ok(Exit::Usage)
        }
        None => run::run(cli.run, &cli.global, &env, &ui),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => {
            error.report(&ui);
            error.exit.into()
        }
    }
}

/// Global options may come before the subcommand (`git orchestrate -c k=v status`), but
/// because a bare issue number is also accepted in that position, clap would read the
/// subcommand's name as an issue. Move leading global options after a subcommand name.
fn hoist_subcommand(args: Vec<OsString>) -> Vec<OsString> {
    let mut leading = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        let takes_value = arg == "-c" || arg == "--config";
        let is_flag = arg.starts_with('-') && arg != "-" && arg != "--";
        if !is_flag {
            break;
        }
        leading.push(args[i].clone());
        if takes_value && i + 1 < args.len() {
            leading.push(args[i + 1].clone());
            i += 1;
        }
        i += 1;
    }
    let is_subcommand = args
        .get(i)
        .is_some_and(|a| is_subcommand(&a.to_string_lossy()));
    if leading.is_empty() || !is_subcommand {
        return args;
    }
    let mut out = vec![args[0].clone(), args[i].clone()];
    out.extend(leading);
    out.extend(args[i + 1..].iter().cloned());
    out
}

/// Whether `name` is a subcommand (or `help`), as the clap definition says: a command added
/// there is known here without another list to keep.
fn is_subcommand(name: &str) -> bool {
    name == "help"
        || <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .any(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
}

fn init_tracing(env: &Env, verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = match env.log_filter() {
        Some(filter) => EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn")),
        None if verbose > 1 => EnvFilter::new("git_orchestrate=trace"),
        None if verbose == 1 => EnvFilter::new("git_orchestrate=debug"),
        None => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::ui::Diagnostics::new(env))
        .with_target(false)
        .try_init();
}

impl GlobalArgs {
    fn open_options(&self) -> OpenOptions {
        OpenOptions {
            config_file: self.config_file.clone(),
            overrides: self.config_overrides.clone(),
        }
    }
}

/// Open the repository and its configuration; from then on, the terminal is also kept clear
/// of the configured providers' keys.
fn open_session(global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Session, CliError> {
    let session = ops::open(&global.open_options(), env)?;
    ui.protect(&session.redactor);
    Ok(session)
}

/// A value parser that also lists the values it accepts, so completion scripts offer them
/// (`--until <TAB>`: the stages), while errors keep the parser's own words.
#[derive(Clone)]
struct Listed<P> {
    parser: P,
    names: &'static [&'static str],
}

impl<P> clap::builder::TypedValueParser for Listed<P>
where
    P: clap::builder::TypedValueParser,
{
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        self.parser.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.names
                .iter()
                .map(|name| clap::builder::PossibleValue::new(*name)),
        ))
    }
}

/// A parser of one kind of name.
type NameParser<T> = fn(&str) -> Result<T, String>;

const STAGE_NAMES: [&str; 5] = ["triage", "lld", "spec", "impl", "pr"];
const GATE_NAMES: [&str; 3] = ["after_lld", "after_spec", "before_pr"];

/// `--until`, `--resume-from`, `--skip`: a stage, completed from the stages' names.
fn stage_value() -> Listed<NameParser<Stage>> {
    Listed {
        parser: parse_stage,
        names: &STAGE_NAMES,
    }
}

/// `--gate`, `--no-gate`: a gate, completed from the gates' names.
fn gate_value() -> Listed<NameParser<Gate>> {
    Listed {
        parser: parse_gate,
        names: &GATE_NAMES,
    }
}

fn parse_stage(text: &str) -> Result<Stage, String> {
    Stage::parse(text).ok_or_else(|| {
        format!(
            "`{text}` is not a stage (stages: {})",
            Stage::ALL.map(Stage::name).join(", ")
        )
    })
}

fn parse_gate(text: &str) -> Result<Gate, String> {
    Gate::parse(text).ok_or_else(|| {
        format!(
            "`{text}` is not a gate (gates: {})",
            Gate::ALL.map(Gate::name).join(", ")
        )
    })
}

/// Completes an issue argument with the numbers of the issues that have a branch here.
fn issue_completer() -> clap_complete::ArgValueCompleter {
    clap_complete::ArgValueCompleter::new(complete::issues)
}

fn parse_issue(text: &str) -> Result<IssueRef, String> {
    text.parse()
        .map_err(|error: String| match near_command(text) {
            Some(command) => {
                format!("`{text}` is not an issue, nor a command; did you mean `{command}`?")
            }
            None => error,
        })
}

/// The subcommand `text` is a slip of (`stauts` → `status`), as git and cargo suggest one:
/// at most two edits away, and one for the three-letter names.
fn near_command(text: &str) -> Option<&'static str> {
    let text = text.to_ascii_lowercase();
    let (name, distance) = SUBCOMMANDS
        .iter()
        .map(|name| (*name, strsim::damerau_levenshtein(&text, name)))
        .min_by_key(|(_, d)| *d)?;
    (distance <= 2 && distance + 1 < name.len()).then_some(name)
}

/// The subcommands' names, for [`near_command`].
const SUBCOMMANDS: [&str; 12] = [
    "run",
    "status",
    "approve",
    "reject",
    "clean",
    "action",
    "doctor",
    "init",
    "eval",
    "completions",
    "install-docs",
    "help",
];

/// A tokio runtime on this thread, for commands that wait on little (a probe or two).
fn small_runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(runtime_failed)
}

fn runtime_failed(error: std::io::Error) -> CliError {
    CliError::new(
        Exit::Error,
        format!("could not start the async runtime: {error}"),
    )
}

/// A tokio runtime for commands that call models, with Ctrl-C wired to `interrupt`.
fn runtime(interrupt: &Interrupt) -> Result<tokio::runtime::Runtime, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(runtime_failed)?;
    let interrupt = interrupt.clone();
    runtime.spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut presses = 0;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
            presses += 1;
            if presses == 1 {
                interrupt.trigger();
            } else {
                // A second Ctrl-C means "now": whatever is still running is abandoned. The lock
                // file left behind is recognised as stale by the next run.
                #[allow(clippy::disallowed_methods)]
                std::process::exit(i32::from(Exit::Interrupted as u8));
            }
        }
    });
    Ok(runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn cli_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn completed_names_are_the_stages_and_gates() {
        assert_eq!(STAGE_NAMES, Stage::ALL.map(Stage::name));
        assert_eq!(GATE_NAMES, Gate::ALL.map(Gate::name));
    }

    #[test]
    fn slips_of_subcommands_are_suggested_and_the_list_is_complete() {
        let command = <Cli as clap::CommandFactory>::command();
        let mut names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
        names.push("help");
        names.sort_unstable();
        let mut known = SUBCOMMANDS.to_vec();
        known.sort_unstable();
        assert_eq!(names, known);
        for (slip, meant) in [
            ("stauts", Some("status")),
            ("statu", Some("status")),
            ("aprove", Some("approve")),
            ("doctr", Some("doctor")),
            ("rnu", Some("run")),
            ("Status", Some("status")),
            ("foo", None),
            ("99", None),
            ("STATUS", Some("status")),
        ] {
            assert_eq!(near_command(slip), meant, "{slip}");
        }
    }

    #[test]
    fn every_subcommand_is_recognised_before_global_options_move() {
        for name in ["run", "status", "approve", "reject", "clean", "help"] {
            assert!(is_subcommand(name), "{name}");
        }
        assert!(!is_subcommand("7"));
        for command in <Cli as clap::CommandFactory>::command().get_subcommands() {
            assert!(is_subcommand(command.get_name()));
        }
    }

    #[test]
    fn global_options_move_after_a_subcommand() {
        assert_eq!(
            hoist_subcommand(os(&["g", "-c", "a=b", "status", "7"])),
            os(&["g", "status", "-c", "a=b", "7"])
        );
        assert_eq!(
            hoist_subcommand(os(&["g", "-c", "a=b", "7"])),
            os(&["g", "-c", "a=b", "7"])
        );
        assert_eq!(
            hoist_subcommand(os(&["g", "-q", "--config", "x.toml", "approve", "7"])),
            os(&["g", "approve", "-q", "--config", "x.toml", "7"])
        );
    }
}
