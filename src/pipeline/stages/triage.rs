//! The triage stage: the issue brief.
//!
//! Without a triage model the brief is the issue text, normalised, committed as it is: it is
//! the user's own text, and nothing checks it. With one, the model writes the brief, and the
//! brief is checked as the designs are before anything builds on it: each of
//! `stages.triage.required_sections` is a heading with text under it, and it has at least
//! `stages.triage.min_chars` characters. A brief that fails goes back to the model once
//! ([`FIXES`]), with its reply and what is wrong (the `triage-revise` prompt); if the answer
//! still fails, the stage blocks and commits that brief with verdict `blocked` — nothing paid
//! for is lost, and a blocked brief is not done: the next run asks the model again.
//!
//! A brief a model wrote ends with the issue as read, in a section of its own
//! ([`crate::issue::filed`]; for an issue from GitHub that holds its `## Source` section too),
//! so the later stages' prompts and later runs have the issue itself, not only the model's
//! words about it.

use super::StageOutcome;
use super::sections::{SectionProblem, check_sections};
use crate::config::TriageConfig;
use crate::git::FileChange;
use crate::issue::filed;
use crate::pipeline::PipelineError;
use crate::pipeline::branch::{Message, Verdict};
use crate::pipeline::context::StageContext;
use crate::pipeline::events::{Event, SectionFix, TooShort};
use crate::pipeline::plan::Start;
use crate::stage::{Role, Stage};

/// How many times a brief that fails the check goes back to the triage model.
pub const FIXES: u32 = 1;

/// Write the brief. `start` is [`Start::Stale`] when the issue changed since the brief on the
/// branch was written: the triage model then revises that brief to match the issue.
pub async fn run(cx: &mut StageContext<'_>, start: Start) -> Result<StageOutcome, PipelineError> {
    if !cx.has_model(Role::Triage) {
        let brief = cx.issue().normalised();
        return commit(cx, &brief, None, None);
    }
    let label = cx.model_label(Role::Triage)?;
    let settings = cx
        .settings()
        .triage()
        .cloned()
        .ok_or(PipelineError::WrongSettings {
            stage: Stage::Triage,
        })?;
    let mut vars = cx.prompt_vars()?;
    vars.insert("issue", cx.issue().normalised());
    vars.insert("required_sections", settings.required_sections.join(", "));
    let previous = match &start {
        Start::Stale(why) => cx
            .read_artifact(&cx.artifact(Stage::Triage))?
            .map(|brief| (brief, why.describe(Stage::Triage))),
        _ => None,
    };
    let prompt = match previous {
        Some((brief, why)) => {
            let mut vars = vars.clone();
            vars.insert("draft", filed::strip(&brief).to_string());
            vars.insert(
                "feedback",
                format!(
                    "{why}. Revise this brief to match the issue as it is now: change what the issue's change asks for, and keep what still holds."
                ),
            );
            cx.prompt("triage-revise", &vars)
        }
        None => cx.prompt("triage", &vars),
    };
    let mut brief = match cx.call(Role::Triage, 1, None, prompt).await {
        Ok(reply) => reply.text.trim().to_string(),
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
    let mut round = 1;
    loop {
        let check = Check::of(&brief, &settings);
        if check.passes() {
            return commit(cx, &brief, Some(&label), None);
        }
        let fix = (round <= FIXES).then_some(SectionFix {
            attempt: round,
            of: FIXES,
        });
        cx.emit(Event::DraftIncomplete {
            stage: Stage::Triage,
            round,
            problems: check.problems.clone(),
            too_short: check.too_short,
            fix,
        });
        let Some(fix) = fix else {
            let reason = format!(
                "the brief still fails the check after it was sent back to the triage model ({})",
                check.summary()
            );
            return commit(cx, &brief, Some(&label), Some(reason));
        };
        round += 1;
        vars.insert("draft", brief.clone());
        vars.insert("feedback", check.feedback(&settings));
        let prompt = cx.prompt("triage-revise", &vars);
        brief = match cx.call(Role::Triage, round, Some(fix), prompt).await {
            Ok(reply) => reply.text.trim().to_string(),
            // The first brief was paid for: it is kept, as blocked.
            Err(PipelineError::OverBudget { message, .. }) => {
                return commit(cx, &brief, Some(&label), Some(message));
            }
            Err(error @ PipelineError::Model { .. }) => {
                let reason = format!(
                    "stopped because a model call failed: {}",
                    crate::error_chain::chain(&error)
                );
                commit(cx, &brief, Some(&label), Some(reason))?;
                return Err(error);
            }
            Err(other) => return Err(other),
        };
    }
}

/// What the check found wrong with a brief.
#[derive(Debug, PartialEq, Eq)]
struct Check {
    problems: Vec<SectionProblem>,
    too_short: Option<TooShort>,
}

impl Check {
    fn of(brief: &str, settings: &TriageConfig) -> Check {
        let chars = brief.trim().chars().count() as u64;
        let min = u64::from(settings.min_chars);
        Check {
            problems: check_sections(brief, &settings.required_sections),
            too_short: (chars < min).then_some(TooShort { chars, min }),
        }
    }

    fn passes(&self) -> bool {
        self.problems.is_empty() && self.too_short.is_none()
    }

    /// Every problem in one phrase: `missing sections: Problem; too short: ...`.
    fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.problems.is_empty() {
            parts.push(SectionProblem::summary(&self.problems));
        }
        if let Some(short) = self.too_short {
            parts.push(short.to_string());
        }
        parts.join("; ")
    }

    /// What the model is told when its brief goes back.
    fn feedback(&self, settings: &TriageConfig) -> String {
        let mut lines = Vec::new();
        if !self.problems.is_empty() {
            lines.push(format!(
                "- The brief must have each of these sections as a Markdown heading with text under it: {}. Problems found: {}.",
                settings.required_sections.join(", "),
                SectionProblem::summary(&self.problems)
            ));
        }
        if let Some(short) = self.too_short {
            lines.push(format!(
                "- The brief is {} character{} long; a brief has at least {}: state the problem, the goal, the scope and the acceptance criteria the issue supports.",
                short.chars,
                if short.chars == 1 { "" } else { "s" },
                short.min
            ));
        }
        lines.join("\n")
    }
}

