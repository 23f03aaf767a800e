//! What a model reads about a failed run, and what identifies the failure from one run to
//! the next.
//!
//! The feedback is bounded (a test printing megabytes must not fill a prompt) and puts the
//! failing tests' names first. The signature lets the caller notice the same failure twice in
//! a row (a model going round in circles): the names when known, otherwise the end of the
//! output with what changes from run to run masked.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use super::failures::{Failures, readable};

/// At most this many lines of feedback.
pub const FEEDBACK_LINES: usize = 200;
/// At most this many bytes of feedback.
pub const FEEDBACK_BYTES: usize = 16 * 1024;
/// Failing tests listed by name in the feedback, and the bytes they may take; the rest are
/// counted.
const LISTED_NAMES: usize = 50;
const LISTED_BYTES: usize = FEEDBACK_BYTES / 2;
/// A longer line of output is shortened in the feedback, so one huge line (a minified
/// bundle, a dumped blob) cannot push out everything else.
const LINE_BYTES: usize = 1024;
/// Lines of output a signature reads when no test is named.
const SIGNATURE_LINES: usize = 60;

/// The feedback for a model after a failed run: the failing tests' names first (when
/// known), then the last lines of the output; at most [`FEEDBACK_LINES`] lines and
/// [`FEEDBACK_BYTES`] bytes. A line that does not fit is left out whole.
pub fn feedback_tail(failures: &Failures, output: &str) -> String {
    let mut out = String::new();
    let mut lines = 0;
    if failures.known() {
        let count = failures.names.len();
        out.push_str(&format!("Failing tests ({count}):\n"));
        let mut listed = 0;
        for name in failures.names.iter().take(LISTED_NAMES) {
            let line = format!("- {}\n", shorten(name));
            if out.len() + line.len() > LISTED_BYTES {
                break;
            }
            out.push_str(&line);
            listed += 1;
        }
        if count > listed {
            out.push_str(&format!("- … and {} more\n", count - listed));
        }
        out.push('\n');
        lines = out.lines().count();
    }
    let heading = "Last lines of the output:\n";
    out.push_str(heading);
    lines += 1;

    let text = readable(output);
    let mut tail: Vec<Cow<'_, str>> = Vec::new();
    let mut bytes = out.len();
    for line in text.lines().rev().skip_while(|l| l.trim().is_empty()) {
        let line = shorten(line);
        if lines + tail.len() + 1 > FEEDBACK_LINES || bytes + line.len() + 1 > FEEDBACK_BYTES {
            break;
        }
        bytes += line.len() + 1;
        tail.push(line);
    }
    if tail.is_empty() {
        out.truncate(out.len() - heading.len());
        out.push_str("(no output)\n");
    }
    for line in tail.iter().rev() {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A line within [`LINE_BYTES`], marked where it was shortened.
fn shorten(line: &str) -> Cow<'_, str> {
    if line.len() <= LINE_BYTES {
        return Cow::Borrowed(line);
    }
    let mut end = LINE_BYTES - 64;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{} … ({} more bytes)",
        &line[..end],
        line.len() - end
    ))
}

/// Identifies a failure, so that the same failure twice in a row can be noticed: equal for
/// two runs that failed the same tests, whatever their timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature(u64);

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The signature of a failed run: its failing tests' names when known, otherwise the last
/// lines of its output with what changes from run to run masked (durations, timestamps,
/// addresses, hashes, temporary paths, ports, process and thread ids).
pub fn signature(failures: &Failures, output: &str) -> Signature {
    let mut hash = Fnv::default();
    if failures.known() {
        hash.write(b"names\0");
        for name in &failures.names {
            hash.write(name.as_bytes());
            hash.write(b"\0");
        }
        return Signature(hash.0);
    }
    hash.write(b"output\0");
    let text = readable(output);
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(GAP_PREFIX))
        .rev()
        .take(SIGNATURE_LINES)
        .map(normalise)
        .collect();
    for line in lines.iter().rev() {
        hash.write(line.trim_end().as_bytes());
        hash.write(b"\n");
    }
    Signature(hash.0)
}

