//! The `impl` stage: code written in the issue's worktree, tested, fixed, committed.
//!
//! 1. The worktree (`<git-common-dir>/orchestrate/worktrees/{issue}`) is made or reset at the
//!    branch head; changes a killed run left there are saved first.
//! 2. The **baseline**: the test command runs once on the unchanged tree (its result cached
//!    by tree id). Red blocks at once — no model is paid to fix a red baseline — unless
//!    `allow_red_baseline`, when only new failures count.
//! 3. The **loop**, at most `max_test_retries + 1` attempts: the implementer changes the code
//!    (a text model answers with edit blocks, applied all or nothing; an `agent:` program
//!    edits the worktree itself), the tamper guard looks at the test files touched, and the
//!    test command runs — always ours, never the agent's word. A failure goes back to the
//!    implementer with the end of the output (failing tests first) and the current diff. The
//!    same failures twice in a row stop the loop (stagnation); a command that is not found
//!    (exit 127) stops it at once: no attempt can fix that.
//! 4. **Commit**: PASS commits the change and the report with verdict `passed`; BLOCK commits
//!    the last attempt's change and the report with verdict `blocked`, and the next run
//!    continues from that tree, its first attempt told the last failure.

mod context;
mod guard;
mod report;

use std::collections::BTreeSet;
use std::collections::hash_map::DefaultHasher;
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StageOutcome;
use crate::config::{ImplConfig, ProviderKind};
use crate::edit::{self, Protected};
use crate::git::{FileChange, ObjectId, Worktree};
use crate::llm::LlmError;
use crate::pipeline::PipelineError;
use crate::pipeline::branch::message::{TRAILER_ATTEMPTS, TRAILER_IMPLEMENTER, TRAILER_TESTS};
use crate::pipeline::branch::{Message, StageState, Verdict};
use crate::pipeline::context::{StageContext, interruptible};
use crate::pipeline::events::{AttemptResult, Event, TestResult, TestSource};
use crate::pipeline::plan::Start;
use crate::repomap::{self, RepoMap};
use crate::stage::{Role, Stage};
use crate::testing::{self, TestCommand, TestRun, TestStatus};
use context::{Named, files_section, named_files, spec_paths};
use report::{AttemptRecord, Report, TestLine};

/// The most of the current diff sent back with a failure.
const DIFF_LIMIT: usize = 16 * 1024;

/// Where a test command came from, for events.
pub fn source_of(command: &TestCommand) -> TestSource {
    match &command.source {
        testing::TestSource::Config => TestSource::Config,
        testing::TestSource::Detected { file } => TestSource::Detected { file: file.clone() },
    }
}

/// Run the stage.
pub async fn run(cx: &mut StageContext<'_>, start: Start) -> Result<StageOutcome, PipelineError> {
    let mut stage = Implement::new(cx, &start)?;
    match stage.drive(start).await {
        // The budget ran out: a block, with what was paid for so far committed.
        Err(PipelineError::OverBudget { message, .. }) => stage.block(message),
        Err(error @ PipelineError::Model { .. }) if stage.paid => {
            let reason = format!(
                "stopped because the implementer failed: {}",
                crate::error_chain::chain(&error)
            );
            let _ = stage.block(reason);
            Err(error)
        }
        other => other,
    }
}

struct Implement<'r, 'a> {
    cx: &'r mut StageContext<'a>,
    settings: ImplConfig,
    implementer: String,
    agent: bool,
    tests: TestCommand,
    protected: Protected,
    /// The branch head when the stage began: changes are measured against it.
    base: ObjectId,
    /// The commit whose tree the baseline tests: `base`, or where an earlier run of the stage
    /// began when this one continues from its blocked attempt.
    baseline_at: ObjectId,
    spec: String,
    worktree: Option<Worktree>,
    env: Vec<(OsString, OsString)>,
    report: Report,
    /// Whether a model was called (so a failure still commits what was paid for).
    paid: bool,
    /// The worktree's content after the last attempt, to see whether the next one changed it.
    last_fingerprint: u64,
    /// Paths the test command wrote (caches, reports, snapshots): not the implementer's
    /// work, so never committed.
    test_output: BTreeSet<String>,
    /// What a text implementer's edits wrote since the stage began: its change is read from
    /// these paths alone, never from a scan of the whole worktree.
    written: BTreeSet<String>,
}

