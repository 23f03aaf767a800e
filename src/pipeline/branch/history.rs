//! Where an issue stands, read from its branch history alone.
//!
//! A stage is complete when its artifact is in the tip's tree and the last commit that changed
//! the artifact is a person's (no `Orchestrate-Stage` trailer) or an orchestrate commit with
//! verdict `approved`, `human-approved` or `passed`. Gate events are commits that change
//! nothing: a person's decision (`Orchestrate-Gate` with verdict `human-approved` or
//! `rejected`), or a run stopping to wait (`Orchestrate-Waiting`). Only the newest event since
//! the last change to the artifact a gate looks at counts.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

pub use super::cache::HistoryCache;
use super::cache::{Answer, Key};
use super::message::{
    TRAILER_GATE, TRAILER_ISSUE, TRAILER_STAGE, TRAILER_VERDICT, TRAILER_WAITING, Verdict,
};
use crate::config::Config;
use crate::git::{CommitInfo, GitError, ObjectId, Repo};
use crate::stage::{Gate, Stage};

/// Where one stage stands.
#[derive(Clone, Debug)]
pub enum StageState {
    /// No artifact in the tip's tree.
    Missing,
    /// Complete: approved, human-approved or passed by orchestrate, or written by a person.
    Done { by_person: bool },
    /// Orchestrate committed it with verdict `blocked`.
    Blocked,
    /// An artifact exists but is not trusted as finished.
    Draft(DraftWhy),
    /// Complete, but rejected at the gate after it; `feedback` is the person's reason.
    Rejected { feedback: String },
}

/// Why an artifact on the branch is only a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DraftWhy {
    /// A person wrote it, and `skip_existing_<stage> = false` sends it through review.
    HandWritten { stage: Stage, commit: String },
    /// Orchestrate committed it with a verdict that does not complete a stage.
    Verdict { verdict: String, commit: String },
    /// Orchestrate committed it without a verdict.
    NoVerdict { commit: String },
}

impl fmt::Display for DraftWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DraftWhy::HandWritten { stage, commit } => write!(
                f,
                "written by hand in {commit} and skip_existing_{stage} = false: it goes through review"
            ),
            DraftWhy::Verdict { verdict, commit } => {
                write!(f, "committed with verdict `{verdict}` in {commit}")
            }
            DraftWhy::NoVerdict { commit } => write!(f, "committed without a verdict in {commit}"),
        }
    }
}

impl StageState {
    pub fn is_done(&self) -> bool {
        matches!(self, StageState::Done { .. })
    }

    /// One word for tables.
    pub fn label(&self) -> &'static str {
        match self {
            StageState::Missing => "pending",
            StageState::Done { .. } => "done",
            StageState::Blocked => "blocked",
            StageState::Draft { .. } => "draft",
            StageState::Rejected { .. } => "rejected",
        }
    }
}

/// A stage's record on the branch.
#[derive(Clone, Debug)]
pub struct StageRecord {
    pub state: StageState,
    pub artifact: Option<String>,
    /// The commit that last changed the artifact.
    pub last_change: Option<CommitInfo>,
}

impl StageRecord {
    /// Blocked with no attempt made (`Orchestrate-Attempts: 0`): impl stopped on the branch's
    /// own code — its tests fail, hang or cannot run there — before any model was called.
    pub fn blocked_before_attempts(&self) -> bool {
        matches!(self.state, StageState::Blocked)
            && self
                .last_change
                .as_ref()
                .and_then(|c| c.trailer(super::message::TRAILER_ATTEMPTS))
                .is_some_and(|n| n.trim() == "0")
    }

    /// The state in words, with the commit: `done: written by hand in 1a2b3c4`.
    pub fn describe(&self) -> String {
        let at = self
            .last_change
            .as_ref()
            .map(|c| format!(" in {}", c.id.short()))
            .unwrap_or_default();
        match &self.state {
            StageState::Missing => "not started".into(),
            StageState::Done { by_person: true } => format!("done: written by hand{at}"),
            StageState::Done { by_person: false } => format!("done{at}"),
            StageState::Blocked => format!("blocked{at}"),
            StageState::Draft(why) => format!("a draft: {why}"),
            StageState::Rejected { .. } => format!("rejected at its gate{at}"),
        }
    }

    pub fn short_commit(&self) -> Option<String> {
        self.last_change.as_ref().map(|c| c.id.short())
    }
}

