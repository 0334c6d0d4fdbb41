//! The backend contract and the conformance suite on tokio's multi-thread runtime, each
//! case spawned onto it so it moves between workers.

use std::future::Future;

use cosocket_conformance::harnesses::{block_on_multi_thread, multi_thread_runtime};
use cosocket_tokio::Tokio;

fn block_on(_rt: Tokio, case: impl Future<Output = ()> + Send + 'static) {
    block_on_multi_thread(case);
}

cosocket_conformance::runtime_contract_tests!(
    Tokio::new(multi_thread_runtime().handle().clone()),
    block_on
);

/// The conformance suite.
mod suite {
    cosocket_conformance::conformance_tests!(cosocket_conformance::harnesses::tokio_multi());
    cosocket_conformance::conformance_tokio_io_tests!(
        cosocket_conformance::harnesses::tokio_multi()
    );
    cosocket_conformance::conformance_tls_tests!(cosocket_conformance::harnesses::tokio_multi());
    cosocket_conformance::conformance_tls_server_tests!(
        cosocket_conformance::harnesses::tokio_multi()
    );
}
