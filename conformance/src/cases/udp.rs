//! spec §11 cases 87–94: datagram sockets (`ngx.socket.udp()`, spec §6), UDP and Unix.
//!
//! Left out: 89's `bad port number: 65536` (a `u16` port cannot hold it), 90's
//! `receive("x")` hard error (the size is a `usize`), 92's `socket busy` (`&mut self`).

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cosocket_core::{Address, Cosockets, Resolve, Resolver, UdpSock};
use futures::future::BoxFuture;

use super::start;
use crate::Case;
use crate::harness::Harness;
use crate::peer::{Peer, PeerSpec, Step, Target};
use crate::render::expect;

/// A UDP echo peer answering up to `n` datagrams.
pub(crate) fn echo_peer(n: usize) -> (Peer, SocketAddr) {
    let peer = start(PeerSpec::udp(vec![Step::Echo(n)]));
    let addr = peer.addr().expect("a UDP peer has an address");
    (peer, addr)
}

/// Case 87: before `set_peer_name` every call is `closed`.
pub async fn s87_udp_closed_before_set_peer_name<H: Harness>(t: Case<H>) {
    let mut u = t.cx().datagram();
    expect("send", &u.send("x").await, r#"(nil,"closed")"#);
    expect("receive", &u.receive(65536).await, r#"(nil,"closed")"#);
    expect("close", &u.close(), r#"(nil,"closed")"#);
    assert_eq!(u.fd().unwrap_err().to_string(), "closed");
    assert_eq!(u.local_addr().unwrap_err().to_string(), "closed");
    assert_eq!(u.peer_addr().unwrap_err().to_string(), "closed");
}

/// Case 88: an ICMP port unreachable is the next receive's `connection refused`, once;
/// then receives time out, sends go on, and no error closed the socket.
pub async fn s88_udp_icmp_refusal_then_timeout<H: Harness>(t: Case<H>) {
    let mut none = start(PeerSpec::none());
    let Target::Tcp { host, port } = none.target("closed_udp").unwrap() else {
        unreachable!("closed_udp is an IP target")
    };
    let mut u = t.cx().datagram();
    u.set_timeout(Some(Duration::from_millis(100)));
    expect("setpeername", &u.set_peer_name(&host, port).await, "(1)");
    expect("send", &u.send("hello").await, "(1)");
    let started = Instant::now();
    expect(
        "receive",
        &u.receive(65536).await,
        r#"(nil,"connection refused")"#,
    );
    // The refusal ends the receive; it does not wait for its timeout.
    assert!(
        started.elapsed() < Duration::from_millis(90),
        "{:?}",
        started.elapsed()
    );
    expect("receive", &u.receive(65536).await, r#"(nil,"timeout")"#);
    expect("send", &u.send("again").await, "(1)");
    expect("close", &u.close(), "(1)");
    expect("close", &u.close(), r#"(nil,"closed")"#);
}

/// Case 89, the part a `u16` port can reach: a UDP peer needs no port.
pub async fn s89_udp_port_zero<H: Harness>(t: Case<H>) {
    let mut u = t.cx().datagram();
    expect("setpeername", &u.set_peer_name("127.0.0.1", 0).await, "(1)");
    // The kernel has no peer port 0 to report.
    assert_eq!(
        u.peer_addr().unwrap_err().to_string(),
        "transport endpoint is not connected"
    );
    let local = u.local_addr().unwrap().ip().expect("an IP address");
    assert_eq!(local.ip(), Ipv4Addr::LOCALHOST);
}

/// Case 90: fragments as one datagram, the 65536-byte default, truncation, `receive(0)`.
pub async fn s90_udp_echo_and_truncation<H: Harness>(t: Case<H>) {
    let (peer, addr) = echo_peer(10);
    let mut u = t.cx().datagram();
    expect(
        "setpeername",
        &u.set_peer_name(&addr.ip().to_string(), addr.port()).await,
        "(1)",
    );
    expect("send", &u.send(&("a", 1, ["b"])).await, "(1)");
    expect("receive", &u.receive(65536).await, r#"("a1b")"#);
    let big: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    expect("send big", &u.send(&big).await, "(1)");
    assert_eq!(u.receive(65536).await.unwrap(), big, "the whole datagram");
    expect("send big", &u.send(&big).await, "(1)");
    assert_eq!(
        u.receive(9000).await.unwrap(),
        big[..9000],
        "the datagram truncated to the size"
    );
    expect("send", &u.send("abc").await, "(1)");
    expect("receive(2)", &u.receive(2).await, r#"("ab")"#);
    // A size above the maximum is the maximum.
    expect("send", &u.send("def").await, "(1)");
    expect("receive(1<<20)", &u.receive(1 << 20).await, r#"("def")"#);
    // receive(0) consumes the datagram: the next receive gets the next one.
    expect("send", &u.send("zzz").await, "(1)");
    t.sleep_ms(50).await;
    expect("receive(0)", &u.receive(0).await, r#"("")"#);
    expect("send", &u.send("next").await, "(1)");
    expect("receive", &u.receive(65536).await, r#"("next")"#);
    // An empty datagram is `""` too.
    expect("send empty", &u.send("").await, "(1)");
    expect("receive", &u.receive(65536).await, r#"("")"#);
    expect("close", &u.close(), "(1)");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    let got = report.datagrams();
    assert_eq!(got[0], b"a1b");
    assert_eq!(got[1], big);
    assert_eq!(got.len(), 8);
    assert_eq!(got[7], b"");
}

/// Case 91: a datagram over the kernel's limit is `message too long`; the socket stays
/// usable.
pub async fn s91_udp_message_too_long<H: Harness>(t: Case<H>) {
    let (_peer, addr) = echo_peer(1);
    let mut u = t.cx().datagram();
    u.set_peer_name(&addr.ip().to_string(), addr.port())
        .await
        .unwrap();
    let huge = vec![b'q'; 70_000];
    expect("send", &u.send(&huge).await, r#"(nil,"message too long")"#);
    expect("send", &u.send("ok").await, "(1)");
    expect("receive", &u.receive(65536).await, r#"("ok")"#);
}

/// Unique names for the Unix datagram servers of case 93.
static NEXT_SERVER: AtomicU64 = AtomicU64::new(0);

/// A Unix datagram server in a temp dir: answers every datagram with `REPLY:` + it, to
/// its sender, until dropped.
struct UnixEcho {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UnixEcho {
    fn start(reply: &'static str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "cosocket-dgram-{}-{}.sock",
            std::process::id(),
            NEXT_SERVER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).expect("bind the unix datagram server");
        socket
            .set_read_timeout(Some(Duration::from_millis(10)))
            .expect("a read timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while !stopped.load(Ordering::Relaxed) {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    let mut answer = format!("{reply}:").into_bytes();
                    answer.extend_from_slice(&buf[..n]);
                    let _ = socket.send_to_addr(&answer, &from);
                }
            }
        });
        Self {
            path,
            stop,
            thread: Some(thread),
        }
    }

    fn host(&self) -> String {
        format!("unix:{}", self.path.display())
    }
}

impl Drop for UnixEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Case 93: a Unix datagram round trip (the client end has an abstract address of its own
/// so the reply reaches it); `set_peer_name` to another peer closes the old socket.
pub async fn s93_unix_datagram_round_trip<H: Harness>(t: Case<H>) {
    let one = UnixEcho::start("one");
    let two = UnixEcho::start("two");
    let mut u = t.cx().datagram();
    u.set_timeout(Some(Duration::from_millis(2000)));
    expect("setpeername", &u.set_peer_name(&one.host(), 0).await, "(1)");
    expect("send", &u.send("ping").await, "(1)");
    expect("receive", &u.receive(65536).await, r#"("one:ping")"#);
    let Address::Abstract(first) = u.local_addr().unwrap() else {
        panic!("the client end is bound to an abstract name")
    };
    assert_eq!(u.peer_addr().unwrap(), Address::Path(one.path.clone()));
    expect("setpeername", &u.set_peer_name(&two.host(), 0).await, "(1)");
    expect("send", &u.send("pong").await, "(1)");
    expect("receive", &u.receive(65536).await, r#"("two:pong")"#);
    let Address::Abstract(second) = u.local_addr().unwrap() else {
        panic!("the client end is bound to an abstract name")
    };
    assert_ne!(first, second, "every client end has a name of its own");
    // The first socket is gone: nothing is bound to its name any more.
    let probe = UnixDatagram::unbound().unwrap();
    let old = {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(&first).unwrap()
    };
    assert_eq!(
        probe.send_to_addr(b"x", &old).unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    // A path nobody bound.
    let missing = one.path.with_extension("missing");
    expect(
        "missing",
        &u.set_peer_name(&format!("unix:{}", missing.display()), 0)
            .await,
        r#"(nil,"no such file or directory")"#,
    );
    expect("send", &u.send("x").await, r#"(nil,"closed")"#);
}

/// Case 94: `bind` takes IP literals only; the bound address is the datagrams' source.
pub async fn s94_udp_bind<H: Harness>(t: Case<H>) {
    let (_peer, addr) = echo_peer(2);
    let mut u = t.cx().datagram();
    expect("bad", &u.bind("127.0.0.1000"), r#"(nil,"bad address")"#);
    expect("bad", &u.bind("localhost"), r#"(nil,"bad address")"#);
    expect("bind", &u.bind("127.0.0.2"), "(1)");
    expect(
        "setpeername",
        &u.set_peer_name(&addr.ip().to_string(), addr.port()).await,
        "(1)",
    );
    let local = u.local_addr().unwrap().ip().expect("an IP address");
    assert_eq!(local.ip(), Ipv4Addr::new(127, 0, 0, 2));
    expect("send", &u.send("hi").await, "(1)");
    expect(
        "reply reaches 127.0.0.2",
        &u.receive(65536).await,
        r#"("hi")"#,
    );
    // The bind is kept for the next set_peer_name.
    u.set_peer_name(&addr.ip().to_string(), addr.port())
        .await
        .unwrap();
    assert_eq!(
        u.local_addr().unwrap().ip().unwrap().ip(),
        Ipv4Addr::new(127, 0, 0, 2)
    );
}

/// Names: no resolver is nginx's text; a custom resolver's addresses are used.
pub async fn x_udp_names<H: Harness>(t: Case<H>) {
    struct Fixed(SocketAddr);
    impl Resolve for Fixed {
        fn resolve<'a>(
            &'a self,
            _host: &'a str,
            port: u16,
        ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
            Box::pin(async move { Ok(vec![SocketAddr::new(self.0.ip(), port)]) })
        }
    }
    let (_peer, addr) = echo_peer(1);
    let mut u = t.cx().datagram();
    expect(
        "no resolver",
        &u.set_peer_name("example.invalid", 53).await,
        r#"(nil,"no resolver defined to resolve \"example.invalid\"")"#,
    );
    let cx = t.cx_with(|d| d.resolver = Resolver::Custom(Arc::new(Fixed(addr))));
    let mut u = cx.datagram();
    expect(
        "named",
        &u.set_peer_name("echo.example", addr.port()).await,
        "(1)",
    );
    expect("send", &u.send("named").await, "(1)");
    expect("receive", &u.receive(65536).await, r#"("named")"#);
}
