//! Reading SEARCH/REPLACE blocks out of a model's reply. Models wrap blocks in code fences,
//! decorate the file name (`` `x.rs` ``, `### x.rs`, `**x.rs**`, `File: x.rs`, or on the
//! fence line), answer with CRLF, and quote conflict markers inside code; all of that is
//! read. One pass over the lines, so a reply of megabytes parses in linear time.

use std::fmt;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseProblemKind {
    /// No `=======` line between SEARCH and REPLACE.
    MissingDivider,
    /// No `>>>>>>> REPLACE` line ends the block.
    MissingReplace,
    /// No file name before the block, and no earlier block to take it from.
    MissingPath,
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

fn is_fence(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("```") || line.starts_with("~~~")
}

/// A path named on a fence line: ```` ```rust src/x.rs ```` or ```` ```src/x.rs ````.
fn fence_path(line: &str) -> Option<String> {
    let info = line.trim().trim_start_matches(['`', '~']);
    info.split_whitespace()
        .map(|token| token.trim_matches(['`', '"', '\'']))
        .find(|token| looks_like_path(token))
        .map(str::to_string)
}

/// The path a line names, once decoration is removed: `` `x.rs` ``, `### x.rs`,
/// `**x.rs**`, `File: x.rs`, `x.rs:`.
fn path_line(line: &str) -> Option<String> {
    let mut text = line.trim();
    text = text.trim_start_matches('#').trim();
    text = text.trim_start_matches(['-', '>']).trim();
    text = text.trim_matches('*').trim();
    for prefix in ["file:", "filename:", "path:", "file name:", "file path:"] {
        if text.len() >= prefix.len()
            && text.is_char_boundary(prefix.len())
            && text[..prefix.len()].eq_ignore_ascii_case(prefix)
        {
            text = text[prefix.len()..].trim();
            break;
        }
    }
    text = text.trim_matches('*').trim();
    let text = text
        .trim_end_matches(':')
        .trim_matches(['`', '"', '\''])
        .trim_end_matches(':')
        .trim();
    looks_like_path(text).then(|| text.to_string())
}

/// A single token of path characters with a `.` or a `/`, so that prose ("Changes:") and
/// fence languages ("rust") are not taken for file names.
fn looks_like_path(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 4096
        && (text.contains('.') || text.contains('/'))
        && text.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '.' | '/' | '_' | '-' | '+' | '@' | '\\' | ',')
        })
        && text.chars().any(|c| c.is_alphanumeric())
}

enum State<'a> {
    Outside,
    Search {
        line: usize,
        path: Option<String>,
        search: Vec<&'a str>,
    },
    Replace {
        line: usize,
        path: Option<String>,
        search: Vec<&'a str>,
        replace: Vec<&'a str>,
    },
}

/// The blocks of `reply`, and the blocks that could not be read.
pub fn parse(reply: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut state = State::Outside;
    // The last two non-blank lines outside blocks since the previous block: where the file
    // name of the next block is.
    let mut recent: [Option<&str>; 2] = [None, None];
    let mut last_path: Option<String> = None;

    for (index, raw) in reply.split('\n').enumerate() {
        let number = index + 1;
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        let mark = marker(text);
        state = match state {
            State::Outside => match mark {
                Some(Marker::Search) => {
                    let path = path_before(recent).or_else(|| last_path.clone());
                    recent = [None, None];
                    State::Search {
                        line: number,
                        path,
                        search: Vec::new(),
                    }
                }
                _ => {
                    if !text.trim().is_empty() {
                        recent = [recent[1], Some(text)];
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
                        path: path_before(tail(&search))
                            .or(path)
                            .or_else(|| last_path.clone()),
                        search: Vec::new(),
                    }
                }
                Some(Marker::Replace) => {
                    problem(&mut parsed, line, &path, ParseProblemKind::MissingDivider);
                    if path.is_some() {
                        last_path = path;
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
                        Some(path) => {
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
                        None => problem(&mut parsed, line, &None, ParseProblemKind::MissingPath),
                    }
                    State::Outside
                }
                Some(Marker::Search) => {
                    problem(&mut parsed, line, &path, ParseProblemKind::MissingReplace);
                    State::Search {
                        line: number,
                        path: path_before(tail(&replace))
                            .or(path)
                            .or_else(|| last_path.clone()),
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

fn problem(parsed: &mut Parsed, line: usize, path: &Option<String>, kind: ParseProblemKind) {
    parsed.problems.push(ParseProblem {
        line,
        path: path.clone(),
        kind,
    });
}

/// The file name for a block from the two lines before its marker: the line just before,
/// or a fence line naming it, or the line before that fence.
fn path_before(recent: [Option<&str>; 2]) -> Option<String> {
    let [earlier, last] = recent;
    let last = last?;
    if is_fence(last) {
        fence_path(last).or_else(|| earlier.and_then(path_line))
    } else {
        path_line(last)
    }
}

/// The last two non-blank lines of an unfinished block, where the next block's file name is
/// when the model forgot to end it.
fn tail<'a>(lines: &[&'a str]) -> [Option<&'a str>; 2] {
    let mut found = lines.iter().rev().filter(|l| !l.trim().is_empty()).copied();
    let last = found.next();
    let earlier = found.next();
    [earlier, last]
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
        } else if is_fence(line) {
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
        assert_eq!(path_line("Here is the change:"), None);
        assert_eq!(path_line("Changes"), None);
        assert_eq!(fence_path("```rust"), None);
        assert_eq!(fence_path("```rust src/x.rs"), Some("src/x.rs".to_string()));
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
