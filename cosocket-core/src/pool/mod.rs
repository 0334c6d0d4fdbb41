//! The context's keepalive pools (spec §5): keyed, LIFO checkout, LRU eviction, a
//! connection count per key with an optional FIFO connect queue (the backlog), and an idle
//! watcher task per pool.
//!
//! One mutex guards every pool of a context; it is never held across an `.await`, and
//! nothing that takes it again (closing a counted connection, waking a task, spawning)
//! runs while it is held: such effects are collected in an [`After`] and run once it is
//! released. Places are given back by drop guards ([`Slot`](crate::conn::Slot), [`Waiter`]) on every path:
//! a failed or dropped connect, a closed or dropped socket, a cancelled queued connect
//! (whatever it was handed goes on to the next waiter or back to the pool).

mod keyed;
mod waiter;
mod watch;

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Instant;

use crate::conn::{Conn, Slot, SlotHome};
use crate::options::PoolStats;
use crate::proto::{Error, ErrorKind, RecvBuffer, Result};
use crate::rt::Runtime;
use keyed::KeyPool;
pub(crate) use waiter::Waiter;
use watch::{Watch, Watcher};

/// A connection leaving or entering a pool: what the pool keeps is the connection, never
/// the user's object.
pub(crate) struct Pooled<R: Runtime> {
    pub(crate) conn: Arc<Conn<R>>,
    /// How often it was taken out of a pool before.
    pub(crate) reused: u32,
    /// Whether `TCP_NODELAY` was already set by a send.
    pub(crate) nodelay_set: bool,
    /// `None`: never expires (`set_keepalive` with a zero timeout).
    pub(crate) expires: Option<Instant>,
    /// The emptied receive buffer, which the next user of the connection takes over: no
    /// allocation and no zeroing per checkout.
    pub(crate) buffer: RecvBuffer,
}

/// What a queued connect is handed.
pub(crate) enum Handoff<R: Runtime> {
    /// The connection a `set_keepalive` released (no network round trip).
    Conn(Pooled<R>),
    /// The place a closed connection or a failed connect freed: open a new connection.
    Slot(Slot),
}

/// How a connect goes on after asking the pool (spec §2.1 steps 3–4).
pub(crate) enum Admission<R: Runtime> {
    /// An idle connection, most recently released first.
    Reuse(Pooled<R>),
    /// Open a connection; counted by the pool when one exists.
    Open(Option<Slot>),
    /// Wait in the backlog queue, at most the connect timeout.
    Wait(Waiter<R>),
}

/// The pool a connect creates when it passes `pool_size` or `backlog` (spec §5.2).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Create {
    pub(crate) size: NonZeroUsize,
    pub(crate) backlog: Option<usize>,
}

/// Effects of a pool change that must run with the mutex released.
pub(super) struct After<R: Runtime> {
    close: Vec<Pooled<R>>,
    slots: Vec<Slot>,
    wake: Vec<Waker>,
    notify: Vec<(Arc<Watch>, u64)>,
    stop: Vec<Arc<Watch>>,
    spawn_watcher: Option<(Arc<str>, u64, Arc<Watch>)>,
}

impl<R: Runtime> Default for After<R> {
    fn default() -> Self {
        Self {
            close: Vec::new(),
            slots: Vec::new(),
            wake: Vec::new(),
            notify: Vec::new(),
            stop: Vec::new(),
            spawn_watcher: None,
        }
    }
}

impl<R: Runtime> After<R> {
    fn run(self, home: &Arc<Shared<R>>) {
        // Closing fds first: a woken waiter never sees more open connections than counted.
        drop(self.close);
        drop(self.slots);
        for waker in self.wake {
            waker.wake();
        }
        for (watch, seq) in self.notify {
            watch.notify(seq);
        }
        for watch in self.stop {
            watch.stop();
        }
        if let Some((key, pool_id, watch)) = self.spawn_watcher {
            home.runtime.spawn(Watcher::<R> {
                home: Arc::downgrade(home),
                key,
                pool_id,
                watch,
                due: None,
                sleep: None,
                failures: 0,
            });
        }
    }
}

/// Every pool of a context, by key.
struct Map<R: Runtime> {
    pools: HashMap<Arc<str>, KeyPool<R>>,
    next_id: u64,
}

impl<R: Runtime> Map<R> {
    fn pool_mut(&mut self, key: &str, id: u64) -> Option<&mut KeyPool<R>> {
        self.pools.get_mut(key).filter(|pool| pool.id == id)
    }

    fn create(&mut self, key: &str, home: &Arc<Shared<R>>, create: Create) -> &mut KeyPool<R> {
        self.next_id += 1;
        let key: Arc<str> = Arc::from(key);
        let pool = KeyPool::new(
            self.next_id,
            Arc::clone(&key),
            Arc::downgrade(home),
            create.size,
            create.backlog,
        );
        self.pools.entry(key).or_insert(pool)
    }

    /// A pool whose count reached zero is destroyed (spec §5.2); its watcher ends.
    fn settle(&mut self, key: &str, after: &mut After<R>) {
        if self.pools.get(key).is_some_and(|pool| pool.count == 0) {
            if let Some(pool) = self.pools.remove(key) {
                after.stop.extend(pool.watch);
            }
        }
    }
}

/// What the pools share with their slots, waiters and watchers (weakly).
pub(super) struct Shared<R: Runtime> {
    map: Mutex<Map<R>>,
    runtime: R,
}

