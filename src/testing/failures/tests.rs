//! Failures read from outputs shaped as each runner prints them (`../fixtures/`).

use std::collections::BTreeSet;

use super::*;

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn failures(names: &[&str]) -> Failures {
    Failures {
        names: set(names),
        runner: None,
    }
}

#[test]
fn every_pattern_compiles() {
    for pattern in [
        &CARGO_SEEN,
        &CARGO_FAILED,
        &CARGO_STDOUT,
        &NEXTEST_FAILED,
        &PYTEST_SEEN,
        &PYTEST_SUMMARY,
        &PYTEST_VERBOSE,
        &PYTEST_HEADER,
        &GO_SEEN,
        &GO_FAILED,
        &GO_BROKEN,
        &JEST_SEEN,
        &JEST_FILE,
        &JEST_FAILED,
        &CROSS_MARK,
        &VITEST_SEEN,
        &VITEST_FAILED,
        &VITEST_FILE_FAILED,
        &ANSI,
    ] {
        assert!(pattern.regex().is_some(), "{}", pattern.source);
    }
}

#[test]
fn cargo_test_unit_and_doc_tests() {
    let read = Failures::parse(include_str!("../fixtures/cargo.txt"));
    assert_eq!(read.runner, Some(Runner::Cargo));
    assert_eq!(
        read.names,
        set(&[
            "parse::tests::rejects_tabs",
            "src/lib.rs - add (line 3)",
            "tests::panics_on_zero",
        ])
    );
}

#[test]
fn cargo_failures_list_alone() {
    // What is left when the tail kept only the end of a long run.
    let tail = "failures:\n    a::b\n    c::d\n\ntest result: FAILED. 0 passed; 2 failed; \
                0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n";
    let read = Failures::parse(tail);
    assert_eq!(read.names, set(&["a::b", "c::d"]));
    assert_eq!(read.runner, Some(Runner::Cargo));
    // An indented block that is not that list (a test's own output) is not read as names.
    let output = "failures:\n    not a name\n\nsomething else\n";
    assert!(!Failures::parse(output).known());
}

#[test]
fn cargo_nextest() {
    let read = Failures::parse(include_str!("../fixtures/nextest.txt"));
    assert_eq!(read.names, set(&["tests::subtracts"]));
    assert_eq!(read.runner, Some(Runner::Cargo));
}

#[test]
fn a_build_that_fails_names_no_test() {
    let read = Failures::parse(include_str!("../fixtures/cargo_compile_error.txt"));
    assert!(!read.known());
    assert_eq!(read.runner, Some(Runner::Cargo));
}

#[test]
fn pytest_short_summary() {
    let read = Failures::parse(include_str!("../fixtures/pytest.txt"));
    assert_eq!(read.runner, Some(Runner::Pytest));
    assert_eq!(
        read.names,
        set(&[
            "tests/test_calc.py::test_divide",
            "tests/test_db.py::test_query",
            "tests/test_params.py::TestRound::test_half[2.5-2]",
        ])
    );
    let collection = "ERROR tests/test_broken.py - ModuleNotFoundError: No module named 'x'\n\
                      !!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n\
                      =============================== 1 error in 0.07s ===============================\n";
    assert_eq!(
        Failures::parse(collection).names,
        set(&["tests/test_broken.py"])
    );
}

#[test]
fn pytest_verbose_lines() {
    let read = Failures::parse(include_str!("../fixtures/pytest_verbose.txt"));
    assert_eq!(read.names, set(&["tests/test_calc.py::test_divide"]));
    assert_eq!(read.runner, Some(Runner::Pytest));
}

#[test]
fn pytest_without_a_summary_falls_back_to_section_headers() {
    let full = include_str!("../fixtures/pytest.txt");
    let without_summary = full
        .lines()
        .take_while(|l| !l.contains("short test summary info"))
        .collect::<Vec<_>>()
        .join("\n");
    let read = Failures::parse(&without_summary);
    assert_eq!(
        read.names,
        set(&["TestRound.test_half[2.5-2]", "test_divide", "test_query"])
    );
}

