//! The backend contract and the conformance suite on smol.

use std::future::Future;

use cosocket_smol::Smol;

fn block_on(_rt: Smol, case: impl Future<Output = ()>) {
    smol::block_on(case);
}

cosocket_conformance::runtime_contract_tests!(Smol::new(), block_on);

/// The conformance suite (spawns go to smol's global executor).
mod suite {
    cosocket_conformance::conformance_tests!(cosocket_conformance::harnesses::smol());
    cosocket_conformance::conformance_tokio_io_tests!(cosocket_conformance::harnesses::smol());
    cosocket_conformance::conformance_tls_tests!(cosocket_conformance::harnesses::smol());
    cosocket_conformance::conformance_tls_server_tests!(cosocket_conformance::harnesses::smol());
}
