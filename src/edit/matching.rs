//! Finding a SEARCH text in a file's lines: exactly, then ignoring trailing whitespace, then
//! ignoring indentation; and, when nothing matches, the lines of the file most like it.
//! Matching works on line slices, so a block costs one pass over the file.

use std::collections::HashSet;

/// How the file's lines differ in indentation from the SEARCH lines they matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Indent {
    /// The same (or only trailing whitespace differs).
    Same,
    /// Every file line has this much more indentation.
    Add(String),
    /// Every file line has this much less indentation.
    Remove(String),
    /// The differences are not the same on every line: the replacement is used as written.
    Mixed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// One match, starting at this index (0-based).
    Once {
        start: usize,
        indent: Indent,
    },
    /// Several matches, starting at these indexes (0-based), at the first level that had any.
    Many(Vec<usize>),
    Nowhere,
}

/// Where `needle` occurs in `lines` (both without line endings), at the strictest level that
/// finds it.
pub(super) fn find<S: AsRef<str>>(lines: &[S], needle: &[&str]) -> Found {
    type Eq = fn(&str, &str) -> bool;
    let levels: [Eq; 3] = [
        |a, b| a == b,
        |a, b| a.trim_end() == b.trim_end(),
        |a, b| a.trim() == b.trim(),
    ];
    if needle.is_empty() || needle.len() > lines.len() {
        return Found::Nowhere;
    }
    for (level, eq) in levels.iter().enumerate() {
        let starts = starts(lines, needle, *eq);
        match starts.as_slice() {
            [] => continue,
            [start] => {
                let indent = if level < 2 {
                    Indent::Same
                } else {
                    indent(&lines[*start..*start + needle.len()], needle)
                };
                return Found::Once {
                    start: *start,
                    indent,
                };
            }
            _ => return Found::Many(starts),
        }
    }
    Found::Nowhere
}

fn starts<S: AsRef<str>>(lines: &[S], needle: &[&str], eq: fn(&str, &str) -> bool) -> Vec<usize> {
    let last = lines.len() - needle.len();
    (0..=last)
        .filter(|&i| {
            needle
                .iter()
                .zip(&lines[i..])
                .all(|(n, l)| eq(l.as_ref(), n))
        })
        .collect()
}

fn leading(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The uniform indentation offset between matched file lines and SEARCH lines.
fn indent<S: AsRef<str>>(file: &[S], needle: &[&str]) -> Indent {
    let mut offset: Option<Indent> = None;
    for (f, n) in file.iter().zip(needle) {
        let f = f.as_ref();
        if f.trim().is_empty() || n.trim().is_empty() {
            continue;
        }
        let (fi, ni) = (leading(f), leading(n));
        let this = if let Some(extra) = fi.strip_suffix(ni) {
            if extra.is_empty() {
                Indent::Same
            } else {
                Indent::Add(extra.to_string())
            }
        } else if let Some(less) = ni.strip_suffix(fi) {
            Indent::Remove(less.to_string())
        } else {
            return Indent::Mixed;
        };
        match &offset {
            None => offset = Some(this),
            Some(seen) if *seen == this => {}
            Some(_) => return Indent::Mixed,
        }
    }
    offset.unwrap_or(Indent::Same)
}

/// `replace` re-indented by the offset its SEARCH text was found with.
pub(super) fn reindent<'a>(replace: &[&'a str], indent: &Indent) -> Vec<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow;
    replace
        .iter()
        .map(|line| match indent {
            _ if line.trim().is_empty() => Cow::Borrowed(*line),
            Indent::Same | Indent::Mixed => Cow::Borrowed(*line),
            Indent::Add(extra) => Cow::Owned(format!("{extra}{line}")),
            Indent::Remove(less) => Cow::Borrowed(
                line.strip_prefix(less.as_str())
                    .unwrap_or(line.trim_start()),
            ),
        })
        .collect()
}

/// Below this similarity a window of the file is not worth showing.
const CLOSE_ENOUGH: f32 = 0.5;
/// Windows compared character by character, chosen first by the words they share.
const CANDIDATES: usize = 8;
/// At most this many lines of the closest window are shown.
const SHOWN: usize = 40;

