//! The protocol layer: everything of a cosocket that is bytes in, bytes out, with no I/O.
//!
//! Nothing here names a runtime, a socket or a context; it depends on `bytes`, `memchr`
//! and `itoa` only, like quinn-proto under quinn. The socket layer (`Stream`, `Datagram`)
//! owns the file descriptors and the timers and calls into this module:
//!
//! * [`buffer`]: the receive buffer of one connection ([`RecvBuffer`]) and the driver
//!   every read runs on ([`ReadCall`]). Bytes come in through [`Recv`], the one seam
//!   between this layer and I/O: one non-blocking `recv` per call.
//! * [`reader`]: the readers of `receive` (`*l` [`Line`], `*a` [`All`], a byte count
//!   [`Exact`]) and `receiveany` ([`Any`]).
//! * [`until`]: the `receiveuntil` automaton ([`Until`]).
//! * [`fragments`]: what `send` accepts ([`Fragments`]) and its flattening into `iovec`s
//!   ([`FragmentList`]).
//! * [`deadline`]: idle and total deadlines, with OpenResty's timeout precedence.
//! * the host parser (`unix:` paths, IP literals, names) and the [`Error`] type with
//!   OpenResty's messages.
//!
//! [`testing`] supplies an in-memory [`Recv`] so that any reader can be driven over any
//! segmentation of its input. Here `receiveuntil("--abc")` reads `"one--abctwo"` arriving
//! in three pieces with a `Pending` between the first two:
//!
//! ```
//! use std::num::NonZeroUsize;
//! use cosocket_core::proto::testing::{drive, Feed, MemSource};
//! use cosocket_core::proto::{ReadCall, RecvBuffer, Until};
//!
//! let src = MemSource::new([
//!     Feed::data("one-"),
//!     Feed::Pending,
//!     Feed::data("-ab"),
//!     Feed::data("ctwo"),
//!     Feed::Eof,
//! ]);
//! let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
//! let mut until = Until::new("--abc").unwrap();
//!
//! // The first call returns the part before the pattern.
//! let part = drive(&mut ReadCall::new(until.part()), &mut buf, &src).unwrap().unwrap();
//! assert_eq!(part, "one");
//!
//! // The second reaches the end of the stream: `closed`, with the rest as the partial.
//! let err = drive(&mut ReadCall::new(until.part()), &mut buf, &src).unwrap().unwrap_err();
//! assert_eq!(err.to_string(), "closed");
//! assert_eq!(err.partial().unwrap(), "two");
//! ```

pub mod buffer;
pub mod deadline;
mod error;
pub mod fragments;
pub(crate) mod host;
/// For the fuzz targets; not part of the API: the host parser behind a public path.
#[doc(hidden)]
pub mod fuzzing {
    use std::net::SocketAddr;
    use std::path::PathBuf;

    /// What the host parser found (its crate-private `Endpoint`, mirrored).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Endpoint {
        /// An IP literal.
        Addr(SocketAddr),
        /// A name for the resolver, and the port.
        Name(String, u16),
        /// A `unix:` path.
        Unix(PathBuf),
    }

    /// `connect(host, port)`'s parse of `host`.
    pub fn parse_host(host: &str, port: u16) -> super::Result<Endpoint> {
        Ok(match super::host::parse(host, port)? {
            super::host::Endpoint::Addr(a) => Endpoint::Addr(a),
            super::host::Endpoint::Name { host, port } => Endpoint::Name(host, port),
            super::host::Endpoint::Unix(p) => Endpoint::Unix(p),
        })
    }
}
pub mod reader;
pub mod testing;
pub mod until;

pub use buffer::{Lent, ReadCall, ReadState, Reader, Recv, RecvBuffer};
pub use deadline::Timeout;
pub(crate) use error::strerror;
pub use error::{Error, ErrorKind, Result};
pub use fragments::{Fragment, FragmentList, Fragments};
pub use reader::{All, Any, Exact, ExactRef, Line, LineRef};
pub use until::Until;
