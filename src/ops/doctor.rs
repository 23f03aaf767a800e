//! `doctor`: whether a run could start here, and what to fix if not. Each check is one
//! finding — git and the repository, the configuration, every model a run would call, GitHub,
//! the test command, the local state — with its level and, when something is wrong, the
//! error or fact behind it, from which the command line chooses the advice.
//!
//! Nothing is changed and nothing is paid for: models are not called (their vendor's list of
//! models is asked for instead), tests are not run, locks are read without being taken. The
//! network checks run concurrently, each within the given timeout, and all of them within
//! [`OVERALL`], so a server that never answers cannot hold the report up.
//!
//! What is fatal (a [`Level::Error`]): no usable `git`, no repository or a bare one, a
//! configuration that does not load, and a model a run would call that cannot be reached
//! (no key, a key refused, no answer, a program not found, none chosen). Everything else — a
//! detached `HEAD`, a shallow clone, GitHub, the test command, leftovers of earlier runs — is
//! a warning: a run can start (from an issue file, up to the stage that needs it).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::OpenOptions;
use crate::config::{self, Config, ConfigError, LoadOptions, ModelSpec, SandboxMode};
use crate::env::Env;
use crate::error_chain::chain;
use crate::forge::token;
use crate::forge::{ForgeError, GitHub, Policy, RepoAccess, RepoId};
use crate::git::{self, GitError, GitVersion, Head, Repo};
use crate::llm::defaults::{self, Defaults};
use crate::llm::probe::{self, KeySource, ProbeError};
use crate::llm::{LlmError, Role};
use crate::pipeline::contain::Containment;
use crate::pipeline::context::test_command;
use crate::pipeline::local::lock::{LockFile, lock_files};
use crate::pipeline::{PipelineError, Session};
use crate::redact::Redactor;
use crate::stage::Stage;
use crate::testing::{self, TestCommand};

/// The oldest `git` a run is known to work with: `git worktree add --detach` and `git push
/// --porcelain` as used here, and `git credential fill` as it behaves today.
pub const MIN_GIT: GitVersion = GitVersion(2, 30, 0);

/// How long one network check may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long all the network checks together may take.
pub const OVERALL: Duration = Duration::from_secs(25);

/// How long `gh auth token` or `git credential fill` may take to answer.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What to check, and how.
#[derive(Clone, Debug)]
pub struct DoctorOptions {
    pub open: OpenOptions,
    /// Send no request: keys are looked for, not tried.
    pub offline: bool,
    /// The longest one network check may take.
    pub timeout: Duration,
}

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    /// A run can start, but something here will need attention.
    Warning,
    /// A run cannot start, or would fail.
    Error,
}

/// One finding.
#[derive(Debug)]
pub struct Check {
    /// What was checked: `git`, `config`, `model anthropic:claude-opus-4-5`, ...
    pub name: String,
    pub level: Level,
    /// What was found, or what is wrong.
    pub detail: String,
    /// What is wrong, as data, for the advice.
    pub problem: Option<Problem>,
}

/// What is wrong, as the advice needs it.
#[derive(Debug)]
pub enum Problem {
    /// `git` could not be run.
    NoGit(GitError),
    OldGit {
        found: GitVersion,
        need: GitVersion,
    },
    /// No repository, or one that cannot be opened (reftable).
    Repository(GitError),
    Bare,
    Shallow,
    PartialClone {
        remote: String,
    },
    Detached,
    Unborn {
        branch: String,
    },
    Config(ConfigError),
    /// No model is configured for these roles, and none was found on this machine.
    NoModels {
        message: String,
    },
    /// The provider a model names is not one this build has.
    Model(LlmError),
    /// The vendor's list of models could not be read.
    Probe(ProbeError),
    /// A `cmd:` or `agent:` model's program, or the test command's, is not there.
    ProgramMissing {
        program: String,
        test: bool,
    },
    /// The test command's runner is there but does not start (`python -m pytest` without
    /// pytest installed).
    RunnerFails {
        command: String,
    },
    GitHub(PipelineError),
    Forge(ForgeError),
    /// A classic token without the `repo` scope (or `public_repo` for a public repository).
    Scopes {
        scopes: String,
        private: bool,
    },
    CannotPush {
        repo: String,
    },
    IssuesOff {
        repo: String,
    },
    NoTestCommand,
    /// Tests and agents cannot be contained as `sandbox.mode` asks (`required`), or only
    /// partly, or not at all (`auto`, `off`).
    Sandbox {
        mode: SandboxMode,
    },
    /// A path `sandbox.writable` or `sandbox.agent_writable` names does not exist.
    SandboxPathMissing,
    StaleLock {
        issue: u64,
    },
    LeftoverWorktree {
        issue: u64,
    },
    /// The network checks did not all finish in time.
    TooSlow {
        after: Duration,
    },
}

