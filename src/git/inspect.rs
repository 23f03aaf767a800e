//! What `doctor` asks of git: the `git` program's version, and the repository's shape —
//! shallow, a partial clone — which libgit2 opens without complaint but a run may trip over.

use std::time::Duration;

use super::{GitError, Repo, Result};
use crate::env::Env;
use crate::process::Command;

/// How long `git --version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The `git` program's version: `git version 2.43.0` is `(2, 43, 0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GitVersion(pub u32, pub u32, pub u32);

impl std::fmt::Display for GitVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl GitVersion {
    /// The version in `git --version`'s answer (`git version 2.39.3 (Apple Git-146)`).
    pub fn parse(text: &str) -> Option<GitVersion> {
        let rest = text.trim().strip_prefix("git version ")?;
        let word = rest.split_whitespace().next()?;
        let mut parts = word.split('.').map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        });
        let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok());
        let major = next()?;
        let minor = next()?;
        Some(GitVersion(major, minor, next().unwrap_or(0)))
    }
}

/// `git --version`, run with `env` (its `PATH` finds the program).
pub async fn version(env: &Env) -> Result<GitVersion> {
    let output = Command::new("git")
        .arg("--version")
        .env_clear()
        .envs(env.pairs())
        .timeout(VERSION_TIMEOUT)
        .stdout_limit(4096)
        .run()
        .await
        .map_err(|source| GitError::Process {
            args: "--version".into(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(GitError::Command {
            args: "--version".into(),
            detail: format!("exited with {}", output.status),
        });
    }
    GitVersion::parse(&text).ok_or_else(|| GitError::Command {
        args: "--version".into(),
        detail: format!("unexpected answer `{}`", text.trim()),
    })
}

/// How a repository was cloned, as far as a run cares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// History is cut off (`git clone --depth`).
    pub shallow: bool,
    /// A partial clone: objects are fetched from this remote when needed
    /// (`extensions.partialclone`, or a `remote.<name>.promisor` that is true).
    pub promisor: Option<String>,
}

impl Repo {
    /// Whether the repository is shallow or a partial clone.
    pub fn shape(&self) -> Shape {
        let mut promisor = None;
        if let Ok(config) = self.inner.config() {
            promisor = config.get_string("extensions.partialclone").ok();
            if promisor.is_none()
                && let Ok(mut entries) = config.entries(Some(r"remote\..*\.promisor"))
            {
                while let Some(Ok(entry)) = entries.next() {
                    let on = entry.value().is_ok_and(|v| {
                        matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1")
                    });
                    if on {
                        let name = entry.name().unwrap_or_default();
                        let remote = name
                            .strip_prefix("remote.")
                            .and_then(|n| n.strip_suffix(".promisor"))
                            .unwrap_or(name);
                        promisor = Some(remote.to_string());
                        break;
                    }
                }
            }
        }
        Shape {
            shallow: self.inner.is_shallow(),
            promisor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_git_prints_them() {
        assert_eq!(
            GitVersion::parse("git version 2.43.0\n"),
            Some(GitVersion(2, 43, 0))
        );
        assert_eq!(
            GitVersion::parse("git version 2.39.3 (Apple Git-146)"),
            Some(GitVersion(2, 39, 3))
        );
        assert_eq!(
            GitVersion::parse("git version 2.45.windows.1"),
            Some(GitVersion(2, 45, 0))
        );
        assert_eq!(GitVersion::parse("hub version 2.1"), None);
        assert!(GitVersion(2, 29, 9) < GitVersion(2, 30, 0));
    }
}
