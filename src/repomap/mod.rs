//! The repository map a text implementer reads: the checkout's paths and their top-level
//! definitions, within a token budget, so the model knows what exists before it edits.
//!
//! The map lists every file that the checkout's `.gitignore` files and `.git/info/exclude`
//! leave in (hidden files too; not the user's global excludes, so the map is the same on
//! every machine; symbolic links named, not followed), sorted by path, each
//! followed by its definitions as `line: signature` for Rust, Python, JavaScript, TypeScript
//! and Go (see `defs.rs`). Binary files (a NUL in the first 8 KB), large ones (over 256 KB,
//! with their size) and generated ones (lock files, minified files, a first line saying
//! `@generated` or `Code generated ... DO NOT EDIT`) are named with a marker and never read
//! further. Files that cannot be read are left out and counted.
//!
//! **The budget.** Tokens are estimated as bytes / 4, and the rendered map never takes more
//! than `budget_tokens * 4` bytes. When everything does not fit, the map degrades in this
//! order: first definitions go, farthest files first (interest is distance from the focus
//! paths, see `layout.rs`); then directories collapse to one `dir/ (N files)` line, farthest
//! and deepest first; as a last resort whole lines go. One exception keeps a large
//! repository useful: the definitions of the focus files and of the files beside them (in
//! a focus path's directory; at the root without a focus) may take up to half the budget
//! before any path line is counted, and their directories never collapse. The last line
//! always says what was left out.
//!
//! **Bounded work.** Building is `walk → reserve → layout → fill`, and the only expensive
//! step, parsing, is spent where it can show: files are parsed in order of interest, in
//! parallel batches, and parsing stops once the definitions budget is used up (or after a
//! run of files whose definitions did not fit). Other files are opened only when their
//! line is shown, to see if they are binary or generated. So a checkout of 100 000 files costs one
//! walk, one sort and a few hundred parsed files, not 100 000.
//!
//! **Stable output.** The same files, options and budget give the same text, byte for
//! byte, whatever the thread count: the map sits in the stable part of the prompt, where
//! prompt caching pays. [`cached`] keeps rendered maps on disk by git tree id.

mod cache;
mod defs;
mod layout;
mod walk;

use std::path::{Path, PathBuf};

pub use cache::cached;

use defs::{Lang, Parsers};
use layout::{Layout, Tree};
use walk::Kind;

/// The budget when none is configured (`stages.impl.context_tokens`).
pub const DEFAULT_BUDGET_TOKENS: u64 = 24_000;

/// Bytes per token, the estimate the budget is measured with.
pub const BYTES_PER_TOKEN: u64 = 4;

/// Files parsed per batch when looking for definitions that fit.
const BATCH: usize = 32;

/// After this many files in a row whose definitions could not be shown, stop parsing.
const MAX_MISSES: usize = 64;

/// Below this many bytes, no definition line fits: stop parsing.
const MIN_DEF_BYTES: usize = 12;

/// What to map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The map's size limit, in tokens of 4 bytes.
    pub budget_tokens: u64,
    /// Paths (relative to the root, files or directories, existing or not) the change is
    /// about: they and their neighbours keep their definitions and lines longest.
    pub focus: Vec<String>,
    /// Paths (files or directories, relative to the root) left out of the map, because the
    /// prompt carries them in full elsewhere.
    pub exclude: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            budget_tokens: DEFAULT_BUDGET_TOKENS,
            focus: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// What went wrong building or caching a map.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("cannot read the checkout at {}", path.display())]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("the {language} grammar does not load in this tree-sitter version")]
    Grammar {
        language: &'static str,
        #[source]
        source: tree_sitter::LanguageError,
    },
    #[error("{tree_id:?} is not a git tree id")]
    TreeId { tree_id: String },
}

/// What the map left out, by count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Listed source files shown without their definitions.
    pub definitions: usize,
    /// Directories shown as one line, and the files they hold.
    pub collapsed_dirs: usize,
    pub collapsed_files: usize,
    /// Files not listed at all (not even inside a collapsed directory's count).
    pub unlisted_files: usize,
    /// Files and directories that could not be read.
    pub unreadable: usize,
}

/// A built map: its text and what it left out.
#[derive(Debug, Clone)]
pub struct RepoMap {
    text: String,
    files: usize,
    left_out: LeftOut,
}