/// How one attempt ended, and what goes back to the implementer.
struct Attempted {
    result: AttemptResult,
    /// What the worktree holds after the attempt (`None`: unchanged since the one before).
    changes: Option<Vec<FileChange>>,
    tests: Option<(TestLine, String)>,
    feedback: Option<String>,
    reverted: Vec<String>,
}

/// A test run as the stage judges it (the baseline's is cached).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Judged {
    result: TestResultWire,
    failing: Vec<String>,
    signature: String,
    feedback: String,
    elapsed_ms: u64,
    #[serde(skip)]
    cached: bool,
}

/// [`TestResult`] as the baseline cache stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum TestResultWire {
    Passed,
    Failed,
    KnownFailures,
    TimedOut,
    NotFound,
}

impl From<TestResultWire> for TestResult {
    fn from(w: TestResultWire) -> TestResult {
        match w {
            TestResultWire::Passed => TestResult::Passed,
            TestResultWire::Failed => TestResult::Failed,
            TestResultWire::KnownFailures => TestResult::KnownFailures,
            TestResultWire::TimedOut => TestResult::TimedOut,
            TestResultWire::NotFound => TestResult::NotFound,
        }
    }
}

impl Judged {
    fn line(&self) -> TestLine {
        TestLine {
            result: self.result.into(),
            failing: self.failing.clone(),
            elapsed_ms: self.elapsed_ms,
            cached: self.cached,
        }
    }

    fn green(&self) -> bool {
        matches!(
            self.result,
            TestResultWire::Passed | TestResultWire::KnownFailures
        )
    }
}

impl<'r, 'a> Implement<'r, 'a> {
    fn new(
        cx: &'r mut StageContext<'a>,
        start: &Start,
    ) -> Result<Implement<'r, 'a>, PipelineError> {
        let settings = cx
            .settings()
            .implement()
            .cloned()
            .ok_or(PipelineError::WrongSettings { stage: Stage::Impl })?;
        let implementer = cx.model_label(Role::Implementer)?;
        let agent = cx.provider_kind(Role::Implementer) == Some(ProviderKind::Agent);
        let base = cx.head();
        let tests = cx.test_command(base).ok_or(PipelineError::NoTestCommand)?;
        let protected =
            Protected::new(&settings.protected).map_err(|e| PipelineError::Protected {
                message: e.to_string(),
            })?;
        let spec_path = cx.artifact(Stage::Spec);
        let spec = cx.read_artifact(&spec_path)?.unwrap_or_default();
        let env = cx.test_environment(&settings.test_env);
        let continued_from = match (start, &cx.record().state) {
            (Start::FromDraft, StageState::Blocked) => cx.record().short_commit(),
            _ => None,
        };
        // Continuing from a blocked attempt, the tree holds that attempt's code: the baseline
        // is the tree the stage first began from, which its report names.
        let baseline_at = match continued_from {
            Some(_) => cx
                .read_artifact(&cx.artifact(Stage::Impl))?
                .and_then(|text| report::baseline_commit(&text))
                .unwrap_or(base),
            None => base,
        };
        let issue = cx.issue();
        let report = Report {
            issue: issue.number,
            title: issue.title.clone(),
            spec_path,
            implementer: implementer.clone(),
            test_command: tests.command.clone(),
            test_source: tests.source.to_string(),
            continued_from,
            baseline_commit: Some(baseline_at.to_string()),
            ..Report::default()
        };
        Ok(Implement {
            cx,
            settings,
            implementer,
            agent,
            tests,
            protected,
            base,
            baseline_at,
            spec,
            worktree: None,
            env,
            report,
            paid: false,
            last_fingerprint: fingerprint(&[]),
            test_output: BTreeSet::new(),
            written: BTreeSet::new(),
        })
    }

