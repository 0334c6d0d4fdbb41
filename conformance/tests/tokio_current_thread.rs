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
