//! The issue's worktree: a checkout of its own, under
//! `<git-common-dir>/orchestrate/worktrees/<issue>`, where the impl stage writes code and runs
//! tests. It is *detached* at the commit it was prepared at, so the issue branch keeps moving
//! by compare-and-swap (its commits are built in memory) and the user may have that branch
//! checked out elsewhere; the user's own checkout, index and stash are never touched.
//!
//! The `git` program does the work that has to match git exactly: `worktree add` (libgit2's
//! worktree API would create a branch), checking files out, telling which files changed
//! (`git status`, from the index's stat data and the untracked cache, so an unchanged file is
//! not read) and hashing those with the user's filters, attributes and ignore rules. Trees are
//! built and compared with libgit2. Ignored files (`target/`, `node_modules/`) survive a
//! reset, so builds stay warm from one run to the next.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::{Delta, DiffOptions, Oid, WorktreePruneOptions};

use super::runner::{ChildEnv, git_in};
use super::status::{Now, Status, is_gitlink};
use super::{Context, FileChange, FileKind, GitError, ObjectId, Repo, Result};

/// Where, in a worktree's git directory, the commit it was last prepared at is written: what
/// the work of a run that was killed started from.
const BASE_FILE: &str = "orchestrate-base";

/// Where, in a worktree's git directory, the commit is written that the worktree was left
/// exactly at (after it was created, found clean or reset). It is removed before a run writes
/// in the worktree ([`Worktree::begin_work`]), so changes found while it is there were made
/// outside any run (by hand, or by another program), and changes found without it were left
/// by a run that was stopped. It says only that: whether the worktree is clean is always
/// read from its files (`git status`), never taken from the mark.
const CLEAN_FILE: &str = "orchestrate-clean";

/// An issue's worktree, ready to write in.
#[derive(Debug)]
pub struct Prepared {
    pub worktree: Worktree,
    /// Work found in the worktree (files changed, added or deleted, commits made there),
    /// compared with the commit the worktree is now at: left by a run that was killed, or
    /// made outside any run. The worktree has been reset, so this is the only copy: the
    /// caller saves it.
    pub recovered: Vec<FileChange>,
    /// The work in [`Prepared::recovered`] was made while the worktree was marked clean, so
    /// outside any run (by hand, or by another program), not by a run that was stopped.
    pub outside_run: bool,
    /// The worktree was created now (rather than reused).
    pub created: bool,
}

/// What [`Worktree::work_found`] found.
struct WorkFound {
    /// The work, as changes from the commit asked about.
    changes: Vec<FileChange>,
    /// The worktree is exactly at that commit: detached there, nothing changed.
    clean_at: bool,
}

/// A reading of a worktree's changes ([`Worktree::read`]), with the `git status` it was made
/// from.
#[derive(Debug)]
pub struct Read {
    pub changes: Vec<FileChange>,
    status: Status,
}

/// A worktree of the repository, detached at a commit.
#[derive(Clone)]
pub struct Worktree {
    path: PathBuf,
    /// Its own git directory (`<git-common-dir>/worktrees/<name>`): `HEAD`, index.
    git_dir: PathBuf,
    env: ChildEnv,
}

impl Repo {
    /// Where `issue`'s worktree lives.
    pub fn issue_worktree_path(&self, issue: u64) -> PathBuf {
        self.worktrees_dir().join(issue.to_string())
    }

    fn worktrees_dir(&self) -> PathBuf {
        self.common_dir().join("orchestrate").join("worktrees")
    }

    /// `issue`'s worktree, detached at `at`, with no changes: created if absent, reused if
    /// already clean at `at`, else reset to `at` after its changes are collected into
    /// [`Prepared::recovered`]. A reused worktree is always read (one `git status`: its index
    /// and files), whatever its clean marker says: a file written or staged there behind a
    /// run's back must neither be seen by the run nor be lost. A worktree whose directory was
    /// deleted by hand is forgotten and created again; a directory at its place that is not
    /// this repository's worktree is an error ([`GitError::NotOurWorktree`]).
    ///
    /// Whoever writes in the returned worktree calls [`Worktree::begin_work`] first.
    pub fn issue_worktree(&self, issue: u64, at: ObjectId) -> Result<Prepared> {
        let path = self.issue_worktree_path(issue);
        let registered = self.registered_worktree(&path)?;
        let present = path.is_dir();
        match registered {
            Some(git_dir) if present => {
                let worktree = Worktree {
                    path,
                    git_dir,
                    env: self.child_env(),
                };
                let outside_run = worktree.clean_mark().is_some();
                let recovered = worktree.prepare(self, at)?;
                Ok(Prepared {
                    worktree,
                    outside_run: outside_run && !recovered.is_empty(),
                    recovered,
                    created: false,
                })
            }
            Some(_) => {
                self.forget_worktree(&path)?;
                self.add_worktree(issue, path, at)
            }
            None if dir_has_entries(&path) => Err(GitError::NotOurWorktree { issue, path }),
            None => self.add_worktree(issue, path, at),
        }
    }

    fn add_worktree(&self, issue: u64, path: PathBuf, at: ObjectId) -> Result<Prepared> {
        self.git_in(self.common_dir())
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&path)
            .arg(at.to_string())
            .output()?;
        let Some(git_dir) = self.registered_worktree(&path)? else {
            return Err(GitError::NotOurWorktree { issue, path });
        };
        let worktree = Worktree {
            path,
            git_dir,
            env: self.child_env(),
        };
        worktree.record_base(at)?;
        worktree.mark_clean(at)?;
        Ok(Prepared {
            worktree,
            recovered: Vec::new(),
            outside_run: false,
            created: true,
        })
    }

    /// What `issue`'s worktree holds that no commit has, as [`Repo::issue_worktree`] would
    /// collect it before a reset: files changed, added (untracked, not ignored) or deleted,
    /// and commits made inside it, compared with `at` (the branch's tip; without one, the
    /// commit the worktree was last prepared at) and only where the worktree's own work
    /// changed them. Nothing in the worktree changes but its index's stat data. Empty when
    /// there is no worktree (or only a directory where one goes).
    pub fn issue_worktree_work(&self, issue: u64, at: Option<ObjectId>) -> Result<Vec<FileChange>> {
        let path = self.issue_worktree_path(issue);
        let Some(git_dir) = self.registered_worktree(&path)? else {
            return Ok(Vec::new());
        };
        if !path.is_dir() {
            return Ok(Vec::new());
        }
        let worktree = Worktree {
            path,
            git_dir,
            env: self.child_env(),
        };
        let at = match at.or_else(|| worktree.recorded_base()) {
            Some(at) => at,
            None => worktree.head()?,
        };
        Ok(worktree.work_found(self, at)?.changes)
    }

    /// Remove `issue`'s worktree, whatever is in it (ignored files too), and git's record of
    /// it. Returns whether there was anything to remove.
    pub fn remove_issue_worktree(&self, issue: u64) -> Result<bool> {
        let path = self.issue_worktree_path(issue);
        let mut removed = false;
        if self.registered_worktree(&path)?.is_some() {
            removed = true;
            let by_git = self
                .git_in(self.common_dir())
                .args(["worktree", "remove", "--force", "--force"])
                .arg(&path)
                .output();
            if let Err(error) = by_git {
                // `git worktree remove` refuses some worktrees (with submodules, say); ours
                // hold nothing anyone needs, so the files go and git's record is pruned.
                tracing::debug!("{error}; removing the files and pruning instead");
            }
            if self.registered_worktree(&path)?.is_some() {
                remove_dir(&path)?;
                self.forget_worktree(&path)?;
            }
        }
        if std::fs::symlink_metadata(&path).is_ok() {
            removed = true;
            remove_dir(&path)?;
        }
        Ok(removed)
    }

    /// Every issue that has a worktree (or a directory where one goes), with its path.
    pub fn issue_worktrees(&self) -> Result<Vec<(u64, PathBuf)>> {
        let dir = self.worktrees_dir();
        let mut found = std::collections::BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if let Some(issue) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                    found.insert(issue, entry.path());
                }
            }
        }
        for (path, _) in self.worktree_records()? {
            let Some(issue) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if path.parent().is_some_and(|p| same_path(p, &dir)) {
                found.entry(issue).or_insert(path);
            }
        }
        Ok(found.into_iter().collect())
    }

    /// The git directory of the worktree registered at `path`, if git has one there.
    fn registered_worktree(&self, path: &Path) -> Result<Option<PathBuf>> {
        Ok(self
            .worktree_records()?
            .into_iter()
            .find(|(at, _)| same_path(at, path))
            .map(|(_, name)| self.common_dir().join("worktrees").join(name)))
    }

    /// The linked worktrees git knows: (path, name).
    fn worktree_records(&self) -> Result<Vec<(PathBuf, String)>> {
        let names = self
            .inner
            .worktrees()
            .context(|| "could not list worktrees".into())?;
        let mut records = Vec::new();
        for name in names.iter().flatten().flatten() {
            if let Ok(worktree) = self.inner.find_worktree(name) {
                records.push((worktree.path().to_path_buf(), name.to_string()));
            }
        }
        Ok(records)
    }

    /// Drop git's record of the worktree at `path` (its directory is gone or going), and only
    /// that one: `git worktree prune` would also prune the user's worktrees on a drive that
    /// is not mounted.
    fn forget_worktree(&self, path: &Path) -> Result<()> {
        for (at, name) in self.worktree_records()? {
            if !same_path(&at, path) {
                continue;
            }
            let worktree = self
                .inner
                .find_worktree(&name)
                .context(|| format!("could not read worktree {name}"))?;
            worktree
                .prune(Some(
                    WorktreePruneOptions::new()
                        .valid(true)
                        .locked(true)
                        .working_tree(false),
                ))
                .context(|| format!("could not prune worktree {name}"))?;
        }
        Ok(())
    }

    /// What differs between two trees, as changes that turn `from` into `to`. Submodules
    /// (gitlinks) are left out: a change has no way to say "this commit of that repository".
    fn tree_changes(&self, from: Oid, to: Oid) -> Result<Vec<FileChange>> {
        let read_tree = |id: Oid| {
            self.inner
                .find_tree(id)
                .context(|| format!("could not read tree {}", ObjectId(id).short()))
        };
        let (old, new) = (read_tree(from)?, read_tree(to)?);
        let mut options = DiffOptions::new();
        options.include_typechange(true);
        let diff = self
            .inner
            .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))
            .context(|| "could not compare the worktree with its base".into())?;
        let mut changes = Vec::new();
        for delta in diff.deltas() {
            let file = match delta.status() {
                Delta::Deleted => delta.old_file(),
                Delta::Added | Delta::Modified | Delta::Typechange => delta.new_file(),
                _ => continue,
            };
            let Some(path) = file.path_bytes().and_then(|p| std::str::from_utf8(p).ok()) else {
                tracing::warn!("left out a path that is not UTF-8: {:?}", file.path());
                continue;
            };
            if delta.status() == Delta::Deleted {
                changes.push(FileChange::deleted(path));
                continue;
            }
            let kind = match file.mode() {
                git2::FileMode::Blob => FileKind::Regular,
                git2::FileMode::BlobExecutable => FileKind::Executable,
                git2::FileMode::Link => FileKind::Symlink,
                _ => {
                    // A repository inside the worktree (a gitlink): what was at the path goes.
                    if delta.status() == Delta::Typechange {
                        changes.push(FileChange::deleted(path));
                    }
                    continue;
                }
            };
            let blob = self
                .inner
                .find_blob(file.id())
                .context(|| format!("could not read {path} from the worktree"))?;
            changes.push(FileChange {
                path: path.to_string(),
                content: blob.content().to_vec(),
                kind,
            });
        }
        Ok(changes)
    }

    /// What `path` is in `commit`'s tree, as the change that would put it back there: the
    /// file with its mode (regular, executable, symlink), or a delete when it is not there.
    pub fn entry_at(&self, commit: ObjectId, path: &str) -> Result<FileChange> {
        let tree = self
            .inner
            .find_tree(self.tree_of(commit)?)
            .context(|| format!("could not read the tree of {}", commit.short()))?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(FileChange::deleted(path));
        };
        let kind = match entry.filemode() {
            m if m == i32::from(git2::FileMode::BlobExecutable) => FileKind::Executable,
            m if m == i32::from(git2::FileMode::Link) => FileKind::Symlink,
            m if m == i32::from(git2::FileMode::Blob) => FileKind::Regular,
            // A directory or a gitlink: no file is there.
            _ => return Ok(FileChange::deleted(path)),
        };
        let blob = self
            .inner
            .find_blob(entry.id())
            .context(|| format!("could not read {path} in {}", commit.short()))?;
        Ok(FileChange {
            path: path.to_string(),
            content: blob.content().to_vec(),
            kind,
        })
    }

    /// The files that differ between two commits' trees, as changes from `from` to `to`.
    pub fn commit_changes(&self, from: ObjectId, to: ObjectId) -> Result<Vec<FileChange>> {
        if from == to {
            return Ok(Vec::new());
        }
        self.tree_changes(self.tree_of(from)?, self.tree_of(to)?)
    }

    /// The best common ancestor of two commits, if they have one.
    fn merge_base(&self, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>> {
        match self.inner.merge_base(a.0, b.0) {
            Ok(id) => Ok(Some(ObjectId(id))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e)
                .context(|| format!("could not find where {} and {} part", a.short(), b.short())),
        }
    }

    fn tree_of(&self, commit: ObjectId) -> Result<Oid> {
        let commit_obj = self
            .inner
            .find_commit(commit.0)
            .context(|| format!("could not read commit {}", commit.short()))?;
        Ok(commit_obj.tree_id())
    }
}

