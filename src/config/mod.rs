//! Configuration: layered TOML resolved into one value with no loose ends.
//!
//! Precedence, lowest first: built-in defaults (`defaults.toml`) < user file
//! (`$XDG_CONFIG_HOME/git-orchestrate/config.toml`) < repository file (`.orchestrate.toml` at
//! the work tree root, or `--config PATH` instead) < `-c key=value` arguments. Command-line
//! flags are applied on top by the commands. Every error names where the offending key was
//! written: file and line, or the `-c` argument.

pub mod aliases;
mod budget;
mod layers;
mod model;
mod paths;
mod providers;
#[cfg(test)]
pub(crate) use providers::for_tests as test_provider;
mod raw;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use budget::{BudgetConfig, Price};
pub use layers::Origin;
pub use model::{ModelSpec, ProviderKind, redact_command};

use layers::{Layer, Origins};
use raw::{RawConfig, RawReviewStage, RawSandbox};

use crate::env::Env;
use crate::stage::{Gate, Role, Stage};

pub(crate) const DEFAULTS: &str = include_str!("defaults.toml");

/// The name of the repository's configuration file, at the work tree root.
pub const REPO_FILE: &str = ".orchestrate.toml";

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub orchestrator: OrchestratorConfig,
    pub triage: TriageConfig,
    pub lld: ReviewStageConfig,
    pub spec: ReviewStageConfig,
    pub implement: ImplConfig,
    pub gates: GatesConfig,
    pub paths: PathsConfig,
    pub github: GithubConfig,
    /// Every provider that can be named: the built-ins plus `[providers.NAME]` tables.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Spending limits (`[budget]`).
    pub budget: BudgetConfig,
    /// What programs running model-written code may touch (`[sandbox]`).
    pub sandbox: SandboxConfig,
    /// Prices from `[prices."MODEL"]`, USD per million tokens; they extend and override the
    /// built-in table.
    pub prices: BTreeMap<String, Price>,
    /// The files that were read, lowest precedence first.
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct OrchestratorConfig {
    pub skip_existing_lld: bool,
    pub skip_existing_spec: bool,
    pub branch_prefix: String,
    /// What a run does with stale stages.
    pub on_stale: OnStale,
}

#[derive(Clone, Debug)]
pub struct TriageConfig {
    /// Without a drafter the brief is the issue text, normalised.
    pub drafter: Option<ModelSpec>,
    /// Headings a brief a model wrote must have, each with text under it.
    pub required_sections: Vec<String>,
    /// The fewest characters a brief a model wrote may have (0: any length).
    pub min_chars: u32,
}

#[derive(Clone, Debug)]
pub struct ReviewStageConfig {
    pub drafter: Option<ModelSpec>,
    pub reviewer: Option<ModelSpec>,
    pub max_revisions: u32,
    pub required_sections: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ImplConfig {
    pub implementer: Option<ModelSpec>,
    pub max_test_retries: u32,
    pub test_command: Option<String>,
    pub test_timeout: Duration,
    /// Globs of paths the implementer may not change (`.git/` is always protected too).
    pub protected: Vec<String>,
    /// Token budget for the repository map and file contents sent to a text implementer.
    pub context_tokens: u64,
    /// Failures already on the base are known; only new failures count.
    pub allow_red_baseline: bool,
    /// An attempt is accepted only with a test that fails without its change.
    pub require_proof: bool,
    /// Variables the test command may see even though their names look like credentials.
    pub test_env: Vec<String>,
    /// The largest file a change may add (bytes); a larger one is refused.
    pub max_file_size: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatesConfig {
    pub after_lld: bool,
    pub after_spec: bool,
    pub before_pr: bool,
}

impl GatesConfig {
    /// Whether `gate` is on.
    pub fn get(&self, gate: Gate) -> bool {
        match gate {
            Gate::AfterLld => self.after_lld,
            Gate::AfterSpec => self.after_spec,
            Gate::BeforePr => self.before_pr,
        }
    }

    /// Turn `gate` on or off.
    pub fn set(&mut self, gate: Gate, on: bool) {
        match gate {
            Gate::AfterLld => self.after_lld = on,
            Gate::AfterSpec => self.after_spec = on,
            Gate::BeforePr => self.before_pr = on,
        }
    }
}

/// One stage's settings, whichever table they are written in.
#[derive(Clone, Copy, Debug)]
pub enum StageConfig<'a> {
    Triage(&'a TriageConfig),
    Review(&'a ReviewStageConfig),
    Impl(&'a ImplConfig),
    Pr,
}

impl<'a> StageConfig<'a> {
    /// The model configured for `role`, if any.
    pub fn model(&self, role: Role) -> Option<&'a ModelSpec> {
        match (*self, role) {
            (StageConfig::Triage(t), Role::Triage) => t.drafter.as_ref(),
            (StageConfig::Review(r), Role::Drafter) => r.drafter.as_ref(),
            (StageConfig::Review(r), Role::Reviewer) => r.reviewer.as_ref(),
            (StageConfig::Impl(i), Role::Implementer) => i.implementer.as_ref(),
            _ => None,
        }
    }

    /// The settings of the triage stage.
    pub fn triage(&self) -> Option<&'a TriageConfig> {
        match *self {
            StageConfig::Triage(t) => Some(t),
            _ => None,
        }
    }

    /// The settings of the impl stage.
    pub fn implement(&self) -> Option<&'a ImplConfig> {
        match *self {
            StageConfig::Impl(i) => Some(i),
            _ => None,
        }
    }

    /// The settings of a draft → review → revise stage.
    pub fn review(&self) -> Option<&'a ReviewStageConfig> {
        match *self {
            StageConfig::Review(r) => Some(r),
            _ => None,
        }
    }
}

