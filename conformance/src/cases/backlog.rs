//! spec §11 cases 80–83 and the rest of §5.2 and §5.5: the connection count, pools created
//! by connect options and destroyed at zero, the backlog queue, and that every counted
//! place comes back on every path (failed, dropped and cancelled connects, hand-offs to a
//! cancelled waiter, sockets and owned halves dropped without close).

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use cosocket_core::{ConnectOptions, Cosockets, StreamSock, StreamWrite, TcpSock};

use super::{StreamOf, connect_target, finish, start, wait_until};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, Peer, PeerSpec, Target};
use crate::render::expect;

fn size(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("a non-zero pool size")
}

/// `pool` with `pool_size` and, if given, `backlog`.
fn limited(pool: &str, pool_size: usize, backlog: Option<usize>) -> ConnectOptions {
    let opts = ConnectOptions::new().pool(pool).pool_size(size(pool_size));
    match backlog {
        Some(b) => opts.backlog(b),
        None => opts,
    }
}

/// `(size, connections, idle, waiting)` of pool `key`, or `None` when it does not exist.
fn stats<C: Cosockets>(cx: &C, key: &str) -> Option<(usize, usize, usize, usize)> {
    cx.pool_stats(key)
        .map(|s| (s.size.get(), s.connections, s.idle, s.waiting))
}

/// The peer's TCP host and port.
fn tcp_target(peer: &mut Peer, name: &str) -> (String, u16) {
    match peer.target(name).expect("peer target") {
        Target::Tcp { host, port } => (host, port),
        Target::Unix(_) => panic!("a TCP target was expected"),
    }
}

/// Polls `fut` once (so a connect reaches the pool's queue) and returns it, pinned.
async fn poll_once<F: Future>(fut: F) -> Pin<Box<F>> {
    let mut fut = Box::pin(fut);
    std::future::poll_fn(|task| {
        assert!(
            fut.as_mut().poll(task).is_pending(),
            "the connect was expected to wait in the queue"
        );
        Poll::Ready(())
    })
    .await;
    fut
}

/// Case 80: a pool is destroyed when its count reaches zero; a later `pool_size` takes
/// effect then.
pub async fn s80_pool_destroyed_at_zero<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let mut s = cx.stream();
    connect_target(&mut s, &mut peer, "peer", &limited("rs", 1, None))
        .await
        .unwrap();
    assert_eq!(stats(&cx, "rs"), Some((1, 1, 0, 0)), "created by connect");
    expect("close", &s.close(), "(1)");
    assert_eq!(stats(&cx, "rs"), None, "destroyed at count 0");
    let mut a = cx.stream();
    let mut b = cx.stream();
    for s in [&mut a, &mut b] {
        connect_target(s, &mut peer, "peer", &limited("rs", 2, None))
            .await
            .unwrap();
    }
    expect("keepalive a", &a.set_keepalive(None, None), "(1)");
    expect("keepalive b", &b.set_keepalive(None, None), "(1)");
    assert_eq!(stats(&cx, "rs"), Some((2, 2, 2, 0)), "size 2 took effect");
    for s in [&mut a, &mut b] {
        connect_target(s, &mut peer, "peer", &limited("rs", 2, None))
            .await
            .unwrap();
        expect("reused", &s.reused_times(), "(1)");
    }
}

/// Case 81, first part (spec §5.5's example): `{pool_size=1, backlog=1}`.
pub async fn s81_backlog_queue_and_limit<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let (host, port) = tcp_target(&mut peer, "peer");
    let cx = t.cx();
    let opts = limited("bl", 1, Some(1));
    let mut a = cx.stream();
    a.connect(&host, port, &opts).await.unwrap();
    let queued = {
        let (cx, host, opts) = (cx.clone(), host.clone(), opts.clone());
        t.spawn(async move {
            let mut b = cx.stream();
            let r = b.connect(&host, port, &opts).await;
            (r, b.reused_times(), b)
        })
    };
    wait_until(&t, "B waits", || stats(&cx, "bl") == Some((1, 2, 0, 1))).await;
    let mut c = cx.stream();
    expect(
        "C",
        &c.connect(&host, port, &opts).await,
        r#"(nil,"too many waiting connect operations")"#,
    );
    assert_eq!(
        stats(&cx, "bl"),
        Some((1, 2, 0, 1)),
        "C gave its place back"
    );
    expect("A keepalive", &a.set_keepalive(None, None), "(1)");
    let (r, reused, mut b) = queued.await;
    expect("B", &r, "(1)");
    expect("B reused", &reused, "(1)");
    assert_eq!(stats(&cx, "bl"), Some((1, 1, 0, 0)));
    b.send("b").await.unwrap();
    drop((a, b, c));
    let report = finish(peer);
    assert_eq!(report.connections().len(), 1, "B got A's connection");
    assert_eq!(report.connections()[0].recv, b"b");
}

