//! The verdict parser under generated replies: nothing panics, and a reply approves only when
//! it holds an unqualified APPROVED in the reviewer's own words. Replies are built from
//! pieces — plain approvals, qualified ones, conflicting verdicts, JSON with other verdicts,
//! random text — some quoted or fenced, so that which ones may approve is known.

use proptest::prelude::*;

use super::{ReviewVerdict, parse_review};

/// A piece of a reply, and whether it is an unqualified approval in the reviewer's own words.
#[derive(Clone, Debug)]
struct Piece {
    text: String,
    approves: bool,
}

fn piece(text: impl Into<String>, approves: bool) -> Piece {
    Piece {
        text: text.into(),
        approves,
    }
}

fn approving() -> impl Strategy<Value = Piece> {
    prop_oneof![
        Just("Verdict: APPROVED"),
        Just("**Verdict:** APPROVED"),
        Just("Verdict: approved."),
        Just("## Verdict: **Approved**"),
        Just("Final verdict: APPROVED ✅"),
        Just(r#"{"verdict": "APPROVED", "rationale": "complete", "feedback_items": []}"#),
        Just("```json\n{\"verdict\": \"approved\", \"rationale\": \"ok\"}\n```"),
    ]
    .prop_map(|text| piece(text, true))
}

const APPROVAL: &[&str] = &[
    "APPROVED",
    "approved",
    "Approved",
    "**APPROVED**",
    "_approved_",
];

/// Conditions, as reviewers write them; not the parser's own list.
const CONDITION: &[&str] = &[
    "with changes",
    "with minor changes:",
    "with reservations",
    "but",
    "if",
    "only if",
    "once",
    "pending",
    "provided that",
    "providing",
    "subject to",
    "assuming",
    "as long as",
    "so long as",
    "on condition that",
    "unless",
    "except for",
    "after",
    "until",
    "when",
    "conditionally",
    "however",
    "though",
    "in principle",
    "for now",
    "— but",
    "(pending",
    "; must",
    ", should",
    "contingent on",
    "requires",
];

const BEFORE: &[&str] = &[
    "conditionally",
    "provisionally",
    "tentatively",
    "not",
    "not yet",
    "partially",
    "almost",
    "isn't",
    "won't be",
    "cannot be",
];

fn qualified() -> impl Strategy<Value = Piece> {
    let approval = proptest::sample::select(APPROVAL);
    let condition = proptest::sample::select(CONDITION);
    let before = proptest::sample::select(BEFORE);
    let tail = "[a-z ]{0,20}";
    (approval, condition, before, tail, 0..7usize).prop_map(|(a, c, b, tail, form)| {
        let text = match form {
            0 => format!("Verdict: {a} {c} {tail}"),
            1 => format!("Verdict: {a}, {c} {tail}"),
            2 => format!("Verdict: {b} {a}"),
            3 => format!("Verdict: {a}\n\n{c} {tail}"),
            4 => format!("It is {a} {c} {tail}.\nVerdict: {a}"),
            5 => format!("{{\"verdict\": \"APPROVED {c}\"}}"),
            _ => format!("Preliminary verdict: {a}"),
        };
        piece(text, false)
    })
}

fn conflicting() -> impl Strategy<Value = Piece> {
    prop_oneof![
        Just("Verdict: REVISE"),
        Just("Verdict: BLOCKED"),
        Just("I disagree: Verdict: REVISE"),
        Just("**Verdict**: revise"),
        Just(r#"{"verdict": "REVISE", "rationale": "gaps", "feedback_items": ["add tests"]}"#),
        Just("```json\n{\"verdict\": \"BLOCKED\", \"rationale\": \"contradiction\"}\n```"),
    ]
    .prop_map(|text| piece(text, false))
}

fn other_json() -> impl Strategy<Value = Piece> {
    prop_oneof![
        Just(r#"{"verdict": "APPROVE-ish"}"#),
        Just(r#"{"status": "APPROVED"}"#),
        Just(r#"{"verdict": null}"#),
        Just(r#"{"verdict": 1}"#),
        Just(r#"{"verdict": "APPROVED" | "REVISE" | "BLOCKED", "rationale": "one paragraph"}"#),
        Just(r#"{"review": {"verdict": "APPROVED"}}"#),
        Just("Verdict: APPROVED | REVISE | BLOCKED"),
    ]
    .prop_map(|text| piece(text, false))
}

fn random_text() -> impl Strategy<Value = Piece> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z{}:>*#`~\"\\[\\] \n]{0,60}",
        // Markdown and verdict syntax, but never a whole approval: `APPROVE`, not `APPROVED`.
        "(Verdict|verdict|APPROVE|REVISE|BLOCKED|:|>|```|~~| |\n|\\{|\\}|\")*",
    ]
    .prop_map(|text| piece(text, false))
}

/// `p` quoted, or inside fenced code that is not a JSON verdict: never the reviewer's own.
fn hidden(p: Piece) -> impl Strategy<Value = Piece> {
    let text = p.text;
    prop_oneof![
        Just(
            text.lines()
                .map(|l| format!("> {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        Just(
            text.lines()
                .map(|l| format!(">{l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        Just(format!("~~~~text\nAn example:\n{text}\n~~~~")),
    ]
    .prop_map(|text| piece(text, false))
}

fn any_piece() -> impl Strategy<Value = Piece> {
    let shown = prop_oneof![
        approving(),
        qualified(),
        conflicting(),
        other_json(),
        random_text()
    ];
    prop_oneof![
        3 => shown.clone(),
        1 => shown.prop_flat_map(hidden),
    ]
}

fn reply(pieces: &[Piece], gap: &str) -> String {
    pieces
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(gap)
}

proptest! {
    #[test]
    fn no_input_panics(text in any::<String>()) {
        let review = parse_review(&text);
        prop_assert_eq!(review.verdict.is_none(), review.problem.is_some());
    }

    #[test]
    fn no_reply_without_an_unqualified_approval_approves(
        pieces in proptest::collection::vec(any_piece(), 0..6),
        gap in prop_oneof![Just("\n"), Just("\n\n")],
    ) {
        let text = reply(&pieces, gap);
        let review = parse_review(&text);
        prop_assert_eq!(review.verdict.is_none(), review.problem.is_some());
        if !pieces.iter().any(|p| p.approves) {
            prop_assert_ne!(review.verdict, Some(ReviewVerdict::Approved), "{}", text);
        }
    }

    #[test]
    fn a_plain_approval_among_plain_words_approves(
        approval in approving(),
        before in proptest::sample::select(&["", "Thorough and grounded.", "The design names real files.\n"][..]),
        after in proptest::sample::select(&["", "The design is sound.", "Rationale: complete."][..]),
    ) {
        let text = format!("{before}\n{}\n{after}", approval.text);
        prop_assert_eq!(parse_review(&text).verdict, Some(ReviewVerdict::Approved), "{}", text);
    }
}
