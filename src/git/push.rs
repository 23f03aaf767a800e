//! Pushing a branch, fetching branches that are not here yet, and the remotes they go to
//! and come from.
//!
//! A push (and the fetch of branches missing here) goes over the network, so it runs as the user's
//! own `git push` would: their credential helpers, ssh configuration and `insteadOf`
//! rewriting. It runs their hooks (`pre-push`, `reference-transaction`) only when the caller
//! says so ([`PushOptions::hooks`]; otherwise `core.hooksPath=/dev/null`, as for every other
//! `git` the tool runs), and without the variables the caller names (the model keys). It is
//! bounded like every program the tool starts
//! ([`crate::process`]): its own process group, a timeout that stops the group, a bounded
//! tail of stderr. It never prompts (`GIT_TERMINAL_PROMPT=0`): a credential helper or an ssh
//! agent answers, or the push fails. It is never forced, so a branch someone else pushed to
//! is reported, never overwritten; and it moves nothing local but the remote-tracking branch
//! git updates after a successful push.

use std::future::Future;
use std::time::Duration;

use crate::process::ProcessError;

use super::snapshot::moves;
use super::{Context, GitError, ObjectId, Repo, Result};

/// How much of a push's stdout to keep: the porcelain report, one line per ref.
const PUSH_STDOUT_LIMIT: usize = 64 * 1024;
/// How many of the last stderr lines an error carries.
const DETAIL_LINES: usize = 8;

/// What a push may run and see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushOptions {
    /// Run the repository's hooks (off: `core.hooksPath=/dev/null`).
    pub hooks: bool,
    /// Variables the push runs without.
    pub without: Vec<String>,
}

/// What a push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushResult {
    /// The remote branch already pointed at the commit; nothing was sent.
    pub up_to_date: bool,
    /// The remote branch did not exist and was created.
    pub created: bool,
}