/// Case 81, second part: `{pool_size=2, backlog=0}`: no queue at all.
pub async fn s81_backlog_zero<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let opts = limited("b0", 2, Some(0));
    let mut socks: Vec<StreamOf<H>> = Vec::new();
    for _ in 0..2 {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts)
            .await
            .unwrap();
        socks.push(s);
    }
    let mut third = cx.stream();
    let too_many = r#"(nil,"too many waiting connect operations")"#;
    expect(
        "third",
        &connect_target(&mut third, &mut peer, "peer", &opts).await,
        too_many,
    );
    expect("release", &socks[0].set_keepalive(None, None), "(1)");
    expect(
        "after release",
        &connect_target(&mut third, &mut peer, "peer", &opts).await,
        "(1)",
    );
    expect("reused", &third.reused_times(), "(1)");
    let mut fourth = cx.stream();
    expect(
        "fourth",
        &connect_target(&mut fourth, &mut peer, "peer", &opts).await,
        too_many,
    );
    assert_eq!(stats(&cx, "b0"), Some((2, 2, 0, 0)));
}

/// Case 82: a queued connect times out after the connect timeout, with spec §10's line.
pub async fn s82_queued_connect_times_out<H: Harness>(t: Case<H>) {
    crate::logs::install();
    let mut peer = start(PeerSpec::tcp(vec![]));
    let (host, port) = tcp_target(&mut peer, "peer");
    let cx = t.cx();
    let opts = limited("q", 1, Some(1));
    let mut holder = cx.stream();
    holder.connect(&host, port, &opts).await.unwrap();
    let mut d = cx.stream();
    d.set_timeouts(Some(Duration::from_millis(10)), None, None);
    expect(
        "D",
        &d.connect(&host, port, &opts).await,
        r#"(nil,"timeout")"#,
    );
    assert_eq!(stats(&cx, "q"), Some((1, 1, 0, 0)), "D left the queue");
    let line =
        format!("lua tcp socket queued connect timed out, when trying to connect to {host}:{port}");
    assert!(
        !crate::logs::lines_with(&line).is_empty(),
        "missing log line {line:?}"
    );
    expect("D after", &d.send("x").await, r#"(nil,"closed")"#);
}

/// Case 83: a failed connect gives its place back.
pub async fn s83_failed_connect_frees_place<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let opts = limited("f", 1, Some(0));
    let mut s = cx.stream();
    s.set_timeouts(Some(Duration::from_millis(100)), None, None);
    expect(
        "timed out",
        &connect_target(&mut s, &mut peer, "backlog_full", &opts).await,
        r#"(nil,"timeout")"#,
    );
    assert_eq!(
        stats(&cx, "f"),
        None,
        "the failed connect was the only count"
    );
    expect(
        "refused",
        &connect_target(&mut s, &mut peer, "closed", &opts).await,
        r#"(nil,"connection refused")"#,
    );
    expect(
        "next",
        &connect_target(&mut s, &mut peer, "peer", &opts).await,
        "(1)",
    );
    assert_eq!(stats(&cx, "f"), Some((1, 1, 0, 0)));
}

