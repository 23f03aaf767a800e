//! `git orchestrate init [--github-action] [--force]`: write a commented `.orchestrate.toml`
//! at the repository's root, with models chosen from what this machine has, and with
//! `--github-action` a GitHub Actions workflow that runs `git orchestrate action`.

use super::{CliError, Exit, GlobalArgs, hints, small_runtime};
use crate::env::Env;
use crate::error_chain::chain;
use crate::ops::init::{self, InitOptions};
use crate::ui::{Ui, render_init};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also write .github/workflows/orchestrate.yml: run on issues labelled `orchestrate` and
    /// on `/orchestrate` comments. A .orchestrate.toml already there is kept.
    #[arg(long)]
    github_action: bool,

    /// Replace files that already exist (with --github-action, only the workflow).
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    if global.config_file.is_some() {
        return Err(CliError::usage(
            "init writes .orchestrate.toml at the repository's root; --config does not apply to it",
        ));
    }
    let options = InitOptions {
        github_action: args.github_action,
        force: args.force,
        overrides: global.config_overrides.clone(),
    };
    let done = small_runtime()?
        .block_on(init::init(&options, env))
        .map_err(|error| {
            let mut cli = CliError::new(Exit::Error, chain(&error));
            for hint in hints::init(&error, args.github_action) {
                cli = cli.hint(hint);
            }
            cli
        })?;
    ui.status(&render_init(&done));
    Ok(Exit::Ok)
}