/// Artifact paths; `{issue}` is the issue number, `{stage}` the stage name.
#[derive(Clone, Debug)]
pub struct PathsConfig {
    pub brief: String,
    pub lld: String,
    pub spec: String,
    pub reviews: String,
    /// The impl stage's report, committed with the code.
    pub report: String,
}

impl PathsConfig {
    /// Fill in a path template.
    pub fn render(template: &str, issue: u64, stage: &str) -> String {
        template
            .replace("{issue}", &issue.to_string())
            .replace("{stage}", stage)
    }

    /// The document a stage writes (triage, lld, spec; impl's report), whose history says
    /// where the stage stands.
    pub fn artifact(&self, stage: Stage, issue: u64) -> Option<String> {
        let template = match stage {
            Stage::Triage => &self.brief,
            Stage::Lld => &self.lld,
            Stage::Spec => &self.spec,
            Stage::Impl => &self.report,
            Stage::Pr => return None,
        };
        Some(PathsConfig::render(template, issue, stage.name()))
    }

    /// The review log of a reviewed stage.
    pub fn reviews(&self, stage: Stage, issue: u64) -> String {
        PathsConfig::render(&self.reviews, issue, stage.name())
    }
}

#[derive(Clone, Debug)]
pub struct GithubConfig {
    /// The remote whose URL names the repository issues are read from and pull requests
    /// opened on.
    pub remote: String,
    /// `owner/name`, overriding what the remote's URL says.
    pub repo: Option<String>,
    /// The REST API's root (GitHub Enterprise); unset: github.com.
    pub api_url: Option<String>,
    /// Open pull requests as drafts.
    pub draft: bool,
    /// Push the branch here (a fork) instead of `remote`.
    pub push_remote: Option<String>,
    /// The longest a rate limit is waited out; past it the run stops and says when to retry.
    pub max_wait: Duration,
    /// The longest one API request may take.
    pub timeout: Duration,
    /// The longest `git push` may take.
    pub push_timeout: Duration,
    /// Run the repository's own hooks on `git push`.
    pub push_hooks: bool,
}

/// `[sandbox]`: how the test command and `agent:` programs are contained.
#[derive(Clone, Debug, Default)]
pub struct SandboxConfig {
    /// Unset: [`SandboxMode::Auto`], except for `git orchestrate action`, which requires it.
    pub mode: Option<SandboxMode>,
    /// More paths the test command may write (`~/` is the home directory).
    pub writable: Vec<String>,
    /// More paths an `agent:` program may write.
    pub agent_writable: Vec<String>,
    /// Variables an `agent:` or `cmd:` program sees although their names look like credentials.
    pub agent_env: Vec<String>,
    /// The tests of an attempt may reach the network.
    pub test_network: bool,
}

/// `sandbox.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxMode {
    /// Contain where the kernel allows; say once per run when it cannot, and why.
    Auto,
    /// Refuse to run agents or tests uncontained.
    Required,
    /// Never contain (the after-check still runs and reports).
    Off,
}

impl SandboxMode {
    pub fn name(self) -> &'static str {
        match self {
            SandboxMode::Auto => "auto",
            SandboxMode::Required => "required",
            SandboxMode::Off => "off",
        }
    }
}