/// spec §5.2: a pool made by connect options keeps its size while it exists, against
/// later `pool_size` options and `set_keepalive` sizes.
pub async fn x_pool_size_fixed_while_pool_exists<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let mut a = cx.stream();
    connect_target(&mut a, &mut peer, "peer", &limited("fixed", 2, None))
        .await
        .unwrap();
    let mut socks = Vec::new();
    for _ in 0..3 {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &limited("fixed", 7, None))
            .await
            .unwrap();
        socks.push(s);
    }
    assert_eq!(stats(&cx, "fixed"), Some((2, 4, 0, 0)));
    for s in &mut socks {
        expect("keepalive", &s.set_keepalive(None, Some(size(9))), "(1)");
    }
    assert_eq!(
        stats(&cx, "fixed"),
        Some((2, 3, 2, 0)),
        "size 2: the third release evicted the least recent"
    );
}

/// spec §5.2: a connection opened while no pool existed is counted when first pooled;
/// without `backlog` the count does not limit connects.
pub async fn x_uncounted_connection_counted_when_pooled<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let key = {
        let (host, port) = tcp_target(&mut peer, "peer");
        format!("{host}:{port}")
    };
    let opts = ConnectOptions::new();
    let mut a = cx.stream();
    connect_target(&mut a, &mut peer, "peer", &opts)
        .await
        .unwrap();
    assert_eq!(stats(&cx, &key), None, "no pool before set_keepalive");
    expect("keepalive", &a.set_keepalive(None, Some(size(1))), "(1)");
    assert_eq!(stats(&cx, &key), Some((1, 1, 1, 0)));
    let mut socks = Vec::new();
    for _ in 0..3 {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts)
            .await
            .unwrap();
        socks.push(s);
    }
    assert_eq!(
        stats(&cx, &key),
        Some((1, 3, 0, 0)),
        "one reused, two new and counted"
    );
    drop(socks);
    assert_eq!(
        stats(&cx, &key),
        None,
        "dropped sockets gave their places back"
    );
}

/// A socket dropped without `close` or `set_keepalive` is closed (never pooled) and its
/// place goes to the queued connect.
pub async fn x_dropped_socket_frees_place_for_waiter<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let (host, port) = tcp_target(&mut peer, "peer");
    let cx = t.cx();
    let opts = limited("drop", 1, Some(1));
    let mut a = cx.stream();
    a.connect(&host, port, &opts).await.unwrap();
    a.send("a").await.unwrap();
    let mut b = cx.stream();
    let mut waiting = poll_once(b.connect(&host, port, &opts)).await;
    assert_eq!(stats(&cx, "drop"), Some((1, 2, 0, 1)));
    drop(a);
    expect("B", &waiting.as_mut().await, "(1)");
    drop(waiting);
    expect("B reused", &b.reused_times(), "(0)");
    assert_eq!(stats(&cx, "drop"), Some((1, 1, 0, 0)));
    drop(b);
    let report = finish(peer);
    assert_eq!(report.connections()[0].end, End::Eof, "A was closed");
    assert_eq!(report.connections().len(), 2);
}

/// Owned halves hold the connection's place until both are gone.
pub async fn x_owned_halves_hold_place<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let opts = limited("halves", 1, Some(0));
    let mut a = cx.stream();
    connect_target(&mut a, &mut peer, "peer", &opts)
        .await
        .unwrap();
    let (read, write) = a.into_split();
    drop(read);
    let mut c = cx.stream();
    expect(
        "write half alive",
        &connect_target(&mut c, &mut peer, "peer", &opts).await,
        r#"(nil,"too many waiting connect operations")"#,
    );
    drop(write);
    expect(
        "both dropped",
        &connect_target(&mut c, &mut peer, "peer", &opts).await,
        "(1)",
    );
}

/// A queued connect cancelled while it waits leaves the queue; the next waiter is served.
pub async fn x_cancelled_queued_connect_leaves_queue<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let (host, port) = tcp_target(&mut peer, "peer");
    let cx = t.cx();
    let opts = limited("cancel", 1, Some(2));
    let mut a = cx.stream();
    a.connect(&host, port, &opts).await.unwrap();
    let mut b = cx.stream();
    let waiting_b = poll_once(b.connect(&host, port, &opts)).await;
    let mut c = cx.stream();
    let mut waiting_c = poll_once(c.connect(&host, port, &opts)).await;
    assert_eq!(stats(&cx, "cancel"), Some((1, 3, 0, 2)));
    drop(waiting_b);
    assert_eq!(stats(&cx, "cancel"), Some((1, 2, 0, 1)), "B left the queue");
    expect("B after", &b.send("x").await, r#"(nil,"closed")"#);
    expect("A keepalive", &a.set_keepalive(None, None), "(1)");
    expect("C", &waiting_c.as_mut().await, "(1)");
    drop(waiting_c);
    expect("C reused", &c.reused_times(), "(1)");
    assert_eq!(stats(&cx, "cancel"), Some((1, 1, 0, 0)));
}

