//! Tamper notes: pattern checks on the test files a change touched — deleted, or left with
//! fewer assertions than before. They are notes in the report, not the decision: the decision
//! rests on running the tests (the proof and the original tests, `proof.rs`), because patterns
//! are easy to step around (an emptied script, a check replaced by `true`, an early
//! `return`). Which files are tests, and how many assertions a file holds, are judged from
//! paths and text, for the common languages.

use std::sync::LazyLock;

use regex::Regex;

use crate::git::{FileChange, FileKind};

/// A test file the change touched, and what happened to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TouchedTest {
    pub path: String,
    pub change: TestChange,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestChange {
    Added,
    Deleted,
    /// Modified; assertions before and after.
    Modified {
        before: usize,
        after: usize,
    },
}

impl TouchedTest {
    /// One line for the report.
    pub fn describe(&self) -> String {
        match self.change {
            TestChange::Added => format!("{} (added)", self.path),
            TestChange::Deleted => format!("{} (deleted)", self.path),
            TestChange::Modified { before, after } => {
                format!("{} (modified; assertions {before} → {after})", self.path)
            }
        }
    }
}

/// What the guard found in a change.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// Every test file the change touched.
    pub touched: Vec<TouchedTest>,
    /// The ones it weakened (deleted, or fewer assertions) although the spec does not name
    /// them.
    pub weakened: Vec<TouchedTest>,
}

/// Judge `changes` (against the commit the stage began from; `before` reads a path there).
pub fn check(
    changes: &[FileChange],
    before: &dyn Fn(&str) -> Option<Vec<u8>>,
    spec: &str,
) -> Verdict {
    let mut verdict = Verdict::default();
    for change in changes {
        let old = before(&change.path);
        let was_test = old
            .as_deref()
            .is_some_and(|bytes| is_test_file(&change.path, Some(bytes)));
        let is_test =
            change.kind != FileKind::Deleted && is_test_file(&change.path, Some(&change.content));
        if !was_test && !is_test {
            continue;
        }
        let touched = match (&old, change.kind) {
            (Some(_), FileKind::Deleted) => TestChange::Deleted,
            (None, _) => TestChange::Added,
            (Some(old), _) => TestChange::Modified {
                before: assertions(&String::from_utf8_lossy(old)),
                after: assertions(&String::from_utf8_lossy(&change.content)),
            },
        };
        let touched = TouchedTest {
            path: change.path.clone(),
            change: touched,
        };
        let weakened = match touched.change {
            TestChange::Deleted => true,
            TestChange::Modified { before, after } => after < before,
            TestChange::Added => false,
        };
        if weakened && !names(spec, &change.path) {
            verdict.weakened.push(touched.clone());
        }
        verdict.touched.push(touched);
    }
    verdict
}

/// Whether `spec` names `path` (as written, or without a leading `./`).
pub fn names(spec: &str, path: &str) -> bool {
    spec.contains(path)
}

/// Whether `path` is a test file: by its place (`tests/`, `test/`, `__tests__/`, `spec/`),
/// by its name (`*_test.go`, `test_*.py`, `*_test.py`, `*.test.ts`, `*.spec.js`, ...), or, for
/// Rust, by holding `#[test]` functions.
pub fn is_test_file(path: &str, content: Option<&[u8]>) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let Some((name, dirs)) = parts.split_last() else {
        return false;
    };
    if dirs
        .iter()
        .any(|d| matches!(*d, "tests" | "test" | "__tests__" | "spec" | "specs"))
    {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    let stem_tests = [".test.", ".spec.", "_test.", "_spec."];
    if stem_tests.iter().any(|t| lower.contains(t))
        || (lower.starts_with("test_") && lower.ends_with(".py"))
        || lower.ends_with("test.java")
    {
        return true;
    }
    if lower.ends_with(".rs")
        && let Some(bytes) = content
    {
        let text = String::from_utf8_lossy(bytes);
        return text.contains("#[test]") || text.contains("#[tokio::test");
    }
    false
}

