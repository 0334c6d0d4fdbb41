//! Issue 19: cancellation at every await point. Each operation runs under
//! [`within_polls`](crate::cancel::within_polls)`(k, op)` for k = 1, 2, 3, ... on a fresh
//! connection until it completes within k polls; the peer trickles its bytes (several
//! `send` steps with short sleeps), so the operation wakes, and is cut, at each of them.
//! After every cut the case checks what the dropped operation left behind:
//!
//! - a receive consumed nothing: the same call returns what it would have (odd k), or
//!   the whole stream is still there for the next reader (even k), the withheld bytes of a
//!   `receive_until` included;
//! - a send cut after part of its bytes left refuses the next send and `set_keepalive`,
//!   and the peer never got the whole payload;
//! - a connect cut while queued, handed a connection, or connecting (or handshaking, with
//!   feature `tls`) leaves the pool's counts as if it had never been made.
//!
//! `set_keepalive` has no await point (it is synchronous): what it does to a queued
//! connect is covered by the connect cut right after the hand-off.

use std::num::NonZeroUsize;
use std::time::Duration;

use cosocket_core::{
    ConnectOptions, Cosockets, PoolStats, SocketOption, StreamRead, StreamSock, StreamWrite,
    TcpSock,
};

use super::fault_matrix::Read;
use super::{connect_target, finish, start};
use crate::Case;
use crate::cancel::{within_ms, within_polls};
use crate::harness::Harness;
use crate::peer::{Peer, PeerSpec, Step, Target};
use crate::render::expect;

/// The most polls any operation here may need.
const MAX_POLLS: u32 = 40;

/// One receive kind, the chunks its peer trickles (then FIN), what the call returns and
/// what is left after it.
struct ReadPoint {
    read: Read,
    chunks: &'static [&'static str],
    expected: &'static str,
    rest: &'static str,
}

const INCL: Read = Read::Until { inclusive: true };

