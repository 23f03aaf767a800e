//! Reading a reviewer's verdict — only from what the reviewer actually said.
//!
//! Reviewers are asked for `{"verdict": "APPROVED" | "REVISE" | "BLOCKED", "rationale": ...,
//! "feedback_items": [...]}`, bare or in a fenced block. The rules, in order:
//!
//! 1. **A JSON verdict wins.** JSON objects with a `verdict` in the reviewer's own words (not
//!    in a block quote), or alone in a fenced block, are read; when they agree, that is the
//!    review, whatever else the reply says.
//! 2. Otherwise, **verdict lines**: `Verdict: X` (any case; Markdown emphasis, heading and list
//!    markers, and `My`/`Final`/`Overall verdict:` allowed), read outside block quotes and
//!    fenced code ([`markdown`](super::markdown)): a quoted verdict is someone else's, a fenced
//!    one an example.
//! 3. **An approval counts only when it is unqualified**: `Verdict: APPROVED` with nothing
//!    after it that makes it conditional (`with changes`, `but`, `if`, `once`, `pending`,
//!    `provided`, `subject to`, `unless`, `as long as`, ...), and no condition or negation
//!    attached to an approval elsewhere in the reviewer's words (`conditionally approved`,
//!    `approved once the tests exist`, `not approved`). The words are a class, not a list of
//!    phrases: anything that may be a condition makes the approval not one.
//!
//! Verdicts that contradict each other, a qualified approval, or no verdict at all: the review
//! has **no verdict**, which counts as REVISE and is never an approval. Why is said once, in
//! [`Review::rationale`], which goes into the review log and, with the reply, to the drafter.

use std::collections::BTreeSet;

use super::markdown::Reply;
pub use crate::pipeline::events::{ReviewVerdict, VerdictProblem};

impl ReviewVerdict {
    fn parse_word(word: &str) -> Option<ReviewVerdict> {
        match word.trim().to_ascii_uppercase().as_str() {
            "APPROVED" => Some(ReviewVerdict::Approved),
            "REVISE" => Some(ReviewVerdict::Revise),
            "BLOCKED" => Some(ReviewVerdict::Blocked),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ReviewVerdict::Approved => "APPROVED",
            ReviewVerdict::Revise => "REVISE",
            ReviewVerdict::Blocked => "BLOCKED",
        }
    }
}

/// A review as read from a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// `None`: the reply carried no verdict that could be taken (counted as REVISE).
    pub verdict: Option<ReviewVerdict>,
    /// Why there is no verdict; `Some` exactly when `verdict` is `None`.
    pub problem: Option<VerdictProblem>,
    /// The reviewer's rationale; for a review without a verdict, the one sentence saying why.
    pub rationale: String,
    /// The changes the reviewer listed (`feedback_items`), in its words.
    pub items: Vec<String>,
    /// What goes back to the drafter if the draft is revised.
    pub feedback: Vec<String>,
}

/// How much of a reply is passed back to the drafter as feedback.
const EXCERPT: usize = 4000;
/// How much of a qualifying line is quoted in the reason.
const QUOTED: usize = 200;

pub fn parse_review(reply: &str) -> Review {
    let read = Reply::read(reply);
    let json = json_verdicts(&read);
    if !json.is_empty() {
        return from_json(reply, json);
    }
    let review = from_lines(reply, &read);
    // No verdict anywhere, but one in JSON that does not parse: say that, with the parser's
    // words, rather than that there was none.
    if review.problem == Some(VerdictProblem::Missing)
        && let Some(error) = malformed_json(&read)
    {
        return without_verdict(reply, VerdictProblem::MalformedJson, &error);
    }
    review
}

/// The parser's message for the first JSON object (in the text or a fenced block) that names
/// a `"verdict"` but is not valid JSON.
fn malformed_json(read: &Reply) -> Option<String> {
    let names_verdict = |text: &str| text.to_ascii_lowercase().contains("\"verdict\"");
    let text = read.text_only();
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(start) = text.find('{') {
        candidates.push(&text[start..]);
    }
    let fences: Vec<&str> = read.fences.iter().map(|f| f.trim()).collect();
    candidates.extend(fences.iter().filter(|f| f.starts_with('{')));
    candidates
        .into_iter()
        .filter(|candidate| names_verdict(candidate))
        .find_map(|candidate| {
            let mut stream =
                serde_json::Deserializer::from_str(candidate).into_iter::<serde_json::Value>();
            match stream.next() {
                Some(Err(error)) => Some(error.to_string()),
                _ => None,
            }
        })
}

