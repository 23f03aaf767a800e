//! Calling models from a run: building each model's client once, racing every call against
//! Ctrl-C, and keeping a transcript of every exchange under the local state directory.

use std::rc::Rc;
use std::time::Instant;

use super::PipelineError;
use super::events::Event;
use super::grounding::RepoContext;
use super::plan::{Action, Step};
use super::run::Run;
use super::stage::Stage;
use crate::config::ModelSpec;
use crate::llm::{self, ModelHandle, Prompt, Reply, Request, RetryNotice, Role};

impl Run<'_> {
    /// The model configured for `role` in `stage`, if any.
    pub fn model_spec(&self, stage: Stage, role: Role) -> Option<&ModelSpec> {
        let config = &self.session.config;
        match (stage, role) {
            (Stage::Triage, Role::Triage) => config.triage.drafter.as_ref(),
            (Stage::Lld, Role::Drafter) => config.lld.drafter.as_ref(),
            (Stage::Lld, Role::Reviewer) => config.lld.reviewer.as_ref(),
            (Stage::Spec, Role::Drafter) => config.spec.drafter.as_ref(),
            (Stage::Spec, Role::Reviewer) => config.spec.reviewer.as_ref(),
            (Stage::Impl, Role::Implementer) => config.implement.implementer.as_ref(),
            _ => None,
        }
    }

    /// The roles a stage calls, and whether each is required.
    pub(super) fn roles(stage: Stage) -> &'static [(Role, bool)] {
        match stage {
            Stage::Triage => &[(Role::Triage, false)],
            Stage::Lld | Stage::Spec => &[(Role::Drafter, true), (Role::Reviewer, true)],
            Stage::Impl => &[(Role::Implementer, true)],
            Stage::Pr => &[],
        }
    }

    /// Every model the planned stages need, built before anything is called or committed.
    pub(super) fn check_models(&self, steps: &[Step]) -> Result<(), PipelineError> {
        for step in steps.iter().filter(|s| matches!(s.action, Action::Run(_))) {
            for (role, required) in Run::roles(step.stage) {
                match self.model_spec(step.stage, *role) {
                    Some(_) => {
                        self.model(step.stage, *role)?;
                    }
                    None if *required => {
                        return Err(PipelineError::NoModel {
                            stage: step.stage,
                            role: *role,
                        });
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// The client for `role` in `stage`, built on first use.
    pub fn model(&self, stage: Stage, role: Role) -> Result<Rc<ModelHandle>, PipelineError> {
        if let Some(model) = self.models.borrow().get(&(stage, role)) {
            return Ok(model.clone());
        }
        let spec = self
            .model_spec(stage, role)
            .ok_or(PipelineError::NoModel { stage, role })?;
        let provider = self
            .session
            .config
            .providers
            .get(&spec.provider)
            .cloned()
            .ok_or_else(|| PipelineError::ModelSetup {
                stage,
                role,
                model: spec.label(),
                source: llm::LlmError::Unsupported {
                    provider: spec.provider.clone(),
                },
            })?;
        let handle = llm::build(spec, &provider, &self.model_ctx).map_err(|source| {
            PipelineError::ModelSetup {
                stage,
                role,
                model: spec.label(),
                source,
            }
        })?;
        let handle = Rc::new(handle);
        self.models
            .borrow_mut()
            .insert((stage, role), handle.clone());
        Ok(handle)
    }

    /// The repository context for prompts, read once per run from the branch's head.
    pub fn repo_context(&self) -> Result<String, PipelineError> {
        if let Some(text) = self.context.borrow().as_ref() {
            return Ok(text.clone());
        }
        let text = RepoContext::read(&self.session.repo, self.branch.head())?.render();
        *self.context.borrow_mut() = Some(text.clone());
        Ok(text)
    }

    /// Call a model, racing Ctrl-C; the exchange is kept as a transcript either way.
    pub async fn call(
        &self,
        stage: Stage,
        role: Role,
        round: u32,
        prompt: Prompt,
    ) -> Result<Reply, PipelineError> {
        let model = self.model(stage, role)?;
        let label = model.label();
        let events = self.io.events;
        events.emit(Event::ModelStarted {
            stage,
            role,
            model: label.clone(),
            round,
        });
        let request = Request {
            prompt,
            role,
            stage: stage.name().to_string(),
            issue: self.issue.number,
            round,
        };
        let notice = |n: RetryNotice| {
            events.emit(Event::ModelRetrying {
                stage,
                role,
                model: label.clone(),
                attempt: n.attempt,
                attempts: n.attempts,
                error: n.error.to_string(),
                class: n.error.class(),
                delay_ms: n.delay.as_millis() as u64,
            })
        };
        let started = Instant::now();
        let outcome = tokio::select! {
            result = model.call(&request, &notice) => Some(result),
            _ = self.io.interrupt.triggered() => None,
        };
        self.save_transcript(stage, role, round, &label, &request.prompt.text, &outcome);
        match outcome {
            None => Err(PipelineError::Interrupted),
            Some(Err(source)) => Err(PipelineError::Model {
                stage,
                role,
                model: label,
                source,
            }),
            Some(Ok(reply)) => {
                events.emit(Event::ModelFinished {
                    stage,
                    role,
                    model: label,
                    round,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    usage: reply.usage,
                });
                Ok(reply)
            }
        }
    }

    fn save_transcript(
        &self,
        stage: Stage,
        role: Role,
        round: u32,
        model: &str,
        prompt: &str,
        outcome: &Option<Result<Reply, llm::LlmError>>,
    ) {
        let seq = self.calls.get() + 1;
        self.calls.set(seq);
        let error;
        let reply = match outcome {
            Some(Ok(reply)) => Ok(reply.text.as_str()),
            Some(Err(e)) => {
                error = e.to_string();
                Err(error.as_str())
            }
            None => Err("interrupted"),
        };
        let name = format!("{seq:02}-{stage}-{}-round{round}", role.name());
        if let Err(e) =
            self.session
                .state
                .save_transcript(&self.transcripts, &name, model, prompt, reply)
        {
            self.io.events.emit(Event::Warning {
                message: format!(
                    "could not save the model transcript in {}: {e}",
                    self.transcripts.display()
                ),
            });
        }
    }
}
