//! `git orchestrate action`: act on the GitHub Actions event that started the job — run an
//! issue labeled `orchestrate`, or follow an `/orchestrate` command in a new comment.

use super::{CliError, Exit, GlobalArgs, hints, open_session, runtime};
use crate::env::Env;
use crate::error_chain::chain;
use crate::ops::action::{self, ActionError, Decision};
use crate::pipeline::io::NoInput;
use crate::pipeline::{Interrupt, Outcome, RunIo};
use crate::ui::{self, HumanRenderer, Ui};

/// Reads the event from $GITHUB_EVENT_NAME and the file $GITHUB_EVENT_PATH names; takes no
/// other input.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let decided = action::read_event(env).map_err(error)?;
    if let Decision::Ignore(reason) = &decided.decision {
        ui::render_ignored(ui, reason);
        return Ok(Exit::Ok);
    }
    ui::render_decided(ui, &decided);
    let session = open_session(global, env, ui)?;
    let run_session = open_session(global, env, ui)?;
    let interrupt = Interrupt::new();
    let runtime = runtime(&interrupt)?;
    let human = HumanRenderer::new(ui).replies_by_comment();
    let io = RunIo {
        events: &human,
        gatekeeper: &NoInput,
        interrupt: &interrupt,
    };
    let acted = runtime
        .block_on(action::act(session, run_session, &decided, &io))
        .map_err(error)?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    ui::render_acted(ui, decided.issue.unwrap_or_default(), &acted);
    Ok(match acted.outcome {
        // The comment asked a person; the job did what it could.
        Outcome::Completed
        | Outcome::StoppedAfter { .. }
        | Outcome::Planned
        | Outcome::Waiting { .. } => Exit::Ok,
        // A failed job is what makes maintainers look.
        Outcome::Blocked { .. } => Exit::Blocked,
        Outcome::Interrupted => Exit::Interrupted,
    })
}

fn error(error: ActionError) -> CliError {
    match error {
        ActionError::Pipeline(e) => (*e).into(),
        other => {
            let mut cli = CliError::new(Exit::Error, chain(&other));
            for hint in hints::action(&other) {
                cli = cli.hint(hint);
            }
            cli
        }
    }
}
