//! Cancelling a future at a chosen point, for the cases that check what a dropped
//! operation leaves behind: after a time ([`within_ms`]) or after a number of polls
//! ([`within_polls`]). Loopback servers answer in well under a millisecond, so a time
//! budget alone rarely cuts an exchange in the middle; a poll budget drops the future at
//! its n-th wake-up, that is at one of its await points, whatever the speed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::{Case, Harness};

/// Races `fut` against a sleep of `ms`: `None` if the sleep won (and `fut` was dropped).
pub async fn within_ms<H: Harness, T>(
    t: &Case<H>,
    ms: u64,
    fut: impl Future<Output = T>,
) -> Option<T> {
    let fut = std::pin::pin!(fut);
    let sleep = std::pin::pin!(t.sleep_ms(ms));
    match futures::future::select(fut, sleep).await {
        futures::future::Either::Left((v, _)) => Some(v),
        futures::future::Either::Right(((), _)) => None,
    }
}

/// Polls `fut` at most `polls` times: `None` if it was still pending then (and it is
/// dropped when woken the next time, at the await point it was waiting at).
pub async fn within_polls<T>(polls: u32, fut: impl Future<Output = T>) -> Option<T> {
    PollBudget {
        fut: Box::pin(fut),
        left: polls,
    }
    .await
}

struct PollBudget<F> {
    fut: Pin<Box<F>>,
    left: u32,
}

impl<F: Future> Future for PollBudget<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        self.fut.as_mut().poll(cx).map(Some)
    }
}

/// Cancels `fut` at a random point, or not at all: half the time after 0–3 ms, half the
/// time after 1–5 polls (a loopback exchange takes a few).
pub async fn at_random<H: Harness, T>(
    t: &Case<H>,
    rng: &mut fastrand::Rng,
    fut: impl Future<Output = T>,
) -> Option<T> {
    if rng.bool() {
        within_ms(t, rng.u64(0..4), fut).await
    } else {
        within_polls(rng.u32(1..6), fut).await
    }
}