impl std::fmt::Debug for Worktree {
    // Not derived: the environment it runs git with may hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worktree")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Worktree {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its own git directory (`<git-common-dir>/worktrees/<name>`: `HEAD`, index, logs).
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// Clear the index bits that make git look away from a file (assume-unchanged,
    /// skip-worktree): set by a program in the worktree, they would hide its changes from
    /// [`Worktree::changes`], which reads what `git status` names. Returns the paths cleared.
    pub fn clear_hiding_bits(&self) -> Result<Vec<String>> {
        let listed = self.git().args(["ls-files", "-v", "-z"]).output()?;
        let (mut assumed, mut skipped) = (Vec::new(), Vec::new());
        for entry in listed.split(|b| *b == 0) {
            let (Some(tag), Some(path)) = (entry.first(), entry.get(2..)) else {
                continue;
            };
            let path = String::from_utf8_lossy(path).into_owned();
            // Lower case: assume-unchanged; `S`/`s`: skip-worktree (a file may have both).
            if tag.is_ascii_lowercase() {
                assumed.push(path.clone());
            }
            if tag.eq_ignore_ascii_case(&b's') {
                skipped.push(path);
            }
        }
        // One flag per command: `update-index` applies only one of them to the paths after.
        for (flag, paths) in [
            ("--no-assume-unchanged", &assumed),
            ("--no-skip-worktree", &skipped),
        ] {
            if !paths.is_empty() {
                self.git()
                    .args(["update-index", flag, "--"])
                    .args(paths)
                    .output()?;
            }
        }
        let mut hidden: Vec<String> = assumed.into_iter().chain(skipped).collect();
        hidden.sort();
        hidden.dedup();
        Ok(hidden)
    }

    /// The commit its `HEAD` points at.
    pub fn head(&self) -> Result<ObjectId> {
        let text = self
            .git()
            .args(["rev-parse", "--verify", "HEAD^{commit}"])
            .text()?;
        ObjectId::parse(&text).ok_or_else(|| GitError::Command {
            args: "rev-parse --verify HEAD^{commit}".into(),
            detail: format!("printed `{text}`, which is no commit id"),
        })
    }

    /// Everything in the worktree now, compared with `base`'s tree: files changed, added or
    /// deleted, untracked files that are not ignored, and whatever commits were made inside
    /// it (the files are what counts, not the history). Symlinks are recorded as links with
    /// their target as content, never followed. Only the paths `git status` finds changed
    /// (from the index's stat data and the untracked cache) are read; the worktree's index is
    /// refreshed, its staged content left as it is (so `git diff` there still shows the work).
    pub fn changes(&self, repo: &Repo, base: ObjectId) -> Result<Vec<FileChange>> {
        Ok(self.read_with(repo, base, true)?.changes)
    }

    /// [`Worktree::changes`], with the `git status` they were read from, which
    /// [`Worktree::reset_after`] can take instead of reading every file's state again. The
    /// index is left as it was (`git --no-optional-locks`): the reset that follows writes it
    /// anyway, and writing it twice costs more than the few files a later `git status` reads
    /// again for want of the refreshed stat data.
    pub fn read(&self, repo: &Repo, base: ObjectId) -> Result<Read> {
        self.read_with(repo, base, false)
    }

    fn read_with(&self, repo: &Repo, base: ObjectId, refresh: bool) -> Result<Read> {
        let base_tree = repo.tree_of(base)?;
        let status = self.status_with(refresh)?;
        let now = self.tree_now(repo, &status, base_tree)?;
        Ok(Read {
            changes: repo.tree_changes(base_tree, now)?,
            status,
        })
    }

