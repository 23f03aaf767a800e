//! `status`: where each issue stands, read from its branch history alone (no network, no
//! local state needed), as data the command line renders as a table or as JSON.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::status_cache::{Entry, StatusCache};
use crate::git::{Head, ObjectId};
use crate::llm::defaults::{self, Defaults};
use crate::pipeline::branch::history::HistoryCache;
use crate::pipeline::branch::message::blocked_reason;
use crate::pipeline::branch::message::{
    TRAILER_ATTEMPTS, TRAILER_COST, TRAILER_DRAFTER, TRAILER_IMPLEMENTER, TRAILER_PR,
    TRAILER_REVIEWER, TRAILER_ROUNDS, TRAILER_TESTS, TRAILER_TOKENS, TRAILER_VERDICT,
};
use crate::pipeline::branch::{IssueBranch, IssueState, StageState};
use crate::pipeline::gate;
use crate::pipeline::prompts::Prompts;
use crate::pipeline::stale::{self, InputContext, StaleWhy};
use crate::pipeline::{PipelineError, Session};
use crate::stage::{Gate, Stage};

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IssueStatus {
    pub issue: u64,
    pub branch: String,
    pub title: String,
    pub stages: Vec<StageStatus>,
    /// The gate the issue waits at, if any.
    pub waiting_at: Option<Gate>,
    /// What to do next.
    pub next: NextAction,
    /// The models a run would use where configuration names none, and why.
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub default_models: Option<DefaultModels>,
    /// How far the base (the branch checked out) has moved on from this branch: said in the
    /// status of one issue, when `HEAD` is on another branch that shares history with it.
    /// Information only: the base moving does not make the branch's work stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseStatus>,
}

/// The base branch against an issue branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BaseStatus {
    /// The base's name: the branch checked out.
    pub branch: String,
    /// The base's tip.
    pub tip: String,
    /// Where the issue branch forked from it (their merge-base).
    pub merge_base: String,
    /// Commits the base has that the issue branch lacks.
    pub ahead: u64,
}

/// Zero-config model choices, as a run would make them now.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct DefaultModels {
    pub chosen: Option<Defaults>,
    /// Why nothing could be chosen.
    pub problem: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageStatus {
    pub stage: Stage,
    pub state: StageLabel,
    /// The `Orchestrate-Verdict` of the artifact's last change.
    pub verdict: Option<String>,
    /// The artifact was last changed by a person.
    pub by_person: bool,
    pub drafter: Option<String>,
    pub reviewer: Option<String>,
    pub rounds: Option<u32>,
    /// impl: the implementer (`Orchestrate-Implementer`).
    pub implementer: Option<String>,
    /// impl: implementation attempts (`Orchestrate-Attempts`).
    pub attempts: Option<u32>,
    /// impl: the test command and its result (`Orchestrate-Tests`: `"cargo test" passed`),
    /// when tests ran.
    pub tests: Option<String>,
    /// Why the stage blocked, as its commit message says (`Blocked: ...`).
    #[serde(default)]
    pub blocked: Option<String>,
    /// pr: the pull request (`Orchestrate-PR`).
    pub pull_request: Option<String>,
    /// Done, but made from inputs that changed since: why (a run redoes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<StaleStatus>,
    /// Tokens the commit's trailer records (`Orchestrate-Tokens`).
    pub tokens: Option<Tokens>,
    /// USD the commit's trailer records (`Orchestrate-Cost`).
    pub cost_usd: Option<f64>,
    /// Commit date of the artifact's last change, RFC 3339 in UTC (`2026-11-24T10:01:00Z`).
    pub date: Option<String>,
    pub commit: Option<String>,
    pub artifact: Option<String>,
}

/// Why a stage is stale, as data and in words.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StaleStatus {
    #[serde(flatten)]
    pub why: StaleWhy,
    /// `docs/lld/7.md changed in a1b2c3d (Ada Lovelace) after the spec was approved`.
    pub reason: String,
}

