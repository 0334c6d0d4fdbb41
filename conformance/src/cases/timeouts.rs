//! `Timeout`: the directive, a duration, never; no value panics on any backend (the tokio
//! backend once panicked on `Duration::MAX` with `overflow when adding duration to
//! instant`).

use std::time::{Duration, Instant};

use cosocket_core::{
    ConnectOptions, Cosockets, StreamRead, StreamSock, StreamWrite, Timeout, UdpSock,
};

use super::{connect_target, finish, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{PeerSpec, Step};
use crate::render::expect;

/// The longest duration that can be added to now, found by bisection: one nanosecond more
/// overflows `Instant`. Any backend that adds a rounding to a deadline this far away
/// overflows unless core clamps it.
fn edge_of_instant() -> Duration {
    let now = Instant::now();
    let (mut ok, mut over) = (Duration::ZERO, Duration::MAX);
    if now.checked_add(over).is_some() {
        return over;
    }
    while over - ok > Duration::from_nanos(1) {
        let mid = ok + (over - ok) / 2;
        if now.checked_add(mid).is_some() {
            ok = mid;
        } else {
            over = mid;
        }
    }
    ok
}

/// Every timeout that means "never" or "practically never", on every operation and as
/// every directive: connect, send, a read that waits, the pool's idle timeout, UDP.
pub async fn x_timeouts_never_and_max<H: Harness>(t: Case<H>) {
    let huge = [
        Duration::MAX,
        edge_of_instant(),
        Duration::from_secs(u64::MAX),
    ];
    for far in huge {
        let cx = t.cx_with(|d| {
            d.connect_timeout = far;
            d.send_timeout = far;
            d.read_timeout = far;
            d.keepalive_timeout = far;
            d.resolver_timeout = far;
        });
        let mut peer = start(PeerSpec::tcp(vec![
            Step::expect(4),
            Step::sleep(150),
            Step::send("pong\n"),
            Step::expect(4),
            Step::send("again\n"),
        ]));
        // The directives, then each kind of override.
        let mut s = cx.stream();
        for name in [
            "directives",
            "set_timeout(far)",
            "set_timeouts(never)",
            "half setters",
        ] {
            match name {
                "directives" => {}
                "set_timeout(far)" => s.set_timeout(far),
                "set_timeouts(never)" => {
                    s.set_timeouts(Timeout::Never, Timeout::Never, Timeout::Never);
                }
                _ => {
                    s.set_read_timeout(Timeout::After(far));
                    s.set_send_timeout(far);
                }
            }
            let r = connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new()).await;
            expect(name, &r, "(1)");
            expect(name, &s.send("ping").await, "(4)");
            // This read waits 150 ms: its timer is armed with the far timeout.
            expect(name, &s.receive_line().await, r#"("pong")"#);
            expect(name, &s.send("more").await, "(4)");
            expect(name, &s.receive_line().await, r#"("again")"#);
            // The pool's idle timeout: far, never, zero (never, OpenResty's meaning).
            let idle = match name {
                "directives" => Timeout::Directive,
                "set_timeout(far)" => Timeout::After(far),
                "set_timeouts(never)" => Timeout::Never,
                _ => Timeout::After(Duration::ZERO),
            };
            expect(name, &s.set_keepalive(idle, None), "(1)");
            let r = connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new()).await;
            expect(name, &r, "(1)");
            assert_eq!(s.reused_times().unwrap(), 1, "{name}: taken from the pool");
            s.close().unwrap();
        }
        drop(finish(peer));

        let (peer, addr) = super::udp::echo_peer(3);
        let mut u = cx.datagram();
        u.set_peer_name(&addr.ip().to_string(), addr.port())
            .await
            .unwrap();
        for timeout in [Timeout::After(far), Timeout::Never, Timeout::Directive] {
            u.set_timeout(timeout);
            expect("udp send", &u.send("x").await, "(1)");
            expect("udp receive", &u.receive(16).await, r#"("x")"#);
        }
        drop(finish(peer));
    }
    // A short timeout still is one, with far ones set elsewhere on the same context.
    let cx = t.cx_with(|d| d.read_timeout = Duration::MAX);
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = cx.stream();
    connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    s.set_read_timeout(Duration::from_millis(50));
    expect("short", &s.receive_line().await, r#"(nil,"timeout","")"#);
    s.set_read_timeout(Timeout::Directive);
    let waiting = std::pin::pin!(s.receive_line());
    let raced = futures::future::select(waiting, Box::pin(t.sleep_ms(200))).await;
    assert!(
        matches!(raced, futures::future::Either::Right(_)),
        "a directive of Duration::MAX never times out"
    );
}

/// A read's timer is kept for the socket's next read that waits (`KeptSleep` in core):
/// a kept timer set *later* than the next deadline is moved to it, one set *earlier*
/// fires early and is moved on, never failing the read before its own timeout.
pub async fn x_read_timeouts_across_reads<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::sleep(50),
        Step::send("one\n"),
        Step::sleep(500),
        Step::send("two\n"),
        Step::sleep(900),
        Step::send("three\n"),
    ]));
    let cx = t.cx();
    let mut s = cx.stream();
    connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    // Waits 50 ms within 150 ms: the kept timer is set to about 150 ms from here.
    s.set_read_timeout(Duration::from_millis(150));
    expect("150 ms", &s.receive_line().await, r#"("one")"#);
    // Waits 500 ms within 2 s: the kept timer fires early, at 150 ms, and moves on.
    s.set_read_timeout(Duration::from_millis(2000));
    expect("2 s", &s.receive_line().await, r#"("two")"#);
    // 250 ms, with a kept timer set about 1.5 s ahead: moved back, on time.
    times_out_on_time(&mut s, 250, "after a 2 s one").await;
    // The kept timer's completion was taken: it still fires for the next timeout (a
    // completed async-io timer never fires again unless it is reset).
    times_out_on_time(&mut s, 150, "after a timeout").await;
    // The next read still waits its own 2 s.
    s.set_read_timeout(Duration::from_millis(2000));
    expect("2 s again", &s.receive_line().await, r#"("three")"#);
    drop(finish(peer));
}

/// A line read with a `ms` read timeout from a silent peer: `timeout`, no sooner than
/// `ms` and less than 300 ms later.
async fn times_out_on_time<S: StreamSock>(s: &mut S, ms: u64, after: &str) {
    s.set_read_timeout(Duration::from_millis(ms));
    let started = Instant::now();
    expect(after, &s.receive_line().await, r#"(nil,"timeout","")"#);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(ms) && took < Duration::from_millis(ms + 300),
        "a {ms} ms read timeout {after} fired after {took:?}"
    );
}