/// Every finding, in the order they are shown.
#[derive(Debug)]
pub struct Report {
    pub checks: Vec<Check>,
    /// The credentials the configuration names, for whoever shows the report.
    pub redactor: Redactor,
}

impl Report {
    /// Whether a run could start: no check is an error.
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.level != Level::Error)
    }
}

fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        level: Level::Ok,
        detail: detail.into(),
        problem: None,
    }
}

fn bad(
    level: Level,
    name: impl Into<String>,
    detail: impl Into<String>,
    problem: Problem,
) -> Check {
    Check {
        name: name.into(),
        level,
        detail: detail.into(),
        problem: Some(problem),
    }
}

/// Check everything a run needs, here, with `env`.
pub async fn doctor(options: &DoctorOptions, env: &Env) -> Report {
    let mut checks = Vec::new();
    let repo = match Repo::discover(env) {
        Ok(repo) => Some(repo),
        Err(error) => {
            checks.push(bad(
                Level::Error,
                "repository",
                chain(&error),
                Problem::Repository(error),
            ));
            None
        }
    };
    if let Some(repo) = &repo {
        checks.extend(repository(repo));
    }
    let load = LoadOptions {
        repo_root: repo.as_ref().and_then(|r| r.workdir().map(PathBuf::from)),
        config_file: options.open.config_file.clone(),
        overrides: options.open.overrides.clone(),
    };
    let config = match config::load(&load, env) {
        Ok(config) => {
            checks.push(ok("config", layers(&config, &options.open)));
            Some(config)
        }
        Err(error) => {
            checks.push(bad(
                Level::Error,
                "config",
                chain(&error),
                Problem::Config(error),
            ));
            None
        }
    };
    let session = match (repo, config.clone()) {
        (Some(repo), Some(config)) => Some(Session::new(repo, config, env.clone())),
        _ => None,
    };
    let redactor = match (&session, &config) {
        (Some(session), _) => session.redactor.clone(),
        (None, Some(config)) => Redactor::new(
            env,
            config
                .providers
                .values()
                .filter_map(|p| p.api_key_env.clone()),
        ),
        (None, None) => Redactor::new(env, std::iter::empty::<String>()),
    };
    let http = crate::llm::client().ok();
    let workdir = match &session {
        Some(session) => session.repo.run_dir().to_path_buf(),
        None => PathBuf::from("."),
    };

    // The network checks, concurrently, bounded all together.
    let network = async {
        let git = git_program(env);
        let models = async {
            match &config {
                Some(config) => models(config, env, http.as_ref(), &workdir, options).await,
                None => Vec::new(),
            }
        };
        let github = async {
            match &session {
                Some(session) => github(session, http.as_ref(), options).await,
                None => Vec::new(),
            }
        };
        let (git, models, github) = tokio::join!(git, models, github);
        (git, models, github)
    };
    match tokio::time::timeout(OVERALL, network).await {
        Ok((git, models, github)) => {
            checks.insert(0, git);
            checks.extend(models);
            checks.extend(github);
        }
        Err(_) => checks.push(bad(
            Level::Error,
            "network checks",
            format!(
                "did not finish within {}",
                humantime::format_duration(OVERALL)
            ),
            Problem::TooSlow { after: OVERALL },
        )),
    }
    if let Some(session) = &session {
        checks.push(test_command_check(session).await);
        checks.push(sandbox_check(session).await);
        checks.extend(local_state(session));
    }
    Report { checks, redactor }
}

