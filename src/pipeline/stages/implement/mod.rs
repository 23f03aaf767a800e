//! The `impl` stage: code written in the issue's worktree, tested, proven, committed.
//!
//! 1. The worktree (`<git-common-dir>/orchestrate/worktrees/{issue}`) is made or reset at the
//!    branch head; changes a killed run left there are saved first.
//! 2. The **baseline**: the test command runs once on the unchanged tree (its result cached
//!    by tree id). Red blocks at once — no model is paid to fix a red baseline — unless
//!    `allow_red_baseline`, when only new failures count.
//! 3. The **loop**, at most `max_test_retries + 1` attempts (`attempt.rs`): the implementer
//!    changes the code (a text model answers with edit blocks, applied all or nothing; an
//!    `agent:` program edits the worktree itself); a change that cannot be the
//!    implementation is refused before any test runs; the test command runs — always ours,
//!    never the agent's word; and a green run is **proven** (`proof.rs`): the original tests
//!    still pass, and a test fails without the change. A failure goes back to the implementer
//!    — the last one only, never a chain. The loop stops early when another attempt would
//!    pay for a result already known: the same failures twice in a row, a reply that repeats
//!    the one before, an attempt that changes nothing after one whose result is known, or a
//!    command that is not found (exit 127).
//! 4. **Commit**: PASS commits the change and the report (with what was verified) with
//!    verdict `passed`; BLOCK commits the last attempt's change and the report with verdict
//!    `blocked` and a reason saying what happened (`blocked.rs`), and the next run continues
//!    from that tree, its first attempt told the last failure.

mod acceptable;
mod attempt;
mod blocked;
mod context;
mod guard;
mod proof;
mod report;
pub mod testfiles;

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
use crate::issue::cut_text;
use crate::pipeline::PipelineError;
use crate::pipeline::branch::message::{
    TRAILER_ATTEMPTS, TRAILER_IMPLEMENTER, TRAILER_STAGE, TRAILER_TESTS, TRAILER_VERDICT,
    blocked_reason,
};
use crate::pipeline::branch::{Message, StageState, Verdict};
use crate::pipeline::contain::{Containment, Launch};
use crate::pipeline::context::{StageContext, interruptible};
use crate::pipeline::events::{
    AttemptResult, ContainedBy, ContainedChange, Event, RefusedFile, TestCheck, TestResult,
    TestSource,
};
use crate::pipeline::plan::Start;
use crate::pipeline::stale::StaleWhy;
use crate::repomap::{self, RepoMap};
use crate::sandbox;
use crate::stage::{Role, Stage};
use crate::testing::{self, TestCommand, TestRun, TestStatus};
use attempt::Said;
use context::{Named, files_section, named_files, spec_paths};
pub use report::verification_section;
use report::{AttemptRecord, CheckLine, Report, TestLine};
use testfiles::Classifier;

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
    /// The code without the change: the commit whose tree the baseline tests and the proof
    /// runs against — `base`, or where an earlier run of the stage began when this one goes
    /// on from its blocked attempt or from a person's rejection at the gate.
    baseline_at: ObjectId,
    spec: String,
    /// The files the spec names (that exist, or have a directory): a change touching none of
    /// them is not the implementation.
    expected: Vec<String>,
    /// Which changed files are tests, for the proof.
    classifier: Classifier,
    worktree: Option<Worktree>,
    env: Vec<(OsString, OsString)>,
    /// How tests and an agent are contained (decided when the stage starts working).
    containment: Option<Containment>,
    /// The private temporary directory (`TMPDIR`) of the attempts' tests and the agent.
    tmp: Option<tempfile::TempDir>,
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
    /// The checks of the attempt under way (the proof, the original tests), for its record.
    checks: Vec<CheckLine>,
    /// What the test runs of the attempt under way (or the baseline) changed in the user's
    /// repository outside the worktree: the attempt fails for it.
    escaped: Vec<ContainedChange>,
    /// An agent's worktree as read after the last test runs (see `note_test_output`), while
    /// nothing has written in it since: the commit's read takes it instead of reading every
    /// file's state again. Dropped before anything writes (an attempt, a test run, files put
    /// back: `written`).
    read_after_tests: Option<Vec<FileChange>>,
    /// The change as it was before test runs whose writes were not read yet (an attempt's
    /// own run, the proof's swapped runs): read before the commit or before the implementer
    /// writes again, so that they count as the tests' (`changes_settled`). One reading after
    /// all of an attempt's runs, instead of one after each.
    unread_test_writes: Option<Vec<FileChange>>,
    /// The reading of the worktree `read_after_tests` came from, with its `git status`: the
    /// reset after the commit takes it instead of reading every file's state again. Dropped
    /// with `read_after_tests` before anything writes (`written`).
    last_read: Option<crate::git::Read>,
}

