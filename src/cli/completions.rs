//! `git orchestrate completions <SHELL>`: the completion script for a shell, on stdout.

use clap_complete::Shell;

use super::{CliError, Exit, generate};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

pub fn run(args: Args, ui: &Ui) -> Result<Exit, CliError> {
    ui.data(&generate::completion(args.shell))?;
    Ok(Exit::Ok)
}
