//! The git layer: the only module that touches `git2` or runs the `git` program.
//!
//! Everything the pipeline needs from a repository goes through [`Repo`]: finding the issue
//! branch, reading files and trailers from history, and committing artifacts *without touching
//! the user's checkout* — trees are built in memory from the branch tip and the branch ref is
//! moved with a compare-and-swap, so a branch that moved under us is reported, never overwritten.
//! The impl stage's code is written in a worktree of the issue's own ([`Worktree`]), detached,
//! so that too leaves the user's checkout alone.
//! Not-found is an `Option`; every failure carries what we were doing when it happened.

mod commit;
mod credential;
mod history;
mod hooks;
mod identity;
mod inspect;
mod merge;
mod push;
mod runner;
mod scratch;
pub use runner::color_wanted;
mod snapshot;
mod status;
/// Why a repository could not be opened: a format libgit2 does not read (SHA-256 objects)
/// said as such, anything else as libgit2 says it.
fn open_error(source: git2::Error) -> GitError {
    let message = source.message();
    match message.strip_prefix("unknown object format '") {
        Some(rest) => GitError::ObjectFormat {
            format: rest
                .split('\'')
                .next()
                .unwrap_or("sha256")
                .to_ascii_uppercase()
                .replace("SHA", "SHA-"),
        },
        None => GitError::Open { source },
    }
}

#[cfg(test)]
mod test_support;
mod worktree;

use std::fmt;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository};

pub use commit::{CommitRequest, FileChange, FileKind};
pub use history::{CommitInfo, parse_trailers};
pub use hooks::Hooks;
pub use identity::Identity;
pub use inspect::{GitVersion, Shape, version};
pub use merge::{Divergence, MergeRequest, Merged};
pub use push::{PushOptions, PushResult};
pub use snapshot::{Found, How, Place, Snapshot};
pub use worktree::{Prepared, Read, Worktree};

use crate::env::Env;

/// How the reflog entries of the tool's own ref moves begin.
const REFLOG_PREFIX: &str = "git-orchestrate: ";

/// A git object id (commit, tree or blob), printable as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(Oid);

impl ObjectId {
    /// The abbreviated form people read in output.
    pub fn short(&self) -> String {
        let mut hex = self.0.to_string();
        hex.truncate(7);
        hex
    }

    pub fn parse(hex: &str) -> Option<ObjectId> {
        Oid::from_str(hex).ok().map(ObjectId)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.short())
    }
}

/// What `HEAD` points at when a run starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Head {
    /// On a branch with at least one commit.
    Branch { name: String, tip: ObjectId },
    /// A commit checked out directly.
    Detached(ObjectId),
    /// On a branch that has no commits yet (`git init` with nothing committed).
    Unborn { name: String },
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not a git repository (or any parent directory): {}", .path.display())]
    NotARepository { path: PathBuf },
    #[error("could not open the git repository")]
    Open { source: git2::Error },
    #[error("{} uses reftable ref storage, which this tool cannot read yet", .path.display())]
    Reftable { path: PathBuf },
    #[error("this repository stores its objects by {format}, which this tool cannot read yet")]
    ObjectFormat { format: String },
    #[error("{action}")]
    Git { action: String, source: git2::Error },
    #[error(
        "branch {branch} moved while this run was working on it (expected {}, found {})",
        .expected.map(|id| id.short()).unwrap_or_else(|| "no branch".into()),
        .found.map(|id| id.short()).unwrap_or_else(|| "no branch".into())
    )]
    BranchMoved {
        branch: String,
        expected: Option<ObjectId>,
        found: Option<ObjectId>,
    },
    /// The branch is checked out in a work tree, so moving it would change that checkout
    /// under its owner (its index and files would no longer match `HEAD`).
    #[error("branch {branch} is checked out in {}", .path.display())]
    CheckedOut { branch: String, path: PathBuf },
    #[error("`git {args}` failed: {detail}")]
    Command { args: String, detail: String },
    #[error("could not run `git`")]
    Spawn { source: std::io::Error },
    #[error("git has no identity to commit with: {detail}")]
    Identity { detail: String },
    /// Something is at the place of an issue's worktree that git does not know as one.
    #[error("{} is in the way of the worktree of issue #{issue}: it is not a worktree of this repository", .path.display())]
    NotOurWorktree { issue: u64, path: PathBuf },
    #[error("could not {action} {}", .path.display())]
    WorktreeIo {
        action: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not run `git {args}`")]
    Process {
        args: String,
        source: crate::process::ProcessError,
    },
    /// The remote branch has commits the pushed one lacks: someone else pushed to it.
    #[error(
        "branch {branch} on {remote} has commits this push lacks ({reason}): someone else pushed to it; nothing was overwritten"
    )]
    PushRejected {
        remote: String,
        branch: String,
        /// Git's reason: `fetch first`, `non-fast-forward`.
        reason: String,
    },
    /// The remote refused the push itself: a protected branch, a hook.
    #[error("{remote} refused the push to {branch}: {reason}")]
    PushRefused {
        remote: String,
        branch: String,
        /// Git's summary of why (`pre-receive hook declined`, `protected branch hook declined`).
        reason: String,
        /// What the remote said (its `remote:` lines), which usually says more. Boxed to keep
        /// the error small.
        detail: Box<str>,
    },
    #[error("pushing to {remote} did not finish within {}; it was stopped", humantime::format_duration(*.after))]
    PushTimedOut {
        remote: String,
        after: std::time::Duration,
    },
    #[error("fetching from {remote} did not finish within {}; it was stopped", humantime::format_duration(*.after))]
    FetchTimedOut {
        remote: String,
        after: std::time::Duration,
    },
    /// The fetch did not happen: no access, no such remote, unreachable, or a local branch
    /// that is not behind the remote's.
    #[error("could not fetch from {remote}: {detail}")]
    FetchFailed {
        remote: String,
        /// The last lines git printed.
        detail: String,
    },
    /// The push did not happen: no access, no such remote, unreachable.
    #[error("could not push to {remote}: {detail}")]
    PushFailed {
        remote: String,
        /// The last lines git printed.
        detail: String,
    },
}

