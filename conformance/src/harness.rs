//! What the suite needs from an implementation: a fresh [`Cosockets`] context per case and
//! an executor to run, spawn and sleep on. [`RuntimeHarness`] is the blanket harness for
//! every [`Runtime`] (core's [`Context`] over it); a from-scratch implementation of the
//! traits implements [`Harness`] itself.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::time::Duration;

use cosocket_core::rt::Runtime;
use cosocket_core::{Context, Cosockets, Directives};

/// A boxed, sendable future: what harnesses run.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// An implementation under test, with its executor.
pub trait Harness: Clone + Send + Sync + 'static {
    /// The context type under test.
    type Cx: Cosockets;

    /// A fresh context (empty pools) with `directives`. Called from inside
    /// [`block_on`](Harness::block_on), on the case's executor.
    fn context(&self, directives: Directives) -> Self::Cx;

    /// Sleeps on the executor (called from inside `block_on`).
    fn sleep(&self, duration: Duration) -> Task;

    /// Runs `task` concurrently (called from inside `block_on`).
    fn spawn(&self, task: Task);

    /// Runs a case to completion on the calling thread's executor (a fresh current-thread
    /// runtime, a spawn onto a shared multi-thread one, …).
    fn block_on(&self, case: Task);
}

/// The blanket harness for any [`Runtime`]: `runtime` makes the runtime value from inside
/// `block_on` (so a tokio backend can take the current handle), `block_on` runs a case.
pub struct RuntimeHarness<R: Runtime> {
    runtime: fn() -> R,
    block_on: fn(Task),
}

impl<R: Runtime> RuntimeHarness<R> {
    /// A harness from a runtime maker and a `block_on` for it.
    pub fn new(runtime: fn() -> R, block_on: fn(Task)) -> Self {
        Self { runtime, block_on }
    }
}

impl<R: Runtime> Clone for RuntimeHarness<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Runtime> Copy for RuntimeHarness<R> {}

impl<R: Runtime> std::fmt::Debug for RuntimeHarness<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RuntimeHarness")
    }
}

impl<R: Runtime> Harness for RuntimeHarness<R> {
    type Cx = Context<R>;

    fn context(&self, directives: Directives) -> Context<R> {
        Context::with_directives((self.runtime)(), directives)
    }

    fn sleep(&self, duration: Duration) -> Task {
        let rt = (self.runtime)();
        let deadline = rt.now() + duration;
        Box::pin(rt.sleep_until(deadline))
    }

    fn spawn(&self, task: Task) {
        (self.runtime)().spawn(task);
    }

    fn block_on(&self, case: Task) {
        (self.block_on)(case);
    }
}

/// How long a case may run before the watchdog fails it.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// The watchdog of the full-size load run (`COSOCKET_LOAD=full`, `scripts/load.sh`), whose
/// soak case runs minutes.
pub const WATCHDOG_FULL_LOAD: Duration = Duration::from_secs(1800);

/// The watchdog in force: [`WATCHDOG`], or [`WATCHDOG_FULL_LOAD`] for the full load run.
pub fn watchdog() -> Duration {
    if std::env::var("COSOCKET_LOAD").is_ok_and(|v| v == "full") {
        WATCHDOG_FULL_LOAD
    } else {
        WATCHDOG
    }
}

/// Runs `case` on `harness` in a thread of its own while the calling thread watches: a
/// panic fails the test with its message, a case still running after [`WATCHDOG`] fails
/// it with its name (its thread is abandoned; it never stalls the run).
pub fn run_watched<H: Harness>(
    harness: &H,
    name: &str,
    case: impl FnOnce(H) -> Task + Send + 'static,
) {
    let (done, outcome) = mpsc::channel::<Result<(), Box<dyn Any + Send>>>();
    let h = harness.clone();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let runner = h.clone();
                runner.block_on(case(h));
            }));
            // The receiver may be gone if the watchdog already fired.
            let _ = done.send(result);
        })
        .expect("spawn the case thread");
    let watchdog = watchdog();
    match outcome.recv_timeout(watchdog) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("conformance case `{name}` hung: still running after {watchdog:?}"),
    }
}
