//! Rendered maps kept on disk, by git tree id: the same tree and options give the same map,
//! so a map is built once per tree.
//!
//! An entry is `<cache_dir>/<tree id>-<options hash>.txt`, holding a first line with the
//! format version and a checksum of the map, then the map. Entries are written to a
//! temporary file and renamed into place, so a reader never sees half of one; an entry that
//! cannot be read or does not match its checksum is built again, never an error. Failing to
//! write an entry is not an error either: the map is returned and the next call builds it
//! again.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{MapError, Options, RepoMap, normalize};

/// Changes whenever the map's text would change for the same tree and options.
const FORMAT: &str = "repomap-1";

/// The rendered map of the tree `tree_id` (its checkout is what `build` maps): read from
/// `cache_dir` when there, else built with `build`, stored and returned.
pub fn cached(
    cache_dir: &Path,
    tree_id: &str,
    options: &Options,
    build: impl FnOnce() -> Result<RepoMap, MapError>,
) -> Result<String, MapError> {
    if tree_id.len() < 4 || tree_id.len() > 64 || !tree_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MapError::TreeId {
            tree_id: tree_id.to_string(),
        });
    }
    let path = cache_dir.join(format!(
        "{}-{:016x}.txt",
        tree_id.to_ascii_lowercase(),
        options_hash(options)
    ));
    if let Some(text) = read(&path) {
        return Ok(text);
    }
    let text = build()?.render();
    if let Err(error) = write(cache_dir, &path, &text) {
        tracing::warn!(path = %path.display(), %error, "could not cache the repository map");
    }
    Ok(text)
}

fn read(path: &Path) -> Option<String> {
    let stored = std::fs::read_to_string(path).ok()?;
    let (first, text) = stored.split_once('\n')?;
    let (format, sum) = first.split_once(' ')?;
    (format == FORMAT && sum == format!("{:016x}", fnv(text.as_bytes()))).then(|| text.to_string())
}

fn write(cache_dir: &Path, path: &PathBuf, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(cache_dir)?;
    let mut file = tempfile::NamedTempFile::new_in(cache_dir)?;
    write!(file, "{FORMAT} {:016x}\n{text}", fnv(text.as_bytes()))?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A hash of what shapes the map besides the tree, stable across runs and builds (the
/// standard library's hasher promises neither).
fn options_hash(options: &Options) -> u64 {
    let mut key = format!("{FORMAT}\n{}\n", options.budget_tokens);
    for (name, paths) in [("focus", &options.focus), ("exclude", &options.exclude)] {
        key.push_str(name);
        for path in normalize(paths) {
            key.push('\0');
            key.push_str(&path);
        }
        key.push('\n');
    }
    fnv(key.as_bytes())
}

/// 64-bit FNV-1a.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

    fn checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lib.rs"), "pub fn f() {}\n").unwrap();
        dir
    }

    #[test]
    fn a_hit_returns_the_text_without_building() {
        let repo = checkout();
        let cache = tempfile::tempdir().unwrap();
        let options = Options::default();
        let builds = Cell::new(0);
        let build = || {
            builds.set(builds.get() + 1);
            RepoMap::build(repo.path(), &options)
        };
        let first = cached(cache.path(), TREE, &options, build).unwrap();
        assert!(first.contains("lib.rs\n  1: pub fn f()\n"), "{first}");
        assert_eq!(builds.get(), 1);
        let second = cached(cache.path(), TREE, &options, || {
            builds.set(builds.get() + 1);
            RepoMap::build(repo.path(), &options)
        })
        .unwrap();
        assert_eq!(second, first);
        assert_eq!(builds.get(), 1);
        let entries: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn other_options_or_trees_are_other_entries() {
        let repo = checkout();
        let cache = tempfile::tempdir().unwrap();
        let options = Options::default();
        let builds = Cell::new(0);
        let run = |tree: &str, options: &Options| {
            cached(cache.path(), tree, options, || {
                builds.set(builds.get() + 1);
                RepoMap::build(repo.path(), options)
            })
            .unwrap()
        };
        run(TREE, &options);
        run("0123abcd", &options);
        let focused = Options {
            focus: vec!["lib.rs".into()],
            ..Options::default()
        };
        run(TREE, &focused);
        // The same focus written differently is the same entry.
        let same = Options {
            focus: vec!["./lib.rs".into(), "lib.rs".into()],
            ..Options::default()
        };
        run(TREE, &same);
        assert_eq!(builds.get(), 3);
    }

    #[test]
    fn a_corrupt_entry_is_built_again() {
        let repo = checkout();
        let cache = tempfile::tempdir().unwrap();
        let options = Options::default();
        let first = cached(cache.path(), TREE, &options, || {
            RepoMap::build(repo.path(), &options)
        })
        .unwrap();
        let entry = std::fs::read_dir(cache.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        for corrupt in [
            b"garbage".to_vec(),
            std::fs::read_to_string(&entry)
                .unwrap()
                .replace("f()", "g()")
                .into_bytes(),
            vec![0xff, 0xfe, b'\n'],
            Vec::new(),
        ] {
            std::fs::write(&entry, corrupt).unwrap();
            let mut built = false;
            let again = cached(cache.path(), TREE, &options, || {
                built = true;
                RepoMap::build(repo.path(), &options)
            })
            .unwrap();
            assert!(built);
            assert_eq!(again, first);
        }
    }

    #[test]
    fn a_cache_that_cannot_be_written_still_gives_the_map() {
        let repo = checkout();
        let cache = tempfile::tempdir().unwrap();
        let blocked = cache.path().join("file");
        std::fs::write(&blocked, "not a directory").unwrap();
        let options = Options::default();
        let text = cached(&blocked, TREE, &options, || {
            RepoMap::build(repo.path(), &options)
        })
        .unwrap();
        assert!(text.contains("lib.rs"), "{text}");
    }

    #[test]
    fn tree_ids_must_be_hex() {
        let cache = tempfile::tempdir().unwrap();
        for bad in ["../../etc", "", "xyz", "abc"] {
            let error = cached(cache.path(), bad, &Options::default(), || {
                unreachable!("no build for a bad tree id")
            })
            .unwrap_err();
            assert!(matches!(error, MapError::TreeId { .. }), "{bad}: {error:?}");
        }
    }

    #[test]
    fn options_hash_is_stable() {
        // A fixed value: the hash names files that outlive the program that wrote them.
        assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
