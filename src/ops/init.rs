//! `init`: write a commented `.orchestrate.toml` at the work tree's root, with models chosen
//! from what this machine has and the test command detected from the repository's files;
//! with `github_action`, also `.github/workflows/orchestrate.yml`, which runs
//! `git orchestrate action` on labelled issues and `/orchestrate` comments, after setting up
//! the detected test command's toolchain and installing git-orchestrate.
//!
//! Models are chosen by the same code a run with nothing configured uses
//! ([`defaults::look`], [`defaults::choose`]), so the file names what `--dry-run` would have
//! chosen anyway, and says why. Keys are looked at by variable name only: no value is read
//! into what is written. Both files come from templates kept beside this module
//! (`init/orchestrate.toml`, `init/orchestrate.yml`); every value the configuration template
//! writes is the built-in one, which a test checks against `config/defaults.toml`.
//!
//! Nothing is overwritten without `force`, and the files are checked before either is
//! written, so a refusal leaves the repository as it was. With `github_action`, a
//! configuration that is already there is kept as it is (the workflow is what was asked
//! for), and `force` replaces only the workflow.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigError, LoadOptions, ModelSpec, ProviderKind, REPO_FILE};
use crate::env::Env;
use crate::git::{GitError, Repo};
use crate::llm::LlmError;
use crate::llm::defaults::{self, Choice, Found};
use crate::testing::{TestCommand, Toolchain, detect};

/// The configuration template; `{{found}}`, `{{lld}}`, `{{spec}}`, `{{implementer}}` and
/// `{{test_command}}` are filled in.
const CONFIG_TEMPLATE: &str = include_str!("init/orchestrate.toml");

/// The workflow template; `{{checkout}}`, `{{test_tools}}`, `{{install}}` and `{{keys}}` (the
/// model keys' secrets) are filled in.
const WORKFLOW_TEMPLATE: &str = include_str!("init/orchestrate.yml");

/// The workflow's step that installs git-orchestrate's released binary for the runner, at
/// this program's own version, its checksum checked against the release's `sha256.sum`.
/// `{{version}}`, `{{repository}}` and `{{targets}}` (the runners a binary is published for)
/// are filled in.
const RELEASE_TEMPLATE: &str = include_str!("init/install-release.yml");

/// The steps after it, which build git-orchestrate from source with `cargo install --locked`,
/// cached by version, when it installed nothing, and put it on `PATH` either way.
/// `{{version}}`, `{{repository}}`, `{{cache_restore}}` and `{{cache_save}}` are filled in.
const INSTALL_TEMPLATE: &str = include_str!("init/install-from-source.yml");

/// The runners a release publishes a binary for, as Actions names them (`RUNNER_OS`/
/// `RUNNER_ARCH`), and the binary's target: the targets of `dist-workspace.toml`, whose
/// archives are `git-orchestrate-<target>.tar.xz` (tests/cli/release.rs checks both lists).
pub const RELEASE_TARGETS: [(&str, &str); 4] = [
    ("Linux/X64", "x86_64-unknown-linux-gnu"),
    ("Linux/ARM64", "aarch64-unknown-linux-gnu"),
    ("macOS/X64", "x86_64-apple-darwin"),
    ("macOS/ARM64", "aarch64-apple-darwin"),
];

/// An action the workflow uses, pinned to the commit of one release (a tag can be moved to
/// other code after a maintainer reviewed the workflow; a commit cannot), with the release
/// named beside it for people and for update tools. Each runs on the node24 runtime.
struct Pin {
    action: &'static str,
    commit: &'static str,
    release: &'static str,
}

impl Pin {
    /// `owner/name[/sub]@commit # release`, for `uses:`.
    fn uses(&self, sub: &str) -> String {
        format!("{}{sub}@{} # {}", self.action, self.commit, self.release)
    }
}

const CHECKOUT: Pin = Pin {
    action: "actions/checkout",
    commit: "3d3c42e5aac5ba805825da76410c181273ba90b1",
    release: "v7.0.1",
};
const CACHE: Pin = Pin {
    action: "actions/cache",
    commit: "55cc8345863c7cc4c66a329aec7e433d2d1c52a9",
    release: "v6.1.0",
};
const SETUP_PYTHON: Pin = Pin {
    action: "actions/setup-python",
    commit: "5fda3b95a4ea91299a34e894583c3862153e4b97",
    release: "v7.0.0",
};
const SETUP_NODE: Pin = Pin {
    action: "actions/setup-node",
    commit: "820762786026740c76f36085b0efc47a31fe5020",
    release: "v7.0.0",
};
const SETUP_GO: Pin = Pin {
    action: "actions/setup-go",
    commit: "b7ad1dad31e06c5925ef5d2fc7ad053ef454303e",
    release: "v7.0.0",
};

