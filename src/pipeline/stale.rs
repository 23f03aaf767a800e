//! Stale stages: a stage is done only as long as what it was made from has not changed.
//!
//! Every stage commit records `Orchestrate-Input: <hash>`, a hash over the stage's inputs,
//! each named by content ([`Inputs::of`] is the one list of them):
//!
//! | stage | made from |
//! |---|---|
//! | triage | the issue's text as read (title, body, kept comments, cleaned) |
//! | lld | the brief's blob id |
//! | spec | the brief's and the design's blob ids |
//! | impl | the brief's, the design's and the spec's blob ids |
//!
//! and, for each stage, the content of its prompt templates (built in or overridden) and the
//! model of each of its roles: the one the run used, as its trailer records it. Checked later,
//! a role's model is the configured one; where configuration names none (another clone, a
//! default chosen at run time), the recorded one stands, so only a model a person configured
//! makes a stage stale. The base branch moving on is not an input.
//!
//! A stage done by a run (approved, passed) whose recorded hash differs from the hash of its
//! inputs now is stale, and every later stage done by a run is stale with it. A stage a person
//! wrote is never stale itself (a person's edit is the newest truth), but it is an input of
//! the stages after it. A commit without the trailer (made before there was one) counts as
//! current, so an upgrade redoes nothing. [`staleness`] also says why, read from the commits:
//! which input changed, in which commit, by whom; a model that changed; or a prompt template.
//!
//! The hash is git's blob id of the inputs written out one per line, so nothing but blob ids
//! already in the tree and the few small templates is read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::branch::message::{
    TRAILER_DRAFTER, TRAILER_IMPLEMENTER, TRAILER_INPUT, TRAILER_ISSUE, TRAILER_REVIEWER,
    TRAILER_STAGE,
};
use super::branch::{IssueState, StageState};
use super::prompts::Prompts;
use crate::config::Config;
use crate::git::{GitError, ObjectId, Repo};
use crate::stage::{Role, Stage};

/// The stages whose artifacts each stage is made from.
fn artifact_inputs(stage: Stage) -> &'static [Stage] {
    match stage {
        Stage::Triage | Stage::Pr => &[],
        Stage::Lld => &[Stage::Triage],
        Stage::Spec => &[Stage::Triage, Stage::Lld],
        Stage::Impl => &[Stage::Triage, Stage::Lld, Stage::Spec],
    }
}

/// The prompt templates each stage renders. impl names both: which one a run uses depends on
/// the implementer chosen at run time.
fn templates(stage: Stage) -> &'static [&'static str] {
    match stage {
        Stage::Triage => &["triage", "triage-revise"],
        Stage::Lld => &["lld-draft", "lld-revise", "lld-review"],
        Stage::Spec => &["spec-draft", "spec-revise", "spec-review"],
        Stage::Impl => &["impl-text", "impl-agent"],
        Stage::Pr => &[],
    }
}

/// Which trailer records the model of `role`.
fn model_trailer(role: Role) -> &'static str {
    match role {
        Role::Triage | Role::Drafter => TRAILER_DRAFTER,
        Role::Reviewer => TRAILER_REVIEWER,
        Role::Implementer => TRAILER_IMPLEMENTER,
    }
}

/// What staleness is computed against: the repository, its configuration and prompts, and
/// the issue's text when it was read (a run; `status` works offline without it).
pub struct InputContext<'a> {
    pub repo: &'a Repo,
    pub config: &'a Config,
    pub prompts: &'a Prompts,
    pub issue: u64,
    /// The issue as read and cleaned ([`crate::issue::Issue::normalised`]); `None`: unknown,
    /// so triage is taken as current.
    pub issue_text: Option<&'a str>,
}

/// A stage's inputs, one per line, named by content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs {
    text: String,
}

