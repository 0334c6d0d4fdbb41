//! The client: a connection per request from the context's pool, the request in one
//! `send`, the response's head read before the call returns.

use std::num::NonZeroUsize;
use std::sync::Arc;

use cosocket::prelude::*;
use cosocket::{ConnectOptions, Cosockets, ErrorKind, Timeout};

use crate::error::{Error, Result};
use crate::request::Request;
use crate::response::{Keepalive, Limits, Response, read_head};

/// How an [`Http`] client connects and reads.
#[derive(Debug, Clone)]
pub struct Config {
    connect_timeout: Timeout,
    send_timeout: Timeout,
    read_timeout: Timeout,
    keepalive_timeout: Timeout,
    pool_size: Option<NonZeroUsize>,
    limits: Limits,
    user_agent: String,
    #[cfg(feature = "tls")]
    tls: cosocket::tls::TlsOptions,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connect_timeout: Timeout::Directive,
            send_timeout: Timeout::Directive,
            read_timeout: Timeout::Directive,
            keepalive_timeout: Timeout::Directive,
            pool_size: None,
            limits: Limits::default(),
            user_agent: concat!("cosocket-http/", env!("CARGO_PKG_VERSION")).to_owned(),
            #[cfg(feature = "tls")]
            tls: cosocket::tls::TlsOptions::new(),
        }
    }
}

impl Config {
    /// The defaults: the context's timeouts, its pool size, [`Limits::default`], HTTPS
    /// verified against the default trust store.
    pub fn new() -> Self {
        Self::default()
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

    /// The response limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The `User-Agent` of requests that set none.
    #[must_use]
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// The TLS options of `https://` requests (trust store, client certificate, versions).
    /// Without a server name, the URL's host is the server name.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, options: cosocket::tls::TlsOptions) -> Self {
        self.tls = options;
        self
    }
}

/// An HTTP/1.1 client over a cosocket context: cheap to clone, shared by tasks.
#[derive(Debug, Clone)]
pub struct Http<C: Cosockets> {
    cx: C,
    config: Arc<Config>,
}

impl<C: Cosockets> Http<C> {
    /// A client on the context `cx`.
    pub fn new(cx: C, config: Config) -> Self {
        Self {
            cx,
            config: Arc::new(config),
        }
    }

    /// `GET url`, with the head read; the body is the response's to read.
    pub async fn get(&self, url: &str) -> Result<Response<C::Stream>> {
        self.send(&Request::get(url)?).await
    }

    /// Sends `request` (one vectored `send`: head and body) and reads the response's
    /// head. A request on a pooled connection that the server closed meanwhile (nothing
    /// of a response came) is sent again once on a new connection when its method is
    /// idempotent (RFC 9110 §9.2.2).
    pub async fn send(&self, request: &Request<'_>) -> Result<Response<C::Stream>> {
        let idempotent = matches!(
            request.method(),
            "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
        );
        let mut tries = 0;
        loop {
            tries += 1;
            let mut sock = self.connect(request).await?;
            let reused = sock.reused_times().unwrap_or(0) > 0;
            match self.exchange(&mut sock, request).await {
                Ok(head) => {
                    let keepalive = Keepalive {
                        reusable: !request.wants_close(),
                        idle: self.config.keepalive_timeout,
                        pool_size: self.config.pool_size,
                    };
                    return Response::new(
                        sock,
                        request.method(),
                        head,
                        keepalive,
                        self.config.limits,
                    );
                }
                Err(e) => {
                    let _ = sock.close();
                    let stale = matches!(
                        e.as_transport()
                            .map(|t| (t.kind(), t.partial().is_none_or(|p| p.is_empty()))),
                        Some((
                            ErrorKind::Eof
                                | ErrorKind::Closed
                                | ErrorKind::Reset
                                | ErrorKind::BrokenPipe,
                            true
                        ))
                    );
                    if !(reused && stale && idempotent && tries < 3) {
                        return Err(e);
                    }
                }
            }
        }
    }

    async fn connect(&self, request: &Request<'_>) -> Result<C::Stream> {
        let config = &*self.config;
        let url = request.url();
        let mut sock = self.cx.stream();
        sock.set_timeouts(
            config.connect_timeout,
            config.send_timeout,
            config.read_timeout,
        );
        sock.set_read_limit(Some(config.limits.max_line));
        #[allow(unused_mut)]
        let mut options = ConnectOptions::new();
        if url.tls {
            #[cfg(feature = "tls")]
            {
                options = options.tls(config.tls.clone());
            }
            #[cfg(not(feature = "tls"))]
            return Err(Error::Input(
                "https:// needs cosocket-http's `tls` feature".into(),
            ));
        }
        sock.connect(&url.host, url.port, &options).await?;
        Ok(sock)
    }

    async fn exchange(
        &self,
        sock: &mut C::Stream,
        request: &Request<'_>,
    ) -> Result<crate::response::Head> {
        // Until the body's end is read, the connection is not poolable.
        sock.begin_request();
        sock.send(&request.wire(&self.config.user_agent)).await?;
        read_head(sock, &self.config.limits).await
    }
}

#[allow(dead_code)]
fn _errors_are_send_and_sync(e: Error) -> impl Send + Sync {
    e
}
