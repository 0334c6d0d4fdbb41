//! The in-tree harnesses, shared by the tests and the parity runner: tokio current-thread
//! (a fresh runtime per case), tokio multi-thread (each case spawned onto one 2-worker
//! runtime, so it moves between workers) and smol (spawns on smol's global executor).

use std::sync::OnceLock;

use cosocket_smol::Smol;
use cosocket_tokio::Tokio;
use tokio::runtime::{Builder, Runtime};

use crate::harness::{RuntimeHarness, Task};

/// tokio on a fresh current-thread runtime per case (the harness's runtime is made inside
/// `block_on`, where the current handle is that runtime's).
pub fn tokio_current() -> RuntimeHarness<Tokio> {
    RuntimeHarness::new(
        || Tokio::try_current().expect("called inside the case's runtime"),
        |case: Task| {
            Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime")
                .block_on(case);
        },
    )
}

/// The one multi-thread runtime (2 workers) of the process.
pub fn multi_thread_runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a multi-thread runtime")
    })
}

/// Runs `case` as a task spawned onto the multi-thread runtime; a panic in it is resumed
/// with its own message.
pub fn block_on_multi_thread<F: Future<Output = ()> + Send + 'static>(case: F) {
    let rt = multi_thread_runtime();
    match rt.block_on(rt.spawn(case)) {
        Ok(()) => {}
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the case was cancelled: {e}"),
    }
}

/// tokio's multi-thread runtime.
pub fn tokio_multi() -> RuntimeHarness<Tokio> {
    RuntimeHarness::new(
        || Tokio::new(multi_thread_runtime().handle().clone()),
        block_on_multi_thread::<Task>,
    )
}

/// smol: cases on `smol::block_on`.
pub fn smol() -> RuntimeHarness<Smol> {
    RuntimeHarness::new(Smol::new, |case: Task| smol::block_on(case))
}
