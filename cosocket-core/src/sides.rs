//! The two sides of a stream connection and the operations on them: a read (any
//! [`Reader`] over the receive buffer, with its idle read timeout) and a send (a
//! [`Fragments`] value in vectored writes, with its idle send timeout).
//!
//! The read state and the write state are disjoint, so a socket splits into halves
//! without a lock (ARCHITECTURE.md, "Streams").

use std::future::poll_fn;
use std::io::IoSlice;
use std::num::NonZeroUsize;
use std::task::Poll;
use std::time::Duration;

use crate::buffer::{ReadCall, Reader, RecvBuffer};
use crate::conn::Conn;
use crate::context::Context;
use crate::deadline::effective_timeout;
use crate::error::{Error, ErrorKind, Result};
use crate::fragments::{FragmentList, Fragments};
use crate::timer::OpTimer;
use crate::{Cosockets, Runtime, StreamIo, log, sockopt};

/// The read side: the receive buffer (its state is the read half's state) and the read
/// timeout override.
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

/// The write side: whether the write half is closed, whether `TCP_NODELAY` still has to
/// be set (on the first send, spec §3), and the send timeout override.
#[derive(Debug)]
pub(crate) struct WriteSide {
    pub(crate) closed: bool,
    pub(crate) nodelay_pending: bool,
    pub(crate) timeout: Option<Duration>,
}

impl WriteSide {
    pub(crate) fn closed(timeout: Option<Duration>) -> Self {
        Self {
            closed: true,
            nodelay_pending: false,
            timeout,
        }
    }

    pub(crate) fn open(nodelay_pending: bool, timeout: Option<Duration>) -> Self {
        Self {
            closed: false,
            nodelay_pending,
            timeout,
        }
    }
}

/// What a read needs: the context (runtime, directives), the connection and the side.
pub(crate) struct ReadParts<'a, R: Runtime> {
    pub(crate) cx: &'a Context<R>,
    pub(crate) conn: Option<&'a Conn<R>>,
    pub(crate) side: &'a mut ReadSide,
}

impl<R: Runtime> ReadParts<'_, R> {
    /// Whether a read would be `closed` before looking at its arguments.
    pub(crate) fn is_closed(&self) -> bool {
        self.conn.is_none() || self.side.buf.state() == crate::buffer::ReadState::Closed
    }
}

/// What a send needs.
pub(crate) struct WriteParts<'a, R: Runtime> {
    pub(crate) cx: &'a Context<R>,
    pub(crate) conn: Option<&'a Conn<R>>,
    pub(crate) side: &'a mut WriteSide,
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
    let ReadParts { cx, conn, side } = parts;
    let directives = cx.directives();
    let Some(conn) = conn else {
        log::module(
            directives,
            format_args!("attempt to receive data on a closed socket"),
        );
        return Err(Error::closed());
    };
    let rt = cx.runtime();
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

/// Closes the write half if a send is dropped after writing part of its bytes: the peer
/// would otherwise see a truncated message followed by the next one.
struct PartialWrite<'a> {
    closed: &'a mut bool,
    started: bool,
    finished: bool,
}

impl Drop for PartialWrite<'_> {
    fn drop(&mut self) {
        if self.started && !self.finished {
            *self.closed = true;
        }
    }
}

/// Sends every byte of `data` (spec §3): `closed` on a closed write half, `0` without I/O
/// for an empty payload, `TCP_NODELAY` on the connection's first send, vectored writes until
/// all is in the kernel, an idle send timeout. Errors and timeouts close the write half.
pub(crate) async fn send<R: Runtime, F: Fragments + ?Sized>(
    parts: WriteParts<'_, R>,
    data: &F,
) -> Result<usize> {
    let WriteParts { cx, conn, side } = parts;
    let directives = cx.directives();
    let conn = match conn {
        Some(conn) if !side.closed => conn,
        _ => {
            log::module(
                directives,
                format_args!("attempt to send data on a closed socket"),
            );
            return Err(Error::closed());
        }
    };
    let mut list = FragmentList::of(data);
    let total = list.len();
    if total == 0 {
        return Ok(0);
    }
    if side.nodelay_pending {
        let wanted = directives.tcp_nodelay && conn.io.is_tcp();
        if wanted && sockopt::set(&conn.io, crate::SocketOption::TcpNoDelay, 1).is_err() {
            // The typo is OpenResty's (spec §1.5).
            log::module(directives, format_args!("setsockopt(TCP_NODELAY) failed"));
            return Err(Error::new(ErrorKind::Os, "setsocketopt tcp_nodelay failed"));
        }
        side.nodelay_pending = false;
    }
    let rt = cx.runtime();
    let mut timer = OpTimer::idle(effective_timeout(side.timeout, directives.send_timeout));
    let mut guard = PartialWrite {
        closed: &mut side.closed,
        started: false,
        finished: false,
    };
    let result = poll_fn(|task| {
        loop {
            if list.is_done() {
                return Poll::Ready(Ok(total));
            }
            let mut out: Vec<IoSlice<'_>> = Vec::new();
            list.io_slices(&mut out);
            let polled = conn.io.poll_write_vectored(task, &out);
            drop(out);
            match polled {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::from_io(&std::io::Error::from(
                        std::io::ErrorKind::WriteZero,
                    ))));
                }
                Poll::Ready(Ok(n)) => {
                    guard.started = true;
                    list.advance(n);
                }
                Poll::Ready(Err(e)) => {
                    log::core(format_args!(
                        "send() failed {}, upstream: {}",
                        log::errno_text(&e),
                        conn.peer
                    ));
                    return Poll::Ready(Err(Error::from_io(&e)));
                }
                Poll::Pending => {
                    let progress = list.written() as u64;
                    return match timer.poll_expired(rt, progress, task) {
                        Poll::Ready(()) => {
                            log::module(
                                directives,
                                format_args!(
                                    "lua tcp socket write timed out, upstream: {}",
                                    conn.peer
                                ),
                            );
                            Poll::Ready(Err(Error::timeout()))
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    })
    .await;
    match result {
        Ok(n) => {
            guard.finished = true;
            Ok(n)
        }
        Err(e) => {
            *guard.closed = true;
            Err(e)
        }
    }
}

/// Half-close: `shutdown(SHUT_WR)` sends FIN; the write half is closed, reading goes on.
pub(crate) fn shutdown<R: Runtime>(parts: WriteParts<'_, R>) -> Result<()> {
    let conn = match parts.conn {
        Some(conn) if !parts.side.closed => conn,
        _ => return Err(Error::closed()),
    };
    parts.side.closed = true;
    rustix::net::shutdown(&conn.io, rustix::net::Shutdown::Write)
        .map_err(|e| Error::from_os(e.raw_os_error()))
}
