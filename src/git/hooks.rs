//! The hooks a `git push` would run, taken as a value to compare: where they are (the hooks
//! directory as git resolves it, `core.hooksPath` honoured) and every file under it, with its
//! mode and contents.
//!
//! A push runs the user's own hooks only when they ask for it (`github.push_hooks`), and even
//! then never a hook that appeared or changed while agents and model-written code were at
//! work: the run takes [`Hooks`] when it starts and compares them with the hooks at push time
//! ([`Hooks::changes`]). Contents are kept whole, not hashed, so no file made to collide can
//! pass for the one that was there. A directory too large to keep (more than [`MAX_ENTRIES`]
//! entries or [`MAX_BYTES`] bytes, or deeper than [`MAX_DEPTH`]) compares as changed.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{Repo, Result};

/// The most entries under the hooks directory that are kept.
const MAX_ENTRIES: usize = 4096;
/// The most bytes of hook files that are kept.
const MAX_BYTES: usize = 16 * 1024 * 1024;
/// The deepest directory under the hooks directory that is read.
const MAX_DEPTH: usize = 8;

/// The hooks directory and what is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hooks {
    dir: PathBuf,
    /// By path under `dir`; `None` when there was too much to keep.
    entries: Option<BTreeMap<PathBuf, Entry>>,
}

/// One entry, as reached by following symbolic links (a hook is run through them).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    File {
        mode: u32,
        content: Vec<u8>,
    },
    Dir,
    /// A dangling link, a loop, something unreadable or neither file nor directory.
    Other,
}

impl Repo {
    /// The hooks `git push` would run from this repository now.
    pub fn hooks(&self) -> Result<Hooks> {
        let dir = self
            .git_here()
            .hooks_as_configured()
            .args(["rev-parse", "--git-path", "hooks"])
            .text()?;
        let dir = self.run_dir().join(dir);
        let mut entries = BTreeMap::new();
        let mut bytes = 0;
        let complete = read_dir(&dir, Path::new(""), 0, &mut entries, &mut bytes);
        Ok(Hooks {
            dir,
            entries: complete.then_some(entries),
        })
    }
}

impl Hooks {
    /// The hooks directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What differs in `now` from these hooks: the paths under the hooks directory that
    /// appeared, changed (contents or mode) or went; or, when the directory itself is another
    /// one now, these hooks' directory; or, when either was too large to keep, the directory.
    /// Empty when nothing changed.
    pub fn changes(&self, now: &Hooks) -> Vec<String> {
        if self.dir != now.dir {
            return vec![self.dir.display().to_string()];
        }
        let (Some(before), Some(after)) = (&self.entries, &now.entries) else {
            return vec![self.dir.display().to_string()];
        };
        let mut changed: Vec<&PathBuf> = before
            .iter()
            .filter(|(path, entry)| after.get(*path) != Some(entry))
            .map(|(path, _)| path)
            .chain(after.keys().filter(|path| !before.contains_key(*path)))
            .collect();
        changed.sort();
        changed.iter().map(|p| p.display().to_string()).collect()
    }
}

