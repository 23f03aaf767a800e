//! The second line of defence around programs the tool does not control (an `agent:`
//! implementer, the test command, a `cmd:` model): the user's repository is snapshotted
//! before one runs and compared right after, and what changed that the tool did not make is
//! undone where the tool can.
//!
//! A [`Snapshot`] holds the user's checkout (`HEAD`, the index's checksum, `git status` of
//! tracked and untracked files, run with the untracked cache), the git directory's `config`,
//! `hooks/` and `info/` (their bytes, in memory), and every ref, loose and packed. After the
//! program, [`Repo::contain`] puts `config`, `hooks/` and `info/` back byte for byte — first,
//! so that nothing a program planted there (`core.fsmonitor`, a hook) runs in the check's own
//! `git status` —, deletes the refs it created, puts back those it moved or deleted, and names
//! the user's files, `HEAD` and index, which are the user's to sort out and are left alone.
//! Ref moves the tool makes itself are recorded process-wide (`moves.rs`) and never count.
//!
//! Cheap by design: the git directory's part reads a few small files, the index's last
//! bytes (its checksum) and the refs; the index's entries are read only when its checksum
//! changed (`git status` rewrites the index for stat data alone), and then compared by what
//! they stage, not by their stat data. The checkout's part is one `git status`.

mod files;
pub(crate) mod moves;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::Oid;

use super::{Context, GitError, Repo, Result};
use files::Files;

/// The parts of the git directory kept byte for byte.
const KEPT: &[&str] = &["config", "config.worktree", "hooks", "info"];

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A file under `hooks/`.
    Hook,
    /// `config` (or `config.worktree`).
    Config,
    /// A file under `info/`.
    Info,
    /// A ref (branch, tag, note, remote-tracking branch, ...).
    Ref,
    /// The checkout's `HEAD`.
    Head,
    /// The checkout's index.
    Index,
    /// A file of the checkout.
    File,
}

/// How it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    Added,
    Modified,
    Removed,
}

/// One change the after-check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub place: Place,
    /// A path (relative to the work tree when inside it, else absolute), a ref's full name,
    /// or empty for `HEAD` and the index.
    pub name: String,
    pub how: How,
    /// Whether it was put back as it was.
    pub undone: bool,
}

/// A ref's value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum RefValue {
    Direct(Oid),
    Symbolic(String),
}

impl RefValue {
    fn oid(&self) -> Option<Oid> {
        match self {
            RefValue::Direct(oid) => Some(*oid),
            RefValue::Symbolic(_) => None,
        }
    }
}

/// One line of `git status`: its two status letters and the file's stat data, so a file
/// that was already modified and is modified again still differs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Status {
    xy: [u8; 2],
    stat: Option<(u64, i64, i64)>,
}

/// The user's repository before a program ran.
pub struct Snapshot {
    /// The moves of the tool that count for this snapshot began after this.
    since: u64,
    /// Its `git status` and the check's leave the index unwritten (`--no-optional-locks`).
    keep_index: bool,
    head: Option<Vec<u8>>,
    index: Option<IndexState>,
    status: Option<BTreeMap<Vec<u8>, Status>>,
    files: Files,
    refs: BTreeMap<String, RefValue>,
}

impl Snapshot {
    /// Whether it holds the checkout's files (`git status`), not only the git directory's
    /// part.
    pub fn has_checkout(&self) -> bool {
        self.status.is_some()
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("refs", &self.refs.len())
            .finish_non_exhaustive()
    }
}

/// The index by its checksum, and what it stages (its entries without their stat data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IndexState {
    tail: [u8; 32],
    len: u64,
}

