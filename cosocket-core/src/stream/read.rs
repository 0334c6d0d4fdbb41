//! The read operations (spec §2.2–§2.5): any [`Reader`] of the protocol layer run over the
//! read side's receive buffer with its idle read timeout, and the [`StreamRead`] impls of
//! the socket and its read halves, which all run them.

use std::future::{Future, poll_fn};
use std::num::NonZeroUsize;
use std::task::Poll;

use bytes::Bytes;

use super::Stream;
use super::halves::{OwnedReadHalf, ReadHalf};
use crate::config::Directives;
use crate::conn::Conn;
use crate::log;
use crate::proto::{
    All, Any, Error, ErrorKind, Exact, ExactRef, Line, LineRef, ReadCall, ReadState, Reader,
    RecvBuffer, Result, Timeout, Until,
};
use crate::rt::Runtime;
use crate::socket::StreamRead;
use crate::timer::{KeptSleep, OpTimer};

/// The read side: the receive buffer (its state is the read half's state) and the
/// object's read settings, which stay with it across reconnects (spec §1.1).
#[derive(Debug)]
pub(crate) struct ReadSide<S> {
    pub(crate) buf: RecvBuffer,
    pub(crate) settings: ReadSettings,
    /// The timer of an I/O-trait read that waits (`poll_read`, `poll_fill_buf`): those
    /// have no future of their own to keep it in.
    pub(crate) poll_timer: Option<OpTimer<S>>,
    /// The sleep of the last read that waited, for the next one (see `KeptSleep`).
    pub(crate) kept_sleep: Option<KeptSleep<S>>,
}

/// The read timeout and read limit overrides of a socket.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadSettings {
    pub(crate) timeout: Timeout,
    /// `None`: the context's `read_limit`.
    pub(crate) limit: Option<usize>,
}

impl<S> ReadSide<S> {
    /// A read side with no connection: every read is `closed`.
    pub(crate) fn closed(settings: ReadSettings) -> Self {
        let mut buf = RecvBuffer::new(NonZeroUsize::MIN);
        buf.close_read();
        Self {
            buf,
            settings,
            poll_timer: None,
            kept_sleep: None,
        }
    }

    /// A fresh connection's read side.
    pub(crate) fn open(segment: NonZeroUsize, settings: ReadSettings) -> Self {
        Self {
            buf: RecvBuffer::new(segment),
            settings,
            poll_timer: None,
            kept_sleep: None,
        }
    }
}

/// What a read needs: the runtime and the directives, the connection and the side.
pub(crate) struct ReadParts<'a, R: Runtime> {
    pub(crate) rt: &'a R,
    pub(crate) directives: &'a Directives,
    pub(crate) conn: Option<&'a Conn<R>>,
    pub(crate) side: &'a mut ReadSide<R::Sleep>,
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
    let conn = connected(directives, conn)?;
    let mut call = ReadCall::limited(reader, limit(side, directives));
    // Served from the buffer (the common case of line and pattern readers): no timer, no
    // task context, no look at the source.
    if let Some(result) = call.poll_buffered(&mut side.buf) {
        return logged(directives, conn, result);
    }
    wait(rt, directives, conn, side, call).await
}

/// The connection to read from, or `closed` (logged as spec §10 has it) without one.
pub(super) fn connected<'a, R: Runtime>(
    directives: &Directives,
    conn: Option<&'a Conn<R>>,
) -> Result<&'a Conn<R>> {
    conn.ok_or_else(|| {
        log::module(
            directives,
            format_args!("attempt to receive data on a closed socket"),
        );
        Error::closed()
    })
}

/// The read limit in force: the socket's, else the context's.
fn limit<S>(side: &ReadSide<S>, directives: &Directives) -> Option<usize> {
    side.settings
        .limit
        .or(directives.read_limit.map(NonZeroUsize::get))
}

/// spec §10's log lines of a failed read.
#[inline]
fn logged<R: Runtime, T>(directives: &Directives, conn: &Conn<R>, result: Result<T>) -> Result<T> {
    if result.is_ok() {
        return result;
    }
    log_failure(directives, conn, &result);
    result
}

#[cold]
fn log_failure<R: Runtime, T>(directives: &Directives, conn: &Conn<R>, result: &Result<T>) {
    match result {
        Err(e) if e.kind() == ErrorKind::Closed => log::module(
            directives,
            format_args!("attempt to receive data on a closed socket"),
        ),
        Err(e) if e.is_os() => log_recv_error(
            conn,
            &std::io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0)),
        ),
        _ => {}
    }
}

