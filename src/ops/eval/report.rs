//! What an eval run found, as data: every commit of the range (a task, or skipped and why),
//! every task's result (the pipeline's verdicts, whether the hidden tests pass on its code,
//! what it cost), the summary, and two runs side by side. `report.json` is [`EvalReport`]
//! as it is serialised; the `ui` turns the same values into the table and `report.md`.

use serde::{Deserialize, Serialize};

/// Where an issue text comes from (`--issue-text`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssueText {
    /// The commit message: subject and body.
    Message,
    /// The GitHub issue the message names (`Fixes #12`).
    Github,
}

/// One commit of the range.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Candidate {
    /// Its place in the range, from 1: the task's number (the issue number its runs use).
    pub task: u64,
    pub commit: String,
    /// The first parent: the task's base.
    pub parent: Option<String>,
    pub subject: String,
    /// The test files it changes: the hidden tests.
    pub hidden_tests: Vec<String>,
    /// The other files it changes (the code a model has to write).
    pub code_files: Vec<String>,
    /// The GitHub issue its message names, if any.
    pub names_issue: Option<u64>,
    #[serde(flatten)]
    pub status: CandidateStatus,
}

/// Whether a commit is a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CandidateStatus {
    /// A task: on the parent with the hidden tests a test fails, on the commit the tests pass.
    Valid,
    /// Not a task.
    Skipped {
        reason: SkipReason,
        /// What the test command or GitHub said, when that is the reason.
        detail: Option<String>,
    },
    /// Not checked: enough valid tasks were found before it (`--limit`, `--sample`).
    NotChecked,
}

/// Why a commit is not a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// It has no parent to start from.
    RootCommit,
    /// It changes no test file.
    NoTestChange,
    /// It changes test files only.
    OnlyTests,
    /// `--issue-text github`, and its message names no issue.
    NoIssue,
    /// `--issue-text github`, and the issue could not be read.
    IssueNotRead,
    /// No test command is configured, and none was detected at the commit.
    NoTestCommand,
    /// With its tests on the parent, the test command still passes: no test fails first.
    PassesOnParent,
    /// On the commit itself, the test command fails.
    FailsOnCommit,
    /// The test command did not finish in time (on the parent or the commit).
    TimedOut,
    /// The test command could not be run.
    TestsNotRun,
}

/// How a task ended, judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// The pipeline passed, and the hidden tests pass on its code.
    PassedSolved,
    /// The pipeline passed, but the hidden tests fail on its code.
    FalsePass,
    /// The pipeline blocked, yet the hidden tests pass on its code.
    Cautious,
    /// The pipeline blocked, and the hidden tests fail (or no code was written).
    Unsolved,
    /// The task could not be run to the end (an error: a provider, git, the test command).
    Error,
}

/// One stage's verdict in a task's run.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageVerdict {
    pub stage: String,
    /// `approved`, `passed`, `blocked`, `skipped`, `not_run`, ...
    pub verdict: String,
}

/// A task's result.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskResult {
    pub task: u64,
    pub commit: String,
    pub subject: String,
    /// The stages' verdicts, in order.
    pub stages: Vec<StageVerdict>,
    /// Whether the pipeline's impl stage passed.
    pub pipeline_passed: bool,
    /// Whether the hidden tests pass on the impl stage's code (`null` when they were not run:
    /// an error, or no code).
    pub solved: Option<bool>,
    pub judgement: Judgement,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// What its model calls cost (`null` when a model's price is unknown).
    pub cost_usd: Option<f64>,
    /// Wall-clock time of the run and the judging.
    pub elapsed_ms: u64,
    /// Of which the judging's test run (`null` when the hidden tests were not run).
    pub judge_ms: Option<u64>,
    /// The ref its branch was kept under (`refs/orchestrate-eval/<run-id>/<task>`), if any.
    pub kept_as: Option<String>,
    /// What went wrong, for [`Judgement::Error`].
    pub error: Option<String>,
}

/// The numbers of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvalSummary {
    /// Tasks run to the end.
    pub tasks: u64,
    pub solved: u64,
    /// `solved / tasks`, in percent (0 with no task).
    pub solved_percent: f64,
    pub passed_and_solved: u64,
    pub false_passes: u64,
    pub cautious: u64,
    pub errors: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// The total cost (`null` when a task's cost is unknown).
    pub cost_usd: Option<f64>,
    /// `cost_usd / solved` (`null` with nothing solved or an unknown cost).
    pub usd_per_solved: Option<f64>,
    /// Mean wall-clock minutes per task.
    pub minutes_per_task: f64,
}

/// What `report.json` holds, and the last line of `eval --json`.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvalReport {
    pub run_id: String,
    pub range: String,
    pub merges: bool,
    pub issue_text: IssueText,
    /// `-c` overrides the run was given, in order (the configuration it measured).
    pub overrides: Vec<String>,
    /// `--budget`: USD per task.
    pub budget_usd: Option<f64>,
    /// When the run began (RFC 3339, UTC).
    pub started: String,
    /// Every commit of the range.
    pub candidates: Vec<Candidate>,
    /// The valid tasks chosen to run (`--limit`, `--sample`: a subset), by number.
    pub chosen: Vec<u64>,
    /// The results of the tasks run so far.
    pub tasks: Vec<TaskResult>,
    pub summary: EvalSummary,
    /// Milliseconds spent choosing and validating the tasks.
    pub validation_ms: u64,
}