/// What happened at a gate: the newest gate commit since its stage's artifact last changed.
#[derive(Clone, Debug)]
pub struct GateEvent {
    pub kind: GateEventKind,
    pub commit: CommitInfo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateEventKind {
    /// A person approved.
    Approved,
    /// A person rejected, saying why.
    Rejected { feedback: String },
    /// A run stopped here to wait for a person.
    Waiting,
}

/// Everything the branch says about an issue.
#[derive(Clone, Debug)]
pub struct IssueState {
    pub tip: Option<ObjectId>,
    pub stages: BTreeMap<Stage, StageRecord>,
    /// The newest event at each gate since its stage's artifact last changed.
    pub gates: BTreeMap<Gate, GateEvent>,
}

impl IssueState {
    /// The state of a branch that does not exist yet.
    pub fn empty(config: &Config, issue: u64) -> IssueState {
        let stages = Stage::ALL
            .into_iter()
            .map(|stage| {
                let record = StageRecord {
                    state: StageState::Missing,
                    artifact: config.paths.artifact(stage, issue),
                    last_change: None,
                };
                (stage, record)
            })
            .collect();
        IssueState {
            tip: None,
            stages,
            gates: BTreeMap::new(),
        }
    }

    pub fn stage(&self, stage: Stage) -> &StageRecord {
        // Every stage is inserted by construction; a missing one reads as pending.
        static MISSING: StageRecord = StageRecord {
            state: StageState::Missing,
            artifact: None,
            last_change: None,
        };
        self.stages.get(&stage).unwrap_or(&MISSING)
    }

    /// Whether `gate` has been passed by a person since its stage's artifact last changed.
    pub fn gate_passed(&self, gate: Gate) -> bool {
        self.gates
            .get(&gate)
            .is_some_and(|e| e.kind == GateEventKind::Approved)
    }

    /// Whether a run stopped at `gate` and nobody has decided since.
    pub fn gate_waiting(&self, gate: Gate) -> bool {
        self.gates
            .get(&gate)
            .is_some_and(|e| e.kind == GateEventKind::Waiting)
    }

    /// Read the state of `issue` from the branch at `tip`. `cache` (a file under the local
    /// state directory) remembers answers by commit id, so a later call stops walking where an
    /// earlier one finished.
    pub fn load(
        repo: &Repo,
        tip: ObjectId,
        config: &Config,
        issue: u64,
        cache: Option<&Path>,
    ) -> Result<IssueState, GitError> {
        let mut cache = HistoryCache::open(cache);
        let state = IssueState::load_with(repo, tip, config, issue, &mut cache)?;
        cache.save();
        Ok(state)
    }

