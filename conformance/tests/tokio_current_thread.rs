//! The backend contract on tokio's current-thread runtime (one per test thread, driven by
//! `Runtime::block_on`: only that drives its I/O and timers).

use std::future::Future;

use cosocket_tokio::Tokio;
use tokio::runtime::{Builder, Runtime};

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
    use cosocket_conformance::{RuntimeHarness, Task};
    use cosocket_tokio::Tokio;
    use tokio::runtime::{Builder, Handle};

    fn current() -> Tokio {
        Tokio::new(Handle::current())
    }

    fn block_on(case: Task) {
        Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(case);
    }

    cosocket_conformance::conformance_tests!(RuntimeHarness::new(current, block_on));
}
