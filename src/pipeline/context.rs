//! What a stage may do: the narrow interface between the run loop and the stages.
//!
//! A stage reads artifacts from the branch, renders prompts, calls the models of its roles,
//! commits, and reports events — through a [`StageContext`], and nothing else. It does not see
//! the run loop, the plan, gates or other stages' models, and it never calls back into the
//! loop: it returns how it ended, and the loop decides what comes next.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::PipelineError;
use super::Session;
use super::base::{self, CatchUp};
use super::branch::message::TRAILER_INPUT;
use super::branch::{IssueBranch, IssueState, Message, StageRecord};
use super::contain::Containment;
use super::events::{
    ContainedBy, ContainedChange, ContainedHow, ContainedWhat, Event, EventSink, SectionFix,
    Warning,
};
use super::github::{Connection, GitHubCall};
use super::grounding::RepoContext;
use super::interrupt::Interrupt;
use super::io::RunIo;
use super::models::{Call, Models};
use super::prompts::Prompts;
use super::recovery;
use super::spend::Spent;
use super::stale::{InputContext, Inputs};
use crate::config::{Config, GithubConfig, ProviderKind, StageConfig};
use crate::edit::ALWAYS_PROTECTED;
use crate::forge::RepoId;
use crate::git::{self, FileChange, Found, How, ObjectId, Place, Repo, Snapshot, Worktree};
use crate::issue::{Issue, cut_text, filed};
use crate::llm::{Contained, Prompt, Reply};
use crate::stage::{Role, Stage};
use crate::testing::{self, TestCommand};

/// The most of the issue a prompt carries as `{{issue_text}}`, in bytes; longer text is cut at
/// a line, and says so.
pub const ISSUE_TEXT_LIMIT: usize = 32 * 1024;

/// `{{issue_text}}` when the brief is the issue's text itself (no triage model wrote it), so
/// that a prompt does not carry it twice.
const ISSUE_IS_THE_BRIEF: &str = "(No triage model wrote the brief: the brief above is the issue's text as filed, so it is not repeated here.)";

/// The state of one run, owned by the run loop. Everything in it is owned (no shared
/// references into other threads' data), so a run can move between threads.
pub struct RunState {
    pub session: Session,
    pub issue: Issue,
    pub branch: IssueBranch,
    /// The branch's state when the run started.
    pub state: IssueState,
    pub prompts: Prompts,
    pub models: Models,
    /// Stages this run skips.
    pub skip: BTreeSet<Stage>,
    /// The repository as prompts describe it, read once per run (`None` until then).
    pub repo_context: Option<String>,
    /// GitHub, when the run reads the issue from it or opens a pull request.
    pub github: Option<Connection>,
    /// The branch a pull request goes into: `--base`, else the branch checked out when the
    /// run started.
    pub pr_base: Option<String>,
    /// `--update-base`: impl merges the base in even when the branch holds code.
    pub update_base: bool,
    /// The run said its pushes leave out hooks that changed ([`Event::PushHooksSkipped`]):
    /// once is enough.
    pub push_hooks_skipped: bool,
}

impl RunState {
    /// The artifact path of `stage` for this issue (empty for stages without one).
    pub fn artifact(&self, stage: Stage) -> String {
        self.session
            .config
            .paths
            .artifact(stage, self.issue.number)
            .unwrap_or_default()
    }