/// What changes between two runs of the same failure, and what it becomes.
static VOLATILE: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
            "<time>",
        ),
        (r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b", "<time>"),
        (
            r"(/private)?/var/folders/[^/\s]+/[^/\s]+/T/[^/\s:'\x22)]+",
            "<tmp>",
        ),
        (r"/(tmp|var/tmp)/[^/\s:'\x22)]+", "<tmp>"),
        (r"0x[0-9a-fA-F]+", "<addr>"),
        (r"\b[0-9a-f]{12,}\b", "<hash>"),
        (
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            "<uuid>",
        ),
        (
            r"\b(127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0):\d+",
            "<host:port>",
        ),
        (
            r"(?i)\b(pid|thread|goroutine|process)([ =:#]*)\d+",
            "$1$2<n>",
        ),
        (r"ThreadId\(\d+\)", "ThreadId(<n>)"),
        (
            r"\b(\d+h)?(\d+m)?\d+(\.\d+)?\s?(ns|µs|us|ms|s|sec|secs|seconds?|min|minutes?)\b",
            "<duration>",
        ),
    ]
    .into_iter()
    .filter_map(|(pattern, with)| Regex::new(pattern).ok().map(|re| (re, with)))
    .collect()
});

fn normalise(line: &str) -> String {
    VOLATILE.iter().fold(line.to_string(), |line, (re, with)| {
        re.replace_all(&line, *with).into_owned()
    })
}

/// FNV-1a, 64 bits: stable across builds, unlike the standard library's hasher.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// How the line standing for the output not kept between the head and the tail starts.
const GAP_PREFIX: &str = "[… output not kept: ";

