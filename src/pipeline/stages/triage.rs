//! The triage stage: the issue brief. With a triage model the brief is written by it; without
//! one, the brief is the issue text, normalised.

use super::StageOutcome;
use crate::git::FileChange;
use crate::pipeline::PipelineError;
use crate::pipeline::branch::{Message, Verdict};
use crate::pipeline::context::StageContext;
use crate::pipeline::events::Event;
use crate::stage::{Role, Stage};

pub async fn run(cx: &mut StageContext<'_>) -> Result<StageOutcome, PipelineError> {
    let issue = cx.issue().clone();
    let path = cx.artifact(Stage::Triage);
    let (brief, drafter) = if cx.has_model(Role::Triage) {
        let label = cx.model_label(Role::Triage)?;
        let mut vars = cx.prompt_vars()?;
        vars.insert("issue", issue.normalised());
        let prompt = cx.prompt("triage", &vars);
        let reply = match cx.call(Role::Triage, 1, None, prompt).await {
            Ok(reply) => reply,
            // Nothing was produced, so there is nothing to commit: the stage is blocked.
            Err(PipelineError::OverBudget { message, .. }) => {
                return Ok(StageOutcome::Blocked {
                    commit: None,
                    reason: message,
                    rounds: 0,
                });
            }
            Err(other) => return Err(other),
        };
        // What the issue's source section records is not the model's to write or drop.
        let brief = match issue.source() {
            Some(source) => format!("{}\n\n{source}", reply.text.trim()),
            None => format!("{}\n", reply.text.trim()),
        };
        (brief, Some(label))
    } else {
        (issue.normalised(), None)
    };
    let spent = cx.take_spend();
    let mut message = Message::stage(Stage::Triage, issue.number, &issue.title, Verdict::Passed);
    match &drafter {
        Some(label) => message.paragraph(format!("Brief written by {label} from the issue.")),
        None => message.paragraph("The issue text, normalised (no triage model is configured)."),
    };
    message
        .models(drafter.as_deref(), None)
        .spend(spent.usage(), spent.cost());
    let files = [FileChange::file(path.clone(), brief)];
    let commit = cx.commit(&files, &message)?;
    cx.emit(Event::Committed {
        stage: Stage::Triage,
        commit: commit.short(),
        verdict: Verdict::Passed,
        paths: vec![path],
    });
    Ok(StageOutcome::Passed {
        commit,
        verdict: Verdict::Passed,
        rounds: 0,
    })
}
