//! The one place that runs the `git` program, for what libgit2 does not do as git does:
//! identity resolution, and worktrees (checking files out, reading a work tree's status, and
//! staging it as `git add` would, with the user's filters and attributes).
//!
//! `git` runs with the environment the repository was opened with ([`crate::env::Env`]), not
//! whatever the process has, so tests give it a hermetic one. Hooks never run: a command here
//! is bookkeeping, not a user's checkout or commit.
//!
//! Commands that reach a remote (push, asking a credential helper) are different: they run as
//! the user's own would, but bounded, through [`crate::process`] ([`Repo::network_git`]); a
//! push runs the user's hooks only when asked to (see `push.rs`).

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

use super::{GitError, Repo, Result};

/// Variables that tell git which repository, work tree or index to use: a command run inside
/// one of our worktrees drops them (see [`crate::env::GIT_REPOSITORY_VARS`]).
const LOCATING_VARS: &[&str] = crate::env::GIT_REPOSITORY_VARS;

/// Whether git's configuration wants colour for git-orchestrate's output on a terminal:
/// `color.orchestrate`, else `color.ui`, as git itself reads them (`git -c color.ui=never
/// orchestrate` included, which git passes on in the environment). `None` when git cannot
/// say (no git): the caller's default stands.
pub fn color_wanted(env: &crate::env::Env) -> Option<bool> {
    let vars: Vec<(OsString, OsString)> = env
        .pairs()
        .map(|(k, v)| (k.to_os_string(), v.to_os_string()))
        .collect();
    let call = GitCall {
        env: &vars,
        dir: Path::new("."),
        located_by_dir: false,
        args: Vec::new(),
        vars: Vec::new(),
        hooks_as_configured: false,
        input: None,
    };
    match call
        .args(["config", "--get-colorbool", "color.orchestrate", "true"])
        .text()
        .ok()?
        .as_str()
    {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// One `git` invocation.
pub(crate) struct GitCall<'a> {
    env: &'a [(OsString, OsString)],
    dir: &'a Path,
    /// Whether git finds the repository from `dir` alone (see [`LOCATING_VARS`]).
    located_by_dir: bool,
    args: Vec<OsString>,
    vars: Vec<(&'static str, OsString)>,
    /// Leave `core.hooksPath` as configured: to ask git where the hooks are, never to run one.
    hooks_as_configured: bool,
    /// What it reads on standard input (nothing when `None`).
    input: Option<Vec<u8>>,
}

impl<'a> GitCall<'a> {
    /// Leave `core.hooksPath` as the user configured it, for a command that reads where the
    /// hooks are (`rev-parse --git-path hooks`) and runs none.
    pub(crate) fn hooks_as_configured(mut self) -> GitCall<'a> {
        self.hooks_as_configured = true;
        self
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> GitCall<'a> {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(self, args: I) -> GitCall<'a> {
        args.into_iter().fold(self, GitCall::arg)
    }

    // Only the tests' full scan of a worktree sets a variable today.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn env(mut self, name: &'static str, value: impl AsRef<OsStr>) -> GitCall<'a> {
        self.vars.push((name, value.as_ref().to_os_string()));
        self
    }

    /// Give it `bytes` on its standard input.
    pub(crate) fn input(mut self, bytes: Vec<u8>) -> GitCall<'a> {
        self.input = Some(bytes);
        self
    }

    /// Run it; its standard output, as bytes.
    pub(crate) fn output(self) -> Result<Vec<u8>> {
        let mut command = Command::new("git");
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir);
        if !self.hooks_as_configured {
            command.args(["-c", "core.hooksPath=/dev/null"]);
        }
        command.args(&self.args);
        if self.located_by_dir {
            for name in LOCATING_VARS {
                command.env_remove(name);
            }
        }
        for (name, value) in &self.vars {
            command.env(name, value);
        }
        let output = match &self.input {
            None => command.output(),
            Some(bytes) => run_with_input(command, bytes),
        }
        .map_err(|source| GitError::Spawn { source })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let detail = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(GitError::Command {
                args: self
                    .args
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" "),
                detail: if detail.is_empty() {
                    format!("exited with {}", output.status)
                } else {
                    detail
                },
            });
        }
        Ok(output.stdout)
    }

    /// Run it; its standard output as text, trimmed.
    pub(crate) fn text(self) -> Result<String> {
        let bytes = self.output()?;
        Ok(String::from_utf8_lossy(&bytes).trim().to_string())
    }
}