/// `git --version`, and whether it is recent enough.
async fn git_program(env: &Env) -> Check {
    match git::version(env).await {
        Ok(found) if found >= MIN_GIT => {
            ok("git", format!("git {found} ({MIN_GIT} or later needed)"))
        }
        Ok(found) => bad(
            Level::Error,
            "git",
            format!("git {found} is older than {MIN_GIT}, the oldest this tool works with"),
            Problem::OldGit {
                found,
                need: MIN_GIT,
            },
        ),
        Err(error) => bad(Level::Error, "git", chain(&error), Problem::NoGit(error)),
    }
}

/// The repository: a work tree, full history, and where `HEAD` is.
fn repository(repo: &Repo) -> Vec<Check> {
    let mut checks = Vec::new();
    if repo.is_bare() {
        checks.push(bad(
            Level::Error,
            "repository",
            format!(
                "{} is a bare repository: a run needs a work tree",
                repo.common_dir().display()
            ),
            Problem::Bare,
        ));
        return checks;
    }
    // `components` drops the trailing slash libgit2 gives a work tree.
    let root = repo
        .run_dir()
        .components()
        .collect::<PathBuf>()
        .display()
        .to_string();
    let shape = repo.shape();
    checks.push(ok("repository", root));
    if shape.shallow {
        checks.push(bad(
            Level::Warning,
            "history",
            "a shallow clone: history older than its cut is missing, and so are stages committed before it",
            Problem::Shallow,
        ));
    }
    if let Some(remote) = shape.promisor {
        checks.push(bad(
            Level::Warning,
            "objects",
            format!(
                "a partial clone: missing objects are fetched from `{remote}` when a run reads them"
            ),
            Problem::PartialClone { remote },
        ));
    }
    checks.push(match repo.head() {
        Ok(Head::Branch { name, .. }) => ok("HEAD", format!("on branch {name}")),
        Ok(Head::Detached(id)) => bad(
            Level::Warning,
            "HEAD",
            format!(
                "detached at {}: a new issue branch has no branch to start from",
                id.short()
            ),
            Problem::Detached,
        ),
        Ok(Head::Unborn { name }) => bad(
            Level::Warning,
            "HEAD",
            format!("branch {name} has no commits yet"),
            Problem::Unborn { branch: name },
        ),
        Err(error) => bad(
            Level::Error,
            "HEAD",
            chain(&error),
            Problem::Repository(error),
        ),
    });
    // Every stage ends in a commit: without a name to commit with, a run stops before it
    // calls any model.
    checks.push(match repo.committer() {
        Ok(who) => ok("identity", format!("commits as {who}")),
        Err(error) => bad(
            Level::Error,
            "identity",
            chain(&error),
            Problem::Repository(error),
        ),
    });
    checks
}

/// The layers the configuration was read from.
fn layers(config: &Config, open: &OpenOptions) -> String {
    let mut read = vec!["built-in defaults".to_string()];
    read.extend(config.files.iter().map(|f| f.display().to_string()));
    match open.overrides.len() {
        0 => {}
        1 => read.push("1 -c override".into()),
        n => read.push(format!("{n} -c overrides")),
    }
    format!("loaded from {}", read.join(", "))
}