/// Commit `text` as the brief: passed, or blocked for `blocked`. A model's brief (`by` names
/// the model) ends with the issue as read.
fn commit(
    cx: &mut StageContext<'_>,
    text: &str,
    by: Option<&str>,
    blocked: Option<String>,
) -> Result<StageOutcome, PipelineError> {
    let issue = cx.issue().clone();
    let path = cx.artifact(Stage::Triage);
    let brief = match by {
        Some(_) => filed::append(text, &issue.normalised()),
        None => text.to_string(),
    };
    let verdict = match blocked {
        Some(_) => Verdict::Blocked,
        None => Verdict::Passed,
    };
    let spent = cx.take_spend();
    let mut message = Message::stage(Stage::Triage, issue.number, &issue.title, verdict);
    match (by, &blocked) {
        (Some(label), None) => {
            message.paragraph(format!("Brief written by {label} from the issue."));
        }
        (Some(label), Some(reason)) => {
            message
                .paragraph(format!("Blocked: {reason}"))
                .paragraph(format!(
                    "The last brief {label} wrote is kept here, followed by the issue as filed. It does not count as done: the next run asks the triage model again, and a brief edited by hand and committed is taken as it is."
                ));
        }
        (None, _) => {
            message.paragraph("The issue text, normalised (no triage model is configured).");
        }
    }
    message.models(by, None).spend(spent.usage(), spent.cost());
    let files = [FileChange::file(path.clone(), brief)];
    let commit = cx.commit(&files, &message)?;
    cx.emit(Event::Committed {
        stage: Stage::Triage,
        commit: commit.short(),
        verdict,
        paths: vec![path],
    });
    Ok(match blocked {
        Some(reason) => StageOutcome::Blocked {
            commit: Some(commit),
            reason,
            rounds: 0,
        },
        None => StageOutcome::Passed {
            commit,
            verdict,
            rounds: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(min_chars: u32) -> TriageConfig {
        TriageConfig {
            drafter: None,
            required_sections: vec!["Problem".into(), "Acceptance criteria".into()],
            min_chars,
        }
    }

    const GOOD: &str = "# Add a --verbose flag\n\n## Problem\nUsers cannot see what the widget does while it runs.\n\n## Acceptance criteria\n1. `widget --verbose` prints each step.\n";

    #[test]
    fn a_real_brief_passes_the_default_check() {
        let check = Check::of(GOOD, &settings(100));
        assert!(check.passes(), "{check:?}");
    }

    #[test]
    fn a_one_letter_brief_fails_on_every_count_and_says_so() {
        let check = Check::of("S", &settings(100));
        assert_eq!(
            check.summary(),
            "missing sections: Problem, Acceptance criteria; too short: 1 character, at least 100 wanted"
        );
        let feedback = check.feedback(&settings(100));
        assert!(
            feedback.contains("sections as a Markdown heading with text under it: Problem, Acceptance criteria. Problems found: missing sections: Problem, Acceptance criteria."),
            "{feedback}"
        );
        assert!(
            feedback.contains("The brief is 1 character long; a brief has at least 100"),
            "{feedback}"
        );
    }

    #[test]
    fn length_and_sections_are_checked_apart() {
        let check = Check::of(GOOD, &settings(10_000));
        assert!(check.problems.is_empty());
        assert_eq!(check.too_short.map(|s| s.min), Some(10_000), "{check:?}");
        let empty = "# T\n\n## Problem\n\n## Acceptance criteria\n1. It works, as the issue asks, for every user of the widget's command line.\n";
        let check = Check::of(empty, &settings(0));
        assert_eq!(check.summary(), "empty section: Problem");
        assert_eq!(check.too_short, None);
    }
}
