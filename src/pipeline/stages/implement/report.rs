//! The report committed with the code (`docs/reports/{issue}.md`): the spec it implemented,
//! what was verified (the proving tests, the original tests re-run, tests changed, the
//! baseline — the section the pull request's body shows), each attempt (files changed, test
//! results, the checks of the proof), the final diffstat, the test files touched, tokens and
//! cost — and, when the stage blocked, the last failure, which the next run reads back and
//! sends to its first attempt.

use similar::{ChangeTag, TextDiff};

use super::proof::{Proof, Verification};
use crate::git::{FileChange, FileKind, ObjectId};
use crate::issue::fence_for;
use crate::llm::Usage;
use crate::pipeline::events::{
    AttemptResult, ContainedChange, ContainedRunner, NoProofWhy, TestCheck, TestResult,
};

/// The heading under which a blocked stage's last failure is kept.
const LAST_FAILURE: &str = "## Last failure";
/// The heading of what was verified, which the pull request's body shows.
const VERIFICATION: &str = "## Verification";

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub issue: u64,
    pub title: String,
    pub spec_path: String,
    pub implementer: String,
    pub test_command: String,
    /// Where the test command came from, in words.
    pub test_source: String,
    /// The commit a blocked run left, which this run continued from.
    pub continued_from: Option<String>,
    pub baseline: Option<TestLine>,
    /// The commit whose tree the baseline tested (full id).
    pub baseline_commit: Option<String>,
    pub attempts: Vec<AttemptRecord>,
    /// Per changed file: path, what happened, lines added and removed.
    pub diffstat: Vec<DiffStat>,
    pub tests_touched: Vec<String>,
    /// Paths the test command wrote, left out of the commit.
    pub test_output: Vec<String>,
    /// Ignore files and editor or agent state the implementer left, out of the commit.
    pub agent_state: Vec<String>,
    pub usage: Option<Usage>,
    pub cost_usd: Option<f64>,
    /// `None` while running; then passed, or blocked with the reason.
    pub blocked: Option<String>,
    /// The feedback the next attempt would have had (kept when blocked).
    pub last_failure: Option<String>,
    /// What was verified of the accepted attempt.
    pub verification: Option<Verification>,
}

/// A test run as the report shows it.
#[derive(Clone, Debug)]
pub struct TestLine {
    pub result: TestResult,
    pub failing: Vec<String>,
    pub elapsed_ms: u64,
    pub cached: bool,
}

#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub number: u32,
    pub files: Vec<String>,
    pub result: AttemptResult,
    pub tests: Option<TestLine>,
    /// The proof's runs of the test command, beyond the attempt's own.
    pub checks: Vec<CheckLine>,
    /// Changes to protected paths that were reverted.
    pub reverted: Vec<String>,
    /// Files no commit may hold, put back as on the base.
    pub refused: Vec<crate::pipeline::events::RefusedFile>,
}