/// The indentation of a step in the workflow, and of the run step's `env:` entries.
const STEP: &str = "      ";
const STEP_ENV: &str = "          ";

/// Where the workflow goes, from the work tree's root.
pub const WORKFLOW_FILE: &str = ".github/workflows/orchestrate.yml";

/// The column comments start at, after a key and its value.
const COMMENT_COLUMN: usize = 34;

/// What to write.
#[derive(Clone, Debug, Default)]
pub struct InitOptions {
    /// Also write the GitHub Actions workflow.
    pub github_action: bool,
    /// Replace files that exist; with `github_action`, only the workflow.
    pub force: bool,
    /// `-c key=value` overrides, read with the user's configuration: where a local Ollama
    /// answers (`providers.ollama.base_url`).
    pub overrides: Vec<String>,
}

/// What `init` wrote and why.
#[derive(Clone, Debug)]
pub struct Initialized {
    /// The work tree's root.
    pub root: PathBuf,
    /// The files written, in order.
    pub written: Vec<WrittenFile>,
    /// The configuration, when it was there already and kept (with `github_action`).
    pub kept: Option<PathBuf>,
    /// What was found on this machine.
    pub found: Found,
    /// The design stages' drafter and reviewer; `None` when nothing was found.
    pub drafter: Option<Choice>,
    pub reviewer: Option<Choice>,
    /// The impl stage's implementer; `None` when nothing was found.
    pub implementer: Option<Choice>,
    /// The test command detected, if any.
    pub test_command: Option<TestCommand>,
    /// The workflow's model key secrets (variable names); empty without `github_action`.
    pub secrets: Vec<String>,
    /// Chosen models a GitHub runner does not have (a program, a local Ollama); empty without
    /// `github_action`.
    pub not_on_runner: Vec<String>,
}

/// One file written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    /// It existed, and `force` replaced it.
    pub replaced: bool,
}

/// Why `init` wrote nothing, or not everything.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{} is a bare repository: there is no work tree to write {REPO_FILE} in", .path.display())]
    BareRepository { path: PathBuf },
    #[error("{} already exists", .path.display())]
    Exists { path: PathBuf },
    #[error("could not write {}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] Box<ConfigError>),
    #[error("could not look for a local Ollama")]
    Probe { source: LlmError },
}

/// Write the configuration (and the workflow) into the repository around the current
/// directory.
pub async fn init(options: &InitOptions, env: &Env) -> Result<Initialized, InitError> {
    let repo = Repo::discover(env)?;
    let Some(root) = repo.workdir().map(Path::to_path_buf) else {
        return Err(InitError::BareRepository {
            path: repo.common_dir().to_path_buf(),
        });
    };
    // The user's own layer and `-c` say where Ollama answers; the repository's file is not
    // read: it is the one being replaced, and may not even load.
    let load = LoadOptions {
        repo_root: None,
        config_file: None,
        overrides: options.overrides.clone(),
    };
    let config = config::load(&load, env).map_err(Box::new)?;
    let client = crate::llm::client().map_err(|source| InitError::Probe { source })?;
    let found = defaults::look(env, config.providers.get("ollama"), &client).await;
    let test_command = detect(&|name| std::fs::read(root.join(name)).ok(), &|program| {
        env.find_program(program).is_some()
    });
    let mut plan = Plan::new(found, test_command);
    plan.npm_lockfile = root.join("package-lock.json").is_file();

    let config_path = root.join(REPO_FILE);
    let workflow_path = root.join(WORKFLOW_FILE);
    // Asked for the workflow in a repository that has a configuration: add the workflow and
    // keep the configuration, whatever `force` says (it is about the workflow then).
    let kept = (options.github_action && config_path.symlink_metadata().is_ok())
        .then(|| config_path.clone());
    let mut targets = Vec::new();
    if kept.is_none() {
        targets.push((config_path, plan.config()));
    } else {
        // The workflow passes the keys of the models that configuration names, as a runner
        // reads it: the built-in defaults and the repository's file, nothing of this machine.
        let load = LoadOptions {
            repo_root: Some(root.clone()),
            config_file: None,
            overrides: Vec::new(),
        };
        let runner = Env::from_pairs(std::iter::empty::<(&str, &str)>());
        let configured = config::load(&load, &runner).map_err(Box::new)?;
        plan.runner_needs(Some(&configured));
    }
    if options.github_action {
        targets.push((workflow_path, plan.workflow()));
    } else {
        plan.secrets.clear();
        plan.not_on_runner.clear();
    }
    let written = write_all(&targets, options.force)?;
    Ok(Initialized {
        root,
        written,
        kept,
        found: plan.found,
        drafter: plan.drafter,
        reviewer: plan.reviewer,
        implementer: plan.implementer,
        test_command: plan.test_command,
        secrets: plan.secrets,
        not_on_runner: plan.not_on_runner,
    })
}