    async fn drive(&mut self, start: Start) -> Result<StageOutcome, PipelineError> {
        let worktree = self.cx.prepare_worktree()?;
        let root = worktree.path().to_path_buf();
        self.worktree = Some(worktree);

        let baseline = self.baseline(&root).await?;
        self.report.baseline = Some(baseline.line());
        match baseline.result {
            TestResultWire::Passed => {}
            TestResultWire::NotFound => {
                return self.block(format!(
                    "the test command `{}` was not found (exit status 127); no model was called",
                    self.tests.command
                ));
            }
            TestResultWire::TimedOut if !self.settings.allow_red_baseline => {
                self.report.last_failure = Some(baseline.feedback.clone());
                return self.block(format!(
                    "the tests do not finish within stages.impl.test_timeout ({}) on the unchanged tree (the baseline); no model was called",
                    humantime::format_duration(self.settings.test_timeout)
                ));
            }
            _ if !self.settings.allow_red_baseline => {
                self.report.last_failure = Some(baseline.feedback.clone());
                return self.block(format!(
                    "the tests already fail on the unchanged tree (the baseline){}; no model was called",
                    failing_words(&baseline.failing)
                ));
            }
            _ => {}
        }

        let vars = self.stable_vars(&root)?;
        let max = self.settings.max_test_retries + 1;
        let mut feedback = self.first_feedback(&start)?;
        let mut previous: Option<String> = None;
        let mut files: Vec<String> = Vec::new();
        for attempt in 1..=max {
            let attempted = self
                .attempt(attempt, max, &vars, &root, &feedback, &baseline)
                .await?;
            if let Some(changes) = &attempted.changes {
                files = changes.iter().map(|c| c.path.clone()).collect();
            }
            let stagnated = match (&attempted.result, &attempted.tests) {
                (AttemptResult::TestsFailed, Some((_, signature))) => {
                    previous.as_deref() == Some(signature.as_str())
                }
                _ => false,
            };
            let result = if stagnated {
                AttemptResult::Stagnated
            } else {
                attempted.result.clone()
            };
            self.cx.emit(Event::Attempt {
                attempt,
                of: max,
                result: result.clone(),
                files: files.clone(),
                reverted: attempted.reverted.clone(),
            });
            self.report.attempts.push(AttemptRecord {
                number: attempt,
                files: files.clone(),
                result: result.clone(),
                tests: attempted.tests.as_ref().map(|(line, _)| line.clone()),
                reverted: attempted.reverted.clone(),
            });
            previous = match &attempted.tests {
                Some((line, signature)) if line.result != TestResult::Passed => {
                    Some(signature.clone())
                }
                _ => None,
            };
            feedback = attempted.feedback.clone();
            match result {
                AttemptResult::Passed => return self.pass(),
                AttemptResult::Stagnated => {
                    self.report.last_failure = feedback.clone();
                    return self.block(format!(
                        "the tests failed the same way twice in a row (attempts {} and {attempt}); another attempt would pay for the same result",
                        attempt - 1
                    ));
                }
                _ => {}
            }
            if let Some((line, _)) = &attempted.tests
                && line.result == TestResult::NotFound
            {
                self.report.last_failure = feedback.clone();
                return self.block(format!(
                    "the test command `{}` was not found (exit status 127)",
                    self.tests.command
                ));
            }
        }
        self.report.last_failure = feedback;
        self.block(format!(
            "the tests still fail after {max} attempt{} (stages.impl.max_test_retries = {})",
            if max == 1 { "" } else { "s" },
            self.settings.max_test_retries
        ))
    }

