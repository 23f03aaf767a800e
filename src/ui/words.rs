//! The words for the pipeline's data: reasons, results, next actions and the commands that go
//! on from them. Events and reports carry enums; this is the one place that turns them into
//! what a person reads, so `--json` and the terminal never disagree about what happened.

use crate::ops::status::{BaselineProblem, NextAction};
use crate::pipeline::events::{
    AttemptResult, ContainedBy, ContainedRunner, ForgeWaitReason, NoProofWhy, Reason, RowResult,
    SandboxNetwork, TestCheck, TestResult, TestSource, Verdict,
};
use crate::stage::{Gate, Stage};

/// The command that goes on with `issue`, with the options of the run that is being
/// continued when they are known.
pub fn run_command(issue: u64, options: Option<&str>) -> String {
    match options.filter(|o| !o.is_empty()) {
        Some(options) => format!("git orchestrate {issue} {options}"),
        None => format!("git orchestrate {issue}"),
    }
}

/// Why the plan does what it does with `stage`.
pub fn reason(stage: Stage, reason: &Reason) -> String {
    let at = |commit: &Option<String>| {
        commit
            .as_ref()
            .map(|c| format!(" in {c}"))
            .unwrap_or_default()
    };
    match reason {
        Reason::Missing { stage } => format!("no {} yet", stage.artifact_noun()),
        Reason::Done {
            by_person: true,
            commit,
        } => format!("done: written by hand{}", at(commit)),
        Reason::Done {
            by_person: false,
            commit,
        } => format!("done{}", at(commit)),
        // A blocked brief is not revised: the triage model writes the brief again.
        Reason::Blocked { commit, .. } if stage == Stage::Triage => format!(
            "blocked in {}: asking the triage model again",
            commit.clone().unwrap_or_default()
        ),
        // No attempt was made: the tests run again first, and no model is called while they
        // still fail on the branch's code.
        Reason::Blocked {
            commit,
            before_any_model: true,
        } => format!(
            "blocked in {} before any model was called: the tests run again on the code on the branch, and a model only once they pass there",
            commit.clone().unwrap_or_default()
        ),
        // The code stays on the branch: the implementer goes on from it.
        Reason::Blocked { commit, .. } if stage == Stage::Impl => format!(
            "blocked in {}: trying again from the code on the branch, told the last failure",
            commit.clone().unwrap_or_default()
        ),
        Reason::Blocked { commit, .. } => format!(
            "blocked in {}: trying again from the blocked draft",
            commit.clone().unwrap_or_default()
        ),
        Reason::Stale { stale } if stage == Stage::Impl => format!(
            "stale: {}; the implementer goes on from the code on the branch, told what changed",
            stale.describe(stage)
        ),
        Reason::Stale { stale } => {
            format!("stale: {}; revising it to match", stale.describe(stage))
        }
        Reason::KeptStale { stale, commit } => format!(
            "stale, kept as it is{} (--keep-stale): {}",
            commit
                .as_ref()
                .map(|c| format!(" in {c}"))
                .unwrap_or_default(),
            stale.describe(stage)
        ),
        Reason::Draft { draft } => draft.to_string(),
        Reason::Rejected { gate } => format!("rejected at {gate}: revising with the feedback"),
        Reason::Skipped { stage } => format!("--skip {stage}"),
        Reason::AfterUntil { until } => format!("after --until {until}"),
        Reason::ResumeFrom { from } => format!("--resume-from {from}"),
        Reason::TakenAsIs => "taken as it is (--resume-from)".into(),
    }
}

/// `approved in 2 rounds`; for impl, whose turns are attempts, `passed after 2 attempts`.
pub fn rounds(stage: Stage, verdict: Verdict, rounds: u32) -> String {
    match (stage, rounds) {
        (Stage::Impl, 1) => format!("{verdict} after 1 attempt"),
        (Stage::Impl, n) => format!("{verdict} after {n} attempts"),
        (_, 0) => verdict.to_string(),
        (_, 1) => format!("{verdict} in 1 round"),
        (_, n) => format!("{verdict} in {n} rounds"),
    }
}

/// A summary row's result and detail columns.
pub fn row(stage: Stage, result: &RowResult, waiting_at: Option<Gate>) -> (String, String) {
    let (word, detail) = match result {
        RowResult::Done { verdict, rounds: n } => ("done".to_string(), rounds(stage, *verdict, *n)),
        RowResult::Skipped { reason: r } => ("skipped".into(), reason(stage, r)),
        RowResult::Blocked { reason } => ("blocked".into(), reason.clone()),
        RowResult::NotRun { reason: r } => {
            let detail = r.as_ref().map(|r| reason(stage, r));
            ("not run".into(), detail.unwrap_or_default())
        }
    };
    match waiting_at {
        Some(gate) => (format!("{word}, waiting at {gate}"), detail),
        None => (word, detail),
    }
}

/// The commands that go on from a gate.
pub fn gate_commands(issue: u64) -> [String; 2] {
    [
        format!("git orchestrate approve {issue}"),
        format!("git orchestrate reject {issue} -m \"what to change\""),
    ]
}