    /// The changes at `paths` only, compared with `base`: what [`Worktree::changes`] would
    /// say about them, without looking at any other file (in a large repository, reading
    /// every file's state costs far more than the few files an edit reply wrote). A path
    /// that is as in `base` has no change; one missing from both has none either.
    pub fn changes_in(
        &self,
        repo: &Repo,
        base: ObjectId,
        paths: &[String],
    ) -> Result<Vec<FileChange>> {
        let tree = repo
            .inner
            .find_tree(repo.tree_of(base)?)
            .context(|| format!("could not read the tree of {}", base.short()))?;
        let mut out = Vec::new();
        for path in paths {
            let full = self.path.join(path);
            let io = |source| GitError::WorktreeIo {
                action: "read".into(),
                path: full.clone(),
                source,
            };
            let before = match tree.get_path(Path::new(path)) {
                Ok(entry) => {
                    let blob = repo
                        .inner
                        .find_blob(entry.id())
                        .context(|| format!("could not read {path} in {}", base.short()))?;
                    Some((entry.filemode(), blob.content().to_vec()))
                }
                Err(_) => None,
            };
            let now = match std::fs::symlink_metadata(&full) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(e)),
                Ok(meta) if meta.file_type().is_symlink() => {
                    let target = std::fs::read_link(&full).map_err(io)?;
                    Some((
                        FileKind::Symlink,
                        target.to_string_lossy().into_owned().into_bytes(),
                    ))
                }
                Ok(meta) => {
                    use std::os::unix::fs::PermissionsExt;
                    let kind = if meta.permissions().mode() & 0o111 != 0 {
                        FileKind::Executable
                    } else {
                        FileKind::Regular
                    };
                    Some((kind, std::fs::read(&full).map_err(io)?))
                }
            };
            let mode = |kind: FileKind| match kind {
                FileKind::Executable => i32::from(git2::FileMode::BlobExecutable),
                FileKind::Symlink => i32::from(git2::FileMode::Link),
                _ => i32::from(git2::FileMode::Blob),
            };
            match (before, now) {
                (None, None) => {}
                (Some(_), None) => out.push(FileChange::deleted(path.clone())),
                (Some((old_mode, old)), Some((kind, content)))
                    if old_mode == mode(kind) && old == content => {}
                (_, Some((kind, content))) => out.push(FileChange {
                    path: path.clone(),
                    content,
                    kind,
                }),
            }
        }
        Ok(out)
    }

    /// Detach `HEAD` at `to` (a branch checked out in the worktree stays where it is), make
    /// the index and files match it, and delete untracked files. Ignored files are kept. The
    /// worktree is then marked clean at `to`: call [`Worktree::begin_work`] before writing in
    /// it again.
    ///
    /// Only the paths that differ from `to` are touched (what `git status` lists, and what
    /// differs between `HEAD` and `to`); when that fails (a corrupt index, say), every file is
    /// checked out again and the work tree cleaned, as `git checkout --force` and `git clean`
    /// do.
    pub fn reset(&self, repo: &Repo, to: ObjectId) -> Result<()> {
        self.begin_work()?;
        self.repair()?;
        if let Err(error) = self
            .status()
            .and_then(|status| self.reset_paths(repo, to, &status, &[]))
        {
            tracing::debug!("{error}; checking every file out instead");
            self.reset_all(to)?;
        }
        self.record_base(to)?;
        self.mark_clean(to)
    }

    /// [`Worktree::reset`], the paths that differ taken from `read` instead of a new `git
    /// status` of every file. Only for a read after which nothing but the tool's own commits
    /// changed the worktree: a file written since would be missed (and found by the next
    /// reading of the worktree, which always runs `git status`).
    pub fn reset_after(&self, repo: &Repo, to: ObjectId, read: &Read) -> Result<()> {
        self.begin_work()?;
        self.repair()?;
        if let Err(error) = self.reset_paths(repo, to, &read.status, &read.changes) {
            tracing::debug!("{error}; checking every file out instead");
            self.reset_all(to)?;
        }
        self.record_base(to)?;
        self.mark_clean(to)
    }

    /// Every file checked out again and every untracked file deleted, whatever `git status`
    /// says: what [`Worktree::reset`] falls back to.
    fn reset_all(&self, to: ObjectId) -> Result<()> {
        self.git()
            .args(["checkout", "--quiet", "--force", "--detach"])
            .arg(to.to_string())
            .output()?;
        self.git().args(["clean", "-ffdq"]).output()?;
        Ok(())
    }

    /// [`Worktree::reset`] of the paths that differ from `to`, `status` being what
    /// `git status` says now: untracked files and repositories removed, the index entries
    /// and files at the paths that differ set as `to` has them, `HEAD` detached at `to`.
    /// `holding` is what some of those paths hold now (as git would stage them): a file
    /// already holding what `to` has is left as it is, only its index entry set.
    fn reset_paths(
        &self,
        repo: &Repo,
        to: ObjectId,
        status: &Status,
        holding: &[FileChange],
    ) -> Result<()> {
        let held: std::collections::HashMap<&str, (Oid, u32)> = holding
            .iter()
            .filter_map(|c| {
                let mode = match c.kind {
                    FileKind::Regular => 0o100644,
                    FileKind::Executable => 0o100755,
                    FileKind::Symlink => 0o120000,
                    FileKind::Deleted => return None,
                };
                let id = Oid::hash_object(git2::ObjectType::Blob, &c.content).ok()?;
                Some((c.path.as_str(), (id, mode)))
            })
            .collect();
        let to_tree = repo.tree_of(to)?;
        let head_tree = status.head.map(|h| repo.tree_of(h)).transpose()?;
        let mut paths: BTreeSet<String> = status.tracked.iter().map(|(p, _)| p.clone()).collect();
        paths.extend(repo.paths_between(head_tree, Some(to_tree))?);

        // What no one tracks goes first, so that nothing is in the way of what is written;
        // unless an ignore file changes, which changes what is untracked: then after.
        let ignores_change = paths
            .iter()
            .any(|p| p == ".gitignore" || p.ends_with("/.gitignore"));
        let mut emptied = Vec::new();
        if !ignores_change {
            self.remove_untracked(status, &paths, &mut emptied)?;
        }
        // Every stage of each path leaves the index, then `to`'s entries go in (all removals
        // first: a file may take the place of a directory, or the other way round).
        let zero = Oid::ZERO_SHA1;
        let mut entries = Vec::new();
        for path in &paths {
            entries.extend_from_slice(format!("0 {zero}\t{path}\0").as_bytes());
        }
        let mut written = Vec::new();
        for path in &paths {
            match repo.entry_in(to_tree, path)? {
                Some((id, mode)) => {
                    entries.extend_from_slice(format!("{mode:o} {id}\t{path}\0").as_bytes());
                    if !is_gitlink(mode) && held.get(path.as_str()) != Some(&(id, mode)) {
                        written.extend_from_slice(path.as_bytes());
                        written.push(0);
                    }
                }
                None => {
                    self.remove_file(path)?;
                    emptied.push(path.as_str());
                }
            }
        }
        self.remove_empty_parents(&emptied);
        if !entries.is_empty() {
            self.git()
                .args(["update-index", "-z", "--index-info"])
                .input(entries)
                .output()?;
        }
        if !written.is_empty() {
            self.git()
                .args(["checkout-index", "--force", "-u", "-z", "--stdin"])
                .input(written)
                .output()?;
        }
        if ignores_change {
            let (again, mut emptied) = (self.status()?, Vec::new());
            self.remove_untracked(&again, &BTreeSet::new(), &mut emptied)?;
            self.remove_empty_parents(&emptied);
        }
        if status.head != Some(to) || !status.detached {
            self.git()
                .args([
                    "update-ref",
                    "--no-deref",
                    "-m",
                    "orchestrate: reset",
                    "HEAD",
                ])
                .arg(to.to_string())
                .output()?;
        }
        Ok(())
    }

    /// Remove the untracked files and repositories `status` lists, but for `kept` paths;
    /// each removed path is added to `removed`.
    fn remove_untracked<'s>(
        &self,
        status: &'s Status,
        kept: &BTreeSet<String>,
        removed: &mut Vec<&'s str>,
    ) -> Result<()> {
        for dir in &status.nested {
            remove_dir(&self.path.join(dir))?;
            removed.push(dir.as_str());
        }
        for file in status.untracked.iter().filter(|f| !kept.contains(*f)) {
            self.remove_file(file)?;
            removed.push(file.as_str());
        }
        Ok(())
    }

    /// Remove the file or symlink at `path` (relative), if one is there; a directory stays.
    fn remove_file(&self, path: &str) -> Result<()> {
        let full = self.path.join(path);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if !meta.is_dir() => {
                std::fs::remove_file(&full).map_err(|source| GitError::WorktreeIo {
                    action: "remove".into(),
                    path: full,
                    source,
                })
            }
            _ => Ok(()),
        }
    }

    /// Remove the directories above `paths` (relative) that are empty now, as `git clean -d`
    /// would: a directory still holding something (an ignored file) stays.
    fn remove_empty_parents(&self, paths: &[&str]) {
        let mut dirs: BTreeSet<&str> = BTreeSet::new();
        for path in paths {
            let mut at = *path;
            while let Some((parent, _)) = at.rsplit_once('/') {
                dirs.insert(parent);
                at = parent;
            }
        }
        // Deepest first: a directory is empty only once the directories in it are gone.
        let mut dirs: Vec<&str> = dirs.into_iter().collect();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
        for dir in dirs {
            // Failing means something is still in it (or it is gone already): it stays.
            let _ = std::fs::remove_dir(self.path.join(dir));
        }
    }

    /// Write `change` into the worktree: the file with its content and mode (regular,
    /// executable, or a symlink to its content), or the path removed. Parents are made as
    /// needed; a parent that is a symlink is refused, so nothing is written outside.
    ///
    /// A file written in the same second as the one it replaces gets a modification time a
    /// second later: tools that trust a file's whole-second time and size (Python's bytecode
    /// cache) would otherwise take new content of the same size for the old.
    pub fn put(&self, change: &FileChange) -> Result<()> {
        let target = self.path.join(&change.path);
        let io = |action: &str, source| GitError::WorktreeIo {
            action: action.into(),
            path: target.clone(),
            source,
        };
        let mut dir = self.path.clone();
        let parents: Vec<&str> = change.path.split('/').collect();
        for part in &parents[..parents.len().saturating_sub(1)] {
            dir.push(part);
            if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(io(
                    "write",
                    std::io::Error::other(format!("{} is a symlink", dir.display())),
                ));
            }
        }
        let before = std::fs::symlink_metadata(&target)
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok());
        // Whatever is at the path goes first: a symlink is replaced, never written through.
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                std::fs::remove_dir_all(&target).map_err(|e| io("remove", e))?
            }
            Ok(_) => std::fs::remove_file(&target).map_err(|e| io("remove", e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("read", e)),
        }
        if change.kind == FileKind::Deleted {
            return Ok(());
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("write", e))?;
        }
        if change.kind == FileKind::Symlink {
            let link = String::from_utf8_lossy(&change.content).into_owned();
            return std::os::unix::fs::symlink(link, &target).map_err(|e| io("write", e));
        }
        std::fs::write(&target, &change.content).map_err(|e| io("write", e))?;
        use std::os::unix::fs::PermissionsExt;
        let mode = match change.kind {
            FileKind::Executable => 0o755,
            _ => 0o644,
        };
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("write", e))?;
        if let Some(before) = before {
            let file = std::fs::File::options()
                .write(true)
                .open(&target)
                .map_err(|e| io("write", e))?;
            let now = file
                .metadata()
                .and_then(|m| m.modified())
                .map_err(|e| io("read", e))?;
            let second = |t: std::time::SystemTime| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            };
            if second(now) <= second(before) {
                file.set_modified(before + std::time::Duration::from_secs(1))
                    .map_err(|e| io("write", e))?;
            }
        }
        Ok(())
    }

    /// Say that the worktree is about to be written in (by an implementer, by tests): its
    /// clean marker goes, so work the next [`Repo::issue_worktree`] finds there is taken for
    /// what a run that was stopped left, not for changes made outside any run. Call it before
    /// anything writes, after every [`Worktree::reset`] too.
    pub fn begin_work(&self) -> Result<()> {
        let path = self.git_dir.join(CLEAN_FILE);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(GitError::WorktreeIo {
                action: "remove".into(),
                path,
                source,
            }),
        }
    }

    /// Make the worktree clean at `at`, returning the work found in it first. Its index and
    /// files are always read: the clean marker is not trusted to say the worktree is clean.
    fn prepare(&self, repo: &Repo, at: ObjectId) -> Result<Vec<FileChange>> {
        self.begin_work()?;
        let found = self.work_found(repo, at)?;
        if found.clean_at {
            self.mark_clean(at)?;
            return Ok(Vec::new());
        }
        self.reset(repo, at)?;
        Ok(found.changes)
    }

    /// The work in the worktree that `at` does not have (one `git status`, then only the paths
    /// it names are read): what a reset to `at` would lose. Only what was done in the worktree
    /// counts: a file left as it was when the worktree was last prepared is not work, even if
    /// `at` (the branch, moved on since) has it otherwise.
    fn work_found(&self, repo: &Repo, at: ObjectId) -> Result<WorkFound> {
        let status = self.status()?;
        let head = status.head.filter(|_| status.detached);
        if head == Some(at) && status.clean() {
            return Ok(WorkFound {
                changes: Vec::new(),
                clean_at: true,
            });
        }
        let at_tree = repo.tree_of(at)?;
        let snapshot = self.tree_now(repo, &status, at_tree)?;
        let mut changes = repo.tree_changes(at_tree, snapshot)?;
        // Where the worktree's own work started: the commit it was last prepared at, else
        // (a worktree made by hand, or before that was recorded) where its `HEAD` and `at`
        // part, so that commits made inside it count as its work.
        let started = match self.recorded_base() {
            Some(base) => Some(base),
            None => match status.head {
                Some(head) => repo.merge_base(head, at)?,
                None => None,
            },
        };
        if let Some(started) = started.filter(|s| *s != at) {
            let done = repo.tree_changes(repo.tree_of(started)?, snapshot)?;
            let touched: std::collections::HashSet<&str> =
                done.iter().map(|c| c.path.as_str()).collect();
            changes.retain(|c| touched.contains(c.path.as_str()));
        }
        Ok(WorkFound {
            changes,
            clean_at: false,
        })
    }

    /// What `git status` says: `HEAD`, and the paths that may differ from it. Git reads the
    /// index's stat data (re-reading only files whose size or times changed, and those
    /// written in the same second as the index) and the untracked cache (re-reading only
    /// directories that changed), and writes the refreshed index back, so the next call finds
    /// the same files unchanged without reading them.
    fn status(&self) -> Result<Status> {
        self.status_with(true)
    }

    /// [`Worktree::status`]; without `refresh`, the index is not written back.
    fn status_with(&self, refresh: bool) -> Result<Status> {
        let mut call = self.git();
        if !refresh {
            call = call.arg("--no-optional-locks");
        }
        let out = call
            .args([
                "status",
                "--porcelain=v2",
                "--branch",
                "-z",
                "--untracked-files=all",
                "--no-renames",
                "--no-ahead-behind",
                "--ignore-submodules=dirty",
            ])
            .output()?;
        Ok(Status::parse(&out))
    }

    /// The worktree's files as a tree in the object database, as `git add -A` would stage
    /// them: `base_tree` with every path that may differ from it read again — what `status`
    /// lists, and where `HEAD` (commits made inside) differs from `base_tree`. Files are
    /// hashed by `git hash-object`, with the user's filters and attributes.
    fn tree_now(&self, repo: &Repo, status: &Status, base_tree: Oid) -> Result<Oid> {
        let head_tree = status.head.map(|h| repo.tree_of(h)).transpose()?;
        let mut updates = BTreeMap::new();
        // A path that only `HEAD` changed is as `HEAD` has it: `status` says the index and
        // the files agree with it.
        if head_tree != Some(base_tree) {
            for path in repo.paths_between(Some(base_tree), head_tree)? {
                let now = repo.now_in(head_tree, &path)?;
                updates.insert(path, now);
            }
        }
        // A path the index dropped counts only when it is listed untracked too: an ignored
        // file left behind by `git rm --cached` is not staged by `git add -A` either.
        let mut read = Vec::new();
        for (path, mode) in &status.tracked {
            match mode {
                0 => {
                    updates.insert(path.clone(), Now::Gone);
                }
                _ => read.push((path.as_str(), *mode)),
            }
        }
        read.extend(status.untracked.iter().map(|p| (p.as_str(), 0)));
        for dir in &status.nested {
            updates.insert(dir.clone(), Now::Repository);
        }
        updates.extend(self.read_now(repo, &read)?);
        repo.tree_with(base_tree, &updates)
    }

    /// What each of `paths` (relative, with the index's mode for it, 0 when untracked) holds
    /// on disk, its blobs written: a file, a symlink (its target, never followed), a
    /// repository, or nothing (a path under a symlink or a file is not there).
    fn read_now(&self, repo: &Repo, paths: &[(&str, u32)]) -> Result<Vec<(String, Now)>> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::PermissionsExt;
        let file_mode = repo
            .inner
            .config()
            .and_then(|c| c.get_bool("core.filemode"))
            .unwrap_or(true);
        let mut out = Vec::new();
        let mut to_hash: Vec<(&str, i32)> = Vec::new();
        for &(path, index_mode) in paths {
            let full = self.path.join(path);
            let io = |source| GitError::WorktreeIo {
                action: "read".into(),
                path: full.clone(),
                source,
            };
            let meta = match std::fs::symlink_metadata(&full) {
                _ if !self.under_directories(path) => None,
                Ok(meta) => Some(meta),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) =>
                {
                    None
                }
                Err(e) => return Err(io(e)),
            };
            let now = match meta {
                Some(meta) if meta.file_type().is_symlink() => {
                    let target = std::fs::read_link(&full).map_err(io)?;
                    let id = repo
                        .inner
                        .blob(target.as_os_str().as_bytes())
                        .context(|| format!("could not store the symlink {path}"))?;
                    Now::Blob(id, i32::from(git2::FileMode::Link))
                }
                Some(meta) if meta.is_file() => {
                    let executable = match file_mode {
                        true => meta.permissions().mode() & 0o100 != 0,
                        false => index_mode == 0o100755,
                    };
                    let mode = match executable {
                        true => git2::FileMode::BlobExecutable,
                        false => git2::FileMode::Blob,
                    };
                    to_hash.push((path, i32::from(mode)));
                    continue;
                }
                Some(meta) if meta.is_dir() && is_gitlink(index_mode) => Now::Repository,
                _ => Now::Gone,
            };
            out.push((path.to_string(), now));
        }
        let ids = self.hash_files(to_hash.iter().map(|(p, _)| *p))?;
        for ((path, mode), id) in to_hash.into_iter().zip(ids) {
            out.push((path.to_string(), Now::Blob(id, mode)));
        }
        Ok(out)
    }

    /// Whether every directory above `path` (relative) is a directory, not a symlink: git
    /// never looks through a symlink, so nothing under one is in the worktree.
    fn under_directories(&self, path: &str) -> bool {
        let mut dir = self.path.clone();
        let parts: Vec<&str> = path.split('/').collect();
        parts[..parts.len().saturating_sub(1)].iter().all(|part| {
            dir.push(part);
            std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir())
        })
    }

    /// Store the files at `paths` (relative) as blobs, as `git add` would (the user's clean
    /// filters and attributes applied): one `git hash-object` for all of them.
    fn hash_files<'p>(&self, paths: impl Iterator<Item = &'p str>) -> Result<Vec<Oid>> {
        let mut input = Vec::new();
        let mut count = 0;
        for path in paths {
            quote_path(path, &mut input);
            input.push(b'\n');
            count += 1;
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        let out = self
            .git()
            .args(["hash-object", "-w", "--stdin-paths"])
            .input(input)
            .text()?;
        let ids: Vec<Oid> = out
            .lines()
            .filter_map(|line| Oid::from_str(line.trim()).ok())
            .collect();
        if ids.len() != count {
            return Err(GitError::Command {
                args: "hash-object -w --stdin-paths".into(),
                detail: format!("printed {} ids for {count} files", ids.len()),
            });
        }
        Ok(ids)
    }

    /// The worktree's files as a tree, the slow way: `git add -A` into a copy of its index,
    /// then `git write-tree`. What [`Worktree::tree_now`] must agree with.
    #[cfg(test)]
    fn full_scan(&self) -> Result<Oid> {
        let io = |action: &str| {
            let action = action.to_string();
            let path = self.git_dir.clone();
            move |source| GitError::WorktreeIo {
                action,
                path,
                source,
            }
        };
        let scratch = tempfile::Builder::new()
            .prefix("orchestrate-index-")
            .tempdir_in(&self.git_dir)
            .map_err(io("make a scratch index in"))?;
        let index = scratch.path().join("index");
        // A copy keeps the index's file stamps: git re-reads only files that changed.
        if self.git_dir.join("index").exists() {
            std::fs::copy(self.git_dir.join("index"), &index).map_err(io("copy the index of"))?;
        }
        self.git()
            .args(["add", "--all", "--", "."])
            .env("GIT_INDEX_FILE", &index)
            .output()?;
        let tree = self
            .git()
            .arg("write-tree")
            .env("GIT_INDEX_FILE", &index)
            .text()?;
        Oid::from_str(&tree).map_err(|_| GitError::Command {
            args: "write-tree".into(),
            detail: format!("printed `{tree}`, which is no tree id"),
        })
    }

    /// `git` in the worktree, told its git directory and work tree outright: a run may have
    /// deleted the `.git` file, and git would then find the enclosing repository instead.
    /// Its index keeps an untracked cache, so `git status` re-reads only the directories
    /// that changed; git keeps and uses it only for the untracked files the configuration
    /// asks to show, so that is every file, as [`Worktree::status`] asks.
    fn git(&self) -> super::runner::GitCall<'_> {
        git_in(&self.env, &self.path)
            .args(["-c", "core.untrackedCache=true"])
            .args(["-c", "status.showUntrackedFiles=all", "--git-dir"])
            .arg(&self.git_dir)
            .arg("--work-tree")
            .arg(&self.path)
    }

    /// Undo what a killed run can leave behind that stops git: its `.git` file deleted, a
    /// lock on the index. Nothing else works in this worktree while the issue is locked, so a
    /// lock file here was left by a git that died.
    fn repair(&self) -> Result<()> {
        let io = |action: &'static str, path: PathBuf| {
            move |source| GitError::WorktreeIo {
                action: action.into(),
                path,
                source,
            }
        };
        let dot_git = self.path.join(".git");
        if !dot_git.is_file() {
            if dot_git.is_dir() {
                std::fs::remove_dir_all(&dot_git).map_err(io("remove", dot_git.clone()))?;
            }
            let line = format!("gitdir: {}\n", self.git_dir.display());
            std::fs::write(&dot_git, line).map_err(io("write", dot_git.clone()))?;
        }
        let lock = self.git_dir.join("index.lock");
        if lock.exists() {
            std::fs::remove_file(&lock).map_err(io("remove", lock.clone()))?;
        }
        Ok(())
    }

    fn record_base(&self, at: ObjectId) -> Result<()> {
        let path = self.git_dir.join(BASE_FILE);
        std::fs::write(&path, format!("{at}\n")).map_err(|source| GitError::WorktreeIo {
            action: "write".into(),
            path,
            source,
        })
    }

    fn recorded_base(&self) -> Option<ObjectId> {
        let text = std::fs::read_to_string(self.git_dir.join(BASE_FILE)).ok()?;
        ObjectId::parse(text.trim())
    }

    /// Written only once the worktree is exactly at `at` (its files, index and `HEAD`).
    fn mark_clean(&self, at: ObjectId) -> Result<()> {
        let path = self.git_dir.join(CLEAN_FILE);
        std::fs::write(&path, format!("{at}\n")).map_err(|source| GitError::WorktreeIo {
            action: "write".into(),
            path,
            source,
        })
    }

    /// The commit the clean marker names: the worktree was left exactly there by a run (or
    /// when it was made) and no run has written in it since. Not proof that it is clean: a
    /// person or another program may have written there.
    fn clean_mark(&self) -> Option<ObjectId> {
        let text = std::fs::read_to_string(self.git_dir.join(CLEAN_FILE)).ok()?;
        ObjectId::parse(text.trim())
    }
}

