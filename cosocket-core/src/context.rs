//! The context: the nginx worker. It holds the runtime, the directives and the pools, and
//! creates sockets. Pools never cross contexts (nor runtimes).

use std::fmt;

use crate::config::Directives;
use crate::cosockets::Cosockets;
use crate::datagram::Datagram;
use crate::options::PoolStats;
use crate::rt::Runtime;
use crate::stream::Stream;
use crate::worker::Worker;

/// core's [`Cosockets`] for any [`Runtime`]: `Context::new(Tokio::new(handle))`.
///
/// Cheap to clone; clones share the directives and the pools. Dropping the last clone
/// (and every socket made from it) closes the pooled connections.
pub struct Context<R: Runtime> {
    worker: Worker<R>,
}

impl<R: Runtime> Context<R> {
    /// A context with OpenResty's default directives.
    pub fn new(runtime: R) -> Self {
        Self::with_directives(runtime, Directives::default())
    }

    /// A context with the given directives (`lua_socket_*`, resolver).
    pub fn with_directives(runtime: R, directives: Directives) -> Self {
        Self {
            worker: Worker::new(runtime, directives),
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &R {
        self.worker.runtime()
    }
}

impl<R: Runtime> Clone for Context<R> {
    fn clone(&self) -> Self {
        Self {
            worker: self.worker.clone(),
        }
    }
}

impl<R: Runtime> fmt::Debug for Context<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("directives", self.worker.directives())
            .field("pools", self.worker.pools())
            .finish()
    }
}

impl<R: Runtime> Cosockets for Context<R> {
    type Stream = Stream<R>;
    type Datagram = Datagram<R>;

    fn stream(&self) -> Stream<R> {
        Stream::new(self.worker.clone())
    }

    fn datagram(&self) -> Datagram<R> {
        Datagram::new(self.worker.clone())
    }

    fn directives(&self) -> &Directives {
        self.worker.directives()
    }

    fn pool_stats(&self, key: &str) -> Option<PoolStats> {
        self.worker.pools().stats(key)
    }
}
