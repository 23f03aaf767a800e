//! Issues: how a user names one on the command line, how one is read from a file, and the
//! branch slug made from its title. Issue text is untrusted data; nothing here interprets it,
//! and [`sanitise_untrusted`] removes what a person reading the issue would not see before a
//! model reads it. [`filed`] keeps the issue as read in a brief a triage model wrote, and
//! reads it back on a re-run.

pub mod filed;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most an issue file may be: far more than any issue's text, and small enough that a
/// wrong path (a log, an image, `/dev/zero`) is refused at once rather than read into memory.
pub const ISSUE_FILE_LIMIT: u64 = 1024 * 1024;

/// An issue as the pipeline sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    /// Everything after the title line.
    pub body: String,
    /// Where the issue was read from, when it came from a forge (GitHub) rather than a file
    /// or a brief already on the branch.
    pub origin: Option<Origin>,
}

/// An issue read from a forge: what the brief records about it, and its comments. All text
/// here is already cleaned of what hides content from a human reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The issue's web page.
    pub url: String,
    pub author: String,
    pub labels: Vec<String>,
    /// `open` or `closed`, as the forge says.
    pub state: String,
    pub locked: bool,
    /// When it was read, in RFC 3339 (UTC).
    pub read_at: String,
    /// The comments kept, oldest first.
    pub comments: Vec<Comment>,
    /// How many comments the issue has.
    pub comments_total: u64,
    /// The body's size in bytes when it was cut to fit the prompt.
    pub body_cut_from: Option<usize>,
    /// HTML comments and invisible characters removed from the title, body and comments.
    pub hidden_removed: usize,
}

/// A comment on an issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub author: String,
    /// The author's relation to the repository, as the forge says (`OWNER`, `MEMBER`,
    /// `COLLABORATOR`, `CONTRIBUTOR`, `NONE`, ...).
    pub association: String,
    /// Whether that relation gives write access (owner, member, collaborator).
    pub write_access: bool,
    pub created_at: String,
    pub body: String,
}

impl Comment {
    /// The comment as the brief shows it: a heading naming who wrote it and when, then its
    /// text. What counts against [`COMMENTS_LIMIT`].
    pub fn rendered(&self) -> String {
        let who = if self.write_access {
            format!("@{} ({})", self.author, self.association.to_lowercase())
        } else {
            format!("@{} (no write access)", self.author)
        };
        let mut out = format!("\n### {who}, {}\n", self.created_at);
        let text = normalise_text(&self.body);
        if !text.is_empty() {
            out.push_str(&format!("\n{text}\n"));
        }
        out
    }
}

/// The heading of the section that records where an issue came from, at the end of a brief.
pub const SOURCE_HEADING: &str = "## Source";
/// The line of that section naming the issue's web page.
const SOURCE_URL: &str = "- Issue: ";

impl Issue {
    /// The issue as a Markdown document: the brief, when no triage model is configured. An
    /// issue from a forge has its comments after the body, and ends with [`Issue::source`].
    pub fn normalised(&self) -> String {
        let body = normalise_text(&self.body);
        let mut out = format!("# {}\n", self.title);
        if !body.is_empty() {
            out.push_str(&format!("\n{body}\n"));
        }
        if let Some(origin) = &self.origin {
            if !origin.comments.is_empty() {
                out.push_str("\n## Comments\n");
                for comment in &origin.comments {
                    out.push_str(&comment.rendered());
                }
            }
            out.push('\n');
            out.push_str(&self.source().unwrap_or_default());
        }
        out
    }

    /// The issue's own words, as a brief is made from them: [`Issue::normalised`] without the
    /// source section a forge's issue ends with (when it was read, its labels and state),
    /// so that reading the same issue again, or recovering it from a brief, gives the same
    /// text. What decides whether a brief is stale.
    pub fn input_text(&self) -> String {
        let text = self.normalised();
        let own = match text.rfind(&format!("\n{SOURCE_HEADING}\n")) {
            Some(at) => &text[..at],
            None => text.as_str(),
        };
        own.trim_end().to_string()
    }

