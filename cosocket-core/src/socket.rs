//! The user contract: the socket traits client libraries and the conformance suite see.
//!
//! Method names follow OpenResty's (see the crate docs for the table). Results follow its
//! values: `Ok` is the first return value, an [`Error`](crate::Error) the `nil, err` pair,
//! and [`Error::partial`](crate::Error::partial) the third value of a failed read.
//! Timeouts are [`Timeout`]s, and every setter takes `impl Into<Timeout>`: a `Duration`,
//! `None` or [`Timeout::Directive`] for the context's directive, [`Timeout::Never`] for no
//! timeout. Zero keeps OpenResty's meaning: the directive for an operation timeout, "until
//! the server closes it" for `set_keepalive`'s idle timeout. No value panics: a duration of
//! 30 years or more (`Duration::MAX` included) is `Never`.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::os::fd::BorrowedFd;
use std::path::Path;

use bytes::Bytes;

use crate::options::{Address, ConnectOptions, ReuniteError, SocketOption};
use crate::proto::{Fragments, Result, Timeout, Until};

/// The reading side of a stream socket (the whole socket, or a read half).
///
/// Every read is cancel safe: dropping its future before completion consumes nothing, and
/// every byte received stays buffered for the next read.
///
/// Results over [`COPY_MAX`](crate::proto::buffer::COPY_MAX) (256) bytes are not copied: such a
/// `Bytes` shares the receive buffer's block it arrived in (about two `buffer_size`
/// segments, or what one large read needed), which stays allocated until the last such
/// `Bytes` is dropped. Shorter results are copies; the `_ref` readers copy nothing.
///
/// Every reading side is also a futures-io [`AsyncRead`](futures::io::AsyncRead) and
/// [`AsyncBufRead`](futures::io::AsyncBufRead) (and tokio's, with the `tokio` feature),
/// served from the same receive buffer, so cosocket reads and I/O-trait reads interleave
/// byte-exactly; the read timeout applies to them as an idle timeout
/// (`io::ErrorKind::TimedOut`, nothing closed).
pub trait StreamRead: futures::io::AsyncRead + futures::io::AsyncBufRead + Unpin + Send {
    /// `receive()` / `receive("*l")`: the next line, without its LF and without **any** CR.
    ///
    /// Errors: `closed` with the pending line (CRs removed) as partial when the stream ends
    /// first (the read half closes); `timeout` with the pending line as partial (consumed;
    /// the socket stays usable); a socket error with the partial (the read half closes).
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing.
    fn receive_line(&mut self) -> impl Future<Output = Result<Bytes>> + Send;

    /// `receive("*a")`: everything until the peer closes. The end of the stream is a
    /// success here (possibly `""`), and a second call returns `""` at once.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing.
    fn receive_all(&mut self) -> impl Future<Output = Result<Bytes>> + Send;

    /// `receive(n)`: exactly `n` bytes; `receive_exact(0)` returns `""` at once.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing.
    fn receive_exact(&mut self, n: usize) -> impl Future<Output = Result<Bytes>> + Send;

    /// `receiveany(max)`: buffered bytes at once if any, else what one `recv` brings (at
    /// most one `buffer_size`), never more than `max`. `max == 0` is `bad max argument`.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing.
    fn receive_any(&mut self, max: usize) -> impl Future<Output = Result<Bytes>> + Send;

    /// `it()` of a `receiveuntil` iterator: the next part, up to the pattern (which is
    /// consumed, and returned too if `until` is [inclusive](Until::inclusive)). Errors as
    /// `receive_line`'s: the partial is the part read so far; a timeout keeps a partial
    /// match in `until`, so the next call resumes.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing and leaves `until` as it was.
    fn receive_until(&mut self, until: &mut Until) -> impl Future<Output = Result<Bytes>> + Send;

    /// `it(size)` of a `receiveuntil` iterator: the part in chunks of about `size` bytes,
    /// then `Ok(None)` at its end (OpenResty's `nil, nil, nil`), so a part is read with
    /// `while let Some(chunk) = s.receive_until_chunk(&mut until, size).await? { … }`.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing and leaves `until` as it was.
    fn receive_until_chunk(
        &mut self,
        until: &mut Until,
        size: NonZeroUsize,
    ) -> impl Future<Output = Result<Option<Bytes>>> + Send;

    /// [`receive_line`](Self::receive_line) without an allocation: the line is borrowed
    /// from the receive buffer (a line with CRs inside, from a reused scratch buffer) until
    /// the next call on this socket. For parsers that look at a header and move on. The
    /// errors and their partials are `receive_line`'s.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing.
    fn receive_line_ref(&mut self) -> impl Future<Output = Result<&[u8]>> + Send;

