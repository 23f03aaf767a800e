//! Which tests passed, read from a test run's output: the impl stage proves a change whose
//! tests live in the code files (Rust's inline `#[cfg(test)]` modules) by a test name that
//! the base did not have and that passes now.
//!
//! Only runners that name passing tests are read: cargo test (`test a::b ... ok`), nextest
//! (`PASS [ 0.004s] crate a::b`), pytest with `-v` (`tests/x.py::test_y PASSED`), go test with
//! `-v` (`--- PASS: TestX`), and the verbose trees of jest and vitest (`✓ name`). A runner that
//! prints only counts (pytest without `-v`) names nothing here, and a proof by name is then
//! not possible: the caller says so.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::failures::readable;

static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // cargo test.
        r"^test (.+?)(?: - should panic(?: with .*)?)? \.\.\. ok$",
        // nextest.
        r"^\s*PASS \[\s*[\d.]+m?s\]\s+(?:\(\s*\d+/\d+\)\s+)?\S+ (\S+)$",
        // pytest -v.
        r"^(\S+\.py::\S+) PASSED(?:\s+\[\s*\d+%\])?$",
        // go test -v.
        r"^\s*--- PASS: (\S+) \(",
        // jest and vitest verbose trees.
        r"^\s*[✓√] (.+?)(?:\s+\(?\d+(?:\.\d+)?\s?m?s\)?)?$",
    ]
    .iter()
    .filter_map(|source| Regex::new(source).ok())
    .collect()
});

/// The tests the output names as passing, each once.
pub fn passing(output: &str) -> BTreeSet<String> {
    let text = readable(output);
    let mut names = BTreeSet::new();
    for line in text.lines() {
        for pattern in PATTERNS.iter() {
            if let Some(c) = pattern.captures(line)
                && let Some(name) = c.get(1)
            {
                let name = name.as_str().trim();
                if !name.is_empty() {
                    names.insert(name.to_string());
                }
                break;
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(output: &str) -> Vec<String> {
        passing(output).into_iter().collect()
    }

    #[test]
    fn cargo_and_nextest_name_their_passing_tests() {
        let cargo = "running 3 tests\ntest tests::a ... ok\ntest tests::b ... FAILED\ntest tests::c - should panic ... ok\ntest tests::d ... ignored\n\ntest result: FAILED. 2 passed; 1 failed\n";
        assert_eq!(names(cargo), ["tests::a", "tests::c"]);
        let nextest =
            "    PASS [   0.004s] widgets tests::a\n    FAIL [   0.010s] widgets tests::b\n";
        assert_eq!(names(nextest), ["tests::a"]);
    }

    #[test]
    fn pytest_go_jest_and_vitest_verbose_output_is_read() {
        assert_eq!(
            names(
                "tests/test_x.py::test_one PASSED                [ 50%]\ntests/test_x.py::test_two FAILED [100%]\n"
            ),
            ["tests/test_x.py::test_one"]
        );
        assert_eq!(
            names("=== RUN   TestA\n--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.00s)\n"),
            ["TestA"]
        );
        assert_eq!(
            names("  ✓ adds numbers (3 ms)\n  ✕ subtracts\n"),
            ["adds numbers"]
        );
    }

    #[test]
    fn output_that_names_no_passing_test_gives_none() {
        assert!(passing("....F.\n1 failed, 5 passed in 0.1s\n").is_empty());
        assert!(passing("").is_empty());
        // Colour codes are tolerated.
        assert_eq!(
            names("test \x1b[32ma\x1b[0m ... \x1b[32mok\x1b[0m\n"),
            ["a"]
        );
    }
}