pub use providers::ProviderConfig;
pub use raw::OnStale;

impl Config {
    /// The settings of `stage`.
    pub fn stage(&self, stage: Stage) -> StageConfig<'_> {
        match stage {
            Stage::Triage => StageConfig::Triage(&self.triage),
            Stage::Lld => StageConfig::Review(&self.lld),
            Stage::Spec => StageConfig::Review(&self.spec),
            Stage::Impl => StageConfig::Impl(&self.implement),
            Stage::Pr => StageConfig::Pr,
        }
    }

    /// Whether an artifact a person wrote counts as done (`skip_existing_*`), rather than
    /// as a first draft that goes through review.
    pub fn trusts_hand_written(&self, stage: Stage) -> bool {
        match stage {
            Stage::Lld => self.orchestrator.skip_existing_lld,
            Stage::Spec => self.orchestrator.skip_existing_spec,
            _ => true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {} is not valid TOML{}: {message}", .path.display(), .line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Syntax {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("invalid `-c {arg}`: {message}")]
    BadOverride { arg: String, message: String },
    #[error("invalid configuration in {origin}, key `{key}`: {message}")]
    Invalid {
        origin: Origin,
        key: String,
        message: String,
        /// What the key expects, when there is more to say than the message.
        hint: Option<String>,
        /// The value has the wrong type (a string where a number goes, ...).
        wrong_type: bool,
    },
}

/// What to load, as the command line says.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The work tree root, where `.orchestrate.toml` is looked for.
    pub repo_root: Option<PathBuf>,
    /// `--config PATH`: used instead of the repository's file.
    pub config_file: Option<PathBuf>,
    /// `-c key=value`, in order.
    pub overrides: Vec<String>,
}

/// Load and resolve the configuration.
pub fn load(opts: &LoadOptions, env: &Env) -> Result<Config, ConfigError> {
    let mut layers = vec![Layer::defaults()?];
    let mut files = Vec::new();
    if let Some(dir) = env.config_home() {
        let user = dir.join("git-orchestrate").join("config.toml");
        if let Some(layer) = read_layer(&user, false)? {
            layers.push(layer);
            files.push(user);
        }
    }
    let repo_file = match (&opts.config_file, &opts.repo_root) {
        (Some(path), _) => Some((path.clone(), true)),
        (None, Some(root)) => Some((root.join(REPO_FILE), false)),
        (None, None) => None,
    };
    if let Some((path, required)) = repo_file
        && let Some(layer) = read_layer(&path, required)?
    {
        layers.push(layer);
        files.push(path);
    }
    for arg in &opts.overrides {
        layers.push(Layer::from_override(arg)?);
    }
    let (merged, origins) = layers::merge(layers);
    let raw: RawConfig = serde_path_to_error::deserialize(toml::Value::Table(merged))
        .map_err(|e| shape_error(e, &origins))?;
    let mut config = resolve(raw, &origins)?;
    config.files = files;
    Ok(config)
}

fn read_layer(path: &Path, required: bool) -> Result<Option<Layer>, ConfigError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: None,
        message: "the file is not UTF-8 text".into(),
    })?;
    Layer::from_file(path.to_path_buf(), &text).map(Some)
}

/// Turn a serde error on the merged tables into one that names the key and its origin.
fn shape_error(err: serde_path_to_error::Error<toml::de::Error>, origins: &Origins) -> ConfigError {
    let mut key = err.path().to_string();
    let message = err.inner().message().trim().to_string();
    let unknown = message.strip_prefix("unknown field `").and_then(|rest| {
        let (name, _) = rest.split_once('`')?;
        Some(name.to_string())
    });
    let wrong_type = unknown.is_none()
        && (message.starts_with("invalid type") || message.starts_with("invalid value"));
    let hint = match &unknown {
        Some(name) => {
            if !key.ends_with(name.as_str()) {
                key = if key == "." || key.is_empty() {
                    name.clone()
                } else {
                    format!("{key}.{name}")
                };
            }
            Some(
                if key.starts_with("stages.") && key.matches('.').count() == 1 {
                    "the stages that take settings are triage, lld, spec and impl".to_string()
                } else {
                    "check the spelling against the configuration section of the README".to_string()
                },
            )
        }
        None => None,
    };
    ConfigError::Invalid {
        origin: origins.of(&key),
        key,
        message,
        hint,
        wrong_type,
    }
}

