//! What `eval` shows: a line per commit as it is decided (a task, or skipped and why), the
//! table of the tasks' results with the summary line, the same as Markdown for `report.md`,
//! two runs side by side (`--compare`), what `--clean` removed, and `--json` lines.

use super::Ui;
use super::table::table;
use crate::ops::eval::EvalEvent;
use crate::ops::eval::report::{
    Candidate, CandidateStatus, Comparison, EvalReport, EvalSummary, Judgement, SkipReason,
    TaskResult,
};

/// Why a commit is not a task, in words.
pub fn skip_words(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::RootCommit => "no parent to start from",
        SkipReason::NoTestChange => "changes no test file",
        SkipReason::OnlyTests => "changes only test files",
        SkipReason::NoIssue => "its message names no issue (Fixes #N)",
        SkipReason::IssueNotRead => "its issue could not be read",
        SkipReason::NoTestCommand => "no test command (stages.impl.test_command)",
        SkipReason::PassesOnParent => "its tests do not fail on the parent",
        SkipReason::FailsOnCommit => "the tests fail on the commit itself",
        SkipReason::TimedOut => "the tests did not finish in time",
        SkipReason::TestsNotRun => "the test command could not run",
    }
}

fn judgement_words(judgement: Judgement) -> &'static str {
    match judgement {
        Judgement::PassedSolved => "passed, solved",
        Judgement::FalsePass => "FALSE PASS",
        Judgement::Cautious => "blocked, solved",
        Judgement::Unsolved => "unsolved",
        Judgement::Error => "error",
    }
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// One commit as decided: `#3 1a2b3c4 Add a flag: task` or `... skipped: why`.
pub fn render_candidate(candidate: &Candidate) -> String {
    let head = format!(
        "#{} {} {}",
        candidate.task,
        short(&candidate.commit),
        candidate.subject
    );
    match &candidate.status {
        CandidateStatus::Valid => format!(
            "{head}: task ({} hidden test file(s))",
            candidate.hidden_tests.len()
        ),
        CandidateStatus::Skipped { reason, .. } => {
            format!("{head}: skipped, {}", skip_words(*reason))
        }
        CandidateStatus::NotChecked => format!("{head}: not checked"),
    }
}

/// What an eval event says on the terminal (the pipeline's own events go through the lanes).
pub fn render_eval_event(ui: &Ui, event: &EvalEvent) {
    match event {
        EvalEvent::EvalStarted {
            run_id,
            range,
            commits,
            candidates,
        } => ui.status(&format!(
            "eval {run_id}: {range} has {commits} commit(s), {candidates} changing tests and code; checking them (no model is called)"
        )),
        EvalEvent::Candidate(candidate) => ui.status(&render_candidate(candidate)),
        EvalEvent::TaskStarted { .. } => {}
        EvalEvent::TaskJudged(result) => {
            let line = format!(
                "#{} {}: {}",
                result.task,
                short(&result.commit),
                judgement_words(result.judgement)
            );
            match &result.error {
                Some(error) => ui.stderr(&format!("{line}: {error}")),
                None => ui.status(&line),
            }
        }
        EvalEvent::EvalFinished(_) => {}
    }
}

/// An eval event as one JSON line on stdout.
pub fn emit_json(ui: &Ui, event: &EvalEvent) -> std::io::Result<()> {
    let line = serde_json::to_string(event).map_err(std::io::Error::other)?;
    ui.data(&format!("{line}\n"))
}

fn usd(cost: Option<f64>) -> String {
    cost.map(|c| format!("{c:.2}"))
        .unwrap_or_else(|| "?".into())
}

fn solved_cell(result: &TaskResult) -> String {
    match (result.solved, result.judgement) {
        (_, Judgement::FalsePass) => "no (false pass)".into(),
        (Some(true), _) => "yes".into(),
        (Some(false), _) => "no".into(),
        (None, _) => "error".into(),
    }
}

/// The rows of the task table.
fn task_rows(report: &EvalReport) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "task", "commit", "triage", "lld", "spec", "impl", "solved", "tokens", "$", "min",
    ];
    let rows = report
        .tasks
        .iter()
        .map(|t| {
            let verdict = |stage: &str| {
                t.stages
                    .iter()
                    .find(|s| s.stage == stage)
                    .map(|s| s.verdict.clone())
                    .unwrap_or_else(|| "-".into())
            };
            vec![
                format!("#{}", t.task),
                short(&t.commit).to_string(),
                verdict("triage"),
                verdict("lld"),
                verdict("spec"),
                verdict("impl"),
                solved_cell(t),
                format!("{}", t.tokens_in + t.tokens_out),
                usd(t.cost_usd),
                format!("{:.1}", t.elapsed_ms as f64 / 60_000.0),
            ]
        })
        .collect();
    (header, rows)
}