    /// The text of `path` at the branch head, if present.
    pub fn read_artifact(&self, path: &str) -> Result<Option<String>, PipelineError> {
        Ok(self
            .session
            .repo
            .read_file(self.branch.head(), path)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Commit `files` on the issue branch (redacted; compare-and-swap; work that cannot land
    /// is saved), and say what was redacted.
    pub fn commit(
        &mut self,
        kind: &str,
        files: &[FileChange],
        message: &Message,
        events: &dyn EventSink,
    ) -> Result<ObjectId, PipelineError> {
        let committed = self.branch.commit(
            &self.session,
            self.issue.number,
            kind,
            files,
            &message.render(),
        )?;
        for redaction in committed.redacted {
            events.emit(Event::Redacted(redaction));
        }
        Ok(committed.id)
    }
}

/// The test command of a run: `stages.impl.test_command`, else detected from the files at
/// the root of `commit` (and the programs on `env`'s `PATH`).
pub fn test_command(
    config: &Config,
    repo: &Repo,
    env: &crate::env::Env,
    commit: ObjectId,
) -> Option<TestCommand> {
    if let Some(command) = &config.implement.test_command {
        return Some(TestCommand {
            command: command.clone(),
            source: testing::TestSource::Config,
        });
    }
    let read = |path: &str| repo.read_file(commit, path).ok().flatten();
    testing::detect(&read, &|program| env.find_program(program).is_some())
}

/// A change the after-check found, as events carry it.
fn contained_change(found: Found) -> ContainedChange {
    ContainedChange {
        what: match found.place {
            Place::Hook => ContainedWhat::Hook,
            Place::Config => ContainedWhat::Config,
            Place::Info => ContainedWhat::Info,
            Place::Ref => ContainedWhat::Ref,
            Place::Head => ContainedWhat::Head,
            Place::Index => ContainedWhat::Index,
            Place::File => ContainedWhat::File,
        },
        name: found.name,
        how: match found.how {
            How::Added => ContainedHow::Added,
            How::Modified => ContainedHow::Modified,
            How::Removed => ContainedHow::Removed,
        },
        undone: found.undone,
    }
}

/// Run `future` unless Ctrl-C comes first; dropping it then stops what it started.
pub async fn interruptible<F: std::future::Future>(
    interrupt: &Interrupt,
    future: F,
) -> Result<F::Output, PipelineError> {
    tokio::select! {
        output = future => Ok(output),
        _ = interrupt.triggered() => Err(PipelineError::Interrupted),
    }
}

/// One stage's view of the run.
pub struct StageContext<'a> {
    stage: Stage,
    run: &'a mut RunState,
    io: &'a RunIo<'a>,
    /// The last snapshot a check found nothing against: the user's repository is still as it
    /// says, so the next program is watched from it instead of a new `git status`.
    unchanged: Option<Snapshot>,
}

impl<'a> StageContext<'a> {
    pub fn new(stage: Stage, run: &'a mut RunState, io: &'a RunIo<'a>) -> StageContext<'a> {
        StageContext {
            stage,
            run,
            io,
            unchanged: None,
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    pub fn issue(&self) -> &Issue {
        &self.run.issue
    }

    /// This stage's settings.
    pub fn settings(&self) -> StageConfig<'_> {
        self.run.session.config.stage(self.stage)
    }

    /// Where this stage stood on the branch when the run started.
    pub fn record(&self) -> &StageRecord {
        self.run.state.stage(self.stage)
    }

    /// Whether the run skips `stage`.
    pub fn skips(&self, stage: Stage) -> bool {
        self.run.skip.contains(&stage)
    }

    /// The artifact path of `stage` (this stage's, or an earlier one's to read).
    pub fn artifact(&self, stage: Stage) -> String {
        self.run.artifact(stage)
    }

    /// This stage's review log.
    pub fn reviews_path(&self) -> String {
        self.run
            .session
            .config
            .paths
            .reviews(self.stage, self.run.issue.number)
    }

    /// The text of `path` at the branch head, if present.
    pub fn read_artifact(&self, path: &str) -> Result<Option<String>, PipelineError> {
        self.run.read_artifact(path)
    }

    /// Whether a model plays `role` in this stage.
    pub fn has_model(&self, role: Role) -> bool {
        self.run.models.has(self.stage, role)
    }

    /// The model of `role`, as trailers record it.
    pub fn model_label(&self, role: Role) -> Result<String, PipelineError> {
        self.run.models.label(self.stage, role)
    }

    /// The placeholders every prompt template may use.
    pub fn prompt_vars(&mut self) -> Result<BTreeMap<&'static str, String>, PipelineError> {
        let repo_context = match &self.run.repo_context {
            Some(text) => text.clone(),
            None => {
                let text =
                    RepoContext::read(&self.run.session.repo, self.run.branch.head())?.render();
                self.run.repo_context = Some(text.clone());
                text
            }
        };
        let issue = &self.run.issue;
        let mut vars = BTreeMap::new();
        vars.insert("repo_name", self.run.session.repo.name());
        vars.insert("repo_context", repo_context);
        vars.insert("issue_number", issue.number.to_string());
        vars.insert("issue_title", issue.title.clone());
        vars.insert("stage", self.stage.name().to_string());
        vars.insert("required_sections", String::new());
        vars.insert("issue_text", self.issue_text()?);
        let always: Vec<String> = ALWAYS_PROTECTED.iter().map(|g| format!("`{g}`")).collect();
        vars.insert("always_protected", always.join(", "));
        Ok(vars)
    }

    /// The issue as the run read it (cleaned of hidden text and secrets; on a re-run, the
    /// issue kept in the brief), cut to [`ISSUE_TEXT_LIMIT`]. When the brief on the branch is
    /// that very text, a line saying so instead.
    fn issue_text(&self) -> Result<String, PipelineError> {
        let issue = self.run.issue.normalised();
        if self.stage != Stage::Triage
            && self
                .read_artifact(&self.artifact(Stage::Triage))?
                .is_some_and(|brief| brief.trim() == issue.trim())
        {
            return Ok(ISSUE_IS_THE_BRIEF.to_string());
        }
        Ok(cut_text(&issue, ISSUE_TEXT_LIMIT).unwrap_or(issue))
    }

    /// The brief on the branch as later stages read it: without the issue a triage model's
    /// brief keeps at its end (prompts carry that as `{{issue_text}}`).
    pub fn brief(&self) -> Result<Option<String>, PipelineError> {
        Ok(self
            .read_artifact(&self.artifact(Stage::Triage))?
            .map(|text| filed::strip(&text).to_string()))
    }

    /// Render prompt template `name` with `vars`.
    pub fn prompt(&self, name: &str, vars: &BTreeMap<&str, String>) -> Prompt {
        self.run.prompts.render(name, vars)
    }

    /// Call the model of `role`; `round` is the 1-based review round or attempt, `fix` set
    /// when the call asks the drafter to fix a draft's sections.
    pub async fn call(
        &mut self,
        role: Role,
        round: u32,
        fix: Option<SectionFix>,
        prompt: Prompt,
    ) -> Result<Reply, PipelineError> {
        self.call_with(role, round, fix, None, prompt).await
    }

    /// Call the model of `role` with `workdir` as where an `agent:` program works, started
    /// as `contained` says.
    pub async fn call_in(
        &mut self,
        role: Role,
        round: u32,
        workdir: &Path,
        contained: Contained,
        prompt: Prompt,
    ) -> Result<Reply, PipelineError> {
        self.call_with(
            role,
            round,
            None,
            Some((workdir.to_path_buf(), contained)),
            prompt,
        )
        .await
    }

    async fn call_with(
        &mut self,
        role: Role,
        round: u32,
        fix: Option<SectionFix>,
        workdir: Option<(PathBuf, Contained)>,
        prompt: Prompt,
    ) -> Result<Reply, PipelineError> {
        let (workdir, contained) = match workdir {
            Some((dir, contained)) => (Some(dir), contained),
            None => (None, Contained::default()),
        };
        // A program (`cmd:`, `agent:`) runs as the user: the repository is checked after it
        // (its checkout too, unless the launcher kept the program off it).
        let kind = self.provider_kind(role);
        let checkout = !contained.keeps_off_checkout;
        let watched = match kind {
            Some(kind) if kind.is_program() => Some(self.watch(checkout)?),
            _ => None,
        };
        let call = Call {
            stage: self.stage,
            role,
            round,
            fix,
            issue: self.run.issue.number,
            workdir,
            contained,
            events: self.io.events,
            interrupt: self.io.interrupt,
        };
        let reply = self.run.models.call(call, prompt).await;
        if let Some(before) = watched {
            let model = self.model_label(role)?;
            let by = match kind {
                Some(ProviderKind::Agent) => ContainedBy::Agent { attempt: round },
                _ => ContainedBy::Model {
                    role,
                    model: model.clone(),
                    round,
                },
            };
            let changes = self.contain(before, by, checkout)?;
            // An agent's attempt fails for any change (the stage decides). A `cmd:` model
            // is refused for what had to be put back — git's refs, config, hooks, `info/`;
            // the user's checkout alone (its `HEAD`, index, files) changes under a person
            // at the keyboard as well, so that is said, and the stage's own checks (a
            // branch checked out, a branch moved) take it from there.
            let refused = match kind {
                Some(ProviderKind::Agent) => !changes.is_empty(),
                _ => changes.iter().any(|c| {
                    !matches!(
                        c.what,
                        ContainedWhat::Head | ContainedWhat::Index | ContainedWhat::File
                    )
                }),
            };
            if refused {
                return Err(PipelineError::Contained {
                    stage: self.stage,
                    role,
                    model,
                    changes,
                });
            }
        }
        reply
    }

    /// The user's repository now (checkout, hooks, config, `info/`, refs), to compare with
    /// after a program ran ([`StageContext::contain`]).
    ///
    /// When the last check found nothing, its snapshot still says how the repository is (the
    /// tool changes nothing of the user's between two programs; its own ref moves are
    /// recorded), and is taken again instead of a new one: one `git status` of the user's
    /// checkout per program, not two.
    ///
    /// `checkout` is whether the program could write the user's checkout: false for one the
    /// kernel kept off it ([`crate::pipeline::contain::Containment`] says which), whose check
    /// then reads only the git directory's part, `HEAD` and the index.
    pub fn watch(&mut self, checkout: bool) -> Result<Snapshot, PipelineError> {
        match self.unchanged.take() {
            Some(snapshot) if snapshot.has_checkout() || !checkout => Ok(snapshot),
            _ if checkout => Ok(self.run.session.repo.snapshot()?),
            _ => Ok(self.run.session.repo.snapshot_git_dir()?),
        }
    }

    /// What a program changed in the user's repository since `before`: undone where it can
    /// be, and said in a `contained` event. Empty when nothing changed.
    /// `checkout` as for [`StageContext::watch`].
    pub fn contain(
        &mut self,
        before: Snapshot,
        by: ContainedBy,
        checkout: bool,
    ) -> Result<Vec<ContainedChange>, PipelineError> {
        let found = self.run.session.repo.contain_with(&before, checkout)?;
        if found.is_empty() {
            self.unchanged = Some(before);
            return Ok(Vec::new());
        }
        let changes: Vec<ContainedChange> = found.into_iter().map(contained_change).collect();
        self.emit(Event::Contained {
            stage: self.stage,
            by,
            changes: changes.clone(),
        });
        Ok(changes)
    }

    /// The kind of provider playing `role` (an `agent:` implementer edits files itself).
    pub fn provider_kind(&self, role: Role) -> Option<ProviderKind> {
        self.run
            .models
            .chosen(self.stage, role)
            .map(|chosen| chosen.spec.kind)
    }

    /// How this run contains tests and agents: decided now (the machine probed), or the
    /// refusal of `sandbox.mode = "required"` where it cannot be met.
    pub fn containment(
        &self,
    ) -> impl std::future::Future<Output = Result<Containment, PipelineError>> + Send + 'static
    {
        let config = self.run.session.config.sandbox.clone();
        let env = self.run.session.env.clone();
        let repo = &self.run.session.repo;
        let checkout = repo
            .workdir()
            .map(|root| (root.to_path_buf(), repo.common_dir().to_path_buf()));
        async move {
            let checkout = checkout.as_ref().map(|(r, g)| (r.as_path(), g.as_path()));
            Containment::decide(&config, &env, checkout).await
        }
    }

    /// Where the repository's objects are (an agent's commits write there).
    pub fn objects_dir(&self) -> PathBuf {
        self.run.session.repo.common_dir().join("objects")
    }

    /// The test command (configured, else detected at `commit`).
    pub fn test_command(&self, commit: ObjectId) -> Option<TestCommand> {
        let session = &self.run.session;
        test_command(&session.config, &session.repo, &session.env, commit)
    }

    /// Bring the base branch onto the issue branch before impl ([`super::base`]): while the
    /// branch holds only documents, they are carried onto the base's tip; with code, the base
    /// is merged in under `--update-base`. `continuing` is the code without the change when
    /// the stage goes on from earlier code. Returns the code without the change when the
    /// branch moved ([`StageContext::head`] is then the merge).
    pub fn catch_up_with_base(
        &mut self,
        continuing: Option<ObjectId>,
    ) -> Result<Option<ObjectId>, PipelineError> {
        let run = &mut *self.run;
        let moved = base::catch_up(
            CatchUp {
                session: &run.session,
                branch: &mut run.branch,
                issue: run.issue.number,
                base: run.pr_base.as_deref(),
                update: run.update_base,
                continuing,
            },
            self.io.events,
        )?;
        if moved.is_some() {
            // What prompts say of the repository describes the code the branch now has.
            run.repo_context = None;
        }
        Ok(moved)
    }

    /// The commit the branch is at (its base before the first commit).
    pub fn head(&self) -> ObjectId {
        self.run.branch.head()
    }

    /// `commit`'s message and trailers.
    pub fn commit_info(&self, commit: ObjectId) -> Result<crate::git::CommitInfo, PipelineError> {
        Ok(self.run.session.repo.commit_info(commit)?)
    }

    /// The bytes of `path` in `commit`, if it is a file there.
    pub fn read_at(&self, commit: ObjectId, path: &str) -> Result<Option<Vec<u8>>, PipelineError> {
        Ok(self.run.session.repo.read_file(commit, path)?)
    }

    /// `path` as it is in `commit`, as the change that puts it back: content and mode, or a
    /// delete when it is not there.
    pub fn entry_at(&self, commit: ObjectId, path: &str) -> Result<FileChange, PipelineError> {
        Ok(self.run.session.repo.entry_at(commit, path)?)
    }

    /// The files that differ between two commits.
    pub fn commit_changes(
        &self,
        from: ObjectId,
        to: ObjectId,
    ) -> Result<Vec<FileChange>, PipelineError> {
        Ok(self.run.session.repo.commit_changes(from, to)?)
    }

    /// The tree id of `commit`, which names its content for caches.
    pub fn tree_id(&self, commit: ObjectId) -> Result<ObjectId, PipelineError> {
        Ok(self.run.session.repo.tree_id(commit)?)
    }

    /// A directory for this stage's caches under the local state directory.
    pub fn cache_dir(&self, name: &str) -> PathBuf {
        self.run.session.state.root().join("cache").join(name)
    }

    /// The issue's worktree at the branch head, made or reset as needed, and ready to write
    /// in: its clean marker is gone ([`Worktree::begin_work`]), so if this run is killed the
    /// next one takes what it finds for this run's work. Changes found there (left by a run
    /// that was stopped, or written or staged there outside any run) are saved under the
    /// local state directory first, and said: the tests and the implementer never see them.
    pub fn prepare_worktree(&mut self) -> Result<Worktree, PipelineError> {
        let session = &self.run.session;
        let issue = self.run.issue.number;
        let prepared = session.repo.issue_worktree(issue, self.run.branch.head())?;
        prepared.worktree.begin_work()?;
        let recovered = if prepared.recovered.is_empty() {
            None
        } else {
            let whose = match prepared.outside_run {
                true => "made outside any run: by hand, or by another program",
                false => "a run that was stopped",
            };
            let message = format!(
                "Changes found in the worktree of #{issue} ({whose}), saved before it was reset.\n"
            );
            let saved = recovery::save(
                session,
                issue,
                "impl-worktree",
                &prepared.recovered,
                &message,
            )?;
            for redaction in saved.redacted {
                self.io.events.emit(Event::Redacted(redaction));
            }
            Some(saved.path)
        };
        self.emit(Event::Worktree {
            issue,
            path: prepared.worktree.path().to_path_buf(),
            created: prepared.created,
            recovered,
            outside_run: prepared.outside_run,
        });
        Ok(prepared.worktree)
    }

    /// What is in `worktree` now, compared with `base`: every changed, added and deleted
    /// path, commits made inside it included.
    pub fn worktree_changes(
        &self,
        worktree: &Worktree,
        base: ObjectId,
    ) -> Result<Vec<FileChange>, PipelineError> {
        Ok(worktree.changes(&self.run.session.repo, base)?)
    }

    /// [`StageContext::worktree_changes`], with the `git status` they came from (for
    /// [`StageContext::reset_worktree_after`]).
    pub fn worktree_read(
        &self,
        worktree: &Worktree,
        base: ObjectId,
    ) -> Result<git::Read, PipelineError> {
        Ok(worktree.read(&self.run.session.repo, base)?)
    }

    /// The changes at `paths` only (what a text implementer's edits wrote), compared with
    /// `base`: no other file of the worktree is looked at.
    pub fn worktree_changes_in(
        &self,
        worktree: &Worktree,
        base: ObjectId,
        paths: &[String],
    ) -> Result<Vec<FileChange>, PipelineError> {
        Ok(worktree.changes_in(&self.run.session.repo, base, paths)?)
    }

    /// Write `change` into `worktree` (content and mode, or the path removed).
    pub fn put(&self, worktree: &Worktree, change: &FileChange) -> Result<(), PipelineError> {
        Ok(worktree.put(change)?)
    }

    /// Keep a copy of `files` under the local state's `recovered/` folder while the worktree
    /// holds something else, so a run killed meanwhile loses nothing; the caller removes the
    /// folder it returns once the files are back. `None` when there is nothing to keep.
    pub fn keep_aside(
        &self,
        label: &str,
        files: &[FileChange],
        message: &str,
    ) -> Result<Option<PathBuf>, PipelineError> {
        if files.is_empty() {
            return Ok(None);
        }
        let saved = recovery::save(
            &self.run.session,
            self.run.issue.number,
            label,
            files,
            message,
        )?;
        Ok(Some(saved.path))
    }

    /// Put `worktree` back at `commit`, exactly, and mark it clean there: call
    /// [`Worktree::begin_work`] before anything writes in it again.
    pub fn reset_worktree(
        &self,
        worktree: &Worktree,
        commit: ObjectId,
    ) -> Result<(), PipelineError> {
        Ok(worktree.reset(&self.run.session.repo, commit)?)
    }

    /// [`StageContext::reset_worktree`] from `read`, when nothing has written in the worktree
    /// since (see [`Worktree::reset_after`]).
    pub fn reset_worktree_after(
        &self,
        worktree: &Worktree,
        commit: ObjectId,
        read: &git::Read,
    ) -> Result<(), PipelineError> {
        Ok(worktree.reset_after(&self.run.session.repo, commit, read)?)
    }

    /// The environment the test command runs in: the user's, minus every credential, with
    /// `CI=true` unless set (test runners then never wait for a terminal: jest's watch mode).
    pub fn test_environment(&self, allowed: &[String]) -> Vec<(OsString, OsString)> {
        let session = &self.run.session;
        let keys: Vec<String> = session
            .config
            .providers
            .values()
            .filter_map(|p| p.api_key_env.clone())
            .collect();
        let mut vars = crate::testing::test_environment(&session.env, &keys, allowed).0;
        if !vars.iter().any(|(name, _)| name == "CI") {
            vars.push(("CI".into(), "true".into()));
        }
        vars
    }

    /// Ctrl-C, for work that is not a model call (see [`interruptible`]).
    pub fn interrupt(&self) -> &'a Interrupt {
        self.io.interrupt
    }

    /// What this stage spent since its last commit, for the next commit's trailers.
    pub fn take_spend(&mut self) -> Spent {
        self.run.models.take_spend(self.stage)
    }

    /// Commit `files` on the issue branch.
    /// Commit `files` with `message`, which gets the stage's `Orchestrate-Input`: what the
    /// stage was made from, as the branch holds it now (see `pipeline::stale`).
    pub fn commit(
        &mut self,
        files: &[FileChange],
        message: &Message,
    ) -> Result<ObjectId, PipelineError> {
        let mut message = message.clone();
        if let Some(hash) = self.input_hash()? {
            message.trailer(TRAILER_INPUT, hash);
        }
        self.run
            .commit(self.stage.name(), files, &message, self.io.events)
    }

    /// The hash of this stage's inputs at the branch head.
    fn input_hash(&self) -> Result<Option<String>, PipelineError> {
        let run = &self.run;
        let issue_text = run.issue.input_text();
        let cx = InputContext {
            repo: &run.session.repo,
            config: &run.session.config,
            prompts: &run.prompts,
            issue: run.issue.number,
            issue_text: Some(&issue_text),
        };
        let model = |role| {
            run.models
                .has(self.stage, role)
                .then(|| run.models.label(self.stage, role).ok())
                .flatten()
        };
        Ok(Inputs::of(self.stage, run.branch.head(), &cx, &model)?
            .map(|i| i.hash(&run.session.repo)))
    }

    pub fn emit(&self, event: Event) {
        self.io.events.emit(event);
    }

    /// The issue branch's name.
    pub fn branch_name(&self) -> &str {
        &self.run.branch.name
    }

    /// The `[github]` settings.
    pub fn github_settings(&self) -> GithubConfig {
        self.run.session.config.github.clone()
    }

    /// The branch a pull request goes into.
    pub fn pr_base(&self) -> Option<String> {
        self.run.pr_base.clone()
    }

    /// Connect to the repository pull requests are opened on, unless the run already is (it
    /// connects before calling any model when it can tell it will reach the pull request).
    pub async fn connect_github(&mut self) -> Result<(), PipelineError> {
        let target = super::github::target(&self.run.session, None)?;
        if self
            .run
            .github
            .as_ref()
            .is_some_and(|c| c.forge().repo() == &target.repo)
        {
            return Ok(());
        }
        let connection = super::github::connect(&mut self.run.session, target, self.io).await?;
        self.run.github = Some(connection);
        Ok(())
    }

    /// GitHub, once [`StageContext::connect_github`] connected.
    pub fn github(&self) -> Result<GitHubCall<'_>, PipelineError> {
        match &self.run.github {
            Some(connection) => Ok(GitHubCall::new(connection, self.io)),
            None => Err(PipelineError::WrongSettings { stage: self.stage }),
        }
    }

    /// The GitHub repository behind `remote`, by its configured URL.
    pub fn remote_repo(&self, remote: &str) -> Result<RepoId, PipelineError> {
        super::github::remote_repo(&self.run.session, remote)
    }

    /// Push `commit` to `remote` as the issue branch: never forced, within
    /// `github.push_timeout`, raced against Ctrl-C; said before and after.
    pub async fn push(&mut self, remote: &str, commit: ObjectId) -> Result<(), PipelineError> {
        let (options, skipped) = super::push::options(&self.run.session);
        if let Some(skipped) = skipped
            && !self.run.push_hooks_skipped
        {
            self.run.push_hooks_skipped = true;
            self.emit(skipped);
        }
        let branch = &self.run.branch.name;
        let timeout = self.run.session.config.github.push_timeout;
        self.emit(Event::Pushing {
            remote: remote.to_string(),
            branch: branch.clone(),
            commit: commit.short(),
        });
        let push = self
            .run
            .session
            .repo
            .push(remote, commit, branch, timeout, &options);
        let pushed = interruptible(self.io.interrupt, push).await??;
        self.emit(Event::Pushed {
            remote: remote.to_string(),
            branch: branch.clone(),
            commit: commit.short(),
            up_to_date: pushed.up_to_date,
        });
        Ok(())
    }

    /// Where the issue stands now, read from the branch again (after this run's commits).
    pub fn current_state(&self) -> Result<IssueState, PipelineError> {
        let session = &self.run.session;
        let issue = self.run.issue.number;
        match self.run.branch.tip {
            Some(tip) => Ok(IssueState::load(
                &session.repo,
                tip,
                &session.config,
                issue,
                None,
            )?),
            None => Ok(IssueState::empty(&session.config, issue)),
        }
    }

    /// `text` with every credential this run knows removed.
    pub fn redact(&self, text: &str) -> String {
        self.run.session.redactor.clean(text)
    }

    /// Remove the issue's worktree (its work is on the branch). Changes found there that no
    /// commit has (made by hand while the issue waited at a gate, say) are saved under the
    /// local state directory first, and said; when they cannot be, the worktree is kept, and
    /// that is said.
    pub fn remove_worktree(&self) -> Result<(), PipelineError> {
        let session = &self.run.session;
        let issue = self.run.issue.number;
        let message = format!(
            "Changes found in the worktree of #{issue} that no commit has, saved before it was removed after the pull request was opened.\n"
        );
        let at = Some(self.run.branch.head());
        let recovered = match recovery::save_worktree(session, issue, at, "pr-worktree", &message) {
            Ok(saved) => saved,
            Err(error) => {
                self.emit(Event::Warning(Warning::WorktreeKept {
                    path: session.repo.issue_worktree_path(issue),
                    error: crate::error_chain::chain(&error),
                }));
                return Ok(());
            }
        };
        let recovered = recovered.map(|saved| {
            for redaction in saved.redacted {
                self.io.events.emit(Event::Redacted(redaction));
            }
            saved.path
        });
        if session.repo.remove_issue_worktree(issue)? {
            self.emit(Event::WorktreeRemoved { issue, recovered });
        }
        Ok(())
    }
}
