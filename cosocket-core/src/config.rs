//! The eight `lua_socket_*` directives and the resolver setting (spec §9): what an nginx
//! worker's configuration gives every cosocket it creates.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

/// The `lua_socket_*` settings of a context, with OpenResty's defaults.
///
/// ```
/// use std::time::Duration;
/// use cosocket_core::Directives;
/// let mut d = Directives::default();
/// assert_eq!(d.read_timeout, Duration::from_secs(60));
/// d.read_timeout = Duration::from_millis(500);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Directives {
    /// `lua_socket_connect_timeout` (60 s): bounds a connect and a wait in the pool's
    /// backlog (name resolution has `resolver_timeout`).
    pub connect_timeout: Duration,
    /// `lua_socket_send_timeout` (60 s): idle timeout of a send.
    pub send_timeout: Duration,
    /// `lua_socket_read_timeout` (60 s): idle timeout of a TCP read, total of a UDP one.
    pub read_timeout: Duration,
    /// `lua_socket_send_lowat` (0): accepted for parity and never read. Linux cannot set
    /// `SO_SNDLOWAT` (`setsockopt` fails with `ENOPROTOOPT`), so no value has an effect
    /// there, in nginx as here.
    pub send_lowat: usize,
    /// `lua_socket_buffer_size` (4096, one page): the receive buffer's segment size; it
    /// bounds one `recv` and one `receive_any` result.
    ///
    /// From 1 byte to [`Directives::MAX_BUFFER_SIZE`] (16 MiB). A connect on a context
    /// with a larger value fails with [`ErrorKind::InvalidArgument`](crate::ErrorKind)
    /// and the text of [`Directives::check`], before anything is opened (nginx refuses
    /// such a directive at start). A socket's first `recv` writes up to one segment, so a
    /// segment's worth of memory is what each reading socket touches at least.
    pub buffer_size: NonZeroUsize,
    /// `lua_socket_pool_size` (30): the size of a pool created without an explicit one.
    pub pool_size: NonZeroUsize,
    /// `lua_socket_keepalive_timeout` (60 s): idle timeout of pooled connections;
    /// `Duration::ZERO` means they never expire.
    pub keepalive_timeout: Duration,
    /// `lua_socket_log_errors` (on): whether failures are logged (spec §10).
    pub log_errors: bool,
    /// nginx's `tcp_nodelay` (on): `TCP_NODELAY` is set on a TCP connection's first send
    /// (not at connect, spec §3).
    pub tcp_nodelay: bool,
    /// nginx's `resolver`: how host names are resolved (the runtime's resolver by default).
    pub resolver: Resolver,
    /// nginx's `resolver_timeout` (30 s): bounds name resolution in `connect`.
    pub resolver_timeout: Duration,
    /// The most bytes one line, part (`receive_until` without a size), `receive_all` or
    /// `receive_exact` read may consume (`None`, the default: unlimited, as OpenResty).
    /// A read that would need more fails with [`ErrorKind::TooLarge`](crate::ErrorKind)
    /// and closes the read half (see [`StreamRead::set_read_limit`](crate::StreamRead),
    /// which overrides it per socket). Not an
    /// OpenResty directive: its reads buffer whatever the peer sends.
    pub read_limit: Option<NonZeroUsize>,
    /// The `lua_ssl_*` directives: protocols, trusted certificates, verify depth, client
    /// certificate, and a session cache (feature `tls`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: crate::tls::TlsDirectives,
}

impl Default for Directives {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            send_lowat: 0,
            buffer_size: NonZeroUsize::new(4096).expect("4096 is not zero"),
            pool_size: NonZeroUsize::new(30).expect("30 is not zero"),
            keepalive_timeout: Duration::from_secs(60),
            log_errors: true,
            tcp_nodelay: true,
            resolver: Resolver::Runtime,
            resolver_timeout: Duration::from_secs(30),
            read_limit: None,
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsDirectives::default(),
        }
    }
}

impl Directives {
    /// The largest [`buffer_size`](Self::buffer_size): 16 MiB.
    pub const MAX_BUFFER_SIZE: usize = 16 << 20;

