//! The public traits on core's stream socket and its halves.
//!
//! Borrowed halves ([`ReadHalf`], [`WriteHalf`]) hold disjoint borrows of the socket's two
//! sides, for `join!` in one task; owned halves share the connection through an `Arc` and
//! move into spawned tasks. Dropping a half never shuts the socket down: the fd closes
//! when both are gone.

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::conn::Conn;
use crate::context::Context;
use crate::error::Result;
use crate::fragments::Fragments;
use crate::pattern::Until;
use crate::reader::{All, Any, Exact, Line};
use crate::sides::{self, ReadParts, ReadSide, WriteParts, WriteSide};
use crate::stream::{Rest, Stream};
use crate::{
    Address, ConnectOptions, ReuniteError, Runtime, SocketOption, StreamRead, StreamSock,
    StreamWrite, TcpSock, UnixSock,
};

/// The read half of a [`Stream`] borrowed by [`StreamSock::split`].
pub struct ReadHalf<'a, R: Runtime> {
    cx: &'a Context<R>,
    conn: Option<&'a Conn<R>>,
    side: &'a mut ReadSide,
}

/// The write half of a [`Stream`] borrowed by [`StreamSock::split`].
pub struct WriteHalf<'a, R: Runtime> {
    cx: &'a Context<R>,
    conn: Option<&'a Conn<R>>,
    side: &'a mut WriteSide,
}

/// The read half of a [`Stream`] moved out by [`StreamSock::into_split`].
pub struct OwnedReadHalf<R: Runtime> {
    cx: Context<R>,
    conn: Option<Arc<Conn<R>>>,
    side: ReadSide,
    rest: Rest,
    pair: Arc<()>,
}

/// The write half of a [`Stream`] moved out by [`StreamSock::into_split`].
pub struct OwnedWriteHalf<R: Runtime> {
    cx: Context<R>,
    conn: Option<Arc<Conn<R>>>,
    side: WriteSide,
    pair: Arc<()>,
}

macro_rules! debug_half {
    ($name:literal, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct($name)
                    .field("peer", &self.conn.as_ref().map(|c| c.peer.as_str()))
                    .finish_non_exhaustive()
            }
        }
    };
}
debug_half!("ReadHalf", ['a, R: Runtime] ReadHalf<'a, R>);
debug_half!("WriteHalf", ['a, R: Runtime] WriteHalf<'a, R>);
debug_half!("OwnedReadHalf", [R: Runtime] OwnedReadHalf<R>);
debug_half!("OwnedWriteHalf", [R: Runtime] OwnedWriteHalf<R>);

impl<R: Runtime> ReadHalf<'_, R> {
    fn read_parts(&mut self) -> ReadParts<'_, R> {
        ReadParts {
            cx: self.cx,
            conn: self.conn,
            side: self.side,
        }
    }
    fn set_read_timeout_impl(&mut self, timeout: Option<Duration>) {
        self.side.timeout = timeout;
    }
}

impl<R: Runtime> OwnedReadHalf<R> {
    fn read_parts(&mut self) -> ReadParts<'_, R> {
        ReadParts {
            cx: &self.cx,
            conn: self.conn.as_deref(),
            side: &mut self.side,
        }
    }
    fn set_read_timeout_impl(&mut self, timeout: Option<Duration>) {
        self.side.timeout = timeout;
    }
}

impl<R: Runtime> Stream<R> {
    fn set_read_timeout_impl(&mut self, timeout: Option<Duration>) {
        self.rest.settings.read = timeout;
        self.read.timeout = timeout;
    }
    fn set_send_timeout_impl(&mut self, timeout: Option<Duration>) {
        self.rest.settings.send = timeout;
        self.write.timeout = timeout;
    }
}

impl<R: Runtime> WriteHalf<'_, R> {
    fn write_parts(&mut self) -> WriteParts<'_, R> {
        WriteParts {
            cx: self.cx,
            conn: self.conn,
            side: self.side,
        }
    }
    fn set_send_timeout_impl(&mut self, timeout: Option<Duration>) {
        self.side.timeout = timeout;
    }
}

impl<R: Runtime> OwnedWriteHalf<R> {
    fn write_parts(&mut self) -> WriteParts<'_, R> {
        WriteParts {
            cx: &self.cx,
            conn: self.conn.as_deref(),
            side: &mut self.side,
        }
    }
    fn set_send_timeout_impl(&mut self, timeout: Option<Duration>) {
        self.side.timeout = timeout;
    }
}