/// Append `path` to `out` as `git hash-object --stdin-paths` reads a line: as it is, or
/// quoted as C quotes a string when it holds a newline or starts with a quote.
fn quote_path(path: &str, out: &mut Vec<u8>) {
    if !path.contains('\n') && !path.starts_with('"') {
        out.extend_from_slice(path.as_bytes());
        return;
    }
    out.push(b'"');
    for &b in path.as_bytes() {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..0x20 | 0x7f => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Whether `path` is a directory with something in it (or something other than a directory).
fn dir_has_entries(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

fn remove_dir(path: &Path) -> Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(|source| GitError::WorktreeIo {
        action: "remove".into(),
        path: path.to_path_buf(),
        source,
    })
}

/// The same place, spelled with or without a trailing slash or through symlinks.
fn same_path(a: &Path, b: &Path) -> bool {
    let tidy = |p: &Path| p.components().collect::<PathBuf>();
    if tidy(a) == tidy(b) {
        return true;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::env::Env;
    use crate::git::test_support::{git, temp_repo};

    /// A repository on `main` with README.md, src/lib.rs, run.sh and a .gitignore for
    /// `target/`, and the hermetic environment git runs with.
    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        env: Env,
    }

    impl Fixture {
        /// The repository, its tip, issue 7's worktree there ready to be written, and its
        /// path.
        fn worktree_at_tip(&self) -> (Repo, ObjectId, Worktree, PathBuf) {
            let repo = self.repo();
            let tip = self.tip();
            let worktree = repo.issue_worktree(7, tip).unwrap().worktree;
            worktree.begin_work().unwrap();
            let path = worktree.path().to_path_buf();
            (repo, tip, worktree, path)
        }

        fn new() -> Fixture {
            let temp = temp_repo();
            let fixture = Fixture {
                _dir: temp.dir,
                root: temp.root,
                env: temp.env,
            };
            fixture.write(&fixture.root, "README.md", "# Widget\n");
            fixture.write(&fixture.root, "src/lib.rs", "pub fn widget() {}\n");
            fixture.write(&fixture.root, "run.sh", "#!/bin/sh\n");
            fixture.write(&fixture.root, ".gitignore", "target/\n");
            fixture.git(&fixture.root, &["add", "."]);
            fixture.git(&fixture.root, &["commit", "-q", "-m", "initial"]);
            fixture
        }

        fn repo(&self) -> Repo {
            Repo::open(&self.root, &self.env).unwrap()
        }

        fn git(&self, dir: &Path, args: &[&str]) -> String {
            git(dir, &self.env, args)
        }

        fn write(&self, dir: &Path, path: &str, content: &str) {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }

        fn tip(&self) -> ObjectId {
            ObjectId::parse(&self.git(&self.root, &["rev-parse", "main"])).unwrap()
        }
    }

    fn chmod_x(path: &Path) {
        let mut perms = std::fs::metadata(path).unwrap().permissions();
        perms.set_mode(0o755);
        std::fs::set_permissions(path, perms).unwrap();
    }

    /// The changes as `(path, kind, content)`, sorted by path.
    fn summary(changes: &[FileChange]) -> Vec<(String, FileKind, String)> {
        let mut out: Vec<_> = changes
            .iter()
            .map(|c| {
                let content = String::from_utf8_lossy(&c.content).into_owned();
                (c.path.clone(), c.kind, content)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn entry(path: &str, kind: FileKind, content: &str) -> (String, FileKind, String) {
        (path.to_string(), kind, content.to_string())
    }

    /// Issue 7's worktree prepared at `at`, by its path.
    fn made(repo: &Repo, at: ObjectId) -> PathBuf {
        repo.issue_worktree(7, at)
            .unwrap()
            .worktree
            .path()
            .to_path_buf()
    }

    #[test]
    fn creates_a_detached_worktree_and_reuses_it_when_clean() {
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        let prepared = repo.issue_worktree(7, tip).unwrap();
        assert!(prepared.created);
        assert!(prepared.recovered.is_empty());
        let path = prepared.worktree.path().to_path_buf();
        assert_eq!(path, repo.common_dir().join("orchestrate/worktrees/7"));
        assert_eq!(
            std::fs::read_to_string(path.join("README.md")).unwrap(),
            "# Widget\n"
        );
        assert_eq!(prepared.worktree.head().unwrap(), tip);
        // Detached: no branch was created or checked out for it.
        assert_eq!(f.git(&path, &["branch", "--show-current"]), "");
        assert_eq!(f.git(&f.root, &["branch", "--list"]), "* main");

        // An ignored build output survives being reused.
        f.write(&path, "target/out.o", "object");
        let again = repo.issue_worktree(7, tip).unwrap();
        assert!(!again.created);
        assert!(again.recovered.is_empty());
        assert_eq!(again.worktree.path(), path);
        assert!(path.join("target/out.o").exists());
        assert_eq!(repo.issue_worktrees().unwrap(), vec![(7, path)]);
    }

    fn marker(worktree: &Worktree) -> Option<String> {
        std::fs::read_to_string(worktree.git_dir.join(CLEAN_FILE))
            .ok()
            .map(|t| t.trim().to_string())
    }

    #[test]
    fn a_worktree_marked_clean_is_still_read_and_what_was_written_there_recovered() {
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        let created = repo.issue_worktree(7, tip).unwrap().worktree;
        assert_eq!(marker(&created).as_deref(), Some(tip.to_string().as_str()));
        let path = created.path().to_path_buf();

        let again = repo.issue_worktree(7, tip).unwrap();
        assert!(!again.created);
        assert!(again.recovered.is_empty());
        assert!(!again.outside_run);
        assert_eq!(again.worktree.head().unwrap(), tip);
        // Written and staged behind the stage's back, without `begin_work`: the marker
        // stays, and is not trusted. The work is found, said to be made outside a run, and
        // the worktree reset (its index too).
        f.write(
            &path,
            "unseen.txt",
            "written without begin_work
",
        );
        f.write(
            &path,
            "README.md",
            "# Widget, staged by hand
",
        );
        f.git(&path, &["add", "README.md"]);
        assert_eq!(marker(&created).as_deref(), Some(tip.to_string().as_str()));
        let found = repo.issue_worktree(7, tip).unwrap();
        assert_eq!(
            summary(&found.recovered),
            vec![
                entry("README.md", FileKind::Regular, "# Widget, staged by hand\n"),
                entry(
                    "unseen.txt",
                    FileKind::Regular,
                    "written without begin_work\n"
                ),
            ]
        );
        assert!(found.outside_run);
        assert!(!path.join("unseen.txt").exists());
        assert_eq!(f.git(&path, &["status", "--porcelain"]), "");
        assert_eq!(f.git(&path, &["diff", "--cached", "--name-only"]), "");
    }

    #[test]
    fn the_work_in_a_worktree_is_read_without_changing_it() {
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        assert!(repo.issue_worktree_work(7, Some(tip)).unwrap().is_empty());
        let worktree = repo.issue_worktree(7, tip).unwrap().worktree;
        let path = worktree.path().to_path_buf();
        assert!(repo.issue_worktree_work(7, Some(tip)).unwrap().is_empty());
        assert!(repo.issue_worktree_work(7, None).unwrap().is_empty());

        // Edited, added, deleted, ignored, and a commit made inside.
        f.write(&path, "README.md", "# Widget, by hand\n");
        f.write(&path, "notes.txt", "mine\n");
        f.write(&path, "target/out.o", "ignored");
        std::fs::remove_file(path.join("run.sh")).unwrap();
        f.write(&path, "inside.txt", "committed inside\n");
        f.git(&path, &["add", "inside.txt"]);
        f.git(&path, &["commit", "-q", "-m", "inside"]);
        let expected = vec![
            entry("README.md", FileKind::Regular, "# Widget, by hand\n"),
            entry("inside.txt", FileKind::Regular, "committed inside\n"),
            entry("notes.txt", FileKind::Regular, "mine\n"),
            entry("run.sh", FileKind::Deleted, ""),
        ];
        assert_eq!(
            summary(&repo.issue_worktree_work(7, Some(tip)).unwrap()),
            expected
        );
        // Without a branch, against the commit it was prepared at: the same.
        assert_eq!(
            summary(&repo.issue_worktree_work(7, None).unwrap()),
            expected
        );
        assert!(path.join("notes.txt").exists() && path.join("inside.txt").exists());

        // The branch moved on past the worktree: only what was done in the worktree counts.
        f.write(&f.root, "src/lib.rs", "pub fn widget() { 2 }\n");
        f.git(&f.root, &["commit", "-q", "-am", "moved"]);
        assert_eq!(
            summary(&repo.issue_worktree_work(7, Some(f.tip())).unwrap()),
            expected
        );

        // No worktree, or only a directory where one goes: nothing to read.
        assert!(repo.remove_issue_worktree(7).unwrap());
        f.write(&path, "left.txt", "left over");
        assert!(repo.issue_worktree_work(7, Some(tip)).unwrap().is_empty());
    }

    #[test]
    fn work_begun_after_the_marker_is_recovered() {
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        let worktree = repo.issue_worktree(7, tip).unwrap().worktree;
        let path = worktree.path().to_path_buf();
        worktree.begin_work().unwrap();
        assert_eq!(marker(&worktree), None);
        worktree.begin_work().unwrap(); // no marker: nothing to remove, no error
        // The run is killed after writing.
        f.write(&path, "README.md", "# Widget, half done\n");
        f.write(&path, "src/new.rs", "pub fn new() {}\n");

        let prepared = repo.issue_worktree(7, tip).unwrap();
        assert_eq!(
            summary(&prepared.recovered),
            vec![
                entry("README.md", FileKind::Regular, "# Widget, half done\n"),
                entry("src/new.rs", FileKind::Regular, "pub fn new() {}\n"),
            ]
        );
        assert!(
            !prepared.outside_run,
            "begun by a run: a run that was stopped"
        );
        assert_eq!(f.git(&path, &["status", "--porcelain"]), "");
        // Reset, it is marked clean again; found clean by `git status`, too.
        assert_eq!(
            marker(&prepared.worktree).as_deref(),
            Some(tip.to_string().as_str())
        );
        prepared.worktree.begin_work().unwrap();
        let clean = repo.issue_worktree(7, tip).unwrap();
        assert!(clean.recovered.is_empty());
        assert_eq!(
            marker(&clean.worktree).as_deref(),
            Some(tip.to_string().as_str())
        );
    }

    #[test]
    fn a_marker_for_another_commit_or_a_moved_head_means_the_full_check() {
        let f = Fixture::new();
        let repo = f.repo();
        let first = f.tip();
        let worktree = repo.issue_worktree(7, first).unwrap().worktree;
        let path = worktree.path().to_path_buf();
        // Left dirty with the marker in place (as if written without `begin_work`).
        f.write(&path, "src/lib.rs", "pub fn widget() { 1 }\n");
        f.write(&f.root, "README.md", "# Widget 2\n");
        f.git(&f.root, &["commit", "-q", "-am", "second"]);
        let second = f.tip();

        // The marker names `first`; preparing at `second` looks at the files.
        let prepared = repo.issue_worktree(7, second).unwrap();
        assert_eq!(
            summary(&prepared.recovered),
            vec![entry(
                "src/lib.rs",
                FileKind::Regular,
                "pub fn widget() { 1 }\n"
            )]
        );
        assert_eq!(prepared.worktree.head().unwrap(), second);
        assert_eq!(
            marker(&prepared.worktree).as_deref(),
            Some(second.to_string().as_str())
        );

        // A commit made inside moves HEAD away from the marker's commit: the full check too.
        f.write(&path, "inside.txt", "committed inside\n");
        f.git(&path, &["add", "inside.txt"]);
        f.git(&path, &["commit", "-q", "-m", "inside"]);
        let prepared = repo.issue_worktree(7, second).unwrap();
        assert_eq!(
            summary(&prepared.recovered),
            vec![entry("inside.txt", FileKind::Regular, "committed inside\n")]
        );
        assert_eq!(prepared.worktree.head().unwrap(), second);
        assert!(!path.join("inside.txt").exists());
    }

    #[test]
    fn a_dirty_worktree_gives_back_its_work_and_is_reset() {
        let f = Fixture::new();
        let (repo, tip, _, path) = f.worktree_at_tip();
        f.write(&path, "README.md", "# Widget, changed\n");
        f.write(&path, "notes/new.txt", "untracked\n");
        f.write(&path, "target/out.o", "ignored build output");
        std::fs::remove_file(path.join("src/lib.rs")).unwrap();

        let prepared = repo.issue_worktree(7, tip).unwrap();
        assert!(!prepared.created);
        assert_eq!(
            summary(&prepared.recovered),
            vec![
                entry("README.md", FileKind::Regular, "# Widget, changed\n"),
                entry("notes/new.txt", FileKind::Regular, "untracked\n"),
                entry("src/lib.rs", FileKind::Deleted, ""),
            ]
        );
        assert_eq!(
            std::fs::read_to_string(path.join("README.md")).unwrap(),
            "# Widget\n"
        );
        assert!(path.join("src/lib.rs").exists());
        assert!(!path.join("notes").exists());
        assert!(path.join("target/out.o").exists(), "ignored files are kept");
        assert_eq!(f.git(&path, &["status", "--porcelain"]), "");
    }

    #[test]
    fn a_branch_checked_out_inside_is_left_where_it_is() {
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        let path = made(&repo, tip);
        f.git(&path, &["checkout", "-q", "-b", "side"]);
        f.write(&path, "side.txt", "committed inside\n");
        f.git(&path, &["add", "side.txt"]);
        f.git(&path, &["commit", "-q", "-m", "side work"]);
        let side = f.git(&f.root, &["rev-parse", "side"]);

        let prepared = repo.issue_worktree(7, tip).unwrap();
        assert_eq!(
            summary(&prepared.recovered),
            vec![entry("side.txt", FileKind::Regular, "committed inside\n")]
        );
        assert_eq!(prepared.worktree.head().unwrap(), tip);
        assert_eq!(f.git(&path, &["branch", "--show-current"]), "");
        assert_eq!(f.git(&f.root, &["rev-parse", "side"]), side);
        assert_eq!(f.tip(), tip, "main did not move either");
        assert!(!path.join("side.txt").exists());
    }

    #[test]
    fn work_already_on_the_branch_is_not_recovered_again() {
        let f = Fixture::new();
        let repo = f.repo();
        let first = f.tip();
        let path = made(&repo, first);
        // The killed run changed one file; meanwhile the branch moved on and changed another.
        f.write(&path, "src/lib.rs", "pub fn widget() { half_done() }\n");
        f.write(&f.root, "README.md", "# Widget 2\n");
        f.git(&f.root, &["commit", "-q", "-am", "readme"]);
        let moved = f.tip();

        let prepared = repo.issue_worktree(7, moved).unwrap();
        assert_eq!(
            summary(&prepared.recovered),
            vec![entry(
                "src/lib.rs",
                FileKind::Regular,
                "pub fn widget() { half_done() }\n"
            )]
        );
        assert_eq!(prepared.worktree.head().unwrap(), moved);
        assert_eq!(
            std::fs::read_to_string(path.join("README.md")).unwrap(),
            "# Widget 2\n"
        );
    }

    #[test]
    fn a_worktree_deleted_by_hand_is_created_again() {
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        let path = made(&repo, tip);
        std::fs::remove_dir_all(&path).unwrap();
        let prepared = repo.issue_worktree(7, tip).unwrap();
        assert!(prepared.created);
        assert!(path.join("README.md").exists());
        assert_eq!(prepared.worktree.head().unwrap(), tip);
        let listed = f.git(&f.root, &["worktree", "list", "--porcelain"]);
        assert_eq!(listed.matches("worktree ").count(), 2, "{listed}");
    }

    #[test]
    fn a_directory_that_is_not_our_worktree_is_refused() {
        let f = Fixture::new();
        let repo = f.repo();
        let path = repo.issue_worktree_path(7);
        f.write(&path, "mine.txt", "someone's file");
        match repo.issue_worktree(7, f.tip()) {
            Err(GitError::NotOurWorktree { issue: 7, path: p }) => assert_eq!(p, path),
            other => panic!("expected NotOurWorktree, got {other:?}"),
        }
        assert!(path.join("mine.txt").exists());
    }

    #[test]
    fn changes_cover_every_kind_of_edit() {
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        let worktree = repo.issue_worktree(7, tip).unwrap().worktree;
        let path = worktree.path().to_path_buf();
        f.write(&path, "README.md", "# Widget\n\nMore.\n");
        std::fs::remove_file(path.join("src/lib.rs")).unwrap();
        chmod_x(&path.join("run.sh"));
        f.write(&path, "src/new.rs", "pub fn new() {}\n");
        std::os::unix::fs::symlink("/etc/passwd", path.join("outside")).unwrap();
        f.write(&path, "target/debug/app", "ignored");
        // A commit made inside is folded in: the files count, not the history.
        f.write(&path, "committed.txt", "from a commit\n");
        f.git(&path, &["add", "committed.txt"]);
        f.git(&path, &["commit", "-q", "-m", "inside"]);

        let changes = worktree.changes(&repo, tip).unwrap();
        assert_eq!(
            summary(&changes),
            vec![
                entry("README.md", FileKind::Regular, "# Widget\n\nMore.\n"),
                entry("committed.txt", FileKind::Regular, "from a commit\n"),
                entry("outside", FileKind::Symlink, "/etc/passwd"),
                entry("run.sh", FileKind::Executable, "#!/bin/sh\n"),
                entry("src/lib.rs", FileKind::Deleted, ""),
                entry("src/new.rs", FileKind::Regular, "pub fn new() {}\n"),
            ]
        );
        // The worktree's own index is untouched: the work still shows as unstaged there.
        assert_eq!(
            f.git(&path, &["diff", "--cached", "--name-only"]),
            "",
            "nothing was staged in the worktree"
        );
        // Compared with the commit made inside, only the later edits remain.
        let head = worktree.head().unwrap();
        assert_ne!(head, tip);
        let since = worktree.changes(&repo, head).unwrap();
        assert!(!since.iter().any(|c| c.path == "committed.txt"));
        assert_eq!(since.len(), 5);
    }

    #[test]
    fn put_writes_what_an_entry_holds_modes_included_and_puts_it_back() {
        use std::os::unix::fs::PermissionsExt;
        let f = Fixture::new();
        let repo = f.repo();
        let tip = f.tip();
        let worktree = repo.issue_worktree(7, tip).unwrap().worktree;
        let path = worktree.path().to_path_buf();
        chmod_x(&path.join("run.sh"));
        f.git(&path, &["add", "run.sh"]);
        f.git(&path, &["commit", "-q", "-m", "executable"]);
        let head = worktree.head().unwrap();

        // An executable deleted, then put back from the commit: its mode comes back too.
        let run = repo.entry_at(head, "run.sh").unwrap();
        assert_eq!(run.kind, FileKind::Executable);
        std::fs::remove_file(path.join("run.sh")).unwrap();
        worktree.put(&run).unwrap();
        let mode = std::fs::metadata(path.join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert!(worktree.changes(&repo, head).unwrap().is_empty());

        // A path missing from the commit is a delete; a symlink is written as a link, and a
        // file replacing it is not written through it.
        assert_eq!(
            repo.entry_at(head, "nothing/here").unwrap(),
            FileChange::deleted("nothing/here")
        );
        worktree
            .put(&FileChange {
                path: "link".into(),
                content: b"/etc/hostname".to_vec(),
                kind: FileKind::Symlink,
            })
            .unwrap();
        assert!(path.join("link").is_symlink());
        worktree.put(&FileChange::file("link", "plain\n")).unwrap();
        assert!(!path.join("link").is_symlink());
        worktree.put(&FileChange::deleted("link")).unwrap();
        assert!(!path.join("link").exists());

        // Same size, same second: the new content still gets a later whole-second time.
        let file = path.join("src/lib.rs");
        let before = std::fs::metadata(&file).unwrap().modified().unwrap();
        worktree
            .put(&FileChange::file("src/lib.rs", "pub fn gadget() {}\n"))
            .unwrap();
        let after = std::fs::metadata(&file).unwrap().modified().unwrap();
        let secs =
            |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(secs(after) > secs(before));

        // A parent that is a symlink is refused: nothing is written through it.
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), path.join("out")).unwrap();
        assert!(worktree.put(&FileChange::file("out/x.txt", "x")).is_err());
        assert!(!outside.path().join("x.txt").exists());

        assert_eq!(
            repo.commit_changes(tip, head).unwrap(),
            vec![FileChange {
                path: "run.sh".into(),
                content: b"#!/bin/sh\n".to_vec(),
                kind: FileKind::Executable
            }]
        );
    }

    #[test]
    fn reset_detaches_cleans_and_keeps_ignored_files() {
        let f = Fixture::new();
        let repo = f.repo();
        let first = f.tip();
        let worktree = repo.issue_worktree(7, first).unwrap().worktree;
        let path = worktree.path().to_path_buf();
        f.write(&f.root, "README.md", "# Widget 2\n");
        f.git(&f.root, &["commit", "-q", "-am", "second"]);
        let second = f.tip();
        f.write(&path, "stray.txt", "untracked");
        f.write(&path, "target/keep", "ignored");
        worktree.reset(&repo, second).unwrap();
        assert_eq!(worktree.head().unwrap(), second);
        assert!(!path.join("stray.txt").exists());
        assert!(path.join("target/keep").exists());
        assert_eq!(
            std::fs::read_to_string(path.join("README.md")).unwrap(),
            "# Widget 2\n"
        );
        assert!(worktree.changes(&repo, second).unwrap().is_empty());
    }

    /// The worktree read as the stage reads it (`git status`, then only the paths it names),
    /// checked against the full scan (`git add -A` into a copy of the index): the very same
    /// tree. Returns the changes from `base`.
    fn read_checked(
        repo: &Repo,
        worktree: &Worktree,
        base: ObjectId,
    ) -> Vec<(String, FileKind, String)> {
        let base_tree = repo.tree_of(base).unwrap();
        let status = worktree.status().unwrap();
        let read = worktree.tree_now(repo, &status, base_tree).unwrap();
        let scanned = worktree.full_scan().unwrap();
        assert_eq!(
            summary(&repo.tree_changes(base_tree, read).unwrap()),
            summary(&repo.tree_changes(base_tree, scanned).unwrap()),
            "the reading and the full scan differ"
        );
        // A repository inside is a gitlink to `git add`, and no change either way.
        if status.nested.is_empty() {
            assert_eq!(read, scanned);
        }
        summary(&worktree.changes(repo, base).unwrap())
    }

    fn set_mtime(path: &Path, to: std::time::SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(to)
            .unwrap();
    }

    #[test]
    fn reading_the_changes_finds_what_a_full_scan_finds() {
        let f = Fixture::new();
        // Stat data compared as on any file system: whole seconds and size, no ctime or
        // inode, so only git's check of a file as new as its index can see the edit below.
        f.git(&f.root, &["config", "core.trustctime", "false"]);
        f.git(&f.root, &["config", "core.checkStat", "minimal"]);
        let (repo, tip, worktree, path) = f.worktree_at_tip();
        // The first reading writes the index's stat data and untracked cache back.
        assert!(read_checked(&repo, &worktree, tip).is_empty());

        // Same size and the same modification time, in the second the index was written.
        let readme = path.join("README.md");
        let stamp = std::fs::metadata(&readme).unwrap().modified().unwrap();
        f.write(&path, "README.md", "# Gadget\n");
        set_mtime(&readme, stamp);
        set_mtime(&worktree.git_dir.join("index"), stamp);
        // A new file, a deleted one, a mode changed, symlinks (to a file outside, to a
        // directory inside: neither followed), an ignored file, a file in a new directory.
        f.write(&path, "notes.txt", "new\n");
        std::fs::remove_file(path.join("src/lib.rs")).unwrap();
        chmod_x(&path.join("run.sh"));
        std::os::unix::fs::symlink("/etc/passwd", path.join("outside")).unwrap();
        std::os::unix::fs::symlink("src", path.join("srclink")).unwrap();
        f.write(&path, "target/debug/app", "ignored");
        f.write(&path, "docs/guide/intro.md", "# Intro\n");
        std::fs::create_dir_all(path.join("empty/dir")).unwrap();

        let expected = vec![
            entry("README.md", FileKind::Regular, "# Gadget\n"),
            entry("docs/guide/intro.md", FileKind::Regular, "# Intro\n"),
            entry("notes.txt", FileKind::Regular, "new\n"),
            entry("outside", FileKind::Symlink, "/etc/passwd"),
            entry("run.sh", FileKind::Executable, "#!/bin/sh\n"),
            entry("src/lib.rs", FileKind::Deleted, ""),
            entry("srclink", FileKind::Symlink, "src"),
        ];
        assert_eq!(read_checked(&repo, &worktree, tip), expected);
        // Read again from the refreshed index and cache: the same.
        assert_eq!(read_checked(&repo, &worktree, tip), expected);

        // A file added to a directory the untracked cache has read, one changed back to the
        // base, an edit to a file already changed (same size, same second again).
        f.write(&path, "docs/guide/more.md", "# More\n");
        f.write(&path, "src/lib.rs", "pub fn widget() {}\n");
        let stamp = std::fs::metadata(&readme).unwrap().modified().unwrap();
        f.write(&path, "README.md", "# Gizmos\n");
        set_mtime(&readme, stamp);
        set_mtime(&worktree.git_dir.join("index"), stamp);
        let mut expected = expected;
        expected.retain(|(p, ..)| p != "src/lib.rs");
        expected[0] = entry("README.md", FileKind::Regular, "# Gizmos\n");
        expected.insert(
            2,
            entry("docs/guide/more.md", FileKind::Regular, "# More\n"),
        );
        assert_eq!(read_checked(&repo, &worktree, tip), expected);
        // The worktree's index stays as it was: nothing staged.
        assert_eq!(f.git(&path, &["diff", "--cached", "--name-only"]), "");
    }

    #[test]
    fn reading_the_changes_follows_commits_staging_and_swapped_kinds() {
        let f = Fixture::new();
        let (repo, tip, worktree, path) = f.worktree_at_tip();
        // A commit made inside, on a branch.
        f.git(&path, &["checkout", "-q", "-b", "agent"]);
        f.write(&path, "committed.txt", "from a commit\n");
        f.write(&path, "README.md", "# Widget, committed\n");
        f.git(&path, &["add", "."]);
        f.git(&path, &["commit", "-q", "-m", "inside"]);
        // ... then the README put back as on the base, unstaged: only the files count.
        f.write(&path, "README.md", "# Widget\n");
        // Staged, then deleted from disk; dropped from the index but kept on disk.
        f.write(&path, "staged.txt", "staged\n");
        f.git(&path, &["add", "staged.txt"]);
        std::fs::remove_file(path.join("staged.txt")).unwrap();
        f.git(&path, &["rm", "-q", "--cached", "committed.txt"]);
        // A file replaced by a directory, a directory by a file.
        std::fs::remove_file(path.join("run.sh")).unwrap();
        f.write(&path, "run.sh/inner.txt", "inside a directory now\n");
        std::fs::remove_dir_all(path.join("src")).unwrap();
        f.write(&path, "src", "a file now\n");
        // A repository made inside: left out (a change cannot hold another repository).
        let inner = path.join("inner");
        f.write(&inner, "x.txt", "x");
        f.git(&inner, &["init", "-q", "."]);
        f.git(&inner, &["add", "."]);
        f.git(&inner, &["commit", "-q", "-m", "inner"]);

        assert_eq!(
            read_checked(&repo, &worktree, tip),
            vec![
                entry("committed.txt", FileKind::Regular, "from a commit\n"),
                entry("run.sh", FileKind::Deleted, ""),
                entry(
                    "run.sh/inner.txt",
                    FileKind::Regular,
                    "inside a directory now\n"
                ),
                entry("src", FileKind::Regular, "a file now\n"),
                entry("src/lib.rs", FileKind::Deleted, ""),
            ]
        );
        // Compared with the commit made inside, the README is a change again.
        let head = worktree.head().unwrap();
        let since = read_checked(&repo, &worktree, head);
        assert_eq!(
            since[0],
            entry("README.md", FileKind::Regular, "# Widget\n")
        );
    }

    #[test]
    fn reset_after_a_reading_touches_what_it_found_and_leaves_the_worktree_clean() {
        let f = Fixture::new();
        let (repo, tip, worktree, path) = f.worktree_at_tip();
        // The change, a file the commit will not hold (written by tests), and a file the
        // tests changed after the change was read (the commit has the change's version).
        f.write(&path, "README.md", "# Widget 2\n");
        f.write(&path, "src/deep/new.rs", "pub fn new() {}\n");
        f.write(&path, "test-output.txt", "stray");
        f.write(&path, "src/lib.rs", "pub fn widget() {} // by the tests\n");
        let read = worktree.read(&repo, tip).unwrap();
        assert_eq!(read.changes.len(), 4);
        f.write(&f.root, "README.md", "# Widget 2\n");
        f.write(&f.root, "src/deep/new.rs", "pub fn new() {}\n");
        f.git(&f.root, &["add", "."]);
        f.git(&f.root, &["commit", "-q", "-m", "the change"]);
        let commit = f.tip();

        worktree.reset_after(&repo, commit, &read).unwrap();
        let status = f.git(&path, &["status", "--porcelain", "--untracked-files=all"]);
        assert_eq!(status, "");
        assert_eq!(worktree.head().unwrap(), commit);
        assert!(!path.join("test-output.txt").exists());
        assert_eq!(
            std::fs::read_to_string(path.join("src/lib.rs")).unwrap(),
            "pub fn widget() {}\n"
        );
        assert_eq!(
            std::fs::read_to_string(path.join("README.md")).unwrap(),
            "# Widget 2\n"
        );
        assert!(read_checked(&repo, &worktree, commit).is_empty());
    }

    #[test]
    fn reset_touches_what_differs_and_leaves_the_worktree_as_a_checkout_would() {
        let f = Fixture::new();
        let (repo, tip, worktree, path) = f.worktree_at_tip();
        // An attempt's work: the README changed, a module in a new directory, a file gone,
        // a nested repository, ignored output, a stray file next to ignored output.
        f.write(&path, "README.md", "# Widget 2\n");
        f.write(&path, "src/deep/new.rs", "pub fn new() {}\n");
        std::fs::remove_file(path.join("run.sh")).unwrap();
        f.write(&path, "inner/x.txt", "x");
        f.git(&path.join("inner"), &["init", "-q", "."]);
        f.write(&path, "target/out.o", "ignored");
        f.write(&path, "target/stray/y.o", "ignored");
        f.write(&path, "scratch/a/b.txt", "stray");
        // The commit the stage makes of it (in the user's repository, as the stage would).
        f.write(&f.root, "README.md", "# Widget 2\n");
        f.write(&f.root, "src/deep/new.rs", "pub fn new() {}\n");
        f.git(&f.root, &["rm", "-q", "run.sh"]);
        f.git(&f.root, &["add", "."]);
        f.git(&f.root, &["commit", "-q", "-m", "the change"]);
        let commit = f.tip();

        worktree.reset(&repo, commit).unwrap();
        let clean = |f: &Fixture| f.git(&path, &["status", "--porcelain", "--untracked-files=all"]);
        assert_eq!(clean(&f), "");
        assert_eq!(worktree.head().unwrap(), commit);
        assert_eq!(f.git(&path, &["branch", "--show-current"]), "");
        assert_eq!(
            std::fs::read_to_string(path.join("src/deep/new.rs")).unwrap(),
            "pub fn new() {}\n",
            "an untracked file the commit has is kept"
        );
        assert!(!path.join("inner").exists());
        assert!(!path.join("scratch").exists());
        assert!(path.join("target/out.o").exists() && path.join("target/stray/y.o").exists());
        assert!(read_checked(&repo, &worktree, commit).is_empty());

        // Back to the tip from a branch checked out inside, with a file and a directory
        // swapped in its commit and more left uncommitted.
        worktree.begin_work().unwrap();
        f.git(&path, &["checkout", "-q", "-b", "agent"]);
        std::fs::remove_dir_all(path.join("src")).unwrap();
        f.write(&path, "src", "a file\n");
        std::fs::remove_file(path.join("README.md")).unwrap();
        f.write(&path, "README.md/x", "a directory\n");
        f.git(&path, &["add", "-A"]);
        f.git(&path, &["commit", "-q", "-m", "swapped"]);
        f.write(&path, ".gitignore", "target/\n*.log\n");
        f.write(&path, "debug.log", "ignored now, not on the tip");
        worktree.reset(&repo, tip).unwrap();
        assert_eq!(clean(&f), "");
        assert_eq!(worktree.head().unwrap(), tip);
        assert_eq!(f.git(&path, &["branch", "--show-current"]), "");
        assert_eq!(
            std::fs::read_to_string(path.join("src/lib.rs")).unwrap(),
            "pub fn widget() {}\n"
        );
        assert_eq!(
            std::fs::read_to_string(path.join("README.md")).unwrap(),
            "# Widget\n"
        );
        assert!(path.join("run.sh").exists());
        assert!(!path.join("debug.log").exists(), "untracked on the tip");
        assert!(read_checked(&repo, &worktree, tip).is_empty());
        assert_eq!(
            f.git(&f.root, &["rev-parse", "agent"]).len(),
            40,
            "the branch made inside stays"
        );
    }

    #[test]
    fn removing_forgets_the_worktree() {
        let f = Fixture::new();
        let repo = f.repo();
        let path = repo
            .issue_worktree(7, f.tip())
            .unwrap()
            .worktree
            .path()
            .to_path_buf();
        f.write(&path, "dirty.txt", "work");
        f.write(&path, "target/out", "ignored");
        assert!(repo.remove_issue_worktree(7).unwrap());
        assert!(!path.exists());
        let listed = f.git(&f.root, &["worktree", "list", "--porcelain"]);
        assert_eq!(listed.matches("worktree ").count(), 1, "{listed}");
        assert!(repo.issue_worktrees().unwrap().is_empty());
        assert!(!repo.remove_issue_worktree(7).unwrap());
        // A stray directory where a worktree goes is removed too.
        f.write(&path, "left.txt", "left over");
        assert_eq!(repo.issue_worktrees().unwrap(), vec![(7, path.clone())]);
        assert!(repo.remove_issue_worktree(7).unwrap());
        assert!(!path.exists());
    }
}