impl RepoMap {
    /// Map the checkout at `root` within `options.budget_tokens`.
    pub fn build(root: &Path, options: &Options) -> Result<RepoMap, MapError> {
        let metadata = std::fs::metadata(root).map_err(|source| MapError::Root {
            path: root.to_path_buf(),
            source,
        })?;
        if !metadata.is_dir() {
            return Err(MapError::NotADirectory {
                path: root.to_path_buf(),
            });
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let focus = normalize(&options.focus);
        let exclude = normalize(&options.exclude);
        let (mut found, walk_unreadable) = walk::walk(root, threads);
        found.retain(|f| !is_excluded(&f.path, &exclude));
        let builder = Builder {
            root,
            threads,
            parsers: Vec::new(),
            tree: Tree::new(found, &focus),
        };
        let budget = usize::try_from(options.budget_tokens.saturating_mul(BYTES_PER_TOKEN))
            .unwrap_or(usize::MAX);
        builder.build(budget, walk_unreadable)
    }

    /// The map as text: a header line, the files in path order (each followed by its
    /// definitions, indented), and a last line saying what was left out.
    pub fn render(&self) -> String {
        self.text.clone()
    }

    /// How many files the map covers (listed, collapsed or left out for the budget).
    pub fn files(&self) -> usize {
        self.files
    }

    pub fn left_out(&self) -> &LeftOut {
        &self.left_out
    }
}

/// Paths as the map writes them: relative, `/`-separated, no `./`, no trailing `/`;
/// sorted, without duplicates.
fn normalize(paths: &[String]) -> Vec<String> {
    let mut out: Vec<String> = paths
        .iter()
        .map(|p| {
            let p = p.replace('\\', "/");
            p.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect::<Vec<_>>()
                .join("/")
        })
        .filter(|p| !p.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `path` is one of `exclude` or lies under one.
fn is_excluded(path: &str, exclude: &[String]) -> bool {
    exclude.iter().any(|e| {
        path.strip_prefix(e.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

struct Builder<'r> {
    root: &'r Path,
    threads: usize,
    /// Parsers kept between batches, one set per thread.
    parsers: Vec<Parsers>,
    tree: Tree,
}

impl Builder<'_> {
    fn build(mut self, budget: usize, walk_unreadable: usize) -> Result<RepoMap, MapError> {
        let bound = self.tree.entries.len() + walk_unreadable;
        let fixed = header(bound).len() + footer(&all_counts(bound)).len();
        let Some(available) = budget.checked_sub(fixed) else {
            return Ok(self.too_small(budget, walk_unreadable));
        };
        let interest = self.tree.by_interest();

        // Reserve: up to half the budget for the definitions (and path lines) of the focus
        // files and their directories' files (the root's files without a focus).
        let near: Vec<usize> = interest
            .iter()
            .copied()
            .filter(|&i| {
                let entry = &self.tree.entries[i];
                entry.focus || self.tree.dirs[entry.dir].distance == 0
            })
            .collect();
        let mut reserve = available / 2;
        self.admit(&near, &mut reserve, true)?;
        let pinned_defs: usize = self
            .tree
            .entries
            .iter()
            .filter(|e| e.pinned)
            .map(|e| e.defs_cost())
            .sum();

        // Layout: path lines in what is left, opening the files shown until their markers
        // are all known.
        let paths_budget = available - pinned_defs;
        let layout = loop {
            let layout = self.tree.layout(paths_budget);
            let top = self.tree.top_collapsed(&layout);
            let unknown: Vec<usize> = (0..self.tree.entries.len())
                .filter(|&i| self.tree.entries[i].kind == Kind::Unknown)
                .filter(|&i| self.tree.visible(&layout, &top, i))
                .collect();
            if unknown.is_empty() {
                break layout;
            }
            self.classify(&unknown);
        };

        // Fill: more definitions, by interest, for the files shown.
        let top = self.tree.top_collapsed(&layout);
        let shown: Vec<usize> = interest
            .into_iter()
            .filter(|&i| !self.tree.entries[i].pinned && self.tree.visible(&layout, &top, i))
            .collect();
        let mut rest = available - pinned_defs - layout.total;
        self.admit(&shown, &mut rest, false)?;

        let (text, left_out) = self.render(&layout, walk_unreadable);
        debug_assert!(text.len() <= budget, "{} > {budget}", text.len());
        let files = self
            .tree
            .entries
            .iter()
            .filter(|e| e.kind != Kind::Unreadable)
            .count();
        Ok(RepoMap {
            text,
            files,
            left_out,
        })
    }

    /// Parse `candidates` (source files, in order of interest) in batches and show the
    /// definitions of each that fits `budget`, counting its path line too when `pin`.
    fn admit(
        &mut self,
        candidates: &[usize],
        budget: &mut usize,
        pin: bool,
    ) -> Result<(), MapError> {
        let candidates: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                let e = &self.tree.entries[i];
                !e.shown
                    && matches!(e.kind, Kind::Unknown | Kind::Text)
                    && Lang::of(&e.path).is_some()
            })
            .collect();
        let mut misses = 0;
        for batch in candidates.chunks(BATCH) {
            if *budget < MIN_DEF_BYTES || misses >= MAX_MISSES {
                break;
            }
            self.parse(batch)?;
            for &i in batch {
                let entry = &mut self.tree.entries[i];
                let cost = entry.defs_cost() + if pin { entry.line_cost() } else { 0 };
                let has_defs = entry.defs.as_ref().is_some_and(|d| !d.is_empty());
                if has_defs && cost <= *budget {
                    entry.shown = true;
                    entry.pinned = pin;
                    *budget -= cost;
                    misses = 0;
                } else {
                    misses += 1;
                    if misses >= MAX_MISSES {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Read and parse the files of `batch` not parsed yet, in parallel.
    fn parse(&mut self, batch: &[usize]) -> Result<(), MapError> {
        let todo: Vec<(usize, PathBuf, Lang)> = batch
            .iter()
            .filter(|&&i| self.tree.entries[i].defs.is_none())
            .filter_map(|&i| {
                let entry = &self.tree.entries[i];
                let lang = Lang::of(&entry.path)?;
                Some((i, self.root.join(&entry.path), lang))
            })
            .collect();
        let pool = std::sync::Mutex::new(std::mem::take(&mut self.parsers));
        let results = walk::parallel_map(
            &todo,
            self.threads,
            || Reusable::take(&pool),
            |parsers, (_, path, lang)| {
                let (kind, content) = walk::inspect(path, true);
                let defs = match content {
                    Some(source) => Some(defs::definitions(&mut parsers.parsers, *lang, &source)?),
                    None => None,
                };
                Ok::<_, MapError>((kind, defs))
            },
        );
        self.parsers = pool.into_inner().unwrap_or_else(|e| e.into_inner());
        for ((i, _, _), result) in todo.iter().zip(results) {
            let (kind, defs) = result?;
            let entry = &mut self.tree.entries[*i];
            entry.kind = kind;
            entry.defs = Some(
                defs.map(|d| d.iter().map(def_line).collect())
                    .unwrap_or_default(),
            );
        }
        Ok(())
    }

    /// Open the files of `files` to tell binary, large and generated ones.
    fn classify(&mut self, files: &[usize]) {
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|&i| self.root.join(&self.tree.entries[i].path))
            .collect();
        let kinds = walk::parallel_map(
            &paths,
            self.threads,
            || (),
            |(), path| walk::inspect(path, false).0,
        );
        for (&i, kind) in files.iter().zip(kinds) {
            self.tree.entries[i].kind = kind;
        }
    }

    fn render(&self, layout: &Layout, walk_unreadable: usize) -> (String, LeftOut) {
        let tree = &self.tree;
        let top = tree.top_collapsed(layout);
        let mut left_out = LeftOut {
            unreadable: walk_unreadable,
            ..LeftOut::default()
        };
        let mut body = String::with_capacity(layout.total);
        for (i, entry) in tree.entries.iter().enumerate() {
            if entry.kind == Kind::Unreadable {
                left_out.unreadable += 1;
                continue;
            }
            if let Some(dir) = top[entry.dir] {
                if layout.hidden_dirs[dir] {
                    left_out.unlisted_files += 1;
                } else {
                    if tree.dirs[dir].first == i
                        || tree.entries[tree.dirs[dir].first..i]
                            .iter()
                            .all(|e| e.kind == Kind::Unreadable)
                    {
                        left_out.collapsed_dirs += 1;
                        body.push_str(&tree.dir_line(dir));
                    }
                    left_out.collapsed_files += 1;
                }
                continue;
            }
            if layout.hidden_files[i] {
                left_out.unlisted_files += 1;
                continue;
            }
            body.push_str(&entry.path);
            body.push_str(&entry.kind.marker());
            body.push('\n');
            if entry.shown {
                for line in entry.defs.iter().flatten() {
                    body.push_str(line);
                }
            } else if entry.kind == Kind::Text
                && Lang::of(&entry.path).is_some()
                && entry.defs.as_ref().is_none_or(|d| !d.is_empty())
            {
                // Not parsed, or parsed with definitions that did not fit.
                left_out.definitions += 1;
            }
        }
        let files = tree.entries.len() + walk_unreadable - left_out.unreadable;
        let mut text = header(files);
        text.push_str(&body);
        text.push_str(&footer(&left_out));
        (text, left_out)
    }

    /// The map when the budget cannot hold even its first and last lines.
    fn too_small(&self, budget: usize, walk_unreadable: usize) -> RepoMap {
        let files = self.tree.entries.len();
        let text = format!("# Repository map left out: {files} files, the budget is too small\n");
        let text = if text.len() <= budget {
            text
        } else {
            String::new()
        };
        RepoMap {
            text,
            files,
            left_out: LeftOut {
                unlisted_files: files,
                unreadable: walk_unreadable,
                ..LeftOut::default()
            },
        }
    }
}

/// A thread's parsers, taken from the pool at the start of a batch and put back after.
struct Reusable<'p> {
    pool: &'p std::sync::Mutex<Vec<Parsers>>,
    parsers: Parsers,
}

impl<'p> Reusable<'p> {
    fn take(pool: &'p std::sync::Mutex<Vec<Parsers>>) -> Self {
        let parsers = pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        Reusable { pool, parsers }
    }
}

impl Drop for Reusable<'_> {
    fn drop(&mut self) {
        let parsers = std::mem::take(&mut self.parsers);
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(parsers);
    }
}

fn def_line(def: &defs::Def) -> String {
    let indent = 2 + 2 * usize::from(def.depth);
    format!("{:indent$}{}: {}\n", "", def.line, def.signature)
}

fn header(files: usize) -> String {
    format!(
        "# Repository map: {files} files by path, each with its definitions as `line: signature`\n"
    )
}

/// Every count at `bound`: the longest last line the map can have.
fn all_counts(bound: usize) -> LeftOut {
    LeftOut {
        definitions: bound,
        collapsed_dirs: bound,
        collapsed_files: bound,
        unlisted_files: bound,
        unreadable: bound,
    }
}

fn footer(left_out: &LeftOut) -> String {
    let mut parts = Vec::new();
    if left_out.definitions > 0 {
        parts.push(format!("definitions of {} files", left_out.definitions));
    }
    if left_out.collapsed_dirs > 0 {
        parts.push(format!(
            "{} directories shown as one line ({} files)",
            left_out.collapsed_dirs, left_out.collapsed_files
        ));
    }
    if left_out.unlisted_files > 0 {
        parts.push(format!("{} files not listed", left_out.unlisted_files));
    }
    if left_out.unreadable > 0 {
        parts.push(format!("{} unreadable entries", left_out.unreadable));
    }
    if parts.is_empty() {
        "# Left out: nothing\n".to_string()
    } else {
        format!("# Left out: {}\n", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn write(root: &Path, path: &str, content: impl AsRef<[u8]>) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn map(root: &Path, options: &Options) -> String {
        RepoMap::build(root, options).unwrap().render()
    }

    /// A small checkout: a Rust crate with a Python script, ignored output and a `.git`.
    fn checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".git/HEAD", "ref: refs/heads/main\n");
        write(root, ".git/config", "[core]\n");
        write(root, ".git/info/exclude", "secret.txt\n");
        write(root, ".gitignore", "/target/\n*.log\n");
        write(root, "Cargo.toml", "[package]\nname = \"demo\"\n");
        write(
            root,
            "src/lib.rs",
            "//! Demo.\n\npub mod util;\n\npub struct Config {\n    pub name: String,\n}\n\nimpl Config {\n    pub fn new(name: &str) -> Self {\n        Self { name: name.into() }\n    }\n}\n",
        );
        write(
            root,
            "src/util.rs",
            "pub fn helper(x: u32) -> u32 {\n    x + 1\n}\n",
        );
        write(root, "scripts/build.py", "def main():\n    pass\n");
        write(root, "src/prelude.rs", "pub use std::fmt;\n");
        write(root, "target/debug/demo", "binary output");
        write(root, "build.log", "log");
        write(root, "secret.txt", "excluded by .git/info/exclude");
        write(root, ".github/workflows/ci.yml", "on: push\n");
        dir
    }

    #[test]
    fn maps_paths_and_definitions_respecting_ignores() {
        let dir = checkout();
        let text = map(dir.path(), &Options::default());
        assert_eq!(
            text,
            "# Repository map: 7 files by path, each with its definitions as `line: signature`\n\
             .github/workflows/ci.yml\n\
             .gitignore\n\
             Cargo.toml\n\
             scripts/build.py\n\
             \x20 1: def main():\n\
             src/lib.rs\n\
             \x20 3: pub mod util;\n\
             \x20 5: pub struct Config\n\
             \x20 9: impl Config\n\
             \x20   10: pub fn new(name: &str) -> Self\n\
             src/prelude.rs\n\
             src/util.rs\n\
             \x20 1: pub fn helper(x: u32) -> u32\n\
             # Left out: nothing\n"
        );
        let built = RepoMap::build(dir.path(), &Options::default()).unwrap();
        assert_eq!(built.files(), 7);
        assert_eq!(built.left_out(), &LeftOut::default());
    }

    #[test]
    fn excluded_paths_are_left_out() {
        let dir = checkout();
        let options = Options {
            exclude: vec!["./src/lib.rs".into(), "scripts/".into()],
            ..Options::default()
        };
        let text = map(dir.path(), &options);
        assert!(!text.contains("src/lib.rs"), "{text}");
        assert!(!text.contains("scripts"), "{text}");
        assert!(text.contains("src/util.rs\n  1: pub fn helper"), "{text}");
    }

    #[test]
    fn binary_large_generated_and_symlinked_files_are_marked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        write(root, "data.json", vec![b'x'; 300 * 1024]);
        write(
            root,
            "Cargo.lock",
            "# This file is automatically @generated by Cargo.\n",
        );
        write(root, "web/app.min.js", "function a(){}");
        write(
            root,
            "pb/api.pb.go",
            "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage pb\n\nfunc Hidden() {}\n",
        );
        write(
            root,
            "gen.rs",
            "// @generated by a tool\npub fn hidden() {}\n",
        );
        write(
            root,
            "big.rs",
            format!("pub fn shown() {{}}\n{}", "//\n".repeat(100_000)),
        );
        write(root, "main.go", "package main\n\nfunc main() {}\n");
        std::os::unix::fs::symlink("main.go", root.join("link.go")).unwrap();
        let text = map(root, &Options::default());
        assert_eq!(
            text,
            "# Repository map: 9 files by path, each with its definitions as `line: signature`\n\
             Cargo.lock [generated]\n\
             big.rs [large: 293 KB]\n\
             data.json [large: 300 KB]\n\
             gen.rs [generated]\n\
             link.go [symlink]\n\
             logo.png [binary]\n\
             main.go\n\
             \x20 3: func main()\n\
             pb/api.pb.go [generated]\n\
             web/app.min.js [generated]\n\
             # Left out: nothing\n"
        );
    }

    #[test]
    fn unreadable_entries_are_skipped_and_counted() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "ok.rs", "fn ok() {}\n");
        let bad = std::ffi::OsStr::from_bytes(b"bad\xff.rs");
        fs::write(root.join(bad), "fn bad() {}\n").unwrap();
        let built = RepoMap::build(root, &Options::default()).unwrap();
        assert_eq!(built.left_out().unreadable, 1);
        assert_eq!(built.files(), 1);
        assert_eq!(
            built.render(),
            "# Repository map: 1 files by path, each with its definitions as `line: signature`\n\
             ok.rs\n\
             \x20 1: fn ok()\n\
             # Left out: 1 unreadable entries\n"
        );
    }

    /// 40 directories of 50 Rust files, two definitions each.
    fn many_files() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for d in 0..40 {
            for f in 0..50 {
                write(
                    dir.path(),
                    &format!("crates/c{d:02}/src/f{f:02}.rs"),
                    format!("pub struct S{f};\n\npub fn make_{f}() -> S{f} {{\n    S{f}\n}}\n"),
                );
            }
        }
        dir
    }

    #[test]
    fn a_tight_budget_collapses_directories_and_says_so() {
        let dir = many_files();
        for budget_tokens in [60, 200, 1000, 5000] {
            let options = Options {
                budget_tokens,
                ..Options::default()
            };
            let built = RepoMap::build(dir.path(), &options).unwrap();
            let text = built.render();
            assert!(
                text.len() as u64 <= budget_tokens * 4,
                "{budget_tokens}: {text}"
            );
            let last = text.lines().last().unwrap();
            assert!(last.starts_with("# Left out: "), "{last}");
            let left = built.left_out();
            assert!(
                left.collapsed_dirs > 0 || left.unlisted_files > 0,
                "{left:?}"
            );
            assert_eq!(built.files(), 2000);
        }
        let options = Options {
            budget_tokens: 1000,
            ..Options::default()
        };
        let text = map(dir.path(), &options);
        assert!(text.contains("crates/c39/src/ (50 files)\n"), "{text}");
        assert!(text.contains("crates/c00/src/f00.rs\n"), "{text}");
        assert!(text.contains("directories shown as one line"), "{text}");
    }

    #[test]
    fn definitions_go_before_paths() {
        let dir = many_files();
        let everything = map(
            dir.path(),
            &Options {
                budget_tokens: 1_000_000,
                ..Options::default()
            },
        );
        assert!(
            everything.ends_with("# Left out: nothing\n"),
            "{everything}"
        );
        // Enough for every path and some definitions: no directory collapses.
        let paths: usize = everything
            .lines()
            .filter(|l| l.starts_with("crates/"))
            .map(|l| l.len() + 1)
            .sum();
        let options = Options {
            budget_tokens: (paths as u64 + 2000) / 4,
            ..Options::default()
        };
        let built = RepoMap::build(dir.path(), &options).unwrap();
        let text = built.render();
        assert_eq!(built.left_out().collapsed_dirs, 0, "{text}");
        assert!(
            built.left_out().definitions > 1900,
            "{:?}",
            built.left_out()
        );
        assert!(
            text.contains("crates/c00/src/f00.rs\n  1: pub struct S0;\n"),
            "{text}"
        );
    }

    #[test]
    fn focus_paths_keep_their_definitions_and_directories() {
        let dir = many_files();
        let options = Options {
            budget_tokens: 400,
            focus: vec!["crates/c17/src/f33.rs".into()],
            ..Options::default()
        };
        let text = map(dir.path(), &options);
        assert!(text.len() <= 1600);
        assert!(
            text.contains(
                "crates/c17/src/f33.rs\n  1: pub struct S33;\n  3: pub fn make_33() -> S33\n"
            ),
            "{text}"
        );
        assert!(text.contains("crates/c17/src/f32.rs\n"), "{text}");
        assert!(!text.contains("crates/c00/src/f00.rs"), "{text}");
        // Without the focus, the first directories win instead.
        let plain = map(
            dir.path(),
            &Options {
                budget_tokens: 400,
                ..Options::default()
            },
        );
        assert!(!plain.contains("crates/c17/src/f33.rs"), "{plain}");
    }

    #[test]
    fn the_same_checkout_maps_the_same_way() {
        let dir = many_files();
        for budget_tokens in [300, 3000, 30_000] {
            let options = Options {
                budget_tokens,
                focus: vec!["crates/c05/src".into()],
                ..Options::default()
            };
            let first = map(dir.path(), &options);
            for _ in 0..3 {
                assert_eq!(map(dir.path(), &options), first);
            }
        }
    }

    #[test]
    fn a_budget_too_small_for_anything_gives_little_or_nothing() {
        let dir = checkout();
        for budget_tokens in [0, 1, 10, 20] {
            let options = Options {
                budget_tokens,
                ..Options::default()
            };
            let text = map(dir.path(), &options);
            assert!(
                text.len() as u64 <= budget_tokens * 4,
                "{budget_tokens}: {text}"
            );
        }
        let options = Options {
            budget_tokens: 20,
            ..Options::default()
        };
        assert_eq!(
            map(dir.path(), &options),
            "# Repository map left out: 7 files, the budget is too small\n"
        );
    }

    #[test]
    fn a_missing_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let error = RepoMap::build(&missing, &Options::default()).unwrap_err();
        assert!(matches!(error, MapError::Root { .. }), "{error:?}");
        write(dir.path(), "file", "x");
        let error = RepoMap::build(&dir.path().join("file"), &Options::default()).unwrap_err();
        assert!(matches!(error, MapError::NotADirectory { .. }), "{error:?}");
    }
}
