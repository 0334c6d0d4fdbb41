//! The connection object of a stream socket, shared by the socket, its halves and the
//! pool: the runtime's registered stream (TCP or Unix; `&self` I/O needs no lock), how logs
//! name its peer, and the counted pool place it holds ([`Slot`]).
//!
//! A leaf module: the pool stores connections and the sockets install them, but neither
//! is named here. A slot reaches its pool through [`SlotHome`], which the pool implements.

use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context as TaskContext, Poll};

use crate::proto::Recv;
use crate::rt::{Runtime, StreamIo};

/// The seam into the protocol layer: the receive buffer reads a connection through
/// [`Recv`], one `recv` per call.
impl<T: StreamIo + ?Sized> Recv for T {
    fn poll_recv(&self, cx: &mut TaskContext<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read(cx, buf)
    }
}

/// One OS connection: the registered stream, how logs name its peer and its place in a
/// pool. Shared by the socket's halves; the fd closes when the last holder drops it, and
/// then (fields drop in order) the pool place is given back.
pub(crate) struct Conn<R: Runtime> {
    pub(crate) io: R::Stream,
    /// TCP (where `TCP_NODELAY` applies), not a Unix stream.
    pub(crate) tcp: bool,
    /// `127.0.0.1:6379` or `unix:/path`, for spec §10's `upstream: …` suffix.
    pub(crate) peer: String,
    /// The pool count unit this connection holds (spec §5.2), if a pool counts it.
    pub(crate) slot: Mutex<Option<Slot>>,
}

impl<R: Runtime> Conn<R> {
    pub(crate) fn new(io: R::Stream, tcp: bool, peer: String, slot: Option<Slot>) -> Self {
        Self {
            io,
            tcp,
            peer,
            slot: Mutex::new(slot),
        }
    }

    /// Takes the pool unit out (the pool settles it under its own lock).
    pub(crate) fn take_slot(&self) -> Option<Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl<R: Runtime> fmt::Debug for Conn<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("fd", &self.io.as_fd())
            .field("tcp", &self.tcp)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// Where a dropped [`Slot`] gives its place back: the pools of one context.
pub(crate) trait SlotHome: Send + Sync {
    /// One unit of pool `pool_id` (key `key`) was freed: the count drops and the first
    /// queued connect, if any, gets the place.
    fn unit_freed(self: Arc<Self>, key: &str, pool_id: u64);
}

/// A counted place in a pool (spec §5.2): held by a connect under way and then by its
/// connection; dropping it, on whatever path, gives the place back (a pool whose count
/// reaches zero is destroyed).
pub(crate) struct Slot {
    home: Weak<dyn SlotHome>,
    key: Arc<str>,
    pool_id: u64,
    /// Cleared when the pool already settled this unit under its lock.
    armed: bool,
}

impl Slot {
    pub(crate) fn new(home: Weak<dyn SlotHome>, key: Arc<str>, pool_id: u64) -> Self {
        Self {
            home,
            key,
            pool_id,
            armed: true,
        }
    }

    pub(crate) fn pool_id(&self) -> u64 {
        self.pool_id
    }

    /// Drops the slot without giving the place back (the caller did, under the lock).
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("pool", &self.key)
            .field("armed", &self.armed)
            .finish()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // A context being dropped takes its pools with it: nothing to give back.
        if let Some(home) = self.home.upgrade() {
            home.unit_freed(&self.key, self.pool_id);
        }
    }
}
