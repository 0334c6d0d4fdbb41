//! The halves of a stream socket.
//!
//! Borrowed halves ([`ReadHalf`], [`WriteHalf`]) hold disjoint borrows of the socket's two
//! sides, for `join!` in one task; owned halves share the connection through an `Arc` and
//! move into spawned tasks. Dropping the owned write half sends FIN (`shutdown(SHUT_WR)`),
//! as tokio's `OwnedWriteHalf` does, unless its write half is closed already: the peer
//! learns that nothing more comes, and the read half goes on. Dropping any other half
//! changes nothing; the fd closes when both are gone (or when the pair is reunited and
//! closed).

use std::fmt;
use std::sync::Arc;

use super::Rest;
use super::read::{ReadParts, ReadSide};
use super::send::{WriteParts, WriteSide};
use crate::conn::Conn;
use crate::rt::Runtime;
use crate::worker::Worker;

/// The read half of a [`Stream`](super::Stream) borrowed by
/// [`StreamSock::split`](crate::StreamSock::split).
pub struct ReadHalf<'a, R: Runtime> {
    pub(super) worker: &'a Worker<R>,
    pub(super) conn: Option<&'a Conn<R>>,
    pub(super) side: &'a mut ReadSide<R::Sleep>,
}

/// The write half of a [`Stream`](super::Stream) borrowed by
/// [`StreamSock::split`](crate::StreamSock::split).
pub struct WriteHalf<'a, R: Runtime> {
    pub(super) worker: &'a Worker<R>,
    pub(super) conn: Option<&'a Conn<R>>,
    pub(super) side: &'a mut WriteSide<R::Sleep>,
}

/// The read half of a [`Stream`](super::Stream) moved out by
/// [`StreamSock::into_split`](crate::StreamSock::into_split).
pub struct OwnedReadHalf<R: Runtime> {
    pub(super) worker: Worker<R>,
    pub(super) conn: Option<Arc<Conn<R>>>,
    pub(super) side: ReadSide<R::Sleep>,
    pub(super) rest: Rest,
    pub(super) pair: Arc<()>,
}

/// The write half of a [`Stream`](super::Stream) moved out by
/// [`StreamSock::into_split`](crate::StreamSock::into_split).
pub struct OwnedWriteHalf<R: Runtime> {
    pub(super) worker: Worker<R>,
    pub(super) conn: Option<Arc<Conn<R>>>,
    pub(super) side: WriteSide<R::Sleep>,
    pub(super) pair: Arc<()>,
}

macro_rules! debug_half {
    ($name:literal, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct($name)
                    .field("peer", &self.conn.as_ref().map(|c| c.peer.as_str()))
                    .finish_non_exhaustive()
            }
        }
    };
}
debug_half!("ReadHalf", ['a, R: Runtime] ReadHalf<'a, R>);
debug_half!("WriteHalf", ['a, R: Runtime] WriteHalf<'a, R>);
debug_half!("OwnedReadHalf", [R: Runtime] OwnedReadHalf<R>);
debug_half!("OwnedWriteHalf", [R: Runtime] OwnedWriteHalf<R>);

impl<R: Runtime> ReadHalf<'_, R> {
    pub(super) fn read_parts(&mut self) -> ReadParts<'_, R> {
        ReadParts {
            rt: self.worker.runtime(),
            directives: self.worker.directives(),
            conn: self.conn,
            side: self.side,
        }
    }
}

impl<R: Runtime> OwnedReadHalf<R> {
    pub(super) fn read_parts(&mut self) -> ReadParts<'_, R> {
        ReadParts {
            rt: self.worker.runtime(),
            directives: self.worker.directives(),
            conn: self.conn.as_deref(),
            side: &mut self.side,
        }
    }
}

impl<R: Runtime> WriteHalf<'_, R> {
    pub(super) fn write_parts(&mut self) -> WriteParts<'_, R> {
        WriteParts {
            rt: self.worker.runtime(),
            directives: self.worker.directives(),
            conn: self.conn,
            side: self.side,
        }
    }
}

impl<R: Runtime> OwnedWriteHalf<R> {
    pub(super) fn write_parts(&mut self) -> WriteParts<'_, R> {
        WriteParts {
            rt: self.worker.runtime(),
            directives: self.worker.directives(),
            conn: self.conn.as_deref(),
            side: &mut self.side,
        }
    }
}

impl<R: Runtime> OwnedWriteHalf<R> {
    /// The write side, for `reunite`; the half left behind is closed and sends no FIN.
    pub(super) fn take_side(&mut self) -> WriteSide<R::Sleep> {
        let timeout = self.side.timeout;
        std::mem::replace(&mut self.side, WriteSide::closed(timeout))
    }
}

/// FIN on drop, as tokio's `OwnedWriteHalf`: a spawned writer that ends tells the peer so.
impl<R: Runtime> Drop for OwnedWriteHalf<R> {
    fn drop(&mut self) {
        if !self.side.closed {
            drop(super::send::shutdown(self.write_parts()));
        }
    }
}
