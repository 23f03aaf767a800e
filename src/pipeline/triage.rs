//! The triage stage: the issue brief. With a triage model the brief is written by it; without
//! one, the brief is the issue text, normalised.

use std::collections::BTreeMap;

use super::PipelineError;
use super::events::Event;
use super::message::Message;
use super::run::{Run, StageResult};
use super::stage::Stage;
use crate::git::FileChange;
use crate::llm::Role;

pub(super) async fn run(run: &mut Run<'_>) -> Result<StageResult, PipelineError> {
    let issue = run.issue.clone();
    let path = run.artifact(Stage::Triage);
    let (brief, drafter) = match run.model_spec(Stage::Triage, Role::Triage) {
        Some(_) => {
            let label = run.model(Stage::Triage, Role::Triage)?.label();
            let mut vars: BTreeMap<&str, String> = BTreeMap::new();
            vars.insert("repo_name", run.session.repo.name());
            vars.insert("repo_context", run.repo_context()?);
            vars.insert("issue_number", issue.number.to_string());
            vars.insert("issue_title", issue.title.clone());
            vars.insert("issue", issue.normalised());
            vars.insert("stage", Stage::Triage.name().into());
            vars.insert("required_sections", String::new());
            let prompt = run.prompts.render("triage", &vars);
            let reply = match run.call(Stage::Triage, Role::Triage, 1, prompt).await {
                Ok(reply) => reply,
                // Nothing was produced, so there is nothing to commit: the stage is blocked.
                Err(PipelineError::OverBudget { message, .. }) => {
                    return Ok(StageResult::Blocked {
                        commit: None,
                        reason: message,
                        rounds: 0,
                    });
                }
                Err(other) => return Err(other),
            };
            (format!("{}\n", reply.text.trim()), Some(label))
        }
        None => (issue.normalised(), None),
    };
    let mut message = Message::stage(Stage::Triage, issue.number, &issue.title, "passed");
    match &drafter {
        Some(label) => message.paragraph(format!("Brief written by {label} from the issue.")),
        None => message.paragraph("The issue text, normalised (no triage model is configured)."),
    };
    message
        .models(drafter.as_deref(), None)
        .spend(run.take_spend(Stage::Triage));
    let files = [FileChange {
        path: path.clone(),
        content: brief.into_bytes(),
    }];
    let commit = run.commit(Stage::Triage.name(), &files, &message)?;
    run.io.events.emit(Event::Committed {
        stage: Stage::Triage,
        commit: commit.short(),
        verdict: "passed".into(),
        paths: vec![path],
    });
    Ok(StageResult::Passed {
        commit,
        verdict: "passed".into(),
        rounds: 0,
    })
}
