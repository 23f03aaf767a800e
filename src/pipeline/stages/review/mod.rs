//! The draft → review → revise loop shared by `lld` and `spec`.
//!
//! The drafter writes; a mechanical check sends a draft that lacks required sections straight
//! back (no review spent, at most [`SECTION_FIXES`] times); the reviewer answers with a verdict.
//! REVISE sends *the previous draft* and the feedback — this round's, plus earlier rounds'
//! deduplicated — back to the drafter, at most `max_revisions` times, so there are at most
//! `max_revisions + 1` reviews. APPROVED commits. BLOCKED, or no approval when revisions run
//! out, commits the last draft and every review with verdict `blocked`: nothing paid for is
//! lost, and nothing unapproved is called done. A reply without a readable verdict is REVISE.

pub mod feedback;
mod markdown;
pub mod verdict;

use std::collections::BTreeMap;

use super::StageOutcome;
use super::sections::{SectionProblem, check_sections};
use crate::config::ReviewStageConfig;
use crate::git::{FileChange, ObjectId};
use crate::pipeline::PipelineError;
use crate::pipeline::branch::{Message, StageState, Verdict};
use crate::pipeline::context::StageContext;
use crate::pipeline::events::{Event, SectionFix};
use crate::pipeline::plan::Start;
use crate::stage::{Role, Stage};
use feedback::{bullets, dedup, last_review, one_paragraph, plural, quote, remember, same};
use verdict::{Review, ReviewVerdict, parse_review};

/// How many times a draft that fails the section check goes back before the stage blocks.
pub const SECTION_FIXES: u32 = 2;

/// Run the loop for the stage `cx` belongs to (`lld` or `spec`).
pub async fn run(cx: &mut StageContext<'_>, start: Start) -> Result<StageOutcome, PipelineError> {
    let mut state = Loop::new(cx, &start)?;
    match state.drive(start).await {
        // The budget ran out: a block, with what was paid for so far committed.
        Err(PipelineError::OverBudget { message, .. }) => state.block(message),
        Err(error @ PipelineError::Model { .. }) if state.paid => {
            // Keep what was paid for: the last draft and the reviews so far, as blocked. The
            // model's failure is still the error to report.
            let reason = format!(
                "stopped because a model call failed: {}",
                crate::error_chain::chain(&error)
            );
            let _ = state.block(reason);
            Err(error)
        }
        other => other,
    }
}

