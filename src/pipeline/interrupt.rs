//! Ctrl-C as a value: the command line triggers it from its signal handler, and the pipeline
//! races model calls and prompts against it, so an interrupted run stops between commits with
//! its lock released and its model programs killed.

use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Interrupt {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

impl Interrupt {
    pub fn new() -> Interrupt {
        let (tx, _) = watch::channel(false);
        Interrupt {
            tx: std::sync::Arc::new(tx),
        }
    }

    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the interrupt has been triggered (at once if it already was).
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = rx.wait_for(|set| *set).await;
    }
}
