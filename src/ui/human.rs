//! The human renderer: a line as each stage starts and ends, a line per review round, a
//! spinner on a terminal while a model works, and a table of stages at the end.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::lanes::Lane;
use super::table::table;
use super::words;
use super::{
    BAD, DIM, GOOD, NOTE, Ui, Verbosity, WARN, elapsed, error_text, redaction_text, warning_text,
};
use crate::pipeline::events::{
    Action, AttemptResult, BaseUpdate, ContainedChange, GateDecision, ImplementerKind, Outcome,
    Plan, PlanPullRequest, ReviewVerdict, SectionFix, SectionProblem, Summary, TestCheck,
    TestResult, VerdictProblem, Warning,
};
use crate::pipeline::{Event, EventSink};

/// How long a model works before the spinner appears.
const SPINNER_DELAY: Duration = Duration::from_millis(300);

pub struct HumanRenderer<'u> {
    ui: &'u Ui,
    /// The options that matter to run the same issues again (`--until spec -c ...`), for the
    /// advice at the end of a run.
    rerun: Option<String>,
    /// The spinner, and its message without the token count.
    spinner: Mutex<Option<(ProgressBar, String)>>,
    /// With several issues at once, the issue's lane (its live line or its prefix).
    lane: Option<&'u Lane<'u>>,
    /// In a live lane, what the model or the tests are doing (the spinner's message).
    working: Mutex<String>,
    /// A gate is answered by a comment on the issue (`action`, in GitHub Actions).
    replies_by_comment: bool,
}

impl<'u> HumanRenderer<'u> {
    pub fn new(ui: &'u Ui) -> HumanRenderer<'u> {
        HumanRenderer {
            ui,
            rerun: None,
            spinner: Mutex::new(None),
            lane: None,
            working: Mutex::new(String::new()),
            replies_by_comment: false,
        }
    }

    /// Say that a gate is answered by commenting on the issue (the `/orchestrate` commands
    /// of a GitHub Actions workflow), not by running a command here.
    pub fn replies_by_comment(mut self) -> HumanRenderer<'u> {
        self.replies_by_comment = true;
        self
    }

