//! A counted place in a pool (spec §5.2): held by a connect under way and then by its
//! connection; dropping it, on whatever path, gives the place back.

use std::fmt;
use std::sync::{Arc, Weak};

use super::Shared;
use crate::rt::Runtime;

/// One unit of a pool's connection count. Dropped: the count drops and the first queued
/// connect (if any) gets the place; a pool whose count reaches zero is destroyed.
pub(crate) struct Slot<R: Runtime> {
    home: Weak<Shared<R>>,
    key: Arc<str>,
    pool_id: u64,
    /// Cleared when the pool already settled this unit under its lock.
    armed: bool,
}

impl<R: Runtime> Slot<R> {
    pub(super) fn new(home: Weak<Shared<R>>, key: Arc<str>, pool_id: u64) -> Self {
        Self {
            home,
            key,
            pool_id,
            armed: true,
        }
    }

    pub(super) fn pool_id(&self) -> u64 {
        self.pool_id
    }

    /// Drops the slot without giving the place back (the caller did, under the lock).
    pub(super) fn disarm(mut self) {
        self.armed = false;
    }
}

impl<R: Runtime> fmt::Debug for Slot<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("pool", &self.key)
            .field("armed", &self.armed)
            .finish()
    }
}

impl<R: Runtime> Drop for Slot<R> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // A context being dropped takes its pools with it: nothing to give back.
        if let Some(home) = self.home.upgrade() {
            home.change(&self.key, self.pool_id, |pool, after| {
                pool.unit_freed(after);
            });
        }
    }
}
