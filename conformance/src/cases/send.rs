//! spec §11 cases 52–57: sends, and what send errors close.

use cosocket_core::{Fragment, StreamRead, StreamSock, StreamWrite};

use super::Call::{All, Close, Exact, KeepAlive, Line, Send, Sleep, Timeout};
use super::{connected, finish, script, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerSpec, Step};
use crate::render::expect;

/// Case 52, with the fragment types a Rust caller has.
pub async fn s52_send_fragment_lists<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(12)]));
    let mut s = connected(&t, &mut peer).await;
    expect("send(\"\")", &s.send("").await, "(0)");
    expect("send(12)", &s.send(&12i32).await, "(2)");
    expect("send(-0)", &s.send(&0i64).await, "(1)");
    let empty: [&str; 0] = [];
    expect("send({})", &s.send(&empty).await, "(0)");
    expect(
        "send({\"a\",{\"b\",{\"c\"}},1})",
        &s.send(&("a", ("b", ("c",)), 1)).await,
        "(4)",
    );
    let tree = Fragment::List(vec![Fragment::from("x"), Fragment::Integer(-7)]);
    expect("send(tree)", &s.send(&tree).await, "(3)");
    drop(s);
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"120abc1x-7");
}

/// Case 54: a send error closes the write half; the read half still reads.
pub async fn s54_send_after_rst<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("x"),
        Step::sleep(50),
        Step::Reset,
    ]));
    let mut s = connected(&t, &mut peer).await;
    t.sleep_ms(200).await;
    expect(
        "send",
        &s.send("hello").await,
        r#"(nil,"connection reset by peer")"#,
    );
    expect("send", &s.send("hello").await, r#"(nil,"closed")"#);
    // What the read finds after the RST is the kernel's business (observed: the byte, then
    // EOF); it must be a read, not `closed` without a partial.
    let read = s.receive_line().await.unwrap_err();
    assert!(
        read.partial().is_some(),
        "the read half must still read: {read:?}"
    );
    expect("close", &s.close(), r#"(nil,"closed")"#);
}

/// Case 55.
pub async fn s55_rst_closes_read_then_broken_pipe<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("x"),
        Step::sleep(50),
        Step::Reset,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Exact(1), r#"("x")"#), (Line, r#"(nil,"connection reset by peer","")"#),
        (Send("x"), r#"(nil,"broken pipe")"#), (Close, r#"(nil,"closed")"#),
    ]).await;
}

/// Case 56.
pub async fn s56_send_after_peer_half_close<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("bye"),
        Step::HalfClose,
        Step::Drain,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (All, r#"("bye")"#), (Send("still writing"), "(13)"), (KeepAlive, r#"(nil,"closed")"#),
        (Close, "(1)"),
    ]).await;
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"still writing");
    assert_eq!(report.connections()[0].end, End::Eof);
}

/// Case 57: a send timeout closes the write half only.
pub async fn s57_send_timeout_closes_write_half<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::sleep(3000)]));
    let mut s = connected(&t, &mut peer).await;
    let ms = |n| Some(std::time::Duration::from_millis(n));
    s.set_timeouts(ms(1000), ms(150), ms(1000));
    let big = vec![b'z'; 8 << 20];
    expect("send 8 MiB", &s.send(&big).await, r#"(nil,"timeout")"#);
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Send("y"), r#"(nil,"closed")"#), (Timeout(100), ""), (Line, r#"(nil,"timeout","")"#),
        (KeepAlive, r#"(nil,"closed")"#), (Close, "(1)"), (Sleep(0), ""),
    ]).await;
}

/// A send dropped after part of its bytes left closes the write half.
pub async fn x_send_dropped_after_partial_write_closes_write_half<H: Harness>(t: Case<H>) {
    use std::future::Future;
    let mut peer = start(PeerSpec::tcp(vec![Step::sleep(1000)]));
    let mut s = connected(&t, &mut peer).await;
    let big = vec![b'z'; 8 << 20];
    {
        let mut send = std::pin::pin!(s.send(&big));
        let waker = futures::task::noop_waker();
        let mut task = std::task::Context::from_waker(&waker);
        // The kernel takes part of 8 MiB at once, then the send waits.
        assert!(send.as_mut().poll(&mut task).is_pending());
    }
    expect("next send", &s.send("y").await, r#"(nil,"closed")"#);
    expect("close", &s.close(), "(1)");
}

/// Issue 19's probe: a 300 ms send timeout to a peer that never reads fired after 302 ms
/// on tokio but 601 ms on smol, whose wake-up write was taken by the kernel and counted as
/// progress. Once the deadline has passed, the send fails without writing again: every
/// backend fires on time, every time.
pub async fn x_send_timeout_fires_on_time<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::sleep(5000)]));
    let big = vec![b'z'; 32 << 20];
    for round in 0..3 {
        let mut s = connected(&t, &mut peer).await;
        s.set_send_timeout(std::time::Duration::from_millis(300));
        let started = std::time::Instant::now();
        expect("send 32 MiB", &s.send(&big).await, r#"(nil,"timeout")"#);
        let took = started.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(300)
                && took < std::time::Duration::from_millis(550),
            "round {round}: a 300 ms send timeout fired after {took:?}"
        );
        expect("then", &s.send("y").await, r#"(nil,"closed")"#);
    }
    drop(finish(peer));
}
