//! The words a model reads after an attempt whose edits were rejected: one paragraph per
//! problem saying which block, what was wrong, the file's closest lines when SEARCH matched
//! nothing, and what to do; the expected format when the reply was not in it. The same
//! problems give the same text.

use super::apply::{Problem, ProblemKind, Rejected, list};
use super::blocks::{Format, ParseProblemKind};
use super::paths::Refusal;

/// How edits are written, as a model is shown it, with `path` (a file of the repository it
/// works in, so the example looks like its files) as the example's path.
pub fn expected_format(path: &str) -> String {
    format!(
        "{path}\n<<<<<<< SEARCH\nexact lines to find (empty to create a new file)\n=======\nreplacement lines\n>>>>>>> REPLACE"
    )
}

/// The most problems described one by one. A runaway reply (thousands of blocks) would
/// otherwise make the next prompt larger than the reply itself.
const SHOWN_PROBLEMS: usize = 10;

const FORMAT_RULES: &str = "\
The path goes alone on the line before each block, relative to the repository root. \
SEARCH quotes lines of the file exactly as they are, enough of them to match one place; \
leave it empty to create a new file. Several blocks may edit one file; they apply in order.";

/// All problems of a rejected attempt, as plain text for the model.
pub fn feedback(rejected: &Rejected, example_path: &str) -> String {
    let expected = expected_format(example_path);
    let mut paragraphs: Vec<String> = Vec::new();
    let whole_reply = rejected.problems.iter().find_map(|p| match p.kind {
        ProblemKind::NoBlocks => Some(None),
        ProblemKind::OtherFormat(format) => Some(Some(format)),
        _ => None,
    });
    if let Some(format) = whole_reply {
        paragraphs.push(match format {
            None => "Your reply has no SEARCH/REPLACE blocks, so nothing was changed. \
                     Write every change as a SEARCH/REPLACE block."
                .to_string(),
            Some(Format::UnifiedDiff) => "Your reply is a unified diff (`---`/`+++` headers \
                 and `@@` hunks), which cannot be applied here, so nothing was changed. \
                 Write every change as a SEARCH/REPLACE block instead."
                .to_string(),
            Some(Format::WholeFiles) => "Your reply has whole files in code fences, which \
                 cannot be applied here, so nothing was changed. Write every change as a \
                 SEARCH/REPLACE block instead, quoting only the lines that change."
                .to_string(),
        });
        paragraphs.push(format!("{expected}\n\n{FORMAT_RULES}"));
        return paragraphs.join("\n\n");
    }

    let with_problems = {
        let mut numbers: Vec<usize> = rejected.problems.iter().filter_map(|p| p.block).collect();
        numbers.dedup();
        numbers.len()
    };
    if with_problems == 0 {
        // Only writing failed: nothing the model can fix, but it is told plainly.
        paragraphs.push("Your blocks were fine, but writing the files failed:".to_string());
        paragraphs.extend(problem_paragraphs(&rejected.problems));
        return paragraphs.join("\n\n");
    }
    paragraphs.push(format!(
        "None of your edits were applied: {with_problems} of your {} block{} had problems, so \
         no file was changed. Reply again with all the blocks, the ones below fixed.",
        rejected.blocks,
        if rejected.blocks == 1 { "" } else { "s" },
    ));
    paragraphs.extend(problem_paragraphs(&rejected.problems));
    if rejected
        .problems
        .iter()
        .any(|p| matches!(p.kind, ProblemKind::Parse(_)))
    {
        paragraphs.push(format!(
            "Every block must look like this:\n\n{expected}\n\n{FORMAT_RULES}"
        ));
    }
    paragraphs.join("\n\n")
}

/// One paragraph per problem, the first [`SHOWN_PROBLEMS`] of them, then how many more there
/// are.
fn problem_paragraphs(problems: &[Problem]) -> Vec<String> {
    let mut out: Vec<String> = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(paragraph)
        .collect();
    let more = problems.len().saturating_sub(SHOWN_PROBLEMS);
    if more > 0 {
        out.push(format!(
            "{more} more problem{} not shown. Fix the ones above, and check your other blocks \
             the same way.",
            if more == 1 { " is" } else { "s are" }
        ));
    }
    out
}

