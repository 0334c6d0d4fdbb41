//! One keepalive pool: the state behind one key (spec §5.2–§5.5), changed only under the
//! pools' mutex and never across an `.await`.
//!
//! `count` is OpenResty's connection count: every connection associated with the pool
//! (checked out, idle, or handed to a waiter), every connect under way that counted itself,
//! and every queued connect. Each counted connection carries a [`Slot`](crate::conn::Slot); each queued
//! connect is an entry of `waiters`. A unit that leaves while connects are queued goes to
//! the first of them at once (FIFO), so a freed place is never lost between two tasks.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::sync::{Arc, Weak};
use std::task::{Context as TaskContext, Waker};
use std::time::Instant;

use super::watch::Watch;
use super::{After, Handoff, Pooled, Shared};
use crate::conn::{Slot, SlotHome};
use crate::rt::{Runtime, StreamIo};

/// An idle connection and the waker its readiness events reach the watcher through.
struct Idle<R: Runtime> {
    pooled: Pooled<R>,
    waker: Waker,
}

pub(super) struct KeyPool<R: Runtime> {
    /// Tells this pool apart from an earlier or later one of the same key.
    pub(super) id: u64,
    pub(super) key: Arc<str>,
    home: Weak<Shared<R>>,
    pub(super) size: NonZeroUsize,
    /// `Some` only when the pool was created by a connect that passed `backlog`.
    pub(super) backlog: Option<usize>,
    pub(super) count: usize,
    /// By release sequence number: the last is the most recently released (LIFO
    /// checkout), the first the least recently released (LRU eviction).
    idle: BTreeMap<u64, Idle<R>>,
    expiries: BTreeSet<(Instant, u64)>,
    /// Queued connects, first come first served, with the waker of their task.
    waiters: VecDeque<(u64, Waker)>,
    /// What a queued connect was given and has not picked up yet.
    handed: HashMap<u64, Handoff<R>>,
    next_seq: u64,
    /// The idle watcher, spawned with the first idle connection.
    pub(super) watch: Option<Arc<Watch>>,
}

impl<R: Runtime> KeyPool<R> {
    pub(super) fn new(
        id: u64,
        key: Arc<str>,
        home: Weak<Shared<R>>,
        size: NonZeroUsize,
        backlog: Option<usize>,
    ) -> Self {
        Self {
            id,
            key,
            home,
            size,
            backlog,
            count: 0,
            idle: BTreeMap::new(),
            expiries: BTreeSet::new(),
            waiters: VecDeque::new(),
            handed: HashMap::new(),
            next_seq: 0,
            watch: None,
        }
    }

    pub(super) fn idle_len(&self) -> usize {
        self.idle.len()
    }

    pub(super) fn waiting(&self) -> usize {
        self.waiters.len()
    }

    fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A slot of this pool for a unit already in `count`.
    fn slot_for_counted(&self) -> Slot {
        let home: Weak<dyn SlotHome> = self.home.clone();
        Slot::new(home, Arc::clone(&self.key), self.id)
    }

    /// Counts one more connection and returns its slot.
    pub(super) fn count_one(&mut self) -> Slot {
        self.count += 1;
        self.slot_for_counted()
    }

    /// One counted unit left (a counted connection closed, a connect failed or was
    /// dropped, an idle connection was closed). The first queued connect gets the place:
    /// its own queued unit becomes the slot, so the count drops by one either way.
    pub(super) fn unit_freed(&mut self, after: &mut After<R>) {
        self.count = self.count.saturating_sub(1);
        if let Some((id, waker)) = self.waiters.pop_front() {
            let slot = self.slot_for_counted();
            self.handed.insert(id, Handoff::Slot(slot));
            after.wake.push(waker);
        }
    }

    /// The most recently released idle connection that is still fresh and quiet (spec
    /// §5.3). Expired ones, and ones the peer closed or wrote to whose events the watcher
    /// has not handled yet, are closed on the way ([`StreamIo::idle_quiet`]: a zero-timeout
    /// poll, or the reactor's readiness where the backend keeps it).
    pub(super) fn take_idle(&mut self, now: Instant, after: &mut After<R>) -> Option<Pooled<R>> {
        while let Some((seq, idle)) = self.idle.pop_last() {
            if let Some(at) = idle.pooled.expires {
                self.expiries.remove(&(at, seq));
            }
            let expired = idle.pooled.expires.is_some_and(|at| at <= now);
            if !expired && idle.pooled.conn.idle_quiet() {
                return Some(idle.pooled);
            }
            // Readable (a byte was consumed, or EOF): the connection is dubious.
            self.discard(idle.pooled, after);
        }
        None
    }

    /// Closes a connection of this pool (after the lock is released) and frees its unit.
    fn discard(&mut self, pooled: Pooled<R>, after: &mut After<R>) {
        let slot = pooled.conn.take_slot();
        after.close.push(pooled);
        match slot {
            Some(slot) if slot.pool_id() == self.id => {
                slot.disarm();
                self.unit_freed(after);
            }
            // Not counted by this pool (cannot happen): its own pool settles it.
            other => after.slots.extend(other),
        }
    }