    /// [`receive_exact`](Self::receive_exact) without an allocation: the `n` bytes are
    /// borrowed from the receive buffer until the next call on this socket.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped call consumes nothing.
    fn receive_exact_ref(&mut self, n: usize) -> impl Future<Output = Result<&[u8]>> + Send;

    /// The read timeout of the reads that follow, an idle timeout (zero: the directive).
    /// Set on a half or on the socket, it stays with the socket across reconnects and
    /// `reunite`.
    fn set_read_timeout(&mut self, timeout: impl Into<Timeout>);

    /// The read limit of the reads that follow: the most bytes a line, a part, a
    /// `receive_all` or a `receive_exact` may consume. `None`: the context's
    /// [`read_limit`](crate::Directives::read_limit) (unlimited by default, as OpenResty);
    /// `Some(usize::MAX)`: unlimited. A read that would need more fails with
    /// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) (`read limit exceeded`, no
    /// partial) whatever the segmentation, discards the buffered bytes and closes the read
    /// half: at most the limit plus one `buffer_size` segment is ever buffered. A line
    /// counts its LF, a part its pattern. `receive_until_chunk` and `receive_any` are
    /// bounded by their sizes and not limited. It stays with the socket across reconnects,
    /// as the timeouts do.
    fn set_read_limit(&mut self, limit: Option<usize>);
}

/// The writing side of a stream socket (the whole socket, or a write half).
///
/// Also a futures-io [`AsyncWrite`](futures::io::AsyncWrite) (and tokio's, with the
/// `tokio` feature): vectored, unbuffered (`flush` does nothing), `close` / `shutdown`
/// send FIN; the send timeout applies to each write that waits (`TimedOut`, and the write
/// half closes, as a `send` timeout closes it).
pub trait StreamWrite: futures::io::AsyncWrite + Unpin + Send {
    /// `send(data)`: writes every byte of `data` (vectored), returns the byte count. An
    /// empty payload returns 0 without I/O. Errors close the write half.
    ///
    /// # Cancel safety
    /// Not cancel safe once bytes were written: a send dropped after a partial write closes
    /// the write half (the stream would otherwise be corrupt), as a send timeout does.
    /// Dropped before any byte was written, it changes nothing.
    fn send<F: Fragments + ?Sized + Sync>(
        &mut self,
        data: &F,
    ) -> impl Future<Output = Result<usize>> + Send;

    /// The send timeout of the sends that follow, an idle timeout (zero: the directive).
    /// Set on a half or on the socket, it stays with the socket across reconnects and
    /// `reunite`.
    ///
    /// A send fails with `timeout` once this long has passed since the kernel last took
    /// bytes of it. Once that deadline has passed, the send fails when next woken without
    /// writing again, as nginx's write handler does when its timer fired: every backend
    /// times out alike, whether or not it tries a write on each wake-up.
    fn set_send_timeout(&mut self, timeout: impl Into<Timeout>);

    /// Half-close: sends FIN (`shutdown(SHUT_WR)`) and closes the write half; reading goes
    /// on. OpenResty's HTTP module never offered it (spec §12).
    fn shutdown(&mut self) -> Result<()>;
}

/// A stream socket (TCP or Unix): both sides, plus connection management.
///
/// `&mut self` everywhere rules out OpenResty's `socket busy …` errors at compile time;
/// full duplex use goes through [`split`](StreamSock::split) or
/// [`into_split`](StreamSock::into_split).
pub trait StreamSock: StreamRead + StreamWrite + Sized {
    /// A borrowed read half.
    type ReadHalf<'a>: StreamRead + 'a
    where
        Self: 'a;
    /// A borrowed write half.
    type WriteHalf<'a>: StreamWrite + 'a
    where
        Self: 'a;
    /// An owned read half, for a spawned task.
    type OwnedReadHalf: StreamRead + fmt::Debug + 'static;
    /// An owned write half, for a spawned task.
    type OwnedWriteHalf: StreamWrite + fmt::Debug + 'static;

    /// `settimeout(t)`: connect, send and read timeouts at once (zero: the directives).
    /// Applies to the next connect and to the live connection.
    fn set_timeout(&mut self, timeout: impl Into<Timeout>);

    /// `settimeouts(connect, send, read)`.
    fn set_timeouts(
        &mut self,
        connect: impl Into<Timeout>,
        send: impl Into<Timeout>,
        read: impl Into<Timeout>,
    );

    /// `close()`: closes the connection (buffered input is discarded). `closed` if there is
    /// no connection or both halves are closed.
    fn close(&mut self) -> Result<()>;

