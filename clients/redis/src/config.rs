//! Where a client connects and how it sets a new connection up.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::path::PathBuf;

use cosocket::{ConnectOptions, Timeout};

use crate::reply::Limits;

/// The server's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A host name or IP address and a port.
    Tcp(String, u16),
    /// A Unix socket's path.
    Unix(PathBuf),
}

/// How a [`Redis`](crate::Redis) client connects: the server, the credentials and database
/// a new connection is set up with, timeouts, the pool and the reply limits.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) target: Target,
    pub(crate) options: ConnectOptions,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) db: u32,
    pub(crate) resp3: bool,
    pub(crate) connect_timeout: Timeout,
    pub(crate) send_timeout: Timeout,
    pub(crate) read_timeout: Timeout,
    pub(crate) keepalive_timeout: Timeout,
    pub(crate) pool_size: Option<NonZeroUsize>,
    pub(crate) limits: Limits,
}

impl Config {
    /// A server at `host:port` (the context's resolver resolves a name).
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Self::new(Target::Tcp(host.into(), port))
    }

    /// A server on a Unix socket.
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Self::new(Target::Unix(path.into()))
    }

    fn new(target: Target) -> Self {
        Self {
            target,
            options: ConnectOptions::new(),
            username: None,
            password: None,
            db: 0,
            resp3: false,
            connect_timeout: Timeout::Directive,
            send_timeout: Timeout::Directive,
            read_timeout: Timeout::Directive,
            keepalive_timeout: Timeout::Directive,
            pool_size: None,
            limits: Limits::default(),
        }
    }

    /// `AUTH password` on each new connection (`requirepass`).
    #[must_use]
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// `AUTH username password` on each new connection (an ACL user; needs a password).
    #[must_use]
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// `SELECT db` on each new connection (default 0: no `SELECT`).
    #[must_use]
    pub fn db(mut self, db: u32) -> Self {
        self.db = db;
        self
    }

    /// RESP3: `HELLO 3` (with the credentials) on each new connection, so maps, sets,
    /// doubles and pushes come typed.
    #[must_use]
    pub fn resp3(mut self, on: bool) -> Self {
        self.resp3 = on;
        self
    }

    /// cosocket's connect options: a `pool` name, `pool_size` and `backlog`, and with the
    /// facade's `tls` feature TLS through the one-call form
    /// (`ConnectOptions::new().tls(TlsOptions::new())`).
    #[must_use]
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.options = options;
        self
    }

    /// The connect, send and read timeouts (each [`Timeout::Directive`] by default: the
    /// context's directives).
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
    /// creates it (`set_keepalive`'s two arguments).
    #[must_use]
    pub fn keepalive(mut self, idle: impl Into<Timeout>, pool_size: Option<NonZeroUsize>) -> Self {
        self.keepalive_timeout = idle.into();
        self.pool_size = pool_size;
        self
    }

    /// The reply limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The server's address.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The pool name connections go to: the user's, or one naming the server, the database,
    /// the protocol and the credentials, so that a connection set up for one database or
    /// user never serves another (the password enters as a hash).
    pub fn pool_name(&self) -> String {
        if let Some(name) = self.options.pool_name() {
            return name.to_owned();
        }
        let server = match &self.target {
            Target::Tcp(host, port) => format!("{host}:{port}"),
            Target::Unix(path) => format!("unix:{}", path.display()),
        };
        let mut hasher = DefaultHasher::new();
        (&self.username, &self.password).hash(&mut hasher);
        format!(
            "redis:{server}/db{}/resp{}/{:016x}",
            self.db,
            if self.resp3 { 3 } else { 2 },
            hasher.finish()
        )
    }

    pub(crate) fn connect_options_with_pool(&self) -> ConnectOptions {
        self.options.clone().pool(self.pool_name())
    }
}
