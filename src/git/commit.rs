//! Committing artifacts without a work tree: new blobs are written, the branch tip's tree is
//! updated in memory along the changed paths only (so the cost does not grow with the size of
//! the repository), and the branch ref moves only if it still points where we last saw it.

use git2::{ErrorCode, FileMode, Oid, build::TreeUpdateBuilder};

use super::snapshot::moves;
use super::{Context, GitError, ObjectId, Repo, Result};

/// One path's change in a new commit: a file written (replacing whatever is at `path`), or
/// the path deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// Slash-separated, relative to the repository root.
    pub path: String,
    /// The file's bytes (a symlink's target for [`FileKind::Symlink`]; empty for a delete).
    pub content: Vec<u8>,
    pub kind: FileKind,
}

/// What a [`FileChange`] leaves at its path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file (mode 100644).
    #[default]
    Regular,
    /// An executable file (mode 100755).
    Executable,
    /// A symbolic link whose target is the content (mode 120000).
    Symlink,
    /// Nothing: the path is removed.
    Deleted,
}

impl FileChange {
    /// A regular file at `path` with `content`.
    pub fn file(path: impl Into<String>, content: impl Into<Vec<u8>>) -> FileChange {
        FileChange {
            path: path.into(),
            content: content.into(),
            kind: FileKind::Regular,
        }
    }

    /// `path` removed.
    pub fn deleted(path: impl Into<String>) -> FileChange {
        FileChange {
            path: path.into(),
            content: Vec::new(),
            kind: FileKind::Deleted,
        }
    }
}

/// One commit on a branch.
#[derive(Clone, Debug)]
pub struct CommitRequest<'a> {
    /// Short branch name (`orchestrate/7-add-a-flag`).
    pub branch: &'a str,
    /// Where the branch must point for the commit to land; `None` means the branch must not
    /// exist yet, and the commit creates it on top of `base`.
    pub expected_tip: Option<ObjectId>,
    pub base: ObjectId,
    pub files: &'a [FileChange],
    pub message: &'a str,
}

impl Repo {
    /// Commit `files` on the branch and move it, compare-and-swap. Returns the new commit.
    ///
    /// An empty `files` makes a commit with the parent's tree (gate decisions are recorded
    /// that way). If the branch is not where `expected_tip` says, nothing is changed and
    /// [`GitError::BranchMoved`] reports where it is; if it is checked out in a work tree,
    /// nothing is changed either and [`GitError::CheckedOut`] says where.
    pub fn commit_files(&self, req: &CommitRequest<'_>) -> Result<ObjectId> {
        let parent_id = req.expected_tip.unwrap_or(req.base);
        let parent = self
            .inner
            .find_commit(parent_id.0)
            .context(|| format!("could not read commit {}", parent_id.short()))?;
        let base_tree = parent
            .tree()
            .context(|| format!("could not read the tree of {}", parent_id.short()))?;

        let mut update = TreeUpdateBuilder::new();
        for file in req.files {
            let mode = match file.kind {
                FileKind::Deleted => {
                    update.remove(file.path.as_str());
                    continue;
                }
                FileKind::Regular => FileMode::Blob,
                FileKind::Executable => FileMode::BlobExecutable,
                FileKind::Symlink => FileMode::Link,
            };
            let blob = self
                .inner
                .blob(&file.content)
                .context(|| format!("could not write {} to the object database", file.path))?;
            update.upsert(file.path.as_str(), blob, mode);
        }
        let tree_id = update
            .create_updated(&self.inner, &base_tree)
            .context(|| "could not build the new tree".into())?;
        let tree = self
            .inner
            .find_tree(tree_id)
            .context(|| "could not read back the new tree".into())?;

        let (author, committer) = self.signatures()?;
        let commit = self
            .inner
            .commit(None, &author, &committer, req.message, &tree, &[&parent])
            .context(|| "could not write the commit".into())?;
        self.move_branch(req.branch, req.expected_tip, commit, req.message)?;
        Ok(ObjectId(commit))
    }

    /// Delete branch `branch` if it still points at `expected` (compare-and-swap) and no work
    /// tree has it checked out.
    pub fn delete_branch(&self, branch: &str, expected: ObjectId) -> Result<()> {
        if let Some(path) = self.checked_out_at(branch)? {
            return Err(GitError::CheckedOut {
                branch: branch.to_string(),
                path,
            });
        }
        let refname = format!("refs/heads/{branch}");
        let _moving = moves::moving(
            self.common_dir(),
            moves::Refs::Exact(refname.clone()),
            moves::To::Value(None),
        );
        let deleted = self
            .git_in(self.common_dir())
            .args(["update-ref", "-m", "git-orchestrate: clean", "-d"])
            .arg(&refname)
            .arg(expected.to_string())
            .output();
        match deleted {
            Ok(_) => Ok(()),
            Err(error) => {
                let found = self.branch_tip(branch)?;
                if found != Some(expected) {
                    Err(GitError::BranchMoved {
                        branch: branch.to_string(),
                        expected: Some(expected),
                        found,
                    })
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Move `branch` to `new` if it is where `expected_tip` says (`None`: it must not exist
    /// yet) and no work tree has it checked out; `message`'s first line goes to the reflog.
    pub(super) fn move_branch(
        &self,
        branch: &str,
        expected_tip: Option<ObjectId>,
        new: Oid,
        message: &str,
    ) -> Result<()> {
        // Checked here, right before the compare-and-swap, and not only when a run starts:
        // someone may check the branch out while models work. The window left between this
        // check and the ref update is the one `git branch -f` has too.
        if let Some(path) = self.checked_out_at(branch)? {
            return Err(GitError::CheckedOut {
                branch: branch.to_string(),
                path,
            });
        }
        let refname = format!("refs/heads/{}", branch);
        // Recorded before it happens, so an after-check running meanwhile (another issue's
        // agent) never takes it for a program's.
        let _moving = moves::moving(
            self.common_dir(),
            moves::Refs::Exact(refname.clone()),
            moves::To::Value(Some(new)),
        );
        let summary = message.lines().next().unwrap_or("commit");
        let reflog = format!("{}{summary}", super::REFLOG_PREFIX);
        let outcome = match expected_tip {
            Some(expected) => self
                .inner
                .reference_matching(&refname, new, true, expected.0, &reflog),
            None => self.inner.reference(&refname, new, false, &reflog),
        };
        match outcome {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::Modified
                        | ErrorCode::Exists
                        | ErrorCode::NotFound
                        | ErrorCode::Locked
                ) =>
            {
                let found = self.branch_tip(branch)?;
                if found != expected_tip {
                    Err(GitError::BranchMoved {
                        branch: branch.to_string(),
                        expected: expected_tip,
                        found,
                    })
                } else {
                    Err(GitError::Git {
                        action: format!("could not move branch {}", branch),
                        source: e,
                    })
                }
            }
            Err(source) => Err(GitError::Git {
                action: format!("could not move branch {}", branch),
                source,
            }),
        }
    }
}