    /// `setkeepalive(timeout, size)`: puts the connection into the context's pool for its
    /// key (spec §5.4). `timeout`: idle timeout ([`Timeout::Directive`] or `None`: the
    /// directive; zero or [`Timeout::Never`]: never expires); `size`: the pool's size if
    /// this call creates it. The socket is closed for its user afterwards and can connect
    /// again.
    fn set_keepalive(
        &mut self,
        timeout: impl Into<Timeout>,
        size: Option<NonZeroUsize>,
    ) -> Result<()>;

    /// Marks a request in flight on the connection, until [`end_request`](Self::end_request).
    /// Meanwhile [`set_keepalive`](Self::set_keepalive) closes the connection and fails
    /// with [`ErrorKind::RequestInFlight`](crate::ErrorKind::RequestInFlight) instead of
    /// pooling it. A client library calls it before writing a request and `end_request`
    /// after reading the whole answer, so that a request that timed out, failed half-way
    /// or was cancelled (its future dropped) never hands its late answer to the next user
    /// of the connection. Not OpenResty's: without it, `set_keepalive` pools such a
    /// connection, as OpenResty does. A new connection starts with no request in flight;
    /// without a connection this does nothing.
    fn begin_request(&mut self);

    /// The request begun by [`begin_request`](Self::begin_request) is complete: the
    /// connection may be pooled again.
    fn end_request(&mut self);

    /// Whether a request is in flight (see [`begin_request`](Self::begin_request)).
    fn request_in_flight(&self) -> bool;

    /// `getreusedtimes()`: how often this connection was taken from a pool (0 for a new
    /// one); `closed` without a connection.
    fn reused_times(&self) -> Result<u32>;

    /// `setoption(name, value)`. Before any connect: `socket is never created nor
    /// connected`; without a connection: `closed`.
    fn set_option(&mut self, option: SocketOption, value: i32) -> Result<()>;

    /// `getoption(name)`: the value read back from the kernel.
    fn get_option(&self, option: SocketOption) -> Result<i32>;

    /// `bind(ip, port)`: the local address for the next connects (kept across reconnects;
    /// a connection taken from a pool keeps its own). `ip` must be an IP literal (`bad
    /// address` otherwise); port 0 lets the kernel choose.
    fn bind(&mut self, ip: &str, port: u16) -> Result<()>;

    /// `getfd()` (spec §8.4): the connection's descriptor, borrowed for as long as the
    /// socket is (for fd-based libraries and syscalls cosocket does not make); `closed`
    /// without a connection. Reading or writing through it bypasses the receive buffer.
    fn fd(&self) -> Result<BorrowedFd<'_>>;

    /// The connection's local address (`getsockname`); `closed` without a connection. A
    /// connection taken from a pool keeps the address it was opened with (spec §8.2).
    /// OpenResty has no such call (spec §12: `getfd` + FFI).
    fn local_addr(&self) -> Result<Address>;

    /// The connection's peer address (`getpeername`); `closed` without a connection.
    fn peer_addr(&self) -> Result<Address>;

    /// Borrowed halves for concurrent reading and writing in one task (`join!`).
    fn split(&mut self) -> (Self::ReadHalf<'_>, Self::WriteHalf<'_>);

    /// Owned halves that move into spawned tasks. Dropping the write half sends FIN (as
    /// tokio's `OwnedWriteHalf` does) unless it is closed already; dropping the read half
    /// changes nothing; the connection closes when both are gone.
    /// [`reunite`](StreamSock::reunite) gives the socket back (needed for `close`,
    /// `set_keepalive`, `connect`).
    fn into_split(self) -> (Self::OwnedReadHalf, Self::OwnedWriteHalf);

    /// Puts owned halves of one socket back together.
    fn reunite(
        read: Self::OwnedReadHalf,
        write: Self::OwnedWriteHalf,
    ) -> Result<Self, ReuniteError<Self::OwnedReadHalf, Self::OwnedWriteHalf>>;
}

