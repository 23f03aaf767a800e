//! The one retry layer: transient failures are retried with exponential backoff and jitter,
//! honouring a server's requested wait; deterministic failures return at once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{FailureClass, LlmError, Model, Reply, Request};

const BASE_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(60);

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

pub async fn with_retries(
    model: &dyn Model,
    request: &Request,
    max_retries: u32,
    notice: &(dyn Fn(RetryNotice) + Sync),
) -> Result<Reply, LlmError> {
    let attempts = max_retries.saturating_add(1);
    let mut attempt = 1;
    loop {
        match model.complete(request).await {
            Ok(reply) => return Ok(reply),
            Err(error) if error.class() == FailureClass::Transient && attempt < attempts => {
                let delay = error.retry_after().unwrap_or_else(|| backoff(attempt));
                notice(RetryNotice {
                    attempt,
                    attempts,
                    error: &error,
                    delay,
                });
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Exponential backoff with "full jitter": a random wait up to 1s, 2s, 4s, ... capped.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE_DELAY
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_DELAY);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Half fixed, half random, so that a retry never fires immediately.
    let fraction = 0.5 + f64::from(nanos % 1000) / 2000.0;
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_secs(1));
        assert!(backoff(1) >= Duration::from_millis(500));
        assert!(backoff(3) >= Duration::from_secs(2));
        assert!(backoff(30) <= MAX_DELAY);
    }
}