    /// Makes sure `pooled` is counted by this pool: a connection opened while no pool
    /// existed is counted when it is first put into one (spec §5.2).
    pub(super) fn adopt(&mut self, pooled: &Pooled<R>, after: &mut After<R>) {
        let mut held = pooled.conn.slot.lock().unwrap_or_else(|e| e.into_inner());
        if held.as_ref().is_some_and(|slot| slot.pool_id() == self.id) {
            return;
        }
        if let Some(old) = held.replace(self.count_one()) {
            after.slots.push(old);
        }
    }

    /// A released (counted) connection: to the first queued connect, else idle as the
    /// most recent, closing the least recently released one if the pool is full.
    pub(super) fn give(&mut self, pooled: Pooled<R>, after: &mut After<R>) {
        if let Some((id, waker)) = self.waiters.pop_front() {
            // The connection's unit goes on with the waiter; its queued unit ends.
            self.count = self.count.saturating_sub(1);
            self.handed.insert(id, Handoff::Conn(pooled));
            after.wake.push(waker);
            return;
        }
        while self.idle.len() >= self.size.get() {
            let Some((seq, lru)) = self.idle.pop_first() else {
                break;
            };
            if let Some(at) = lru.pooled.expires {
                self.expiries.remove(&(at, seq));
            }
            self.discard(lru.pooled, after);
        }
        let seq = self.next_seq();
        let watch = match &self.watch {
            Some(watch) => Arc::clone(watch),
            None => {
                let watch = Arc::new(Watch::default());
                self.watch = Some(Arc::clone(&watch));
                after.spawn_watcher = Some((Arc::clone(&self.key), self.id, Arc::clone(&watch)));
                watch
            }
        };
        // The watcher's sleep is armed for the earliest deadline: only a new earliest one
        // needs it to look again.
        let earliest = self.expiries.first().map(|&(at, _)| at);
        let new_earliest = pooled
            .expires
            .is_some_and(|at| earliest.is_none_or(|e| at < e));
        if let Some(at) = pooled.expires {
            self.expiries.insert((at, seq));
        }
        let waker = watch.entry_waker(seq);
        // Registered here when the backend can do it for free (tokio); otherwise the
        // watcher polls it once to register, deferred on purpose: a connection taken again
        // before the watcher runs (a request loop) costs no registration, which on a
        // one-shot reactor (async-io) is a read and an `epoll_ctl` (measured: registering
        // at release cost smol 12 % of its pooled rate, and waking the watcher per release
        // cost tokio 10 % at 50 tasks).
        let registered = pooled
            .conn
            .io
            .register_idle(&mut TaskContext::from_waker(&waker));
        self.idle.insert(seq, Idle { pooled, waker });
        if !registered || new_earliest {
            after.notify.push((watch, seq));
        }
    }

    /// Queues a connect (its unit is counted now, spec §5.5).
    pub(super) fn enqueue(&mut self, waker: Waker) -> u64 {
        let id = self.next_seq();
        self.count += 1;
        self.waiters.push_back((id, waker));
        id
    }

    /// What queued connect `id` was given, or `None` (its waker updated) while it waits.
    pub(super) fn poll_waiter(&mut self, id: u64, waker: &Waker) -> Option<Handoff<R>> {
        if let Some(handoff) = self.handed.remove(&id) {
            return Some(handoff);
        }
        if let Some((_, w)) = self.waiters.iter_mut().find(|(i, _)| *i == id) {
            w.clone_from(waker);
        }
        None
    }

    /// A queued connect was dropped or timed out. Still queued: its unit ends. Already
    /// given something: that goes on to the next waiter or back to the pool.
    pub(super) fn cancel_waiter(&mut self, id: u64, after: &mut After<R>) {
        match self.handed.remove(&id) {
            // The connection's unit is still counted: it goes to the next waiter (whose
            // queued unit ends) or idle, exactly like a release.
            Some(Handoff::Conn(pooled)) => self.give(pooled, after),
            Some(Handoff::Slot(slot)) => {
                slot.disarm();
                self.unit_freed(after);
            }
            None => {
                if let Some(at) = self.waiters.iter().position(|(i, _)| *i == id) {
                    self.waiters.remove(at);
                    self.count = self.count.saturating_sub(1);
                }
            }
        }
    }

    /// The watcher's turn for idle connection `seq`: any readiness means a one-byte read;
    /// unless it would block (`Pending`, the waker stays registered) the connection is
    /// closed and removed (spec §5.6).
    pub(super) fn poll_idle(&mut self, seq: u64, after: &mut After<R>) {
        let Some(idle) = self.idle.get(&seq) else {
            return;
        };
        let mut task = TaskContext::from_waker(&idle.waker);
        if idle.pooled.conn.poll_idle(&mut task).is_pending() {
            return;
        }
        self.remove_idle(seq, after);
    }

    fn remove_idle(&mut self, seq: u64, after: &mut After<R>) {
        if let Some(idle) = self.idle.remove(&seq) {
            if let Some(at) = idle.pooled.expires {
                self.expiries.remove(&(at, seq));
            }
            self.discard(idle.pooled, after);
        }
    }

    /// Closes the idle connections whose deadline has come; returns the next deadline.
    pub(super) fn expire(&mut self, now: Instant, after: &mut After<R>) -> Option<Instant> {
        while let Some(&(at, seq)) = self.expiries.first() {
            if at > now {
                return Some(at);
            }
            self.remove_idle(seq, after);
        }
        None
    }
}