impl Repo {
    /// The user's repository as it is now: the git directory's part, then the checkout's.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.take_snapshot(true, false)
    }

    /// [`Repo::snapshot`] whose `git status` (and the check's after it) never writes the
    /// index back: for a check that must leave the user's index byte for byte as it was,
    /// refreshed stat data and untracked cache included (an eval's). Slower where the index
    /// has no untracked cache: every directory is read at each check.
    pub fn snapshot_keeping_index(&self) -> Result<Snapshot> {
        self.take_snapshot(true, true)
    }

    /// The git directory's part of a snapshot alone (`HEAD`, the index's checksum, config,
    /// hooks, `info/`, refs), without `git status`: what the benchmark measures apart.
    pub fn snapshot_git_dir(&self) -> Result<Snapshot> {
        self.take_snapshot(false, false)
    }

    fn take_snapshot(&self, checkout: bool, keep_index: bool) -> Result<Snapshot> {
        let since = moves::now();
        let files = self.kept_files()?;
        let refs = self.all_refs()?;
        let head = std::fs::read(self.inner.path().join("HEAD")).ok();
        let status = match checkout {
            true => self.checkout_status(keep_index)?,
            false => None,
        };
        // After `git status`, which may rewrite the index (stat data, the untracked cache).
        let index = self.index_state();
        self.learn_index(index);
        Ok(Snapshot {
            since,
            keep_index,
            head,
            index,
            status,
            files,
            refs,
        })
    }

    /// Compare the repository with `before`; undo what can be undone; say what changed.
    pub fn contain(&self, before: &Snapshot) -> Result<Vec<Found>> {
        self.contain_with(before, true)
    }

    /// [`Repo::contain`], reading the checkout's files again only when `checkout` (and
    /// `before` holds them): a program the kernel kept off the checkout cannot have written
    /// there, so its `git status` is skipped. The git directory's part, `HEAD` and the index
    /// are always compared.
    pub fn contain_with(&self, before: &Snapshot, checkout: bool) -> Result<Vec<Found>> {
        let mut found = Vec::new();
        // First: a planted `core.fsmonitor` or hook must not run in the `git status` below.
        let now = self.kept_files()?;
        for changed in before.files.restore(self.common_dir(), &now) {
            let top = changed.path.iter().next().and_then(|c| c.to_str());
            let place = match top {
                Some("hooks") => Place::Hook,
                Some("info") => Place::Info,
                _ => Place::Config,
            };
            found.push(Found {
                place,
                name: self.shown(&self.common_dir().join(&changed.path)),
                how: changed.how,
                undone: changed.undone,
            });
        }
        self.contain_refs(before, &mut found)?;
        if before.head.is_some() {
            let head = std::fs::read(self.inner.path().join("HEAD")).ok();
            if head != before.head {
                found.push(Found {
                    place: Place::Head,
                    name: String::new(),
                    how: How::Modified,
                    undone: false,
                });
            }
        }
        let status = match checkout && before.status.is_some() {
            true => self.checkout_status(before.keep_index)?,
            false => None,
        };
        let index = self.index_state();
        if index != before.index && !self.same_staging(before.index, index) {
            found.push(Found {
                place: Place::Index,
                name: String::new(),
                how: How::Modified,
                undone: false,
            });
        }
        if let (Some(was), Some(is)) = (&before.status, &status) {
            found.extend(status_changes(was, is));
        }
        Ok(found)
    }

    fn kept_files(&self) -> Result<Files> {
        Files::read(self.common_dir(), KEPT).map_err(|source| GitError::WorktreeIo {
            action: "read".into(),
            path: self.common_dir().to_path_buf(),
            source,
        })
    }

    /// `path` as a person finds it: relative to the work tree when inside it.
    fn shown(&self, path: &Path) -> String {
        let inside = self
            .workdir()
            .and_then(|root| path.strip_prefix(root).ok())
            .filter(|rel| !rel.as_os_str().is_empty());
        inside.unwrap_or(path).display().to_string()
    }

    fn all_refs(&self) -> Result<BTreeMap<String, RefValue>> {
        let mut refs = BTreeMap::new();
        let iter = self
            .inner
            .references()
            .context(|| "could not list the repository's refs".into())?;
        for reference in iter {
            let reference = reference.context(|| "could not read a ref".into())?;
            let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
            let value = match reference.target() {
                Some(oid) => RefValue::Direct(oid),
                None => RefValue::Symbolic(
                    reference
                        .symbolic_target_bytes()
                        .map(|t| String::from_utf8_lossy(t).into_owned())
                        .unwrap_or_default(),
                ),
            };
            refs.insert(name, value);
        }
        Ok(refs)
    }

    /// Refs created, moved or deleted since `before` by someone else than the tool: put back.
    fn contain_refs(&self, before: &Snapshot, found: &mut Vec<Found>) -> Result<()> {
        let now = self.all_refs()?;
        let common = self.common_dir();
        let names: BTreeSet<&String> = before.refs.keys().chain(now.keys()).collect();
        for name in names {
            let (was, is) = (before.refs.get(name), now.get(name));
            if was == is {
                continue;
            }
            if matches!(is, None | Some(RefValue::Direct(_)))
                && moves::made_by_tool(common, before.since, name, is.and_then(RefValue::oid))
            {
                continue;
            }
            if let Some(RefValue::Direct(oid)) = is
                && self.moved_by_another_run(name, *oid)
            {
                continue;
            }
            let how = match (was, is) {
                (None, _) => How::Added,
                (_, None) => How::Removed,
                _ => How::Modified,
            };
            let undone = self.put_ref_back(name, was, is).is_ok();
            found.push(Found {
                place: Place::Ref,
                name: name.clone(),
                how,
                undone,
            });
        }
        Ok(())
    }

    /// Whether `name` was last moved to `oid` by another process of this tool (a run of
    /// another issue in another terminal) or by a push, as its reflog says. A program could
    /// write such a reflog line too; the sandbox, not this check, is what keeps it from the
    /// refs.
    fn moved_by_another_run(&self, name: &str, oid: Oid) -> bool {
        let Ok(reflog) = self.inner.reflog(name) else {
            return false;
        };
        let Some(last) = reflog.get(0) else {
            return false;
        };
        let message = last.message_bytes().unwrap_or_default();
        last.id_new() == oid
            && (message.starts_with(super::REFLOG_PREFIX.as_bytes())
                || (name.starts_with("refs/remotes/") && message.starts_with(b"update by push")))
    }

    /// `name` back at `was` (deleted when it was not there), if it is still at `is`.
    fn put_ref_back(
        &self,
        name: &str,
        was: Option<&RefValue>,
        is: Option<&RefValue>,
    ) -> std::result::Result<(), git2::Error> {
        let message = "git-orchestrate: put back after a program changed it";
        let current = || self.inner.find_reference(name);
        match (was, is) {
            (None, Some(is)) => {
                let mut reference = current()?;
                if reference.target() != is.oid() {
                    return Err(git2::Error::from_str("the ref moved again"));
                }
                reference.delete()
            }
            (Some(RefValue::Direct(oid)), None) => {
                self.inner.reference(name, *oid, false, message).map(drop)
            }
            (Some(RefValue::Symbolic(to)), None) => self
                .inner
                .reference_symbolic(name, to, false, message)
                .map(drop),
            (Some(was), Some(is)) => {
                // Replaced only if it is still what was found (compare-and-swap); a direct
                // ref that became symbolic, or back, is deleted and made again.
                let reference = current()?;
                let still = match is {
                    RefValue::Direct(oid) => reference.target() == Some(*oid),
                    RefValue::Symbolic(to) => {
                        reference.symbolic_target_bytes() == Some(to.as_bytes())
                    }
                };
                if !still {
                    return Err(git2::Error::from_str("the ref moved again"));
                }
                match (was, is) {
                    (RefValue::Direct(oid), RefValue::Direct(found)) => self
                        .inner
                        .reference_matching(name, *oid, true, *found, message)
                        .map(drop),
                    _ => {
                        let mut reference = reference;
                        reference.delete()?;
                        self.put_ref_back(name, Some(was), None)
                    }
                }
            }
            (None, None) => Ok(()),
        }
    }

    /// `git status` of the checkout, with the untracked cache (written back unless
    /// `keep_index`); `None` without a work tree.
    fn checkout_status(&self, keep_index: bool) -> Result<Option<BTreeMap<Vec<u8>, Status>>> {
        let Some(root) = self.workdir() else {
            return Ok(None);
        };
        let mut call = self.git_here();
        if keep_index {
            call = call.arg("--no-optional-locks");
        }
        let out = call
            .args([
                "-c",
                "core.untrackedCache=true",
                "status",
                "--porcelain=v1",
                "-z",
                "--no-renames",
            ])
            .output()?;
        let mut status = BTreeMap::new();
        for entry in out.split(|b| *b == 0).filter(|e| e.len() > 3) {
            let xy = [entry[0], entry[1]];
            let path = entry[3..].to_vec();
            let full = root.join(std::ffi::OsStr::from_bytes(&path));
            let stat = std::fs::symlink_metadata(full).ok().map(|m| {
                (
                    m.len(),
                    m.mtime() * 1_000_000_000 + m.mtime_nsec(),
                    m.ctime(),
                )
            });
            status.insert(path, Status { xy, stat });
        }
        Ok(Some(status))
    }

    fn index_path(&self) -> PathBuf {
        self.inner.path().join("index")
    }

    /// The index's last 32 bytes (its checksum, SHA-1 or SHA-256) and length.
    fn index_state(&self) -> Option<IndexState> {
        self.workdir()?;
        let mut file = std::fs::File::open(self.index_path()).ok()?;
        let len = file.metadata().ok()?.len();
        let mut tail = [0u8; 32];
        if len >= 32 {
            file.seek(SeekFrom::End(-32)).ok()?;
            file.read_exact(&mut tail).ok()?;
        }
        Some(IndexState { tail, len })
    }

    /// Whether two states of the index stage the same: the same entries (path, object,
    /// mode, stage and flags), whatever their stat data and extensions.
    fn same_staging(&self, was: Option<IndexState>, is: Option<IndexState>) -> bool {
        let (Some(was), Some(is)) = (was, is) else {
            return false;
        };
        match known_staging(&self.index_path(), was) {
            Some(before) => self.staging(is) == Some(before),
            None => false,
        }
    }

    /// What the index stages, as a digest, remembered by its checksum.
    fn staging(&self, state: IndexState) -> Option<u64> {
        let path = self.index_path();
        if let Some(known) = known_staging(&path, state) {
            return Some(known);
        }
        let index = git2::Index::open(&path).ok()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for entry in index.iter() {
            entry.path.hash(&mut hasher);
            entry.id.hash(&mut hasher);
            entry.mode.hash(&mut hasher);
            // Stage and assume-unchanged; intent-to-add and skip-worktree.
            (entry.flags & 0xf000).hash(&mut hasher);
            (entry.flags_extended & 0x6000).hash(&mut hasher);
        }
        let digest = hasher.finish();
        remember_staging(&path, state, digest);
        Some(digest)
    }

    /// Read what the index stages in `state` unless known, so that a later change of its
    /// checksum alone (stat data) is known for what it is.
    fn learn_index(&self, state: Option<IndexState>) {
        if let Some(state) = state {
            self.staging(state);
        }
    }
}