static ASSERTION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \b(?:debug_)?assert(?:_eq|_ne|_matches)?!
      | \bassert(?:[A-Z]\w*|_\w+)?\s*\(
      | \bassert\s
      | \bexpect\s*\(
      | \bt\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\b
      | \b(?:require|assert)\.\w+\(
      | \.should\b
      | \bpytest\.raises\b
      | \bself\.assert\w*\(",
    )
    .ok()
});

/// How many assertions `text` holds, roughly: the calls the common test frameworks assert
/// with, on lines that are not comments (`# assert x` asserts nothing).
pub fn assertions(text: &str) -> usize {
    let Some(re) = ASSERTION.as_ref() else {
        return 0;
    };
    text.lines()
        .filter(|line| {
            let code = line.trim_start();
            !["#", "//", "/*", "*", "--", ";"]
                .iter()
                .any(|mark| code.starts_with(mark))
        })
        .map(|line| re.find_iter(line).count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_files_are_told_by_place_name_and_content() {
        for path in [
            "tests/cli.rs",
            "pkg/x_test.go",
            "test_api.py",
            "src/app/api_test.py",
            "web/src/a.test.ts",
            "web/src/__tests__/a.js",
            "spec/models/user_spec.rb",
            "src/FooTest.java",
        ] {
            assert!(is_test_file(path, None), "{path}");
        }
        for path in ["src/main.rs", "testing.md", "src/contest.py", "latest/x.go"] {
            assert!(!is_test_file(path, None), "{path}");
        }
        assert!(is_test_file(
            "src/lib.rs",
            Some(b"#[cfg(test)]\nmod t { #[test] fn a() {} }")
        ));
    }

    #[test]
    fn assertions_are_counted_across_languages() {
        assert_eq!(
            assertions("assert_eq!(a, b);\nassert!(x);\ndebug_assert!(y);"),
            3
        );
        assert_eq!(
            assertions("assert x == 1\nself.assertEqual(a, b)\nwith pytest.raises(E):"),
            3
        );
        assert_eq!(assertions("expect(a).toBe(1); assert.equal(a, 1);"), 2);
        assert_eq!(assertions("t.Fatalf(\"x\"); require.NoError(t, err)"), 2);
        assert_eq!(assertions("let asserted = 1; // no call"), 0);
        // Commented out, an assertion asserts nothing.
        assert_eq!(
            assertions("# assert x == 1\n    // assert!(y);\nassert z\n"),
            1
        );
    }

    fn base(files: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<Vec<u8>> {
        move |path| {
            files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, c)| c.as_bytes().to_vec())
        }
    }

    #[test]
    fn deleting_a_test_or_removing_assertions_is_noted_unless_the_spec_names_it() {
        let before = base(&[
            (
                "tests/a.rs",
                "#[test]\nfn a() { assert!(true); assert_eq!(1, 1); }",
            ),
            ("tests/b.rs", "#[test]\nfn b() { assert!(true); }"),
            ("src/lib.rs", "pub fn f() {}"),
        ]);
        let changes = vec![
            FileChange::deleted("tests/b.rs"),
            FileChange::file("tests/a.rs", "#[test]\nfn a() { assert!(true); }"),
            FileChange::file("src/lib.rs", "pub fn f() { }"),
            FileChange::file("tests/c.rs", "#[test]\nfn c() { assert!(true); }"),
        ];
        let verdict = check(&changes, &before, "Change src/lib.rs.");
        let weakened: Vec<&str> = verdict.weakened.iter().map(|t| t.path.as_str()).collect();
        assert_eq!(weakened, ["tests/b.rs", "tests/a.rs"]);
        assert_eq!(verdict.touched.len(), 3);
        assert_eq!(
            verdict.touched[1].describe(),
            "tests/a.rs (modified; assertions 2 → 1)"
        );

        let verdict = check(&changes, &before, "Rewrite tests/a.rs; remove tests/b.rs.");
        assert!(verdict.weakened.is_empty());
    }

    #[test]
    fn more_assertions_are_fine() {
        let before = base(&[("tests/a.rs", "#[test]\nfn a() { assert!(true); }")]);
        let changes = vec![FileChange::file(
            "tests/a.rs",
            "#[test]\nfn a() { assert!(true); assert!(1 == 1); }",
        )];
        let verdict = check(&changes, &before, "");
        assert!(verdict.weakened.is_empty());
        assert_eq!(verdict.touched.len(), 1);
    }
}
