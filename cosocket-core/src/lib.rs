//! # cosocket-core
//!
//! Everything of [cosocket](https://docs.rs/cosocket) that does not depend on an executor:
//! the public traits ([`Cosockets`], [`StreamRead`], [`StreamWrite`], [`StreamSock`],
//! [`TcpSock`], [`UnixSock`], [`UdpSock`]), the [`Error`] type with OpenResty's messages,
//! the [`Directives`], the receive buffer and its readers, the `receiveuntil` automaton,
//! [`Fragments`] for sends, deadlines, and the [`Runtime`] contract a backend implements.
//!
//! Applications use the `cosocket` facade crate; backend authors implement [`Runtime`]
//! (see `cosocket-tokio` and `cosocket-smol` for two of about a hundred lines each); other
//! implementations of the traits (a simulated network, io_uring) prove themselves with the
//! conformance suite.
//!
//! The pure parts are public so that they can be reused and tested on their own:
//!
//! ```
//! use std::num::NonZeroUsize;
//! use cosocket_core::buffer::{ReadCall, RecvBuffer};
//! use cosocket_core::testing::{drive, Feed, MemSource};
//! use cosocket_core::Until;
//!
//! // "one--abctwo" arriving in three pieces, read with receiveuntil("--abc").
//! let src = MemSource::new([Feed::data("one-"), Feed::Pending, Feed::data("-ab"), Feed::data("ctwo"), Feed::Eof]);
//! let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
//! let mut until = Until::new("--abc").unwrap();
//! let part = drive(&mut ReadCall::new(until.read(0)), &mut buf, &src).unwrap().unwrap();
//! assert_eq!(part.unwrap(), "one");
//! let err = drive(&mut ReadCall::new(until.read(0)), &mut buf, &src).unwrap().unwrap_err();
//! assert_eq!(err.to_string(), "closed");
//! assert_eq!(err.partial().unwrap(), "two");
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod addresses;
pub mod buffer;
mod config;
mod conn;
mod connect;
mod context;
mod cosockets;
mod datagram;
pub mod deadline;
mod error;
pub mod fragments;
mod halves;
mod host;
mod log;
pub mod pattern;
mod pool;
pub mod reader;
mod resolve;
mod runtime;
mod sides;
mod socket;
mod sockopt;
mod stream;
pub mod testing;
mod timer;

pub use bytes::Bytes;
pub use config::{Directives, Resolve, Resolver};
pub use context::Context;
pub use cosockets::{ConnectOptions, Cosockets, PoolStats};
pub use datagram::Datagram;
pub use error::{Error, ErrorKind, Result};
pub use fragments::{Fragment, FragmentList, Fragments};
pub use halves::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
pub use pattern::Until;
pub use runtime::{DatagramIo, Runtime, StreamIo, resolve_blocking};
pub use socket::{
    Address, MAX_DATAGRAM, ReuniteError, SocketOption, StreamRead, StreamSock, StreamWrite,
    TcpSock, UdpSock, UnixSock,
};
pub use stream::Stream;
