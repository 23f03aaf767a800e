//! Which lines of a reply name a file. A line outside the blocks is one of three things:
//!
//! - **a path**: once its decoration is removed, the line is a whole path that exists in the
//!   work tree (spaces and all), or a single word of path characters with a `/` or an
//!   extension (`src/a.rs`, `.gitignore`, `./run`), or one of the [`KNOWN_NAMES`] without
//!   either (`Makefile`, `LICENSE`, `Dockerfile`), or a name in backticks or quotes with a
//!   `/` or an extension (`` `docs/my notes.md` ``);
//! - **maybe a name**: a single word of path characters that is not a path but looks made
//!   up rather than written — it has a digit, a `_` or `-`, a capital after its first letter
//!   or the letters `file` (`Makefile2`, `run_all`, `TODO`) — or any single word in backticks
//!   or quotes; and a sentence whose last word is a path (`Now the LICENSE:`). Such a line is
//!   never taken as a block's path, but it keeps a block without a path of its own from
//!   taking the previous block's;
//! - **nothing**: prose (`Here is the change:`, anything with a space that is not an
//!   existing path), plain words (`Changes`, `rust`, `python`), punctuation (`...`).
//!
//! So a new file whose name has no dot and no slash and is not a known name is written
//! `./name`.
//!
//! The decoration removed: Markdown headings, quotes, bullets and numbers (`### x`,
//! `> x`, `- x`, `1. x`), emphasis (`**x**`), a label (`File: x`, `# file: x`,
//! ``Filename: `x` ``, `*** Update File: x`), a comment marker (`// x.rs`, `-- x.sql`,
//! `/* x.css */`, `<!-- x.html -->`), a final `:`, and a description after the name
//! (`` `src/a.rs` (new file) ``, `src/a.rs (new file)`, `Makefile - add a target`). Then a
//! leading `./` goes, and a path written with backslashes only (`src\a.rs`) gets slashes (but a
//! Markdown-escaped `\_` alone is a `_`). A
//! fence line (```` ```rust src/a.rs ````) names a file with a later word of its info
//! string; its first word is the language unless it has a `/` or an extension
//! (```` ```src/a.rs ````, ```` ```python:src/a.py ````).

/// Names of files that have neither a dot nor a slash, as they are usually spelled: a line
/// holding one of them is a path. Case matters: `Changes` is a heading, `CHANGES` a file.
pub const KNOWN_NAMES: &[&str] = &[
    "AUTHORS",
    "Berksfile",
    "Brewfile",
    "BUILD",
    "Caddyfile",
    "Capfile",
    "CHANGELOG",
    "CHANGES",
    "CODEOWNERS",
    "Containerfile",
    "CONTRIBUTING",
    "CONTRIBUTORS",
    "COPYING",
    "Dangerfile",
    "Dockerfile",
    "Earthfile",
    "Fastfile",
    "Gemfile",
    "GNUmakefile",
    "Guardfile",
    "HACKING",
    "INSTALL",
    "Jenkinsfile",
    "Justfile",
    "justfile",
    "Kbuild",
    "Kconfig",
    "LICENCE",
    "LICENSE",
    "MAINTAINERS",
    "Makefile",
    "makefile",
    "NEWS",
    "NOTICE",
    "OWNERS",
    "PATENTS",
    "Pipfile",
    "Podfile",
    "Procfile",
    "Rakefile",
    "README",
    "SECURITY",
    "Snakefile",
    "Tiltfile",
    "Vagrantfile",
    "VERSION",
    "WORKSPACE",
];

/// The longest line read as a path.
const MAX_PATH: usize = 4096;

/// What a line says about a file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Name {
    /// Clearly a file name: the path, with `./` and backslashes normalised.
    Path(String),
    /// Could be a file name, but is not clearly one.
    Maybe(String),
    /// Not a file name.
    None,
}

