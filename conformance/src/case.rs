//! What a case sees: the harness's context maker, sleep and spawn, and the directives the
//! recordings were made with.

use std::future::Future;
use std::time::Duration;

use cosocket_core::{Cosockets, Directives, Resolver};
use futures::channel::oneshot;

use crate::harness::Harness;

/// One running case.
#[derive(Debug, Clone)]
pub struct Case<H: Harness> {
    harness: H,
}

impl<H: Harness> Case<H> {
    /// A case on `harness`.
    pub fn new(harness: H) -> Self {
        Self { harness }
    }

    /// The harness.
    pub fn harness(&self) -> &H {
        &self.harness
    }

    /// The directives of OpenResty's recordings (FORMAT.md §1): connect / send / read
    /// timeouts 2000 ms, `buffer_size` 4096, pool size 30, keepalive 60 s, no resolver.
    pub fn directives() -> Directives {
        let mut d = Directives::default();
        d.connect_timeout = Duration::from_millis(2000);
        d.send_timeout = Duration::from_millis(2000);
        d.read_timeout = Duration::from_millis(2000);
        d.resolver = Resolver::None;
        d
    }

    /// A fresh context with [`Case::directives`].
    pub fn cx(&self) -> H::Cx {
        self.harness.context(Self::directives())
    }

    /// A fresh context with [`Case::directives`] changed by `change`.
    pub fn cx_with(&self, change: impl FnOnce(&mut Directives)) -> H::Cx {
        let mut d = Self::directives();
        change(&mut d);
        self.harness.context(d)
    }

    /// A new stream socket of a fresh default context.
    pub fn stream(&self) -> <H::Cx as Cosockets>::Stream {
        self.cx().stream()
    }

    /// Sleeps `ms` milliseconds on the executor.
    pub async fn sleep_ms(&self, ms: u64) {
        self.harness.sleep(Duration::from_millis(ms)).await;
    }

    /// Spawns `fut` on the executor; the returned future gives its output.
    pub fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        self.harness.spawn(Box::pin(async move {
            let _ = tx.send(fut.await);
        }));
        async move { rx.await.expect("the spawned task panicked or was dropped") }
    }
}