macro_rules! stream_read {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> StreamRead for $ty {
            fn receive_line(&mut self) -> impl Future<Output = Result<Bytes>> + Send {
                sides::read(self.read_parts(), Line::new())
            }

            fn receive_all(&mut self) -> impl Future<Output = Result<Bytes>> + Send {
                sides::read(self.read_parts(), All)
            }

            fn receive_exact(&mut self, n: usize) -> impl Future<Output = Result<Bytes>> + Send {
                sides::read(self.read_parts(), Exact::new(n))
            }

            fn receive_any(&mut self, max: usize) -> impl Future<Output = Result<Bytes>> + Send {
                let parts = self.read_parts();
                async move {
                    // The closed check comes before the argument check (spec §1.3).
                    let reader = match Any::new(max) {
                        Ok(reader) => reader,
                        Err(_) if parts.is_closed() => return Err(crate::Error::closed()),
                        Err(e) => return Err(e),
                    };
                    sides::read(parts, reader).await
                }
            }

            fn receive_until(
                &mut self,
                until: &mut Until,
                size: usize,
            ) -> impl Future<Output = Result<Option<Bytes>>> + Send {
                sides::read(self.read_parts(), until.read(size))
            }

            fn set_read_timeout(&mut self, timeout: Option<Duration>) {
                self.set_read_timeout_impl(timeout);
            }
        }
    };
}
stream_read!([R: Runtime] Stream<R>);
stream_read!(['a, R: Runtime] ReadHalf<'a, R>);
stream_read!([R: Runtime] OwnedReadHalf<R>);

macro_rules! stream_write {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> StreamWrite for $ty {
            fn send<F: Fragments + ?Sized + Sync>(
                &mut self,
                data: &F,
            ) -> impl Future<Output = Result<usize>> + Send {
                sides::send(self.write_parts(), data)
            }

            fn set_send_timeout(&mut self, timeout: Option<Duration>) {
                self.set_send_timeout_impl(timeout);
            }

            fn shutdown(&mut self) -> Result<()> {
                let parts = self.write_parts();
                sides::shutdown(parts)
            }
        }
    };
}
stream_write!([R: Runtime] Stream<R>);
stream_write!(['a, R: Runtime] WriteHalf<'a, R>);
stream_write!([R: Runtime] OwnedWriteHalf<R>);

impl<R: Runtime> StreamSock for Stream<R> {
    type ReadHalf<'a> = ReadHalf<'a, R>;
    type WriteHalf<'a> = WriteHalf<'a, R>;
    type OwnedReadHalf = OwnedReadHalf<R>;
    type OwnedWriteHalf = OwnedWriteHalf<R>;

    fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.set_timeouts_impl(timeout, timeout, timeout);
    }

    fn set_timeouts(
        &mut self,
        connect: Option<Duration>,
        send: Option<Duration>,
        read: Option<Duration>,
    ) {
        self.set_timeouts_impl(connect, send, read);
    }

    fn close(&mut self) -> Result<()> {
        self.close_impl()
    }

    fn set_keepalive(
        &mut self,
        timeout: Option<Duration>,
        size: Option<NonZeroUsize>,
    ) -> Result<()> {
        self.set_keepalive_impl(timeout, size)
    }

    fn reused_times(&self) -> Result<u32> {
        self.reused_times_impl()
    }

    fn set_option(&mut self, option: SocketOption, value: i32) -> Result<()> {
        self.set_option_impl(option, value)
    }

    fn get_option(&self, option: SocketOption) -> Result<i32> {
        self.get_option_impl(option)
    }

    fn bind(&mut self, ip: &str, port: u16) -> Result<()> {
        self.bind_impl(ip, port)
    }

    fn fd(&self) -> Result<BorrowedFd<'_>> {
        self.fd_impl()
    }

    fn local_addr(&self) -> Result<Address> {
        self.local_addr_impl()
    }

    fn peer_addr(&self) -> Result<Address> {
        self.peer_addr_impl()
    }

    fn split(&mut self) -> (ReadHalf<'_, R>, WriteHalf<'_, R>) {
        let conn = self.conn.as_deref();
        (
            ReadHalf {
                cx: &self.cx,
                conn,
                side: &mut self.read,
            },
            WriteHalf {
                cx: &self.cx,
                conn,
                side: &mut self.write,
            },
        )
    }

    fn into_split(self) -> (OwnedReadHalf<R>, OwnedWriteHalf<R>) {
        let pair = Arc::new(());
        let write = OwnedWriteHalf {
            cx: self.cx.clone(),
            conn: self.conn.clone(),
            side: self.write,
            pair: Arc::clone(&pair),
        };
        let read = OwnedReadHalf {
            cx: self.cx,
            conn: self.conn,
            side: self.read,
            rest: self.rest,
            pair,
        };
        (read, write)
    }

    fn reunite(
        read: OwnedReadHalf<R>,
        write: OwnedWriteHalf<R>,
    ) -> Result<Self, ReuniteError<OwnedReadHalf<R>, OwnedWriteHalf<R>>> {
        if !Arc::ptr_eq(&read.pair, &write.pair) {
            return Err(ReuniteError(read, write));
        }
        let mut rest = read.rest;
        // Timeouts set on a half stay with the object.
        rest.settings.read = read.side.timeout;
        rest.settings.send = write.side.timeout;
        Ok(Self {
            cx: read.cx,
            conn: read.conn,
            read: read.side,
            write: write.side,
            rest,
        })
    }
}

impl<R: Runtime> TcpSock for Stream<R> {
    fn connect(
        &mut self,
        host: &str,
        port: u16,
        options: &ConnectOptions,
    ) -> impl Future<Output = Result<()>> + Send {
        self.connect_host(host, port, options)
    }

    fn connect_addr(
        &mut self,
        addr: std::net::SocketAddr,
        options: &ConnectOptions,
    ) -> impl Future<Output = Result<()>> + Send {
        self.connect_to(addr, options)
    }
}

impl<R: Runtime> UnixSock for Stream<R> {
    fn connect_unix(
        &mut self,
        path: &Path,
        options: &ConnectOptions,
    ) -> impl Future<Output = Result<()>> + Send {
        self.connect_path(path, options)
    }
}
