//! The rest of the stream socket surface (spec §7, §8, §12): `getfd` and addresses,
//! options and the local address across pool reuse, half-close of an owned write half,
//! `unix:` path texts, and name resolution (error texts, one connect timeout for every
//! address).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosocket_core::{
    Address, ConnectOptions, Cosockets, Resolve, Resolver, SocketOption, StreamRead, StreamSock,
    StreamWrite, TcpSock, UnixSock,
};
use futures::future::BoxFuture;

use super::{connect_target, connected, finish, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerSpec, Step, Target};
use crate::render::expect;

fn opts() -> ConnectOptions {
    ConnectOptions::new()
}

/// `getfd` (spec §8.4) and the addresses: `closed` without a connection; the fd is the
/// connection's; TCP and Unix addresses as the kernel has them.
pub async fn x_fd_and_addresses<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = t.stream();
    assert_eq!(s.fd().unwrap_err().to_string(), "closed");
    assert_eq!(s.local_addr().unwrap_err().to_string(), "closed");
    assert_eq!(s.peer_addr().unwrap_err().to_string(), "closed");
    connect_target(&mut s, &mut peer, "peer", &opts())
        .await
        .unwrap();
    let at = peer.addr().unwrap();
    assert_eq!(s.peer_addr().unwrap(), Address::Ip(at));
    let local = s.local_addr().unwrap().ip().expect("an IP address");
    assert_eq!(local.ip(), Ipv4Addr::LOCALHOST);
    assert_ne!(local.port(), 0);
    // The descriptor is the connection's: the kernel gives the same addresses through it.
    let borrowed = s.fd().unwrap();
    let fd = socket2::SockRef::from(&borrowed);
    assert_eq!(fd.peer_addr().unwrap().as_socket(), Some(at));
    assert_eq!(fd.local_addr().unwrap().as_socket(), Some(local));
    s.close().unwrap();
    assert_eq!(s.fd().unwrap_err().to_string(), "closed");

    let mut unix = start(PeerSpec::unix(vec![]));
    connect_target(&mut s, &mut unix, "peer", &opts())
        .await
        .unwrap();
    let path = unix.path().unwrap().to_owned();
    assert_eq!(s.peer_addr().unwrap(), Address::Path(path.clone()));
    assert_eq!(
        s.peer_addr().unwrap().to_string(),
        format!("unix:{}", path.display())
    );
    assert_eq!(s.local_addr().unwrap(), Address::Unnamed);
}

/// Options live on the OS connection, so they persist across pool reuse (spec §8.1).
pub async fn x_options_persist_across_pool_reuse<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let cx = t.cx();
    let mut s = cx.stream();
    connect_target(&mut s, &mut peer, "peer", &opts())
        .await
        .unwrap();
    s.set_option(SocketOption::KeepAlive, 1).unwrap();
    s.set_option(SocketOption::KeepIntvl, 7).unwrap();
    s.set_option(SocketOption::KeepCnt, 4).unwrap();
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
    let mut again = cx.stream();
    connect_target(&mut again, &mut peer, "peer", &opts())
        .await
        .unwrap();
    expect("reused", &again.reused_times(), "(1)");
    expect(
        "keepalive",
        &again.get_option(SocketOption::KeepAlive),
        "(1)",
    );
    expect(
        "keepintvl",
        &again.get_option(SocketOption::KeepIntvl),
        "(7)",
    );
    expect("keepcnt", &again.get_option(SocketOption::KeepCnt), "(4)");
    drop((s, again));
    assert_eq!(finish(peer).connections().len(), 1, "one OS connection");
}

/// A connection taken from a pool keeps the local address it was opened with; the bind
/// address is not part of the pool key (spec §8.2).
pub async fn x_pooled_connection_keeps_its_local_address<H: Harness>(t: Case<H>) {
    let peer = start(PeerSpec::tcp(vec![]));
    let addr = peer.addr().unwrap();
    let cx = t.cx();
    let mut s = cx.stream();
    expect("bind", &s.bind("127.0.0.2", 0), "(1)");
    s.connect_addr(addr, &opts()).await.unwrap();
    let first = s.local_addr().unwrap();
    assert_eq!(first.ip().unwrap().ip(), Ipv4Addr::new(127, 0, 0, 2));
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
    let mut again = cx.stream();
    expect("bind", &again.bind("127.0.0.3", 0), "(1)");
    again.connect_addr(addr, &opts()).await.unwrap();
    expect("reused", &again.reused_times(), "(1)");
    assert_eq!(again.local_addr().unwrap(), first);
    // Not from the pool: the bind applies.
    let mut fresh = cx.stream();
    fresh.bind("127.0.0.3", 0).unwrap();
    fresh.connect_addr(addr, &opts()).await.unwrap();
    assert_eq!(
        fresh.local_addr().unwrap().ip().unwrap().ip(),
        Ipv4Addr::new(127, 0, 0, 3)
    );
}

