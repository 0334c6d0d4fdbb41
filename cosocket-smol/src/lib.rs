//! # cosocket-smol
//!
//! The smol backend of cosocket: [`Smol`] implements [`Runtime`] with async-io's reactor
//! (`Async<T>`) and timers, spawns on smol's global executor or on an
//! [`Executor`] you pass, and resolves names on smol's blocking pool.
//!
//! ```
//! use cosocket_core::rt::Runtime;
//! use cosocket_smol::Smol;
//! let addrs = smol::block_on(Smol::new().resolve("127.0.0.1", 80)).unwrap();
//! assert_eq!(addrs[0].port(), 80);
//! ```

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use async_io::{Async, Timer};
use cosocket_core::rt::{self, DatagramIo, Runtime, StreamIo};
use smol::Executor;

/// cosocket's [`Runtime`] on smol.
#[derive(Clone, Default)]
pub struct Smol {
    executor: Option<Arc<Executor<'static>>>,
}

impl Smol {
    /// Spawns on smol's global executor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns on `executor` (which the application runs).
    pub fn with_executor(executor: Arc<Executor<'static>>) -> Self {
        Self {
            executor: Some(executor),
        }
    }
}

impl fmt::Debug for Smol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let executor = if self.executor.is_some() {
            "custom"
        } else {
            "global"
        };
        f.debug_struct("Smol").field("executor", &executor).finish()
    }
}

/// A registered stream socket (any `T` that std reads and writes through `&T`): at most
/// one `recv` / `writev` per poll.
#[derive(Debug)]
pub struct Stream<T>(Async<T>);

/// A registered datagram socket (any fd): at most one `recv` / `send` per poll.
#[derive(Debug)]
pub struct Datagram<T>(Async<T>);

/// Retries `op` after each readiness notice; returns on anything but `WouldBlock`.
fn poll_io<T>(
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

impl<T> StreamIo for Stream<T>
where
    T: AsFd + Send + Sync + 'static,
    for<'a> &'a T: Read + Write,
{
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_io(cx, || io.get_ref().read(buf), |cx| io.poll_readable(cx))
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_io(
            cx,
            || io.get_ref().write_vectored(bufs),
            |cx| io.poll_writable(cx),
        )
    }
}

impl<T: AsFd + Send + Sync + 'static> DatagramIo for Datagram<T> {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_io(
            cx,
            || rt::recv(io.get_ref(), buf),
            |cx| io.poll_readable(cx),
        )
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_io(
            cx,
            || rt::send(io.get_ref(), buf),
            |cx| io.poll_writable(cx),
        )
    }
}

impl<T: AsFd> AsFd for Stream<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.get_ref().as_fd()
    }
}

impl<T: AsFd> AsFd for Datagram<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.get_ref().as_fd()
    }
}

/// async-io's timer; [`reset`](rt::Sleep::reset) moves it in place.
#[derive(Debug)]
pub struct Sleep(Timer);

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl rt::Sleep for Sleep {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.set_at(deadline);
    }
}

/// Registers a socket whose non-blocking connect is under way and waits until it is
/// writable (core reads `SO_ERROR`).
async fn connected<T: AsFd>(pending: T) -> io::Result<Stream<T>> {
    let socket = Async::new(pending)?;
    socket.writable().await?;
    Ok(Stream(socket))
}

impl Runtime for Smol {
    type Tcp = Stream<TcpStream>;
    type Unix = Stream<UnixStream>;
    type Udp = Datagram<UdpSocket>;
    type UnixDatagram = Datagram<UnixDatagram>;
    type Sleep = Sleep;

    fn connect_tcp(
        &self,
        pending: TcpStream,
    ) -> impl Future<Output = io::Result<Self::Tcp>> + Send {
        connected(pending)
    }

    fn connect_unix(
        &self,
        pending: UnixStream,
    ) -> impl Future<Output = io::Result<Self::Unix>> + Send {
        connected(pending)
    }

    fn udp(&self, socket: UdpSocket) -> io::Result<Self::Udp> {
        Async::new(socket).map(Datagram)
    }

    fn unix_datagram(&self, socket: UnixDatagram) -> io::Result<Self::UnixDatagram> {
        Async::new(socket).map(Datagram)
    }

    fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
        Sleep(Timer::at(deadline))
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        match &self.executor {
            Some(executor) => executor.spawn(task).detach(),
            None => smol::spawn(task).detach(),
        }
    }

    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send {
        let host = host.to_owned();
        smol::unblock(move || rt::resolve_blocking(&host, port))
    }
}
