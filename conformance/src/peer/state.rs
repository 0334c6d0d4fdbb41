//! The state the peer's threads share: the logs the snapshot reads, the count of scripts
//! still running (FORMAT §3.5 waits for it) and the stop signal every thread obeys.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::report::{ConnectionReport, End, TlsReport};

/// How long a peer thread blocks in one syscall before it looks at the stop signal again:
/// a stopped peer is gone within about this long, without any thread left blocking.
pub(crate) const TICK: Duration = Duration::from_millis(20);

/// Logs and signals behind one mutex; one condvar wakes sleepers on stop and the
/// snapshot's waiter when a script ends.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    stopped: bool,
    /// Scripts (connections, the UDP script) that have not ended yet.
    running: usize,
    connections: Vec<ConnectionLog>,
    datagrams: Vec<Vec<u8>>,
}

#[derive(Debug, Default)]
struct ConnectionLog {
    recv: Vec<u8>,
    end: Option<End>,
    /// `log_recv: false` (FORMAT §10.4).
    unlogged: bool,
    tls: Option<TlsReport>,
}

impl Shared {
    /// A poisoned lock only means a peer thread panicked; its logs are still the best
    /// record there is, and the peer must never panic in turn.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A newly accepted connection: its number (accept order) and a running script.
    pub(crate) fn add_connection(&self) -> usize {
        let mut state = self.lock();
        state.connections.push(ConnectionLog::default());
        state.running += 1;
        state.connections.len() - 1
    }

    /// Connection `index` reports `recv` as `null` (`log_recv: false`).
    pub(crate) fn set_unlogged(&self, index: usize) {
        if let Some(c) = self.lock().connections.get_mut(index) {
            c.unlogged = true;
        }
    }

    /// Changes what connection `index` reports of its TLS session (FORMAT §10.4).
    #[cfg(feature = "tls")]
    pub(crate) fn update_tls(&self, index: usize, change: impl FnOnce(&mut TlsReport)) {
        if let Some(c) = self.lock().connections.get_mut(index) {
            change(c.tls.get_or_insert_with(TlsReport::default));
        }
    }

    /// A script that is not a connection's (the UDP script) starts.
    pub(crate) fn add_script(&self) {
        self.lock().running += 1;
    }

    /// A script ended (its thread is about to exit).
    pub(crate) fn end_script(&self) {
        let mut state = self.lock();
        state.running = state.running.saturating_sub(1);
        drop(state);
        self.changed.notify_all();
    }

    /// Appends bytes read from connection `index` to its `recv` log.
    pub(crate) fn log_recv(&self, index: usize, bytes: &[u8]) {
        if let Some(c) = self.lock().connections.get_mut(index) {
            c.recv.extend_from_slice(bytes);
        }
    }

    /// Sets the end of connection `index` unless one is set: FORMAT §3.4's end is the
    /// first that happened.
    pub(crate) fn set_end(&self, index: usize, end: End) {
        if let Some(c) = self.lock().connections.get_mut(index) {
            c.end.get_or_insert(end);
        }
    }

    /// Appends a datagram the UDP script received.
    pub(crate) fn log_datagram(&self, datagram: Vec<u8>) {
        self.lock().datagrams.push(datagram);
    }

    /// Connections accepted so far.
    pub(crate) fn accepted(&self) -> usize {
        self.lock().connections.len()
    }

    /// Tells every thread to finish and wakes the sleeping ones.
    pub(crate) fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }

    /// Whether the peer is stopping.
    pub(crate) fn stopped(&self) -> bool {
        self.lock().stopped
    }

    /// Sleeps `duration` unless the peer stops first; `false` if it did.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .changed
            .wait_timeout_while(state, duration, |s| !s.stopped)
            .unwrap_or_else(PoisonError::into_inner);
        !state.stopped
    }

    /// Blocks until the peer stops.
    pub(crate) fn wait_stopped(&self) {
        let state = self.lock();
        drop(
            self.changed
                .wait_while(state, |s| !s.stopped)
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// Waits until every script has ended or `deadline` passes (FORMAT §3.5's grace).
    pub(crate) fn wait_scripts(&self, deadline: Instant) {
        let state = self.lock();
        let timeout = deadline.saturating_duration_since(Instant::now());
        drop(
            self.changed
                .wait_timeout_while(state, timeout, |s| s.running > 0)
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// The connections as they are now; an unset end is `open` (FORMAT §3.5).
    pub(crate) fn connections(&self) -> Vec<ConnectionReport> {
        self.lock()
            .connections
            .iter()
            .map(|c| ConnectionReport {
                recv: c.recv.clone(),
                end: c.end.unwrap_or(End::Open),
                logged: !c.unlogged,
                tls: c.tls.clone(),
            })
            .collect()
    }

    /// The datagrams received so far.
    pub(crate) fn datagrams(&self) -> Vec<Vec<u8>> {
        self.lock().datagrams.clone()
    }
}

/// Ends its script when dropped, so a script that returns early (or panics) never
/// makes the snapshot wait out its whole grace.
#[derive(Debug)]
pub(crate) struct ScriptGuard<'a>(pub(crate) &'a Shared);

impl Drop for ScriptGuard<'_> {
    fn drop(&mut self) {
        self.0.end_script();
    }
}
