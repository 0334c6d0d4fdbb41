//! The send operations (spec §3): a [`Fragments`] value in vectored writes with its idle
//! send timeout, the half-close, and the [`StreamWrite`] impls of the socket and its write
//! halves, which all run them.

use std::future::{Future, poll_fn};
use std::io::IoSlice;
use std::task::Poll;

use super::Stream;
use super::halves::{OwnedWriteHalf, WriteHalf};
use crate::config::Directives;
use crate::conn::Conn;
use crate::options::SocketOption;
use crate::proto::{Error, ErrorKind, FragmentList, Fragments, Result, Timeout};
use crate::rt::Runtime;
use crate::socket::StreamWrite;
use crate::timer::OpTimer;
use crate::{fd, log};

/// The write side: whether the write half is closed, whether `TCP_NODELAY` still has to
/// be set (on the first send, spec §3), and the send timeout override, which stays with
/// the object across reconnects (spec §1.1).
#[derive(Debug)]
pub(crate) struct WriteSide<S> {
    pub(crate) closed: bool,
    pub(crate) nodelay_pending: bool,
    pub(crate) timeout: Timeout,
    /// The timer of an I/O-trait write that waits (`poll_write`).
    pub(crate) poll_timer: Option<OpTimer<S>>,
    /// The fragment lists' scratch buffer, kept across sends (up to [`KEEP_SCRATCH`]).
    pub(crate) scratch: Vec<u8>,
}

/// A scratch buffer this large or smaller is kept for the next send.
const KEEP_SCRATCH: usize = 64 * 1024;

/// Slices of a `writev` that live on the stack; a list of more takes a `Vec`.
const STACK_SLICES: usize = 64;

impl<S> WriteSide<S> {
    pub(crate) fn closed(timeout: Timeout) -> Self {
        Self {
            closed: true,
            nodelay_pending: false,
            timeout,
            poll_timer: None,
            scratch: Vec::new(),
        }
    }

    pub(crate) fn open(nodelay_pending: bool, timeout: Timeout) -> Self {
        Self {
            closed: false,
            nodelay_pending,
            timeout,
            poll_timer: None,
            scratch: Vec::new(),
        }
    }
}

/// What a send needs: the runtime and the directives, the connection and the side.
pub(crate) struct WriteParts<'a, R: Runtime> {
    pub(crate) rt: &'a R,
    pub(crate) directives: &'a Directives,
    pub(crate) conn: Option<&'a Conn<R>>,
    pub(crate) side: &'a mut WriteSide<R::Sleep>,
}