    /// One attempt: the implementer changes the code, the guard looks, the tests run.
    async fn attempt(
        &mut self,
        attempt: u32,
        max: u32,
        vars: &std::collections::BTreeMap<&'static str, String>,
        root: &Path,
        feedback: &Option<String>,
        baseline: &Judged,
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
        let git_file = std::fs::read(root.join(".git")).ok();
        let reply = match self
            .cx
            .call_in(Role::Implementer, attempt, root, prompt)
            .await
        {
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
            Err(PipelineError::Model { source, .. }) if self.agent && agent_failure(&source) => {
                self.restore_git_file(root, &git_file);
                let (changes, _) = self.changes_keeping_protected(root)?;
                self.last_fingerprint = fingerprint(&changes);
                let (status, tail) = agent_failure_words(&source);
                return Ok(Attempted {
                    result: AttemptResult::AgentFailed {
                        status: status.clone(),
                    },
                    changes: Some(changes),
                    tests: None,
                    feedback: Some(format!(
                        "Your previous attempt failed: the agent exited with {status}.\n\nThe end of its error output:\n\n{tail}\n\nThe worktree keeps the files as that attempt left them."
                    )),
                    reverted: Vec::new(),
                });
            }
            Err(other) => return Err(other),
        };

        let mut reverted = Vec::new();
        if self.agent {
            self.restore_git_file(root, &git_file);
        } else {
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
                    return Ok(Attempted {
                        result: AttemptResult::EditsRejected {
                            problems: problem_lines(&rejected),
                            count: rejected.problems.len(),
                        },
                        changes: None,
                        tests: None,
                        feedback: Some(format!(
                            "Your previous reply changed nothing: none of its edits were applied.\n\n{}",
                            edit::feedback(&rejected)
                        )),
                        reverted,
                    });
                }
            }
        }

        let mut changes = if self.agent {
            let (changes, protected) = self.changes_keeping_protected(root)?;
            reverted = protected;
            changes
        } else {
            self.changes()?
        };
        let now = fingerprint(&changes);
        if now == self.last_fingerprint {
            let what = if self.agent {
                "The agent changed no file in its previous attempt."
            } else {
                "Your previous reply changed nothing: every edit in it was already applied."
            };
            let mut text = what.to_string();
            if let Some(earlier) = feedback {
                text.push_str("\n\nWhat the attempt before it was told still holds:\n\n");
                text.push_str(earlier);
            }
            return Ok(Attempted {
                result: AttemptResult::NoChange,
                changes: None,
                tests: None,
                feedback: Some(text),
                reverted,
            });
        }

        self.last_fingerprint = now;
        let guard = {
            let read = |path: &str| self.cx.read_at(self.base, path).ok().flatten();
            guard::check(&changes, &read, &self.spec)
        };
        for touched in &guard.touched {
            let line = touched.describe();
            if !self.report.tests_touched.contains(&line) {
                self.report.tests_touched.push(line);
            }
        }
        if !guard.refused.is_empty() {
            let files: Vec<String> = guard.refused.iter().map(|t| t.path.clone()).collect();
            self.restore(root, &files)?;
            changes.retain(|c| !files.contains(&c.path));
            self.last_fingerprint = fingerprint(&changes);
            let list: Vec<String> = guard
                .refused
                .iter()
                .map(|t| format!("- {}", t.describe()))
                .collect();
            return Ok(Attempted {
                result: AttemptResult::Tampered {
                    files: files.clone(),
                },
                changes: Some(changes),
                tests: None,
                feedback: Some(format!(
                    "Your previous attempt was refused: it deleted test files or removed assertions from them, and the spec does not ask for that:\n\n{}\n\nThose files were restored. Make the tests pass by fixing the code, not the tests.",
                    list.join("\n")
                )),
                reverted,
            });
        }

        let judged = self.run_tests(Some(attempt), root, Some(baseline)).await?;
        self.note_test_output(&changes)?;
        let line = judged.line();
        let result = if judged.green() {
            AttemptResult::Passed
        } else {
            AttemptResult::TestsFailed
        };
        let feedback = (!judged.green()).then(|| {
            let read = |path: &str| self.cx.read_at(self.base, path).ok().flatten();
            let diff = report::unified_diff(&changes, &read, DIFF_LIMIT);
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
            text.push_str(&format!(
                "\nThe change so far (against the start of the stage):\n\n```diff\n{diff}```\n\nFix the code so that the tests pass."
            ));
            text
        });
        Ok(Attempted {
            result,
            changes: Some(changes),
            tests: Some((line, judged.signature.clone())),
            feedback,
            reverted,
        })
    }

    /// The baseline: known for this tree and command, or run now.
    async fn baseline(&mut self, root: &Path) -> Result<Judged, PipelineError> {
        let tree = self.cx.tree_id(self.baseline_at)?;
        let mut hasher = DefaultHasher::new();
        self.tests.command.hash(&mut hasher);
        self.env.hash(&mut hasher);
        let file = self
            .cx
            .cache_dir("baseline")
            .join(format!("{tree}-{:016x}.json", hasher.finish()));
        if let Some(mut known) = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Judged>(&bytes).ok())
        {
            known.cached = true;
            self.cx.emit(Event::TestsFinished {
                attempt: None,
                command: self.tests.command.clone(),
                result: known.result.into(),
                failing: known.failing.clone(),
                elapsed_ms: known.elapsed_ms,
                cached: true,
            });
            return Ok(known);
        }
        let judged = match self.baseline_at == self.base {
            true => {
                let judged = self.run_tests(None, root, None).await?;
                self.note_test_output(&[])?;
                judged
            }
            false => {
                // The tree the stage began from, tested in the worktree, which then goes back
                // to where this run starts.
                // Each reset marks the worktree clean; the tests, then the attempts, write.
                let worktree = self.worktree.clone();
                if let Some(worktree) = &worktree {
                    self.cx.reset_worktree(worktree, self.baseline_at)?;
                    worktree.begin_work()?;
                }
                let judged = self.run_tests(None, root, None).await;
                if let Some(worktree) = &worktree {
                    self.cx.reset_worktree(worktree, self.base)?;
                    worktree.begin_work()?;
                }
                judged?
            }
        };
        if matches!(
            judged.result,
            TestResultWire::Passed | TestResultWire::Failed
        ) && let Ok(bytes) = serde_json::to_vec(&judged)
        {
            // A cache: failing to keep it costs a test run next time, nothing more.
            let _ = save_atomically(&file, &bytes);
        }
        Ok(judged)
    }

    /// Run the test command in the worktree and judge the result (against the baseline's
    /// failures when a red baseline is allowed).
    async fn run_tests(
        &mut self,
        attempt: Option<u32>,
        root: &Path,
        baseline: Option<&Judged>,
    ) -> Result<Judged, PipelineError> {
        self.cx.emit(Event::TestsStarted {
            attempt,
            command: self.tests.command.clone(),
        });
        let interrupt = self.cx.interrupt();
        let run = interruptible(
            interrupt,
            testing::run(
                &self.tests.command,
                root,
                self.env.clone(),
                self.settings.test_timeout,
            ),
        )
        .await?
        .map_err(|source| PipelineError::Tests {
            command: self.tests.command.clone(),
            source,
        })?;
        let judged = judge(&run, baseline);
        self.cx.emit(Event::TestsFinished {
            attempt,
            command: self.tests.command.clone(),
            result: judged.result.into(),
            failing: judged.failing.clone(),
            elapsed_ms: judged.elapsed_ms,
            cached: false,
        });
        Ok(judged)
    }

    /// The prompt's stable part: the documents, the files the spec names, the map.
    fn stable_vars(
        &mut self,
        root: &Path,
    ) -> Result<std::collections::BTreeMap<&'static str, String>, PipelineError> {
        let mut vars = self.cx.prompt_vars()?;
        let brief = self.cx.artifact(Stage::Triage);
        let lld = self.cx.artifact(Stage::Lld);
        vars.insert("brief", self.cx.read_artifact(&brief)?.unwrap_or_default());
        vars.insert("lld", self.cx.read_artifact(&lld)?.unwrap_or_default());
        vars.insert("spec", self.spec.clone());
        vars.insert("test_command", self.tests.command.clone());
        let protected = if self.settings.protected.is_empty() {
            "`.git/`".to_string()
        } else {
            let mut globs: Vec<String> = self
                .settings
                .protected
                .iter()
                .map(|g| format!("`{g}`"))
                .collect();
            globs.push("`.git/`".into());
            globs.join(", ")
        };
        vars.insert("protected", protected);

        let budget = self.settings.context_tokens;
        let paths: Vec<String> = spec_paths(&self.spec)
            .into_iter()
            .filter(|p| p.as_str() != self.report.spec_path)
            .collect();
        let (named, used) = {
            let read = |path: &str| self.cx.read_at(self.base, path).ok().flatten();
            named_files(&paths, &read, budget)
        };
        let shown: Vec<String> = named
            .iter()
            .filter_map(|n| match n {
                Named::Text { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect();
        vars.insert("files", files_section(&named));
        let options = repomap::Options {
            budget_tokens: budget.saturating_sub(used).max(budget / 4),
            focus: paths.clone(),
            exclude: shown,
        };
        let tree = self.cx.tree_id(self.base)?;
        let map = repomap::cached(
            &self.cx.cache_dir("repomap"),
            &tree.to_string(),
            &options,
            || RepoMap::build(root, &options),
        )
        .unwrap_or_else(|e| format!("(the repository map could not be built: {e})"));
        vars.insert("repo_map", map);
        Ok(vars)
    }

    /// What the first attempt is told: a person's feedback from the gate, or the last
    /// failure of the run that blocked.
    fn first_feedback(&self, start: &Start) -> Result<Option<String>, PipelineError> {
        match start {
            Start::FromFeedback(feedback) => Ok(Some(format!(
                "The implementation on the branch was rejected by a person at the before_pr gate, who said:\n\n{feedback}\n\nThe worktree holds that implementation: change it accordingly."
            ))),
            Start::FromDraft => {
                let path = self.cx.artifact(Stage::Impl);
                let last = self
                    .cx
                    .read_artifact(&path)?
                    .and_then(|text| report::last_failure(&text));
                Ok(last.map(|failure| {
                    format!(
                        "An earlier run blocked; the worktree holds its last attempt. What it was told then still holds:\n\n{failure}"
                    )
                }))
            }
            Start::Fresh => Ok(None),
        }
    }

    /// Everything changed in the worktree since the stage began, minus the report's path
    /// (the report is ours to write).
    fn changes(&self) -> Result<Vec<FileChange>, PipelineError> {
        let Some(worktree) = &self.worktree else {
            return Ok(Vec::new());
        };
        let report = self.cx.artifact(Stage::Impl);
        let mut changes = if self.agent {
            self.cx.worktree_changes(worktree, self.base)?
        } else {
            let written: Vec<String> = self.written.iter().cloned().collect();
            self.cx.worktree_changes_in(worktree, self.base, &written)?
        };
        changes.retain(|c| c.path != report && !self.test_output.contains(&c.path));
        Ok(changes)
    }

    /// Remember what the test command just wrote: every path that differs from `before`,
    /// what the worktree held when it started.
    fn note_test_output(&mut self, before: &[FileChange]) -> Result<(), PipelineError> {
        // A text implementer's change is read from the paths it wrote: what the tests write
        // elsewhere never reaches it.
        if !self.agent {
            return Ok(());
        }
        let after = self.changes()?;
        for change in after {
            if !before.contains(&change) {
                self.test_output.insert(change.path);
            }
        }
        Ok(())
    }

    /// Put `paths` back as they were when the stage began.
    fn restore(&self, root: &Path, paths: &[String]) -> Result<(), PipelineError> {
        for path in paths {
            let target = root.join(path);
            let io = |source| PipelineError::Worktree {
                path: target.clone(),
                source,
            };
            match self.cx.read_at(self.base, path)? {
                Some(bytes) => {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(io)?;
                    }
                    if target.is_symlink() {
                        std::fs::remove_file(&target).map_err(io)?;
                    }
                    std::fs::write(&target, bytes).map_err(io)?;
                }
                None => match std::fs::remove_file(&target) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(e)),
                },
            }
        }
        Ok(())
    }

    /// What an agent left in the worktree, with its changes to protected paths reverted
    /// (and said).
    fn changes_keeping_protected(
        &self,
        root: &Path,
    ) -> Result<(Vec<FileChange>, Vec<String>), PipelineError> {
        let mut changes = self.changes()?;
        let touched: Vec<String> = changes
            .iter()
            .filter(|c| self.protected.matches(&c.path))
            .map(|c| c.path.clone())
            .collect();
        self.restore(root, &touched)?;
        changes.retain(|c| !touched.contains(&c.path));
        Ok((changes, touched))
    }

    /// An agent may rewrite the worktree's `.git` file (which points at the repository);
    /// put it back.
    fn restore_git_file(&self, root: &Path, before: &Option<Vec<u8>>) {
        if let Some(bytes) = before
            && std::fs::read(root.join(".git")).ok().as_ref() != Some(bytes)
        {
            let _ = std::fs::remove_dir_all(root.join(".git"));
            let _ = std::fs::write(root.join(".git"), bytes);
        }
    }

    fn pass(&mut self) -> Result<StageOutcome, PipelineError> {
        let commit = self.commit(Verdict::Passed, None)?;
        Ok(StageOutcome::Passed {
            commit,
            verdict: Verdict::Passed,
            rounds: self.report.attempts.len() as u32,
        })
    }

    fn block(&mut self, reason: String) -> Result<StageOutcome, PipelineError> {
        let commit = self.commit(Verdict::Blocked, Some(reason.clone()))?;
        Ok(StageOutcome::Blocked {
            commit: Some(commit),
            reason,
            rounds: self.report.attempts.len() as u32,
        })
    }

    /// Commit the worktree's change and the report; move the worktree to the new commit.
    fn commit(
        &mut self,
        verdict: Verdict,
        blocked: Option<String>,
    ) -> Result<ObjectId, PipelineError> {
        let mut changes = self.changes()?;
        {
            let read = |path: &str| self.cx.read_at(self.base, path).ok().flatten();
            self.report.diffstat = report::diffstat(&changes, &read);
            self.report.test_output = self.test_output.iter().cloned().collect();
        }
        let spent = self.cx.take_spend();
        self.report.usage = spent.usage();
        self.report.cost_usd = spent.cost();
        self.report.blocked = blocked.clone();
        let report_path = self.cx.artifact(Stage::Impl);
        changes.push(FileChange::file(report_path.clone(), self.report.render()));

        let attempts = self.report.attempts.len();
        let tests_result = match (verdict, self.report.attempts.last()) {
            (Verdict::Passed, _) => "passed",
            (_, Some(AttemptRecord { tests: Some(t), .. })) if t.result == TestResult::Passed => {
                "passed"
            }
            (_, None)
                if self
                    .report
                    .baseline
                    .as_ref()
                    .is_some_and(|b| b.result == TestResult::NotFound) =>
            {
                "not found"
            }
            _ => "failed",
        };
        let issue = self.cx.issue();
        let mut message = Message::stage(Stage::Impl, issue.number, &issue.title, verdict);
        let summary = match &blocked {
            None => format!(
                "Implemented by {} in {attempts} attempt{}; `{}` passes.",
                self.implementer,
                if attempts == 1 { "" } else { "s" },
                self.tests.command
            ),
            Some(reason) => format!("Blocked: {reason}."),
        };
        message
            .paragraph(summary)
            .trailer(TRAILER_IMPLEMENTER, self.implementer.clone())
            .trailer(TRAILER_ATTEMPTS, attempts.to_string())
            .trailer(
                TRAILER_TESTS,
                format!("\"{}\" {tests_result}", self.tests.command),
            )
            .spend(spent.usage(), spent.cost());
        let paths: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
        let commit = self.cx.commit(&changes, &message)?;
        self.cx.emit(Event::Committed {
            stage: Stage::Impl,
            commit: commit.short(),
            verdict,
            paths,
        });
        if let Some(worktree) = &self.worktree {
            self.cx.reset_worktree(worktree, commit)?;
        }
        Ok(commit)
    }
}

