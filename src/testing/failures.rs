//! Which tests failed, read from a test run's output.
//!
//! Names are read from the formats of the runners the detection rules start (cargo test and
//! nextest, pytest, go test, jest, vitest) by line patterns, not by running the runner in a
//! machine-readable mode: the command is the user's, and its output is what they would see.
//! When no name can be read (a build that fails, a runner not known here), the caller is told
//! so ([`NewFailures::Unknown`]).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::{Captures, Regex};

/// The test runner whose output was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Runner {
    /// `cargo test` or `cargo nextest`.
    Cargo,
    Pytest,
    /// `go test`.
    Go,
    Jest,
    Vitest,
}

/// The failing tests a run's output names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    /// Each failing test once, as its runner names it (for jest and vitest, with its file).
    /// Empty when the run passed or when its output names no test.
    pub names: BTreeSet<String>,
    /// The runner the output came from, if it could be told.
    pub runner: Option<Runner>,
}

/// Failures of a run that were not failing in the baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewFailures {
    /// The failures not in the baseline; empty if every failure was already there.
    Known(BTreeSet<String>),
    /// One of the runs names no failing test, so the two cannot be compared by name.
    Unknown,
}

impl Failures {
    /// The failing tests named in a run's output (`output` as the user would see it; colour
    /// codes and carriage-return progress are tolerated).
    pub fn parse(output: &str) -> Failures {
        let text = readable(output);
        let lines: Vec<&str> = text.lines().collect();
        let read = [
            (Runner::Cargo, cargo(&lines)),
            (Runner::Pytest, pytest(&lines)),
            (Runner::Go, go(&lines)),
            (Runner::Jest, jest(&lines)),
            (Runner::Vitest, vitest(&lines)),
        ];
        // The runner is the one that named the most failures, else the first recognised.
        let runner = read
            .iter()
            .filter(|(_, r)| !r.names.is_empty())
            .max_by(|(a, x), (b, y)| x.names.len().cmp(&y.names.len()).then(b.cmp(a)))
            .or_else(|| read.iter().find(|(_, r)| r.seen))
            .map(|(runner, _)| *runner);
        let names = read.into_iter().flat_map(|(_, r)| r.names).collect();
        Failures { names, runner }
    }

    /// Whether the output named at least one failing test.
    pub fn known(&self) -> bool {
        !self.names.is_empty()
    }

    /// The failures not in `baseline` (a run of the tests before any change, which already
    /// failed). [`NewFailures::Unknown`] when either names no test: the caller decides what
    /// an unreadable run means.
    pub fn new_failures(&self, baseline: &Failures) -> NewFailures {
        if !self.known() || !baseline.known() {
            return NewFailures::Unknown;
        }
        NewFailures::Known(self.names.difference(&baseline.names).cloned().collect())
    }
}

/// What one runner's parser found.
#[derive(Default)]
struct Read {
    /// The output looks like this runner's.
    seen: bool,
    names: BTreeSet<String>,
}

impl Read {
    fn add(&mut self, name: &str) {
        let name = name.trim();
        if !name.is_empty() {
            self.names.insert(name.to_string());
        }
    }
}

/// A regular expression compiled on first use. The patterns are literals the tests compile;
/// one that did not compile would match nothing.
struct Pattern {
    source: &'static str,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    const fn new(source: &'static str) -> Pattern {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(self.source).ok())
            .as_ref()
    }

    fn is_match(&self, text: &str) -> bool {
        self.regex().is_some_and(|re| re.is_match(text))
    }

    fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        self.regex()?.captures(text)
    }
}

macro_rules! pattern {
    ($name:ident, $re:expr) => {
        static $name: Pattern = Pattern::new($re);
    };
}

pattern!(
    CARGO_SEEN,
    r"^(test .+ \.\.\. (ok|FAILED|ignored)|test result: |running \d+ tests?$|error: could not compile `)"
);
pattern!(
    CARGO_FAILED,
    r"^test (.+?)(?: - should panic(?: with .*)?)? \.\.\. FAILED$"
);
pattern!(CARGO_STDOUT, r"^---- (.+?) stdout ----$");
pattern!(
    NEXTEST_FAILED,
    r"^\s*(?:FAIL|TIMEOUT|SIGSEGV|SIGABRT|SIGKILL) \[\s*[\d.]+m?s\]\s+(?:\(\s*\d+/\d+\)\s+)?\S+ (\S+)"
);

