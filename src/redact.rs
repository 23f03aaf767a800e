//! One redaction step for everything the tool writes or shows: committed artifacts, review
//! logs, commit messages and trailers, transcripts, recordings, `--json` events, error
//! messages and every other line on the terminal.
//!
//! A [`Redactor`] knows the *values* of every credential this process was given — each
//! provider's key variable, `GITHUB_TOKEN`, `GH_TOKEN`, and any variable whose name ends in
//! `_KEY`, `_TOKEN`, `_SECRET` or `_PASSWORD` (values of 8 characters or more) — and the shapes
//! of well-known tokens (`sk-…`, `sk-ant-…`, `ghp_…`/`gho_…`/`ghs_…`/`github_pat_…`, `AKIA…`,
//! `AIza…`, `xoxb-…`/`xoxp-…`, `Bearer …`, `https://user:pass@`). It replaces them with
//! [`MASK`] and says what it found by variable name or token kind, never by value, so the
//! run can tell the user which file held what.
//!
//! [`child_env`] keeps the other half of the rule: which of those variables the programs the
//! tool starts may see.

pub mod child_env;

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::env::Env;

/// What a secret is replaced with.
pub const MASK: &str = "[REDACTED]";

/// Values shorter than this are not treated as secrets (too likely to occur by chance).
const MIN_VALUE: usize = 8;

/// Variable names that always hold credentials, whatever their suffix.
const KNOWN: [&str; 2] = ["GITHUB_TOKEN", "GH_TOKEN"];

/// Name endings that mark a variable as holding a credential.
const SUFFIXES: [&str; 6] = [
    "_KEY",
    "_TOKEN",
    "_SECRET",
    "_PASSWORD",
    "_PASSWD",
    "_CREDENTIALS",
];

/// Well-known token shapes, each with what to call it. Capture groups, when there are any,
/// are kept (`Bearer `, `https://`, `@`): only the secret between them is masked.
static SHAPES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"\bsk-ant-[A-Za-z0-9_-]{8,}", "an Anthropic key"),
        (r"\bsk-[A-Za-z0-9_-]{8,}", "an OpenAI-style key"),
        (r"\bgithub_pat_[A-Za-z0-9_]{8,}", "a GitHub token"),
        (r"\bgh[pousr]_[A-Za-z0-9]{8,}", "a GitHub token"),
        (r"\bAKIA[0-9A-Z]{16}\b", "an AWS access key"),
        (r"\bAIza[0-9A-Za-z_-]{20,}", "a Google API key"),
        (r"\bxox[bpoasr]-[A-Za-z0-9-]{8,}", "a Slack token"),
        (r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}", "a bearer token"),
        (
            r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+(@)",
            "a password in a URL",
        ),
    ]
    .into_iter()
    .filter_map(|(pattern, what)| Regex::new(pattern).ok().map(|re| (re, what)))
    .collect()
});

/// Knows the secrets to remove, and removes them.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// (variable name, value), longest value first so a value containing another is masked
    /// whole.
    values: Vec<(String, String)>,
}

/// The result of redacting some text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redacted<'a> {
    pub text: Cow<'a, str>,
    /// What was removed, by variable name or token kind (never the value), each once.
    pub found: Vec<String>,
}

impl Redactor {
    /// The credentials in `env`: the variables named in `key_variables` (each provider's
    /// `api_key_env`), `GITHUB_TOKEN`, `GH_TOKEN`, and every variable whose name ends in
    /// `_KEY`, `_TOKEN`, `_SECRET` or `_PASSWORD`.
    pub fn new<I, S>(env: &Env, key_variables: I) -> Redactor
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let named: Vec<String> = key_variables
            .into_iter()
            .map(|s| s.as_ref().to_string())
            .collect();
        let mut values: Vec<(String, String)> = env
            .names()
            .filter(|name| named.contains(name) || is_credential_name(name))
            .filter_map(|name| {
                let value = env.non_empty(&name)?.trim().to_string();
                (value.chars().count() >= MIN_VALUE).then_some((name, value))
            })
            .collect();
        values.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        values.dedup_by(|a, b| a.1 == b.1);
        Redactor { values }
    }

    /// Also remove `value`, a credential this process found elsewhere than in its environment
    /// (a token from `gh auth token` or a git credential helper); `name` says where.
    pub fn add(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if value.chars().count() < MIN_VALUE || self.values.iter().any(|(_, v)| v == value) {
            return;
        }
        self.values.push((name.to_string(), value.to_string()));
        self.values
            .sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    }

    /// Also remove the credentials `other` knows.
    pub fn extend(&mut self, other: &Redactor) {
        for (name, value) in &other.values {
            if !self.values.iter().any(|(_, v)| v == value) {
                self.values.push((name.clone(), value.clone()));
            }
        }
        self.values
            .sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    }

    /// `text` with every known secret masked, and what was found.
    pub fn redact<'a>(&self, text: &'a str) -> Redacted<'a> {
        let mut found: Vec<String> = Vec::new();
        let mut text: Cow<'a, str> = Cow::Borrowed(text);
        for (name, value) in &self.values {
            if text.contains(value.as_str()) {
                text = Cow::Owned(text.replace(value.as_str(), MASK));
                note(&mut found, name);
            }
        }
        for (shape, what) in SHAPES.iter() {
            if !shape.is_match(&text) {
                continue;
            }
            let replaced = shape
                .replace_all(&text, |caps: &Captures<'_>| {
                    let kept = |i| caps.get(i).map(|m| m.as_str()).unwrap_or_default();
                    format!("{}{MASK}{}", kept(1), kept(2))
                })
                .into_owned();
            // A masked value can look like a shape only if it was not masked yet.
            if replaced != text.as_ref() {
                text = Cow::Owned(replaced);
                note(&mut found, what);
            }
        }
        Redacted { text, found }
    }

    /// `text` with every known secret masked.
    pub fn clean(&self, text: &str) -> String {
        self.redact(text).text.into_owned()
    }

    /// File contents with every known secret masked; contents that are not UTF-8 text have
    /// only the known values masked, byte for byte.
    pub fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> (Cow<'a, [u8]>, Vec<String>) {
        if let Ok(text) = std::str::from_utf8(bytes) {
            let redacted = self.redact(text);
            return match redacted.text {
                Cow::Borrowed(_) => (Cow::Borrowed(bytes), redacted.found),
                Cow::Owned(text) => (Cow::Owned(text.into_bytes()), redacted.found),
            };
        }
        let mut found = Vec::new();
        let mut out: Cow<'a, [u8]> = Cow::Borrowed(bytes);
        for (name, value) in &self.values {
            let needle = value.as_bytes();
            if out.windows(needle.len()).any(|w| w == needle) {
                out = Cow::Owned(replace_bytes(&out, needle, MASK.as_bytes()));
                note(&mut found, name);
            }
        }
        (out, found)
    }
}

