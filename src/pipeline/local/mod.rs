//! Local run state under `<git-common-dir>/orchestrate/`: locks, transcripts of model
//! exchanges (for debugging, and so a reply that could not be committed is not lost),
//! artifacts saved when a commit could not land, and the cache of answers read from history.
//! Deleting it loses nothing the branch holds.

pub mod lock;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::git::{FileChange, FileKind};
use crate::redact::Redactor;

#[derive(Clone, Debug)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    pub fn new(common_dir: &Path) -> StateDir {
        StateDir {
            root: common_dir.join("orchestrate"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn locks(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// Where the transcripts of `issue`'s runs are kept, one folder per run.
    pub fn issue_transcripts(&self, issue: u64) -> PathBuf {
        self.root.join("transcripts").join(issue.to_string())
    }

    /// Where work of `issue` that could not be committed is saved, one folder per attempt.
    pub fn issue_recovered(&self, issue: u64) -> PathBuf {
        self.root.join("recovered").join(issue.to_string())
    }

    /// Every issue with local state: transcripts, saved work, or a lock file.
    pub fn issues(&self) -> Vec<u64> {
        let mut issues = std::collections::BTreeSet::new();
        for dir in ["transcripts", "recovered"] {
            issues.extend(numbered(&self.root.join(dir), |name| name.parse().ok()));
        }
        issues.extend(numbered(&self.locks(), |name| {
            name.strip_suffix(".lock")?.parse().ok()
        }));
        issues.into_iter().collect()
    }

    /// The cache of answers read from history (see `cache`).
    pub fn history_cache(&self) -> PathBuf {
        self.root.join("cache").join("history")
    }

    /// The status of each issue branch by its tip, for `status` with no issue.
    pub fn status_cache(&self) -> PathBuf {
        self.root.join("cache").join("status")
    }

    /// The transcripts of one run of `issue`, numbered in call order, with `redactor`'s
    /// secrets removed.
    pub fn transcripts(&self, issue: u64, redactor: Redactor) -> Transcripts {
        Transcripts {
            dir: self.issue_transcripts(issue).join(run_id()),
            calls: 0,
            redactor,
        }
    }

    /// Save artifacts whose commit could not land, with the message they were to carry.
    pub fn save_recovery(
        &self,
        issue: u64,
        stage: &str,
        files: &[FileChange],
        message: &str,
    ) -> std::io::Result<PathBuf> {
        let dir = self
            .issue_recovered(issue)
            .join(format!("{stage}-{}", run_id()));
        let mut deleted = Vec::new();
        for file in files {
            if file.kind == FileKind::Deleted {
                deleted.push(file.path.as_str());
                continue;
            }
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, &file.content)?;
        }
        std::fs::create_dir_all(&dir)?;
        if !deleted.is_empty() {
            // Paths the work deleted, one per line: there is no file to save for them.
            std::fs::write(dir.join("DELETED"), deleted.join("\n") + "\n")?;
        }
        std::fs::write(dir.join("COMMIT_MESSAGE"), message)?;
        Ok(dir)
    }
}

/// The issue numbers `parse` reads from the names of the entries of `dir`.
fn numbered(dir: &Path, parse: impl Fn(&str) -> Option<u64>) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(&parse))
        .collect()
}

/// A name for one run: its start time and pid.
pub fn run_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let stamp =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .to_string()
            .replace([':', '-'], "");
    format!("{stamp}-{}", std::process::id())
}

/// Where one run keeps its model exchanges: `transcripts/<issue>/<run>/NN-stage-role-roundN.md`.
#[derive(Clone, Debug)]
pub struct Transcripts {
    dir: PathBuf,
    calls: u32,
    redactor: Redactor,
}

impl Transcripts {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Save one exchange, secrets removed; `reply` is the reply's text or what went wrong.
    /// Returns where, and what was removed.
    pub fn save(
        &mut self,
        label: &str,
        model: &str,
        prompt: &str,
        reply: Result<&str, &str>,
    ) -> std::io::Result<(PathBuf, Vec<String>)> {
        self.calls += 1;
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{:02}-{label}.md", self.calls));
        let (heading, text) = match reply {
            Ok(text) => ("Reply", text),
            Err(error) => ("Error", error),
        };
        let body = format!("# Model\n\n{model}\n\n# Prompt\n\n{prompt}\n\n# {heading}\n\n{text}\n");
        let body = self.redactor.redact(&body);
        std::fs::write(&path, body.text.as_bytes())?;
        Ok((path, body.found))
    }
}