/// `cargo test`: `test a::b ... FAILED`, the `---- a::b stdout ----` sections, the list
/// after the last `failures:`; and nextest's `FAIL [ 0.004s] crate a::b`.
fn cargo(lines: &[&str]) -> Read {
    let mut read = Read::default();
    for (i, line) in lines.iter().enumerate() {
        read.seen |= CARGO_SEEN.is_match(line) || NEXTEST_FAILED.is_match(line);
        if let Some(c) = CARGO_FAILED.captures(line) {
            read.add(&c[1]);
        } else if let Some(c) = CARGO_STDOUT.captures(line) {
            read.add(&c[1]);
        } else if let Some(c) = NEXTEST_FAILED.captures(line) {
            read.add(&c[1]);
        } else if *line == "failures:" {
            for name in failures_list(&lines[i + 1..]) {
                read.add(name);
            }
        }
    }
    read
}

/// The names under a `failures:` line, if they are the list cargo prints before its
/// `test result:` line (the other `failures:` block holds the tests' output).
fn failures_list<'a>(after: &[&'a str]) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut rest = after.iter().skip_while(|l| l.trim().is_empty());
    for line in rest.by_ref() {
        match line.strip_prefix("    ") {
            Some(name) if !name.starts_with(' ') && !name.trim().is_empty() => names.push(name),
            _ if line.trim().is_empty() => break,
            _ => return Vec::new(),
        }
    }
    match rest.find(|l| !l.trim().is_empty()) {
        Some(next) if next.starts_with("test result: ") => names,
        _ => Vec::new(),
    }
}

pattern!(
    PYTEST_SEEN,
    r"^=+ (test session starts|FAILURES|ERRORS|short test summary info|.*\b(passed|failed|errors?)\b.* in [\d.]+s.*) =+$"
);
pattern!(
    PYTEST_SUMMARY,
    r"^(?:FAILED|ERROR) (.+?\.py(?:::.*?)?)(?: - .*)?$"
);
pattern!(
    PYTEST_VERBOSE,
    r"^(\S+\.py::\S+) (?:FAILED|ERROR)(?:\s+\[\s*\d+%\])?$"
);
pattern!(PYTEST_HEADER, r"^_{3,} (.+?) _{3,}$");

/// pytest: the short summary (`FAILED tests/x.py::test_y - ...`, `ERROR ...`) and `-v`
/// lines; without either (an old pytest, `-rN`), the `____ test_y ____` section headers.
fn pytest(lines: &[&str]) -> Read {
    let mut read = Read::default();
    let mut headers = Vec::new();
    for line in lines {
        read.seen |= PYTEST_SEEN.is_match(line);
        if let Some(c) = PYTEST_SUMMARY
            .captures(line)
            .or_else(|| PYTEST_VERBOSE.captures(line))
        {
            read.add(&c[1]);
        } else if let Some(c) = PYTEST_HEADER.captures(line) {
            let name = c.get(1).map_or("", |m| m.as_str());
            let name = [
                "ERROR at setup of ",
                "ERROR at teardown of ",
                "ERROR collecting ",
            ]
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix))
            .unwrap_or(name);
            if !name.contains(' ') {
                headers.push(name);
            }
        }
    }
    if read.seen && read.names.is_empty() {
        for name in headers {
            read.add(name);
        }
    }
    read
}

pattern!(
    GO_SEEN,
    r"^(=== RUN |--- (FAIL|PASS|SKIP): |(ok|FAIL)\s+\S+\s+(\(cached\)|[\d.]+s|\[)|PASS$|FAIL$)"
);
pattern!(GO_FAILED, r"^\s*--- FAIL: (\S+) \(");
pattern!(
    GO_BROKEN,
    r"^FAIL\s+(\S+)\s+\[(build failed|setup failed)\]"
);

