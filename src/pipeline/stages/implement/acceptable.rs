//! What a commit may hold of an attempt's files. A text implementer's edits are checked path
//! by path before they are written (`crate::edit`); an agent writes what it likes, so what it
//! left is checked here before anything is tested or committed: no symbolic link leading out
//! of the worktree (to `/etc/passwd`, `~/.ssh/id_rsa`, into `.git`), which would put the
//! user's files one `cat` away from whoever reads the branch, and no file larger than
//! `stages.impl.max_file_size`, which GitHub would refuse (over 100 MB) or a reviewer would not
//! want. Refused files are put back as on the base, and said.

use std::path::{Component, Path};

use crate::git::{FileChange, FileKind};
use crate::pipeline::events::{Refusal, RefusedFile};

/// The files of `changes` no commit may hold, for a worktree at `root`.
pub(super) fn refused(changes: &[FileChange], root: &Path, max_file_size: u64) -> Vec<RefusedFile> {
    changes
        .iter()
        .filter_map(|change| {
            let why = match change.kind {
                FileKind::Deleted => return None,
                FileKind::Symlink => {
                    let target = String::from_utf8_lossy(&change.content).into_owned();
                    if leads_inside(root, &change.path, &target) {
                        return None;
                    }
                    Refusal::SymlinkOutside { target }
                }
                FileKind::Regular | FileKind::Executable => {
                    let bytes = change.content.len() as u64;
                    if bytes <= max_file_size {
                        return None;
                    }
                    Refusal::TooLarge {
                        bytes,
                        limit: max_file_size,
                    }
                }
            };
            Some(RefusedFile {
                path: change.path.clone(),
                why,
            })
        })
        .collect()
}

/// Whether a symlink at `path` (relative to `root`) pointing at `target` stays below `root`
/// and out of `.git`. The target is followed component by component as the kernel would,
/// through the links already in the tree: a relative target climbing above the root, an
/// absolute one, or one passing through a link that leads out (or that leads nowhere) is out.
fn leads_inside(root: &Path, path: &str, target: &str) -> bool {
    let target = Path::new(target);
    if target.as_os_str().is_empty() || target.is_absolute() {
        return false;
    }
    let Ok(root) = root.canonicalize() else {
        return false;
    };
    let mut here = root.clone();
    if let Some((parent, _)) = path.rsplit_once('/') {
        here.push(parent);
    }
    let inside = |p: &Path| {
        p.strip_prefix(&root).is_ok_and(|rest| {
            !rest
                .components()
                .any(|c| c.as_os_str().eq_ignore_ascii_case(".git"))
        })
    };
    for component in target.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                here.pop();
            }
            Component::Normal(name) => {
                here.push(name);
                if std::fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink()) {
                    match here.canonicalize() {
                        Ok(resolved) => here = resolved,
                        Err(_) => return false,
                    }
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
        if !inside(&here) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(path: &str, target: &str) -> FileChange {
        FileChange {
            path: path.into(),
            kind: FileKind::Symlink,
            content: target.as_bytes().to_vec(),
        }
    }

    fn refused_paths(changes: &[FileChange], root: &Path, limit: u64) -> Vec<String> {
        refused(changes, root, limit)
            .into_iter()
            .map(|r| r.describe())
            .collect()
    }

    #[test]
    fn symlinks_leading_out_or_into_git_are_refused_and_inner_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("docs")).unwrap();
        std::fs::create_dir_all(root.path().join("src")).unwrap();
        std::fs::write(root.path().join("src/lib.rs"), "").unwrap();
        // An inner link whose own target leads out: following it resolves outside.
        std::os::unix::fs::symlink(outside.path(), root.path().join("docs/away")).unwrap();
        let changes = [
            link("passwd", "/etc/passwd"),
            link("key", "../../../../root/.ssh/id_rsa"),
            link("docs/up", "../.."),
            link("hooks", ".git/hooks"),
            link("deep", "src/../.GIT/config"),
            link("through", "docs/away/x"),
            link("empty", ""),
            // Kept: below the root, existing or not.
            link("docs/lib", "../src/lib.rs"),
            link("later", "not/yet/there"),
            link("docs/self", "."),
            link("docs/via-self", "self/../src/lib.rs"),
        ];
        for change in &changes {
            std::os::unix::fs::symlink(
                String::from_utf8_lossy(&change.content).as_ref(),
                root.path().join(&change.path),
            )
            .unwrap_or(());
        }
        let refused: Vec<String> = refused(&changes, root.path(), u64::MAX)
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(
            refused,
            [
                "passwd", "key", "docs/up", "hooks", "deep", "through", "empty"
            ]
        );
        assert_eq!(
            refused_paths(&changes[..1], root.path(), u64::MAX),
            ["passwd (a symlink to `/etc/passwd`, outside the worktree)"]
        );
    }

    #[test]
    fn files_over_the_limit_are_refused_with_githubs_limit_named() {
        let root = tempfile::tempdir().unwrap();
        let changes = [
            FileChange::file("big.bin", vec![0u8; 2048]),
            FileChange::file("fits.bin", vec![0u8; 1024]),
            FileChange::deleted("gone.bin"),
        ];
        assert_eq!(
            refused_paths(&changes, root.path(), 1024),
            [
                "big.bin (2 KiB, over stages.impl.max_file_size of 1 KiB; GitHub refuses files over 100 MB)"
            ]
        );
    }
}