/// Where a stage stands, in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageLabel {
    Done,
    /// Done, and a gate after it waits for a person.
    Waiting,
    Blocked,
    Rejected,
    Draft,
    Pending,
    /// Done, but made from inputs that changed since.
    Stale,
}

impl StageLabel {
    pub fn name(self) -> &'static str {
        match self {
            StageLabel::Done => "done",
            StageLabel::Waiting => "waiting",
            StageLabel::Blocked => "blocked",
            StageLabel::Rejected => "rejected",
            StageLabel::Draft => "draft",
            StageLabel::Pending => "pending",
            StageLabel::Stale => "stale",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
}

/// What comes next for an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NextAction {
    /// A person decides at `gate` about `artifact` (approve or reject).
    Decide { gate: Gate, artifact: String },
    /// `stage` is blocked: a run tries again from its draft, or a person edits `artifact`.
    Retry { stage: Stage, artifact: String },
    /// `stage` was rejected at its gate: a run revises it with the feedback.
    Revise { stage: Stage },
    /// impl blocked on the branch's own code before any model was called (its tests fail,
    /// hang, cannot run, or change the repository there): a run only tests it again; the fix
    /// has to come onto `branch` first (from the base by itself while the branch holds no
    /// code; with `--update-base` after), or the failures be declared known.
    FixBaseline {
        artifact: String,
        /// The blocked commit's reason (`Blocked: ...`).
        reason: Option<String>,
        branch: String,
        problem: BaselineProblem,
    },
    /// A run goes on with `stage`.
    Continue { stage: Stage },
    /// impl comes next, but no test command is configured and none is detected: a run would
    /// stop there.
    NeedsTestCommand,
    /// `stage` is stale: a run redoes it and what follows, from what is on the branch.
    Redo { stage: Stage, reason: String },
    /// Every stage this version runs is done; `pull_request` is the one the branch records,
    /// `recorded` what the pr stage's commit said of it then (`Opened draft pull request #12
    /// into main: URL`).
    Done {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pull_request: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recorded: Option<String>,
    },
}

/// What stopped impl on the branch's own code, from its blocked reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BaselineProblem {
    /// The tests fail there.
    Fails,
    /// They do not finish within the timeout.
    TimedOut,
    /// The test command was not found.
    NotFound,
    /// They change the repository outside the worktree.
    Contained,
}

impl BaselineProblem {
    /// Which problem a blocked reason names; the reasons are the impl stage's own words.
    pub fn of(reason: &str) -> BaselineProblem {
        if reason.contains("was not found") {
            BaselineProblem::NotFound
        } else if reason.contains("do not finish within") {
            BaselineProblem::TimedOut
        } else if reason.contains("outside the worktree") {
            BaselineProblem::Contained
        } else {
            BaselineProblem::Fails
        }
    }
}

impl IssueStatus {
    /// The first stage that is not done, or the last one, for one-line summaries. A pending
    /// stage with work on a later stage was skipped (`--skip`) or not needed: the later stage
    /// is where the issue stands (`spec blocked` after `--skip-lld`, not `lld pending`).
    pub fn current(&self) -> String {
        if let Some(gate) = self.waiting_at {
            return format!("waiting at {gate}");
        }
        let available: Vec<&StageStatus> = self.stages.iter().collect();
        let passed_over = |i: usize| {
            available[i].state == StageLabel::Pending
                && available[i + 1..]
                    .iter()
                    .any(|later| later.state != StageLabel::Pending)
        };
        let standing = available
            .iter()
            .enumerate()
            .find(|(i, s)| s.state != StageLabel::Done && !passed_over(*i))
            .map(|(_, s)| s);
        match standing {
            Some(s) => format!("{} {}", s.stage, s.state.name()),
            None => available
                .last()
                .map(|s| format!("{} done", s.stage))
                .unwrap_or_default(),
        }
    }
}

