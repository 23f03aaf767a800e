//! Contained execution: what a program running model-written code may touch.
//!
//! The test command of an impl attempt runs code a model just wrote, and an `agent:`
//! implementer is a program acting on its own, steered by an issue anyone may write. Both
//! run through a **launcher**: this program re-executed as `git-orchestrate sandbox-exec
//! [--write DIR]... [--no-network] -- PROGRAM ARGS` ([`Launcher::prefix`]), which restricts
//! itself and then starts the program, so no `unsafe` code is needed between `fork` and
//! `exec`. On Linux the launcher
//!
//! - cuts writes to the directories it is given (and `/dev/null` and its kind) with
//!   **Landlock**, whatever the kernel's ABI; reads stay open, since a sandbox that breaks
//!   compilers helps no one;
//! - where user namespaces are allowed, enters new **user, PID and (without network)
//!   network namespaces**: the program's first process is started by a second launcher that
//!   is process 1 of the new PID namespace, so when the program ends, or the launcher is
//!   killed, or git-orchestrate itself is killed with SIGKILL (each launcher asks for a
//!   parent-death signal), the kernel stops every process of the attempt, those that left
//!   with `setsid` included. In the new network namespace only a loopback of its own exists;
//! - where they are not, is the **child subreaper** of everything the program starts and
//!   stops what is left when the program ends, and cuts TCP connections with Landlock's
//!   network rules (ABI 4 and later).
//!
//! [`Offer::probe`] asks the launcher what this machine offers (`sandbox-exec --probe`),
//! once per run and for `doctor`. What each program may write — the worktree, a private
//! temporary directory, build caches, an agent's own state directories — is decided by the
//! caller and given as a [`Policy`]; the known directories are here ([`runner_caches`],
//! [`agent_state`]).

mod launcher;

/// Places every confined program may write besides its own: shared memory (POSIX
/// semaphores, Python's multiprocessing) and pseudo-terminals.
pub const SHARED: [&str; 2] = ["/dev/shm", "/dev/pts"];
#[cfg(target_os = "linux")]
mod linux;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::process;

pub use launcher::{LaunchError, Launched, end_by_signal, main as launcher_main};

/// The hidden subcommand that starts a contained program.
pub const SUBCOMMAND: &str = "sandbox-exec";

/// What this machine offers for containing a program, as the launcher found it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// The launcher ran and answered (it can start programs).
    #[serde(default)]
    pub launched: bool,
    /// The Landlock ABI the kernel offers; `None` when it offers none.
    pub landlock: Option<u8>,
    /// Why Landlock cannot be used, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landlock_why: Option<String>,
    /// Whether new user, PID and network namespaces can be made.
    pub namespaces: bool,
    /// Why namespaces cannot be made, when they cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces_why: Option<String>,
}

/// Landlock's first ABI with network rules (TCP connect and bind).
const LANDLOCK_NET_ABI: u8 = 4;

impl Offer {
    /// Writes can be confined to the directories a policy names.
    pub fn confines_writes(&self) -> bool {
        self.landlock.is_some()
    }

    /// How the network can be cut.
    pub fn network_cut(&self) -> NetworkCut {
        if self.namespaces {
            NetworkCut::Namespace
        } else if self.landlock.is_some_and(|abi| abi >= LANDLOCK_NET_ABI) {
            NetworkCut::TcpOnly
        } else {
            NetworkCut::None
        }
    }

    /// Whether every process a program starts is stopped with it, `setsid` or not, even when
    /// git-orchestrate is killed.
    pub fn stops_every_process(&self) -> bool {
        self.namespaces
    }

    /// What the sandbox cannot do here, in words, or `None` when it can do everything.
    pub fn shortfall(&self) -> Option<String> {
        let mut missing = Vec::new();
        if let Some(why) = self.landlock.is_none().then(|| self.landlock_why.clone()) {
            missing.push(format!(
                "writes cannot be confined ({})",
                why.unwrap_or_else(|| "no Landlock".into())
            ));
        }
        if !self.namespaces {
            let why = self
                .namespaces_why
                .clone()
                .unwrap_or_else(|| "no user namespaces".into());
            match self.network_cut() {
                NetworkCut::None => missing.push(format!("the network cannot be cut ({why})")),
                _ => missing.push(format!(
                    "only TCP is cut from the network and a process that leaves with setsid survives a killed run ({why})"
                )),
            }
        }
        (!missing.is_empty()).then(|| missing.join("; "))
    }