/// Every model a run would call: configured, else the zero-config default. One check per
/// model, naming the roles it plays.
async fn models(
    config: &Config,
    env: &Env,
    http: Option<&reqwest::Client>,
    workdir: &Path,
    options: &DoctorOptions,
) -> Vec<Check> {
    let mut roles: Vec<(Stage, Role, Option<ModelSpec>)> = Vec::new();
    for stage in Stage::ALL {
        for (role, required) in stage.roles() {
            let configured = config.stage(stage).model(*role).cloned();
            let defaultable = stage.is_reviewed() || stage == Stage::Impl;
            if configured.is_some() || (*required && defaultable) {
                roles.push((stage, *role, configured));
            }
        }
    }
    let mut checks = Vec::new();
    let mut defaults: Option<Result<Defaults, String>> = None;
    if roles.iter().any(|(_, _, spec)| spec.is_none()) {
        let found = match (options.offline, http) {
            (false, Some(http)) => defaults::look(env, config.providers.get("ollama"), http).await,
            _ => defaults::look_offline(env),
        };
        defaults = Some(defaults::choose(&found));
    }
    // Each model once, with the roles it plays and why it was chosen.
    let mut by_model: BTreeMap<String, (ModelSpec, Vec<String>, Option<String>)> = BTreeMap::new();
    let mut unfilled = Vec::new();
    for (stage, role, configured) in roles {
        let (spec, why) = match (configured, &defaults) {
            (Some(spec), _) => (spec, None),
            (None, Some(Ok(chosen))) => {
                let choice = match role {
                    Role::Reviewer => &chosen.reviewer,
                    _ => &chosen.drafter,
                };
                (choice.spec.clone(), Some(choice.why.clone()))
            }
            (None, _) => {
                unfilled.push(role_in(stage, role));
                continue;
            }
        };
        let entry = by_model
            .entry(spec.label())
            .or_insert_with(|| (spec, Vec::new(), why));
        entry.1.push(role_in(stage, role));
    }
    if !unfilled.is_empty() {
        let message = match &defaults {
            Some(Err(message)) => message.clone(),
            _ => String::new(),
        };
        checks.push(bad(
            Level::Error,
            "models",
            format!(
                "no model for {}: none is configured and none was found on this machine",
                unfilled.join(", ")
            ),
            Problem::NoModels { message },
        ));
    }
    let probes = by_model.into_iter().map(|(label, (spec, roles, why))| {
        let roles = match why {
            Some(why) => format!("{} (by default: {why})", roles.join(", ")),
            None => roles.join(", "),
        };
        model(config, env, http, workdir, options, label, spec, roles)
    });
    checks.extend(futures_util::future::join_all(probes).await);
    checks
}

/// One model: its program found, or its key present and its vendor answering.
#[allow(clippy::too_many_arguments)]
async fn model(
    config: &Config,
    env: &Env,
    http: Option<&reqwest::Client>,
    workdir: &Path,
    options: &DoctorOptions,
    label: String,
    spec: ModelSpec,
    roles: String,
) -> Check {
    let name = format!("model {label}");
    let Some(provider) = config.providers.get(&spec.provider) else {
        let error = LlmError::Unsupported {
            provider: spec.provider.clone(),
        };
        return bad(
            Level::Error,
            name,
            format!("{roles}: {error}"),
            Problem::Model(error),
        );
    };
    if spec.kind.is_program() {
        return match find_program(env, workdir, &spec.model) {
            (program, Found::At(path)) => {
                ok(name, format!("{roles}: `{program}` is {}", path.display()))
            }
            (program, Found::Builtin) => {
                ok(name, format!("{roles}: `{program}` is a shell builtin"))
            }
            (program, Found::Missing) => bad(
                Level::Error,
                name,
                format!("{roles}: the program `{program}` is not found on PATH"),
                Problem::ProgramMissing {
                    program,
                    test: false,
                },
            ),
        };
    }
    let key = match probe::key_source(env, provider) {
        KeySource::Variable(var) => format!("key from {var}"),
        KeySource::NotNeeded => "no key needed".to_string(),
        KeySource::Missing { vars } => {
            let error = probe::missing_key(provider);
            return bad(
                Level::Error,
                name,
                format!("{roles}: no key: {} is not set", vars.join(" or ")),
                Problem::Model(error),
            );
        }
        KeySource::Unnamed => {
            let error = probe::missing_key(provider);
            return bad(
                Level::Error,
                name,
                format!("{roles}: {error}"),
                Problem::Model(error),
            );
        }
    };
    let base = provider.base_url.clone().unwrap_or_default();
    if options.offline {
        return ok(
            name,
            format!("{roles}: {key}; {base} not contacted (--offline)"),
        );
    }
    let Some(http) = http else {
        return ok(name, format!("{roles}: {key}; {base} not contacted"));
    };
    match probe::list_models(http, env, provider, options.timeout).await {
        Ok(()) => ok(name, format!("{roles}: {key}; {base} answers")),
        Err(error) => bad(
            Level::Error,
            name,
            format!("{roles}: {key}; {}", chain(&error)),
            Problem::Probe(error),
        ),
    }
}