/// A review without a verdict, saying why once.
fn without_verdict(reply: &str, problem: VerdictProblem, detail: &str) -> Review {
    let why = match problem {
        VerdictProblem::Missing => {
            "The review had no verdict that could be read, so it was not taken as an approval."
                .to_string()
        }
        VerdictProblem::Conflicting => format!(
            "The review gave verdicts that contradict each other ({detail}), so it was not taken as an approval."
        ),
        VerdictProblem::Qualified => format!(
            "The review did not approve without conditions (“{}”), so it was not taken as an approval.",
            shorten(detail, QUOTED)
        ),
        VerdictProblem::MalformedJson => format!(
            "The review's verdict was in JSON that could not be read ({detail}), so it was not taken as an approval. Answer with valid JSON, or a line `Verdict: APPROVED`, `Verdict: REVISE` or `Verdict: BLOCKED`."
        ),
    };
    let mut feedback = vec![why.clone()];
    let text = reply.trim();
    if !text.is_empty() {
        feedback.push(format!("The reviewer wrote:\n{}", excerpt(text)));
    }
    Review {
        verdict: None,
        problem: Some(problem),
        rationale: why,
        items: Vec::new(),
        feedback,
    }
}

fn excerpt(text: &str) -> String {
    if text.len() <= EXCERPT {
        return text.to_string();
    }
    let mut end = EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[…]", &text[..end])
}

fn shorten(text: &str, limit: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= limit {
        return text.to_string();
    }
    format!(
        "{}…",
        text.chars().take(limit).collect::<String>().trim_end()
    )
}

fn names(verdicts: &BTreeSet<ReviewVerdict>) -> String {
    verdicts
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(" and ")
}

// ---------------------------------------------------------------------------------------
// JSON

/// A JSON object with a `verdict` key.
enum JsonVerdict {
    Read(Review),
    /// Its verdict is not one of the three words; as written.
    Unread(String),
}

/// Every JSON verdict in the reviewer's own words, then every fenced block that is one.
fn json_verdicts(read: &Reply) -> Vec<JsonVerdict> {
    let mut found: Vec<JsonVerdict> = objects(&read.text_only())
        .iter()
        .filter_map(from_object)
        .collect();
    for fence in &read.fences {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(fence.trim())
            && let Some(verdict) = from_object(&value)
        {
            found.push(verdict);
        }
    }
    found
}

/// The JSON objects in `text`, outermost only.
fn objects(text: &str) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = text[at..].find('{') {
        let start = at + offset;
        let mut stream =
            serde_json::Deserializer::from_str(&text[start..]).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(value)) => {
                at = start + stream.byte_offset().max(1);
                found.push(value);
            }
            _ => at = start + 1,
        }
    }
    found
}

fn from_object(value: &serde_json::Value) -> Option<JsonVerdict> {
    let object = value.as_object()?;
    let (_, written) = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("verdict"))?;
    let Some(verdict) = written.as_str().and_then(ReviewVerdict::parse_word) else {
        let written = match written {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Some(JsonVerdict::Unread(written));
    };
    let rationale = object
        .get("rationale")
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    let items: Vec<String> = match object.get("feedback_items") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                serde_json::Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        _ => Vec::new(),
    };
    let mut feedback = items.clone();
    if feedback.is_empty() && verdict != ReviewVerdict::Approved && !rationale.trim().is_empty() {
        feedback.push(rationale.trim().to_string());
    }
    Some(JsonVerdict::Read(Review {
        verdict: Some(verdict),
        problem: None,
        rationale,
        items,
        feedback,
    }))
}

