//! The context: the nginx worker. It holds the runtime, the directives and the pools, and
//! creates sockets. Pools never cross contexts (nor runtimes).

use std::fmt;
use std::sync::Arc;

use crate::datagram::Datagram;
use crate::pool::Pools;
use crate::stream::Stream;
use crate::{Cosockets, Directives, PoolStats, Runtime};

/// core's [`Cosockets`] for any [`Runtime`]: `Context::new(Tokio::new(handle))`.
///
/// Cheap to clone; clones share the directives and the pools. Dropping the last clone
/// (and every socket made from it) closes the pooled connections.
pub struct Context<R: Runtime> {
    shared: Arc<Shared<R>>,
}

struct Shared<R: Runtime> {
    runtime: R,
    directives: Directives,
    pools: Pools<R>,
}

impl<R: Runtime> Context<R> {
    /// A context with OpenResty's default directives.
    pub fn new(runtime: R) -> Self {
        Self::with_directives(runtime, Directives::default())
    }

    /// A context with the given directives (`lua_socket_*`, resolver).
    pub fn with_directives(runtime: R, directives: Directives) -> Self {
        Self {
            shared: Arc::new(Shared {
                pools: Pools::new(runtime.clone()),
                runtime,
                directives,
            }),
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &R {
        &self.shared.runtime
    }

    pub(crate) fn pools(&self) -> &Pools<R> {
        &self.shared.pools
    }
}

impl<R: Runtime> Clone for Context<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<R: Runtime> fmt::Debug for Context<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("directives", &self.shared.directives)
            .field("pools", &self.shared.pools)
            .finish()
    }
}

impl<R: Runtime> Cosockets for Context<R> {
    type Stream = Stream<R>;
    type Datagram = Datagram<R>;

    fn stream(&self) -> Stream<R> {
        Stream::new(self.clone())
    }

    fn datagram(&self) -> Datagram<R> {
        Datagram::new(self.clone())
    }

    fn directives(&self) -> &Directives {
        &self.shared.directives
    }

    fn pool_stats(&self, key: &str) -> Option<PoolStats> {
        self.shared.pools.stats(key)
    }
}
