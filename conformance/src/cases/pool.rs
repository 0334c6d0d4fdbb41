//! spec §11 cases 71–79 and 86: `set_keepalive`'s checks and the pool's checkout order,
//! eviction, idle timeout, liveness and keys.

use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Duration;

use cosocket_core::{ConnectOptions, Cosockets, StreamRead, StreamSock, StreamWrite, UnixSock};

use super::Call::{Close, Exact, KeepAlive, Sleep};
use super::{connect_target, connected, finish, script, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerSpec, Step};
use crate::render::expect;

fn opts() -> ConnectOptions {
    ConnectOptions::new()
}

/// Case 71.
pub async fn s71_keepalive_unread_data<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send("12345")]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Exact(2), r#"("12")"#), (KeepAlive, r#"(nil,"unread data in buffer")"#),
        (Exact(3), r#"("345")"#), (KeepAlive, "(1)"), (Close, r#"(nil,"closed")"#),
    ]).await;
}

/// Case 72.
pub async fn s72_keepalive_dubious_state<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("ab"),
        Step::sleep(50),
        Step::send("late"),
    ]));
    let mut s = connected(&t, &mut peer).await;
    t.sleep_ms(20).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Exact(2), r#"("ab")"#), (Sleep(200), ""),
        (KeepAlive, r#"(nil,"connection in dubious state")"#), (Close, r#"(nil,"closed")"#),
    ]).await;
}

/// Case 73: a FIN that arrived while the socket sat unread.
pub async fn s73_keepalive_after_fin<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send("ok"), Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Exact(2), r#"("ok")"#), (Sleep(100), ""), (KeepAlive, r#"(nil,"closed")"#),
        (Close, "(1)"),
    ]).await;
}

/// Case 74.
pub async fn s74_reused_times_count<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(6)]));
    let cx = t.cx();
    for cycle in 0..3u32 {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts())
            .await
            .unwrap();
        expect("reused", &s.reused_times(), &format!("({cycle})"));
        expect("send", &s.send("ab").await, "(2)");
        expect(
            "keepalive",
            &s.set_keepalive(Some(Duration::ZERO), None),
            "(1)",
        );
        expect("close", &s.close(), r#"(nil,"closed")"#);
        expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    }
    let report = finish(peer);
    assert_eq!(
        report.connections().len(),
        1,
        "one connection for three cycles"
    );
    assert_eq!(report.connections()[0].recv, b"ababab");
}

/// Case 75: checkout is LIFO.
pub async fn s75_pool_is_lifo<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(2)]));
    let cx = t.cx();
    let pool = ConnectOptions::new().pool("p");
    let mut socks = Vec::new();
    for name in ["a", "b", "c"] {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &pool)
            .await
            .unwrap();
        s.send(name).await.unwrap();
        socks.push(s);
    }
    for s in &mut socks {
        s.set_keepalive(None, None).unwrap();
    }
    for name in ["c", "b", "a"] {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &pool)
            .await
            .unwrap();
        expect("reused", &s.reused_times(), "(1)");
        s.send(name).await.unwrap();
        socks.push(s);
    }
    drop(socks);
    let report = finish(peer);
    let recv: Vec<&[u8]> = report
        .connections()
        .iter()
        .map(|c| c.recv.as_slice())
        .collect();
    assert_eq!(recv, [&b"aa"[..], b"bb", b"cc"]);
}

/// Case 76: a full pool evicts its least recently released connection.
pub async fn s76_pool_evicts_least_recent<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let mut socks = Vec::new();
    for _ in 0..3 {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts())
            .await
            .unwrap();
        socks.push(s);
    }
    for s in &mut socks {
        s.set_keepalive(None, NonZeroUsize::new(2)).unwrap();
    }
    for expected in ["(1)", "(1)", "(0)"] {
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts())
            .await
            .unwrap();
        expect("reused", &s.reused_times(), expected);
        socks.push(s);
    }
    drop(socks);
    let report = finish(peer);
    assert_eq!(
        report.connections()[0].end,
        End::Eof,
        "the evicted one is closed"
    );
}

/// Case 77: an idle connection past its timeout is not handed out.
pub async fn s77_pool_idle_timeout<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let mut s = cx.stream();
    connect_target(&mut s, &mut peer, "peer", &opts())
        .await
        .unwrap();
    s.set_keepalive(Some(Duration::from_millis(100)), None)
        .unwrap();
    t.sleep_ms(300).await;
    connect_target(&mut s, &mut peer, "peer", &opts())
        .await
        .unwrap();
    expect("reused", &s.reused_times(), "(0)");
}

/// Case 78: a pooled connection the peer closed, or wrote to, is not handed out.
pub async fn s78_pool_drops_connection_peer_closed<H: Harness>(t: Case<H>) {
    for last in [Step::Close, Step::send("stray")] {
        let mut peer = start(PeerSpec::per_connection(
            crate::peer::PeerKind::Tcp,
            vec![vec![Step::sleep(100), last]],
            vec![],
        ));
        let cx = t.cx();
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts())
            .await
            .unwrap();
        s.set_keepalive(None, None).unwrap();
        t.sleep_ms(300).await;
        connect_target(&mut s, &mut peer, "peer", &opts())
            .await
            .unwrap();
        expect("reused", &s.reused_times(), "(0)");
    }
}

/// Case 79: a shared custom pool name hands out a connection to another address.
pub async fn s79_custom_pool_name<H: Harness>(t: Case<H>) {
    let mut a = start(PeerSpec::tcp(vec![Step::expect(2)]));
    let mut b = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let shared = ConnectOptions::new().pool("shared");
    let mut s = cx.stream();
    connect_target(&mut s, &mut a, "peer", &shared)
        .await
        .unwrap();
    s.send("1").await.unwrap();
    s.set_keepalive(None, None).unwrap();
    expect(
        "connect B",
        &connect_target(&mut s, &mut b, "peer", &shared).await,
        "(1)",
    );
    expect("reused", &s.reused_times(), "(1)");
    s.send("2").await.unwrap();
    drop(s);
    assert_eq!(finish(a).connections()[0].recv, b"12");
    assert!(finish(b).connections().is_empty());
}

/// Case 86: `unix:P` and `unix:P:80` are different pools.
pub async fn s86_unix_pool_keys<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::unix(vec![]));
    let path = peer.path().unwrap().to_path_buf();
    let host = format!("unix:{}", path.display());
    let cx = t.cx();
    let mut s = cx.stream();
    s.connect_unix(Path::new(&path), &opts()).await.unwrap();
    s.set_keepalive(None, None).unwrap();
    cosocket_core::TcpSock::connect(&mut s, &host, 80, &opts())
        .await
        .unwrap();
    expect("unix:P:80", &s.reused_times(), "(0)");
    s.connect_unix(&path, &opts()).await.unwrap();
    expect("unix:P", &s.reused_times(), "(1)");
    let _ = &mut peer;
}

#[allow(dead_code)]
fn _uses(s: &mut impl StreamRead) -> &mut impl StreamRead {
    s
}