/// Whether a variable's name says it holds a credential: `GITHUB_TOKEN`, `GH_TOKEN`, or a name
/// ending in `_KEY`, `_TOKEN`, `_SECRET`, `_PASSWORD`, `_PASSWD` or `_CREDENTIALS`, in any case.
pub fn is_credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    KNOWN.contains(&upper.as_str()) || SUFFIXES.iter().any(|s| upper.ends_with(s))
}

fn note(found: &mut Vec<String>, what: &str) {
    if !found.iter().any(|f| f == what) {
        found.push(what.to_string());
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(pairs: &[(&str, &str)], named: &[&str]) -> Redactor {
        Redactor::new(&Env::from_pairs(pairs.iter().copied()), named)
    }

    #[test]
    fn values_of_credential_variables_are_masked_by_name() {
        let r = redactor(
            &[
                ("ANTHROPIC_API_KEY", "sk-ant-probe-SECRET"),
                ("GITHUB_TOKEN", "ghp_probeSECRET"),
                ("MY_LLM_CRED", "cred-value-123"),
                ("DB_PASSWORD", "hunter22hunter"),
                ("SHORT_TOKEN", "abc"),
                ("HOME", "/home/someone/long"),
            ],
            &["MY_LLM_CRED"],
        );
        let out = r.redact(
            "k=sk-ant-probe-SECRET t=ghp_probeSECRET c=cred-value-123 p=hunter22hunter s=abc h=/home/someone/long",
        );
        assert_eq!(
            out.text,
            "k=[REDACTED] t=[REDACTED] c=[REDACTED] p=[REDACTED] s=abc h=/home/someone/long"
        );
        let mut found = out.found.clone();
        found.sort();
        assert_eq!(
            found,
            [
                "ANTHROPIC_API_KEY",
                "DB_PASSWORD",
                "GITHUB_TOKEN",
                "MY_LLM_CRED"
            ]
        );
        assert!(!format!("{out:?}").contains("SECRET"), "found names values");
    }

    #[test]
    fn token_shapes_are_masked_without_knowing_the_variable() {
        let r = Redactor::default();
        for (text, expected) in [
            ("use sk-xyzSECRET6 now", "use [REDACTED] now"),
            ("sk-ant-api03-AAAAAAAAAAAA", "[REDACTED]"),
            ("-k ghp_abcdefghij1234", "-k [REDACTED]"),
            ("gho_abcdefghij ghs_abcdefghij", "[REDACTED] [REDACTED]"),
            ("github_pat_11ABCDEFG_xyz", "[REDACTED]"),
            ("AKIAIOSFODNN7EXAMPLE", "[REDACTED]"),
            ("AIzaSyA-1234567890abcdefghijk", "[REDACTED]"),
            ("xoxb-1234-5678-abcdef", "[REDACTED]"),
            (
                "Authorization: Bearer abc.def-ghi_jkl",
                "Authorization: Bearer [REDACTED]",
            ),
            (
                "git clone https://alice:s3cr3t@example.com/r.git",
                "git clone https://[REDACTED]@example.com/r.git",
            ),
        ] {
            assert_eq!(r.redact(text).text, expected, "{text}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let r = redactor(&[("OPENAI_API_KEY", "sk-proj-zzzzzzzzzzzz")], &[]);
        for text in [
            "risk-management and task-assignment",
            "the skip-lld flag; ghp_ alone; Bearer",
            "https://example.com/path and user@example.com",
            "token: Option<String>",
        ] {
            let out = r.redact(text);
            assert_eq!(out.text, text);
            assert!(out.found.is_empty(), "{text}: {:?}", out.found);
            assert!(matches!(out.text, Cow::Borrowed(_)));
        }
    }

    #[test]
    fn bytes_are_redacted_as_text_or_byte_for_byte() {
        let r = redactor(&[("X_TOKEN", "tok-12345678")], &[]);
        let (out, found) = r.redact_bytes(b"a tok-12345678 b");
        assert_eq!(out.as_ref(), b"a [REDACTED] b");
        assert_eq!(found, ["X_TOKEN"]);
        let (out, found) = r.redact_bytes(b"\xff tok-12345678 \xfe");
        assert_eq!(out.as_ref(), b"\xff [REDACTED] \xfe");
        assert_eq!(found, ["X_TOKEN"]);
    }
}