    /// Whether every value is in its range; a context whose directives fail here fails
    /// each connect with this error.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use cosocket_core::{Directives, ErrorKind};
    /// let mut d = Directives::default();
    /// assert!(d.check().is_ok());
    /// d.buffer_size = NonZeroUsize::new(1 << 30).unwrap();
    /// let e = d.check().unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    /// assert_eq!(
    ///     e.message(),
    ///     "invalid lua_socket_buffer_size: 1073741824 (1 to 16777216 bytes)"
    /// );
    /// ```
    pub fn check(&self) -> crate::Result<()> {
        let size = self.buffer_size.get();
        if size > Self::MAX_BUFFER_SIZE {
            return Err(crate::Error::new(
                crate::ErrorKind::InvalidArgument,
                format!(
                    "invalid lua_socket_buffer_size: {size} (1 to {} bytes)",
                    Self::MAX_BUFFER_SIZE
                ),
            ));
        }
        Ok(())
    }
}

/// How a context resolves host names (nginx's `resolver` directive).
///
/// Every address a resolver gives is tried in order until one connects, all within one
/// connect timeout (OpenResty picks one at random and never falls back); resolution itself
/// is bounded by [`Directives::resolver_timeout`], as nginx's `resolver_timeout`. Failures
/// read like OpenResty's:
///
/// | the resolver | the error text |
/// |---|---|
/// | [`Resolver::None`] | `no resolver defined to resolve "H"` |
/// | `Err` of kind `io::ErrorKind::NotFound`, or no address | `H could not be resolved (3: Host not found)` |
/// | `Err` of kind `TimedOut`, or `resolver_timeout` passed | `H could not be resolved (110: Operation timed out)` |
/// | any other `Err` | `H could not be resolved (2: Server failure)` |
///
/// The runtime's resolver ([`resolve_blocking`](crate::rt::resolve_blocking), `getaddrinfo`)
/// reports a name that does not exist as `NotFound`.
///
/// ```
/// use std::{io, net::SocketAddr, sync::Arc};
/// use cosocket_core::{Directives, Resolve, Resolver};
/// use futures::future::BoxFuture;
///
/// /// Every name is the local Redis pair, the replica first.
/// struct Static;
/// impl Resolve for Static {
///     fn resolve<'a>(&'a self, _host: &'a str, port: u16)
///         -> BoxFuture<'a, io::Result<Vec<SocketAddr>>> {
///         Box::pin(async move {
///             Ok(vec![([127, 0, 0, 2], port).into(), ([127, 0, 0, 1], port).into()])
///         })
///     }
/// }
/// let mut d = Directives::default();
/// d.resolver = Resolver::Custom(Arc::new(Static));
/// ```
#[derive(Clone, Default)]
pub enum Resolver {
    /// The runtime's resolver ([`Runtime::resolve`](crate::rt::Runtime::resolve)).
    #[default]
    Runtime,
    /// None, as nginx without a `resolver` directive: a host name fails with
    /// `no resolver defined to resolve "H"`; IP literals and Unix paths work.
    None,
    /// The user's own.
    Custom(Arc<dyn Resolve>),
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Runtime => f.write_str("Runtime"),
            Self::None => f.write_str("None"),
            Self::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// A user-supplied name resolver, set as [`Resolver::Custom`] on a context's directives.
///
/// Errors map to OpenResty's texts (the table at [`Resolver`]): `io::ErrorKind::NotFound` → `H could not be resolved
/// (3: Host not found)`, `TimedOut` → `(110: Operation timed out)`, anything else →
/// `(2: Server failure)`.
pub trait Resolve: Send + Sync + 'static {
    /// Every address of `host`, in the order they should be tried, with `port` set.
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, io::Result<Vec<SocketAddr>>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_openresty_defaults() {
        let d = Directives::default();
        assert_eq!(d.connect_timeout, Duration::from_secs(60));
        assert_eq!(d.send_timeout, Duration::from_secs(60));
        assert_eq!(d.read_timeout, Duration::from_secs(60));
        assert_eq!(d.send_lowat, 0);
        assert_eq!(d.buffer_size.get(), 4096);
        assert_eq!(d.pool_size.get(), 30);
        assert_eq!(d.keepalive_timeout, Duration::from_secs(60));
        assert!(d.log_errors);
        assert!(d.tcp_nodelay);
        assert!(matches!(d.resolver, Resolver::Runtime));
        assert_eq!(d.resolver_timeout, Duration::from_secs(30));
    }
}
