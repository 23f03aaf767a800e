//! Everything a person sees: one [`Ui`] owns stdout (data) and stderr (status), colour,
//! `--quiet` and progress; the renderers turn pipeline events into lines, a spinner and a
//! final table (people) or JSON lines (`--json`).

mod action;
mod clean;
mod doctor;
pub mod eval;
mod gate;
mod human;
mod init;
pub mod json;
mod lanes;
mod status;
mod table;
pub mod words;

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};

pub use action::{render_acted, render_decided, render_ignored};
pub use clean::{render_cleaned, render_lost_work, render_nothing_to_clean};
pub use doctor::{DoctorCheck, DoctorDocument, render_doctor};
pub use gate::TerminalGatekeeper;
pub use human::HumanRenderer;
pub use init::render_init;
pub use json::JsonRenderer;
pub use lanes::{Ended, Lane, Lanes, render_runs};
pub use status::{render_issue_status, render_status_list};

use crate::env::Env;
use crate::pipeline::events::Redaction;
use crate::redact::Redactor;

pub const GOOD: Style = AnsiColor::Green.on_default().bold();
pub const BAD: Style = AnsiColor::Red.on_default().bold();
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
pub const DIM: Style = Style::new().dimmed();

/// How much to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Whether standard output or standard error is a terminal: where colour could show.
pub fn output_is_terminal() -> bool {
    std::io::stdout().is_terminal() || std::io::stderr().is_terminal()
}

/// The terminal, as the rest of the program may use it.
pub struct Ui {
    out: Mutex<AutoStream<std::io::Stdout>>,
    err: Mutex<AutoStream<std::io::Stderr>>,
    /// Every line written goes through it: no secret reaches the terminal or a pipe.
    redactor: Mutex<Redactor>,
    pub verbosity: Verbosity,
    stderr_is_terminal: bool,
    stdin_is_terminal: bool,
}

