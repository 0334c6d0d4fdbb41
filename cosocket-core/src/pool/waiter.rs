//! A connect queued by the backlog (spec §5.5), as a future that resolves to what it was
//! handed: the connection a `set_keepalive` released, or the place a closed connection
//! freed. Dropped at any point (timeout, cancellation), it gives back what it holds.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context as TaskContext, Poll};

use super::{Handoff, Shared};
use crate::rt::Runtime;

/// A queued connect of pool `pool_id`.
pub(crate) struct Waiter<R: Runtime> {
    pub(super) home: Weak<Shared<R>>,
    pub(super) key: Arc<str>,
    pub(super) pool_id: u64,
    pub(super) id: u64,
    /// Picked up its hand-off: nothing to give back.
    pub(super) done: bool,
}

impl<R: Runtime> Future for Waiter<R> {
    /// `None` only if the pool vanished, which a counted waiter prevents.
    type Output = Option<Handoff<R>>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(home) = this.home.upgrade() else {
            this.done = true;
            return Poll::Ready(None);
        };
        let mut map = home.lock();
        let Some(pool) = map.pool_mut(&this.key, this.pool_id) else {
            this.done = true;
            return Poll::Ready(None);
        };
        match pool.poll_waiter(this.id, task.waker()) {
            Some(handoff) => {
                this.done = true;
                Poll::Ready(Some(handoff))
            }
            None => Poll::Pending,
        }
    }
}

impl<R: Runtime> Drop for Waiter<R> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(home) = self.home.upgrade() {
            let id = self.id;
            home.change(&self.key, self.pool_id, |pool, after| {
                pool.cancel_waiter(id, after);
            });
        }
    }
}
