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
