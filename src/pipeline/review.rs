//! The draft → review → revise loop shared by `lld` and `spec`.
//!
//! The drafter writes; a mechanical check sends a draft that lacks required sections straight
//! back (no review spent, at most [`SECTION_FIXES`] times); the reviewer answers with a verdict.
//! REVISE sends *the previous draft* and the feedback — this round's, plus earlier rounds'
//! deduplicated — back to the drafter, at most `max_revisions` times, so there are at most
//! `max_revisions + 1` reviews. APPROVED commits. BLOCKED, or no approval when revisions run
//! out, commits the last draft and every review with verdict `blocked`: nothing paid for is
//! lost, and nothing unapproved is called done. A reply without a readable verdict is REVISE.

use std::collections::BTreeMap;

use super::PipelineError;
use super::events::Event;
use super::history::{StageState, reviews_path};
use super::message::Message;
use super::plan::Start;
use super::run::{Run, StageResult};
use super::sections::check_sections;
use super::stage::Stage;
use super::verdict::{Review, Verdict, parse_review};
use crate::config::ReviewStageConfig;
use crate::git::FileChange;
use crate::llm::Role;

/// How many times a draft that fails the section check goes back before the stage blocks.
pub const SECTION_FIXES: u32 = 2;

pub(super) async fn run(
    run: &mut Run<'_>,
    stage: Stage,
    start: Start,
) -> Result<StageResult, PipelineError> {
    let mut state = Loop::new(run, stage, &start)?;
    match state.drive(start).await {
        // The budget ran out: a block, with what was paid for so far committed.
        Err(PipelineError::OverBudget { message, .. }) => state.block(message),
        Err(error @ PipelineError::Model { .. }) if state.paid => {
            // Keep what was paid for: the last draft and the reviews so far, as blocked. The
            // model's failure is still the error to report.
            let reason = format!("stopped because a model call failed: {error}");
            let _ = state.block(reason);
            Err(error)
        }
        other => other,
    }
}

struct Loop<'r, 'a> {
    run: &'r mut Run<'a>,
    stage: Stage,
    settings: ReviewStageConfig,
    drafter: String,
    reviewer: String,
    artifact: String,
    reviews_file: String,
    brief: String,
    lld: Option<String>,
    log: String,
    /// Every piece of reviewer or human feedback so far, deduplicated, oldest first.
    feedback_seen: Vec<String>,
    draft: Option<String>,
    reviews: u32,
    drafter_used: bool,
    /// Whether any model call succeeded in this attempt (so there is work to keep).
    paid: bool,
}

impl<'r, 'a> Loop<'r, 'a> {
    fn new(
        run: &'r mut Run<'a>,
        stage: Stage,
        start: &Start,
    ) -> Result<Loop<'r, 'a>, PipelineError> {
        let config = &run.session.config;
        let settings = match stage {
            Stage::Spec => config.spec.clone(),
            _ => config.lld.clone(),
        };
        // The models as trailers record them: aliases resolved.
        let drafter = run.model(stage, Role::Drafter)?.label();
        let reviewer = run.model(stage, Role::Reviewer)?.label();
        let artifact = run.artifact(stage);
        let reviews_file = reviews_path(&config.paths, stage, run.issue.number);
        let brief = run
            .read_artifact(&run.artifact(Stage::Triage))?
            .unwrap_or_else(|| run.issue.normalised());
        let lld = if stage == Stage::Spec && !run.opts.skip.contains(&Stage::Lld) {
            run.read_artifact(&run.artifact(Stage::Lld))?
        } else {
            None
        };
        let previous_log = match start {
            Start::Fresh => None,
            Start::FromDraft | Start::FromFeedback(_) => run.read_artifact(&reviews_file)?,
        };
        let noun = stage.artifact_noun();
        let issue = run.issue.number;
        let log = match previous_log {
            Some(text) if !text.trim().is_empty() => {
                let attempt = text.matches("\n## Attempt ").count() + 1;
                format!("{}\n\n## Attempt {attempt}\n", text.trim_end())
            }
            _ => format!("# Reviews: {noun} for #{issue}\n\n## Attempt 1\n"),
        };
        // A blocked draft came from the drafter in an earlier run; a hand-written one did not.
        let drafter_used = matches!(run.state.stage(stage).state, StageState::Blocked)
            && matches!(start, Start::FromDraft);
        Ok(Loop {
            run,
            stage,
            settings,
            drafter,
            reviewer,
            artifact,
            reviews_file,
            brief,
            lld,
            log,
            feedback_seen: Vec::new(),
            draft: None,
            reviews: 0,
            drafter_used,
            paid: false,
        })
    }