impl Repo {
    /// Run `git ARGS` in the repository and return its trimmed standard output.
    pub(crate) fn git(&self, args: &[&str]) -> Result<String> {
        self.git_here().args(args).text()
    }

    /// `git` in the repository's run directory, as [`Repo::git`] runs it, to build on: as the
    /// user's own would find the repository (`GIT_DIR` and `GIT_INDEX_FILE` honoured), so also
    /// for reading the user's checkout.
    pub(crate) fn git_here(&self) -> GitCall<'_> {
        GitCall {
            env: &self.child_env,
            dir: self.run_dir(),
            located_by_dir: false,
            args: Vec::new(),
            vars: Vec::new(),
            hooks_as_configured: false,
            input: None,
        }
    }

    /// `git` run in `dir`, a directory of this repository (a worktree, or the git directory),
    /// which alone tells git the repository, work tree and index.
    pub(crate) fn git_in<'a>(&'a self, dir: &'a Path) -> GitCall<'a> {
        git_in(&self.child_env, dir)
    }

    /// The environment `git` runs with, for values that outlive this `Repo` (a worktree).
    pub(crate) fn child_env(&self) -> ChildEnv {
        self.child_env.clone()
    }

    /// `git` run as the user's own would be, for commands that reach a remote: the
    /// repository's environment, its run directory, its hooks and configuration, but never a
    /// prompt on the terminal (`GIT_TERMINAL_PROMPT=0`). In its own process group, so the
    /// caller's timeout stops ssh and credential helpers with it.
    pub(crate) fn network_git(&self) -> crate::process::Command {
        self.network_git_without(&[])
    }

    /// [`Repo::network_git`] without the variables named in `without`.
    pub(crate) fn network_git_without(&self, without: &[String]) -> crate::process::Command {
        let kept = self
            .child_env
            .iter()
            .filter(|(name, _)| !without.iter().any(|w| name.as_os_str() == OsStr::new(w)));
        crate::process::Command::new("git")
            .env_clear()
            .envs(kept.cloned())
            .env("GIT_TERMINAL_PROMPT", "0")
            .current_dir(self.run_dir())
    }

    /// The editor git would use (`GIT_EDITOR`, `core.editor`, `VISUAL`, `EDITOR`, then `vi`).
    pub fn editor(&self) -> Result<String> {
        self.git(&["var", "GIT_EDITOR"])
    }
}

/// Run `command` with `input` on its standard input, written from another thread so that a
/// full output pipe cannot stall both sides.
fn run_with_input(mut command: Command, input: &[u8]) -> std::io::Result<std::process::Output> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || match stdin {
            // Dropping it closes the pipe: git sees the end of its input.
            Some(mut stdin) => stdin.write_all(input),
            None => Ok(()),
        });
        let output = child.wait_with_output();
        match writer.join() {
            Ok(Err(e)) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
            _ => output,
        }
    })
}

/// The variables `git` runs with; shared, since worktrees keep a copy.
pub(crate) type ChildEnv = std::sync::Arc<[(OsString, OsString)]>;

/// `git` run in `dir` with `env`, finding its repository from `dir` (see [`Repo::git_in`]).
pub(crate) fn git_in<'a>(env: &'a [(OsString, OsString)], dir: &'a Path) -> GitCall<'a> {
    GitCall {
        env,
        dir,
        located_by_dir: true,
        args: Vec::new(),
        vars: Vec::new(),
        hooks_as_configured: false,
        input: None,
    }
}
