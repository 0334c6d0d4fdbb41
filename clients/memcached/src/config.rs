//! Where a client connects, its timeouts, pool and limits.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use cosocket::{ConnectOptions, Timeout};

/// The server's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name or IP address and a port.
    Tcp(String, u16),
    /// A Unix socket's path.
    Unix(PathBuf),
}

/// How a [`Memcached`](crate::Memcached) client connects.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) target: Target,
    pub(crate) options: ConnectOptions,
    pub(crate) connect_timeout: Timeout,
    pub(crate) send_timeout: Timeout,
    pub(crate) read_timeout: Timeout,
    pub(crate) keepalive_timeout: Timeout,
    pub(crate) pool_size: Option<NonZeroUsize>,
    pub(crate) max_value: usize,
}

impl Config {
    /// A server at `host:port`.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Self::new(Target::Tcp(host.into(), port))
    }

    /// A server on a Unix socket (`memcached -s PATH`).
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Self::new(Target::Unix(path.into()))
    }

    fn new(target: Target) -> Self {
        Self {
            target,
            options: ConnectOptions::new(),
            connect_timeout: Timeout::Directive,
            send_timeout: Timeout::Directive,
            read_timeout: Timeout::Directive,
            keepalive_timeout: Timeout::Directive,
            pool_size: None,
            max_value: 1 << 20,
        }
    }

    /// cosocket's connect options (a `pool` name, `pool_size`, `backlog`).
    #[must_use]
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.options = options;
        self
    }

    /// The connect, send and read timeouts (each [`Timeout::Directive`] by default).
    #[must_use]
    pub fn timeouts(
        mut self,
        connect: impl Into<Timeout>,
        send: impl Into<Timeout>,
        read: impl Into<Timeout>,
    ) -> Self {
        self.connect_timeout = connect.into();
        self.send_timeout = send.into();
        self.read_timeout = read.into();
        self
    }

    /// How long a pooled connection may stay idle, and the pool's size if this client
    /// creates it.
    #[must_use]
    pub fn keepalive(mut self, idle: impl Into<Timeout>, pool_size: Option<NonZeroUsize>) -> Self {
        self.keepalive_timeout = idle.into();
        self.pool_size = pool_size;
        self
    }

    /// The largest value sent or accepted (default 1 MiB, memcached's default item size,
    /// its `-I`): a larger one is refused with [`Error::TooLarge`](crate::Error::TooLarge)
    /// before anything is sent, and a reply announcing one fails with it before its data
    /// block is read (so a misbehaving or misconfigured server cannot make the client
    /// buffer an arbitrary amount). memcached counts the key and its item header in its
    /// item size too, so a value just under 1 MiB may still get `SERVER_ERROR object too
    /// large for cache`, which leaves the connection usable.
    #[must_use]
    pub fn max_value(mut self, bytes: usize) -> Self {
        self.max_value = bytes;
        self
    }

    /// The pool key connections go to: the user's pool name, or cosocket's default for
    /// the address.
    pub fn pool_key(&self) -> String {
        if let Some(name) = self.options.pool_name() {
            return name.to_owned();
        }
        match &self.target {
            Target::Tcp(host, port) => format!("{host}:{port}"),
            Target::Unix(path) => format!("unix:{}", path.display()),
        }
    }
}
