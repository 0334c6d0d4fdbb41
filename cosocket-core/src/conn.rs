//! The connection object of a stream socket, shared by the socket, its halves and the
//! pool: the runtime's registered stream (TCP or Unix; `&self` I/O needs no lock), how logs
//! name its peer, and the counted pool place it holds ([`Slot`]).
//!
//! A leaf module: the pool stores connections and the sockets install them, but neither
//! is named here. A slot reaches its pool through [`SlotHome`], which the pool implements.

use std::fmt;
use std::io;
use std::io::IoSlice;
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
    /// The TLS layer, once a handshake completed (spec §8.3): it travels with the
    /// connection, so a pooled TLS connection comes back handshaked.
    #[cfg(feature = "tls")]
    pub(crate) tls: std::sync::OnceLock<crate::tls::TlsConn>,
}

/// Reads of the protocol layer: plaintext through the TLS layer when there is one.
impl<R: Runtime> Recv for Conn<R> {
    #[inline]
    fn poll_recv(&self, cx: &mut TaskContext<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return tls.poll_read(&self.io, cx, buf);
        }
        self.io.poll_read(cx, buf)
    }
}

impl<R: Runtime> Conn<R> {
    pub(crate) fn new(io: R::Stream, tcp: bool, peer: String, slot: Option<Slot>) -> Self {
        Self {
            io,
            tcp,
            peer,
            slot: Mutex::new(slot),
            #[cfg(feature = "tls")]
            tls: std::sync::OnceLock::new(),
        }
    }

    /// At most one `writev` of `bufs` (plain), or as much as TLS takes encrypted; the
    /// count is of the caller's bytes.
    #[inline]
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut TaskContext<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return tls.poll_write(&self.io, cx, bufs);
        }
        self.io.poll_write_vectored(cx, bufs)
    }

    /// Everything written is in the kernel: always, but for TLS records still queued.
    #[inline]
    pub(crate) fn poll_flush(&self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return tls.poll_flush(&self.io, cx);
        }
        let _ = cx;
        Poll::Ready(Ok(()))
    }

    /// Whether an idle pooled connection can be handed out at checkout
    /// ([`StreamIo::idle_quiet`]); over TLS what arrived is read first: session tickets
    /// are no reason to close it.
    pub(crate) fn idle_quiet(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return tls.settle(self.io.as_fd()) == crate::tls::Settled::Quiet;
        }
        self.io.idle_quiet()
    }

    /// The idle watcher's look at a pooled connection whose readiness fired (spec §5.6):
    /// `Pending` (the waker registered) while it is quiet, `Ready` once the peer wrote,
    /// closed or reset. Over TLS, session tickets are read and the connection stays.
    pub(crate) fn poll_idle(&self, cx: &mut TaskContext<'_>) -> Poll<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return tls.poll_idle(&self.io, cx);
        }
        let mut byte = [0u8; 1];
        self.io.poll_read(cx, &mut byte).map(drop)
    }

    /// The TLS layer, if a handshake installed one.
    #[cfg(feature = "tls")]
    pub(crate) fn tls(&self) -> Option<&crate::tls::TlsConn> {
        self.tls.get()
    }

    /// Whether the stream ended without a TLS close_notify (never, for plain TCP).
    pub(crate) fn truncated(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return tls.truncated();
        }
        false
    }

    /// Takes the pool unit out (the pool settles it under its own lock).
    pub(crate) fn take_slot(&self) -> Option<Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A TLS connection says close_notify when it closes, whoever drops it last (the socket,
/// a half, the pool), as TLS requires; OpenResty never does (spec §8.5).
#[cfg(feature = "tls")]
impl<R: Runtime> Drop for Conn<R> {
    fn drop(&mut self) {
        if let Some(tls) = self.tls.get() {
            tls.close_notify(self.io.as_fd());
        }
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
