//! The text of feedback as it passes from reviewers to drafters and into review logs:
//! deduplicated (items that differ only in case, spacing or final punctuation are one),
//! written as bullets, quoted, and summed up in one line when a stage blocks.

use super::verdict::{Review, VerdictProblem};

/// Feedback items compare equal when they differ only in case, spacing or final punctuation.
fn normalise(item: &str) -> String {
    item.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', '!', ';'])
        .to_lowercase()
}

pub fn same(a: &str, b: &str) -> bool {
    normalise(a) == normalise(b)
}

pub fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !item.trim().is_empty() && !out.iter().any(|o| same(o, item)) {
            out.push(item.trim().to_string());
        }
    }
    out
}

pub fn remember(seen: &mut Vec<String>, items: &[String]) {
    for item in items {
        if !item.trim().is_empty() && !seen.iter().any(|s| same(s, item)) {
            seen.push(item.trim().to_string());
        }
    }
}

pub fn bullets(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        return empty.to_string();
    }
    items
        .iter()
        .map(|item| {
            let mut lines = item.trim().lines();
            let first = lines.next().unwrap_or_default();
            let rest: Vec<String> = lines.map(|l| format!("  {l}")).collect();
            if rest.is_empty() {
                format!("- {first}")
            } else {
                format!("- {first}\n{}", rest.join("\n"))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn quote(text: &str) -> String {
    text.trim()
        .lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn one_paragraph(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        "(no rationale given)".into()
    } else if joined.chars().count() > 300 {
        format!("{}…", joined.chars().take(300).collect::<String>())
    } else {
        joined
    }
}

/// What the last review said, in one line: its rationale, then what it asked for that the
/// rationale does not already say. A review without a verdict says only why it has none.
pub fn last_review(review: &Review) -> String {
    match review.problem {
        Some(VerdictProblem::Missing) => return "the last review had no readable verdict".into(),
        Some(VerdictProblem::Conflicting) => {
            return "the last review gave verdicts that contradict each other".into();
        }
        Some(VerdictProblem::Qualified) => {
            return "the last review did not approve without conditions".into();
        }
        Some(VerdictProblem::MalformedJson) => {
            return "the last review's verdict was in JSON that could not be read".into();
        }
        None => {}
    }
    let items: Vec<String> = review
        .items
        .iter()
        .filter(|f| !same(f, &review.rationale))
        .map(|f| one_paragraph(f))
        .collect();
    let said = format!("the last review said: {}", one_paragraph(&review.rationale));
    if items.is_empty() {
        return said;
    }
    let shown = items.len().min(3);
    let more = match items.len() - shown {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    format!("{said}; it asked for: {}{more}", items[..shown].join("; "))
}

pub fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_dedup_ignores_case_spacing_and_final_punctuation() {
        let items: Vec<String> = [
            "Add tests.",
            "add  tests",
            "Name the files",
            "name the files!",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(dedup(&items), ["Add tests.", "Name the files"]);
    }

    #[test]
    fn the_block_reason_says_each_thing_once() {
        use super::super::verdict::parse_review;
        let garbage = parse_review("LGTM!");
        assert_eq!(
            last_review(&garbage),
            "the last review had no readable verdict"
        );
        let revise = parse_review(
            r#"{"verdict": "REVISE", "rationale": "Vague.", "feedback_items": ["vague", "a", "b", "c", "d"]}"#,
        );
        assert_eq!(
            last_review(&revise),
            "the last review said: Vague.; it asked for: a; b; c (and 1 more)"
        );
        let only_rationale =
            parse_review(r#"{"verdict": "REVISE", "rationale": "Name the files."}"#);
        assert_eq!(
            last_review(&only_rationale),
            "the last review said: Name the files."
        );
    }

    #[test]
    fn multi_line_feedback_stays_in_its_bullet() {
        let items = vec!["first\nsecond".to_string(), "third".to_string()];
        assert_eq!(bullets(&items, "None."), "- first\n  second\n- third");
        assert_eq!(bullets(&[], "None."), "None.");
    }
}
