//! core's datagram socket (`ngx.socket.udp()`, spec §6): UDP or Unix datagram, generic over
//! the runtime. No error closes it; a receive waits for one datagram within the read
//! timeout (total).

use std::future::{Future, poll_fn};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};

use crate::options::{Address, MAX_DATAGRAM};
use crate::proto::host::{self, Endpoint, parse_bind_ip};
use crate::proto::{Error, ErrorKind, FragmentList, Fragments, Result, Timeout};
use crate::resolve::resolve;
use crate::rt::{DatagramIo, Runtime};
use crate::socket::UdpSock;
use crate::timer::OpTimer;
use crate::worker::Worker;
use crate::{fd, log};

/// A datagram socket of core: [`UdpSock`] over runtime `R`. Made by
/// [`Context::datagram`](crate::Cosockets::datagram).
pub struct Datagram<R: Runtime> {
    worker: Worker<R>,
    conn: Option<R::Datagram>,
    timeout: Timeout,
    bind: Option<IpAddr>,
    /// One receive buffer, as large as the largest `receive` size asked so far.
    scratch: Vec<u8>,
}

impl<R: Runtime> std::fmt::Debug for Datagram<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datagram")
            .field("connected", &self.conn.is_some())
            .field("timeout", &self.timeout)
            .field("bind", &self.bind)
            .finish_non_exhaustive()
    }
}

/// Unique abstract names for the client end of Unix datagram sockets.
static NEXT_ABSTRACT: AtomicU64 = AtomicU64::new(0);

impl<R: Runtime> Datagram<R> {
    pub(crate) fn new(worker: Worker<R>) -> Self {
        Self {
            worker,
            conn: None,
            timeout: Timeout::Directive,
            bind: None,
            scratch: Vec::new(),
        }
    }

    fn open_udp(&self, addr: SocketAddr) -> io::Result<R::Datagram> {
        // Non-blocking from `socket(2)` (SOCK_NONBLOCK): a resolver opens one per query.
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::DGRAM.nonblocking(),
            Some(Protocol::UDP),
        )?;
        if let Some(ip) = self.bind {
            socket.bind(&SocketAddr::new(ip, 0).into())?;
        }
        socket.connect(&addr.into())?;
        self.worker.runtime().datagram(socket.into())
    }

    fn open_unix(&self, path: &std::path::Path) -> io::Result<R::Datagram> {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram};
        // The client end needs an address of its own for replies to reach it: a unique
        // abstract name, as Linux's autobind gives nginx.
        let name = format!(
            "cosocket-{}-{}",
            std::process::id(),
            NEXT_ABSTRACT.fetch_add(1, Ordering::Relaxed)
        );
        let socket = UnixDatagram::bind_addr(&UnixAddr::from_abstract_name(name.as_bytes())?)?;
        socket.connect(path)?;
        socket.set_nonblocking(true)?;
        self.worker.runtime().datagram(socket.into())
    }
}

impl<R: Runtime> UdpSock for Datagram<R> {
    async fn set_peer_name(&mut self, host: &str, port: u16) -> Result<()> {
        self.conn = None;
        let conn = match host::parse(host, port)? {
            Endpoint::Addr(addr) => self.open_udp(addr),
            Endpoint::Name { host, port } => {
                // OpenResty picks one address at random; we take the resolver's order and
                // move on when creating or connecting a socket for one fails (an IPv6
                // address without an IPv6 route), as TCP connects do (spec §12).
                let rt = self.worker.runtime();
                let (first, rest) = resolve(rt, self.worker.directives(), &host, port).await?;
                let mut opened = self.open_udp(first);
                for &addr in &rest {
                    if opened.is_ok() {
                        break;
                    }
                    opened = self.open_udp(addr);
                }
                opened
            }
            Endpoint::Unix(path) => self.open_unix(&path),
        };
        self.conn = Some(conn.map_err(|e| Error::from_io(&e))?);
        Ok(())
    }

    fn send<F: Fragments + ?Sized + Sync>(
        &mut self,
        data: &F,
    ) -> impl Future<Output = Result<()>> + Send {
        let payload = FragmentList::of(data).to_bytes();
        async move {
            let conn = self.conn.as_ref().ok_or_else(Error::closed)?;
            let sent = poll_fn(|task| conn.poll_send(task, &payload))
                .await
                .map_err(|e| Error::from_io(&e))?;
            if sent < payload.len() {
                return Err(Error::new(ErrorKind::Os, "partial write"));
            }
            Ok(())
        }
    }

    async fn receive(&mut self, size: usize) -> Result<Bytes> {
        {
            let directives = self.worker.directives();
            let rt = self.worker.runtime();
            let Some(conn) = self.conn.as_ref() else {
                log::module(
                    directives,
                    format_args!("attempt to receive data on a closed socket"),
                );
                return Err(Error::closed());
            };
            // Only as large as asked: a resolver's socket lives for one query, and a
            // 64 KiB buffer zeroed per socket cost more than the query (heap growth and
            // `brk` trimming at 50 concurrent queries).
            let size = size.min(MAX_DATAGRAM);
            if self.scratch.len() < size {
                self.scratch.resize(size, 0);
            }
            let buf = &mut self.scratch[..size];
            let mut timer = OpTimer::total(self.timeout.resolve(directives.read_timeout));
            let n = poll_fn(|task| {
                if let Poll::Ready(result) = conn.poll_recv(task, buf) {
                    return Poll::Ready(result.map_err(|e| Error::from_io(&e)));
                }
                match timer.poll_expired(rt, 0, task) {
                    Poll::Ready(()) => {
                        log::module(directives, format_args!("lua udp socket read timed out"));
                        Poll::Ready(Err(Error::timeout()))
                    }
                    Poll::Pending => Poll::Pending,
                }
            })
            .await?;
            Ok(Bytes::copy_from_slice(&buf[..n]))
        }
    }

    fn set_timeout(&mut self, timeout: impl Into<Timeout>) {
        self.timeout = timeout.into();
    }

    fn close(&mut self) -> Result<()> {
        self.conn.take().map(drop).ok_or_else(Error::closed)
    }

    fn bind(&mut self, ip: &str) -> Result<()> {
        self.bind = Some(parse_bind_ip(ip)?);
        Ok(())
    }

    fn fd(&self) -> Result<BorrowedFd<'_>> {
        self.conn
            .as_ref()
            .map(AsFd::as_fd)
            .ok_or_else(Error::closed)
    }

    fn local_addr(&self) -> Result<Address> {
        fd::local(self.fd()?)
    }

    fn peer_addr(&self) -> Result<Address> {
        fd::peer(self.fd()?)
    }
}
