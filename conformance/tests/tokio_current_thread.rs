//! The backend contract and the conformance suite on tokio's current-thread runtime.

use std::future::Future;

use cosocket_tokio::Tokio;
use tokio::runtime::{Builder, Runtime};

// The contract checks take the runtime value first: one runtime per test thread, driven by
// `Runtime::block_on` (only that drives a current-thread runtime's I/O and timers).
thread_local! {
    static RT: Runtime = Builder::new_current_thread().enable_all().build().expect("runtime");
}

fn runtime() -> Tokio {
    RT.with(|rt| Tokio::new(rt.handle().clone()))
}

fn block_on(_rt: Tokio, case: impl Future<Output = ()>) {
    RT.with(|rt| rt.block_on(case));
}

cosocket_conformance::runtime_contract_tests!(runtime(), block_on);

/// The conformance suite: each case on a fresh current-thread runtime of its own.
mod suite {
    cosocket_conformance::conformance_tests!(cosocket_conformance::harnesses::tokio_current());
    cosocket_conformance::conformance_tokio_io_tests!(
        cosocket_conformance::harnesses::tokio_current()
    );
    cosocket_conformance::conformance_tls_tests!(cosocket_conformance::harnesses::tokio_current());
    cosocket_conformance::conformance_tls_server_tests!(
        cosocket_conformance::harnesses::tokio_current()
    );
}
