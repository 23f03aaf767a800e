//! One attempt of the loop: the implementer is called, its change applied (a text model's
//! edit blocks) or read back (an agent's files), and judged — before any test, whether it
//! is a change at all and whether it can be the implementation; then the tests; then, when
//! they pass, the proof (`proof.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use super::proof::Verification;
use super::report::{self, TestLine};
use super::{DIFF_LIMIT, Implement, Judged, TestResultWire, fingerprint, guard, problem_lines};
use crate::edit::{self, ProblemKind};
use crate::git::FileChange;
use crate::llm::{Contained, LlmError};
use crate::pipeline::PipelineError;
use crate::pipeline::events::{
    AttemptResult, ContainedChange, ContainedRunner, RefusedFile, RejectShape,
};
use crate::stage::Role;

/// How one attempt ended, and what goes back to the implementer.
pub(super) struct Attempted {
    pub result: AttemptResult,
    /// What the worktree holds after the attempt (`None`: unchanged since the one before).
    pub changes: Option<Vec<FileChange>>,
    /// The attempt's own test run and its failure signature.
    pub tests: Option<(TestLine, String)>,
    pub said: Said,
    pub reverted: Vec<String>,
    /// Files no commit may hold, put back as on the base.
    pub refused: Vec<RefusedFile>,
    /// A text implementer's reply, white space normalised, to notice it again.
    pub reply: Option<String>,
    /// What was verified, when the attempt passed.
    pub verification: Option<Verification>,
}

/// What the next attempt is told.
pub(super) enum Said {
    Nothing,
    /// How the change failed (its tests, the proof, not the implementation): it stands until
    /// the next such failure, and every later prompt carries it.
    Failure(String),
    /// A note about this attempt alone (its reply could not be applied, it changed nothing,
    /// the agent failed): said before the standing failure, never instead of it and never
    /// piled on another note.
    Note(String),
}

impl Attempted {
    fn new(result: AttemptResult, said: Said) -> Attempted {
        Attempted {
            result,
            changes: None,
            tests: None,
            said,
            reverted: Vec::new(),
            refused: Vec::new(),
            reply: None,
            verification: None,
        }
    }
}

