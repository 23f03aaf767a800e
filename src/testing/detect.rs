//! Which command runs a repository's tests, read from the files at its root.
//!
//! Files are read through a closure so the caller can read them from a commit: no work tree
//! is needed, and `--dry-run` can say which command would run. The first rule that matches
//! wins, in this order: Cargo, npm, pytest, Go, make.

use std::fmt;

/// The test command, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCommand {
    /// A shell command line, run from the repository's root.
    pub command: String,
    pub source: TestSource,
}

/// Where the test command came from; displays as the configuration key or the file it was
/// detected from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestSource {
    /// `stages.impl.test_command` in the configuration.
    Config,
    /// Found in this file at the repository's root.
    Detected { file: String },
}

impl fmt::Display for TestSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestSource::Config => f.write_str("stages.impl.test_command"),
            TestSource::Detected { file } => write!(f, "detected from {file}"),
        }
    }
}

/// What `npm init` writes as the test script: no tests.
const NPM_PLACEHOLDER: &str = "no test specified";

/// Files that make a directory a Python project whose tests pytest can run (it also runs
/// `unittest` tests).
const PYTHON_FILES: [&str; 3] = ["pyproject.toml", "setup.cfg", "pytest.ini"];

/// The names GNU make looks for, in its order.
const MAKEFILES: [&str; 3] = ["GNUmakefile", "makefile", "Makefile"];

/// The test command for the repository whose root files `read` returns (`None`: no such
/// file), or `None` if no rule matches. `has_program` says whether a program is on `PATH`:
/// pytest runs through `python`, or `python3` where only that exists (as on most Linux
/// distributions today).
pub fn detect(
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    has_program: &dyn Fn(&str) -> bool,
) -> Option<TestCommand> {
    let pytest = match (has_program("python"), has_program("python3")) {
        (false, true) => "python3 -m pytest",
        _ => "python -m pytest",
    };
    let found = |command: &str, file: &str| TestCommand {
        command: command.to_string(),
        source: TestSource::Detected {
            file: file.to_string(),
        },
    };
    if read("Cargo.toml").is_some() {
        return Some(found("cargo test", "Cargo.toml"));
    }
    if read("package.json").is_some_and(|bytes| has_npm_test(&bytes)) {
        return Some(found("npm test", "package.json"));
    }
    if let Some(file) = PYTHON_FILES.iter().find(|f| read(f).is_some()) {
        return Some(found(pytest, file));
    }
    if read("tox.ini").is_some_and(|bytes| contains(&bytes, "pytest")) {
        return Some(found(pytest, "tox.ini"));
    }
    if read("go.mod").is_some() {
        return Some(found("go test ./...", "go.mod"));
    }
    // make reads the first of these that exists, whatever the others say.
    let makefile = MAKEFILES
        .iter()
        .find_map(|name| read(name).map(|bytes| (*name, bytes)));
    if let Some((name, bytes)) = makefile
        && has_test_target(&String::from_utf8_lossy(&bytes))
    {
        return Some(found("make test", name));
    }
    None
}

/// What a machine needs to run a detected test command: the language's toolchain, for a
/// GitHub Actions workflow to set up before a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toolchain {
    Rust,
    Node,
    Python,
    Go,
}

impl TestCommand {
    /// The toolchain of the rule that detected this command; `None` for a configured command
    /// or a makefile's (which could need anything).
    pub fn toolchain(&self) -> Option<Toolchain> {
        let TestSource::Detected { file } = &self.source else {
            return None;
        };
        match file.as_str() {
            "Cargo.toml" => Some(Toolchain::Rust),
            "package.json" => Some(Toolchain::Node),
            "go.mod" => Some(Toolchain::Go),
            "tox.ini" => Some(Toolchain::Python),
            file if PYTHON_FILES.contains(&file) => Some(Toolchain::Python),
            _ => None,
        }
    }
}

