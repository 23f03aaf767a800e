//! Reading SEARCH/REPLACE blocks out of a model's reply. Models wrap blocks in code fences,
//! decorate the file name, answer with CRLF, and quote conflict markers inside code; all of
//! that is read. One pass over the lines, so a reply of megabytes parses in linear time.
//!
//! A block's path is the line just before its `<<<<<<< SEARCH` marker, or, when that line
//! opens a code fence, the fence line itself or the line before it (through at most a few
//! fence lines). Which lines are paths is `names.rs`'s to say: decorated ones
//! (`` `x.rs` ``, `### x.rs`, `File: x.rs`, `// x.rs` inside the fence), names without a dot
//! (`Makefile`, `LICENSE`), and any line that is a file of the work tree (`parse_with`).
//!
//! A block with no path of its own edits the previous block's file only when nothing that
//! could name another file stands between them (from the previous block's
//! `>>>>>>> REPLACE` to this block's `<<<<<<< SEARCH`): a line that is a path other than the
//! previous one, a word that might be a name (`Makefile2`, `` `greet` ``), or a sentence
//! ending with a file name (`Now the LICENSE:`). With such a line there, the block is a [`ParseProblemKind::AmbiguousPath`] naming the line, never a
//! guess. The first block takes no path from anywhere: without its own it is a
//! [`ParseProblemKind::AmbiguousPath`] when a line might name its file, a
//! [`ParseProblemKind::MissingPath`] otherwise.

use std::fmt;

use super::names::{self, Name};

/// One SEARCH/REPLACE block as the model wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditBlock {
    /// The path as written (after removing decoration), not yet checked.
    pub path: String,
    /// The lines to find, joined with `\n`, no final newline; empty to create a file.
    pub search: String,
    /// The lines to put in their place, joined with `\n`, no final newline.
    pub replace: String,
    /// The reply's line (1-based) holding the block's `<<<<<<< SEARCH` marker.
    pub line: usize,
}

/// What the parser made of a reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub blocks: Vec<EditBlock>,
    pub problems: Vec<ParseProblem>,
    /// Set when the reply has no blocks and looks like another way of writing edits.
    pub other_format: Option<Format>,
}

/// A block that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseProblem {
    /// The reply's line (1-based) of the block's `<<<<<<< SEARCH` marker.
    pub line: usize,
    /// The path the block would have edited, when known.
    pub path: Option<String>,
    pub kind: ParseProblemKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseProblemKind {
    /// No `=======` line between SEARCH and REPLACE.
    MissingDivider,
    /// No `>>>>>>> REPLACE` line ends the block.
    MissingReplace,
    /// No file name before the block, and no earlier block to take it from.
    MissingPath,
    /// No file name just before the block, and a line since the previous block (or the
    /// reply's start) that might name its file, so neither that line nor the previous block's
    /// path is taken: the reply's `line` (1-based) and its `text` (shortened when long).
    AmbiguousPath { line: usize, text: String },
}

impl fmt::Display for ParseProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseProblemKind::MissingDivider => {
                write!(
                    f,
                    "the block has no `=======` line between SEARCH and REPLACE"
                )
            }
            ParseProblemKind::MissingReplace => {
                write!(f, "the block is not ended by a `>>>>>>> REPLACE` line")
            }
            ParseProblemKind::MissingPath => {
                write!(f, "no file path comes before the block")
            }
            ParseProblemKind::AmbiguousPath { line, text } => write!(
                f,
                "no file path comes just before the block, and line {line} (`{text}`) might \
                 name its file"
            ),
        }
    }
}

/// Ways of writing edits other than SEARCH/REPLACE blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `--- a/x`, `+++ b/x`, `@@ -1,2 +1,3 @@`.
    UnifiedDiff,
    /// Whole files in code fences.
    WholeFiles,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::UnifiedDiff => write!(f, "a unified diff"),
            Format::WholeFiles => write!(f, "whole files in code fences"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    Search,
    Divider,
    Replace,
}

