//! Proven, not just green. An attempt whose tests pass is accepted only when
//!
//! 1. **the original tests still pass**: when the change modified or deleted test files that
//!    exist on the base (or files that decide how the tests run), the test command runs on
//!    the change's code with those files put back as they are on the base, mode included. A
//!    failure there means the change hides it (a check replaced by `true`, an emptied script,
//!    a renamed test, a commented-out assertion, an early `return`); the attempt is refused
//!    and its changes to those files undone. A test file the spec names may change: when its
//!    original fails, the report lists it under "Tests changed".
//! 2. **a test proves the change**: the test command runs on the code without the change with
//!    only the change's new and changed test files applied, and a test must fail there. Where
//!    tests live in the code files (Rust's `#[cfg(test)]` modules) the split cannot be made;
//!    a test name the base did not have and that passes now proves it instead.
//!    `stages.impl.require_proof = false` turns this off, and a spec may say that no test can
//!    prove the change (`Proving test: none`); the report and the pull request then say so
//!    in a line a reviewer cannot miss.
//!
//! Both runs happen in the issue's worktree (its build caches stay warm): the files are
//! swapped, the tests run, and the attempt's files are put back, also when the run fails or
//! is interrupted. While they are swapped out, the attempt's versions are kept under the
//! local state's `recovered/` folder, so a run killed then loses nothing.
//!
//! Before any test runs, a change that cannot be the implementation is a failed attempt:
//! one that touches only ignore files and editor or agent state, or, when the spec names
//! files, only files outside them.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::testfiles::Part;
use super::{Implement, Judged, TestResultWire, guard};
use crate::git::{FileChange, FileKind};
use crate::pipeline::PipelineError;
use crate::pipeline::events::{AttemptResult, NoProofWhy, TestCheck};
use crate::stage::Stage;

/// One path of the whole change: as it is on the code without the change (`origin`) and in
/// the worktree now, each as the change that puts it so (a delete when absent).
#[derive(Clone, Debug)]
pub struct Changed {
    pub path: String,
    pub origin: FileChange,
    pub now: FileChange,
    pub part: Part,
}

impl Changed {
    /// Whether the path is a file on the base.
    pub fn existed(&self) -> bool {
        self.origin.kind != FileKind::Deleted
    }

    /// `tests/a.sh (modified)`.
    pub fn describe(&self) -> String {
        let what = match (self.existed(), self.now.kind) {
            (false, _) => "added",
            (true, FileKind::Deleted) => "deleted",
            (true, _) if self.origin.content == self.now.content => "mode changed",
            (true, _) => "modified",
        };
        format!("{} ({what})", self.path)
    }
}

/// Everything the change does, from the code without it to the worktree now.
#[derive(Clone, Debug, Default)]
pub struct Whole {
    pub files: Vec<Changed>,
}

impl Whole {
    pub fn paths(&self) -> Vec<String> {
        self.files.iter().map(|c| c.path.clone()).collect()
    }

    /// Only ignore files and editor or agent state.
    pub fn only_noise(&self) -> bool {
        !self.files.is_empty() && self.files.iter().all(|c| c.part == Part::Noise)
    }

    /// The test files (and files deciding how tests run) that exist on the base and the
    /// change modified, deleted or changed the mode of.
    pub fn originals(&self) -> Vec<&Changed> {
        self.files
            .iter()
            .filter(|c| c.part.is_test() && c.existed())
            .collect()
    }

    /// The new and changed test files, which the proof applies to the code without the
    /// change.
    pub fn new_tests(&self) -> Vec<&Changed> {
        self.files
            .iter()
            .filter(|c| c.part.is_test() && c.now.kind != FileKind::Deleted)
            .collect()
    }

    pub fn has_mixed(&self) -> bool {
        self.files.iter().any(|c| c.part == Part::Mixed)
    }
}

/// How the change was proven.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    /// On the code without the change, with only its test files (`files`) applied, the test
    /// command failed: `failing` when the runner named them.
    ByRun {
        files: Vec<String>,
        failing: Vec<String>,
    },
    /// Tests the base did not have, passing now (tests in code files).
    ByName { tests: Vec<String> },
    /// `stages.impl.require_proof = false`.
    NotRequired,
    /// The spec says no test can prove the change; its words.
    Waived { why: String },
}