/// What `line` (outside any block, without its line ending) says about a file name;
/// `exists` tells whether a relative path is a file of the work tree.
pub fn line_name(line: &str, exists: &dyn Fn(&str) -> bool) -> Name {
    if is_fence(line) {
        return fence_name(line, exists);
    }
    let Some(written) = undecorated(line) else {
        return Name::None;
    };
    let name = judge(written.text, written.quoted, exists);
    if name != Name::None || written.quoted {
        return name;
    }
    // `src/a.rs (new file)`, `Makefile - add a target`: a clear path, then a description.
    let mut words = written.text.splitn(2, char::is_whitespace);
    if let (Some(first), Some(rest)) = (words.next(), words.next().map(str::trim_start))
        && rest.starts_with(['(', '-', '\u{2013}', '\u{2014}'])
        && let path @ Name::Path(_) = judge(first.trim_end_matches(':'), false, exists)
    {
        return path;
    }
    // `Now the LICENSE:`: a sentence ending with a path might be naming the next block's file.
    let last = written
        .text
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or_default()
        .trim_end_matches(['.', ':', ',', ';', '!', '?'])
        .trim_matches(['`', '"', '\'', '*']);
    match judge(last, false, exists) {
        Name::Path(path) if last.len() < written.text.len() => Name::Maybe(path),
        _ => Name::None,
    }
}

/// Whether `line` opens or closes a code fence.
pub fn is_fence(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("```") || line.starts_with("~~~")
}

/// The file a fence line names with its info string: ```` ```rust src/x.rs ````,
/// ```` ```src/x.rs ````, ```` ```python:src/x.py ````, ```` ```rust title="src/x.rs" ````.
fn fence_name(line: &str, exists: &dyn Fn(&str) -> bool) -> Name {
    let info = line.trim().trim_start_matches(['`', '~']);
    let mut words = info.split_whitespace();
    let Some(first) = words.next() else {
        return Name::None;
    };
    // The first word is the language, or a path with a `/` or an extension.
    let (language, after_colon) = match first.split_once(':') {
        Some((language, path)) => (language, Some(path)),
        None => (first, None),
    };
    for word in std::iter::once(language).chain(after_colon) {
        let word = word.trim_matches(['`', '"', '\'']);
        if clearly_a_path(word)
            && let name @ Name::Path(_) = judge(word, false, exists)
        {
            return name;
        }
    }
    let mut maybe = Name::None;
    for word in words {
        let word = word.rsplit_once('=').map_or(word, |(_, value)| value);
        let word = word.trim_matches(['`', '"', '\'']);
        match judge(word, false, exists) {
            path @ Name::Path(_) => return path,
            found @ Name::Maybe(_) if maybe == Name::None => maybe = found,
            _ => {}
        }
    }
    maybe
}

/// A line's text without its decoration, and whether the name was in quotes.
struct Written<'a> {
    text: &'a str,
    quoted: bool,
}

fn undecorated(line: &str) -> Option<Written<'_>> {
    let mut text = line.trim();
    // Leading markers, in any number and order.
    loop {
        let before = text.len();
        text = strip_marker(text).trim_start();
        if text.len() == before {
            break;
        }
    }
    for end in ["*/", "-->"] {
        text = text.strip_suffix(end).unwrap_or(text).trim_end();
    }
    text = unemphasised(text);
    for label in [
        "file path:",
        "file name:",
        "filename:",
        "filepath:",
        "file:",
        "path:",
        "update file:",
        "add file:",
        "new file:",
        "create file:",
    ] {
        if let Some(rest) = strip_prefix_ignoring_case(text, label) {
            text = unemphasised(rest.trim());
            break;
        }
    }
    if let Some(quote) = text
        .chars()
        .next()
        .filter(|c| matches!(c, '`' | '"' | '\''))
    {
        let open = text.len() - text.trim_start_matches(quote).len();
        let inner_and_rest = &text[open..];
        let close = inner_and_rest.find(quote)?;
        let inner = inner_and_rest[..close].trim().trim_end_matches(':');
        let rest = inner_and_rest[close..]
            .trim_start_matches(quote)
            .trim_start_matches('*')
            .trim();
        // After the name: nothing, or a description (`: ...`, `(new file)`, `- ...`).
        let described =
            rest.is_empty() || rest.starts_with([':', '(', ',', '-', '\u{2013}', '\u{2014}']);
        return described.then_some(Written {
            text: inner,
            quoted: true,
        });
    }
    loop {
        let before = text.len();
        text = text.trim_end_matches([':', '*']).trim_end();
        if text.len() == before {
            break;
        }
    }
    Some(Written {
        text,
        quoted: false,
    })
}