    /// Ask the launcher at `exe` what this machine offers. `simulate` (from
    /// `GIT_ORCHESTRATE_SANDBOX_SIMULATE`, for tests) takes away what it names: `no-landlock`,
    /// `no-namespaces`.
    pub async fn probe(exe: &Path, simulate: Option<&str>) -> Offer {
        let mut offer = match process::Command::new(exe)
            .args([SUBCOMMAND, "--probe"])
            .env_clear()
            .timeout(Duration::from_secs(10))
            .stdout_limit(64 * 1024)
            .run()
            .await
        {
            Ok(output) if output.status.success() => serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|e| Offer::none(&format!("the launcher's answer: {e}"))),
            Ok(output) => Offer::none(&format!(
                "the launcher exited with {}: {}",
                output.status,
                output.stderr_lines(3)
            )),
            Err(e) => Offer::none(&format!("the launcher could not run: {e}")),
        };
        for part in simulate.unwrap_or_default().split(',').map(str::trim) {
            match part {
                "no-landlock" => {
                    offer.landlock = None;
                    offer.landlock_why =
                        Some("simulated by GIT_ORCHESTRATE_SANDBOX_SIMULATE".into());
                }
                "no-namespaces" => {
                    offer.namespaces = false;
                    offer.namespaces_why =
                        Some("simulated by GIT_ORCHESTRATE_SANDBOX_SIMULATE".into());
                }
                _ => {}
            }
        }
        offer
    }

    fn none(why: &str) -> Offer {
        Offer {
            launched: false,
            landlock: None,
            landlock_why: Some(why.to_string()),
            namespaces: false,
            namespaces_why: Some(why.to_string()),
        }
    }
}

/// How a contained program is kept off the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkCut {
    /// A network namespace of its own: nothing outside it can be reached.
    Namespace,
    /// Landlock's network rules: no TCP connection (UDP, DNS among it, still goes out).
    TcpOnly,
    /// The network cannot be cut here.
    None,
}

/// What one contained program may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Directories (and files) it may write; everything else is read-only. `None`: writes
    /// are not confined (the baseline: the user's own code).
    pub write: Option<Vec<PathBuf>>,
    /// Whether it may reach the network.
    pub network: bool,
}

/// The launcher of this machine: the program to re-execute and what it can do.
#[derive(Clone, Debug)]
pub struct Launcher {
    exe: PathBuf,
    offer: Offer,
}

impl Launcher {
    pub fn new(exe: PathBuf, offer: Offer) -> Launcher {
        Launcher { exe, offer }
    }

    pub fn offer(&self) -> &Offer {
        &self.offer
    }

    /// The program and arguments that start a program under `policy`: put them before the
    /// program's own. What the machine does not offer is left out, never failed on: the
    /// caller decides beforehand whether running with less is allowed.
    pub fn prefix(&self, policy: &Policy) -> Vec<OsString> {
        let mut argv: Vec<OsString> = vec![
            self.exe.clone().into(),
            SUBCOMMAND.into(),
            "--parent".into(),
            std::process::id().to_string().into(),
        ];
        match (&policy.write, self.offer.confines_writes()) {
            (Some(dirs), true) => {
                for dir in dirs {
                    argv.push("--write".into());
                    argv.push(dir.clone().into());
                }
            }
            _ => argv.push("--no-landlock".into()),
        }
        if !self.offer.namespaces {
            argv.push("--no-namespaces".into());
        }
        if !policy.network {
            argv.push("--no-network".into());
        }
        argv.push("--".into());
        argv
    }
}

/// Expand a configured path: `~` and `~/...` from `HOME`; others as written. `None` for `~`
/// without a home.
pub fn expand(path: &str, env: &Env) -> Option<PathBuf> {
    match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Some(env.home()?.join(rest.trim_start_matches('/')))
        }
        _ => Some(PathBuf::from(path)),
    }
}

/// The build caches the test command writes, by the runner it names: cargo's home (and
/// target directory when moved out of the worktree), npm's and pip's caches, Go's module and
/// build caches. Only directories that exist are kept (Landlock rules need them).
pub fn runner_caches(command: &str, env: &Env) -> Vec<PathBuf> {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .collect();
    let uses = |names: &[&str]| words.iter().any(|w| names.contains(w));
    let home = env.home();
    let from_home = |rel: &str| home.as_ref().map(|h| h.join(rel));
    let var_or = |name: &str, rel: &str| {
        env.non_empty(name)
            .map(PathBuf::from)
            .or_else(|| from_home(rel))
    };
    let mut dirs = Vec::new();
    if uses(&["cargo", "cargo-nextest", "make", "just"]) {
        dirs.extend(var_or("CARGO_HOME", ".cargo"));
        dirs.extend(env.non_empty("CARGO_TARGET_DIR").map(PathBuf::from));
    }
    if uses(&["npm", "npx", "yarn", "pnpm", "node", "bun", "make"]) {
        dirs.extend(from_home(".npm"));
        dirs.extend(var_or("XDG_CACHE_HOME", ".cache"));
    }
    if uses(&[
        "pytest", "python", "python3", "tox", "nox", "uv", "poetry", "pip", "make",
    ]) {
        dirs.extend(var_or("XDG_CACHE_HOME", ".cache"));
    }
    if uses(&["go", "make"]) {
        dirs.extend(var_or("GOPATH", "go"));
        dirs.extend(var_or("GOCACHE", ".cache/go-build"));
    }
    keep_existing(dirs)
}