/// A reply as compared with the one before: its words, white space aside.
fn normalised(reply: &str) -> String {
    reply.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What an unappliable reply was, by its first problem.
fn shape(rejected: &edit::Rejected) -> RejectShape {
    match rejected.problems.first().map(|p| &p.kind) {
        Some(ProblemKind::OtherFormat(edit::Format::WholeFiles)) => RejectShape::WholeFiles,
        Some(ProblemKind::OtherFormat(edit::Format::UnifiedDiff)) => RejectShape::UnifiedDiff,
        Some(ProblemKind::NoBlocks) | None => RejectShape::NoBlocks,
        Some(ProblemKind::Parse(_)) => RejectShape::Unreadable,
        Some(ProblemKind::Refused(_)) => RejectShape::Refused,
        Some(
            ProblemKind::NoFile
            | ProblemKind::NoMatch { .. }
            | ProblemKind::Ambiguous { .. }
            | ProblemKind::Exists,
        ) => RejectShape::NoMatch,
        Some(ProblemKind::Io { .. }) => RejectShape::Io,
    }
}

impl Implement<'_, '_> {
    /// How the agent is started: through the launcher, writing only where it must.
    fn agent_contained(&self, root: &Path) -> Contained {
        let (Some(containment), Some(tmp), Some(worktree)) =
            (&self.containment, &self.tmp, &self.worktree)
        else {
            return Contained::default();
        };
        let command = self
            .implementer
            .strip_prefix("agent:")
            .unwrap_or(&self.implementer);
        let launch = containment.agent(
            root,
            worktree.git_dir(),
            &self.cx.objects_dir(),
            tmp.path(),
            command,
        );
        Contained {
            launcher: launch.prefix,
            tmpdir: Some(tmp.path().to_path_buf()),
            keeps_off_checkout: launch.keeps_off_checkout,
        }
    }

    /// One attempt: the implementer changes the code, the change is judged, the tests run,
    /// a green run is proven. A test run that changed the user's repository outside the
    /// worktree fails the attempt, whatever the tests said.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn attempt(
        &mut self,
        attempt: u32,
        max: u32,
        vars: &BTreeMap<&'static str, String>,
        root: &Path,
        feedback: &Option<String>,
        baseline: &Judged,
        last_reply: Option<&str>,
    ) -> Result<Attempted, PipelineError> {
        self.escaped.clear();
        // What the last attempt's proof runs wrote is theirs, not this attempt's.
        if self.unread_test_writes.is_some() {
            self.changes_settled()?;
        }
        // The implementer writes in the worktree.
        self.written();
        let mut attempted = self
            .try_attempt(attempt, max, vars, root, feedback, baseline, last_reply)
            .await?;
        if !self.escaped.is_empty() {
            let changes = std::mem::take(&mut self.escaped);
            attempted.said = Said::Failure(format!(
                "After your previous attempt, running `{}` changed things outside the worktree: {}.\n\nThe code and tests must not write to the repository outside the worktree (its hooks, config, refs such as branches, tags and notes, or the user's checkout). What could be undone was; the attempt failed for it.",
                self.tests.command,
                ContainedChange::list(&changes)
            ));
            attempted.result = AttemptResult::Contained {
                by: ContainedRunner::Tests,
                changes,
            };
            attempted.verification = None;
        }
        Ok(attempted)
    }

    #[allow(clippy::too_many_arguments)]
    async fn try_attempt(
        &mut self,
        attempt: u32,
        max: u32,
        vars: &BTreeMap<&'static str, String>,
        root: &Path,
        feedback: &Option<String>,
        baseline: &Judged,
        last_reply: Option<&str>,
    ) -> Result<Attempted, PipelineError> {
        let mut vars = vars.clone();
        vars.insert("attempt", format!("{attempt} of at most {max}"));
        vars.insert(
            "feedback",
            match feedback {
                Some(text) => text.clone(),
                None => "This is the first attempt.".to_string(),
            },
        );
        let template = if self.agent {
            "impl-agent"
        } else {
            "impl-text"
        };
        let prompt = self.cx.prompt(template, &vars);
        let kept = self.keep_worktree_state(root);
        let contained = self.agent_contained(root);
        let called = self
            .cx
            .call_in(Role::Implementer, attempt, root, contained, prompt)
            .await;
        if self.agent && !root.is_dir() {
            // Whatever the call says, nothing of the attempt is left to judge.
            if called.is_ok() {
                self.paid = true;
            }
            return Err(PipelineError::WorktreeRemoved {
                issue: self.cx.issue().number,
                attempt,
                path: root.to_path_buf(),
            });
        }
        let reply = match called {
            Ok(reply) => {
                self.paid = true;
                reply
            }
            // An empty answer is a reply with no edit blocks: reported back, like any other.
            Err(PipelineError::Model {
                source: LlmError::Empty { .. },
                ..
            }) if !self.agent => {
                self.paid = true;
                crate::llm::Reply {
                    text: String::new(),
                    usage: None,
                }
            }
            Err(PipelineError::Contained { changes, .. }) if self.agent => {
                self.paid = true;
                self.restore_worktree_state(root, &kept);
                // Its files are not judged (nor remembered as judged): the next attempt's are.
                let kept = self.changes_kept()?;
                let said = format!(
                    "Your previous attempt changed things outside the worktree: {}.\n\nWork only in the worktree you are given: the repository's hooks, config, `info/`, refs (branches, tags, notes) and the user's checkout are not yours to change. What could be undone was; the attempt failed for it. The worktree keeps the files as that attempt left them.",
                    ContainedChange::list(&changes)
                );
                let mut attempted = Attempted::new(
                    AttemptResult::Contained {
                        by: ContainedRunner::Agent,
                        changes,
                    },
                    Said::Failure(said),
                );
                attempted.changes = Some(kept.changes);
                attempted.reverted = kept.reverted;
                attempted.refused = kept.refused;
                return Ok(attempted);
            }
            Err(PipelineError::Model { source, .. }) if self.agent && agent_failure(&source) => {
                self.paid = true;
                self.restore_worktree_state(root, &kept);
                let kept = self.changes_kept()?;
                self.last_fingerprint = fingerprint(&kept.changes);
                let (result, said) = agent_failed(&source);
                let mut attempted = Attempted::new(result, Said::Note(said));
                attempted.changes = Some(kept.changes);
                attempted.reverted = kept.reverted;
                attempted.refused = kept.refused;
                return Ok(attempted);
            }
            Err(other) => return Err(other),
        };

        let mut reverted = Vec::new();
        let mut said_reply = None;
        if self.agent {
            self.restore_worktree_state(root, &kept);
        } else {
            let words = normalised(&reply.text);
            if last_reply == Some(words.as_str()) {
                // Applying and testing it again would give what the attempt before got.
                let mut attempted = Attempted::new(AttemptResult::Repeated, Said::Nothing);
                attempted.reply = Some(words);
                return Ok(attempted);
            }
            said_reply = Some(words);
            match edit::apply(root, &reply.text, &self.protected) {
                Ok(applied) => {
                    // What the implementer writes is its work, even where the tests wrote.
                    for file in &applied.files {
                        self.test_output.remove(&file.path);
                        self.written.insert(file.path.clone());
                    }
                }
                Err(rejected) => {
                    // All or nothing: the worktree is as the attempt before left it.
                    let mut attempted = Attempted::new(
                        AttemptResult::EditsRejected {
                            problems: problem_lines(&rejected),
                            count: rejected.problems.len(),
                            shape: shape(&rejected),
                        },
                        Said::Note(format!(
                            "Your previous reply changed nothing: none of its edits were applied.\n\n{}",
                            edit::feedback(&rejected, &self.example_path())
                        )),
                    );
                    attempted.reply = said_reply;
                    return Ok(attempted);
                }
            }
        }

        let (changes, refused) = if self.agent {
            let kept = self.changes_kept()?;
            reverted = kept.reverted;
            (kept.changes, kept.refused)
        } else {
            let mut changes = self.changes()?;
            let refused = self.refuse(&mut changes)?;
            (changes, refused)
        };
        let now = fingerprint(&changes);
        if now == self.last_fingerprint {
            let what = if self.agent {
                "The agent changed no file in its previous attempt."
            } else {
                "Your previous reply changed nothing: every edit in it was already applied."
            };
            let mut attempted = Attempted::new(AttemptResult::NoChange, Said::Note(what.into()));
            attempted.reverted = reverted;
            attempted.refused = refused;
            attempted.reply = said_reply;
            return Ok(attempted);
        }
        self.last_fingerprint = now;

        let whole = self.whole(&changes)?;
        self.note_tamper(&changes);
        let mut attempted = Attempted::new(AttemptResult::Passed, Said::Nothing);
        attempted.changes = Some(changes.clone());
        attempted.reverted = reverted.clone();
        attempted.refused = refused.clone();
        attempted.reply = said_reply;
        if let Some(refusal) = self.not_the_implementation(&whole) {
            attempted.result = refusal.result;
            attempted.said = Said::Failure(refusal.feedback);
            return Ok(attempted);
        }

        let judged = self
            .run_tests_for(Some(attempt), None, root, Some(baseline))
            .await?;
        // What the run wrote is read once, after all of this attempt's runs (the proof's
        // too): before the commit, or before the implementer writes again.
        self.unread_test_writes = Some(changes.clone());
        attempted.tests = Some((judged.line(), judged.signature.clone()));
        if !self.escaped.is_empty() {
            // Failed for it (see `attempt`): no proof is run for such a change.
            return Ok(attempted);
        }
        if !judged.green() {
            attempted.result = AttemptResult::TestsFailed;
            attempted.said =
                Said::Failure(self.failure_words(&judged, &changes, &reverted, &refused));
            return Ok(attempted);
        }

        let originals = match self
            .check_originals(attempt, root, &whole, baseline)
            .await?
        {
            Ok(originals) => originals,
            Err(refusal) => {
                self.last_fingerprint = fingerprint(&self.changes_settled()?);
                attempted.result = refusal.result;
                attempted.said = Said::Failure(refusal.feedback);
                return Ok(attempted);
            }
        };
        match self.prove(attempt, root, &whole, baseline, &judged).await? {
            Ok(proof) => {
                attempted.verification = Some(Verification { proof, originals });
            }
            Err(refusal) => {
                attempted.result = refusal.result;
                attempted.said = Said::Failure(refusal.feedback);
            }
        }
        Ok(attempted)
    }

    /// The test files the change touched, for the report; the ones it weakened, as notes.
    fn note_tamper(&mut self, changes: &[FileChange]) {
        let notes = {
            let read = |path: &str| self.cx.read_at(self.base, path).ok().flatten();
            guard::check(changes, &read, &self.spec)
        };
        for touched in &notes.touched {
            let mut line = touched.describe();
            if notes.weakened.contains(touched) {
                line.push_str(" — weakened, and the spec does not name it");
            }
            if !self.report.tests_touched.contains(&line) {
                self.report.tests_touched.push(line);
            }
        }
    }

    /// What the implementer reads after its tests failed: the output, the reverted paths,
    /// and the change so far.
    fn failure_words(
        &self,
        judged: &Judged,
        changes: &[FileChange],
        reverted: &[String],
        refused: &[RefusedFile],
    ) -> String {
        let read = |path: &str| self.cx.read_at(self.base, path).ok().flatten();
        let diff = report::unified_diff(changes, &read, DIFF_LIMIT);
        let mut text = format!(
            "After your previous attempt, `{}` failed{}.\n\n{}\n",
            self.tests.command,
            match judged.result {
                TestResultWire::TimedOut => format!(
                    " (stopped at the timeout of {})",
                    humantime::format_duration(self.settings.test_timeout)
                ),
                _ => String::new(),
            },
            judged.feedback.trim_end()
        );
        if !reverted.is_empty() {
            text.push_str(&format!(
                "\nChanges to protected paths were reverted: {}.\n",
                reverted.join(", ")
            ));
        }
        if !refused.is_empty() {
            text.push_str(&format!("\n{}\n", refused_words(refused)));
        }
        text.push_str(&format!(
            "\nThe change so far (against the start of the stage):\n\n```diff\n{diff}```\n\nFix the code so that the tests pass."
        ));
        text
    }
}