/// The original tests, re-run with the change's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Originals {
    /// The test files put back as on the base for the run, each described.
    pub files: Vec<String>,
    /// Tests the spec names as ones to change whose originals fail with the change: the
    /// files, and the failing tests when named.
    pub changed: Option<(Vec<String>, Vec<String>)>,
}

/// What the stage checked of an accepted attempt, for the report and the pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub proof: Proof,
    /// `None`: the change touched no test file that exists on the base.
    pub originals: Option<Originals>,
}

/// A check that did not pass: the attempt's result and what the implementer is told.
pub struct Refusal {
    pub result: AttemptResult,
    pub feedback: String,
}

static WAIVER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?im)^[\s>*_#-]*(?:proving tests?|proof)\s*[*_]*\s*:\s*[*_]*\s*none\b.*$|^.*\bno test can prove\b.*$").ok()
});

/// The spec's line saying that no test can prove the change (`Proving test: none — a
/// documentation change`), if it has one.
pub fn waiver(spec: &str) -> Option<String> {
    let found = WAIVER.as_ref()?.find(spec)?;
    let line = found.as_str().trim();
    let line = line.trim_start_matches(['-', '*', '>', '#', ' ', '_']);
    Some(line.to_string())
}

/// Of the paths the spec mentions, those that name files of this repository: files of the
/// base, and paths with a directory (a new file). A bare word with a dot (`e.g.`, `v1.2`) that
/// is no file does not count.
pub fn expected_files(mentioned: &[String], exists: &dyn Fn(&str) -> bool) -> Vec<String> {
    mentioned
        .iter()
        .filter(|p| exists(p) || p.contains('/'))
        .cloned()
        .collect()
}

/// Whether `path` is one of `expected` (or below one, when that names a directory).
pub fn is_expected(path: &str, expected: &[String]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    expected.iter().any(|e| {
        let e = e.trim_end_matches('/');
        path == e || path.starts_with(&format!("{e}/")) || (!e.contains('/') && name == e)
    })
}

/// A failing test name attributed to the file it comes from, where the name says it.
fn attributed(failing: &[String], files: &[&Changed]) -> Vec<String> {
    failing
        .iter()
        .map(|name| {
            let from = files.iter().find(|c| {
                let stem = c.path.rsplit('/').next().unwrap_or(&c.path);
                let stem = stem.split('.').next().unwrap_or(stem);
                name.contains(&c.path) || (stem.len() > 3 && name.contains(stem))
            });
            match from {
                Some(c) => format!("`{name}` (from {})", c.path),
                None => format!("`{name}`"),
            }
        })
        .collect()
}

impl Implement<'_, '_> {
    /// The whole change: every path the worktree has otherwise than the code without the
    /// change (`baseline_at`), which is more than this run's `changes` when the run goes on
    /// from a blocked attempt's commit. The report is the stage's own and left out.
    pub(super) fn whole(&self, changes: &[FileChange]) -> Result<Whole, PipelineError> {
        let report = self.cx.artifact(Stage::Impl);
        let by_path: HashMap<&str, &FileChange> =
            changes.iter().map(|c| (c.path.as_str(), c)).collect();
        let mut paths: BTreeSet<String> = changes.iter().map(|c| c.path.clone()).collect();
        if self.baseline_at != self.base {
            for change in self.cx.commit_changes(self.baseline_at, self.base)? {
                paths.insert(change.path);
            }
        }
        paths.remove(&report);
        let mut files = Vec::new();
        for path in paths {
            let origin = self.cx.entry_at(self.baseline_at, &path)?;
            let now = match by_path.get(path.as_str()) {
                Some(change) => (*change).clone(),
                None => self.cx.entry_at(self.base, &path)?,
            };
            if origin == now {
                continue;
            }
            let part = self.classifier.part(&path, content(&origin), content(&now));
            files.push(Changed {
                path,
                origin,
                now,
                part,
            });
        }
        Ok(Whole { files })
    }