    /// Write in `lane`: one of several issues run side by side.
    pub fn in_lane(mut self, lane: &'u Lane<'u>) -> HumanRenderer<'u> {
        self.lane = Some(lane);
        self
    }

    /// A status line (not when quiet).
    fn status(&self, text: &str) {
        match &self.lane {
            Some(lane) => lane.status(text),
            None => self.ui.status(text),
        }
    }

    /// A line that is always said (errors, gate requests).
    fn stderr(&self, text: &str) {
        match &self.lane {
            Some(lane) => lane.stderr(text),
            None => self.ui.stderr(text),
        }
    }

    fn warn(&self, message: &str) {
        self.stderr(&warning_text(message));
    }

    fn error(&self, message: &str, hints: &[String]) {
        self.stderr(&error_text(message, hints));
    }

    fn redacted(&self, redaction: &crate::pipeline::events::Redaction) {
        self.warn(&redaction_text(redaction));
    }

    /// Advise running again with these options (`--until spec -c ...`).
    pub fn rerun_with(mut self, options: String) -> HumanRenderer<'u> {
        self.rerun = Some(options);
        self
    }

    fn stop_spinner(&self) {
        let mut spinner = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, _)) = spinner.take() {
            bar.finish_and_clear();
        }
    }

    fn start_spinner(&self, message: String) {
        if let Some(lane) = self.lane.as_ref().filter(|l| l.is_live()) {
            lane.progress(&message);
            *self.working.lock().unwrap_or_else(|e| e.into_inner()) = message;
            return;
        }
        if !self.ui.progress_allowed() {
            return;
        }
        // Drawn by the progress bar, not written through the Ui: cleaned here.
        let message = self.ui.cleaned(&message);
        // Hidden at first, drawn only if the model is still working after a moment, so quick
        // calls do not flash a spinner (as jj's progress does).
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message(message.clone());
        bar.enable_steady_tick(Duration::from_millis(120));
        let delayed = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(SPINNER_DELAY);
            if !delayed.is_finished() {
                delayed.set_draw_target(ProgressDrawTarget::stderr());
            }
        });
        let mut spinner = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        *spinner = Some((bar, message));
    }

    /// Show how much of the reply has arrived.
    fn spinner_tokens(&self, tokens: u64) {
        if let Some(lane) = self.lane.as_ref().filter(|l| l.is_live()) {
            let working = self.working.lock().unwrap_or_else(|e| e.into_inner());
            lane.progress(&format!("{working}, {} tokens in", thousands(tokens)));
            return;
        }
        let spinner = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, message)) = spinner.as_ref() {
            bar.set_message(format!("{message}, {} tokens in", thousands(tokens)));
        }
    }

    /// A status line, `verb` right-aligned as cargo does.
    fn line(&self, style: anstyle::Style, verb: &str, rest: &str) {
        self.status(&format!("{style}{verb:>12}{style:#} {rest}"));
    }

    fn plan(&self, plan: &Plan) {
        let branch = if plan.branch_exists {
            format!("{} (existing)", plan.branch)
        } else {
            format!(
                "{} (new, from {})",
                plan.branch,
                plan.base.as_deref().unwrap_or("HEAD")
            )
        };
        if !plan.dry_run {
            self.line(
                GOOD,
                "Issue",
                &format!("#{} {} on {branch}", plan.issue, plan.title),
            );
            return;
        }
        let mut out = format!(
            "Plan for #{} {}\n  branch: {branch}\n\n",
            plan.issue, plan.title
        );
        let rows: Vec<Vec<String>> = plan
            .steps
            .iter()
            .map(|step| {
                let models = step
                    .models
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {}",
                            m.role.name(),
                            m.model.as_deref().unwrap_or(match m.role {
                                crate::llm::Role::Triage => "none (the issue text is the brief)",
                                _ => "(none configured)",
                            })
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let gate = step
                    .gate
                    .as_ref()
                    .map(|g| {
                        let state = match (g.enabled, g.passed) {
                            (false, _) => "off",
                            (true, true) => "passed",
                            (true, false) => "on",
                        };
                        format!("{} {state}", g.gate)
                    })
                    .unwrap_or_default();
                let action = match step.action {
                    Action::Run => "run",
                    Action::Skip => "skip",
                    Action::NotRun => "not run",
                };
                vec![
                    step.stage.name().to_string(),
                    action.to_string(),
                    words::reason(step.stage, &step.reason),
                    step.artifact.clone().unwrap_or_default(),
                    models,
                    gate,
                ]
            })
            .collect();
        out.push_str(&indent(&table(
            &["stage", "action", "why", "artifact", "models", "gate"],
            &rows,
        )));
        let mut chosen: Vec<String> = Vec::new();
        for step in &plan.steps {
            for m in &step.models {
                if let (Some(model), Some(why)) = (&m.model, &m.why) {
                    let line = format!("  {} {model}: {why}", m.role.name());
                    if !chosen.contains(&line) {
                        chosen.push(line);
                    }
                }
            }
        }
        if !chosen.is_empty() {
            out.push_str("\nNo model is configured for these roles, so defaults were chosen:\n");
            out.push_str(&chosen.join("\n"));
            out.push('\n');
        }
        for step in &plan.steps {
            if let Some(implement) = &step.implement {
                out.push_str(&format!(
                    "\nimpl works in {}\n  implementer: {} ({}), at most {} attempt{}\n  test command: {}\n",
                    implement.worktree.display(),
                    step.models
                        .iter()
                        .find_map(|m| m.model.clone())
                        .unwrap_or_else(|| "(none configured)".into()),
                    match implement.implementer_kind {
                        ImplementerKind::Text => "answers with edit blocks",
                        ImplementerKind::Agent => "an agent: edits the worktree itself",
                    },
                    implement.max_attempts,
                    if implement.max_attempts == 1 { "" } else { "s" },
                    match (&implement.test_command, &implement.test_source) {
                        (Some(command), Some(source)) =>
                            format!("`{command}` ({})", words::test_source(source)),
                        _ => "none: set stages.impl.test_command (none was detected)".into(),
                    }
                ));
            }
            if let Some(pull) = &step.pull_request {
                out.push_str(&pull_request_plan(pull));
            }
        }
        out.push_str("\nNothing was changed (--dry-run).\n");
        // The plan is what a dry run is for: it is the command's output, on stdout. A reader
        // that went away (`| head`) is not an error of the run.
        let _ = self.ui.data(&out);
    }

    fn summary(&self, summary: &Summary) {
        // With several issues, one table at the end says how each ended.
        if summary.outcome != Outcome::Planned
            && self.ui.verbosity != Verbosity::Quiet
            && self.lane.is_none()
        {
            self.table(summary);
        }
        self.outcome(summary);
        if let Some(lane) = &self.lane {
            lane.finish(&ended_line(&summary.outcome));
        }
    }

    /// How the run ended, in a line (errors and interruptions are said even when quiet).
    fn outcome(&self, summary: &Summary) {
        let issue = summary.issue;
        match &summary.outcome {
            Outcome::Planned | Outcome::Waiting { .. } => {}
            Outcome::Completed => self.status(&format!("#{issue}: every stage is done.")),
            Outcome::StoppedAfter { stage } => self.status(&format!(
                "#{issue}: stopped after {stage}, as asked (--until {stage})."
            )),
            Outcome::Blocked {
                stage,
                reason,
                artifact,
                reviews,
                committed,
                code,
                rounds,
            } => {
                let hints = match (*stage, *rounds) {
                    // Blocked on the branch's own code: what status says.
                    (crate::stage::Stage::Impl, 0) => {
                        baseline_hints(issue, &summary.branch, reason, artifact, *committed)
                    }
                    _ => blocked_hints(
                        &words::run_command(issue, self.rerun.as_deref()),
                        *stage,
                        artifact,
                        reviews.as_deref(),
                        (*committed, *code),
                        *rounds,
                    ),
                };
                self.error(&format!("#{issue} is blocked at {stage}: {reason}"), &hints);
            }
            Outcome::Interrupted => self.stderr(
                "interrupted: the branch is at its last commit and the lock is released; run again to continue",
            ),
        }
    }

    fn table(&self, summary: &Summary) {
        let rows: Vec<Vec<String>> = summary
            .rows
            .iter()
            .map(|r| {
                let (result, detail) = words::row(r.stage, &r.result, r.waiting_at);
                vec![
                    r.stage.name().to_string(),
                    result,
                    shorten(&detail, DETAIL_WIDTH),
                    r.commit.clone().unwrap_or_default(),
                    r.elapsed_ms.map(elapsed).unwrap_or_default(),
                ]
            })
            .collect();
        self.stderr("");
        self.stderr(
            indent(&table(
                &["stage", "result", "detail", "commit", "time"],
                &rows,
            ))
            .trim_end(),
        );
        if let Some(words) = spend_words(summary.usage, summary.cost_usd) {
            self.ui
                .stderr(&format!("  models used {words} in this run"));
        }
    }
}

