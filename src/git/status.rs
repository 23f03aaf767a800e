//! A worktree read as `git status` reads it: which paths may differ from its `HEAD`, found
//! from the index's stat data and the untracked cache (so files that did not change are not
//! read), and a tree built from another tree with only those paths replaced. Used by
//! `worktree.rs` to read an issue's worktree back and to reset it.

use std::collections::BTreeMap;

use git2::{ObjectType, Oid, Repository, Tree};

use super::{Context, ObjectId, Repo, Result};

/// Mode of a gitlink (a commit of another repository) in a tree or the index.
const GITLINK: u32 = 0o160000;
/// Mode of a tree in a tree.
const TREE: i32 = 0o040000;

/// What `git status --porcelain=v2 --branch -z --untracked-files=all --no-renames` said.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Status {
    /// The commit `HEAD` points at; `None` while it is unborn.
    pub head: Option<ObjectId>,
    /// Whether `HEAD` is detached (not on a branch).
    pub detached: bool,
    /// Tracked paths whose index entry or file differs from `HEAD` (staged or not, deleted,
    /// unmerged), each with the index's mode for it (0 when the index no longer has it).
    pub tracked: Vec<(String, u32)>,
    /// Files no one tracks and no ignore rule covers, one by one.
    pub untracked: Vec<String>,
    /// Directories holding a repository of their own that no one tracks: git does not look
    /// inside them.
    pub nested: Vec<String>,
}

impl Status {
    /// Read `git status --porcelain=v2 --branch -z` output. Paths that are not UTF-8 are left
    /// out (a change cannot name them).
    pub fn parse(out: &[u8]) -> Status {
        let mut status = Status::default();
        let mut entries = out.split(|b| *b == 0).filter(|e| !e.is_empty());
        while let Some(entry) = entries.next() {
            let field = |n: usize, last: usize| entry.splitn(last + 1, |b| *b == b' ').nth(n);
            let (path, index_mode) = match entry[0] {
                b'#' => {
                    let header = String::from_utf8_lossy(entry);
                    if let Some(id) = header.strip_prefix("# branch.oid ") {
                        status.head = ObjectId::parse(id.trim());
                    } else if header.trim() == "# branch.head (detached)" {
                        status.detached = true;
                    }
                    continue;
                }
                // `1 XY sub mH mI mW hH hI path`
                b'1' => (field(8, 8), field(4, 8).map(octal)),
                // `2 XY sub mH mI mW hH hI score path`, then the original path (renames are
                // off, so this is only in case): both count.
                b'2' => {
                    if let Some(from) = entries.next().and_then(utf8) {
                        status.tracked.push((from.to_string(), 0));
                    }
                    (field(9, 9), field(4, 9).map(octal))
                }
                // `u XY sub m1 m2 m3 mW h1 h2 h3 path`: unmerged, the index has stages.
                b'u' => (field(10, 10), field(4, 10).map(octal)),
                b'?' => {
                    let Some(path) = entry.get(2..).and_then(utf8) else {
                        continue;
                    };
                    match path.strip_suffix('/') {
                        Some(dir) => status.nested.push(dir.to_string()),
                        None => status.untracked.push(path.to_string()),
                    }
                    continue;
                }
                _ => continue,
            };
            match path.and_then(utf8) {
                Some(path) => status
                    .tracked
                    .push((path.to_string(), index_mode.unwrap_or(0))),
                None => tracing::warn!(
                    "left out a path that is not UTF-8: {}",
                    String::from_utf8_lossy(entry)
                ),
            }
        }
        status
    }

    /// Whether nothing differs from `HEAD`.
    pub fn clean(&self) -> bool {
        self.tracked.is_empty() && self.untracked.is_empty() && self.nested.is_empty()
    }
}

fn utf8(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

fn octal(bytes: &[u8]) -> u32 {
    utf8(bytes)
        .and_then(|s| u32::from_str_radix(s, 8).ok())
        .unwrap_or(0)
}

/// What a path holds now, for [`Repo::tree_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Now {
    /// A blob (a file or a symlink) with its mode.
    Blob(Oid, i32),
    /// A repository of its own (a submodule, or one made inside): a gitlink at the path is
    /// kept as it is, a file there goes.
    Repository,
    /// Nothing: a file or gitlink at the path goes; a directory stays (its files have paths
    /// of their own).
    Gone,
}

/// A directory's updates, by name.
#[derive(Default)]
struct Node<'a> {
    here: Option<Now>,
    below: BTreeMap<&'a str, Node<'a>>,
}

impl Repo {
    /// `base` with each path of `updates` set to what it holds now; directories left empty
    /// go, as git never keeps an empty tree.
    pub(super) fn tree_with(&self, base: Oid, updates: &BTreeMap<String, Now>) -> Result<Oid> {
        if updates.is_empty() {
            return Ok(base);
        }
        let mut root = Node::default();
        for (path, now) in updates {
            let mut node = &mut root;
            for part in path.split('/') {
                node = node.below.entry(part).or_default();
            }
            node.here = Some(*now);
        }
        let base = self
            .inner
            .find_tree(base)
            .context(|| format!("could not read tree {}", ObjectId(base).short()))?;
        let written = write_node(&self.inner, &root, Some(&base))
            .and_then(|tree| match tree {
                Some(tree) => Ok(tree),
                None => self.inner.treebuilder(None)?.write(),
            })
            .context(|| "could not write the worktree's tree".into())?;
        Ok(written)
    }

