//! A connection's TLS state after its handshake (spec §8.5): rustls's sans-IO
//! `ClientConnection` between the registered stream and the receive buffer. Reads decrypt
//! into the buffer through [`Recv`](crate::proto::Recv), writes encrypt the fragment
//! slices, so every reader and the I/O traits work on the plaintext with no change, and
//! the backends see only ciphertext on an fd they already drive.
//!
//! The state is shared by the socket's halves (a read half and a write half may run at
//! once), so it sits behind a mutex held only within one poll, never across an await.

use std::io::{self, IoSlice, Read, Write};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};

use rustls::ClientConnection;

use super::TlsInfo;
use super::session::TlsSession;
use crate::proto::{Error, ErrorKind};
use crate::rt::StreamIo;

/// The stream as `std::io`'s traits, for rustls: `Pending` is `WouldBlock` (the waker is
/// registered by the poll that returned it).
struct Polled<'a, 'b, S: ?Sized> {
    io: &'a S,
    cx: &'a mut Context<'b>,
}

impl<S: StreamIo + ?Sized> Read for Polled<'_, '_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.io.poll_read(self.cx, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<S: StreamIo + ?Sized> Write for Polled<'_, '_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self.io.poll_write_vectored(self.cx, bufs) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The fd with `MSG_DONTWAIT` and no reactor: for the synchronous paths
/// (`set_keepalive`'s look at what arrived, close_notify at close), which must not
/// replace a waker the reactor holds.
pub(crate) struct DontWait<'a>(pub(crate) BorrowedFd<'a>);

impl Read for DontWait<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        rustix::net::recv(self.0, buf, rustix::net::RecvFlags::DONTWAIT)
            .map(|(n, _)| n)
            .map_err(io::Error::from)
    }
}

impl Write for DontWait<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let flags = rustix::net::SendFlags::DONTWAIT | rustix::net::SendFlags::NOSIGNAL;
        rustix::net::send(self.0, buf, flags).map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A TLS error in the middle of the stream (a bad record, an alert): OpenResty's text of
/// a failed SSL read or write.
fn stream_error(e: &rustls::Error) -> io::Error {
    tracing::debug!(target: "cosocket", "TLS error: {e}");
    io::Error::other(Error::new(ErrorKind::Tls, "error"))
}

/// What a pooled connection's TLS layer found when `set_keepalive` looked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Only handshake messages (session tickets) arrived, or nothing: poolable.
    Quiet,
    /// Application data arrived (`connection in dubious state`).
    Data,
    /// The peer closed or the stream failed.
    Closed,
}

/// One connection's TLS layer.
pub(crate) struct TlsConn {
    client: Mutex<ClientConnection>,
    session: TlsSession,
    /// The peer ended the TCP stream without close_notify (or reset it).
    truncated: AtomicBool,
    /// Send close_notify when the connection closes (off after a fatal error).
    notify: AtomicBool,
}