/// A run of the test command that checked an attempt.
#[derive(Clone, Debug)]
pub struct CheckLine {
    pub check: TestCheck,
    pub line: TestLine,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffStat {
    pub path: String,
    pub what: &'static str,
    pub added: usize,
    pub removed: usize,
}

impl Report {
    pub fn render(&self) -> String {
        let mut out = format!(
            "# Implementation report: #{} {}\n\n",
            self.issue, self.title
        );
        let result = match &self.blocked {
            None => format!(
                "**Passed**: `{}` passes after {} attempt{}.",
                self.test_command,
                self.attempts.len(),
                plural(self.attempts.len())
            ),
            Some(reason) => format!("**Blocked**: {reason}"),
        };
        out.push_str(&result);
        out.push_str("\n\n");
        out.push_str(&format!("- Spec: `{}`\n", self.spec_path));
        out.push_str(&format!("- Implementer: `{}`\n", self.implementer));
        out.push_str(&format!(
            "- Test command: `{}` ({})\n",
            self.test_command, self.test_source
        ));
        if let Some(commit) = &self.continued_from {
            out.push_str(&format!(
                "- Continued from the blocked attempt committed in {commit}\n"
            ));
        }
        let tokens = match self.usage {
            Some(u) => format!("in={} out={}", u.input, u.output),
            None => "not reported".into(),
        };
        let cost = match self.cost_usd {
            Some(usd) => format!("${usd:.4}"),
            None => "unknown".into(),
        };
        out.push_str(&format!("- Tokens: {tokens}; cost: {cost}\n\n"));

        if let Some(verification) = &self.verification {
            out.push_str(&verification_words(verification, self));
        }

        out.push_str("## Baseline\n\n");
        match &self.baseline {
            Some(line) => {
                let at = self
                    .baseline_commit
                    .as_ref()
                    .map(|c| format!(" ({BASELINE_AT}{c})"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "The tests on the unchanged tree{at}: {}.\n\n",
                    test_words(line)
                ));
            }
            None => out.push_str("Not run.\n\n"),
        }

        out.push_str("## Attempts\n\n");
        if self.attempts.is_empty() {
            out.push_str("None: no model was called.\n\n");
        }
        for attempt in &self.attempts {
            out.push_str(&format!("### Attempt {}\n\n", attempt.number));
            out.push_str(&format!("- Result: {}\n", attempt_words(&attempt.result)));
            let files = if attempt.files.is_empty() {
                "none".to_string()
            } else {
                attempt
                    .files
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push_str(&format!("- Files changed: {files}\n"));
            if let Some(tests) = &attempt.tests {
                out.push_str(&format!("- Tests: {}\n", test_words(tests)));
            }
            for check in &attempt.checks {
                let what = match check.check {
                    TestCheck::Originals => {
                        "Original tests (the test files it changed, as on the base)"
                    }
                    TestCheck::Proof => "Proof (the code without the change, with its tests)",
                };
                out.push_str(&format!("- {what}: {}\n", test_words(&check.line)));
            }
            if !attempt.reverted.is_empty() {
                out.push_str(&format!(
                    "- Reverted (protected): {}\n",
                    attempt.reverted.join(", ")
                ));
            }
            for refused in &attempt.refused {
                out.push_str(&format!("- Refused: {}\n", refused.describe()));
            }
            out.push('\n');
        }

        out.push_str("## Change\n\n");
        if self.diffstat.is_empty() {
            out.push_str("No file changed.\n\n");
        } else {
            out.push_str("| file | change | + | - |\n|---|---|---:|---:|\n");
            for d in &self.diffstat {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    d.path, d.what, d.added, d.removed
                ));
            }
            out.push('\n');
        }

        if !self.agent_state.is_empty() {
            out.push_str(&format!(
                "Left out (ignore files and editor or agent state the spec does not name): {}.\n\n",
                code_list(&self.agent_state)
            ));
        }
        if !self.test_output.is_empty() {
            out.push_str("Left out (written by the test command, not by the implementer): ");
            let paths: Vec<String> = self.test_output.iter().map(|p| format!("`{p}`")).collect();
            out.push_str(&paths.join(", "));
            out.push_str(".\n\n");
        }

        out.push_str("## Test files touched\n\n");
        if self.tests_touched.is_empty() {
            out.push_str("None.\n");
        } else {
            for t in &self.tests_touched {
                out.push_str(&format!("- {t}\n"));
            }
        }
        if let (Some(_), Some(failure)) = (&self.blocked, &self.last_failure) {
            let fence = fence_for(failure);
            out.push_str(&format!(
                "\n{LAST_FAILURE}\n\nWhat the next attempt is told:\n\n{fence}text\n{}\n{fence}\n",
                failure.trim_end()
            ));
        }
        out
    }
}

/// Where the baseline line names its commit.
const BASELINE_AT: &str = "commit ";

/// The commit a report's baseline tested.
pub fn baseline_commit(report: &str) -> Option<ObjectId> {
    let line = report
        .lines()
        .find(|l| l.starts_with("The tests on the unchanged tree ("))?;
    let at = line.find(BASELINE_AT)? + BASELINE_AT.len();
    ObjectId::parse(line.get(at..at + 40)?)
}

/// The last failure a blocked report kept, to send to the next run's first attempt.
pub fn last_failure(report: &str) -> Option<String> {
    let at = report.find(&format!("\n{LAST_FAILURE}\n"))?;
    let rest = &report[at + LAST_FAILURE.len() + 2..];
    let open = rest.find("\n`")? + 1;
    let fence_len = rest[open..].chars().take_while(|c| *c == '`').count();
    let fence = "`".repeat(fence_len);
    let body_start = open + rest[open..].find('\n')? + 1;
    let close = rest[body_start..].find(&format!("\n{fence}"))?;
    Some(rest[body_start..body_start + close].to_string())
}

