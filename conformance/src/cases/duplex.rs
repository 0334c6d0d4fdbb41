//! Beyond spec §11: full duplex through halves, cancellation of every receive, and the
//! `Send` check that moves a socket into a spawned task for every method.

use std::time::Duration;

use cosocket_core::{
    ConnectOptions, SocketOption, StreamRead, StreamSock, StreamWrite, TcpSock, Until,
};

use super::{connected, finish, poll_once, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerSpec, Step};
use crate::render::expect;

/// Borrowed halves: a read waits while the write half sends, in one task.
pub async fn x_split_reads_while_writing<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(4), Step::send("pong\n")]));
    let mut s = connected(&t, &mut peer).await;
    let (mut r, mut w) = s.split();
    let (line, sent) = futures::join!(r.receive_line(), async {
        t.sleep_ms(50).await;
        w.send("ping").await
    });
    expect("line", &line, r#"("pong")"#);
    expect("send", &sent, "(4)");
}

/// Owned halves move into spawned tasks and come back together.
pub async fn x_owned_halves_in_tasks_and_reunite<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(4), Step::send("pong\n")]));
    let s = connected(&t, &mut peer).await;
    let (mut r, mut w) = s.into_split();
    let reader = t.spawn(async move {
        let line = r.receive_line().await;
        (r, line)
    });
    let writer = t.spawn(async move {
        let sent = w.send("ping").await;
        (w, sent)
    });
    let (w, sent) = writer.await;
    let (r, line) = reader.await;
    expect("send", &sent, "(4)");
    expect("line", &line, r#"("pong")"#);
    let mut s = <super::StreamOf<H> as StreamSock>::reunite(r, w).expect("same socket");
    expect("close", &s.close(), "(1)");
    // Halves of two sockets do not reunite.
    let a = connected(&t, &mut peer).await;
    let b = connected(&t, &mut peer).await;
    let (ar, _aw) = a.into_split();
    let (_br, bw) = b.into_split();
    assert!(<super::StreamOf<H> as StreamSock>::reunite(ar, bw).is_err());
}

/// Dropping a half never shuts the socket down: the other half keeps working.
pub async fn x_dropped_half_never_shuts_down<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(5), Step::send("back\n")]));
    let s = connected(&t, &mut peer).await;
    let (mut r, w) = s.into_split();
    drop(w);
    t.sleep_ms(50).await;
    let mut peer_report_pending = peer;
    // The peer has not seen a FIN: it still waits for 5 bytes, so nothing came back.
    r.set_read_timeout(Some(Duration::from_millis(100)));
    expect("read", &r.receive_line().await, r#"(nil,"timeout","")"#);
    drop(r);
    let report = finish(std::mem::replace(
        &mut peer_report_pending,
        start(PeerSpec::none()),
    ));
    assert_eq!(report.connections()[0].end, End::Eof);
}

/// Every method of a socket, on a socket moved into a spawned task (a compile-time `Send`
/// check that also runs).
pub async fn x_every_method_in_a_spawned_task<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("l\nexactany--x"),
        Step::Drain,
    ]));
    let target = match peer.target("peer").unwrap() {
        crate::peer::Target::Tcp { host, port } => (host, port),
        crate::peer::Target::Unix(_) => unreachable!("a TCP peer"),
    };
    let mut s = t.stream();
    let done = t.spawn(async move {
        s.set_timeout(Some(Duration::from_millis(500)));
        s.set_timeouts(None, None, None);
        s.bind("127.0.0.1", 0).unwrap();
        s.connect(&target.0, target.1, &ConnectOptions::new())
            .await
            .unwrap();
        assert_eq!(s.receive_line().await.unwrap(), "l");
        assert_eq!(s.receive_exact(5).await.unwrap(), "exact");
        assert_eq!(s.receive_any(3).await.unwrap(), "any");
        let mut until = Until::new("--x").unwrap();
        assert_eq!(super::it(&mut s, &mut until, 0).await.unwrap().unwrap(), "");
        s.set_read_timeout(Some(Duration::from_millis(50)));
        assert!(s.receive_all().await.unwrap_err().is_timeout());
        s.set_send_timeout(None);
        assert_eq!(s.send(&["a", "b"]).await.unwrap(), 2);
        s.set_option(SocketOption::KeepAlive, 1).unwrap();
        assert_eq!(s.get_option(SocketOption::KeepAlive).unwrap(), 1);
        assert_eq!(s.reused_times().unwrap(), 0);
        s.shutdown().unwrap();
        s.close().unwrap();
        s
    });
    let mut s = done.await;
    expect("closed", &s.close(), r#"(nil,"closed")"#);
    assert_eq!(finish(peer).connections()[0].recv, b"ab");
}

