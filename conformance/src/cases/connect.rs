//! spec §11 cases 59–70: connect, timeouts, and the never-connected object; options, bind,
//! half-close and name resolution.

use std::path::Path;
use std::time::{Duration, Instant};

use cosocket_core::{
    ConnectOptions, Cosockets, ErrorKind, Resolver, SocketOption, StreamRead, StreamSock,
    StreamWrite, TcpSock, UnixSock,
};

use super::Call::{Close, KeepAlive, Line, Send, Timeout};
use super::{connect_target, connected, finish, script, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerSpec, Step};
use crate::render::expect;

fn opts() -> ConnectOptions {
    ConnectOptions::new()
}

/// Case 59.
pub async fn s59_refused_then_closed<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::none());
    let mut s = t.stream();
    let r = connect_target(&mut s, &mut peer, "closed", &opts()).await;
    expect("connect", &r, r#"(nil,"connection refused")"#);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Refused);
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    expect("receive", &s.receive_line().await, r#"(nil,"closed")"#);
    expect("close", &s.close(), r#"(nil,"closed")"#);
}

/// Case 60.
pub async fn s60_connect_timeout_full_accept_queue<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::none());
    let mut s = t.stream();
    let ms = |n| Some(Duration::from_millis(n));
    s.set_timeouts(ms(150), ms(5000), ms(5000));
    let started = Instant::now();
    let r = connect_target(&mut s, &mut peer, "backlog_full", &opts()).await;
    let took = started.elapsed();
    expect("connect", &r, r#"(nil,"timeout")"#);
    assert!(
        took >= Duration::from_millis(140) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    expect("close", &s.close(), r#"(nil,"closed")"#);
}

/// Case 61, the parts a Rust caller can reach.
pub async fn s61_host_texts<H: Harness>(t: Case<H>) {
    let mut s = t.stream();
    for (host, port, text) in [
        ("", 80, r#"(nil,"failed to parse host name \"\": no host")"#),
        (
            "::1",
            1,
            r#"(nil,"failed to parse host name \"::1\": invalid port")"#,
        ),
        (
            "example.invalid",
            80,
            r#"(nil,"no resolver defined to resolve \"example.invalid\"")"#,
        ),
        (
            "12345",
            80,
            r#"(nil,"no resolver defined to resolve \"12345\"")"#,
        ),
    ] {
        expect(host, &s.connect(host, port, &opts()).await, text);
    }
}

/// Case 63: a parse failure has already dropped the object's connection.
pub async fn s63_parse_failure_drops_the_old_connection<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = connected(&t, &mut peer).await;
    expect(
        "connect",
        &s.connect("", 80, &opts()).await,
        r#"(nil,"failed to parse host name \"\": no host")"#,
    );
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
}

/// Case 64.
pub async fn s64_reconnect_closes_the_old_connection<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = connected(&t, &mut peer).await;
    expect("send", &s.send("first").await, "(5)");
    expect(
        "again",
        &connect_target(&mut s, &mut peer, "peer", &opts()).await,
        "(1)",
    );
    expect("send", &s.send("second").await, "(6)");
    drop(s);
    let report = finish(peer);
    let conns = report.connections();
    assert_eq!(conns.len(), 2);
    assert_eq!(
        (conns[0].recv.as_slice(), conns[0].end),
        (&b"first"[..], End::Eof)
    );
    assert_eq!(conns[1].recv, b"second");
}

/// Case 65.
pub async fn s65_never_connected_and_closed<H: Harness>(t: Case<H>) {
    let mut s = t.stream();
    expect("close", &s.close(), r#"(nil,"closed")"#);
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    expect("receive", &s.receive_line().await, r#"(nil,"closed")"#);
    expect("reused", &s.reused_times(), r#"(nil,"closed")"#);
    expect(
        "keepalive",
        &s.set_keepalive(None, None),
        r#"(nil,"closed")"#,
    );
    s.set_timeout(Some(Duration::from_millis(100)));
    s.set_timeouts(None, Some(Duration::from_millis(2)), None);
    let never = r#"(nil,"socket is never created nor connected")"#;
    expect(
        "setoption",
        &s.set_option(SocketOption::KeepAlive, 1),
        never,
    );
    expect("getoption", &s.get_option(SocketOption::KeepAlive), never);
    let mut peer = start(PeerSpec::tcp(vec![]));
    connect_target(&mut s, &mut peer, "peer", &opts())
        .await
        .unwrap();
    expect("close", &s.close(), "(1)");
    expect(
        "setoption",
        &s.set_option(SocketOption::KeepAlive, 1),
        r#"(nil,"closed")"#,
    );
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    expect(
        "reconnect",
        &connect_target(&mut s, &mut peer, "peer", &opts()).await,
        "(1)",
    );
}

/// Case 67.
pub async fn s67_unix_errors<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::unix(vec![]));
    let mut s = t.stream();
    let missing = connect_target(&mut s, &mut peer, "missing_unix", &opts()).await;
    expect("missing", &missing, r#"(nil,"no such file or directory")"#);
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    expect("receive", &s.receive_line().await, r#"(nil,"closed")"#);
    expect("close", &s.close(), r#"(nil,"closed")"#);
    expect(
        "unix:",
        &s.connect("unix:", 0, &opts()).await,
        r#"(nil,"failed to parse host name \"unix:\": no path in the unix domain socket")"#,
    );
    let long = format!("unix:/{}", "p".repeat(200));
    let r = s.connect(&long, 0, &opts()).await.unwrap_err();
    assert_eq!(
        r.to_string(),
        format!("failed to parse host name \"{long}\": too long path in the unix domain socket")
    );
    // A regular file: nobody listens.
    let file = peer.path().unwrap().with_file_name("regular-file");
    std::fs::write(&file, b"").unwrap();
    expect(
        "file",
        &s.connect_unix(&file, &opts()).await,
        r#"(nil,"connection refused")"#,
    );
    let _ = std::fs::remove_file(&file);
}

/// Case 69: a zero timeout means the directive, not "infinite".
pub async fn s69_zero_timeout_means_the_directive<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::none());
    let cx = t.cx_with(|d| d.connect_timeout = Duration::from_millis(100));
    for zero in [Some(Duration::ZERO), None] {
        let mut s = cx.stream();
        s.set_timeout(zero);
        let started = Instant::now();
        let r = connect_target(&mut s, &mut peer, "backlog_full", &opts()).await;
        expect("connect", &r, r#"(nil,"timeout")"#);
        assert!(started.elapsed() < Duration::from_millis(1000));
    }
}

/// Case 70.
pub async fn s70_silent_peer_timeouts<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Timeout(100), ""), (Line, r#"(nil,"timeout","")"#), (Line, r#"(nil,"timeout","")"#),
        (Send("x"), "(1)"), (KeepAlive, "(1)"), (Close, r#"(nil,"closed")"#),
    ]).await;
}

/// Options read back from the kernel (spec §8.1).
pub async fn x_options_read_back<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = connected(&t, &mut peer).await;
    for option in [
        SocketOption::KeepAlive,
        SocketOption::ReuseAddr,
        SocketOption::TcpNoDelay,
    ] {
        expect("set 1", &s.set_option(option, 1), "(1)");
        expect("get", &s.get_option(option), "(1)");
        expect("set 0", &s.set_option(option, 0), "(1)");
        expect("get", &s.get_option(option), "(0)");
    }
    s.set_option(SocketOption::SndBuf, 65536).unwrap();
    assert_eq!(s.get_option(SocketOption::SndBuf).unwrap(), 131072);
    s.set_option(SocketOption::RcvBuf, 65536).unwrap();
    assert_eq!(s.get_option(SocketOption::RcvBuf).unwrap(), 131072);
    s.set_option(SocketOption::KeepIntvl, 7).unwrap();
    assert_eq!(s.get_option(SocketOption::KeepIntvl).unwrap(), 7);
    s.set_option(SocketOption::KeepCnt, 4).unwrap();
    assert_eq!(s.get_option(SocketOption::KeepCnt).unwrap(), 4);
    assert_eq!(
        SocketOption::from_name("bogus").unwrap_err().to_string(),
        "unsupported option bogus"
    );
    // Syscall failures give strerror as is (not lower-cased).
    assert_eq!(
        s.set_option(SocketOption::KeepIntvl, -1)
            .unwrap_err()
            .to_string(),
        "Invalid argument"
    );
}

/// `TCP_NODELAY` is set by the first send, not by connect (spec §3).
pub async fn x_nodelay_set_on_first_send<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = connected(&t, &mut peer).await;
    expect(
        "after connect",
        &s.get_option(SocketOption::TcpNoDelay),
        "(0)",
    );
    expect("empty send", &s.send("").await, "(0)");
    expect(
        "after empty send",
        &s.get_option(SocketOption::TcpNoDelay),
        "(0)",
    );
    expect("send", &s.send("x").await, "(1)");
    expect("after send", &s.get_option(SocketOption::TcpNoDelay), "(1)");
}

/// `bind(ip, port)` before connect (spec §8.2): the peer sees the local address.
pub async fn x_bind_local_address<H: Harness>(t: Case<H>) {
    let peer = start(PeerSpec::tcp(vec![Step::expect(2)]));
    let mut s = t.stream();
    expect("bad", &s.bind("127.0.0.1000", 0), r#"(nil,"bad address")"#);
    expect("bind", &s.bind("127.0.0.2", 0), "(1)");
    let Some(addr) = peer.addr() else {
        panic!("a TCP peer has an address")
    };
    s.connect_addr(addr, &opts())
        .await
        .expect("connect from 127.0.0.2");
    expect("send", &s.send("hi").await, "(2)");
    // Binding a busy address fails in connect with the errno text.
    let mut other = t.stream();
    let listener = std::net::TcpListener::bind("127.0.0.3:0").unwrap();
    let busy = listener.local_addr().unwrap();
    other.bind("127.0.0.3", busy.port()).unwrap();
    expect(
        "busy",
        &other.connect_addr(addr, &opts()).await,
        r#"(nil,"address already in use")"#,
    );
}

/// Half-close: FIN out, the reply still comes in.
pub async fn x_shutdown_half_close<H: Harness>(t: Case<H>) {
    // `drain` reads our FIN as `eof` (a `close` step would end as `closed_by_peer`).
    let mut peer = start(PeerSpec::tcp(vec![
        Step::expect(7),
        Step::sleep(100),
        Step::send("reply\n"),
        Step::Drain,
    ]));
    let mut s = connected(&t, &mut peer).await;
    expect("send", &s.send("request").await, "(7)");
    expect("shutdown", &s.shutdown(), "(1)");
    expect("send after", &s.send("x").await, r#"(nil,"closed")"#);
    expect("reply", &s.receive_line().await, r#"("reply")"#);
    drop(s);
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"request");
    assert_eq!(
        report.connections()[0].end,
        End::Eof,
        "the peer read our FIN"
    );
}

/// Names through the runtime's resolver, and its error texts.
pub async fn x_resolver_names<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(1)]));
    let port = peer.addr().unwrap().port();
    let cx = t.cx_with(|d| d.resolver = Resolver::Runtime);
    let mut s = cx.stream();
    expect(
        "localhost",
        &s.connect("localhost", port, &opts()).await,
        "(1)",
    );
    expect("send", &s.send("x").await, "(1)");
    let err = s
        .connect("no-such-host.invalid", 80, &opts())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no-such-host.invalid could not be resolved (3: Host not found)"
    );
    let _ = &mut peer;
}