    /// A change that cannot be the implementation, before any test runs.
    pub(super) fn not_the_implementation(&self, whole: &Whole) -> Option<Refusal> {
        let files = whole.paths();
        if whole.only_noise() {
            return Some(Refusal {
                result: AttemptResult::NotTheImplementation {
                    files: files.clone(),
                    expected: Vec::new(),
                },
                feedback: format!(
                    "Your previous attempt was not taken: it changed only ignore files or editor and agent state ({}), which cannot be the implementation. Change the code as the spec says{}.",
                    list(&files),
                    expected_words(&self.expected)
                ),
            });
        }
        if self.expected.is_empty() {
            return None;
        }
        let relevant = whole
            .files
            .iter()
            .filter(|c| c.part != Part::Noise)
            .any(|c| is_expected(&c.path, &self.expected));
        if relevant {
            return None;
        }
        Some(Refusal {
            result: AttemptResult::NotTheImplementation {
                files: files.clone(),
                expected: self.expected.clone(),
            },
            feedback: format!(
                "Your previous attempt was not taken: it changed only files the spec does not name ({}). The spec expects changes to {}.",
                list(&files),
                list(&self.expected)
            ),
        })
    }

    /// Run the tests with `swap` written into the worktree, then put every file of the whole
    /// change back as the attempt left it, whatever the run did (also to the files it did not
    /// swap: a test run may write to them).
    async fn run_swapped(
        &mut self,
        attempt: u32,
        check: TestCheck,
        root: &Path,
        swap: &[FileChange],
        whole: &Whole,
        baseline: &Judged,
    ) -> Result<Judged, PipelineError> {
        let back: Vec<FileChange> = whole.files.iter().map(|c| c.now.clone()).collect();
        let worktree = self
            .worktree
            .clone()
            .ok_or(PipelineError::WrongSettings { stage: Stage::Impl })?;
        // Nothing is read before or after: the change is `whole`'s, and what the run writes
        // besides is read once after all of the attempt's runs (`unread_test_writes`).
        self.written();
        let aside = self.cx.keep_aside(
            &format!("impl-{}", check_name(check)),
            &back,
            "The files of an attempt while the tests ran without them (the proof); the run that saved them was stopped before it put them back.\n",
        )?;
        let mut swapped = Ok(());
        for change in swap {
            swapped = self.cx.put(&worktree, change);
            if swapped.is_err() {
                break;
            }
        }
        let judged = match swapped {
            Ok(()) => {
                self.run_tests_for(Some(attempt), Some(check), root, Some(baseline))
                    .await
            }
            Err(error) => Err(error),
        };
        for change in &back {
            self.cx.put(&worktree, change)?;
        }
        if let Some(dir) = aside {
            // Put back: the saved copy is no longer needed. Failing to remove it leaves a
            // folder under recovered/, nothing worse.
            let _ = std::fs::remove_dir_all(dir);
        }
        judged
    }

