//! A base branch's newer commits brought onto a branch, in memory: how far the base has
//! moved on ([`Repo::divergence`]), which paths a branch changed since it forked
//! ([`Repo::changed_paths`]), and a merge made as a commit on no branch ([`Repo::merge_commit`])
//! that the caller then lands with a compare-and-swap ([`Repo::advance_branch`]). Nothing here
//! touches a work tree or an index file: the merge happens in an in-memory index.

use std::collections::BTreeSet;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{Delta, DiffOptions, ErrorCode, MergeOptions, Oid};

use super::{Context, GitError, ObjectId, Repo, Result};

/// How far a base has moved on from a branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The newest commit both have (their merge-base): where the branch forked.
    pub merge_base: ObjectId,
    /// Commits the base has that the branch lacks.
    pub ahead: usize,
}

/// A merge of `theirs` into `ours`.
#[derive(Clone, Debug)]
pub struct MergeRequest<'a> {
    pub ours: ObjectId,
    pub theirs: ObjectId,
    /// Paths that stay exactly as `ours` has them (present or absent), whatever `theirs`
    /// did to them: they never conflict.
    pub keep: &'a [String],
    pub message: &'a str,
}

/// What a merge made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merged {
    /// The merge commit (parents: ours, theirs), on no branch yet.
    Commit(ObjectId),
    /// Both sides changed these paths differently; no commit was made.
    Conflicts(Vec<String>),
}

impl Repo {
    /// How far `base` has moved on from `branch`: their merge-base and how many commits
    /// `base` has that `branch` lacks. `None` when they share no history.
    pub fn divergence(&self, branch: ObjectId, base: ObjectId) -> Result<Option<Divergence>> {
        let merge_base = match self.inner.merge_base(branch.0, base.0) {
            Ok(id) => id,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(source) => {
                return Err(GitError::Git {
                    action: format!(
                        "could not find where {} and {} forked",
                        branch.short(),
                        base.short()
                    ),
                    source,
                });
            }
        };
        let (ahead, _) = self
            .inner
            .graph_ahead_behind(base.0, branch.0)
            .context(|| {
                format!(
                    "could not count the commits {} has that {} lacks",
                    base.short(),
                    branch.short()
                )
            })?;
        Ok(Some(Divergence {
            merge_base: ObjectId(merge_base),
            ahead,
        }))
    }