/// The marker on `line`, if it is one: 5 to 9 `<`, `=` or `>`, and the word for the first
/// and last (`<<<<<<< HEAD` is content, not a marker).
fn marker(line: &str) -> Option<Marker> {
    let line = line.trim();
    let first = line.chars().next()?;
    if !matches!(first, '<' | '=' | '>') {
        return None;
    }
    let count = line.chars().take_while(|&c| c == first).count();
    if !(5..=9).contains(&count) {
        return None;
    }
    let rest = line[count..].trim();
    match first {
        '=' if rest.is_empty() => Some(Marker::Divider),
        '<' if rest.trim_end_matches('>').eq_ignore_ascii_case("SEARCH") => Some(Marker::Search),
        '>' if rest.trim_end_matches('>').eq_ignore_ascii_case("REPLACE") => Some(Marker::Replace),
        _ => None,
    }
}

/// A block's path, or why it has none.
type BlockPath = Result<String, ParseProblemKind>;

enum State<'a> {
    Outside,
    Search {
        line: usize,
        path: BlockPath,
        search: Vec<&'a str>,
    },
    Replace {
        line: usize,
        path: BlockPath,
        search: Vec<&'a str>,
        replace: Vec<&'a str>,
    },
}

/// How many non-blank lines before a marker are looked at for its path: the path line, and
/// fence lines between it and the marker.
const LOOK_BACK: usize = 4;

/// The longest line text a problem quotes.
const QUOTED: usize = 100;

/// The last [`LOOK_BACK`] non-blank lines outside blocks since the previous block.
#[derive(Default)]
struct Recent<'a> {
    lines: [&'a str; LOOK_BACK],
    len: usize,
}

impl<'a> Recent<'a> {
    fn push(&mut self, line: &'a str) {
        if self.len == LOOK_BACK {
            self.lines.rotate_left(1);
            self.len -= 1;
        }
        self.lines[self.len] = line;
        self.len += 1;
    }

    fn newest_first(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.lines[..self.len].iter().rev().copied()
    }
}

/// The blocks of `reply`, and the blocks that could not be read, for a caller with no work
/// tree: only decorated, known and dotted names are paths.
pub fn parse(reply: &str) -> Parsed {
    parse_with(reply, &|_| false)
}

