//! The context trait (the nginx worker) and the options of `connect`.

use std::future::Future;
use std::num::NonZeroUsize;

use crate::config::Directives;
use crate::error::Result;
use crate::socket::{TcpSock, UdpSock, UnixSock};

/// A cosocket context: the nginx worker. It holds the directives and the connection
/// pools, and creates sockets. Cheap to clone (clones share the pools).
///
/// Client libraries are written against this trait (`fn new<C: Cosockets>(cx: &C)`) and
/// so run on every backend.
pub trait Cosockets: Clone + Send + Sync + 'static {
    /// `ngx.socket.tcp()` / `ngx.socket.stream()`: one type for TCP and Unix streams, as an
    /// OpenResty object may connect to a host and later to a Unix path.
    type Stream: TcpSock + UnixSock + 'static;
    /// `ngx.socket.udp()`.
    type Datagram: UdpSock + 'static;

    /// A new, unconnected stream socket with the context's directives.
    fn stream(&self) -> Self::Stream;

    /// A new datagram socket with the context's directives.
    fn datagram(&self) -> Self::Datagram;

    /// The directives in force.
    fn directives(&self) -> &Directives;

    /// A snapshot of the keepalive pool of `key` (spec §5.1: `host:port` as passed,
    /// `unix:PATH`, `unix:PATH:PORT`, a custom `pool` name, or `ip:port` for
    /// `connect_addr`), or `None` while no such pool exists (spec §5.2: a pool exists from
    /// its creation until its connection count drops to zero).
    fn pool_stats(&self, key: &str) -> Option<PoolStats>;

    /// `ngx.socket.connect(host, port, opts)`: a new stream socket, connected with the
    /// directives' timeouts.
    fn connect(
        &self,
        host: &str,
        port: u16,
        options: &ConnectOptions,
    ) -> impl Future<Output = Result<Self::Stream>> + Send {
        let mut sock = self.stream();
        async move {
            sock.connect(host, port, options).await?;
            Ok(sock)
        }
    }
}

/// The options table of `connect` (spec §2.1): `pool`, `pool_size`, `backlog`.
///
/// ```
/// use std::num::NonZeroUsize;
/// use cosocket_core::ConnectOptions;
/// let opts = ConnectOptions::new().pool("redis").pool_size(NonZeroUsize::new(8).unwrap()).backlog(16);
/// assert_eq!(opts.pool_name(), Some("redis"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// A custom pool name instead of the default key (`host:port`, `unix:path`).
    pub pool: Option<String>,
    /// The size of the pool if this connect creates it; fixed while the pool exists.
    pub pool_size: Option<NonZeroUsize>,
    /// Enables the connect queue: beyond `pool_size` connections, up to `backlog` connects
    /// wait for a free slot (spec §5.5).
    pub backlog: Option<usize>,
}

impl ConnectOptions {
    /// No options (`{}`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the pool name.
    #[must_use]
    pub fn pool(mut self, name: impl Into<String>) -> Self {
        self.pool = Some(name.into());
        self
    }

    /// Sets the pool size.
    #[must_use]
    pub fn pool_size(mut self, size: NonZeroUsize) -> Self {
        self.pool_size = Some(size);
        self
    }

    /// Sets the backlog.
    #[must_use]
    pub fn backlog(mut self, backlog: usize) -> Self {
        self.backlog = Some(backlog);
        self
    }

    /// The custom pool name, if any.
    pub fn pool_name(&self) -> Option<&str> {
        self.pool.as_deref()
    }
}

/// A snapshot of one keepalive pool, from [`Cosockets::pool_stats`].
///
/// `connections` is OpenResty's connection count (spec §5.2): connections checked out,
/// idle in the pool or being opened, plus queued connects. `pool_size` limits it when the
/// pool has a backlog (spec §5.5); otherwise it limits only the idle connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// The pool's size, fixed while the pool exists.
    pub size: NonZeroUsize,
    /// The connect queue's length limit, if the pool was created with one.
    pub backlog: Option<usize>,
    /// The connection count.
    pub connections: usize,
    /// Connections idle in the pool.
    pub idle: usize,
    /// Connects waiting in the queue.
    pub waiting: usize,
}
