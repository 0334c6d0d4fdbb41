//! `connect` (spec §2.1): close the object's connection, take one from the pool, or
//! resolve, create the socket (socket2: bind, non-blocking connect) and wait for the
//! runtime within the connect timeout.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::Stream;
use crate::conn::{Conn, Slot};
use crate::log;
use crate::options::ConnectOptions;
use crate::pool::{Admission, Create, Handoff, Pooled};
use crate::proto::deadline::deadline_after;
use crate::proto::host::{self, Endpoint};
use crate::proto::{Error, Result};
use crate::resolve::resolve;
use crate::rt::Runtime;
use crate::socket::{TcpSock, UnixSock};
use crate::timer::within;

/// How a connect goes on after the pool (spec §2.1 steps 3–4).
enum Begin {
    /// A pooled connection is installed: done.
    Reused,
    /// Open a connection, holding the pool's place if one counts it.
    Open(Option<Slot>),
}

/// How one TCP connect attempt ended.
enum Attempt {
    /// Connected, or timed out: no other address is tried.
    Done(Result<()>),
    /// Failed: the next address may be tried.
    Failed(Error),
}

/// `EINPROGRESS`: a non-blocking connect under way.
fn in_progress(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error())
}

impl<R: Runtime> TcpSock for Stream<R> {
    /// `connect(host, port, opts)`, then the handshake of `opts.tls` if any.
    async fn connect(&mut self, host: &str, port: u16, options: &ConnectOptions) -> Result<()> {
        self.connect_tcp(host, port, options).await?;
        self.handshake_after_connect(options, Some(host)).await
    }

    /// `connect` to an address; the default key is its `ip:port` text.
    async fn connect_addr(&mut self, addr: SocketAddr, options: &ConnectOptions) -> Result<()> {
        self.connect_to_addr(addr, options).await?;
        self.handshake_after_connect(options, None).await
    }
}

impl<R: Runtime> UnixSock for Stream<R> {
    /// `connect("unix:" .. path)`; the default key is `unix:PATH`.
    async fn connect_unix(&mut self, path: &Path, options: &ConnectOptions) -> Result<()> {
        self.connect_to_unix(path, options).await?;
        self.handshake_after_connect(options, None).await
    }
}