    /// The section a brief ends with when the issue came from a forge: its URL, author,
    /// labels, state, when it was read, and what was left out or removed.
    pub fn source(&self) -> Option<String> {
        let origin = self.origin.as_ref()?;
        let mut lines = vec![
            SOURCE_HEADING.to_string(),
            String::new(),
            format!("{SOURCE_URL}{}", origin.url),
            format!("- Author: @{}", origin.author),
        ];
        if !origin.labels.is_empty() {
            lines.push(format!("- Labels: {}", origin.labels.join(", ")));
        }
        let state = match origin.locked {
            true => format!("{}, locked", origin.state),
            false => origin.state.clone(),
        };
        lines.push(format!("- State: {state}"));
        lines.push(format!("- Read: {}", origin.read_at));
        let shown = origin.comments.len() as u64;
        let outsiders = origin.comments.iter().filter(|c| !c.write_access).count();
        if origin.comments_total > 0 {
            let mut line = if shown < origin.comments_total {
                format!(
                    "- Comments: {shown} of {} (the rest left out to keep the brief bounded)",
                    origin.comments_total
                )
            } else {
                format!("- Comments: {shown}")
            };
            if outsiders > 0 {
                line.push_str(&format!(
                    "; {outsiders} by accounts without write access, marked so"
                ));
            }
            lines.push(line);
        }
        if let Some(total) = origin.body_cut_from {
            lines.push(format!(
                "- Body: cut to {} of its {total} bytes to keep the brief bounded",
                BODY_LIMIT
            ));
        }
        if origin.hidden_removed > 0 {
            lines.push(format!(
                "- Removed: {} HTML comments and invisible characters (they hide text from a human reader)",
                origin.hidden_removed
            ));
        }
        Some(lines.join("\n") + "\n")
    }
}

/// The most of an issue's body a brief keeps, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The most of one comment a brief keeps, in bytes.
pub const COMMENT_LIMIT: usize = 8 * 1024;
/// The most comment text a brief keeps in all, in bytes.
pub const COMMENTS_LIMIT: usize = 64 * 1024;

/// A code fence of backticks longer than any run of backticks in `text` (at least three), so
/// text quoted inside it (an issue, a model's reply, a test's output) cannot close it early.
pub fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat(longest.max(2) + 1)
}

/// `text` cut to at most `limit` bytes at a line (or, for one long line, a character)
/// boundary; `None` when it fits.
pub fn cut_text(text: &str, limit: usize) -> Option<String> {
    if text.len() <= limit {
        return None;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let head = match head.rfind('\n') {
        Some(at) if at > limit / 2 => &head[..at],
        _ => head,
    };
    Some(format!("{head}\n\n[… cut: the rest is not shown]"))
}

/// The issue URL a brief records in its source section (the last one, so text quoted from
/// the issue itself cannot stand in for it).
pub fn source_url(brief: &str) -> Option<String> {
    brief
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(SOURCE_URL))
        .map(|url| url.trim().to_string())
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
}

/// An issue named on the command line: `99`, `#99`, or a GitHub issue URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRef {
    pub number: u64,
    /// `owner/name`, when the issue was given as a URL.
    pub repo: Option<String>,
    /// The URL's host (lower case), when the issue was given as a URL: it must be the GitHub
    /// the configuration names.
    pub host: Option<String>,
}

impl fmt::Display for IssueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.number)
    }
}

