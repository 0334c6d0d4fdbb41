//! core's stream socket (`ngx.socket.tcp()` / `ngx.socket.stream()`): one type for TCP and
//! Unix streams, generic over the runtime, with OpenResty's state rules (spec §1.2–§1.3):
//! the read half closes on EOF and read errors (never on a read timeout), the write half on
//! send errors, send timeouts and a send dropped after a partial write; `close`, connect
//! failures and `connection in dubious state` close both.
//!
//! This file holds `StreamSock`; `connect.rs` holds `TcpSock` / `UnixSock`, `read.rs`
//! `StreamRead`, `send.rs` `StreamWrite`, `halves.rs` the half types (the crate docs map
//! every OpenResty method to its file).

mod connect;
mod halves;
mod io;
mod read;
mod send;
#[cfg(feature = "tls")]
mod tls;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

pub use halves::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use read::{ReadParts, ReadSettings, ReadSide};
use send::{WriteParts, WriteSide};

use crate::conn::Conn;
use crate::fd::{self, Probe};
use crate::options::{Address, ReuniteError, SocketOption};
use crate::pool::Pooled;
use crate::proto::deadline::deadline_after;
use crate::proto::host::parse_bind_ip;
use crate::proto::{Error, ErrorKind, ReadState, RecvBuffer, Result, Timeout};
use crate::rt::Runtime;
use crate::socket::StreamSock;
use crate::worker::Worker;

/// What a stream socket holds besides its two sides; travels with the owned read half.
#[derive(Debug)]
pub(crate) struct Rest {
    /// The connect timeout override; the read and send overrides live in the sides.
    connect_timeout: Timeout,
    /// The local address of `bind`, used by every later TCP connect.
    bind: Option<SocketAddr>,
    /// How often the connection was taken from a pool.
    reused: u32,
    /// The pool key of the last connect (spec §5.1).
    key: String,
    /// A connect was ever started: options say `closed` instead of `socket is never
    /// created nor connected` from then on.
    ever_connected: bool,
    /// `begin_request` without `end_request` on this connection: never pooled.
    in_flight: bool,
    /// `setclientcert`'s certificate, for this object's handshakes.
    #[cfg(feature = "tls")]
    client_cert: Option<crate::tls::ClientCert>,
}

/// A stream socket of core: [`TcpSock`](crate::TcpSock) and
/// [`UnixSock`](crate::UnixSock) over runtime `R`. Made by
/// [`Context::stream`](crate::Cosockets::stream).
pub struct Stream<R: Runtime> {
    worker: Worker<R>,
    conn: Option<Arc<Conn<R>>>,
    read: ReadSide<R::Sleep>,
    write: WriteSide<R::Sleep>,
    rest: Rest,
}

impl<R: Runtime> std::fmt::Debug for Stream<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("peer", &self.conn.as_ref().map(|c| c.peer.as_str()))
            .field("read", &self.read.buf.state())
            .field("write_closed", &self.write.closed)
            .field("reused", &self.rest.reused)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Stream<R> {
    /// A new, never connected socket.
    pub(crate) fn new(worker: Worker<R>) -> Self {
        Self {
            worker,
            conn: None,
            read: ReadSide::closed(ReadSettings::default()),
            write: WriteSide::closed(Timeout::Directive),
            rest: Rest {
                connect_timeout: Timeout::Directive,
                bind: None,
                reused: 0,
                key: String::new(),
                ever_connected: false,
                in_flight: false,
                #[cfg(feature = "tls")]
                client_cert: None,
            },
        }
    }

    fn read_parts(&mut self) -> ReadParts<'_, R> {
        ReadParts {
            rt: self.worker.runtime(),
            directives: self.worker.directives(),
            conn: self.conn.as_deref(),
            side: &mut self.read,
        }
    }

    fn write_parts(&mut self) -> WriteParts<'_, R> {
        WriteParts {
            rt: self.worker.runtime(),
            directives: self.worker.directives(),
            conn: self.conn.as_deref(),
            side: &mut self.write,
        }
    }

    /// Drops the connection (never pooled) and marks both halves closed; the settings stay.
    fn disconnect(&mut self) -> Option<Arc<Conn<R>>> {
        self.take_connection().0
    }

    /// [`disconnect`](Self::disconnect), giving back the connection and its receive
    /// buffer (which `set_keepalive` pools with it).
    fn take_connection(&mut self) -> (Option<Arc<Conn<R>>>, RecvBuffer) {
        let closed = ReadSide::closed(self.read.settings);
        let read = std::mem::replace(&mut self.read, closed);
        self.write = WriteSide::closed(self.write.timeout);
        self.rest.in_flight = false;
        (self.conn.take(), read.buf)
    }

    /// Installs a connection: fresh sides with the object's settings.
    fn install(&mut self, conn: Arc<Conn<R>>, reused: u32, nodelay_set: bool) {
        let segment = self.worker.directives().buffer_size;
        self.read = ReadSide::open(segment, self.read.settings);
        self.write = WriteSide::open(!nodelay_set, self.write.timeout);
        self.conn = Some(conn);
        self.rest.reused = reused;
        self.rest.in_flight = false;
    }

    /// Both halves closed (by errors): the object has no usable connection.
    fn both_closed(&self) -> bool {
        self.read.buf.state() == ReadState::Closed && self.write.closed
    }

    /// The connection for option calls (spec §8.1): never connected is a distinct error.
    fn option_conn(&self) -> Result<&Conn<R>> {
        if !self.rest.ever_connected {
            return Err(Error::from_kind(ErrorKind::NeverConnected));
        }
        self.conn.as_deref().ok_or_else(Error::closed)
    }
}

