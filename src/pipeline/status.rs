//! `status`: where each issue stands, read from its branch history alone.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use super::branch::IssueBranch;
use super::gate;
use super::history::{
    IssueState, StageState, TRAILER_DRAFTER, TRAILER_REVIEWER, TRAILER_ROUNDS, TRAILER_TOKENS,
    TRAILER_VERDICT, artifact_path,
};
use super::stage::{Gate, Stage};
use super::{PipelineError, Session};

#[derive(Clone, Debug, Serialize)]
pub struct IssueStatus {
    pub issue: u64,
    pub branch: String,
    pub title: String,
    pub stages: Vec<StageStatus>,
    /// The gate the issue waits at, if any.
    pub waiting_at: Option<Gate>,
    /// What to do next, in words and commands.
    pub next: Vec<String>,
    /// The models a run would use where configuration names none, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_models: Option<DefaultModels>,
}

/// Zero-config model choices, as a run would make them now.
#[derive(Clone, Debug, Serialize)]
pub struct DefaultModels {
    pub chosen: Option<crate::llm::defaults::Defaults>,
    /// Why nothing could be chosen.
    pub problem: Option<String>,
}

/// What a run would choose for the design stages' unconfigured roles; `None` when
/// configuration names every drafter and reviewer.
pub async fn default_models(session: &Session) -> Option<DefaultModels> {
    let config = &session.config;
    let configured = [&config.lld, &config.spec]
        .iter()
        .all(|s| s.drafter.is_some() && s.reviewer.is_some());
    if configured {
        return None;
    }
    let client = crate::llm::client().ok()?;
    let found =
        crate::llm::defaults::look(&session.env, config.providers.get("ollama"), &client).await;
    Some(match crate::llm::defaults::choose(&found) {
        Ok(chosen) => DefaultModels {
            chosen: Some(chosen),
            problem: None,
        },
        Err(problem) => DefaultModels {
            chosen: None,
            problem: Some(problem),
        },
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct StageStatus {
    pub stage: Stage,
    /// `done`, `waiting`, `blocked`, `rejected`, `draft` or `pending`.
    pub state: String,
    pub verdict: Option<String>,
    pub drafter: Option<String>,
    pub reviewer: Option<String>,
    pub rounds: Option<u32>,
    pub tokens: Option<String>,
    /// Commit date of the artifact's last change, UTC.
    pub date: Option<String>,
    pub commit: Option<String>,
    pub artifact: Option<String>,
    pub by_person: bool,
}

impl IssueStatus {
    /// The first stage that is not done, or the last one, for one-line summaries.
    pub fn current(&self) -> String {
        if let Some(gate) = self.waiting_at {
            return format!("waiting at {gate}");
        }
        let available: Vec<&StageStatus> = self
            .stages
            .iter()
            .filter(|s| s.stage.is_available())
            .collect();
        match available.iter().find(|s| s.state != "done") {
            Some(s) => format!("{} {}", s.stage, s.state),
            None => available
                .last()
                .map(|s| format!("{} done", s.stage))
                .unwrap_or_default(),
        }
    }
}

/// The status of one issue; `None` when it has no branch.
pub fn issue_status(session: &Session, issue: u64) -> Result<Option<IssueStatus>, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let Some(branch) = IssueBranch::existing(&session.repo, prefix, issue)? else {
        return Ok(None);
    };
    build(session, issue, &branch.name, branch.head()).map(Some)
}

/// The status of every issue that has a branch, by issue number.
pub fn all_statuses(session: &Session) -> Result<Vec<IssueStatus>, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let mut out = Vec::new();
    for (name, tip) in session.repo.branches_with_prefix(prefix)? {
        let Some(issue) = issue_of(&name, prefix) else {
            continue;
        };
        out.push(build(session, issue, &name, tip)?);
    }
    out.sort_by_key(|s| s.issue);
    Ok(out)
}

fn issue_of(branch: &str, prefix: &str) -> Option<u64> {
    let rest = branch.strip_prefix(prefix)?;
    let (number, _) = rest.split_once('-')?;
    number.parse().ok()
}

fn build(
    session: &Session,
    issue: u64,
    branch: &str,
    tip: crate::git::ObjectId,
) -> Result<IssueStatus, PipelineError> {
    let config = &session.config;
    let cache = session.state.history_cache();
    let state = IssueState::load(&session.repo, tip, config, issue, Some(&cache))?;
    let waiting_at = gate::waiting_gate(&state, &config.gates);
    let stages = Stage::ALL
        .into_iter()
        .map(|stage| stage_status(&state, stage, waiting_at))
        .collect();
    let title = artifact_path(&config.paths, Stage::Triage, issue)
        .and_then(|path| session.repo.read_file(tip, &path).ok().flatten())
        .and_then(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_string()))
        })
        .unwrap_or_else(|| {
            branch
                .rsplit_once(&format!("{issue}-"))
                .map(|(_, slug)| slug.replace('-', " "))
                .unwrap_or_default()
        });
    let next = next_steps(&state, issue, waiting_at, config);
    Ok(IssueStatus {
        issue,
        branch: branch.to_string(),
        title,
        stages,
        waiting_at,
        next,
        default_models: None,
    })
}

