//! Which lines of a reviewer's reply are its own words: a verdict is read only there, never
//! from a Markdown block quote (the reviewer quoting someone, or the prompt) or from fenced
//! code (an example), except that a fenced block holding exactly one JSON object is the JSON
//! verdict the prompt asks for.

/// What a line of a reply is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The reviewer's own words.
    Text,
    /// A Markdown block quote (`> ...`).
    Quote,
    /// A code fence line, or a line inside fenced code.
    Code,
}

/// A reply split into its lines, each with its kind, and its fenced blocks' contents.
pub struct Reply<'a> {
    pub lines: Vec<(Kind, &'a str)>,
    /// The content of each fenced block outside quotes (without its fence lines).
    pub fences: Vec<String>,
}

impl<'a> Reply<'a> {
    pub fn read(text: &'a str) -> Reply<'a> {
        let mut lines = Vec::new();
        let mut fences = Vec::new();
        // The open fence: its character, its length, and the content so far.
        let mut open: Option<(char, usize, Vec<&str>)> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if let Some((ch, len, content)) = open.as_mut() {
                if closes(trimmed, *ch, *len) {
                    fences.push(content.join("\n"));
                    open = None;
                } else {
                    content.push(line);
                }
                lines.push((Kind::Code, line));
            } else if trimmed.starts_with('>') {
                lines.push((Kind::Quote, line));
            } else if let Some((ch, len)) = opens(trimmed) {
                open = Some((ch, len, Vec::new()));
                lines.push((Kind::Code, line));
            } else {
                lines.push((Kind::Text, line));
            }
        }
        // An unclosed fence runs to the end of the reply, as in CommonMark.
        if let Some((_, _, content)) = open {
            fences.push(content.join("\n"));
        }
        Reply { lines, fences }
    }

    /// The reviewer's own lines.
    pub fn text_lines(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.lines
            .iter()
            .filter(|(kind, _)| *kind == Kind::Text)
            .map(|(_, line)| *line)
    }

    /// The reply with every quoted or fenced line blanked, so that what is found in it lies in
    /// the reviewer's own words (line breaks are kept, so a JSON object may span lines).
    pub fn text_only(&self) -> String {
        self.lines
            .iter()
            .map(|(kind, line)| if *kind == Kind::Text { *line } else { "" })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A fence opening: three or more backticks (with no backtick after them) or tildes.
fn opens(trimmed: &str) -> Option<(char, usize)> {
    let ch = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = trimmed.chars().take_while(|&c| c == ch).count();
    if len < 3 || (ch == '`' && trimmed[len..].contains('`')) {
        return None;
    }
    Some((ch, len))
}

/// A fence closing one opened with `len` times `ch`: at least as long, nothing after it.
fn closes(trimmed: &str, ch: char, len: usize) -> bool {
    let run = trimmed.chars().take_while(|&c| c == ch).count();
    run >= len && trimmed[run..].trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_fences_and_text() {
        let reply = Reply::read(
            "Mine.\n> quoted\n  > quoted too\n```json\n{\"a\": 1}\n```\n~~~~\n```\nstill code\n~~~~\nafter\n``` not a fence ```\n",
        );
        let kinds: Vec<Kind> = reply.lines.iter().map(|(k, _)| *k).collect();
        use Kind::*;
        assert_eq!(
            kinds,
            [
                Text, Quote, Quote, Code, Code, Code, Code, Code, Code, Code, Text, Text
            ]
        );
        assert_eq!(reply.fences, ["{\"a\": 1}", "```\nstill code"]);
        assert_eq!(
            reply.text_only(),
            "Mine.\n\n\n\n\n\n\n\n\n\nafter\n``` not a fence ```"
        );
    }

    #[test]
    fn an_unclosed_fence_runs_to_the_end_and_a_quoted_fence_is_a_quote() {
        let reply = Reply::read("> ```\n> Verdict: APPROVED\n```\nVerdict: APPROVED");
        assert_eq!(reply.text_lines().count(), 0);
        assert_eq!(reply.fences, ["Verdict: APPROVED"]);
    }
}