fn paragraph(problem: &Problem) -> String {
    let path = problem.path.as_deref().unwrap_or("the file");
    let mut head = match (problem.block, &problem.path, problem.line) {
        (Some(n), Some(p), Some(l)) => format!("Block {n} ({p}, line {l} of your reply): "),
        (Some(n), None, Some(l)) => format!("Block {n} (line {l} of your reply): "),
        (Some(n), Some(p), None) => format!("Block {n} ({p}): "),
        (Some(n), None, None) => format!("Block {n}: "),
        (None, Some(p), _) => format!("{p}: "),
        (None, None, _) => String::new(),
    };
    let body = match &problem.kind {
        ProblemKind::NoBlocks | ProblemKind::OtherFormat(_) => problem.kind.to_string(),
        ProblemKind::Parse(ParseProblemKind::MissingDivider) => {
            "the block has no `=======` line between its SEARCH and REPLACE parts.".to_string()
        }
        ProblemKind::Parse(ParseProblemKind::MissingReplace) => {
            "the block is not ended by a `>>>>>>> REPLACE` line.".to_string()
        }
        ProblemKind::Parse(ParseProblemKind::MissingPath) => {
            "no file path comes before the block. Put the path alone on the line before it."
                .to_string()
        }
        ProblemKind::Parse(ParseProblemKind::AmbiguousPath { line, text }) => format!(
            "no file path is on the line just before the block, and line {line} of your reply \
             (`{text}`) might be the name of the file it edits, so the block was applied to \
             no file rather than to a guessed one (not even the file of the block before it). \
             Put the block's path alone on the line just before it (before its opening fence, \
             if it has one), even when it is the file of the block before. Write a name with a \
             space in backticks, and a new file whose name has no dot and no slash with `./` \
             in front (`./NAME`)."
        ),
        ProblemKind::Refused(refusal) => refused(refusal, path),
        ProblemKind::NoFile => format!(
            "{path} does not exist. To create it, leave the SEARCH part empty; to edit \
             another file, check the path."
        ),
        ProblemKind::NoMatch { closest } if closest.is_empty() => format!(
            "the SEARCH text matches no lines of {path}, and nothing in the file is like it. \
             Check the path, and quote lines exactly as they are in the file (after your \
             earlier blocks for it)."
        ),
        ProblemKind::NoMatch { closest } => format!(
            "the SEARCH text matches no lines of {path}. The most similar lines of the file \
             are:\n\n{}\n\nQuote the lines exactly as they are in the file, with their \
             whitespace and comments (the numbers are not part of the file).",
            numbered(closest)
        ),
        ProblemKind::Ambiguous { lines } => format!(
            "the SEARCH text matches {} times in {path}, at lines {}. Quote more lines \
             around the place you mean, so that SEARCH matches once.",
            lines.len(),
            list(lines)
        ),
        ProblemKind::Exists => format!(
            "the SEARCH part is empty, which creates a file, but {path} exists. Quote the \
             lines to replace in SEARCH."
        ),
        ProblemKind::Io { message } => format!("{message}."),
    };
    head.push_str(&body);
    head
}

fn refused(refusal: &Refusal, path: &str) -> String {
    match refusal {
        Refusal::Empty => {
            "the block names no file. Put the path alone on the line before it.".to_string()
        }
        Refusal::Absolute => {
            "the path is absolute. Write paths relative to the repository root.".to_string()
        }
        Refusal::ParentDir => "the path has a `..` component. Write paths relative to the \
             repository root, without `..`."
            .to_string(),
        Refusal::GitDir => {
            "files inside `.git` may not be edited. Leave this change out.".to_string()
        }
        Refusal::SymlinkOutside => "the path goes through a symlink leading outside the \
             repository, so it may not be edited. Leave this change out."
            .to_string(),
        Refusal::Binary => format!(
            "{path} is a binary file, which cannot be edited with SEARCH/REPLACE blocks. \
             Leave this change out."
        ),
        Refusal::Protected { glob } => format!(
            "{path} is protected (`{glob}`) and may not be changed. Leave this change out, \
             and reach the goal without it if you can."
        ),
    }
}

