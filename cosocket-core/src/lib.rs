//! # cosocket-core
//!
//! Everything of [cosocket](https://docs.rs/cosocket) that does not depend on an executor,
//! in three layers (ARCHITECTURE.md at the repository's root has the map):
//!
//! * [`proto`]: the protocol layer, with no I/O: the receive buffer, the readers, the
//!   `receiveuntil` automaton ([`Until`]), [`Fragments`] for sends, deadlines, the host
//!   parser and the [`Error`] type with OpenResty's messages.
//! * the sockets and the pool, generic over a runtime: the public traits ([`Cosockets`],
//!   [`StreamRead`], [`StreamWrite`], [`StreamSock`], [`TcpSock`], [`UnixSock`],
//!   [`UdpSock`]), their implementation ([`Context`], [`Stream`], [`Datagram`]) and the
//!   [`Directives`].
//! * [`rt`]: the contract a backend implements ([`Runtime`](rt::Runtime)); see
//!   `cosocket-tokio` and `cosocket-smol`.
//!
//! Comments cite OpenResty's behaviour as `spec §N`: the sections of `docs/semantics.md`
//! in the repository, which say what each rule is and where in OpenResty's sources it
//! comes from.
//!
//! Applications use the `cosocket` facade crate; backend authors implement
//! [`rt::Runtime`]; other implementations of the traits (a simulated network, io_uring)
//! prove themselves with the conformance suite.
//!
//! Where each OpenResty method lives:
//!
//! | OpenResty | trait | implementation |
//! |---|---|---|
//! | `ngx.socket.tcp()`, `ngx.socket.udp()`, `ngx.socket.connect` | [`Cosockets`] | `context.rs` |
//! | `connect` | [`TcpSock`], [`UnixSock`] | `stream/connect.rs` |
//! | `receive`, `receiveany`, `receiveuntil` | [`StreamRead`] | `stream/read.rs` over [`proto`] |
//! | `send` (and `shutdown`) | [`StreamWrite`] | `stream/send.rs` |
//! | `settimeout(s)`, `close`, `setkeepalive`, `getreusedtimes`, `setoption`, `getoption`, `bind`, `getfd` | [`StreamSock`] | `stream/mod.rs` (fd calls in `fd.rs`, the pool in `pool/`) |
//! | UDP `setpeername`, `send`, `receive`, `close`, `bind` | [`UdpSock`] | `datagram.rs` |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod conn;
mod context;
mod cosockets;
mod datagram;
mod fd;
mod log;
mod options;
mod pool;
pub mod proto;
mod resolve;
pub mod rt;
mod socket;
mod stream;
mod timer;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
mod worker;

pub use bytes::Bytes;
pub use config::{Directives, Resolve, Resolver};
pub use context::Context;
pub use cosockets::Cosockets;
pub use datagram::Datagram;
pub use options::{Address, ConnectOptions, MAX_DATAGRAM, PoolStats, ReuniteError, SocketOption};
pub use proto::{Error, ErrorKind, Fragment, FragmentList, Fragments, Result, Timeout, Until};
#[cfg(feature = "tls")]
pub use socket::TlsSock;
pub use socket::{StreamRead, StreamSock, StreamWrite, TcpSock, UdpSock, UnixSock};
pub use stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, Stream, WriteHalf};
