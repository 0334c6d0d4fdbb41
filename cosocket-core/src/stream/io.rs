//! The standard async I/O traits on the socket and on every half: futures-io's
//! `AsyncRead`, `AsyncBufRead` and `AsyncWrite`, and tokio's (feature `tokio`), so that
//! `tokio::io::copy`, `copy_bidirectional`, tokio-util's codecs, `futures::io::copy` and
//! compression wrappers take a cosocket.
//!
//! Reads serve the receive buffer first and fill it with the same one-segment `recv` as
//! the cosocket readers, so `receive_line` and `poll_read` interleave without losing or
//! reordering a byte, and no call allocates. The timeouts are the socket's:
//! * a read that waits longer than the read timeout without a byte fails with
//!   `io::ErrorKind::TimedOut` and closes nothing (OpenResty's read timeout, spec §4.2);
//! * a write that waits longer than the send timeout fails with `TimedOut` and closes the
//!   write half (its send timeout, spec §3), as any write error does;
//! * the end of the stream is `Ok(0)` forever after (the read half is then in OpenResty's
//!   `EofSeen` state: a cosocket read returns `closed`), and so is a read half an earlier
//!   error closed; a socket without a connection is `NotConnected`;
//! * `poll_flush` writes the TLS records still queued (plain TCP has no user-space write
//!   buffer: nothing to do); `poll_close` / `poll_shutdown` flush, then send FIN
//!   (`shutdown(SHUT_WR)`, after close_notify over TLS) once and are `Ok` afterwards.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::Stream;
use super::halves::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::read::{ReadParts, ReadSide, connected, log_read_timeout, log_recv_error};
use super::send::{WriteParts, log_send_error, log_send_timeout, nodelay_once, shutdown, writable};
use crate::conn::Conn;
use crate::proto::fragments::IOV_MAX;
use crate::proto::{Error, ReadState};
use crate::rt::Runtime;
use crate::timer::OpTimer;

/// `poll_fill_buf`: the buffered bytes, or one `recv` of a segment when there are none.
fn poll_fill_buf<'a, R: Runtime>(
    parts: ReadParts<'a, R>,
    task: &mut TaskContext<'_>,
) -> Poll<io::Result<&'a [u8]>> {
    let ReadParts {
        rt,
        directives,
        conn,
        side,
    } = parts;
    let conn = connected(directives, conn)?;
    while side.buf.is_empty() && side.buf.state() == ReadState::Open {
        match side.buf.poll_more(task, conn) {
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => {
                side.poll_timer = None;
                side.buf.close_read();
                log_recv_error(conn, &e);
                return Poll::Ready(Err(e));
            }
            Poll::Pending => {
                let ReadSide {
                    buf,
                    settings,
                    poll_timer,
                    kept_sleep,
                } = &mut *side;
                let timer = poll_timer.get_or_insert_with(|| {
                    OpTimer::idle(settings.timeout.resolve(directives.read_timeout))
                        .with_kept(kept_sleep.take())
                });
                return match timer.poll_expired(rt, buf.received(), task) {
                    Poll::Ready(()) => {
                        *poll_timer = None;
                        log_read_timeout(directives, conn);
                        Poll::Ready(Err(Error::timeout().into()))
                    }
                    Poll::Pending => Poll::Pending,
                };
            }
        }
    }
    if let Some(timer) = side.poll_timer.take() {
        side.kept_sleep = timer.into_kept();
    }
    let side: &'a ReadSide<R::Sleep> = side;
    Poll::Ready(Ok(side.buf.buffered()))
}

/// `poll_write_vectored`: one `writev` of at most [`IOV_MAX`] slices, within the send
/// timeout. Errors and the timeout close the write half.
fn poll_write<R: Runtime>(
    parts: WriteParts<'_, R>,
    task: &mut TaskContext<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let conn = writable(parts.directives, parts.conn, parts.side)?;
    if bufs.iter().all(|b| b.is_empty()) {
        return Poll::Ready(Ok(0));
    }
    nodelay_once(parts.directives, conn, parts.side)?;
    let bufs = &bufs[..bufs.len().min(IOV_MAX)];
    let polled = conn.poll_write_vectored(task, bufs);
    settle_write(parts, task, conn, polled)
}

/// What a write poll of `conn` comes to: done (the timer goes), failed (the write half
/// closes), or waiting within the send timeout.
fn settle_write<R: Runtime, T>(
    parts: WriteParts<'_, R>,
    task: &mut TaskContext<'_>,
    conn: &Conn<R>,
    polled: Poll<io::Result<T>>,
) -> Poll<io::Result<T>> {
    match polled {
        Poll::Ready(Ok(n)) => {
            parts.side.poll_timer = None;
            Poll::Ready(Ok(n))
        }
        Poll::Ready(Err(e)) => {
            parts.side.poll_timer = None;
            parts.side.closed = true;
            log_send_error(conn, &e);
            Poll::Ready(Err(e))
        }
        Poll::Pending => write_pending(parts, task),
    }
}

