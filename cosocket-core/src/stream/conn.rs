//! The connection object of a stream socket: the runtime's registered stream (TCP or
//! Unix), shared by the socket's halves (`&self` I/O needs no lock), and its pool place.

use std::io;
use std::sync::Mutex;
use std::task::{Context as TaskContext, Poll};

use crate::pool::Slot;
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
    pub(crate) slot: Mutex<Option<Slot<R>>>,
}

impl<R: Runtime> Conn<R> {
    pub(crate) fn new(io: R::Stream, tcp: bool, peer: String, slot: Option<Slot<R>>) -> Self {
        Self {
            io,
            tcp,
            peer,
            slot: Mutex::new(slot),
        }
    }

    /// Takes the pool unit out (the pool settles it under its own lock).
    pub(crate) fn take_slot(&self) -> Option<Slot<R>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl<R: Runtime> std::fmt::Debug for Conn<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::os::fd::AsFd;
        f.debug_struct("Conn")
            .field("fd", &self.io.as_fd())
            .field("tcp", &self.tcp)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}