/// The state directories of the agent programs we know, by the program's name (the command's
/// first word): `claude` (~/.claude, ~/.claude.json), `codex` (~/.codex or `CODEX_HOME`),
/// `gemini` (~/.gemini), `aider` (~/.aider and the files it keeps beside it). Only paths that
/// exist are kept.
pub fn agent_state(command: &str, env: &Env) -> Vec<PathBuf> {
    let program = command
        .split_whitespace()
        .find(|w| !w.contains('='))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .unwrap_or_default();
    let home = env.home();
    let from_home = |rel: &str| home.as_ref().map(|h| h.join(rel));
    let dirs: Vec<PathBuf> = match program {
        "claude" => [".claude", ".claude.json", ".config/claude", ".cache/claude"]
            .iter()
            .filter_map(|r| from_home(r))
            .collect(),
        "codex" => env
            .non_empty("CODEX_HOME")
            .map(PathBuf::from)
            .or_else(|| from_home(".codex"))
            .into_iter()
            .collect(),
        "gemini" => [".gemini", ".cache/gemini"]
            .iter()
            .filter_map(|r| from_home(r))
            .collect(),
        "aider" => [
            ".aider",
            ".aider.conf.yml",
            ".aider.model.settings.yml",
            ".cache",
        ]
        .iter()
        .filter_map(|r| from_home(r))
        .collect(),
        _ => Vec::new(),
    };
    keep_existing(dirs)
}

/// What the private temporary directories of contained programs are named after, before the
/// process id of the run that made them.
const TMP_PREFIX: &str = "git-orchestrate-tmp-";

/// A private temporary directory for contained programs (their `TMPDIR`), removed when the
/// value is dropped. Its name carries this process's id; directories a killed run left behind
/// (their process gone) are removed first, so no run's debris outlives the next.
pub fn private_tmp() -> std::io::Result<tempfile::TempDir> {
    let parent = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(TMP_PREFIX))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<i32>().ok())
            else {
                continue;
            };
            if !process_alive(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
        .tempdir_in(parent)
}

/// Whether a process with this id runs (signal 0 reaches it, or it exists under another
/// user). A zero or negative id is no process.
fn process_alive(pid: i32) -> bool {
    use nix::errno::Errno;
    if pid <= 0 {
        return false;
    }
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(Errno::ESRCH)
    )
}

fn keep_existing(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut kept: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if dir.exists() && !kept.contains(&dir) {
            kept.push(dir);
        }
    }
    kept
}