/// The most problems of one reply that events and the report list one by one.
const PROBLEMS_LISTED: usize = 10;

/// A rejected reply's problems, a line each, at most [`PROBLEMS_LISTED`]: a runaway reply
/// must not make a runaway event.
fn problem_lines(rejected: &edit::Rejected) -> Vec<String> {
    rejected
        .problems
        .iter()
        .take(PROBLEMS_LISTED)
        .map(|p| p.to_string())
        .collect()
}

/// A value that changes whenever the worktree's content does.
fn fingerprint(changes: &[FileChange]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for change in changes {
        change.path.hash(&mut hasher);
        change.content.hash(&mut hasher);
        (change.kind as u8).hash(&mut hasher);
    }
    hasher.finish()
}

/// Judge a test run: green, red, red only where the baseline was, timed out, not found.
fn judge(run: &TestRun, baseline: Option<&Judged>) -> Judged {
    let failing: Vec<String> = run.failures.names.iter().cloned().collect();
    let signature = run.signature().to_string();
    let result = if run.status.passed() {
        TestResultWire::Passed
    } else if run.status == TestStatus::NotFound {
        TestResultWire::NotFound
    } else if run.status == TestStatus::TimedOut {
        TestResultWire::TimedOut
    } else {
        match baseline.filter(|b| b.result != TestResultWire::Passed) {
            Some(base) if known_failures_only(&failing, &signature, base) => {
                TestResultWire::KnownFailures
            }
            _ => TestResultWire::Failed,
        }
    };
    Judged {
        result,
        failing,
        feedback: run.feedback(),
        signature,
        elapsed_ms: run.elapsed.as_millis() as u64,
        cached: false,
    }
}

