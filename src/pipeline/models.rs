//! The models of one run: which model plays each role of each stage (configured, else a
//! zero-config default, chosen once), each client built before anything is called, the budget
//! checked before every call (and a reply that reported no usage recorded as such), every call raced against Ctrl-C, what each attempt cost
//! recorded, and a transcript of every exchange kept under the local state directory.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::PipelineError;
use super::events::{Event, EventSink, Redaction, SectionFix, Warning};
use super::interrupt::Interrupt;
use super::local::Transcripts;
use super::plan::{Planned, Step};
use super::spend::{Ledger, Spent};
use crate::config::{Config, ModelSpec};
use crate::llm::defaults::{self, Defaults};
use crate::llm::{
    self, CallObserver, ModelContext, ModelHandle, Prompt, Reply, Request, RetryNotice, Usage,
};
use crate::stage::{Role, Stage};

/// How often streamed progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A role's model, and why it was chosen when configuration did not name it.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub spec: ModelSpec,
    /// `None` when configured; else why the default was chosen.
    pub why: Option<String>,
}

/// The models of one run.
pub struct Models {
    chosen: BTreeMap<(Stage, Role), Chosen>,
    handles: BTreeMap<(Stage, Role), ModelHandle>,
    /// Why no default could be chosen, when a role that runs needed one.
    no_defaults: Option<String>,
    ctx: ModelContext,
    ledger: Ledger,
    transcripts: Option<Transcripts>,
}

impl Models {
    /// Choose a model for every role of the stages that will run: the configured one, else
    /// a zero-config default (looked for only when some role needs one).
    pub async fn choose(
        config: &Config,
        plan: &[Planned],
        ctx: ModelContext,
        ledger: Ledger,
    ) -> Models {
        let running = || plan.iter().filter(|p| matches!(p.step, Step::Run(_)));
        let needs_default = running().any(|p| {
            p.stage
                .roles()
                .iter()
                .any(|(role, _)| config.stage(p.stage).model(*role).is_none())
                && (p.stage.is_reviewed() || p.stage == Stage::Impl)
        });
        let defaults = match needs_default {
            true => Some(look_for_defaults(config, &ctx).await),
            false => None,
        };
        let mut chosen = BTreeMap::new();
        for planned in running() {
            for (role, _) in planned.stage.roles() {
                let pick = match config.stage(planned.stage).model(*role) {
                    Some(spec) => Some(Chosen {
                        spec: spec.clone(),
                        why: None,
                    }),
                    None => default_for(planned.stage, *role, defaults.as_ref()),
                };
                if let Some(pick) = pick {
                    chosen.insert((planned.stage, *role), pick);
                }
            }
        }
        Models {
            chosen,
            handles: BTreeMap::new(),
            no_defaults: defaults.and_then(Result::err),
            ctx,
            ledger,
            transcripts: None,
        }
    }

    /// The model chosen for `role` in `stage`, if any.
    pub fn chosen(&self, stage: Stage, role: Role) -> Option<&Chosen> {
        self.chosen.get(&(stage, role))
    }