/// Dropping any receive after it buffered bytes loses none of them.
pub async fn x_cancel_every_receive_kind<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::per_connection(
        crate::peer::PeerKind::Tcp,
        vec![
            vec![Step::send("abc"), Step::expect(1), Step::send("def\n")],
            vec![Step::send("abc"), Step::expect(1), Step::send("def")],
            vec![Step::send("abc"), Step::expect(1), Step::Close],
            vec![Step::expect(1), Step::send("xyz")],
        ],
        vec![],
    ));
    // *l
    let mut s = connected(&t, &mut peer).await;
    t.sleep_ms(50).await;
    assert!(poll_once(s.receive_line()), "pending with \"abc\" buffered");
    s.send("!").await.unwrap();
    expect("line", &s.receive_line().await, r#"("abcdef")"#);
    // n
    let mut s = connected(&t, &mut peer).await;
    t.sleep_ms(50).await;
    assert!(poll_once(s.receive_exact(6)));
    s.send("!").await.unwrap();
    expect("exact", &s.receive_exact(6).await, r#"("abcdef")"#);
    // *a
    let mut s = connected(&t, &mut peer).await;
    t.sleep_ms(50).await;
    assert!(poll_once(s.receive_all()));
    s.send("!").await.unwrap();
    expect("all", &s.receive_all().await, r#"("abc")"#);
    // any: pending with nothing buffered, then the bytes come to the next call.
    let mut s = connected(&t, &mut peer).await;
    assert!(poll_once(s.receive_any(10)));
    s.send("!").await.unwrap();
    expect("any", &s.receive_any(10).await, r#"("xyz")"#);
}

/// Dropping a `receive_until` call leaves the iterator and the buffer as they were, in both
/// modes, also while it withholds a partial match.
pub async fn x_cancel_receive_until<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("ab--"),
        Step::expect(1),
        Step::send("xcd--x"),
    ]));
    let mut s = connected(&t, &mut peer).await;
    t.sleep_ms(50).await;
    let mut until = Until::new("--x").unwrap();
    assert!(poll_once(super::it(&mut s, &mut until, 0)));
    assert!(poll_once(super::it(&mut s, &mut until, 10)));
    s.send("!").await.unwrap();
    expect("it()", &super::it(&mut s, &mut until, 0).await, r#"("ab")"#);
    expect("it(1)", &super::it(&mut s, &mut until, 1).await, r#"("c")"#);
    expect("it(1)", &super::it(&mut s, &mut until, 1).await, r#"("d")"#);
    expect("it(1)", &super::it(&mut s, &mut until, 1).await, r#"("")"#);
    expect(
        "it(1)",
        &super::it(&mut s, &mut until, 1).await,
        "(nil,nil,nil)",
    );
}

/// A timeout set through a borrowed half belongs to the socket: it holds for the next
/// reads and survives a reconnect.
pub async fn x_half_timeouts_survive_reconnect<H: Harness>(t: Case<H>) {
    let silent = vec![Step::sleep(2000)];
    let mut peer = start(PeerSpec::per_connection(
        crate::peer::PeerKind::Tcp,
        vec![silent.clone(), silent],
        vec![],
    ));
    let mut s = t.stream();
    // A long object timeout, which the halves then shorten.
    s.set_timeout(Some(Duration::from_secs(30)));
    super::connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new())
        .await
        .expect("connect");
    {
        let (mut r, _w) = s.split();
        r.set_read_timeout(Some(Duration::from_millis(60)));
    }
    let started = std::time::Instant::now();
    expect(
        "read, first connection",
        &s.receive_line().await,
        r#"(nil,"timeout","")"#,
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the half's 60 ms read timeout"
    );
    // Connect again (the object's connection closes): the halves' timeouts still hold.
    super::connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new())
        .await
        .expect("reconnect");
    let started = std::time::Instant::now();
    expect(
        "read, second connection",
        &s.receive_line().await,
        r#"(nil,"timeout","")"#,
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "kept across the reconnect"
    );
    expect("close", &s.close(), "(1)");
}
