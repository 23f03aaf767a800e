//! Replies as models write them, read and applied together: the files before, the reply,
//! and the files after — or the refusal, with the tree unchanged.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::{ParseProblemKind, ProblemKind, Protected, apply};

enum Expect {
    /// Every file of the tree after the reply applied.
    Files(&'static [(&'static str, &'static str)]),
    /// The reply is refused with these problems, and no file changes.
    Refused(Vec<ProblemKind>),
}

struct Case {
    name: &'static str,
    before: &'static [(&'static str, &'static str)],
    reply: &'static str,
    expect: Expect,
}

fn ambiguous(line: usize, text: &str) -> ProblemKind {
    ProblemKind::Parse(ParseProblemKind::AmbiguousPath {
        line,
        text: text.to_string(),
    })
}

const GREET: (&str, &str) = ("greet.txt", "Hello\n");
const LICENSE: (&str, &str) = ("LICENSE", "MIT License\n");

fn cases() -> Vec<Case> {
    use Expect::{Files, Refused};
    vec![
        Case {
            name: "a plain block",
            before: &[GREET],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHello, world\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet.txt", "Hello, world\n")]),
        },
        Case {
            name: "LICENSE after greet.txt edits LICENSE (the reported bug)",
            before: &[GREET, LICENSE],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n\n\
                    LICENSE\n<<<<<<< SEARCH\nMIT License\n=======\nApache License 2.0\n>>>>>>> REPLACE\n",
            expect: Files(&[("LICENSE", "Apache License 2.0\n"), ("greet.txt", "Hi\n")]),
        },
        Case {
            name: "LICENSE after greet.txt, both fenced with prose around",
            before: &[GREET, LICENSE],
            reply: "Here are the changes.\n\ngreet.txt\n```text\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n```\n\n\
                    Now the license:\n\nLICENSE\n```text\n<<<<<<< SEARCH\nMIT License\n=======\nISC License\n>>>>>>> REPLACE\n```\n\nDone.\n",
            expect: Files(&[("LICENSE", "ISC License\n"), ("greet.txt", "Hi\n")]),
        },
        Case {
            name: "Makefile, no dot or slash",
            before: &[("Makefile", "all:\n\tcc -o app app.c\n")],
            reply: "Makefile\n```makefile\n<<<<<<< SEARCH\nall:\n=======\nall: app\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("Makefile", "all: app\n\tcc -o app app.c\n")]),
        },
        Case {
            name: "a new Dockerfile, the whole file in one block",
            before: &[],
            reply: "`Dockerfile`\n```dockerfile\n<<<<<<< SEARCH\n=======\nFROM alpine:3\nCMD [\"sh\"]\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("Dockerfile", "FROM alpine:3\nCMD [\"sh\"]\n")]),
        },
        Case {
            name: "a new README, a known name",
            before: &[GREET],
            reply: "README\n<<<<<<< SEARCH\n=======\n# Greet\n>>>>>>> REPLACE\n",
            expect: Files(&[("README", "# Greet\n"), GREET]),
        },
        Case {
            name: "a heading naming the Gemfile",
            before: &[("Gemfile", "source \"https://rubygems.org\"\n")],
            reply: "### Gemfile\n\n```ruby\n<<<<<<< SEARCH\nsource \"https://rubygems.org\"\n=======\nsource \"https://rubygems.org\"\ngem \"rake\"\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("Gemfile", "source \"https://rubygems.org\"\ngem \"rake\"\n")]),
        },
        Case {
            name: "an existing path with a space, alone on its line",
            before: &[("docs/my notes.md", "# Notes\n")],
            reply: "docs/my notes.md\n<<<<<<< SEARCH\n# Notes\n=======\n# My notes\n>>>>>>> REPLACE\n",
            expect: Files(&[("docs/my notes.md", "# My notes\n")]),
        },
        Case {
            name: "a new path with a space, in backticks",
            before: &[],
            reply: "`docs/my notes.md`\n<<<<<<< SEARCH\n=======\n# Notes\n>>>>>>> REPLACE\n",
            expect: Files(&[("docs/my notes.md", "# Notes\n")]),
        },
        Case {
            name: "a new path with a space, without quotes: refused",
            before: &[],
            reply: "docs/my notes.md\n<<<<<<< SEARCH\n=======\n# Notes\n>>>>>>> REPLACE\n",
            expect: Refused(vec![ambiguous(1, "docs/my notes.md")]),
        },
        Case {
            name: "an existing file with no dot, not a known name",
            before: &[("greet", "#!/bin/sh\necho hello\n")],
            reply: "greet\n<<<<<<< SEARCH\necho hello\n=======\necho hi\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet", "#!/bin/sh\necho hi\n")]),
        },
        Case {
            name: "a new file with no dot, written ./NAME",
            before: &[],
            reply: "./run-tests\n<<<<<<< SEARCH\n=======\nmake test\n>>>>>>> REPLACE\n",
            expect: Files(&[("run-tests", "make test\n")]),
        },
        Case {
            name: "a block without a path after prose takes the previous block's",
            before: &[GREET],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHello\nBye\n>>>>>>> REPLACE\n\nAnd then:\n\
                    <<<<<<< SEARCH\nBye\n=======\nGoodbye\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet.txt", "Hello\nGoodbye\n")]),
        },
        Case {
            name: "a block after `...` and fences takes the previous block's path",
            before: &[GREET],
            reply: "```text\ngreet.txt\n<<<<<<< SEARCH\nHello\n=======\nHello\nBye\n>>>>>>> REPLACE\n```\n\n...\n\n\
                    ```text\n<<<<<<< SEARCH\nBye\n=======\nGoodbye\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("greet.txt", "Hello\nGoodbye\n")]),
        },
        Case {
            name: "a heading that is a plain word does not stop the previous path",
            before: &[GREET],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHello\nBye\n>>>>>>> REPLACE\n\n### Changes\n\n\
                    <<<<<<< SEARCH\nBye\n=======\nGoodbye\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet.txt", "Hello\nGoodbye\n")]),
        },
        Case {
            name: "the previous block's path named again, not just before the block",
            before: &[GREET],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHello\nBye\n>>>>>>> REPLACE\n\n`greet.txt` again:\nThe last line:\n\
                    <<<<<<< SEARCH\nBye\n=======\nGoodbye\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet.txt", "Hello\nGoodbye\n")]),
        },
        Case {
            name: "another file named between the blocks, not just before: refused",
            before: &[GREET, LICENSE],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n\nLICENSE\n\nThe new text:\n\
                    <<<<<<< SEARCH\nMIT License\n=======\nISC License\n>>>>>>> REPLACE\n",
            expect: Refused(vec![ambiguous(8, "LICENSE")]),
        },
        Case {
            name: "a word that might be a name between the blocks: refused",
            before: &[GREET],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n\nMakefile2\n\
                    <<<<<<< SEARCH\n=======\nall:\n>>>>>>> REPLACE\n",
            expect: Refused(vec![ambiguous(8, "Makefile2")]),
        },
        Case {
            name: "a sentence ending with another file's name between the blocks: refused",
            before: &[GREET, LICENSE],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n\nNow the LICENSE:\n\
                    <<<<<<< SEARCH\nMIT License\n=======\nISC License\n>>>>>>> REPLACE\n",
            expect: Refused(vec![ambiguous(8, "Now the LICENSE:")]),
        },
        Case {
            name: "a name in backticks that is not in the tree, first block: refused",
            before: &[],
            reply: "`greet`\n<<<<<<< SEARCH\n=======\necho hi\n>>>>>>> REPLACE\n",
            expect: Refused(vec![ambiguous(1, "`greet`")]),
        },
        Case {
            name: "a path in a heading, then prose, first block: refused",
            before: &[GREET],
            reply: "### greet.txt\nReplace the greeting:\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n",
            expect: Refused(vec![ambiguous(1, "### greet.txt")]),
        },
        Case {
            name: "after an ambiguous block, a block without a path has none",
            before: &[GREET],
            reply: "greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\nTODO:\n\
                    <<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\nAnd:\n<<<<<<< SEARCH\nHi\n=======\nHey\n>>>>>>> REPLACE\n",
            expect: Refused(vec![
                ambiguous(7, "TODO:"),
                ProblemKind::Parse(ParseProblemKind::MissingPath),
            ]),
        },
        Case {
            name: "no path anywhere",
            before: &[GREET],
            reply: "Here is the change:\n\n```text\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n```\n",
            expect: Refused(vec![ProblemKind::Parse(ParseProblemKind::MissingPath)]),
        },
        Case {
            name: "a fence language is not a path",
            before: &[GREET],
            reply: "python\n```python\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n```\n",
            expect: Refused(vec![ProblemKind::Parse(ParseProblemKind::MissingPath)]),
        },
        Case {
            name: "the path on the fence line",
            before: &[GREET, LICENSE],
            reply: "```text greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n```\n\
                    ```text LICENSE\n<<<<<<< SEARCH\nMIT License\n=======\nISC License\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("LICENSE", "ISC License\n"), ("greet.txt", "Hi\n")]),
        },
        Case {
            name: "the path fenced alone before the block's own fence",
            before: &[LICENSE],
            reply: "```text\nLICENSE\n```\n```text\n<<<<<<< SEARCH\nMIT License\n=======\nISC License\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("LICENSE", "ISC License\n")]),
        },
        Case {
            name: "a comment line inside the fence",
            before: &[("src/a.rs", "fn a() {}\n")],
            reply: "```rust\n// src/a.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn a() -> u8 { 1 }\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("src/a.rs", "fn a() -> u8 { 1 }\n")]),
        },
        Case {
            name: "a Python comment label inside the fence",
            before: &[("app/main.py", "x = 1\n")],
            reply: "```python\n# file: app/main.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("app/main.py", "x = 2\n")]),
        },
        Case {
            name: "a label and backticks",
            before: &[GREET],
            reply: "Filename: `greet.txt`\n```\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("greet.txt", "Hi\n")]),
        },
        Case {
            name: "bold label",
            before: &[GREET],
            reply: "**File:** `greet.txt`\n\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet.txt", "Hi\n")]),
        },
        Case {
            name: "a path with a description after it",
            before: &[],
            reply: "`src/new.rs` (new file)\n```rust\n<<<<<<< SEARCH\n=======\npub fn f() {}\n>>>>>>> REPLACE\n```\n",
            expect: Files(&[("src/new.rs", "pub fn f() {}\n")]),
        },
        Case {
            name: "Makefile with a description after it",
            before: &[("Makefile", "all:\n")],
            reply: "Makefile - add a test target\n<<<<<<< SEARCH\nall:\n=======\nall:\ntest:\n>>>>>>> REPLACE\n",
            expect: Files(&[("Makefile", "all:\ntest:\n")]),
        },
        Case {
            name: "numbered list items",
            before: &[GREET, LICENSE],
            reply: "1. `greet.txt`\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n\n\
                    2. `LICENSE`\n<<<<<<< SEARCH\nMIT License\n=======\nISC License\n>>>>>>> REPLACE\n",
            expect: Files(&[("LICENSE", "ISC License\n"), ("greet.txt", "Hi\n")]),
        },
        Case {
            name: "Windows backslashes",
            before: &[("src/sub/a.rs", "a\n")],
            reply: "src\\sub\\a.rs\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n",
            expect: Files(&[("src/sub/a.rs", "b\n")]),
        },
        Case {
            name: "a ./ prefix and a final colon",
            before: &[GREET],
            reply: "./greet.txt:\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet.txt", "Hi\n")]),
        },
        Case {
            name: "a patch-style header",
            before: &[GREET],
            reply: "*** Update File: greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n",
            expect: Files(&[("greet.txt", "Hi\n")]),
        },
        Case {
            name: "tilde fences and a path on the fence",
            before: &[GREET],
            reply: "~~~text greet.txt\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n~~~\n",
            expect: Files(&[("greet.txt", "Hi\n")]),
        },
        Case {
            name: "a CRLF reply editing two files, one of them LICENSE",
            before: &[GREET, LICENSE],
            reply: "greet.txt\r\n```\r\n<<<<<<< SEARCH\r\nHello\r\n=======\r\nHi\r\n>>>>>>> REPLACE\r\n```\r\n\r\n\
                    LICENSE\r\n```\r\n<<<<<<< SEARCH\r\nMIT License\r\n=======\r\nISC License\r\n>>>>>>> REPLACE\r\n```\r\n",
            expect: Files(&[("LICENSE", "ISC License\n"), ("greet.txt", "Hi\n")]),
        },
        Case {
            name: "a whole file in a fence instead of blocks",
            before: &[GREET],
            reply: "greet.txt\n```\nHi\n```\n",
            expect: Refused(vec![ProblemKind::OtherFormat(super::Format::WholeFiles)]),
        },
        Case {
            name: "an empty file filled whole",
            before: &[("CHANGELOG", "")],
            reply: "CHANGELOG\n<<<<<<< SEARCH\n=======\n## 1.0\n- first\n>>>>>>> REPLACE\n",
            expect: Files(&[("CHANGELOG", "## 1.0\n- first\n")]),
        },
        Case {
            name: "a name inside a sentence is not a path",
            before: &[GREET],
            reply: "In `greet.txt`, change the greeting:\n<<<<<<< SEARCH\nHello\n=======\nHi\n>>>>>>> REPLACE\n",
            expect: Refused(vec![ProblemKind::Parse(ParseProblemKind::MissingPath)]),
        },
    ]
}

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let full = dir.path().join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
    }
    dir
}

/// Every file below `root`, by relative path.
fn files(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

fn owned(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

#[test]
fn replies_as_models_write_them() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let protected = Protected::new(&[]).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let dir = tree(case.before);
        let result = apply(dir.path(), case.reply, &protected);
        let after = files(dir.path());
        let wrong = match (&case.expect, result) {
            (Expect::Files(want), Ok(_)) if after == owned(want) => None,
            (Expect::Files(want), result) => Some(format!(
                "want {:?}\n  got {after:?}\n  from {result:?}",
                owned(want)
            )),
            (Expect::Refused(want), Err(rejected)) => {
                let got: Vec<ProblemKind> =
                    rejected.problems.iter().map(|p| p.kind.clone()).collect();
                (got != *want || after != owned(case.before))
                    .then(|| format!("want {want:?}\n  got {got:?}, files {after:?}"))
            }
            (Expect::Refused(want), Ok(applied)) => {
                Some(format!("want {want:?}\n  got {applied:?}, files {after:?}"))
            }
        };
        if let Some(wrong) = wrong {
            failures.push(format!("{}:\n  {wrong}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