/// The line standing for `dropped` bytes of output not kept.
pub(super) fn gap_line(dropped: u64) -> String {
    format!("{GAP_PREFIX}{dropped} bytes …]")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn failures(names: &[&str]) -> Failures {
        Failures {
            names: names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
            runner: None,
        }
    }

    #[test]
    fn every_volatile_pattern_compiles() {
        assert_eq!(VOLATILE.len(), 11);
    }

    fn numbered_output(lines: usize, width: usize) -> String {
        (0..lines)
            .map(|i| format!("line {i:05} {}\n", "x".repeat(width)))
            .collect()
    }

    #[test]
    fn feedback_lists_the_failing_tests_first_then_the_last_lines() {
        let output = numbered_output(1000, 10);
        let feedback = feedback_tail(&failures(&["b::two", "a::one"]), &output);
        assert!(
            feedback.starts_with(
                "Failing tests (2):\n- a::one\n- b::two\n\nLast lines of the output:\n"
            ),
            "{feedback}"
        );
        assert!(feedback.ends_with("line 00999 xxxxxxxxxx\n"));
        assert_eq!(feedback.lines().count(), FEEDBACK_LINES);
        // The lines shown are the last ones, in order, none skipped.
        let shown: Vec<&str> = feedback.lines().skip(5).collect();
        let expected: Vec<String> = (1000 - shown.len()..1000)
            .map(|i| format!("line {i:05} xxxxxxxxxx"))
            .collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn feedback_stays_within_its_bytes_with_whole_lines() {
        let output = numbered_output(400, 200);
        let feedback = feedback_tail(&Failures::default(), &output);
        assert!(feedback.len() <= FEEDBACK_BYTES, "{} bytes", feedback.len());
        assert!(feedback.len() > FEEDBACK_BYTES - 220, "filled to the bound");
        assert!(feedback.starts_with("Last lines of the output:\nline "));
        for line in feedback.lines().skip(1) {
            assert_eq!(line.len(), "line 00000 ".len() + 200, "{line:?} is whole");
        }
        assert!(feedback.ends_with(&format!("line 00399 {}\n", "x".repeat(200))));
    }

    #[test]
    fn feedback_counts_names_past_the_list_and_shortens_huge_lines() {
        let names: Vec<String> = (0..80).map(|i| format!("t{i:02}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let output = format!("before\n{}\nlast\n", "z".repeat(100_000));
        let feedback = feedback_tail(&failures(&refs), &output);
        assert!(feedback.contains("- t49\n- … and 30 more\n"));
        assert!(!feedback.contains("- t50"));
        assert!(
            feedback.ends_with(" … (99040 more bytes)\nlast\n"),
            "{feedback}"
        );
        assert!(feedback.contains("before\n"));
        assert!(feedback.len() <= FEEDBACK_BYTES);

        let long: Vec<String> = (0..40)
            .map(|i| format!("{i:02}{}", "n".repeat(900)))
            .collect();
        let refs: Vec<&str> = long.iter().map(String::as_str).collect();
        let feedback = feedback_tail(&failures(&refs), &numbered_output(300, 10));
        assert!(feedback.len() <= FEEDBACK_BYTES, "{} bytes", feedback.len());
        assert!(
            feedback.contains("- 08nnn"),
            "the names the bytes allow are listed"
        );
        assert!(!feedback.contains("- 09nnn"));
        assert!(feedback.contains("- … and 31 more\n"), "{feedback}");
        assert!(
            feedback.ends_with("line 00299 xxxxxxxxxx\n"),
            "the output still has room"
        );
        assert_eq!(feedback_tail(&Failures::default(), "\n\n"), "(no output)\n");
    }

    #[test]
    fn the_same_failures_with_other_timings_sign_the_same() {
        let first = include_str!("fixtures/cargo.txt");
        let second = first
            .replace("finished in 0.00s", "finished in 1.37s")
            .replace("in 0.61s", "in 12.04s")
            .replace("src/parse.rs:41:9", "src/parse.rs:42:9");
        let (a, b) = (Failures::parse(first), Failures::parse(&second));
        assert_eq!(signature(&a, first), signature(&b, &second));
        let other = first
            .replace("test tests::panics_on_zero - should panic ... FAILED", "")
            .replace("    tests::panics_on_zero\n", "")
            .replace("---- tests::panics_on_zero stdout ----", "");
        let c = Failures::parse(&other);
        assert_eq!(c.names.len(), 2);
        assert_ne!(signature(&a, first), signature(&c, &other));
    }

    #[test]
    fn without_names_the_masked_output_signs() {
        let first = include_str!("fixtures/cargo_compile_error.txt");
        let second = first.replace("/tmp/.tmpX9yZ/demo", "/tmp/.tmpQ7rT/demo");
        let none = Failures::default();
        assert_eq!(signature(&none, first), signature(&none, &second));
        let other = first.replace("found `&str`", "found `String`");
        assert_ne!(signature(&none, first), signature(&none, &other));

        let run = |at: &str, took: &str, addr: &str| {
            format!(
                "2024-05-01T{at}Z starting\nthread 'main' (pid 4242) panicked at {addr}\n\
                 segfault after {took}\n{}\n",
                gap_line(123_456)
            )
        };
        assert_eq!(
            signature(&none, &run("10:00:01.5", "1.2s", "0x7ffd1234")),
            signature(&none, &run("11:30:59.0", "15ms", "0x55aa99"))
        );
        // The names win over the output when they are known.
        let names = failures(&["a"]);
        assert_eq!(signature(&names, "one"), signature(&names, "two"));
        assert_ne!(signature(&names, "one"), signature(&none, "one"));
    }

    #[test]
    fn normalising_masks_what_changes_between_runs() {
        assert_eq!(
            normalise(
                "ok  \texample.com/x\t0.004s at 12:01:02 on 127.0.0.1:54321 in /tmp/.tmpAb12/src"
            ),
            "ok  \texample.com/x\t<duration> at <time> on <host:port> in <tmp>/src"
        );
        assert_eq!(
            normalise("goroutine 17 [running]: deps/demo-3f2a1b0c9d8e7f6a 10m0s"),
            "goroutine <n> [running]: deps/demo-<hash> <duration>"
        );
        assert_eq!(
            normalise("expected 3 tests, got 4"),
            "expected 3 tests, got 4"
        );
    }
}