pub type Result<T, E = GitError> = std::result::Result<T, E>;

/// Attach what we were doing to a git2 error.
trait Context<T> {
    fn context(self, action: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, git2::Error> {
    fn context(self, action: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| GitError::Git {
            action: action(),
            source,
        })
    }
}

/// An open repository.
pub struct Repo {
    inner: Repository,
    identity: std::cell::OnceCell<Identity>,
    fixed_author_date: bool,
    fixed_committer_date: bool,
    /// The environment `git` runs with: the one this process was given (see `runner`).
    child_env: runner::ChildEnv,
}

impl Repo {
    /// Open the repository containing the current directory, honouring `GIT_DIR`,
    /// `GIT_WORK_TREE` and linked worktrees as git does.
    pub fn discover(env: &Env) -> Result<Repo> {
        let inner = match Repository::open_from_env() {
            Ok(repo) => repo,
            Err(e) if e.code() == ErrorCode::NotFound => {
                let path = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                return Err(GitError::NotARepository { path });
            }
            Err(source) => return Err(open_error(source)),
        };
        Repo::from_git2(inner, env)
    }

    /// Open the repository at `path` (no discovery upwards).
    pub fn open(path: &Path, env: &Env) -> Result<Repo> {
        let inner = match Repository::open(path) {
            Ok(repo) => repo,
            Err(e) if e.code() == ErrorCode::NotFound => {
                return Err(GitError::NotARepository {
                    path: path.to_path_buf(),
                });
            }
            Err(source) => return Err(open_error(source)),
        };
        Repo::from_git2(inner, env)
    }

    fn from_git2(inner: Repository, env: &Env) -> Result<Repo> {
        let reftable = inner
            .config()
            .and_then(|c| c.get_string("extensions.refstorage"))
            .map(|v| v.eq_ignore_ascii_case("reftable"))
            .unwrap_or(false);
        if reftable {
            return Err(GitError::Reftable {
                path: inner.path().to_path_buf(),
            });
        }
        Ok(Repo {
            inner,
            identity: std::cell::OnceCell::new(),
            fixed_author_date: env.non_empty("GIT_AUTHOR_DATE").is_some(),
            fixed_committer_date: env.non_empty("GIT_COMMITTER_DATE").is_some(),
            child_env: env
                .pairs()
                .map(|(k, v)| (k.to_os_string(), v.to_os_string()))
                .collect(),
        })
    }

    pub fn is_bare(&self) -> bool {
        self.inner.is_bare()
    }

    /// The root of the work tree, for repositories that have one.
    pub fn workdir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// `$GIT_COMMON_DIR`: shared by all worktrees; local run state lives under it.
    pub fn common_dir(&self) -> &Path {
        self.inner.commondir()
    }

    /// Where `git` commands and model programs run: the work tree, else the git directory.
    pub fn run_dir(&self) -> &Path {
        self.workdir().unwrap_or_else(|| self.inner.path())
    }