impl std::fmt::Debug for TlsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConn")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl TlsConn {
    pub(crate) fn new(client: ClientConnection, session: TlsSession) -> Self {
        Self {
            client: Mutex::new(client),
            session,
            truncated: AtomicBool::new(false),
            notify: AtomicBool::new(true),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ClientConnection> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session the handshake established (with the TLS 1.3 tickets read since).
    pub(crate) fn session(&self) -> TlsSession {
        self.session.clone()
    }

    /// Whether the stream ended without the peer's close_notify.
    pub(crate) fn truncated(&self) -> bool {
        self.truncated.load(Ordering::Relaxed)
    }

    pub(crate) fn info(&self) -> TlsInfo {
        let client = self.lock();
        TlsInfo::of(&client)
    }

    /// At most `buf.len()` plaintext bytes: those rustls holds, else ciphertext read and
    /// decrypted until a record completes or the stream would block. `Ok(0)` is the end
    /// of the stream: the peer's close_notify, a FIN without it, or an RST (OpenResty
    /// reads all three as EOF over TLS, spec §8.5; the last two mark it truncated).
    pub(crate) fn poll_read<S: StreamIo + ?Sized>(
        &self,
        io: &S,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut client = self.lock();
        loop {
            match client.reader().read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.truncated.store(true, Ordering::Relaxed);
                    return Poll::Ready(Ok(0));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
            let read = client.read_tls(&mut Polled { io, cx: &mut *cx });
            match read {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    self.truncated.store(true, Ordering::Relaxed);
                    self.notify.store(false, Ordering::Relaxed);
                    return Poll::Ready(Ok(0));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
            if let Err(e) = client.process_new_packets() {
                self.notify.store(false, Ordering::Relaxed);
                // The alert rustls queued goes out if the socket takes it now.
                let _ = client.write_tls(&mut Polled { io, cx: &mut *cx });
                return Poll::Ready(Err(stream_error(&e)));
            }
            // A key update's answer, if any, goes out with the next write or now.
            if client.wants_write() {
                let _ = client.write_tls(&mut Polled { io, cx: &mut *cx });
            }
        }
    }

    /// Encrypts as much of `bufs` as rustls takes (after flushing what it holds) and
    /// writes the records; `Ok(n)` counts plaintext bytes. Records not yet written stay
    /// queued: [`poll_flush`](Self::poll_flush) finishes them.
    pub(crate) fn poll_write<S: StreamIo + ?Sized>(
        &self,
        io: &S,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut client = self.lock();
        std::task::ready!(flush(&mut client, io, cx))?;
        let n = client.writer().write_vectored(bufs)?;
        match client.write_tls(&mut Polled { io, cx }) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
        Poll::Ready(Ok(n))
    }

    /// Writes every queued record.
    pub(crate) fn poll_flush<S: StreamIo + ?Sized>(
        &self,
        io: &S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        flush(&mut self.lock(), io, cx)
    }

    /// Whether decrypted bytes wait in rustls (`unread data in buffer`).
    pub(crate) fn has_plaintext(&self) -> bool {
        let mut client = self.lock();
        client
            .process_new_packets()
            .is_ok_and(|state| state.plaintext_bytes_to_read() > 0)
    }

    /// `set_keepalive` found the socket readable: reads what arrived without blocking.
    /// TLS 1.3 session tickets are handshake messages, not unread data (the fix of
    /// OpenResty v0.10.28), so only application data or an end refuses the connection.
    pub(crate) fn settle(&self, fd: BorrowedFd<'_>) -> Settled {
        let mut client = self.lock();
        loop {
            match client.read_tls(&mut DontWait(fd)) {
                Ok(0) => return Settled::Closed,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Settled::Quiet,
                Err(_) => return Settled::Closed,
            }
            match client.process_new_packets() {
                Ok(state) if state.peer_has_closed() => return Settled::Closed,
                Ok(state) if state.plaintext_bytes_to_read() > 0 => return Settled::Data,
                Ok(_) => {}
                Err(_) => return Settled::Closed,
            }
        }
    }

    /// The idle watcher's read of a pooled TLS connection: handshake messages (session
    /// tickets) are taken in and the waker stays registered (`Pending`); application
    /// data, an end or an error is `Ready` (the connection is then closed).
    pub(crate) fn poll_idle<S: StreamIo + ?Sized>(&self, io: &S, cx: &mut Context<'_>) -> Poll<()> {
        let mut client = self.lock();
        loop {
            match client.read_tls(&mut Polled { io, cx: &mut *cx }) {
                Ok(0) => return Poll::Ready(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(_) => return Poll::Ready(()),
            }
            match client.process_new_packets() {
                Ok(state) if state.peer_has_closed() || state.plaintext_bytes_to_read() > 0 => {
                    return Poll::Ready(());
                }
                Ok(_) => {}
                Err(_) => return Poll::Ready(()),
            }
        }
    }

    /// close_notify, written now if the socket takes it (TLS requires it; OpenResty never
    /// sends one, spec §8.5). Nothing after a fatal error or a truncation.
    pub(crate) fn close_notify(&self, fd: BorrowedFd<'_>) {
        if !self.notify.swap(false, Ordering::Relaxed) {
            return;
        }
        let mut client = self.lock();
        client.send_close_notify();
        while client.wants_write() {
            if client.write_tls(&mut DontWait(fd)).is_err() {
                break;
            }
        }
    }
}

/// Writes queued records until none is left or the socket would block.
fn flush<S: StreamIo + ?Sized>(
    client: &mut ClientConnection,
    io: &S,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while client.wants_write() {
        match client.write_tls(&mut Polled { io, cx: &mut *cx }) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

/// How a handshake ended before verification.
#[derive(Debug)]
pub(crate) enum HandshakeEnd {
    /// The handshake completed.
    Done,
    /// It failed (the peer is not TLS, rejected us, closed, reset …).
    Failed,
}

/// Drives `client`'s handshake over `io` until it completes or fails.
pub(crate) fn poll_handshake<S: StreamIo + ?Sized>(
    client: &mut ClientConnection,
    io: &S,
    cx: &mut Context<'_>,
) -> Poll<HandshakeEnd> {
    loop {
        // Our flight first (ClientHello, then Finished and the client certificate).
        match flush(client, io, cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => return Poll::Ready(HandshakeEnd::Failed),
            Poll::Pending => return Poll::Pending,
        }
        if !client.is_handshaking() {
            return Poll::Ready(HandshakeEnd::Done);
        }
        match client.read_tls(&mut Polled { io, cx: &mut *cx }) {
            Ok(0) => return Poll::Ready(HandshakeEnd::Failed),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(_) => return Poll::Ready(HandshakeEnd::Failed),
        }
        if let Err(e) = client.process_new_packets() {
            tracing::debug!(target: "cosocket", "TLS handshake error: {e}");
            // The alert rustls queued tells the server why, if the socket takes it.
            let _ = client.write_tls(&mut Polled { io, cx: &mut *cx });
            return Poll::Ready(HandshakeEnd::Failed);
        }
    }
}