/// With a red baseline allowed: whether every failure is one the baseline had. When the
/// runner names no tests, only a run that fails exactly as the baseline did counts.
fn known_failures_only(failing: &[String], signature: &str, base: &Judged) -> bool {
    if failing.is_empty() || base.failing.is_empty() {
        return signature == base.signature;
    }
    failing.iter().all(|name| base.failing.contains(name))
}

fn failing_words(failing: &[String]) -> String {
    match failing.len() {
        0 => String::new(),
        1 => format!(": {}", failing[0]),
        n => format!(": {n} tests fail, {} first", failing[0]),
    }
}

/// Whether an agent's failure is a failed attempt (it ran and failed) rather than an error
/// to stop on (the program could not be started, or is not there).
fn agent_failure(error: &LlmError) -> bool {
    match error {
        LlmError::Exit { not_found, .. } => !not_found,
        LlmError::TimedOut { .. } | LlmError::Retried { .. } => true,
        _ => false,
    }
}

fn agent_failure_words(error: &LlmError) -> (String, String) {
    match error {
        LlmError::Exit {
            status,
            stderr_tail,
            ..
        } => (status.clone(), stderr_tail.clone()),
        LlmError::Retried { last, .. } => agent_failure_words(last),
        other => (other.to_string(), String::new()),
    }
}