/// A connection handed to a queued connect that is dropped before it picks it up goes to
/// the next waiter; with none, back to the pool. A freed place likewise.
pub async fn x_handoff_to_cancelled_waiter_goes_on<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let (host, port) = tcp_target(&mut peer, "peer");
    let cx = t.cx();
    let opts = limited("hand", 1, Some(2));
    let mut a = cx.stream();
    a.connect(&host, port, &opts).await.unwrap();
    // A released connection: B is handed it, is dropped, C gets it.
    let mut b = cx.stream();
    let waiting_b = poll_once(b.connect(&host, port, &opts)).await;
    let mut c = cx.stream();
    let mut waiting_c = poll_once(c.connect(&host, port, &opts)).await;
    expect("A keepalive", &a.set_keepalive(None, None), "(1)");
    drop(waiting_b);
    expect("C", &waiting_c.as_mut().await, "(1)");
    drop(waiting_c);
    expect("C reused", &c.reused_times(), "(1)");
    // With nobody left, a handed connection goes back to the pool.
    let mut d = cx.stream();
    let waiting_d = poll_once(d.connect(&host, port, &opts)).await;
    expect("C keepalive", &c.set_keepalive(None, None), "(1)");
    drop(waiting_d);
    assert_eq!(stats(&cx, "hand"), Some((1, 1, 1, 0)), "back in the pool");
    // A freed place: E is handed it, is dropped, F gets it and opens a new connection.
    connect_target(&mut a, &mut peer, "peer", &opts)
        .await
        .unwrap();
    expect("A reused", &a.reused_times(), "(2)");
    let mut e = cx.stream();
    let waiting_e = poll_once(e.connect(&host, port, &opts)).await;
    let mut f = cx.stream();
    let mut waiting_f = poll_once(f.connect(&host, port, &opts)).await;
    expect("A close", &a.close(), "(1)");
    drop(waiting_e);
    expect("F", &waiting_f.as_mut().await, "(1)");
    drop(waiting_f);
    expect("F reused", &f.reused_times(), "(0)");
    assert_eq!(stats(&cx, "hand"), Some((1, 1, 0, 0)));
}

/// A connect dropped while the connection is being opened gives its place back.
pub async fn x_connect_dropped_while_connecting<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let (host, port) = tcp_target(&mut peer, "backlog_full");
    let cx = t.cx();
    let opts = limited("opening", 1, Some(0));
    let mut s = cx.stream();
    let connecting = poll_once(s.connect(&host, port, &opts)).await;
    assert_eq!(stats(&cx, "opening"), Some((1, 1, 0, 0)));
    drop(connecting);
    assert_eq!(stats(&cx, "opening"), None);
    expect(
        "next",
        &connect_target(&mut s, &mut peer, "peer", &opts).await,
        "(1)",
    );
}

/// A context dropped while connections are checked out: they work on, and every pooled
/// connection is closed once the last socket of the context is gone.
pub async fn x_context_dropped_with_connections_out<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let opts = limited("gone", 2, Some(1));
    let mut a = cx.stream();
    let mut b = cx.stream();
    for s in [&mut a, &mut b] {
        connect_target(s, &mut peer, "peer", &opts).await.unwrap();
    }
    expect("B keepalive", &b.set_keepalive(None, None), "(1)");
    drop(cx);
    expect("A send", &a.send("a").await, "(1)");
    expect("A close", &a.close(), "(1)");
    drop((a, b));
    let report = finish(peer);
    let ends: Vec<End> = report.connections().iter().map(|c| c.end).collect();
    assert_eq!(ends, [End::Eof, End::Eof]);
}
