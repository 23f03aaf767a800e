//! Asking the user's credential helpers for a password, as `git` itself would.

use std::future::Future;
use std::time::Duration;

use super::Repo;

/// How much of the helper's answer to read: a few attributes.
const ANSWER_LIMIT: usize = 64 * 1024;

impl Repo {
    /// The password (or token) a credential helper has for `protocol://host`, as
    /// `git credential fill` asks the user's helpers for it; `None` if none answers, within
    /// `timeout`.
    ///
    /// Nothing may prompt: no terminal (`GIT_TERMINAL_PROMPT=0`), no askpass program (both
    /// `GIT_ASKPASS` and `SSH_ASKPASS` are empty, which also hides `core.askPass`), no Git
    /// Credential Manager window (`GCM_INTERACTIVE=never`). The value is never logged.
    pub fn credential_fill(
        &self,
        protocol: &str,
        host: &str,
        timeout: Duration,
    ) -> impl Future<Output = Option<String>> + Send + 'static {
        // A line break would let the caller's text add attributes of its own.
        let clean = |s: &str| !s.is_empty() && !s.contains(['\n', '\r', '\0']);
        let command = (clean(protocol) && clean(host)).then(|| {
            self.network_git()
                .env("GIT_ASKPASS", "")
                .env("SSH_ASKPASS", "")
                .env("GCM_INTERACTIVE", "never")
                .args(["credential", "fill"])
                .stdin(format!("protocol={protocol}\nhost={host}\n\n"))
                .stdout_limit(ANSWER_LIMIT)
                .timeout(timeout)
        });
        async move {
            let output = match command?.run().await {
                Ok(output) => output,
                Err(error) => {
                    tracing::debug!("git credential fill: {error}");
                    return None;
                }
            };
            if !output.status.success() {
                tracing::debug!("git credential fill ended with {}", output.status);
                return None;
            }
            let text = String::from_utf8(output.stdout).ok()?;
            text.lines()
                .find_map(|line| line.strip_prefix("password="))
                .filter(|password| !password.is_empty())
                .map(str::to_string)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::git::test_support::{git, hermetic_env};
    use std::path::Path;

    /// A fresh repository in `dir` and the hermetic environment git runs with.
    fn repo_in(dir: &Path) -> Env {
        let env = hermetic_env(dir);
        git(dir, &env, &["init", "-q", "."]);
        env
    }

    #[tokio::test]
    async fn a_credential_helper_answers_and_nothing_prompts_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let env = repo_in(dir.path());
        let repo = Repo::open(dir.path(), &env).unwrap();
        let timeout = Duration::from_secs(5);
        assert_eq!(
            repo.credential_fill("https", "github.com", timeout).await,
            None
        );
        // A line break may not smuggle in attributes.
        assert_eq!(
            repo.credential_fill("https", "github.com\nusername=x", timeout)
                .await,
            None
        );

        git(
            dir.path(),
            &env,
            &[
                "config",
                "credential.helper",
                "!f() { echo username=x; echo password=s3cret; }; f",
            ],
        );
        let repo = Repo::open(dir.path(), &env).unwrap();
        assert_eq!(
            repo.credential_fill("https", "github.com", timeout)
                .await
                .as_deref(),
            Some("s3cret")
        );
    }
}
