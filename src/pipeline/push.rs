//! How a run pushes the branch: with the user's git credentials, without any model
//! key, and running no code from the run. The repository's hooks run only when
//! `github.push_hooks` asks for them, and then only if they are the hooks that were there when
//! the session opened ([`Session::hooks_at_start`]): a hook that appeared or changed while
//! agents and model-written code were at work never runs, and the run says so
//! ([`Event::PushHooksSkipped`]).

use super::Session;
use super::events::Event;
use crate::git::PushOptions;
use crate::redact::child_env::model_keys;

/// How `session` pushes now, and the event to emit when hooks the user asked for are left out.
pub fn options(session: &Session) -> (PushOptions, Option<Event>) {
    let without = model_keys(&session.env, &session.key_variables());
    if !session.config.github.push_hooks {
        return (
            PushOptions {
                hooks: false,
                without,
            },
            None,
        );
    }
    let now = session.repo.hooks();
    let skipped = match (session.hooks_at_start.as_deref(), &now) {
        (Some(start), Ok(now)) => {
            let changed = start.changes(now);
            (!changed.is_empty()).then(|| Event::PushHooksSkipped {
                dir: Some(now.dir().display().to_string()),
                changed,
            })
        }
        (_, now) => Some(Event::PushHooksSkipped {
            dir: now.as_ref().ok().map(|h| h.dir().display().to_string()),
            changed: Vec::new(),
        }),
    };
    if let Err(error) = &now {
        tracing::debug!(%error, "could not read the hooks a push would run");
    }
    (
        PushOptions {
            hooks: skipped.is_none(),
            without,
        },
        skipped,
    )
}