/// A stream socket that connects over TCP (and to `unix:` hosts, as OpenResty's does).
pub trait TcpSock: StreamSock {
    /// `connect(host, port, opts)`: `host` is an IPv4 literal, `[IPv6]` or a bare IPv6
    /// literal, a name (resolved by the context's resolver), or `unix:/path` (then `port`
    /// only becomes part of the pool key). A connected socket is closed first (never
    /// pooled). Errors use nginx's texts (`failed to parse host name "": no host`,
    /// `no resolver defined to resolve "H"`, `connection refused`, `timeout`, …).
    ///
    /// # Cancel safety
    /// Dropping the call closes whatever connection it was opening and gives back any pool
    /// slot it held; the socket is left unconnected.
    fn connect(
        &mut self,
        host: &str,
        port: u16,
        options: &ConnectOptions,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Connects to an address without name resolution; the default pool key is the
    /// address's `ip:port` text (`[v6]:port` for IPv6).
    ///
    /// # Cancel safety
    /// As [`connect`](TcpSock::connect).
    fn connect_addr(
        &mut self,
        addr: SocketAddr,
        options: &ConnectOptions,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A stream socket that connects to Unix stream sockets.
pub trait UnixSock: StreamSock {
    /// `connect("unix:" .. path, opts)`: the default pool key is `unix:PATH`.
    ///
    /// # Cancel safety
    /// As [`TcpSock::connect`].
    fn connect_unix(
        &mut self,
        path: &Path,
        options: &ConnectOptions,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A datagram socket (`ngx.socket.udp()`): UDP or Unix datagram. No error closes it.
pub trait UdpSock: Send {
    /// `setpeername(host, port)`: closes any previous socket, resolves `host` (or takes
    /// `unix:/path`), creates, binds (see [`bind`](UdpSock::bind)) and connects a new one.
    ///
    /// # Cancel safety
    /// Dropping the call leaves the socket without a peer.
    fn set_peer_name(&mut self, host: &str, port: u16) -> impl Future<Output = Result<()>> + Send;

    /// `send(data)`: the fragments as one datagram. `message too long` past the kernel's
    /// limit; `connection refused` after an ICMP error.
    ///
    /// # Cancel safety
    /// Cancel safe: a datagram leaves whole or not at all.
    fn send<F: Fragments + ?Sized + Sync>(
        &mut self,
        data: &F,
    ) -> impl Future<Output = Result<()>> + Send;

    /// `receive(size)`: one datagram, truncated to `size` (at most 65536, OpenResty's
    /// default and maximum); `receive(0)` consumes a datagram and returns `""`.
    ///
    /// # Cancel safety
    /// Cancel safe: a datagram is consumed only by a completed call.
    fn receive(&mut self, size: usize) -> impl Future<Output = Result<Bytes>> + Send;

    /// `settimeout(t)`: the read timeout (total); zero: the directive.
    fn set_timeout(&mut self, timeout: impl Into<Timeout>);

    /// `close()`; `closed` if there is no socket.
    fn close(&mut self) -> Result<()>;

    /// `bind(ip)`: the local address for the next `set_peer_name` (`bad address` unless
    /// `ip` is an IP literal).
    fn bind(&mut self, ip: &str) -> Result<()>;

    /// The socket's descriptor, borrowed; `closed` before `set_peer_name`.
    fn fd(&self) -> Result<BorrowedFd<'_>>;

    /// The socket's local address (for a Unix datagram socket, the abstract name it was
    /// given so that replies reach it); `closed` before `set_peer_name`.
    fn local_addr(&self) -> Result<Address>;

    /// The peer set by `set_peer_name`, as the kernel has it; `closed` before.
    fn peer_addr(&self) -> Result<Address>;
}

/// TLS on a stream socket (feature `tls`): OpenResty's `sslhandshake` and
/// `setclientcert` (spec §8.3). [`Stream`](crate::Stream) implements it; generic client
/// code asks for it with `where C::Stream: TlsSock`.
///
/// After the handshake every reader, `send` and the I/O traits carry plaintext over the
/// TLS connection; `set_keepalive` pools it handshaked, and `close` sends close_notify.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub trait TlsSock: StreamSock {
    /// `sslhandshake(reused_session?, server_name?, ssl_verify?)`: a TLS handshake on the
    /// connected socket, bounded by the **connect** timeout, then (unless
    /// [`dangerous_skip_verification`](crate::tls::TlsOptions::dangerous_skip_verification))
    /// the certificate check.
    ///
    /// Returns the session (`None` when [`no_session`](crate::tls::TlsOptions::no_session)
    /// was asked). On a connection that is already TLS (a second call, or one from the
    /// pool) it returns at once with no traffic and no check: the offered session if one
    /// was given, else the connection's.
    ///
    /// Errors: `closed` (no connection), `SSL_set_tlsext_host_name failed` (an empty or
    /// unusable server name; the connection stays open), and, closing the connection,
    /// `timeout`, `handshake failed`, `certificate host mismatch` or OpenSSL's verify
    /// texts (`18: self-signed certificate`, `20: unable to get local issuer
    /// certificate`, `10: certificate has expired`, …).
    fn ssl_handshake(
        &mut self,
        options: &crate::tls::TlsOptions,
    ) -> impl Future<Output = Result<Option<crate::tls::TlsSession>>> + Send;

    /// `setclientcert(cert, key)`: the client certificate this socket's later handshakes
    /// send when asked (`None` clears it). Kept across connects, as OpenResty keeps it
    /// with the socket object.
    fn set_client_cert(&mut self, cert: Option<crate::tls::ClientCert>);

    /// What the handshake negotiated (version, ALPN, cipher suite, resumption), or `None`
    /// on a connection without TLS.
    fn tls_info(&self) -> Option<crate::tls::TlsInfo>;
}
