//! FORMAT §1's environment of one scenario, in its order: the peer and its targets, a
//! fresh context with the recordings' directives, the ops in one task, request end, the
//! peer's snapshot, and only then the end of the context.

use std::sync::mpsc;
use std::time::Duration;

use futures::channel::oneshot;
use serde_json::Value;

use crate::case::Case;
use crate::harness::Harness;
use crate::peer::{Peer, PeerReport};

use super::interp::{Request, SharedProgress, Targets};
use super::scenario::Scenario;

/// What a scenario run produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The main list's records.
    pub(crate) ops: Vec<Value>,
    /// The peer's snapshot (FORMAT §3.4).
    pub(crate) peer: Option<Value>,
    /// Why the environment could not be set up or finished, if so.
    pub(crate) error: Option<String>,
}

/// Runs `scenario` on `harness` (blocking the calling thread); the main op list reports
/// to `progress` for the watchdog.
pub(crate) fn run<H: Harness>(
    harness: &H,
    scenario: &Scenario,
    progress: SharedProgress,
) -> Outcome {
    let mut peer = match Peer::start(&scenario.peer) {
        Ok(peer) => peer,
        Err(e) => {
            return Outcome {
                ops: Vec::new(),
                peer: None,
                error: Some(format!("the peer did not start: {e}")),
            };
        }
    };
    // Every target before the ops run: `backlog_full` fills its accept queue now.
    let targets: Targets = scenario
        .target_names()
        .into_iter()
        .map(|name| {
            let target = peer.target(&name).map_err(|e| e.to_string());
            (name, target)
        })
        .collect();
    #[allow(unused_mut)]
    let mut directives = Case::<H>::directives();
    #[cfg(feature = "tls")]
    if let Err(e) = super::tls::apply(scenario.nginx.as_ref(), &mut directives) {
        return Outcome {
            ops: Vec::new(),
            peer: None,
            error: Some(format!("the nginx object: {e}")),
        };
    }
    let (done, outcome) = mpsc::channel();
    let h = harness.clone();
    let ops = scenario.ops.clone();
    let grace = scenario.grace();
    harness.block_on(Box::pin(async move {
        let cx = h.context(directives);
        let request = Request::new(h, cx, targets);
        let records = request.clone().run_list(ops, Some(progress)).await;
        request.end().await;
        let report = finish(peer, grace).await;
        // The context (its pools) ends after the snapshot: pooled connections are "open".
        drop(request);
        let _ = done.send((records, report));
    }));
    match outcome.try_recv() {
        Ok((ops, Ok(report))) => Outcome {
            ops,
            peer: Some(report.to_json()),
            error: None,
        },
        Ok((ops, Err(e))) => Outcome {
            ops,
            peer: None,
            error: Some(e),
        },
        Err(_) => Outcome {
            ops: Vec::new(),
            peer: None,
            error: Some("the request task ended without a result".into()),
        },
    }
}

/// FORMAT §3.5's snapshot on a thread of its own (it sleeps and waits), so that the
/// executor keeps running while the peer settles.
async fn finish(peer: Peer, grace: Duration) -> Result<PeerReport, String> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("parity-peer-finish".into())
        .spawn(move || {
            let _ = tx.send(peer.finish(grace));
        })
        .map_err(|e| format!("cannot start the peer's finish thread: {e}"))?;
    rx.await
        .map_err(|_| "the peer's finish thread panicked".to_owned())
}
