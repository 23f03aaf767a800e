//! What a text implementer reads besides the documents: the full text of the files the spec
//! names, and a map of the repository, together within `context_tokens`. Both are built once
//! per stage from the commit it began at, so they sit in the prompt's stable part and
//! providers' prompt caches serve later attempts.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::issue::fence_for;

/// Bytes per token, for budgets: a rough average for code and English.
pub const BYTES_PER_TOKEN: u64 = 4;
/// The share of the budget the files the spec names may use; the map gets the rest.
const FILES_SHARE: f64 = 0.7;

static PATH_LIKE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    // `src/cli/run.rs`, `Cargo.toml`, `./pkg/x_test.go`: a word with a dot-extension or a slash.
    Regex::new(r"(?:\./)?[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*\.[A-Za-z0-9]{1,10}\b|(?:\./)?[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_.\-]+)+").ok()
});

/// The paths the spec mentions, in order of first mention, each once. Whether they exist is
/// for the caller to find out.
pub fn spec_paths(spec: &str) -> Vec<String> {
    let Some(re) = PATH_LIKE.as_ref() else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in re.find_iter(spec) {
        // Part of a URL, not a path of this repository.
        if spec[..m.start()].ends_with("//") || spec[..m.start()].ends_with('@') {
            continue;
        }
        let path = m.as_str().trim_start_matches("./").trim_end_matches('.');
        if path.is_empty() || path.split('/').any(|part| part == "..") {
            continue;
        }
        if seen.insert(path.to_string()) {
            out.push(path.to_string());
        }
    }
    out
}

/// A file the spec names, as the prompt shows it.
pub enum Named {
    /// Exists: its text.
    Text { path: String, text: String },
    /// Exists, but is not shown (binary, or over what is left of the budget).
    Withheld { path: String, why: String },
    /// Does not exist: the implementer may create it.
    Missing { path: String },
}

/// The "files the spec names" section of the prompt.
pub fn files_section(named: &[Named]) -> String {
    if named.is_empty() {
        return "The spec names no file of the repository; the map below shows what exists.".into();
    }
    let mut out = String::new();
    for file in named {
        match file {
            Named::Text { path, text } => {
                let fence = fence_for(text);
                out.push_str(&format!("### {path}\n\n{fence}\n{text}"));
                if !text.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!("{fence}\n\n"));
            }
            Named::Withheld { path, why } => {
                out.push_str(&format!("### {path}\n\n(not shown: {why})\n\n"));
            }
            Named::Missing { path } => {
                out.push_str(&format!(
                    "### {path}\n\n(does not exist yet: create it with an empty SEARCH if the spec asks for it)\n\n"
                ));
            }
        }
    }
    out
}

/// Decide which named files are shown in full: in the spec's order, while they fit in the
/// files' share of `budget_tokens`. `read` gives a path's bytes at the stage's start.
pub fn named_files(
    paths: &[String],
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    budget_tokens: u64,
) -> (Vec<Named>, u64) {
    let mut left = (budget_tokens as f64 * BYTES_PER_TOKEN as f64 * FILES_SHARE) as u64;
    let mut used = 0;
    let mut out = Vec::new();
    for path in paths {
        let Some(bytes) = read(path) else {
            // Only paths that look like files of this repository are worth saying missing.
            if path.contains('/') || path.contains('.') {
                out.push(Named::Missing { path: path.clone() });
            }
            continue;
        };
        let text = match String::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => text,
            _ => {
                out.push(Named::Withheld {
                    path: path.clone(),
                    why: "a binary file".into(),
                });
                continue;
            }
        };
        let size = text.len() as u64;
        if size > left {
            out.push(Named::Withheld {
                path: path.clone(),
                why: format!(
                    "{} KB, more than is left of the context budget (stages.impl.context_tokens)",
                    size.div_ceil(1024)
                ),
            });
            continue;
        }
        left -= size;
        used += size;
        out.push(Named::Text {
            path: path.clone(),
            text,
        });
    }
    (out, used / BYTES_PER_TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_the_spec_once_each() {
        let spec = "## Files\n\n1. `src/cli/run.rs`: add the flag.\n2. Cargo.toml gets a dep.\n3. New: ./tests/verbose.rs. Also src/cli/run.rs again; see https://example.com/x.html.";
        assert_eq!(
            spec_paths(spec),
            ["src/cli/run.rs", "Cargo.toml", "tests/verbose.rs"]
        );
    }

    #[test]
    fn named_files_fit_the_budget_and_say_what_is_missing() {
        let read = |path: &str| match path {
            "small.rs" => Some(b"fn a() {}\n".to_vec()),
            "big.rs" => Some(vec![b'x'; 10_000]),
            "bin.dat" => Some(vec![0, 1, 2]),
            _ => None,
        };
        let paths: Vec<String> = ["small.rs", "big.rs", "bin.dat", "new/file.rs"]
            .map(String::from)
            .to_vec();
        let (named, used) = named_files(&paths, &read, 1000);
        let text = files_section(&named);
        assert!(
            text.contains("### small.rs\n\n```\nfn a() {}\n```"),
            "{text}"
        );
        assert!(text.contains("### big.rs\n\n(not shown: 10 KB"), "{text}");
        assert!(
            text.contains("### bin.dat\n\n(not shown: a binary file)"),
            "{text}"
        );
        assert!(
            text.contains("### new/file.rs\n\n(does not exist yet"),
            "{text}"
        );
        assert_eq!(used, 10 / BYTES_PER_TOKEN);
    }
}