/// Lines added and removed per changed file. `before` reads a path in the commit the
/// stage began from.
pub fn diffstat(changes: &[FileChange], before: &dyn Fn(&str) -> Option<Vec<u8>>) -> Vec<DiffStat> {
    changes
        .iter()
        .map(|change| {
            let old = before(&change.path);
            let what = match (&old, change.kind) {
                (_, FileKind::Deleted) => "deleted",
                (None, _) => "added",
                (Some(_), _) => "modified",
            };
            let old_text = old
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let new_text = match change.kind {
                FileKind::Deleted => Default::default(),
                _ => String::from_utf8_lossy(&change.content),
            };
            let (mut added, mut removed) = (0, 0);
            let diff = TextDiff::from_lines(old_text.as_ref(), new_text.as_ref());
            for op in diff.iter_all_changes() {
                match op.tag() {
                    ChangeTag::Insert => added += 1,
                    ChangeTag::Delete => removed += 1,
                    ChangeTag::Equal => {}
                }
            }
            DiffStat {
                path: change.path.clone(),
                what,
                added,
                removed,
            }
        })
        .collect()
}

/// The change as a unified diff, at most `limit` bytes (cut at a line, and said).
pub fn unified_diff(
    changes: &[FileChange],
    before: &dyn Fn(&str) -> Option<Vec<u8>>,
    limit: usize,
) -> String {
    let mut out = String::new();
    for change in changes {
        let old = before(&change.path).unwrap_or_default();
        let old_text = String::from_utf8_lossy(&old);
        let new_text = match change.kind {
            FileKind::Deleted => Default::default(),
            _ => String::from_utf8_lossy(&change.content),
        };
        let diff = TextDiff::from_lines(old_text.as_ref(), new_text.as_ref());
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", change.path), &format!("b/{}", change.path))
            .to_string();
        out.push_str(&text);
        if out.len() > limit {
            let mut cut = limit;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            let cut = out[..cut].rfind('\n').map(|i| i + 1).unwrap_or(0);
            out.truncate(cut);
            out.push_str("[... the rest of the diff is left out ...]\n");
            break;
        }
    }
    out
}

fn test_words(line: &TestLine) -> String {
    let mut words = match line.result {
        TestResult::Passed => "passed".to_string(),
        TestResult::Failed => "failed".to_string(),
        TestResult::KnownFailures => "failed, only tests that fail on the baseline too".to_string(),
        TestResult::TimedOut => "stopped at the timeout".to_string(),
        TestResult::NotFound => "the command was not found (exit status 127)".to_string(),
    };
    if !line.failing.is_empty() {
        let shown: Vec<String> = line
            .failing
            .iter()
            .take(20)
            .map(|f| format!("`{f}`"))
            .collect();
        words.push_str(&format!(
            " ({} failing: {}",
            line.failing.len(),
            shown.join(", ")
        ));
        if line.failing.len() > shown.len() {
            words.push_str(", ...");
        }
        words.push(')');
    }
    words.push_str(&format!(" in {:.1} s", line.elapsed_ms as f64 / 1000.0));
    if line.cached {
        words.push_str(", known from an earlier run on the same tree");
    }
    words
}

/// How many of an attempt's edit problems the report names.
const SHOWN_PROBLEMS: usize = 3;