impl Ui {
    /// The terminal; `color`: whether colour may be used at all (`NO_COLOR`, git's
    /// `color.orchestrate` or `color.ui` said no when `false`), then only on a terminal.
    pub fn new(env: &Env, verbosity: Verbosity, color: bool) -> Ui {
        let choice = if env.no_color() || !color {
            ColorChoice::Never
        } else {
            ColorChoice::Auto
        };
        Ui {
            out: Mutex::new(AutoStream::new(std::io::stdout(), choice)),
            err: Mutex::new(AutoStream::new(std::io::stderr(), choice)),
            redactor: Mutex::new(Redactor::new(env, std::iter::empty::<String>())),
            verbosity,
            stderr_is_terminal: std::io::stderr().is_terminal(),
            stdin_is_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// Also remove the secrets `redactor` knows (the configured providers' key variables,
    /// once the configuration is read).
    pub fn protect(&self, redactor: &Redactor) {
        self.lock_redactor().extend(redactor);
    }

    fn lock_redactor(&self) -> std::sync::MutexGuard<'_, Redactor> {
        self.redactor.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `text` with the secrets the `Ui` knows removed, for what is drawn other than through
    /// its own writes (a progress line).
    fn cleaned(&self, text: &str) -> String {
        self.lock_redactor().clean(text)
    }

    /// Whether a person can be asked something.
    pub fn interactive(&self) -> bool {
        self.stderr_is_terminal && self.stdin_is_terminal
    }

    pub fn progress_allowed(&self) -> bool {
        self.stderr_is_terminal && self.verbosity != Verbosity::Quiet
    }

    /// Data on stdout. A closed pipe comes back as an error for the caller to end quietly.
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let text = self.lock_redactor().clean(text);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// A status line on stderr, unless quiet.
    pub fn status(&self, text: &str) {
        if self.verbosity != Verbosity::Quiet {
            self.stderr(text);
        }
    }

    /// A line on stderr, always.
    pub fn stderr(&self, text: &str) {
        let text = self.lock_redactor().clean(text);
        let mut err = self.err.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(err, "{text}");
        let _ = err.flush();
    }

    pub fn warn(&self, message: &str) {
        self.stderr(&warning_text(message));
    }

    /// Say that secrets were removed from something written: where, and what (by name).
    pub fn redacted(&self, redaction: &Redaction) {
        self.warn(&redaction_text(redaction));
    }

    pub fn error(&self, message: &str, hints: &[String]) {
        self.stderr(&error_text(message, hints));
    }
}

/// `warning: MESSAGE`.
pub fn warning_text(message: &str) -> String {
    format!("{WARN}warning:{WARN:#} {message}")
}

/// Which secrets were removed from what (by name, never the values).
pub(crate) fn redaction_text(redaction: &Redaction) -> String {
    format!(
        "removed {} from {} (replaced with {})",
        redaction.found.join(", "),
        redaction.place,
        crate::redact::MASK
    )
}

/// `error: MESSAGE` and a `hint:` line for each hint (continued lines indented under it).
pub fn error_text(message: &str, hints: &[String]) -> String {
    let mut lines = vec![format!("{BAD}error:{BAD:#} {message}")];
    for hint in hints {
        let mut hint_lines = hint.lines();
        if let Some(first) = hint_lines.next() {
            lines.push(format!("{NOTE}hint:{NOTE:#} {first}"));
        }
        for line in hint_lines {
            lines.push(format!("      {line}"));
        }
    }
    lines.join("\n")
}

/// `1.2s`, `3m 04s`.
pub fn elapsed(ms: u64) -> String {
    if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        let secs = ms / 1000;
        format!("{}m {:02}s", secs / 60, secs % 60)
    }
}

/// Where `tracing` diagnostics go (`-v`, `GIT_ORCHESTRATE_LOG`): stderr, each record with the
/// credentials in the environment removed, like every other line.
#[derive(Clone)]
pub struct Diagnostics {
    redactor: std::sync::Arc<Redactor>,
}

impl Diagnostics {
    pub fn new(env: &Env) -> Diagnostics {
        Diagnostics {
            redactor: std::sync::Arc::new(Redactor::new(env, std::iter::empty::<String>())),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Diagnostics {
    type Writer = DiagnosticRecord;

    fn make_writer(&'a self) -> DiagnosticRecord {
        DiagnosticRecord {
            redactor: self.redactor.clone(),
            buffer: Vec::new(),
        }
    }
}

/// One diagnostic record, written (redacted) when it is complete.
pub struct DiagnosticRecord {
    redactor: std::sync::Arc<Redactor>,
    buffer: Vec<u8>,
}

impl Write for DiagnosticRecord {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let clean = self.redactor.clean(&text);
        self.buffer.clear();
        let mut err = std::io::stderr().lock();
        err.write_all(clean.as_bytes())?;
        err.flush()
    }
}

impl Drop for DiagnosticRecord {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A line on stderr with nothing around it: the sandbox launcher's, which starts before
/// anything else and must stay quick (it sees no secret: it names programs and paths).
pub fn launcher_stderr(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Text the command-line parser rendered (a usage error, the help), styled: on stderr or
/// stdout, colour kept only where the stream is a terminal that wants it.
pub fn parser_output(text: &str, to_stderr: bool, color: bool) {
    let choice = match color {
        true => ColorChoice::Auto,
        false => ColorChoice::Never,
    };
    if to_stderr {
        let mut stream = AutoStream::new(std::io::stderr(), choice);
        let _ = write!(stream, "{text}");
    } else {
        let mut stream = AutoStream::new(std::io::stdout(), choice);
        let _ = write!(stream, "{text}");
    }
}

/// The sandbox launcher's `--probe` answer on stdout.
pub fn launcher_stdout(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// The candidates a completion script asked for, on stdout byte for byte: the scripts split
/// them on control characters (bash on `\v`), which a stream that strips escapes would drop.
pub fn completion_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}
