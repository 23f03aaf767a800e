//! `git orchestrate status [ISSUE]`: where issues stand, from their branches alone.

use super::{CliError, Exit, GlobalArgs, open_session, parse_issue, small_runtime};
use crate::env::Env;
use crate::issue::IssueRef;
use crate::ops::status;
use crate::pipeline::io::NoInput;
use crate::pipeline::{Interrupt, RunIo};
use crate::ui::json::StatusDocument;
use crate::ui::{HumanRenderer, Ui, render_issue_status, render_status_list};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The issue (a number, #99, or a GitHub issue URL); without it, every issue with a branch.
    #[arg(value_name = "ISSUE", value_parser = parse_issue, add = super::issue_completer())]
    issue: Option<IssueRef>,

    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,

    /// Read the issue from GitHub (one request per issue) to tell whether its brief is stale;
    /// without it, status reads only the branches, offline
    #[arg(long)]
    refresh: bool,
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let mut session = open_session(global, env, ui)?;
    // What reading issues from GitHub (`--refresh`) needs: where its waits are said, and no
    // prompt.
    let interrupt = Interrupt::new();
    let human = HumanRenderer::new(ui);
    let io = RunIo {
        events: &human,
        gatekeeper: &NoInput,
        interrupt: &interrupt,
    };
    match args.issue {
        Some(issue) => {
            let runtime = small_runtime()?;
            let text = match args.refresh {
                true => {
                    Some(runtime.block_on(status::read_issue_text(&mut session, &issue, &io))?)
                }
                false => None,
            };
            let Some(status) =
                runtime.block_on(status::issue(&session, issue.number, text.as_deref()))?
            else {
                return Err(CliError::new(
                    Exit::Error,
                    format!("issue #{} has no orchestrate branch", issue.number),
                )
                .hint(format!(
                    "start it with: git orchestrate {} (from GitHub; or --issue-file ISSUE.md)",
                    issue.number
                )));
            };
            if args.json {
                let document = StatusDocument::Issue(Box::new(status));
                ui.data(&format!("{}\n", json(&document)?))?;
            } else {
                ui.data(&render_issue_status(&status))?;
            }
        }
        None => {
            let texts = match args.refresh {
                true => small_runtime()?.block_on(status::read_issue_texts(&mut session, &io))?,
                false => Default::default(),
            };
            let statuses = status::all(&session, &texts)?;
            if args.json {
                ui.data(&format!("{}\n", json(&StatusDocument::All(statuses))?))?;
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