    async fn drive(&mut self, start: Start) -> Result<StageResult, PipelineError> {
        let mut draft = match start {
            Start::Fresh => self.draft_fresh().await?,
            Start::FromDraft => {
                let existing = self.existing_draft()?;
                self.note(&format!(
                    "Starting from the {} on the branch.",
                    self.stage.artifact_noun()
                ));
                existing
            }
            Start::FromFeedback(feedback) => {
                let existing = self.existing_draft()?;
                self.note(&format!(
                    "A person rejected the {} at its gate:\n\n{}\n\nIt was revised with that feedback.",
                    self.stage.artifact_noun(),
                    quote(&feedback)
                ));
                remember(&mut self.feedback_seen, std::slice::from_ref(&feedback));
                self.revise(&existing, &[feedback], 1).await?
            }
        };
        self.draft = Some(draft.clone());
        let mut revisions = 0;
        loop {
            let round = self.reviews + 1;
            draft = match self.ensure_sections(draft, round).await? {
                Ok(checked) => checked,
                Err(problems) => {
                    return self.block(format!(
                        "the draft still lacks required sections after {SECTION_FIXES} requests to fix them ({})",
                        problems.join("; ")
                    ));
                }
            };
            self.draft = Some(draft.clone());
            let (review, reply) = self.review(&draft, round).await?;
            self.reviews += 1;
            self.run.io.events.emit(Event::Verdict {
                stage: self.stage,
                round,
                verdict: review.verdict_name().into(),
                feedback_items: review.feedback.len(),
            });
            self.log_round(round, &review, &reply);
            match review.verdict {
                Some(Verdict::Approved) => return self.approve(),
                Some(Verdict::Blocked) => {
                    return self.block(format!(
                        "the reviewer blocked it: {}",
                        one_paragraph(&review.rationale)
                    ));
                }
                Some(Verdict::Revise) | None => {
                    if revisions >= self.settings.max_revisions {
                        return self.block(format!(
                            "not approved after {revisions} revision{} ({} review{}); {}",
                            plural(revisions),
                            self.reviews,
                            plural(self.reviews),
                            last_review(&review)
                        ));
                    }
                    revisions += 1;
                    let earlier = self.feedback_seen.clone();
                    remember(&mut self.feedback_seen, &review.feedback);
                    draft = self
                        .revise_with(&draft, &review.feedback, &earlier, round + 1)
                        .await?;
                    self.draft = Some(draft.clone());
                }
            }
        }
    }

    fn existing_draft(&self) -> Result<String, PipelineError> {
        Ok(self.run.read_artifact(&self.artifact)?.unwrap_or_default())
    }

    /// The mechanical check, with at most [`SECTION_FIXES`] trips back to the drafter.
    async fn ensure_sections(
        &mut self,
        mut draft: String,
        round: u32,
    ) -> Result<Result<String, Vec<String>>, PipelineError> {
        let mut fixes = 0;
        loop {
            let problems = check_sections(&draft, &self.settings.required_sections);
            if problems.is_empty() {
                return Ok(Ok(draft));
            }
            self.run.io.events.emit(Event::DraftIncomplete {
                stage: self.stage,
                round,
                problems: problems.clone(),
            });
            if fixes == SECTION_FIXES {
                self.note(&format!(
                    "Round {round}: the draft still failed the section check ({}).",
                    problems.join("; ")
                ));
                self.draft = Some(draft);
                return Ok(Err(problems));
            }
            fixes += 1;
            self.note(&format!(
                "Round {round}: the draft failed the section check ({}); it went back to the drafter without a review.",
                problems.join("; ")
            ));
            let feedback = vec![format!(
                "The document must have each of these sections as a Markdown heading with content under it: {}. Problems found: {}.",
                self.settings.required_sections.join(", "),
                problems.join("; ")
            )];
            let earlier = self.feedback_seen.clone();
            draft = self.revise_with(&draft, &feedback, &earlier, round).await?;
        }
    }