/// Where the pr stage would push and open the pull request, for the dry run's plan.
fn pull_request_plan(pull: &PlanPullRequest) -> String {
    let kind = if pull.draft {
        "a draft pull request"
    } else {
        "a pull request"
    };
    let into = pull
        .base
        .as_deref()
        .map(|b| format!(" into {b}"))
        .unwrap_or_else(|| " (no base branch: HEAD is detached; give --base)".into());
    match (&pull.repo, &pull.problem) {
        (Some(repo), _) => format!(
            "\npr pushes the branch to {} and opens {kind} on {repo}{into}\n",
            pull.push_remote
        ),
        (None, problem) => format!(
            "\npr pushes the branch to {}, but cannot tell where to open {kind}: {}\n",
            pull.push_remote,
            problem.as_deref().unwrap_or("no repository")
        ),
    }
}

/// The last word on an issue's live line.
fn ended_line(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Completed => "done: every stage".into(),
        Outcome::Planned => "planned (--dry-run)".into(),
        Outcome::StoppedAfter { stage } => format!("stopped after {stage}, as asked"),
        Outcome::Waiting { gate } => format!("waiting at {gate}"),
        Outcome::Blocked { stage, .. } => format!("blocked at {stage}"),
        Outcome::Interrupted => "interrupted".into(),
    }
}

