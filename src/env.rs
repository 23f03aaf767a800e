//! A snapshot of the process environment, taken once at start-up.
//!
//! Everything below the command line reads variables from an [`Env`] value instead of
//! `std::env`, so tests and the library can inject them, and so there is exactly one place
//! to look when asking "which variables does this tool read?".

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Variables that tell git which repository, work tree or index to use. Whatever runs in one
/// of the tool's worktrees (its own git, the test command, an agent) goes without them, so git
/// finds the repository from the directory: a tool started from a hook (`GIT_INDEX_FILE`) or
/// with `GIT_DIR` set must not reach the user's repository or index from a worktree.
pub const GIT_REPOSITORY_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
];

/// The variables this process was started with.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: BTreeMap<OsString, OsString>,
}

impl Env {
    /// Read the real process environment.
    #[allow(clippy::disallowed_methods)] // the one sanctioned reader
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os().collect(),
        }
    }

    /// An environment holding exactly these variables (for tests and embedding).
    pub fn from_pairs<K, V, I>(pairs: I) -> Env
    where
        K: Into<OsString>,
        V: Into<OsString>,
        I: IntoIterator<Item = (K, V)>,
    {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// This environment without the variables `names`.
    pub fn without(&self, names: &[&str]) -> Env {
        Env {
            vars: self
                .vars
                .iter()
                .filter(|(k, _)| !names.iter().any(|n| k.as_os_str() == OsStr::new(n)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The value of `name`, if it is set and valid UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(&OsString::from(name))?.to_str()
    }

    /// The executable file `program` in the first directory of `PATH` that has one.
    pub fn find_program(&self, program: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        self.non_empty("PATH")?
            .split(':')
            .filter(|dir| !dir.is_empty())
            .map(|dir| PathBuf::from(dir).join(program))
            .find(|path| {
                std::fs::metadata(path)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    }

    /// The value of `name` if set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every variable, as the operating system gives them: for starting child processes with
    /// exactly this environment.
    pub fn pairs(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> + '_ {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The names of all variables that are valid UTF-8.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.vars
            .keys()
            .filter_map(|k| k.to_str().map(str::to_string))
    }

    /// Every variable, names and values as they are (not necessarily UTF-8), by name.
    pub fn vars_os(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> + '_ {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.vars.contains_key(&OsString::from(name))
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.non_empty("HOME").map(PathBuf::from)
    }

    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    pub fn config_home(&self) -> Option<PathBuf> {
        match self.non_empty("XDG_CONFIG_HOME") {
            Some(dir) => Some(PathBuf::from(dir)),
            None => self.home().map(|home| home.join(".config")),
        }
    }

    /// Whether the user asked for no colour (<https://no-color.org>).
    pub fn no_color(&self) -> bool {
        self.non_empty("NO_COLOR").is_some()
    }

    /// The `tracing` filter from `GIT_ORCHESTRATE_LOG`.
    pub fn log_filter(&self) -> Option<&str> {
        self.non_empty("GIT_ORCHESTRATE_LOG")
    }
}
