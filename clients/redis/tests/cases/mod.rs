//! The cases: each starts its own server.

use std::num::NonZeroUsize;
use std::time::Duration;

use cosocket::{Cosockets, StreamSock, Timeout};
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Config, Redis};

mod basics;
mod cancel;
mod connect;
mod faults;
mod multiplexed;
mod openresty;
mod pubsub;
mod transactions;

pub(crate) use basics::*;
pub(crate) use cancel::*;
pub(crate) use connect::*;
pub(crate) use faults::*;
pub(crate) use multiplexed::*;
pub(crate) use openresty::*;
pub(crate) use pubsub::*;
pub(crate) use transactions::*;

/// A client of `server` on a fresh context, with the client's own pool of 4.
pub(crate) fn client<H: Harness>(t: &Case<H>, server: &RedisServer) -> Redis<H::Cx> {
    Redis::new(t.cx(), config(server))
}

/// The configuration every case starts from.
pub(crate) fn config(server: &RedisServer) -> Config {
    Config::tcp("127.0.0.1", server.port()).keepalive(Timeout::Directive, NonZeroUsize::new(4))
}

/// How many connections of `redis`'s pool are idle (none when there is no pool).
pub(crate) fn idle<C: Cosockets>(redis: &Redis<C>, cx: &C) -> usize {
    cx.pool_stats(&redis.config().pool_name())
        .map_or(0, |s| s.idle)
}

pub(crate) use cosocket_conformance::cancel::within_ms as within;

/// A sanity bound for waits in cases.
pub(crate) const SECOND: Duration = Duration::from_secs(1);

/// The connection's reuse count.
pub(crate) fn reused<S: StreamSock>(conn: &cosocket_redis::Connection<S>) -> u32 {
    conn.reused_times().expect("connected")
}