/// Digests of indexes by checksum: the index rarely changes between two snapshots, so it is
/// read once, not at every one.
static STAGING: Mutex<Vec<(PathBuf, IndexState, u64)>> = Mutex::new(Vec::new());

fn known_staging(path: &Path, state: IndexState) -> Option<u64> {
    let known = STAGING.lock().unwrap_or_else(|e| e.into_inner());
    known
        .iter()
        .find(|(p, s, _)| p == path && *s == state)
        .map(|(_, _, d)| *d)
}

fn remember_staging(path: &Path, state: IndexState, digest: u64) {
    let mut known = STAGING.lock().unwrap_or_else(|e| e.into_inner());
    if known.len() >= 64 {
        known.remove(0);
    }
    known.push((path.to_path_buf(), state, digest));
}

/// The checkout's files whose status changed: appeared, changed or went.
fn status_changes(was: &BTreeMap<Vec<u8>, Status>, is: &BTreeMap<Vec<u8>, Status>) -> Vec<Found> {
    let mut found = Vec::new();
    let paths: BTreeSet<&Vec<u8>> = was.keys().chain(is.keys()).collect();
    for path in paths {
        let how = match (was.get(path), is.get(path)) {
            (a, b) if a == b => continue,
            (None, Some(now)) if now.xy == *b"??" || now.xy[0] == b'A' => How::Added,
            (None, Some(now)) if now.xy.contains(&b'D') => How::Removed,
            (Some(then), None) if then.xy == *b"??" => How::Removed,
            _ => How::Modified,
        };
        found.push(Found {
            place: Place::File,
            name: String::from_utf8_lossy(path).into_owned(),
            how,
            undone: false,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::test_support::{git, hermetic_env};

    fn repo() -> (tempfile::TempDir, Repo, crate::env::Env) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("r");
        std::fs::create_dir_all(&root).unwrap();
        let env = hermetic_env(dir.path());
        git(&root, &env, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join("README.md"), "hi\n").unwrap();
        git(&root, &env, &["add", "."]);
        git(&root, &env, &["commit", "-q", "-m", "one"]);
        let repo = Repo::open(&root, &env).unwrap();
        (dir, repo, env)
    }

    fn said(found: &[Found]) -> Vec<String> {
        found
            .iter()
            .map(|f| format!("{:?} {} {:?} {}", f.place, f.name, f.how, f.undone))
            .collect()
    }

    #[test]
    fn nothing_done_is_nothing_found() {
        let (_dir, repo, _env) = repo();
        let before = repo.snapshot().unwrap();
        assert_eq!(said(&repo.contain(&before).unwrap()), Vec::<String>::new());
    }

    #[test]
    fn refs_made_by_others_are_deleted_or_put_back_and_the_tools_own_kept() {
        let (_dir, repo, env) = repo();
        let root = repo.workdir().unwrap().to_path_buf();
        git(&root, &env, &["tag", "old"]);
        let main = repo.branch_tip("main").unwrap().unwrap();
        let before = repo.snapshot().unwrap();
        git(&root, &env, &["commit", "-q", "--allow-empty", "-m", "two"]);
        git(&root, &env, &["tag", "new"]);
        git(&root, &env, &["tag", "-d", "old"]);
        // The tool's own commit on a branch of its own does not count.
        repo.commit_files(&crate::git::CommitRequest {
            branch: "orchestrate/1-x",
            expected_tip: None,
            base: main,
            files: &[],
            message: "mine",
        })
        .unwrap();
        let found = repo.contain(&before).unwrap();
        assert_eq!(
            said(&found),
            [
                "Ref refs/heads/main Modified true",
                "Ref refs/tags/new Added true",
                "Ref refs/tags/old Removed true",
            ]
        );
        assert_eq!(repo.branch_tip("main").unwrap(), Some(main));
        assert_eq!(git(&root, &env, &["tag", "-l"]), "old");
        assert!(repo.branch_tip("orchestrate/1-x").unwrap().is_some());
    }

    #[test]
    fn a_move_by_another_run_of_the_tool_is_told_by_its_reflog_line() {
        let (_dir, repo, env) = repo();
        let root = repo.workdir().unwrap().to_path_buf();
        let before = repo.snapshot().unwrap();
        let main = git(&root, &env, &["rev-parse", "main"]);
        git(
            &root,
            &env,
            &[
                "update-ref",
                "-m",
                "git-orchestrate: elsewhere",
                "refs/heads/orchestrate/2-x",
                &main,
            ],
        );
        git(
            &root,
            &env,
            &["update-ref", "refs/heads/orchestrate/3-fake", &main],
        );
        assert_eq!(
            said(&repo.contain(&before).unwrap()),
            ["Ref refs/heads/orchestrate/3-fake Added true"]
        );
    }

    #[test]
    fn staged_and_written_files_are_named_and_left_alone() {
        let (_dir, repo, env) = repo();
        let root = repo.workdir().unwrap().to_path_buf();
        let before = repo.snapshot().unwrap();
        std::fs::write(root.join("new.txt"), "x").unwrap();
        std::fs::write(root.join("staged.txt"), "y").unwrap();
        git(&root, &env, &["add", "staged.txt"]);
        std::fs::write(root.join("README.md"), "changed\n").unwrap();
        let found = repo.contain(&before).unwrap();
        assert_eq!(
            said(&found),
            [
                "Index  Modified false",
                "File README.md Modified false",
                "File new.txt Added false",
                "File staged.txt Added false",
            ]
        );
        assert_eq!(std::fs::read(root.join("new.txt")).unwrap(), b"x");
    }

    #[test]
    fn a_rewritten_index_that_stages_the_same_is_no_change() {
        let (_dir, repo, env) = repo();
        let root = repo.workdir().unwrap().to_path_buf();
        let before = repo.snapshot().unwrap();
        // New stat data, the same entries.
        std::fs::write(root.join("README.md"), "hi\n").unwrap();
        git(&root, &env, &["update-index", "--refresh"]);
        git(&root, &env, &["update-index", "--untracked-cache"]);
        assert_eq!(said(&repo.contain(&before).unwrap()), Vec::<String>::new());
    }
}
