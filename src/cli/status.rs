//! `git orchestrate status [ISSUE]`: where issues stand, from their branches alone.

use super::{CliError, Exit, GlobalArgs, open_session, parse_issue};
use crate::env::Env;
use crate::issue::IssueRef;
use crate::pipeline::status::{all_statuses, default_models, issue_status};
use crate::ui::{Ui, render_issue_status, render_status_list};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The issue (a number, #99, or a GitHub issue URL); without it, every issue with a branch.
    #[arg(value_name = "ISSUE", value_parser = parse_issue)]
    issue: Option<IssueRef>,

    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let session = open_session(global, env)?;
    match args.issue {
        Some(issue) => {
            let Some(mut status) = issue_status(&session, issue.number)? else {
                return Err(CliError::new(
                    Exit::Error,
                    format!("issue #{} has no orchestrate branch", issue.number),
                )
                .hint(format!(
                    "start it with: git orchestrate {} --issue-file ISSUE.md",
                    issue.number
                )));
            };
            status.default_models = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .and_then(|rt| rt.block_on(default_models(&session)));
            if args.json {
                ui.data(&format!("{}\n", json(&status)?))?;
            } else {
                ui.data(&render_issue_status(&status))?;
            }
        }
        None => {
            let statuses = all_statuses(&session)?;
            if args.json {
                ui.data(&format!("{}\n", json(&statuses)?))?;
            } else {
                ui.data(&render_status_list(&statuses))?;
            }
        }
    }
    Ok(Exit::Ok)
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value).map_err(|e| {
        CliError::new(
            Exit::Error,
            format!("could not encode the status as JSON: {e}"),
        )
    })
}