impl Inputs {
    /// `stage`'s inputs as they are at `commit`, with `model` naming each role's model
    /// (`None`: the role has none); `None` for pr (which has no inputs) and for triage when
    /// the issue's text is unknown.
    pub fn of(
        stage: Stage,
        at: ObjectId,
        cx: &InputContext<'_>,
        model: &dyn Fn(Role) -> Option<String>,
    ) -> Result<Option<Inputs>, GitError> {
        if stage == Stage::Pr {
            return Ok(None);
        }
        let mut text = format!("stage {}\n", stage.name());
        if stage == Stage::Triage {
            let Some(issue) = cx.issue_text else {
                return Ok(None);
            };
            text.push_str(&format!("issue {}\n", cx.repo.hash_text(issue.as_bytes())));
        }
        for input in artifact_inputs(stage) {
            let blob = match cx.config.paths.artifact(*input, cx.issue) {
                Some(path) => cx.repo.blob_id(at, &path)?.map(|id| id.to_string()),
                None => None,
            };
            text.push_str(&format!(
                "artifact {} {}\n",
                input.name(),
                blob.as_deref().unwrap_or("none")
            ));
        }
        for name in templates(stage) {
            let template = cx.prompts.template(name).unwrap_or_default();
            text.push_str(&format!(
                "prompt {name} {}\n",
                cx.repo.hash_text(template.as_bytes())
            ));
        }
        for (role, _) in stage.roles() {
            text.push_str(&format!(
                "model {} {}\n",
                role.name(),
                model(*role).unwrap_or_else(|| "none".into())
            ));
        }
        Ok(Some(Inputs { text }))
    }

    /// The value of `Orchestrate-Input`.
    pub fn hash(&self, repo: &Repo) -> String {
        repo.hash_text(self.text.as_bytes()).to_string()
    }
}

fn configured_model(config: &Config, stage: Stage, role: Role) -> Option<String> {
    config.stage(stage).model(role).map(|spec| spec.label())
}

/// Why a stage is stale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum StaleWhy {
    /// An artifact it was made from changed: `path`, last changed in `commit` by `author`.
    Input {
        stage: Stage,
        path: String,
        commit: Option<String>,
        author: Option<String>,
    },
    /// The issue's text is not what the brief was written from.
    Issue,
    /// The model of `role` is now `now` (the commit records `was`).
    Model {
        role: Role,
        was: Option<String>,
        now: String,
    },
    /// One of its prompt templates changed.
    Prompt,
    /// It was made from `stage`'s artifact, which is stale and is redone first.
    Upstream { stage: Stage },
}

/// Every stale stage of `state`, and why, in stage order.
pub fn staleness(
    state: &IssueState,
    cx: &InputContext<'_>,
) -> Result<BTreeMap<Stage, StaleWhy>, GitError> {
    let mut stale = BTreeMap::new();
    let Some(tip) = state.tip else {
        return Ok(stale);
    };
    for stage in [Stage::Triage, Stage::Lld, Stage::Spec, Stage::Impl] {
        let record = state.stage(stage);
        // Only a run's finished work is judged: a person's is the newest truth, and anything
        // unfinished runs anyway.
        if !matches!(record.state, StageState::Done { by_person: false }) {
            continue;
        }
        let Some(change) = &record.last_change else {
            continue;
        };
        if let Some(upstream) = stale.keys().next().copied() {
            stale.insert(stage, StaleWhy::Upstream { stage: upstream });
            continue;
        }
        // A stage redone into the very same artifact commits without changing it: its newest
        // commit, not the one that last changed the file, says what it was made from.
        let newest = newest_stage_commit(cx.repo, tip, change.id, stage, cx.issue)?;
        let change = newest.as_ref().unwrap_or(change);
        let Some(recorded) = change.trailer(TRAILER_INPUT) else {
            continue;
        };
        // A role configuration names no model for keeps the model the commit records.
        let model = |role: Role| {
            configured_model(cx.config, stage, role)
                .or_else(|| change.trailer(model_trailer(role)).map(str::to_string))
        };
        let Some(now) = Inputs::of(stage, tip, cx, &model)? else {
            continue;
        };
        if now.hash(cx.repo) == recorded.trim() {
            continue;
        }
        stale.insert(stage, explain(stage, state, change.id, tip, cx)?);
    }
    Ok(stale)
}