pub(crate) fn invalid(
    origins: &Origins,
    key: &str,
    message: String,
    hint: Option<&str>,
) -> ConfigError {
    ConfigError::Invalid {
        origin: origins.of(key),
        key: key.to_string(),
        message,
        hint: hint.map(str::to_string),
        wrong_type: false,
    }
}

/// `stages.impl.protected`, each glob checked so a typo is an error here rather than a
/// protection that silently matches nothing.
fn protected_globs(globs: Vec<String>, origins: &Origins) -> Result<Vec<String>, ConfigError> {
    for glob in &globs {
        if glob.starts_with('!') {
            return Err(invalid(
                origins,
                "stages.impl.protected",
                format!("`{glob}`: a protected path cannot be an exception (`!`)"),
                Some("list only the paths to protect: `.github/workflows/**`"),
            ));
        }
        if let Err(e) = globset::Glob::new(glob) {
            return Err(invalid(
                origins,
                "stages.impl.protected",
                format!("`{glob}` is not a glob: {}", e.kind()),
                Some("write globs as in .gitignore: `.github/workflows/**`, `*.lock`"),
            ));
        }
    }
    Ok(globs)
}

fn resolve(raw: RawConfig, origins: &Origins) -> Result<Config, ConfigError> {
    let providers = providers::resolve(raw.providers, origins)?;
    let budget = budget::resolve_budget(raw.budget, origins)?;
    let prices = budget::resolve_prices(raw.prices, origins)?;
    let declared: Vec<(String, ProviderKind)> = providers
        .values()
        .map(|p| (p.name.clone(), p.kind))
        .collect();
    let model = |key: &str, value: Option<String>| -> Result<Option<ModelSpec>, ConfigError> {
        let Some(text) = value else { return Ok(None) };
        let spec = ModelSpec::parse(&text, &declared).map_err(|message| {
            invalid(
                origins,
                key,
                message,
                Some("name a model as provider:model, or declare the provider in a [providers.NAME] table"),
            )
        })?;
        if spec.kind == ProviderKind::Agent && !key.ends_with("implementer") {
            return Err(invalid(
                origins,
                key,
                format!("`{text}`: agent: programs edit files themselves and can only implement"),
                Some("use cmd: for a program that answers with text"),
            ));
        }
        Ok(Some(spec))
    };
    let sections = |name: &str, sections: &[String]| -> Result<(), ConfigError> {
        if sections.iter().any(|s| s.trim().is_empty()) {
            return Err(invalid(
                origins,
                &format!("stages.{name}.required_sections"),
                "a section name is empty".into(),
                None,
            ));
        }
        Ok(())
    };
    let review_stage =
        |name: &str, stage: RawReviewStage| -> Result<ReviewStageConfig, ConfigError> {
            sections(name, &stage.required_sections)?;
            Ok(ReviewStageConfig {
                drafter: model(&format!("stages.{name}.drafter"), stage.drafter)?,
                reviewer: model(&format!("stages.{name}.reviewer"), stage.reviewer)?,
                max_revisions: stage.max_revisions,
                required_sections: stage.required_sections,
            })
        };
    let triage = raw.stages.triage;
    sections("triage", &triage.required_sections)?;
    let paths = raw.paths;
    paths::check(
        &[
            ("paths.brief", &paths.brief),
            ("paths.lld", &paths.lld),
            ("paths.spec", &paths.spec),
            ("paths.report", &paths.report),
            ("paths.reviews", &paths.reviews),
        ],
        origins,
    )?;
    let prefix = raw.orchestrator.branch_prefix;
    if prefix.is_empty()
        || prefix.contains(['~', '^', ':', '?', '*', '[', '\\', ' '])
        || prefix.contains("..")
    {
        return Err(invalid(
            origins,
            "orchestrator.branch_prefix",
            format!("`{prefix}` cannot start a branch name"),
            Some("use something like \"orchestrate/\""),
        ));
    }
    Ok(Config {
        orchestrator: OrchestratorConfig {
            skip_existing_lld: raw.orchestrator.skip_existing_lld,
            skip_existing_spec: raw.orchestrator.skip_existing_spec,
            branch_prefix: prefix,
            on_stale: raw.orchestrator.on_stale,
        },
        triage: TriageConfig {
            drafter: model("stages.triage.drafter", triage.drafter)?,
            required_sections: triage.required_sections,
            min_chars: triage.min_chars,
        },
        lld: review_stage("lld", raw.stages.lld)?,
        spec: review_stage("spec", raw.stages.spec)?,
        implement: ImplConfig {
            implementer: model("stages.impl.implementer", raw.stages.implement.implementer)?,
            max_test_retries: raw.stages.implement.max_test_retries,
            test_command: raw.stages.implement.test_command,
            test_timeout: raw.stages.implement.test_timeout.0,
            protected: protected_globs(raw.stages.implement.protected, origins)?,
            context_tokens: raw.stages.implement.context_tokens,
            allow_red_baseline: raw.stages.implement.allow_red_baseline,
            require_proof: raw.stages.implement.require_proof,
            test_env: raw.stages.implement.test_env,
            max_file_size: raw.stages.implement.max_file_size.0,
        },
        gates: GatesConfig {
            after_lld: raw.gates.after_lld,
            after_spec: raw.gates.after_spec,
            before_pr: raw.gates.before_pr,
        },
        paths: PathsConfig {
            brief: paths.brief,
            lld: paths.lld,
            spec: paths.spec,
            reviews: paths.reviews,
            report: paths.report,
        },
        github: GithubConfig {
            remote: raw.github.remote,
            repo: raw.github.repo,
            api_url: raw.github.api_url,
            draft: raw.github.draft,
            push_remote: raw.github.push_remote,
            max_wait: raw.github.max_wait.0,
            timeout: raw.github.timeout.0,
            push_timeout: raw.github.push_timeout.0,
            push_hooks: raw.github.push_hooks,
        },
        sandbox: sandbox(raw.sandbox, origins)?,
        providers,
        budget,
        prices,
        files: Vec::new(),
    })
}

