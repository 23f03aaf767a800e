//! Applying a reply's blocks to a work tree, all or nothing: every file's new content is
//! computed in memory, block after block (a later block sees the earlier edits of its file),
//! and files are written only when no block has a problem. A file keeps its line endings
//! (CRLF stays CRLF) and whether it ends with a newline.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Component, Path};

use super::blocks::{self, EditBlock, Format, ParseProblemKind, Parsed};
use super::matching::{self, Found};
use super::paths::{self, Protected, Refusal};

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The files written, in the order their first block came in the reply.
    pub files: Vec<AppliedFile>,
    /// Blocks whose change the file already had.
    pub already_applied: usize,
    /// All blocks of the reply.
    pub blocks: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedFile {
    /// Relative to the work tree, `/`-separated.
    pub path: String,
    pub created: bool,
}

/// Why nothing was written: every problem of the attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub problems: Vec<Problem>,
    /// How many blocks the reply had, readable or not.
    pub blocks: usize,
}

/// One problem, and the block it belongs to when it belongs to one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The block's number in the reply (1-based, counting unreadable blocks too).
    pub block: Option<usize>,
    /// The path as the block wrote it.
    pub path: Option<String>,
    /// The reply's line (1-based) of the block's `<<<<<<< SEARCH` marker.
    pub line: Option<usize>,
    pub kind: ProblemKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The reply has no blocks.
    NoBlocks,
    /// The reply has no blocks and is written in another edit format.
    OtherFormat(Format),
    /// A block that could not be read.
    Parse(ParseProblemKind),
    /// The path may not be edited.
    Refused(Refusal),
    /// The SEARCH text is not empty and the file does not exist.
    NoFile,
    /// The SEARCH text is nowhere in the file; `closest` holds the file's most similar lines
    /// (1-based numbers), empty when none is similar enough.
    NoMatch { closest: Vec<(usize, String)> },
    /// The SEARCH text is in the file more than once, at these lines (1-based).
    Ambiguous { lines: Vec<usize> },
    /// The SEARCH text is empty (create a file) and the file exists with other content.
    Exists,
    /// Reading or writing failed.
    Io { message: String },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::NoBlocks => write!(f, "the reply has no SEARCH/REPLACE blocks"),
            ProblemKind::OtherFormat(format) => {
                write!(f, "the reply is {format}, not SEARCH/REPLACE blocks")
            }
            ProblemKind::Parse(kind) => write!(f, "{kind}"),
            ProblemKind::Refused(refusal) => write!(f, "refused: {refusal}"),
            ProblemKind::NoFile => write!(f, "the file does not exist"),
            ProblemKind::NoMatch { .. } => write!(f, "the SEARCH text matches no lines"),
            ProblemKind::Ambiguous { lines } => write!(
                f,
                "the SEARCH text matches {} times, at lines {}",
                lines.len(),
                list(lines)
            ),
            ProblemKind::Exists => write!(f, "the SEARCH text is empty but the file exists"),
            ProblemKind::Io { message } => write!(f, "{message}"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.block, &self.path) {
            (Some(n), Some(path)) => write!(f, "block {n} ({path}): {}", self.kind),
            (Some(n), None) => write!(f, "block {n}: {}", self.kind),
            (None, Some(path)) => write!(f, "{path}: {}", self.kind),
            (None, None) => write!(f, "{}", self.kind),
        }
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the edits were not applied")?;
        if let Some(first) = self.problems.first() {
            write!(f, ": {first}")?;
            if self.problems.len() > 1 {
                write!(f, " (and {} more)", self.problems.len() - 1)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Rejected {}

pub(super) fn list(numbers: &[usize]) -> String {
    numbers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `reply` and applies its blocks below `root`, all or nothing. A line of the reply
/// naming a file below `root` is read as a path whatever its shape (`parse_with`).
pub fn apply(root: &Path, reply: &str, protected: &Protected) -> Result<Applied, Rejected> {
    let exists = |path: &str| is_file_below(root, path);
    apply_parsed(root, &blocks::parse_with(reply, &exists), protected)
}

/// Whether `path`, relative and without `..`, is a file (or a symlink to one) below `root`.
/// Only answers the parser's question; the path is checked before any edit.
fn is_file_below(root: &Path, path: &str) -> bool {
    let relative = Path::new(path);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && std::fs::metadata(root.join(relative)).is_ok_and(|meta| meta.is_file())
}

/// Applies blocks already parsed, all or nothing; a parse problem rejects them all.
pub fn apply_parsed(
    root: &Path,
    parsed: &Parsed,
    protected: &Protected,
) -> Result<Applied, Rejected> {
    let total = parsed.blocks.len() + parsed.problems.len();
    if total == 0 {
        let kind = match parsed.other_format {
            Some(format) => ProblemKind::OtherFormat(format),
            None => ProblemKind::NoBlocks,
        };
        return Err(Rejected {
            problems: vec![Problem {
                block: None,
                path: None,
                line: None,
                kind,
            }],
            blocks: 0,
        });
    }
    let numbers = numbering(parsed);
    let mut problems: Vec<Problem> = parsed
        .problems
        .iter()
        .zip(&numbers.problems)
        .map(|(p, &n)| Problem {
            block: Some(n),
            path: p.path.clone(),
            line: Some(p.line),
            kind: ProblemKind::Parse(p.kind.clone()),
        })
        .collect();

    // Every path checked and every file read before anything is computed.
    let targets: Vec<Result<String, Refusal>> = parsed
        .blocks
        .iter()
        .map(|b| paths::check_path(root, &b.path, protected))
        .collect();
    let mut originals: BTreeMap<&str, Result<Option<String>, ProblemKind>> = BTreeMap::new();
    for target in targets.iter().flatten() {
        if !originals.contains_key(target.as_str()) {
            originals.insert(target, read(root, target));
        }
    }

    let mut files: Vec<(&str, FileState)> = Vec::new();
    let mut already_applied = 0;
    for ((block, target), &number) in parsed.blocks.iter().zip(&targets).zip(&numbers.blocks) {
        let mut report = |kind: ProblemKind| {
            problems.push(Problem {
                block: Some(number),
                path: Some(block.path.clone()),
                line: Some(block.line),
                kind,
            })
        };
        let target = match target {
            Ok(target) => target.as_str(),
            Err(refusal) => {
                report(ProblemKind::Refused(refusal.clone()));
                continue;
            }
        };
        let original = match originals.get(target) {
            Some(Ok(original)) => original,
            Some(Err(kind)) => {
                report(kind.clone());
                continue;
            }
            None => continue,
        };
        let index = match files.iter().position(|(path, _)| *path == target) {
            Some(index) => index,
            None => {
                files.push((target, FileState::new(original.as_deref())));
                files.len() - 1
            }
        };
        match files[index].1.edit(block) {
            Ok(Edit::Changed) => {}
            Ok(Edit::AlreadyApplied) => already_applied += 1,
            Err(kind) => report(kind),
        }
    }

    if !problems.is_empty() {
        problems.sort_by_key(|p| p.block);
        return Err(Rejected {
            problems,
            blocks: total,
        });
    }

    // Each new content goes to a temporary file beside its target first, and the targets are
    // replaced only when all are written, so a full disk changes nothing.
    let mut staged = Vec::new();
    for (path, state) in &files {
        let Some(content) = state.content() else {
            continue;
        };
        let original = originals
            .get(path)
            .and_then(|o| o.as_ref().ok())
            .and_then(|o| o.as_deref());
        if original == Some(content.as_str()) {
            continue;
        }
        match stage(root, path, &content) {
            Ok(temp) => staged.push((*path, original.is_none(), temp)),
            Err(e) => return Err(write_failed(path, &e, total)),
        }
    }
    let mut written = Vec::new();
    for (path, created, temp) in staged {
        if let Err(e) = temp.persist(root.join(path)) {
            return Err(write_failed(path, &e.error, total));
        }
        written.push(AppliedFile {
            path: path.to_string(),
            created,
        });
    }
    Ok(Applied {
        files: written,
        already_applied,
        blocks: total,
    })
}

fn write_failed(path: &str, error: &io::Error, blocks: usize) -> Rejected {
    Rejected {
        problems: vec![Problem {
            block: None,
            path: Some(path.to_string()),
            line: None,
            kind: ProblemKind::Io {
                message: format!("could not write {path}: {error}"),
            },
        }],
        blocks,
    }
}

/// Block numbers in reply order, counting unreadable blocks with the readable ones.
struct Numbers {
    blocks: Vec<usize>,
    problems: Vec<usize>,
}

fn numbering(parsed: &Parsed) -> Numbers {
    let mut lines: Vec<usize> = parsed
        .blocks
        .iter()
        .map(|b| b.line)
        .chain(parsed.problems.iter().map(|p| p.line))
        .collect();
    lines.sort_unstable();
    let number = |line: usize| lines.partition_point(|&l| l < line) + 1;
    Numbers {
        blocks: parsed.blocks.iter().map(|b| number(b.line)).collect(),
        problems: parsed.problems.iter().map(|p| number(p.line)).collect(),
    }
}

/// The file's text, `None` when it does not exist, or why it cannot be edited.
fn read(root: &Path, path: &str) -> Result<Option<String>, ProblemKind> {
    let full = root.join(path);
    match std::fs::read(&full) {
        Ok(bytes) => {
            let head = &bytes[..bytes.len().min(8000)];
            if head.contains(&0) {
                return Err(ProblemKind::Refused(Refusal::Binary));
            }
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| ProblemKind::Refused(Refusal::Binary))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A new file: every existing ancestor must be a directory, or writing fails
            // after other files were written.
            let mut ancestor = full.parent();
            while let Some(dir) = ancestor {
                if let Ok(meta) = std::fs::metadata(dir) {
                    if meta.is_dir() {
                        return Ok(None);
                    }
                    let name = dir.strip_prefix(root).unwrap_or(dir);
                    return Err(ProblemKind::Io {
                        message: format!("{} is a file, not a directory", name.display()),
                    });
                }
                ancestor = dir.parent();
            }
            Ok(None)
        }
        Err(e) if e.kind() == io::ErrorKind::IsADirectory || full.is_dir() => {
            Err(ProblemKind::Io {
                message: format!("{path} is a directory"),
            })
        }
        Err(e) => Err(ProblemKind::Io {
            message: format!("could not read {path}: {e}"),
        }),
    }
}

/// `content` in a temporary file beside `path` (directories created), with the permissions
/// of the file it will replace.
fn stage(root: &Path, path: &str, content: &str) -> io::Result<tempfile::NamedTempFile> {
    let full = root.join(path);
    let parent = full.parent().unwrap_or(root);
    std::fs::create_dir_all(parent)?;
    // A new file gets the mode `fs::write` would give it (0666 less the umask), not the
    // temporary file's 0600.
    let mut temp = tempfile::Builder::new()
        .prefix(".orchestrate-edit-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(parent)?;
    temp.write_all(content.as_bytes())?;
    temp.flush()?;
    if let Ok(meta) = std::fs::metadata(&full) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    Ok(temp)
}

enum Edit {
    Changed,
    AlreadyApplied,
}

/// A file's lines as edited so far, each with its line ending.
struct FileState<'a> {
    /// `None` while the file does not exist.
    lines: Option<Vec<Cow<'a, str>>>,
    eol: &'static str,
    trailing_newline: bool,
}

/// A line without its ending.
fn bare(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

fn split(text: &str) -> Vec<&str> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').collect()
    }
}

impl<'a> FileState<'a> {
    fn new(original: Option<&'a str>) -> FileState<'a> {
        match original {
            None => FileState {
                lines: None,
                eol: "\n",
                trailing_newline: true,
            },
            Some(text) => {
                let eol = match text.find('\n') {
                    Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
                    _ => "\n",
                };
                FileState {
                    lines: Some(text.split_inclusive('\n').map(Cow::Borrowed).collect()),
                    eol,
                    trailing_newline: text.is_empty() || text.ends_with('\n'),
                }
            }
        }
    }

    fn ended(&self, line: &str) -> Cow<'a, str> {
        Cow::Owned(format!("{line}{}", self.eol))
    }

    fn edit(&mut self, block: &'a EditBlock) -> Result<Edit, ProblemKind> {
        let search = split(&block.search);
        let replace = split(&block.replace);
        let Some(lines) = &self.lines else {
            if !search.is_empty() {
                return Err(ProblemKind::NoFile);
            }
            self.lines = Some(replace.iter().map(|l| self.ended(l)).collect());
            self.trailing_newline = true;
            return Ok(Edit::Changed);
        };
        let bare_lines: Vec<&str> = lines.iter().map(|l| bare(l)).collect();

        if search.is_empty() {
            if bare_lines.iter().all(|l| l.trim().is_empty()) {
                // An empty file (or only blank lines) is filled, as if it were new.
                let filled = replace.iter().map(|l| self.ended(l)).collect();
                self.lines = Some(filled);
                self.trailing_newline = true;
                return Ok(Edit::Changed);
            }
            return if same_text(&bare_lines, &replace) {
                Ok(Edit::AlreadyApplied)
            } else {
                Err(ProblemKind::Exists)
            };
        }

        let (found, search, replace) = match matching::find(&bare_lines, &search) {
            Found::Nowhere => {
                // Models add blank lines around what they quote; try without them.
                let (s, r) = (trim_blank(&search), trim_blank(&replace));
                if !s.is_empty() && s.len() < search.len() {
                    (matching::find(&bare_lines, s), s, r)
                } else {
                    (Found::Nowhere, search.as_slice(), replace.as_slice())
                }
            }
            found => (found, search.as_slice(), replace.as_slice()),
        };
        match found {
            Found::Once { start, indent } => {
                let new: Vec<Cow<'a, str>> = matching::reindent(replace, &indent)
                    .into_iter()
                    .map(|l| self.ended(&l))
                    .collect();
                if let Some(lines) = &mut self.lines {
                    lines.splice(start..start + search.len(), new);
                }
                Ok(Edit::Changed)
            }
            Found::Many(starts) => Err(ProblemKind::Ambiguous {
                lines: starts.iter().map(|s| s + 1).collect(),
            }),
            Found::Nowhere => {
                // Only a replacement with words in it, found in one place, shows the edit
                // was made: a lone `}` is everywhere.
                let replace_present = replace.iter().any(|l| l.chars().any(char::is_alphanumeric))
                    && matches!(matching::find(&bare_lines, replace), Found::Once { .. });
                if replace_present {
                    Ok(Edit::AlreadyApplied)
                } else {
                    Err(ProblemKind::NoMatch {
                        closest: matching::closest(&bare_lines, search),
                    })
                }
            }
        }
    }

    /// The file's text, `None` while it does not exist.
    fn content(&self) -> Option<String> {
        let lines = self.lines.as_ref()?;
        let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for (i, line) in lines.iter().enumerate() {
            let last = i + 1 == lines.len();
            if last && !self.trailing_newline {
                out.push_str(bare(line));
            } else if line.ends_with('\n') {
                out.push_str(line);
            } else {
                out.push_str(line);
                out.push_str(self.eol);
            }
        }
        Some(out)
    }
}

/// Lines without the blank lines at either end.
fn trim_blank<'s, 'l>(lines: &'s [&'l str]) -> &'s [&'l str] {
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |i| i + 1);
    &lines[start..end]
}

