//! Where an issue stands, read from its branch history alone (DESIGN §3).
//!
//! A stage is complete when its artifact is in the tip's tree and the last commit that changed
//! the artifact is a person's (no `Orchestrate-Stage` trailer) or an orchestrate commit with
//! verdict `approved`, `human-approved` or `passed`. Gate decisions are commits that change
//! nothing, carrying `Orchestrate-Gate`; a decision counts only if it is newer than the last
//! change to the artifact the gate looks at.

use std::collections::BTreeMap;
use std::path::Path;

use super::cache::{Answer, HistoryCache, Key};
use super::stage::{Gate, Stage};
use crate::config::{Config, PathsConfig};
use crate::git::{CommitInfo, GitError, ObjectId, Repo};

pub const TRAILER_ISSUE: &str = "Orchestrate-Issue";
pub const TRAILER_STAGE: &str = "Orchestrate-Stage";
pub const TRAILER_VERDICT: &str = "Orchestrate-Verdict";
pub const TRAILER_GATE: &str = "Orchestrate-Gate";
pub const TRAILER_DRAFTER: &str = "Orchestrate-Drafter";
pub const TRAILER_REVIEWER: &str = "Orchestrate-Reviewer";
pub const TRAILER_ROUNDS: &str = "Orchestrate-Rounds";
pub const TRAILER_TOKENS: &str = "Orchestrate-Tokens";
pub const TRAILER_COST: &str = "Orchestrate-Cost";

/// The artifact path of a stage that has one document.
pub fn artifact_path(paths: &PathsConfig, stage: Stage, issue: u64) -> Option<String> {
    let template = match stage {
        Stage::Triage => &paths.brief,
        Stage::Lld => &paths.lld,
        Stage::Spec => &paths.spec,
        Stage::Impl | Stage::Pr => return None,
    };
    Some(PathsConfig::render(template, issue, stage.name()))
}

/// The review log of a reviewed stage.
pub fn reviews_path(paths: &PathsConfig, stage: Stage, issue: u64) -> String {
    PathsConfig::render(&paths.reviews, issue, stage.name())
}

/// Where one stage stands.
#[derive(Clone, Debug)]
pub enum StageState {
    /// No artifact in the tip's tree.
    Missing,
    /// Complete: approved, human-approved or passed by orchestrate, or written by a person.
    Done { by_person: bool },
    /// Orchestrate committed it with verdict `blocked`.
    Blocked,
    /// An artifact exists but is not trusted as finished: a hand-written one with
    /// `skip_existing_* = false`, or an orchestrate commit with another verdict.
    Draft { why: String },
    /// Complete, but rejected at the gate after it; `feedback` is the person's reason.
    Rejected { feedback: String },
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

/// A gate decision found on the branch.
#[derive(Clone, Debug)]
pub struct GateDecision {
    pub approved: bool,
    pub feedback: String,
    pub commit: CommitInfo,
}

/// Everything the branch says about an issue.
#[derive(Clone, Debug)]
pub struct IssueState {
    pub tip: Option<ObjectId>,
    pub stages: BTreeMap<Stage, StageRecord>,
    /// The newest decision at each gate that is newer than its stage's last artifact change.
    pub gates: BTreeMap<Gate, GateDecision>,
}

impl IssueState {
    /// The state of a branch that does not exist yet.
    pub fn empty(config: &Config, issue: u64) -> IssueState {
        let stages = Stage::ALL
            .into_iter()
            .map(|stage| {
                let record = StageRecord {
                    state: StageState::Missing,
                    artifact: artifact_path(&config.paths, stage, issue),
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
        self.gates.get(&gate).is_some_and(|d| d.approved)
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
        let mut state = IssueState::empty(config, issue);
        state.tip = Some(tip);
        let tracked: Vec<Tracked> = Stage::ALL
            .into_iter()
            .filter_map(|stage| {
                let path = artifact_path(&config.paths, stage, issue)?;
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
        let found = last_changes(repo, tip, issue, &tracked, &mut cache)?;
        cache.save();

        for (t, answer) in tracked.iter().zip(found) {
            let Some(Answer { change, decision }) = answer else {
                continue;
            };
            let Some(record) = state.stages.get_mut(&t.stage) else {
                continue;
            };
            let change = repo.commit_info(change)?;
            record.state = classify(&change, t.stage, config);
            if let (Some(gate), Some(decision)) = (t.stage.gate_after(), decision) {
                let decision = repo.commit_info(decision)?;
                let approved = decision
                    .trailer(TRAILER_VERDICT)
                    .is_some_and(|v| v.eq_ignore_ascii_case("human-approved"));
                let feedback = decision.body();
                if !approved && record.state.is_done() {
                    record.state = StageState::Rejected {
                        feedback: feedback.clone(),
                    };
                }
                state.gates.insert(
                    gate,
                    GateDecision {
                        approved,
                        feedback,
                        commit: decision,
                    },
                );
            }
            record.last_change = Some(change);
        }
        Ok(state)
    }
}

/// An artifact whose history is read.
struct Tracked {
    stage: Stage,
    key: Key,
}

/// For each tracked artifact present at `tip`: the commit that last changed it, and the newest
/// decision at its gate made after that change. One walk down the first-parent chain, which
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
    // The newest decision at each artifact's gate seen so far on the way down.
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
        if let Some(gate) = decision_gate(&info, &issue_text) {
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
                    decision: seen[i].or(cached.decision),
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
                    decision: seen[i],
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

/// The gate of a decision commit for `issue` (verdict `human-approved` or `rejected`).
fn decision_gate(info: &CommitInfo, issue: &str) -> Option<Gate> {
    if info.trailer(TRAILER_ISSUE) != Some(issue) {
        return None;
    }
    let gate = info.trailer(TRAILER_GATE).and_then(Gate::parse)?;
    let verdict = info.trailer(TRAILER_VERDICT)?;
    (verdict.eq_ignore_ascii_case("human-approved") || verdict.eq_ignore_ascii_case("rejected"))
        .then_some(gate)
}

fn classify(change: &CommitInfo, stage: Stage, config: &Config) -> StageState {
    if change.trailer(TRAILER_STAGE).is_none() {
        let trusted = match stage {
            Stage::Lld => config.orchestrator.skip_existing_lld,
            Stage::Spec => config.orchestrator.skip_existing_spec,
            _ => true,
        };
        return if trusted {
            StageState::Done { by_person: true }
        } else {
            StageState::Draft {
                why: format!(
                    "written by hand in {} and skip_existing_{} = false: it goes through review",
                    change.id.short(),
                    stage.name()
                ),
            }
        };
    }
    match change
        .trailer(TRAILER_VERDICT)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("approved" | "human-approved" | "passed") => StageState::Done { by_person: false },
        Some("blocked") => StageState::Blocked,
        Some(other) => StageState::Draft {
            why: format!("committed with verdict `{other}` in {}", change.id.short()),
        },
        None => StageState::Draft {
            why: format!("committed without a verdict in {}", change.id.short()),
        },
    }
}
