//! Finding a checkout's files and telling what kind each is.
//!
//! The walk honours `.gitignore` files and `.git/info/exclude` (not the user's global
//! excludes, so the map is the same on every machine), includes hidden files, skips `.git`
//! and does not follow symbolic links. It only lists names: a file is opened later, and only
//! if the map shows it, which keeps a cold walk of a large repository cheap.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

/// Files larger than this are named with their size, never read.
pub(super) const LARGE_BYTES: u64 = 256 * 1024;

/// How much of a file's start is read to tell binary and generated files.
const HEAD_BYTES: usize = 8 * 1024;

/// How many of a file's first lines may say it is generated.
const GENERATED_LINES: usize = 5;

/// Lock files and the like: generated, named by their whole file name.
const GENERATED_NAMES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "go.sum",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "pdm.lock",
    "Gemfile.lock",
    "composer.lock",
    "flake.lock",
];

/// Minified and mapped files: generated, named by how their name ends.
const GENERATED_SUFFIXES: &[&str] = &[
    ".min.js", ".min.mjs", ".min.cjs", ".min.css", ".js.map", ".css.map",
];

/// What a file is, as far as the map cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Not opened yet.
    Unknown,
    /// Text the map may show definitions of.
    Text,
    Binary,
    Large(u64),
    Generated,
    Symlink,
    /// Could not be read: left out of the map and counted.
    Unreadable,
}

impl Kind {
    /// The marker after a file's path, if any.
    pub(super) fn marker(self) -> String {
        match self {
            Kind::Unknown | Kind::Text | Kind::Unreadable => String::new(),
            Kind::Binary => " [binary]".to_string(),
            Kind::Large(bytes) => format!(" [large: {}]", size(bytes)),
            Kind::Generated => " [generated]".to_string(),
            Kind::Symlink => " [symlink]".to_string(),
        }
    }
}

/// A size in KB (or MB from 1024 KB), rounded up.
fn size(bytes: u64) -> String {
    let kb = bytes.div_ceil(1024);
    if kb < 1024 {
        format!("{kb} KB")
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// A file found by the walk: its path relative to the root, with `/` between components,
/// and what is known of it without opening it.
#[derive(Debug)]
pub(super) struct Found {
    pub path: String,
    pub kind: Kind,
}

/// Everything under `root` the map may show, unsorted, and how many entries could not be
/// read (directories the walk could not open, names that are not UTF-8).
pub(super) fn walk(root: &Path, threads: usize) -> (Vec<Found>, usize) {
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .parents(false)
        .ignore(false)
        .git_global(false)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .threads(threads)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build_parallel();
    let sink = Sink {
        root,
        found: Mutex::new(Vec::new()),
        unreadable: AtomicUsize::new(0),
    };
    walker.visit(&mut &sink);
    let found = sink.found.into_inner().unwrap_or_else(|e| e.into_inner());
    (found, sink.unreadable.into_inner())
}

struct Sink<'r> {
    root: &'r Path,
    found: Mutex<Vec<Found>>,
    unreadable: AtomicUsize,
}

impl<'s> ParallelVisitorBuilder<'s> for &'s Sink<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            sink: self,
            found: Vec::new(),
        })
    }
}

/// One walking thread's findings, handed over when the thread is done.
struct Visitor<'s> {
    sink: &'s Sink<'s>,
    found: Vec<Found>,
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let Ok(entry) = entry else {
            self.sink.unreadable.fetch_add(1, Ordering::Relaxed);
            return WalkState::Continue;
        };
        let Some(file_type) = entry.file_type() else {
            return WalkState::Continue;
        };
        if file_type.is_dir() {
            return WalkState::Continue;
        }
        let relative = entry.path().strip_prefix(self.sink.root).ok();
        let Some(path) = relative.and_then(relative_path) else {
            self.sink.unreadable.fetch_add(1, Ordering::Relaxed);
            return WalkState::Continue;
        };
        let kind = if file_type.is_symlink() {
            Kind::Symlink
        } else if generated_by_name(&path) {
            Kind::Generated
        } else {
            Kind::Unknown
        };
        self.found.push(Found { path, kind });
        WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let mut found = self.sink.found.lock().unwrap_or_else(|e| e.into_inner());
        found.append(&mut self.found);
    }
}

