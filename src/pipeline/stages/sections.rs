//! The mechanical check a document passes before anything else reads it — an lld or spec
//! draft before its review, a brief a triage model wrote before it is committed as passed:
//! each required section is a Markdown heading (matched when the heading contains the name,
//! case-insensitively, so numbering is ignored) with something under it.

pub use crate::pipeline::events::SectionProblem;

/// What is wrong with a draft, one problem per section; empty when the draft passes.
pub fn check_sections(draft: &str, required: &[String]) -> Vec<SectionProblem> {
    let headings = headings(draft);
    let mut problems = Vec::new();
    for name in required {
        let wanted = name.trim().to_lowercase();
        let matching: Vec<&Heading> = headings
            .iter()
            .filter(|h| h.text.to_lowercase().contains(&wanted))
            .collect();
        if matching.is_empty() {
            problems.push(SectionProblem::Missing(name.clone()));
        } else if !matching.iter().any(|h| h.has_content) {
            problems.push(SectionProblem::Empty(name.clone()));
        }
    }
    problems
}

struct Heading {
    text: String,
    has_content: bool,
}

/// ATX (`## Title`) and setext (`Title` over `---`) headings outside fenced code, each with
/// whether any text stands between it and the next heading of the same or a higher level.
fn headings(text: &str) -> Vec<Heading> {
    let lines: Vec<&str> = text.lines().collect();
    // (line index, level, text)
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    let mut in_fence: Option<&str> = None;
    let mut is_heading_line = vec![false; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(fence) = in_fence {
            if trimmed.starts_with(fence) {
                in_fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = Some(&trimmed[..3]);
            continue;
        }
        if let Some((level, title)) = atx(trimmed) {
            found.push((i, level, title));
            is_heading_line[i] = true;
            continue;
        }
        if i > 0 && !lines[i - 1].trim().is_empty() && !is_heading_line[i - 1] {
            let underline = line.trim();
            let level = if !underline.is_empty() && underline.chars().all(|c| c == '=') {
                Some(1)
            } else if underline.len() >= 2 && underline.chars().all(|c| c == '-') {
                Some(2)
            } else {
                None
            };
            if let Some(level) = level {
                found.push((i - 1, level, lines[i - 1].trim().to_string()));
                is_heading_line[i - 1] = true;
                is_heading_line[i] = true;
            }
        }
    }
    found
        .iter()
        .enumerate()
        .map(|(n, (line, level, title))| {
            let end = found[n + 1..]
                .iter()
                .find(|(_, l, _)| l <= level)
                .map(|(at, _, _)| *at)
                .unwrap_or(lines.len());
            let has_content =
                (line + 1..end).any(|i| !is_heading_line[i] && !lines[i].trim().is_empty());
            Heading {
                text: title.clone(),
                has_content,
            }
        })
        .collect()
}

fn atx(line: &str) -> Option<(usize, String)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &line[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let title = rest.trim().trim_end_matches('#').trim().to_string();
    Some((level, title))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbered_and_nested_headings_match() {
        let doc = "# Design\n\n## 1. Context\nWhy.\n\n## 2. Proposed Changes\n### Files\n| a | b |\n\n## 3) Requirements\n- R1\n\n## Test plan\n- T1 covers R1\n";
        assert!(
            check_sections(
                doc,
                &req(&["Context", "Proposed Changes", "Requirements", "Test"])
            )
            .is_empty()
        );
    }

    #[test]
    fn missing_and_empty_sections_are_named() {
        let doc = "## Context\n\n## Requirements\n- R1\n```\n## Test\n```\n";
        let problems = check_sections(doc, &req(&["Context", "Requirements", "Test"]));
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            ["empty section: Context", "missing section: Test"]
        );
    }

    #[test]
    fn problems_are_summed_up_each_kind_once() {
        let missing = |n: &str| SectionProblem::Missing(n.into());
        let empty = |n: &str| SectionProblem::Empty(n.into());
        assert_eq!(
            SectionProblem::summary(&[missing("Context"), empty("Requirements"), missing("Test")]),
            "missing sections: Context, Test; empty: Requirements"
        );
        assert_eq!(
            SectionProblem::summary(&[missing("Test")]),
            "missing section: Test"
        );
        assert_eq!(
            SectionProblem::summary(&[empty("A"), empty("B")]),
            "empty sections: A, B"
        );
    }

    #[test]
    fn setext_headings_count() {
        let doc = "Context\n-------\ntext\n\nTest\n====\nmore\n";
        assert!(check_sections(doc, &req(&["context", "TEST"])).is_empty());
    }

    #[test]
    fn a_section_with_only_subheadings_is_empty() {
        let doc = "## Test\n### Unit\n\n## Other\nx\n";
        assert_eq!(
            check_sections(doc, &req(&["Test"])),
            [SectionProblem::Empty("Test".into())]
        );
    }
}