/// The status of one issue, with the models a run would choose where none is configured;
/// `None` when the issue has no branch.
///
/// `issue_text` is the issue as a run would read it now (`status --refresh`): with it, a
/// brief written from another text is stale; without, the brief is taken as current.
pub async fn issue(
    session: &Session,
    issue: u64,
    issue_text: Option<&str>,
) -> Result<Option<IssueStatus>, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let Some(branch) = IssueBranch::existing(&session.repo, prefix, issue)? else {
        return Ok(None);
    };
    let mut cache = HistoryCache::open(Some(&session.state.history_cache()));
    let prompts = prompts(session)?;
    let mut status = build(
        session,
        (&prompts, issue_text),
        issue,
        &branch.name,
        branch.head(),
        &mut cache,
    )?;
    cache.save();
    status.default_models = default_models(session).await;
    status.base = base_status(session, &branch.name, branch.head())?;
    Ok(Some(status))
}

/// The issue's text as a run would read it from GitHub now (one request), for
/// `status --refresh`: cleaned, bounded and without secrets, as a brief is written from.
pub async fn read_issue_text(
    session: &mut Session,
    issue: &crate::issue::IssueRef,
    io: &crate::pipeline::io::RunIo<'_>,
) -> Result<String, PipelineError> {
    use crate::pipeline::github;
    github::check_issue_host(session, issue)?;
    let target = github::target(session, issue.repo.as_deref())?;
    let connection = github::connect(session, target, io).await?;
    // A closed issue has a status too.
    let read = github::read_issue(&connection, issue.number, true, io).await?;
    Ok(super::run::without_secrets(read, session, io).input_text())
}

/// The issues that have a branch, as a run would read each from GitHub now (a request per
/// issue), for `status --refresh` with no issue.
pub async fn read_issue_texts(
    session: &mut Session,
    io: &crate::pipeline::io::RunIo<'_>,
) -> Result<BTreeMap<u64, String>, PipelineError> {
    let prefix = session.config.orchestrator.branch_prefix.clone();
    let numbers: Vec<u64> = session
        .repo
        .branches_with_prefix(&prefix)?
        .into_iter()
        .filter_map(|(name, _)| issue_of(&name, &prefix))
        .collect();
    let mut texts = BTreeMap::new();
    for number in numbers {
        let issue = crate::issue::IssueRef {
            number,
            repo: None,
            host: None,
        };
        texts.insert(number, read_issue_text(session, &issue, io).await?);
    }
    Ok(texts)
}

/// How far the branch checked out has moved on from the issue branch at `tip`: one
/// merge-base and one count of the commits between it and the base's tip. `None` on a
/// detached `HEAD`, on the issue branch itself, or without shared history.
fn base_status(
    session: &Session,
    branch: &str,
    tip: ObjectId,
) -> Result<Option<BaseStatus>, PipelineError> {
    let Head::Branch {
        name,
        tip: base_tip,
    } = session.repo.head()?
    else {
        return Ok(None);
    };
    if name == branch {
        return Ok(None);
    }
    let Some(divergence) = session.repo.divergence(tip, base_tip)? else {
        return Ok(None);
    };
    Ok(Some(BaseStatus {
        branch: name,
        tip: base_tip.short(),
        merge_base: divergence.merge_base.short(),
        ahead: divergence.ahead as u64,
    }))
}

/// The status of every issue that has a branch, newest work (branch tip) first.
///
/// `texts` holds issues read from GitHub now (`status --refresh`): their statuses are built
/// with it (a brief written from another text is stale), never from or into the cache.
pub fn all(
    session: &Session,
    texts: &BTreeMap<u64, String>,
) -> Result<Vec<IssueStatus>, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let mut out = Vec::new();
    // Branches that did not move since the last `status` come from the status cache; the
    // history cache is opened once for the others: its file is read once and written once.
    let prompts = prompts(session)?;
    let mut statuses = StatusCache::open_with(
        &session.state.status_cache(),
        &session.config,
        &format!("{prompts:?}"),
    );
    let mut history: Option<HistoryCache> = None;
    for (name, tip) in session.repo.branches_with_prefix(prefix)? {
        let Some(issue) = issue_of(&name, prefix) else {
            continue;
        };
        if let Some(text) = texts.get(&issue) {
            let history = history
                .get_or_insert_with(|| HistoryCache::open(Some(&session.state.history_cache())));
            let time = session.repo.commit_info(tip)?.time;
            let status = build(session, (&prompts, Some(text)), issue, &name, tip, history)?;
            out.push((time, status));
            continue;
        }
        let entry = statuses.get_or_build(&name, tip, || {
            let history = history
                .get_or_insert_with(|| HistoryCache::open(Some(&session.state.history_cache())));
            Ok::<_, PipelineError>(Entry {
                time: session.repo.commit_info(tip)?.time,
                status: build(session, (&prompts, None), issue, &name, tip, history)?,
            })
        })?;
        out.push((entry.time, entry.status));
    }
    if let Some(history) = history {
        history.save();
    }
    statuses.save();
    // Newest work first; issue number breaks ties.
    out.sort_by(|(a_time, a), (b_time, b)| b_time.cmp(a_time).then(a.issue.cmp(&b.issue)));
    Ok(out.into_iter().map(|(_, status)| status).collect())
}

