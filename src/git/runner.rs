//! The one place that runs the `git` program, for what libgit2 does not do as git does
//! (identity resolution today; push, fetch and worktrees later).

use std::process::Command;

use super::{GitError, Repo, Result};

impl Repo {
    /// Run `git ARGS` in the repository and return its trimmed standard output.
    pub(crate) fn git(&self, args: &[&str]) -> Result<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(self.run_dir())
            .output()
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
                args: args.join(" "),
                detail: if detail.is_empty() {
                    format!("exited with {}", output.status)
                } else {
                    detail
                },
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// The editor git would use (`GIT_EDITOR`, `core.editor`, `VISUAL`, `EDITOR`, then `vi`).
    pub fn editor(&self) -> Result<String> {
        self.git(&["var", "GIT_EDITOR"])
    }
}
