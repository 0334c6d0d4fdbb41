//! The one timer of a running operation: armed only when the operation has to wait (a
//! receive served from the buffer arms none), re-armed lazily from the last progress when
//! it fires (ARCHITECTURE.md, "Deadlines inside each operation").

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::Duration;

use crate::Runtime;
use crate::deadline::{Check, Deadline, TimeoutMode};

/// A lazily armed deadline; the sleep future lives beside it, pinned by the operation.
#[derive(Debug)]
pub(crate) struct OpTimer {
    mode: TimeoutMode,
    timeout: Duration,
    deadline: Option<Deadline>,
    /// The progress count last seen (bytes moved): a change restarts an idle deadline.
    progress: u64,
}

impl OpTimer {
    /// A timer counted from the last progress (TCP send and receive).
    pub(crate) fn idle(timeout: Duration) -> Self {
        Self::new(TimeoutMode::Idle, timeout)
    }

    /// A timer counted from the first wait (connect, UDP receive).
    pub(crate) fn total(timeout: Duration) -> Self {
        Self::new(TimeoutMode::Total, timeout)
    }

    fn new(mode: TimeoutMode, timeout: Duration) -> Self {
        Self {
            mode,
            timeout,
            deadline: None,
            progress: 0,
        }
    }

    /// Called when the operation is about to return `Pending`; `progress` counts the
    /// bytes it has moved so far. `Ready` means it timed out.
    pub(crate) fn poll_expired<R: Runtime>(
        &mut self,
        rt: &R,
        mut sleep: Pin<&mut Option<R::Sleep>>,
        progress: u64,
        task: &mut TaskContext<'_>,
    ) -> Poll<()> {
        match &mut self.deadline {
            None => {
                let deadline = Deadline::new(self.mode, self.timeout, rt.now());
                sleep.set(Some(rt.sleep_until(deadline.at())));
                self.deadline = Some(deadline);
                self.progress = progress;
            }
            // Progress only records the time; the sleep is moved when it fires.
            Some(deadline) if progress != self.progress => {
                deadline.progress(rt.now());
                self.progress = progress;
            }
            Some(_) => {}
        }
        loop {
            let Some(timer) = sleep.as_mut().as_pin_mut() else {
                return Poll::Pending;
            };
            ready!(timer.poll(task));
            let Some(deadline) = self.deadline else {
                return Poll::Pending;
            };
            match deadline.check(rt.now()) {
                Check::Expired => return Poll::Ready(()),
                Check::WaitUntil(at) => sleep.set(Some(rt.sleep_until(at))),
            }
        }
    }
}

/// Runs `fut` until `deadline`: `None` if the deadline came first (connect, name
/// resolution: total timeouts that always wait, so the timer is armed at once).
pub(crate) async fn within<R: Runtime, F: Future>(
    rt: &R,
    deadline: std::time::Instant,
    fut: F,
) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut sleep = std::pin::pin!(rt.sleep_until(deadline));
    std::future::poll_fn(|task| {
        if let Poll::Ready(out) = fut.as_mut().poll(task) {
            return Poll::Ready(Some(out));
        }
        if sleep.as_mut().poll(task).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}
