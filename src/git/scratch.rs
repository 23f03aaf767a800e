//! Private repositories and refs outside `refs/heads/`, for `eval`.
//!
//! `eval` replays the repository's own history as tasks, and none of its work may show in the
//! user's branches. Each task runs in a *scratch* repository of its own under the git
//! directory: a plain `git init` that reads the user's objects through `objects/info/alternates`
//! (nothing is copied) and holds no ref but the ones the task is given, so an agent working
//! there sees the task's base and nothing of the commit it is asked to redo. What a task
//! produced comes back into the user's repository as one pack built in process, under a ref
//! of the eval run's own (`refs/orchestrate-eval/<run-id>/...`), never under `refs/heads/`.

use std::path::Path;

use git2::Oid;

use super::snapshot::moves;
use super::{Context, GitError, ObjectId, Repo, Result};
use crate::env::{Env, GIT_REPOSITORY_VARS};

/// The user's identity, copied into a scratch repository so its commits read as theirs.
const IDENTITY_KEYS: [&str; 2] = ["user.name", "user.email"];

impl Repo {
    /// The scratch repository at `path` (created if absent): a work tree with nothing
    /// checked out, reading this repository's objects, with no automatic garbage collection
    /// (it would not see the objects only this repository's refs keep). The returned `Repo`
    /// runs git without the variables that name a repository (`GIT_DIR`, ...), so nothing it
    /// starts reaches the user's.
    pub fn scratch(&self, path: &Path, env: &Env) -> Result<Repo> {
        let env = env.without(GIT_REPOSITORY_VARS);
        if !path.join(".git").is_dir() {
            std::fs::create_dir_all(path).map_err(|source| GitError::WorktreeIo {
                action: "create".into(),
                path: path.to_path_buf(),
                source,
            })?;
            // In process: three `git` programs (init, two settings) cost more than the rest
            // of making a task's repository.
            let created = git2::Repository::init(path)
                .context(|| format!("could not create a repository in {}", path.display()))?;
            let info = path.join(".git/objects/info");
            let objects = self.common_dir().join("objects");
            let objects = objects.canonicalize().unwrap_or(objects);
            std::fs::create_dir_all(&info)
                .and_then(|()| {
                    std::fs::write(info.join("alternates"), format!("{}\n", objects.display()))
                })
                .map_err(|source| GitError::WorktreeIo {
                    action: "write".into(),
                    path: info.join("alternates"),
                    source,
                })?;
            let mut config = created
                .config()
                .and_then(|c| c.open_level(git2::ConfigLevel::Local))
                .context(|| format!("could not read the configuration of {}", path.display()))?;
            let mut settings: Vec<(String, String)> = vec![
                ("gc.auto".into(), "0".into()),
                ("maintenance.auto".into(), "false".into()),
            ];
            for key in IDENTITY_KEYS {
                if let Some(value) = self.config_value(key) {
                    settings.push((key.to_string(), value));
                }
            }
            for (key, value) in settings {
                config
                    .set_str(&key, &value)
                    .context(|| format!("could not set {key} in {}", path.display()))?;
            }
        }
        Repo::open(path, &env)
    }

    /// A configuration value as git reads it here (all levels), if set.
    fn config_value(&self, key: &str) -> Option<String> {
        self.inner
            .config()
            .ok()?
            .get_string(key)
            .ok()
            .filter(|v| !v.is_empty())
    }

    /// Point the ref `name` (a full name: `refs/...`) at `id`, whatever it pointed at.
    pub fn set_ref(&self, name: &str, id: ObjectId) -> Result<()> {
        // The tool's own move: the check after a program must not take it for the program's.
        let _moving = moves::moving(
            self.common_dir(),
            moves::Refs::Exact(name.to_string()),
            moves::To::Value(Some(id.0)),
        );
        self.inner
            .reference(name, id.0, true, "git-orchestrate: eval")
            .context(|| format!("could not set {name}"))?;
        Ok(())
    }

