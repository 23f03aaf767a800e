//! Which programs of a run are contained, and how: `sandbox.mode` against what the machine
//! offers (the launcher's probe), decided once when the impl stage starts.
//!
//! | program | writes | network |
//! |---|---|---|
//! | an attempt's test command | the worktree, the private temp dir, the runner's build caches, `sandbox.writable` | only with `sandbox.test_network` |
//! | the baseline (the user's own code) | anywhere (it is not confined) | yes |
//! | an `agent:` program | the worktree, the private temp dir, its own state, `sandbox.agent_writable`, and of the git directory only `objects/` and the worktree's own directory | yes |
//!
//! Every one of them runs through the launcher unless `mode = "off"`, so none of its processes
//! outlives it. `cmd:` models are not contained.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::PipelineError;
use super::events::{Event, SandboxNetwork};
use crate::config::{SandboxConfig, SandboxMode};
use crate::env::Env;
use crate::sandbox::{self, Launcher, NetworkCut, Offer, Policy};

/// The name of the variable that takes away what the machine offers, for tests:
/// `no-landlock`, `no-namespaces`.
pub const SIMULATE_VAR: &str = "GIT_ORCHESTRATE_SANDBOX_SIMULATE";

/// How this run starts the programs that run model-written code.
#[derive(Debug)]
pub struct Containment {
    mode: SandboxMode,
    /// `None`: programs start directly (`mode = "off"`, or the launcher could not run).
    launcher: Option<Launcher>,
    offer: Offer,
    writable: Vec<PathBuf>,
    agent_writable: Vec<PathBuf>,
    agent_network: bool,
    test_network: bool,
    /// Configured writable paths that do not exist.
    missing: Vec<String>,
    env: Env,
}

impl Containment {
    /// Decide for this run: probe the machine (unless the mode is `off`), and refuse when
    /// `required` cannot be met. (`git orchestrate action` sets `required` when the
    /// configuration says nothing.)
    pub async fn decide(config: &SandboxConfig, env: &Env) -> Result<Containment, PipelineError> {
        let mode = config.mode.unwrap_or(SandboxMode::Auto);
        // A path that does not exist cannot be a Landlock rule: it is said, never dropped
        // silently.
        let mut missing = Vec::new();
        let mut expand = |key: &str, paths: &[String]| -> Vec<PathBuf> {
            let mut kept = Vec::new();
            for path in paths {
                match sandbox::expand(path, env).filter(|p| p.exists()) {
                    Some(found) => kept.push(found),
                    None => missing.push(format!("{key}: {path}")),
                }
            }
            kept
        };
        let writable = expand("sandbox.writable", &config.writable);
        let agent_writable = expand("sandbox.agent_writable", &config.agent_writable);
        let mut containment = Containment {
            mode,
            launcher: None,
            offer: Offer::default(),
            writable,
            agent_writable,
            missing,
            agent_network: true,
            test_network: config.test_network,
            env: env.clone(),
        };
        if mode == SandboxMode::Off {
            return Ok(containment);
        }
        let exe = std::env::current_exe().ok();
        let offer = match &exe {
            Some(exe) => Offer::probe(exe, env.non_empty(SIMULATE_VAR)).await,
            None => Offer::default(),
        };
        let runs = offer.launched;
        if mode == SandboxMode::Required {
            let cut = offer.network_cut() != NetworkCut::None || config.test_network;
            if !runs || !offer.confines_writes() || !cut {
                return Err(PipelineError::Uncontained {
                    why: offer
                        .shortfall()
                        .unwrap_or_else(|| "the sandbox launcher could not run".into()),
                });
            }
        }
        containment.launcher = exe
            .filter(|_| runs)
            .map(|exe| Launcher::new(exe, offer.clone()));
        containment.offer = offer;
        Ok(containment)
    }

    /// What the machine offers, as the launcher's probe found it.
    pub fn offer(&self) -> &Offer {
        &self.offer
    }

    /// Configured writable paths that do not exist (`KEY: PATH`).
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// What the run says about it, once.
    pub fn event(&self) -> Event {
        let contained = self.launcher.is_some();
        Event::Sandbox {
            mode: self.mode.name().to_string(),
            landlock: self.offer.landlock.filter(|_| contained),
            network: match (contained, self.offer.network_cut()) {
                (false, _) => SandboxNetwork::Open,
                (true, NetworkCut::Namespace) => SandboxNetwork::Namespace,
                (true, NetworkCut::TcpOnly) => SandboxNetwork::TcpOnly,
                (true, NetworkCut::None) => SandboxNetwork::Open,
            },
            test_network: self.test_network,
            shortfall: match self.mode {
                SandboxMode::Off => Some("sandbox.mode is \"off\"".into()),
                _ if !contained => Some(
                    self.offer
                        .shortfall()
                        .unwrap_or_else(|| "the sandbox launcher could not run".into()),
                ),
                _ => self.offer.shortfall(),
            },
            missing: self.missing.clone(),
        }
    }

    /// Whether an attempt's tests run without the network.
    pub fn tests_offline(&self) -> bool {
        self.launcher.is_some()
            && !self.test_network
            && self.offer.network_cut() != NetworkCut::None
    }

    /// The launcher for the baseline: the user's own code, with the network and no confined
    /// writes, but nothing of it outliving the run.
    pub fn baseline(&self) -> Vec<OsString> {
        self.prefix(&Policy {
            write: None,
            network: true,
        })
    }

    /// The launcher for an attempt's test command.
    pub fn tests(&self, worktree: &Path, tmp: &Path, command: &str) -> Vec<OsString> {
        let mut write = vec![worktree.to_path_buf(), tmp.to_path_buf()];
        write.extend(sandbox::runner_caches(command, &self.env));
        write.extend(self.writable.iter().cloned());
        self.prefix(&Policy {
            write: Some(write),
            network: self.test_network,
        })
    }

    /// The launcher for an `agent:` program working in `worktree`, whose own git directory is
    /// `worktree_git_dir`, with objects in `objects`.
    pub fn agent(
        &self,
        worktree: &Path,
        worktree_git_dir: &Path,
        objects: &Path,
        tmp: &Path,
        command: &str,
    ) -> Vec<OsString> {
        let mut write = vec![
            worktree.to_path_buf(),
            tmp.to_path_buf(),
            worktree_git_dir.to_path_buf(),
            objects.to_path_buf(),
        ];
        write.extend(sandbox::agent_state(command, &self.env));
        write.extend(self.agent_writable.iter().cloned());
        self.prefix(&Policy {
            write: Some(write),
            network: self.agent_network,
        })
    }

    fn prefix(&self, policy: &Policy) -> Vec<OsString> {
        match &self.launcher {
            Some(launcher) => launcher.prefix(policy),
            None => Vec::new(),
        }
    }
}
