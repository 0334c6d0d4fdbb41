//! The backend contract: what an executor must supply (ARCHITECTURE.md, "Layers"), kept
//! apart from the user API as hyper keeps `hyper::rt`.
//!
//! Core creates every socket with `socket2` (options, bind, non-blocking connect) and hands
//! its fd to the runtime to register and await: two I/O types, whatever the socket's
//! family. I/O is `&self` and makes at most
//! one syscall per poll, so read and write halves need no lock, a `recv` asks for exactly
//! the size core wants, and no adapter can silently turn one `writev` into many writes.

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

/// A registered, connected, non-blocking stream socket (TCP or Unix).
pub trait StreamIo: AsFd + Send + Sync + 'static {
    /// At most one `recv` of at most `buf.len()` bytes; `Ok(0)` is the end of the stream.
    /// `Pending` registers the waker for readability.
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// At most one `writev` of `bufs`. Required, with no default that would write only the
    /// first slice.
    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;

    /// Whether an idle pooled connection can be handed out at checkout: nothing arrived
    /// since it was released (spec §5.3 takes it with no check at all; cosocket checks
    /// once). `false` may consume a byte: the connection is then closed. The default asks
    /// the kernel ([`probe_quiet`]: one zero-timeout poll). A backend whose reactor keeps
    /// readiness may answer from it when it knows the socket is not readable, with no
    /// syscall; it falls back to [`probe_quiet`] otherwise.
    fn idle_quiet(&self) -> bool {
        probe_quiet(self)
    }

    /// Registers `cx`'s waker for the readability of a connection just put into a pool,
    /// if the backend can do so without a syscall: `true` if it did and the socket is not
    /// known to be readable. The default, `false`, leaves it to the pool's watcher task,
    /// which registers with a read poll when it next runs (a connection taken again
    /// before that costs nothing: the right trade for a one-shot reactor, where a
    /// registration is an `epoll_ctl`).
    fn register_idle(&self, cx: &mut Context<'_>) -> bool {
        let _ = cx;
        false
    }
}

/// The kernel's answer to [`StreamIo::idle_quiet`]: a zero-timeout `POLLIN | POLLRDHUP`
/// poll, and a one-byte read if it says readable (quiet only if that would block).
pub fn probe_quiet(fd: impl AsFd) -> bool {
    crate::fd::is_quiet(fd)
}

/// A registered, connected, non-blocking datagram socket (UDP or Unix datagram).
pub trait DatagramIo: AsFd + Send + Sync + 'static {
    /// At most one `recv` of one datagram into `buf` (truncated to `buf.len()`; a zero-length
    /// `buf` still consumes the datagram).
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// At most one `send` of `buf` as one datagram.
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
}

/// A timer of the runtime: completes at its deadline, and can be moved, so that an
/// operation's timeout and the pool's idle watcher keep one pinned sleep for their whole
/// life instead of allocating a new one at every re-arm (as hyper's `Timer::reset` and
/// quinn's `AsyncTimer::reset` allow).
pub trait Sleep: Future<Output = ()> + Send + 'static {
    /// Moves the deadline to `deadline`, earlier or later, even after the sleep completed;
    /// the next poll waits for the new one.
    fn reset(self: Pin<&mut Self>, deadline: Instant);
}

/// An async executor as cosocket needs it: reactor registration, timers, spawning and
/// name resolution. A value the context holds, so nothing is detected at call time and
/// nothing panics with "no reactor running".
pub trait Runtime: Clone + Send + Sync + 'static {
    /// A registered stream socket (TCP or Unix: core tells them apart itself).
    type Stream: StreamIo;
    /// A registered datagram socket (UDP or Unix).
    type Datagram: DatagramIo;
    /// A timer.
    type Sleep: Sleep;

    /// Registers `pending`, a non-blocking stream socket whose `connect` core has started,
    /// and completes when it is writable: the connect has finished, well or not. Core reads
    /// `SO_ERROR` itself, so a backend may also return the error it saw.
    fn connect(&self, pending: OwnedFd) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Registers a non-blocking datagram socket that core has bound and connected.
    fn datagram(&self, socket: OwnedFd) -> io::Result<Self::Datagram>;

    /// A timer that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;

    /// The runtime's clock.
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// Runs `task` in the background (the pool's idle watcher).
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static);

    /// Every address of `host` (with `port` set), in the order to try them. A name that
    /// does not exist is `io::ErrorKind::NotFound`, a timeout `TimedOut` (the error texts
    /// they become are at [`Resolver`](crate::Resolver)).
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;
}

/// Runs one non-blocking syscall, waiting for readiness between tries: `op` is tried
/// first; on `WouldBlock`, `ready` registers the waker (returning `Pending`) or reports
/// readiness, and `op` is tried again. Anything else is the result. Both backends' I/O is
/// this loop around [`read`], [`writev`], [`recv`] and [`send`] with their reactor's
/// readiness.
pub fn poll_retry<T>(
    cx: &mut Context<'_>,
    mut op: impl FnMut() -> io::Result<T>,
    mut ready: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
) -> Poll<io::Result<T>> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready!(ready(cx))?,
            result => return Poll::Ready(result),
        }
    }
}

/// One `recv(2)` on a stream socket's `fd` (TCP or Unix), the syscall std's and tokio's
/// streams make: `Ok(0)` is the end of the stream, `WouldBlock` means wait for readiness.
/// (`recv` rather than `read`: the socket layer directly, without the file layer's checks.)
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty())
        .map(|(n, _)| n)
        .map_err(io::Error::from)
}

/// One `recv(2)` of a datagram on `fd`: `Ok(0)` is an empty datagram, `WouldBlock` means
/// wait for readiness. On a socket whose only readiness is an error (ICMP refusal) it
/// returns that error, once.
pub fn recv(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty())
        .map(|(n, _)| n)
        .map_err(io::Error::from)
}

/// One `send(2)` of `buf` on `fd`, as one datagram on a datagram socket.
pub fn send(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    rustix::net::send(fd, buf, rustix::net::SendFlags::empty()).map_err(io::Error::from)
}

/// One gathering write of `bufs` on a stream socket's `fd`: `sendmsg(2)` with
/// `MSG_NOSIGNAL`, so that writing to a connection the peer reset is `EPIPE` and never a
/// `SIGPIPE`, even in a process that did not ignore the signal (a Rust `main` does, a C
/// host embedding the library may not); std's streams send with the same flag.
pub fn writev(fd: impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    rustix::net::sendmsg(
        fd,
        bufs,
        &mut rustix::net::SendAncillaryBuffer::default(),
        rustix::net::SendFlags::NOSIGNAL,
    )
    .map_err(io::Error::from)
}

/// The system resolver (`getaddrinfo`), blocking: what a backend runs on its blocking pool
/// to implement [`Runtime::resolve`].
///
/// A name that does not exist (or has no address) is `io::ErrorKind::NotFound`, which the
/// context reports as `H could not be resolved (3: Host not found)`; other failures keep
/// their kind (`(2: Server failure)`).
pub fn resolve_blocking(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    match (host, port).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                return Err(io::Error::new(io::ErrorKind::NotFound, "no address"));
            }
            Ok(addrs)
        }
        Err(e) => {
            // std reports getaddrinfo's EAI_* codes only as text: EAI_NONAME / EAI_NODATA
            // mean the name does not exist.
            let text = e.to_string();
            let missing = [
                "not known",
                "No address associated",
                "nodename nor servname",
            ]
            .iter()
            .any(|t| text.contains(t));
            if missing {
                Err(io::Error::new(io::ErrorKind::NotFound, text))
            } else {
                Err(e)
            }
        }
    }
}