/// Whether a failed test run's output looks like a network that was not there: a refused or
/// unreachable connection, a name that did not resolve.
pub fn looks_like_blocked_network(output: &str) -> bool {
    const SIGNS: [&str; 14] = [
        "network is unreachable",
        "connection refused",
        "temporary failure in name resolution",
        "name or service not known",
        "nodename nor servname",
        "could not resolve host",
        "failed to lookup address",
        "getaddrinfo",
        "enetunreach",
        "econnrefused",
        "eai_again",
        "no route to host",
        "operation not permitted (os error 1)",
        "permission denied (os error 13)",
    ];
    let lower = output.to_ascii_lowercase();
    SIGNS[..12].iter().any(|sign| lower.contains(sign))
        || (lower.contains("connect") && SIGNS[12..].iter().any(|sign| lower.contains(sign)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(landlock: Option<u8>, namespaces: bool) -> Offer {
        Offer {
            landlock,
            namespaces,
            ..Offer::default()
        }
    }

    #[test]
    fn the_prefix_asks_only_for_what_the_machine_offers() {
        let policy = Policy {
            write: Some(vec![PathBuf::from("/w"), PathBuf::from("/t")]),
            network: false,
        };
        let words = |offer: Offer| -> Vec<String> {
            Launcher::new("/bin/go".into(), offer)
                .prefix(&policy)
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let full = words(offer(Some(7), true));
        assert_eq!(full[0..2], ["/bin/go", "sandbox-exec"]);
        assert!(full.ends_with(&[
            "--write".into(),
            "/w".into(),
            "--write".into(),
            "/t".into(),
            "--no-network".into(),
            "--".into()
        ]));
        let bare = words(offer(None, false));
        assert!(bare.contains(&"--no-landlock".to_string()));
        assert!(bare.contains(&"--no-namespaces".to_string()));
        assert!(!bare.contains(&"--write".to_string()));
    }

    #[test]
    fn what_the_sandbox_cannot_do_is_said() {
        assert_eq!(offer(Some(7), true).shortfall(), None);
        assert_eq!(offer(Some(7), true).network_cut(), NetworkCut::Namespace);
        assert_eq!(offer(Some(4), false).network_cut(), NetworkCut::TcpOnly);
        assert_eq!(offer(Some(3), false).network_cut(), NetworkCut::None);
        let said = offer(None, false).shortfall().unwrap();
        assert!(said.contains("writes cannot be confined"), "{said}");
        assert!(said.contains("the network cannot be cut"), "{said}");
    }

    #[test]
    fn runner_caches_follow_the_command_and_exist() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".cargo")).unwrap();
        std::fs::create_dir_all(home.path().join(".cache")).unwrap();
        let env = Env::from_pairs([("HOME", home.path().as_os_str())]);
        assert_eq!(
            runner_caches("cargo test --all", &env),
            [home.path().join(".cargo")]
        );
        assert_eq!(
            runner_caches("/usr/bin/python3 -m pytest -q", &env),
            [home.path().join(".cache")]
        );
        // ~/.npm does not exist: a rule cannot name it.
        assert_eq!(
            runner_caches("npm test", &env),
            [home.path().join(".cache")]
        );
        assert!(runner_caches("sh tests/run.sh", &env).is_empty());
    }

    #[test]
    fn agent_state_is_known_for_the_usual_agents() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".claude")).unwrap();
        std::fs::write(home.path().join(".claude.json"), "{}").unwrap();
        std::fs::create_dir_all(home.path().join(".codex")).unwrap();
        let env = Env::from_pairs([("HOME", home.path().as_os_str())]);
        assert_eq!(
            agent_state("claude -p --permission-mode acceptEdits", &env),
            [
                home.path().join(".claude"),
                home.path().join(".claude.json")
            ]
        );
        assert_eq!(
            agent_state("/usr/local/bin/codex exec -", &env),
            [home.path().join(".codex")]
        );
        assert!(agent_state("sh ./agent.sh", &env).is_empty());
    }

    #[test]
    fn a_private_tmp_names_its_run_and_a_dead_runs_is_swept() {
        // Far above any pid the kernel hands out: no process has it.
        let stale = std::env::temp_dir().join(format!("{TMP_PREFIX}999999999-abc"));
        std::fs::create_dir_all(stale.join("left")).unwrap();
        let live = std::env::temp_dir().join(format!("{TMP_PREFIX}{}-live", std::process::id()));
        std::fs::create_dir_all(&live).unwrap();
        let tmp = private_tmp().unwrap();
        assert!(!stale.exists(), "a killed run's directory is removed");
        assert!(live.exists(), "a running process's directory stays");
        let name = tmp
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("{TMP_PREFIX}{}-", std::process::id())),
            "{name}"
        );
        std::fs::remove_dir_all(&live).unwrap();
    }

    #[test]
    fn home_paths_expand() {
        let env = Env::from_pairs([("HOME", "/home/u")]);
        assert_eq!(expand("~/.m2", &env), Some(PathBuf::from("/home/u/.m2")));
        assert_eq!(expand("~", &env), Some(PathBuf::from("/home/u")));
        assert_eq!(expand("/opt/x", &env), Some(PathBuf::from("/opt/x")));
        assert_eq!(expand("~/x", &Env::default()), None);
    }

    #[test]
    fn blocked_network_is_recognised_in_runner_output() {
        for text in [
            "urllib.error.URLError: <urlopen error [Errno 101] Network is unreachable>",
            "ConnectionRefusedError: [Errno 111] Connection refused",
            "socket.gaierror: [Errno -3] Temporary failure in name resolution",
            "Error: getaddrinfo EAI_AGAIN registry.npmjs.org",
            "curl: (6) Could not resolve host: example.com",
            "failed to connect: Permission denied (os error 13)",
        ] {
            assert!(looks_like_blocked_network(text), "{text}");
        }
        assert!(!looks_like_blocked_network(
            "AssertionError: assert 3 == 4\nPermission denied (os error 13) writing cache"
        ));
    }
}
