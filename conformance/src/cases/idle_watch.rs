//! spec §5.6: idle pooled connections are watched while idle. A peer that closes, resets
//! or writes to one gets it closed and removed without any connect; an idle deadline
//! closes it (the peer reads our FIN).

use std::time::Duration;

use cosocket_core::{ConnectOptions, Cosockets, StreamSock};

use super::{connect_target, finish, start, wait_until};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerKind, PeerSpec, Step};
use crate::render::expect;

/// The peer closes, resets or writes to an idle pooled connection (that never expires):
/// the watcher closes it and the pool, counting nothing, is destroyed.
pub async fn x_idle_watch_closes_on_peer_event<H: Harness>(t: Case<H>) {
    for (last, why) in [
        (Step::Close, "the peer's FIN"),
        (Step::Reset, "the peer's RST"),
        (Step::send("stray"), "stray bytes"),
    ] {
        let mut peer = start(PeerSpec::per_connection(
            PeerKind::Tcp,
            vec![vec![Step::sleep(100), last]],
            vec![],
        ));
        let cx = t.cx();
        let mut s = cx.stream();
        let opts = ConnectOptions::new().pool("watched");
        connect_target(&mut s, &mut peer, "peer", &opts)
            .await
            .unwrap();
        expect(
            "keepalive",
            &s.set_keepalive(Some(Duration::ZERO), None),
            "(1)",
        );
        assert_eq!(cx.pool_stats("watched").map(|p| p.idle), Some(1));
        wait_until(&t, &format!("{why} removed the idle connection"), || {
            cx.pool_stats("watched").is_none()
        })
        .await;
        finish(peer);
    }
}

/// An idle deadline closes the connection while idle: the peer reads our FIN.
pub async fn x_idle_deadline_closes_connection<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::Drain]));
    let cx = t.cx();
    let mut s = cx.stream();
    let opts = ConnectOptions::new().pool("deadline");
    connect_target(&mut s, &mut peer, "peer", &opts)
        .await
        .unwrap();
    expect(
        "keepalive",
        &s.set_keepalive(Some(Duration::from_millis(100)), None),
        "(1)",
    );
    wait_until(&t, "the idle timeout removed the connection", || {
        cx.pool_stats("deadline").is_none()
    })
    .await;
    let report = finish(peer);
    assert_eq!(report.connections()[0].end, End::Eof);
    drop(s);
}

/// Of many idle connections, only the one the peer closed goes; the others stay usable.
pub async fn x_idle_watch_touches_only_the_closed_one<H: Harness>(t: Case<H>) {
    let mut connections = vec![vec![]; 20];
    connections[7] = vec![Step::sleep(100), Step::Close];
    let mut peer = start(PeerSpec::per_connection(PeerKind::Tcp, connections, vec![]));
    let cx = t.cx();
    let opts = ConnectOptions::new().pool("many");
    let mut socks = Vec::new();
    for _ in 0..20 {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts)
            .await
            .unwrap();
        socks.push(s);
    }
    for s in &mut socks {
        expect("keepalive", &s.set_keepalive(None, None), "(1)");
    }
    wait_until(&t, "the closed connection left the pool", || {
        cx.pool_stats("many").map(|p| p.idle) == Some(19)
    })
    .await;
    let stats = cx.pool_stats("many").expect("the pool");
    assert_eq!((stats.idle, stats.connections), (19, 19));
    for (i, s) in socks.iter_mut().enumerate() {
        connect_target(s, &mut peer, "peer", &opts).await.unwrap();
        let expected = if i < 19 { "(1)" } else { "(0)" };
        expect("reused", &s.reused_times(), expected);
    }
}

/// Issue 19's probe: a connection pooled with a timeout no clock can reach (`Duration::MAX`,
/// the edge of `Instant`, 29 years) once killed the tokio watcher, and a connection pooled
/// next to it with 50 ms stayed idle for good. Every far timeout lands in the same pool
/// before and after the short one; the short one still expires on time, the far ones stay.
pub async fn x_idle_far_timeouts_keep_the_watcher_alive<H: Harness>(t: Case<H>) {
    let far = [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_secs(29 * 365 * 86_400),
        Duration::from_secs(31 * 365 * 86_400),
    ];
    let mut peer = start(PeerSpec::tcp(vec![Step::Drain]));
    let cx = t.cx();
    let opts = ConnectOptions::new().pool("far");
    let mut socks = Vec::new();
    for _ in 0..far.len() + 1 {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts)
            .await
            .unwrap();
        socks.push(s);
    }
    let (short, rest) = socks.split_last_mut().expect("sockets");
    let (before, after) = rest.split_at_mut(far.len() / 2);
    for (s, timeout) in before.iter_mut().zip(far) {
        expect(
            "far keepalive",
            &s.set_keepalive(Some(timeout), None),
            "(1)",
        );
    }
    expect(
        "short keepalive",
        &short.set_keepalive(Some(Duration::from_millis(50)), None),
        "(1)",
    );
    for (s, timeout) in after.iter_mut().zip(&far[far.len() / 2..]) {
        expect(
            "far keepalive",
            &s.set_keepalive(Some(*timeout), None),
            "(1)",
        );
    }
    assert_eq!(cx.pool_stats("far").map(|p| p.idle), Some(far.len() + 1));
    let released = std::time::Instant::now();
    wait_until(&t, "the 50 ms connection expired", || {
        cx.pool_stats("far").map(|p| p.idle) == Some(far.len())
    })
    .await;
    assert!(
        released.elapsed() < Duration::from_millis(1000),
        "expired after {:?}",
        released.elapsed()
    );
    // The far ones stay idle, watched: a later short one expires too.
    t.sleep_ms(100).await;
    assert_eq!(cx.pool_stats("far").map(|p| p.idle), Some(far.len()));
    let mut s = cx.stream();
    connect_target(&mut s, &mut peer, "peer", &opts)
        .await
        .unwrap();
    assert_eq!(s.reused_times().unwrap(), 1, "a far one is reused");
    expect(
        "short again",
        &s.set_keepalive(Some(Duration::from_millis(50)), None),
        "(1)",
    );
    wait_until(&t, "the second short one expired", || {
        cx.pool_stats("far").map(|p| p.idle) == Some(far.len() - 1)
    })
    .await;
    drop(socks);
    let report = finish(peer);
    let ends: Vec<_> = report.connections().iter().map(|c| c.end).collect();
    assert_eq!(
        ends.iter().filter(|e| **e == End::Eof).count(),
        2,
        "{ends:?}"
    );
}
