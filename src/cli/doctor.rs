//! `git orchestrate doctor [--offline] [--json]`: whether a run could start here — git, the
//! repository, the configuration, every model, GitHub, the test command, leftovers of earlier
//! runs — one line per check with advice for what is wrong. Exit 0 when a run could start.

use std::time::Duration;

use super::{CliError, Exit, GlobalArgs, hints, small_runtime};
use crate::env::Env;
use crate::ops::doctor::{self, DoctorOptions, Level};
use crate::ui::{DoctorCheck, DoctorDocument, Ui, render_doctor};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send no request: look for keys, tokens and programs without trying them.
    #[arg(long)]
    offline: bool,

    /// Print one JSON document instead of lines.
    #[arg(long)]
    json: bool,

    /// The longest one network check may take (all of them together take at most 25s).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    timeout: Duration,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("a timeout of zero would fail every check".into()),
        Ok(d) => Ok(d.min(doctor::OVERALL)),
        Err(e) => Err(format!("`{text}` is not a duration such as 10s: {e}")),
    }
}

pub fn run(args: Args, global: &GlobalArgs, env: &Env, ui: &Ui) -> Result<Exit, CliError> {
    let options = DoctorOptions {
        open: global.open_options(),
        offline: args.offline,
        timeout: args.timeout,
    };
    let runtime = small_runtime()?;
    let report = runtime.block_on(doctor::doctor(&options, env));
    ui.protect(&report.redactor);
    let ready = report.ready();
    let document = DoctorDocument {
        checks: report
            .checks
            .into_iter()
            .map(|check| {
                let advice = check
                    .problem
                    .as_ref()
                    .map(hints::doctor)
                    .unwrap_or_default();
                DoctorCheck {
                    name: check.name,
                    ok: check.level != Level::Error,
                    level: check.level,
                    detail: check.detail,
                    hint: (!advice.is_empty()).then(|| advice.join("\n")),
                }
            })
            .collect(),
        ready,
    };
    let text = if args.json {
        let json = serde_json::to_string_pretty(&document).map_err(|e| {
            CliError::new(
                Exit::Error,
                format!("could not encode the report as JSON: {e}"),
            )
        })?;
        format!("{json}\n")
    } else {
        render_doctor(&document)
    };
    // A closed pipe ends quietly, as for every command.
    ui.data(&text)?;
    Ok(if ready { Exit::Ok } else { Exit::Error })
}
