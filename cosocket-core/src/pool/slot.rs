//! A counted place in a pool (spec §5.2): held by a connect under way and then by its
//! connection; dropping it, on whatever path, gives the place back.

use std::fmt;
use std::sync::{Arc, Weak};

use super::{After, Shared};
use crate::Runtime;

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
        let Some(home) = self.home.upgrade() else {
            return;
        };
        let mut after = After::default();
        {
            let mut map = home.lock();
            if let Some(pool) = map.pool_mut(&self.key, self.pool_id) {
                pool.unit_freed(&mut after);
            }
            map.settle(&self.key, &mut after);
        }
        after.run(&home);
    }
}
