//! Reading a reviewer's verdict — only from what the reviewer actually said.
//!
//! Reviewers are asked for `{"verdict": "APPROVED" | "REVISE" | "BLOCKED", "rationale": ...,
//! "feedback_items": [...]}`, bare or in a fenced block. Failing that, a line such as
//! `Verdict: APPROVED` (any case, Markdown emphasis allowed) is accepted. Anything else —
//! including verdicts that contradict each other — is "no verdict", which is never an approval.

pub use crate::pipeline::events::ReviewVerdict;

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
    /// `None`: the reply carried no readable verdict (treated as REVISE).
    pub verdict: Option<ReviewVerdict>,
    pub rationale: String,
    pub feedback: Vec<String>,
}

impl Review {
    pub fn verdict_name(&self) -> &'static str {
        self.verdict.map(ReviewVerdict::name).unwrap_or("none")
    }
}

/// How much of an unreadable reply is passed back to the drafter as feedback.
const UNREADABLE_EXCERPT: usize = 4000;

pub fn parse_review(reply: &str) -> Review {
    let objects = json_verdicts(reply);
    if !objects.is_empty() {
        let first = objects[0].verdict;
        if objects.iter().all(|o| o.verdict == first) {
            return objects
                .into_iter()
                .last()
                .map(|o| o.review)
                .unwrap_or_else(|| no_verdict(reply, false));
        }
        return no_verdict(reply, true);
    }
    let lines = line_verdicts(reply);
    if let Some(&first) = lines.first() {
        if lines.iter().all(|v| *v == first) {
            let text = reply.trim().to_string();
            let feedback = if first == ReviewVerdict::Approved {
                Vec::new()
            } else {
                vec![excerpt(&text)]
            };
            return Review {
                verdict: Some(first),
                rationale: text,
                feedback,
            };
        }
        return no_verdict(reply, true);
    }
    no_verdict(reply, false)
}

fn no_verdict(reply: &str, conflicting: bool) -> Review {
    let why = if conflicting {
        "The review gave verdicts that contradict each other, so it was not taken as an approval."
    } else {
        "The review had no verdict that could be read, so it was not taken as an approval."
    };
    let mut feedback = vec![why.to_string()];
    let text = reply.trim();
    if !text.is_empty() {
        feedback.push(format!("The reviewer wrote:\n{}", excerpt(text)));
    }
    Review {
        verdict: None,
        rationale: why.to_string(),
        feedback,
    }
}

fn excerpt(text: &str) -> String {
    if text.len() <= UNREADABLE_EXCERPT {
        return text.to_string();
    }
    let mut end = UNREADABLE_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[…]", &text[..end])
}

struct Found {
    verdict: ReviewVerdict,
    review: Review,
}

/// Every JSON object in the reply that carries a valid `verdict`.
fn json_verdicts(reply: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = reply[at..].find('{') {
        let start = at + offset;
        let mut stream =
            serde_json::Deserializer::from_str(&reply[start..]).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let consumed = stream.byte_offset();
                if let Some(f) = from_object(&value) {
                    found.push(f);
                }
                at = start + consumed.max(1);
            }
            _ => at = start + 1,
        }
    }
    found
}

fn from_object(value: &serde_json::Value) -> Option<Found> {
    let object = value.as_object()?;
    let verdict = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("verdict"))
        .and_then(|(_, v)| v.as_str())
        .and_then(ReviewVerdict::parse_word)?;
    let rationale = object
        .get("rationale")
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    let feedback = match object.get("feedback_items") {
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
    let mut feedback = feedback;
    if feedback.is_empty() && verdict != ReviewVerdict::Approved && !rationale.trim().is_empty() {
        feedback.push(rationale.trim().to_string());
    }
    Some(Found {
        verdict,
        review: Review {
            verdict: Some(verdict),
            rationale,
            feedback,
        },
    })
}

/// `Verdict: X` lines, with Markdown emphasis and list or quote markers stripped.
fn line_verdicts(reply: &str) -> Vec<ReviewVerdict> {
    let strip = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '*' | '_' | '`'))
            .collect::<String>()
    };
    reply
        .lines()
        .filter_map(|line| {
            let line = strip(line);
            let line = line.trim_start_matches(['#', '>', '-', ' ', '\t']).trim();
            let (key, value) = line.split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("verdict") {
                return None;
            }
            let word = value
                .trim()
                .split(|c: char| !c.is_ascii_alphabetic())
                .next()
                .unwrap_or_default();
            ReviewVerdict::parse_word(word)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn verdict_lines_with_emphasis() {
        for text in [
            "**Verdict:** APPROVED",
            "Verdict: approved.",
            "## Verdict: **Approved**",
            "> _verdict_: APPROVED",
        ] {
            assert_eq!(
                parse_review(text).verdict,
                Some(ReviewVerdict::Approved),
                "{text}"
            );
        }
        let r = parse_review("Missing error handling.\nVerdict: REVISE");
        assert_eq!(r.verdict, Some(ReviewVerdict::Revise));
        assert!(r.feedback[0].contains("Missing error handling"));
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
        ] {
            let r = parse_review(text);
            assert_eq!(r.verdict, None, "{text:?}");
            assert!(!r.feedback.is_empty());
        }
    }

    #[test]
    fn blocked_and_feedback_defaults_to_rationale() {
        let r = parse_review(r#"{"verdict":"BLOCKED","rationale":"the issue contradicts itself"}"#);
        assert_eq!(r.verdict, Some(ReviewVerdict::Blocked));
        assert_eq!(r.feedback, ["the issue contradicts itself"]);
    }
}