fn stage_status(state: &IssueState, stage: Stage, waiting_at: Option<Gate>) -> StageStatus {
    let record = state.stage(stage);
    let change = record.last_change.as_ref();
    let trailer = |key: &str| change.and_then(|c| c.trailer(key)).map(str::to_string);
    let by_person = matches!(record.state, StageState::Done { by_person: true });
    let label = if waiting_at.is_some_and(|g| g.stage() == stage) {
        "waiting"
    } else {
        record.state.label()
    };
    StageStatus {
        stage,
        state: label.into(),
        verdict: if by_person {
            Some("by hand".into())
        } else {
            trailer(TRAILER_VERDICT)
        },
        drafter: trailer(TRAILER_DRAFTER),
        reviewer: trailer(TRAILER_REVIEWER),
        rounds: trailer(TRAILER_ROUNDS).and_then(|r| r.parse().ok()),
        tokens: trailer(TRAILER_TOKENS),
        date: change.map(|c| format_date(c.time)),
        commit: change.map(|c| c.id.short()),
        artifact: record.artifact.clone(),
        by_person,
    }
}

fn next_steps(
    state: &IssueState,
    issue: u64,
    waiting_at: Option<Gate>,
    config: &crate::config::Config,
) -> Vec<String> {
    if let Some(gate) = waiting_at {
        let mut lines = vec![format!(
            "waiting at gate {gate} for a decision on {}:",
            state
                .stage(gate.stage())
                .artifact
                .clone()
                .unwrap_or_default()
        )];
        lines.extend(gate::commands(issue, gate, &config.gates));
        return lines;
    }
    for stage in Stage::ALL.into_iter().filter(|s| s.is_available()) {
        let record = state.stage(stage);
        match &record.state {
            StageState::Done { .. } => continue,
            StageState::Blocked => {
                return vec![
                    format!(
                        "{stage} is blocked; `git orchestrate {issue}` tries again from the blocked draft"
                    ),
                    format!(
                        "or edit {} by hand and commit it: a person's version counts as done",
                        record.artifact.clone().unwrap_or_default()
                    ),
                ];
            }
            StageState::Rejected { .. } => {
                return vec![format!(
                    "{stage} was rejected at its gate; `git orchestrate {issue}` revises it with the feedback"
                )];
            }
            StageState::Draft { .. } | StageState::Missing => {
                return vec![format!("`git orchestrate {issue}` continues with {stage}")];
            }
        }
    }
    vec!["the design documents are done".into()]
}

/// `2026-11-24 10:01` (UTC).
pub fn format_date(secs: i64) -> String {
    let Ok(secs) = u64::try_from(secs) else {
        return "-".into();
    };
    let stamp =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
    // 2026-11-24T10:01:00Z
    stamp
        .get(..16)
        .map(|s| s.replacen('T', " ", 1))
        .unwrap_or(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_issue_numbers() {
        assert_eq!(format_date(0), "1970-01-01 00:00");
        assert_eq!(format_date(1_795_000_000), "2026-11-18 11:06");
        assert_eq!(issue_of("orchestrate/12-fix-it", "orchestrate/"), Some(12));
        assert_eq!(issue_of("orchestrate/x-fix", "orchestrate/"), None);
    }
}