    /// The paths of files (blobs and gitlinks) that differ between two trees (`None`: the
    /// empty tree), in either direction.
    pub(super) fn paths_between(&self, from: Option<Oid>, to: Option<Oid>) -> Result<Vec<String>> {
        if from == to {
            return Ok(Vec::new());
        }
        let read = |id: Option<Oid>| -> Result<Option<Tree<'_>>> {
            id.map(|id| {
                self.inner
                    .find_tree(id)
                    .context(|| format!("could not read tree {}", ObjectId(id).short()))
            })
            .transpose()
        };
        let (old, new) = (read(from)?, read(to)?);
        let diff = self
            .inner
            .diff_tree_to_tree(old.as_ref(), new.as_ref(), None)
            .context(|| "could not compare two trees".into())?;
        let mut paths = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path_bytes().and_then(utf8)
                    && paths.last().is_none_or(|last: &String| last != path)
                {
                    paths.push(path.to_string());
                }
            }
        }
        Ok(paths)
    }

    /// What `path` is in `tree` (`None`: the empty tree), as a [`Now`].
    pub(super) fn now_in(&self, tree: Option<Oid>, path: &str) -> Result<Now> {
        let Some(tree) = tree else {
            return Ok(Now::Gone);
        };
        Ok(match self.entry_in(tree, path)? {
            Some((_, mode)) if mode == GITLINK => Now::Repository,
            Some((id, mode)) => Now::Blob(id, mode as i32),
            None => Now::Gone,
        })
    }

    /// The file (blob or gitlink) at `path` in `tree`, with its mode; `None` when there is
    /// none (nothing, or a directory).
    pub(super) fn entry_in(&self, tree: Oid, path: &str) -> Result<Option<(Oid, u32)>> {
        let tree = self
            .inner
            .find_tree(tree)
            .context(|| format!("could not read tree {}", ObjectId(tree).short()))?;
        Ok(match tree.get_path(std::path::Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => None,
            Ok(entry) => Some((entry.id(), entry.filemode() as u32)),
            Err(_) => None,
        })
    }
}

/// Whether a tree or index mode is a gitlink's.
pub(super) fn is_gitlink(mode: u32) -> bool {
    mode == GITLINK
}

/// `node` applied to `base` and written; `None` when nothing is left in it.
fn write_node(
    repo: &Repository,
    node: &Node<'_>,
    base: Option<&Tree<'_>>,
) -> std::result::Result<Option<Oid>, git2::Error> {
    let mut builder = repo.treebuilder(base)?;
    for (name, child) in &node.below {
        let existing = builder.get(name)?.map(|e| (e.id(), e.filemode(), e.kind()));
        let is_tree = matches!(existing, Some((_, _, Some(ObjectType::Tree))));
        let is_gitlink = matches!(existing, Some((_, mode, _)) if mode as u32 == GITLINK);
        match child.here {
            // A file at the name: whatever was below it goes.
            Some(Now::Blob(id, mode)) => {
                builder.insert(name, id, mode)?;
                continue;
            }
            Some(Now::Repository) if is_gitlink || is_tree => {}
            Some(Now::Repository | Now::Gone) if existing.is_some() && !is_tree => {
                builder.remove(name)?;
            }
            _ => {}
        }
        if child.below.is_empty() {
            continue;
        }
        let subtree = match existing {
            Some((id, _, Some(ObjectType::Tree))) => Some(repo.find_tree(id)?),
            _ => None,
        };
        match write_node(repo, child, subtree.as_ref())? {
            Some(id) => {
                builder.insert(name, id, TREE)?;
            }
            None if subtree.is_some() => {
                builder.remove(name)?;
            }
            None => {}
        }
    }
    if builder.is_empty() {
        return Ok(None);
    }
    builder.write().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_line() {
        let zero = "0".repeat(40);
        let id = "a".repeat(40);
        let out = format!(
            "# branch.oid {id}\0# branch.head (detached)\0\
             1 .M N... 100644 100644 100644 {zero} {zero} src/a file.rs\0\
             1 D. N... 100644 000000 000000 {zero} {zero} gone.txt\0\
             1 .M S... 160000 160000 160000 {zero} {zero} vendor/sub\0\
             u UU N... 100644 100644 100644 100644 {zero} {zero} {zero} both.rs\0\
             ? new dir/x.txt\0? inner/\0! ignored.o\0"
        );
        let status = Status::parse(out.as_bytes());
        assert_eq!(status.head, ObjectId::parse(&id));
        assert!(status.detached);
        assert_eq!(
            status.tracked,
            vec![
                ("src/a file.rs".to_string(), 0o100644),
                ("gone.txt".to_string(), 0),
                ("vendor/sub".to_string(), GITLINK),
                ("both.rs".to_string(), 0o100644),
            ]
        );
        assert_eq!(status.untracked, vec!["new dir/x.txt".to_string()]);
        assert_eq!(status.nested, vec!["inner".to_string()]);
        assert!(!status.clean());

        let unborn = Status::parse(b"# branch.oid (initial)\0# branch.head main\0");
        assert_eq!(unborn.head, None);
        assert!(!unborn.detached);
        assert!(unborn.clean());
    }
}