/// The comments on the issue that go on from a gate, in a GitHub Actions workflow.
pub fn gate_comments() -> [String; 2] {
    let command = crate::ops::action::COMMAND;
    [
        format!("comment `{command} approve` on the issue"),
        format!("comment `{command} reject <what to change>` on the issue"),
    ]
}

/// What to do next, as `status` says it: the first line, then more.
pub fn next(action: &NextAction, issue: u64) -> Vec<String> {
    match action {
        NextAction::Decide { gate, artifact } => {
            let mut lines = vec![format!(
                "waiting at gate {gate} for a decision on {artifact}:"
            )];
            lines.extend(gate_commands(issue));
            lines
        }
        NextAction::Retry {
            stage: Stage::Impl,
            artifact,
        } => vec![
            format!(
                "impl is blocked ({artifact} says why); `{}` tries again from the branch (with the last attempt's code, when it was committed), its first attempt told the last failure",
                run_command(issue, None)
            ),
            "or fix the code on the branch yourself and commit it".into(),
        ],
        NextAction::Retry { stage, artifact } => vec![
            format!(
                "{stage} is blocked; `{}` tries again from the blocked draft",
                run_command(issue, None)
            ),
            format!("or edit {artifact} by hand and commit it: a person's version counts as done"),
        ],
        NextAction::Revise { stage } => vec![format!(
            "{stage} was rejected at its gate; `{}` revises it with the feedback",
            run_command(issue, None)
        )],
        NextAction::Redo { stage, reason } => vec![
            format!(
                "{stage} is stale: {reason}; `{}` redoes it and every stage after it, each revised from what is on the branch",
                run_command(issue, None)
            ),
            format!(
                "or `{}` keeps it as it is (orchestrator.on_stale = \"keep\")",
                run_command(issue, Some("--keep-stale"))
            ),
        ],
        NextAction::NeedsTestCommand => vec![
            "impl comes next, and it needs a test command: stages.impl.test_command is not set, and none is detected at the branch's root (from Cargo.toml, a test script in package.json, a Python project file, go.mod, or a test target in the Makefile)".into(),
            "set it in .orchestrate.toml ([stages.impl] test_command = \"pytest\"), or for one run with -c stages.impl.test_command=\"pytest\"".into(),
            format!(
                "then `{}` continues with impl",
                run_command(issue, None)
            ),
        ],
        NextAction::Continue { stage } => {
            vec![format!(
                "`{}` continues with {stage}",
                run_command(issue, None)
            )]
        }
        NextAction::FixBaseline {
            artifact,
            reason,
            branch,
            problem,
        } => {
            let mut lines = vec![
                format!(
                    "impl is blocked before any model was called: {} ({artifact} on the branch has the output)",
                    reason
                        .as_deref()
                        .unwrap_or("the tests cannot pass on the branch's own code")
                ),
                format!(
                    "`{}` runs the tests again before it calls any model, and commits nothing new while the code and the result stay the same",
                    run_command(issue, None)
                ),
            ];
            match problem {
                BaselineProblem::Fails | BaselineProblem::TimedOut => {
                    lines.push(format!(
                        "fix them on the base branch: while {branch} holds only the tool's documents (no code yet), the next run starts impl from the base's current tip by itself"
                    ));
                    lines.push(format!(
                        "once {branch} holds code, `{} --update-base` merges the base into it first; or commit the fix on {branch} itself",
                        run_command(issue, None)
                    ));
                    lines.push(match problem {
                        BaselineProblem::TimedOut => "or raise stages.impl.test_timeout; or, if that is known, set stages.impl.allow_red_baseline = true: only new failures then count".into(),
                        _ => "or, if those failures are known, set stages.impl.allow_red_baseline = true: only new failures then count".into(),
                    });
                }
                BaselineProblem::NotFound => lines.push(
                    "set stages.impl.test_command to the command that runs the tests, or install the program it names".into(),
                ),
                BaselineProblem::Contained => lines.push(format!(
                    "the tests write into the repository outside their worktree: fix them on {branch} so that they write only below their own directory"
                )),
            }
            lines
        }
        NextAction::Done {
            pull_request: Some(url),
            recorded,
        } => vec![
            format!(
                "every stage is done: {}",
                recorded
                    .clone()
                    .unwrap_or_else(|| format!("the pull request is {url}"))
            ),
            format!("review and merge it on GitHub; its state now: `gh pr view {url}`"),
        ],
        NextAction::Done { .. } => vec![
            "every stage this version runs is done: the code is committed and its tests pass"
                .into(),
            "push the branch and open a pull request for it".into(),
        ],
    }
}

/// How a test run ended.
pub fn test_result(result: TestResult) -> &'static str {
    match result {
        TestResult::Passed => "passed",
        TestResult::Failed => "failed",
        TestResult::KnownFailures => "only tests that fail on the baseline too failed",
        TestResult::TimedOut => "stopped at the timeout (stages.impl.test_timeout)",
        TestResult::NotFound => "the command was not found (exit status 127)",
    }
}