impl Repo {
    /// Push `commit` to branch `branch` of `remote` (a remote's name or a URL), as
    /// `git push --porcelain REMOTE SHA:refs/heads/BRANCH`: never forced, so the remote branch
    /// moves only forwards. No follow-tags: one ref goes, nothing else. Hooks run and
    /// variables pass as `options` says.
    ///
    /// The future owns what it needs (it does not borrow the repository), so it can be held
    /// across awaits by a run that moves between threads. A push still running after `timeout`
    /// is stopped with everything it started ([`GitError::PushTimedOut`]); dropping the future
    /// stops it too.
    pub fn push(
        &self,
        remote: &str,
        commit: ObjectId,
        branch: &str,
        timeout: Duration,
        options: &PushOptions,
    ) -> impl Future<Output = Result<PushResult>> + Send + 'static {
        let refspec = format!("{commit}:refs/heads/{branch}");
        let mut command = self.network_git_without(&options.without);
        if !options.hooks {
            command = command.args(["-c", "core.hooksPath=/dev/null"]);
        }
        let command = command
            .args(["push", "--porcelain", "--no-follow-tags", "--"])
            .arg(remote)
            .arg(&refspec)
            .stdout_limit(PUSH_STDOUT_LIMIT)
            .timeout(timeout);
        // A push to a named remote moves its remote-tracking branch too.
        let moving = moves::moving(
            self.common_dir(),
            moves::Refs::Exact(format!("refs/remotes/{remote}/{branch}")),
            moves::To::Any,
        );
        let remote = remote.to_string();
        let branch = branch.to_string();
        async move {
            let _moving = moving;
            let output = match command.run().await {
                Ok(output) => output,
                Err(ProcessError::TimedOut { .. }) => {
                    return Err(GitError::PushTimedOut {
                        remote,
                        after: timeout,
                    });
                }
                Err(source) => {
                    return Err(GitError::Process {
                        args: format!("push {remote} {refspec}"),
                        source,
                    });
                }
            };
            let report = String::from_utf8_lossy(&output.stdout);
            let detail = tidy_lines(&output.stderr_lines(DETAIL_LINES));
            let status = ref_status(&report, &format!("refs/heads/{branch}"));
            match status {
                Some(RefStatus::UpToDate) if output.status.success() => Ok(PushResult {
                    up_to_date: true,
                    created: false,
                }),
                Some(RefStatus::Updated { created }) if output.status.success() => Ok(PushResult {
                    up_to_date: false,
                    created,
                }),
                // Git's own lines only say to fetch first: the reason says it all.
                Some(RefStatus::Rejected { reason }) => Err(GitError::PushRejected {
                    remote,
                    branch,
                    reason,
                }),
                Some(RefStatus::RemoteRejected { reason }) => Err(GitError::PushRefused {
                    remote,
                    branch,
                    reason,
                    detail: remote_lines(&output.stderr_lines(DETAIL_LINES)).into(),
                }),
                Some(RefStatus::Other { summary }) => Err(GitError::PushFailed {
                    remote,
                    detail: if detail.is_empty() { summary } else { detail },
                }),
                // Reported fine, yet git failed (after the ref went: a failed hook of the
                // remote's own, say); or no report at all (no such remote, no access).
                _ => Err(GitError::PushFailed {
                    remote,
                    detail: if detail.is_empty() {
                        format!("git push ended with {}", output.status)
                    } else {
                        detail
                    },
                }),
            }
        }
    }

    /// Fetch the branches of `remote` named `pattern` (a branch name with one `*`:
    /// `orchestrate/7-*`) into local branches of the same names, as `git fetch --no-tags
    /// REMOTE refs/heads/PATTERN:refs/heads/PATTERN`. Never forced: a local branch moves only
    /// forwards, so call it for branches that are not here. A pattern matching nothing
    /// fetches nothing and is no error. Bounded as [`Repo::push`] is.
    pub fn fetch_branches(
        &self,
        remote: &str,
        pattern: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        let refspec = format!("refs/heads/{pattern}:refs/heads/{pattern}");
        let command = self
            .network_git()
            .args([
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--",
            ])
            .arg(remote)
            .arg(&refspec)
            .stdout_limit(PUSH_STDOUT_LIMIT)
            .timeout(timeout);
        let prefix = pattern.split('*').next().unwrap_or(pattern);
        let moving = moves::moving(
            self.common_dir(),
            moves::Refs::Prefix(format!("refs/heads/{prefix}")),
            moves::To::Any,
        );
        let remote = remote.to_string();
        async move {
            let _moving = moving;
            let output = match command.run().await {
                Ok(output) => output,
                Err(ProcessError::TimedOut { .. }) => {
                    return Err(GitError::FetchTimedOut {
                        remote,
                        after: timeout,
                    });
                }
                Err(source) => {
                    return Err(GitError::Process {
                        args: format!("fetch {remote} {refspec}"),
                        source,
                    });
                }
            };
            if output.status.success() {
                return Ok(());
            }
            let detail = tidy_lines(&output.stderr_lines(DETAIL_LINES));
            Err(GitError::FetchFailed {
                remote,
                detail: if detail.is_empty() {
                    format!("git fetch ended with {}", output.status)
                } else {
                    detail
                },
            })
        }
    }

    /// The URL remote `name` is configured with (its first `remote.NAME.url`), as written:
    /// before `url.*.insteadOf` rewriting, which is how people recognise it
    /// (`https://github.com/owner/repo.git`). `None` if there is no such remote.
    pub fn remote_url(&self, name: &str) -> Result<Option<String>> {
        // libgit2's `Remote::url` has `insteadOf` applied already, so read the config.
        let config = self
            .inner
            .config()
            .context(|| "could not read the repository's configuration".into())?;
        let key = format!("remote.{name}.url");
        let mut entries = config
            .multivar(&key, None)
            .context(|| format!("could not read {key}"))?;
        match entries.next() {
            Some(entry) => {
                let entry = entry.context(|| format!("could not read {key}"))?;
                Ok(Some(
                    String::from_utf8_lossy(entry.value_bytes()).into_owned(),
                ))
            }
            None => Ok(None),
        }
    }

    /// The names of the configured remotes, sorted.
    pub fn remote_names(&self) -> Result<Vec<String>> {
        let names = self
            .inner
            .remotes()
            .context(|| "could not list the remotes".into())?;
        let mut names: Vec<String> = names
            .iter()
            .filter_map(|n| n.ok().flatten())
            .map(str::to_string)
            .collect();
        names.sort();
        Ok(names)
    }
}

/// How `git push --porcelain` reported one ref.
#[derive(Debug, PartialEq, Eq)]
enum RefStatus {
    UpToDate,
    Updated {
        created: bool,
    },
    /// Refused by this side: the remote branch has commits the pushed one lacks.
    Rejected {
        reason: String,
    },
    /// Refused by the remote: a hook, a protected branch.
    RemoteRejected {
        reason: String,
    },
    Other {
        summary: String,
    },
}