impl<R: Runtime> WriteParts<'_, R> {
    /// The same parts for a shorter borrow.
    pub(crate) fn reborrow(&mut self) -> WriteParts<'_, R> {
        WriteParts {
            rt: self.rt,
            directives: self.directives,
            conn: self.conn,
            side: &mut *self.side,
        }
    }
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
    let WriteParts {
        rt,
        directives,
        conn,
        side,
    } = parts;
    let conn = writable(directives, conn, side)?;
    let mut list = FragmentList::with_scratch(data, std::mem::take(&mut side.scratch));
    let total = list.len();
    if total == 0 {
        side.scratch = list.into_scratch();
        return Ok(0);
    }
    nodelay_once(directives, conn, side)?;
    let mut timer = OpTimer::idle(side.timeout.resolve(directives.send_timeout));
    let mut guard = PartialWrite {
        closed: &mut side.closed,
        started: false,
        finished: false,
    };
    let result = poll_fn(|task| {
        // Woken after the deadline (by the timer or not): the timer wins, as in nginx.
        if timer.has_expired(rt) {
            log_send_timeout(directives, conn);
            return Poll::Ready(Err(Error::timeout()));
        }
        loop {
            if list.is_done() {
                // TLS: the last records may still wait to be written.
                match conn.poll_flush(task) {
                    Poll::Ready(Ok(())) => return Poll::Ready(Ok(total)),
                    Poll::Ready(Err(e)) => {
                        log_send_error(conn, &e);
                        return Poll::Ready(Err(Error::from_io(&e)));
                    }
                    Poll::Pending => {
                        return match timer.poll_expired(rt, total as u64, task) {
                            Poll::Ready(()) => {
                                log_send_timeout(directives, conn);
                                Poll::Ready(Err(Error::timeout()))
                            }
                            Poll::Pending => Poll::Pending,
                        };
                    }
                }
            }
            // One walk of the list: a stack batch that it did not fill is all of it.
            let mut stack = [IoSlice::new(&[]); STACK_SLICES];
            let n = list.fill_io_slices(&mut stack);
            let polled = if n < STACK_SLICES {
                conn.poll_write_vectored(task, &stack[..n])
            } else {
                let mut slices = Vec::new();
                list.io_slices(&mut slices);
                conn.poll_write_vectored(task, &slices)
            };
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
                    log_send_error(conn, &e);
                    return Poll::Ready(Err(Error::from_io(&e)));
                }
                Poll::Pending => {
                    let progress = list.written() as u64;
                    return match timer.poll_expired(rt, progress, task) {
                        Poll::Ready(()) => {
                            log_send_timeout(directives, conn);
                            Poll::Ready(Err(Error::timeout()))
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    })
    .await;
    let scratch = list.into_scratch();
    if scratch.capacity() <= KEEP_SCRATCH {
        side.scratch = scratch;
    }
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

/// The connection to write to, or `closed` (logged as spec §10 has it) on a closed write
/// half.
pub(super) fn writable<'a, R: Runtime>(
    directives: &Directives,
    conn: Option<&'a Conn<R>>,
    side: &WriteSide<R::Sleep>,
) -> Result<&'a Conn<R>> {
    match conn {
        Some(conn) if !side.closed => Ok(conn),
        _ => {
            log::module(
                directives,
                format_args!("attempt to send data on a closed socket"),
            );
            Err(Error::closed())
        }
    }
}

/// spec §10: nginx's core line of a failed `writev`.
pub(super) fn log_send_error<R: Runtime>(conn: &Conn<R>, e: &std::io::Error) {
    log::core(format_args!(
        "send() failed {}, upstream: {}",
        log::errno_text(e),
        conn.peer
    ));
}

/// spec §10: the module's line of a send timeout.
pub(super) fn log_send_timeout<R: Runtime>(directives: &Directives, conn: &Conn<R>) {
    log::module(
        directives,
        format_args!("lua tcp socket write timed out, upstream: {}", conn.peer),
    );
}

/// `TCP_NODELAY` on a TCP connection's first send (spec §3), once.
pub(crate) fn nodelay_once<R: Runtime>(
    directives: &Directives,
    conn: &Conn<R>,
    side: &mut WriteSide<R::Sleep>,
) -> Result<()> {
    if side.nodelay_pending {
        let wanted = directives.tcp_nodelay && conn.tcp;
        if wanted && fd::set(&conn.io, SocketOption::TcpNoDelay, 1).is_err() {
            // The typo is OpenResty's (spec §1.5).
            log::module(directives, format_args!("setsockopt(TCP_NODELAY) failed"));
            return Err(Error::new(ErrorKind::Os, "setsocketopt tcp_nodelay failed"));
        }
        side.nodelay_pending = false;
    }
    Ok(())
}

/// Half-close: `shutdown(SHUT_WR)` sends FIN; the write half is closed, reading goes on.
pub(crate) fn shutdown<R: Runtime>(parts: WriteParts<'_, R>) -> Result<()> {
    let conn = match parts.conn {
        Some(conn) if !parts.side.closed => conn,
        _ => return Err(Error::closed()),
    };
    parts.side.closed = true;
    // TLS ends its stream with close_notify before the FIN.
    #[cfg(feature = "tls")]
    if let Some(tls) = conn.tls() {
        tls.close_notify(std::os::fd::AsFd::as_fd(&conn.io));
    }
    rustix::net::shutdown(&conn.io, rustix::net::Shutdown::Write)
        .map_err(|e| Error::from_os(e.raw_os_error()))
}

/// One [`StreamWrite`] impl for the socket and both write halves: each has a
/// `write_parts()` that lends its write side.
macro_rules! stream_write {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> StreamWrite for $ty {
            fn send<F: Fragments + ?Sized + Sync>(
                &mut self,
                data: &F,
            ) -> impl Future<Output = Result<usize>> + Send {
                send(self.write_parts(), data)
            }

            fn set_send_timeout(&mut self, timeout: impl Into<Timeout>) {
                self.write_parts().side.timeout = timeout.into();
            }

            fn shutdown(&mut self) -> Result<()> {
                shutdown(self.write_parts())
            }
        }
    };
}
stream_write!([R: Runtime] Stream<R>);
stream_write!(['a, R: Runtime] WriteHalf<'a, R>);
stream_write!([R: Runtime] OwnedWriteHalf<R>);
