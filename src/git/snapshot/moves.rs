//! The ref moves this process makes, so that an after-check does not take them for a
//! program's: with several issues run at once, one issue's commit may land while another's
//! agent runs. Every move is recorded *before* it happens and marked finished after, and a
//! check counts a move that was under way at any time since its snapshot was taken.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::Oid;

/// Which refs a move touches.
#[derive(Clone, Debug)]
pub(crate) enum Refs {
    Exact(String),
    /// Every ref under a prefix (a fetch of `orchestrate/7-*`).
    Prefix(String),
}

/// What a move leaves a ref at: a value chosen by the tool (`None`: deleted), or whatever a
/// remote said (a push updating a remote-tracking branch, a fetch).
#[derive(Clone, Copy, Debug)]
pub(crate) enum To {
    Value(Option<Oid>),
    Any,
}

#[derive(Debug)]
struct Move {
    id: u64,
    common: PathBuf,
    refs: Refs,
    to: To,
    /// When the move finished (a sequence number); `None` while it is under way.
    finished: Option<u64>,
}

struct Record {
    next: u64,
    moves: Vec<Move>,
}

static RECORD: Mutex<Record> = Mutex::new(Record {
    next: 1,
    moves: Vec::new(),
});

/// The most finished moves kept: a run makes a few dozen.
const KEPT: usize = 4096;

fn record() -> std::sync::MutexGuard<'static, Record> {
    RECORD.lock().unwrap_or_else(|e| e.into_inner())
}

/// The next sequence number: a snapshot's start.
pub(crate) fn now() -> u64 {
    let mut record = record();
    record.next += 1;
    record.next
}

/// A move under way; dropping it marks it finished.
#[must_use = "the move is finished when this is dropped"]
pub(crate) struct Moving {
    id: u64,
}

/// Record that the tool is about to move `refs` of the repository at `common` to `to`.
pub(crate) fn moving(common: &Path, refs: Refs, to: To) -> Moving {
    let common = canonical(common);
    let mut record = record();
    record.next += 1;
    let id = record.next;
    if record.moves.len() >= KEPT {
        let oldest = record
            .moves
            .iter()
            .filter_map(|m| m.finished.map(|f| (f, m.id)))
            .min();
        if let Some((_, id)) = oldest {
            record.moves.retain(|m| m.id != id);
        }
    }
    record.moves.push(Move {
        id,
        common,
        refs,
        to,
        finished: None,
    });
    Moving { id }
}

impl Drop for Moving {
    fn drop(&mut self) {
        let mut record = record();
        record.next += 1;
        let at = record.next;
        if let Some(m) = record.moves.iter_mut().find(|m| m.id == self.id) {
            m.finished = Some(at);
        }
    }
}

/// Whether `name` being at `value` (`None`: gone) is the tool's own doing: a move of that ref
/// under way since `since` left it there (or was one whose result the tool does not choose).
/// Any such move, not only the last: with several issues at once, the tool may already have
/// begun its next move of the ref (recorded, not yet made) when the check reads it.
pub(crate) fn made_by_tool(common: &Path, since: u64, name: &str, value: Option<Oid>) -> bool {
    let common = canonical(common);
    let record = record();
    record
        .moves
        .iter()
        .filter(|m| m.finished.is_none_or(|f| f > since) && m.common == common)
        .filter(|m| match &m.refs {
            Refs::Exact(exact) => exact == name,
            Refs::Prefix(prefix) => name.starts_with(prefix.as_str()),
        })
        .any(|m| match m.to {
            To::Any => true,
            To::Value(to) => to == value,
        })
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_moves_under_way_since_the_snapshot_and_to_the_value_found_count() {
        let dir = tempfile::tempdir().unwrap();
        let common = dir.path();
        let a = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
        let b = Oid::from_str("2222222222222222222222222222222222222222").unwrap();
        let name = "refs/heads/orchestrate/1-x";

        drop(moving(common, Refs::Exact(name.into()), To::Value(Some(a))));
        let since = now();
        // Finished before the snapshot: not this window's.
        assert!(!made_by_tool(common, since, name, Some(a)));

        let under_way = moving(common, Refs::Exact(name.into()), To::Value(Some(b)));
        assert!(made_by_tool(common, since, name, Some(b)));
        assert!(!made_by_tool(common, since, name, Some(a)));
        drop(under_way);
        assert!(made_by_tool(common, since, name, Some(b)));
        assert!(!made_by_tool(common, since, "refs/heads/other", Some(b)));
        // The next move of the same ref begun (recorded, not yet made) while the check reads
        // the ref at the value the one before left: still the tool's.
        let next = moving(common, Refs::Exact(name.into()), To::Value(Some(a)));
        assert!(made_by_tool(common, since, name, Some(b)));
        drop(next);

        let later = now();
        let fetch = moving(
            common,
            Refs::Prefix("refs/heads/orchestrate/2-".into()),
            To::Any,
        );
        assert!(made_by_tool(
            common,
            later,
            "refs/heads/orchestrate/2-y",
            Some(a)
        ));
        drop(fetch);
        let other = tempfile::tempdir().unwrap();
        assert!(!made_by_tool(
            other.path(),
            later,
            "refs/heads/orchestrate/2-y",
            Some(a)
        ));
    }
}
