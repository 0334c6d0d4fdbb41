//! The context's keepalive pools (spec §5): per key, idle connections in release order.
//!
//! This is the first slice of the pool: LIFO checkout, LRU eviction when full, idle
//! deadlines, and a liveness probe at checkout so a connection the peer closed or wrote to
//! while idle is never handed out. The connection count, the backlog queue and the idle
//! watcher task follow (they change no caller).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::Runtime;
use crate::conn::Conn;
use crate::sockopt::is_quiet;

/// A connection at rest in a pool: what the pool keeps is the connection, never the
/// user's object.
pub(crate) struct Pooled<R: Runtime> {
    pub(crate) conn: Arc<Conn<R>>,
    /// How often it was taken out of a pool before.
    pub(crate) reused: u32,
    /// Whether `TCP_NODELAY` was already set by a send.
    pub(crate) nodelay_set: bool,
    /// `None`: never expires (`set_keepalive` with a zero timeout).
    pub(crate) expires: Option<Instant>,
}

struct Pool<R: Runtime> {
    size: NonZeroUsize,
    /// Most recently released first.
    idle: VecDeque<Pooled<R>>,
}

/// Every pool of a context, by key.
pub(crate) struct Pools<R: Runtime> {
    pools: Mutex<HashMap<String, Pool<R>>>,
}

impl<R: Runtime> Default for Pools<R> {
    fn default() -> Self {
        Self {
            pools: Mutex::new(HashMap::new()),
        }
    }
}

impl<R: Runtime> fmt::Debug for Pools<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pools = self.lock();
        f.debug_map()
            .entries(pools.iter().map(|(k, p)| (k, p.idle.len())))
            .finish()
    }
}

impl<R: Runtime> Pools<R> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Pool<R>>> {
        // A panic elsewhere never leaves the map inconsistent (every change is one call).
        self.pools.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most recently released live connection of `key` (spec §5.3); expired or dead
    /// ones met on the way are closed.
    pub(crate) fn checkout(&self, key: &str, now: Instant) -> Option<Pooled<R>> {
        let mut pools = self.lock();
        let pool = pools.get_mut(key)?;
        let mut found = None;
        while let Some(pooled) = pool.idle.pop_front() {
            let expired = pooled.expires.is_some_and(|at| at <= now);
            if !expired && is_quiet(&pooled.conn.io) {
                found = Some(pooled);
                break;
            }
        }
        if pool.idle.is_empty() {
            pools.remove(key);
        }
        found
    }

    /// Puts a connection in `key`'s pool, creating it with `size` if missing; a full pool
    /// closes its least recently released connection first.
    pub(crate) fn release(&self, key: &str, pooled: Pooled<R>, size: NonZeroUsize) {
        let mut pools = self.lock();
        let pool = pools.entry(key.to_owned()).or_insert_with(|| Pool {
            size,
            idle: VecDeque::new(),
        });
        while pool.idle.len() >= pool.size.get() {
            pool.idle.pop_back();
        }
        pool.idle.push_front(pooled);
    }
}
