//! The backend contract on smol.

use std::future::Future;

use cosocket_smol::Smol;

fn block_on(_rt: Smol, case: impl Future<Output = ()>) {
    smol::block_on(case);
}

cosocket_conformance::runtime_contract_tests!(Smol::new(), block_on);

/// The conformance suite on smol (spawns go to smol's global executor).
mod suite {
    use cosocket_conformance::{RuntimeHarness, Task};
    use cosocket_smol::Smol;

    fn block_on(case: Task) {
        smol::block_on(case);
    }

    cosocket_conformance::conformance_tests!(RuntimeHarness::new(Smol::new, block_on));
}