/// What an agent left, once what it may not change is put back.
struct Kept {
    changes: Vec<FileChange>,
    /// Protected paths it changed.
    reverted: Vec<String>,
    /// Files no commit may hold.
    refused: Vec<RefusedFile>,
}

/// The worktree's `.git` file as it was before an agent ran.
struct KeptState {
    git_file: Option<Vec<u8>>,
}

/// What the implementer is told when an attempt's tests failed the way a missing network
/// fails.
const OFFLINE: &str = "Note: the tests run without network (sandbox.test_network is off); new dependencies must already be available, and a test may not reach other hosts. The failure below looks like a connection that was refused or a name that did not resolve.";

/// A test run as the stage judges it (the baseline's is cached).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Judged {
    result: TestResultWire,
    failing: Vec<String>,
    /// The passing tests the runner named.
    #[serde(default)]
    passed: Vec<String>,
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
        // A block before any attempt left no code: the branch's code (a person may have fixed
        // its tests since) is the code without the change, as for a first run.
        let continued_from = match (start, &cx.record().state) {
            (Start::FromDraft, StageState::Blocked) if !cx.record().blocked_before_attempts() => {
                cx.record().short_commit()
            }
            _ => None,
        };
        // Going on from a blocked attempt, or from an implementation a person rejected at the
        // gate, the tree holds code of an earlier run: the code without the change is the
        // tree the stage first began from, which the report names.
        let earlier = match continued_from.is_some()
            || matches!(start, Start::FromFeedback(_) | Start::Stale(_))
        {
            true => cx
                .read_artifact(&cx.artifact(Stage::Impl))?
                .and_then(|text| report::baseline_commit(&text)),
            false => None,
        };
        // The base moved on: the branch catches up first (its documents carried onto the
        // base's tip, or, asked, the base merged into its code), and the code without the
        // change with it.
        let caught_up = cx.catch_up_with_base(earlier)?;
        let base = cx.head();
        let baseline_at = caught_up.or(earlier).unwrap_or(base);
        let tests = cx.test_command(base).ok_or(PipelineError::NoTestCommand)?;
        let protected =
            Protected::new(&settings.protected).map_err(|e| PipelineError::Protected {
                message: e.to_string(),
            })?;
        let spec_path = cx.artifact(Stage::Spec);
        let spec = cx.read_artifact(&spec_path)?.unwrap_or_default();
        let env = cx.test_environment(&settings.test_env);
        let exists = |path: &str| cx.read_at(baseline_at, path).ok().flatten().is_some();
        let classifier = Classifier::new(&tests.command, &exists);
        let documents: Vec<String> = [Stage::Triage, Stage::Lld, Stage::Spec, Stage::Impl]
            .iter()
            .map(|stage| cx.artifact(*stage))
            .collect();
        let mentioned: Vec<String> = spec_paths(&spec)
            .into_iter()
            .filter(|p| !documents.contains(p))
            .collect();
        let expected = proof::expected_files(&mentioned, &exists);
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
            expected,
            classifier,
            worktree: None,
            env,
            containment: None,
            tmp: None,
            report,
            paid: false,
            last_fingerprint: fingerprint(&[]),
            test_output: BTreeSet::new(),
            written: BTreeSet::new(),
            checks: Vec::new(),
            escaped: Vec::new(),
            read_after_tests: None,
            unread_test_writes: None,
            last_read: None,
        })
    }

    async fn drive(&mut self, start: Start) -> Result<StageOutcome, PipelineError> {
        let containment = self.cx.containment().await?;
        self.cx.emit(containment.event());
        self.containment = Some(containment);
        self.tmp = Some(
            sandbox::private_tmp().map_err(|source| PipelineError::Worktree {
                path: std::env::temp_dir(),
                source,
            })?,
        );
        let worktree = self.cx.prepare_worktree()?;
        let root = worktree.path().to_path_buf();
        self.worktree = Some(worktree);

        let baseline = self.baseline(&root).await?;
        self.report.baseline = Some(baseline.line());
        if !self.escaped.is_empty() {
            let escaped = std::mem::take(&mut self.escaped);
            return self.block(blocked::baseline_contained(&escaped));
        }
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
        // The last failure the implementer was told of: every later prompt carries it once.
        let mut standing = self.first_feedback(&start)?;
        let mut feedback = standing.clone();
        let mut previous: Option<(AttemptResult, Option<String>)> = None;
        let mut last_reply: Option<String> = None;
        let mut results: Vec<AttemptResult> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        for attempt in 1..=max {
            let attempted = self
                .attempt(
                    attempt,
                    max,
                    &vars,
                    &root,
                    &feedback,
                    &baseline,
                    last_reply.as_deref(),
                )
                .await?;
            if let Some(changes) = &attempted.changes {
                files = changes.iter().map(|c| c.path.clone()).collect();
            }
            let signature = attempted.tests.as_ref().map(|(_, s)| s.clone());
            let (result, stop) = stagnation(attempt, &attempted.result, &signature, &previous);
            self.cx.emit(Event::Attempt {
                attempt,
                of: max,
                result: result.clone(),
                files: files.clone(),
                reverted: attempted.reverted.clone(),
                refused: attempted.refused.clone(),
            });
            self.report.attempts.push(AttemptRecord {
                number: attempt,
                files: files.clone(),
                result: result.clone(),
                tests: attempted.tests.as_ref().map(|(line, _)| line.clone()),
                checks: std::mem::take(&mut self.checks),
                reverted: attempted.reverted.clone(),
                refused: attempted.refused.clone(),
            });
            results.push(result.clone());
            if attempted.reply.is_some() {
                last_reply = attempted.reply.clone();
            }
            previous = Some((result.clone(), signature));
            match attempted.said {
                Said::Failure(text) => {
                    standing = Some(text.clone());
                    feedback = Some(text);
                }
                Said::Note(note) => {
                    feedback = Some(match &standing {
                        Some(failure) => format!(
                            "{note}\n\nThe last failure you were told of still holds:\n\n{failure}"
                        ),
                        None => note,
                    });
                }
                Said::Nothing => {}
            }
            if result == AttemptResult::Passed {
                self.report.verification = attempted.verification;
                return self.pass();
            }
            if let Some(reason) = stop {
                self.report.last_failure = standing.clone();
                return self.block(reason);
            }
            if let Some((line, _)) = &attempted.tests
                && line.result == TestResult::NotFound
            {
                self.report.last_failure = standing.clone();
                return self.block(format!(
                    "the test command `{}` was not found (exit status 127)",
                    self.tests.command
                ));
            }
        }
        self.report.last_failure = standing;
        self.block(blocked::exhausted(&results, self.settings.max_test_retries))
    }

    /// The baseline: known for this tree and command, or run now.
    async fn baseline(&mut self, root: &Path) -> Result<Judged, PipelineError> {
        let tree = self.cx.tree_id(self.baseline_at)?;
        let mut hasher = DefaultHasher::new();
        // Bumped when what the cache keeps changes (2: the passing tests' names).
        BASELINE_CACHE_VERSION.hash(&mut hasher);
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
                check: None,
                result: known.result.into(),
                failing: known.failing.clone(),
                elapsed_ms: known.elapsed_ms,
                cached: true,
            });
            return Ok(known);
        }
        let judged = match self.baseline_at == self.base {
            true => {
                let judged = self.run_tests_for(None, None, root, None).await?;
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
                let judged = self.run_tests_for(None, None, root, None).await;
                if let Some(worktree) = &worktree {
                    self.cx.reset_worktree(worktree, self.base)?;
                    worktree.begin_work()?;
                }
                judged?
            }
        };
        // A baseline that changed the user's repository is run again next time: it blocks.
        if matches!(
            judged.result,
            TestResultWire::Passed | TestResultWire::Failed
        ) && self.escaped.is_empty()
            && let Ok(bytes) = serde_json::to_vec(&judged)
        {
            // A cache: failing to keep it costs a test run next time, nothing more.
            let _ = save_atomically(&file, &bytes);
        }
        Ok(judged)
    }

    /// Run the test command in the worktree and judge the result (against the baseline's
    /// failures when a red baseline is allowed); `check` says which check of the attempt
    /// the run is, if it is one.
    async fn run_tests_for(
        &mut self,
        attempt: Option<u32>,
        check: Option<TestCheck>,
        root: &Path,
        baseline: Option<&Judged>,
    ) -> Result<Judged, PipelineError> {
        // The tests may write anywhere.
        self.written();
        self.cx.emit(Event::TestsStarted {
            attempt,
            command: self.tests.command.clone(),
            check,
        });
        let interrupt = self.cx.interrupt();
        // The baseline is the user's own code: it keeps the network and its writes are not
        // confined. Every other run is of code a model changed.
        let baseline_run = attempt.is_none() && check.is_none();
        let mut env = self.env.clone();
        let launch = match (&self.containment, &self.tmp) {
            (Some(containment), _) if baseline_run => containment.baseline(),
            (Some(containment), Some(tmp)) => {
                env.retain(|(name, _)| name != "TMPDIR");
                env.push(("TMPDIR".into(), tmp.path().into()));
                containment.tests(root, tmp.path(), &self.tests.command)
            }
            _ => Launch::default(),
        };
        let checkout = !launch.keeps_off_checkout;
        let before = self.cx.watch(checkout)?;
        let run = interruptible(
            interrupt,
            testing::run(
                &self.tests.command,
                root,
                env,
                self.settings.test_timeout,
                launch.prefix,
            ),
        )
        .await;
        // Whatever the run's end, what it changed in the user's repository is undone.
        let escaped = self
            .cx
            .contain(before, ContainedBy::Tests { attempt, check }, checkout)?;
        self.escaped.extend(escaped);
        let run = run?.map_err(|source| PipelineError::Tests {
            command: self.tests.command.clone(),
            source,
        })?;
        let mut judged = judge(&run, baseline);
        let offline = self
            .containment
            .as_ref()
            .is_some_and(Containment::tests_offline);
        if !baseline_run
            && offline
            && !judged.green()
            && sandbox::looks_like_blocked_network(&run.output_tail)
        {
            judged.feedback = format!("{}\n\n{}", OFFLINE, judged.feedback);
        }
        self.cx.emit(Event::TestsFinished {
            attempt,
            command: self.tests.command.clone(),
            check,
            result: judged.result.into(),
            failing: judged.failing.clone(),
            elapsed_ms: judged.elapsed_ms,
            cached: false,
        });
        Ok(judged)
    }

    /// Keep a check's run for the attempt's record.
    fn note_check(&mut self, check: TestCheck, judged: &Judged) {
        self.checks.push(CheckLine {
            check,
            line: judged.line(),
        });
    }

    /// The prompt's stable part: the documents, the files the spec names, the map.
    fn stable_vars(
        &mut self,
        root: &Path,
    ) -> Result<std::collections::BTreeMap<&'static str, String>, PipelineError> {
        let mut vars = self.cx.prompt_vars()?;
        let lld = self.cx.artifact(Stage::Lld);
        // The brief without the issue it keeps: the prompt carries that as `issue_text`.
        vars.insert("brief", self.cx.brief()?.unwrap_or_default());
        vars.insert("lld", self.cx.read_artifact(&lld)?.unwrap_or_default());
        vars.insert("spec", self.spec.clone());
        vars.insert("test_command", self.tests.command.clone());
        vars.insert("example_path", self.example_path());
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

    /// The path an edit-format example shows: a file the spec names, so the example looks
    /// like this repository's files (`calc/core.py`, not `src/main.rs`), else a neutral one.
    fn example_path(&self) -> String {
        self.expected
            .first()
            .cloned()
            .unwrap_or_else(|| "path/to/file".into())
    }

    /// What the first attempt is told: a person's feedback from the gate, or the last
    /// failure of the run that blocked.
    fn first_feedback(&self, start: &Start) -> Result<Option<String>, PipelineError> {
        match start {
            Start::FromFeedback(feedback) => Ok(Some(format!(
                "The implementation on the branch was rejected by a person at the before_pr gate, who said:\n\n{feedback}\n\nThe worktree holds that implementation: change it accordingly."
            ))),
            // Blocked on the branch's own code: no implementer was told anything yet.
            Start::FromDraft if self.cx.record().blocked_before_attempts() => Ok(None),
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
            Start::Stale(why) => Ok(Some(self.stale_feedback(why)?)),
            Start::Fresh => Ok(None),
        }
    }

    /// What the first attempt is told when the code on the branch was made from a spec (or
    /// design, or brief) that changed since: why, and the spec's changes as a diff.
    fn stale_feedback(&self, why: &StaleWhy) -> Result<String, PipelineError> {
        let mut text = format!(
            "The code on the branch was written for documents that changed since: {}.",
            why.describe(Stage::Impl)
        );
        let spec_path = self.cx.artifact(Stage::Spec);
        let made = self.cx.record().last_change.as_ref().map(|c| c.id);
        if let Some(made) = made {
            let read = |commit| -> Result<String, PipelineError> {
                Ok(self
                    .cx
                    .read_at(commit, &spec_path)?
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default())
            };
            let (before, now) = (read(made)?, read(self.base)?);
            if before != now {
                let diff = similar::TextDiff::from_lines(&before, &now)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{spec_path}"), &format!("b/{spec_path}"))
                    .to_string();
                text.push_str(&format!(
                    "\n\nWhat changed in the spec since that code was written:\n\n```diff\n{}\n```",
                    cut_text(&diff, DIFF_LIMIT)
                        .unwrap_or_else(|| diff.clone())
                        .trim_end()
                ));
            }
        }
        text.push_str("\n\nThe worktree holds that code: change it to match the spec as it is now, keeping what still holds.");
        Ok(text)
    }

    /// Everything changed in the worktree since the stage began, minus the report's path
    /// (the report is ours to write).
    fn changes(&self) -> Result<Vec<FileChange>, PipelineError> {
        Ok(self.implementation(self.read_worktree()?))
    }

    /// [`Self::changes`], from the read made after the last test run when nothing has
    /// written in the worktree since.
    fn changes_unwritten(&mut self) -> Result<Vec<FileChange>, PipelineError> {
        match self.read_after_tests.take() {
            Some(read) => Ok(self.implementation(read)),
            None => self.changes_settled(),
        }
    }

    /// [`Self::changes`], once what the last test runs wrote is known as the tests'.
    fn changes_settled(&mut self) -> Result<Vec<FileChange>, PipelineError> {
        if let Some(before) = self.unread_test_writes.take() {
            self.note_test_output(&before)?;
            if let Some(read) = self.read_after_tests.take() {
                return Ok(self.implementation(read));
            }
        }
        self.changes()
    }

    /// What differs in the worktree from the stage's base: everywhere for an agent, at the
    /// paths its edits wrote for a text implementer.
    fn read_worktree(&self) -> Result<Vec<FileChange>, PipelineError> {
        let Some(worktree) = &self.worktree else {
            return Ok(Vec::new());
        };
        if self.agent {
            self.cx.worktree_changes(worktree, self.base)
        } else {
            let written: Vec<String> = self.written.iter().cloned().collect();
            self.cx.worktree_changes_in(worktree, self.base, &written)
        }
    }

    /// [`Self::read_worktree`] after test runs, with the reading of the whole worktree it
    /// came from (an agent's), which leaves the index to the reset that may follow
    /// ([`crate::git::Worktree::read`]).
    fn read_worktree_whole(
        &self,
    ) -> Result<(Vec<FileChange>, Option<crate::git::Read>), PipelineError> {
        let Some(worktree) = &self.worktree else {
            return Ok((Vec::new(), None));
        };
        if self.agent {
            let read = self.cx.worktree_read(worktree, self.base)?;
            Ok((read.changes.clone(), Some(read)))
        } else {
            let written: Vec<String> = self.written.iter().cloned().collect();
            let changes = self.cx.worktree_changes_in(worktree, self.base, &written)?;
            Ok((changes, None))
        }
    }

    /// The worktree is about to be written (by the implementer, the tests or the stage):
    /// the last reading of it no longer holds.
    fn written(&mut self) {
        self.read_after_tests = None;
        self.last_read = None;
    }

    /// `read` without the report's path and what the tests wrote.
    fn implementation(&self, mut read: Vec<FileChange>) -> Vec<FileChange> {
        let report = self.cx.artifact(Stage::Impl);
        read.retain(|c| c.path != report && !self.test_output.contains(&c.path));
        read
    }

    /// Remember what the test command just wrote: every path that differs from `before`,
    /// what the worktree held when it started.
    fn note_test_output(&mut self, before: &[FileChange]) -> Result<(), PipelineError> {
        // A text implementer's change is read from the paths it wrote: what the tests write
        // elsewhere never reaches it.
        if !self.agent {
            return Ok(());
        }
        let (read, whole) = self.read_worktree_whole()?;
        for change in self.implementation(read.clone()) {
            if !before.contains(&change) {
                self.test_output.insert(change.path);
            }
        }
        self.read_after_tests = Some(read);
        self.last_read = whole;
        Ok(())
    }

    /// Put `paths` back as they were when the stage began, modes included.
    fn restore(&self, paths: &[String]) -> Result<(), PipelineError> {
        let Some(worktree) = &self.worktree else {
            return Ok(());
        };
        for path in paths {
            let entry = self.cx.entry_at(self.base, path)?;
            self.cx.put(worktree, &entry)?;
        }
        Ok(())
    }

    /// What an agent left in the worktree, with its changes to protected paths and the files
    /// no commit may hold ([`acceptable`]) put back as on the base (and said).
    fn changes_kept(&self) -> Result<Kept, PipelineError> {
        let mut changes = self.changes()?;
        let reverted: Vec<String> = changes
            .iter()
            .filter(|c| self.protected.matches(&c.path))
            .map(|c| c.path.clone())
            .collect();
        self.restore(&reverted)?;
        changes.retain(|c| !reverted.contains(&c.path));
        let refused = self.refuse(&mut changes)?;
        Ok(Kept {
            changes,
            reverted,
            refused,
        })
    }

    /// Put back as on the base the files of `changes` no commit may hold, and take them out.
    fn refuse(&self, changes: &mut Vec<FileChange>) -> Result<Vec<RefusedFile>, PipelineError> {
        let Some(worktree) = &self.worktree else {
            return Ok(Vec::new());
        };
        let refused = acceptable::refused(changes, worktree.path(), self.settings.max_file_size);
        let paths: Vec<String> = refused.iter().map(|r| r.path.clone()).collect();
        self.restore(&paths)?;
        changes.retain(|c| !paths.contains(&c.path));
        Ok(refused)
    }

    /// What an agent could change to mislead the stage about its work: the worktree's `.git`
    /// file (which points at the repository), kept before it runs.
    fn keep_worktree_state(&self, root: &Path) -> KeptState {
        KeptState {
            git_file: std::fs::read(root.join(".git")).ok(),
        }
    }

    /// Put back what [`Implement::keep_worktree_state`] kept, and clear the index bits that
    /// would hide a file's change from the reading of the agent's work (assume-unchanged,
    /// skip-worktree). Stat data an agent forges cannot hide a change: git compares each
    /// file's change time, which a program cannot set.
    fn restore_worktree_state(&self, root: &Path, kept: &KeptState) {
        if let Some(bytes) = &kept.git_file
            && std::fs::read(root.join(".git")).ok().as_ref() != Some(bytes)
        {
            let _ = std::fs::remove_dir_all(root.join(".git"));
            let _ = std::fs::write(root.join(".git"), bytes);
        }
        if let Some(worktree) = &self.worktree {
            // A failure here is a failure to read the change, which the reading reports.
            let _ = worktree.clear_hiding_bits();
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
        let commit = match self.already_recorded(&reason)? {
            true => None,
            false => Some(self.commit(Verdict::Blocked, Some(reason.clone()))?),
        };
        Ok(StageOutcome::Blocked {
            commit,
            reason,
            rounds: self.report.attempts.len() as u32,
        })
    }

    /// Whether the branch already ends with this very block: no model was called in this run,
    /// nothing but test output is in the worktree, and the branch's tip is the impl commit
    /// that blocked on the same code for the same reason, with the same implementer and test
    /// command. Committing again would only reword the report; the worktree is put back at
    /// the tip instead.
    fn already_recorded(&mut self, reason: &str) -> Result<bool, PipelineError> {
        if self.paid || !self.report.attempts.is_empty() {
            return Ok(false);
        }
        let tip = self.cx.commit_info(self.base)?;
        let same = tip.trailer(TRAILER_STAGE) == Some(Stage::Impl.name())
            && tip.trailer(TRAILER_VERDICT) == Some(Verdict::Blocked.as_str())
            && tip.trailer(TRAILER_ATTEMPTS) == Some("0")
            && tip.trailer(TRAILER_IMPLEMENTER) == Some(self.implementer.as_str())
            && tip.trailer(TRAILER_TESTS).map(str::to_string)
                == self
                    .tests_result(Verdict::Blocked)
                    .map(|result| format!("\"{}\" {result}", self.tests.command))
            && blocked_reason(&tip.message)
                == Some(reason.split_whitespace().collect::<Vec<_>>().join(" "));
        if !same || !self.changes_unwritten()?.is_empty() {
            return Ok(false);
        }
        if let Some(worktree) = &self.worktree {
            self.cx.reset_worktree(worktree, self.base)?;
        }
        Ok(true)
    }

    /// The last test run's result, for `Orchestrate-Tests`: an attempt's own run, else the
    /// baseline's when the stage blocked on it; `None` when no test ran.
    fn tests_result(&self, verdict: Verdict) -> Option<&'static str> {
        if verdict == Verdict::Passed {
            return Some("passed");
        }
        let tested = self
            .report
            .attempts
            .iter()
            .rev()
            .find(|a| a.tests.is_some());
        // Green with the change's test files, red with the base's: the original tests fail.
        let originals_failed = tested.is_some_and(|a| {
            a.checks.iter().any(|c| {
                c.check == TestCheck::Originals
                    && !matches!(
                        c.line.result,
                        TestResult::Passed | TestResult::KnownFailures
                    )
            }) && matches!(a.result, AttemptResult::OriginalTestsFail { .. })
        });
        if originals_failed {
            return Some("failed with the original test files");
        }
        let last = tested.and_then(|a| a.tests.as_ref()).or(self
            .report
            .baseline
            .as_ref()
            .filter(|b| b.result != TestResult::Passed))?;
        Some(match last.result {
            TestResult::Passed => "passed",
            TestResult::KnownFailures => "passed, with the baseline's known failures",
            TestResult::Failed => "failed",
            TestResult::TimedOut => "timed out",
            TestResult::NotFound => "not found",
        })
    }

    /// Commit the worktree's change and the report; move the worktree to the new commit.
    fn commit(
        &mut self,
        verdict: Verdict,
        blocked: Option<String>,
    ) -> Result<ObjectId, PipelineError> {
        let mut changes = self.changes_unwritten()?;
        // Editor and agent state (`.aider*`, `.claude/`, an ignore line an agent adds for
        // itself) is not the implementation: left out, and said, unless the spec names it.
        let state: Vec<String> = changes
            .iter()
            .filter(|c| {
                testfiles::is_noise(&c.path) && !proof::is_expected(&c.path, &self.expected)
            })
            .map(|c| c.path.clone())
            .collect();
        changes.retain(|c| !state.contains(&c.path));
        self.report.agent_state = state;
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
        let issue = self.cx.issue();
        let mut message = Message::stage(Stage::Impl, issue.number, &issue.title, verdict);
        let summary = match &blocked {
            None => format!(
                "Implemented by {} in {attempts} attempt{}; `{}` passes{}.",
                self.implementer,
                if attempts == 1 { "" } else { "s" },
                self.tests.command,
                self.report
                    .verification
                    .as_ref()
                    .map(report::proof_clause)
                    .unwrap_or_default()
            ),
            Some(reason) => format!("Blocked: {reason}."),
        };
        message
            .paragraph(summary)
            .trailer(TRAILER_IMPLEMENTER, self.implementer.clone())
            .trailer(TRAILER_ATTEMPTS, attempts.to_string());
        // Only when tests ran: a block before any test (no reply applied, an agent that timed
        // out) must not read as a test failure.
        if let Some(result) = self.tests_result(verdict) {
            message.trailer(
                TRAILER_TESTS,
                format!("\"{}\" {result}", self.tests.command),
            );
        }
        message.spend(spent.usage(), spent.cost());
        let paths: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
        let commit = self.cx.commit(&changes, &message)?;
        self.cx.emit(Event::Committed {
            stage: Stage::Impl,
            commit: commit.short(),
            verdict,
            paths,
        });
        if let Some(worktree) = &self.worktree {
            // The commit was made from the last reading, after which nothing wrote: its
            // `git status` says what the reset must touch.
            match self.last_read.take() {
                Some(read) => self.cx.reset_worktree_after(worktree, commit, &read)?,
                None => self.cx.reset_worktree(worktree, commit)?,
            }
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
        passed: run.passed.iter().cloned().collect(),
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

/// Whether the loop stops after `attempt`, and the result it records: a reply that
/// repeats the one before stops it; so does an attempt that changed nothing after one whose
/// state was already judged (testing it again would tell what is known), and the tests
/// failing exactly as after the attempt before.
fn stagnation(
    attempt: u32,
    result: &AttemptResult,
    signature: &Option<String>,
    previous: &Option<(AttemptResult, Option<String>)>,
) -> (AttemptResult, Option<String>) {
    let before = attempt.saturating_sub(1);
    match (result, previous) {
        (AttemptResult::Repeated, _) => (
            result.clone(),
            Some(blocked::repeated(before, attempt, false)),
        ),
        (
            AttemptResult::NoChange,
            Some((
                AttemptResult::NoChange
                | AttemptResult::Repeated
                | AttemptResult::TestsFailed
                | AttemptResult::Stagnated
                | AttemptResult::NoProof { .. }
                | AttemptResult::NotTheImplementation { .. },
                _,
            )),
        ) => (
            result.clone(),
            Some(blocked::repeated(before, attempt, true)),
        ),
        (
            AttemptResult::TestsFailed,
            Some((AttemptResult::TestsFailed | AttemptResult::Stagnated, Some(last))),
        ) if signature.as_ref() == Some(last) => (
            AttemptResult::Stagnated,
            Some(blocked::stagnated(before, attempt)),
        ),
        _ => (result.clone(), None),
    }
}

/// Bumped when what the baseline cache keeps changes.
const BASELINE_CACHE_VERSION: u32 = 2;

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
            passed: crate::testing::passing(output),
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
