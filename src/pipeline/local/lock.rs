//! One run per issue at a time: a lock file per issue under `<git-common-dir>/orchestrate/locks/`.
//!
//! The operating system's file lock (`flock`) is what excludes a second run; it disappears
//! with the process however it dies. The file also holds the owner's pid, so a second run can
//! say who holds the lock, and a run that finds a file left by a killed run (unlocked, but
//! not cleaned up) says so and takes it over.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("issue #{issue} is already being worked on by another git orchestrate run{}", .pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Busy { issue: u64, pid: Option<u32> },
    #[error("could not lock issue #{issue} ({})", .path.display())]
    Io {
        issue: u64,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A held lock; released (and its file removed) on drop.
#[derive(Debug)]
pub struct IssueLock {
    path: PathBuf,
    _file: File,
}

/// A lock file left behind by a run that did not exit cleanly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleLock {
    pub pid: Option<u32>,
}

impl IssueLock {
    pub fn path_for(dir: &Path, issue: u64) -> PathBuf {
        dir.join(format!("{issue}.lock"))
    }

    /// Take the lock for `issue`, or say who has it.
    pub fn acquire(dir: &Path, issue: u64) -> Result<(IssueLock, Option<StaleLock>), LockError> {
        let path = IssueLock::path_for(dir, issue);
        let io = |source| LockError::Io {
            issue,
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        // A lock file can be removed by its releasing owner between our open and our lock;
        // then we hold a lock on a file nobody else can see, and must start over.
        for _ in 0..8 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Busy {
                        issue,
                        pid: read_pid(&mut file),
                    });
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
            let same_file = match std::fs::metadata(&path) {
                Ok(meta) => file
                    .metadata()
                    .map(|m| m.ino() == meta.ino())
                    .unwrap_or(false),
                Err(_) => false,
            };
            if !same_file {
                continue;
            }
            let stale = read_pid(&mut file)
                .map(|pid| StaleLock { pid: Some(pid) })
                .or_else(|| {
                    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                    (len > 0).then_some(StaleLock { pid: None })
                });
            file.set_len(0).map_err(io)?;
            file.rewind().map_err(io)?;
            writeln!(file, "{}", std::process::id()).map_err(io)?;
            file.flush().map_err(io)?;
            return Ok((IssueLock { path, _file: file }, stale));
        }
        Err(LockError::Busy { issue, pid: None })
    }
}

/// A lock file found in the locks directory, read without taking it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockFile {
    pub issue: u64,
    /// The pid written in it: the run that holds it, or held it before it died.
    pub pid: Option<u32>,
}

/// Every lock file in `dir`, by issue. Nothing is locked or changed: a run starting meanwhile
/// is not disturbed.
pub fn lock_files(dir: &Path) -> Vec<LockFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<LockFile> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let issue = name.to_str()?.strip_suffix(".lock")?.parse().ok()?;
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let pid = text.lines().next().and_then(|l| l.trim().parse().ok());
            Some(LockFile { issue, pid })
        })
        .collect();
    found.sort_by_key(|l| l.issue);
    found
}

impl Drop for IssueLock {
    fn drop(&mut self) {
        // Remove first, unlock second (when the file closes): a waiter that opened the old
        // file notices it is gone and starts over.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_busy_and_names_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let (held, stale) = IssueLock::acquire(dir.path(), 7).unwrap();
        assert_eq!(stale, None);
        match IssueLock::acquire(dir.path(), 7) {
            Err(LockError::Busy { issue: 7, pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected busy, got {other:?}"),
        }
        // Other issues are independent.
        let (_other, _) = IssueLock::acquire(dir.path(), 8).unwrap();
        drop(held);
        assert!(!IssueLock::path_for(dir.path(), 7).exists());
        let (_again, stale) = IssueLock::acquire(dir.path(), 7).unwrap();
        assert_eq!(stale, None);
    }

    #[test]
    fn a_left_over_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(IssueLock::path_for(dir.path(), 3), "999999\n").unwrap();
        let (_lock, stale) = IssueLock::acquire(dir.path(), 3).unwrap();
        assert_eq!(stale, Some(StaleLock { pid: Some(999999) }));
    }

    #[test]
    fn lock_files_are_listed_without_being_taken() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(IssueLock::path_for(dir.path(), 12), "4242\n").unwrap();
        std::fs::write(IssueLock::path_for(dir.path(), 3), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "1").unwrap();
        assert_eq!(
            lock_files(dir.path()),
            [
                LockFile {
                    issue: 3,
                    pid: None
                },
                LockFile {
                    issue: 12,
                    pid: Some(4242)
                }
            ]
        );
        assert_eq!(
            std::fs::read_to_string(IssueLock::path_for(dir.path(), 12)).unwrap(),
            "4242\n"
        );
    }
}
