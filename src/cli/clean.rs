//! `git orchestrate clean ISSUE... | --all [--branch] [--force]`: remove what runs left
//! locally for issues (worktree, its uncommitted changes saved first; transcripts, stale lock),
//! and with `--branch` their branches.

use super::{CliError, Exit, GlobalArgs, open_session, parse_issue};
use crate::env::Env;
use crate::issue::IssueRef;
use crate::ops::clean::{self, CleanOptions};
use crate::ui::{Ui, render_cleaned, render_lost_work, render_nothing_to_clean};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["issues", "all"])))]
pub struct Args {
    /// The issues (numbers, #99, or GitHub issue URLs).
    #[arg(
        value_name = "ISSUE",
        value_parser = parse_issue,
        conflicts_with = "all",
        add = super::issue_completer()
    )]
    issues: Vec<IssueRef>,

    /// Every issue that has a worktree or local state (with --branch, also every issue branch).
    #[arg(long)]
    all: bool,

    /// Delete the issue's branch too; one whose commits no remote-tracking branch has needs
    /// --force. A branch with commits git orchestrate did not make (no Orchestrate-* trailer)
    /// is never deleted by --all, and needs --force when its issue is named.
    #[arg(long)]
    branch: bool,

    /// Also delete work saved from runs (recovered/), unpushed branches and branches with a
    /// person's commits with --branch, and a worktree whose changes cannot be saved.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let session = open_session(global, env, ui)?;
    let options = CleanOptions {
        issues: args.issues.iter().map(|i| i.number).collect(),
        all: args.all,
        branch: args.branch,
        force: args.force,
    };
    let reports = clean::clean(&session, &options)?;
    if reports.is_empty() {
        ui.status(render_nothing_to_clean());
    }
    let mut exit = Exit::Ok;
    for report in reports {
        match report.outcome {
            Ok(cleaned) => {
                ui.status(&render_cleaned(report.issue, &cleaned));
                for lost in render_lost_work(report.issue, &cleaned) {
                    ui.warn(&lost);
                }
            }
            Err(error) => {
                let error = CliError::from(error);
                error.report(ui);
                exit = error.exit;
            }
        }
    }
    Ok(exit)
}