/// A `unix:` path given on its own gets nginx's texts (spec §7), and, as any parse
/// failure, has dropped the object's connection.
pub async fn x_connect_unix_path_texts<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![]));
    let mut s = connected(&t, &mut peer).await;
    expect(
        "empty",
        &s.connect_unix(Path::new(""), &opts()).await,
        r#"(nil,"failed to parse host name \"unix:\": no path in the unix domain socket")"#,
    );
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    let long = format!("/{}", "p".repeat(200));
    let err = s.connect_unix(Path::new(&long), &opts()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "failed to parse host name \"unix:{long}\": too long path in the unix domain socket"
        )
    );
}

/// Half-close through an owned write half: FIN out, the reply comes in on the read half.
pub async fn x_shutdown_owned_write_half<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::expect(7),
        Step::sleep(100),
        Step::send("reply\n"),
        Step::Drain,
    ]));
    let s = connected(&t, &mut peer).await;
    let (mut read, mut write) = s.into_split();
    expect("send", &write.send("request").await, "(7)");
    expect("shutdown", &write.shutdown(), "(1)");
    expect("send after", &write.send("x").await, r#"(nil,"closed")"#);
    expect("reply", &read.receive_line().await, r#"("reply")"#);
    drop((read, write));
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"request");
    assert_eq!(
        report.connections()[0].end,
        End::Eof,
        "the peer read our FIN"
    );
}

/// A resolver that answers every name the same way.
enum Answer {
    Err(io::ErrorKind),
    Empty,
    Never,
    Addrs(Vec<SocketAddr>),
}

impl Resolve for Answer {
    fn resolve<'a>(
        &'a self,
        _host: &'a str,
        _port: u16,
    ) -> BoxFuture<'a, io::Result<Vec<SocketAddr>>> {
        match self {
            Self::Err(kind) => Box::pin(async move { Err(io::Error::from(*kind)) }),
            Self::Empty => Box::pin(async { Ok(Vec::new()) }),
            Self::Never => Box::pin(futures::future::pending()),
            Self::Addrs(addrs) => Box::pin(async move { Ok(addrs.clone()) }),
        }
    }
}

/// Resolver failures read like nginx's (spec §1.5): `NotFound` and no address →
/// `(3: Host not found)`, `TimedOut` and `resolver_timeout` → `(110: Operation timed
/// out)`, anything else → `(2: Server failure)`; they close nothing but the attempt.
pub async fn x_resolver_error_texts<H: Harness>(t: Case<H>) {
    for (answer, text) in [
        (Answer::Err(io::ErrorKind::NotFound), "3: Host not found"),
        (Answer::Empty, "3: Host not found"),
        (
            Answer::Err(io::ErrorKind::TimedOut),
            "110: Operation timed out",
        ),
        (Answer::Never, "110: Operation timed out"),
        (
            Answer::Err(io::ErrorKind::ConnectionRefused),
            "2: Server failure",
        ),
    ] {
        let cx = t.cx_with(|d| {
            d.resolver = Resolver::Custom(Arc::new(answer));
            d.resolver_timeout = Duration::from_millis(50);
        });
        let mut s = cx.stream();
        let err = s.connect("h.example", 80, &opts()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("h.example could not be resolved ({text})")
        );
        expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    }
}

/// Every address of a name shares one connect timeout: a refused first address and a
/// second that never answers end in `timeout` after the connect timeout, not later.
pub async fn x_every_address_within_one_connect_timeout<H: Harness>(t: Case<H>) {
    let mut none = start(PeerSpec::none());
    let ip = |target: Target| match target {
        Target::Tcp { host, port } => SocketAddr::new(host.parse().unwrap(), port),
        Target::Unix(_) => unreachable!("an IP target"),
    };
    let refused = ip(none.target("closed").unwrap());
    let silent = ip(none.target("backlog_full").unwrap());
    let answer = Answer::Addrs(vec![refused, silent, silent, silent]);
    let cx = t.cx_with(|d| {
        d.resolver = Resolver::Custom(Arc::new(answer));
        d.connect_timeout = Duration::from_millis(300);
    });
    let mut s = cx.stream();
    let started = Instant::now();
    expect(
        "connect",
        &s.connect("two.example", 80, &opts()).await,
        r#"(nil,"timeout")"#,
    );
    // One timeout, not one per silent address (three would be 900 ms); the margin is for
    // a loaded 2-core CI machine running the other harnesses' suites at the same time.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(850),
        "{took:?}"
    );
}
