//! Recording and replaying model exchanges, so that a user's bug report becomes a test.
//!
//! With `GIT_ORCHESTRATE_RECORD=DIR` every exchange (each attempt, failures included) is
//! written to `DIR` as one JSON file, with anything that looks like a credential removed.
//! With `GIT_ORCHESTRATE_REPLAY=DIR` the same run is served from those files and nothing goes
//! over the network; a call whose model, stage, role, round or prompt does not match the
//! recording is an error that says what differs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use super::{BoxFuture, CallObserver, FailureClass, LlmError, Model, Reply, Request, Usage};
use crate::config::ModelSpec;
use crate::env::Env;
use crate::redact::Redactor;

pub const RECORD_VAR: &str = "GIT_ORCHESTRATE_RECORD";
pub const REPLAY_VAR: &str = "GIT_ORCHESTRATE_REPLAY";

/// One exchange on tape.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Exchange {
    version: u32,
    model: String,
    stage: String,
    role: String,
    round: u32,
    issue: u64,
    prompt: String,
    outcome: Outcome,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Reply {
        text: String,
        usage: Option<Usage>,
    },
    Error {
        message: String,
        class: FailureClass,
        usage: Option<Usage>,
    },
}

enum Mode {
    Record {
        counter: AtomicU32,
    },
    Replay {
        tape: Mutex<Vec<(PathBuf, Exchange, bool)>>,
    },
}

/// The recording or replay of one run.
pub struct Tapes {
    dir: PathBuf,
    mode: Mode,
    redactor: Redactor,
}

impl Tapes {
    /// Recording or replaying, as the environment asks; `None` for neither.
    pub fn from_env(env: &Env, redactor: Redactor) -> Result<Option<Tapes>, LlmError> {
        let record = env.non_empty(RECORD_VAR);
        let replay = env.non_empty(REPLAY_VAR);
        match (record, replay) {
            (Some(_), Some(_)) => Err(LlmError::Replay {
                detail: format!("{RECORD_VAR} and {REPLAY_VAR} are both set; set one"),
            }),
            (Some(dir), None) => {
                let dir = PathBuf::from(dir);
                std::fs::create_dir_all(&dir).map_err(|e| LlmError::Replay {
                    detail: format!("cannot create {}: {e}", dir.display()),
                })?;
                let existing = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0) as u32;
                Ok(Some(Tapes {
                    dir,
                    mode: Mode::Record {
                        counter: AtomicU32::new(existing),
                    },
                    redactor,
                }))
            }
            (None, Some(dir)) => {
                let dir = PathBuf::from(dir);
                let tape = load(&dir)?;
                Ok(Some(Tapes {
                    dir,
                    mode: Mode::Replay {
                        tape: Mutex::new(tape.into_iter().map(|(p, e)| (p, e, false)).collect()),
                    },
                    redactor,
                }))
            }
            (None, None) => Ok(None),
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self.mode, Mode::Replay { .. })
    }

    /// `inner`, recorded or replaced by the replay.
    pub fn wrap(
        self: &std::sync::Arc<Self>,
        spec: &ModelSpec,
        inner: Box<dyn Model>,
    ) -> Box<dyn Model> {
        Box::new(Taped {
            tapes: self.clone(),
            label: spec.label(),
            inner,
        })
    }

    fn scrub(&self, text: &str) -> String {
        self.redactor.clean(text)
    }

    fn record(&self, exchange: &Exchange) {
        let Mode::Record { counter } = &self.mode else {
            return;
        };
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let name = format!(
            "{n:04}-{}-{}-round{}.json",
            exchange.stage, exchange.role, exchange.round
        );
        if let Ok(text) = serde_json::to_string_pretty(exchange) {
            let _ = std::fs::write(self.dir.join(name), text);
        }
    }

    fn replay(&self, label: &str, request: &Request) -> Result<Reply, LlmError> {
        let Mode::Replay { tape } = &self.mode else {
            return Err(LlmError::Replay {
                detail: "not replaying".into(),
            });
        };
        let mut tape = tape.lock().unwrap_or_else(|e| e.into_inner());
        let role = request.role.name();
        let found = tape.iter_mut().find(|(_, e, used)| {
            !used && e.stage == request.stage && e.role == role && e.round == request.round
        });
        let Some((path, exchange, used)) = found else {
            let left: Vec<String> = tape
                .iter()
                .filter(|(_, _, used)| !used)
                .map(|(_, e, _)| format!("{} {} round {}", e.stage, e.role, e.round))
                .collect();
            return Err(LlmError::Replay {
                detail: format!(
                    "no recording of {} {role} round {} in {} (unused recordings: {})",
                    request.stage,
                    request.round,
                    self.dir.display(),
                    if left.is_empty() {
                        "none".into()
                    } else {
                        left.join(", ")
                    }
                ),
            });
        };
        if exchange.model != label {
            return Err(LlmError::Replay {
                detail: format!(
                    "{} was recorded with {}, and this run uses {label}",
                    path.display(),
                    exchange.model
                ),
            });
        }
        let prompt = self.scrub(&request.prompt.text);
        if exchange.prompt != prompt {
            return Err(LlmError::Replay {
                detail: format!(
                    "the prompt of {} {role} round {} differs from {}: {}",
                    request.stage,
                    request.round,
                    path.display(),
                    first_difference(&exchange.prompt, &prompt)
                ),
            });
        }
        *used = true;
        match &exchange.outcome {
            Outcome::Reply { text, usage } => Ok(Reply {
                text: text.clone(),
                usage: *usage,
            }),
            Outcome::Error { message, class, .. } => Err(LlmError::Replayed {
                detail: message.clone(),
                class: *class,
            }),
        }
    }
}