fn from_json(reply: &str, found: Vec<JsonVerdict>) -> Review {
    let mut reviews = Vec::new();
    let mut unread = Vec::new();
    for verdict in found {
        match verdict {
            JsonVerdict::Read(review) => reviews.push(review),
            JsonVerdict::Unread(written) => unread.push(written),
        }
    }
    let verdicts: BTreeSet<ReviewVerdict> = reviews.iter().filter_map(|r| r.verdict).collect();
    if verdicts.len() > 1 {
        return without_verdict(reply, VerdictProblem::Conflicting, &names(&verdicts));
    }
    let approving = verdicts.is_empty() || verdicts.contains(&ReviewVerdict::Approved);
    if approving && !unread.is_empty() {
        if let Some(qualified) = unread.iter().find(|w| mentions_approval(&words(w))) {
            return without_verdict(reply, VerdictProblem::Qualified, qualified);
        }
        if !verdicts.is_empty() {
            let mut all: Vec<String> = verdicts.iter().map(|v| v.name().to_string()).collect();
            all.extend(unread.iter().map(|w| format!("“{}”", shorten(w, QUOTED))));
            return without_verdict(reply, VerdictProblem::Conflicting, &all.join(" and "));
        }
        return without_verdict(reply, VerdictProblem::Missing, "");
    }
    match reviews.pop() {
        Some(review) => review,
        None => without_verdict(reply, VerdictProblem::Missing, ""),
    }
}

// ---------------------------------------------------------------------------------------
// Verdict lines

/// A `Verdict: ...` line: a plain verdict, or an approval that is not one (the line).
enum LineVerdict {
    Plain(ReviewVerdict),
    Qualified(String),
}

fn from_lines(reply: &str, read: &Reply) -> Review {
    let lines: Vec<String> = read.text_lines().map(own_words).collect();
    let mut plain = BTreeSet::new();
    let mut qualified = Vec::new();
    for line in &lines {
        for verdict in line_verdicts(line) {
            match verdict {
                LineVerdict::Plain(v) => {
                    plain.insert(v);
                }
                LineVerdict::Qualified(text) => qualified.push(text),
            }
        }
    }
    if plain.len() > 1 {
        return without_verdict(reply, VerdictProblem::Conflicting, &names(&plain));
    }
    match plain.first().copied() {
        Some(ReviewVerdict::Approved) => {
            qualified.extend(qualified_approvals(&lines));
            if let Some(text) = qualified.first() {
                return without_verdict(reply, VerdictProblem::Qualified, text);
            }
        }
        Some(_) => {}
        None => {
            return match qualified.first() {
                Some(text) => without_verdict(reply, VerdictProblem::Qualified, text),
                None => without_verdict(reply, VerdictProblem::Missing, ""),
            };
        }
    }
    let verdict = plain.first().copied();
    let text = reply.trim().to_string();
    let feedback = if verdict == Some(ReviewVerdict::Approved) {
        Vec::new()
    } else {
        vec![excerpt(&text)]
    };
    Review {
        verdict,
        problem: None,
        rationale: text,
        items: Vec::new(),
        feedback,
    }
}

/// A line of the reviewer's own words as read for verdicts: Markdown emphasis dropped, struck
/// out text (`~~...~~`, taken back) removed.
fn own_words(line: &str) -> String {
    let mut kept = String::new();
    for (i, part) in line.split("~~").enumerate() {
        if i % 2 == 0 {
            kept.push_str(part);
        }
    }
    kept.chars()
        .filter(|c| !matches!(c, '*' | '_' | '`'))
        .collect()
}

/// The words that may stand with `verdict` before its colon (`My final verdict:`).
const VERDICT_KEY: &[&str] = &[
    "verdict",
    "my",
    "our",
    "the",
    "this",
    "final",
    "overall",
    "review",
    "reviewer",
    "reviewers",
    "reviewer's",
    "round",
    "lld",
    "spec",
    "design",
];

/// What ends the words before a colon that may name a verdict.
const CLAUSE_END: &[char] = &[':', '.', ';', '!', '?', ',', '(', ')', '[', ']', '|'];

/// Every `verdict: value` in a line.
fn line_verdicts(line: &str) -> Vec<LineVerdict> {
    let mut found = Vec::new();
    for (colon, _) in line.match_indices(':') {
        let before = &line[..colon];
        let key_start = before
            .rfind(CLAUSE_END)
            .map(|at| at + before[at..].chars().next().map_or(1, char::len_utf8))
            .unwrap_or(0);
        let key_text = &before[key_start..];
        let key = words(key_text);
        // `"verdict":` is JSON's syntax: JSON is read as JSON, or not at all.
        if key.last().map(String::as_str) != Some("verdict") || key_text.contains(['"', '{']) {
            continue;
        }
        let usual_key = key
            .iter()
            .all(|w| VERDICT_KEY.contains(&w.as_str()) || w.chars().all(|c| c.is_ascii_digit()));
        let value = line[colon + 1..].trim();
        let said = words(value);
        let Some(first) = said.first() else {
            continue;
        };
        let named: BTreeSet<ReviewVerdict> = said
            .iter()
            .filter_map(|w| ReviewVerdict::parse_word(w))
            .collect();
        if named.len() > 1 {
            // `Verdict: APPROVED | REVISE | BLOCKED`, the prompt's own words: all of them.
            found.extend(named.into_iter().map(LineVerdict::Plain));
            continue;
        }
        match ReviewVerdict::parse_word(first) {
            Some(ReviewVerdict::Approved) if usual_key && !conditional(&said[1..], usize::MAX) => {
                found.push(LineVerdict::Plain(ReviewVerdict::Approved));
            }
            Some(ReviewVerdict::Approved) => found.push(LineVerdict::Qualified(line_text(line))),
            // Reading a REVISE or BLOCKED never approves anything, so it is read however
            // it is put.
            Some(other) => found.push(LineVerdict::Plain(other)),
            None if mentions_approval(&said) => {
                found.push(LineVerdict::Qualified(line_text(line)));
            }
            None => {}
        }
    }
    found
}

