//! What every socket of a context shares: the runtime, the directives and the pools (the
//! nginx worker's state). Sockets hold a [`Worker`], not the [`Context`](crate::Context)
//! that made them, so the socket modules never import the context.

use std::fmt;
use std::sync::Arc;

use crate::config::Directives;
use crate::pool::Pools;
use crate::rt::Runtime;

/// A cheap handle on one context's shared state.
pub(crate) struct Worker<R: Runtime> {
    shared: Arc<Shared<R>>,
}

struct Shared<R: Runtime> {
    runtime: R,
    directives: Directives,
    /// Why the directives are out of range ([`Directives::check`]), if they are: every
    /// connect fails with it.
    invalid: Option<crate::Error>,
    pools: Pools<R>,
    #[cfg(feature = "tls")]
    tls: crate::tls::TlsShared,
}

impl<R: Runtime> Worker<R> {
    pub(crate) fn new(runtime: R, directives: Directives) -> Self {
        Self {
            shared: Arc::new(Shared {
                pools: Pools::new(runtime.clone()),
                runtime,
                invalid: directives.check().err(),
                directives,
                #[cfg(feature = "tls")]
                tls: crate::tls::TlsShared::default(),
            }),
        }
    }

    pub(crate) fn runtime(&self) -> &R {
        &self.shared.runtime
    }

    pub(crate) fn directives(&self) -> &Directives {
        &self.shared.directives
    }

    /// Ok if the directives are in range, else the error every connect fails with.
    pub(crate) fn check_directives(&self) -> crate::Result<()> {
        self.shared.invalid.clone().map_or(Ok(()), Err)
    }

    pub(crate) fn pools(&self) -> &Pools<R> {
        &self.shared.pools
    }

    #[cfg(feature = "tls")]
    pub(crate) fn tls(&self) -> &crate::tls::TlsShared {
        &self.shared.tls
    }
}

impl<R: Runtime> Clone for Worker<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<R: Runtime> fmt::Debug for Worker<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("directives", &self.shared.directives)
            .field("pools", &self.shared.pools)
            .finish()
    }
}