fn save_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::testing::Failures;

    fn run(status: TestStatus, output: &str) -> TestRun {
        TestRun {
            status,
            output_tail: output.to_string(),
            total_bytes: output.len() as u64,
            elapsed: Duration::from_millis(5),
            failures: Failures::parse(output),
        }
    }

    const CARGO_RED: &str = "running 2 tests\ntest a ... FAILED\ntest b ... ok\n\nfailures:\n    a\n\ntest result: FAILED. 1 passed; 1 failed\n";

    #[test]
    fn a_run_is_judged_by_its_status_and_against_a_red_baseline() {
        assert_eq!(
            judge(&run(TestStatus::Passed, "ok\n"), None).result,
            TestResultWire::Passed
        );
        assert_eq!(
            judge(&run(TestStatus::NotFound, "sh: x: not found\n"), None).result,
            TestResultWire::NotFound
        );
        assert_eq!(
            judge(&run(TestStatus::TimedOut, "slow\n"), None).result,
            TestResultWire::TimedOut
        );
        let red = judge(&run(TestStatus::Failed { code: 101 }, CARGO_RED), None);
        assert_eq!(red.result, TestResultWire::Failed);
        assert_eq!(red.failing, ["a"]);

        // The same failure as the baseline is known; a new one is not.
        let same = judge(
            &run(TestStatus::Failed { code: 101 }, CARGO_RED),
            Some(&red),
        );
        assert_eq!(same.result, TestResultWire::KnownFailures);
        let worse = CARGO_RED
            .replace("test b ... ok", "test b ... FAILED")
            .replace("    a\n", "    a\n    b\n");
        let new = judge(&run(TestStatus::Failed { code: 101 }, &worse), Some(&red));
        assert_eq!(new.result, TestResultWire::Failed);
    }

    #[test]
    fn without_test_names_only_the_same_output_is_a_known_failure() {
        let base = judge(
            &run(TestStatus::Failed { code: 1 }, "boom at step 3\n"),
            None,
        );
        assert!(base.failing.is_empty());
        let same = judge(
            &run(TestStatus::Failed { code: 1 }, "boom at step 3\n"),
            Some(&base),
        );
        assert_eq!(same.result, TestResultWire::KnownFailures);
        let other = judge(
            &run(TestStatus::Failed { code: 1 }, "crash in parser\n"),
            Some(&base),
        );
        assert_eq!(other.result, TestResultWire::Failed);
    }

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
        assert_eq!(
            agent_failure_words(&exit(false)),
            ("exit status 1".to_string(), "it broke".to_string())
        );
    }

    #[test]
    fn fingerprints_change_with_content_path_and_kind() {
        let a = [FileChange::file("a.rs", "x")];
        assert_eq!(
            fingerprint(&a),
            fingerprint(&[FileChange::file("a.rs", "x")])
        );
        assert_ne!(
            fingerprint(&a),
            fingerprint(&[FileChange::file("a.rs", "y")])
        );
        assert_ne!(
            fingerprint(&a),
            fingerprint(&[FileChange::file("b.rs", "x")])
        );
        assert_ne!(fingerprint(&a), fingerprint(&[FileChange::deleted("a.rs")]));
        assert_ne!(fingerprint(&a), fingerprint(&[]));
    }
}