impl std::str::FromStr for IssueRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let number_of = |text: &str| -> Result<u64, String> {
            match text.parse::<u64>() {
                Ok(0) => Err("issue numbers start at 1".into()),
                Ok(n) => Ok(n),
                Err(_) => Err(format!(
                    "`{s}` is not an issue: give a number (99), #99, or a GitHub issue URL"
                )),
            }
        };
        if let Some(rest) = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
        {
            let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
            return match parts.as_slice() {
                [host, owner, name, "issues" | "pull", number] => Ok(IssueRef {
                    number: number_of(number)?,
                    repo: Some(format!("{owner}/{name}")),
                    host: Some(host.to_ascii_lowercase()),
                }),
                _ => Err(format!(
                    "`{s}` is not a GitHub issue URL (expected https://HOST/OWNER/REPO/issues/N)"
                )),
            };
        }
        let digits = s.strip_prefix('#').unwrap_or(s);
        Ok(IssueRef {
            number: number_of(digits)?,
            repo: None,
            host: None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("cannot read issue file {}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("issue file {} is empty", .path.display())]
    Empty { path: PathBuf },
    #[error("issue file {} is larger than {}, the most an issue file may be", .path.display(), mebibytes(*.limit))]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("issue file {} is not UTF-8 text (invalid byte at offset {offset})", .path.display())]
    NotUtf8 { path: PathBuf, offset: usize },
}

/// Read an issue from a Markdown file: the first `# ` heading is the title.
///
/// Without such a heading the first non-empty line is the title, as a commit message's
/// first line is its subject.
pub fn read_issue_file(number: u64, path: &Path) -> Result<Issue, IssueError> {
    let bytes = read_limited(path, ISSUE_FILE_LIMIT)?;
    let text = String::from_utf8(bytes).map_err(|e| IssueError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(IssueError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(parse_issue(number, text))
}

/// At most `limit` bytes of the file at `path`; one byte more is an error, so a file that
/// never ends (`/dev/zero`, a pipe) is given up as soon as it passes the limit.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, IssueError> {
    let read_error = |source| IssueError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(IssueError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// A byte count as people read limits: `1 MiB`.
fn mebibytes(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// An issue from Markdown text (a file, or a brief already on the branch).
///
/// The title is [`plain_line`]: it becomes commit subjects, the branch name and the brief's
/// heading, so no escape sequence or invisible character in it survives.
pub fn parse_issue(number: u64, text: &str) -> Issue {
    let lines: Vec<&str> = text.lines().collect();
    let title_of = |line: &str| {
        let line = plain_line(line);
        line.strip_prefix("# ")
            .unwrap_or(&line)
            .trim()
            .trim_end_matches('#')
            .trim()
            .to_string()
    };
    let heading = lines
        .iter()
        .position(|l| l.starts_with("# ") && !title_of(l).is_empty());
    let title_at = heading.or_else(|| lines.iter().position(|l| !title_of(l).is_empty()));
    let Some(at) = title_at else {
        return Issue {
            number,
            title: format!("Issue {number}"),
            body: String::new(),
            origin: None,
        };
    };
    let title = title_of(lines[at]);
    let mut body_lines: Vec<&str> = lines[..at].to_vec();
    body_lines.extend_from_slice(&lines[at + 1..]);
    Issue {
        number,
        title,
        body: normalise_text(&body_lines.join("\n")),
        origin: None,
    }
}

/// Trim trailing whitespace on each line, drop leading and trailing blank lines, and collapse
/// runs of blank lines: the text means the same and diffs stay quiet.
pub fn normalise_text(text: &str) -> String {
    let mut out = Vec::new();
    let mut blank = false;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push("");
            blank = false;
        }
        out.push(line);
    }
    out.join("\n")
}

/// `text` as one line of plain characters, for commit subjects, trailers and titles: escape
/// sequences and invisible characters removed (see [`plain_text`]), every run of whitespace,
/// line breaks included, one space.
pub fn plain_line(text: &str) -> String {
    strip_controls(text, false)
        .0
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` without what a terminal or an editor would act on or hide rather than show:
/// terminal escape sequences (CSI such as colours, OSC such as titles and hyperlinks, and the
/// other ESC sequences, in their 7-bit and 8-bit forms) with their parameters, C0 and C1
/// control characters (tabs and line breaks stay; a lone carriage return, a vertical tab or
/// a form feed becomes a space), bidirectional embeddings, overrides and isolates,
/// zero-width spaces, and tag characters. Joiners (U+200C, U+200D) stay: scripts and emoji
/// need them.
pub fn plain_text(text: &str) -> String {
    strip_controls(text, true).0
}

/// Untrusted text (an issue from a forge) as a model may read it, with what a person reading
/// it would not see taken out, so that no instruction can hide in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sanitised {
    pub text: String,
    /// How many HTML comments were removed.
    pub html_comments: usize,
    /// How many hidden characters were removed: escape sequences (each character of them),
    /// control characters, and invisible ones (see [`plain_text`]).
    pub hidden_chars: usize,
}

impl Sanitised {
    /// Whether anything was removed.
    pub fn removed_anything(&self) -> bool {
        self.html_comments > 0 || self.hidden_chars > 0
    }
}

/// `text` without the content that a rendered issue hides from its readers: HTML comments
/// (see below), then what [`plain_text`] removes (escape sequences, control characters,
/// bidirectional controls, zero-width and tag characters). Everything else, Markdown
/// included (code fences, links, `<details>`, `<br>`), is kept as written; blank lines left by
/// a removed comment are the caller's to tidy ([`normalise_text`]).
///
/// A comment is removed wherever it is, inside code too: a reader that disagreed with the
/// forge's renderer about where code starts would let a hidden one through, and an issue
/// rarely depends on a comment in an example. It ends as a browser ends it: at the first
/// `-->` or `--!>`, and at once for `<!-->` and `<!--->`; one that never ends runs to the end
/// of the text, as it does on the page.
pub fn sanitise_untrusted(text: &str) -> Sanitised {
    let (uncommented, html_comments) = strip_html_comments(text);
    let (text, hidden_chars) = strip_controls(&uncommented, true);
    Sanitised {
        text,
        html_comments,
        hidden_chars,
    }
}

/// `text` without its HTML comments, and how many there were.
fn strip_html_comments(text: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        count += 1;
        let body = &rest[start + "<!--".len()..];
        let end = if body.starts_with('>') {
            Some(1)
        } else if body.starts_with("->") {
            Some(2)
        } else {
            let dashes = body.find("-->").map(|at| at + "-->".len());
            let bang = body.find("--!>").map(|at| at + "--!>".len());
            dashes.into_iter().chain(bang).min()
        };
        rest = end.map_or("", |end| &body[end..]);
    }
    out.push_str(rest);
    (out, count)
}

/// The text without escape sequences, controls and invisible characters, and how many
/// characters were removed (a carriage return before a line feed is a line ending, not
/// hidden; a control turned into a space is not counted either).
fn strip_controls(text: &str, keep_lines: bool) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut removed = 0;
    let mut chars = text.chars().peekable();
    let mut last: Option<char> = None;
    while let Some(c) = chars.next() {
        let before = last;
        last = Some(c);
        match c {
            // A joiner joins: it stays between two characters of a script or an emoji that use
            // it (👩‍💻, Persian's ZWNJ); anywhere else it shows nothing and can spell a hidden
            // message in runs of zero-width characters.
            '\u{200c}' | '\u{200d}' if !joins(before, chars.peek().copied()) => removed += 1,
            '\u{1b}' => removed += 1 + skip_escape(&mut chars),
            '\u{9b}' => removed += 1 + skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => {
                removed += 1 + skip_string(&mut chars)
            }
            '\n' | '\t' if keep_lines => out.push(c),
            '\r' if keep_lines && chars.peek() == Some(&'\n') => {}
            '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.push(' ')
            }
            c if c.is_control() || is_invisible(c) => removed += 1,
            c => out.push(c),
        }
    }
    (out, removed)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: a control sequence, a control string, or a two-character sequence (`ESC c`,
/// `ESC ( B`). Each skip returns how many characters it skipped.
fn skip_escape(chars: &mut Chars<'_>) -> usize {
    match chars.peek() {
        Some('[') => {
            chars.next();
            1 + skip_csi(chars)
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            1 + skip_string(chars)
        }
        _ => {
            let mut skipped = 0;
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {
                skipped += 1;
            }
            skipped
                + usize::from(
                    chars
                        .next_if(|c| ('\u{30}'..='\u{7e}').contains(c))
                        .is_some(),
                )
        }
    }
}

/// A control sequence's parameters and intermediates, then its final character.
fn skip_csi(chars: &mut Chars<'_>) -> usize {
    let mut skipped = 0;
    while chars
        .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
        .is_some()
    {
        skipped += 1;
    }
    skipped
        + usize::from(
            chars
                .next_if(|c| ('\u{40}'..='\u{7e}').contains(c))
                .is_some(),
        )
}

/// A control string (OSC, DCS, ...) up to its terminator: BEL, ST (`ESC \` or U+009C), or
/// another ESC. An unterminated one ends at the line's end, so the text after it is kept.
fn skip_string(chars: &mut Chars<'_>) -> usize {
    let mut skipped = 0;
    while let Some(c) = chars.next_if(|c| *c != '\n') {
        skipped += 1;
        match c {
            '\u{07}' | '\u{9c}' => return skipped,
            '\u{1b}' => return skipped + usize::from(chars.next_if_eq(&'\\').is_some()),
            _ => {}
        }
    }
    skipped
}

/// Whether a zero-width joiner or non-joiner between `before` and `after` joins two visible
/// characters that are not ASCII (letters of a script that uses it, emoji).
fn joins(before: Option<char>, after: Option<char>) -> bool {
    let visible = |c: Option<char>| {
        c.is_some_and(|c| {
            !c.is_ascii()
                && !c.is_whitespace()
                && !c.is_control()
                && !is_invisible(c)
                && !matches!(c, '\u{200c}' | '\u{200d}')
        })
    };
    visible(before) && visible(after)
}

/// Characters that change how text around them is shown without showing themselves (bidi
/// controls, zero-width spaces, soft hyphens, Hangul and Khmer fillers, Mongolian variation
/// selectors, the other format characters of U+2060..U+206F, interlinear annotations), and tag
/// characters (U+E0000 to U+E007F): invisible copies of ASCII that a model still reads, which
/// can spell out a whole hidden instruction. Flag emoji of regions (Scotland's) use them and
/// show as a plain black flag without them.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

/// The branch slug of a title: its lowercase ASCII words joined by `-`, at most 40 characters,
/// cut at a word boundary. Escape sequences are no words (`\x1b[31m` adds no `31m`).
pub fn slug(title: &str) -> String {
    const MAX: usize = 40;
    let mut slug = String::new();
    let title = plain_line(title);
    let words = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase);
    for word in words {
        let extra = if slug.is_empty() { 0 } else { 1 };
        if slug.len() + extra + word.len() > MAX {
            if slug.is_empty() {
                slug = word[..MAX].to_string();
            }
            break;
        }
        if extra == 1 {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() {
        "issue".into()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_input_text_of_an_issue_and_of_its_copy_in_a_brief_agree() {
        let issue = Issue {
            number: 40,
            title: "Add a --verbose flag".into(),
            body: "Users need a `--verbose` flag.\n\nIt should print every step.".into(),
            origin: Some(Origin {
                url: "https://github.com/acme/widgets/issues/40".into(),
                author: "octocat".into(),
                labels: vec!["cli".into()],
                state: "open".into(),
                locked: false,
                read_at: "2026-12-07T10:00:00Z".into(),
                comments: Vec::new(),
                comments_total: 0,
                body_cut_from: None,
                hidden_removed: 0,
            }),
        };
        let brief = issue.normalised();
        let copy = parse_issue(40, &brief);
        assert_eq!(copy.input_text(), issue.input_text(), "brief:\n{brief}");
    }

    use super::*;

    #[test]
    fn a_fence_is_longer_than_any_backtick_run_inside() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b `` c"), "````");
        assert_eq!(fence_for("``````"), "```````");
    }

    #[test]
    fn issue_refs() {
        assert_eq!("99".parse::<IssueRef>().unwrap().number, 99);
        assert_eq!("#7".parse::<IssueRef>().unwrap().number, 7);
        let url: IssueRef = "https://github.com/o/r/issues/12".parse().unwrap();
        assert_eq!(url.number, 12);
        assert_eq!(url.repo.as_deref(), Some("o/r"));
        assert!("seven".parse::<IssueRef>().is_err());
        assert!("0".parse::<IssueRef>().is_err());
        assert!("https://github.com/o/r/wiki/3".parse::<IssueRef>().is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Add a --verbose flag"), "add-a-verbose-flag");
        assert_eq!(slug("Émile's café: ÜBER fix!"), "mile-s-caf-ber-fix");
        assert_eq!(slug("!!!"), "issue");
        let long = slug("one two three four five six seven eight nine ten eleven");
        assert!(long.len() <= 40, "{long}");
        assert!(!long.ends_with('-'));
        assert_eq!(slug(&"x".repeat(60)).len(), 40);
    }

    #[test]
    fn an_issue_file_may_be_exactly_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issue.md");
        let mut text = String::from("# At the limit\n\n");
        text.push_str(&"x".repeat(ISSUE_FILE_LIMIT as usize - text.len()));
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_issue_file(1, &path).unwrap().title, "At the limit");
        text.push('x');
        std::fs::write(&path, &text).unwrap();
        let error = read_issue_file(1, &path).unwrap_err();
        assert!(matches!(error, IssueError::TooLarge { .. }), "{error}");
    }

    #[test]
    fn escapes_and_invisible_characters_leave_titles_and_slugs() {
        let issue = parse_issue(7, "# Fix \x1b[31mRed\x1b[0m alert\x07 now\r\nbody");
        assert_eq!(issue.title, "Fix Red alert now");
        assert_eq!(
            slug("Fix \x1b[31mRed\x1b[0m alert\x07 now"),
            "fix-red-alert-now"
        );
        for (raw, clean) in [
            // A lone carriage return would let the rest overwrite the start on a terminal.
            ("Safe\rEvil", "Safe Evil"),
            // OSC: a window title, and a hyperlink whose target is hidden.
            ("A\x1b]0;owned\x07B", "AB"),
            (
                "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ text",
                "link text",
            ),
            // 8-bit CSI, other C0 and C1 controls, DEL.
            ("a\u{9b}1mb\x00c\x7fd\u{85}e", "abcd e"),
            // Bidirectional overrides and isolates, zero-width spaces, a BOM.
            (
                "abc\u{202e}fed\u{202c} \u{2066}x\u{2069}\u{200b}y\u{feff}",
                "abcfed xy",
            ),
            // Two-character escapes (reset, charset), and an escape at the very end.
            ("\x1bc\x1b(Bok\x1b", "ok"),
            // Joiners are part of scripts and emoji; ordinary text is untouched.
            (
                "Émile \u{1f469}\u{200d}\u{1f4bb} کتاب\u{200c}ها",
                "Émile \u{1f469}\u{200d}\u{1f4bb} کتاب\u{200c}ها",
            ),
            // A joiner that joins nothing, and runs of zero-width characters (a message hidden
            // in them, bit by bit), go; so do soft hyphens, Hangul fillers and the other format
            // characters that show nothing.
            ("a\u{200d}b c\u{200c}d", "ab cd"),
            ("x\u{200b}\u{200c}\u{200d}\u{200c}\u{200d}y", "xy"),
            ("\u{1f469}\u{200d}\u{200d}\u{1f4bb}", "\u{1f469}\u{1f4bb}"),
            (
                "soft\u{ad}hy\u{34f}phen \u{3164}fill\u{115f}er\u{2064}s\u{206a}",
                "softhyphen fillers",
            ),
        ] {
            assert_eq!(plain_line(raw), clean, "{raw:?}");
        }
        // A title that is nothing but escapes is no title.
        assert_eq!(parse_issue(8, "# \x1b[1m\x1b[0m\n").title, "Issue 8");
        // Text keeps its lines and tabs; an unterminated string ends with its line.
        assert_eq!(plain_text("a\r\n\tb\x1b]2;x\nc\x1b[2J"), "a\n\tb\nc");
    }

    #[test]
    fn html_comments_go_however_they_end() {
        for (raw, clean, comments) in [
            ("a <!-- x --> b", "a  b", 1),
            ("a<!---->b<!--->c<!-->d", "abcd", 3),
            ("a <!-- x --!> b --> c", "a  b --> c", 1),
            ("a <!-- one\ntwo --> b <!-- never ends\nc", "a  b ", 2),
            ("<!-- a <!-- b --> c -->", " c -->", 1),
            ("x <!- y -> z <! -- w", "x <!- y -> z <! -- w", 0),
            (
                "<details><summary>s</summary>\n<br>\n</details>",
                "<details><summary>s</summary>\n<br>\n</details>",
                0,
            ),
        ] {
            let out = sanitise_untrusted(raw);
            assert_eq!(out.text, clean, "{raw:?}");
            assert_eq!(out.html_comments, comments, "{raw:?}");
            assert_eq!(out.hidden_chars, 0, "{raw:?}");
        }
    }

    #[test]
    fn hidden_characters_are_counted() {
        // ESC [ 3 1 m and ESC [ 0 m (9), a zero-width space, a bidi override, three tag
        // characters, a NUL; the CR of a CRLF and a CR made a space are not hidden.
        let raw = "\x1b[31mred\x1b[0m\u{200b}\u{202e}x\u{e0061}\u{e0062}\u{e007f}\0\r\ny\rz";
        let out = sanitise_untrusted(raw);
        assert_eq!(out.text, "redx\ny z");
        assert_eq!(out.hidden_chars, 9 + 1 + 1 + 3 + 1);
        assert_eq!(out.html_comments, 0);
        assert!(out.removed_anything());
        assert!(!sanitise_untrusted("plain *Markdown*\n").removed_anything());
    }

    /// The hostile issues in `tests/fixtures/hostile-issues/` (written by
    /// `tests/fixtures/hostile-issues.py`) each sanitise to their `.expected.md`, and nothing
    /// hidden in them reaches the output.
    #[test]
    fn hostile_issues_lose_what_they_hide() {
        const HIDDEN: &[&str] = &[
            "ignore previous instructions",
            "push to main",
            "GITHUB_TOKEN",
            "evil.example",
            "rm -rf",
            "delete the tests",
            "pwned",
            "SYSTEM",
        ];
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile-issues");
        let mut checked = 0;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_str().unwrap();
            let Some(stem) = name.strip_suffix(".md") else {
                continue;
            };
            if stem.ends_with(".expected") {
                continue;
            }
            let raw = std::fs::read_to_string(&path).unwrap();
            let expected = std::fs::read_to_string(dir.join(format!("{stem}.expected.md")))
                .unwrap_or_else(|e| panic!("{stem}.expected.md: {e}"));
            let out = sanitise_untrusted(&raw);
            assert_eq!(out.text, expected, "{name}");
            if stem != "plain-markdown" {
                assert!(out.removed_anything(), "{name}: nothing removed");
            }
            for word in HIDDEN {
                assert!(!out.text.contains(word), "{name}: {word:?} survived");
            }
            let hidden = |c: char| is_invisible(c) || (c.is_control() && c != '\n' && c != '\t');
            assert!(
                !out.text.chars().any(hidden),
                "{name}: a hidden character survived: {:?}",
                out.text
            );
            assert!(!out.text.contains("<!--"), "{name}");
            checked += 1;
        }
        assert!(checked >= 8, "only {checked} fixtures in {}", dir.display());
    }

    #[test]
    fn title_is_first_heading() {
        let issue = parse_issue(3, "intro\n\n# Fix the thing\n\nBody   \n\n\n\nmore\n");
        assert_eq!(issue.title, "Fix the thing");
        assert_eq!(issue.body, "intro\n\nBody\n\nmore");
        let plain = parse_issue(4, "\n\nJust a line\nand text");
        assert_eq!(plain.title, "Just a line");
        assert_eq!(plain.normalised(), "# Just a line\n\nand text\n");
    }
}