/// GitHub: which repository, which token, and what the token may do there.
async fn github(
    session: &Session,
    http: Option<&reqwest::Client>,
    options: &DoctorOptions,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let target = match crate::pipeline::github::target(session, None) {
        Ok(target) => target,
        Err(error) => {
            checks.push(bad(
                Level::Warning,
                "github",
                chain(&error),
                Problem::GitHub(error),
            ));
            return checks;
        }
    };
    let how = match &session.config.github.repo {
        Some(_) => "github.repo".to_string(),
        None => format!("remote {}", session.config.github.remote),
    };
    checks.push(ok(
        "github",
        format!("{} on {} (from {how})", target.repo, target.host.api),
    ));
    let (protocol, credential_host) = target.host.credential_target();
    let fill = session
        .repo
        .credential_fill(&protocol, &credential_host, TOKEN_TIMEOUT);
    let token = match token::find(&session.env, &target.host, move || fill).await {
        Ok(token) => token,
        Err(error) => {
            checks.push(bad(
                Level::Warning,
                "github token",
                chain(&error),
                Problem::Forge(error),
            ));
            return checks;
        }
    };
    checks.push(ok("github token", format!("from {}", token.source)));
    if options.offline {
        checks.push(ok("github access", "not checked (--offline)"));
        return checks;
    }
    let Some(http) = http else {
        return checks;
    };
    let policy = Policy {
        max_wait: Duration::ZERO,
        timeout: options.timeout,
        attempts: 1,
        ..Policy::default()
    };
    let source = token.source;
    let repo = target.repo.clone();
    let access = match GitHub::new(http.clone(), target.host, target.repo, token, policy) {
        Ok(client) => client.access().await,
        Err(error) => Err(error),
    };
    checks.push(match access {
        Ok(access) => judge_access(&repo, source, &access),
        Err(error) => bad(
            Level::Warning,
            "github access",
            chain(&error),
            Problem::Forge(error),
        ),
    });
    checks
}

/// Whether what the token may do is enough for a run: reading issues and, for the `pr`
/// stage, pushing and opening pull requests.
fn judge_access(repo: &RepoId, source: token::TokenSource, access: &RepoAccess) -> Check {
    let name = "github access";
    if let Some(scopes) = &access.scopes {
        let listed: Vec<&str> = scopes.split(',').map(str::trim).collect();
        let enough =
            listed.contains(&"repo") || (!access.private && listed.contains(&"public_repo"));
        if !enough {
            let shown = if scopes.is_empty() { "none" } else { scopes };
            return bad(
                Level::Warning,
                name,
                format!(
                    "the token from {source} has the scopes {shown}; `repo` is needed to read issues of {repo} and open pull requests"
                ),
                Problem::Scopes {
                    scopes: scopes.clone(),
                    private: access.private,
                },
            );
        }
    }
    if !access.has_issues {
        return bad(
            Level::Warning,
            name,
            format!("{repo} has issues turned off"),
            Problem::IssuesOff {
                repo: repo.to_string(),
            },
        );
    }
    if !access.can_push {
        return bad(
            Level::Warning,
            name,
            format!(
                "the token from {source} may read {repo} but not push to it: the pr stage needs that"
            ),
            Problem::CannotPush {
                repo: repo.to_string(),
            },
        );
    }
    let scopes = match &access.scopes {
        Some(scopes) => format!(" (token scopes: {scopes})"),
        None => String::new(),
    };
    ok(
        name,
        format!("issues of {repo} readable, push allowed{scopes}"),
    )
}