impl<R: Runtime> Shared<R> {
    fn lock(&self) -> MutexGuard<'_, Map<R>> {
        // Every change is complete before anything can panic: a poisoned map is sound.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A dropped slot gives its place back to its pool.
impl<R: Runtime> SlotHome for Shared<R> {
    fn unit_freed(self: Arc<Self>, key: &str, pool_id: u64) {
        self.change(key, pool_id, |pool, after| pool.unit_freed(after));
    }
}

impl<R: Runtime> Shared<R> {
    /// Applies `change` to pool `id` of `key` if it still exists, destroys the pool if its
    /// count reached zero, then runs the effects with the lock released.
    fn change(
        self: &Arc<Self>,
        key: &str,
        id: u64,
        change: impl FnOnce(&mut KeyPool<R>, &mut After<R>),
    ) {
        let mut after = After::default();
        {
            let mut map = self.lock();
            if let Some(pool) = map.pool_mut(key, id) {
                change(pool, &mut after);
            }
            map.settle(key, &mut after);
        }
        after.run(self);
    }
}

impl<R: Runtime> Drop for Shared<R> {
    fn drop(&mut self) {
        // The context is gone: its idle connections close with the map, watchers end.
        let map = self.map.get_mut().unwrap_or_else(|e| e.into_inner());
        for pool in map.pools.values() {
            if let Some(watch) = &pool.watch {
                watch.stop();
            }
        }
    }
}

/// The pools of one context.
pub(crate) struct Pools<R: Runtime> {
    shared: Arc<Shared<R>>,
}

impl<R: Runtime> fmt::Debug for Pools<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let map = self.shared.lock();
        f.debug_map()
            .entries(map.pools.iter().map(|(k, p)| (k, (p.count, p.idle_len()))))
            .finish()
    }
}

impl<R: Runtime> Pools<R> {
    pub(crate) fn new(runtime: R) -> Self {
        Self {
            shared: Arc::new(Shared {
                map: Mutex::new(Map {
                    pools: HashMap::new(),
                    next_id: 0,
                }),
                runtime,
            }),
        }
    }

    /// A connect for `key` asks the pool (spec §2.1 steps 3–4, §5.3, §5.5): an idle
    /// connection if there is one; else a pool is created if `create` says so; else the
    /// connect is counted and, with a backlog, queued or refused beyond `pool_size`.
    pub(crate) fn admit(&self, key: &str, create: Option<Create>) -> Result<Admission<R>> {
        let home = &self.shared;
        let mut after = After::default();
        let admission = {
            let mut map = home.lock();
            let reused = match map.pools.get_mut(key) {
                Some(pool) => pool.take_idle(home.runtime.now(), &mut after),
                None => None,
            };
            // Closing stale idle connections may have destroyed the pool.
            map.settle(key, &mut after);
            if let Some(pooled) = reused {
                Ok(Admission::Reuse(pooled))
            } else {
                let pool = match (map.pools.contains_key(key), create) {
                    (true, _) => map.pools.get_mut(key),
                    (false, Some(create)) => Some(map.create(key, home, create)),
                    (false, None) => None,
                };
                match pool {
                    None => Ok(Admission::Open(None)),
                    Some(pool) => admit_counted(pool, home),
                }
            }
        };
        after.run(home);
        admission
    }

    /// `set_keepalive`'s release into `key`'s pool, created with `size` if missing: the
    /// first queued connect gets it, else it idles as the most recent (spec §5.3–§5.4).
    pub(crate) fn release(&self, key: &str, pooled: Pooled<R>, size: NonZeroUsize) {
        let home = &self.shared;
        let mut after = After::default();
        {
            let mut map = home.lock();
            let pool = match map.pools.contains_key(key) {
                true => map.pools.get_mut(key).expect("checked"),
                false => map.create(
                    key,
                    home,
                    Create {
                        size,
                        backlog: None,
                    },
                ),
            };
            pool.adopt(&pooled, &mut after);
            pool.give(pooled, &mut after);
            map.settle(key, &mut after);
        }
        after.run(home);
    }

    /// A snapshot of `key`'s pool.
    pub(crate) fn stats(&self, key: &str) -> Option<PoolStats> {
        let map = self.shared.lock();
        map.pools.get(key).map(|pool| PoolStats {
            size: pool.size,
            backlog: pool.backlog,
            connections: pool.count,
            idle: pool.idle_len(),
            waiting: pool.waiting(),
        })
    }
}

/// Counting admission (spec §5.5) for a connect that found no idle connection.
fn admit_counted<R: Runtime>(pool: &mut KeyPool<R>, home: &Arc<Shared<R>>) -> Result<Admission<R>> {
    let Some(backlog) = pool.backlog else {
        return Ok(Admission::Open(Some(pool.count_one())));
    };
    let with_this = pool.count + 1;
    if with_this > pool.size.get().saturating_add(backlog) {
        return Err(Error::from_kind(ErrorKind::TooManyWaiting));
    }
    if with_this <= pool.size.get() {
        return Ok(Admission::Open(Some(pool.count_one())));
    }
    // The waker is replaced by the first poll.
    let id = pool.enqueue(Waker::noop().clone());
    Ok(Admission::Wait(Waiter {
        home: Arc::downgrade(home),
        key: Arc::clone(&pool.key),
        pool_id: pool.id,
        id,
        done: false,
    }))
}