/// What the implementer is told of the files no commit may hold.
pub(super) fn refused_words(refused: &[RefusedFile]) -> String {
    let list: Vec<String> = refused.iter().map(RefusedFile::describe).collect();
    format!(
        "These files were put back as they were, because no commit may hold them: {}. Symbolic links must stay inside the repository, and large files do not belong in it.",
        list.join("; ")
    )
}

/// Whether an agent's failure is a failed attempt (it ran and failed) rather than an error
/// to stop on (the program could not be started, or is not there).
pub(super) fn agent_failure(error: &LlmError) -> bool {
    match error {
        LlmError::Exit { not_found, .. } => !not_found,
        LlmError::TimedOut { .. } | LlmError::Retried { .. } => true,
        _ => false,
    }
}

/// An agent's failure as the attempt's result and what the next attempt is told.
fn agent_failed(error: &LlmError) -> (AttemptResult, String) {
    match error {
        LlmError::TimedOut { timeout, .. } => (
            AttemptResult::AgentTimedOut {
                timeout_secs: timeout.as_secs(),
            },
            format!(
                "Your previous attempt was stopped: the agent was still running after {}. The worktree keeps the files as that attempt left them; work in smaller steps.",
                humantime::format_duration(*timeout)
            ),
        ),
        LlmError::Retried { last, .. } => agent_failed(last),
        LlmError::Exit {
            status,
            stderr_tail,
            ..
        } => (
            AttemptResult::AgentFailed {
                status: status.clone(),
                stderr_tail: stderr_tail.clone(),
            },
            format!(
                "Your previous attempt failed: the agent exited with {status}.\n\nThe end of its error output:\n\n{stderr_tail}\n\nThe worktree keeps the files as that attempt left them."
            ),
        ),
        other => (
            AttemptResult::AgentFailed {
                status: other.to_string(),
                stderr_tail: String::new(),
            },
            format!(
                "Your previous attempt failed: {other}.\n\nThe worktree keeps the files as that attempt left them."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_agent_that_ran_and_failed_is_a_failed_attempt_but_a_missing_one_is_an_error() {
        let exit = |not_found| LlmError::Exit {
            command: "agent".into(),
            status: "exit status 1".into(),
            signalled: false,
            not_found,
            stderr_tail: "it broke".into(),
        };
        assert!(agent_failure(&exit(false)));
        assert!(!agent_failure(&exit(true)));
        let (result, said) = agent_failed(&exit(false));
        assert_eq!(
            result,
            AttemptResult::AgentFailed {
                status: "exit status 1".into(),
                stderr_tail: "it broke".into(),
            }
        );
        assert!(said.contains("it broke"), "{said}");
        let timed_out = LlmError::TimedOut {
            model: "agent:x".into(),
            timeout: Duration::from_secs(600),
        };
        assert_eq!(
            agent_failed(&timed_out).0,
            AttemptResult::AgentTimedOut { timeout_secs: 600 }
        );
    }

    #[test]
    fn replies_are_compared_without_their_white_space() {
        assert_eq!(normalised("a\n  b\r\n\tc \n"), normalised("a b c"));
        assert_ne!(normalised("a b"), normalised("a c"));
    }
}