/// Refuse an existing file without `force`, make the folders, then write each file.
fn write_all(targets: &[(PathBuf, String)], force: bool) -> Result<Vec<WrittenFile>, InitError> {
    let mut exists = Vec::new();
    for (path, _) in targets {
        let there = path.symlink_metadata().is_ok();
        if there && !force {
            return Err(InitError::Exists { path: path.clone() });
        }
        exists.push(there);
    }
    for (path, _) in targets {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| InitError::Write {
                path: path.clone(),
                source,
            })?;
        }
    }
    let mut written = Vec::new();
    for ((path, text), replaced) in targets.iter().zip(exists) {
        write_file(path, text, replaced).map_err(|source| InitError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(WrittenFile {
            path: path.clone(),
            replaced,
        });
    }
    Ok(written)
}

/// Write `text` to `path`: a new file (never one that appeared meanwhile), or, when
/// replacing, over the old one.
fn write_file(path: &Path, text: &str, replace: bool) -> std::io::Result<()> {
    if replace {
        return std::fs::write(path, text);
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// What the files will say.
struct Plan {
    found: Found,
    drafter: Option<Choice>,
    reviewer: Option<Choice>,
    implementer: Option<Choice>,
    test_command: Option<TestCommand>,
    /// The repository has a `package-lock.json`, which `npm ci` installs from.
    npm_lockfile: bool,
    secrets: Vec<String>,
    not_on_runner: Vec<String>,
}

impl Plan {
    fn new(found: Found, test_command: Option<TestCommand>) -> Plan {
        let (drafter, reviewer) = match defaults::choose(&found) {
            Ok(chosen) => (Some(chosen.drafter), Some(chosen.reviewer)),
            Err(_) => (None, None),
        };
        let implementer = defaults::implementer(&found, drafter.as_ref());
        let mut plan = Plan {
            found,
            drafter,
            reviewer,
            implementer,
            test_command,
            npm_lockfile: false,
            secrets: Vec::new(),
            not_on_runner: Vec::new(),
        };
        plan.runner_needs(None);
        plan
    }

    /// Which keys the workflow passes, and which models a runner does not have: for each
    /// role, the model `configured` names, else the one chosen from this machine.
    fn runner_needs(&mut self, configured: Option<&Config>) {
        let named = |pick: fn(&Config) -> Option<&ModelSpec>| configured.and_then(pick);
        let roles = [
            (named(|c| c.lld.drafter.as_ref()), self.drafter.as_ref()),
            (named(|c| c.lld.reviewer.as_ref()), self.reviewer.as_ref()),
            (named(|c| c.spec.drafter.as_ref()), self.drafter.as_ref()),
            (named(|c| c.spec.reviewer.as_ref()), self.reviewer.as_ref()),
            (
                named(|c| c.implement.implementer.as_ref()),
                self.implementer.as_ref(),
            ),
            (named(|c| c.triage.drafter.as_ref()), None),
        ];
        let mut secrets = Vec::new();
        let mut not_on_runner = Vec::new();
        for (named, chosen) in roles {
            let (spec, label, key) = match (named, chosen) {
                (Some(spec), _) => {
                    let key = configured
                        .and_then(|c| c.providers.get(&spec.provider))
                        .and_then(|p| p.api_key_env.clone());
                    (spec, spec.label(), key)
                }
                (None, Some(choice)) => {
                    let key = match choice.spec.kind {
                        ProviderKind::Anthropic => self.found.anthropic_key.clone(),
                        ProviderKind::Gemini => self.found.gemini_key.clone(),
                        ProviderKind::OpenAi => self.found.openai_key.clone(),
                        ProviderKind::Ollama | ProviderKind::Cmd | ProviderKind::Agent => None,
                    };
                    (&choice.spec, choice.model.clone(), key)
                }
                (None, None) => continue,
            };
            match spec.kind {
                ProviderKind::Ollama | ProviderKind::Cmd | ProviderKind::Agent => {
                    if !not_on_runner.contains(&label) {
                        not_on_runner.push(label);
                    }
                }
                ProviderKind::Anthropic | ProviderKind::Gemini | ProviderKind::OpenAi => {
                    if let Some(key) = key
                        && !secrets.contains(&key)
                    {
                        secrets.push(key);
                    }
                }
            }
        }
        self.secrets = secrets;
        self.not_on_runner = not_on_runner;
    }

    /// The text of `.orchestrate.toml`.
    fn config(&self) -> String {
        CONFIG_TEMPLATE
            .replace("{{found}}", &self.found_lines())
            .replace("{{lld}}", &self.review_models(true))
            .replace("{{spec}}", &self.review_models(false))
            .replace("{{implementer}}", &self.implementer_lines())
            .replace("{{test_command}}", &self.test_command_line())
    }

    fn found_lines(&self) -> String {
        let found = &self.found;
        let mut lines: Vec<String> = [&found.anthropic_key, &found.gemini_key, &found.openai_key]
            .into_iter()
            .flatten()
            .map(|var| format!("{var} is set"))
            .collect();
        if let Some((model, base)) = &found.ollama {
            lines.push(format!("Ollama answers at {base} and has {model}"));
        }
        for program in &found.programs {
            lines.push(format!("the `{program}` program is on PATH"));
        }
        if found.aider {
            lines.push("the `aider` program is on PATH".into());
        }
        if lines.is_empty() {
            lines.push(
                "nothing: no ANTHROPIC_API_KEY, GEMINI_API_KEY, GOOGLE_API_KEY or OPENAI_API_KEY, no local Ollama with a model, no claude, gemini, codex or aider program on PATH".into(),
            );
        }
        lines
            .iter()
            .map(|l| format!("#   {}", comment(l)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The drafter and reviewer lines of `[stages.lld]` (`first`) or `[stages.spec]`.
    fn review_models(&self, first: bool) -> String {
        const DRAFTER: &str = "writes each draft; REVISE verdicts send it back here";
        const REVIEWER: &str = "answers APPROVED, REVISE or BLOCKED";
        let (Some(drafter), Some(reviewer)) = (&self.drafter, &self.reviewer) else {
            let mut lines = Vec::new();
            if first {
                lines.extend(
                    [
                        "# No model was found on this machine, so none is named and a run stops",
                        "# before calling one. Set ANTHROPIC_API_KEY, GEMINI_API_KEY (or",
                        "# GOOGLE_API_KEY) or OPENAI_API_KEY, run a local Ollama with a model",
                        "# pulled, or install the claude, gemini or codex program, and a run",
                        "# chooses by itself (`--dry-run` says what); or name the models here:",
                    ]
                    .map(String::from),
                );
            } else {
                lines.push("# As for [stages.lld]:".into());
            }
            lines.push(key_line(
                "# drafter",
                &toml_string("claude:opus-4.5"),
                DRAFTER,
            ));
            lines.push(key_line(
                "# reviewer",
                &toml_string("gemini:3-pro-preview"),
                REVIEWER,
            ));
            return lines.join("\n");
        };
        let mut lines = Vec::new();
        if first {
            lines.push(format!("# drafter: {}", comment(&drafter.why)));
            lines.push(format!("# reviewer: {}", comment(&reviewer.why)));
        }
        lines.push(key_line("drafter", &toml_string(&drafter.model), DRAFTER));
        lines.push(key_line(
            "reviewer",
            &toml_string(&reviewer.model),
            REVIEWER,
        ));
        lines.join("\n")
    }

    fn implementer_lines(&self) -> String {
        const WHAT: &str = "changes the code until the tests pass";
        match &self.implementer {
            Some(implementer) => [
                format!("# implementer: {}", comment(&implementer.why)),
                key_line("implementer", &toml_string(&implementer.model), WHAT),
            ]
            .join("\n"),
            None => [
                "# No implementer was found (see [stages.lld]); an agent program that edits files works:".to_string(),
                key_line(
                    "# implementer",
                    &toml_string("agent:claude -p --permission-mode acceptEdits"),
                    WHAT,
                ),
            ]
            .join("\n"),
        }
    }

    fn test_command_line(&self) -> String {
        match &self.test_command {
            Some(test) => key_line(
                "test_command",
                &toml_string(&test.command),
                &format!("run after every change; {}", test.source),
            ),
            None => key_line(
                "# test_command",
                &toml_string("make test"),
                "none was detected (Cargo.toml, package.json, pyproject.toml, go.mod, a Makefile's test target): say how the tests run",
            ),
        }
    }

    /// The text of the workflow.
    fn workflow(&self) -> String {
        let indent = STEP_ENV;
        let keys: Vec<String> = if self.secrets.is_empty() {
            let mut lines = vec![format!(
                "{indent}# No model with an API key was chosen: add the secret of the one the models use, and uncomment it."
            )];
            for var in ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY"] {
                lines.push(format!("{indent}# {}", secret_line(var)));
            }
            lines
        } else {
            self.secrets
                .iter()
                .map(|var| format!("{indent}{}", secret_line(var)))
                .collect()
        };
        let mut keys = keys;
        if !self.not_on_runner.is_empty() {
            keys.push(format!(
                "{indent}# The runner does not have {}: install it in a step before the run, or choose models with API keys in {REPO_FILE}.",
                comment(&self.not_on_runner.join(", "))
            ));
        }
        WORKFLOW_TEMPLATE
            .replace("{{checkout}}", &CHECKOUT.uses(""))
            .replace("{{test_tools}}", &self.test_tools())
            .replace("{{install}}", &install_steps())
            .replace("{{keys}}", &keys.join("\n"))
    }

    /// The steps that set up what the detected test command needs (the impl stage runs it on
    /// the runner), marked for the user to adapt.
    fn test_tools(&self) -> String {
        let Some(test) = &self.test_command else {
            return lines(&[
                "# ADAPT: no test command was detected: set stages.impl.test_command in",
                "# .orchestrate.toml, and install here what the tests need.",
            ]);
        };
        let adapt = format!(
            "# ADAPT: what the tests need (`{}` was {}).",
            test.command, test.source
        );
        let offline = "# They run without network: install here everything they use.";
        let text = match test.toolchain() {
            Some(Toolchain::Python) => vec![
                adapt,
                "# This sets up Python and installs pytest, and requirements.txt if there is one;".into(),
                "# add your project's own install (`python -m pip install -e .`, ...).".into(),
                offline.into(),
                "- name: Set up Python for the tests".into(),
                format!("  uses: {}", SETUP_PYTHON.uses("")),
                "  with:".into(),
                "    python-version: \"3.x\"".into(),
                "- name: Install the tests' dependencies".into(),
                "  run: |".into(),
                "    python -m pip install pytest".into(),
                "    if [ -f requirements.txt ]; then python -m pip install -r requirements.txt; fi".into(),
            ],
            Some(Toolchain::Node) => {
                let (what, install) = if self.npm_lockfile {
                    (
                        vec!["# This sets up Node.js and installs what package-lock.json names."],
                        "npm ci",
                    )
                } else {
                    (
                        vec![
                            "# This sets up Node.js and installs what package.json names (with a",
                            "# package-lock.json committed, `npm ci` installs exactly that).",
                        ],
                        "npm install",
                    )
                };
                let mut text = vec![adapt];
                text.extend(what.into_iter().map(String::from));
                text.extend([
                    offline.into(),
                    "- name: Set up Node.js for the tests".into(),
                    format!("  uses: {}", SETUP_NODE.uses("")),
                    "  with:".into(),
                    "    node-version: lts/*".into(),
                    "- name: Install the tests' dependencies".into(),
                    format!("  run: {install}"),
                ]);
                text
            }
            Some(Toolchain::Rust) => vec![
                adapt,
                "# This installs the stable Rust toolchain: name yours if the project pins one.".into(),
                "- name: Set up Rust for the tests".into(),
                "  run: rustup toolchain install stable --profile minimal".into(),
            ],
            Some(Toolchain::Go) => vec![
                adapt,
                "# This sets up the Go that go.mod names and downloads its modules.".into(),
                "- name: Set up Go for the tests".into(),
                format!("  uses: {}", SETUP_GO.uses("")),
                "  with:".into(),
                "    go-version-file: go.mod".into(),
                "- name: Download the tests' modules".into(),
                "  run: go mod download".into(),
            ],
            None => vec![adapt, offline.into()],
        };
        let text: Vec<&str> = text.iter().map(String::as_str).collect();
        lines(&text)
    }
}

/// The steps that install git-orchestrate on the runner: the release's binary, else a build.
fn install_steps() -> String {
    let targets: Vec<String> = RELEASE_TARGETS
        .iter()
        .map(|(runner, target)| format!("            {runner}) target={target} ;;"))
        .collect();
    let release = RELEASE_TEMPLATE.replace("{{targets}}", &targets.join("\n"));
    format!("{release}{INSTALL_TEMPLATE}")
        .trim_end()
        .replace("{{cache_restore}}", &CACHE.uses("/restore"))
        .replace("{{cache_save}}", &CACHE.uses("/save"))
        .replace("{{repository}}", env!("CARGO_PKG_REPOSITORY"))
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
}

/// `text`'s lines, each indented as a step.
fn lines(text: &[&str]) -> String {
    text.iter()
        .map(|line| format!("{STEP}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `VAR: ${{ secrets.VAR }}`.
fn secret_line(var: &str) -> String {
    format!("{var}: ${{{{ secrets.{var} }}}}")
}

/// `key = value   # comment`, the comment at [`COMMENT_COLUMN`] when the key is short enough.
fn key_line(key: &str, value: &str, note: &str) -> String {
    let assignment = format!("{key} = {value}");
    let pad = COMMENT_COLUMN
        .saturating_sub(assignment.chars().count())
        .max(2);
    format!("{assignment}{}# {}", " ".repeat(pad), comment(note))
}

/// `text` as a TOML string, quoted and escaped.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `text` fit for one comment line: control characters (a newline in a model's name) become
/// spaces.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(found: Found, test: Option<&str>) -> Plan {
        let test_command = test.map(|command| TestCommand {
            command: command.to_string(),
            source: crate::testing::TestSource::Detected {
                file: "Cargo.toml".into(),
            },
        });
        Plan::new(found, test_command)
    }

    fn parse(text: &str) -> toml::Table {
        text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    /// Every key of `written` that the defaults have, at the same place, has the same value.
    fn same_as_defaults(
        written: &toml::Table,
        defaults: &toml::Table,
        at: &str,
        checked: &mut usize,
    ) {
        for (key, value) in written {
            let place = format!("{at}{key}");
            let Some(default) = defaults.get(key) else {
                continue;
            };
            match (value, default) {
                (toml::Value::Table(w), toml::Value::Table(d)) => {
                    same_as_defaults(w, d, &format!("{place}."), checked)
                }
                _ => {
                    assert_eq!(value, default, "{place} differs from defaults.toml");
                    *checked += 1;
                }
            }
        }
    }

    #[test]
    fn every_value_written_is_the_built_in_one() {
        let text = plan(Found::default(), None).config();
        let written = parse(&text);
        let defaults = parse(config::DEFAULTS);
        let mut checked = 0;
        same_as_defaults(&written, &defaults, "", &mut checked);
        // And every built-in key of these tables is written (providers and budget are not).
        for table in ["orchestrator", "gates", "paths", "github"] {
            for key in defaults[table].as_table().unwrap().keys() {
                assert!(
                    written[table].get(key).is_some(),
                    "{table}.{key} is not written"
                );
            }
        }
        for stage in ["lld", "spec", "impl"] {
            for key in defaults["stages"][stage].as_table().unwrap().keys() {
                assert!(
                    written["stages"][stage].get(key).is_some(),
                    "stages.{stage}.{key} is not written"
                );
            }
        }
        assert!(checked >= 25, "{checked}");
    }

    #[test]
    fn every_key_has_a_comment() {
        let found = Found {
            anthropic_key: Some("ANTHROPIC_API_KEY".into()),
            ..Found::default()
        };
        for text in [
            plan(found, Some("cargo test")).config(),
            plan(Found::default(), None).config(),
        ] {
            for line in text.lines() {
                let key = !line.starts_with('#') && !line.starts_with('[') && line.contains(" = ");
                let table = line.starts_with('[');
                if key || table {
                    assert!(line.contains("  # "), "no comment: {line}");
                }
            }
        }
    }

    #[test]
    fn models_are_written_with_why_and_no_key_value() {
        let found = Found {
            anthropic_key: Some("ANTHROPIC_API_KEY".into()),
            gemini_key: Some("GOOGLE_API_KEY".into()),
            ..Found::default()
        };
        let plan = plan(found, Some("cargo test"));
        let text = plan.config();
        let written = parse(&text);
        assert_eq!(
            written["stages"]["lld"]["drafter"].as_str(),
            Some("anthropic:claude-opus-4-5")
        );
        assert_eq!(
            written["stages"]["spec"]["reviewer"].as_str(),
            Some("gemini:gemini-3-pro-preview")
        );
        assert_eq!(
            written["stages"]["impl"]["implementer"].as_str(),
            Some("anthropic:claude-opus-4-5")
        );
        assert_eq!(
            written["stages"]["impl"]["test_command"].as_str(),
            Some("cargo test")
        );
        assert!(
            text.contains("#   ANTHROPIC_API_KEY is set\n#   GOOGLE_API_KEY is set\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# drafter: the original pairing: ANTHROPIC_API_KEY and GOOGLE_API_KEY are set"
            ),
            "{text}"
        );
        assert_eq!(plan.secrets, ["ANTHROPIC_API_KEY", "GOOGLE_API_KEY"]);
        assert!(plan.not_on_runner.is_empty());
    }

    #[test]
    fn a_model_name_with_odd_characters_stays_one_value_and_one_comment() {
        let found = Found {
            ollama: Some(("evil\"\n[gates]\nx = 1".into(), "http://127.0.0.1:1".into())),
            ..Found::default()
        };
        let plan = plan(found, None);
        let written = parse(&plan.config());
        assert_eq!(
            written["stages"]["lld"]["drafter"].as_str(),
            Some("ollama:evil\"\n[gates]\nx = 1")
        );
        assert!(written["gates"].get("x").is_none());
        assert_eq!(plan.not_on_runner, ["ollama:evil\"\n[gates]\nx = 1"]);
        let workflow = plan.workflow();
        assert!(!workflow.contains("\n[gates]"), "{workflow}");
    }

    #[test]
    fn the_workflow_names_only_the_chosen_keys() {
        let only_openai = plan(
            Found {
                openai_key: Some("OPENAI_API_KEY".into()),
                ..Found::default()
            },
            None,
        );
        let workflow = only_openai.workflow();
        assert!(workflow.contains("      OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}\n"));
        assert!(!workflow.contains("ANTHROPIC_API_KEY"), "{workflow}");
        let nothing = plan(Found::default(), None).workflow();
        assert!(nothing.contains("      # ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}\n"));
        let programs = plan(
            Found {
                programs: vec!["claude"],
                ..Found::default()
            },
            None,
        );
        assert_eq!(
            programs.not_on_runner,
            [
                "cmd:claude -p",
                "agent:claude -p --permission-mode acceptEdits"
            ]
        );
        assert!(
            programs
                .workflow()
                .contains("The runner does not have cmd:claude -p")
        );
    }

    #[test]
    fn an_existing_file_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.toml");
        let second = dir.path().join(".github/workflows/b.yml");
        std::fs::create_dir_all(second.parent().unwrap()).unwrap();
        std::fs::write(&second, "old").unwrap();
        let targets = [
            (first.clone(), "new a".to_string()),
            (second.clone(), "new b".to_string()),
        ];
        let err = write_all(&targets, false).unwrap_err();
        assert!(
            matches!(&err, InitError::Exists { path } if *path == second),
            "{err}"
        );
        assert!(!first.exists());
        let written = write_all(&targets, true).unwrap();
        assert_eq!(
            written,
            [
                WrittenFile {
                    path: first.clone(),
                    replaced: false
                },
                WrittenFile {
                    path: second.clone(),
                    replaced: true
                },
            ]
        );
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "new b");
    }
}
