//! The values the socket traits take and give: connect options, pool statistics, socket
//! options, addresses and the halves' reunite error. Kept apart from the trait files so
//! that `socket.rs` and `cosockets.rs` hold traits only.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use crate::proto::{Error, ErrorKind, Result};

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
    /// Connect and handshake in one call ([`tls`](Self::tls)); the pool key then
    /// carries the TLS identity.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<crate::tls::TlsOptions>,
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

    /// Makes `connect` a TLS connect: after the TCP (or Unix) connect, or with a pooled
    /// connection, `ssl_handshake(options)` runs within the same call. Without a
    /// [`server_name`](crate::tls::TlsOptions::server_name), `connect`'s host is the
    /// server name (unless it is an IP address). The pool key gets the TLS identity
    /// (server name, verification and trust store, client certificate, ALPN, versions),
    /// so a connection verified one way is never handed to a plain connect or one
    /// verified another way.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn tls(mut self, options: crate::tls::TlsOptions) -> Self {
        self.tls = Some(options);
        self
    }

    /// The custom pool name, if any.
    pub fn pool_name(&self) -> Option<&str> {
        self.pool.as_deref()
    }
}

/// A snapshot of one keepalive pool, from [`Cosockets::pool_stats`](crate::Cosockets::pool_stats).
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

/// A stream socket option for [`StreamSock::set_option`](crate::StreamSock::set_option) / [`StreamSock::get_option`](crate::StreamSock::get_option)
/// (spec §8.1; values are C `int`s, booleans as 1 / 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocketOption {
    /// `keepalive`: `SO_KEEPALIVE`.
    KeepAlive,
    /// `reuseaddr`: `SO_REUSEADDR`.
    ReuseAddr,
    /// `tcp-nodelay`: `TCP_NODELAY`.
    TcpNoDelay,
    /// `sndbuf`: `SO_SNDBUF` (Linux reads back twice the value set).
    SndBuf,
    /// `rcvbuf`: `SO_RCVBUF`.
    RcvBuf,
    /// `keepintvl`: `TCP_KEEPINTVL`.
    KeepIntvl,
    /// `keepcnt`: `TCP_KEEPCNT`.
    KeepCnt,
}

impl SocketOption {
    /// Every option.
    pub const ALL: [Self; 7] = [
        Self::KeepAlive,
        Self::ReuseAddr,
        Self::TcpNoDelay,
        Self::SndBuf,
        Self::RcvBuf,
        Self::KeepIntvl,
        Self::KeepCnt,
    ];

    /// OpenResty's name for the option.
    pub fn name(self) -> &'static str {
        match self {
            Self::KeepAlive => "keepalive",
            Self::ReuseAddr => "reuseaddr",
            Self::TcpNoDelay => "tcp-nodelay",
            Self::SndBuf => "sndbuf",
            Self::RcvBuf => "rcvbuf",
            Self::KeepIntvl => "keepintvl",
            Self::KeepCnt => "keepcnt",
        }
    }

    /// The option of OpenResty's `name`; anything else is
    /// `unsupported option NAME`.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::UnsupportedOption,
                    format!("unsupported option {name}"),
                )
            })
    }
}

impl fmt::Display for SocketOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Owned halves that do not belong to the same socket; both are given back.
#[derive(Debug)]
pub struct ReuniteError<R, W>(pub R, pub W);

impl<R, W> fmt::Display for ReuniteError<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl<R: fmt::Debug, W: fmt::Debug> std::error::Error for ReuniteError<R, W> {}

/// A socket's local or peer address ([`StreamSock::local_addr`](crate::StreamSock::local_addr), [`UdpSock::peer_addr`](crate::UdpSock::peer_addr),
/// …). Displayed as logs name peers: `127.0.0.1:6379`, `[::1]:80`, `unix:/path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Address {
    /// An IP address and port (TCP, UDP).
    Ip(SocketAddr),
    /// A Unix socket bound to a path.
    Path(PathBuf),
    /// A Unix socket bound to a Linux abstract name (without the leading NUL); displayed
    /// as `unix:@name`.
    Abstract(Vec<u8>),
    /// A Unix socket without a name (a client end that never bound); displayed as `unix:`.
    Unnamed,
}

impl Address {
    /// The IP address and port, if this is one.
    pub fn ip(&self) -> Option<SocketAddr> {
        match self {
            Self::Ip(addr) => Some(*addr),
            _ => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(addr) => write!(f, "{addr}"),
            Self::Path(path) => write!(f, "unix:{}", path.display()),
            Self::Abstract(name) => write!(f, "unix:@{}", String::from_utf8_lossy(name)),
            Self::Unnamed => f.write_str("unix:"),
        }
    }
}

/// The largest datagram `UdpSock::receive` returns: OpenResty's default and maximum
/// receive size (65536 since v0.10.23).
pub const MAX_DATAGRAM: usize = 65536;
