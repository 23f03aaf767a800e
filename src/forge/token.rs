//! Finding a GitHub token, from the places a GitHub user already keeps one: the
//! `GITHUB_TOKEN` and `GH_TOKEN` variables, the GitHub CLI's login (`gh auth token`), and
//! git's credential helpers (`git credential fill`, which the caller runs: it is git's
//! business). The first one found wins; errors name where the token came from so a user
//! knows which one to fix.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{ForgeError, Host};
use crate::env::Env;
use crate::process::Command;

/// How long `gh auth token` may take; it reads a file or the system keyring.
const GH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A variable: `GITHUB_TOKEN` or `GH_TOKEN`.
    Env(&'static str),
    /// `gh auth token`.
    GhCli,
    /// `git credential fill`.
    GitCredential,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Env(name) => f.write_str(name),
            TokenSource::GhCli => f.write_str("`gh auth token`"),
            TokenSource::GitCredential => f.write_str("`git credential fill`"),
        }
    }
}

/// A token and where it came from. Neither `Debug` nor anything else prints its value.
#[derive(Clone)]
pub struct Token {
    value: SecretString,
    pub source: TokenSource,
}

impl Token {
    /// A token found at `source` (the caller's `git credential fill`, or a test).
    pub fn new(value: impl Into<String>, source: TokenSource) -> Token {
        Token {
            value: SecretString::from(value.into()),
            source,
        }
    }

    /// The token's value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The first token found for `host`: `GITHUB_TOKEN`, `GH_TOKEN` (set and not blank), then
/// `gh auth token --hostname HOST` if `gh` is on the environment's `PATH` (a failure or an
/// empty answer moves on), then `git_credential()`.
pub async fn find<F, Fut>(env: &Env, host: &Host, git_credential: F) -> Result<Token, ForgeError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Option<String>>,
{
    for name in ["GITHUB_TOKEN", "GH_TOKEN"] {
        if let Some(value) = env.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            return Ok(Token::new(value, TokenSource::Env(name)));
        }
    }
    let (_, web_host) = host.credential_target();
    if let Some(value) = gh_auth_token(env, &web_host).await {
        return Ok(Token::new(value, TokenSource::GhCli));
    }
    if let Some(value) = git_credential().await {
        let value = value.trim();
        if !value.is_empty() {
            return Ok(Token::new(value, TokenSource::GitCredential));
        }
    }
    Err(ForgeError::NoToken { host: web_host })
}

/// `gh auth token --hostname HOST`, if `gh` is installed and logged in to `host`.
async fn gh_auth_token(env: &Env, host: &str) -> Option<String> {
    let gh = env.find_program("gh")?;
    let output = Command::new(gh)
        .args(["auth", "token", "--hostname", host])
        .env_clear()
        .envs(env.pairs())
        .timeout(GH_TIMEOUT)
        .stdout_limit(64 * 1024)
        .run()
        .await
        .ok()?;
    if !output.status.success() {
        tracing::debug!(status = %output.status, "`gh auth token` failed");
        return None;
    }
    let value = String::from_utf8(output.stdout).ok()?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A directory holding a `gh` that prints `output` and exits with `code`, and writes its
    /// arguments to `args` beside it.
    fn fake_gh(output: &str, code: i32) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("gh");
        let log = dir.path().join("args");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$@\" > '{}'\nprintf '%s\\n' '{output}'\nexit {code}\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &script,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
        )
        .unwrap();
        dir
    }

    fn env_with(path: &Path, vars: &[(&str, &str)]) -> Env {
        let mut pairs: Vec<(String, String)> = vec![(
            "PATH".to_string(),
            format!("{}:/usr/bin:/bin", path.display()),
        )];
        pairs.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Env::from_pairs(pairs)
    }

    async fn none() -> Option<String> {
        None
    }

    #[tokio::test]
    async fn variables_come_first_in_order() {
        let gh = fake_gh("gho_from_gh", 0);
        let env = env_with(
            gh.path(),
            &[("GITHUB_TOKEN", " ghp_one \n"), ("GH_TOKEN", "ghp_two")],
        );
        let token = find(&env, &Host::github_com(), none).await.unwrap();
        assert_eq!(token.expose(), "ghp_one");
        assert_eq!(token.source, TokenSource::Env("GITHUB_TOKEN"));

        let env = env_with(
            gh.path(),
            &[("GITHUB_TOKEN", "  "), ("GH_TOKEN", "ghp_two")],
        );
        let token = find(&env, &Host::github_com(), none).await.unwrap();
        assert_eq!(token.expose(), "ghp_two");
        assert_eq!(token.source.to_string(), "GH_TOKEN");
        assert!(!gh.path().join("args").exists(), "gh was run");
    }

    #[tokio::test]
    async fn gh_is_asked_for_the_web_host() {
        let gh = fake_gh("gho_from_gh", 0);
        let env = env_with(gh.path(), &[]);
        let host = Host::from_api_url("https://ghe.example.com/api/v3").unwrap();
        let token = find(&env, &host, || async { Some("from_git".to_string()) })
            .await
            .unwrap();
        assert_eq!(token.expose(), "gho_from_gh");
        assert_eq!(token.source, TokenSource::GhCli);
        let args = std::fs::read_to_string(gh.path().join("args")).unwrap();
        assert_eq!(args.trim(), "auth token --hostname ghe.example.com");
    }

    #[tokio::test]
    async fn a_failing_or_silent_gh_falls_through_to_git() {
        for (output, code) in [("gho_x", 1), ("", 0)] {
            let gh = fake_gh(output, code);
            let env = env_with(gh.path(), &[]);
            let token = find(&env, &Host::github_com(), || async {
                Some("ghp_git\n".to_string())
            })
            .await
            .unwrap();
            assert_eq!(token.expose(), "ghp_git");
            assert_eq!(token.source, TokenSource::GitCredential);
            assert!(gh.path().join("args").exists(), "gh was not run");
        }
    }

    #[tokio::test]
    async fn nothing_found_names_the_host() {
        let empty = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("PATH", empty.path().display().to_string())]);
        let err = find(&env, &Host::github_com(), none).await.unwrap_err();
        assert!(matches!(&err, ForgeError::NoToken { host } if host == "github.com"));
        assert_eq!(err.to_string(), "no GitHub token for github.com");
    }

    #[test]
    fn debug_never_shows_the_value() {
        let token = Token::new("ghp_secretvalue", TokenSource::GhCli);
        let shown = format!("{token:?}");
        assert!(!shown.contains("ghp_secretvalue"), "{shown}");
        assert!(shown.contains("GhCli"), "{shown}");
    }
}