    /// Build every chosen model (keys found, prices known when a budget is set), and make
    /// sure every required role has one, before anything is called or committed.
    pub fn build(&mut self, config: &Config, plan: &[Planned]) -> Result<(), PipelineError> {
        for planned in plan.iter().filter(|p| matches!(p.step, Step::Run(_))) {
            let stage = planned.stage;
            for (role, required) in stage.roles() {
                let Some(chosen) = self.chosen.get(&(stage, *role)) else {
                    if !required {
                        continue;
                    }
                    // Nothing was found on this machine: the message names every role of the
                    // run that needs a model, whichever stages they are in.
                    if self.no_defaults.is_some() {
                        let missing = self.missing(plan);
                        let names: Vec<(&str, &str)> =
                            missing.iter().map(|(s, r)| (s.name(), r.name())).collect();
                        return Err(PipelineError::NoDefaults {
                            stage,
                            role: *role,
                            message: defaults::nothing_found_for(&names),
                        });
                    }
                    return Err(PipelineError::NoModel { stage, role: *role });
                };
                let spec = &chosen.spec;
                let setup = |source| PipelineError::ModelSetup {
                    stage,
                    role: *role,
                    model: spec.label(),
                    source,
                };
                let provider = config.providers.get(&spec.provider).ok_or_else(|| {
                    setup(llm::LlmError::Unsupported {
                        provider: spec.provider.clone(),
                    })
                })?;
                let handle = llm::build(spec, provider, &self.ctx).map_err(setup)?;
                if self.ledger.budget().is_set() {
                    let price = self.ledger.book().price(spec);
                    // A program never reports tokens: a per-token price would count $0.
                    if spec.kind.is_program() && !price.is_some_and(|p| p.is_free()) {
                        return Err(PipelineError::Unmetered {
                            stage,
                            role: *role,
                            model: spec.label(),
                        });
                    }
                    if price.is_none() {
                        return Err(PipelineError::NoPrice {
                            stage,
                            role: *role,
                            model: spec.label(),
                        });
                    }
                }
                self.handles.insert((stage, *role), handle);
            }
        }
        Ok(())
    }

    /// The required roles of the stages `plan` runs that no model was chosen for.
    fn missing(&self, plan: &[Planned]) -> Vec<(Stage, Role)> {
        plan.iter()
            .filter(|p| matches!(p.step, Step::Run(_)))
            .flat_map(|p| {
                p.stage
                    .roles()
                    .iter()
                    .map(move |(role, required)| (p.stage, *role, *required))
            })
            .filter(|(stage, role, required)| {
                *required && !self.chosen.contains_key(&(*stage, *role))
            })
            .map(|(stage, role, _)| (stage, role))
            .collect()
    }

    /// Keep transcripts of every exchange from now on.
    pub fn keep_transcripts(&mut self, transcripts: Transcripts) {
        self.transcripts = Some(transcripts);
    }

    /// Whether a model plays `role` in `stage`.
    pub fn has(&self, stage: Stage, role: Role) -> bool {
        self.handles.contains_key(&(stage, role))
    }

    /// The model as trailers record it (`anthropic:claude-opus-4-5`).
    pub fn label(&self, stage: Stage, role: Role) -> Result<String, PipelineError> {
        self.handles
            .get(&(stage, role))
            .map(ModelHandle::label)
            .ok_or(PipelineError::NoModel { stage, role })
    }

    /// What `stage` spent since its last commit, for the next commit's trailers.
    pub fn take_spend(&mut self, stage: Stage) -> Spent {
        self.ledger.take_pending(stage)
    }

    /// What this run spent on `stage`.
    pub fn run_spent(&self, stage: Stage) -> Spent {
        self.ledger.run_spent(stage)
    }

    /// What this run spent in all.
    pub fn run_total(&self) -> Spent {
        self.ledger.run_total()
    }

