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
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::{Async, Timer};
use cosocket_core::rt::{self, DatagramIo, Runtime, StreamIo, poll_retry};
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

/// A registered stream socket: at most one `recv` / `writev` per poll.
#[derive(Debug)]
pub struct Stream(Async<OwnedFd>);

/// A registered datagram socket: at most one `recv` / `send` per poll.
#[derive(Debug)]
pub struct Datagram(Async<OwnedFd>);

impl StreamIo for Stream {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_retry(
            cx,
            || rt::read(io.get_ref(), buf),
            |cx| io.poll_readable(cx),
        )
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_retry(
            cx,
            || rt::writev(io.get_ref(), bufs),
            |cx| io.poll_writable(cx),
        )
    }
}

impl DatagramIo for Datagram {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_retry(
            cx,
            || rt::recv(io.get_ref(), buf),
            |cx| io.poll_readable(cx),
        )
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let io = &self.0;
        poll_retry(
            cx,
            || rt::send(io.get_ref(), buf),
            |cx| io.poll_writable(cx),
        )
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.get_ref().as_fd()
    }
}

impl AsFd for Datagram {
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

impl Runtime for Smol {
    type Stream = Stream;
    type Datagram = Datagram;
    type Sleep = Sleep;

    async fn connect(&self, pending: OwnedFd) -> io::Result<Stream> {
        let socket = Async::new(pending)?;
        socket.writable().await?;
        Ok(Stream(socket))
    }

    fn datagram(&self, socket: OwnedFd) -> io::Result<Datagram> {
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