/// The test command a run would use, and whether its program is there. Tests are not run.
/// A role as the models line names it: `lld drafter`, but `triage` for the triage model (its
/// role is named after its stage).
fn role_in(stage: Stage, role: Role) -> String {
    match role.name() == stage.name() {
        true => stage.to_string(),
        false => format!("{stage} {}", role.name()),
    }
}

/// What this machine offers for containing tests and agents, and what a run will do with it.
async fn sandbox_check(session: &Session) -> Check {
    let config = &session.config.sandbox;
    let mode = config.mode.unwrap_or(SandboxMode::Auto);
    // Only what the machine offers is reported: which programs skip the checkout's check
    // does not matter here.
    let containment = match Containment::decide(config, &session.env, None).await {
        Ok(containment) => containment,
        Err(error) => {
            return bad(
                Level::Error,
                "sandbox",
                chain(&error),
                Problem::Sandbox { mode },
            );
        }
    };
    if mode == SandboxMode::Off {
        return bad(
            Level::Warning,
            "sandbox",
            "sandbox.mode is \"off\": an attempt's tests and agent: programs run uncontained (the after-check still looks)",
            Problem::Sandbox { mode },
        );
    }
    let offer = containment.offer();
    let landlock = match offer.landlock {
        Some(abi) => format!("Landlock ABI {abi}"),
        None => "no Landlock".into(),
    };
    let namespaces = match offer.namespaces {
        true => "user namespaces",
        false => "no user namespaces",
    };
    let network = match (config.test_network, containment.tests_offline()) {
        (true, _) => "the tests may reach the network (sandbox.test_network)",
        (false, true) => "an attempt's tests run without network",
        (false, false) => "an attempt's tests can reach the network",
    };
    if !containment.missing().is_empty() {
        return bad(
            Level::Warning,
            "sandbox",
            format!(
                "{landlock}, {namespaces}: {} not made writable: it does not exist",
                containment.missing().join(", ")
            ),
            Problem::SandboxPathMissing,
        );
    }
    match offer.shortfall() {
        None => ok(
            "sandbox",
            format!(
                "{landlock}, {namespaces}: an attempt's tests and agent: programs write only the worktree, a private temp dir and their caches; {network}; nothing they start outlives them (sandbox.mode = \"{}\")",
                mode.name()
            ),
        ),
        Some(why) => bad(
            Level::Warning,
            "sandbox",
            format!(
                "{landlock}, {namespaces}: tests and agents run with less containment: {why}; {network} (sandbox.mode = \"{}\"; `git orchestrate action` requires full containment unless configured)",
                mode.name()
            ),
            Problem::Sandbox { mode },
        ),
    }
}