    /// The paths whose content or mode differs between two commits' trees (no content read).
    pub fn changed_paths(&self, from: ObjectId, to: ObjectId) -> Result<Vec<String>> {
        let tree = |id: ObjectId| {
            self.inner
                .find_commit(id.0)
                .and_then(|c| c.tree())
                .context(|| format!("could not read the tree of {}", id.short()))
        };
        let (old, new) = (tree(from)?, tree(to)?);
        let mut options = DiffOptions::new();
        options.include_typechange(true);
        let diff = self
            .inner
            .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))
            .context(|| format!("could not compare {} with {}", from.short(), to.short()))?;
        let mut paths = BTreeSet::new();
        for delta in diff.deltas() {
            if delta.status() == Delta::Unmodified {
                continue;
            }
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path_bytes() {
                    paths.insert(String::from_utf8_lossy(path).into_owned());
                }
            }
        }
        Ok(paths.into_iter().collect())
    }

    /// Merge `theirs` into `ours` in memory and write the result as a commit with both as
    /// parents, on no branch; the paths of `keep` are taken from `ours`. Conflicts elsewhere
    /// are returned and nothing is written but objects.
    pub fn merge_commit(&self, req: &MergeRequest<'_>) -> Result<Merged> {
        let find = |id: ObjectId| {
            self.inner
                .find_commit(id.0)
                .context(|| format!("could not read commit {}", id.short()))
        };
        let (ours, theirs) = (find(req.ours)?, find(req.theirs)?);
        let mut index = self
            .inner
            .merge_commits(&ours, &theirs, Some(&MergeOptions::new()))
            .context(|| {
                format!(
                    "could not merge {} into {}",
                    req.theirs.short(),
                    req.ours.short()
                )
            })?;
        if index.has_conflicts() {
            let mut conflicted = BTreeSet::new();
            let conflicts = index
                .conflicts()
                .context(|| "could not read the merge's conflicts".into())?;
            for conflict in conflicts {
                let conflict = conflict.context(|| "could not read a merge conflict".into())?;
                for entry in [conflict.ancestor, conflict.our, conflict.their]
                    .into_iter()
                    .flatten()
                {
                    conflicted.insert(String::from_utf8_lossy(&entry.path).into_owned());
                }
            }
            let (kept, others): (Vec<String>, Vec<String>) =
                conflicted.into_iter().partition(|p| req.keep.contains(p));
            if !others.is_empty() {
                return Ok(Merged::Conflicts(others));
            }
            // Kept paths take `ours` below, whatever the merge made of them.
            for path in kept {
                index
                    .conflict_remove(Path::new(&path))
                    .context(|| format!("could not resolve {path} as the branch has it"))?;
            }
        }
        let merged = index
            .write_tree_to(&self.inner)
            .context(|| "could not write the merged tree".into())?;
        let tree_id = self.keep_paths(merged, ours.tree_id(), req.keep)?;
        let tree = self
            .inner
            .find_tree(tree_id)
            .context(|| "could not read back the merged tree".into())?;
        let (author, committer) = self.signatures()?;
        let commit = self
            .inner
            .commit(
                None,
                &author,
                &committer,
                req.message,
                &tree,
                &[&ours, &theirs],
            )
            .context(|| "could not write the merge commit".into())?;
        Ok(Merged::Commit(ObjectId(commit)))
    }

    /// Move `branch` from `expected` to `new` (compare-and-swap; refused when a work tree has
    /// it checked out, as every commit's move is).
    pub fn advance_branch(
        &self,
        branch: &str,
        expected: ObjectId,
        new: ObjectId,
        message: &str,
    ) -> Result<()> {
        self.move_branch(branch, Some(expected), new.0, message)
    }

    /// `tree` with each path of `keep` as it is in `source` (the entry, or nothing).
    fn keep_paths(&self, tree: Oid, source: Oid, keep: &[String]) -> Result<Oid> {
        let read = |id: Oid| {
            self.inner
                .find_tree(id)
                .context(|| format!("could not read tree {}", ObjectId(id).short()))
        };
        let (merged, source) = (read(tree)?, read(source)?);
        let mut update = TreeUpdateBuilder::new();
        let mut changed = false;
        for path in keep {
            let want = source.get_path(Path::new(path)).ok();
            let have = merged.get_path(Path::new(path)).ok();
            let same = match (&want, &have) {
                (Some(w), Some(h)) => w.id() == h.id() && w.filemode() == h.filemode(),
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            changed = true;
            match want {
                Some(entry) if entry.kind() == Some(git2::ObjectType::Blob) => {
                    let mode = match entry.filemode() {
                        m if m == i32::from(git2::FileMode::BlobExecutable) => {
                            git2::FileMode::BlobExecutable
                        }
                        m if m == i32::from(git2::FileMode::Link) => git2::FileMode::Link,
                        _ => git2::FileMode::Blob,
                    };
                    update.upsert(path.as_str(), entry.id(), mode);
                }
                // Not a file on the branch: nothing of the base's stays there.
                _ if have.is_some() => {
                    update.remove(path.as_str());
                }
                _ => {}
            }
        }
        if !changed {
            return Ok(tree);
        }
        update
            .create_updated(&self.inner, &merged)
            .context(|| "could not put the branch's documents into the merged tree".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::test_support::{git, hermetic_env};
    use crate::git::{CommitRequest, FileChange};

    fn commit(
        repo: &Repo,
        branch: &str,
        tip: Option<ObjectId>,
        base: ObjectId,
        files: &[FileChange],
    ) -> ObjectId {
        repo.commit_files(&CommitRequest {
            branch,
            expected_tip: tip,
            base,
            files,
            message: "change",
        })
        .unwrap()
    }

    #[test]
    fn a_merge_keeps_the_branch_documents_and_reports_conflicts_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().canonicalize().unwrap();
        let env = hermetic_env(&root_dir);
        git(&root_dir, &env, &["init", "-q", "-b", "main", "."]);
        git(
            &root_dir,
            &env,
            &["commit", "-q", "--allow-empty", "-m", "root"],
        );
        git(&root_dir, &env, &["branch", "base"]);
        let repo = Repo::open(&root_dir, &env).unwrap();
        let root = repo.branch_tip("base").unwrap().unwrap();
        let docs = vec!["docs/7.md".to_string()];
        let doc = |text: &str| FileChange::file("docs/7.md", text);
        let ours = commit(&repo, "issue", None, root, &[doc("ours\n")]);
        let code = FileChange::file("code.rs", "fn main() {}\n");
        let main = commit(&repo, "base", Some(root), root, &[doc("theirs\n"), code]);
        let divergence = repo.divergence(ours, main).unwrap().unwrap();
        assert_eq!(
            divergence,
            Divergence {
                merge_base: root,
                ahead: 1
            }
        );
        assert_eq!(repo.changed_paths(root, ours).unwrap(), docs);

        let request = MergeRequest {
            ours,
            theirs: main,
            keep: &docs,
            message: "merge",
        };
        let Merged::Commit(merged) = repo.merge_commit(&request).unwrap() else {
            panic!("a document never conflicts");
        };
        let read = |path: &str| repo.read_file(merged, path).unwrap().unwrap();
        assert_eq!(read("docs/7.md"), b"ours\n");
        assert_eq!(read("code.rs"), b"fn main() {}\n");
        assert_eq!(repo.divergence(merged, main).unwrap().unwrap().ahead, 0);

        let other = FileChange::file("code.rs", "fn other() {}\n");
        let coded = commit(&repo, "issue", Some(ours), ours, &[other]);
        let request = MergeRequest {
            ours: coded,
            theirs: main,
            keep: &docs,
            message: "merge",
        };
        assert_eq!(
            repo.merge_commit(&request).unwrap(),
            Merged::Conflicts(vec!["code.rs".into()])
        );
        assert_eq!(repo.branch_tip("issue").unwrap(), Some(coded));
    }
}