/// `solved 2/3 = 66.7 %, $0.40 per solved task, 1.5 min per task, 1 false pass`.
pub fn render_summary(summary: &EvalSummary) -> String {
    let per_solved = match summary.usd_per_solved {
        Some(c) => format!("${c:.2} per solved task"),
        None => "no $ per solved task".into(),
    };
    let false_passes = match summary.false_passes {
        1 => "1 false pass".to_string(),
        n => format!("{n} false passes"),
    };
    let mut line = format!(
        "solved {}/{} = {:.1} %, {per_solved}, {:.1} min per task, {false_passes}",
        summary.solved, summary.tasks, summary.solved_percent, summary.minutes_per_task
    );
    if summary.cautious > 0 {
        line.push_str(&format!(
            ", {} cautious (blocked but solved)",
            summary.cautious
        ));
    }
    if summary.errors > 0 {
        line.push_str(&format!(", {} error(s)", summary.errors));
    }
    line
}

/// The table and the summary line (data: stdout).
pub fn render_report(report: &EvalReport) -> String {
    let (header, rows) = task_rows(report);
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str(&table(&header, &rows));
    }
    let skipped = report
        .candidates
        .iter()
        .filter(|c| matches!(c.status, CandidateStatus::Skipped { .. }))
        .count();
    out.push_str(&format!(
        "{} commit(s), {} task(s), {skipped} skipped\n",
        report.candidates.len(),
        report.chosen.len()
    ));
    out.push_str(&render_summary(&report.summary));
    out.push('\n');
    out
}

/// `report.md`.
pub fn render_markdown(report: &EvalReport) -> String {
    let mut out = format!(
        "# git orchestrate eval {}\n\nRange `{}`{}, started {}.\n\n{}\n\n## Tasks\n\n",
        report.run_id,
        report.range,
        if report.merges { " (merges)" } else { "" },
        report.started,
        render_summary(&report.summary)
    );
    let (header, rows) = task_rows(report);
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out.push_str("\n## Commits\n\n");
    for candidate in &report.candidates {
        out.push_str(&format!("- {}\n", render_candidate(candidate)));
    }
    if !report.overrides.is_empty() {
        out.push_str("\n## Configuration given\n\n");
        for o in &report.overrides {
            out.push_str(&format!("- `-c {o}`\n"));
        }
    }
    out
}

/// Two runs side by side.
pub fn render_comparison(cmp: &Comparison) -> String {
    let yes_no = |s: Option<bool>| match s {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    };
    let rows: Vec<Vec<String>> = cmp
        .tasks
        .iter()
        .map(|t| {
            vec![
                format!("#{}", t.task),
                short(&t.commit).to_string(),
                yes_no(t.a).into(),
                yes_no(t.b).into(),
                usd(t.cost_a),
                usd(t.cost_b),
            ]
        })
        .collect();
    let mut out = table(
        &["task", "commit", "A solved", "B solved", "A $", "B $"],
        &rows,
    );
    out.push_str(&format!(
        "A {}: {}\n",
        cmp.a,
        render_summary(&cmp.summary_a)
    ));
    out.push_str(&format!(
        "B {}: {}\n",
        cmp.b,
        render_summary(&cmp.summary_b)
    ));
    let only_a = cmp
        .tasks
        .iter()
        .filter(|t| t.a == Some(true) && t.b != Some(true))
        .count();
    let only_b = cmp
        .tasks
        .iter()
        .filter(|t| t.b == Some(true) && t.a != Some(true))
        .count();
    let diff = match (cmp.summary_a.cost_usd, cmp.summary_b.cost_usd) {
        (Some(a), Some(b)) => format!("B costs ${:+.2} against A", b - a),
        _ => "cost difference unknown".into(),
    };
    out.push_str(&format!(
        "solved by A only: {only_a}, by B only: {only_b}; {diff}\n"
    ));
    if cmp.only_a + cmp.only_b > 0 {
        out.push_str(&format!(
            "left out: {} task(s) only A ran, {} only B ran\n",
            cmp.only_a, cmp.only_b
        ));
    }
    out
}

/// What `eval --clean` says.
pub fn render_eval_cleaned(run_id: &str, refs: usize, scratch: bool) -> String {
    let mut parts = vec![format!(
        "{refs} ref(s) under refs/orchestrate-eval/{run_id}/"
    )];
    if scratch {
        parts.push("its scratch repositories".into());
    }
    format!(
        "removed {} (report.json and report.md are kept)",
        parts.join(" and ")
    )
}
