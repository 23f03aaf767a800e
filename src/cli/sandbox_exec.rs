//! `git-orchestrate sandbox-exec ...`: the launcher that starts a contained program (see
//! `sandbox`). Hidden: the tool runs it itself; it is read before the rest of the command
//! line, so starting a contained program costs no more than it must.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::sandbox::{self, Launched};

pub fn run(args: &[OsString]) -> ExitCode {
    match sandbox::launcher_main(args) {
        Ok(Launched::Exit(code)) => ExitCode::from(code),
        Ok(Launched::Signal(signal)) => ExitCode::from(sandbox::end_by_signal(signal)),
        Ok(Launched::Probe(json)) => {
            crate::ui::launcher_stdout(&json);
            ExitCode::SUCCESS
        }
        Err(error) => {
            crate::ui::launcher_stderr(&format!("git-orchestrate {error}"));
            ExitCode::from(error.code())
        }
    }
}
