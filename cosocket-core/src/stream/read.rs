//! The read operations (spec §2.2–§2.5): any [`Reader`] of the protocol layer run over the
//! read side's receive buffer with its idle read timeout, and the [`StreamRead`] impls of
//! the socket and its read halves, which all run them.

use std::future::{Future, poll_fn};
use std::num::NonZeroUsize;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;

use super::Stream;
use super::halves::{OwnedReadHalf, ReadHalf};
use crate::config::Directives;
use crate::conn::Conn;
use crate::log;
use crate::proto::deadline::effective_timeout;
use crate::proto::{
    All, Any, Error, ErrorKind, Exact, Line, ReadCall, ReadState, Reader, RecvBuffer, Result, Until,
};
use crate::rt::Runtime;
use crate::socket::StreamRead;
use crate::timer::OpTimer;

/// The read side: the receive buffer (its state is the read half's state) and the read
/// timeout override, which stays with the object across reconnects (spec §1.1).
#[derive(Debug)]
pub(crate) struct ReadSide {
    pub(crate) buf: RecvBuffer,
    pub(crate) timeout: Option<Duration>,
}

impl ReadSide {
    /// A read side with no connection: every read is `closed`.
    pub(crate) fn closed(timeout: Option<Duration>) -> Self {
        let mut buf = RecvBuffer::new(NonZeroUsize::MIN);
        buf.close_read();
        Self { buf, timeout }
    }

    /// A fresh connection's read side.
    pub(crate) fn open(segment: NonZeroUsize, timeout: Option<Duration>) -> Self {
        Self {
            buf: RecvBuffer::new(segment),
            timeout,
        }
    }
}

/// What a read needs: the runtime and the directives, the connection and the side.
pub(crate) struct ReadParts<'a, R: Runtime> {
    pub(crate) rt: &'a R,
    pub(crate) directives: &'a Directives,
    pub(crate) conn: Option<&'a Conn<R>>,
    pub(crate) side: &'a mut ReadSide,
}

impl<R: Runtime> ReadParts<'_, R> {
    /// Whether a read would be `closed` before looking at its arguments.
    fn is_closed(&self) -> bool {
        self.conn.is_none() || self.side.buf.state() == ReadState::Closed
    }
}

/// Runs one read call to completion: buffered bytes first, one `recv` of at most the
/// segment's free space when they do not suffice, the read timeout armed only when the call
/// has to wait, idle (restarted by every byte received).
///
/// # Cancel safety
/// Dropping the future consumes nothing (bytes leave the buffer only at completion).
pub(crate) async fn read<R: Runtime, Rd: Reader>(
    parts: ReadParts<'_, R>,
    reader: Rd,
) -> Result<Rd::Output> {
    let ReadParts {
        rt,
        directives,
        conn,
        side,
    } = parts;
    let Some(conn) = conn else {
        log::module(
            directives,
            format_args!("attempt to receive data on a closed socket"),
        );
        return Err(Error::closed());
    };
    let mut call = ReadCall::new(reader);
    let peer = &conn.peer;
    let finish = |result: Result<Rd::Output>| {
        match &result {
            Err(e) if e.kind() == ErrorKind::Closed => log::module(
                directives,
                format_args!("attempt to receive data on a closed socket"),
            ),
            Err(e) if e.is_os() => log::core(format_args!(
                "recv() failed {}, upstream: {peer}",
                log::errno_text(&std::io::Error::from_raw_os_error(
                    e.raw_os_error().unwrap_or(0)
                )),
            )),
            _ => {}
        }
        result
    };
    // Served from the buffer (the common case of line and pattern readers): no timer, no
    // task context, no look at the source.
    if let Some(result) = call.poll_buffered(&mut side.buf) {
        return finish(result);
    }
    let mut timer = OpTimer::idle(effective_timeout(side.timeout, directives.read_timeout));
    poll_fn(|task| {
        if let Poll::Ready(result) = call.poll(&mut side.buf, &conn.io, task) {
            return Poll::Ready(finish(result));
        }
        let progress = side.buf.received();
        match timer.poll_expired(rt, progress, task) {
            Poll::Ready(()) => {
                log::module(
                    directives,
                    format_args!("lua tcp socket read timed out, upstream: {peer}"),
                );
                Poll::Ready(Err(call.fail(&mut side.buf, Error::timeout())))
            }
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// One [`StreamRead`] impl for the socket and both read halves: each has a
/// `read_parts()` that lends its read side.
macro_rules! stream_read {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> StreamRead for $ty {
            fn receive_line(&mut self) -> impl Future<Output = Result<Bytes>> + Send {
                read(self.read_parts(), Line::new())
            }

            fn receive_all(&mut self) -> impl Future<Output = Result<Bytes>> + Send {
                read(self.read_parts(), All)
            }

            fn receive_exact(&mut self, n: usize) -> impl Future<Output = Result<Bytes>> + Send {
                read(self.read_parts(), Exact::new(n))
            }

            fn receive_any(&mut self, max: usize) -> impl Future<Output = Result<Bytes>> + Send {
                let parts = self.read_parts();
                async move {
                    // The closed check comes before the argument check (spec §1.3).
                    let reader = match Any::new(max) {
                        Ok(reader) => reader,
                        Err(_) if parts.is_closed() => return Err(Error::closed()),
                        Err(e) => return Err(e),
                    };
                    read(parts, reader).await
                }
            }

            fn receive_until(
                &mut self,
                until: &mut Until,
                size: usize,
            ) -> impl Future<Output = Result<Option<Bytes>>> + Send {
                read(self.read_parts(), until.read(size))
            }

            fn set_read_timeout(&mut self, timeout: Option<Duration>) {
                self.read_parts().side.timeout = timeout;
            }
        }
    };
}
stream_read!([R: Runtime] Stream<R>);
stream_read!(['a, R: Runtime] ReadHalf<'a, R>);
stream_read!([R: Runtime] OwnedReadHalf<R>);
