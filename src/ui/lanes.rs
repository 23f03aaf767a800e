//! Several issues at once (`run 12 13 14 -j 3`): each issue's run writes in its own lane.
//! On a terminal a lane is one line that shows what the issue is doing now, redrawn in
//! place, with warnings, errors and gate requests printed above the lines; elsewhere (a
//! pipe, a CI log, `--quiet`) every line of the issue's run is prefixed with `#N`, so
//! interleaved runs stay readable with `grep '^#12 '`. At the end, one table says how each
//! issue ended and what to do next.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::table::table;
use super::{DIM, Ui, Verbosity, words};
use crate::pipeline::events::{Outcome, Summary};

/// The lanes of one command: a board of live lines on a terminal, plain prefixes elsewhere.
pub struct Lanes<'u> {
    ui: &'u Ui,
    board: Option<MultiProgress>,
}

impl<'u> Lanes<'u> {
    /// `live`: draw a line per issue when stderr is a terminal (not for `--json`).
    pub fn new(ui: &'u Ui, live: bool) -> Lanes<'u> {
        let board = (live && ui.progress_allowed())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Lanes { ui, board }
    }

    /// The lane of `issue`: its line on the board, if there is one.
    pub fn lane(&self, issue: u64) -> Lane<'_> {
        let line = self.board.as_ref().map(|board| {
            let style = ProgressStyle::with_template(
                "{prefix:.bold} {spinner:.cyan} {wide_msg} {elapsed:.dim}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = board.add(ProgressBar::new_spinner());
            bar.set_style(style);
            bar.set_prefix(format!("#{issue}"));
            bar.set_message("waiting for its turn");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Lane {
            ui: self.ui,
            prefix: format!("#{issue}"),
            board: self.board.as_ref(),
            line,
        }
    }

    /// Take the board off the terminal, so what follows prints below the last lines.
    pub fn close(&self) {
        if let Some(board) = &self.board {
            let _ = board.clear();
        }
    }
}

/// Where one issue's lines go.
pub struct Lane<'l> {
    ui: &'l Ui,
    prefix: String,
    board: Option<&'l MultiProgress>,
    line: Option<ProgressBar>,
}

impl Lane<'_> {
    /// Whether the issue has a live line (a terminal), where progress shows.
    pub fn is_live(&self) -> bool {
        self.line.is_some()
    }

    /// A status line: on the issue's live line, else prefixed (and not when quiet).
    pub fn status(&self, text: &str) {
        match &self.line {
            Some(line) => line.set_message(self.ui.cleaned(&last_line(text))),
            None => self.ui.status(&self.prefixed(text)),
        }
    }

    /// What the issue is doing now, on its live line only (a spinner's message).
    pub fn progress(&self, text: &str) {
        if let Some(line) = &self.line {
            line.set_message(self.ui.cleaned(&last_line(text)));
        }
    }

    /// A line that must stay (a warning, an error, a gate request): above the live lines.
    pub fn stderr(&self, text: &str) {
        let text = self.prefixed(text);
        match self.board {
            Some(board) => board.suspend(|| self.ui.stderr(&text)),
            None => self.ui.stderr(&text),
        }
    }

    /// An error and its hints, above the live lines.
    pub fn error(&self, message: &str, hints: &[String]) {
        self.stderr(&super::error_text(message, hints));
    }

    /// The issue's run is over: its live line keeps the last word.
    pub fn finish(&self, text: &str) {
        if let Some(line) = &self.line {
            line.finish_with_message(self.ui.cleaned(&last_line(text)));
        }
    }

    fn prefixed(&self, text: &str) -> String {
        text.lines()
            .map(|line| format!("{DIM}{}{DIM:#} {line}", self.prefix))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        if let Some(line) = &self.line
            && !line.is_finished()
        {
            line.finish();
        }
    }
}

/// The last non-empty line of `text`, trimmed, for a live line.
fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// How one issue of several ended.
#[derive(Clone, Debug)]
pub enum Ended {
    /// The run ended with its summary (done, stopped, waiting, blocked, interrupted).
    Finished(Box<Summary>),
    /// The run failed before it could finish (the error was said above).
    Failed { message: String },
    /// Ctrl-C came before the issue's turn.
    NotStarted,
}

/// The table after several issues: one row per issue, in the order they were named.
pub fn render_runs(ui: &Ui, runs: &[(u64, Ended)], rerun: Option<&str>) {
    if ui.verbosity == Verbosity::Quiet {
        return;
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|(issue, ended)| {
            let (result, next) = ended_words(*issue, ended, rerun);
            let branch = match ended {
                Ended::Finished(summary) => summary.branch.clone(),
                _ => String::new(),
            };
            vec![format!("#{issue}"), result, branch, next]
        })
        .collect();
    let text = table(&["issue", "result", "branch", "next"], &rows);
    ui.stderr("");
    for line in text.trim_end().lines() {
        ui.stderr(&format!("  {line}"));
    }
}

/// The result of one issue in a few words, and the command that goes on from there. (Plain
/// text: the table pads cells by their length.)
fn ended_words(issue: u64, ended: &Ended, rerun: Option<&str>) -> (String, String) {
    let again = words::run_command(issue, rerun);
    match ended {
        Ended::Finished(summary) => match &summary.outcome {
            Outcome::Completed => ("done".into(), String::new()),
            Outcome::Planned => ("planned (--dry-run)".into(), String::new()),
            Outcome::StoppedAfter { stage } => (format!("stopped after {stage}"), String::new()),
            Outcome::Waiting { gate } => {
                let [approve, _] = words::gate_commands(issue);
                (format!("waiting at {gate}"), approve)
            }
            Outcome::Blocked { stage, reason, .. } => (
                format!("blocked at {stage}: {}", shorten(reason, 48)),
                again,
            ),
            Outcome::Interrupted => ("interrupted".into(), again),
        },
        Ended::Failed { message } => (format!("error: {}", shorten(message, 48)), again),
        Ended::NotStarted => ("not started (interrupted)".into(), again),
    }
}

fn shorten(text: &str, width: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= width {
        return line.to_string();
    }
    let cut: String = line.chars().take(width.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::stage::{Gate, Stage};

    fn summary(outcome: Outcome) -> Ended {
        Ended::Finished(Box::new(Summary {
            issue: 12,
            branch: "orchestrate/12-x".into(),
            outcome,
            rows: Vec::new(),
            usage: None,
            cost_usd: None,
        }))
    }

    #[test]
    fn every_line_of_a_lane_names_its_issue() {
        let ui = Ui::new(&Env::default(), Verbosity::Normal, true);
        let lanes = Lanes::new(&ui, false);
        let lane = lanes.lane(12);
        assert!(!lane.is_live(), "no board off a terminal");
        let text = lane.prefixed("error: it broke\nhint: run it again");
        let plain: Vec<String> = text
            .lines()
            .map(|l| {
                String::from_utf8(anstream::adapter::strip_bytes(l.as_bytes()).into_vec()).unwrap()
            })
            .collect();
        assert_eq!(plain, ["#12 error: it broke", "#12 hint: run it again"]);
    }

    #[test]
    fn a_live_line_shows_the_last_thing_said() {
        assert_eq!(last_line("    Starting lld\n  answered  \n\n"), "answered");
        assert_eq!(last_line(""), "");
    }

    #[test]
    fn each_ending_says_what_to_run_next() {
        let words = |ended: &Ended| ended_words(12, ended, Some("--until spec"));
        assert_eq!(
            words(&summary(Outcome::Waiting {
                gate: Gate::AfterLld
            })),
            (
                "waiting at after_lld".into(),
                "git orchestrate approve 12".into()
            )
        );
        assert_eq!(
            words(&summary(Outcome::StoppedAfter { stage: Stage::Spec })),
            ("stopped after spec".into(), String::new())
        );
        let failed = Ended::Failed {
            message: "a very long message that goes on and on about what went wrong, and more"
                .into(),
        };
        let (result, next) = words(&failed);
        assert!(result.starts_with("error: a very long") && result.ends_with('…'));
        assert_eq!(next, "git orchestrate 12 --until spec");
        assert_eq!(words(&Ended::NotStarted).0, "not started (interrupted)");
    }
}