/// Lines with their numbers, right-aligned: `  40 | fn main() {`.
fn numbered(lines: &[(usize, String)]) -> String {
    let width = lines
        .iter()
        .map(|(n, _)| n.to_string().len())
        .max()
        .unwrap_or(1);
    lines
        .iter()
        .map(|(n, line)| format!("{n:>width$} | {line}").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{Protected, apply};

    fn rejected(files: &[(&str, &str)], reply: &str) -> Rejected {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            std::fs::write(dir.path().join(path), content).unwrap();
        }
        let protected = Protected::new(&["*.lock".to_string()]).unwrap();
        apply(dir.path(), reply, &protected).unwrap_err()
    }

    #[test]
    fn a_unified_diff_is_answered_with_the_expected_format() {
        let text = feedback(
            &rejected(
                &[],
                "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n",
            ),
            "calc/core.py",
        );
        assert!(text.starts_with("Your reply is a unified diff"), "{text}");
        assert!(text.contains(&expected_format("calc/core.py")), "{text}");
    }

    #[test]
    fn the_format_example_names_a_file_of_the_repository() {
        let text = feedback(&rejected(&[], "All done!"), "calc/core.py");
        assert!(text.contains("calc/core.py\n<<<<<<< SEARCH"), "{text}");
        assert!(!text.contains(".rs"), "{text}");
    }

    #[test]
    fn no_blocks_shows_the_format_too() {
        let text = feedback(&rejected(&[], "All done!"), "calc/core.py");
        assert!(
            text.starts_with("Your reply has no SEARCH/REPLACE blocks"),
            "{text}"
        );
        assert!(text.contains("<<<<<<< SEARCH\n"), "{text}");
    }

    #[test]
    fn one_paragraph_per_problem_with_closest_lines_and_advice() {
        let file =
            "fn alpha() {\n    let total = 1;\n}\n\nfn beta() {\n    run();\n    run();\n}\n";
        let reply = "a.rs\n<<<<<<< SEARCH\nfn alpha() {\n    let totl = 1;\n}\n=======\nfn alpha() {}\n>>>>>>> REPLACE\n\
                     a.rs\n<<<<<<< SEARCH\n    run();\n=======\n    walk();\n>>>>>>> REPLACE\n\
                     Cargo.lock\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n";
        let text = feedback(
            &rejected(&[("a.rs", file), ("Cargo.lock", "x\n")], reply),
            "calc/core.py",
        );
        let expected = "\
None of your edits were applied: 3 of your 3 blocks had problems, so no file was changed. Reply again with all the blocks, the ones below fixed.

Block 1 (a.rs, line 2 of your reply): the SEARCH text matches no lines of a.rs. The most similar lines of the file are:

1 | fn alpha() {
2 |     let total = 1;
3 | }

Quote the lines exactly as they are in the file, with their whitespace and comments (the numbers are not part of the file).

Block 2 (a.rs, line 10 of your reply): the SEARCH text matches 2 times in a.rs, at lines 6, 7. Quote more lines around the place you mean, so that SEARCH matches once.

Block 3 (Cargo.lock, line 16 of your reply): Cargo.lock is protected (`*.lock`) and may not be changed. Leave this change out, and reach the goal without it if you can.";
        assert_eq!(text, expected);
    }

    #[test]
    fn format_problems_end_with_the_expected_format() {
        let reply = "a.rs\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n";
        let text = feedback(&rejected(&[("a.rs", "x\n")], reply), "calc/core.py");
        assert!(
            text.contains("Block 1 (a.rs, line 2 of your reply): the block has no `=======` line"),
            "{text}"
        );
        assert!(text.ends_with(FORMAT_RULES), "{text}");
        assert!(text.contains(&expected_format("calc/core.py")), "{text}");
    }

    #[test]
    fn an_ambiguous_path_names_the_line_and_says_where_the_path_goes() {
        let reply = "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n\n\
                     Makefile2\n<<<<<<< SEARCH\n=======\nall:\n>>>>>>> REPLACE\n";
        let text = feedback(
            &rejected(&[("greet.txt", "Hello\n")], reply),
            "calc/core.py",
        );
        let paragraph = "Block 2 (line 9 of your reply): no file path is on the line just \
                         before the block, and line 8 of your reply (`Makefile2`) might be the \
                         name of the file it edits, so the block was applied to no file rather \
                         than to a guessed one (not even the file of the block before it). Put \
                         the block's path alone on the line just before it (before its opening \
                         fence, if it has one), even when it is the file of the block before. \
                         Write a name with a space in backticks, and a new file whose name has \
                         no dot and no slash with `./` in front (`./NAME`).";
        assert!(text.contains(paragraph), "{text}");
        assert!(
            text.starts_with("None of your edits were applied: 1 of your 2 blocks"),
            "{text}"
        );
        assert!(text.ends_with(FORMAT_RULES), "{text}");
    }

    #[test]
    fn only_the_first_problems_are_described() {
        let one = "a.rs\n<<<<<<< SEARCH\nnot there\n=======\ny\n>>>>>>> REPLACE\n";
        let text = feedback(
            &rejected(&[("a.rs", "x\n")], &one.repeat(25)),
            "calc/core.py",
        );
        assert!(
            text.starts_with("None of your edits were applied: 25 of your 25 blocks"),
            "{text}"
        );
        assert!(text.contains("Block 10 (a.rs"), "{text}");
        assert!(!text.contains("Block 11 (a.rs"), "{text}");
        assert!(
            text.ends_with("15 more problems are not shown. Fix the ones above, and check your other blocks the same way."),
            "{text}"
        );
    }

    #[test]
    fn feedback_is_deterministic() {
        let reply = "a.rs\n<<<<<<< SEARCH\nnothing like it\n=======\ny\n>>>>>>> REPLACE\n\
                     /abs.rs\n<<<<<<< SEARCH\n=======\ny\n>>>>>>> REPLACE\n";
        let a = feedback(&rejected(&[("a.rs", "x\n")], reply), "calc/core.py");
        let b = feedback(&rejected(&[("a.rs", "x\n")], reply), "calc/core.py");
        assert_eq!(a, b);
        assert!(a.contains("nothing in the file is like it"), "{a}");
        assert!(
            a.contains("Block 2 (/abs.rs, line 8 of your reply): the path is absolute"),
            "{a}"
        );
    }
}