    /// The original tests, run with the change's code: `Ok(None)` when the change touched no
    /// test file of the base.
    pub(super) async fn check_originals(
        &mut self,
        attempt: u32,
        root: &Path,
        whole: &Whole,
        baseline: &Judged,
    ) -> Result<Result<Option<Originals>, Refusal>, PipelineError> {
        let touched = whole.originals();
        if touched.is_empty() {
            return Ok(Ok(None));
        }
        let described: Vec<String> = touched.iter().map(|c| c.describe()).collect();
        let swap: Vec<FileChange> = touched.iter().map(|c| c.origin.clone()).collect();
        let all = self
            .run_swapped(attempt, TestCheck::Originals, root, &swap, whole, baseline)
            .await?;
        self.note_check(TestCheck::Originals, &all);
        if all.green() {
            return Ok(Ok(Some(Originals {
                files: described,
                changed: None,
            })));
        }
        // Test files the spec names may change; the others must keep their originals green.
        let (named, unnamed): (Vec<&Changed>, Vec<&Changed>) = touched
            .iter()
            .partition(|c| guard::names(&self.spec, &c.path));
        let excused = Originals {
            files: described,
            changed: Some((
                named.iter().map(|c| c.describe()).collect(),
                all.failing.clone(),
            )),
        };
        let judged = if unnamed.is_empty() {
            return Ok(Ok(Some(excused)));
        } else if unnamed.len() < touched.len() {
            // Only the test files the spec does not name as on the base, this time.
            let swap: Vec<FileChange> = unnamed.iter().map(|c| c.origin.clone()).collect();
            let again = self
                .run_swapped(attempt, TestCheck::Originals, root, &swap, whole, baseline)
                .await?;
            self.note_check(TestCheck::Originals, &again);
            if again.green() {
                return Ok(Ok(Some(excused)));
            }
            again
        } else {
            all
        };
        let hiding = unnamed;
        // Refused: the weakening is undone, so the next attempt starts from the originals.
        let worktree = self
            .worktree
            .clone()
            .ok_or(PipelineError::WrongSettings { stage: Stage::Impl })?;
        self.written();
        for changed in &hiding {
            self.cx.put(&worktree, &changed.origin)?;
            self.written.insert(changed.path.clone());
        }
        let files: Vec<String> = hiding.iter().map(|c| c.describe()).collect();
        let failing = attributed(&judged.failing, &hiding);
        let outcome = match judged.result {
            TestResultWire::TimedOut => " did not finish in time".to_string(),
            _ if failing.is_empty() => " fails".to_string(),
            _ => format!(" fails: {}", failing.join(", ")),
        };
        Ok(Err(Refusal {
            result: AttemptResult::OriginalTestsFail {
                files: hiding.iter().map(|c| c.path.clone()).collect(),
                failing: judged.failing.clone(),
            },
            feedback: format!(
                "Your previous attempt was refused: `{}` passed with your changes to these test files, but with them as they are on the base it{outcome}:\n\n{}\n\nSo those changes hide failures of your code. They were undone: the files are as on the base again. Make the original tests pass by fixing the code; change a test only where the spec asks for it.\n\nThe output with the original test files:\n\n{}\n",
                self.tests.command,
                files
                    .iter()
                    .map(|f| format!("- {f}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                judged.feedback.trim_end()
            ),
        }))
    }

    /// The proof: a test that fails on the code without the change.
    pub(super) async fn prove(
        &mut self,
        attempt: u32,
        root: &Path,
        whole: &Whole,
        baseline: &Judged,
        green: &Judged,
    ) -> Result<Result<Proof, Refusal>, PipelineError> {
        if !self.settings.require_proof {
            return Ok(Ok(Proof::NotRequired));
        }
        if let Some(why) = waiver(&self.spec) {
            return Ok(Ok(Proof::Waived { why }));
        }
        let tests = whole.new_tests();
        let mut why = NoProofWhy::NoTest;
        let mut ran: Option<Vec<String>> = None;
        if !tests.is_empty() {
            // The code without the change: every other path as on the base.
            let swap: Vec<FileChange> = whole
                .files
                .iter()
                .filter(|c| !(c.part.is_test() && c.now.kind != FileKind::Deleted))
                .map(|c| c.origin.clone())
                .collect();
            let files: Vec<String> = tests.iter().map(|c| c.path.clone()).collect();
            let judged = self
                .run_swapped(attempt, TestCheck::Proof, root, &swap, whole, baseline)
                .await?;
            self.note_check(TestCheck::Proof, &judged);
            match judged.result {
                TestResultWire::Failed | TestResultWire::NotFound => {
                    let failing = judged
                        .failing
                        .iter()
                        .filter(|name| !baseline.failing.contains(name))
                        .cloned()
                        .collect();
                    return Ok(Ok(Proof::ByRun { files, failing }));
                }
                TestResultWire::TimedOut => why = NoProofWhy::TimedOut,
                TestResultWire::Passed | TestResultWire::KnownFailures => {
                    why = NoProofWhy::PassesWithout
                }
            }
            ran = Some(files);
        }
        // Tests inside code files cannot be split from the code: a test the base did not
        // have, passing now, proves it instead (a weaker proof, and the report says so).
        if whole.has_mixed() {
            let new: Vec<String> = green
                .passed
                .iter()
                .filter(|name| !baseline.passed.contains(name) && !baseline.failing.contains(name))
                .cloned()
                .collect();
            if !new.is_empty() {
                return Ok(Ok(Proof::ByName { tests: new }));
            }
        }
        let reason = match (why, &ran) {
            (NoProofWhy::PassesWithout, Some(files)) => format!(
                "on the code without your change, with only your test changes ({}) applied, `{}` passes too: those tests do not exercise what you changed",
                list(files),
                self.tests.command
            ),
            (NoProofWhy::TimedOut, Some(files)) => format!(
                "on the code without your change, with only your test changes ({}) applied, `{}` did not finish in time, so it shows nothing",
                list(files),
                self.tests.command
            ),
            _ if whole.has_mixed() => format!(
                "your change adds no test file, and no test that `{}` names as passing is new (a test inside a code file proves a change by a name the base did not have)",
                self.tests.command
            ),
            _ => "your change adds or changes no test".to_string(),
        };
        Ok(Err(Refusal {
            result: AttemptResult::NoProof { why },
            feedback: format!(
                "After your previous attempt `{}` passes, but nothing shows that the change does what the spec asks: {reason}.\n\nAdd a test that fails without your change and passes with it (a new test, or a new assertion in an existing test file), keeping the code change.",
                self.tests.command
            ),
        }))
    }
}

/// A file's bytes, `None` when the change deletes it.
fn content(change: &FileChange) -> Option<&[u8]> {
    (change.kind != FileKind::Deleted).then_some(change.content.as_slice())
}

fn check_name(check: TestCheck) -> &'static str {
    match check {
        TestCheck::Proof => "proof",
        TestCheck::Originals => "originals",
    }
}

/// `` `a`, `b` ``.
fn list(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn expected_words(expected: &[String]) -> String {
    if expected.is_empty() {
        String::new()
    } else {
        format!(" (it names {})", list(expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_says_no_test_can_prove_it_in_its_own_line() {
        assert_eq!(
            waiver("## Test\n\nProving test: none — the change is to the README only.\n")
                .as_deref(),
            Some("Proving test: none — the change is to the README only.")
        );
        assert_eq!(
            waiver("- **Proving test:** none (documentation)\n").as_deref(),
            Some("Proving test:** none (documentation)")
        );
        assert!(waiver("No test can prove a typo fix.\n").is_some());
        assert_eq!(
            waiver("## Test\n\nAdd tests/verbose.rs proving the flag.\n"),
            None
        );
        assert_eq!(
            waiver("The proving test is tests/a.rs; none of the others change.\n"),
            None
        );
    }

    #[test]
    fn expected_files_are_real_files_or_new_paths() {
        let exists = |p: &str| matches!(p, "src/lib.rs" | "Cargo.toml");
        let mentioned: Vec<String> = ["src/lib.rs", "e.g", "Cargo.toml", "src/new.rs", "v1.2"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            expected_files(&mentioned, &exists),
            ["src/lib.rs", "Cargo.toml", "src/new.rs"]
        );
        let expected = vec!["src/lib.rs".to_string(), "docs".to_string()];
        assert!(is_expected("src/lib.rs", &expected));
        assert!(is_expected("docs/guide.md", &expected));
        assert!(!is_expected("src/main.rs", &expected));
        assert!(!is_expected(".gitignore", &expected));
    }

    #[test]
    fn failing_tests_are_attributed_to_their_files() {
        let changed = Changed {
            path: "tests/test_widget.py".into(),
            origin: FileChange::file("tests/test_widget.py", "assert f() == 2\n"),
            now: FileChange::file("tests/test_widget.py", "assert True\n"),
            part: Part::Test,
        };
        assert_eq!(changed.describe(), "tests/test_widget.py (modified)");
        assert_eq!(
            attributed(
                &[
                    "tests/test_widget.py::test_f".to_string(),
                    "other".to_string()
                ],
                &[&changed]
            ),
            [
                "`tests/test_widget.py::test_f` (from tests/test_widget.py)",
                "`other`"
            ]
        );
    }
}
