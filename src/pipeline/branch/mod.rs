//! The issue's branch as the record of its progress: found by its prefix or planned from the
//! base; committed to so that a commit that cannot land (someone moved the branch) is saved
//! locally, never lost ([`IssueBranch`]); the commit messages and trailers written there
//! ([`message`]); and where the issue stands, read back from that history ([`history`]).

mod cache;
pub mod history;
pub mod message;

pub use history::{GateEvent, IssueState, StageRecord, StageState};
pub use message::{Message, Verdict};

use crate::git::{CommitRequest, FileChange, GitError, Head, ObjectId, Repo};
use crate::issue::slug;
use crate::pipeline::local::StateDir;
use crate::pipeline::{PipelineError, Session};
use crate::redact::Redactor;

/// A commit that landed, and what was redacted from it.
#[derive(Clone, Debug)]
pub struct Committed {
    pub id: ObjectId,
    pub redacted: Vec<Redaction>,
}

/// Secrets removed from one place (a file, a commit message, a transcript): by variable name
/// or token kind, never by value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Redaction {
    pub place: String,
    pub found: Vec<String>,
}

/// `files` with `redactor`'s secrets removed, and what was removed from which file.
pub fn redacted_files(
    redactor: &Redactor,
    files: &[FileChange],
) -> (Vec<FileChange>, Vec<Redaction>) {
    let mut redacted = Vec::new();
    let files = files
        .iter()
        .map(|file| {
            let (content, found) = redactor.redact_bytes(&file.content);
            if !found.is_empty() {
                redacted.push(Redaction {
                    place: file.path.clone(),
                    found,
                });
            }
            FileChange {
                path: file.path.clone(),
                content: content.into_owned(),
                kind: file.kind,
            }
        })
        .collect();
    (files, redacted)
}

/// Where the issue's work goes.
#[derive(Clone, Debug)]
pub struct IssueBranch {
    pub name: String,
    /// The branch tip; `None` until the first commit creates the branch.
    pub tip: Option<ObjectId>,
    /// Where a new branch starts (the tip, for an existing branch).
    pub base: ObjectId,
    /// The base as the user knows it (`main`), for a new branch.
    pub base_name: Option<String>,
}

impl IssueBranch {
    /// The existing branch of `issue`: `{prefix}{issue}-...`, the slug one path part (a
    /// branch in a folder below it, `orchestrate/7-x/old`, is someone else's).
    pub fn existing(
        repo: &Repo,
        prefix: &str,
        issue: u64,
    ) -> Result<Option<IssueBranch>, PipelineError> {
        let start = format!("{prefix}{issue}-");
        let mut found = repo.branches_with_prefix(&start)?;
        found.retain(|(name, _)| !name[start.len()..].contains('/'));
        match found.len() {
            0 => Ok(None),
            1 => {
                let (name, tip) = found.remove(0);
                Ok(Some(IssueBranch {
                    name,
                    tip: Some(tip),
                    base: tip,
                    base_name: None,
                }))
            }
            _ => Err(PipelineError::AmbiguousBranch {
                issue,
                branches: found.into_iter().map(|(n, _)| n).collect(),
            }),
        }
    }

    /// The existing branch, or the one a run would create from `base` (else `HEAD`).
    pub fn locate(
        repo: &Repo,
        prefix: &str,
        issue: u64,
        title: &str,
        base: Option<&str>,
    ) -> Result<IssueBranch, PipelineError> {
        if let Some(existing) = IssueBranch::existing(repo, prefix, issue)? {
            return Ok(existing);
        }
        let name = format!("{prefix}{issue}-{}", slug(title));
        // Found here, before any model is called, rather than when the first commit fails.
        if let Some(blocking) = repo.blocking_branch(&name)? {
            return Err(PipelineError::BranchBlocked {
                branch: name,
                blocking,
                prefix: prefix.to_string(),
            });
        }
        let (base_id, base_name) = match base {
            Some(spec) => match repo.resolve_commit(spec)? {
                Some(id) => (id, spec.to_string()),
                None => return Err(PipelineError::BaseNotFound { base: spec.into() }),
            },
            None => match repo.head()? {
                Head::Branch { name, tip } => (tip, name),
                Head::Detached(_) => return Err(PipelineError::DetachedHead { branch: name }),
                Head::Unborn { name } => return Err(PipelineError::UnbornHead { name }),
            },
        };
        Ok(IssueBranch {
            name,
            tip: None,
            base: base_id,
            base_name: Some(base_name),
        })
    }

    /// The commit stage work builds on: the tip, or the base before the branch exists.
    pub fn head(&self) -> ObjectId {
        self.tip.unwrap_or(self.base)
    }

    /// Commit `files` with `message`, moving the branch compare-and-swap. Every commit goes
    /// through here, and everything in it goes through the session's redaction first: no
    /// secret is ever committed (nor saved when the commit cannot land). If the branch moved
    /// under us, or someone checked it out meanwhile, the files and message are saved under
    /// the state directory and the error says where.
    pub fn commit(
        &mut self,
        session: &Session,
        issue: u64,
        kind: &str,
        files: &[FileChange],
        message: &str,
    ) -> Result<Committed, PipelineError> {
        let (files, mut redacted) = redacted_files(&session.redactor, files);
        let message = session.redactor.redact(message);
        if !message.found.is_empty() {
            redacted.push(Redaction {
                place: "the commit message".into(),
                found: message.found,
            });
        }
        let id = self.land(
            &session.repo,
            &session.state,
            issue,
            kind,
            &files,
            &message.text,
        )?;
        Ok(Committed { id, redacted })
    }

    fn land(
        &mut self,
        repo: &Repo,
        state: &StateDir,
        issue: u64,
        stage: &str,
        files: &[FileChange],
        message: &str,
    ) -> Result<ObjectId, PipelineError> {
        let request = CommitRequest {
            branch: &self.name,
            expected_tip: self.tip,
            base: self.base,
            files,
            message,
        };
        match repo.commit_files(&request) {
            Ok(id) => {
                self.tip = Some(id);
                Ok(id)
            }
            Err(moved @ GitError::BranchMoved { .. }) => {
                let saved = state.save_recovery(issue, stage, files, message);
                Err(PipelineError::BranchMoved {
                    moved,
                    saved_to: saved.ok(),
                })
            }
            Err(GitError::CheckedOut { branch, path }) => {
                let saved = state.save_recovery(issue, stage, files, message);
                Err(PipelineError::CheckedOutDuringRun {
                    branch,
                    path,
                    kind: stage.to_string(),
                    files: files.iter().map(|f| f.path.clone()).collect(),
                    saved_to: saved.ok(),
                })
            }
            Err(other) => Err(other.into()),
        }
    }
}