#[test]
fn go_test_with_subtests_and_a_package_that_does_not_build() {
    let read = Failures::parse(include_str!("../fixtures/go.txt"));
    assert_eq!(read.runner, Some(Runner::Go));
    assert_eq!(
        read.names,
        set(&[
            "TestDivide",
            "TestParse",
            "TestParse/tabs",
            "example.com/calc/cmd [build failed]",
        ])
    );
}

#[test]
fn jest_names_with_their_files() {
    let read = Failures::parse(include_str!("../fixtures/jest.txt"));
    assert_eq!(read.runner, Some(Runner::Jest));
    assert_eq!(
        read.names,
        set(&[
            "src/broken.test.js › Test suite failed to run",
            "src/sum.test.js › Math › adds numbers",
            "src/sum.test.js › Math › nested › divides",
        ])
    );
}

#[test]
fn jest_verbose_tree_alone() {
    let tail = " FAIL  src/sum.test.js\n  Math\n    ✓ subtracts (2 ms)\n    ✕ adds numbers (3 ms)\n\n\
                Test Suites: 1 failed, 1 total\nTests:       1 failed, 1 passed, 2 total\n";
    let read = Failures::parse(tail);
    assert_eq!(read.names, set(&["src/sum.test.js › adds numbers"]));
    assert_eq!(read.runner, Some(Runner::Jest));
}

#[test]
fn vitest_failed_tests_and_suites() {
    let read = Failures::parse(include_str!("../fixtures/vitest.txt"));
    assert_eq!(read.runner, Some(Runner::Vitest));
    assert_eq!(
        read.names,
        set(&[
            "src/broken.test.ts",
            "src/math.test.ts > math > adds",
            "src/math.test.ts > math > nested > divides",
        ])
    );
}

#[test]
fn vitest_tree_alone() {
    let tail = " RUN  v2.1.8 /home/u/app\n\n ❯ src/math.test.ts (2 tests | 2 failed) 5ms\n   \
                × math > adds 4ms\n     → expected 3 to be 4\n   ✗ math > divides\n\n \
                Test Files  1 failed (1)\n      Tests  2 failed (2)\n";
    let read = Failures::parse(tail);
    assert_eq!(read.names, set(&["math > adds", "math > divides"]));
    assert_eq!(read.runner, Some(Runner::Vitest));
}

#[test]
fn colour_codes_and_progress_rewrites_do_not_hide_names() {
    let coloured = "\x1b[1m\x1b[31m--- FAIL: \x1b[0mTestX (0.00s)\n\
                    compiling 10%\rcompiling 90%\r\x1b[2Ktest a::b ... \x1b[31mFAILED\x1b[0m\r\n";
    assert_eq!(Failures::parse(coloured).names, set(&["TestX", "a::b"]));
    assert_eq!(readable("a\rb\r\nc\r\n"), "b\nc\n");
}

#[test]
fn output_of_no_known_runner_names_nothing() {
    let read = Failures::parse("make: *** [Makefile:3: test] Error 1\nERROR: something broke\n");
    assert_eq!(read, Failures::default());
}

#[test]
fn new_failures_are_the_names_not_in_the_baseline() {
    let baseline = failures(&["a", "b"]);
    assert_eq!(
        failures(&["b", "c"]).new_failures(&baseline),
        NewFailures::Known(set(&["c"]))
    );
    assert_eq!(
        failures(&["a"]).new_failures(&baseline),
        NewFailures::Known(BTreeSet::new())
    );
    assert_eq!(failures(&[]).new_failures(&baseline), NewFailures::Unknown);
    assert_eq!(
        failures(&["a"]).new_failures(&Failures::default()),
        NewFailures::Unknown
    );
}
