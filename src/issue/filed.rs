//! The issue as filed, kept in the last section of a brief a triage model wrote.
//!
//! Every later stage reads the brief, and a re-run rebuilds the issue from the brief on the
//! branch rather than reading it again. A brief a model wrote is the model's words, though,
//! and may have lost what the issue said (a small model's whole brief was once `S`). So the
//! triage stage ends such a brief with the issue as it was read — [`Issue::normalised`]:
//! title, body, comments and, for an issue from a forge, its `## Source` section — in a
//! section of its own, fenced so nothing in it reads as the brief's own structure:
//!
//! ````text
//! # The model's title
//!
//! ## Problem
//! ...
//!
//! ## Issue as filed
//!
//! The issue as it was read when this brief was written, ...
//!
//! ```markdown
//! # The issue's title
//!
//! The issue's body ...
//! ```
//! ````
//!
//! The fence is longer than any run of backticks in the issue, so the issue cannot close it.
//! [`recover`] reads the issue back on a re-run (so later prompts get the issue, not the
//! brief, as `{{issue_text}}`), and [`strip`] is the brief without it. A brief without a
//! triage model *is* the normalised issue, and has no such section.
//!
//! [`Issue::normalised`]: super::Issue::normalised

/// The heading of the section.
pub const HEADING: &str = "## Issue as filed";

/// What the section says about itself, between the heading and the fence.
const NOTE: &str = "The issue as it was read when this brief was written, kept so that later stages and runs see it as filed. It is the issue's own text, not part of the brief.";

/// `brief` followed by the section holding `issue` (normalised issue text).
pub fn append(brief: &str, issue: &str) -> String {
    let issue = issue.trim_end();
    let fence = super::fence_for(issue);
    format!(
        "{}\n\n{HEADING}\n\n{NOTE}\n\n{fence}markdown\n{issue}\n{fence}\n",
        brief.trim_end()
    )
}

/// The issue as filed, when `brief` ends with the section [`append`] writes.
pub fn recover(brief: &str) -> Option<&str> {
    find(brief).map(|found| found.content)
}

/// `brief` without the section, when it ends with one; else all of it.
pub fn strip(brief: &str) -> &str {
    match find(brief) {
        Some(found) => brief[..found.start].trim_end(),
        None => brief,
    }
}

struct Found<'a> {
    /// Where the section's heading starts.
    start: usize,
    /// The fenced text.
    content: &'a str,
}

/// The section at the end of `brief`: its last non-blank line closes a backtick fence, the
/// fence opens below a heading that is [`HEADING`], and only the note stands between them.
fn find(brief: &str) -> Option<Found<'_>> {
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for line in brief.split_inclusive('\n') {
        lines.push((at, line));
        at += line.len();
    }
    let close = lines.iter().rposition(|(_, l)| !l.trim().is_empty())?;
    let fence = lines[close].1.trim();
    if fence.len() < 3 || !fence.chars().all(|c| c == '`') {
        return None;
    }
    // Nothing inside has a run of backticks as long as the fence, so the nearest line above
    // that starts with it opens the block.
    let open = (0..close).rev().find(|&i| {
        lines[i]
            .1
            .trim_end()
            .strip_prefix(fence)
            .is_some_and(|info| !info.starts_with('`'))
    })?;
    let heading = (0..open)
        .rev()
        .find(|&i| lines[i].1.trim_start().starts_with(['#', '`', '~']))?;
    if lines[heading].1.trim() != HEADING {
        return None;
    }
    let content = brief.get(lines[open].0 + lines[open].1.len()..lines[close].0)?;
    Some(Found {
        start: lines[heading].0,
        content: content.strip_suffix('\n').unwrap_or(content),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE: &str = "# Add a --verbose flag\n\nUsers cannot see what the widget does.\n\n```sh\nwidget --verbose\n```\n\n## Source\n\n- Issue: https://github.com/acme/widgets/issues/7\n";

    #[test]
    fn the_issue_comes_back_as_it_went_in() {
        let brief = append("# A sharper title\n\n## Problem\nNo output.\n", ISSUE);
        assert_eq!(recover(&brief), Some(ISSUE.trim_end()));
        assert_eq!(strip(&brief), "# A sharper title\n\n## Problem\nNo output.");
        assert!(brief.contains("\n\n## Issue as filed\n\n"), "{brief}");
        // The issue's own fence does not end the section's.
        assert!(
            brief.contains("\n````markdown\n# Add a --verbose flag\n"),
            "{brief}"
        );
        assert!(brief.ends_with("\n````\n"), "{brief}");
    }

    #[test]
    fn an_issue_with_long_fences_and_a_heading_of_the_same_name_stays_whole() {
        let issue = "# T\n\n## Issue as filed\n\n`````\nquoted\n`````\n";
        let brief = append("# Brief\n\n## Issue as filed\nthe model's own", issue);
        assert_eq!(recover(&brief), Some(issue.trim_end()));
        assert_eq!(
            strip(&brief),
            "# Brief\n\n## Issue as filed\nthe model's own"
        );
        // Appending to a brief that already ends with the section keeps one issue, the new.
        let again = append(strip(&brief), "# Other\n");
        assert_eq!(recover(&again), Some("# Other"));
    }

    #[test]
    fn briefs_without_the_section_have_no_issue_in_them() {
        for brief in [
            "",
            "S",
            "# Add a --verbose flag\n\nBody.\n",
            "# B\n\n```\ncode\n```\n",
            "# B\n\n## Notes\n\n```markdown\n# x\n```\n",
            "## Issue as filed\n\n```markdown\n# x\n```\n\nmore after it\n",
        ] {
            assert_eq!(recover(brief), None, "{brief:?}");
            assert_eq!(strip(brief), brief);
        }
    }

    #[test]
    fn trailing_blank_lines_and_a_missing_final_newline_are_fine() {
        let brief = append("# B", "# T\n\nbody");
        assert_eq!(recover(&format!("{brief}\n\n")), Some("# T\n\nbody"));
        assert_eq!(recover(brief.trim_end()), Some("# T\n\nbody"));
    }
}
