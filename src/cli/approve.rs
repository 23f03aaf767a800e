//! `git orchestrate approve ISSUE [--gate G]`: pass the gate the issue waits at.

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

    /// The gate to pass (after_lld, after_spec, before_pr); default: the one the issue waits at.
    #[arg(long, value_name = "GATE", value_parser = gate_value(), hide_possible_values = true)]
    gate: Option<Gate>,
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let session = open_session(global, env, ui)?;
    let issue = args.issue.number;
    let recorded = ops::gate::approve(&session, issue, args.gate)?;
    match recorded.commit {
        Some(commit) => ui.status(&format!(
            "Approved {} for #{issue} on {} ({}); run `{}` to go on.",
            recorded.gate,
            recorded.branch,
            commit.short(),
            words::run_command(issue, None)
        )),
        None => ui.status(&format!(
            "{} for #{issue} was already approved; nothing to do.",
            recorded.gate
        )),
    }
    for redaction in &recorded.redacted {
        ui.redacted(redaction);
    }
    Ok(Exit::Ok)
}
