//! # cosocket-tokio
//!
//! The tokio backend of cosocket: [`Tokio`] implements [`Runtime`] by registering the
//! sockets core creates with the reactor of a tokio [`Handle`], sleeping with tokio's timers,
//! spawning on the handle and resolving names on its blocking pool. It holds the handle, so
//! no call depends on a thread-local runtime context.
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
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use cosocket_core::rt::{self, DatagramIo, Runtime, StreamIo};
use tokio::io::{Interest, Ready};
use tokio::net::{TcpStream, UdpSocket, UnixDatagram, UnixStream};
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
}

/// A registered stream socket: at most one `recv` / `writev` per poll.
#[derive(Debug)]
pub struct Stream<T>(T);

macro_rules! stream_io {
    ($ty:ty) => {
        impl StreamIo for Stream<$ty> {
            fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                loop {
                    ready!(self.0.poll_read_ready(cx))?;
                    match self.0.try_read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        result => return Poll::Ready(result),
                    }
                }
            }

            fn poll_write_vectored(
                &self,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                loop {
                    ready!(self.0.poll_write_ready(cx))?;
                    match self.0.try_write_vectored(bufs) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        result => return Poll::Ready(result),
                    }
                }
            }
        }
    };
}
stream_io!(TcpStream);
stream_io!(UnixStream);

/// The readiness a receive waits for: a datagram, or a pending socket error.
const RECV_INTEREST: Interest = Interest::READABLE.add(Interest::ERROR);

/// A readiness wait kept across polls, so that its waker stays registered.
type ReadyWait = Pin<Box<dyn Future<Output = io::Result<Ready>> + Send>>;

/// A registered datagram socket.
///
/// A receive waits for readability *or an error*: on Linux an ICMP port unreachable
/// leaves a pending error on a connected UDP socket and epoll reports only `EPOLLERR`,
/// which tokio hands to `Interest::ERROR` waiters, never to `poll_recv_ready`. Waiting for
/// readability alone would let the refusal surface on the next send instead of on the
/// receive waiting for it (spec §6: `receive()` → `connection refused`).
pub struct Datagram<T> {
    io: Arc<T>,
    /// The wait of a receive that found nothing, until it completes.
    wait: Mutex<Option<ReadyWait>>,
}

impl<T: fmt::Debug> fmt::Debug for Datagram<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Datagram").field(&self.io).finish()
    }
}

impl<T> Datagram<T> {
    fn new(io: T) -> Self {
        Self {
            io: Arc::new(io),
            wait: Mutex::new(None),
        }
    }
}

macro_rules! datagram_io {
    ($ty:ty) => {
        impl DatagramIo for Datagram<$ty> {
            fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                let mut wait = self.wait.lock().unwrap_or_else(PoisonError::into_inner);
                let io = &self.io;
                loop {
                    // `recv(2)` itself, not `try_recv`, which needs readability: on error
                    // readiness alone the kernel returns the pending error (once) and
                    // clears it. One interest per `try_io` (tokio checks a combined one
                    // against no readiness at all); without readiness it makes no syscall.
                    for interest in [Interest::READABLE, Interest::ERROR] {
                        match io.try_io(interest, || rt::recv(io.as_fd(), &mut *buf)) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            result => {
                                *wait = None;
                                return Poll::Ready(result);
                            }
                        }
                    }
                    let pending = wait.get_or_insert_with(|| {
                        let io = Arc::clone(&self.io);
                        Box::pin(async move { io.ready(RECV_INTEREST).await })
                    });
                    let ready = ready!(pending.as_mut().poll(cx));
                    *wait = None;
                    ready?;
                }
            }

            fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                loop {
                    ready!(self.io.poll_send_ready(cx))?;
                    match self.io.try_send(buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        result => return Poll::Ready(result),
                    }
                }
            }
        }
    };
}
datagram_io!(UdpSocket);
datagram_io!(UnixDatagram);

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

impl<T: AsFd> AsFd for Stream<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl<T: AsFd> AsFd for Datagram<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

/// Registers a socket whose non-blocking connect is under way (inside the handle's context)
/// and waits until it is writable (core reads `SO_ERROR`). A macro because tokio's stream
/// types share these methods but no trait.
macro_rules! connected {
    ($tokio:expr, $ty:ty, $pending:expr) => {{
        let registered = {
            let _entered = $tokio.handle.enter();
            <$ty>::from_std($pending)
        };
        async move {
            let stream = registered?;
            stream.writable().await?;
            Ok(Stream(stream))
        }
    }};
}

impl Runtime for Tokio {
    type Tcp = Stream<TcpStream>;
    type Unix = Stream<UnixStream>;
    type Udp = Datagram<UdpSocket>;
    type UnixDatagram = Datagram<UnixDatagram>;
    type Sleep = Sleep;

    fn connect_tcp(
        &self,
        pending: std::net::TcpStream,
    ) -> impl Future<Output = io::Result<Self::Tcp>> + Send {
        connected!(self, TcpStream, pending)
    }

    fn connect_unix(
        &self,
        pending: std::os::unix::net::UnixStream,
    ) -> impl Future<Output = io::Result<Self::Unix>> + Send {
        connected!(self, UnixStream, pending)
    }

    fn udp(&self, socket: std::net::UdpSocket) -> io::Result<Self::Udp> {
        let _entered = self.handle.enter();
        UdpSocket::from_std(socket).map(Datagram::new)
    }

    fn unix_datagram(
        &self,
        socket: std::os::unix::net::UnixDatagram,
    ) -> io::Result<Self::UnixDatagram> {
        let _entered = self.handle.enter();
        UnixDatagram::from_std(socket).map(Datagram::new)
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