/// Read `dir` (at `under` below the hooks directory) into `entries`; false when there was
/// too much to keep, or a listing broke off.
fn read_dir(
    dir: &Path,
    under: &Path,
    depth: usize,
    entries: &mut BTreeMap<PathBuf, Entry>,
    bytes: &mut usize,
) -> bool {
    let Ok(listing) = std::fs::read_dir(dir) else {
        // No hooks directory is no hooks; one that cannot be read runs none either.
        return true;
    };
    for item in listing {
        let Ok(item) = item else {
            return false;
        };
        let path = item.path();
        let name = under.join(item.file_name());
        if entries.len() >= MAX_ENTRIES {
            return false;
        }
        let entry = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                if depth >= MAX_DEPTH {
                    return false;
                }
                if !read_dir(&path, &name, depth + 1, entries, bytes) {
                    return false;
                }
                Entry::Dir
            }
            Ok(meta) if meta.is_file() => {
                *bytes += usize::try_from(meta.len()).unwrap_or(usize::MAX);
                if *bytes > MAX_BYTES {
                    return false;
                }
                match std::fs::read(&path) {
                    Ok(content) => Entry::File {
                        mode: meta.permissions().mode(),
                        content,
                    },
                    Err(_) => Entry::Other,
                }
            }
            _ => Entry::Other,
        };
        entries.insert(name, entry);
    }
    true
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;
    use crate::env::Env;
    use crate::git::test_support::{git, hermetic_env};

    /// A repository in a temporary directory, with the hermetic environment.
    struct TestRepo {
        _dir: tempfile::TempDir,
        root: PathBuf,
        env: Env,
    }

    impl TestRepo {
        fn new() -> TestRepo {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().canonicalize().unwrap();
            let env = hermetic_env(&root);
            git(&root, &env, &["init", "-q", "."]);
            TestRepo {
                _dir: dir,
                root,
                env,
            }
        }

        fn path(&self) -> &Path {
            &self.root
        }

        fn repo(&self) -> Repo {
            Repo::open(&self.root, &self.env).unwrap()
        }

        fn git(&self, args: &[&str]) {
            git(&self.root, &self.env, args);
        }
    }

    fn write_hook(dir: &Path, name: &str, body: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_hook_that_appears_changes_or_goes_is_named() {
        let t = TestRepo::new();
        let hooks = t.path().join(".git/hooks");
        write_hook(&hooks, "pre-commit", "#!/bin/sh\nexit 0\n");
        let before = t.repo().hooks().unwrap();
        assert_eq!(before.dir(), hooks.as_path());
        assert!(before.changes(&t.repo().hooks().unwrap()).is_empty());

        write_hook(&hooks, "pre-push", "#!/bin/sh\necho planted\n");
        assert_eq!(before.changes(&t.repo().hooks().unwrap()), ["pre-push"]);

        std::fs::remove_file(hooks.join("pre-push")).unwrap();
        std::fs::set_permissions(
            hooks.join("pre-commit"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert_eq!(before.changes(&t.repo().hooks().unwrap()), ["pre-commit"]);

        // The directory gone: every hook that was in it (git's samples too) went.
        std::fs::remove_dir_all(&hooks).unwrap();
        let gone = before.changes(&t.repo().hooks().unwrap());
        assert!(gone.contains(&"pre-commit".to_string()), "{gone:?}");
        assert!(gone.contains(&"pre-push.sample".to_string()), "{gone:?}");
    }

    #[test]
    fn hooks_reached_through_links_and_subdirectories_count() {
        let t = TestRepo::new();
        let hooks = t.path().join(".git/hooks");
        let outside = t.path().join("shared-hook");
        std::fs::write(&outside, "#!/bin/sh\n").unwrap();
        std::fs::create_dir_all(&hooks).unwrap();
        symlink(&outside, hooks.join("pre-push")).unwrap();
        write_hook(&hooks.join("lib"), "common.sh", "x=1\n");
        let before = t.repo().hooks().unwrap();

        std::fs::write(&outside, "#!/bin/sh\ncurl evil\n").unwrap();
        write_hook(&hooks.join("lib"), "common.sh", "x=2\n");
        assert_eq!(
            before.changes(&t.repo().hooks().unwrap()),
            ["lib/common.sh", "pre-push"]
        );
    }

    #[test]
    fn another_hooks_path_is_a_change() {
        let t = TestRepo::new();
        let before = t.repo().hooks().unwrap();
        t.git(&["config", "core.hooksPath", "my-hooks"]);
        let now = t.repo().hooks().unwrap();
        assert_eq!(now.dir(), t.path().join("my-hooks").as_path());
        assert_eq!(
            before.changes(&now),
            [t.path().join(".git/hooks").display().to_string()]
        );
    }
}
