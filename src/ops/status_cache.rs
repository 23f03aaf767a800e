//! The status of each issue branch, kept by its tip, so `status` with no issue reads one
//! small file instead of every branch's history: with 1,000 issue branches, the table comes
//! from the cache in a few milliseconds, and only branches that moved are read again.
//!
//! An entry is keyed by the branch name and its tip: history below a commit never changes,
//! so the status of that tip can only change with the configuration (paths, gates) or with
//! the program's own reading of the history. Both are in the file's fingerprint (the resolved
//! configuration, the version and the commit the program was built from, when its file was
//! written, and [`FORMAT`]): a
//! file with another fingerprint is ignored and rewritten. A lost, damaged or unwritable file
//! only costs time.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use super::status::IssueStatus;
use crate::config::Config;
use crate::git::ObjectId;

/// Bumped whenever what a status says, or how it is read from the history, changes.
const FORMAT: &str = "status-v3";

/// What the cache holds for one branch tip: the tip's commit time and the issue's status.
#[derive(Clone, Debug)]
pub struct Entry {
    pub time: i64,
    pub status: IssueStatus,
}

pub struct StatusCache {
    file: PathBuf,
    fingerprint: String,
    entries: HashMap<(String, ObjectId), Entry>,
    /// The entries of the branches listed now: what the file holds after [`StatusCache::save`].
    kept: Vec<(String, ObjectId, Entry)>,
    /// Whether the file differs from `kept` (an entry was built, or a branch went away).
    changed: bool,
}

impl StatusCache {
    /// Read `file`, keeping its entries only when they were written for `config` by this
    /// very program.
    #[cfg(test)]
    pub fn open(file: &Path, config: &Config) -> StatusCache {
        StatusCache::open_with(file, config, "")
    }

    /// [`StatusCache::open`], with `more` that the entries also depend on (the prompt
    /// templates, which decide whether a stage is stale).
    pub fn open_with(file: &Path, config: &Config, more: &str) -> StatusCache {
        let fingerprint = fingerprint(config, more);
        let mut entries = HashMap::new();
        let mut lines_read = 0;
        if let Ok(text) = std::fs::read_to_string(file) {
            let mut lines = text.lines();
            if lines.next() == Some(fingerprint.as_str()) {
                for line in lines {
                    lines_read += 1;
                    if let Some((branch, tip, entry)) = parse(line) {
                        entries.insert((branch, tip), entry);
                    }
                }
            }
        }
        StatusCache {
            file: file.to_path_buf(),
            fingerprint,
            changed: lines_read != entries.len(),
            entries,
            kept: Vec::new(),
        }
    }

    /// The status of `branch` at `tip`, from the cache or from `build` (then kept).
    pub fn get_or_build<E>(
        &mut self,
        branch: &str,
        tip: ObjectId,
        build: impl FnOnce() -> Result<Entry, E>,
    ) -> Result<Entry, E> {
        let entry = match self.entries.remove(&(branch.to_string(), tip)) {
            Some(entry) => entry,
            None => {
                self.changed = true;
                build()?
            }
        };
        self.kept.push((branch.to_string(), tip, entry.clone()));
        Ok(entry)
    }

    /// Write the entries of the branches asked about, when anything changed. Entries of
    /// branches that are gone (or moved) are dropped, so the file stays as large as the list.
    pub fn save(self) {
        if !self.changed && self.entries.is_empty() {
            return;
        }
        let mut text = format!("{}\n", self.fingerprint);
        for (branch, tip, entry) in &self.kept {
            if let Ok(status) = serde_json::to_string(&entry.status) {
                text.push_str(&format!("{tip} {} {branch} {status}\n", entry.time));
            }
        }
        if let Some(dir) = self.file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // A file of this process's own, renamed over the old one: a reader, or another
        // `status` writing at the same time, sees one whole file or the other.
        let temp = self
            .file
            .with_extension(format!("tmp-{}", std::process::id()));
        if std::fs::write(&temp, text).is_ok() && std::fs::rename(&temp, &self.file).is_err() {
            let _ = std::fs::remove_file(&temp);
        }
    }
}