/// Every address of a name is tried in order: the first refuses, the second connects.
pub async fn x_every_address_tried_in_order<H: Harness>(t: Case<H>) {
    struct Two(std::net::SocketAddr, std::net::SocketAddr);
    impl cosocket_core::Resolve for Two {
        fn resolve<'a>(
            &'a self,
            _host: &'a str,
            _port: u16,
        ) -> futures::future::BoxFuture<'a, std::io::Result<Vec<std::net::SocketAddr>>> {
            Box::pin(async move { Ok(vec![self.0, self.1]) })
        }
    }
    let peer = start(PeerSpec::tcp(vec![Step::expect(2)]));
    let mut closed = start(PeerSpec::none());
    let refused = match closed.target("closed").unwrap() {
        crate::peer::Target::Tcp { host, port } => format!("{host}:{port}").parse().unwrap(),
        crate::peer::Target::Unix(_) => unreachable!("a TCP target"),
    };
    let good = peer.addr().unwrap();
    let cx = t.cx_with(|d| d.resolver = Resolver::Custom(std::sync::Arc::new(Two(refused, good))));
    let mut s = cx.stream();
    expect(
        "connect",
        &s.connect("two.example", 1, &opts()).await,
        "(1)",
    );
    expect("send", &s.send("ok").await, "(2)");
    drop(s);
    assert_eq!(finish(peer).connections()[0].recv, b"ok");
    let _ = Path::new("");
}