/// go test: `--- FAIL: TestX (0.00s)`, subtests (`TestX/case`) included, and packages that
/// did not build (`pkg [build failed]`), which fail every test in them.
fn go(lines: &[&str]) -> Read {
    let mut read = Read::default();
    for line in lines {
        read.seen |= GO_SEEN.is_match(line);
        if let Some(c) = GO_FAILED.captures(line) {
            read.add(&c[1]);
        } else if let Some(c) = GO_BROKEN.captures(line) {
            read.add(&format!("{} [{}]", &c[1], &c[2]));
        }
    }
    read
}

pattern!(JEST_SEEN, r"^(Test Suites: |Tests:\s+\d)");
pattern!(
    JEST_FILE,
    r"^\s*(?:FAIL|PASS)\s+(\S+)(?:\s+\([\d.]+ m?s\))?$"
);
pattern!(JEST_FAILED, r"^\s*● (.+)$");
pattern!(
    CROSS_MARK,
    r"^\s*[✕×✗] (.+?)(?:\s+\(?\d+(?:\.\d+)?\s?m?s\)?)?$"
);

/// jest: `● Suite › test` (in the failure details and the summary), named with the file of
/// the `FAIL  path` header above it; without those, the `✕ test` lines of the verbose tree.
fn jest(lines: &[&str]) -> Read {
    let mut read = Read::default();
    let mut file: Option<&str> = None;
    let mut crossed = Vec::new();
    for line in lines {
        read.seen |= JEST_SEEN.is_match(line);
        if let Some(c) = JEST_FILE.captures(line) {
            file = c.get(1).map(|m| m.as_str());
        } else if let Some(c) = JEST_FAILED.captures(line) {
            let name = c[1].trim();
            // Headings of other blocks: console output, configuration warnings.
            if name == "Console" || name.ends_with(':') {
                continue;
            }
            match file {
                Some(file) => read.add(&format!("{file} › {name}")),
                None => read.add(name),
            }
        } else if let Some(c) = CROSS_MARK.captures(line) {
            crossed.push((file, c.get(1).map_or("", |m| m.as_str())));
        }
    }
    if read.seen && read.names.is_empty() {
        for (file, name) in crossed {
            match file {
                Some(file) => read.add(&format!("{file} › {name}")),
                None => read.add(name),
            }
        }
    }
    read.seen |= !read.names.is_empty();
    read
}

pattern!(VITEST_SEEN, r"^\s*(RUN\s+v\d|Test Files\s+\d)");
pattern!(VITEST_FAILED, r"^\s*FAIL\s+(\S+ > .+?)\s*$");
pattern!(VITEST_FILE_FAILED, r"^\s*FAIL\s+(\S+)\s+\[ \S+ \]\s*$");

/// vitest: `FAIL  src/x.test.ts > suite > test` in the failure details, or a file that failed
/// as a whole (`FAIL  src/x.test.ts [ src/x.test.ts ]`); without those, the `×` lines of the
/// tree.
fn vitest(lines: &[&str]) -> Read {
    let mut read = Read::default();
    let mut crossed = Vec::new();
    for line in lines {
        read.seen |= VITEST_SEEN.is_match(line);
        if let Some(c) = VITEST_FAILED
            .captures(line)
            .or_else(|| VITEST_FILE_FAILED.captures(line))
        {
            read.add(&c[1]);
        } else if let Some(c) = CROSS_MARK.captures(line) {
            crossed.push(c.get(1).map_or("", |m| m.as_str()));
        }
    }
    if read.seen && read.names.is_empty() {
        for name in crossed {
            read.add(name);
        }
    }
    read
}

pattern!(
    ANSI,
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
);

/// Text as a terminal would leave it: colour and cursor codes removed, and of a line
/// rewritten with carriage returns (a progress bar) only what was written last.
pub(super) fn readable(text: &str) -> Cow<'_, str> {
    let text = match ANSI.regex() {
        Some(ansi) => ansi.replace_all(text, ""),
        None => Cow::Borrowed(text),
    };
    if !text.contains('\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body.strip_suffix('\r').unwrap_or(body), "\n"),
            None => (line, ""),
        };
        let shown = body
            .rsplit('\r')
            .find(|part| !part.is_empty())
            .unwrap_or("");
        out.push_str(shown);
        out.push_str(end);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests;
