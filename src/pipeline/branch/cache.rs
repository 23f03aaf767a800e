//! A cache of what the history below a commit says about an artifact: the commit that last
//! changed it, and the newest gate event (a decision, or a run waiting) since. Keyed by commit id, and history below a
//! commit never changes, so an entry is never stale; a lost or damaged file only costs time.
//!
//! Without it, an artifact last changed long ago (a design written by hand on `main` thousands
//! of commits back) makes every `status` walk back that far.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::git::ObjectId;
use crate::stage::Gate;

/// Lines kept when the file is compacted, and the size that triggers it.
const KEEP: usize = 2048;
const COMPACT_AT: usize = 2 * KEEP;
/// The format of each line; lines of another version are ignored. (v2: gate events include
/// runs waiting at a gate, which v1 answers did not look for.)
const VERSION: &str = "v2";

/// What is asked about: one artifact of one issue, with the gate that follows its stage.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub issue: u64,
    pub gate: Option<Gate>,
    pub path: String,
}

/// The answer for a commit: the last change to the artifact at or below it, and the newest
/// gate event between the two (not counting the change itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub change: ObjectId,
    pub event: Option<ObjectId>,
}

#[derive(Debug, Default)]
pub struct HistoryCache {
    file: Option<PathBuf>,
    entries: HashMap<(ObjectId, Key), Answer>,
    lines: usize,
    added: Vec<String>,
}

impl HistoryCache {
    /// Read the cache file, if there is one; unreadable lines are skipped.
    pub fn open(file: Option<&Path>) -> HistoryCache {
        let mut cache = HistoryCache {
            file: file.map(Path::to_path_buf),
            ..HistoryCache::default()
        };
        if let Some(text) = file.and_then(|f| std::fs::read_to_string(f).ok()) {
            for line in text.lines() {
                cache.lines += 1;
                if let Some((commit, key, answer)) = parse(line) {
                    cache.entries.insert((commit, key), answer);
                }
            }
        }
        cache
    }

    pub fn get(&self, commit: ObjectId, key: &Key) -> Option<Answer> {
        self.entries.get(&(commit, key.clone())).copied()
    }

    pub fn put(&mut self, commit: ObjectId, key: &Key, answer: Answer) {
        if self.get(commit, key) == Some(answer) {
            return;
        }
        self.entries.insert((commit, key.clone()), answer);
        self.added.push(format_line(commit, key, answer));
    }

    /// Write new entries. Failing to is not an error: the next call walks again.
    pub fn save(&self) {
        let Some(file) = &self.file else { return };
        if self.added.is_empty() {
            return;
        }
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if self.lines + self.added.len() >= COMPACT_AT {
            self.compact(file);
            return;
        }
        // One write per call, in append mode: concurrent writers do not interleave lines.
        let text: String = self.added.iter().map(|l| format!("{l}\n")).collect();
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = f.write_all(text.as_bytes());
        }
    }

    fn compact(&self, file: &Path) {
        let old = std::fs::read_to_string(file).unwrap_or_default();
        let mut lines: Vec<&str> = old.lines().collect();
        lines.extend(self.added.iter().map(String::as_str));
        let start = lines.len().saturating_sub(KEEP);
        let text: String = lines[start..].iter().map(|l| format!("{l}\n")).collect();
        let temp = file.with_extension("tmp");
        if std::fs::write(&temp, text).is_ok() {
            let _ = std::fs::rename(&temp, file);
        }
    }
}

fn format_line(commit: ObjectId, key: &Key, answer: Answer) -> String {
    format!(
        "{VERSION} {commit} {} {} {} {} {}",
        key.issue,
        key.gate.map(Gate::name).unwrap_or("-"),
        answer.change,
        answer
            .event
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
        key.path
    )
}

fn parse(line: &str) -> Option<(ObjectId, Key, Answer)> {
    let mut parts = line.splitn(7, ' ');
    if parts.next()? != VERSION {
        return None;
    }
    let commit = ObjectId::parse(parts.next()?)?;
    let issue = parts.next()?.parse().ok()?;
    let gate = match parts.next()? {
        "-" => None,
        name => Some(Gate::parse(name)?),
    };
    let change = ObjectId::parse(parts.next()?)?;
    let event = match parts.next()? {
        "-" => None,
        hex => Some(ObjectId::parse(hex)?),
    };
    let path = parts.next()?.to_string();
    if path.is_empty() {
        return None;
    }
    Some((commit, Key { issue, gate, path }, Answer { change, event }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::parse(&format!("{n:02x}").repeat(20)).unwrap()
    }

    #[test]
    fn entries_survive_a_round_trip_and_garbage_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache/history");
        let key = Key {
            issue: 7,
            gate: Some(Gate::AfterLld),
            path: "docs/lld/7 with space.md".into(),
        };
        let answer = Answer {
            change: id(1),
            event: Some(id(2)),
        };
        let mut cache = HistoryCache::open(Some(&file));
        cache.put(id(3), &key, answer);
        cache.save();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap()
            .write_all(b"garbage line\nv2 nothex 7 - x - p\n")
            .unwrap();
        let again = HistoryCache::open(Some(&file));
        assert_eq!(again.get(id(3), &key), Some(answer));
        assert_eq!(again.entries.len(), 1);
        let other = Key { gate: None, ..key };
        assert_eq!(again.get(id(3), &other), None);
    }

    #[test]
    fn compaction_keeps_the_newest_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history");
        let key = |n: usize| Key {
            issue: n as u64,
            gate: None,
            path: "p".into(),
        };
        let answer = Answer {
            change: id(1),
            event: None,
        };
        let mut cache = HistoryCache::open(Some(&file));
        for n in 0..COMPACT_AT + 10 {
            cache.put(id(2), &key(n), answer);
        }
        cache.save();
        let again = HistoryCache::open(Some(&file));
        assert_eq!(again.lines, KEEP);
        assert!(again.get(id(2), &key(COMPACT_AT + 9)).is_some());
        assert!(again.get(id(2), &key(0)).is_none());
    }
}