/// `, 3 failing: a, b, c` (nothing when the runner named none).
pub fn failing(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        n if n <= 3 => format!(", {n} failing: {}", names.join(", ")),
        n => format!(", {n} failing: {}, ...", names[..3].join(", ")),
    }
}

/// How an implementation attempt ended.
pub fn attempt(result: &AttemptResult) -> String {
    match result {
        AttemptResult::Passed => "the tests pass".into(),
        AttemptResult::TestsFailed => {
            "the tests fail; the output goes back to the implementer".into()
        }
        AttemptResult::Stagnated => "the tests fail exactly as after the attempt before".into(),
        AttemptResult::EditsRejected {
            problems, count, ..
        } => match (problems.first(), count) {
            (Some(one), 1) => format!("no edit applied: {one}"),
            (Some(first), n) => format!("no edit applied: {n} problems, first: {first}"),
            (None, _) => "no edit applied".into(),
        },
        AttemptResult::AgentFailed { status, .. } => format!("the agent failed ({status})"),
        AttemptResult::AgentTimedOut { timeout_secs } => format!(
            "the agent was stopped at its timeout ({})",
            humantime::format_duration(std::time::Duration::from_secs(*timeout_secs))
        ),
        AttemptResult::NoChange => "nothing changed".into(),
        AttemptResult::Repeated => "the reply repeats the one before".into(),
        AttemptResult::NotTheImplementation { files, expected } => match expected.is_empty() {
            true => format!(
                "not the implementation: only ignore files or editor and agent state ({})",
                files.join(", ")
            ),
            false => format!(
                "not the implementation: none of the files the spec names ({})",
                expected.join(", ")
            ),
        },
        AttemptResult::OriginalTestsFail { files, .. } => format!(
            "refused: the tests fail with {} as on the base; undone",
            files.join(", ")
        ),
        AttemptResult::Contained { by, changes } => format!(
            "refused: {} changed the repository outside the worktree ({} change{})",
            match by {
                ContainedRunner::Agent => "the agent",
                ContainedRunner::Tests => "the tests",
            },
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        ),
        AttemptResult::NoProof { why } => match why {
            NoProofWhy::NoTest => "the tests pass, but no test proves the change".into(),
            NoProofWhy::PassesWithout => {
                "the tests pass, but they pass without the change too: no proof".into()
            }
            NoProofWhy::TimedOut => {
                "the tests pass, but without the change they did not finish: no proof".into()
            }
        },
    }
}

/// Who changed the repository, for a `contained` line.
pub fn contained_by(stage: Stage, by: &ContainedBy) -> String {
    match by {
        ContainedBy::Agent { attempt } => format!("the agent of impl attempt {attempt}"),
        ContainedBy::Tests {
            attempt: None,
            check: _,
        } => "the tests on the unchanged tree (the baseline)".into(),
        ContainedBy::Tests {
            attempt: Some(attempt),
            check: None,
        } => format!("the tests of impl attempt {attempt}"),
        ContainedBy::Tests {
            attempt: Some(attempt),
            check: Some(check),
        } => format!(
            "the tests of impl attempt {attempt} ({})",
            match check {
                TestCheck::Proof => "the proof",
                TestCheck::Originals => "with the original test files",
            }
        ),
        ContainedBy::Model { role, model, .. } => format!("the {stage} {role} ({model})"),
    }
}

/// Where the test command comes from.
pub fn test_source(source: &TestSource) -> String {
    match source {
        TestSource::Config => "stages.impl.test_command".into(),
        TestSource::Detected { file } => format!("detected from {file}"),
    }
}

/// Why a GitHub request waits.
pub fn forge_wait(reason: ForgeWaitReason) -> String {
    match reason {
        ForgeWaitReason::RateLimit => "the API rate limit is used up until it resets".into(),
        ForgeWaitReason::SecondaryRateLimit => "GitHub asked to slow down".into(),
        ForgeWaitReason::ServerError { status } => format!("GitHub answered {status}"),
        ForgeWaitReason::Network => "the connection failed".into(),
        ForgeWaitReason::TimedOut => "GitHub did not answer in time".into(),
    }
}

/// `45s`, `2m 5s`.
pub fn seconds(secs: u64) -> String {
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m {s}s"),
    }
}

/// How tests and agents are contained, in words.
pub fn sandbox(landlock: Option<u8>, network: SandboxNetwork, test_network: bool) -> String {
    let writes = match landlock {
        Some(abi) => format!("writes confined by Landlock (ABI {abi})"),
        None => "writes not confined".into(),
    };
    let net = match (test_network, network) {
        (true, _) => "the tests may reach the network (sandbox.test_network)",
        (false, SandboxNetwork::Namespace) => "the tests run without network",
        (false, SandboxNetwork::TcpOnly) => "the tests make no TCP connection",
        (false, SandboxNetwork::Open) => "the tests can reach the network",
    };
    format!("tests and agents: {writes}; {net}")
}
