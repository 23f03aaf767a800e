//! The git directory's small files that decide what git runs and how — `config`, `hooks/`,
//! `info/` — kept in memory byte for byte, compared, and written back exactly as they were.
//! Symbolic links are kept as links and never followed: a hook directory replaced by a link
//! to somewhere else is a change like any other.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// One file as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Copy {
    File { bytes: Vec<u8>, mode: u32 },
    Link(PathBuf),
}

/// The files and folders under some roots of the git directory, by path relative to it.
#[derive(Clone, Debug, Default)]
pub(super) struct Files {
    pub files: BTreeMap<PathBuf, Copy>,
    pub dirs: BTreeSet<PathBuf>,
}

/// What changed at one path, relative to the git directory.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Changed {
    pub path: PathBuf,
    pub how: super::How,
    pub undone: bool,
}

impl Files {
    /// Read `roots` (files or folders, relative to `dir`); what is missing is left out.
    pub fn read(dir: &Path, roots: &[&str]) -> std::io::Result<Files> {
        let mut files = Files::default();
        for root in roots {
            files.add(dir, PathBuf::from(root))?;
        }
        Ok(files)
    }

    fn add(&mut self, dir: &Path, rel: PathBuf) -> std::io::Result<()> {
        let full = dir.join(&rel);
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() {
            self.files
                .insert(rel, Copy::Link(std::fs::read_link(&full)?));
        } else if meta.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(&full)?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<std::io::Result<_>>()?;
            names.sort();
            self.dirs.insert(rel.clone());
            for name in names {
                self.add(dir, rel.join(name))?;
            }
        } else if meta.is_file() {
            let bytes = std::fs::read(&full)?;
            let mode = meta.permissions().mode() & 0o7777;
            self.files.insert(rel, Copy::File { bytes, mode });
        }
        Ok(())
    }

    /// Put everything under `dir` back as `self` has it, given what is there now (`now`):
    /// what was added is removed, what was changed or removed is written again. Each path
    /// that differed is returned, with whether it could be put back.
    pub fn restore(&self, dir: &Path, now: &Files) -> Vec<Changed> {
        let mut changed = Vec::new();
        // Removals first: a link that replaced a folder must go before anything is written
        // through that folder's path.
        for (path, copy) in &now.files {
            if self.files.contains_key(path) {
                continue;
            }
            let undone = remove(&dir.join(path)).is_ok();
            // A link where a folder was is the folder changed, said below by its files.
            if !(matches!(copy, Copy::Link(_)) && self.dirs.contains(path)) {
                changed.push(Changed {
                    path: path.clone(),
                    how: super::How::Added,
                    undone,
                });
            }
        }
        for added in now.dirs.difference(&self.dirs) {
            let _ = remove(&dir.join(added));
        }
        for path in &self.dirs {
            let _ = std::fs::create_dir(dir.join(path));
        }
        for (path, copy) in &self.files {
            let how = match now.files.get(path) {
                Some(found) if found == copy => continue,
                Some(_) => super::How::Modified,
                None => super::How::Removed,
            };
            let undone = write(&dir.join(path), copy).is_ok();
            changed.push(Changed {
                path: path.clone(),
                how,
                undone,
            });
        }
        changed
    }
}

fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Write `copy` at `path`, replacing whatever is there without following it.
fn write(path: &Path, copy: &Copy) -> std::io::Result<()> {
    remove(path)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match copy {
        Copy::Link(target) => std::os::unix::fs::symlink(target, path),
        Copy::File { bytes, mode } => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(*mode)
                .open(path)?;
            file.write_all(bytes)?;
            // The mode the umask took away.
            file.set_permissions(std::fs::Permissions::from_mode(*mode))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::snapshot::How;

    #[test]
    fn files_are_put_back_byte_for_byte_and_additions_removed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("hooks")).unwrap();
        std::fs::write(root.join("config"), "[core]\n").unwrap();
        std::fs::write(root.join("hooks/pre-commit.sample"), "#!/bin/sh\n").unwrap();
        let before = Files::read(root, &["config", "hooks", "info"]).unwrap();

        std::fs::write(root.join("config"), "[core]\nhooksPath = /tmp/x\n").unwrap();
        std::fs::write(root.join("hooks/pre-push"), "#!/bin/sh\nevil\n").unwrap();
        std::fs::remove_file(root.join("hooks/pre-commit.sample")).unwrap();
        std::fs::create_dir_all(root.join("info/sub")).unwrap();
        std::fs::write(root.join("info/sub/x"), "x").unwrap();
        let now = Files::read(root, &["config", "hooks", "info"]).unwrap();

        let changed = before.restore(root, &now);
        let said: Vec<(String, How, bool)> = changed
            .iter()
            .map(|c| (c.path.display().to_string(), c.how, c.undone))
            .collect();
        assert_eq!(
            said,
            [
                ("hooks/pre-push".to_string(), How::Added, true),
                ("info/sub/x".to_string(), How::Added, true),
                ("config".to_string(), How::Modified, true),
                ("hooks/pre-commit.sample".to_string(), How::Removed, true),
            ]
        );
        assert_eq!(std::fs::read(root.join("config")).unwrap(), b"[core]\n");
        assert!(!root.join("hooks/pre-push").exists());
        assert!(!root.join("info").exists());
        let again = Files::read(root, &["config", "hooks", "info"]).unwrap();
        assert_eq!(again.files, before.files);
        assert_eq!(again.dirs, before.dirs);
    }

    #[test]
    fn a_folder_replaced_by_a_link_is_put_back_without_writing_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("hooks")).unwrap();
        std::fs::write(root.join("hooks/a.sample"), "a").unwrap();
        let before = Files::read(root, &["hooks"]).unwrap();
        std::fs::remove_dir_all(root.join("hooks")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.join("hooks")).unwrap();
        let now = Files::read(root, &["hooks"]).unwrap();
        before.restore(root, &now);
        assert!(root.join("hooks").is_dir());
        assert!(
            !std::fs::symlink_metadata(root.join("hooks"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(root.join("hooks/a.sample")).unwrap(), b"a");
        assert!(
            std::fs::read_dir(elsewhere.path())
                .unwrap()
                .next()
                .is_none()
        );
    }
}
