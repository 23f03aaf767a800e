//! `status` output for people.

use super::table::table;
use super::words;
use crate::ops::status::IssueStatus;

/// One issue: its stages as a table, then what to do next.
pub fn render_issue_status(status: &IssueStatus) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = status
        .stages
        .iter()
        .map(|s| {
            let verdict = if s.by_person {
                Some("by hand".to_string())
            } else {
                s.verdict.clone()
            };
            let tokens = s.tokens.map(|t| format!("in={} out={}", t.input, t.output));
            vec![
                s.stage.name().to_string(),
                s.state.name().to_string(),
                dash(&verdict),
                match (s.rounds, s.attempts) {
                    (Some(r), _) => r.to_string(),
                    (None, Some(1)) => "1 attempt".into(),
                    (None, Some(a)) => format!("{a} attempts"),
                    (None, None) => "-".into(),
                },
                dash(&s.drafter.clone().or_else(|| s.implementer.clone())),
                dash(&s.reviewer),
                dash(&tokens),
                dash(&s.date.as_deref().map(crate::ops::status::short_date)),
                dash(&s.commit),
            ]
        })
        .collect();
    let mut out = format!(
        "#{} {}\nbranch: {}\n",
        status.issue, status.title, status.branch
    );
    if let Some(base) = status.base.as_ref().filter(|b| b.ahead > 0) {
        let commits = match base.ahead {
            1 => "1 commit".to_string(),
            n => format!("{n} commits"),
        };
        out.push_str(&format!(
            "base: {} is {commits} ahead of this branch's fork point (merge-base {})\n",
            base.branch, base.merge_base
        ));
    }
    out.push('\n');
    out.push_str(&table(
        &[
            "stage", "state", "verdict", "rounds", "drafter", "reviewer", "tokens", "date",
            "commit",
        ],
        &rows,
    ));
    for s in &status.stages {
        if let Some(stale) = &s.stale {
            out.push_str(&format!("\n{}: stale: {}\n", s.stage, stale.reason));
        }
        if let Some(reason) = &s.blocked {
            out.push_str(&format!("\n{}: blocked: {reason}\n", s.stage));
        }
        if let Some(tests) = &s.tests {
            out.push_str(&format!("\n{}: tests {tests}\n", s.stage));
        }
        if let Some(url) = &s.pull_request {
            out.push_str(&format!("\npull request: {url}\n"));
        }
    }
    if let Some(defaults) = &status.default_models {
        out.push('\n');
        match (&defaults.chosen, &defaults.problem) {
            (Some(chosen), _) => {
                out.push_str("models (not configured, so chosen from this machine):\n");
                out.push_str(&format!(
                    "  drafter {}: {}\n",
                    chosen.drafter.model, chosen.drafter.why
                ));
                out.push_str(&format!(
                    "  reviewer {}: {}\n",
                    chosen.reviewer.model, chosen.reviewer.why
                ));
            }
            (None, Some(problem)) => {
                out.push_str(problem);
                out.push('\n');
            }
            (None, None) => {}
        }
    }
    let next = words::next(&status.next, status.issue);
    if !next.is_empty() {
        out.push('\n');
        let mut lines = next.iter();
        if let Some(first) = lines.next() {
            out.push_str(&format!("next: {first}\n"));
        }
        for line in lines {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// Every issue with a branch, a line each.
pub fn render_status_list(statuses: &[IssueStatus]) -> String {
    if statuses.is_empty() {
        return "no issue has an orchestrate branch yet\n".into();
    }
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|s| {
            vec![
                format!("#{}", s.issue),
                s.current(),
                s.branch.clone(),
                s.title.clone(),
            ]
        })
        .collect();
    table(&["issue", "where", "branch", "title"], &rows)
}
