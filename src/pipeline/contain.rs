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
//!
//! After each program the user's repository is checked (`git::snapshot`). A program whose
//! writes the kernel confined (Landlock with truncation handled, ABI 3 or later) to places
//! none of which holds or lies in the user's checkout cannot have written the checkout's
//! files: its check reads the git directory's part, `HEAD` and the index, not the files
//! (one `git status` of the checkout saved per program). Every other program's check reads
//! them too.

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
    /// The user's checkout and its git directory, resolved: what a program's writable places
    /// are compared with ([`Launch::keeps_off_checkout`]).
    checkout: Option<(PathBuf, PathBuf)>,
}

/// How one program is started, and whether that keeps it off the user's checkout.
#[derive(Debug, Default)]
pub struct Launch {
    /// The launcher's program and arguments, before the program's own; empty to start it
    /// directly.
    pub prefix: Vec<OsString>,
    /// The kernel confines its writes to places outside the user's checkout (or inside its
    /// git directory, which is checked apart).
    pub keeps_off_checkout: bool,
}

/// Landlock's ABI from which truncating a file counts as writing it (before, a confined
/// program could still empty any file it can open).
const TRUNCATE_ABI: u8 = 3;

impl Containment {
    /// Decide for this run: probe the machine (unless the mode is `off`), and refuse when
    /// `required` cannot be met. (`git orchestrate action` sets `required` when the
    /// configuration says nothing.)
    ///
    /// `checkout` is the user's work tree and git directory (`None` in a bare repository).
    pub async fn decide(
        config: &SandboxConfig,
        env: &Env,
        checkout: Option<(&Path, &Path)>,
    ) -> Result<Containment, PipelineError> {
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
            checkout: checkout.map(|(root, git_dir)| (resolved(root), resolved(git_dir))),
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
    pub fn baseline(&self) -> Launch {
        self.launch(&Policy {
            write: None,
            network: true,
        })
    }

    /// The launcher for an attempt's test command.
    pub fn tests(&self, worktree: &Path, tmp: &Path, command: &str) -> Launch {
        let mut write = vec![worktree.to_path_buf(), tmp.to_path_buf()];
        write.extend(sandbox::runner_caches(command, &self.env));
        write.extend(self.writable.iter().cloned());
        self.launch(&Policy {
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
    ) -> Launch {
        let mut write = vec![
            worktree.to_path_buf(),
            tmp.to_path_buf(),
            worktree_git_dir.to_path_buf(),
            objects.to_path_buf(),
        ];
        write.extend(sandbox::agent_state(command, &self.env));
        write.extend(self.agent_writable.iter().cloned());
        self.launch(&Policy {
            write: Some(write),
            network: self.agent_network,
        })
    }

    fn launch(&self, policy: &Policy) -> Launch {
        let Some(launcher) = &self.launcher else {
            return Launch::default();
        };
        Launch {
            prefix: launcher.prefix(policy),
            keeps_off_checkout: self.keeps_off_checkout(policy),
        }
    }

    /// Whether `policy`, as the launcher applies it on this machine, leaves the user's
    /// checkout unwritable: Landlock confines writes, truncation included, and no writable
    /// place holds the checkout or lies in it outside its git directory.
    fn keeps_off_checkout(&self, policy: &Policy) -> bool {
        let (Some(write), Some(abi)) = (&policy.write, self.offer.landlock) else {
            return false;
        };
        if abi < TRUNCATE_ABI {
            return false;
        }
        let Some((root, git_dir)) = &self.checkout else {
            // No checkout: nothing of its files to read.
            return true;
        };
        let shared = sandbox::SHARED.iter().map(Path::new);
        write
            .iter()
            .map(PathBuf::as_path)
            .chain(shared)
            .all(|place| {
                let place = resolved(place);
                !root.starts_with(&place)
                    && (!place.starts_with(root) || place.starts_with(git_dir))
            })
    }
}

/// `path` with symlinks resolved where it exists (as the kernel resolves a Landlock rule's
/// path when the rule is made), else as given.
fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Containment as decided on a machine whose kernel offers Landlock `abi`, for a checkout
    /// at `root` with its git directory inside.
    fn decided(abi: Option<u8>, root: &Path) -> Containment {
        let offer = Offer {
            launched: true,
            landlock: abi,
            namespaces: true,
            ..Offer::default()
        };
        Containment {
            mode: SandboxMode::Auto,
            launcher: Some(Launcher::new(PathBuf::from("/bin/true"), offer.clone())),
            offer,
            writable: Vec::new(),
            agent_writable: Vec::new(),
            agent_network: true,
            test_network: false,
            missing: Vec::new(),
            env: Env::from_pairs([("HOME", "/nonexistent-home")]),
            checkout: Some((root.to_path_buf(), root.join(".git"))),
        }
    }

    fn writing(places: &[PathBuf]) -> Policy {
        Policy {
            write: Some(places.to_vec()),
            network: false,
        }
    }

    #[test]
    fn only_confined_writes_outside_the_checkout_keep_a_program_off_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let tmp = dir.path().join("tmp");
        for made in [
            root.join(".git/orchestrate/worktrees/7"),
            root.join("build"),
            tmp.clone(),
        ] {
            std::fs::create_dir_all(made).unwrap();
        }
        let worktree = root.join(".git/orchestrate/worktrees/7");
        let contained = decided(Some(7), &root);
        // The worktree lies in the git directory, which is checked apart.
        assert!(contained.keeps_off_checkout(&writing(&[worktree.clone(), tmp.clone()])));
        // A place holding the checkout, or inside it outside the git directory, does not.
        assert!(!contained.keeps_off_checkout(&writing(&[worktree.clone(), dir.path().into()])));
        assert!(!contained.keeps_off_checkout(&writing(&[worktree.clone(), root.join("build")])));
        assert!(!contained.keeps_off_checkout(&writing(std::slice::from_ref(&root))));
        // Nor writes that are not confined (the baseline), or confined without truncation.
        assert!(!contained.keeps_off_checkout(&Policy {
            write: None,
            network: true,
        }));
        assert!(!decided(Some(2), &root).keeps_off_checkout(&writing(std::slice::from_ref(&tmp))));
        assert!(!decided(None, &root).keeps_off_checkout(&writing(std::slice::from_ref(&tmp))));
        // Through a symlink, as the kernel resolves it.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        assert!(!contained.keeps_off_checkout(&writing(&[link])));
        // The launcher's arguments say the same.
        let launch = contained.tests(&worktree, &tmp, "python3 -m pytest");
        assert!(launch.keeps_off_checkout);
        assert!(!launch.prefix.is_empty());
        assert!(!contained.baseline().keeps_off_checkout);
    }
}
