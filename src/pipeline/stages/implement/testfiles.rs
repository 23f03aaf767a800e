//! What each changed file is, for the proof: a test, a file that decides how the tests run,
//! code with tests inside it, code, or state an editor or agent leaves behind.
//!
//! The proof runs the test command on the base code with only the change's test files
//! applied, and the change's code with the base's versions of the test files it touched; both
//! need to split a change into its tests and its code. Files that decide how tests run
//! (`conftest.py`, `pytest.ini`, the script the test command names, ...) are tests for that
//! split: a change to them can make the tests pass as surely as a change to a test can.
//! `pyproject.toml`, `setup.cfg` and `package.json` hold both dependencies and test settings,
//! so only a change to their test parts counts; a new dependency is code.

use std::collections::BTreeMap;

use super::guard;

/// How a changed file counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Code (the default).
    Code,
    /// A test file, by its place or name (`tests/`, `test_*.py`, `*_test.go`, ...).
    Test,
    /// A file that decides how the tests run.
    Runner,
    /// A code file with tests inside (Rust's `#[cfg(test)]` modules): code for the split,
    /// proven by test names instead.
    Mixed,
    /// Ignore files and editor or agent state: never an implementation.
    Noise,
}

impl Part {
    /// Whether the file goes with the tests when a change is split.
    pub fn is_test(self) -> bool {
        matches!(self, Part::Test | Part::Runner)
    }
}

/// Files decide how the tests of a repository run: by name, and those the test command
/// names.
#[derive(Clone, Debug, Default)]
pub struct Classifier {
    /// Files the test command names (`sh check.sh`, `make test`'s `Makefile`).
    command_files: Vec<String>,
}

impl Classifier {
    /// `exists` says whether a path is a file of the base.
    pub fn new(command: &str, exists: &dyn Fn(&str) -> bool) -> Classifier {
        Classifier {
            command_files: command_files(command, exists),
        }
    }

    /// How `path` counts, given its content before (`None`: new) and after (`None`: deleted).
    pub fn part(&self, path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> Part {
        if is_noise(path) {
            return Part::Noise;
        }
        if self.command_files.iter().any(|f| f == path) {
            return Part::Runner;
        }
        if guard::is_test_file(path, None) {
            return Part::Test;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "conftest.py" | "pytest.ini" | "tox.ini" | "noxfile.py" | ".noserc" | "nose.cfg"
        ) || lower.starts_with("jest.config.")
            || lower.starts_with("vitest.config.")
            || lower.starts_with("vitest.workspace.")
            || lower.starts_with(".mocharc")
            || lower.starts_with("karma.conf.")
            || matches!(
                path,
                ".cargo/config.toml" | ".cargo/config" | ".config/nextest.toml"
            )
        {
            return Part::Runner;
        }
        match lower.as_str() {
            "pyproject.toml" | "setup.cfg" => {
                if test_sections(&text(before)) != test_sections(&text(after)) {
                    return Part::Runner;
                }
                return Part::Code;
            }
            "package.json" => {
                if package_test_parts(before) != package_test_parts(after) {
                    return Part::Runner;
                }
                return Part::Code;
            }
            _ => {}
        }
        if lower.ends_with(".rs") && (has_inline_tests(before) || has_inline_tests(after)) {
            return Part::Mixed;
        }
        Part::Code
    }
}

/// Ignore files and the state editors and coding agents keep in a work tree.
pub fn is_noise(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or(path);
    let name = path.rsplit('/').next().unwrap_or(path);
    name == ".gitignore"
        || name == ".DS_Store"
        || name.ends_with(".swp")
        || name.ends_with('~')
        || first.starts_with(".aider")
        || matches!(
            first,
            ".claude" | ".vscode" | ".idea" | ".cursor" | ".codex" | ".gemini" | ".continue"
        )
        || first == "CLAUDE.local.md"
}

fn text(bytes: Option<&[u8]>) -> String {
    bytes
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn has_inline_tests(content: Option<&[u8]>) -> bool {
    content.is_some_and(|bytes| {
        let text = String::from_utf8_lossy(bytes);
        text.contains("#[test]") || text.contains("#[tokio::test") || text.contains("#[cfg(test)]")
    })
}

/// The files of the base a test command names: its words that are files (`sh check.sh`,
/// `./tests/run.sh`, `python run_tests.py`), and the build file of a build tool it runs
/// (`make test`: `Makefile`; `just test`: `justfile`; `tox`: `tox.ini`).
pub fn command_files(command: &str, exists: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |path: &str| {
        if exists(path) && !out.iter().any(|p| p == path) {
            out.push(path.to_string());
        }
    };
    for simple in command.split(['\n', ';', '|', '&', '(', ')']) {
        let words: Vec<&str> = simple
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']))
            .filter(|w| !w.is_empty())
            .collect();
        // `VAR=value cmd ...`: the program is the first word that is not an assignment.
        let program = words
            .iter()
            .position(|w| !w.contains('=') || w.starts_with('-'))
            .map(|i| &words[i..])
            .unwrap_or(&[]);
        if let Some(first) = program.first() {
            let tool = first.rsplit('/').next().unwrap_or(first);
            let files: &[&str] = match tool {
                "make" | "gmake" => &["GNUmakefile", "makefile", "Makefile"],
                "just" => &["justfile", "Justfile", ".justfile"],
                "tox" => &["tox.ini"],
                "nox" => &["noxfile.py"],
                "npm" | "yarn" | "pnpm" | "bun" => &["package.json"],
                _ => &[],
            };
            for file in files {
                add(file);
            }
        }
        for word in program {
            if word.starts_with('-') {
                // `make -f build/test.mk`, `--config=x`: the value after `=` may be a file.
                if let Some((_, value)) = word.split_once('=') {
                    add(value.trim_start_matches("./"));
                }
                continue;
            }
            add(word.trim_start_matches("./"));
        }
    }
    out
}

/// The sections of an INI or TOML file that configure tests (`[tool.pytest.ini_options]`,
/// `[tool:pytest]`, `[coverage:run]`, `[testenv]`, ...), by header.
fn test_sections(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            let header = trimmed.trim_matches(['[', ']']).trim().to_ascii_lowercase();
            let test = ["test", "pytest", "tox", "coverage", "nose"]
                .iter()
                .any(|w| header.contains(w));
            current = test.then_some(header);
            continue;
        }
        if let Some(header) = &current {
            let body: &mut String = out.entry(header.clone()).or_default();
            body.push_str(trimmed);
            body.push('\n');
        }
    }
    out
}

