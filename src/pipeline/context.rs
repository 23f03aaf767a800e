//! What a stage may do: the narrow interface between the run loop and the stages.
//!
//! A stage reads artifacts from the branch, renders prompts, calls the models of its roles,
//! commits, and reports events — through a [`StageContext`], and nothing else. It does not see
//! the run loop, the plan, gates or other stages' models, and it never calls back into the
//! loop: it returns how it ended, and the loop decides what comes next.

use std::collections::{BTreeMap, BTreeSet};

use super::PipelineError;
use super::Session;
use super::branch::{IssueBranch, IssueState, Message, StageRecord};
use super::events::{Event, EventSink, SectionFix};
use super::grounding::RepoContext;
use super::io::RunIo;
use super::models::{Call, Models};
use super::prompts::Prompts;
use super::spend::Spent;
use crate::config::StageConfig;
use crate::git::{FileChange, ObjectId};
use crate::issue::Issue;
use crate::llm::{Prompt, Reply};
use crate::stage::{Role, Stage};

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

/// One stage's view of the run.
pub struct StageContext<'a> {
    stage: Stage,
    run: &'a mut RunState,
    io: &'a RunIo<'a>,
}

impl<'a> StageContext<'a> {
    pub fn new(stage: Stage, run: &'a mut RunState, io: &'a RunIo<'a>) -> StageContext<'a> {
        StageContext { stage, run, io }
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
        Ok(vars)
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
        let call = Call {
            stage: self.stage,
            role,
            round,
            fix,
            issue: self.run.issue.number,
            events: self.io.events,
            interrupt: self.io.interrupt,
        };
        self.run.models.call(call, prompt).await
    }

    /// What this stage spent since its last commit, for the next commit's trailers.
    pub fn take_spend(&mut self) -> Spent {
        self.run.models.take_spend(self.stage)
    }

    /// Commit `files` on the issue branch.
    pub fn commit(
        &mut self,
        files: &[FileChange],
        message: &Message,
    ) -> Result<ObjectId, PipelineError> {
        self.run
            .commit(self.stage.name(), files, message, self.io.events)
    }

    pub fn emit(&self, event: Event) {
        self.io.events.emit(event);
    }
}