    /// Call a model, racing Ctrl-C. What every attempt cost is recorded, and the exchange is
    /// kept as a transcript, whatever the outcome.
    pub async fn call(&mut self, call: Call<'_>, prompt: Prompt) -> Result<Reply, PipelineError> {
        let Call {
            stage,
            role,
            round,
            fix,
            issue,
            workdir,
            contained,
            events,
            interrupt,
        } = call;
        self.ledger
            .check(stage)
            .map_err(|over| PipelineError::OverBudget {
                stage,
                message: over.message,
            })?;
        let model = self
            .handles
            .get(&(stage, role))
            .ok_or(PipelineError::NoModel { stage, role })?;
        let label = model.label();
        events.emit(Event::ModelStarted {
            stage,
            role,
            model: label.clone(),
            round,
            fix,
        });
        let request = Request {
            prompt,
            role,
            stage: stage.name().to_string(),
            issue,
            round,
            workdir,
            contained,
        };
        let observer = Observer {
            events,
            stage,
            role,
            label: &label,
            last_progress: Mutex::new(None),
            attempts: Mutex::new(Vec::new()),
        };
        let started = Instant::now();
        let outcome = tokio::select! {
            result = model.call(&request, &observer) => Some(result),
            _ = interrupt.triggered() => None,
        };
        let mut spent = Spent::default();
        let attempts = std::mem::take(&mut *observer.lock_attempts());
        for usage in attempts {
            spent.add(self.ledger.record(stage, &model.spec, usage));
        }
        if let Some(Ok(reply)) = &outcome
            && reply.usage.is_none_or(|u| u.is_zero())
        {
            self.ledger.unreported(stage, &model.spec);
        }
        self.save_transcript(
            stage,
            role,
            round,
            &label,
            &request.prompt.text,
            &outcome,
            events,
        );
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
                    fix,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    usage: spent.usage(),
                    cost_usd: spent.cost(),
                });
                Ok(reply)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn save_transcript(
        &mut self,
        stage: Stage,
        role: Role,
        round: u32,
        model: &str,
        prompt: &str,
        outcome: &Option<Result<Reply, llm::LlmError>>,
        events: &dyn EventSink,
    ) {
        let Some(transcripts) = self.transcripts.as_mut() else {
            return;
        };
        let error;
        let reply = match outcome {
            Some(Ok(reply)) => Ok(reply.text.as_str()),
            Some(Err(e)) => {
                error = e.to_string();
                Err(error.as_str())
            }
            None => Err("interrupted"),
        };
        let label = format!("{stage}-{role}-round{round}");
        match transcripts.save(&label, model, prompt, reply) {
            Ok((_, found)) if found.is_empty() => {}
            Ok((path, found)) => events.emit(Event::Redacted(Redaction {
                place: format!("the transcript {}", path.display()),
                found,
            })),
            Err(e) => events.emit(Event::Warning(Warning::TranscriptNotSaved {
                dir: transcripts.dir().to_path_buf(),
                error: e.to_string(),
            })),
        }
    }
}

/// Who is calling, and what to report to.
pub struct Call<'a> {
    pub stage: Stage,
    pub role: Role,
    /// 1-based review round or attempt.
    pub round: u32,
    /// Set when the call asks the drafter to fix a draft's missing sections.
    pub fix: Option<SectionFix>,
    pub issue: u64,
    /// Where an `agent:` implementer works.
    pub workdir: Option<std::path::PathBuf>,
    /// How an `agent:` implementer is contained.
    pub contained: crate::llm::Contained,
    pub events: &'a dyn EventSink,
    pub interrupt: &'a Interrupt,
}

async fn look_for_defaults(config: &Config, ctx: &ModelContext) -> Result<Defaults, String> {
    let found = defaults::look(&ctx.env, config.providers.get("ollama"), &ctx.http).await;
    defaults::choose(&found)
}

/// The zero-config model for a role nobody configured: the design stages' drafter and
/// reviewer, and the implementer (the drafter's model: the strongest one found).
fn default_for(
    stage: Stage,
    role: Role,
    defaults: Option<&Result<Defaults, String>>,
) -> Option<Chosen> {
    let defaults = defaults?.as_ref().ok()?;
    if !stage.is_reviewed() && stage != Stage::Impl {
        return None;
    }
    let choice = match role {
        Role::Drafter | Role::Implementer => &defaults.drafter,
        Role::Reviewer => &defaults.reviewer,
        _ => return None,
    };
    Some(Chosen {
        spec: choice.spec.clone(),
        why: Some(choice.why.clone()),
    })
}

/// Hears one call: progress to the renderer (at most every [`PROGRESS_EVERY`]), retries, and
/// every attempt's usage, which the caller records once the call is over.
struct Observer<'r> {
    events: &'r dyn EventSink,
    stage: Stage,
    role: Role,
    label: &'r str,
    last_progress: Mutex<Option<Instant>>,
    attempts: Mutex<Vec<Usage>>,
}

impl Observer<'_> {
    fn lock_attempts(&self) -> std::sync::MutexGuard<'_, Vec<Usage>> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }
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
        self.lock_attempts().push(usage);
    }
}