fn line_text(line: &str) -> String {
    line.trim()
        .trim_start_matches(['#', '-', '+', ' ', '\t'])
        .trim()
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Qualified approvals

/// Words that, after an approval, may make it conditional (`approved with changes`,
/// `approved, but ...`, `approved if ...`): anything that may be a condition.
const CONDITIONS: &[&str] = &[
    "with",
    "but",
    "if",
    "once",
    "pending",
    "provided",
    "providing",
    "subject",
    "assuming",
    "after",
    "when",
    "whenever",
    "until",
    "unless",
    "except",
    "excepting",
    "contingent",
    "conditional",
    "conditionally",
    "condition",
    "conditions",
    "however",
    "though",
    "although",
    "only",
    "given",
    "modulo",
    "barring",
    "tentatively",
    "provisionally",
    "partially",
    "partly",
    "mostly",
    "needs",
    "need",
    "must",
    "should",
    "requires",
    "require",
    "required",
    "requiring",
    "change",
    "changes",
    "caveat",
    "caveats",
    "reservation",
    "reservations",
    "minus",
    "save",
    "yet",
];

/// Two words that, after an approval, make it conditional.
const CONDITION_PHRASES: &[(&str, &str)] = &[
    ("as", "long"),
    ("so", "long"),
    ("in", "principle"),
    ("on", "condition"),
    ("for", "now"),
    ("as", "soon"),
];

/// Words that, just before a condition word, say there is none (`no changes needed`).
const NONE: &[&str] = &["no", "without", "nothing", "none", "zero"];

/// Words that, before an approval, negate or qualify it (`conditionally approved`, `not
/// approved`); besides these, any word ending in `n't`.
const BEFORE_APPROVAL: &[&str] = &[
    "not",
    "never",
    "cannot",
    "no",
    "conditionally",
    "conditional",
    "provisionally",
    "provisional",
    "tentatively",
    "tentative",
    "partially",
    "partial",
    "partly",
    "almost",
    "nearly",
    "mostly",
    "pre",
    "semi",
    "soft",
    "would",
    "could",
    "might",
    "may",
    "if",
    "once",
    "when",
    "unless",
    "until",
    "before",
];

/// Lower-case words (letters, digits and apostrophes) of `text`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.replace('’', "'").trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

fn is_approval(word: &str) -> bool {
    word.starts_with("approv")
}

fn mentions_approval(words: &[String]) -> bool {
    words.iter().any(|w| is_approval(w))
}

/// Whether the first `reach` words after an approval may make it conditional.
fn conditional(after: &[String], reach: usize) -> bool {
    after.iter().take(reach).enumerate().any(|(i, w)| {
        let said_none = i > 0 && NONE.contains(&after[i - 1].as_str());
        (CONDITIONS.contains(&w.as_str()) && !said_none)
            || after
                .get(i + 1)
                .is_some_and(|next| CONDITION_PHRASES.contains(&(w.as_str(), next.as_str())))
    })
}

fn negates(word: &str) -> bool {
    BEFORE_APPROVAL.contains(&word) || word.ends_with("n't")
}

/// Approvals anywhere in the reviewer's words with a condition or negation attached: in the
/// two words before it on its line, or the two after it (on its line or the next ones).
fn qualified_approvals(lines: &[String]) -> Vec<String> {
    let all: Vec<(usize, String)> = lines
        .iter()
        .enumerate()
        .flat_map(|(n, line)| words(line).into_iter().map(move |w| (n, w)))
        .collect();
    let mut found = Vec::new();
    for (i, (line, word)) in all.iter().enumerate() {
        if !is_approval(word) {
            continue;
        }
        let before = all[i.saturating_sub(2)..i]
            .iter()
            .any(|(n, w)| n == line && negates(w));
        let after: Vec<String> = all[i + 1..]
            .iter()
            .take(3)
            .map(|(_, w)| w.clone())
            .collect();
        if before || conditional(&after, 2) {
            found.push(line_text(&lines[*line]));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str) -> Option<ReviewVerdict> {
        parse_review(text).verdict
    }

    #[test]
    fn a_verdict_in_broken_json_is_said_to_be_broken_with_the_parsers_words() {
        for (reply, parser_says) in [
            (
                "{\"verdict\": \"APPROVED\", \"rationale\": \"fine\",}",
                "trailing comma",
            ),
            (
                "Here is my review.\n\n```json\n{\"verdict\": \"APPROVED\" \"rationale\": \"ok\"}\n```\n",
                "expected `,` or `}`",
            ),
            ("{\"verdict\": APPROVED}", "expected value"),
        ] {
            let r = parse_review(reply);
            assert_eq!(r.verdict, None, "{reply:?}");
            assert_eq!(r.problem, Some(VerdictProblem::MalformedJson), "{reply:?}");
            assert!(
                r.rationale.contains("JSON that could not be read"),
                "{}",
                r.rationale
            );
            assert!(r.rationale.contains(parser_says), "{}", r.rationale);
        }
        // Broken JSON that names no verdict is not a broken verdict.
        let r = parse_review("{\"notes\": [1, 2,}\n\nNo verdict from me.");
        assert_eq!(r.problem, Some(VerdictProblem::Missing));
        // A verdict line still counts when some other JSON is broken.
        let r = parse_review("{\"verdict\": oops\n\nVerdict: REVISE\n");
        assert_eq!(r.verdict, Some(ReviewVerdict::Revise));
    }

    #[test]
    fn bare_and_fenced_json() {
        let r =
            parse_review(r#"{"verdict": "APPROVED", "rationale": "fine", "feedback_items": []}"#);
        assert_eq!(r.verdict, Some(ReviewVerdict::Approved));
        assert_eq!(r.rationale, "fine");
        let r = parse_review(
            "Looks close.\n\n```json\n{\"verdict\":\"REVISE\",\"rationale\":\"gaps\",\"feedback_items\":[\"add tests\",\"name files\"]}\n```\n",
        );
        assert_eq!(r.verdict, Some(ReviewVerdict::Revise));
        assert_eq!(r.feedback, ["add tests", "name files"]);
        assert_eq!(r.items, ["add tests", "name files"]);
        let pretty = "```json\n{\n  \"verdict\": \"APPROVED\",\n  \"rationale\": \"ok\"\n}\n```";
        assert_eq!(verdict(pretty), Some(ReviewVerdict::Approved));
    }

    #[test]
    fn a_json_verdict_wins_over_lines() {
        let text =
            "Verdict: REVISE was my first thought.\n\n```json\n{\"verdict\": \"APPROVED\"}\n```";
        assert_eq!(verdict(text), Some(ReviewVerdict::Approved));
        let text = "Verdict: APPROVED\n{\"verdict\": \"REVISE\", \"feedback_items\": [\"x\"]}";
        assert_eq!(verdict(text), Some(ReviewVerdict::Revise));
    }

    #[test]
    fn verdict_lines_with_emphasis() {
        for text in [
            "**Verdict:** APPROVED",
            "Verdict: approved.",
            "## Verdict: **Approved**",
            "- _verdict_: APPROVED",
            "Thorough.\n\nFinal verdict: APPROVED ✅",
            "Verdict: APPROVED, no changes needed.",
        ] {
            assert_eq!(verdict(text), Some(ReviewVerdict::Approved), "{text}");
        }
        let r = parse_review("Missing error handling.\nVerdict: REVISE");
        assert_eq!(r.verdict, Some(ReviewVerdict::Revise));
        assert!(r.feedback[0].contains("Missing error handling"));
        assert!(r.items.is_empty());
    }

    #[test]
    fn quoted_and_fenced_verdicts_are_not_the_reviewers() {
        // The reproduction: a quoted approval, then the reviewer's own REVISE.
        let r = parse_review("> Verdict: APPROVED\n\nI disagree: Verdict: REVISE\n");
        assert_eq!(r.verdict, Some(ReviewVerdict::Revise));
        for text in [
            "> Verdict: APPROVED\n\nI disagree.",
            "> _verdict_: APPROVED",
            "An example:\n```\nVerdict: APPROVED\n```\nMine follows later.",
            "> {\"verdict\": \"APPROVED\"}\nNot from me.",
            "> ```json\n> {\"verdict\": \"APPROVED\"}\n> ```",
            "```text\nThe prompt said {\"verdict\": \"APPROVED\"}\n```",
            "~~Verdict: APPROVED~~ on second thoughts, no.",
        ] {
            let r = parse_review(text);
            assert_eq!(r.verdict, None, "{text:?}");
            assert_eq!(r.problem, Some(VerdictProblem::Missing), "{text:?}");
        }
    }

    #[test]
    fn qualified_approvals_are_not_approvals() {
        for text in [
            "Verdict: approved with changes: add tests first",
            "Verdict: APPROVED, but rename the flag",
            "Verdict: approved if the tests pass",
            "Verdict: approved once the tests exist",
            "Verdict: conditionally approved",
            "Verdict: Approved pending a security review",
            "Verdict: APPROVED provided the log format is documented",
            "Verdict: APPROVED (subject to the changes below)",
            "Verdict: APPROVED as long as the tests are added",
            "Verdict: not approved",
            "Verdict: APPROVED\n\nBut the test plan must cover -q.",
            "Verdict: APPROVED\n\nI would not have approved it without the tests, which are missing.",
            "Preliminary verdict: APPROVED",
            "**Verdict:** APPROVED\nApproval is conditional on a benchmark.",
            "{\"verdict\": \"APPROVED with changes\"}",
            "{\"verdict\": \"conditionally approved\"}",
        ] {
            let r = parse_review(text);
            assert_eq!(r.verdict, None, "{text:?}");
            assert_eq!(r.problem, Some(VerdictProblem::Qualified), "{text:?}");
            assert!(r.rationale.contains("did not approve without conditions"));
            assert!(r.feedback.iter().any(|f| f.contains(text.trim())));
        }
        let r = parse_review("Verdict: approved with changes: add tests first");
        assert_eq!(
            r.rationale,
            "The review did not approve without conditions (“Verdict: approved with changes: add tests first”), so it was not taken as an approval."
        );
        // A qualified approval does not outweigh a plain REVISE.
        assert_eq!(
            verdict("Verdict: REVISE\nIt could be approved once tests exist."),
            Some(ReviewVerdict::Revise)
        );
    }

    #[test]
    fn garbage_is_never_an_approval() {
        for text in [
            "",
            "LGTM!",
            "I approve of this design",
            "{\"verdict\": \"APPROVE-ish\"}",
            "{\"verdict\": \"APPROVED\"} and also {\"verdict\": \"REVISE\"}",
            "Verdict: APPROVED\nVerdict: BLOCKED",
            "{\"status\": \"APPROVED\"}",
            "verdict approved",
            "{\"verdict\": \"APPROVED\" | \"REVISE\" | \"BLOCKED\", \"rationale\": \"...\"}",
        ] {
            let r = parse_review(text);
            assert_eq!(r.verdict, None, "{text:?}");
            assert!(r.problem.is_some());
            assert!(!r.feedback.is_empty());
        }
        let r = parse_review("Verdict: APPROVED\nVerdict: BLOCKED");
        assert_eq!(r.problem, Some(VerdictProblem::Conflicting));
        assert!(r.rationale.contains("(APPROVED and BLOCKED)"), "{r:?}");
    }

    #[test]
    fn the_reason_is_said_once_and_the_reply_once() {
        let r = parse_review("LGTM!");
        assert_eq!(r.feedback.len(), 2);
        assert_eq!(r.feedback[0], r.rationale);
        assert_eq!(r.feedback[1], "The reviewer wrote:\nLGTM!");
    }

    #[test]
    fn blocked_feedback_defaults_to_the_rationale_but_counts_no_items() {
        let r = parse_review(r#"{"verdict":"BLOCKED","rationale":"the issue contradicts itself"}"#);
        assert_eq!(r.verdict, Some(ReviewVerdict::Blocked));
        assert_eq!(r.feedback, ["the issue contradicts itself"]);
        assert!(r.items.is_empty());
    }
}

#[cfg(test)]
mod fuzz;
