//! The two places hidden tests meet code: **validation** (SWE-bench's rule, before any model
//! is called: on the parent with the hidden tests applied a test fails, and on the commit the
//! test command passes) and **judging** (the hidden tests put onto the tree the impl stage
//! left, and the test command run: solved or not).
//!
//! Both work in a worktree of a scratch repository (see `git/scratch.rs`), never in the
//! user's checkout, with the impl stage's own means: `Worktree::put` to lay files down, the
//! test command configured or detected as the stage detects it, its environment without
//! credentials, run through `testing::run` with the configured timeout. Validation runs the
//! user's own code (as the impl stage's baseline does: not confined, with the network);
//! judging runs code a model wrote, contained as an attempt's tests are.

use std::ffi::OsString;
use std::time::Duration;

use super::report::SkipReason;
use crate::config::Config;
use crate::env::Env;
use crate::git::{FileChange, ObjectId, Repo, Worktree};
use crate::pipeline::PipelineError;
use crate::pipeline::contain::Containment;
use crate::pipeline::context::test_command;
use crate::testing::{self, TestRun, TestStatus};

/// What the checks share: the configuration, the test environment, how programs are
/// contained.
pub struct Checker {
    config: Config,
    env: Env,
    test_env: Vec<(OsString, OsString)>,
    timeout: Duration,
    containment: Containment,
}

/// A commit that is not a task, and the words of the test run that said so.
pub struct Rejected {
    pub reason: SkipReason,
    pub detail: Option<String>,
}

/// What the judging found.
pub struct Judged {
    pub solved: bool,
    /// How long the test command ran.
    pub elapsed_ms: u64,
}

impl Checker {
    /// The checker of a run with `config` (the sandbox is probed once, here).
    pub async fn new(config: &Config, env: &Env) -> Result<Checker, PipelineError> {
        // Its test runs are in scratch repositories, never the user's checkout: no check of
        // it follows them, so which of them could write it does not matter.
        let containment = Containment::decide(&config.sandbox, env, None).await?;
        let keys: Vec<String> = config
            .providers
            .values()
            .filter_map(|p| p.api_key_env.clone())
            .collect();
        let mut test_env = testing::test_environment(env, &keys, &config.implement.test_env).0;
        if !test_env.iter().any(|(name, _)| name == "CI") {
            test_env.push(("CI".into(), "true".into()));
        }
        Ok(Checker {
            config: config.clone(),
            env: env.clone(),
            test_env,
            timeout: config.implement.test_timeout,
            containment,
        })
    }

    /// The test command at `commit`: configured, else detected there.
    pub fn command(&self, repo: &Repo, commit: ObjectId) -> Option<String> {
        test_command(&self.config, repo, &self.env, commit).map(|c| c.command)
    }

    /// SWE-bench's rule for the commit `commit` with first parent `parent`, checked in the
    /// worktree `slot` of `repo`: `None` when it is a task.
    pub async fn validate(
        &self,
        repo: &Repo,
        slot: u64,
        parent: ObjectId,
        commit: ObjectId,
        hidden: &[FileChange],
    ) -> Result<Option<Rejected>, PipelineError> {
        let Some(command) = self.command(repo, commit) else {
            return Ok(Some(Rejected {
                reason: SkipReason::NoTestCommand,
                detail: None,
            }));
        };
        let worktree = repo.issue_worktree(slot, parent)?.worktree;
        worktree.begin_work()?;
        for change in hidden {
            worktree.put(change)?;
        }
        let before = self.run(&worktree, &command, false).await?;
        match before.status {
            TestStatus::Passed => {
                return Ok(Some(Rejected {
                    reason: SkipReason::PassesOnParent,
                    detail: None,
                }));
            }
            TestStatus::TimedOut => return Ok(Some(rejected(SkipReason::TimedOut, &before))),
            TestStatus::NotFound => return Ok(Some(rejected(SkipReason::TestsNotRun, &before))),
            TestStatus::Failed { .. } | TestStatus::Killed { .. } => {}
        }
        worktree.reset(repo, commit)?;
        worktree.begin_work()?;
        let after = self.run(&worktree, &command, false).await?;
        let verdict = match after.status {
            TestStatus::Passed => None,
            TestStatus::TimedOut => Some(rejected(SkipReason::TimedOut, &after)),
            TestStatus::NotFound => Some(rejected(SkipReason::TestsNotRun, &after)),
            _ => Some(rejected(SkipReason::FailsOnCommit, &after)),
        };
        worktree.reset(repo, commit)?;
        Ok(verdict)
    }

    /// Put `hidden` onto `tip`'s tree in the worktree `slot` of `repo` and run the test
    /// command (as it is at `commit`, the task's own), contained; the worktree goes back to
    /// `tip` after.
    pub async fn judge(
        &self,
        repo: &Repo,
        slot: u64,
        tip: ObjectId,
        commit: ObjectId,
        hidden: &[FileChange],
    ) -> Result<Judged, PipelineError> {
        let command = self
            .command(repo, commit)
            .ok_or(PipelineError::NoTestCommand)?;
        let worktree = repo.issue_worktree(slot, tip)?.worktree;
        worktree.begin_work()?;
        for change in hidden {
            worktree.put(change)?;
        }
        let run = self.run(&worktree, &command, true).await;
        worktree.reset(repo, tip)?;
        let run = run?;
        Ok(Judged {
            solved: run.status.passed(),
            elapsed_ms: run.elapsed.as_millis() as u64,
        })
    }

    async fn run(
        &self,
        worktree: &Worktree,
        command: &str,
        contained: bool,
    ) -> Result<TestRun, PipelineError> {
        let tmp = crate::sandbox::private_tmp().map_err(|source| PipelineError::Worktree {
            path: std::env::temp_dir(),
            source,
        })?;
        let mut env = self.test_env.clone();
        let launcher = match contained {
            true => {
                env.retain(|(name, _)| name != "TMPDIR");
                env.push(("TMPDIR".into(), tmp.path().into()));
                self.containment.tests(worktree.path(), tmp.path(), command)
            }
            false => self.containment.baseline(),
        }
        .prefix;
        testing::run(command, worktree.path(), env, self.timeout, launcher)
            .await
            .map_err(|source| PipelineError::Tests {
                command: command.to_string(),
                source,
            })
    }
}

/// The most lines of test output a skipped commit keeps.
const DETAIL_LINES: usize = 20;

fn rejected(reason: SkipReason, run: &TestRun) -> Rejected {
    let feedback = run.feedback();
    let lines: Vec<&str> = feedback.lines().filter(|l| !l.trim().is_empty()).collect();
    let kept = lines[lines.len().saturating_sub(DETAIL_LINES)..].join("\n");
    Rejected {
        reason,
        detail: Some(kept).filter(|k| !k.is_empty()),
    }
}