/// The advice under impl blocked on the branch's own code (before any attempt): what
/// `status` says, without its first line (the reason, which the error says already).
fn baseline_hints(
    issue: u64,
    branch: &str,
    reason: &str,
    artifact: &Option<String>,
    committed: bool,
) -> Vec<String> {
    let artifact = artifact.clone().unwrap_or_default();
    let mut hints = vec![match committed {
        true => format!("{artifact} on the branch has the output"),
        false => format!(
            "nothing new was committed: the branch already records this block on the same code ({artifact} has the output)"
        ),
    }];
    let next = crate::ops::status::NextAction::FixBaseline {
        artifact,
        reason: Some(reason.to_string()),
        branch: branch.to_string(),
        problem: crate::ops::status::BaselineProblem::of(reason),
    };
    hints.extend(words::next(&next, issue).into_iter().skip(1));
    hints
}

/// What a blocked stage left on the branch, and how to go on: a draft and its reviews, a
/// draft no reviewer saw, or nothing at all.
/// The advice under a blocked run's error; `command` runs the issue again.
fn blocked_hints(
    command: &str,
    stage: crate::stage::Stage,
    artifact: &Option<String>,
    reviews: Option<&str>,
    (committed, code): (bool, bool),
    rounds: u32,
) -> Vec<String> {
    let artifact = artifact.as_deref().unwrap_or("the artifact");
    if stage == crate::stage::Stage::Triage && committed {
        return vec![
            format!("the last brief the triage model wrote is committed as blocked: see {artifact}"),
            format!(
                "edit {artifact} by hand and commit it (a brief you commit is taken as it is), or run `{command}` to ask the triage model again"
            ),
            "the check is stages.triage.required_sections and stages.triage.min_chars; a larger stages.triage.drafter may write a brief that passes it".into(),
        ];
    }
    if stage == crate::stage::Stage::Impl && committed {
        if !code {
            return vec![
                format!(
                    "no code was committed: {artifact} on the branch says what each attempt did and what the last one was told"
                ),
                format!(
                    "run `{command}` to try again (the first attempt is told the last failure), perhaps with another implementer (stages.impl.implementer), or write the change yourself and commit it"
                ),
            ];
        }
        return vec![
            format!(
                "the last attempt's code and {artifact} (each attempt, the last failure) are committed on the branch"
            ),
            format!(
                "run `{command}` to try again from that code (the first attempt is told the last failure), or fix it yourself and commit"
            ),
        ];
    }
    if !committed {
        return vec![
            format!("nothing new was committed for {stage}: no draft was written in this run"),
            format!("run `{command}` to try again, or commit {artifact} written by hand"),
        ];
    }
    let kept = match (reviews, rounds) {
        (None, _) => format!("the last draft is committed: see {artifact}"),
        (Some(reviews), 0) => format!(
            "the last draft is committed, with no review: see {artifact} ({reviews} says why)"
        ),
        (Some(reviews), 1) => {
            format!("the last draft and its review are committed: see {artifact} and {reviews}")
        }
        (Some(reviews), _) => {
            format!("the last draft and its reviews are committed: see {artifact} and {reviews}")
        }
    };
    vec![
        kept,
        format!(
            "run `{command}` to try again from that draft, or edit {artifact} by hand and commit it"
        ),
    ]
}

/// `baseline` or `attempt 2`, for test runs.
fn test_turn(attempt: Option<u32>, check: Option<TestCheck>) -> String {
    match (attempt, check) {
        (None, _) => "impl baseline".into(),
        (Some(n), None) => format!("impl attempt {n}"),
        (Some(n), Some(TestCheck::Proof)) => {
            format!("impl attempt {n}, proof (the code without the change, with its tests)")
        }
        (Some(n), Some(TestCheck::Originals)) => {
            format!("impl attempt {n}, original tests (the test files it changed, as on the base)")
        }
    }
}

/// `lld round 2`, or `lld round 1, fix 1 of 2` for a request to fix a draft's sections.
fn turn(stage: crate::stage::Stage, round: u32, fix: Option<SectionFix>) -> String {
    match fix {
        Some(fix) => format!("{stage} round {round}, fix {} of {}", fix.attempt, fix.of),
        None => format!("{stage} round {round}"),
    }
}

/// The widest a table cell of free text gets; the full text is on the line above the table.
const DETAIL_WIDTH: usize = 72;

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let cut: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// How many of a failed agent's last error lines the terminal shows (the report and the
/// next prompt have more).
const AGENT_STDERR_LINES: usize = 5;

