//! Which paths an edit may touch. A path from a model is text, so it is checked before any
//! file is read: it must be relative, stay below the work tree (no `..`, no symlink leading
//! out), stay out of `.git`, and match no protected glob — the configured ones and
//! [`ALWAYS_PROTECTED`], the files that decide how the tool, git and CI treat the repository.
//! The same check serves the agent implementer, which looks at the paths an agent changed.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Why a path may not be edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The path names nothing below the work tree (empty, or only `.`).
    Empty,
    /// `/etc/passwd`, `C:\x`, `\\server\x`.
    Absolute,
    /// A `..` component.
    ParentDir,
    /// A component equal to `.git` (the repository, or a `.git` file of a work tree).
    GitDir,
    /// An existing component is a symlink whose target is outside the work tree, or
    /// cannot be resolved.
    SymlinkOutside,
    /// The file holds a NUL byte in its first 8000 bytes, or is not UTF-8.
    Binary,
    /// The path matches a protected glob (as written in the configuration).
    Protected { glob: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(f, "the path is empty"),
            Refusal::Absolute => write!(f, "the path is absolute"),
            Refusal::ParentDir => write!(f, "the path has a `..` component"),
            Refusal::GitDir => write!(f, "the path is inside `.git`"),
            Refusal::SymlinkOutside => {
                write!(
                    f,
                    "the path goes through a symlink leading outside the work tree"
                )
            }
            Refusal::Binary => write!(f, "the file is binary"),
            Refusal::Protected { glob } => write!(f, "the path is protected by `{glob}`"),
        }
    }
}

/// A protected glob that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProtectedError {
    #[error("`{glob}` is not a glob")]
    Glob {
        glob: String,
        #[source]
        source: globset::Error,
    },
    #[error("`{glob}` is a negated glob; protected paths cannot be excepted")]
    Negated { glob: String },
    #[error("the protected globs cannot be combined")]
    Build {
        #[source]
        source: globset::Error,
    },
}

/// Paths protected whatever the configuration says: what a model could change to loosen the
/// checks on its own work (the tool's configuration and prompts, `test_command` among them),
/// to run code outside the worktree's tests (CI definitions), or to change how git reads the
/// tree (submodules, attributes such as filters and `diff`/`merge` drivers). Written as
/// `stages.impl.protected` globs are; `.git` comes after them.
pub const ALWAYS_PROTECTED: [&str; 7] = [
    ".orchestrate.toml",
    ".orchestrate/**",
    ".github/**",
    ".gitmodules",
    ".gitattributes",
    ".gitlab-ci.yml",
    ".circleci/**",
];

/// Paths no edit may change, from globs written as in `.gitignore`: a glob without a `/`
/// matches a name at any depth (`*.lock`), one with a `/` is anchored at the work tree's
/// root (`.github/workflows/**`, a leading `/` is dropped), and a glob that matches a
/// directory protects everything below it. [`ALWAYS_PROTECTED`] and `.git` are always
/// protected.
///
/// Every glob matches without regard to case, the configured ones included: on a
/// case-insensitive file system (macOS, Windows) `.GitHub/Workflows/x.yml` *is*
/// `.github/workflows/x.yml`, and elsewhere a checkout on such a system would make it so. A
/// protection a change of case defeats protects nothing; protecting `makefile` along with
/// `Makefile` costs nothing.
#[derive(Clone, Debug)]
pub struct Protected {
    set: GlobSet,
    /// For each glob of `set`, the index in `globs` of the glob it was made from.
    origin: Vec<usize>,
    /// The globs as written: the configured ones, then [`ALWAYS_PROTECTED`], `.git` last.
    globs: Vec<String>,
}