impl EvalSummary {
    /// The summary of `tasks`.
    pub fn of(tasks: &[TaskResult]) -> EvalSummary {
        let count = |j: Judgement| tasks.iter().filter(|t| t.judgement == j).count() as u64;
        let run = tasks.len() as u64;
        let solved = tasks.iter().filter(|t| t.solved == Some(true)).count() as u64;
        let cost_usd = tasks
            .iter()
            .map(|t| t.cost_usd)
            .try_fold(0.0, |sum, c| c.map(|c| sum + c));
        let elapsed: u64 = tasks.iter().map(|t| t.elapsed_ms).sum();
        EvalSummary {
            tasks: run,
            solved,
            solved_percent: match run {
                0 => 0.0,
                n => solved as f64 * 100.0 / n as f64,
            },
            passed_and_solved: count(Judgement::PassedSolved),
            false_passes: count(Judgement::FalsePass),
            cautious: count(Judgement::Cautious),
            errors: count(Judgement::Error),
            tokens_in: tasks.iter().map(|t| t.tokens_in).sum(),
            tokens_out: tasks.iter().map(|t| t.tokens_out).sum(),
            cost_usd,
            usd_per_solved: cost_usd.filter(|_| solved > 0).map(|c| c / solved as f64),
            minutes_per_task: match run {
                0 => 0.0,
                n => elapsed as f64 / 60_000.0 / n as f64,
            },
        }
    }
}

/// One task in two runs.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ComparedTask {
    pub task: u64,
    pub commit: String,
    pub subject: String,
    /// Whether each run solved it (`null`: that run did not judge it).
    pub a: Option<bool>,
    pub b: Option<bool>,
    pub cost_a: Option<f64>,
    pub cost_b: Option<f64>,
}

/// Two runs side by side (`eval --compare A B`), on the tasks (commits) both ran.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub tasks: Vec<ComparedTask>,
    /// Tasks only one of the runs ran (by commit), which the comparison leaves out.
    pub only_a: u64,
    pub only_b: u64,
    pub summary_a: EvalSummary,
    pub summary_b: EvalSummary,
}

impl Comparison {
    /// `a` and `b` on the commits both judged.
    pub fn of(a: &EvalReport, b: &EvalReport) -> Comparison {
        let mut tasks = Vec::new();
        let mut shared_a = Vec::new();
        let mut shared_b = Vec::new();
        for left in &a.tasks {
            let Some(right) = b.tasks.iter().find(|t| t.commit == left.commit) else {
                continue;
            };
            shared_a.push(left.clone());
            shared_b.push(right.clone());
            tasks.push(ComparedTask {
                task: left.task,
                commit: left.commit.clone(),
                subject: left.subject.clone(),
                a: left.solved,
                b: right.solved,
                cost_a: left.cost_usd,
                cost_b: right.cost_usd,
            });
        }
        let only = |x: &EvalReport, y: &EvalReport| {
            x.tasks
                .iter()
                .filter(|t| !y.tasks.iter().any(|o| o.commit == t.commit))
                .count() as u64
        };
        Comparison {
            a: a.run_id.clone(),
            b: b.run_id.clone(),
            only_a: only(a, b),
            only_b: only(b, a),
            summary_a: EvalSummary::of(&shared_a),
            summary_b: EvalSummary::of(&shared_b),
            tasks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(task: u64, judgement: Judgement, cost: Option<f64>) -> TaskResult {
        TaskResult {
            task,
            commit: format!("{task:040}"),
            subject: format!("task {task}"),
            stages: Vec::new(),
            pipeline_passed: matches!(judgement, Judgement::PassedSolved | Judgement::FalsePass),
            solved: match judgement {
                Judgement::PassedSolved | Judgement::Cautious => Some(true),
                Judgement::Error => None,
                _ => Some(false),
            },
            judgement,
            tokens_in: 10,
            tokens_out: 5,
            cost_usd: cost,
            elapsed_ms: 60_000,
            judge_ms: None,
            kept_as: None,
            error: None,
        }
    }

    #[test]
    fn the_summary_counts_solved_false_passes_and_cost() {
        let tasks = [
            result(1, Judgement::PassedSolved, Some(1.0)),
            result(2, Judgement::FalsePass, Some(2.0)),
            result(3, Judgement::Cautious, Some(1.0)),
            result(4, Judgement::Unsolved, Some(0.0)),
        ];
        let s = EvalSummary::of(&tasks);
        assert_eq!(
            (s.tasks, s.solved, s.false_passes, s.cautious),
            (4, 2, 1, 1)
        );
        assert_eq!(s.solved_percent, 50.0);
        assert_eq!(s.cost_usd, Some(4.0));
        assert_eq!(s.usd_per_solved, Some(2.0));
        assert_eq!(s.minutes_per_task, 1.0);
        let unknown = EvalSummary::of(&[result(1, Judgement::PassedSolved, None)]);
        assert_eq!(unknown.cost_usd, None);
        assert_eq!(EvalSummary::of(&[]).solved_percent, 0.0);
    }
}