    fn base_vars(&self) -> Result<BTreeMap<&'static str, String>, PipelineError> {
        let issue = &self.run.issue;
        let mut vars = BTreeMap::new();
        vars.insert("repo_name", self.run.session.repo.name());
        vars.insert("repo_context", self.run.repo_context()?);
        vars.insert("issue_number", issue.number.to_string());
        vars.insert("issue_title", issue.title.clone());
        vars.insert("stage", self.stage.name().to_string());
        vars.insert(
            "required_sections",
            self.settings.required_sections.join(", "),
        );
        vars.insert("brief", self.brief.trim().to_string());
        vars.insert(
            "lld",
            self.lld
                .clone()
                .map(|t| t.trim().to_string())
                .unwrap_or_else(|| {
                    "(There is no design document: the lld stage was skipped. Work from the brief.)"
                        .into()
                }),
        );
        Ok(vars)
    }

    async fn draft_fresh(&mut self) -> Result<String, PipelineError> {
        let vars = self.base_vars()?;
        let prompt = self
            .run
            .prompts
            .render(&format!("{}-draft", self.stage), &vars);
        self.call_drafter(prompt, 1).await
    }

    async fn revise(
        &mut self,
        draft: &str,
        feedback: &[String],
        round: u32,
    ) -> Result<String, PipelineError> {
        let earlier: Vec<String> = self
            .feedback_seen
            .iter()
            .filter(|f| !feedback.contains(f))
            .cloned()
            .collect();
        self.revise_with(draft, feedback, &earlier, round).await
    }

    async fn revise_with(
        &mut self,
        draft: &str,
        feedback: &[String],
        earlier: &[String],
        round: u32,
    ) -> Result<String, PipelineError> {
        let current: Vec<String> = dedup(feedback);
        let earlier: Vec<String> = dedup(earlier)
            .into_iter()
            .filter(|e| !current.iter().any(|c| same(c, e)))
            .collect();
        let mut vars = self.base_vars()?;
        vars.insert("draft", draft.trim().to_string());
        vars.insert("feedback", bullets(&current, "None."));
        vars.insert("earlier_feedback", bullets(&earlier, "None."));
        vars.insert("round", round.to_string());
        let prompt = self
            .run
            .prompts
            .render(&format!("{}-revise", self.stage), &vars);
        self.call_drafter(prompt, round).await
    }

    async fn call_drafter(
        &mut self,
        prompt: crate::llm::Prompt,
        round: u32,
    ) -> Result<String, PipelineError> {
        let reply = self
            .run
            .call(self.stage, Role::Drafter, round, prompt)
            .await?;
        self.paid = true;
        self.drafter_used = true;
        let text = format!("{}\n", reply.text.trim());
        self.draft = Some(text.clone());
        Ok(text)
    }

    async fn review(&mut self, draft: &str, round: u32) -> Result<(Review, String), PipelineError> {
        let mut vars = self.base_vars()?;
        vars.insert("draft", draft.trim().to_string());
        vars.insert(
            "earlier_feedback",
            bullets(&self.feedback_seen, "None: this is the first review."),
        );
        vars.insert("round", round.to_string());
        vars.insert("feedback", String::new());
        let prompt = self
            .run
            .prompts
            .render(&format!("{}-review", self.stage), &vars);
        let reply = self
            .run
            .call(self.stage, Role::Reviewer, round, prompt)
            .await?;
        self.paid = true;
        Ok((parse_review(&reply.text), reply.text))
    }

    fn note(&mut self, text: &str) {
        self.log.push('\n');
        self.log.push_str(text.trim());
        self.log.push('\n');
    }

    fn log_round(&mut self, round: u32, review: &Review, reply: &str) {
        let mut entry = format!(
            "\n### Round {round}: {}\n\nReviewer: {}\n",
            review.verdict_name(),
            self.reviewer
        );
        if !review.rationale.trim().is_empty() {
            entry.push_str(&format!("\n{}\n", review.rationale.trim()));
        }
        if review.verdict != Some(Verdict::Approved) && !review.feedback.is_empty() {
            entry.push_str(&format!(
                "\nFeedback:\n\n{}\n",
                bullets(&review.feedback, "")
            ));
        }
        let fence = "`".repeat(longest_backtick_run(reply).max(2) + 1);
        entry.push_str(&format!(
            "\n<details><summary>The reviewer's reply</summary>\n\n{fence}text\n{}\n{fence}\n\n</details>\n",
            reply.trim_end()
        ));
        self.log.push_str(&entry);
    }

    fn files(&self) -> Vec<FileChange> {
        let draft = self.draft.clone().unwrap_or_default();
        vec![
            FileChange {
                path: self.artifact.clone(),
                content: draft.into_bytes(),
            },
            FileChange {
                path: self.reviews_file.clone(),
                content: self.log.clone().into_bytes(),
            },
        ]
    }

    fn drafter_label(&self) -> Option<&str> {
        self.drafter_used.then_some(self.drafter.as_str())
    }

    fn approve(&mut self) -> Result<StageResult, PipelineError> {
        let issue = &self.run.issue;
        let mut message = Message::stage(self.stage, issue.number, &issue.title, "approved");
        let by = match self.drafter_label() {
            Some(d) => format!("Drafted by {d}"),
            None => "Written by hand".into(),
        };
        message
            .paragraph(format!(
                "{by}, approved by {} in round {}.",
                self.reviewer, self.reviews
            ))
            .models(self.drafter_label(), Some(&self.reviewer))
            .rounds(self.reviews)
            .spend(self.run.take_spend(self.stage));
        let files = self.files();
        let commit = self.run.commit(self.stage.name(), &files, &message)?;
        self.run.io.events.emit(Event::Committed {
            stage: self.stage,
            commit: commit.short(),
            verdict: "approved".into(),
            paths: files.iter().map(|f| f.path.clone()).collect(),
        });
        Ok(StageResult::Passed {
            commit,
            verdict: "approved".into(),
            rounds: self.reviews,
        })
    }

    fn block(&mut self, reason: String) -> Result<StageResult, PipelineError> {
        if self.draft.is_none() {
            return Ok(StageResult::Blocked {
                commit: None,
                reason,
                rounds: self.reviews,
            });
        }
        self.note(&format!("Blocked: {reason}"));
        let issue = &self.run.issue;
        let mut message = Message::stage(self.stage, issue.number, &issue.title, "blocked");
        message
            .paragraph(format!("Blocked: {reason}"))
            .paragraph(format!(
                "The last draft and every review are kept here. Run `git orchestrate {}` again to continue from this draft.",
                issue.number
            ))
            .models(self.drafter_label(), (self.reviews > 0).then_some(self.reviewer.as_str()))
            .rounds(self.reviews)
            .spend(self.run.take_spend(self.stage));
        let files = self.files();
        let commit = self.run.commit(self.stage.name(), &files, &message)?;
        self.run.io.events.emit(Event::Committed {
            stage: self.stage,
            commit: commit.short(),
            verdict: "blocked".into(),
            paths: files.iter().map(|f| f.path.clone()).collect(),
        });
        Ok(StageResult::Blocked {
            commit: Some(commit),
            reason,
            rounds: self.reviews,
        })
    }
}