/// A relative path as `a/b/c`, or `None` when a component is not UTF-8.
fn relative_path(path: &Path) -> Option<String> {
    let mut out = String::new();
    for component in path.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(component.as_os_str().to_str()?);
    }
    (!out.is_empty()).then_some(out)
}

fn generated_by_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    GENERATED_NAMES.contains(&name) || GENERATED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// What a file is, read from its size and its first [`HEAD_BYTES`]; with `whole`, also its
/// content when it is text.
pub(super) fn inspect(path: &Path, whole: bool) -> (Kind, Option<Vec<u8>>) {
    match read(path, whole) {
        Ok(found) => found,
        Err(error) => {
            tracing::debug!(path = %path.display(), %error, "repository map: unreadable file");
            (Kind::Unreadable, None)
        }
    }
}

fn read(path: &Path, whole: bool) -> std::io::Result<(Kind, Option<Vec<u8>>)> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > LARGE_BYTES {
        return Ok((Kind::Large(len), None));
    }
    let mut content = Vec::new();
    let limit = if whole {
        LARGE_BYTES
    } else {
        HEAD_BYTES as u64
    };
    file.take(limit).read_to_end(&mut content)?;
    let head = &content[..content.len().min(HEAD_BYTES)];
    let kind = if head.contains(&0) {
        Kind::Binary
    } else if generated_by_content(head) {
        Kind::Generated
    } else {
        Kind::Text
    };
    let content = (whole && kind == Kind::Text).then_some(content);
    Ok((kind, content))
}

/// `@generated` (the convention of Facebook tools and Cargo) or "generated ... DO NOT EDIT"
/// (Go's `Code generated ... DO NOT EDIT.` and protobuf's) in the first lines.
fn generated_by_content(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .take(GENERATED_LINES)
        .map(String::from_utf8_lossy)
        .any(|line| {
            line.contains("@generated")
                || (line.contains("DO NOT EDIT") && line.to_lowercase().contains("generated"))
        })
}

/// `f` over `items` on up to `threads` threads, each with its own `state`; results in the
/// order of `items`.
pub(super) fn parallel_map<T, S, R>(
    items: &[T],
    threads: usize,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        let mut s = state();
        return items.iter().map(|item| f(&mut s, item)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut indexed: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut s = state();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(&mut s, item)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(out) => out,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    indexed.sort_unstable_by_key(|(i, _)| *i);
    indexed.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_by_name_and_by_header() {
        assert!(generated_by_name("Cargo.lock"));
        assert!(generated_by_name("web/package-lock.json"));
        assert!(generated_by_name("static/app.min.js"));
        assert!(generated_by_name("go.sum"));
        assert!(!generated_by_name("src/lock.rs"));
        assert!(!generated_by_name("app.js"));
        assert!(generated_by_content(
            b"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage pb\n"
        ));
        assert!(generated_by_content(
            b"# This file is @generated by a tool\n"
        ));
        assert!(!generated_by_content(
            b"fn main() {}\n// DO NOT EDIT this by hand\n"
        ));
        assert!(!generated_by_content(b"1\n2\n3\n4\n5\n// @generated\n"));
    }

    #[test]
    fn sizes_read_as_kb_and_mb() {
        assert_eq!(size(300 * 1024), "300 KB");
        assert_eq!(size(300 * 1024 + 1), "301 KB");
        assert_eq!(size(3 * 1024 * 1024 + 200 * 1024), "3.2 MB");
    }

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<usize> = (0..1000).collect();
        let out = parallel_map(
            &items,
            4,
            || 0usize,
            |calls, i| {
                *calls += 1;
                i * 2
            },
        );
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
    }
}