impl Protected {
    /// Protected paths from `globs` plus [`ALWAYS_PROTECTED`] and `.git`.
    pub fn new(globs: &[String]) -> Result<Protected, ProtectedError> {
        let mut builder = GlobSetBuilder::new();
        let mut origin = Vec::new();
        let mut all: Vec<String> = globs.to_vec();
        all.extend(ALWAYS_PROTECTED.iter().map(|g| g.to_string()));
        all.push(".git".to_string());
        for (index, glob) in all.iter().enumerate() {
            let written = glob.trim();
            if written.starts_with('!') {
                return Err(ProtectedError::Negated { glob: glob.clone() });
            }
            let body = written.trim_start_matches('/').trim_end_matches('/');
            if body.is_empty() {
                continue;
            }
            // As in .gitignore: a `/` at the start or in the middle anchors the glob.
            let anchored = written.trim_end_matches('/').contains('/');
            let base = if anchored || body.starts_with("**") {
                body.to_string()
            } else {
                format!("**/{body}")
            };
            let below = if base.ends_with("/**") {
                None
            } else {
                Some(format!("{base}/**"))
            };
            for pattern in std::iter::once(base).chain(below) {
                let compiled = GlobBuilder::new(&pattern)
                    .literal_separator(true)
                    .case_insensitive(true)
                    .build()
                    .map_err(|source| ProtectedError::Glob {
                        glob: glob.clone(),
                        source,
                    })?;
                builder.add(compiled);
                origin.push(index);
            }
        }
        let set = builder
            .build()
            .map_err(|source| ProtectedError::Build { source })?;
        Ok(Protected {
            set,
            origin,
            globs: all,
        })
    }

    /// Whether `path` (relative, `/`-separated) is protected.
    pub fn matches(&self, path: &str) -> bool {
        self.matching(path).is_some()
    }

    /// The first glob, as written, that protects `path`.
    pub fn matching(&self, path: &str) -> Option<&str> {
        let path = path.trim_start_matches("./");
        self.set
            .matches(path)
            .into_iter()
            .map(|i| self.origin[i])
            .min()
            .map(|i| self.globs[i].as_str())
    }
}

/// Checks that `path`, as a model or an agent wrote it, may be edited below `root`, and
/// returns it relative to `root`, `/`-separated, with `.` components dropped and symlinks
/// inside the work tree resolved (so two names of one file come out the same). Only the
/// path is checked: a binary file is refused when its content is read.
pub fn check_path(root: &Path, path: &str, protected: &Protected) -> Result<String, Refusal> {
    let parts = components(path)?;
    let written = parts.join("/");
    refuse_protected(&written, protected)?;
    let resolved = resolve(root, &parts)?;
    if resolved != written {
        let resolved_parts: Vec<&str> = resolved.split('/').collect();
        if resolved.is_empty() {
            return Err(Refusal::Empty);
        }
        if resolved_parts
            .iter()
            .any(|p| p.eq_ignore_ascii_case(".git"))
        {
            return Err(Refusal::GitDir);
        }
        refuse_protected(&resolved, protected)?;
    }
    Ok(resolved)
}

