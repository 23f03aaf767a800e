//! What `action` says: why an event was ignored, and what was done about one that was not.

use super::Ui;
use crate::ops::action::{Acted, Decided, Decision, Ignored};
use crate::pipeline::events::Outcome;

/// Why an event asks for nothing, in words.
pub fn ignored(reason: &Ignored) -> String {
    let text = match reason {
        Ignored::UnsupportedEvent(name) => format!(
            "unsupported event `{name}`: `action` acts on `issues` (labeled) and `issue_comment` (created) events"
        ),
        Ignored::IssueAction(action) => {
            format!("the issue was {action}; only the `orchestrate` label starts a run")
        }
        Ignored::OtherLabel(label) => {
            format!("the label `{label}` was added; only `orchestrate` starts a run")
        }
        Ignored::CommentAction(action) => {
            format!("a comment was {action}; only new comments give commands")
        }
        Ignored::PullRequest => {
            "a comment on a pull request; commands are given on the issue".into()
        }
        Ignored::Bot(login) => format!("a comment by the bot @{login}"),
        Ignored::NotACommand => "the comment's first line is not an `/orchestrate` command".into(),
        Ignored::UnknownCommand(text) => format!(
            "`{text}` is not a command: `/orchestrate`, `/orchestrate approve` or `/orchestrate reject <what to change>`"
        ),
        Ignored::RejectWithoutFeedback => {
            "`/orchestrate reject` needs feedback after it: `/orchestrate reject <what to change>`"
                .into()
        }
        Ignored::NoWriteAccess { login, association } => format!(
            "@{login} has no write access to the repository (author association {association}); only owners, members and collaborators give commands"
        ),
    };
    format!("ignored: {text}")
}

/// Say that the event was ignored, and why.
pub fn render_ignored(ui: &Ui, reason: &Ignored) {
    ui.status(&ignored(reason));
}

/// Say what the event asked for, before it is done.
pub fn render_decided(ui: &Ui, decided: &Decided) {
    let issue = decided.issue.unwrap_or_default();
    let by = decided
        .sender
        .as_deref()
        .map(|s| format!(" (asked by @{s})"))
        .unwrap_or_default();
    let what = match &decided.decision {
        Decision::Run => format!("running #{issue}"),
        Decision::Approve => format!("approving the gate #{issue} waits at, then running it"),
        Decision::Reject(_) => format!("rejecting at the gate #{issue} waits at, then running it"),
        Decision::Ignore(reason) => return render_ignored(ui, reason),
    };
    ui.status(&format!("GitHub Actions: {what}{by}."));
}

/// Say what was done: the gate decision, the push, the comment.
pub fn render_acted(ui: &Ui, issue: u64, acted: &Acted) {
    if let Some(recorded) = &acted.recorded {
        let commit = recorded.commit.map(|c| c.short()).unwrap_or_default();
        ui.status(&format!(
            "Recorded the decision at {} on {} ({commit}) before the run.",
            recorded.gate, recorded.branch
        ));
        for redaction in &recorded.redacted {
            ui.redacted(redaction);
        }
    }
    if let Some(branch) = &acted.pushed {
        ui.status(&format!("Pushed {branch}, so the next job finds it."));
    }
    if acted.comment.is_some() {
        let about = match &acted.outcome {
            Outcome::Waiting { gate } => format!("what the {gate} gate needs"),
            Outcome::Blocked { stage, .. } => format!("what blocked {stage}"),
            _ => "how the run ended".into(),
        };
        ui.status(&format!("Commented on #{issue}: {about}."));
    }
}
