//! The context trait (the nginx worker).

use std::future::Future;

use crate::config::Directives;
use crate::options::{ConnectOptions, PoolStats};
use crate::proto::Result;
use crate::socket::{TcpSock, UdpSock, UnixSock};

/// A cosocket context: the nginx worker. It holds the directives and the connection
/// pools, and creates sockets. Cheap to clone (clones share the pools).
///
/// Client libraries are written against this trait (`fn new<C: Cosockets>(cx: &C)`) and
/// so run on every backend.
pub trait Cosockets: Clone + Send + Sync + 'static {
    /// `ngx.socket.tcp()` / `ngx.socket.stream()`: one type for TCP and Unix streams, as an
    /// OpenResty object may connect to a host and later to a Unix path. With the `tls`
    /// feature it also speaks TLS ([`TlsSock`](crate::TlsSock)), so that client
    /// libraries generic over the context can call `ssl_handshake`.
    #[cfg(not(feature = "tls"))]
    type Stream: TcpSock + UnixSock + 'static;
    /// OpenResty object may connect to a host and later to a Unix path. With the `tls`
    /// feature it also speaks TLS ([`TlsSock`](crate::TlsSock)), so that client
    /// libraries generic over the context can call `ssl_handshake`.
    #[cfg(feature = "tls")]
    type Stream: TcpSock + UnixSock + crate::TlsSock + 'static;
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
