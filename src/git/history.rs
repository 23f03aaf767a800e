//! Reading the branch history: commits along the first-parent chain, with their trailers.

use git2::Oid;

use super::{Context, ObjectId, Repo, Result};

/// One commit, as the pipeline reads it.
#[derive(Clone, Debug)]
pub struct CommitInfo {
    pub id: ObjectId,
    pub summary: String,
    pub message: String,
    /// Trailers of the message's last paragraph, in order, as `git interpret-trailers` reads them.
    pub trailers: Vec<(String, String)>,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    pub author: String,
}

impl CommitInfo {
    /// The first value of trailer `key` (case-insensitive, as git compares trailer keys).
    pub fn trailer(&self, key: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The message body without the subject and without the trailer paragraph.
    pub fn body(&self) -> String {
        let mut paragraphs: Vec<&str> = self.message.split("\n\n").collect();
        if !paragraphs.is_empty() {
            paragraphs.remove(0);
        }
        if !self.trailers.is_empty() {
            while paragraphs.last().is_some_and(|p| p.trim().is_empty()) {
                paragraphs.pop();
            }
            paragraphs.pop();
        }
        paragraphs.join("\n\n").trim().to_string()
    }
}

/// The trailers of a commit message's last paragraph, in order, as git reads them.
pub fn parse_trailers(message: &str) -> Vec<(String, String)> {
    git2::message_trailers_strs(message)
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

impl Repo {
    pub fn commit_info(&self, id: ObjectId) -> Result<CommitInfo> {
        let commit = self
            .inner
            .find_commit(id.0)
            .context(|| format!("could not read commit {}", id.short()))?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let trailers = parse_trailers(&message);
        Ok(CommitInfo {
            id,
            summary: message.lines().next().unwrap_or_default().to_string(),
            trailers,
            time: commit.time().seconds(),
            author: String::from_utf8_lossy(commit.author().name_bytes()).into_owned(),
            message,
        })
    }

    /// The first parent of `id`, if it has one.
    pub fn first_parent(&self, id: ObjectId) -> Result<Option<ObjectId>> {
        let commit = self
            .inner
            .find_commit(id.0)
            .context(|| format!("could not read commit {}", id.short()))?;
        Ok(commit.parent_ids().next().map(ObjectId))
    }

    /// Whether some remote-tracking branch contains `commit` (it has been pushed, or fetched).
    pub fn on_remote(&self, commit: ObjectId) -> Result<bool> {
        let refs = self
            .inner
            .references_glob("refs/remotes/*")
            .context(|| "could not list remote-tracking branches".into())?;
        for reference in refs {
            let reference =
                reference.context(|| "could not read a remote-tracking branch".into())?;
            // `origin/HEAD` names another remote-tracking branch, which is looked at anyway.
            if reference.kind() == Some(git2::ReferenceType::Symbolic) {
                continue;
            }
            let Ok(tip) = reference.peel_to_commit() else {
                continue;
            };
            let contains = tip.id() == commit.0
                || self
                    .inner
                    .graph_descendant_of(tip.id(), commit.0)
                    .context(|| {
                        format!("could not compare {} with a remote branch", commit.short())
                    })?;
            if contains {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The commits reachable from `tip` that no other branch holds — no local or
    /// remote-tracking branch, no tag — leaving out of that the branches whose names start
    /// with `prefix` (locally `refs/heads/<prefix>…`, remotely `refs/remotes/<remote>/<prefix>…`):
    /// the commits past the base a branch under `prefix` grew from, which deleting it loses
    /// (unless another branch under `prefix` holds them). Newest first.
    pub fn commits_past_base(&self, tip: ObjectId, prefix: &str) -> Result<Vec<ObjectId>> {
        let mut walk = self
            .inner
            .revwalk()
            .context(|| "could not walk the history".into())?;
        walk.push(tip.0)
            .context(|| format!("could not read commit {}", tip.short()))?;
        let refs = self
            .inner
            .references()
            .context(|| "could not list references".into())?;
        for reference in refs {
            let reference = reference.context(|| "could not read a reference".into())?;
            if reference.kind() == Some(git2::ReferenceType::Symbolic) {
                continue;
            }
            let Ok(name) = reference.name() else {
                continue;
            };
            let shared = if let Some(branch) = name.strip_prefix("refs/heads/") {
                !branch.starts_with(prefix)
            } else if let Some(remote) = name.strip_prefix("refs/remotes/") {
                !remote
                    .split_once('/')
                    .is_some_and(|(_, branch)| branch.starts_with(prefix))
            } else {
                name.starts_with("refs/tags/")
            };
            if !shared {
                continue;
            }
            // A tag of a tree or a blob holds no commit.
            let Ok(commit) = reference.peel_to_commit() else {
                continue;
            };
            walk.hide(commit.id())
                .context(|| format!("could not walk the history from {name}"))?;
        }
        walk.map(|id| {
            id.map(ObjectId)
                .context(|| format!("could not walk the history of {}", tip.short()))
        })
        .collect()
    }

    /// Walk the first-parent chain from `tip` (newest first).
    pub fn first_parent_chain(&self, tip: ObjectId) -> FirstParentChain<'_> {
        FirstParentChain {
            repo: self,
            next: Some(tip.0),
        }
    }
}

/// Iterator over a first-parent chain; see [`Repo::first_parent_chain`].
pub struct FirstParentChain<'r> {
    repo: &'r Repo,
    next: Option<Oid>,
}

impl Iterator for FirstParentChain<'_> {
    type Item = Result<ObjectId>;

    fn next(&mut self) -> Option<Self::Item> {
        let id = ObjectId(self.next.take()?);
        match self.repo.first_parent(id) {
            Ok(parent) => {
                self.next = parent.map(|p| p.0);
                Some(Ok(id))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::test_support::{git, hermetic_env};

    #[test]
    fn commits_past_the_base_are_those_no_branch_outside_the_prefix_holds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let env = hermetic_env(&root);
        let run = |args: &[&str]| git(&root, &env, args);
        let commit = |message: &str| {
            run(&["commit", "-q", "--allow-empty", "-m", message]);
            ObjectId::parse(&run(&["rev-parse", "HEAD"])).unwrap()
        };
        run(&["init", "-q", "-b", "main", "."]);
        commit("initial");
        run(&["switch", "-q", "-c", "orchestrate/7-x"]);
        let first = commit("one");
        let second = commit("two");
        // main moved on meanwhile: its commits are not the branch's.
        run(&["switch", "-q", "main"]);
        commit("main moves");
        let repo = Repo::open(&root, &env).unwrap();
        assert_eq!(
            repo.commits_past_base(second, "orchestrate/").unwrap(),
            vec![second, first]
        );
        // Another issue branch, or a remote-tracking branch under the prefix, is no base.
        run(&["branch", "orchestrate/8-y", "orchestrate/7-x"]);
        run(&[
            "update-ref",
            "refs/remotes/origin/orchestrate/7-x",
            &second.to_string(),
        ]);
        assert_eq!(
            repo.commits_past_base(second, "orchestrate/")
                .unwrap()
                .len(),
            2
        );
        // A tag, a branch or a remote-tracking branch outside it is.
        run(&["tag", "one", &first.to_string()]);
        assert_eq!(
            repo.commits_past_base(second, "orchestrate/").unwrap(),
            vec![second]
        );
        run(&[
            "update-ref",
            "refs/remotes/origin/main",
            &second.to_string(),
        ]);
        assert!(
            repo.commits_past_base(second, "orchestrate/")
                .unwrap()
                .is_empty()
        );
    }
}
