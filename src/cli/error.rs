//! Exit codes, and the one error type commands return: it decides the exit code and prints
//! `error:` (the error with its causes) and `hint:` lines.

use super::hints;
use crate::error_chain::chain;
use crate::ops::OpenError;
use crate::pipeline::PipelineError;
use crate::ui::Ui;

/// Exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Done, or stopped where asked.
    Ok = 0,
    /// Bad input, configuration, git, or a provider after its retries.
    Error = 1,
    /// Wrong usage of the command line.
    Usage = 2,
    /// A stage is blocked.
    Blocked = 3,
    /// Waiting at a gate for a person.
    Gate = 4,
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    message: String,
    hints: Vec<String>,
    /// Say nothing (a closed pipe on stdout).
    silent: bool,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> CliError {
        CliError {
            exit,
            message: message.into(),
            hints: Vec::new(),
            silent: false,
        }
    }

    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(Exit::Usage, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hints.push(hint.into());
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    pub fn report(&self, ui: &Ui) {
        if !self.silent {
            ui.error(&self.message, &self.hints);
        }
    }
}

impl From<PipelineError> for CliError {
    fn from(error: PipelineError) -> CliError {
        let exit = match error {
            PipelineError::Interrupted => Exit::Interrupted,
            _ => Exit::Error,
        };
        CliError {
            exit,
            hints: hints::pipeline(&error),
            message: chain(&error),
            silent: false,
        }
    }
}

impl From<OpenError> for CliError {
    fn from(error: OpenError) -> CliError {
        match error {
            OpenError::Pipeline(e) => (*e).into(),
            OpenError::Config(e) => CliError {
                exit: Exit::Error,
                hints: hints::config(&e),
                message: chain(e.as_ref()),
                silent: false,
            },
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> CliError {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError {
                exit: Exit::Ok,
                message: String::new(),
                hints: Vec::new(),
                silent: true,
            };
        }
        CliError::new(Exit::Error, format!("could not write output: {error}"))
    }
}