/// Whether the TLS layer holds decrypted bytes nobody read.
fn tls_holds_plaintext<R: Runtime>(conn: &Conn<R>) -> bool {
    #[cfg(feature = "tls")]
    if let Some(tls) = conn.tls() {
        return tls.has_plaintext();
    }
    let _ = conn;
    false
}

/// What `set_keepalive` makes of bytes that arrived after the last read (spec §5.4 step
/// 8): `None` if the connection may be pooled.
fn arrived_after_read<R: Runtime>(conn: &Conn<R>) -> Option<Error> {
    #[cfg(feature = "tls")]
    if let Some(tls) = conn.tls() {
        return match tls.settle(conn.io.as_fd()) {
            crate::tls::Settled::Quiet => None,
            crate::tls::Settled::Data => Some(Error::from_kind(ErrorKind::DubiousState)),
            crate::tls::Settled::Closed => Some(Error::closed()),
        };
    }
    (fd::read_one_byte(&conn.io) != Probe::Quiet).then(|| Error::from_kind(ErrorKind::DubiousState))
}

impl<R: Runtime> StreamSock for Stream<R> {
    type ReadHalf<'a> = ReadHalf<'a, R>;
    type WriteHalf<'a> = WriteHalf<'a, R>;
    type OwnedReadHalf = OwnedReadHalf<R>;
    type OwnedWriteHalf = OwnedWriteHalf<R>;

    fn set_timeout(&mut self, timeout: impl Into<Timeout>) {
        let timeout = timeout.into();
        self.set_timeouts(timeout, timeout, timeout);
    }

    fn set_timeouts(
        &mut self,
        connect: impl Into<Timeout>,
        send: impl Into<Timeout>,
        read: impl Into<Timeout>,
    ) {
        self.rest.connect_timeout = connect.into();
        self.write.timeout = send.into();
        self.read.settings.timeout = read.into();
    }

    fn close(&mut self) -> Result<()> {
        if self.conn.is_none() {
            return Err(Error::closed());
        }
        let had_open_half = !self.both_closed();
        // Buffered input is discarded; the fd closes with the last reference.
        drop(self.disconnect());
        if had_open_half {
            Ok(())
        } else {
            Err(Error::closed())
        }
    }