struct Loop<'r, 'a> {
    cx: &'r mut StageContext<'a>,
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
    fn new(cx: &'r mut StageContext<'a>, start: &Start) -> Result<Loop<'r, 'a>, PipelineError> {
        let stage = cx.stage();
        let settings = cx
            .settings()
            .review()
            .cloned()
            .ok_or(PipelineError::WrongSettings { stage })?;
        let drafter = cx.model_label(Role::Drafter)?;
        let reviewer = cx.model_label(Role::Reviewer)?;
        let artifact = cx.artifact(stage);
        let reviews_file = cx.reviews_path();
        let brief = cx.brief()?.unwrap_or_else(|| cx.issue().normalised());
        let lld = if stage == Stage::Spec && !cx.skips(Stage::Lld) {
            cx.read_artifact(&cx.artifact(Stage::Lld))?
        } else {
            None
        };
        let previous_log = match start {
            Start::Fresh => None,
            Start::FromDraft | Start::FromFeedback(_) | Start::Stale(_) => {
                cx.read_artifact(&reviews_file)?
            }
        };
        let noun = stage.artifact_noun();
        let issue = cx.issue().number;
        let log = match previous_log {
            Some(text) if !text.trim().is_empty() => {
                let attempt = text.matches("\n## Attempt ").count() + 1;
                format!("{}\n\n## Attempt {attempt}\n", text.trim_end())
            }
            _ => format!("# Reviews: {noun} for #{issue}\n\n## Attempt 1\n"),
        };
        // A blocked draft came from the drafter in an earlier run; a hand-written one did not.
        let drafter_used =
            matches!(cx.record().state, StageState::Blocked) && matches!(start, Start::FromDraft);
        Ok(Loop {
            cx,
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

    async fn drive(&mut self, start: Start) -> Result<StageOutcome, PipelineError> {
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
            Start::Stale(why) => {
                let existing = self.existing_draft()?;
                let noun = self.stage.artifact_noun();
                let feedback = format!(
                    "What this {noun} was made from changed since: {}. Revise it to match the documents above as they are now: change what the change asks for, and keep what still holds.",
                    why.describe(self.stage)
                );
                self.note(&format!(
                    "The {noun} on the branch was stale ({}); it was revised to match.",
                    why.describe(self.stage)
                ));
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
                        SectionProblem::summary(&problems)
                    ));
                }
            };
            self.draft = Some(draft.clone());
            let (review, reply) = self.review(&draft, round).await?;
            self.reviews += 1;
            self.cx.emit(Event::Verdict {
                stage: self.stage,
                round,
                verdict: review.verdict,
                problem: review.problem,
                feedback_items: review.items.len(),
            });
            self.log_round(round, &review, &reply);
            match review.verdict {
                Some(ReviewVerdict::Approved) => return self.approve(),
                Some(ReviewVerdict::Blocked) => {
                    return self.block(format!(
                        "the reviewer blocked it: {}",
                        one_paragraph(&review.rationale)
                    ));
                }
                Some(ReviewVerdict::Revise) | None => {
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
                        .revise_with(&draft, &review.feedback, &earlier, round + 1, None)
                        .await?;
                    self.draft = Some(draft.clone());
                }
            }
        }
    }

    fn existing_draft(&self) -> Result<String, PipelineError> {
        Ok(self.cx.read_artifact(&self.artifact)?.unwrap_or_default())
    }

    /// The mechanical check, with at most [`SECTION_FIXES`] trips back to the drafter.
    async fn ensure_sections(
        &mut self,
        mut draft: String,
        round: u32,
    ) -> Result<Result<String, Vec<SectionProblem>>, PipelineError> {
        let mut fixes = 0;
        loop {
            let problems = check_sections(&draft, &self.settings.required_sections);
            if problems.is_empty() {
                return Ok(Ok(draft));
            }
            let summary = SectionProblem::summary(&problems);
            let fix = (fixes < SECTION_FIXES).then_some(SectionFix {
                attempt: fixes + 1,
                of: SECTION_FIXES,
            });
            self.cx.emit(Event::DraftIncomplete {
                stage: self.stage,
                round,
                problems: problems.clone(),
                too_short: None,
                fix,
            });
            let Some(fix) = fix else {
                self.note(&format!(
                    "Round {round}: the draft still failed the section check ({summary})."
                ));
                self.draft = Some(draft);
                return Ok(Err(problems));
            };
            fixes += 1;
            self.note(&format!(
                "Round {round}: the draft failed the section check ({summary}); it went back to the drafter without a review (fix {} of {}).",
                fix.attempt, fix.of
            ));
            let feedback = vec![format!(
                "The document must have each of these sections as a Markdown heading with content under it: {}. Problems found: {summary}.",
                self.settings.required_sections.join(", "),
            )];
            let earlier = self.feedback_seen.clone();
            draft = self
                .revise_with(&draft, &feedback, &earlier, round, Some(fix))
                .await?;
        }
    }

    fn base_vars(&mut self) -> Result<BTreeMap<&'static str, String>, PipelineError> {
        let mut vars = self.cx.prompt_vars()?;
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
        let prompt = self.cx.prompt(&format!("{}-draft", self.stage), &vars);
        self.call_drafter(prompt, 1, None).await
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
        self.revise_with(draft, feedback, &earlier, round, None)
            .await
    }

    async fn revise_with(
        &mut self,
        draft: &str,
        feedback: &[String],
        earlier: &[String],
        round: u32,
        fix: Option<SectionFix>,
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
        let prompt = self.cx.prompt(&format!("{}-revise", self.stage), &vars);
        self.call_drafter(prompt, round, fix).await
    }

    async fn call_drafter(
        &mut self,
        prompt: crate::llm::Prompt,
        round: u32,
        fix: Option<SectionFix>,
    ) -> Result<String, PipelineError> {
        let reply = self.cx.call(Role::Drafter, round, fix, prompt).await?;
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
        let prompt = self.cx.prompt(&format!("{}-review", self.stage), &vars);
        let reply = self.cx.call(Role::Reviewer, round, None, prompt).await?;
        self.paid = true;
        Ok((parse_review(&reply.text), reply.text))
    }

    fn note(&mut self, text: &str) {
        self.log.push('\n');
        self.log.push_str(text.trim());
        self.log.push('\n');
    }

    /// A review in the log, each thing once: the verdict, the rationale (or why the reply
    /// has no verdict), the changes the reviewer listed, and the reply itself.
    fn log_round(&mut self, round: u32, review: &Review, reply: &str) {
        let verdict = review
            .verdict
            .map(ReviewVerdict::name)
            .unwrap_or("no verdict, counted as REVISE");
        let mut entry = format!(
            "\n### Round {round}: {verdict}\n\nReviewer: {}\n",
            self.reviewer
        );
        let rationale = review.rationale.trim();
        // A verdict read from a line has the whole reply as its rationale: it is shown below.
        if !rationale.is_empty() && rationale != reply.trim() {
            entry.push_str(&format!("\n{rationale}\n"));
        }
        let items: Vec<String> = review
            .items
            .iter()
            .filter(|item| !same(item, rationale))
            .cloned()
            .collect();
        if !items.is_empty() {
            entry.push_str(&format!("\nFeedback:\n\n{}\n", bullets(&items, "")));
        }
        let fence = crate::issue::fence_for(reply);
        entry.push_str(&format!(
            "\n<details><summary>The reviewer's reply</summary>\n\n{fence}text\n{}\n{fence}\n\n</details>\n",
            reply.trim_end()
        ));
        self.log.push_str(&entry);
    }

    fn files(&self) -> Vec<FileChange> {
        let draft = self.draft.clone().unwrap_or_default();
        vec![
            FileChange::file(self.artifact.clone(), draft),
            FileChange::file(self.reviews_file.clone(), self.log.clone()),
        ]
    }

    fn drafter_label(&self) -> Option<&str> {
        self.drafter_used.then_some(self.drafter.as_str())
    }

    fn approve(&mut self) -> Result<StageOutcome, PipelineError> {
        let spent = self.cx.take_spend();
        let issue = self.cx.issue();
        let mut message = Message::stage(self.stage, issue.number, &issue.title, Verdict::Approved);
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
            .spend(spent.usage(), spent.cost());
        let commit = self.commit(&message, Verdict::Approved)?;
        Ok(StageOutcome::Passed {
            commit,
            verdict: Verdict::Approved,
            rounds: self.reviews,
        })
    }

    fn block(&mut self, reason: String) -> Result<StageOutcome, PipelineError> {
        if self.draft.is_none() {
            return Ok(StageOutcome::Blocked {
                commit: None,
                reason,
                rounds: self.reviews,
            });
        }
        self.note(&format!("Blocked: {reason}"));
        let spent = self.cx.take_spend();
        let issue = self.cx.issue();
        let mut message = Message::stage(self.stage, issue.number, &issue.title, Verdict::Blocked);
        message
            .paragraph(format!("Blocked: {reason}"))
            .paragraph(
                "The last draft and every review are kept here; the next run continues from this draft.",
            )
            .models(
                self.drafter_label(),
                (self.reviews > 0).then_some(self.reviewer.as_str()),
            )
            .rounds(self.reviews)
            .spend(spent.usage(), spent.cost());
        let commit = self.commit(&message, Verdict::Blocked)?;
        Ok(StageOutcome::Blocked {
            commit: Some(commit),
            reason,
            rounds: self.reviews,
        })
    }

    /// Commit the draft and the review log, and say so.
    fn commit(&mut self, message: &Message, verdict: Verdict) -> Result<ObjectId, PipelineError> {
        let files = self.files();
        let commit = self.cx.commit(&files, message)?;
        self.cx.emit(Event::Committed {
            stage: self.stage,
            commit: commit.short(),
            verdict,
            paths: files.into_iter().map(|f| f.path).collect(),
        });
        Ok(commit)
    }
}