    /// [`IssueState::load`] with a cache the caller opened (and saves): for reading many
    /// issues, which then read the cache file once.
    pub fn load_with(
        repo: &Repo,
        tip: ObjectId,
        config: &Config,
        issue: u64,
        cache: &mut HistoryCache,
    ) -> Result<IssueState, GitError> {
        let mut state = IssueState::empty(config, issue);
        state.tip = Some(tip);
        let tracked: Vec<Tracked> = Stage::ALL
            .into_iter()
            .filter_map(|stage| {
                let path = config.paths.artifact(stage, issue)?;
                Some(Tracked {
                    stage,
                    key: Key {
                        issue,
                        gate: stage.gate_after(),
                        path,
                    },
                })
            })
            .collect();
        let found = last_changes(repo, tip, issue, &tracked, cache)?;

        for (t, answer) in tracked.iter().zip(found) {
            let Some(Answer { change, event }) = answer else {
                continue;
            };
            let Some(record) = state.stages.get_mut(&t.stage) else {
                continue;
            };
            let change = repo.commit_info(change)?;
            record.state = classify(&change, t.stage, config);
            record.last_change = Some(change);
            let Some((gate, event)) = t.stage.gate_after().zip(event) else {
                continue;
            };
            let commit = repo.commit_info(event)?;
            let Some((_, kind)) = gate_event(&commit, &issue.to_string()) else {
                continue;
            };
            if let GateEventKind::Rejected { feedback } = &kind
                && record.state.is_done()
            {
                record.state = StageState::Rejected {
                    feedback: feedback.clone(),
                };
            }
            state.gates.insert(gate, GateEvent { kind, commit });
        }
        if let Some(pr) = pull_request(repo, tip, issue, state.stage(Stage::Impl))?
            && let Some(record) = state.stages.get_mut(&Stage::Pr)
        {
            record.state = StageState::Done { by_person: false };
            record.last_change = Some(pr);
        }
        Ok(state)
    }
}

/// The `pr` stage has no artifact: it is done when an `orchestrate(pr)` commit of the issue
/// (it records the pull request) came after the last change to the impl stage's report, on
/// the first-parent chain from `tip`. Work on the code after that needs a new push.
fn pull_request(
    repo: &Repo,
    tip: ObjectId,
    issue: u64,
    implement: &StageRecord,
) -> Result<Option<CommitInfo>, GitError> {
    let Some(since) = implement
        .last_change
        .as_ref()
        .filter(|_| implement.state.is_done())
    else {
        return Ok(None);
    };
    let issue = issue.to_string();
    let mut commit = Some(tip);
    while let Some(id) = commit {
        if id == since.id {
            break;
        }
        let info = repo.commit_info(id)?;
        if info.trailer(TRAILER_ISSUE) == Some(issue.as_str())
            && info.trailer(TRAILER_STAGE) == Some(Stage::Pr.name())
            && info
                .trailer(TRAILER_VERDICT)
                .and_then(Verdict::parse)
                .is_some_and(Verdict::completes)
        {
            return Ok(Some(info));
        }
        commit = repo.first_parent(id)?;
    }
    Ok(None)
}

/// An artifact whose history is read.
struct Tracked {
    stage: Stage,
    key: Key,
}

/// For each tracked artifact present at `tip`: the commit that last changed it, and the newest
/// event at its gate after that change. One walk down the first-parent chain, which
/// stops as soon as every artifact is answered, by its own history or by the cache.
fn last_changes(
    repo: &Repo,
    tip: ObjectId,
    issue: u64,
    tracked: &[Tracked],
    cache: &mut HistoryCache,
) -> Result<Vec<Option<Answer>>, GitError> {
    let current: Vec<Option<ObjectId>> = tracked
        .iter()
        .map(|t| repo.blob_id(tip, &t.key.path))
        .collect::<Result<_, _>>()?;
    let mut found: Vec<Option<Answer>> = vec![None; tracked.len()];
    // The newest event at each artifact's gate seen so far on the way down.
    let mut seen: Vec<Option<ObjectId>> = vec![None; tracked.len()];
    let mut unresolved: Vec<usize> = (0..tracked.len())
        .filter(|&i| current[i].is_some())
        .collect();
    let issue_text = issue.to_string();

    let mut commit = Some(tip);
    while let Some(id) = commit {
        if unresolved.is_empty() {
            break;
        }
        let info = repo.commit_info(id)?;
        if let Some((gate, _)) = gate_event(&info, &issue_text) {
            for &i in &unresolved {
                if tracked[i].key.gate == Some(gate) && seen[i].is_none() {
                    seen[i] = Some(id);
                }
            }
        }
        let parent = repo.first_parent(id)?;
        let mut still = Vec::new();
        for &i in &unresolved {
            if let Some(cached) = cache.get(id, &tracked[i].key) {
                found[i] = Some(Answer {
                    change: cached.change,
                    event: seen[i].or(cached.event),
                });
                continue;
            }
            let before = match parent {
                Some(p) => repo.blob_id(p, &tracked[i].key.path)?,
                None => None,
            };
            if before != current[i] {
                found[i] = Some(Answer {
                    change: id,
                    event: seen[i],
                });
            } else {
                still.push(i);
            }
        }
        unresolved = still;
        commit = parent;
    }
    for (t, answer) in tracked.iter().zip(&found) {
        if let Some(answer) = answer {
            cache.put(tip, &t.key, *answer);
        }
    }
    Ok(found)
}

/// The gate and kind of a gate event of `issue`: a decision (`Orchestrate-Gate` with verdict
/// `human-approved` or `rejected`) or a run waiting (`Orchestrate-Waiting`).
fn gate_event(info: &CommitInfo, issue: &str) -> Option<(Gate, GateEventKind)> {
    if info.trailer(TRAILER_ISSUE) != Some(issue) {
        return None;
    }
    if let Some(gate) = info.trailer(TRAILER_WAITING).and_then(Gate::parse) {
        return Some((gate, GateEventKind::Waiting));
    }
    let gate = info.trailer(TRAILER_GATE).and_then(Gate::parse)?;
    match info.trailer(TRAILER_VERDICT).and_then(Verdict::parse)? {
        Verdict::HumanApproved => Some((gate, GateEventKind::Approved)),
        Verdict::Rejected => Some((
            gate,
            GateEventKind::Rejected {
                feedback: info.body(),
            },
        )),
        _ => None,
    }
}

fn classify(change: &CommitInfo, stage: Stage, config: &Config) -> StageState {
    let commit = change.id.short();
    if change.trailer(TRAILER_STAGE).is_none() {
        return if config.trusts_hand_written(stage) {
            StageState::Done { by_person: true }
        } else {
            StageState::Draft(DraftWhy::HandWritten { stage, commit })
        };
    }
    match change.trailer(TRAILER_VERDICT) {
        Some(text) => match Verdict::parse(text) {
            Some(verdict) if verdict.completes() => StageState::Done { by_person: false },
            Some(Verdict::Blocked) => StageState::Blocked,
            _ => StageState::Draft(DraftWhy::Verdict {
                verdict: text.to_ascii_lowercase(),
                commit,
            }),
        },
        None => StageState::Draft(DraftWhy::NoVerdict { commit }),
    }
}
