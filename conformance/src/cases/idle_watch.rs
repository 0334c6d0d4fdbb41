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
