//! Asking a person at a gate, on the terminal, the way `git add -p` asks: one letter per
//! choice. The question runs on its own thread so that Ctrl-C can end the run while it waits.

use std::io::{BufRead, Write};
use std::process::Command;

use tokio::sync::oneshot;

use crate::llm::BoxFuture;
use crate::pipeline::io::{GateChoice, GatePrompt, Gatekeeper};

pub struct TerminalGatekeeper {
    enabled: bool,
}

impl TerminalGatekeeper {
    /// `enabled` is false with `--no-input` or without a terminal.
    pub fn new(enabled: bool) -> TerminalGatekeeper {
        TerminalGatekeeper { enabled }
    }
}

impl Gatekeeper for TerminalGatekeeper {
    fn can_ask(&self) -> bool {
        self.enabled
    }

    fn ask<'a>(&'a self, prompt: &'a GatePrompt) -> BoxFuture<'a, GateChoice> {
        let prompt = prompt.clone();
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(converse(&prompt));
        });
        Box::pin(async move { rx.await.unwrap_or(GateChoice::Quit) })
    }
}

fn say(text: &str) {
    let mut err = std::io::stderr();
    let _ = write!(err, "{text}");
    let _ = err.flush();
}

fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
    }
}

fn converse(prompt: &GatePrompt) -> GateChoice {
    let lines = prompt.artifact.lines().count();
    say(&format!(
        "\nGate {}: #{} {} — {} ({lines} lines) is ready for your review.\n",
        prompt.gate, prompt.issue, prompt.title, prompt.artifact_path
    ));
    loop {
        say("Approve it? [a]pprove, [r]eject with feedback, [e]dit, [v]iew, [q]uit: ");
        let Some(answer) = read_line() else {
            return GateChoice::Quit;
        };
        match answer.trim().to_ascii_lowercase().as_str() {
            "a" | "approve" => return GateChoice::Approve,
            "q" | "quit" => return GateChoice::Quit,
            "v" | "view" => say(&format!("\n{}\n", prompt.artifact.trim_end())),
            "r" | "reject" => {
                say("What should change? (one line; empty to write it in your editor): ");
                let Some(line) = read_line() else {
                    return GateChoice::Quit;
                };
                let feedback = if line.trim().is_empty() {
                    match edit(
                        prompt,
                        "\n# Write what should change. Lines starting with # are ignored.\n",
                    ) {
                        Ok(text) => strip_comments(&text),
                        Err(e) => {
                            say(&format!("{e}\n"));
                            continue;
                        }
                    }
                } else {
                    line
                };
                if feedback.trim().is_empty() {
                    say("No feedback given; nothing was rejected.\n");
                    continue;
                }
                return GateChoice::Reject(feedback.trim().to_string());
            }
            "e" | "edit" => match edit(prompt, &prompt.artifact) {
                Ok(text) if text != prompt.artifact => return GateChoice::Edited(text),
                Ok(_) => say("No changes.\n"),
                Err(e) => say(&format!("{e}\n")),
            },
            _ => say(
                "a: approve and go on; r: reject, and the stage is revised with your feedback; e: edit the document yourself; v: show it; q: stop here (approve or reject later from the command line)\n",
            ),
        }
    }
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Open `text` in git's editor and return what the person saved.
fn edit(prompt: &GatePrompt, text: &str) -> Result<String, String> {
    let Some(editor) = prompt.editor.as_deref() else {
        return Err("no editor is configured (set core.editor, GIT_EDITOR or EDITOR)".into());
    };
    let file = tempfile::Builder::new()
        .prefix("orchestrate-")
        .suffix(".md")
        .tempfile()
        .map_err(|e| format!("could not create a file to edit: {e}"))?;
    std::fs::write(file.path(), text)
        .map_err(|e| format!("could not write {}: {e}", file.path().display()))?;
    // As git does: the editor value is a shell command, the file its argument.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(editor)
        .arg(file.path())
        .status()
        .map_err(|e| format!("could not start the editor `{editor}`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "the editor `{editor}` failed ({status}); nothing was changed"
        ));
    }
    std::fs::read_to_string(file.path())
        .map_err(|e| format!("could not read back the edited file: {e}"))
}