/// Feedback items compare equal when they differ only in case, spacing or final punctuation.
fn normalise(item: &str) -> String {
    item.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', '!', ';'])
        .to_lowercase()
}

fn same(a: &str, b: &str) -> bool {
    normalise(a) == normalise(b)
}

fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !item.trim().is_empty() && !out.iter().any(|o| same(o, item)) {
            out.push(item.trim().to_string());
        }
    }
    out
}

fn remember(seen: &mut Vec<String>, items: &[String]) {
    for item in items {
        if !item.trim().is_empty() && !seen.iter().any(|s| same(s, item)) {
            seen.push(item.trim().to_string());
        }
    }
}

fn bullets(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        return empty.to_string();
    }
    items
        .iter()
        .map(|item| {
            let mut lines = item.trim().lines();
            let first = lines.next().unwrap_or_default();
            let rest: Vec<String> = lines.map(|l| format!("  {l}")).collect();
            if rest.is_empty() {
                format!("- {first}")
            } else {
                format!("- {first}\n{}", rest.join("\n"))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn quote(text: &str) -> String {
    text.trim()
        .lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn one_paragraph(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        "(no rationale given)".into()
    } else if joined.chars().count() > 300 {
        format!("{}…", joined.chars().take(300).collect::<String>())
    } else {
        joined
    }
}

/// What the last review said, in one line: its rationale, then what it asked for that the
/// rationale does not already say. A review without a verdict says only that.
fn last_review(review: &Review) -> String {
    if review.verdict.is_none() {
        return "the last review had no readable verdict".into();
    }
    let items: Vec<String> = review
        .feedback
        .iter()
        .filter(|f| !same(f, &review.rationale))
        .map(|f| one_paragraph(f))
        .collect();
    let said = format!("the last review said: {}", one_paragraph(&review.rationale));
    if items.is_empty() {
        return said;
    }
    let shown = items.len().min(3);
    let more = match items.len() - shown {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    format!("{said}; it asked for: {}{more}", items[..shown].join("; "))
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn longest_backtick_run(text: &str) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for c in text.chars() {
        if c == '`' {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_dedup_ignores_case_spacing_and_final_punctuation() {
        let items: Vec<String> = [
            "Add tests.",
            "add  tests",
            "Name the files",
            "name the files!",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(dedup(&items), ["Add tests.", "Name the files"]);
    }

    #[test]
    fn the_block_reason_says_each_thing_once() {
        use super::super::verdict::parse_review;
        let garbage = parse_review("LGTM!");
        assert_eq!(
            last_review(&garbage),
            "the last review had no readable verdict"
        );
        let revise = parse_review(
            r#"{"verdict": "REVISE", "rationale": "Vague.", "feedback_items": ["vague", "a", "b", "c", "d"]}"#,
        );
        assert_eq!(
            last_review(&revise),
            "the last review said: Vague.; it asked for: a; b; c (and 1 more)"
        );
        let only_rationale =
            parse_review(r#"{"verdict": "REVISE", "rationale": "Name the files."}"#);
        assert_eq!(
            last_review(&only_rationale),
            "the last review said: Name the files."
        );
    }

    #[test]
    fn multi_line_feedback_stays_in_its_bullet() {
        let items = vec!["first\nsecond".to_string(), "third".to_string()];
        assert_eq!(bullets(&items, "None."), "- first\n  second\n- third");
        assert_eq!(bullets(&[], "None."), "None.");
    }
}