#[rustfmt::skip]
const READ_POINTS: &[ReadPoint] = &[
    ReadPoint { read: Read::Line, chunks: &["ab", "cd\r", "\nrest"], expected: r#"("abcd")"#, rest: "rest" },
    ReadPoint { read: Read::All, chunks: &["ab", "cd", "ef"], expected: r#"("abcdef")"#, rest: "" },
    ReadPoint { read: Read::Exact(6), chunks: &["ab", "cd", "ef", "gh"], expected: r#"("abcdef")"#, rest: "gh" },
    // Any byte completes it: the one await point is before the first chunk.
    ReadPoint { read: Read::Any(16), chunks: &["ab", "cd"], expected: r#"("ab")"#, rest: "cd" },
    ReadPoint { read: Read::Until { inclusive: false }, chunks: &["ab-", "-", "xc", "d--x"], expected: r#"("ab")"#, rest: "cd--x" },
    ReadPoint { read: INCL, chunks: &["ab-", "-", "xc", "d--x"], expected: r#"("ab--x")"#, rest: "cd--x" },
    // it(2) on "a--b": "a", then the withheld "--" goes out when "b" breaks the match.
    ReadPoint { read: Read::Chunk { size: 2, inclusive: false }, chunks: &["a", "-", "-b", "--x"], expected: r#"("a--")"#, rest: "b--x" },
    ReadPoint { read: Read::Chunk { size: 4, inclusive: true }, chunks: &["a", "-", "-", "x", "tail"], expected: r#"("a--x")"#, rest: "tail" },
];

fn trickle(chunks: &[&str]) -> Vec<Step> {
    let mut steps = Vec::new();
    for chunk in chunks {
        steps.push(Step::send(chunk));
        steps.push(Step::sleep(4));
    }
    steps.push(Step::Close);
    steps
}

/// A socket of `cx` connected to the peer.
async fn open<C: Cosockets>(cx: &C, peer: &mut Peer, opts: &ConnectOptions) -> C::Stream {
    let mut s = cx.stream();
    connect_target(&mut s, peer, "peer", opts)
        .await
        .expect("connect to the peer");
    s.set_read_timeout(Duration::from_millis(2000));
    s
}

/// Every receive kind, cut at each of its await points.
pub async fn x_cancel_points_receives<H: Harness>(t: Case<H>) {
    let cx = t.cx();
    let mut total = 0;
    let mut per_kind = Vec::new();
    for point in READ_POINTS {
        let what = format!("{:?}", point.read);
        let stream: String = point.chunks.concat();
        let mut peer = start(PeerSpec::tcp(trickle(point.chunks)));
        let mut cancelled = 0;
        let mut k = 1;
        loop {
            assert!(k <= MAX_POLLS, "{what}: never completed");
            let mut s = open(&cx, &mut peer, &ConnectOptions::new()).await;
            let mut until = point.read.until();
            let polled = within_polls(k, point.read.call(&mut s, &mut until)).await;
            if let Some((got, _)) = polled {
                assert_eq!(got, point.expected, "{what}");
                expect(
                    &format!("{what}: rest"),
                    &s.receive_all().await,
                    &quote_ok(point.rest),
                );
                break;
            }
            cancelled += 1;
            if k % 2 == 1 {
                // The same call again: as if the cut one had never run.
                let (got, _) = point.read.call(&mut s, &mut until).await;
                assert_eq!(got, point.expected, "{what}: after a cut at poll {k}");
                expect(
                    &format!("{what}: rest after a cut at poll {k}"),
                    &s.receive_all().await,
                    &quote_ok(point.rest),
                );
            } else {
                // Another reader: every byte is still there, withheld ones included.
                expect(
                    &format!("{what}: the stream after a cut at poll {k}"),
                    &s.receive_all().await,
                    &quote_ok(&stream),
                );
            }
            k += 1;
        }
        per_kind.push((what, cancelled));
        total += cancelled;
    }
    eprintln!("x_cancel_points_receives: {total} cuts {per_kind:?}");
    // Typically 23 (every kind cut 1-4 times); a loaded machine may coalesce chunks.
    assert!(total >= 8, "{total} cuts: {per_kind:?}");
}

fn quote_ok(s: &str) -> String {
    format!("({})", crate::render::quote(s.as_bytes()))
}

/// A large send to a slowly reading peer, cut at each of its await points: the next send
/// and `set_keepalive` refuse, and the peer never got the whole payload.
pub async fn x_cancel_points_send<H: Harness>(t: Case<H>) {
    const SIZE: usize = 1 << 20;
    let payload = vec![b'z'; SIZE];
    let mut peer = start(PeerSpec::tcp(vec![Step::sleep(5), Step::Drain]));
    let cx = t.cx();
    let mut cancelled = 0;
    let mut k = 1;
    loop {
        assert!(k <= MAX_POLLS * 4, "the send never completed");
        let mut s = open(&cx, &mut peer, &ConnectOptions::new()).await;
        // A small send buffer, so the send waits for the peer many times.
        s.set_option(SocketOption::SndBuf, 16 << 10)
            .expect("SO_SNDBUF");
        match within_polls(k, s.send(&payload)).await {
            Some(sent) => {
                expect("send", &sent, &format!("({SIZE})"));
                expect("keepalive", &s.set_keepalive(None, None), "(1)");
                break;
            }
            None => {
                cancelled += 1;
                let at = format!("after a cut at poll {k}");
                expect(
                    &format!("send {at}"),
                    &s.send("x").await,
                    r#"(nil,"closed")"#,
                );
                expect(
                    &format!("keepalive {at}"),
                    &s.set_keepalive(None, None),
                    r#"(nil,"closed")"#,
                );
                expect(&format!("close {at}"), &s.close(), "(1)");
            }
        }
        // Past the first few polls, every second one is enough.
        k += if k < 8 { 1 } else { 2 };
    }
    let report = finish(peer);
    let connections = report.connections();
    assert_eq!(connections.len(), cancelled + 1);
    for (i, c) in connections[..cancelled].iter().enumerate() {
        assert!(
            c.recv.len() < SIZE,
            "cut {i}: the peer got {} bytes",
            c.recv.len()
        );
    }
    assert_eq!(connections[cancelled].recv.len(), SIZE);
    eprintln!("x_cancel_points_send: {cancelled} cuts, done within {k} polls");
    assert!(cancelled >= 2, "{cancelled} cuts");
}

/// `(size, connections, idle, waiting)`.
fn counts(stats: Option<PoolStats>) -> Option<(usize, usize, usize, usize)> {
    stats.map(|s| (s.size.get(), s.connections, s.idle, s.waiting))
}

fn size(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("a pool size")
}

/// Connects cut at each await point: queued in a backlog (`pool_size` 1, `backlog` 1)
/// when the holder releases its connection (a hand-off of the connection) or closes it (a
/// hand-off of the place, then a TCP connect); connecting with a pool place; connecting
/// to a listener that never answers (cut by time). The pool's counts after each cut are
/// those without the cut connect.
pub async fn x_cancel_points_connect<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    peer.target("backlog_full")
        .expect("the backlog_full target");
    let Target::Tcp { host, port } = peer.target("peer").expect("the peer") else {
        panic!("a TCP peer");
    };
    let cx = t.cx();
    let mut cuts = Vec::new();
    // Queued; the holder releases (keepalive) or closes 10 ms later.
    for release in [true, false] {
        let key = if release {
            "cp-queued-keep"
        } else {
            "cp-queued-close"
        };
        let opts = ConnectOptions::new()
            .pool(key)
            .pool_size(size(1))
            .backlog(1);
        let mut cancelled = 0;
        let mut k = 1;
        loop {
            assert!(k <= MAX_POLLS, "{key}: the queued connect never completed");
            let mut holder = open(&cx, &mut peer, &opts).await;
            assert_eq!(counts(cx.pool_stats(key)).map(|c| c.1), Some(1), "{key}");
            let mut b = cx.stream();
            let (got, ()) = futures::join!(within_polls(k, b.connect(&host, port, &opts)), async {
                t.sleep_ms(10).await;
                if release {
                    expect("holder keepalive", &holder.set_keepalive(None, None), "(1)");
                } else {
                    expect("holder close", &holder.close(), "(1)");
                }
            });
            let without_b = if release { Some((1, 1, 1, 0)) } else { None };
            match got {
                Some(r) => {
                    expect(&format!("{key}: B"), &r, "(1)");
                    let reused = if release { "(1)" } else { "(0)" };
                    expect(&format!("{key}: B reused"), &b.reused_times(), reused);
                    expect(&format!("{key}: B close"), &b.close(), "(1)");
                    break;
                }
                None => {
                    cancelled += 1;
                    assert_eq!(
                        counts(cx.pool_stats(key)),
                        without_b,
                        "{key}: after a cut at poll {k}"
                    );
                    expect(
                        &format!("{key}: B after the cut"),
                        &b.send("x").await,
                        r#"(nil,"closed")"#,
                    );
                }
            }
            // Empty the pool for the next round.
            let mut again = cx.stream();
            if release {
                connect_target(&mut again, &mut peer, "peer", &opts)
                    .await
                    .expect("take the idle one");
                drop(again);
            }
            assert_eq!(counts(cx.pool_stats(key)), None, "{key}: destroyed");
            k += 1;
        }
        cuts.push((key, cancelled));
    }
    // Connecting, with a place in a pool another connection holds.
    let key = "cp-connecting";
    let opts = ConnectOptions::new()
        .pool(key)
        .pool_size(size(2))
        .backlog(0);
    let mut holder = open(&cx, &mut peer, &opts).await;
    let before = counts(cx.pool_stats(key));
    assert_eq!(before, Some((2, 1, 0, 0)));
    let mut cancelled = 0;
    let mut k = 1;
    loop {
        assert!(k <= MAX_POLLS, "{key}: the connect never completed");
        let mut b = cx.stream();
        match within_polls(k, connect_target(&mut b, &mut peer, "peer", &opts)).await {
            Some(r) => {
                expect(&format!("{key}: B"), &r, "(1)");
                expect(&format!("{key}: B close"), &b.close(), "(1)");
                break;
            }
            None => {
                cancelled += 1;
                assert_eq!(counts(cx.pool_stats(key)), before, "{key}: cut at poll {k}");
            }
        }
        assert_eq!(counts(cx.pool_stats(key)), before, "{key}");
        k += 1;
    }
    cuts.push((key, cancelled));
    // A checkout of an idle connection completes at its first poll.
    expect("holder keepalive", &holder.set_keepalive(None, None), "(1)");
    let mut c = cx.stream();
    let took = within_polls(1, connect_target(&mut c, &mut peer, "peer", &opts)).await;
    expect(
        "checkout in one poll",
        &took.expect("no await point"),
        "(1)",
    );
    expect("reused", &c.reused_times(), "(1)");
    // A listener whose accept queue is full never answers: cut by time, 20 ms in.
    let mut d = cx.stream();
    d.set_timeouts(Some(Duration::from_millis(2000)), None, None);
    let before = counts(cx.pool_stats(key));
    let cut = within_ms(
        &t,
        20,
        connect_target(&mut d, &mut peer, "backlog_full", &opts),
    )
    .await;
    assert!(cut.is_none(), "the SYN is never answered");
    assert_eq!(
        counts(cx.pool_stats(key)),
        before,
        "{key}: cut while connecting"
    );
    cuts.push(("backlog_full", 1));
    let total: usize = cuts.iter().map(|c| c.1).sum();
    eprintln!("x_cancel_points_connect: {total} cuts {cuts:?}");
    assert!(total >= 4, "{cuts:?}");
}

/// The TLS handshake cut at each await point (feature `tls`), as `ssl_handshake` on a
/// connected socket and inside a one-call TLS `connect`: the cut drops the connection
/// (its place comes back), and the pool's counts are those without it.
#[cfg(feature = "tls")]
pub async fn x_cancel_points_tls<H: Harness>(t: Case<H>) {
    use cosocket_core::TlsSock;
    use cosocket_core::tls::TlsOptions;

    let tls = TlsOptions::new().dangerous_skip_verification();
    let mut peer = start(PeerSpec::tls(vec![Step::Drain]));
    let Target::Tcp { host, port } = peer.target("peer").expect("the peer") else {
        panic!("a TCP peer");
    };
    let cx = t.cx();
    let mut cuts = Vec::new();
    // ssl_handshake on a connected socket.
    let key = "cp-tls";
    let opts = ConnectOptions::new().pool(key).pool_size(size(4));
    let _holder = open(&cx, &mut peer, &opts).await;
    let mut cancelled = 0;
    let mut k = 1;
    loop {
        assert!(k <= MAX_POLLS, "the handshake never completed");
        let mut s = open(&cx, &mut peer, &opts).await;
        assert_eq!(counts(cx.pool_stats(key)), Some((4, 2, 0, 0)));
        match within_polls(k, s.ssl_handshake(&tls)).await {
            Some(r) => {
                assert!(r.is_ok(), "handshake: {r:?}");
                expect("send over TLS", &s.send("x").await, "(1)");
                break;
            }
            None => {
                cancelled += 1;
                let at = format!("after a cut at poll {k}");
                expect(
                    &format!("send {at}"),
                    &s.send("x").await,
                    r#"(nil,"closed")"#,
                );
                assert_eq!(counts(cx.pool_stats(key)), Some((4, 1, 0, 0)), "{at}");
            }
        }
        k += 1;
    }
    cuts.push(("ssl_handshake", cancelled));
    // The one-call TLS connect; its pool key carries the TLS identity, found once.
    let name = "cp-tls-connect";
    let opts = ConnectOptions::new()
        .pool(name)
        .pool_size(size(4))
        .tls(tls.clone());
    let mut holder = cx.stream();
    holder
        .connect(&host, port, &opts)
        .await
        .expect("TLS connect");
    let key = (0..64)
        .map(|v| format!("{name}|tls:sni=:noverify:v={v}"))
        .find(|key| cx.pool_stats(key).is_some())
        .expect("the one-call TLS connect's pool key");
    let before = counts(cx.pool_stats(&key));
    assert_eq!(before, Some((4, 1, 0, 0)));
    let mut cancelled = 0;
    let mut k = 1;
    loop {
        assert!(k <= MAX_POLLS, "the TLS connect never completed");
        let mut s = cx.stream();
        match within_polls(k, s.connect(&host, port, &opts)).await {
            Some(r) => {
                expect("TLS connect", &r, "(1)");
                assert!(s.tls_info().is_some());
                expect("close", &s.close(), "(1)");
                break;
            }
            None => {
                cancelled += 1;
                assert_eq!(counts(cx.pool_stats(&key)), before, "cut at poll {k}");
                expect(
                    "send after the cut",
                    &s.send("x").await,
                    r#"(nil,"closed")"#,
                );
            }
        }
        k += 1;
    }
    assert_eq!(counts(cx.pool_stats(&key)), before);
    cuts.push(("connect with tls", cancelled));
    let total: usize = cuts.iter().map(|c| c.1).sum();
    eprintln!("x_cancel_points_tls: {total} cuts {cuts:?}");
    // Typically 3: the server's flight comes at once, so a handshake has few points.
    assert!(total >= 2, "{cuts:?}");
}