/// spec §10: nginx's core line of a failed `recv`.
pub(super) fn log_recv_error<R: Runtime>(conn: &Conn<R>, e: &std::io::Error) {
    log::core(format_args!(
        "recv() failed {}, upstream: {}",
        log::errno_text(e),
        conn.peer
    ));
}

/// spec §10: the module's line of a read timeout.
pub(super) fn log_read_timeout<R: Runtime>(directives: &Directives, conn: &Conn<R>) {
    log::module(
        directives,
        format_args!("lua tcp socket read timed out, upstream: {}", conn.peer),
    );
}

/// The rest of a read that the buffered bytes did not complete: `recv`s within the idle
/// read timeout.
async fn wait<R: Runtime, Rd: Reader>(
    rt: &R,
    directives: &Directives,
    conn: &Conn<R>,
    side: &mut ReadSide<R::Sleep>,
    mut call: ReadCall<Rd>,
) -> Result<Rd::Output> {
    let mut timer = OpTimer::idle(side.settings.timeout.resolve(directives.read_timeout))
        .with_kept(side.kept_sleep.take());
    let result = poll_fn(|task| {
        if let Poll::Ready(result) = call.poll(&mut side.buf, conn, task) {
            return Poll::Ready(logged(directives, conn, result));
        }
        let progress = side.buf.received();
        match timer.poll_expired(rt, progress, task) {
            Poll::Ready(()) => {
                log_read_timeout(directives, conn);
                Poll::Ready(Err(call.fail(&mut side.buf, Error::timeout())))
            }
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    side.kept_sleep = timer.into_kept();
    result
}

/// [`read`] of a borrowing reader: the result is lent out of the buffer until the next
/// operation on the read side. The buffered case completes without making the inner
/// future of [`wait`] (whose move into this one would cost a copy per line).
async fn read_lent<'a, R: Runtime, Rd: Reader<Output = crate::proto::Lent>>(
    parts: ReadParts<'a, R>,
    reader: Rd,
) -> Result<&'a [u8]> {
    let ReadParts {
        rt,
        directives,
        conn,
        side,
    } = parts;
    let conn = connected(directives, conn)?;
    let mut call = ReadCall::limited(reader, limit(side, directives));
    let lent = match call.poll_buffered(&mut side.buf) {
        Some(result) => logged(directives, conn, result)?,
        None => wait(rt, directives, conn, &mut *side, call).await?,
    };
    let side: &'a ReadSide<R::Sleep> = side;
    Ok(side.buf.lent(lent))
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
                let parts = self.read_parts();
                let conn = parts.conn;
                async move {
                    let all = read(parts, All).await?;
                    // A TLS stream that ended without close_notify may have been cut
                    // short by an attacker: its "all" is only a partial (spec §8.5).
                    if conn.is_some_and(Conn::truncated) {
                        return Err(Error::from_kind(ErrorKind::Truncated).with_partial(all));
                    }
                    Ok(all)
                }
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

            fn receive_until(&mut self, until: &mut Until) -> impl Future<Output = Result<Bytes>> + Send {
                read(self.read_parts(), until.part())
            }

            fn receive_until_chunk(
                &mut self,
                until: &mut Until,
                size: NonZeroUsize,
            ) -> impl Future<Output = Result<Option<Bytes>>> + Send {
                read(self.read_parts(), until.chunk(size))
            }

            fn receive_line_ref(&mut self) -> impl Future<Output = Result<&[u8]>> + Send {
                read_lent(self.read_parts(), LineRef::new())
            }

            fn receive_exact_ref(&mut self, n: usize) -> impl Future<Output = Result<&[u8]>> + Send {
                read_lent(self.read_parts(), ExactRef::new(n))
            }

            fn set_read_timeout(&mut self, timeout: impl Into<Timeout>) {
                self.read_parts().side.settings.timeout = timeout.into();
            }

            fn set_read_limit(&mut self, limit: Option<usize>) {
                self.read_parts().side.settings.limit = limit;
            }
        }
    };
}
stream_read!([R: Runtime] Stream<R>);
stream_read!(['a, R: Runtime] ReadHalf<'a, R>);
stream_read!([R: Runtime] OwnedReadHalf<R>);