/// `text` without one leading Markdown or comment marker, or `text` itself.
fn strip_marker(text: &str) -> &str {
    for comment in ["<!--", "//", "/*", "--", ";;"] {
        if let Some(rest) = text.strip_prefix(comment) {
            return rest;
        }
    }
    if text.starts_with('#') {
        return text.trim_start_matches('#');
    }
    if let Some(rest) = text.strip_prefix('>') {
        return rest;
    }
    // A bullet: `-`, `*` or `+` and a space (`**x**` is emphasis).
    for bullet in ['-', '*', '+'] {
        if let Some(rest) = text.strip_prefix(bullet)
            && rest.starts_with(char::is_whitespace)
        {
            return rest;
        }
    }
    // A numbered item: `1.` or `1)` and a space (`1.txt` is a name).
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 {
        let rest = &text[digits..];
        if let Some(rest) = rest.strip_prefix(['.', ')'])
            && rest.starts_with(char::is_whitespace)
        {
            return rest;
        }
    }
    text
}

/// `text` without emphasis around it: `**x**`, `*x*`, `__x__`.
fn unemphasised(text: &str) -> &str {
    let text = text.trim_matches('*').trim();
    match text.strip_prefix("__").and_then(|t| t.strip_suffix("__")) {
        Some(inner) if !inner.is_empty() => inner.trim(),
        _ => text,
    }
}

fn strip_prefix_ignoring_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The characters of a path written without quotes.
fn path_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            '.' | '/' | '\\' | '_' | '-' | '+' | '@' | ',' | '[' | ']'
        )
}

/// A single word of path characters with a `/` or an extension.
fn clearly_a_path(word: &str) -> bool {
    !word.is_empty()
        && word.chars().all(path_char)
        && (word.contains(['/', '\\']) || has_extension(word))
}

/// Whether the last component has an extension with a letter in it (`a.rs`, `.gitignore`,
/// `x.mp3`), so that `1.2`, `Done.` and `...` do not.
fn has_extension(path: &str) -> bool {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match base.rsplit_once('.') {
        Some((_, ext)) => {
            !ext.is_empty()
                && ext.chars().all(char::is_alphanumeric)
                && ext.chars().any(char::is_alphabetic)
        }
        None => false,
    }
}

/// What `text`, a candidate stripped of decoration, is.
fn judge(text: &str, quoted: bool, exists: &dyn Fn(&str) -> bool) -> Name {
    if text.is_empty()
        || text.len() > MAX_PATH
        || text.chars().any(char::is_control)
        || !text.chars().any(char::is_alphanumeric)
    {
        return Name::None;
    }
    let path = normalised(text);
    let word = text.chars().all(path_char);
    let spaced = quoted && text.chars().all(|c| path_char(c) || " ()'&!".contains(c));
    if !word && !spaced {
        // Prose, unless the whole line is a path of the tree.
        return if exists(&path) {
            Name::Path(path)
        } else {
            Name::None
        };
    }
    let base = path.rsplit('/').next().unwrap_or(&path);
    if text.contains(['/', '\\']) || has_extension(text) || KNOWN_NAMES.contains(&base) {
        return Name::Path(path);
    }
    if exists(&path) {
        return Name::Path(path);
    }
    if word && (quoted || made_up(text)) {
        Name::Maybe(path)
    } else {
        Name::None
    }
}

/// A word that looks like a name rather than a word of prose: a digit, `_` or `-` in it, a
/// capital after its first letter, or the letters `file`.
fn made_up(word: &str) -> bool {
    word.chars().any(char::is_alphabetic)
        && (word
            .chars()
            .any(|c| c.is_ascii_digit() || c == '_' || c == '-')
            || word.chars().skip(1).any(char::is_uppercase)
            || word.to_lowercase().contains("file"))
}

