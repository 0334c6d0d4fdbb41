//! The backend contract on tokio's multi-thread runtime, each case spawned onto it so it
//! moves between workers.

use std::future::Future;
use std::sync::OnceLock;

use cosocket_tokio::Tokio;
use tokio::runtime::{Builder, Runtime};

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn block_on(rt: Tokio, case: impl Future<Output = ()> + Send + 'static) {
    rt.handle()
        .block_on(rt.handle().spawn(case))
        .expect("the case panicked");
}

cosocket_conformance::runtime_contract_tests!(Tokio::new(runtime().handle().clone()), block_on);

/// The conformance suite: each case spawned onto the shared multi-thread runtime, so it
/// moves between workers.
mod suite {
    use cosocket_conformance::{RuntimeHarness, Task};
    use cosocket_tokio::Tokio;

    fn shared() -> Tokio {
        Tokio::new(super::runtime().handle().clone())
    }

    fn block_on(case: Task) {
        let rt = super::runtime();
        match rt.block_on(rt.spawn(case)) {
            Ok(()) => {}
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("the case was cancelled: {e}"),
        }
    }

    cosocket_conformance::conformance_tests!(RuntimeHarness::new(shared, block_on));
}