fn sandbox(raw: RawSandbox, origins: &Origins) -> Result<SandboxConfig, ConfigError> {
    let mode = match raw.mode.as_deref() {
        None => None,
        Some("auto") => Some(SandboxMode::Auto),
        Some("required") => Some(SandboxMode::Required),
        Some("off") => Some(SandboxMode::Off),
        Some(other) => {
            return Err(invalid(
                origins,
                "sandbox.mode",
                format!("`{other}` is not a sandbox mode"),
                Some("write \"auto\", \"required\" or \"off\""),
            ));
        }
    };
    for (key, paths) in [
        ("sandbox.writable", &raw.writable),
        ("sandbox.agent_writable", &raw.agent_writable),
    ] {
        if let Some(bad) = paths
            .iter()
            .find(|p| !(p.starts_with('/') || p.starts_with("~/") || p.as_str() == "~"))
        {
            return Err(invalid(
                origins,
                key,
                format!("`{bad}` is not an absolute path"),
                Some("write a path from the root, or from the home directory as ~/..."),
            ));
        }
    }
    Ok(SandboxConfig {
        mode,
        writable: raw.writable,
        agent_writable: raw.agent_writable,
        agent_env: raw.agent_env,
        test_network: raw.test_network,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, overrides: &[&str]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(REPO_FILE), text).unwrap();
        let opts = LoadOptions {
            repo_root: Some(dir.path().to_path_buf()),
            config_file: None,
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
        };
        load(&opts, &Env::default())
    }

    #[test]
    fn defaults_alone_resolve() {
        let config = load(&LoadOptions::default(), &Env::default()).unwrap();
        assert_eq!(config.lld.max_revisions, 5);
        assert_eq!(config.spec.required_sections, ["Files", "Changes", "Test"]);
        assert_eq!(
            config.triage.required_sections,
            ["Problem", "Acceptance criteria"]
        );
        assert_eq!(config.triage.min_chars, 100);
        assert!(config.gates.before_pr);
        assert_eq!(config.providers["cmd"].timeout, Duration::from_secs(1200));
        assert_eq!(config.orchestrator.branch_prefix, "orchestrate/");
    }

    #[test]
    fn impl_settings_resolve_and_protected_globs_are_checked() {
        let config = load(&LoadOptions::default(), &Env::default()).unwrap();
        assert_eq!(config.implement.protected, [".github/workflows/**"]);
        assert_eq!(config.implement.context_tokens, 24000);
        assert!(!config.implement.allow_red_baseline);
        assert_eq!(
            config.paths.artifact(Stage::Impl, 7).as_deref(),
            Some("docs/reports/7.md")
        );
        for bad in ["[a-", "!secrets/**"] {
            let err = load_text(&format!("[stages.impl]\nprotected = [\"{bad}\"]\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains("`stages.impl.protected`"), "{err}");
        }
        let err = load_text("[paths]\nreport = \"docs/lld/{issue}.md\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("paths.report"), "{err}");
    }

    #[test]
    fn max_file_size_reads_units_and_refuses_what_is_not_a_size() {
        let config = load(&LoadOptions::default(), &Env::default()).unwrap();
        assert_eq!(config.implement.max_file_size, 50 * 1024 * 1024);
        for (written, bytes) in [
            ("\"100MB\"", 100_000_000),
            ("\"1.5 KiB\"", 1536),
            ("\"2 gib\"", 2 * 1024 * 1024 * 1024),
            ("4096", 4096),
            ("\"0\"", 0),
        ] {
            let config =
                load_text(&format!("[stages.impl]\nmax_file_size = {written}\n"), &[]).unwrap();
            assert_eq!(config.implement.max_file_size, bytes, "{written}");
        }
        for bad in ["\"50 furlongs\"", "\"MiB\"", "-3", "\"\""] {
            let err = load_text(&format!("[stages.impl]\nmax_file_size = {bad}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains("max_file_size"), "{bad}: {err}");
        }
    }

    #[test]
    fn triage_checks_resolve_and_empty_section_names_are_refused() {
        let config = load_text(
            "[stages.triage]\nrequired_sections = [\"Goal\"]\nmin_chars = 0\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.triage.required_sections, ["Goal"]);
        assert_eq!(config.triage.min_chars, 0);
        let err = load_text("[stages.triage]\nrequired_sections = [\" \"]\n", &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 2, key `stages.triage.required_sections`"),
            "{err}"
        );
        let err = load_text("[stages.triage]\nmin_chars = -1\n", &[]).unwrap_err();
        assert!(err.to_string().contains("stages.triage.min_chars"), "{err}");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = load_text(
            "[stages.lld]\nmax_revisions = 2\ndrafterr = \"cmd:x\"\n",
            &[],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(".orchestrate.toml, line 3"), "{text}");
        assert!(text.contains("`stages.lld.drafterr`"), "{text}");
    }

    #[test]
    fn wrong_type_names_key() {
        let err = load_text("[stages.spec]\nmax_revisions = \"three\"\n", &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("`stages.spec.max_revisions`"), "{text}");
    }

    #[test]
    fn unknown_stage_and_provider() {
        let err = load_text("[stages.review]\ndrafter = \"cmd:x\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("`stages.review`"), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = load_text("[stages.lld]\n\ndrafter = \"acme:big\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(err.to_string().contains("unknown provider `acme`"), "{err}");
    }

    #[test]
    fn overrides_beat_files_and_name_themselves() {
        let config = load_text("[gates]\nafter_lld = false\n", &["gates.after_lld=true"]).unwrap();
        assert!(config.gates.after_lld);
        let err = load_text("", &["stages.lld.max_revisions=many"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("`-c stages.lld.max_revisions=many`"),
            "{err}"
        );
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    wrong_type: true,
                    origin: Origin::Override { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let err = load_text(
            "[stages.lld]
max_revisions = \"3\"\n",
            &[],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    wrong_type: true,
                    origin: Origin::File { .. },
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn providers_resolve_kinds_and_timeouts() {
        let config = load_text(
            "[providers.cmd]\ntimeout = \"5s\"\n[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:8000/v1\"\n[stages.lld]\ndrafter = \"local:qwen\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.providers["cmd"].timeout, Duration::from_secs(5));
        assert_eq!(config.providers["local"].kind, ProviderKind::OpenAi);
        assert_eq!(config.lld.drafter.as_ref().unwrap().provider, "local");
        let err = load_text("[providers.mystery]\nbase_url = \"x\"\n", &[]).unwrap_err();
        assert!(
            err.to_string().contains("unknown provider `mystery`"),
            "{err}"
        );
        let err = load_text("[providers.cmd]\ntimeout = \"soon\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("providers.cmd.timeout"), "{err}");
    }

    #[test]
    fn budgets_and_prices_resolve_and_are_checked() {
        let config = load_text(
            "[budget]\nmax_usd_per_issue = 5.0\nmax_usd_per_stage = 2\n[budget.stages]\nlld = 3.0\n[prices.\"my-model\"]\ninput = 1.0\noutput = 2.0\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.budget.per_issue, Some(5.0));
        assert_eq!(config.budget.for_stage("lld"), Some(3.0));
        assert_eq!(config.budget.for_stage("spec"), Some(2.0));
        let price = config.prices["my-model"];
        assert_eq!(
            (price.cached_input, price.cache_write),
            (1.0, 1.0),
            "cache rates default to the input rate"
        );
        assert!(!load_text("", &[]).unwrap().budget.is_set());

        let err = load_text("[budget]\nmax_usd_per_issue = -1.0\n", &[]).unwrap_err();
        assert!(
            err.to_string().contains("budget.max_usd_per_issue"),
            "{err}"
        );
        let err = load_text("[budget.stages]\nreview = 1.0\n", &[]).unwrap_err();
        assert!(err.to_string().contains("budget.stages.review"), "{err}");
        let err = load_text("[prices.\"x\"]\ninput = 1.0\n", &[]).unwrap_err();
        assert!(err.to_string().contains("prices.x"), "{err}");
    }

    #[test]
    fn max_concurrent_is_four_unless_set_and_never_zero() {
        let config = load_text("[providers.gemini]\nmax_concurrent = 2\n", &[]).unwrap();
        assert_eq!(config.providers["gemini"].max_concurrent, 2);
        assert_eq!(config.providers["anthropic"].max_concurrent, 4);
        assert_eq!(config.providers["cmd"].max_concurrent, 4);
        let err = load_text("[providers.ollama]\nmax_concurrent = 0\n", &[]).unwrap_err();
        assert!(
            err.to_string().contains("providers.ollama.max_concurrent"),
            "{err}"
        );
        assert!(err.to_string().contains("never let a call start"), "{err}");
    }

    #[test]
    fn declared_providers_start_from_their_kind_but_not_its_address_or_key() {
        let config = load_text(
            "[providers.anthropic]\nmax_retries = 7\n[providers.gateway]\nkind = \"anthropic\"\nbase_url = \"https://gw.example.com/\"\n",
            &[],
        )
        .unwrap();
        let gateway = &config.providers["gateway"];
        assert_eq!(
            gateway.max_retries, 7,
            "starts from the built-in anthropic, as configured"
        );
        assert_eq!(gateway.max_output_tokens, Some(16384));
        assert_eq!(gateway.base_url.as_deref(), Some("https://gw.example.com"));
        assert_eq!(gateway.api_key_env, None, "never the vendor's key variable");
        let anthropic = &config.providers["anthropic"];
        assert_eq!(
            anthropic.base_url.as_deref(),
            Some("https://api.anthropic.com")
        );
        assert_eq!(anthropic.idle_timeout, Duration::from_secs(120));

        let err = load_text("[providers.local]\nkind = \"openai\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("has no base_url"), "{err}");
        let err =
            load_text("[providers.openai]\nbase_url = \"localhost:8000\"\n", &[]).unwrap_err();
        assert!(
            err.to_string().contains("providers.openai.base_url"),
            "{err}"
        );
        let err = load_text("[providers.claude]\nkind = \"openai\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("cannot change kind"), "{err}");
        let alias = load_text(
            "[providers.claude]\nbase_url = \"http://127.0.0.1:9\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            alias.providers["anthropic"].base_url.as_deref(),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn paths_stay_in_the_repository() {
        for bad in ["/etc/x", "../x/{issue}.md", ".git/hooks/x", "a//b"] {
            let err = load_text(&format!("[paths]\nlld = \"{bad}\"\n"), &[]).unwrap_err();
            assert!(err.to_string().contains("paths.lld"), "{bad}: {err}");
        }
    }

    /// The error for `[paths]` written as `toml`, as text, with its hint.
    fn paths_error(toml: &str) -> (String, String) {
        match load_text(&format!("[paths]\n{toml}"), &[]) {
            Err(err) => match &err {
                ConfigError::Invalid {
                    hint: Some(hint), ..
                } => (err.to_string(), hint.clone()),
                other => panic!("{toml}: expected an error with a hint, got {other:?}"),
            },
            Ok(_) => panic!("{toml}: expected an error"),
        }
    }

    #[test]
    fn paths_have_no_git_part_at_any_depth_in_any_case() {
        for bad in ["docs/.git/x", "docs/.GIT/x", ".Git/{issue}.md", "a/b/.git"] {
            let (err, _) = paths_error(&format!("spec = \"{bad}\"\n"));
            assert!(err.contains("line 2, key `paths.spec`"), "{bad}: {err}");
            assert!(err.contains("`.git` part"), "{bad}: {err}");
        }
        // A part that only starts with .git is an ordinary name.
        load_text("[paths]\nspec = \"docs/.github/{issue}.md\"\n", &[]).unwrap();
    }

    #[test]
    fn paths_use_only_known_placeholders() {
        let (err, hint) = paths_error("lld = \"docs/{nope}/{issue}.md\"\n");
        assert!(err.contains("line 2, key `paths.lld`"), "{err}");
        assert!(
            err.contains("`{nope}`, which is not a placeholder"),
            "{err}"
        );
        assert!(
            hint.contains("{issue}") && hint.contains("{stage}"),
            "{hint}"
        );
        for bad in [
            "docs/{issue.md",
            "docs/issue}.md",
            "docs/{{issue}}.md",
            "docs/{}.md",
        ] {
            let (err, _) = paths_error(&format!("lld = \"{bad}\"\n"));
            assert!(err.contains("key `paths.lld`"), "{bad}: {err}");
        }
        // {stage} is known everywhere: each file is rendered for its own stage.
        let config = load_text(
            "[paths]\nlld = \"docs/{stage}/{issue}.md\"\nspec = \"docs/{stage}/{issue}.md\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            config.paths.artifact(Stage::Lld, 7).unwrap(),
            "docs/lld/7.md"
        );
        assert_eq!(
            config.paths.artifact(Stage::Spec, 7).unwrap(),
            "docs/spec/7.md"
        );
    }

    #[test]
    fn two_artifacts_in_one_file_are_refused_naming_both_keys() {
        // The brief set to the design's default path.
        let (err, hint) = paths_error("brief = \"docs/lld/{issue}.md\"\n");
        assert!(err.contains("line 2, key `paths.brief`"), "{err}");
        assert!(
            err.contains("`paths.lld` (the design, set in the built-in defaults)"),
            "{err}"
        );
        assert!(hint.contains("its own file"), "{hint}");

        // Both set in the file: reported at the later key, naming the earlier one's line.
        let (err, _) = paths_error("brief = \"docs/{issue}.md\"\nlld = \"docs/{issue}.md\"\n");
        assert!(err.contains("line 3, key `paths.lld`"), "{err}");
        assert!(err.contains("`paths.brief` (the brief, set in "), "{err}");
        assert!(err.contains(".orchestrate.toml, line 2)"), "{err}");
    }

    #[test]
    fn an_artifact_in_the_file_of_a_review_log_is_refused() {
        let (err, _) = paths_error("lld = \"docs/reviews/{issue}-lld.md\"\n");
        assert!(err.contains("key `paths.lld`"), "{err}");
        assert!(err.contains("`paths.reviews` (the lld review log"), "{err}");
        let (err, _) = paths_error("reviews = \"docs/{stage}s/{issue}.md\"\n");
        assert!(err.contains("key `paths.reviews`"), "{err}");
        assert!(
            err.contains("`paths.spec` (the implementation spec"),
            "{err}"
        );

        // Without {stage}, the two review logs are one file.
        let (err, hint) = paths_error("reviews = \"docs/reviews/{issue}.md\"\n");
        assert!(err.contains("key `paths.reviews`"), "{err}");
        assert!(err.contains("the lld and the spec review logs"), "{err}");
        assert!(hint.contains("{stage}"), "{hint}");
    }

    #[test]
    fn an_artifact_where_another_needs_a_folder_is_refused() {
        let (err, _) = paths_error("lld = \"docs/x.md\"\nspec = \"docs/x.md/y.md\"\n");
        assert!(err.contains("line 3, key `paths.spec`"), "{err}");
        assert!(err.contains("needs `docs/x.md` to be a folder"), "{err}");
        assert!(err.contains("`paths.lld` (the design"), "{err}");
        let (err, _) = paths_error("brief = \"docs/lld\"\n");
        assert!(err.contains("key `paths.brief`"), "{err}");
        assert!(err.contains("`docs/lld` is a file"), "{err}");
        // Sharing the start of a name is not sharing a folder.
        load_text(
            "[paths]\nlld = \"docs/x.md\"\nspec = \"docs/x.mdx/y.md\"\n",
            &[],
        )
        .unwrap();
    }

    #[test]
    fn paths_set_by_an_override_name_the_override() {
        let err = load_text("", &["paths.spec=docs/lld/{issue}.md"]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`-c paths.spec=docs/lld/{issue}.md`"),
            "{text}"
        );
        assert!(text.contains("key `paths.spec`"), "{text}");
    }
}