/// Whether a `package.json` has a test script other than npm's placeholder.
fn has_npm_test(bytes: &[u8]) -> bool {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return false;
    };
    json.get("scripts")
        .and_then(|scripts| scripts.get("test"))
        .and_then(serde_json::Value::as_str)
        .is_some_and(|script| !script.trim().is_empty() && !script.contains(NPM_PLACEHOLDER))
}

fn contains(bytes: &[u8], needle: &str) -> bool {
    String::from_utf8_lossy(bytes).contains(needle)
}

/// Whether a makefile has a rule for `test`: a line (not a recipe line, which starts with a
/// tab) naming `test` among the targets before a `:` or `::` that is not an assignment (`:=`).
fn has_test_target(makefile: &str) -> bool {
    makefile.lines().any(|line| {
        if line.starts_with('\t') || line.trim_start().starts_with('#') {
            return false;
        }
        let Some(colon) = line.find(':') else {
            return false;
        };
        let (targets, rest) = line.split_at(colon);
        let assignment = rest.starts_with(":=") || rest.starts_with("::=") || targets.contains('=');
        !assignment && targets.split_whitespace().any(|target| target == "test")
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn detect_in(files: &[(&str, &str)]) -> Option<TestCommand> {
        let files: BTreeMap<String, Vec<u8>> = files
            .iter()
            .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
            .collect();
        detect(&|name| files.get(name).cloned(), &|program| {
            program == "python"
        })
    }

    #[test]
    fn pytest_runs_through_python3_where_only_it_is_installed() {
        let read = |name: &str| (name == "pyproject.toml").then(|| b"[project]\n".to_vec());
        let with = |programs: &'static [&'static str]| {
            detect(&read, &|p| programs.contains(&p)).map(|c| c.command)
        };
        assert_eq!(with(&["python3"]).as_deref(), Some("python3 -m pytest"));
        assert_eq!(
            with(&["python", "python3"]).as_deref(),
            Some("python -m pytest")
        );
        // Neither: the usual name, which the baseline then reports as not found.
        assert_eq!(with(&[]).as_deref(), Some("python -m pytest"));
    }

    fn command(files: &[(&str, &str)]) -> Option<(String, String)> {
        detect_in(files).map(|c| (c.command, c.source.to_string()))
    }

    fn pair(command: &str, source: &str) -> Option<(String, String)> {
        Some((command.to_string(), source.to_string()))
    }

    #[test]
    fn each_rule_names_its_toolchain() {
        let toolchain = |files: &[(&str, &str)]| detect_in(files).and_then(|c| c.toolchain());
        assert_eq!(toolchain(&[("Cargo.toml", "")]), Some(Toolchain::Rust));
        let npm = r#"{"scripts": {"test": "jest"}}"#;
        assert_eq!(toolchain(&[("package.json", npm)]), Some(Toolchain::Node));
        for file in PYTHON_FILES {
            assert_eq!(toolchain(&[(file, "")]), Some(Toolchain::Python), "{file}");
        }
        assert_eq!(
            toolchain(&[("tox.ini", "[testenv]\ncommands = pytest\n")]),
            Some(Toolchain::Python)
        );
        assert_eq!(toolchain(&[("go.mod", "module x\n")]), Some(Toolchain::Go));
        assert_eq!(toolchain(&[("Makefile", "test:\n\ttrue\n")]), None);
        let configured = TestCommand {
            command: "cargo test".into(),
            source: TestSource::Config,
        };
        assert_eq!(configured.toolchain(), None);
    }

    #[test]
    fn cargo() {
        assert_eq!(
            command(&[("Cargo.toml", "[package]\nname = \"x\"\n")]),
            pair("cargo test", "detected from Cargo.toml")
        );
    }

    #[test]
    fn npm_with_a_test_script() {
        let json = r#"{"name": "x", "scripts": {"test": "jest --ci"}}"#;
        assert_eq!(
            command(&[("package.json", json)]),
            pair("npm test", "detected from package.json")
        );
    }

    #[test]
    fn npm_placeholder_no_script_or_broken_json_is_not_a_test_command() {
        let placeholder = r#"{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}}"#;
        assert_eq!(command(&[("package.json", placeholder)]), None);
        assert_eq!(
            command(&[("package.json", r#"{"scripts": {"build": "tsc"}}"#)]),
            None
        );
        assert_eq!(
            command(&[("package.json", r#"{"scripts": {"test": ""}}"#)]),
            None
        );
        assert_eq!(command(&[("package.json", "{ not json")]), None);
        // A placeholder does not hide a later rule.
        assert_eq!(
            command(&[("package.json", placeholder), ("go.mod", "module x\n")]),
            pair("go test ./...", "detected from go.mod")
        );
    }

    #[test]
    fn python_projects_run_pytest() {
        for file in ["pyproject.toml", "setup.cfg", "pytest.ini"] {
            assert_eq!(
                command(&[(file, "[tool]\n")]),
                pair("python -m pytest", &format!("detected from {file}"))
            );
        }
        assert_eq!(
            command(&[("tox.ini", "[tox]\n[testenv]\ncommands = pytest {posargs}\n")]),
            pair("python -m pytest", "detected from tox.ini")
        );
        assert_eq!(
            command(&[("tox.ini", "[tox]\n[testenv]\ncommands = nose2\n")]),
            None
        );
    }

    #[test]
    fn go() {
        assert_eq!(
            command(&[("go.mod", "module example.com/x\n\ngo 1.22\n")]),
            pair("go test ./...", "detected from go.mod")
        );
    }

    #[test]
    fn make_with_a_test_target() {
        for rule in [
            "test:\n\tcargo test\n",
            "all: build\n\n.PHONY: test\ntest: build lint\n\t./run-tests\n",
            "check test :: deps\n\t./t\n",
        ] {
            assert_eq!(
                command(&[("Makefile", rule)]),
                pair("make test", "detected from Makefile"),
                "{rule:?}"
            );
        }
        assert_eq!(
            command(&[("GNUmakefile", "test:\n\tx\n")]),
            pair("make test", "detected from GNUmakefile")
        );
        assert_eq!(
            command(&[("makefile", "test:\n\tx\n")]),
            pair("make test", "detected from makefile")
        );
    }

    #[test]
    fn make_without_a_test_target_is_not_a_test_command() {
        for makefile in [
            "all:\n\tcc main.c\n",
            "test := yes\nbuild:\n\techo $(test)\n",
            "TESTS = test: x\n",
            "# test: not a rule\nbuild:\n\t: test: in a recipe\n",
            "tests:\n\tx\nunit-test:\n\tx\n",
        ] {
            assert_eq!(command(&[("Makefile", makefile)]), None, "{makefile:?}");
        }
        // make reads GNUmakefile first, so a test target in Makefile does not count.
        assert_eq!(
            command(&[("GNUmakefile", "all:\n"), ("Makefile", "test:\n")]),
            None
        );
    }

    #[test]
    fn first_match_wins_in_order() {
        let every = [
            ("Makefile", "test:\n\tx\n"),
            ("go.mod", "module x\n"),
            ("pyproject.toml", "[project]\n"),
            ("package.json", r#"{"scripts": {"test": "vitest run"}}"#),
            ("Cargo.toml", "[package]\n"),
        ];
        let expected = [
            ("cargo test", "Cargo.toml"),
            ("npm test", "package.json"),
            ("python -m pytest", "pyproject.toml"),
            ("go test ./...", "go.mod"),
            ("make test", "Makefile"),
        ];
        for (skip, (cmd, file)) in expected.iter().enumerate() {
            // Without the files of the rules before it, each rule is the one that matches.
            let files: Vec<_> = every[..every.len() - skip].to_vec();
            assert_eq!(
                command(&files),
                pair(cmd, &format!("detected from {file}")),
                "{files:?}"
            );
        }
        assert_eq!(command(&[("README.md", "# x\n")]), None);
    }

    #[test]
    fn the_source_names_the_configuration_key() {
        assert_eq!(TestSource::Config.to_string(), "stages.impl.test_command");
    }
}