/// `./` removed; a path written with backslashes only gets slashes (`src\a.rs`), except a
/// Markdown-escaped `\_`, which is `_`.
fn normalised(text: &str) -> String {
    let mut path = if text.contains('/') {
        text.to_string()
    } else if text
        .match_indices('\\')
        .all(|(i, _)| text[i + 1..].starts_with('_'))
    {
        text.replace("\\_", "_")
    } else {
        text.replace('\\', "/")
    };
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> bool {
        false
    }

    fn path(p: &str) -> Name {
        Name::Path(p.to_string())
    }

    fn maybe(p: &str) -> Name {
        Name::Maybe(p.to_string())
    }

    #[test]
    fn lines_that_are_paths() {
        for (line, want) in [
            ("src/x.rs", "src/x.rs"),
            ("`src/x.rs`", "src/x.rs"),
            ("### src/x.rs", "src/x.rs"),
            ("**src/x.rs**", "src/x.rs"),
            ("**`src/x.rs`**", "src/x.rs"),
            ("**src/x.rs**:", "src/x.rs"),
            ("File: src/x.rs", "src/x.rs"),
            ("### File: `src/x.rs`", "src/x.rs"),
            ("**File:** `src/x.rs`", "src/x.rs"),
            ("# file: src/x.rs", "src/x.rs"),
            ("Filename: `src/x.rs`", "src/x.rs"),
            ("*** Update File: src/x.rs", "src/x.rs"),
            ("src/x.rs:", "src/x.rs"),
            ("// src/x.rs", "src/x.rs"),
            ("-- db/schema.sql", "db/schema.sql"),
            ("/* web/site.css */", "web/site.css"),
            ("<!-- web/index.html -->", "web/index.html"),
            ("`src/x.rs` (new file)", "src/x.rs"),
            ("src/x.rs (new file)", "src/x.rs"),
            ("**`src/x.rs`** (new file)", "src/x.rs"),
            ("`src/x.rs`: the parser", "src/x.rs"),
            ("Makefile - add a target", "Makefile"),
            ("1. `src/x.rs`", "src/x.rs"),
            ("2) src/x.rs", "src/x.rs"),
            ("- src/x.rs", "src/x.rs"),
            ("> src/x.rs", "src/x.rs"),
            ("src\\sub\\x.rs", "src/sub/x.rs"),
            ("./src/x.rs", "src/x.rs"),
            ("./run", "run"),
            ("my\\_module.py", "my_module.py"),
            ("Makefile.am", "Makefile.am"),
            (".gitignore", ".gitignore"),
            ("Makefile", "Makefile"),
            ("LICENSE", "LICENSE"),
            ("`Dockerfile`", "Dockerfile"),
            ("### Gemfile", "Gemfile"),
            ("`docs/my notes.md`", "docs/my notes.md"),
            ("\"docs/my notes.md\"", "docs/my notes.md"),
            ("app/[id]/page.tsx", "app/[id]/page.tsx"),
            ("```rust src/x.rs", "src/x.rs"),
            ("```src/x.rs", "src/x.rs"),
            ("```python:src/x.py", "src/x.py"),
            ("```rust title=\"src/x.rs\"", "src/x.rs"),
            ("```text LICENSE", "LICENSE"),
        ] {
            assert_eq!(line_name(line, &none), path(want), "{line}");
        }
    }

    #[test]
    fn lines_that_exist_in_the_tree_are_paths() {
        let exists = |p: &str| ["docs/my notes.md", "greet", "my notes.md"].contains(&p);
        assert_eq!(
            line_name("docs/my notes.md", &exists),
            path("docs/my notes.md")
        );
        assert_eq!(line_name("### my notes.md", &exists), path("my notes.md"));
        assert_eq!(line_name("greet", &exists), path("greet"));
        assert_eq!(line_name("greet", &none), Name::None);
        // Not in the tree, without quotes: the last word might be a name.
        assert_eq!(line_name("docs/my notes.md", &none), maybe("notes.md"));
    }

    #[test]
    fn lines_that_might_be_names() {
        for line in [
            "Makefile2",
            "run_all",
            "build-docs",
            "TODO",
            "MyScript",
            "Profile",
            "`greet`",
            "\"main\"",
            "```text Makefile2",
            "Now the LICENSE:",
            "Here is the new `src/x.rs`.",
        ] {
            assert!(matches!(line_name(line, &none), Name::Maybe(_)), "{line}");
        }
        assert_eq!(line_name("Makefile2:", &none), maybe("Makefile2"));
        assert_eq!(line_name("Now update src/x.rs:", &none), maybe("src/x.rs"));
    }

    #[test]
    fn prose_languages_and_punctuation_are_not_names() {
        for line in [
            "Here is the change:",
            "Changes",
            "Changes:",
            "rust",
            "python",
            "```rust",
            "```makefile",
            "```Dockerfile",
            "```",
            "...",
            "Done.",
            "1.2",
            "1.",
            "And then:",
            "### Summary",
            "Now `src/x.rs` gets the new function:",
            "`src/x.rs` is where the parser lives",
            "https://example.com/x",
            "`cargo test`",
            "License",
        ] {
            assert_eq!(line_name(line, &none), Name::None, "{line}");
        }
    }
}
