//! `git orchestrate reject ISSUE -m TEXT [--gate G]`: reject at the gate, with feedback that
//! the next run gives the drafter.

use super::{CliError, Exit, GlobalArgs, gate_value, open_session, parse_issue};
use crate::env::Env;
use crate::issue::IssueRef;
use crate::ops;
use crate::stage::Gate;
use crate::ui::{Ui, words};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The issue (a number, #99, or a GitHub issue URL).
    #[arg(value_name = "ISSUE", value_parser = parse_issue, add = super::issue_completer())]
    issue: IssueRef,

    /// What should change: given to the drafter when the stage is revised.
    #[arg(short, long = "message", value_name = "TEXT")]
    message: String,

    /// The gate to reject at; default: the one the issue waits at.
    #[arg(long, value_name = "GATE", value_parser = gate_value(), hide_possible_values = true)]
    gate: Option<Gate>,
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    if args.message.trim().is_empty() {
        return Err(CliError::usage(
            "the rejection needs feedback: -m \"what should change\"",
        ));
    }
    let session = open_session(global, env, ui)?;
    let issue = args.issue.number;
    let recorded = ops::gate::reject(&session, issue, args.gate, &args.message)?;
    let commit = recorded.commit.map(|c| c.short()).unwrap_or_default();
    ui.status(&format!(
        "Rejected {} for #{issue} on {} ({commit}); `{}` revises it with your feedback.",
        recorded.gate,
        recorded.branch,
        words::run_command(issue, None)
    ));
    for redaction in &recorded.redacted {
        ui.redacted(redaction);
    }
    Ok(Exit::Ok)
}