impl EventSink for HumanRenderer<'_> {
    fn emit(&self, event: Event) {
        match event {
            Event::ModelStarted { .. } | Event::ModelProgress { .. } => {}
            _ => self.stop_spinner(),
        }
        match event {
            Event::Plan(plan) => self.plan(&plan),
            Event::StaleLockTakenOver { issue, pid } => self.warn(&format!(
                "took over the lock of issue #{issue} left by a run that did not finish{}",
                pid.map(|p| format!(" (pid {p}, no longer running)"))
                    .unwrap_or_default()
            )),
            Event::StageStarted { stage, reason } => self.line(
                GOOD,
                "Starting",
                &format!("{stage}: {}", words::reason(stage, &reason)),
            ),
            Event::StageSkipped { stage, reason } => self.line(
                DIM,
                "Skipping",
                &format!("{stage}: {}", words::reason(stage, &reason)),
            ),
            Event::ModelStarted {
                stage,
                role,
                model,
                round,
                fix,
            } => {
                let what = format!(
                    "{}: {} {model} is working",
                    turn(stage, round, fix),
                    role.name()
                );
                if self.ui.verbosity == Verbosity::Verbose {
                    self.line(DIM, "Calling", &what);
                }
                self.start_spinner(what);
            }
            Event::ModelProgress { tokens, .. } => self.spinner_tokens(tokens),
            Event::ModelFinished {
                stage,
                role,
                model,
                round,
                fix,
                elapsed_ms,
                usage,
                cost_usd,
            } => {
                let tokens = spend_words(usage, cost_usd)
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default();
                self.status(&format!(
                    "{:>12} {}: {} {model} answered ({}{tokens})",
                    "",
                    turn(stage, round, fix),
                    role.name(),
                    elapsed(elapsed_ms)
                ));
            }
            Event::ModelRetrying {
                model,
                attempt,
                attempts,
                error,
                delay_ms,
                ..
            } => self.warn(&format!(
                "{model} failed (attempt {attempt} of {attempts}), retrying in {}: {error}",
                elapsed(delay_ms)
            )),
            Event::DraftIncomplete {
                stage,
                round,
                problems,
                too_short,
                fix,
            } => {
                let (what, who) = match stage {
                    crate::stage::Stage::Triage => ("brief", "the triage model"),
                    _ => ("draft", "the drafter"),
                };
                let then = match fix {
                    Some(fix) => format!(
                        "the {what} goes back to {who} (fix {} of {})",
                        fix.attempt, fix.of
                    ),
                    None => "the requests to fix it are used up, so the stage blocks".into(),
                };
                let mut found = Vec::new();
                if !problems.is_empty() {
                    found.push(SectionProblem::summary(&problems));
                }
                found.extend(too_short.map(|short| short.to_string()));
                self.line(
                    WARN,
                    "Incomplete",
                    &format!("{stage} round {round}: {}; {then}", found.join("; ")),
                )
            }
            Event::Verdict {
                stage,
                round,
                verdict,
                problem,
                feedback_items,
            } => {
                let style = match verdict {
                    Some(ReviewVerdict::Approved) => GOOD,
                    Some(ReviewVerdict::Revise) => WARN,
                    _ => BAD,
                };
                let items = match feedback_items {
                    0 => String::new(),
                    1 => " (1 feedback item)".into(),
                    n => format!(" ({n} feedback items)"),
                };
                let word = match (verdict, problem) {
                    (Some(verdict), _) => verdict.name(),
                    (None, Some(VerdictProblem::Conflicting)) => {
                        "verdicts that contradict each other, counted as REVISE"
                    }
                    (None, Some(VerdictProblem::Qualified)) => {
                        "an approval with conditions, counted as REVISE"
                    }
                    (None, Some(VerdictProblem::MalformedJson)) => {
                        "a verdict in malformed JSON, counted as REVISE"
                    }
                    (None, Some(VerdictProblem::Missing) | None) => "no verdict, counted as REVISE",
                };
                self.line(
                    style,
                    "Reviewed",
                    &format!("{stage} round {round}: {word}{items}"),
                );
            }
            Event::Committed {
                stage,
                commit,
                verdict,
                paths,
            } => {
                let files = match paths.is_empty() {
                    true => String::new(),
                    false => format!(": {}", paths.join(", ")),
                };
                self.line(
                    NOTE,
                    "Committed",
                    &format!("{stage} ({verdict}) {commit}{files}"),
                )
            }
            Event::Edited {
                stage,
                commit,
                path,
                ..
            } => self.line(
                NOTE,
                "Committed",
                &format!("{stage} (edited) {commit}: {path}"),
            ),
            Event::StageFinished {
                stage,
                verdict,
                rounds,
                elapsed_ms,
                commit,
                reason,
                usage,
                cost_usd,
            } => {
                let cost = spend_words(usage, cost_usd)
                    .map(|w| format!(", {w}"))
                    .unwrap_or_default();
                let rounds = match (stage, rounds) {
                    (crate::stage::Stage::Impl, 1) => " after 1 attempt".into(),
                    (crate::stage::Stage::Impl, n) => format!(" after {n} attempts"),
                    (_, 0) => String::new(),
                    (_, 1) => " in 1 round".into(),
                    (_, n) => format!(" in {n} rounds"),
                };
                let at = commit.map(|c| format!(", {c}")).unwrap_or_default() + &cost;
                let time = elapsed(elapsed_ms);
                match reason {
                    Some(reason) => self.line(
                        BAD,
                        "Blocked",
                        &format!("{stage}{rounds} ({time}{at}): {reason}"),
                    ),
                    None => self.line(
                        GOOD,
                        "Finished",
                        &format!("{stage}: {verdict}{rounds} ({time}{at})"),
                    ),
                }
            }
            Event::GateWaiting {
                gate,
                issue,
                artifact,
                ..
            } => {
                // Always shown, even with --quiet: it is the one thing the person must act on.
                self.stderr(&format!(
                    "{NOTE}{:>12}{NOTE:#} at gate {gate}: review {artifact}, then go on with",
                    "Waiting"
                ));
                let commands = match self.replies_by_comment {
                    true => words::gate_comments(),
                    false => words::gate_commands(issue),
                };
                for command in commands {
                    self.stderr(&format!("{:>12}   {command}", ""));
                }
            }
            Event::GateDecided {
                gate,
                decision,
                commit,
            } => {
                let decision = match decision {
                    GateDecision::Approved => "approved",
                    GateDecision::Rejected => "rejected",
                };
                self.line(
                    NOTE,
                    "Recorded",
                    &format!("{decision} at {gate} ({commit})"),
                )
            }
            Event::Worktree {
                path,
                created,
                recovered,
                outside_run,
                ..
            } => {
                if let Some(saved) = recovered {
                    let whose = match outside_run {
                        true => "changes made outside any run (by hand, or by another program)",
                        false => "changes from a run that was stopped",
                    };
                    self.warn(&format!(
                        "the worktree held {whose}; they are saved in {} and the worktree is reset to the branch",
                        saved.display()
                    ));
                }
                let how = if created { "made" } else { "reused" };
                self.line(DIM, "Worktree", &format!("{} ({how})", path.display()));
            }
            Event::BaseMoved {
                base,
                at,
                newer,
                how,
                commit,
            } => {
                let newer = match newer {
                    1 => "1 commit newer".to_string(),
                    n => format!("{n} commits newer"),
                };
                let commit = commit.unwrap_or_default();
                let what = match how {
                    BaseUpdate::Carried => format!(
                        "impl starts from {base} at {at} ({newer}); the documents were carried onto it in {commit}"
                    ),
                    BaseUpdate::Merged => format!(
                        "{base} at {at} ({newer}) merged into the branch in {commit} (--update-base); impl starts there"
                    ),
                    BaseUpdate::Kept => format!(
                        "{base} at {at} is {newer} than the branch; impl works on the branch's code as it is (--update-base merges {base} in first)"
                    ),
                };
                self.line(NOTE, "Base", &what);
            }
            Event::Sandbox {
                mode,
                landlock,
                network,
                test_network,
                shortfall,
                missing,
            } => {
                for path in &missing {
                    self.warn(&format!(
                        "{path} does not exist, so it was not made writable for tests and agents"
                    ));
                }
                match (&shortfall, landlock) {
                (Some(why), None) => self.warn(&format!(
                    "tests and agents run uncontained: {why} (sandbox.mode = \"{mode}\"; `git orchestrate doctor` says more)"
                )),
                (Some(why), Some(_)) => self.warn(&format!(
                    "tests and agents run with less containment than they could: {why}"
                )),
                (None, _) if self.ui.verbosity == Verbosity::Verbose => self.line(
                    DIM,
                    "Contained",
                    &words::sandbox(landlock, network, test_network),
                ),
                (None, _) => {}
                }
            }
            Event::TestsStarted {
                attempt,
                command,
                check,
            } => {
                let what = format!("{}: running `{command}`", test_turn(attempt, check));
                if self.ui.verbosity == Verbosity::Verbose {
                    self.line(DIM, "Testing", &what);
                }
                self.start_spinner(what);
            }
            Event::TestsFinished {
                attempt,
                check,
                result,
                failing,
                elapsed_ms,
                cached,
                ..
            } => {
                // Without the change, the proof's tests are meant to fail.
                let style = match (check, result) {
                    (Some(TestCheck::Proof), TestResult::Failed | TestResult::NotFound) => GOOD,
                    (Some(TestCheck::Proof), _) => WARN,
                    (_, TestResult::Passed | TestResult::KnownFailures) => GOOD,
                    _ => WARN,
                };
                let known = if cached {
                    ", known from an earlier run on this tree".to_string()
                } else {
                    format!(" in {}", elapsed(elapsed_ms))
                };
                self.line(
                    style,
                    "Tested",
                    &format!(
                        "{}: {}{}{known}",
                        test_turn(attempt, check),
                        words::test_result(result),
                        words::failing(&failing)
                    ),
                );
            }
            Event::Attempt {
                attempt,
                of,
                result,
                files,
                reverted,
                refused,
            } => {
                if !reverted.is_empty() {
                    self.warn(&format!(
                        "impl attempt {attempt}: changes to protected paths were reverted: {}",
                        reverted.join(", ")
                    ));
                }
                for file in refused {
                    self.warn(&format!(
                        "impl attempt {attempt}: refused {}; it was put back as on the base",
                        file.describe()
                    ));
                }
                let style = match result {
                    AttemptResult::Passed => GOOD,
                    _ => WARN,
                };
                let files = match files.len() {
                    0 => String::new(),
                    1..=4 => format!(" ({})", files.join(", ")),
                    n => format!(" ({}, ... {n} files)", files[..3].join(", ")),
                };
                self.line(
                    style,
                    "Attempt",
                    &format!("{attempt} of {of}: {}{files}", words::attempt(&result)),
                );
                // What the agent said on its way out, where the person watching sees it.
                if let AttemptResult::AgentFailed { stderr_tail, .. } = &result {
                    let lines: Vec<&str> = stderr_tail.lines().collect();
                    for line in &lines[lines.len().saturating_sub(AGENT_STDERR_LINES)..] {
                        self.ui.status(&format!("{:>12} {DIM}{line}{DIM:#}", ""));
                    }
                }
            }
            Event::GitHub { repo, api, token } => {
                let host = if api == "https://api.github.com" {
                    String::new()
                } else {
                    format!(" at {api}")
                };
                self.line(DIM, "GitHub", &format!("{repo}{host} (token from {token})"));
            }
            Event::GitHubWaiting {
                reason,
                seconds,
                attempt,
            } => self.warn(&format!(
                "GitHub: {}; trying again in {} (try {})",
                words::forge_wait(reason),
                words::seconds(seconds),
                attempt + 1
            )),
            Event::IssueRead {
                issue,
                url,
                comments,
                comments_total,
                body_cut,
                hidden_removed,
            } => {
                let mut what = format!("#{issue} {url}");
                if comments_total > 0 {
                    what.push_str(&format!(", {comments} of {comments_total} comments"));
                }
                self.line(DIM, "Read", &what);
                if body_cut || comments < comments_total {
                    self.warn(&format!(
                        "issue #{issue} is long: the brief keeps {} (the brief says what was left out)",
                        if body_cut {
                            "the start of its body"
                        } else {
                            "its first comments"
                        }
                    ));
                }
                if hidden_removed > 0 {
                    self.warn(&format!(
                        "issue #{issue} held {hidden_removed} HTML comments or invisible characters; they were removed before any model saw the text"
                    ));
                }
            }
            Event::PushHooksSkipped { dir, changed } => {
                let moved = changed
                    .iter()
                    .any(|c| std::path::Path::new(c).is_absolute());
                let why = match dir {
                    Some(dir) if moved => {
                        format!("core.hooksPath changed during the run (hooks now in {dir})")
                    }
                    Some(dir) if !changed.is_empty() => {
                        let names: Vec<String> = changed.iter().map(|c| format!("`{c}`")).collect();
                        format!("{} changed in {dir} during the run", names.join(", "))
                    }
                    _ => "its hooks could not be compared with those there when the run started"
                        .to_string(),
                };
                self.warn(&format!(
                    "the push runs no hooks: {why}; github.push_hooks runs only the hooks there when the run started"
                ));
            }
            Event::Pushing { remote, branch, .. } => {
                self.start_spinner(format!("pushing {branch} to {remote}"));
            }
            Event::Pushed {
                remote,
                branch,
                commit,
                up_to_date,
            } => {
                let how = if up_to_date { " (already there)" } else { "" };
                self.line(
                    DIM,
                    "Pushed",
                    &format!("{branch} at {commit} to {remote}{how}"),
                );
            }
            Event::PullRequest {
                url,
                number,
                created,
                draft,
                base,
            } => {
                let what = match (created, draft) {
                    (true, true) => "opened draft",
                    (true, false) => "opened",
                    (false, _) => "updated",
                };
                self.line(GOOD, "PR", &format!("#{number} {what} into {base}: {url}"));
                // The address is the run's result: on stdout, where a script reads it.
                let _ = self.ui.data(&format!("{url}\n"));
            }
            Event::Contained { stage, by, changes } => self.warn(&format!(
                "{} changed the repository outside the worktree: {}",
                words::contained_by(stage, &by),
                ContainedChange::list(&changes)
            )),
            Event::WorktreeRemoved { issue, recovered } => {
                if let Some(saved) = recovered {
                    self.warn(&format!(
                        "the worktree of #{issue} held changes no commit has; they are saved in {} and the worktree is removed",
                        saved.display()
                    ));
                }
                if self.ui.verbosity == Verbosity::Verbose {
                    self.line(DIM, "Worktree", &format!("of #{issue} removed"));
                }
            }
            Event::Warning(warning) => self.warn(&match warning {
                Warning::IssueNotRefreshed { issue, error } => format!(
                    "could not read issue #{issue} from GitHub again ({error}): going on with the issue as its brief filed it; whether it changed since is not known"
                ),
                Warning::UpdateBaseUnused => "--update-base merges the base only as impl starts, and impl does not run in this run: nothing was merged (when the code is done, merge the base into the branch with git and run again)".into(),
                Warning::UnusedPromptFile { path } => format!(
                    "{} matches no prompt template and is not used",
                    path.display()
                ),
                Warning::TranscriptNotSaved { dir, error } => format!(
                    "could not save the model transcript in {}: {error}",
                    dir.display()
                ),
                Warning::WorktreeKept { path, error } => format!(
                    "the worktree {} is kept: it holds changes no commit has, and they could not be saved ({error}); `git orchestrate clean` removes it once they can be",
                    path.display()
                ),
            }),
            Event::Redacted(redaction) => self.redacted(&redaction),
            Event::Finished(summary) => self.summary(&summary),
            // The command line prints its errors itself, with their hints.
            Event::Error { .. } => {}
        }
    }
}

/// `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1,200 in (800 cached) / 300 out tokens, $0.0123`, when anything was reported.
fn spend_words(usage: Option<crate::llm::Usage>, cost: Option<f64>) -> Option<String> {
    let usage = usage?;
    let cached = if usage.cached_input > 0 {
        format!(" ({} cached)", thousands(usage.cached_input))
    } else {
        String::new()
    };
    let mut text = format!(
        "{} in{cached} / {} out tokens",
        thousands(usage.input),
        thousands(usage.output)
    );
    if let Some(cost) = cost {
        text.push_str(&format!(", ${cost:.4}"));
    }
    Some(text)
}