/// The newest commit of `stage` for `issue` on the first-parent chain from `tip` down to
/// (not including) `last`, the commit that last changed the stage's artifact; `None` when
/// there is none. Few commits: those made after the artifact's last change.
fn newest_stage_commit(
    repo: &Repo,
    tip: ObjectId,
    last: ObjectId,
    stage: Stage,
    issue: u64,
) -> Result<Option<crate::git::CommitInfo>, GitError> {
    let issue = issue.to_string();
    let mut commit = Some(tip);
    while let Some(id) = commit.filter(|id| *id != last) {
        let info = repo.commit_info(id)?;
        if info.trailer(TRAILER_STAGE) == Some(stage.name())
            && info.trailer(TRAILER_ISSUE) == Some(issue.as_str())
        {
            return Ok(Some(info));
        }
        commit = repo.first_parent(id)?;
    }
    Ok(None)
}

/// Which of `stage`'s inputs differs between its commit `made` and `tip`.
fn explain(
    stage: Stage,
    state: &IssueState,
    made: ObjectId,
    tip: ObjectId,
    cx: &InputContext<'_>,
) -> Result<StaleWhy, GitError> {
    for input in artifact_inputs(stage) {
        let Some(path) = cx.config.paths.artifact(*input, cx.issue) else {
            continue;
        };
        if cx.repo.blob_id(made, &path)? != cx.repo.blob_id(tip, &path)? {
            let change = state.stage(*input).last_change.as_ref();
            return Ok(StaleWhy::Input {
                stage: *input,
                path,
                commit: change.map(|c| c.id.short()),
                author: change.map(|c| c.author.clone()),
            });
        }
    }
    if stage == Stage::Triage {
        return Ok(StaleWhy::Issue);
    }
    let made_info = cx.repo.commit_info(made)?;
    for (role, _) in stage.roles() {
        let Some(now) = configured_model(cx.config, stage, *role) else {
            continue;
        };
        let was = made_info.trailer(model_trailer(*role)).map(str::to_string);
        if was.as_deref() != Some(now.as_str()) {
            return Ok(StaleWhy::Model {
                role: *role,
                was,
                now,
            });
        }
    }
    Ok(StaleWhy::Prompt)
}

impl StaleWhy {
    /// Why `stage` is stale, in words: `docs/lld/7.md changed in a1b2c3d (Ada Lovelace) after
    /// the spec was approved`.
    pub fn describe(&self, stage: Stage) -> String {
        let made = match stage {
            Stage::Triage => "the brief was written",
            Stage::Lld => "the design was approved",
            Stage::Spec => "the spec was approved",
            Stage::Impl | Stage::Pr => "the code passed its tests",
        };
        match self {
            StaleWhy::Input {
                path,
                commit,
                author,
                ..
            } => {
                let when = match (commit, author) {
                    (Some(commit), Some(author)) => format!(" in {commit} ({author})"),
                    (Some(commit), None) => format!(" in {commit}"),
                    _ => String::new(),
                };
                format!("{path} changed{when} after {made}")
            }
            StaleWhy::Issue => format!("the issue's text changed after {made}"),
            StaleWhy::Model { role, was, now } => match was {
                Some(was) => format!("the {} is now {now}, not {was} as when {made}", role.name()),
                None => format!("the {} is now {now}", role.name()),
            },
            StaleWhy::Prompt => format!("a prompt template of {stage} changed after {made}"),
            StaleWhy::Upstream { stage: upstream } => format!(
                "it was made from the {}, which is stale and is redone first",
                upstream.artifact_noun()
            ),
        }
    }
}
