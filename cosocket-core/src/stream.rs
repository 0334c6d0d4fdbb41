//! core's stream socket (`ngx.socket.tcp()` / `ngx.socket.stream()`): one type for TCP and
//! Unix streams, generic over the runtime, with OpenResty's state rules (spec §1.2–§1.3):
//! the read half closes on EOF and read errors (never on a read timeout), the write half on
//! send errors, send timeouts and a send dropped after a partial write; `close`, connect
//! failures and `connection in dubious state` close both.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::buffer::ReadState;
use crate::conn::Conn;
use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::pool::Pooled;
use crate::sides::{ReadParts, ReadSide, WriteParts, WriteSide};
use crate::sockopt::{self, Probe};
use crate::{ConnectOptions, Cosockets, Runtime, SocketOption};

/// The settings an object keeps across reconnects (spec §1.1): timeout overrides (`None` or
/// zero: the directive) and the local address to bind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) connect: Option<Duration>,
    pub(crate) send: Option<Duration>,
    pub(crate) read: Option<Duration>,
    pub(crate) bind: Option<SocketAddr>,
}

/// What a stream socket holds besides its two sides; travels with the owned read half.
#[derive(Debug)]
pub(crate) struct Rest {
    pub(crate) settings: Settings,
    /// How often the connection was taken from a pool.
    pub(crate) reused: u32,
    /// The pool key of the last connect (spec §5.1).
    pub(crate) key: String,
    /// A connect was ever started: options say `closed` instead of `socket is never
    /// created nor connected` from then on.
    pub(crate) ever_connected: bool,
}

/// A stream socket of core: [`TcpSock`](crate::TcpSock) and
/// [`UnixSock`](crate::UnixSock) over runtime `R`. Made by [`Context::stream`].
pub struct Stream<R: Runtime> {
    pub(crate) cx: Context<R>,
    pub(crate) conn: Option<Arc<Conn<R>>>,
    pub(crate) read: ReadSide,
    pub(crate) write: WriteSide,
    pub(crate) rest: Rest,
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
    /// A new, never connected socket of `cx`.
    pub(crate) fn new(cx: Context<R>) -> Self {
        Self {
            cx,
            conn: None,
            read: ReadSide::closed(None),
            write: WriteSide::closed(None),
            rest: Rest {
                settings: Settings::default(),
                reused: 0,
                key: String::new(),
                ever_connected: false,
            },
        }
    }