    /// A short name for the repository, for prompts: the work tree's directory name.
    pub fn name(&self) -> String {
        let dir = self.workdir().unwrap_or_else(|| self.common_dir());
        let dir = if dir.file_name().is_some_and(|n| n == ".git") {
            dir.parent().unwrap_or(dir)
        } else {
            dir
        };
        dir.file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".git").to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "repository".into())
    }

    pub fn head(&self) -> Result<Head> {
        match self.inner.head() {
            Ok(head) => {
                let tip = head
                    .peel_to_commit()
                    .context(|| "could not read the commit HEAD points at".into())?
                    .id();
                if head.is_branch() {
                    let name = String::from_utf8_lossy(head.shorthand_bytes()).into_owned();
                    Ok(Head::Branch {
                        name,
                        tip: ObjectId(tip),
                    })
                } else {
                    Ok(Head::Detached(ObjectId(tip)))
                }
            }
            Err(e) if e.code() == ErrorCode::UnbornBranch => {
                let target = self
                    .inner
                    .find_reference("HEAD")
                    .ok()
                    .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_string))
                    .unwrap_or_default();
                let name = target
                    .strip_prefix("refs/heads/")
                    .unwrap_or(&target)
                    .to_string();
                Ok(Head::Unborn { name })
            }
            Err(source) => Err(GitError::Git {
                action: "could not read HEAD".into(),
                source,
            }),
        }
    }

    /// The commit a local branch points at, if the branch exists.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<ObjectId>> {
        match self.inner.find_reference(&format!("refs/heads/{branch}")) {
            Ok(reference) => {
                let commit = reference
                    .peel_to_commit()
                    .context(|| format!("could not read the tip of branch {branch}"))?;
                Ok(Some(ObjectId(commit.id())))
            }
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(source) => Err(GitError::Git {
                action: format!("could not read branch {branch}"),
                source,
            }),
        }
    }

    /// Resolve something a user typed as a base (a branch, tag or commit) to a commit.
    pub fn resolve_commit(&self, spec: &str) -> Result<Option<ObjectId>> {
        if let Some(tip) = self.branch_tip(spec)? {
            return Ok(Some(tip));
        }
        match self.inner.revparse_single(spec) {
            Ok(object) => match object.peel_to_commit() {
                Ok(commit) => Ok(Some(ObjectId(commit.id()))),
                Err(_) => Ok(None),
            },
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => Ok(None),
            Err(e) if e.class() == git2::ErrorClass::Reference => Ok(None),
            Err(source) => Err(GitError::Git {
                action: format!("could not resolve {spec}"),
                source,
            }),
        }
    }

    /// Local branches whose names start with `prefix`, sorted by name, with their tips.
    pub fn branches_with_prefix(&self, prefix: &str) -> Result<Vec<(String, ObjectId)>> {
        let glob = format!("refs/heads/{prefix}*");
        let refs = self
            .inner
            .references_glob(&glob)
            .context(|| format!("could not list branches matching {prefix}*"))?;
        let mut found = Vec::new();
        for reference in refs {
            let reference = reference.context(|| "could not read a branch".into())?;
            let Ok(name) = reference.name() else {
                continue;
            };
            let Some(short) = name.strip_prefix("refs/heads/") else {
                continue;
            };
            // A branch names its commit directly: no object is read (with 1,000 branches,
            // reading each tip would be most of the time `status` takes).
            let tip = match reference.target() {
                Some(id) => id,
                None => match reference.peel_to_commit() {
                    Ok(commit) => commit.id(),
                    Err(_) => continue,
                },
            };
            found.push((short.to_string(), ObjectId(tip)));
        }
        found.sort();
        Ok(found)
    }

    /// An existing branch that stops git from creating `branch`: refs are files and folders,
    /// so `orchestrate` blocks `orchestrate/7-x` (a file where a folder must go), and
    /// `orchestrate/7-x/old` blocks it too (a folder where the file must go).
    pub fn blocking_branch(&self, branch: &str) -> Result<Option<String>> {
        let mut refs = self
            .inner
            .references()
            .context(|| "could not list branches".into())?;
        for name in refs.names() {
            let Ok(name) = name else { continue };
            let Some(short) = name.strip_prefix("refs/heads/") else {
                continue;
            };
            let folder_of =
                |a: &str, b: &str| b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'));
            if folder_of(short, branch) || folder_of(branch, short) {
                return Ok(Some(short.to_string()));
            }
        }
        Ok(None)
    }

    /// The work tree that has `branch` checked out, if any (this one or a linked worktree).
    ///
    /// Moving a branch that is checked out would change what that checkout's `HEAD` means,
    /// which is touching the user's checkout; `git branch -f` refuses for the same reason.
    pub fn checked_out_at(&self, branch: &str) -> Result<Option<PathBuf>> {
        let full = format!("refs/heads/{branch}");
        let main = match Repository::open(self.common_dir()) {
            Ok(repo) => repo,
            Err(source) => {
                return Err(GitError::Open { source });
            }
        };
        // libgit2 spells directories with a trailing slash; people read them without.
        let tidy = |path: &Path| path.components().collect::<PathBuf>();
        if head_is(&main, &full) && !main.is_bare() {
            let path = main.workdir().unwrap_or_else(|| main.path());
            return Ok(Some(tidy(path)));
        }
        let names = main
            .worktrees()
            .context(|| "could not list worktrees".into())?;
        for name in names.iter().filter_map(|n| n.ok().flatten()) {
            let Ok(worktree) = main.find_worktree(name) else {
                continue;
            };
            let Ok(repo) = Repository::open_from_worktree(&worktree) else {
                continue;
            };
            if head_is(&repo, &full) {
                return Ok(Some(tidy(worktree.path())));
            }
        }
        Ok(None)
    }

    /// The contents of `path` in `commit`'s tree, if it is a file there.
    pub fn read_file(&self, commit: ObjectId, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(blob_id) = self.blob_id(commit, path)? else {
            return Ok(None);
        };
        let blob = self
            .inner
            .find_blob(blob_id.0)
            .context(|| format!("could not read {path} (blob {})", blob_id.short()))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The id of `commit`'s tree: names its content, whatever the history.
    pub fn tree_id(&self, commit: ObjectId) -> Result<ObjectId> {
        let commit_obj = self
            .inner
            .find_commit(commit.0)
            .context(|| format!("could not read commit {}", commit.short()))?;
        Ok(ObjectId(commit_obj.tree_id()))
    }

    /// The id git would give `bytes` as a blob: a name for content, computed without
    /// writing anything.
    pub fn hash_text(&self, bytes: &[u8]) -> ObjectId {
        // Hashing in memory cannot fail but for a broken libgit2; the zero id then stands in.
        ObjectId(
            git2::Oid::hash_object(git2::ObjectType::Blob, bytes).unwrap_or(git2::Oid::ZERO_SHA1),
        )
    }

    /// The blob id of `path` in `commit`'s tree: cheap, so history walks compare these.
    pub fn blob_id(&self, commit: ObjectId, path: &str) -> Result<Option<ObjectId>> {
        let commit_obj = self
            .inner
            .find_commit(commit.0)
            .context(|| format!("could not read commit {}", commit.short()))?;
        let tree = commit_obj
            .tree()
            .context(|| format!("could not read the tree of {}", commit.short()))?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(git2::ObjectType::Blob) => {
                Ok(Some(ObjectId(entry.id())))
            }
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(source) => Err(GitError::Git {
                action: format!("could not look up {path} in {}", commit.short()),
                source,
            }),
        }
    }

    /// Up to `limit` file paths of `commit`'s tree, shallowest first, so that a bounded list
    /// still shows the shape of a large repository. The flag says whether paths were left out.
    pub fn tracked_paths(&self, commit: ObjectId, limit: usize) -> Result<(Vec<String>, bool)> {
        let commit_obj = self
            .inner
            .find_commit(commit.0)
            .context(|| format!("could not read commit {}", commit.short()))?;
        let root = commit_obj
            .tree()
            .context(|| format!("could not read the tree of {}", commit.short()))?;
        let mut paths = Vec::new();
        let mut queue = std::collections::VecDeque::from([(String::new(), root)]);
        while let Some((prefix, tree)) = queue.pop_front() {
            for entry in tree.iter() {
                let name = String::from_utf8_lossy(entry.name_bytes());
                let path = format!("{prefix}{name}");
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => {
                        if let Ok(sub) = self.inner.find_tree(entry.id()) {
                            queue.push_back((format!("{path}/"), sub));
                        }
                    }
                    _ => {
                        if paths.len() == limit {
                            return Ok((paths, true));
                        }
                        paths.push(path);
                    }
                }
            }
        }
        Ok((paths, false))
    }
}

fn head_is(repo: &Repository, full_ref: &str) -> bool {
    repo.find_reference("HEAD")
        .ok()
        .and_then(|head| head.symbolic_target().ok().flatten().map(|t| t == full_ref))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_seven_hex_digits() {
        let id = ObjectId::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(id.short(), "0123456");
        assert_eq!(id.to_string().len(), 40);
    }
}