/// The window of `lines` most similar to `needle`, as (1-based line number, line) pairs;
/// empty when nothing is similar enough. Windows are ranked by the words they share with the
/// SEARCH text (one pass), then the best few by `similar`'s character ratio.
pub(super) fn closest<S: AsRef<str>>(lines: &[S], needle: &[&str]) -> Vec<(usize, String)> {
    if lines.is_empty() || needle.is_empty() {
        return Vec::new();
    }
    let words: HashSet<&str> = needle.iter().flat_map(|l| tokens(l)).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let size = needle.len().min(lines.len());
    let scores: Vec<usize> = lines
        .iter()
        .map(|l| tokens(l.as_ref()).filter(|t| words.contains(t)).count())
        .collect();
    let mut windows: Vec<(usize, usize)> = Vec::with_capacity(lines.len() - size + 1);
    let mut sum: usize = scores[..size].iter().sum();
    windows.push((sum, 0));
    for start in 1..=lines.len() - size {
        sum = sum + scores[start + size - 1] - scores[start - 1];
        windows.push((sum, start));
    }
    windows.retain(|(score, _)| *score > 0);
    windows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    windows.truncate(CANDIDATES);

    let wanted = needle.join("\n");
    let mut best: Option<(f32, usize)> = None;
    for &(_, start) in &windows {
        let text = lines[start..start + size]
            .iter()
            .map(|l| l.as_ref())
            .collect::<Vec<_>>()
            .join("\n");
        let ratio = similar::TextDiff::from_chars(text.as_str(), wanted.as_str()).ratio();
        if best.is_none_or(|(r, s)| ratio > r || (ratio == r && start < s)) {
            best = Some((ratio, start));
        }
    }
    match best {
        Some((ratio, start)) if ratio >= CLOSE_ENOUGH => lines[start..start + size]
            .iter()
            .take(SHOWN)
            .enumerate()
            .map(|(i, l)| (start + i + 1, l.as_ref().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

fn tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_trailing_then_indentation() {
        let file = ["fn a() {", "    let x = 1;  ", "}", ""];
        assert_eq!(
            find(&file, &["fn a() {"]),
            Found::Once {
                start: 0,
                indent: Indent::Same
            }
        );
        assert_eq!(
            find(&file, &["    let x = 1;"]),
            Found::Once {
                start: 1,
                indent: Indent::Same
            }
        );
        assert_eq!(
            find(&file, &["let x = 1;"]),
            Found::Once {
                start: 1,
                indent: Indent::Add("    ".to_string())
            }
        );
        assert_eq!(find(&file, &["let y = 1;"]), Found::Nowhere);
    }

    #[test]
    fn an_exact_match_wins_over_looser_ones() {
        let file = ["  x", "x", "x "];
        assert_eq!(
            find(&file, &["x"]),
            Found::Once {
                start: 1,
                indent: Indent::Same
            }
        );
        assert_eq!(find(&file, &["x  "]), Found::Many(vec![1, 2]));
    }

    #[test]
    fn uniform_and_mixed_indentation() {
        let file = ["        if a {", "            b();", "        }"];
        assert_eq!(
            find(&file, &["    if a {", "        b();", "    }"]),
            Found::Once {
                start: 0,
                indent: Indent::Add("    ".to_string())
            }
        );
        let file2 = ["if a {", "    b();", "}"];
        assert_eq!(
            find(&file2, &["  if a {", "      b();", "  }"]),
            Found::Once {
                start: 0,
                indent: Indent::Remove("  ".to_string())
            }
        );
        assert_eq!(
            find(&file2, &["if a {", "b();", "}"]),
            Found::Once {
                start: 0,
                indent: Indent::Mixed
            }
        );
        assert_eq!(
            reindent(&["x", "", "  y"], &Indent::Add("\t".to_string())),
            vec!["\tx", "", "\t  y"]
        );
        assert_eq!(
            reindent(&["    x", "  y", "z"], &Indent::Remove("  ".to_string())),
            vec!["  x", "y", "z"]
        );
    }

    #[test]
    fn closest_lines_are_the_most_similar_window() {
        let file: Vec<String> = (0..200)
            .map(|i| format!("let value_{i} = compute({i});"))
            .collect();
        let close = closest(
            &file,
            &[
                "let value_120 = compute(121);",
                "let value_121 = compute(121);",
            ],
        );
        assert_eq!(
            close,
            vec![
                (121, "let value_120 = compute(120);".to_string()),
                (122, "let value_121 = compute(121);".to_string()),
            ]
        );
        assert!(closest(&file, &["nothing alike here"]).is_empty());
    }
}
