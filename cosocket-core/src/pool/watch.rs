//! The idle watcher (spec §5.6): one task per pool, spawned through [`Runtime::spawn`].
//!
//! Every idle connection registers for readiness with a waker of its own that names it;
//! when one fires, only that connection is polled (a one-byte read), so ten thousand idle
//! connections cost nothing per event. The task also sleeps until the earliest idle
//! deadline. It holds the pools weakly: a dropped context ends it.
//!
//! Nothing it does may end it silently (issue 19: a panic in a runtime's timer once killed
//! the task and idle connections stopped expiring). A pass that panics is caught, logged
//! as an error line, and tried again after a back-off; no sleep is ever asked for an
//! instant more than [`LONGEST_SLEEP`] away, so a far deadline never reaches the end of a
//! runtime timer's range.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::{After, Shared};
use crate::log;
use crate::proto::deadline::saturating_add;
use crate::rt::{Runtime, Sleep as _};

/// The longest the watcher sleeps at once: a later deadline is reached in several sleeps
/// (each costs one pass that finds nothing due).
pub(crate) const LONGEST_SLEEP: Duration = Duration::from_secs(3600);

/// The wait before the pass after a failed one; it doubles with each failure in a row, up
/// to [`LONGEST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);

/// The longest wait between passes that keep failing.
const LONGEST_RETRY: Duration = Duration::from_secs(60);

/// What the watcher has to look at, shared with the wakers of its connections.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    state: Mutex<WatchState>,
}

#[derive(Debug, Default)]
struct WatchState {
    /// Idle connections (release sequence numbers) whose readiness fired or that are new.
    ready: Vec<u64>,
    task: Option<Waker>,
    /// The pool is gone: the task ends.
    stopped: bool,
}

impl Watch {
    fn lock(&self) -> MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Idle connection `seq` needs a look.
    pub(super) fn notify(&self, seq: u64) {
        let task = {
            let mut state = self.lock();
            state.ready.push(seq);
            state.task.take()
        };
        if let Some(task) = task {
            task.wake();
        }
    }

    /// Ends the task (its pool was destroyed or the context dropped).
    pub(super) fn stop(&self) {
        let task = {
            let mut state = self.lock();
            state.stopped = true;
            state.ready.clear();
            state.task.take()
        };
        if let Some(task) = task {
            task.wake();
        }
    }

    /// The waker idle connection `seq` registers with the reactor.
    pub(super) fn entry_waker(self: &Arc<Self>, seq: u64) -> Waker {
        Waker::from(Arc::new(EntryWake {
            watch: Arc::clone(self),
            seq,
        }))
    }

    /// Takes the connections to look at and registers the task; `None` once stopped.
    fn begin_poll(&self, task: &Waker) -> Option<Vec<u64>> {
        let mut state = self.lock();
        if state.stopped {
            return None;
        }
        match &mut state.task {
            Some(t) => t.clone_from(task),
            None => state.task = Some(task.clone()),
        }
        Some(std::mem::take(&mut state.ready))
    }
}

/// The waker of one idle connection.
struct EntryWake {
    watch: Arc<Watch>,
    seq: u64,
}

impl Wake for EntryWake {
    fn wake(self: Arc<Self>) {
        self.watch.notify(self.seq);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.watch.notify(self.seq);
    }
}

/// The watcher task of pool `pool_id` (key `key`).
pub(super) struct Watcher<R: Runtime> {
    pub(super) home: Weak<Shared<R>>,
    pub(super) key: Arc<str>,
    pub(super) pool_id: u64,
    pub(super) watch: Arc<Watch>,
    /// The deadline the sleep is armed for, if it is armed.
    pub(super) due: Option<Instant>,
    /// The one sleep of the watcher, made at its first deadline and reset afterwards.
    pub(super) sleep: Option<Pin<Box<R::Sleep>>>,
    /// Passes that panicked in a row.
    pub(super) failures: u32,
}

impl<R: Runtime> Future for Watcher<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        match catch_unwind(AssertUnwindSafe(|| this.passes(task))) {
            Ok(poll) => {
                this.failures = 0;
                poll
            }
            Err(panic) => this.recover(&*panic, task),
        }
    }
}

impl<R: Runtime> Watcher<R> {
    /// Passes over the pool until the sleep is pending or the pool is gone.
    fn passes(&mut self, task: &mut TaskContext<'_>) -> Poll<()> {
        let this = self;
        loop {
            let Some(ready) = this.watch.begin_poll(task.waker()) else {
                return Poll::Ready(());
            };
            let Some(home) = this.home.upgrade() else {
                return Poll::Ready(());
            };
            let mut after = After::default();
            let next = {
                let mut map = home.lock();
                let Some(pool) = map.pool_mut(&this.key, this.pool_id) else {
                    return Poll::Ready(());
                };
                for seq in ready {
                    pool.poll_idle(seq, &mut after);
                }
                let next = pool.expire(home.runtime.now(), &mut after);
                map.settle(&this.key, &mut after);
                next
            };
            after.run(&home);
            // A sleep due no later than the next deadline is kept (it may fire early and
            // cost one pass): releases then arm no timer each, as the next deadline
            // mostly moves later.
            if let Some(at) = next {
                let at = at.min(saturating_add(home.runtime.now(), LONGEST_SLEEP));
                if this.due.is_none_or(|due| due > at) {
                    match &mut this.sleep {
                        Some(sleep) => sleep.as_mut().reset(at),
                        None => this.sleep = Some(Box::pin(home.runtime.sleep_until(at))),
                    }
                    this.due = Some(at);
                }
            }
            drop(home);
            let fired = match (&this.due, &mut this.sleep) {
                (Some(_), Some(sleep)) => sleep.as_mut().poll(task).is_ready(),
                _ => false,
            };
            if !fired {
                return Poll::Pending;
            }
            // A deadline came: another pass closes what expired.
            this.due = None;
        }
    }

    /// After a pass panicked: logs it and arms a fresh sleep for the next try, so that
    /// expiry goes on. If even that sleep panics, the task waits for its connections'
    /// events (and checkouts still drop what expired), and says so.
    fn recover(&mut self, panic: &(dyn Any + Send), task: &mut TaskContext<'_>) -> Poll<()> {
        self.failures = self.failures.saturating_add(1);
        self.sleep = None;
        self.due = None;
        let Some(home) = self.home.upgrade() else {
            return Poll::Ready(());
        };
        let wait = FIRST_RETRY
            .saturating_mul(1 << (self.failures - 1).min(10))
            .min(LONGEST_RETRY);
        let reason = panic_text(panic);
        log::core(format_args!(
            "the idle watcher of pool \"{}\" failed ({reason}); it tries again in {} ms",
            self.key,
            wait.as_millis()
        ));
        let at = saturating_add(home.runtime.now(), wait);
        let armed = catch_unwind(AssertUnwindSafe(|| {
            let mut sleep = Box::pin(home.runtime.sleep_until(at));
            let fired = sleep.as_mut().poll(task).is_ready();
            (sleep, fired)
        }));
        match armed {
            Ok((sleep, fired)) => {
                self.sleep = Some(sleep);
                self.due = Some(at);
                if fired {
                    task.waker().wake_by_ref();
                }
            }
            Err(panic) => log::core(format_args!(
                "the idle watcher of pool \"{}\" cannot sleep ({}); until a pass arms one, \
                 idle connections expire only at its connections' events and at checkouts",
                self.key,
                panic_text(&*panic)
            )),
        }
        Poll::Pending
    }
}

/// The message of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_text(panic: &(dyn Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "a panic"
    }
}