    /// Every ref whose full name starts with `prefix`, with what it points at, sorted.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, ObjectId)>> {
        let refs = self
            .inner
            .references_glob(&format!("{prefix}*"))
            .context(|| format!("could not list the refs under {prefix}"))?;
        let mut found = Vec::new();
        for reference in refs {
            let reference = reference.context(|| format!("could not read a ref under {prefix}"))?;
            let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
                continue;
            };
            found.push((name.to_string(), ObjectId(target)));
        }
        found.sort();
        Ok(found)
    }

    /// Remove the ref `name`; a ref that is not there is fine.
    pub fn delete_ref(&self, name: &str) -> Result<()> {
        let _moving = moves::moving(
            self.common_dir(),
            moves::Refs::Exact(name.to_string()),
            moves::To::Value(None),
        );
        match self.inner.find_reference(name) {
            Ok(mut reference) => reference
                .delete()
                .context(|| format!("could not delete {name}")),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(()),
            Err(e) => Err(e).context(|| format!("could not read {name}")),
        }
    }

    /// Copy into this repository the objects of `from` that `tip` reaches and `known` (a
    /// commit this repository has) does not, in process: one pack built by libgit2 and indexed
    /// here, so no hook, no `FETCH_HEAD` and no other program runs.
    pub fn take_objects(&self, from: &Repo, tip: ObjectId, known: ObjectId) -> Result<()> {
        let what = || format!("could not copy the objects of {}", tip.short());
        let mut walk = from.inner.revwalk().context(what)?;
        walk.push(tip.0).context(what)?;
        walk.hide(known.0).context(what)?;
        let mut builder = from.inner.packbuilder().context(what)?;
        builder.insert_walk(&mut walk).context(what)?;
        if builder.object_count() == 0 {
            return Ok(());
        }
        let odb = self.inner.odb().context(what)?;
        let mut writer = odb.packwriter().context(what)?;
        let mut written = Ok(());
        builder
            .foreach(|chunk| {
                written = std::io::Write::write_all(&mut writer, chunk);
                written.is_ok()
            })
            .context(what)?;
        written.map_err(|source| GitError::WorktreeIo {
            action: "write the objects of".into(),
            path: self.common_dir().join("objects/pack"),
            source,
        })?;
        writer.commit().context(what)?;
        Ok(())
    }

    /// The commits of a revision range (`main~50..main`, `A...B`, `^X Y`), oldest first:
    /// with `merges`, the merge commits along the first-parent line; else every commit that is
    /// not a merge.
    pub fn commits_in(&self, range: &str, merges: bool) -> Result<Vec<ObjectId>> {
        let mut args = vec!["rev-list", "--reverse"];
        match merges {
            true => args.extend(["--first-parent", "--merges"]),
            false => args.push("--no-merges"),
        }
        args.extend(["--end-of-options", range]);
        let text = self.git_in(self.common_dir()).args(&args).text()?;
        Ok(text
            .lines()
            .filter_map(|line| Oid::from_str(line.trim()).ok().map(ObjectId))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::test_support::{git, temp_repo};
    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        env: Env,
    }

    impl Fixture {
        fn new() -> Fixture {
            let temp = temp_repo();
            let f = Fixture {
                env: temp.env,
                _dir: temp.dir,
                root: temp.root,
            };
            f.write(&f.root, "src/lib.rs", "pub fn widget() {}\n");
            f.git(&["add", "."]);
            f.git(&["commit", "-q", "-m", "initial"]);
            f
        }

        fn repo(&self) -> Repo {
            Repo::open(&self.root, &self.env).unwrap()
        }

        fn git(&self, args: &[&str]) -> String {
            git(&self.root, &self.env, args)
        }

        fn write(&self, dir: &Path, path: &str, content: &str) {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
    }

    #[test]
    fn a_scratch_repository_reads_the_objects_and_holds_no_ref_of_the_user() {
        let f = Fixture::new();
        let repo = f.repo();
        let head = repo.resolve_commit("HEAD").unwrap().unwrap();
        let dir = f.root.join(".git/orchestrate/eval/x/repo");
        let scratch = repo.scratch(&dir, &f.env).unwrap();
        assert!(scratch.read_file(head, "src/lib.rs").unwrap().is_some());
        assert!(scratch.refs_under("refs/").unwrap().is_empty());
        scratch.set_ref("refs/heads/eval-base", head).unwrap();
        assert_eq!(scratch.refs_under("refs/heads/").unwrap().len(), 1);

        // A commit made only in the scratch repository comes back with its objects.
        let made = scratch
            .commit_files(&crate::git::CommitRequest {
                branch: "eval-base",
                expected_tip: Some(head),
                base: head,
                files: &[crate::git::FileChange::file("new.txt", "new\n")],
                message: "new",
            })
            .unwrap();
        assert!(
            repo.commit_info(made).is_err(),
            "only the scratch repository has it"
        );
        repo.take_objects(&scratch, made, head).unwrap();
        repo.set_ref("refs/orchestrate-eval/x/1", made).unwrap();
        assert_eq!(
            repo.refs_under("refs/orchestrate-eval/").unwrap(),
            vec![("refs/orchestrate-eval/x/1".to_string(), made)]
        );
        assert_eq!(repo.read_file(made, "new.txt").unwrap().unwrap(), b"new\n");
        repo.delete_ref("refs/orchestrate-eval/x/1").unwrap();
        repo.delete_ref("refs/orchestrate-eval/x/1").unwrap();
        assert!(
            repo.refs_under("refs/orchestrate-eval/")
                .unwrap()
                .is_empty()
        );
        assert!(!f.root.join(".git/FETCH_HEAD").exists());
        // Opened again, it is the same repository.
        let again = repo.scratch(&dir, &f.env).unwrap();
        assert_eq!(again.refs_under("refs/heads/").unwrap().len(), 1);
    }

    #[test]
    fn a_range_lists_its_commits_oldest_first() {
        let f = Fixture::new();
        let repo = f.repo();
        let first = repo.resolve_commit("HEAD").unwrap().unwrap();
        f.write(&f.root, "a.txt", "a\n");
        f.git(&["add", "a.txt"]);
        f.git(&["commit", "-q", "-m", "a"]);
        f.write(&f.root, "b.txt", "b\n");
        f.git(&["add", "b.txt"]);
        f.git(&["commit", "-q", "-m", "b"]);
        let repo = f.repo();
        let commits = repo.commits_in(&format!("{first}..HEAD"), false).unwrap();
        assert_eq!(commits.len(), 2);
        assert_eq!(repo.commit_info(commits[0]).unwrap().summary, "a");
        assert!(
            repo.commits_in(&format!("{first}..HEAD"), true)
                .unwrap()
                .is_empty()
        );
        assert!(repo.commits_in("no-such-rev..HEAD", false).is_err());
    }
}
