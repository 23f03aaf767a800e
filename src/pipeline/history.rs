//! Where an issue stands, read from its branch history alone (DESIGN §3).
//!
//! A stage is complete when its artifact is in the tip's tree and the last commit that changed
//! the artifact is a person's (no `Orchestrate-Stage` trailer) or an orchestrate commit with
//! verdict `approved`, `human-approved` or `passed`. Gate decisions are commits that change
//! nothing, carrying `Orchestrate-Gate`; a decision counts only if it is newer than the last
//! change to the artifact the gate looks at.

use std::collections::BTreeMap;

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

    /// Read the state of `issue` from the branch at `tip`.
    pub fn load(
        repo: &Repo,
        tip: ObjectId,
        config: &Config,
        issue: u64,
    ) -> Result<IssueState, GitError> {
        let mut state = IssueState::empty(config, issue);
        state.tip = Some(tip);
        let tracked: Vec<(Stage, String)> = Stage::ALL
            .into_iter()
            .filter_map(|s| artifact_path(&config.paths, s, issue).map(|p| (s, p)))
            .collect();

        // Walk the first-parent chain from the tip until every artifact's last change is found.
        let current: Vec<Option<ObjectId>> = tracked
            .iter()
            .map(|(_, path)| repo.blob_id(tip, path))
            .collect::<Result<_, _>>()?;
        let mut found: Vec<Option<CommitInfo>> = vec![None; tracked.len()];
        let mut unresolved: Vec<usize> = (0..tracked.len())
            .filter(|&i| current[i].is_some())
            .collect();
        // Gate decisions newest first, with their distance from the tip.
        let mut gate_commits: Vec<(usize, Gate, CommitInfo)> = Vec::new();
        let mut change_depth: Vec<Option<usize>> = vec![None; tracked.len()];
        let issue_text = issue.to_string();

        let mut depth = 0;
        let mut commit = Some(tip);
        while let Some(id) = commit {
            if unresolved.is_empty() {
                break;
            }
            let info = repo.commit_info(id)?;
            if let Some(gate) = info.trailer(TRAILER_GATE).and_then(Gate::parse)
                && info.trailer(TRAILER_ISSUE) == Some(issue_text.as_str())
            {
                gate_commits.push((depth, gate, info.clone()));
            }
            let parent = repo.first_parent(id)?;
            let mut still = Vec::new();
            for &i in &unresolved {
                let before = match parent {
                    Some(p) => repo.blob_id(p, &tracked[i].1)?,
                    None => None,
                };
                if before != current[i] {
                    found[i] = Some(info.clone());
                    change_depth[i] = Some(depth);
                } else {
                    still.push(i);
                }
            }
            unresolved = still;
            commit = parent;
            depth += 1;
        }

        for (i, (stage, _)) in tracked.iter().enumerate() {
            let Some(record) = state.stages.get_mut(stage) else {
                continue;
            };
            let Some(change) = found[i].take() else {
                continue;
            };
            record.state = classify(&change, *stage, config);
            // The newest decision at this stage's gate that came after the artifact changed.
            if let (Some(gate), Some(changed_at)) = (stage.gate_after(), change_depth[i])
                && let Some((_, _, decision)) = gate_commits
                    .iter()
                    .find(|(d, g, _)| *g == gate && *d < changed_at)
            {
                let verdict = decision.trailer(TRAILER_VERDICT).unwrap_or_default();
                let approved = verdict.eq_ignore_ascii_case("human-approved");
                let rejected = verdict.eq_ignore_ascii_case("rejected");
                if approved || rejected {
                    let feedback = decision.body();
                    if rejected && record.state.is_done() {
                        record.state = StageState::Rejected {
                            feedback: feedback.clone(),
                        };
                    }
                    state.gates.insert(
                        gate,
                        GateDecision {
                            approved,
                            feedback,
                            commit: decision.clone(),
                        },
                    );
                }
            }
            record.last_change = Some(change);
        }
        Ok(state)
    }
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
