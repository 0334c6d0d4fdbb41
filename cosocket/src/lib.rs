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
//! redis.set_timeout(Duration::from_millis(500));
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
//! | `tokio` | the tokio backend (current-thread or multi-thread runtimes), and tokio's `AsyncRead` / `AsyncBufRead` / `AsyncWrite` on every stream type | `cosocket::tokio::Tokio` |
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
//! ## Timeouts
//!
//! Every timeout setter takes `impl Into<`[`Timeout`]`>`: a `Duration`, `None` or
//! [`Timeout::Directive`] for the context's directive, [`Timeout::Never`] for none (what
//! std's `set_read_timeout(None)` means). Zero keeps OpenResty's meaning: the directive
//! for an operation timeout, "until the server closes it" for `set_keepalive`. No value
//! panics on any backend; 30 years or more (`Duration::MAX`) is `Never`.
//!
//! ## The standard I/O traits
//!
//! Every stream type (the socket and its borrowed and owned halves) is a futures-io
//! `AsyncRead` + `AsyncBufRead` + `AsyncWrite`, and with the `tokio` feature a tokio one,
//! so `tokio::io::copy`, `copy_bidirectional`, tokio-util's `FramedRead` / `FramedWrite`,
//! `futures::io::copy` and compression wrappers take a cosocket. Trait reads are served
//! from the same receive buffer as `receive_line` and friends, so the two interleave
//! byte-exactly. The socket's read timeout bounds a trait read that waits
//! (`io::ErrorKind::TimedOut`, nothing closed), its send timeout a trait write (`TimedOut`,
//! the write half closes, as a `send` timeout does); `poll_close` / `poll_shutdown` send
//! FIN. `cargo run -p cosocket --example proxy --features tokio` forwards bytes in both
//! directions with owned halves and `receive_any`.
//!
//! ## Writing a client library
//!
//! Write it once against the traits of [`prelude`], generic over [`Cosockets`]. Three
//! things make it fast and safe:
//!
//! * **Borrowed reads for headers.** [`StreamRead::receive_line_ref`] and
//!   [`StreamRead::receive_exact_ref`] lend their bytes out of the receive buffer until
//!   the next call: a RESP or HTTP head is parsed without an allocation.
//! * **A read limit.** A peer that never sends the LF grows the buffer without bound
//!   unless [`StreamRead::set_read_limit`] (or [`Directives::read_limit`]) says how much
//!   one read may take; past it the read fails with [`ErrorKind::TooLarge`].
//! * **Requests in flight are never pooled.** OpenResty pools a connection whose request
//!   timed out, and the next user reads the late answer as its own (the most-reported bug
//!   class of Redis clients and pools). Call [`StreamSock::begin_request`] before writing
//!   a request and [`StreamSock::end_request`] after its whole answer: in between,
//!   `set_keepalive` closes the connection instead ([`ErrorKind::RequestInFlight`]),
//!   whether the request timed out, failed, or its future was dropped.
//!
//! ```no_run
//! use std::time::Duration;
//! use cosocket::prelude::*;
//! use cosocket::{Bytes, ConnectOptions};
//!
//! /// A Redis GET that any backend runs, and that never poisons the pool.
//! pub async fn get<C: Cosockets>(cx: &C, key: &str) -> Result<Option<Bytes>, Box<dyn std::error::Error>> {
//!     let mut redis = cx.connect("127.0.0.1", 6379, &ConnectOptions::new()).await?;
//!     redis.set_timeout(Duration::from_millis(200));
//!     redis.set_read_limit(Some(1 << 20));
//!     redis.begin_request();
//!     // 9 small fragments, one slice for the kernel (small ones are coalesced).
//!     redis.send(&("*2\r\n$3\r\nGET\r\n$", key.len(), "\r\n", key, "\r\n")).await?;
//!     // "$5" or "$-1", looked at in the receive buffer.
//!     let head = redis.receive_line_ref().await?;
//!     let len: i64 = std::str::from_utf8(head.get(1..).unwrap_or_default())?.parse()?;
//!     let value = match usize::try_from(len) {
//!         Ok(n) => Some(redis.receive_exact(n + 2).await?.slice(..n)),
//!         Err(_) => None,
//!     };
//!     redis.end_request();
//!     // A `?` above left the request in flight: had this been reached anyway (say, from
//!     // a cleanup path), the connection would be closed, not pooled.
//!     redis.set_keepalive(None, None)?;
//!     Ok(value)
//! }
//! ```
//!
//! The conformance case `x_request_in_flight_never_pooled` reproduces the poisoning with a
//! BLPOP whose read times out and shows that `begin_request` prevents it.
//!
//! ## Cancel safety
//!
//! | operation | dropped before completion |
//! |---|---|
//! | `receive_line`, `receive_all`, `receive_exact`, `receive_any`, the `_ref` forms | consumes nothing: every received byte stays buffered |
//! | `receive_until`, `receive_until_chunk` | consume nothing and leave the [`Until`] as it was |
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
//! | `it()` | [`StreamRead::receive_until`]`(&mut until)`: the whole part |
//! | `it(size)` | [`StreamRead::receive_until_chunk`]`(&mut until, size)`: chunks, then `None` |
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
//! New in cosocket (OpenResty never offered them): the borrowed reads, read limits,
//! [`Timeout::Never`], `begin_request` / `end_request`, the I/O traits,
//! [`StreamWrite::shutdown`] (half-close),
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
    ReuniteError, SocketOption, Stream, StreamRead, StreamSock, StreamWrite, TcpSock, Timeout,
    UdpSock, UnixSock, Until,
};

/// TLS (feature `tls`): options, sessions, trust stores and client certificates of
/// [`TlsSock`]; see the module docs of [`cosocket_core::tls`].
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls {
    pub use cosocket_core::tls::*;
}
#[cfg(feature = "tls")]
pub use cosocket_core::TlsSock;

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
    #[cfg(feature = "tls")]
    pub use cosocket_core::TlsSock;
    pub use cosocket_core::{
        Cosockets, Fragments, StreamRead, StreamSock, StreamWrite, TcpSock, UdpSock, UnixSock,
    };
}
