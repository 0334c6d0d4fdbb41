//! Requests in flight: the pool poisoning OpenResty allows (a timed-out request's late
//! answer reaches the next user of the pooled connection) and `begin_request` /
//! `end_request`, which prevent it.

use std::time::Duration;

use cosocket_core::{ConnectOptions, ErrorKind, StreamRead, StreamSock, StreamWrite};

use super::{connect_target, finish, poll_once, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{PeerKind, PeerSpec, Step};
use crate::render::expect;

/// Sends BLPOP and gives up on its answer after 100 ms.
async fn blpop<S: StreamSock>(s: &mut S) {
    s.set_read_timeout(Duration::from_millis(100));
    expect("BLPOP", &s.send("BLPOP\r\n").await, "(7)");
    expect("reply", &s.receive_line().await, r#"(nil,"timeout","")"#);
}

/// A blocking command answered after the client gave up, then a `GET`.
fn slow_then_get() -> Vec<Step> {
    vec![
        Step::expect(7),
        Step::sleep(300),
        Step::send("blpop-reply\r\n"),
        Step::expect(5),
        Step::send("get-reply\r\n"),
    ]
}

/// BLPOP times out; without the guard the pooled connection hands its late answer to the
/// next user's GET (OpenResty's behaviour, kept by default); with it the connection is
/// closed and the next user gets a fresh one and its own answer.
pub async fn x_request_in_flight_never_pooled<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::per_connection(
        PeerKind::Tcp,
        vec![slow_then_get(), slow_then_get()],
        vec![Step::expect(5), Step::send("get-reply\r\n")],
    ));
    let cx = t.cx();

    // Without the guard: the poisoning, reproduced.
    let mut s = cosocket_core::Cosockets::stream(&cx);
    let plain = ConnectOptions::new().pool("plain");
    connect_target(&mut s, &mut peer, "peer", &plain)
        .await
        .unwrap();
    blpop(&mut s).await;
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
    connect_target(&mut s, &mut peer, "peer", &plain)
        .await
        .unwrap();
    assert_eq!(s.reused_times().unwrap(), 1);
    s.set_read_timeout(Duration::from_millis(1000));
    expect("GET", &s.send("GET\r\n").await, "(5)");
    expect("poisoned", &s.receive_line().await, r#"("blpop-reply")"#);
    s.close().unwrap();

    // With it: the timed-out request's connection is closed, never pooled.
    let mut s = cosocket_core::Cosockets::stream(&cx);
    let guarded = ConnectOptions::new().pool("guarded");
    connect_target(&mut s, &mut peer, "peer", &guarded)
        .await
        .unwrap();
    s.begin_request();
    assert!(s.request_in_flight());
    blpop(&mut s).await;
    let refused = s.set_keepalive(None, None).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::RequestInFlight);
    expect(
        "keepalive",
        &Err::<(), _>(refused),
        r#"(nil,"request in flight")"#,
    );
    expect("closed", &s.send("x").await, r#"(nil,"closed")"#);
    connect_target(&mut s, &mut peer, "peer", &guarded)
        .await
        .unwrap();
    assert_eq!(s.reused_times().unwrap(), 0, "a fresh connection");
    assert!(
        !s.request_in_flight(),
        "a new connection has no request in flight"
    );
    s.begin_request();
    s.set_read_timeout(Duration::from_millis(1000));
    expect("GET", &s.send("GET\r\n").await, "(5)");
    expect(
        "its own answer",
        &s.receive_line().await,
        r#"("get-reply")"#,
    );
    s.end_request();
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
    drop(finish(peer));
}

/// A request whose future is dropped half-way (cancelled) stays in flight: the
/// connection is not pooled either; a completed one is.
pub async fn x_cancelled_request_never_pooled<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::expect(4),
        Step::sleep(200),
        Step::send("late\n"),
    ]));
    let mut s = t.stream();
    connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    s.begin_request();
    expect("send", &s.send("ping").await, "(4)");
    // The caller gave up: the future is polled once, then dropped.
    assert!(poll_once(s.receive_line()));
    expect(
        "keepalive",
        &s.set_keepalive(None, None),
        r#"(nil,"request in flight")"#,
    );
    assert_eq!(s.reused_times().unwrap_err().kind(), ErrorKind::Closed);
    drop(peer);
}
