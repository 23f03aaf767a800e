//! The one retry layer: transient failures are retried with exponential backoff and jitter,
//! honouring a server's requested wait; deterministic failures return at once. Every
//! attempt's usage is reported, so a retried call's cost is not lost.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{CallObserver, FailureClass, LlmError, Model, Reply, Request};

/// The longest wait between attempts; a server asking for longer is not retried.
const MAX_DELAY: Duration = Duration::from_secs(120);

/// Told before each retry's wait.
#[derive(Debug)]
pub struct RetryNotice<'a> {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// How many attempts there will be in all.
    pub attempts: u32,
    pub error: &'a LlmError,
    pub delay: Duration,
}

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub max_retries: u32,
    pub base_delay: Duration,
}

pub async fn with_retries(
    model: &dyn Model,
    request: &Request,
    policy: Policy,
    observer: &dyn CallObserver,
) -> Result<Reply, LlmError> {
    let attempts = policy.max_retries.saturating_add(1);
    let mut attempt = 1;
    loop {
        let outcome = model.complete(request, observer).await;
        let usage = match &outcome {
            Ok(reply) => reply.usage,
            Err(error) => error.usage(),
        };
        if let Some(usage) = usage.filter(|u| !u.is_zero()) {
            observer.spent(usage);
        }
        let error = match outcome {
            Ok(reply) => return Ok(reply),
            Err(error) => error,
        };
        let delay = error
            .retry_after()
            .unwrap_or_else(|| backoff(policy.base_delay, attempt));
        let retry =
            error.class() == FailureClass::Transient && attempt < attempts && delay <= MAX_DELAY;
        if !retry {
            return Err(if attempt > 1 {
                LlmError::Retried {
                    attempts: attempt,
                    last: Box::new(error),
                }
            } else {
                error
            });
        }
        observer.retrying(&RetryNotice {
            attempt,
            attempts,
            error: &error,
            delay,
        });
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// Exponential backoff with jitter: between half and all of `base`, `2 × base`, `4 × base`, ...
fn backoff(base: Duration, attempt: u32) -> Duration {
    let ceiling = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_DELAY);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Half fixed, half random, so that a retry never fires immediately and clients that
    // failed together do not retry together.
    let fraction = 0.5 + f64::from(nanos % 1000) / 2000.0;
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(1);
        assert!(backoff(base, 1) <= Duration::from_secs(1));
        assert!(backoff(base, 1) >= Duration::from_millis(500));
        assert!(backoff(base, 3) >= Duration::from_secs(2));
        assert!(backoff(base, 30) <= MAX_DELAY);
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
    }
}