/// What a run would choose for the design stages' unconfigured roles; `None` when
/// configuration names every drafter and reviewer.
async fn default_models(session: &Session) -> Option<DefaultModels> {
    let config = &session.config;
    let configured = [Stage::Lld, Stage::Spec].iter().all(|stage| {
        stage
            .roles()
            .iter()
            .all(|(role, _)| config.stage(*stage).model(*role).is_some())
    });
    if configured {
        return None;
    }
    let client = crate::llm::client().ok()?;
    let found = defaults::look(&session.env, config.providers.get("ollama"), &client).await;
    Some(match defaults::choose(&found) {
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

/// The issues that have a branch here, with the branch's name, by number: what the shells'
/// completion offers for an issue argument. Reads only the branch names.
pub fn issue_branches(session: &Session) -> Result<Vec<(u64, String)>, PipelineError> {
    let prefix = &session.config.orchestrator.branch_prefix;
    let mut found: Vec<(u64, String)> = session
        .repo
        .branches_with_prefix(prefix)?
        .into_iter()
        .filter_map(|(name, _)| issue_of(&name, prefix).map(|number| (number, name)))
        .collect();
    found.sort();
    Ok(found)
}

/// The issue number in an issue branch's name (`orchestrate/7-add-a-flag` → 7).
pub(super) fn issue_of(branch: &str, prefix: &str) -> Option<u64> {
    let rest = branch.strip_prefix(prefix)?;
    let (number, _) = rest.split_once('-')?;
    number.parse().ok()
}

/// The prompt templates a run here would use: they decide whether a stage is stale.
fn prompts(session: &Session) -> Result<Prompts, PipelineError> {
    Ok(Prompts::load(session.repo.workdir())?)
}

fn build(
    session: &Session,
    (prompts, issue_text): (&Prompts, Option<&str>),
    issue: u64,
    branch: &str,
    tip: ObjectId,
    cache: &mut HistoryCache,
) -> Result<IssueStatus, PipelineError> {
    let config = &session.config;
    let state = IssueState::load_with(&session.repo, tip, config, issue, cache)?;
    let gates = gate::effective(config.gates, &state, &Default::default());
    let waiting_at = gate::waiting_gate(&state, &gates);
    // Offline unless refreshed: without the issue's text, triage is taken as current.
    let stale = stale::staleness(
        &state,
        &InputContext {
            repo: &session.repo,
            config,
            prompts,
            issue,
            issue_text,
        },
    )?;
    // A gate after a stale stage does not wait: what it would decide on is redone first.
    let waiting_at = waiting_at.filter(|gate| !stale.keys().any(|s| *s <= gate.stage()));
    let stages = Stage::ALL
        .into_iter()
        .map(|stage| stage_status(&state, stage, waiting_at, stale.get(&stage)))
        .collect();
    let title = config
        .paths
        .artifact(Stage::Triage, issue)
        .and_then(|path| session.repo.read_file(tip, &path).ok().flatten())
        .and_then(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .find_map(|l| l.strip_prefix("# ").map(crate::issue::plain_line))
        })
        .unwrap_or_else(|| {
            branch
                .rsplit_once(&format!("{issue}-"))
                .map(|(_, slug)| slug.replace('-', " "))
                .unwrap_or_default()
        });
    Ok(IssueStatus {
        issue,
        branch: branch.to_string(),
        title,
        stages,
        waiting_at,
        next: match next_action(&state, waiting_at, branch, &stale) {
            // A run would stop before impl: say what it needs instead.
            NextAction::Continue { stage: Stage::Impl }
                if crate::pipeline::context::test_command(
                    config,
                    &session.repo,
                    &session.env,
                    tip,
                )
                .is_none() =>
            {
                NextAction::NeedsTestCommand
            }
            next => next,
        },
        default_models: None,
        base: None,
    })
}

fn stage_status(
    state: &IssueState,
    stage: Stage,
    waiting_at: Option<Gate>,
    stale: Option<&StaleWhy>,
) -> StageStatus {
    let record = state.stage(stage);
    let change = record.last_change.as_ref();
    let trailer = |key: &str| change.and_then(|c| c.trailer(key)).map(str::to_string);
    let label = if stale.is_some() && record.state.is_done() {
        StageLabel::Stale
    } else if waiting_at.is_some_and(|g| g.stage() == stage) {
        StageLabel::Waiting
    } else {
        match record.state {
            StageState::Missing => StageLabel::Pending,
            StageState::Done { .. } => StageLabel::Done,
            StageState::Blocked => StageLabel::Blocked,
            StageState::Draft(_) => StageLabel::Draft,
            StageState::Rejected { .. } => StageLabel::Rejected,
        }
    };
    StageStatus {
        stage,
        state: label,
        verdict: trailer(TRAILER_VERDICT),
        by_person: matches!(record.state, StageState::Done { by_person: true }),
        drafter: trailer(TRAILER_DRAFTER),
        reviewer: trailer(TRAILER_REVIEWER),
        rounds: trailer(TRAILER_ROUNDS).and_then(|r| r.parse().ok()),
        implementer: trailer(TRAILER_IMPLEMENTER),
        attempts: trailer(TRAILER_ATTEMPTS).and_then(|r| r.parse().ok()),
        tests: trailer(TRAILER_TESTS),
        blocked: match record.state {
            StageState::Blocked => change.and_then(|c| blocked_reason(&c.message)),
            _ => None,
        },
        pull_request: trailer(TRAILER_PR),
        stale: stale.map(|why| StaleStatus {
            why: why.clone(),
            reason: why.describe(stage),
        }),
        tokens: trailer(TRAILER_TOKENS).and_then(|t| parse_tokens(&t)),
        cost_usd: trailer(TRAILER_COST).and_then(|c| c.trim().parse().ok()),
        date: change.map(|c| format_date(c.time)),
        commit: change.map(|c| c.id.short()),
        artifact: record.artifact.clone(),
    }
}

/// `in=18234 out=4410`.
fn parse_tokens(text: &str) -> Option<Tokens> {
    let mut tokens = Tokens {
        input: 0,
        output: 0,
    };
    let (mut input, mut output) = (false, false);
    for part in text.split_whitespace() {
        match part.split_once('=')? {
            ("in", n) => {
                tokens.input = n.parse().ok()?;
                input = true;
            }
            ("out", n) => {
                tokens.output = n.parse().ok()?;
                output = true;
            }
            _ => {}
        }
    }
    (input && output).then_some(tokens)
}

fn next_action(
    state: &IssueState,
    waiting_at: Option<Gate>,
    branch: &str,
    stale: &BTreeMap<Stage, StaleWhy>,
) -> NextAction {
    // A stale stage comes first: a decision at a gate is about work that is redone.
    if let Some((stage, why)) = stale.iter().next() {
        return NextAction::Redo {
            stage: *stage,
            reason: why.describe(*stage),
        };
    }
    if let Some(gate) = waiting_at {
        let artifact = state
            .stage(gate.stage())
            .artifact
            .clone()
            .unwrap_or_default();
        return NextAction::Decide { gate, artifact };
    }
    for stage in Stage::ALL {
        let record = state.stage(stage);
        match &record.state {
            StageState::Done { .. } => continue,
            StageState::Blocked if stage == Stage::Impl && record.blocked_before_attempts() => {
                let reason = record
                    .last_change
                    .as_ref()
                    .and_then(|c| blocked_reason(&c.message));
                return NextAction::FixBaseline {
                    artifact: record.artifact.clone().unwrap_or_default(),
                    problem: BaselineProblem::of(reason.as_deref().unwrap_or_default()),
                    reason,
                    branch: branch.to_string(),
                };
            }
            StageState::Blocked => {
                return NextAction::Retry {
                    stage,
                    artifact: record.artifact.clone().unwrap_or_default(),
                };
            }
            StageState::Rejected { .. } => return NextAction::Revise { stage },
            StageState::Draft { .. } | StageState::Missing => {
                return NextAction::Continue { stage };
            }
        }
    }
    let pr = state.stage(Stage::Pr).last_change.as_ref();
    NextAction::Done {
        pull_request: pr.and_then(|c| c.trailer(TRAILER_PR)).map(str::to_string),
        recorded: pr.and_then(|c| {
            c.message
                .split("\n\n")
                .find(|p| p.starts_with("Opened ") || p.starts_with("Updated "))
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        }),
    }
}

/// `2026-11-24T10:01:00Z`: RFC 3339, in UTC, as JSON carries dates.
pub fn format_date(secs: i64) -> String {
    let secs = u64::try_from(secs).unwrap_or(0);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// `2026-11-24 10:01` (UTC), as a table shows a date [`format_date`] wrote.
pub fn short_date(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map(|s| s.replacen('T', " ", 1))
        .unwrap_or_else(|| rfc3339.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(states: &[(Stage, StageLabel)]) -> IssueStatus {
        let stages = states
            .iter()
            .map(|&(stage, state)| StageStatus {
                stage,
                state,
                verdict: None,
                by_person: false,
                drafter: None,
                reviewer: None,
                rounds: None,
                implementer: None,
                attempts: None,
                tests: None,
                blocked: None,
                pull_request: None,
                stale: None,
                tokens: None,
                cost_usd: None,
                date: None,
                commit: None,
                artifact: None,
            })
            .collect();
        IssueStatus {
            issue: 7,
            branch: "orchestrate/7-x".into(),
            title: "x".into(),
            stages,
            waiting_at: None,
            next: NextAction::Done {
                pull_request: None,
                recorded: None,
            },
            default_models: None,
            base: None,
        }
    }

    #[test]
    fn the_one_line_summary_passes_over_skipped_stages() {
        use StageLabel::*;
        let skipped_lld = status(&[
            (Stage::Triage, Done),
            (Stage::Lld, Pending),
            (Stage::Spec, Blocked),
        ]);
        assert_eq!(skipped_lld.current(), "spec blocked");
        let skipped_lld_done = status(&[
            (Stage::Triage, Done),
            (Stage::Lld, Pending),
            (Stage::Spec, Done),
        ]);
        assert_eq!(skipped_lld_done.current(), "spec done");
        let fresh = status(&[
            (Stage::Triage, Done),
            (Stage::Lld, Pending),
            (Stage::Spec, Pending),
        ]);
        assert_eq!(fresh.current(), "lld pending");
        let blocked = status(&[
            (Stage::Triage, Done),
            (Stage::Lld, Blocked),
            (Stage::Spec, Pending),
        ]);
        assert_eq!(blocked.current(), "lld blocked");
    }

    #[test]
    fn dates_issue_numbers_and_tokens() {
        assert_eq!(format_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_date(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(short_date(&format_date(1_795_000_000)), "2026-11-18 11:06");
        assert_eq!(issue_of("orchestrate/12-fix-it", "orchestrate/"), Some(12));
        assert_eq!(issue_of("orchestrate/x-fix", "orchestrate/"), None);
        assert_eq!(
            parse_tokens("in=18234 out=4410"),
            Some(Tokens {
                input: 18234,
                output: 4410
            })
        );
        assert_eq!(parse_tokens("in=1"), None);
        assert_eq!(parse_tokens("lots"), None);
    }
}