/// The parts of a `package.json` that decide how tests run: scripts whose name holds `test`,
/// and the settings of the test runners. `None` when it is not JSON (then any change counts).
fn package_test_parts(content: Option<&[u8]>) -> Option<Vec<(String, String)>> {
    let Some(bytes) = content else {
        return Some(Vec::new());
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut parts = Vec::new();
    if let Some(scripts) = value.get("scripts").and_then(|s| s.as_object()) {
        for (name, script) in scripts {
            if name.contains("test") {
                parts.push((format!("scripts.{name}"), script.to_string()));
            }
        }
    }
    for key in ["jest", "mocha", "ava", "vitest", "c8", "nyc", "tap"] {
        if let Some(setting) = value.get(key) {
            parts.push((key.to_string(), setting.to_string()));
        }
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier(command: &str, files: &'static [&'static str]) -> Classifier {
        Classifier::new(command, &|path| files.contains(&path))
    }

    #[test]
    fn the_files_a_test_command_names_are_found() {
        let files: &[&str] = &["check.sh", "tests/run.sh", "Makefile", "package.json"];
        let exists = |p: &str| files.contains(&p);
        assert_eq!(command_files("sh check.sh", &exists), ["check.sh"]);
        assert_eq!(
            command_files("./tests/run.sh -v", &exists),
            ["tests/run.sh"]
        );
        assert_eq!(command_files("make test", &exists), ["Makefile"]);
        assert_eq!(
            command_files("CI=1 npm test && sh check.sh", &exists),
            ["package.json", "check.sh"]
        );
        assert!(command_files("cargo test", &exists).is_empty());
        assert!(command_files("python -m pytest -q", &exists).is_empty());
    }

    #[test]
    fn files_are_told_apart() {
        let c = classifier("sh check.sh", &["check.sh"]);
        let part = |path: &str| c.part(path, Some(b"x"), Some(b"y"));
        assert_eq!(part("check.sh"), Part::Runner);
        assert_eq!(part("tests/test_api.py"), Part::Test);
        assert_eq!(part("pkg/x_test.go"), Part::Test);
        assert_eq!(part("conftest.py"), Part::Runner);
        assert_eq!(part("app/conftest.py"), Part::Runner);
        assert_eq!(part("jest.config.js"), Part::Runner);
        assert_eq!(part(".cargo/config.toml"), Part::Runner);
        assert_eq!(part("src/app.py"), Part::Code);
        assert_eq!(part(".gitignore"), Part::Noise);
        assert_eq!(part(".aider.chat.history.md"), Part::Noise);
        assert_eq!(part(".claude/settings.json"), Part::Noise);
        assert_eq!(part(".vscode/settings.json"), Part::Noise);
        assert_eq!(
            c.part(
                "src/lib.rs",
                Some(b"pub fn a() {}"),
                Some(b"pub fn a() {}\n#[cfg(test)]\nmod tests { #[test] fn t() {} }")
            ),
            Part::Mixed
        );
        assert_eq!(
            c.part("src/lib.rs", Some(b"pub fn a() {}"), Some(b"pub fn b() {}")),
            Part::Code
        );
    }

    #[test]
    fn only_the_test_parts_of_shared_settings_files_count() {
        let c = Classifier::default();
        let before =
            b"[project]\ndependencies = []\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n";
        let new_dep =
            b"[project]\ndependencies = [\"attrs\"]\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n";
        let skip_tests = b"[project]\ndependencies = []\n\n[tool.pytest.ini_options]\naddopts = \"-q -k 'not slow'\"\n";
        assert_eq!(
            c.part("pyproject.toml", Some(before), Some(new_dep)),
            Part::Code
        );
        assert_eq!(
            c.part("pyproject.toml", Some(before), Some(skip_tests)),
            Part::Runner
        );
        assert_eq!(
            c.part(
                "setup.cfg",
                Some(b"[metadata]\nname = x\n"),
                Some(b"[metadata]\nname = x\n[tool:pytest]\naddopts = --co\n")
            ),
            Part::Runner
        );

        let pkg = br#"{"scripts": {"test": "jest"}, "dependencies": {}}"#;
        let pkg_dep = br#"{"scripts": {"test": "jest"}, "dependencies": {"left-pad": "1"}}"#;
        let pkg_true = br#"{"scripts": {"test": "true"}, "dependencies": {}}"#;
        assert_eq!(c.part("package.json", Some(pkg), Some(pkg_dep)), Part::Code);
        assert_eq!(
            c.part("package.json", Some(pkg), Some(pkg_true)),
            Part::Runner
        );
        assert_eq!(
            c.part("package.json", Some(pkg), Some(b"{ broken")),
            Part::Runner
        );
    }
}
