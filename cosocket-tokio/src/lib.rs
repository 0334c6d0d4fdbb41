//! # cosocket-tokio
//!
//! The tokio backend of cosocket: [`Tokio`] implements [`Runtime`] by registering the
//! sockets core creates with the reactor of a tokio [`Handle`] (`AsyncFd`), sleeping with
//! tokio's timers, spawning on the handle and resolving names on its blocking pool. It
//! holds the handle, so no call depends on a thread-local runtime context.
//!
//! ```
//! use cosocket_core::rt::Runtime;
//! use cosocket_tokio::Tokio;
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! let tokio = Tokio::new(rt.handle().clone());
//! let addrs = rt.block_on(tokio.resolve("127.0.0.1", 80)).unwrap();
//! assert_eq!(addrs[0].port(), 80);
//! ```

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use cosocket_core::rt::{self, DatagramIo, Runtime, StreamIo, poll_retry};
use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, Ready};
use tokio::runtime::Handle;

/// cosocket's [`Runtime`] on tokio (current-thread or multi-thread).
#[derive(Debug, Clone)]
pub struct Tokio {
    handle: Handle,
}

impl Tokio {
    /// The backend for the runtime of `handle` (which must have I/O and time enabled).
    pub fn new(handle: Handle) -> Self {
        Self { handle }
    }

    /// The backend for the runtime this thread runs in, if any.
    pub fn try_current() -> Option<Self> {
        Handle::try_current().ok().map(Self::new)
    }

    /// The handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Registers `fd` with the handle's reactor.
    // `AsyncFd::new` is deprecated because a `T: AsRawFd` could hand out a different fd
    // later (no I/O safety); an `OwnedFd` owns its fd for life, which is what the
    // replacement, the `unsafe` `AsyncFd::register`, asks the caller to promise. This crate
    // has no `unsafe`.
    #[allow(deprecated)]
    fn register(&self, fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
        let _entered = self.handle.enter();
        AsyncFd::new(fd)
    }
}

/// A registered stream socket: at most one `recv` / `writev` per poll.
#[derive(Debug)]
pub struct Stream(AsyncFd<OwnedFd>);

impl StreamIo for Stream {
    /// A short read drained the socket: its readiness is cleared, so the next read waits
    /// for the reactor instead of failing a `read` first (as tokio's own `TcpStream`).
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        loop {
            let mut guard = ready!(self.0.poll_read_ready(cx))?;
            if let Ok(result) = guard.try_io(|fd| rt::read(fd, &mut *buf)) {
                if matches!(result, Ok(n) if n > 0 && n < len) {
                    guard.clear_ready();
                }
                return Poll::Ready(result);
            }
        }
    }

    /// Answered from the reactor when it knows the socket is not readable (no syscall; the
    /// no-op waker also takes the idle watcher's place, so the new user's traffic wakes
    /// no watcher); the kernel is asked otherwise.
    fn idle_quiet(&self) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.0.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(_) => rt::probe_quiet(self),
        }
    }

    /// tokio keeps readiness: registering is free when the socket is known not readable,
    /// which saves the pool's watcher a wake-up per release.
    fn register_idle(&self, cx: &mut Context<'_>) -> bool {
        self.0.poll_read_ready(cx).is_pending()
    }

    /// A short write filled the send buffer: its readiness is cleared likewise.
    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        loop {
            let mut guard = ready!(self.0.poll_write_ready(cx))?;
            if let Ok(result) = guard.try_io(|fd| rt::writev(fd, bufs)) {
                if matches!(result, Ok(n) if n > 0 && n < len) {
                    guard.clear_ready();
                }
                return Poll::Ready(result);
            }
        }
    }
}

/// The readiness a receive waits for: a datagram, or a pending socket error.
const RECV_INTEREST: Interest = Interest::READABLE.add(Interest::ERROR);

/// A readiness wait kept across polls, so that its waker stays registered.
type ReadyWait = Pin<Box<dyn Future<Output = io::Result<Ready>> + Send>>;

/// A registered datagram socket.
///
/// A receive waits for readability *or an error*: on Linux an ICMP port unreachable
/// leaves a pending error on a connected UDP socket and epoll reports only `EPOLLERR`,
/// which tokio hands to `Interest::ERROR` waiters, never to read-readiness waiters.
/// Waiting for readability alone would let the refusal surface on the next send instead
/// of on the receive waiting for it (spec §6: `receive()` → `connection refused`).
pub struct Datagram {
    io: Arc<AsyncFd<OwnedFd>>,
    /// The wait of a receive that found nothing, until it completes.
    wait: Mutex<Option<ReadyWait>>,
}

impl DatagramIo for Datagram {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut wait = self.wait.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            // On error readiness alone the kernel's `recv` returns the pending error (once)
            // and clears it. One interest per `try_io` (tokio checks a combined one against
            // no readiness at all); without readiness it makes no syscall.
            for interest in [Interest::READABLE, Interest::ERROR] {
                match self.io.try_io(interest, |fd| rt::recv(fd, &mut *buf)) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    result => {
                        *wait = None;
                        return Poll::Ready(result);
                    }
                }
            }
            let pending = wait.get_or_insert_with(|| {
                let io = Arc::clone(&self.io);
                Box::pin(async move { Ok(io.ready(RECV_INTEREST).await?.ready()) })
            });
            let ready = ready!(pending.as_mut().poll(cx));
            *wait = None;
            ready?;
        }
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let io = &self.io;
        let op = || io.try_io(Interest::WRITABLE, |fd| rt::send(fd, buf));
        poll_retry(cx, op, |cx| io.poll_write_ready(cx).map_ok(drop))
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.get_ref().as_fd()
    }
}

impl AsFd for Datagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

pin_project_lite::pin_project! {
    /// tokio's timer; [`reset`](rt::Sleep::reset) moves it in place.
    #[derive(Debug)]
    pub struct Sleep {
        #[pin]
        inner: tokio::time::Sleep,
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl rt::Sleep for Sleep {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.project().inner.reset(deadline.into());
    }
}

impl Runtime for Tokio {
    type Stream = Stream;
    type Datagram = Datagram;
    type Sleep = Sleep;

    fn connect(&self, pending: OwnedFd) -> impl Future<Output = io::Result<Stream>> + Send {
        let registered = self.register(pending);
        async move {
            let io = registered?;
            drop(io.writable().await?);
            Ok(Stream(io))
        }
    }

    fn datagram(&self, socket: OwnedFd) -> io::Result<Datagram> {
        let io = Arc::new(self.register(socket)?);
        Ok(Datagram {
            io,
            wait: Mutex::new(None),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
        let _entered = self.handle.enter();
        Sleep {
            inner: tokio::time::sleep_until(deadline.into()),
        }
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        drop(self.handle.spawn(task));
    }

    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send {
        let host = host.to_owned();
        let lookup = self
            .handle
            .spawn_blocking(move || rt::resolve_blocking(&host, port));
        async move { lookup.await.map_err(io::Error::other)? }
    }
}

impl fmt::Debug for Datagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Datagram").field(&self.io).finish()
    }
}