async fn test_command_check(session: &Session) -> Check {
    let repo = &session.repo;
    let command = match repo.head() {
        Ok(Head::Branch { tip, .. } | Head::Detached(tip)) => {
            test_command(&session.config, repo, &session.env, tip)
        }
        // No commit yet: what the work tree has.
        _ => match &session.config.implement.test_command {
            Some(command) => Some(TestCommand {
                command: command.clone(),
                source: testing::TestSource::Config,
            }),
            None => {
                let root = repo.run_dir().to_path_buf();
                testing::detect(
                    &|path: &str| std::fs::read(root.join(path)).ok(),
                    &|program| session.env.find_program(program).is_some(),
                )
            }
        },
    };
    let Some(command) = command else {
        return bad(
            Level::Warning,
            "test command",
            "none configured (stages.impl.test_command) and none detected: the impl stage needs one",
            Problem::NoTestCommand,
        );
    };
    let shown = format!("`{}` ({})", command.command, command.source);
    match find_program(&session.env, repo.run_dir(), &command.command) {
        (program, Found::At(path)) => match probe_runner(session, &command.command).await {
            Some(Err(failed)) => bad(
                Level::Warning,
                "test command",
                format!("{shown}: `{program}` is {}, but {failed}", path.display()),
                Problem::RunnerFails {
                    command: command.command.clone(),
                },
            ),
            Some(Ok(probe)) => ok("test command", format!("{shown}; `{probe}` runs")),
            None => ok(
                "test command",
                format!("{shown}; `{program}` is {}", path.display()),
            ),
        },
        (_, Found::Builtin) => ok("test command", shown),
        (program, Found::Missing) => bad(
            Level::Warning,
            "test command",
            format!("{shown}: `{program}` is not found on PATH"),
            Problem::ProgramMissing {
                program,
                test: true,
            },
        ),
    }
}

/// Locks and worktrees earlier runs left under `<git-common-dir>/orchestrate/`.
fn local_state(session: &Session) -> Vec<Check> {
    let mut checks = Vec::new();
    let locks = lock_files(&session.state.locks());
    let mut live = Vec::new();
    for LockFile { issue, pid } in locks {
        match pid.filter(|pid| alive(*pid)) {
            Some(pid) => {
                live.push(issue);
                checks.push(ok(
                    format!("lock #{issue}"),
                    format!("a run is working on issue #{issue} (pid {pid})"),
                ));
            }
            None => checks.push(bad(
                Level::Warning,
                format!("lock #{issue}"),
                match pid {
                    Some(pid) => format!("left by a run of issue #{issue} that died (pid {pid})"),
                    None => format!("left by a run of issue #{issue} that died"),
                },
                Problem::StaleLock { issue },
            )),
        }
    }
    match session.repo.issue_worktrees() {
        Ok(worktrees) => {
            for (issue, path) in worktrees {
                if live.contains(&issue) {
                    continue;
                }
                checks.push(bad(
                    Level::Warning,
                    format!("worktree #{issue}"),
                    format!("left by an earlier run at {}", path.display()),
                    Problem::LeftoverWorktree { issue },
                ));
            }
        }
        Err(error) => checks.push(bad(
            Level::Warning,
            "worktrees",
            chain(&error),
            Problem::Repository(error),
        )),
    }
    if checks.is_empty() {
        checks.push(ok(
            "local state",
            format!(
                "no locks or worktrees left in {}",
                session.state.root().display()
            ),
        ));
    }
    checks
}

/// Whether process `pid` exists (a pid reused since reads as alive: the lock is then
/// reported as held, which a run would find out otherwise).
fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(errno) => errno == nix::errno::Errno::EPERM,
    }
}

/// How long the test runner's probe may take.
const RUNNER_PROBE: Duration = Duration::from_secs(20);

/// Start the test runner the way the cheapest probe of a known runner does (`python -m
/// pytest --version`, `npm --version`, `go version`, ...): `None` for a command that is no
/// known runner (a script, which only the baseline runs); `Ok(probe)` when it ran; `Err(why)`
/// when it could not (a Python module that is not installed, a runner that fails).
async fn probe_runner(session: &Session, command: &str) -> Option<Result<String, String>> {
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| is_assignment(w))
        .collect();
    let probe: Vec<&str> = match words.as_slice() {
        [python, "-m", module, ..] if python.starts_with("python") => {
            vec![python, "-m", module, "--version"]
        }
        ["go", ..] => vec!["go", "version"],
        [runner, ..]
            if matches!(
                *runner,
                "pytest" | "tox" | "nox" | "npm" | "pnpm" | "yarn" | "npx" | "cargo" | "make"
            ) =>
        {
            vec![runner, "--version"]
        }
        _ => return None,
    };
    let shown = probe.join(" ");
    let (program, args) = probe.split_first()?;
    let run = crate::process::Command::new(*program)
        .args(args.iter().copied())
        .current_dir(session.repo.run_dir())
        .env_clear()
        .envs(session.env.pairs())
        .timeout(RUNNER_PROBE)
        .run()
        .await;
    Some(match run {
        Ok(output) if output.status.success() => Ok(shown),
        Ok(output) => {
            let said = output.stderr_lines(1);
            Err(match said.trim() {
                "" => format!("`{shown}` fails ({})", output.status),
                said => format!("`{shown}` fails: {said}"),
            })
        }
        Err(error) => Err(format!("`{shown}` could not run: {}", chain(&error))),
    })
}

