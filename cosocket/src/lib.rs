//! # cosocket
//!
//! OpenResty's *cosockets* for Rust: sockets whose calls read like blocking code —
//! `connect`, `send`, `receive_line`, `receive_until`, `set_keepalive` — with per-call
//! timeouts, a receive buffer with line / exact-length / read-any / pattern readers,
//! vectored sends of fragment lists and a keyed keepalive pool with a connect backlog, on
//! whichever async executor the application picks. Semantics follow
//! `lua-nginx-module` to the letter: the same results, the same error texts
//! (`timeout`, `closed`, `connection refused`, …), the same partial data on errors.
//!
//! Client libraries (Redis, memcached, DNS, HTTP, custom protocols) are written once
//! against the traits in [`prelude`] and behave identically on every backend.
//!
//! ## Getting started
//!
//! An application makes one [`Context`] (the nginx worker: directives and pools) over its
//! runtime and takes sockets from it:
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn demo() -> cosocket::Result<()> {
//! use std::time::Duration;
//! use cosocket::prelude::*;
//! use cosocket::{ConnectOptions, Context};
//!
//! let cx = Context::new(cosocket::tokio::Tokio::new(tokio::runtime::Handle::current()));
//! let mut redis = cx.stream();
//! redis.set_timeout(Some(Duration::from_millis(500)));
//! redis.connect("127.0.0.1", 6379, &ConnectOptions::new()).await?;
//! redis.send(&("PING", "\r\n")).await?;
//! let reply = redis.receive_line().await?; // "+PONG"
//! redis.set_keepalive(None, None)?; // back to the pool for the next connect
//! # Ok(())
//! # }
//! ```
//!
//! `cargo run -p cosocket --example quickstart --features tokio` runs a complete client
//! against an in-process peer.
//!
//! ## Optional features
//!
//! | feature | what it adds | backend type |
//! |---|---|---|
//! | `tokio` | the tokio backend (current-thread or multi-thread runtimes) | `cosocket::tokio::Tokio` |
//! | `smol` | the smol / async-io backend | `cosocket::smol::Smol` |
//!
//! Features are additive and none is on by default: the application names its runtime.
//! Without a feature the crate still offers every trait, so a client library depends on
//! `cosocket` with no feature at all.
//!
//! ## Results, the OpenResty way
//!
//! Every call returns `Result<T, Error>`. `Ok` is OpenResty's first return value; an
//! [`Error`] is its `nil, err` pair — its `Display` is the exact text — and
//! [`Error::partial`] is the third value a failed read returns (`nil, "timeout", "abc"`).
//! [`ErrorKind::Eof`] (`closed` with a partial: the peer closed during this read) is
//! distinct from [`ErrorKind::Closed`] (an operation on a closed half).
//!
//! ## Cancel safety
//!
//! | operation | dropped before completion |
//! |---|---|
//! | `receive_line`, `receive_all`, `receive_exact`, `receive_any` | consumes nothing: every received byte stays buffered |
//! | `receive_until` | consumes nothing and leaves the [`Until`] as it was |
//! | `send` | nothing changes if no byte was written; after a partial write the write half closes (as a send timeout does) |
//! | `connect` | the half-open connection is closed and any pool slot given back |
//! | `UdpSock::receive` / `send` | a datagram is consumed / sent whole or not at all |
//!
//! ## OpenResty names → Rust names
//!
//! | OpenResty | cosocket |
//! |---|---|
//! | `ngx.socket.tcp()`, `ngx.socket.stream()` | [`Cosockets::stream`] |
//! | `ngx.socket.udp()` | [`Cosockets::datagram`] |
//! | `ngx.socket.connect(host, port, opts)` | [`Cosockets::connect`] |
//! | `sock:connect(host, port, opts)` | [`TcpSock::connect`], [`TcpSock::connect_addr`] |
//! | `sock:connect("unix:/path", opts)` | [`UnixSock::connect_unix`] (or `connect("unix:/path", port, …)`) |
//! | `sock:receive()`, `receive("*l")` | [`StreamRead::receive_line`] |
//! | `sock:receive("*a")` | [`StreamRead::receive_all`] |
//! | `sock:receive(n)` | [`StreamRead::receive_exact`] |
//! | `sock:receiveany(max)` | [`StreamRead::receive_any`] |
//! | `sock:receiveuntil(pat, {inclusive = b})` | [`Until::new`]`(pat)?.`[`inclusive`](Until::inclusive)`(b)` |
//! | `it(size)` | [`StreamRead::receive_until`]`(&mut until, size)` |
//! | `sock:send(data)` | [`StreamWrite::send`] (any [`Fragments`]) |
//! | `sock:settimeout(ms)` / `settimeouts(c, s, r)` | [`StreamSock::set_timeout`] / [`StreamSock::set_timeouts`] |
//! | `sock:setkeepalive(timeout, size)` | [`StreamSock::set_keepalive`] |
//! | `sock:getreusedtimes()` | [`StreamSock::reused_times`] |
//! | `sock:close()` | [`StreamSock::close`] |
//! | `sock:setoption(name, v)` / `getoption(name)` | [`StreamSock::set_option`] / [`StreamSock::get_option`] with [`SocketOption`] |
//! | `sock:bind(ip, port)` | [`StreamSock::bind`] |
//! | `sock:getfd()` | [`StreamSock::fd`] (a `BorrowedFd`) |
//! | `udpsock:setpeername(host, port)` | [`UdpSock::set_peer_name`] |
//! | `udpsock:receive(size)` | [`UdpSock::receive`] |
//! | `lua_socket_*` directives | [`Directives`] |
//!
//! New in cosocket (OpenResty never offered them): [`StreamWrite::shutdown`] (half-close),
//! [`StreamSock::local_addr`] / [`StreamSock::peer_addr`] (and on [`UdpSock`]),
//! [`StreamSock::split`] / [`StreamSock::into_split`] (full duplex without "socket busy"
//! errors), and name resolution through the runtime or your own [`Resolve`].
//!
//! ## The protocol layer, usable on its own
//!
//! ```
//! use std::num::NonZeroUsize;
//! use cosocket::core::proto::testing::{drive, Feed, MemSource};
//! use cosocket::core::proto::{Line, ReadCall, RecvBuffer};
//!
//! let src = MemSource::new([Feed::data("HTTP/1.1 200 OK\r\n"), Feed::Eof]);
//! let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
//! let status = drive(&mut ReadCall::new(Line::new()), &mut buf, &src).unwrap().unwrap();
//! assert_eq!(status, "HTTP/1.1 200 OK");
//! ```
//!
//! ## Stability
//!
//! Pre-1.0. The traits, [`Error`] and [`ErrorKind`] (non-exhaustive), [`Directives`] and
//! [`ConnectOptions`] (non-exhaustive) are designed so that TLS and further options
//! arrive without changing a caller. The backend contract ([`rt`]) may still change
//! between minor versions.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use cosocket_core as core;
pub use cosocket_core::rt;
pub use cosocket_core::{
    Address, Bytes, ConnectOptions, Context, Cosockets, Datagram, Directives, Error, ErrorKind,
    Fragment, FragmentList, Fragments, MAX_DATAGRAM, PoolStats, Resolve, Resolver, Result,
    ReuniteError, SocketOption, Stream, StreamRead, StreamSock, StreamWrite, TcpSock, UdpSock,
    UnixSock, Until,
};

/// The tokio backend.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio {
    pub use cosocket_tokio::*;
}

/// The smol backend.
#[cfg(feature = "smol")]
#[cfg_attr(docsrs, doc(cfg(feature = "smol")))]
pub mod smol {
    pub use cosocket_smol::*;
}

/// The traits, for `use cosocket::prelude::*;`.
pub mod prelude {
    pub use cosocket_core::{
        Cosockets, Fragments, StreamRead, StreamSock, StreamWrite, TcpSock, UdpSock, UnixSock,
    };
}