impl<R: Runtime> Stream<R> {
    /// The one-call TLS form (`ConnectOptions::tls`): the handshake right after the
    /// connect, with `host` as the server name when none is given and it is a name.
    #[allow(clippy::unused_async)]
    async fn handshake_after_connect(
        &mut self,
        options: &ConnectOptions,
        host: Option<&str>,
    ) -> Result<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &options.tls {
            use crate::socket::TlsSock;
            let named;
            let tls = match host {
                Some(host) if tls.server_name.is_none() && host::is_dns_name(host) => {
                    named = tls.clone().server_name(host);
                    &named
                }
                _ => tls,
            };
            self.ssl_handshake(tls).await?;
        }
        let _ = (options, host);
        Ok(())
    }

    async fn connect_tcp(&mut self, host: &str, port: u16, options: &ConnectOptions) -> Result<()> {
        // The default key is the host argument as given, with the port (spec §5.1).
        let key = || format!("{host}:{port}");
        let Begin::Open(slot) = self.begin(options, key, key).await? else {
            return Ok(());
        };
        // Parsing and resolving come after the pool, as in nginx; a failure gives the
        // counted place back (the slot drops).
        match host::parse(host, port)? {
            Endpoint::Addr(addr) => self.open_tcp(addr, &[], slot).await,
            Endpoint::Name { host, port } => {
                let rt = self.worker.runtime();
                let (first, rest) = resolve(rt, self.worker.directives(), &host, port).await?;
                self.open_tcp(first, &rest, slot).await
            }
            Endpoint::Unix(path) => self.open_unix(&path, slot).await,
        }
    }

    async fn connect_to_addr(&mut self, addr: SocketAddr, options: &ConnectOptions) -> Result<()> {
        let Begin::Open(slot) = self
            .begin(
                options,
                || addr.to_string(),
                || format!("{}:{}", addr.ip(), addr.port()),
            )
            .await?
        else {
            return Ok(());
        };
        self.open_tcp(addr, &[], slot).await
    }

    async fn connect_to_unix(&mut self, path: &Path, options: &ConnectOptions) -> Result<()> {
        // nginx names a Unix target `unix:PATH` with port 0 in the queue's log line.
        let Begin::Open(slot) = self
            .begin(
                options,
                || format!("unix:{}", path.display()),
                || format!("unix:{}:0", path.display()),
            )
            .await?
        else {
            return Ok(());
        };
        host::check_unix_path(path)?;
        self.open_unix(path, slot).await
    }

    /// Steps 1–4 of spec §2.1: the object's connection is closed (never pooled), the
    /// pool key set (`options.pool`, else `default_key`), then the pool's most recent idle
    /// connection is taken, or the connect is admitted by the pool's count and backlog
    /// (§5.5). A queued connect waits at most the connect timeout; `target` (`H:P`) names
    /// it in the log line when it times out.
    async fn begin(
        &mut self,
        options: &ConnectOptions,
        default_key: impl FnOnce() -> String,
        target: impl FnOnce() -> String,
    ) -> Result<Begin> {
        // Out-of-range directives fail before anything changes or opens.
        self.worker.check_directives()?;
        drop(self.disconnect());
        self.rest.ever_connected = true;
        self.rest.key = match &options.pool {
            Some(name) => name.clone(),
            None => default_key(),
        };
        // A TLS connect's connections are its own: never handed to a plain connect or
        // to one that verifies, authenticates or negotiates differently.
        #[cfg(feature = "tls")]
        if let Some(tls) = &options.tls {
            self.rest
                .key
                .push_str(&tls.pool_identity(&self.worker.directives().tls));
        }
        let directives = self.worker.directives();
        let create = (options.pool_size.is_some() || options.backlog.is_some()).then(|| Create {
            size: options.pool_size.unwrap_or(directives.pool_size),
            backlog: options.backlog,
        });
        let waiter = match self.worker.pools().admit(&self.rest.key, create)? {
            Admission::Reuse(pooled) => {
                self.install_pooled(pooled);
                return Ok(Begin::Reused);
            }
            Admission::Open(slot) => return Ok(Begin::Open(slot)),
            Admission::Wait(waiter) => waiter,
        };
        let deadline = self.connect_deadline();
        // On timeout the waiter is dropped: it leaves the queue, or passes on what it was
        // handed in the meantime.
        match within(self.worker.runtime(), deadline, waiter).await {
            Some(Some(Handoff::Conn(pooled))) => {
                self.install_pooled(pooled);
                Ok(Begin::Reused)
            }
            Some(Some(Handoff::Slot(slot))) => Ok(Begin::Open(Some(slot))),
            Some(None) => Ok(Begin::Open(None)),
            None => {
                log::module(
                    self.worker.directives(),
                    format_args!(
                        "lua tcp socket queued connect timed out, when trying to connect to {}",
                        target()
                    ),
                );
                Err(Error::timeout())
            }
        }
    }

    /// `None`: the connect timeout is never.
    pub(super) fn connect_deadline(&self) -> Option<Instant> {
        let timeout = self
            .rest
            .connect_timeout
            .resolve(self.worker.directives().connect_timeout);
        deadline_after(self.worker.runtime().now(), timeout)
    }

    /// Installs a connection taken from a pool (spec §5.3: no network round trip, the
    /// object's timeouts apply, the reuse count goes up).
    fn install_pooled(&mut self, pooled: Pooled<R>) {
        self.install(pooled.conn, pooled.reused + 1, pooled.nodelay_set);
        self.read.buf.recycle(pooled.buffer);
    }

    /// Tries `first`, then every address of `rest` in order, within one connect timeout;
    /// the last failure is reported.
    async fn open_tcp(
        &mut self,
        first: SocketAddr,
        rest: &[SocketAddr],
        mut slot: Option<Slot>,
    ) -> Result<()> {
        let deadline = self.connect_deadline();
        let mut addr = first;
        let mut rest = rest.iter();
        loop {
            let started = start_tcp(addr, self.rest.bind);
            let peer = addr.to_string();
            match self.attempt(started, true, peer, deadline, &mut slot).await {
                Attempt::Done(result) => return result,
                Attempt::Failed(e) => match rest.next() {
                    Some(&next) => addr = next,
                    None => return Err(e),
                },
            }
        }
    }

    /// The Unix connect: one attempt.
    async fn open_unix(&mut self, path: &Path, mut slot: Option<Slot>) -> Result<()> {
        let deadline = self.connect_deadline();
        let peer = format!("unix:{}", path.display());
        match self
            .attempt(start_unix(path), false, peer, deadline, &mut slot)
            .await
        {
            Attempt::Done(result) => result,
            Attempt::Failed(e) => Err(e),
        }
    }

    /// Waits for a started connect (`peer` names it in the log lines) until `deadline` and
    /// installs the connection: a failure lets a TCP connect try the next address, a
    /// timeout does not (the one connect timeout is spent).
    async fn attempt(
        &mut self,
        started: io::Result<OwnedFd>,
        tcp: bool,
        peer: String,
        deadline: Option<Instant>,
        slot: &mut Option<Slot>,
    ) -> Attempt {
        let pending = match started {
            Ok(pending) => pending,
            Err(e) => {
                // nginx's core logs a failed `connect(2)` itself, whatever `log_errors` says.
                log::core(format_args!(
                    "connect() to {peer} failed {}",
                    log::errno_text(&e)
                ));
                return Attempt::Failed(Error::from_io(&e));
            }
        };
        let rt = self.worker.runtime();
        match within(rt, deadline, finished(rt.connect(pending))).await {
            Some(Ok(io)) => {
                let conn = Conn::new(io, tcp, peer, slot.take());
                self.install(Arc::new(conn), 0, false);
                Attempt::Done(Ok(()))
            }
            Some(Err(e)) => {
                log::module(
                    self.worker.directives(),
                    format_args!("connect() failed {}, upstream: {peer}", log::errno_text(&e)),
                );
                Attempt::Failed(Error::from_io(&e))
            }
            None => {
                log::module(
                    self.worker.directives(),
                    format_args!("lua tcp socket connect timed out, upstream: {peer}"),
                );
                Attempt::Done(Err(Error::timeout()))
            }
        }
    }
}

/// The outcome of a non-blocking connect the runtime saw finish: `SO_ERROR`, read once
/// here for every backend.
async fn finished<T: AsFd>(connect: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    let io = connect.await?;
    match socket2::SockRef::from(&io).take_error()? {
        Some(e) => Err(e),
        None => Ok(io),
    }
}

/// A non-blocking TCP socket, bound if asked, whose connect has started.
fn start_tcp(addr: SocketAddr, bind: Option<SocketAddr>) -> io::Result<OwnedFd> {
    // Non-blocking from `socket(2)` (SOCK_NONBLOCK): no two `fcntl`s per connect.
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    if let Some(local) = bind {
        if let Err(e) = socket.bind(&local.into()) {
            log::core(format_args!(
                "bind({}) failed {}",
                local.ip(),
                log::errno_text(&e)
            ));
            return Err(e);
        }
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// A non-blocking Unix stream socket whose connect has started. A local bind address
/// (an IP) does not apply to Unix sockets and is not used.
fn start_unix(path: &Path) -> io::Result<OwnedFd> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None)?;
    match socket.connect(&SockAddr::unix(path)?) {
        Ok(()) => {}
        Err(e) if in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}