fn attempt_words(result: &AttemptResult) -> String {
    match result {
        AttemptResult::Passed => "the tests pass, and the change is proven".into(),
        AttemptResult::TestsFailed => "the tests fail".into(),
        AttemptResult::Stagnated => "the tests fail exactly as after the attempt before".into(),
        AttemptResult::EditsRejected {
            problems, count, ..
        } => match *count {
            // A runaway reply may have thousands: the report names a few.
            n if n > SHOWN_PROBLEMS => format!(
                "no edit applied: {n} problems, the first: {}",
                problems
                    .iter()
                    .take(SHOWN_PROBLEMS)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            _ => format!("no edit applied: {}", problems.join("; ")),
        },
        AttemptResult::AgentFailed { status, .. } => format!("the agent failed ({status})"),
        AttemptResult::AgentTimedOut { timeout_secs } => format!(
            "the agent was stopped at its timeout ({})",
            humantime::format_duration(std::time::Duration::from_secs(*timeout_secs))
        ),
        AttemptResult::NoChange => "nothing changed".into(),
        AttemptResult::Repeated => {
            "the reply repeated the one before; it was neither applied nor tested again".into()
        }
        AttemptResult::NotTheImplementation { files, expected } => match expected.is_empty() {
            true => format!(
                "not the implementation: it changed only ignore files or editor and agent state ({})",
                code_list(files)
            ),
            false => format!(
                "not the implementation: it changed only files the spec does not name ({}; the spec names {})",
                code_list(files),
                code_list(expected)
            ),
        },
        AttemptResult::OriginalTestsFail { files, failing } => format!(
            "refused: the tests pass, but fail with {} as on the base{}; those changes were undone",
            code_list(files),
            match failing.is_empty() {
                true => String::new(),
                false => format!(" ({})", code_list(failing)),
            }
        ),
        AttemptResult::Contained { by, changes } => format!(
            "refused: {} changed the user's repository outside the worktree: {}",
            match by {
                ContainedRunner::Agent => "the agent",
                ContainedRunner::Tests => "running the tests",
            },
            ContainedChange::list(changes)
        ),
        AttemptResult::NoProof { why } => match why {
            NoProofWhy::NoTest => {
                "the tests pass, but the change adds no test that proves it".into()
            }
            NoProofWhy::PassesWithout => {
                "the tests pass, but they pass without the change too: no proof".into()
            }
            NoProofWhy::TimedOut => {
                "the tests pass, but without the change they did not finish: no proof".into()
            }
        },
    }
}

/// `` `a`, `b` ``.
fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the change was proven, as a clause of the commit message (`; proven by ...`).
pub fn proof_clause(verification: &Verification) -> String {
    match &verification.proof {
        Proof::ByRun { failing, files } => match failing.is_empty() {
            true => format!("; its tests ({}) fail without the change", files.join(", ")),
            false => format!(
                "; proven by {} (failing without the change)",
                shorten(failing)
            ),
        },
        Proof::ByName { tests } => format!("; proven by name: {} (new, passing)", shorten(tests)),
        Proof::NotRequired => "; no proving test (stages.impl.require_proof = false)".into(),
        Proof::Waived { .. } => "; no proving test (the spec says none can prove it)".into(),
    }
}

fn shorten(names: &[String]) -> String {
    match names.len() {
        0..=3 => names.join(", "),
        n => format!("{} and {} more", names[..3].join(", "), n - 3),
    }
}

/// The Verification section: the proving tests, the original tests, tests changed, the
/// baseline.
fn verification_words(verification: &Verification, report: &Report) -> String {
    let mut out = format!("{VERIFICATION}\n\n");
    match &verification.proof {
        Proof::ByRun { files, failing } => {
            let tests = match failing.is_empty() {
                true => "the test command fails (its runner names no test)".to_string(),
                false => format!("{} fail", code_list(failing)),
            };
            out.push_str(&format!(
                "- **Proving tests**: on the code without the change, with only the change's test files ({}) applied, {tests}; with the change they pass.\n",
                code_list(files)
            ));
        }
        Proof::ByName { tests } => out.push_str(&format!(
            "- **Proving tests** (by name: the tests are inside code files): {} did not exist on the base and pass with the change.\n",
            code_list(tests)
        )),
        Proof::NotRequired => out.push_str(
            "> **No proving test.** The change was not required to include a test that fails without it (`stages.impl.require_proof = false`): read it as unproven.\n\n",
        ),
        Proof::Waived { why } => out.push_str(&format!(
            "> **No proving test.** The spec says no test can prove this change (`{}`). Read it as unproven.\n\n",
            why.replace('`', "'")
        )),
    }
    match &verification.originals {
        None => out.push_str(
            "- **Original tests**: the change modifies no test file of the base, so the run above is the original suite.\n",
        ),
        Some(originals) => {
            out.push_str(&format!(
                "- **Original tests**: re-run with {} as on the base: {}.\n",
                code_list(&originals.files),
                match originals.changed {
                    None => "passed",
                    Some(_) => "failed, in tests the spec asks to change (below)",
                }
            ));
            if let Some((files, failing)) = &originals.changed {
                out.push_str(&format!(
                    "- **Tests changed**: {}, named by the spec; their originals fail with the change{}.\n",
                    code_list(files),
                    match failing.is_empty() {
                        true => String::new(),
                        false => format!(": {}", code_list(failing)),
                    }
                ));
            }
        }
    }
    let baseline = match &report.baseline {
        Some(line) => test_words(line),
        None => "not run".into(),
    };
    out.push_str(&format!(
        "- **Baseline** (the code without the change): {baseline}.\n\n"
    ));
    out
}

/// The Verification section of a report, for the pull request's body.
pub fn verification_section(report: &str) -> Option<String> {
    let start = report.find(&format!("\n{VERIFICATION}\n"))? + 1;
    let rest = &report[start..];
    let end = rest[VERIFICATION.len()..]
        .find("\n## ")
        .map(|i| i + VERIFICATION.len() + 1)
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end().to_string())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_report_keeps_its_last_failure_for_the_next_run() {
        let report = Report {
            issue: 7,
            title: "Add a flag".into(),
            spec_path: "docs/specs/7.md".into(),
            implementer: "cmd:impl".into(),
            test_command: "cargo test".into(),
            test_source: "detected from Cargo.toml".into(),
            blocked: Some("the tests still fail after 2 attempts".into()),
            baseline: Some(TestLine {
                result: TestResult::Passed,
                failing: Vec::new(),
                elapsed_ms: 1200,
                cached: false,
            }),
            baseline_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            last_failure: Some("test a ... FAILED\n```\nnested fence\n```".into()),
            ..Report::default()
        };
        let text = report.render();
        assert!(
            text.contains("**Blocked**: the tests still fail after 2 attempts"),
            "{text}"
        );
        assert_eq!(
            baseline_commit(&text).map(|c| c.to_string()).as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(
            last_failure(&text).as_deref(),
            Some("test a ... FAILED\n```\nnested fence\n```")
        );
        let passed = Report {
            blocked: None,
            ..report
        };
        assert_eq!(last_failure(&passed.render()), None);
    }

    #[test]
    fn the_verification_section_is_rendered_and_read_back_for_the_pull_request() {
        use super::super::proof::Originals;
        let mut report = Report {
            issue: 7,
            title: "Add a flag".into(),
            test_command: "cargo test".into(),
            baseline: Some(TestLine {
                result: TestResult::Passed,
                failing: Vec::new(),
                elapsed_ms: 1200,
                cached: false,
            }),
            verification: Some(Verification {
                proof: Proof::ByRun {
                    files: vec!["tests/flag.rs".into()],
                    failing: vec!["flag_is_read".into()],
                },
                originals: Some(Originals {
                    files: vec!["tests/cli.rs (modified)".into()],
                    changed: Some((
                        vec!["tests/cli.rs (modified)".into()],
                        vec!["old_flag".into()],
                    )),
                }),
            }),
            ..Report::default()
        };
        let text = report.render();
        let section = verification_section(&text).unwrap();
        assert_eq!(
            section,
            "## Verification\n\n\
             - **Proving tests**: on the code without the change, with only the change's test files (`tests/flag.rs`) applied, `flag_is_read` fail; with the change they pass.\n\
             - **Original tests**: re-run with `tests/cli.rs (modified)` as on the base: failed, in tests the spec asks to change (below).\n\
             - **Tests changed**: `tests/cli.rs (modified)`, named by the spec; their originals fail with the change: `old_flag`.\n\
             - **Baseline** (the code without the change): passed in 1.2 s."
        );
        // Unproven changes say so where a reviewer cannot miss it.
        report.verification = Some(Verification {
            proof: Proof::Waived {
                why: "Proving test: none — docs only".into(),
            },
            originals: None,
        });
        let section = verification_section(&report.render()).unwrap();
        assert!(
            section.starts_with("## Verification\n\n> **No proving test.** The spec says no test can prove this change (`Proving test: none — docs only`)."),
            "{section}"
        );
        report.verification = None;
        assert_eq!(verification_section(&report.render()), None);
    }

    #[test]
    fn diffstat_and_diff_count_lines() {
        let before = |path: &str| (path == "a.txt").then(|| b"one\ntwo\n".to_vec());
        let changes = vec![
            FileChange::file("a.txt", "one\n2\nthree\n"),
            FileChange::file("b.txt", "new\n"),
        ];
        let stat = diffstat(&changes, &before);
        assert_eq!(
            stat,
            vec![
                DiffStat {
                    path: "a.txt".into(),
                    what: "modified",
                    added: 2,
                    removed: 1
                },
                DiffStat {
                    path: "b.txt".into(),
                    what: "added",
                    added: 1,
                    removed: 0
                },
            ]
        );
        let diff = unified_diff(&changes, &before, 10_000);
        assert!(diff.contains("--- a/a.txt\n+++ b/a.txt\n"), "{diff}");
        assert!(diff.contains("+three\n"), "{diff}");
        let short = unified_diff(&changes, &before, 30);
        assert!(
            short.ends_with("[... the rest of the diff is left out ...]\n"),
            "{short}"
        );
    }
}
