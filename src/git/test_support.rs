//! What the `git/` unit tests share: the hermetic environment git runs with (no user or
//! system configuration, a fixed identity), and running `git` in it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::env::Env;

#[allow(clippy::disallowed_methods)]
fn host_path() -> OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

/// The environment of a test repository whose home is `home`.
pub(crate) fn hermetic_env(home: &Path) -> Env {
    Env::from_pairs([
        ("PATH".into(), host_path()),
        ("HOME".into(), home.as_os_str().to_os_string()),
        ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
        ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
        ("GIT_AUTHOR_NAME".into(), "Ada".into()),
        ("GIT_AUTHOR_EMAIL".into(), "ada@example.com".into()),
        ("GIT_COMMITTER_NAME".into(), "Ada".into()),
        ("GIT_COMMITTER_EMAIL".into(), "ada@example.com".into()),
        ("TZ".into(), "UTC".into()),
    ] as [(OsString, OsString); 9])
}

/// Run `git ARGS` in `dir` with `env`; its trimmed output. Panics when git fails.
pub(crate) fn git(dir: &Path, env: &Env, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .env_clear()
        .envs(env.pairs())
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A temporary directory (the home of its hermetic environment) holding `repo/`, a new
/// repository on `main` with no commit.
pub(crate) struct TempRepo {
    pub dir: tempfile::TempDir,
    /// The directory, its symlinks resolved.
    pub base: PathBuf,
    pub root: PathBuf,
    pub env: Env,
}

pub(crate) fn temp_repo() -> TempRepo {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("repo");
    std::fs::create_dir_all(&root).unwrap();
    let env = hermetic_env(&base);
    git(&root, &env, &["init", "-q", "-b", "main", "."]);
    TempRepo {
        dir,
        base,
        root,
        env,
    }
}