/// What the entries depend on besides the history: the configuration as resolved, and the
/// program (its version and commit, and when its file was written, so a rebuilt program
/// with the same commit does not trust entries an older build wrote).
fn fingerprint(config: &Config, more: &str) -> String {
    let mut hasher = DefaultHasher::new();
    format!("{config:?}").hash(&mut hasher);
    more.hash(&mut hasher);
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok()
        .hash(&mut hasher);
    format!(
        "{FORMAT} {} {} {:016x}",
        env!("CARGO_PKG_VERSION"),
        env!("GIT_ORCHESTRATE_COMMIT").replace(' ', "_"),
        hasher.finish()
    )
}

/// `TIP TIME BRANCH STATUS-JSON` (branch names hold no spaces).
fn parse(line: &str) -> Option<(String, ObjectId, Entry)> {
    let mut parts = line.splitn(4, ' ');
    let tip = ObjectId::parse(parts.next()?)?;
    let time = parts.next()?.parse().ok()?;
    let branch = parts.next()?.to_string();
    let status: IssueStatus = serde_json::from_str(parts.next()?).ok()?;
    (status.branch == branch).then_some((branch, tip, Entry { time, status }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LoadOptions, load};
    use crate::env::Env;
    use crate::ops::status::NextAction;

    fn config(overrides: &[&str]) -> Config {
        let opts = LoadOptions {
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
            ..LoadOptions::default()
        };
        load(&opts, &Env::default()).unwrap()
    }

    fn status(branch: &str, title: &str) -> IssueStatus {
        IssueStatus {
            issue: 7,
            branch: branch.into(),
            title: title.into(),
            stages: Vec::new(),
            waiting_at: None,
            next: NextAction::Done {
                pull_request: None,
                recorded: None,
            },
            default_models: None,
            base: None,
        }
    }

    fn tip(n: u8) -> ObjectId {
        ObjectId::parse(&format!("{n:02x}").repeat(20)).unwrap()
    }

    /// Ask for `branch` at `at`; the title says whether it was built now.
    fn ask(cache: &mut StatusCache, branch: &str, at: ObjectId) -> String {
        cache
            .get_or_build(branch, at, || {
                Ok::<_, ()>(Entry {
                    time: 42,
                    status: status(branch, "built"),
                })
            })
            .unwrap()
            .status
            .title
    }

    #[test]
    fn a_tip_seen_before_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache").join("status");
        let config = config(&[]);
        let mut cache = StatusCache::open(&file, &config);
        assert_eq!(ask(&mut cache, "orchestrate/7-a", tip(1)), "built");
        cache.save();

        let mut cache = StatusCache::open(&file, &config);
        let entry = cache
            .get_or_build("orchestrate/7-a", tip(1), || Err("read again"))
            .unwrap();
        assert_eq!(entry.time, 42);
        assert_eq!(entry.status.title, "built");
        cache.save();

        // The branch moved: its new tip is read, and the old one is forgotten.
        let mut cache = StatusCache::open(&file, &config);
        assert_eq!(ask(&mut cache, "orchestrate/7-a", tip(2)), "built");
        cache.save();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 2, "the old tip is dropped:\n{text}");
    }

    #[test]
    fn another_configuration_or_a_damaged_file_reads_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("status");
        let mut cache = StatusCache::open(&file, &config(&[]));
        ask(&mut cache, "orchestrate/7-a", tip(1));
        cache.save();

        // A gate turned on changes what a status says: nothing cached is used.
        let gated = config(&["gates.after_lld=true"]);
        let mut cache = StatusCache::open(&file, &gated);
        let rebuilt = cache.get_or_build("orchestrate/7-a", tip(1), || Err("rebuilt"));
        assert_eq!(rebuilt.err(), Some("rebuilt"));

        let text = std::fs::read_to_string(&file).unwrap();
        let fingerprint = text.lines().next().unwrap();
        std::fs::write(&file, format!("{fingerprint}\nnot a line\n{} x\n", tip(1))).unwrap();
        let mut cache = StatusCache::open(&file, &config(&[]));
        assert_eq!(ask(&mut cache, "orchestrate/7-a", tip(1)), "built");
        cache.save();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("not a line"),
            "damaged lines are dropped:\n{text}"
        );
    }

    #[test]
    fn an_unwritable_cache_costs_only_time() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: it can be neither read nor replaced.
        let file = dir.path().join("status");
        std::fs::create_dir(&file).unwrap();
        let mut cache = StatusCache::open(&file, &config(&[]));
        assert_eq!(ask(&mut cache, "orchestrate/7-a", tip(1)), "built");
        cache.save();
        assert!(file.is_dir());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }
}