/// A model whose exchanges go on tape (or come from it).
struct Taped {
    tapes: std::sync::Arc<Tapes>,
    label: String,
    inner: Box<dyn Model>,
}

impl Model for Taped {
    fn complete<'a>(
        &'a self,
        request: &'a Request,
        observer: &'a dyn CallObserver,
    ) -> BoxFuture<'a, Result<Reply, LlmError>> {
        Box::pin(async move {
            if self.tapes.is_replay() {
                return self.tapes.replay(&self.label, request);
            }
            let outcome = self.inner.complete(request, observer).await;
            let recorded = match &outcome {
                Ok(reply) => Outcome::Reply {
                    text: self.tapes.scrub(&reply.text),
                    usage: reply.usage,
                },
                Err(error) => Outcome::Error {
                    message: self.tapes.scrub(&error.to_string()),
                    class: error.class(),
                    usage: error.usage(),
                },
            };
            self.tapes.record(&Exchange {
                version: 1,
                model: self.label.clone(),
                stage: request.stage.clone(),
                role: request.role.name().to_string(),
                round: request.round,
                issue: request.issue,
                prompt: self.tapes.scrub(&request.prompt.text),
                outcome: recorded,
            });
            outcome
        })
    }
}

fn load(dir: &Path) -> Result<Vec<(PathBuf, Exchange)>, LlmError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LlmError::Replay {
        detail: format!("cannot read {}: {e}", dir.display()),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut tape = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| LlmError::Replay {
            detail: format!("cannot read {}: {e}", path.display()),
        })?;
        let exchange: Exchange = serde_json::from_str(&text).map_err(|e| LlmError::Replay {
            detail: format!("{} is not a recording: {e}", path.display()),
        })?;
        tape.push((path, exchange));
    }
    if tape.is_empty() {
        return Err(LlmError::Replay {
            detail: format!("{} holds no recordings", dir.display()),
        });
    }
    Ok(tape)
}

/// Values of variables that look like credentials, to keep them off tape.
fn first_difference(recorded: &str, now: &str) -> String {
    for (line, (a, b)) in (1..).zip(recorded.lines().zip(now.lines())) {
        if a != b {
            return format!("line {line} was `{}` and is now `{}`", clip(a), clip(b));
        }
    }
    let (r, n) = (recorded.lines().count(), now.lines().count());
    format!("the recorded prompt has {r} lines and this one {n}")
}

fn clip(text: &str) -> String {
    let short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}
