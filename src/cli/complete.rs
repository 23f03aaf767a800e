//! Completion at the moment of completing: the scripts `completions` prints (see
//! `generate.rs`) call the program back with [`VAR`] set to the shell's name and the words
//! typed so far, and it answers with the candidates — clap_complete's dynamic mechanism
//! (`CompleteEnv`'s protocol), so subcommands, options, stage and gate names and the issue
//! numbers of this repository's branches all come from the clap definition and the code that
//! runs, never from a list copied into a script.

use std::ffi::{OsStr, OsString};

use clap_complete::CompletionCandidate;
use clap_complete::env::Shells;

use super::{CliError, Exit};
use crate::env::Env;
use crate::ops::{self, OpenOptions};
use crate::ui::{Ui, Verbosity};

/// The variable the completion scripts set, to the shell's name, when they call the program
/// back. Not clap_complete's default `COMPLETE`: a name that general could be set for some
/// other reason and turn every run into a completion.
pub const VAR: &str = "GIT_ORCHESTRATE_COMPLETE";

/// When the completion scripts called: the candidates for the words after `--` in `args`,
/// on stdout, and the exit code. `None` when [`VAR`] is not set (a normal run).
pub fn answer(args: &[OsString], env: &Env) -> Option<std::process::ExitCode> {
    let shell = env.non_empty(VAR).filter(|name| *name != "0")?;
    let ui = Ui::new(env, Verbosity::Quiet, false);
    let shells = Shells::builtins();
    let Some(completer) = shells.completer(shell) else {
        CliError::new(
            Exit::Usage,
            format!("{VAR}={shell}: not a shell this program completes for"),
        )
        .hint("print the script for your shell with: git orchestrate completions SHELL")
        .report(&ui);
        return Some(Exit::Usage.into());
    };
    let words: Vec<OsString> = match args.iter().position(|a| a == "--") {
        Some(at) => args[at + 1..].to_vec(),
        None => Vec::new(),
    };
    if words.is_empty() {
        // Nothing to complete: the script itself, as clap_complete's protocol has it.
        let script = super::generate::script_for(shell);
        return Some(match script.map(|s| ui.data(&s)) {
            Some(Ok(())) => Exit::Ok.into(),
            _ => Exit::Error.into(),
        });
    }
    let mut command = super::generate::command();
    let here = std::env::current_dir().ok();
    let mut out = Vec::new();
    let done = completer
        .write_complete(&mut command, words, here.as_deref(), &mut out)
        .and_then(|()| crate::ui::completion_stdout(&out));
    // A shell shows nothing for a failed completion; the exit code says it failed.
    Some(match done {
        Ok(()) => Exit::Ok.into(),
        Err(_) => Exit::Error.into(),
    })
}

/// Completes an issue argument: the numbers of the issues that have a branch in this
/// repository (`orchestrate/7-add-a-flag` → `7`), the branch as each one's description. `#7`
/// is completed as typed, with its `#`. Outside a repository, or with a configuration that
/// does not load, nothing.
pub fn issues(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(typed) = current.to_str() else {
        return Vec::new();
    };
    let (hash, digits) = match typed.strip_prefix('#') {
        Some(rest) => ("#", rest),
        None => ("", typed),
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Vec::new();
    }
    let env = Env::from_process();
    let Ok(session) = ops::open(&OpenOptions::default(), &env) else {
        return Vec::new();
    };
    let Ok(mut found) = ops::status::issue_branches(&session) else {
        return Vec::new();
    };
    found.dedup_by_key(|(number, _)| *number);
    found
        .into_iter()
        .filter(|(number, _)| number.to_string().starts_with(digits))
        .map(|(number, branch)| {
            CompletionCandidate::new(format!("{hash}{number}")).help(Some(branch.into()))
        })
        .collect()
}
