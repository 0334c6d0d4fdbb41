//! The cases: each starts its own server.

use std::num::NonZeroUsize;

use cosocket::{Cosockets, Timeout};
use cosocket_conformance::servers::Memcached as Server;
use cosocket_conformance::{Case, Harness};
use cosocket_memcached::{Config, Memcached};

mod cancel;
mod commands;
mod faults;
mod pipeline;
mod unix;

pub(crate) use cancel::*;
pub(crate) use commands::*;
pub(crate) use faults::*;
pub(crate) use pipeline::*;
pub(crate) use unix::*;

/// The configuration every case starts from: the client's own pool of 4.
pub(crate) fn config(server: &Server) -> Config {
    Config::tcp("127.0.0.1", server.port()).keepalive(Timeout::Directive, NonZeroUsize::new(4))
}

/// A client of `server` on the context `cx`.
pub(crate) fn client<C: Cosockets>(cx: &C, server: &Server) -> Memcached<C> {
    Memcached::new(cx.clone(), config(server))
}

/// A client on a fresh context.
pub(crate) fn fresh<H: Harness>(t: &Case<H>, server: &Server) -> (H::Cx, Memcached<H::Cx>) {
    let cx = t.cx();
    let mc = client(&cx, server);
    (cx, mc)
}

/// Idle connections in the client's pool.
pub(crate) fn idle<C: Cosockets>(cx: &C, mc: &Memcached<C>) -> usize {
    cx.pool_stats(&mc.config().pool_key()).map_or(0, |s| s.idle)
}
