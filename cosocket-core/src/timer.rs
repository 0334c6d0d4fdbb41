//! The one timer of a running operation: armed only when the operation has to wait (a
//! receive served from the buffer arms none), re-armed lazily from the last progress when
//! it fires (ARCHITECTURE.md, "One receive, end to end" and "Invariants").

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::{Duration, Instant};

use crate::proto::deadline::{Check, Deadline, TimeoutMode};
use crate::rt::{Runtime, Sleep};

/// A lazily armed deadline and its sleep. The sleep is boxed once: it exists only once the
/// operation waits (a `recv` that would block costs far more than the allocation), and the
/// futures of the calls that never wait stay small, which the buffered readers feel. A
/// re-arm resets that sleep ([`Sleep::reset`]) rather than making a new one.
pub(crate) struct OpTimer<S> {
    mode: TimeoutMode,
    /// `None`: the operation never times out and no sleep is ever made.
    timeout: Option<Duration>,
    deadline: Option<Deadline>,
    /// The progress count last seen (bytes moved): a change restarts an idle deadline.
    progress: u64,
    /// The sleep, made when the operation first waits or kept from an earlier operation
    /// ([`with_kept`](Self::with_kept)).
    sleep: Option<KeptSleep<S>>,
}

/// A sleep and the instant it is set to, kept between the reads of one socket
/// ([`OpTimer::into_kept`]): the next read that waits reuses it instead of allocating
/// and registering a new one and deregistering it again.
///
/// Like nginx's lazy timers (a timer is not moved when its new expiry is close to the
/// old one), a kept sleep that is set *earlier* than the next read's deadline is not
/// moved when that read arms: it fires early at worst, and is then set to the deadline
/// (the same re-arm an idle timeout does after progress). A busy connection with a 60 s
/// read timeout thus touches the timer once a minute, not once a read.
pub(crate) struct KeptSleep<S> {
    sleep: Pin<Box<S>>,
    /// Where it is set; `None` once its completion was taken (a timeout): a backend's
    /// completed sleep need not complete again until it is reset (async-io's does not),
    /// so such a sleep is always reset before it waits again.
    at: Option<Instant>,
}

impl<S> std::fmt::Debug for KeptSleep<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptSleep").field("at", &self.at).finish()
    }
}

impl<S> std::fmt::Debug for OpTimer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpTimer")
            .field("mode", &self.mode)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("armed", &self.deadline.is_some())
            .finish()
    }
}

impl<S: Sleep> OpTimer<S> {
    /// A timer counted from the last progress (TCP send and receive).
    pub(crate) fn idle(timeout: Option<Duration>) -> Self {
        Self::new(TimeoutMode::Idle, timeout)
    }

    /// A timer counted from the first wait (connect, UDP receive).
    pub(crate) fn total(timeout: Option<Duration>) -> Self {
        Self::new(TimeoutMode::Total, timeout)
    }

    fn new(mode: TimeoutMode, timeout: Option<Duration>) -> Self {
        Self {
            mode,
            timeout,
            deadline: None,
            progress: 0,
            sleep: None,
        }
    }

    /// The same timer, reusing `kept` (an earlier operation's sleep) if it has to wait.
    pub(crate) fn with_kept(mut self, kept: Option<KeptSleep<S>>) -> Self {
        if self.timeout.is_some() {
            self.sleep = kept;
        }
        self
    }

    /// The sleep, for the next operation of the same side ([`with_kept`](Self::with_kept)).
    pub(crate) fn into_kept(self) -> Option<KeptSleep<S>> {
        self.sleep
    }

    /// Whether the armed deadline has passed (never before the operation first waited).
    ///
    /// A send asks this when woken, before it writes again: nginx's write handler fails
    /// with `timeout` as soon as its timer fired (its `timedout` flag), without another
    /// write. So no backend that writes speculatively on every wake-up (async-io does,
    /// tokio's `AsyncFd` waits for readiness) can stretch a send timeout by what the
    /// kernel takes at that moment (issue 19 measured 601 ms for a 300 ms timeout).
    pub(crate) fn has_expired<R: Runtime<Sleep = S>>(&self, rt: &R) -> bool {
        self.deadline
            .is_some_and(|deadline| matches!(deadline.check(rt.now()), Check::Expired))
    }

    /// Called when the operation is about to return `Pending`; `progress` counts the
    /// bytes it has moved so far. `Ready` means it timed out.
    pub(crate) fn poll_expired<R: Runtime<Sleep = S>>(
        &mut self,
        rt: &R,
        progress: u64,
        task: &mut TaskContext<'_>,
    ) -> Poll<()> {
        let Some(timeout) = self.timeout else {
            return Poll::Pending;
        };
        match &mut self.deadline {
            None => {
                let deadline = Deadline::new(self.mode, timeout, rt.now());
                let at = deadline.at();
                match &mut self.sleep {
                    // Set no later than the deadline: it fires early at worst (see
                    // `KeptSleep`).
                    Some(kept) if kept.at.is_some_and(|kept_at| kept_at <= at) => {}
                    Some(kept) => {
                        kept.sleep.as_mut().reset(at);
                        kept.at = Some(at);
                    }
                    None => {
                        self.sleep = Some(KeptSleep {
                            sleep: Box::pin(rt.sleep_until(at)),
                            at: Some(at),
                        });
                    }
                }
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
            let Some(timer) = self.sleep.as_mut() else {
                return Poll::Pending;
            };
            ready!(timer.sleep.as_mut().poll(task));
            let Some(deadline) = self.deadline else {
                return Poll::Pending;
            };
            match deadline.check(rt.now()) {
                Check::Expired => {
                    timer.at = None;
                    return Poll::Ready(());
                }
                Check::WaitUntil(at) => {
                    timer.sleep.as_mut().reset(at);
                    timer.at = Some(at);
                }
            }
        }
    }
}

/// Runs `fut` until `deadline`: `None` if the deadline came first (connect, name
/// resolution: total timeouts that always wait, so the timer is armed at once). A `None`
/// deadline never comes.
pub(crate) async fn within<R: Runtime, F: Future>(
    rt: &R,
    deadline: Option<Instant>,
    fut: F,
) -> Option<F::Output> {
    let Some(deadline) = deadline else {
        return Some(fut.await);
    };
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
