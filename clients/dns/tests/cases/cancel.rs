//! Queries dropped at random points never hand an answer to another query.

use std::future::Future;
use std::net::Ipv4Addr;
use std::pin::Pin;
use std::task::{Context, Poll};

use cosocket_conformance::servers::{DnsRecord, Dnsmasq};
use cosocket_conformance::{Case, Harness};
use futures::future::{Either, join_all, select};

use super::client;

const NAMES: usize = 200;

/// Ready on its `n + 1`th poll: cancels a raced query after exactly `n` polls of it
/// (dnsmasq answers within a fraction of a millisecond, so a sleep alone rarely wins).
struct AfterPolls(u32);

impl Future for AfterPolls {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn address(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 200, (i >> 8) as u8, i as u8)
}

pub(crate) async fn random_cancellation_never_mixes_answers<H: Harness>(t: Case<H>) {
    let records: Vec<DnsRecord> = (0..NAMES)
        .map(|i| DnsRecord::A(format!("n{i}.test"), address(i)))
        .collect();
    let server = Dnsmasq::start(&records);
    let dns = client(&t, server.port());
    let mut rng = fastrand::Rng::with_seed(0xd45);
    let (mut completed, mut cancelled, mut mismatches, mut errors) = (0, 0, 0, 0);
    // Batches of 8 concurrent queries on one client, each raced against a 0-2 ms sleep or,
    // for half of them, against a canceller that wins after 0-3 polls.
    let order: Vec<usize> = {
        let mut v: Vec<usize> = (0..NAMES).collect();
        rng.shuffle(&mut v);
        v
    };
    for batch in order.chunks(8) {
        let races = batch.iter().map(|&i| {
            let name = format!("n{i}.test");
            let dns = &dns;
            let delay = rng.u64(0..3);
            let polls = rng.bool().then(|| rng.u32(0..4));
            let t = &t;
            async move {
                let query = Box::pin(async move { dns.lookup_ipv4(&name).await });
                let cancel = async move {
                    match polls {
                        Some(n) => AfterPolls(n).await,
                        None => t.sleep_ms(delay).await,
                    }
                };
                match select(query, Box::pin(cancel)).await {
                    Either::Left((result, _)) => Some((i, result)),
                    Either::Right(_) => None,
                }
            }
        });
        for outcome in join_all(races).await {
            match outcome {
                None => cancelled += 1,
                Some((i, Ok(ips))) => {
                    completed += 1;
                    if ips != [address(i)] {
                        eprintln!("n{i}.test answered {ips:?}");
                        mismatches += 1;
                    }
                }
                Some((i, Err(e))) => {
                    eprintln!("n{i}.test failed: {e}");
                    errors += 1;
                }
            }
        }
    }
    eprintln!(
        "random cancellation: {NAMES} queries, {completed} completed, {cancelled} cancelled, \
         {mismatches} mismatches, {errors} errors"
    );
    assert_eq!(mismatches, 0);
    assert_eq!(errors, 0);
    assert!(cancelled > 0, "no query was cancelled");
    assert!(completed > 0, "no query completed");

    // The client is intact afterwards: every name answers with its own address.
    for i in (0..NAMES).step_by(20) {
        assert_eq!(
            dns.lookup_ipv4(&format!("n{i}.test")).await.unwrap(),
            [address(i)]
        );
    }
}