/// The status of the ref `to` in a porcelain report: lines `FLAG\tFROM:TO\tSUMMARY (REASON)`.
fn ref_status(report: &str, to: &str) -> Option<RefStatus> {
    report.lines().find_map(|line| {
        let mut fields = line.splitn(3, '\t');
        let (flag, refs, summary) = (fields.next()?, fields.next()?, fields.next()?);
        if refs.rsplit_once(':').map(|(_, dst)| dst) != Some(to) {
            return None;
        }
        let reason = summary
            .split_once(" (")
            .map(|(_, r)| r.trim_end_matches(')').to_string())
            .unwrap_or_default();
        Some(match flag {
            "=" => RefStatus::UpToDate,
            " " | "+" => RefStatus::Updated { created: false },
            "*" => RefStatus::Updated { created: true },
            "!" if summary.starts_with("[rejected]") => RefStatus::Rejected { reason },
            "!" if summary.starts_with("[remote rejected]") => RefStatus::RemoteRejected { reason },
            _ => RefStatus::Other {
                summary: summary.to_string(),
            },
        })
    })
}

/// Non-empty lines, trimmed, joined with `; `: one line for a message.
fn tidy_lines(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the remote said (`remote: ...` lines), which says why it refused.
fn remote_lines(stderr: &str) -> String {
    tidy_lines(
        &stderr
            .lines()
            .filter_map(|l| l.strip_prefix("remote:"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::git::test_support::{git, temp_repo};
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    /// A repository with one commit on `main`, a bare repository beside it as `origin`, and
    /// the hermetic environment git runs with.
    struct Fixture {
        _dir: tempfile::TempDir,
        base: PathBuf,
        root: PathBuf,
        bare: PathBuf,
        env: Env,
    }

    impl Fixture {
        fn new() -> Fixture {
            let temp = temp_repo();
            let fixture = Fixture {
                _dir: temp.dir,
                bare: temp.base.join("origin.git"),
                base: temp.base,
                root: temp.root,
                env: temp.env,
            };
            fixture.git(&fixture.base, &["init", "-q", "--bare", "origin.git"]);
            fixture.commit("README.md", "# Widget\n");
            let bare = fixture.bare.to_str().unwrap().to_string();
            fixture.git(&fixture.root, &["remote", "add", "origin", &bare]);
            fixture
        }

        fn repo(&self) -> Repo {
            Repo::open(&self.root, &self.env).unwrap()
        }

        fn git(&self, dir: &Path, args: &[&str]) -> String {
            git(dir, &self.env, args)
        }

        /// Commit a file on the checked-out branch of `self.root`; the new tip.
        fn commit(&self, path: &str, content: &str) -> ObjectId {
            self.commit_in(&self.root, path, content)
        }

        fn commit_in(&self, dir: &Path, path: &str, content: &str) -> ObjectId {
            std::fs::write(dir.join(path), content).unwrap();
            self.git(dir, &["add", path]);
            self.git(dir, &["commit", "-q", "-m", path]);
            ObjectId::parse(&self.git(dir, &["rev-parse", "HEAD"])).unwrap()
        }

        /// Where `branch` points in the bare repository, if it exists there.
        fn remote_tip(&self, branch: &str) -> Option<ObjectId> {
            let out = std::process::Command::new("git")
                .env_clear()
                .envs(self.env.pairs())
                .current_dir(&self.bare)
                .args([
                    "rev-parse",
                    "--verify",
                    "-q",
                    &format!("refs/heads/{branch}"),
                ])
                .output()
                .unwrap();
            ObjectId::parse(String::from_utf8_lossy(&out.stdout).trim())
        }
    }

    const TIMEOUT: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_new_branch_is_pushed_then_up_to_date_then_fast_forwarded() {
        let fx = Fixture::new();
        let repo = fx.repo();
        let first = fx.commit("a.txt", "a\n");
        let result = repo
            .push(
                "origin",
                first,
                "orchestrate/7-x",
                TIMEOUT,
                &PushOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            result,
            PushResult {
                up_to_date: false,
                created: true
            }
        );
        assert_eq!(fx.remote_tip("orchestrate/7-x"), Some(first));

        let again = repo
            .push(
                "origin",
                first,
                "orchestrate/7-x",
                TIMEOUT,
                &PushOptions::default(),
            )
            .await
            .unwrap();
        assert!(again.up_to_date, "{again:?}");

        let second = fx.commit("b.txt", "b\n");
        let forward = repo
            .push(
                "origin",
                second,
                "orchestrate/7-x",
                TIMEOUT,
                &PushOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            forward,
            PushResult {
                up_to_date: false,
                created: false
            }
        );
        assert_eq!(fx.remote_tip("orchestrate/7-x"), Some(second));
        // The local branch is where it was; the push moved nothing of ours.
        assert_eq!(repo.branch_tip("main").unwrap(), Some(second));
        assert_eq!(repo.branch_tip("orchestrate/7-x").unwrap(), None);
    }

    #[tokio::test]
    async fn a_branch_someone_else_pushed_to_is_rejected_not_overwritten() {
        let fx = Fixture::new();
        let repo = fx.repo();
        let base = fx.commit("a.txt", "a\n");
        repo.push("origin", base, "feature", TIMEOUT, &PushOptions::default())
            .await
            .unwrap();

        // Someone else pushes to the branch from their own clone.
        let bare = fx.bare.to_str().unwrap().to_string();
        fx.git(&fx.base, &["clone", "-q", "-b", "feature", &bare, "other"]);
        let theirs = fx.commit_in(&fx.base.join("other"), "theirs.txt", "theirs\n");
        fx.git(&fx.base.join("other"), &["push", "-q", "origin", "feature"]);

        let ours = fx.commit("ours.txt", "ours\n");
        let error = repo
            .push("origin", ours, "feature", TIMEOUT, &PushOptions::default())
            .await
            .unwrap_err();
        match &error {
            GitError::PushRejected {
                remote,
                branch,
                reason,
                ..
            } => {
                assert_eq!((remote.as_str(), branch.as_str()), ("origin", "feature"));
                assert_eq!(reason, "fetch first");
            }
            other => panic!("expected PushRejected, got {other:?}"),
        }
        assert!(error.to_string().contains("feature"), "{error}");
        assert_eq!(fx.remote_tip("feature"), Some(theirs));
        assert_eq!(repo.branch_tip("main").unwrap(), Some(ours));

        // With their commit fetched, git calls it a non-fast-forward: the same error.
        fx.git(&fx.root, &["fetch", "-q", "origin"]);
        let error = repo
            .push("origin", ours, "feature", TIMEOUT, &PushOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GitError::PushRejected { reason, .. } if reason == "non-fast-forward"),
            "{error:?}"
        );
        assert_eq!(fx.remote_tip("feature"), Some(theirs));
    }

    #[tokio::test]
    async fn hooks_run_and_variables_pass_only_as_asked() {
        use std::os::unix::fs::PermissionsExt;
        let fx = Fixture::new();
        let seen = fx.base.join("seen");
        let hook = fx.root.join(".git/hooks/pre-push");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\necho \"key=${{MODEL_KEY:-none}}\" >> '{}'\n",
                seen.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = Env::from_pairs(
            fx.env
                .pairs()
                .map(|(k, v)| (k.to_os_string(), v.to_os_string()))
                .chain([("MODEL_KEY".into(), "sk-model".into())]),
        );
        let repo = Repo::open(&fx.root, &env).unwrap();
        let seen_now = || std::fs::read_to_string(&seen).unwrap_or_default();

        let first = fx.commit("a.txt", "a\n");
        repo.push("origin", first, "main", TIMEOUT, &PushOptions::default())
            .await
            .unwrap();
        assert_eq!(seen_now(), "", "a hook ran on a push without hooks");
        assert_eq!(fx.remote_tip("main"), Some(first));

        let second = fx.commit("b.txt", "b\n");
        let guarded = PushOptions {
            hooks: true,
            without: vec!["MODEL_KEY".into()],
        };
        repo.push("origin", second, "main", TIMEOUT, &guarded)
            .await
            .unwrap();
        assert_eq!(seen_now(), "key=none\n");

        let third = fx.commit("c.txt", "c\n");
        let open = PushOptions {
            hooks: true,
            without: Vec::new(),
        };
        repo.push("origin", third, "main", TIMEOUT, &open)
            .await
            .unwrap();
        assert_eq!(seen_now(), "key=none\nkey=sk-model\n");
    }

    #[tokio::test]
    async fn a_push_the_remote_refuses_says_why() {
        let fx = Fixture::new();
        let hook = fx.bare.join("hooks/pre-receive");
        std::fs::write(
            &hook,
            "#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

        let repo = fx.repo();
        let tip = repo.branch_tip("main").unwrap().unwrap();
        let error = repo
            .push("origin", tip, "main", TIMEOUT, &PushOptions::default())
            .await
            .unwrap_err();
        match &error {
            GitError::PushRefused {
                branch,
                reason,
                detail,
                ..
            } => {
                assert_eq!(branch, "main");
                assert_eq!(reason, "pre-receive hook declined");
                assert!(detail.contains("GH006: Protected branch"), "{detail}");
            }
            other => panic!("expected PushRefused, got {other:?}"),
        }
        assert!(
            error.to_string().contains("pre-receive hook declined"),
            "{error}"
        );
        assert_eq!(fx.remote_tip("main"), None);
    }

    #[tokio::test]
    async fn a_push_that_hangs_is_stopped_at_its_timeout() {
        let fx = Fixture::new();
        fx.git(
            &fx.root,
            &["remote", "set-url", "origin", "ssh://hang.invalid/x.git"],
        );
        // The comment swallows the arguments git adds, so the "ssh" just sleeps.
        fx.git(&fx.root, &["config", "core.sshCommand", "sleep 30 #"]);
        let repo = fx.repo();
        let tip = repo.branch_tip("main").unwrap().unwrap();
        let started = Instant::now();
        let error = repo
            .push(
                "origin",
                tip,
                "main",
                Duration::from_secs(1),
                &PushOptions::default(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GitError::PushTimedOut { remote, after }
                if remote == "origin" && *after == Duration::from_secs(1)),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(25));
    }

    #[tokio::test]
    async fn a_push_to_nowhere_fails_with_what_git_said() {
        let fx = Fixture::new();
        let repo = fx.repo();
        let tip = repo.branch_tip("main").unwrap().unwrap();
        let error = repo
            .push("upstream", tip, "main", TIMEOUT, &PushOptions::default())
            .await
            .unwrap_err();
        match &error {
            GitError::PushFailed { remote, detail } => {
                assert_eq!(remote, "upstream");
                assert!(detail.contains("upstream"), "{detail}");
            }
            other => panic!("expected PushFailed, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn insteadof_applies_to_the_push_but_not_to_the_remote_url() {
        let fx = Fixture::new();
        let github = "https://github.com/acme/widgets.git";
        fx.git(&fx.root, &["remote", "set-url", "origin", github]);
        let key = format!("url.{}.insteadOf", fx.bare.display());
        fx.git(&fx.root, &["config", &key, github]);
        let repo = fx.repo();
        assert_eq!(repo.remote_url("origin").unwrap().as_deref(), Some(github));
        assert_eq!(repo.remote_url("upstream").unwrap(), None);
        assert_eq!(repo.remote_names().unwrap(), vec!["origin".to_string()]);

        let tip = repo.branch_tip("main").unwrap().unwrap();
        let result = repo
            .push("origin", tip, "main", TIMEOUT, &PushOptions::default())
            .await
            .unwrap();
        assert!(result.created, "{result:?}");
        assert_eq!(fx.remote_tip("main"), Some(tip));
    }

    #[test]
    fn a_push_can_be_awaited_by_a_run_that_moves_between_threads() {
        fn assert_send<T: Send + 'static>(_: &T) {}
        let fx = Fixture::new();
        let repo = fx.repo();
        let tip = repo.branch_tip("main").unwrap().unwrap();
        let push = repo.push("origin", tip, "main", TIMEOUT, &PushOptions::default());
        drop(repo);
        assert_send(&push);
    }

    #[test]
    fn porcelain_reports() {
        let to = "refs/heads/b";
        let line = |l: &str| ref_status(&format!("To /x\n{l}\nDone\n"), to);
        assert_eq!(
            line("=\tabc:refs/heads/b\t[up to date]"),
            Some(RefStatus::UpToDate)
        );
        assert_eq!(
            line("*\tabc:refs/heads/b\t[new branch]"),
            Some(RefStatus::Updated { created: true })
        );
        assert_eq!(
            line(" \tabc:refs/heads/b\t1111111..2222222"),
            Some(RefStatus::Updated { created: false })
        );
        assert_eq!(
            line("!\tabc:refs/heads/b\t[rejected] (fetch first)"),
            Some(RefStatus::Rejected {
                reason: "fetch first".into()
            })
        );
        assert_eq!(
            line("!\tabc:refs/heads/b\t[remote rejected] (protected branch hook declined)"),
            Some(RefStatus::RemoteRejected {
                reason: "protected branch hook declined".into()
            })
        );
        assert_eq!(
            line("!\tabc:refs/heads/b\t[remote failure] (remote failed to report status)"),
            Some(RefStatus::Other {
                summary: "[remote failure] (remote failed to report status)".into()
            })
        );
        assert_eq!(line("=\tabc:refs/heads/other\t[up to date]"), None);
    }
}
