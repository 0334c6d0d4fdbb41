//! # cosocket-redis
//!
//! A Redis client on [cosocket](https://docs.rs/cosocket), written against its public
//! traits only, so it runs on any backend (tokio, smol, a third party's) with the same
//! behaviour: RESP2, and RESP3 after `HELLO 3`; any command through
//! [`Redis::query`], typed helpers for the common ones; pipelines; `MULTI`/`EXEC`;
//! publish/subscribe on a connection of its own; `AUTH`/`SELECT` on each new connection;
//! TLS through cosocket's one-call connect form; blocking commands with their own timeout.
//!
//! Two ways to use connections: the OpenResty way, a connection from the pool per call
//! ([`Redis::query`] and the helpers), and redis-rs's, one connection shared by many tasks
//! whose commands are pipelined as they arrive ([`Redis::multiplexed`]).
//!
//! Connections come from the context's keepalive pool and go back after a clean exchange.
//! After a transport error, a timeout, a malformed reply or a cancelled call they are
//! closed, so a late reply never reaches the next request (see [`Connection`]).
//!
//! ```no_run
//! # async fn demo<C: cosocket::Cosockets>(cx: C) -> cosocket_redis::Result<()> {
//! use cosocket_redis::{Config, Pipeline, Redis, Value, cmd};
//!
//! let redis = Redis::new(cx, Config::tcp("127.0.0.1", 6379).db(2));
//! redis.set("greeting", "hello").await?;
//! assert_eq!(redis.get("greeting").await?.as_deref(), Some(&b"hello"[..]));
//! let replies = redis
//!     .pipeline(&Pipeline::new().cmd(cmd!("INCR", "n")).cmd(cmd!("LPUSH", "n", "x")))
//!     .await?;
//! assert!(matches!(replies[1], Value::Error(_))); // WRONGTYPE, and INCR still ran
//! # Ok(()) }
//! ```
//!
//! Each request or pipeline is one vectored `send` of a fragment list (arguments
//! borrowed); replies are parsed from the receive buffer: header lines borrowed, bulk
//! strings as `Bytes` of the buffer.

mod client;
mod command;
mod config;
mod conn;
mod error;
mod multiplexed;
mod pubsub;
mod reply;
mod value;

pub use client::Redis;
pub use command::{Arg, Cmd, MAX_ARGUMENT, Pipeline};
pub use config::{Config, Target};
pub use conn::Connection;
pub use error::{Error, Result, ServerError};
pub use multiplexed::Multiplexed;
pub use pubsub::{Message, Subscriber};
pub use reply::Limits;
pub use value::Value;

/// For the fuzz targets; not part of the API: the resumable reply parser.
#[doc(hidden)]
pub mod fuzzing {
    use cosocket::StreamRead;

    use crate::{Limits, Result, Value};

    /// The connection's reply parser (its state survives a dropped [`Parser::read`]).
    #[derive(Debug, Default)]
    pub struct Parser(crate::reply::Parser);

    impl Parser {
        /// Reads the rest of one reply from `sock`.
        pub async fn read<S: StreamRead>(
            &mut self,
            sock: &mut S,
            limits: &Limits,
        ) -> Result<Value> {
            self.0.read(sock, limits).await
        }

        /// Whether a reply is half read.
        pub fn in_reply(&self) -> bool {
            self.0.in_reply()
        }
    }
}