/// Where a command line's program is.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    At(PathBuf),
    /// A shell builtin or keyword: `sh` has it.
    Builtin,
    Missing,
}

/// The program a shell command line runs first (after `NAME=value` assignments), and where it
/// is: a path is taken from `dir`, a bare name looked up in the environment's `PATH`.
fn find_program(env: &Env, dir: &Path, command: &str) -> (String, Found) {
    const BUILTINS: &[&str] = &[
        "cd", ".", ":", "source", "exec", "export", "set", "test", "[", "true", "false", "if",
        "for", "while", "case", "(", "{", "!", "eval", "command", "exit", "echo", "printf",
    ];
    let program = command
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .find(|w| !is_assignment(w))
        .unwrap_or_default()
        .to_string();
    if program.is_empty() {
        return (program, Found::Missing);
    }
    let executable = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = dir.join(&program);
        let found = if executable(&path) {
            Found::At(path)
        } else {
            Found::Missing
        };
        return (program, found);
    }
    if BUILTINS.contains(&program.as_str()) {
        return (program, Found::Builtin);
    }
    let found = env
        .get("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(&program))
        .find(|p| executable(p));
    match found {
        Some(path) => (program, Found::At(path)),
        None => (program, Found::Missing),
    }
}

/// `NAME=value`, a variable set for the command.
fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_program_of_a_command_line_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let tool = bin.join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = Env::from_pairs([("PATH", bin.display().to_string())]);
        assert_eq!(
            find_program(&env, dir.path(), "RUST_LOG=debug tool --fast"),
            ("tool".to_string(), Found::At(tool.clone()))
        );
        assert_eq!(
            find_program(&env, dir.path(), "./bin/tool"),
            (
                "./bin/tool".to_string(),
                Found::At(dir.path().join("./bin/tool"))
            )
        );
        assert_eq!(
            find_program(&env, dir.path(), "cd sub && make"),
            ("cd".to_string(), Found::Builtin)
        );
        assert_eq!(
            find_program(&env, dir.path(), "nosuch -p"),
            ("nosuch".to_string(), Found::Missing)
        );
    }

    #[test]
    fn scopes_without_repo_are_not_enough() {
        let repo: RepoId = "acme/widgets".parse().unwrap();
        let access = RepoAccess {
            scopes: Some("read:org".into()),
            private: false,
            has_issues: true,
            can_read: true,
            can_push: true,
        };
        let check = judge_access(&repo, token::TokenSource::Env("GITHUB_TOKEN"), &access);
        assert_eq!(check.level, Level::Warning);
        assert!(
            check.detail.contains("`repo` is needed"),
            "{}",
            check.detail
        );
        let public = RepoAccess {
            scopes: Some("public_repo".into()),
            ..access.clone()
        };
        let check = judge_access(&repo, token::TokenSource::Env("GITHUB_TOKEN"), &public);
        assert_eq!(check.level, Level::Ok, "{}", check.detail);
        let fine_grained = RepoAccess {
            scopes: None,
            can_push: false,
            ..access
        };
        let check = judge_access(&repo, token::TokenSource::GhCli, &fine_grained);
        assert!(matches!(check.problem, Some(Problem::CannotPush { .. })));
    }
}