    /// spec §5.4, its checks in order.
    fn set_keepalive(
        &mut self,
        timeout: impl Into<Timeout>,
        size: Option<NonZeroUsize>,
    ) -> Result<()> {
        let Some(conn) = self.conn.as_deref() else {
            return Err(Error::closed());
        };
        // 1. A closed half, an EOF already read, or a FIN the kernel already has.
        if self.read.buf.state() != ReadState::Open || self.write.closed {
            return Err(Error::closed());
        }
        // A request begun and never ended (timed out, failed, cancelled): its answer may
        // still come, and must not reach the next user of the connection.
        if self.rest.in_flight {
            drop(self.disconnect());
            return Err(Error::from_kind(ErrorKind::RequestInFlight));
        }
        let probe = fd::probe_readiness(&conn.io);
        if probe == Probe::Hangup {
            return Err(Error::closed());
        }
        // 3. Unconsumed bytes (decrypted ones TLS holds too): nothing changes, the
        //    connection stays usable.
        if !self.read.buf.is_empty() || tls_holds_plaintext(conn) {
            return Err(Error::from_kind(ErrorKind::UnreadData));
        }
        // 8. Bytes that arrived after the last read: one byte is read; unless that would
        //    block, the connection is closed. Over TLS what arrived is read and decrypted:
        //    session tickets are no unread data (spec §8.5).
        if probe == Probe::Readable {
            if let Some(e) = arrived_after_read(conn) {
                drop(self.disconnect());
                return Err(e);
            }
        }
        let directives = self.worker.directives();
        // Zero (here or in the directive) keeps the connection until the server closes it.
        let idle = timeout.into().resolve_idle(directives.keepalive_timeout);
        let expires = deadline_after(self.worker.runtime().now(), idle);
        let size = size.unwrap_or(directives.pool_size);
        let nodelay_set = !self.write.nodelay_pending;
        let reused = self.rest.reused;
        if let (Some(conn), buffer) = self.take_connection() {
            let pooled = Pooled {
                conn,
                reused,
                nodelay_set,
                expires,
                buffer,
            };
            self.worker.pools().release(&self.rest.key, pooled, size);
        }
        Ok(())
    }

    fn begin_request(&mut self) {
        if self.conn.is_some() {
            self.rest.in_flight = true;
        }
    }

    fn end_request(&mut self) {
        self.rest.in_flight = false;
    }

    fn request_in_flight(&self) -> bool {
        self.rest.in_flight
    }

    fn reused_times(&self) -> Result<u32> {
        if self.conn.is_none() || self.both_closed() {
            return Err(Error::closed());
        }
        Ok(self.rest.reused)
    }

    fn set_option(&mut self, option: SocketOption, value: i32) -> Result<()> {
        fd::set_option(&self.option_conn()?.io, option, value)
    }

    fn get_option(&self, option: SocketOption) -> Result<i32> {
        fd::get_option(&self.option_conn()?.io, option)
    }

    fn bind(&mut self, ip: &str, port: u16) -> Result<()> {
        self.rest.bind = Some(SocketAddr::new(parse_bind_ip(ip)?, port));
        Ok(())
    }

    /// `getfd()`: `closed` without a connection (spec §8.4).
    fn fd(&self) -> Result<BorrowedFd<'_>> {
        self.conn
            .as_deref()
            .map(|conn| conn.io.as_fd())
            .ok_or_else(Error::closed)
    }

    fn local_addr(&self) -> Result<Address> {
        fd::local(self.fd()?)
    }

    fn peer_addr(&self) -> Result<Address> {
        fd::peer(self.fd()?)
    }

    /// Disjoint borrows of the two sides.
    fn split(&mut self) -> (ReadHalf<'_, R>, WriteHalf<'_, R>) {
        let conn = self.conn.as_deref();
        let read = ReadHalf {
            worker: &self.worker,
            conn,
            side: &mut self.read,
        };
        let write = WriteHalf {
            worker: &self.worker,
            conn,
            side: &mut self.write,
        };
        (read, write)
    }

    /// The read half takes the object's settings; both share the connection and a pair
    /// token that `reunite` checks.
    fn into_split(self) -> (OwnedReadHalf<R>, OwnedWriteHalf<R>) {
        let pair = Arc::new(());
        let write = OwnedWriteHalf {
            worker: self.worker.clone(),
            conn: self.conn.clone(),
            side: self.write,
            pair: Arc::clone(&pair),
        };
        let read = OwnedReadHalf {
            worker: self.worker,
            conn: self.conn,
            side: self.read,
            rest: self.rest,
            pair,
        };
        (read, write)
    }

    /// The socket again, with the timeouts set on either half (they live in the sides).
    fn reunite(
        read: OwnedReadHalf<R>,
        write: OwnedWriteHalf<R>,
    ) -> Result<Self, ReuniteError<OwnedReadHalf<R>, OwnedWriteHalf<R>>> {
        if !Arc::ptr_eq(&read.pair, &write.pair) {
            return Err(ReuniteError(read, write));
        }
        let mut write = write;
        Ok(Self {
            worker: read.worker,
            conn: read.conn,
            read: read.side,
            write: write.take_side(),
            rest: read.rest,
        })
    }
}
