//! How many calls a provider takes at once. Issues run side by side (`run 12 13 14 -j 3`)
//! share one [`CallLimits`], so `providers.NAME.max_concurrent` bounds the calls to NAME
//! across all of them: a fourth issue's call waits for a slot instead of adding to a
//! vendor's rate limit. Each attempt holds a slot while it runs, and gives it back before a
//! retry's wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::{BoxFuture, CallObserver, LlmError, Model, Reply, Request};

/// The slots of every provider, shared by the runs of one process.
#[derive(Clone, Default)]
pub struct CallLimits {
    slots: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl CallLimits {
    pub fn new() -> CallLimits {
        CallLimits::default()
    }

    /// The slots of `provider`. The first run to ask sets their number: the runs of one
    /// process read one configuration.
    fn slots(&self, provider: &str, max: u32) -> Arc<Semaphore> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .entry(provider.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(max.max(1) as usize)))
            .clone()
    }

    /// `model`, taking one of `provider`'s slots for each attempt.
    pub fn wrap(&self, provider: &str, max: u32, model: Box<dyn Model>) -> Box<dyn Model> {
        Box::new(Limited {
            slots: self.slots(provider, max),
            model,
        })
    }
}

impl std::fmt::Debug for CallLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallLimits").finish_non_exhaustive()
    }
}

struct Limited {
    slots: Arc<Semaphore>,
    model: Box<dyn Model>,
}

impl Model for Limited {
    fn complete<'a>(
        &'a self,
        request: &'a Request,
        observer: &'a dyn CallObserver,
    ) -> BoxFuture<'a, Result<Reply, LlmError>> {
        Box::pin(async move {
            // The semaphore is never closed, so acquiring fails only if it were; then the
            // call goes ahead rather than never starting.
            let _slot = self.slots.acquire().await.ok();
            self.model.complete(request, observer).await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::llm::{Prompt, Role, Unobserved};
    use futures_util::future::join_all;

    /// Counts the calls running at once, and the most there ever were.
    #[derive(Default)]
    struct Counting {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    struct Slow(Arc<Counting>);

    impl Model for Slow {
        fn complete<'a>(
            &'a self,
            _request: &'a Request,
            _observer: &'a dyn CallObserver,
        ) -> BoxFuture<'a, Result<Reply, LlmError>> {
            Box::pin(async move {
                let now = self.0.now.fetch_add(1, Ordering::SeqCst) + 1;
                self.0.most.fetch_max(now, Ordering::SeqCst);
                // Let every other call that can start, start.
                for _ in 0..20 {
                    tokio::task::yield_now().await;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                self.0.now.fetch_sub(1, Ordering::SeqCst);
                Ok(Reply {
                    text: "ok".into(),
                    usage: None,
                })
            })
        }
    }

    fn request() -> Request {
        Request {
            contained: Default::default(),
            prompt: Prompt {
                text: "hi".into(),
                stable_prefix: 0,
            },
            role: Role::Drafter,
            stage: "lld".into(),
            issue: 1,
            round: 1,
            workdir: None,
        }
    }

    async fn most_at_once(limits: &CallLimits, providers: &[(&str, u32)]) -> usize {
        let counting = Arc::new(Counting::default());
        let models: Vec<Box<dyn Model>> = providers
            .iter()
            .map(|(name, max)| limits.wrap(name, *max, Box::new(Slow(counting.clone()))))
            .collect();
        let request = request();
        let calls = models.iter().map(|m| m.complete(&request, &Unobserved));
        for reply in join_all(calls).await {
            assert_eq!(reply.unwrap().text, "ok");
        }
        counting.most.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn calls_to_one_provider_wait_for_a_slot() {
        let limits = CallLimits::new();
        let most = most_at_once(&limits, &[("anthropic", 2); 6]).await;
        assert_eq!(most, 2, "two slots: never more than two calls at once");
    }

    #[tokio::test]
    async fn models_built_apart_share_their_provider_s_slots() {
        // Two runs build their models separately, from one shared set of limits.
        let limits = CallLimits::new();
        let first = limits.clone();
        let counting = Arc::new(Counting::default());
        let a = first.wrap("openai", 1, Box::new(Slow(counting.clone())));
        let b = limits.wrap("openai", 1, Box::new(Slow(counting.clone())));
        let request = request();
        let (x, y) = tokio::join!(
            a.complete(&request, &Unobserved),
            b.complete(&request, &Unobserved)
        );
        assert!(x.is_ok() && y.is_ok());
        assert_eq!(counting.most.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn providers_have_slots_of_their_own() {
        let limits = CallLimits::new();
        let most = most_at_once(&limits, &[("anthropic", 1), ("gemini", 1), ("openai", 1)]).await;
        assert_eq!(most, 3, "one provider's calls do not wait for another's");
    }
}
