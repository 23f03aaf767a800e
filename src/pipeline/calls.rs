//! Calling models from a run: choosing each role's model (configured, or a zero-config
//! default), building its client once, checking the budget before every call, racing every
//! call against Ctrl-C, recording what each attempt cost, and keeping a transcript of every
//! exchange under the local state directory.

use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::PipelineError;
use super::events::Event;
use super::events::EventSink;
use super::grounding::RepoContext;
use super::plan::{Action, Step};
use super::run::Run;
use super::spend::{Ledger, Spent};
use super::stage::Stage;
use crate::config::ModelSpec;
use crate::llm::{
    self, CallObserver, ModelHandle, Prompt, Reply, Request, RetryNotice, Role, Usage,
};

/// How often streamed progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A role's model, and why it was chosen when configuration did not name it.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub spec: ModelSpec,
    /// `None` when configured; else why the default was chosen.
    pub why: Option<String>,
}

impl Run<'_> {
    /// The model for `role` in `stage`: configured, else the zero-config default.
    pub fn model_spec(&self, stage: Stage, role: Role) -> Option<Chosen> {
        let config = &self.session.config;
        let configured = match (stage, role) {
            (Stage::Triage, Role::Triage) => config.triage.drafter.as_ref(),
            (Stage::Lld, Role::Drafter) => config.lld.drafter.as_ref(),
            (Stage::Lld, Role::Reviewer) => config.lld.reviewer.as_ref(),
            (Stage::Spec, Role::Drafter) => config.spec.drafter.as_ref(),
            (Stage::Spec, Role::Reviewer) => config.spec.reviewer.as_ref(),
            (Stage::Impl, Role::Implementer) => config.implement.implementer.as_ref(),
            _ => None,
        };
        if let Some(spec) = configured {
            return Some(Chosen {
                spec: spec.clone(),
                why: None,
            });
        }
        let defaults = self.defaults.as_ref()?.as_ref().ok()?;
        let (drafter, reviewer) = defaults.specs();
        match (stage, role) {
            (Stage::Lld | Stage::Spec, Role::Drafter) => Some(Chosen {
                spec: drafter,
                why: Some(defaults.drafter.why.clone()),
            }),
            (Stage::Lld | Stage::Spec, Role::Reviewer) => Some(Chosen {
                spec: reviewer,
                why: Some(defaults.reviewer.why.clone()),
            }),
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

    /// Every model the planned stages need, built (keys found, prices known when a budget is
    /// set) before anything is called or committed.
    pub(super) fn check_models(&self, steps: &[Step]) -> Result<(), PipelineError> {
        for step in steps.iter().filter(|s| matches!(s.action, Action::Run(_))) {
            for (role, required) in Run::roles(step.stage) {
                match self.model_spec(step.stage, *role) {
                    Some(_) => {
                        let model = self.model(step.stage, *role)?;
                        self.check_price(step.stage, *role, &model)?;
                    }
                    None if *required => {
                        if let Some(Err(message)) = &self.defaults {
                            return Err(PipelineError::NoDefaults {
                                message: message.clone(),
                            });
                        }
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

    /// With a budget, every model must have a known price: an unknown one is not $0.
    fn check_price(
        &self,
        stage: Stage,
        role: Role,
        model: &ModelHandle,
    ) -> Result<(), PipelineError> {
        let ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        if ledger.budget().is_set() && ledger.book().price(&model.spec).is_none() {
            return Err(PipelineError::NoPrice {
                stage,
                role,
                model: model.label(),
            });
        }
        Ok(())
    }

    /// The client for `role` in `stage`, built on first use.
    pub fn model(&self, stage: Stage, role: Role) -> Result<Rc<ModelHandle>, PipelineError> {
        if let Some(model) = self.models.borrow().get(&(stage, role)) {
            return Ok(model.clone());
        }
        let chosen = self
            .model_spec(stage, role)
            .ok_or(PipelineError::NoModel { stage, role })?;
        let spec = chosen.spec;
        let setup = |source| PipelineError::ModelSetup {
            stage,
            role,
            model: spec.label(),
            source,
        };
        let provider = self
            .session
            .config
            .providers
            .get(&spec.provider)
            .cloned()
            .ok_or_else(|| {
                setup(llm::LlmError::Unsupported {
                    provider: spec.provider.clone(),
                })
            })?;
        let handle = Rc::new(llm::build(&spec, &provider, &self.model_ctx).map_err(setup)?);
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

    /// What `stage` spent since its last commit, for the next commit's trailers.
    pub fn take_spend(&self, stage: Stage) -> Spent {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_pending(stage)
    }

    /// Call a model, racing Ctrl-C; the exchange is kept as a transcript either way.
    pub async fn call(
        &self,
        stage: Stage,
        role: Role,
        round: u32,
        prompt: Prompt,
    ) -> Result<Reply, PipelineError> {
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(stage)
            .map_err(|over| PipelineError::OverBudget {
                stage,
                message: over.message,
            })?;
        let model = self.model(stage, role)?;
        let label = model.label();
        self.io.events.emit(Event::ModelStarted {
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
        let observer = Observer {
            events: self.io.events,
            ledger: &self.ledger,
            stage,
            role,
            spec: &model.spec,
            label: &label,
            last_progress: Mutex::new(None),
            call: Mutex::new(Spent::default()),
        };
        let started = Instant::now();
        let outcome = tokio::select! {
            result = model.call(&request, &observer) => Some(result),
            _ = self.io.interrupt.triggered() => None,
        };
        self.save_transcript(stage, role, round, &label, &request.prompt.text, &outcome);
        let spent = *observer.call.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            None => Err(PipelineError::Interrupted),
            Some(Err(source)) => Err(PipelineError::Model {
                stage,
                role,
                model: label,
                source,
            }),
            Some(Ok(reply)) => {
                self.io.events.emit(Event::ModelFinished {
                    stage,
                    role,
                    model: label,
                    round,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    usage: spent.usage(),
                    cost_usd: spent.cost(),
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

/// Hears one call: progress to the renderer (at most every [`PROGRESS_EVERY`]), retries, and
/// every attempt's usage into the ledger.
struct Observer<'r> {
    events: &'r dyn EventSink,
    ledger: &'r Mutex<Ledger>,
    stage: Stage,
    role: Role,
    spec: &'r ModelSpec,
    label: &'r str,
    last_progress: Mutex<Option<Instant>>,
    call: Mutex<Spent>,
}

impl CallObserver for Observer<'_> {
    fn progress(&self, tokens: u64) {
        let mut last = self.last_progress.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        self.events.emit(Event::ModelProgress {
            stage: self.stage,
            role: self.role,
            tokens,
        });
    }

    fn retrying(&self, notice: &RetryNotice<'_>) {
        self.events.emit(Event::ModelRetrying {
            stage: self.stage,
            role: self.role,
            model: self.label.to_string(),
            attempt: notice.attempt,
            attempts: notice.attempts,
            error: notice.error.to_string(),
            class: notice.error.class(),
            delay_ms: notice.delay.as_millis() as u64,
        });
    }

    fn spent(&self, usage: Usage) {
        let usd = self
            .ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(self.stage, self.spec, usage);
        let mut call = self.call.lock().unwrap_or_else(|e| e.into_inner());
        call.usage.add(usage);
        call.reported = true;
        match usd {
            Some(usd) => call.usd += usd,
            None => call.unpriced = true,
        }
    }
}