    pub(crate) fn read_parts(&mut self) -> ReadParts<'_, R> {
        ReadParts {
            cx: &self.cx,
            conn: self.conn.as_deref(),
            side: &mut self.read,
        }
    }

    pub(crate) fn write_parts(&mut self) -> WriteParts<'_, R> {
        WriteParts {
            cx: &self.cx,
            conn: self.conn.as_deref(),
            side: &mut self.write,
        }
    }

    /// The peer as logs name it (`127.0.0.1:6379`, `unix:/path`), while connected.
    pub fn peer(&self) -> Option<&str> {
        self.conn.as_ref().map(|c| c.peer.as_str())
    }

    /// Drops the connection (never pooled) and marks both halves closed.
    pub(crate) fn disconnect(&mut self) -> Option<Arc<Conn<R>>> {
        self.read = ReadSide::closed(self.rest.settings.read);
        self.write = WriteSide::closed(self.rest.settings.send);
        self.conn.take()
    }

    /// Installs a connection: fresh sides with the object's timeouts.
    pub(crate) fn install(&mut self, conn: Arc<Conn<R>>, reused: u32, nodelay_set: bool) {
        let settings = &self.rest.settings;
        self.read = ReadSide::open(self.cx.directives().buffer_size, settings.read);
        self.write = WriteSide::open(!nodelay_set, settings.send);
        self.conn = Some(conn);
        self.rest.reused = reused;
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

    pub(crate) fn set_timeouts_impl(
        &mut self,
        connect: Option<Duration>,
        send: Option<Duration>,
        read: Option<Duration>,
    ) {
        let settings = &mut self.rest.settings;
        settings.connect = connect;
        settings.send = send;
        settings.read = read;
        self.read.timeout = read;
        self.write.timeout = send;
    }

    pub(crate) fn close_impl(&mut self) -> Result<()> {
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

    /// spec §5.4, checks in order.
    pub(crate) fn set_keepalive_impl(
        &mut self,
        timeout: Option<Duration>,
        size: Option<NonZeroUsize>,
    ) -> Result<()> {
        let Some(conn) = self.conn.as_deref() else {
            return Err(Error::closed());
        };
        // 1. A closed half, an EOF already read, or a FIN the kernel already has.
        if self.read.buf.state() != ReadState::Open || self.write.closed {
            return Err(Error::closed());
        }
        let probe = sockopt::probe_readiness(&conn.io);
        if probe == Probe::Hangup {
            return Err(Error::closed());
        }
        // 3. Unconsumed bytes: nothing changes, the connection stays usable.
        if !self.read.buf.is_empty() {
            return Err(Error::from_kind(ErrorKind::UnreadData));
        }
        // 8. Bytes that arrived after the last read: one byte is read; unless that would
        //    block, the connection is closed.
        if probe == Probe::Readable && sockopt::read_one_byte(&conn.io) != Probe::Quiet {
            drop(self.disconnect());
            return Err(Error::from_kind(ErrorKind::DubiousState));
        }
        let directives = self.cx.directives();
        let idle = timeout.unwrap_or(directives.keepalive_timeout);
        let expires = if idle.is_zero() {
            None
        } else {
            Some(crate::deadline::saturating_add(
                self.cx.runtime().now(),
                idle,
            ))
        };
        let size = size.unwrap_or(directives.pool_size);
        let nodelay_set = !self.write.nodelay_pending;
        let reused = self.rest.reused;
        if let Some(conn) = self.disconnect() {
            let pooled = Pooled {
                conn,
                reused,
                nodelay_set,
                expires,
            };
            self.cx.pools().release(&self.rest.key, pooled, size);
        }
        Ok(())
    }

    pub(crate) fn reused_times_impl(&self) -> Result<u32> {
        if self.conn.is_none() || self.both_closed() {
            return Err(Error::closed());
        }
        Ok(self.rest.reused)
    }

    pub(crate) fn set_option_impl(&mut self, option: SocketOption, value: i32) -> Result<()> {
        let conn = self.option_conn()?;
        sockopt::set(&conn.io, option, value).map_err(|e| option_error(&e))
    }

    pub(crate) fn get_option_impl(&self, option: SocketOption) -> Result<i32> {
        let conn = self.option_conn()?;
        sockopt::get(&conn.io, option).map_err(|e| option_error(&e))
    }

    pub(crate) fn bind_impl(&mut self, ip: &str, port: u16) -> Result<()> {
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| Error::new(ErrorKind::InvalidArgument, "bad address"))?;
        self.rest.settings.bind = Some(SocketAddr::new(ip, port));
        Ok(())
    }

    /// Installs a connection taken from a pool (spec §5.3: no network round trip, the
    /// object's timeouts apply, the reuse count goes up).
    pub(crate) fn install_pooled(&mut self, pooled: Pooled<R>) {
        self.install(pooled.conn, pooled.reused + 1, pooled.nodelay_set);
    }

    /// The connect options' pool name, or the default key.
    pub(crate) fn set_key(&mut self, options: &ConnectOptions, default: impl FnOnce() -> String) {
        self.rest.key = match &options.pool {
            Some(name) => name.clone(),
            None => default(),
        };
    }
}

/// Option syscalls report `strerror` as is, not lower-cased (spec §8.1).
fn option_error(error: &std::io::Error) -> Error {
    let text = error.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    Error::new(ErrorKind::Os, text)
}