/// The blocks of `reply`, and the blocks that could not be read; `exists` tells whether a
/// relative path is a file of the work tree, so that a line naming one is read as its path
/// whatever its shape.
pub fn parse_with(reply: &str, exists: &dyn Fn(&str) -> bool) -> Parsed {
    let mut parsed = Parsed::default();
    let mut state = State::Outside;
    let mut recent = Recent::default();
    let mut last_path: Option<String> = None;
    // Since the previous block (or the reply's start): the last line that might name a file
    // other than the previous block's, with its number.
    let mut stray: Option<(usize, &str)> = None;

    for (index, raw) in reply.split('\n').enumerate() {
        let number = index + 1;
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        let mark = marker(text);
        state = match state {
            State::Outside => match mark {
                Some(Marker::Search) => {
                    let path = match path_before(recent.newest_first(), exists) {
                        Some(path) => Ok(path),
                        None => match stray {
                            Some((line, text)) => Err(ParseProblemKind::AmbiguousPath {
                                line,
                                text: quoted(text),
                            }),
                            None => last_path.clone().ok_or(ParseProblemKind::MissingPath),
                        },
                    };
                    recent = Recent::default();
                    stray = None;
                    State::Search {
                        line: number,
                        path,
                        search: Vec::new(),
                    }
                }
                _ => {
                    if !text.trim().is_empty() {
                        recent.push(text);
                        match names::line_name(text, exists) {
                            Name::Path(name) | Name::Maybe(name)
                                if last_path.as_deref() != Some(name.as_str()) =>
                            {
                                stray = Some((number, text.trim()));
                            }
                            _ => {}
                        }
                    }
                    State::Outside
                }
            },
            State::Search {
                line,
                path,
                mut search,
            } => match mark {
                Some(Marker::Divider) => State::Replace {
                    line,
                    path,
                    search,
                    replace: Vec::new(),
                },
                Some(Marker::Search) => {
                    problem(&mut parsed, line, &path, ParseProblemKind::MissingDivider);
                    State::Search {
                        line: number,
                        path: recovered(tail(&search), path, &last_path, exists),
                        search: Vec::new(),
                    }
                }
                Some(Marker::Replace) => {
                    problem(&mut parsed, line, &path, ParseProblemKind::MissingDivider);
                    if let Ok(path) = path {
                        last_path = Some(path);
                    }
                    State::Outside
                }
                None => {
                    search.push(text);
                    State::Search { line, path, search }
                }
            },
            State::Replace {
                line,
                path,
                search,
                mut replace,
            } => match mark {
                Some(Marker::Replace) => {
                    match path {
                        Ok(path) => {
                            // A SEARCH of blank lines quotes nothing: it creates a file.
                            let search = if search.iter().all(|l| l.trim().is_empty()) {
                                String::new()
                            } else {
                                search.join("\n")
                            };
                            parsed.blocks.push(EditBlock {
                                path: path.clone(),
                                search,
                                replace: replace.join("\n"),
                                line,
                            });
                            last_path = Some(path);
                        }
                        Err(kind) => {
                            parsed.problems.push(ParseProblem {
                                line,
                                path: None,
                                kind,
                            });
                            // Which file this block was for is not known, so neither is the
                            // file of a block after it without a path.
                            last_path = None;
                        }
                    }
                    State::Outside
                }
                Some(Marker::Search) => {
                    problem(&mut parsed, line, &path, ParseProblemKind::MissingReplace);
                    State::Search {
                        line: number,
                        path: recovered(tail(&replace), path, &last_path, exists),
                        search: Vec::new(),
                    }
                }
                _ => {
                    replace.push(text);
                    State::Replace {
                        line,
                        path,
                        search,
                        replace,
                    }
                }
            },
        };
    }
    match state {
        State::Outside => {}
        State::Search { line, path, .. } => {
            problem(&mut parsed, line, &path, ParseProblemKind::MissingDivider)
        }
        State::Replace { line, path, .. } => {
            problem(&mut parsed, line, &path, ParseProblemKind::MissingReplace)
        }
    }
    if parsed.blocks.is_empty() && parsed.problems.is_empty() {
        parsed.other_format = other_format(reply);
    }
    parsed
}

fn problem(parsed: &mut Parsed, line: usize, path: &BlockPath, kind: ParseProblemKind) {
    parsed.problems.push(ParseProblem {
        line,
        path: path.as_ref().ok().cloned(),
        kind,
    });
}

/// `text`, cut to [`QUOTED`] characters.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// The file name for a block from the non-blank lines before its marker, newest first: the
/// line just before, or a fence line naming it, or the line before the fence lines.
fn path_before<'a>(
    newest_first: impl Iterator<Item = &'a str>,
    exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    for line in newest_first.take(LOOK_BACK) {
        let name = names::line_name(line, exists);
        if let Name::Path(path) = name {
            return Some(path);
        }
        if !names::is_fence(line) {
            return None;
        }
    }
    None
}

/// The path of a block that starts inside an unfinished one: its own, found among the
/// unfinished block's last lines, or else the unfinished block's, or the previous block's.
/// The reply is rejected for the unfinished block anyway; this only keeps the reading of the
/// blocks after it right.
fn recovered(
    tail: Vec<&str>,
    unfinished: BlockPath,
    last_path: &Option<String>,
    exists: &dyn Fn(&str) -> bool,
) -> BlockPath {
    path_before(tail.into_iter(), exists)
        .or(unfinished.ok())
        .or_else(|| last_path.clone())
        .ok_or(ParseProblemKind::MissingPath)
}

/// The last [`LOOK_BACK`] non-blank lines of an unfinished block, newest first, where the
/// next block's file name is when the model forgot to end it.
fn tail<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    lines
        .iter()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .take(LOOK_BACK)
        .copied()
        .collect()
}