/// A write that has to wait: within the send timeout, which closes the write half.
fn write_pending<R: Runtime, T>(
    parts: WriteParts<'_, R>,
    task: &mut TaskContext<'_>,
) -> Poll<io::Result<T>> {
    let WriteParts {
        rt,
        directives,
        conn,
        side,
    } = parts;
    let timeout = side.timeout.resolve(directives.send_timeout);
    let timer = side
        .poll_timer
        .get_or_insert_with(|| OpTimer::idle(timeout));
    match timer.poll_expired(rt, 0, task) {
        Poll::Ready(()) => {
            side.poll_timer = None;
            side.closed = true;
            if let Some(conn) = conn {
                log_send_timeout(directives, conn);
            }
            Poll::Ready(Err(Error::timeout().into()))
        }
        Poll::Pending => Poll::Pending,
    }
}

/// `poll_flush`: TLS records still queued go out (plain TCP has nothing to flush).
fn poll_flush<R: Runtime>(
    parts: WriteParts<'_, R>,
    task: &mut TaskContext<'_>,
) -> Poll<io::Result<()>> {
    let conn = match parts.conn {
        Some(conn) if !parts.side.closed => conn,
        _ => return Poll::Ready(Ok(())),
    };
    let polled = conn.poll_flush(task);
    settle_write(parts, task, conn, polled)
}

/// `poll_close` / `poll_shutdown`: queued TLS records, then FIN once (after TLS's
/// close_notify); `Ok` on a write half already closed.
fn poll_shutdown<R: Runtime>(
    mut parts: WriteParts<'_, R>,
    task: &mut TaskContext<'_>,
) -> Poll<io::Result<()>> {
    if parts.conn.is_none() || parts.side.closed {
        return Poll::Ready(Ok(()));
    }
    std::task::ready!(poll_flush(parts.reborrow(), task))?;
    if parts.side.closed {
        return Poll::Ready(Ok(()));
    }
    Poll::Ready(shutdown(parts).map_err(io::Error::from))
}

/// Copies what `poll_fill_buf` gives into `out` and consumes it.
fn poll_read_into<R: Runtime>(
    parts: ReadParts<'_, R>,
    task: &mut TaskContext<'_>,
    out: &mut [u8],
) -> Poll<io::Result<usize>> {
    if out.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let ReadParts {
        rt,
        directives,
        conn,
        side,
    } = parts;
    let reborrowed = ReadParts {
        rt,
        directives,
        conn,
        side: &mut *side,
    };
    let data = match poll_fill_buf(reborrowed, task) {
        Poll::Ready(Ok(data)) => data,
        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
        Poll::Pending => return Poll::Pending,
    };
    let n = data.len().min(out.len());
    out[..n].copy_from_slice(&data[..n]);
    side.buf.consume_read(n);
    Poll::Ready(Ok(n))
}

/// The read traits for the socket and both read halves (each has `read_parts()`).
macro_rules! io_read {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> futures::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
                out: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                poll_read_into(self.get_mut().read_parts(), task, out)
            }
        }

        impl<$($gen)*> futures::io::AsyncBufRead for $ty {
            fn poll_fill_buf(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
            ) -> Poll<io::Result<&[u8]>> {
                poll_fill_buf(self.get_mut().read_parts(), task)
            }

            fn consume(self: Pin<&mut Self>, amt: usize) {
                self.get_mut().read_parts().side.buf.consume_read(amt);
            }
        }

        #[cfg(feature = "tokio")]
        impl<$($gen)*> tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
                out: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let n = std::task::ready!(poll_read_into(
                    self.get_mut().read_parts(),
                    task,
                    out.initialize_unfilled(),
                ))?;
                out.advance(n);
                Poll::Ready(Ok(()))
            }
        }

        #[cfg(feature = "tokio")]
        impl<$($gen)*> tokio::io::AsyncBufRead for $ty {
            fn poll_fill_buf(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
            ) -> Poll<io::Result<&[u8]>> {
                poll_fill_buf(self.get_mut().read_parts(), task)
            }

            fn consume(self: Pin<&mut Self>, amt: usize) {
                self.get_mut().read_parts().side.buf.consume_read(amt);
            }
        }
    };
}
io_read!([R: Runtime] Stream<R>);
io_read!(['a, R: Runtime] ReadHalf<'a, R>);
io_read!([R: Runtime] OwnedReadHalf<R>);

/// The write traits for the socket and both write halves (each has `write_parts()`).
macro_rules! io_write {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> futures::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                poll_write(self.get_mut().write_parts(), task, &[IoSlice::new(buf)])
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                poll_write(self.get_mut().write_parts(), task, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
                poll_flush(self.get_mut().write_parts(), task)
            }

            fn poll_close(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
                poll_shutdown(self.get_mut().write_parts(), task)
            }
        }

        #[cfg(feature = "tokio")]
        impl<$($gen)*> tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                poll_write(self.get_mut().write_parts(), task, &[IoSlice::new(buf)])
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                task: &mut TaskContext<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                poll_write(self.get_mut().write_parts(), task, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
                poll_flush(self.get_mut().write_parts(), task)
            }

            fn poll_shutdown(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
                poll_shutdown(self.get_mut().write_parts(), task)
            }
        }
    };
}
io_write!([R: Runtime] Stream<R>);
io_write!(['a, R: Runtime] WriteHalf<'a, R>);
io_write!([R: Runtime] OwnedWriteHalf<R>);
