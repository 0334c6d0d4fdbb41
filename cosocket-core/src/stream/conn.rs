//! The I/O object of one stream connection: a registered TCP or Unix stream of the
//! runtime, shared by the socket's halves (`&self` I/O needs no lock).

use std::fmt;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Mutex;
use std::task::{Context as TaskContext, Poll};

use crate::pool::Slot;
use crate::proto::Recv;
use crate::rt::{Runtime, StreamIo};

/// A connected stream of runtime `R`.
pub(crate) enum StreamConn<R: Runtime> {
    /// TCP: `TCP_NODELAY` applies.
    Tcp(R::Tcp),
    /// A Unix stream.
    Unix(R::Unix),
}

impl<R: Runtime> StreamConn<R> {
    pub(crate) fn is_tcp(&self) -> bool {
        matches!(self, Self::Tcp(_))
    }
}

impl<R: Runtime> fmt::Debug for StreamConn<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_tcp() { "Tcp" } else { "Unix" };
        f.debug_tuple(kind).field(&self.as_fd()).finish()
    }
}

impl<R: Runtime> AsFd for StreamConn<R> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Tcp(io) => io.as_fd(),
            Self::Unix(io) => io.as_fd(),
        }
    }
}

/// The seam into the protocol layer: the receive buffer reads the connection through
/// [`Recv`], one `recv` per call.
impl<R: Runtime> Recv for StreamConn<R> {
    fn poll_recv(&self, cx: &mut TaskContext<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read(cx, buf)
    }
}

impl<R: Runtime> StreamIo for StreamConn<R> {
    fn poll_read(&self, cx: &mut TaskContext<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Self::Tcp(io) => io.poll_read(cx, buf),
            Self::Unix(io) => io.poll_read(cx, buf),
        }
    }

    fn poll_write_vectored(
        &self,
        cx: &mut TaskContext<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Self::Tcp(io) => io.poll_write_vectored(cx, bufs),
            Self::Unix(io) => io.poll_write_vectored(cx, bufs),
        }
    }
}

/// One OS connection: the registered stream, how logs name its peer and its place in a
/// pool. Shared by the socket's halves; the fd closes when the last holder drops it, and
/// then (fields drop in order) the pool place is given back.
#[derive(Debug)]
pub(crate) struct Conn<R: Runtime> {
    pub(crate) io: StreamConn<R>,
    /// `127.0.0.1:6379` or `unix:/path`, for spec §10's `upstream: …` suffix.
    pub(crate) peer: String,
    /// The pool count unit this connection holds (spec §5.2), if a pool counts it.
    pub(crate) slot: Mutex<Option<Slot<R>>>,
}

impl<R: Runtime> Conn<R> {
    pub(crate) fn new(io: StreamConn<R>, peer: String, slot: Option<Slot<R>>) -> Self {
        Self {
            io,
            peer,
            slot: Mutex::new(slot),
        }
    }

    /// Takes the pool unit out (the pool settles it under its own lock).
    pub(crate) fn take_slot(&self) -> Option<Slot<R>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}