/// Which other edit format a reply without blocks is written in, if any.
fn other_format(reply: &str) -> Option<Format> {
    let mut minus = false;
    let mut plus = false;
    let mut hunk = false;
    let mut diff_git = false;
    let mut fences = 0usize;
    for raw in reply.lines() {
        let line = raw.trim_end_matches('\r');
        if line.starts_with("--- ") {
            minus = true;
        } else if line.starts_with("+++ ") {
            plus = true;
        } else if line.starts_with("@@ ") && line[3..].contains("@@") {
            hunk = true;
        } else if line.starts_with("diff --git ") {
            diff_git = true;
        } else if names::is_fence(line) {
            fences += 1;
        }
    }
    if diff_git || (hunk && (minus || plus)) {
        Some(Format::UnifiedDiff)
    } else if fences >= 2 {
        Some(Format::WholeFiles)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(path: &str, search: &str, replace: &str, line: usize) -> EditBlock {
        EditBlock {
            path: path.to_string(),
            search: search.to_string(),
            replace: replace.to_string(),
            line,
        }
    }

    #[test]
    fn a_plain_block() {
        let reply = "src/lib.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn b() {}\n>>>>>>> REPLACE\n";
        let parsed = parse(reply);
        assert_eq!(
            parsed.blocks,
            vec![block("src/lib.rs", "fn a() {}", "fn b() {}", 2)]
        );
        assert!(parsed.problems.is_empty());
        assert_eq!(parsed.other_format, None);
    }

    #[test]
    fn a_search_of_blank_lines_is_empty() {
        let parsed = parse("new.rs\n<<<<<<< SEARCH\n\n  \n=======\nfn a() {}\n>>>>>>> REPLACE\n");
        assert_eq!(parsed.blocks, vec![block("new.rs", "", "fn a() {}", 2)]);
    }

    #[test]
    fn fenced_blocks_with_names_before_the_fence_or_on_it() {
        let reply = "Here you go.\n\nsrc/a.rs\n```rust\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n\n\
                     ```rust src/b.rs\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n\
                     ```\nsrc/c.rs\n<<<<<<< SEARCH\n=======\nz\n>>>>>>> REPLACE\n```\n";
        let parsed = parse(reply);
        assert_eq!(
            parsed.blocks,
            vec![
                block("src/a.rs", "old", "new", 5),
                block("src/b.rs", "x", "y", 13),
                block("src/c.rs", "", "z", 21),
            ]
        );
        assert!(parsed.problems.is_empty());
    }

    #[test]
    fn decorated_file_names() {
        for (line, want) in [
            ("`src/x.rs`", "src/x.rs"),
            ("### src/x.rs", "src/x.rs"),
            ("**src/x.rs**", "src/x.rs"),
            ("**`src/x.rs`**", "src/x.rs"),
            ("File: src/x.rs", "src/x.rs"),
            ("### File: `src/x.rs`", "src/x.rs"),
            ("src/x.rs:", "src/x.rs"),
            ("Makefile.am", "Makefile.am"),
        ] {
            let reply =
                format!("{line}\n```rust\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n");
            let parsed = parse(&reply);
            assert_eq!(parsed.blocks.len(), 1, "{line}");
            assert_eq!(parsed.blocks[0].path, want, "{line}");
        }
    }

    #[test]
    fn prose_and_languages_are_not_file_names() {
        for before in ["Here is the change:", "Changes", "```rust", "rust\n```"] {
            let parsed = parse(&format!(
                "{before}\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
            ));
            assert_eq!(
                parsed.problems[0].kind,
                ParseProblemKind::MissingPath,
                "{before}"
            );
        }
    }

    #[test]
    fn crlf_replies() {
        let reply = "src/lib.rs\r\n```rust\r\n<<<<<<< SEARCH\r\nfn a() {}\r\n    x();\r\n=======\r\nfn b() {}\r\n>>>>>>> REPLACE\r\n```\r\n";
        let parsed = parse(reply);
        assert_eq!(
            parsed.blocks,
            vec![block("src/lib.rs", "fn a() {}\n    x();", "fn b() {}", 3)]
        );
    }

    #[test]
    fn a_block_without_a_name_takes_the_previous_one() {
        let reply = "src/a.rs\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n\nAnd then:\n<<<<<<< SEARCH\n3\n=======\n4\n>>>>>>> REPLACE\n";
        let parsed = parse(reply);
        assert_eq!(
            parsed.blocks,
            vec![
                block("src/a.rs", "1", "2", 2),
                block("src/a.rs", "3", "4", 9)
            ]
        );
    }

    #[test]
    fn conflict_like_lines_inside_code_are_content() {
        let reply = "notes.md\n<<<<<<< SEARCH\n<<<<<<< HEAD\nours\n=======\n<<<<<<< HEAD\ntheirs\n=======\n>>>>>>> branch\n>>>>>>> REPLACE\n";
        let parsed = parse(reply);
        assert_eq!(
            parsed.blocks,
            vec![block(
                "notes.md",
                "<<<<<<< HEAD\nours",
                "<<<<<<< HEAD\ntheirs\n=======\n>>>>>>> branch",
                2
            )]
        );
        assert!(parsed.problems.is_empty());
    }

    #[test]
    fn unterminated_blocks_are_problems_with_their_line() {
        let parsed = parse("a.rs\n<<<<<<< SEARCH\nx\n=======\ny\n");
        assert!(parsed.blocks.is_empty());
        assert_eq!(
            parsed.problems,
            vec![ParseProblem {
                line: 2,
                path: Some("a.rs".to_string()),
                kind: ParseProblemKind::MissingReplace
            }]
        );

        let parsed = parse(
            "a.rs\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\nb.rs\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n",
        );
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].kind, ParseProblemKind::MissingDivider);
        assert_eq!(parsed.problems[0].line, 2);
        assert_eq!(parsed.blocks, vec![block("b.rs", "1", "2", 6)]);

        let parsed = parse(
            "a.rs\n<<<<<<< SEARCH\nx\n=======\ny\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n",
        );
        assert_eq!(parsed.problems[0].kind, ParseProblemKind::MissingReplace);
        assert_eq!(parsed.blocks, vec![block("a.rs", "1", "2", 6)]);

        // The next block's own file name, inside the unfinished block, is still read.
        let parsed = parse(
            "a.rs\n<<<<<<< SEARCH\nx\n=======\ny\n\nb.rs\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n",
        );
        assert_eq!(parsed.problems[0].path.as_deref(), Some("a.rs"));
        assert_eq!(parsed.blocks, vec![block("b.rs", "1", "2", 8)]);

        let parsed = parse("<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n");
        assert_eq!(parsed.problems[0].kind, ParseProblemKind::MissingPath);
        assert_eq!(parsed.problems[0].line, 1);
    }

    #[test]
    fn other_formats_are_recognised() {
        let diff = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,2 @@\n-fn a() {}\n+fn b() {}\n";
        assert_eq!(parse(diff).other_format, Some(Format::UnifiedDiff));
        let whole = "src/lib.rs\n```rust\nfn a() {}\n```\n";
        assert_eq!(parse(whole).other_format, Some(Format::WholeFiles));
        let prose = "I think the code is fine as it is.";
        let parsed = parse(prose);
        assert_eq!(parsed.other_format, None);
        assert!(parsed.blocks.is_empty() && parsed.problems.is_empty());
    }

    #[test]
    fn two_megabytes_parse() {
        let mut reply = String::new();
        let mut n = 0;
        while reply.len() < 2_000_000 {
            reply.push_str(&format!(
                "src/f{n}.rs\n```rust\n<<<<<<< SEARCH\nfn f{n}() {{\n    old();\n}}\n=======\nfn f{n}() {{\n    new();\n}}\n>>>>>>> REPLACE\n```\n\n"
            ));
            n += 1;
        }
        // One block with a huge body too.
        reply.push_str("big.txt\n<<<<<<< SEARCH\n=======\n");
        reply.push_str(&"line of text\n".repeat(100_000));
        reply.push_str(">>>>>>> REPLACE\n");
        let parsed = parse(&reply);
        assert_eq!(parsed.blocks.len(), n + 1);
        assert!(parsed.problems.is_empty());
    }
}