/// spec §10: read, write and connect timeouts and refused connects are logged (target
/// `cosocket`, with the upstream); with `log_errors` off the module's lines disappear.
pub async fn x_logs_spec_lines<H: Harness>(t: Case<H>) {
    crate::logs::install();
    for log_errors in [true, false] {
        let mark = crate::logs::mark();
        let mut peer = start(PeerSpec::tcp(vec![]));
        let upstream = peer.addr().unwrap().to_string();
        let cx = t.cx_with(|d| d.log_errors = log_errors);
        let mut s = cx.stream();
        connect_target(&mut s, &mut peer, "peer", &opts())
            .await
            .unwrap();
        s.set_timeout(Some(Duration::from_millis(50)));
        assert!(s.receive_line().await.unwrap_err().is_timeout());
        s.close().unwrap();
        expect("closed read", &s.receive_line().await, r#"(nil,"closed")"#);
        let mut never = start(PeerSpec::none());
        let refused = match never.target("closed").unwrap() {
            crate::peer::Target::Tcp { host, port } => format!("{host}:{port}"),
            crate::peer::Target::Unix(_) => unreachable!("a TCP target"),
        };
        let mut r = cx.stream();
        assert!(
            connect_target(&mut r, &mut never, "closed", &opts())
                .await
                .is_err()
        );
        let read_line = format!("[error] lua tcp socket read timed out, upstream: {upstream}");
        let refused_line =
            format!("[error] connect() failed (111: Connection refused), upstream: {refused}");
        let mut got = lines_for(mark, &upstream);
        got.extend(lines_for(mark, &refused));
        if log_errors {
            assert!(got.contains(&read_line), "{got:?}");
            assert!(got.contains(&refused_line), "{got:?}");
        } else {
            assert!(got.is_empty(), "log_errors off, yet: {got:?}");
        }
    }
}

fn lines_for(mark: usize, upstream: &str) -> Vec<String> {
    crate::logs::lines_since(mark, &format!("upstream: {upstream}"))
}
