//! # cosocket-memcached
//!
//! A memcached client (the text protocol) on [cosocket](https://docs.rs/cosocket),
//! written against its public traits only, so it runs on any backend with the same
//! behaviour, in the manner of lua-resty-memcached: `get` / `gets` of one or many keys
//! with flags and cas uniques; `set`, `add`, `replace`, `append`, `prepend`, `cas`;
//! `delete`, `incr` / `decr`, `touch`, `flush_all`, `version`, `stats`, `verbosity`; and
//! [`Pipeline`]s of any of them in one `send`, whose replies are read in order, a command
//! the server refuses being an `Err` in its place without failing the others.
//!
//! Each request is one vectored `send` of borrowed fragments (keys and values are never
//! copied into a command string); each reply header is parsed from a line borrowed from
//! the receive buffer, and each data block is one `Bytes` of it.
//!
//! Keys are checked before anything is sent (1 to 250 bytes, no space, no control byte),
//! and values against [`Config::max_value`] both ways ([`Error::TooLarge`]). Connections
//! come from the context's keepalive pool and go back after a clean exchange (a server
//! error line leaves the connection in step); after a transport error, a timeout, a
//! malformed reply or a cancelled call they are closed, so a late reply never reaches the
//! next request. A [`Connection`] held by the caller refuses further requests after a
//! cancelled one ([`Error::Unusable`]), and [`Connection::set_keepalive`] pools it only if clean.
//!
//! ```no_run
//! # async fn demo<C: cosocket::Cosockets>(cx: C) -> cosocket_memcached::Result<()> {
//! use cosocket_memcached::{CasOutcome, Config, Memcached};
//!
//! let mc = Memcached::new(cx, Config::tcp("127.0.0.1", 11211));
//! mc.set("k", "v1", 0, 0).await?;
//! let item = mc.gets("k").await?.expect("stored");
//! let outcome = mc.cas("k", "v2", 0, 0, item.cas.unwrap()).await?;
//! assert_eq!(outcome, CasOutcome::Stored);
//! # Ok(()) }
//! ```

mod client;
mod command;
mod config;
mod conn;
mod error;
mod reply;

pub use client::{CasOutcome, Memcached};
pub use command::{Command, MAX_KEY, Pipeline, Store, validate_key};
pub use config::{Config, Target};
pub use conn::Connection;
pub use error::{Error, Result};
pub use reply::{Item, Reply};

/// For the fuzz targets; not part of the API: the reply reader.
#[doc(hidden)]
pub mod fuzzing {
    use cosocket::StreamRead;

    use crate::{Command, Reply, Result};

    /// Reads the reply to `cmd` from `sock` (`Ok(Err(_))`: the server's error line).
    pub async fn read_reply<S: StreamRead>(
        sock: &mut S,
        cmd: &Command<'_>,
        max_value: usize,
    ) -> Result<Result<Reply>> {
        crate::reply::read_reply(sock, cmd, max_value).await
    }
}