/// The components of a written path, or why it is refused without looking at the disk.
fn components(path: &str) -> Result<Vec<&str>, Refusal> {
    let path = path.trim();
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.starts_with('/') || path.starts_with('\\') || drive || Path::new(path).is_absolute() {
        return Err(Refusal::Absolute);
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(Refusal::ParentDir),
            _ if part.eq_ignore_ascii_case(".git") => return Err(Refusal::GitDir),
            // A backslash is an ordinary character here, but `..\x` is how a model on
            // another system climbs out; it is never a name anyone means.
            _ if part.split('\\').any(|p| p == "..") => return Err(Refusal::ParentDir),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(parts)
}

fn refuse_protected(path: &str, protected: &Protected) -> Result<(), Refusal> {
    match protected.matching(path) {
        Some(glob) => Err(Refusal::Protected {
            glob: glob.to_string(),
        }),
        None => Ok(()),
    }
}

/// `parts` below the canonical root, following the symlinks among the components that
/// exist; refused when one leads outside the root or cannot be resolved.
fn resolve(root: &Path, parts: &[&str]) -> Result<String, Refusal> {
    let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut current: PathBuf = canonical_root.clone();
    let mut rest = parts.iter();
    let mut missing: Vec<&str> = Vec::new();
    for part in rest.by_ref() {
        let next = current.join(part);
        match std::fs::symlink_metadata(&next) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::canonicalize(&next).map_err(|_| Refusal::SymlinkOutside)?;
                if !target.starts_with(&canonical_root) {
                    return Err(Refusal::SymlinkOutside);
                }
                current = target;
            }
            Ok(_) => current = next,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing.push(part);
                break;
            }
            // Not a directory, permission denied: nothing below it can be a symlink that
            // matters, and reading or writing will say what is wrong.
            Err(_) => {
                current = next;
            }
        }
    }
    missing.extend(rest);
    let below = current
        .strip_prefix(&canonical_root)
        .map_err(|_| Refusal::SymlinkOutside)?;
    let mut out: Vec<String> = Vec::new();
    for component in below.components() {
        match component {
            Component::Normal(name) => out.push(name.to_string_lossy().into_owned()),
            _ => return Err(Refusal::SymlinkOutside),
        }
    }
    out.extend(missing.iter().map(|s| s.to_string()));
    Ok(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected(globs: &[&str]) -> Protected {
        let globs: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
        Protected::new(&globs).unwrap()
    }

    #[test]
    fn globs_match_like_gitignore() {
        let p = protected(&["deploy/workflows/**", "*.lock", "secrets", "/top.txt"]);
        assert!(p.matches("deploy/workflows/ci.yml"));
        assert!(p.matches("deploy/workflows/sub/x.yml"));
        assert!(!p.matches("deploy/dependabot.yml"));
        assert!(p.matches("Cargo.lock"));
        assert!(p.matches("sub/dir/yarn.lock"));
        assert!(!p.matches("Cargo.locked"));
        assert!(p.matches("secrets"));
        assert!(p.matches("a/secrets/key.pem"));
        assert!(p.matches("top.txt"));
        assert!(!p.matches("a/top.txt"));
        assert!(!p.matches("src/lib.rs"));
        assert_eq!(p.matching("x/Cargo.lock"), Some("*.lock"));
    }

    #[test]
    fn git_is_always_protected() {
        let p = protected(&[]);
        assert!(p.matches(".git/config"));
        assert!(p.matches("sub/.git"));
        assert!(p.matches("sub/.git/HEAD"));
        assert!(!p.matches(".gitignore"));
        assert!(!p.matches("src/git.rs"));
    }

    #[test]
    fn the_tools_git_and_ci_files_are_always_protected() {
        let p = protected(&[]);
        for (path, glob) in [
            (".orchestrate.toml", ".orchestrate.toml"),
            (".orchestrate/prompts/impl-text.md", ".orchestrate/**"),
            (".github/workflows/ci.yml", ".github/**"),
            (".github/CODEOWNERS", ".github/**"),
            (".gitmodules", ".gitmodules"),
            (".gitattributes", ".gitattributes"),
            ("vendor/lib/.gitattributes", ".gitattributes"),
            (".gitlab-ci.yml", ".gitlab-ci.yml"),
            (".circleci/config.yml", ".circleci/**"),
        ] {
            assert_eq!(p.matching(path), Some(glob), "{path}");
        }
        // Names that only look alike stay editable.
        for path in [
            "docs/orchestrate.toml",
            "src/.github.rs",
            "docs/.github/notes.md",
            ".gitignore",
            "gitlab-ci.yml",
            "circleci/config.yml",
            "orchestrate/prompts/x.md",
        ] {
            assert!(!p.matches(path), "{path}");
        }
        // The configured globs come first, so a refusal names the one a person wrote.
        let p = protected(&[".github/workflows/**"]);
        assert_eq!(
            p.matching(".github/workflows/ci.yml"),
            Some(".github/workflows/**")
        );
        assert_eq!(p.matching(".github/dependabot.yml"), Some(".github/**"));
    }

    #[test]
    fn protection_ignores_case() {
        let p = protected(&["secrets/**", "*.lock"]);
        for (path, glob) in [
            (".GitHub/Workflows/x.yml", ".github/**"),
            (".ORCHESTRATE.TOML", ".orchestrate.toml"),
            (".Orchestrate/Prompts/impl-text.md", ".orchestrate/**"),
            (".GITMODULES", ".gitmodules"),
            ("sub/.GitAttributes", ".gitattributes"),
            (".GitLab-CI.yml", ".gitlab-ci.yml"),
            (".CircleCI/config.yml", ".circleci/**"),
            ("SECRETS/key.pem", "secrets/**"),
            ("Cargo.LOCK", "*.lock"),
            (".GIT/config", ".git"),
        ] {
            assert_eq!(p.matching(path), Some(glob), "{path}");
        }
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            check_path(dir.path(), ".GitHub/Workflows/x.yml", &p),
            Err(Refusal::Protected {
                glob: ".github/**".to_string()
            })
        );
    }

    #[test]
    fn bad_and_negated_globs_are_errors() {
        assert!(matches!(
            Protected::new(&["a[".to_string()]),
            Err(ProtectedError::Glob { .. })
        ));
        assert!(matches!(
            Protected::new(&["!keep".to_string()]),
            Err(ProtectedError::Negated { .. })
        ));
    }

    #[test]
    fn written_paths_are_refused_without_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let p = protected(&["*.lock"]);
        let check = |path: &str| check_path(dir.path(), path, &p);
        assert_eq!(check("/etc/passwd"), Err(Refusal::Absolute));
        assert_eq!(check("C:\\x.txt"), Err(Refusal::Absolute));
        assert_eq!(check("../x.rs"), Err(Refusal::ParentDir));
        assert_eq!(check("src/../../x.rs"), Err(Refusal::ParentDir));
        assert_eq!(check("..\\x.rs"), Err(Refusal::ParentDir));
        assert_eq!(check(".git/config"), Err(Refusal::GitDir));
        assert_eq!(check("sub/.git"), Err(Refusal::GitDir));
        assert_eq!(check(".GIT/hooks/pre-commit"), Err(Refusal::GitDir));
        assert_eq!(check("./"), Err(Refusal::Empty));
        assert_eq!(
            check("Cargo.lock"),
            Err(Refusal::Protected {
                glob: "*.lock".to_string()
            })
        );
        assert_eq!(check("./src//lib.rs"), Ok("src/lib.rs".to_string()));
        assert_eq!(check("new/dir/file.rs"), Ok("new/dir/file.rs".to_string()));
    }

    #[test]
    fn symlinks_out_of_the_tree_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("target.txt"), "x\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("target.txt"),
            root.path().join("file-out"),
        )
        .unwrap();
        std::os::unix::fs::symlink("/nonexistent/nowhere", root.path().join("dangling")).unwrap();
        let p = protected(&[]);
        assert_eq!(
            check_path(root.path(), "out/target.txt", &p),
            Err(Refusal::SymlinkOutside)
        );
        assert_eq!(
            check_path(root.path(), "out/new/file.txt", &p),
            Err(Refusal::SymlinkOutside)
        );
        assert_eq!(
            check_path(root.path(), "file-out", &p),
            Err(Refusal::SymlinkOutside)
        );
        assert_eq!(
            check_path(root.path(), "dangling", &p),
            Err(Refusal::SymlinkOutside)
        );
    }

    #[test]
    fn symlinks_inside_the_tree_resolve_and_are_checked_again() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("real/.git")).unwrap();
        std::fs::create_dir_all(root.path().join("locks")).unwrap();
        std::os::unix::fs::symlink(root.path().join("real"), root.path().join("alias")).unwrap();
        std::os::unix::fs::symlink("real/.git", root.path().join("sneaky")).unwrap();
        std::os::unix::fs::symlink("locks/a.lock", root.path().join("innocent.txt")).unwrap();
        let p = protected(&["*.lock"]);
        assert_eq!(
            check_path(root.path(), "alias/x.rs", &p),
            Ok("real/x.rs".to_string())
        );
        assert_eq!(
            check_path(root.path(), "sneaky/config", &p),
            Err(Refusal::GitDir)
        );
        // A dangling link inside the tree: its target does not exist, so it cannot be
        // resolved and is refused rather than written through.
        assert_eq!(
            check_path(root.path(), "innocent.txt", &p),
            Err(Refusal::SymlinkOutside)
        );
        std::fs::write(root.path().join("locks/a.lock"), "").unwrap();
        assert_eq!(
            check_path(root.path(), "innocent.txt", &p),
            Err(Refusal::Protected {
                glob: "*.lock".to_string()
            })
        );
    }
}