/// Whether two texts are the same but for trailing whitespace and blank lines at the ends.
fn same_text(a: &[&str], b: &[&str]) -> bool {
    let (a, b) = (trim_blank(a), trim_blank(b));
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.trim_end() == y.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn none() -> Protected {
        Protected::new(&[]).unwrap()
    }

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        dir
    }

    fn read(dir: &tempfile::TempDir, path: &str) -> String {
        fs::read_to_string(dir.path().join(path)).unwrap()
    }

    fn block(path: &str, search: &str, replace: &str) -> String {
        format!("{path}\n```rust\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
    }

    fn kinds(rejected: &Rejected) -> Vec<ProblemKind> {
        rejected.problems.iter().map(|p| p.kind.clone()).collect()
    }

    const LIB: &str = "fn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n";

    #[test]
    fn exact_match_replaces_the_lines() {
        let dir = tree(&[("src/main.rs", LIB)]);
        let reply = block("src/main.rs", "    let x = 1;\n", "    let x = 2;\n");
        let applied = apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(
            applied,
            Applied {
                files: vec![AppliedFile {
                    path: "src/main.rs".to_string(),
                    created: false
                }],
                already_applied: 0,
                blocks: 1
            }
        );
        assert_eq!(
            read(&dir, "src/main.rs"),
            "fn main() {\n    let x = 2;\n    println!(\"{x}\");\n}\n"
        );
    }

    #[test]
    fn trailing_whitespace_is_ignored_when_nothing_matches_exactly() {
        let dir = tree(&[("a.rs", "fn a() {   \n    x();\t\n}\n")]);
        let reply = block("a.rs", "fn a() {\n    x();\n", "fn a() {\n    y();\n");
        apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(read(&dir, "a.rs"), "fn a() {\n    y();\n}\n");
    }

    #[test]
    fn indentation_offsets_reindent_the_replacement() {
        let dir = tree(&[(
            "a.py",
            "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n",
        )]);
        // Quoted without the class's indentation.
        let reply = block(
            "a.py",
            "def f(self):\n    return 1\n",
            "def f(self):\n    if self:\n        return 3\n    return 1\n",
        );
        apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(
            read(&dir, "a.py"),
            "class A:\n    def f(self):\n        if self:\n            return 3\n        return 1\n\n    def g(self):\n        return 2\n"
        );

        // Quoted with too much indentation.
        let dir = tree(&[("b.py", "def f():\n    return 1\n")]);
        let reply = block(
            "b.py",
            "    def f():\n        return 1\n",
            "    def f():\n        return 2\n",
        );
        apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(read(&dir, "b.py"), "def f():\n    return 2\n");
    }

    #[test]
    fn blank_lines_around_the_search_text_are_forgiven() {
        let dir = tree(&[("a.rs", "one\ntwo\nthree\n")]);
        let reply = block("a.rs", "\ntwo\n\n", "\n2\n\n");
        apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(read(&dir, "a.rs"), "one\n2\nthree\n");
    }

    #[test]
    fn a_block_already_applied_is_not_an_error() {
        let dir = tree(&[("src/main.rs", LIB)]);
        let reply = format!(
            "{}{}",
            block("src/main.rs", "    let x = 9;\n", "    let x = 1;\n"),
            block(
                "src/main.rs",
                "fn main() {\n",
                "fn main() {\n    // start\n"
            )
        );
        let applied = apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(applied.already_applied, 1);
        assert_eq!(applied.blocks, 2);
        assert_eq!(
            read(&dir, "src/main.rs"),
            "fn main() {\n    // start\n    let x = 1;\n    println!(\"{x}\");\n}\n"
        );

        // Everything already there: nothing written, nothing listed.
        let applied = apply(
            dir.path(),
            &block("src/main.rs", "    let x = 9;\n", "    let x = 1;\n"),
            &none(),
        )
        .unwrap();
        assert_eq!(applied.files, vec![]);
        assert_eq!(applied.already_applied, 1);
    }

    #[test]
    fn ambiguous_search_text_is_a_problem_with_its_lines() {
        let dir = tree(&[("a.rs", "fn a() {\n    x();\n}\nfn b() {\n    x();\n}\n")]);
        let rejected = apply(
            dir.path(),
            &block("a.rs", "    x();\n", "    y();\n"),
            &none(),
        )
        .unwrap_err();
        assert_eq!(
            kinds(&rejected),
            vec![ProblemKind::Ambiguous { lines: vec![2, 5] }]
        );
        assert_eq!(
            rejected.problems[0].to_string(),
            "block 1 (a.rs): the SEARCH text matches 2 times, at lines 2, 5"
        );
        assert_eq!(
            read(&dir, "a.rs"),
            "fn a() {\n    x();\n}\nfn b() {\n    x();\n}\n"
        );
    }

    #[test]
    fn no_match_reports_the_closest_lines() {
        let mut text = String::new();
        for i in 1..=50 {
            text.push_str(&format!("fn function_{i}() -> u32 {{ {i} }}\n"));
        }
        let dir = tree(&[("a.rs", &text)]);
        let reply = block(
            "a.rs",
            "fn function_30() -> u64 { 30 }\nfn function_31() -> u64 { 31 }\n",
            "x\n",
        );
        let rejected = apply(dir.path(), &reply, &none()).unwrap_err();
        assert_eq!(
            kinds(&rejected),
            vec![ProblemKind::NoMatch {
                closest: vec![
                    (30, "fn function_30() -> u32 { 30 }".to_string()),
                    (31, "fn function_31() -> u32 { 31 }".to_string()),
                ]
            }]
        );
        assert_eq!(rejected.problems[0].line, Some(3));
    }

    #[test]
    fn empty_search_creates_a_file_with_its_directories() {
        let dir = tree(&[]);
        let reply = block("new/deep/mod.rs", "", "pub fn f() {}\n");
        let applied = apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(
            applied.files,
            vec![AppliedFile {
                path: "new/deep/mod.rs".to_string(),
                created: true
            }]
        );
        assert_eq!(read(&dir, "new/deep/mod.rs"), "pub fn f() {}\n");
        // Again: the file is there with that content.
        let applied = apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(applied.already_applied, 1);
        assert!(applied.files.is_empty());
    }

    #[test]
    fn empty_search_on_an_existing_file_is_a_problem_unless_empty() {
        let dir = tree(&[("a.rs", "old\n"), ("empty.rs", "")]);
        let rejected = apply(dir.path(), &block("a.rs", "", "new\n"), &none()).unwrap_err();
        assert_eq!(kinds(&rejected), vec![ProblemKind::Exists]);
        assert_eq!(read(&dir, "a.rs"), "old\n");

        apply(dir.path(), &block("empty.rs", "", "filled\n"), &none()).unwrap();
        assert_eq!(read(&dir, "empty.rs"), "filled\n");
    }

    #[test]
    fn a_missing_file_with_search_text_is_a_problem() {
        let dir = tree(&[]);
        let rejected = apply(dir.path(), &block("nope.rs", "x\n", "y\n"), &none()).unwrap_err();
        assert_eq!(kinds(&rejected), vec![ProblemKind::NoFile]);
    }

    #[test]
    fn crlf_files_stay_crlf_and_crlf_replies_apply() {
        let dir = tree(&[("w.txt", "one\r\ntwo\r\nthree\r\n")]);
        let reply = block("w.txt", "two\n", "2\nand a half\n").replace('\n', "\r\n");
        apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(read(&dir, "w.txt"), "one\r\n2\r\nand a half\r\nthree\r\n");
    }

    #[test]
    fn a_missing_final_newline_stays_missing() {
        let dir = tree(&[("a.txt", "one\ntwo")]);
        apply(dir.path(), &block("a.txt", "two\n", "2\n3\n"), &none()).unwrap();
        assert_eq!(read(&dir, "a.txt"), "one\n2\n3");

        let dir = tree(&[("b.txt", "one\r\ntwo")]);
        apply(dir.path(), &block("b.txt", "two\n", ""), &none()).unwrap();
        assert_eq!(read(&dir, "b.txt"), "one");

        let dir = tree(&[("c.txt", "one\ntwo\n")]);
        apply(dir.path(), &block("c.txt", "one\n", "1\n"), &none()).unwrap();
        assert_eq!(read(&dir, "c.txt"), "1\ntwo\n");
    }

    #[test]
    fn blocks_apply_in_order_to_the_evolving_file() {
        let dir = tree(&[("a.rs", "a\nb\nc\n")]);
        let reply = format!(
            "{}{}\n<<<<<<< SEARCH\nB2\nc\n=======\nC\n>>>>>>> REPLACE\n",
            block("a.rs", "b\n", "B2\n"),
            "Then, in the same file:"
        );
        let applied = apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(applied.blocks, 2);
        assert_eq!(read(&dir, "a.rs"), "a\nC\n");
    }

    #[test]
    fn one_bad_block_writes_nothing() {
        let dir = tree(&[("a.rs", "a\n"), ("b.rs", "b\n")]);
        let reply = format!(
            "{}{}{}",
            block("a.rs", "a\n", "A\n"),
            block("new.rs", "", "n\n"),
            block("b.rs", "missing\n", "B\n"),
        );
        let rejected = apply(dir.path(), &reply, &none()).unwrap_err();
        assert_eq!(rejected.blocks, 3);
        assert_eq!(rejected.problems.len(), 1);
        assert_eq!(rejected.problems[0].block, Some(3));
        assert_eq!(read(&dir, "a.rs"), "a\n");
        assert!(!dir.path().join("new.rs").exists());
    }

    #[test]
    fn unterminated_blocks_reject_the_attempt_and_are_numbered_in_reply_order() {
        let dir = tree(&[("a.rs", "a\n")]);
        let reply = format!("{}b.rs\n<<<<<<< SEARCH\nx\n", block("a.rs", "a\n", "A\n"));
        let rejected = apply(dir.path(), &reply, &none()).unwrap_err();
        assert_eq!(
            rejected.problems,
            vec![Problem {
                block: Some(2),
                path: Some("b.rs".to_string()),
                line: Some(10),
                kind: ProblemKind::Parse(ParseProblemKind::MissingDivider),
            }]
        );
        assert_eq!(rejected.blocks, 2);
        assert_eq!(read(&dir, "a.rs"), "a\n");
    }

    #[test]
    fn no_blocks_and_other_formats() {
        let dir = tree(&[("a.rs", "a\n")]);
        let rejected = apply(dir.path(), "Looks good to me.", &none()).unwrap_err();
        assert_eq!(kinds(&rejected), vec![ProblemKind::NoBlocks]);
        let diff = "```diff\n--- a/a.rs\n+++ b/a.rs\n@@ -1 +1 @@\n-a\n+A\n```\n";
        let rejected = apply(dir.path(), diff, &none()).unwrap_err();
        assert_eq!(
            kinds(&rejected),
            vec![ProblemKind::OtherFormat(Format::UnifiedDiff)]
        );
        assert_eq!(rejected.blocks, 0);
    }

    #[test]
    fn refused_paths() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("victim.txt"), "safe\n").unwrap();
        let dir = tree(&[
            ("bin.dat", "a\0b\n"),
            ("latin1.txt", ""),
            ("Cargo.lock", "x\n"),
        ]);
        fs::write(dir.path().join("latin1.txt"), b"caf\xe9\n").unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join(".git/config"), "[core]\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        let protected = Protected::new(&["*.lock".to_string()]).unwrap();
        let cases = [
            ("/etc/passwd", Refusal::Absolute),
            ("../x.txt", Refusal::ParentDir),
            (".git/config", Refusal::GitDir),
            ("out/victim.txt", Refusal::SymlinkOutside),
            ("bin.dat", Refusal::Binary),
            ("latin1.txt", Refusal::Binary),
            (
                "Cargo.lock",
                Refusal::Protected {
                    glob: "*.lock".to_string(),
                },
            ),
        ];
        for (path, refusal) in cases {
            let rejected = apply(dir.path(), &block(path, "a\n", "b\n"), &protected).unwrap_err();
            assert_eq!(
                kinds(&rejected),
                vec![ProblemKind::Refused(refusal)],
                "{path}"
            );
        }
        // Creating through the symlink is refused too, and nothing appears outside.
        let rejected = apply(dir.path(), &block("out/new.txt", "", "x\n"), &protected).unwrap_err();
        assert_eq!(
            kinds(&rejected),
            vec![ProblemKind::Refused(Refusal::SymlinkOutside)]
        );
        assert!(!outside.path().join("new.txt").exists());
        assert_eq!(
            fs::read_to_string(outside.path().join("victim.txt")).unwrap(),
            "safe\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join(".git/config")).unwrap(),
            "[core]\n"
        );
    }

    #[test]
    fn an_executable_stays_executable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tree(&[("run.sh", "#!/bin/sh\necho a\n")]);
        let script = dir.path().join("run.sh");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        apply(
            dir.path(),
            &block("run.sh", "echo a\n", "echo b\n"),
            &none(),
        )
        .unwrap();
        assert_eq!(read(&dir, "run.sh"), "#!/bin/sh\necho b\n");
        let mode = fs::metadata(&script).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        // No temporary file is left behind.
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["run.sh".to_string()]);
    }

    #[test]
    fn a_lone_brace_does_not_count_as_already_applied() {
        let dir = tree(&[("a.rs", "fn a() {\n}\n")]);
        let rejected = apply(
            dir.path(),
            &block("a.rs", "    gone();\n}\n", "}\n"),
            &none(),
        )
        .unwrap_err();
        assert!(matches!(
            rejected.problems[0].kind,
            ProblemKind::NoMatch { .. }
        ));
    }

    #[test]
    fn a_file_in_place_of_a_directory_is_found_before_writing() {
        let dir = tree(&[("a.rs", "a\n"), ("plain", "not a dir\n")]);
        let reply = format!(
            "{}{}",
            block("a.rs", "a\n", "A\n"),
            block("plain/x.rs", "", "x\n")
        );
        let rejected = apply(dir.path(), &reply, &none()).unwrap_err();
        assert!(matches!(rejected.problems[0].kind, ProblemKind::Io { .. }));
        assert_eq!(read(&dir, "a.rs"), "a\n");
    }

    #[test]
    fn twenty_blocks_on_ten_thousand_lines_apply() {
        let text: String = (0..10_000)
            .map(|i| format!("    let v{i} = f({i});\n"))
            .collect();
        let dir = tree(&[("big.rs", &text)]);
        let reply: String = (0..20)
            .map(|b| {
                let i = b * 499;
                block(
                    "big.rs",
                    &format!("    let v{i} = f({i});\n"),
                    &format!("    let v{i} = g({i});\n"),
                )
            })
            .collect();
        // How fast is measured by the benchmark (`cargo bench --bench impl_stage`).
        let applied = apply(dir.path(), &reply, &none()).unwrap();
        assert_eq!(applied.files.len(), 1);
        assert!(read(&dir, "big.rs").contains("    let v9481 = g(9481);\n"));
    }

    #[test]
    fn no_match_on_a_large_file_shows_the_closest_lines() {
        let text: String = (0..10_000)
            .map(|i| format!("    let value_{i} = compute(alpha, beta, {i});\n"))
            .collect();
        let dir = tree(&[("big.rs", &text)]);
        let search: String = (5000..5020)
            .map(|i| format!("    let value_{i} = compute(alpha, gamma, {i});\n"))
            .collect();
        let rejected = apply(dir.path(), &block("big.rs", &search, "x\n"), &none()).unwrap_err();
        let ProblemKind::NoMatch { closest } = &rejected.problems[0].kind else {
            panic!("{rejected:?}");
        };
        assert_eq!(closest.first().map(|c| c.0), Some(5001));
        assert_eq!(closest.len(), 20);
    }
}
