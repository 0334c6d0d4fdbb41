//! The peer driven by plain std sockets as the client, one case per FORMAT §3 rule.
//! Timing assertions keep margins of at least 100 ms.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

/// Long enough that no case hangs, short enough that a broken one fails fast.
const SAFETY: Duration = Duration::from_secs(5);

fn connect(peer: &Peer) -> TcpStream {
    let stream = TcpStream::connect(peer.addr().expect("tcp peer")).expect("connect");
    stream.set_read_timeout(Some(SAFETY)).unwrap();
    stream
}

fn addr_of(target: &Target) -> SocketAddr {
    match target {
        Target::Tcp { host, port } => format!("{host}:{port}").parse().unwrap(),
        Target::Unix(path) => panic!("not a tcp target: {path}"),
    }
}

fn path_of(target: &Target) -> PathBuf {
    match target {
        Target::Unix(s) => PathBuf::from(s.strip_prefix("unix:").expect("unix: prefix")),
        Target::Tcp { .. } => panic!("not a unix target: {target:?}"),
    }
}

fn read_n(stream: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).expect("read");
    buf
}

fn read_to_end(stream: &mut impl Read) -> Vec<u8> {
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).expect("read to end");
    buf
}

/// Asserts that nothing arrives within `wait`.
fn assert_silent(stream: &mut TcpStream, wait: Duration) {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0; 16];
    match stream.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected silence, got {other:?}"),
    }
    stream.set_read_timeout(Some(SAFETY)).unwrap();
}

fn recv_datagram(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = [0; 64];
    let n = socket.recv(&mut buf).expect("recv");
    buf[..n].to_vec()
}

fn wait_accepted(peer: &Peer, n: usize) {
    let deadline = Instant::now() + SAFETY;
    while peer.accepted() < n {
        assert!(Instant::now() < deadline, "peer never accepted {n}");
        thread::sleep(Duration::from_millis(5));
    }
}

fn only_connection(report: &PeerReport) -> &ConnectionReport {
    assert_eq!(report.connections().len(), 1, "{report:?}");
    &report.connections()[0]
}

#[test]
fn send_then_close_gives_the_bytes_then_eof() {
    let peer = Peer::start(&PeerSpec::tcp(vec![
        Step::expect(4),
        Step::send("hello\r\n"),
        Step::Close,
    ]))
    .unwrap();
    let mut client = connect(&peer);
    client.write_all(b"ping").unwrap();
    assert_eq!(read_to_end(&mut client), b"hello\r\n");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(
        report.to_json(),
        json!({"connections": [{"recv": "ping", "end": "closed_by_peer"}]})
    );
}

#[test]
fn close_first_reads_what_is_queued_so_the_client_gets_a_fin() {
    let peer = Peer::start(&PeerSpec::tcp(vec![
        Step::sleep(150),
        Step::send("bye"),
        Step::Close,
    ]))
    .unwrap();
    let mut client = connect(&peer);
    // Queued in the peer's kernel buffer long before its `close` step runs: without the
    // non-blocking read first, Linux would send an RST and this read would fail.
    client.write_all(b"queued").unwrap();
    assert_eq!(read_to_end(&mut client), b"bye");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    let conn = only_connection(&report);
    assert_eq!(conn.recv, b"queued");
    assert_eq!(conn.end, End::ClosedByPeer);
}

#[test]
fn close_after_the_clients_fin_is_still_closed_by_peer() {
    let peer = Peer::start(&PeerSpec::tcp(vec![Step::sleep(100), Step::Close])).unwrap();
    let mut client = connect(&peer);
    client.write_all(b"x").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    // The FIN is queued long before the `close` step reads without blocking.
    assert_eq!(read_to_end(&mut client), b"");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    let conn = only_connection(&report);
    assert_eq!(conn.recv, b"x");
    assert_eq!(conn.end, End::ClosedByPeer);
}

#[test]
fn client_sending_then_dropping_is_eof_with_the_exact_bytes() {
    let peer = Peer::start(&PeerSpec::tcp(vec![])).unwrap();
    let mut client = connect(&peer);
    client.write_all(&[0x00, 0xff, b'a', b'\r', b'\n']).unwrap();
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(
        only_connection(&report).recv,
        [0x00, 0xff, b'a', b'\r', b'\n']
    );
    assert_eq!(only_connection(&report).end, End::Eof);
    assert_eq!(
        report.to_json(),
        json!({"connections": [{"recv": "\u{0}\u{ff}a\r\n", "end": "eof"}]})
    );
}

#[test]
fn close_after_the_clients_reset_is_still_closed_by_peer() {
    // The parity scenario `ru_empty_pattern`: the peer sends, the client ends its request
    // with the bytes unread (an RST), and only then does the peer's `close` step run.
    let peer = Peer::start(&PeerSpec::tcp(vec![
        Step::send("abc"),
        Step::sleep(150),
        Step::Close,
    ]))
    .unwrap();
    let client = connect(&peer);
    let mut one = [0; 1];
    assert_eq!(client.peek(&mut one).unwrap(), 1);
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).end, End::ClosedByPeer);
    assert_eq!(only_connection(&report).recv, b"");
}

#[test]
fn client_closing_with_unread_bytes_is_seen_as_reset() {
    let peer = Peer::start(&PeerSpec::tcp(vec![Step::send("unread")])).unwrap();
    let client = connect(&peer);
    // Wait until the bytes sit in the client's kernel buffer, without reading them.
    let mut one = [0; 1];
    assert_eq!(client.peek(&mut one).unwrap(), 1);
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).end, End::Reset);
    assert_eq!(only_connection(&report).recv, b"");
}

#[test]
fn reset_step_makes_the_client_read_fail_with_econnreset() {
    let peer = Peer::start(&PeerSpec::tcp(vec![Step::expect(4), Step::Reset])).unwrap();
    let mut client = connect(&peer);
    client.write_all(b"ping").unwrap();
    let err = client.read(&mut [0; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(
        report.to_json(),
        json!({"connections": [{"recv": "ping", "end": "reset_by_peer"}]})
    );
}

#[test]
fn a_failed_peer_write_ends_as_reset() {
    let peer = Peer::start(&PeerSpec::tcp(vec![
        Step::sleep(150),
        Step::send_rep([b'x'; 65536], 64),
        Step::send("never"),
    ]))
    .unwrap();
    let client = connect(&peer);
    wait_accepted(&peer, 1);
    // Closed with nothing unread: the peer's first write draws an RST, a later one EPIPE.
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).end, End::Reset);
}

#[test]
fn half_close_sends_fin_and_keeps_reading() {
    let peer = Peer::start(&PeerSpec::tcp(vec![
        Step::send("bye"),
        Step::HalfClose,
        Step::expect_until("more\n"),
    ]))
    .unwrap();
    let mut client = connect(&peer);
    assert_eq!(read_to_end(&mut client), b"bye");
    client.write_all(b"more\n").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).recv, b"more\n");
    assert_eq!(only_connection(&report).end, End::Eof);
}

#[test]
fn expect_recv_counts_only_bytes_since_the_step_began() {
    let peer = Peer::start(&PeerSpec::tcp(vec![
        Step::expect(5),
        Step::send("A"),
        Step::expect(3),
        Step::send("B"),
    ]))
    .unwrap();
    let mut client = connect(&peer);
    client.write_all(b"1234567").unwrap();
    assert_eq!(read_n(&mut client, 1), b"A");
    // The surplus "67" does not count for the next step: one more byte is not enough.
    client.write_all(b"x").unwrap();
    assert_silent(&mut client, Duration::from_millis(300));
    client.write_all(b"yz").unwrap();
    assert_eq!(read_n(&mut client, 1), b"B");
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).recv, b"1234567xyz");
    assert_eq!(only_connection(&report).end, End::Eof);
}

#[test]
fn expect_recv_goes_on_at_its_deadline() {
    let peer =
        Peer::start(&PeerSpec::tcp(vec![Step::expect(10), Step::send("late")]).recv_timeout(300))
            .unwrap();
    let start = Instant::now();
    let mut client = connect(&peer);
    client.write_all(b"ab").unwrap();
    assert_eq!(read_n(&mut client, 4), b"late");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).recv, b"ab");
}

#[test]
fn expect_until_matches_only_this_steps_bytes_across_reads() {
    let peer = Peer::start(&PeerSpec::tcp(vec![
        Step::expect(2),
        Step::send("1"),
        Step::expect_until("ab"),
        Step::send("2"),
    ]))
    .unwrap();
    let mut client = connect(&peer);
    client.write_all(b"xa").unwrap();
    assert_eq!(read_n(&mut client, 1), b"1");
    // "a" + "b" spans the step boundary: no match yet.
    client.write_all(b"b").unwrap();
    assert_silent(&mut client, Duration::from_millis(300));
    client.write_all(b"-a").unwrap();
    assert_silent(&mut client, Duration::from_millis(100));
    client.write_all(b"b").unwrap();
    assert_eq!(read_n(&mut client, 1), b"2");
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).recv, b"xab-ab");
}

#[test]
fn expect_until_goes_on_at_its_deadline() {
    let peer = Peer::start(
        &PeerSpec::tcp(vec![Step::expect_until("END"), Step::send("late")]).recv_timeout(300),
    )
    .unwrap();
    let start = Instant::now();
    let mut client = connect(&peer);
    client.write_all(b"EN").unwrap();
    assert_eq!(read_n(&mut client, 4), b"late");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
}

#[test]
fn drain_moves_on_after_an_idle_limit() {
    let peer = Peer::start(&PeerSpec::tcp(vec![Step::Drain, Step::send("idle")]).recv_timeout(300))
        .unwrap();
    let mut client = connect(&peer);
    client.write_all(b"a").unwrap();
    thread::sleep(Duration::from_millis(200));
    // The limit is per read: the wait starts over with every byte that arrives.
    client.write_all(b"b").unwrap();
    let last_write = Instant::now();
    assert_eq!(read_n(&mut client, 4), b"idle");
    let idle = last_write.elapsed();
    assert!(idle >= Duration::from_millis(200), "{idle:?}");
    drop(client);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).recv, b"ab");
    assert_eq!(only_connection(&report).end, End::Eof);
}

#[test]
fn drain_ends_the_script_at_eof() {
    let peer = Peer::start(&PeerSpec::tcp(vec![Step::Drain, Step::send("never")])).unwrap();
    let mut client = connect(&peer);
    client.write_all(b"abc").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut client), b"");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).recv, b"abc");
    assert_eq!(only_connection(&report).end, End::Eof);
}

#[test]
fn connections_and_default_follow_accept_order() {
    let peer = Peer::start(&PeerSpec::per_connection(
        PeerKind::Tcp,
        vec![vec![Step::send("zero")], vec![Step::send("one")]],
        vec![Step::send("other")],
    ))
    .unwrap();
    let mut clients = Vec::new();
    for expected in ["zero", "one", "other", "other"] {
        let mut client = connect(&peer);
        assert_eq!(read_n(&mut client, expected.len()), expected.as_bytes());
        clients.push(client);
    }
    assert_eq!(peer.accepted(), 4);
    drop(clients);
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(report.connections().len(), 4);
    assert!(
        report.connections().iter().all(|c| c.end == End::Eof),
        "{report:?}"
    );
}

#[test]
fn a_connection_still_in_use_is_open_in_the_snapshot() {
    let peer = Peer::start(&PeerSpec::tcp(vec![])).unwrap();
    let mut client = connect(&peer);
    wait_accepted(&peer, 1);
    let start = Instant::now();
    let report = peer.finish(Duration::from_millis(100));
    // 100 ms settle + the whole grace: the held connection never ends by itself.
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        report.to_json(),
        json!({"connections": [{"recv": "", "end": "open"}]})
    );
    // Then the peer stopped and closed it.
    assert_eq!(read_to_end(&mut client), b"");
}

#[test]
fn the_snapshot_waits_for_scripts_ending_within_the_grace() {
    let spec = |ms| PeerSpec::tcp(vec![Step::sleep(ms), Step::Close]);
    let soon = Peer::start(&spec(250)).unwrap();
    let late = Peer::start(&spec(1500)).unwrap();
    let _a = connect(&soon);
    let _b = connect(&late);
    wait_accepted(&soon, 1);
    wait_accepted(&late, 1);
    let start = Instant::now();
    let soon = soon.finish(Duration::from_millis(400));
    assert!(
        start.elapsed() < Duration::from_millis(450),
        "waited the whole grace"
    );
    assert_eq!(only_connection(&soon).end, End::ClosedByPeer);
    let start = Instant::now();
    let late = late.finish(Duration::from_millis(100));
    // The stop interrupts the 1500 ms sleep.
    assert!(start.elapsed() < Duration::from_millis(1000));
    assert_eq!(only_connection(&late).end, End::Open);
}

#[test]
fn recv_over_4096_bytes_is_reported_as_its_md5() {
    let peer = Peer::start(&PeerSpec::tcp(vec![Step::Drain])).unwrap();
    let mut client = connect(&peer);
    client.write_all(&[b'a'; 5000]).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut client), b"");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(only_connection(&report).recv.len(), 5000);
    assert_eq!(
        report.to_json(),
        json!({"connections": [
            {"recv": "<5000 bytes md5=7aaa7dec709fa4fa82f3746abfd80bdb>", "end": "eof"}
        ]})
    );
}

#[test]
fn unix_peer_target_is_the_unix_path_string_and_its_dir_goes_away() {
    let mut peer = Peer::start(&PeerSpec::unix(vec![
        Step::send("hi"),
        Step::expect(3),
        Step::Close,
    ]))
    .unwrap();
    let path = peer.path().unwrap().to_path_buf();
    let target = peer.target("peer").unwrap();
    assert_eq!(target, Target::Unix(format!("unix:{}", path.display())));
    assert_eq!(peer.target("unix").unwrap(), target);
    assert!(path.starts_with(std::env::temp_dir()));
    assert!(peer.addr().is_none());

    let mut client = UnixStream::connect(path_of(&target)).unwrap();
    client.set_read_timeout(Some(SAFETY)).unwrap();
    assert_eq!(read_n(&mut client, 2), b"hi");
    client.write_all(b"bye").unwrap();
    assert_eq!(read_to_end(&mut client), b"");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(
        report.to_json(),
        json!({"connections": [{"recv": "bye", "end": "closed_by_peer"}]})
    );
    assert!(!path.parent().unwrap().exists());
}

#[test]
fn dropping_a_peer_stops_it_and_removes_its_dir() {
    let peer = Peer::start(&PeerSpec::unix(vec![Step::sleep(10_000)])).unwrap();
    let dir = peer.path().unwrap().parent().unwrap().to_path_buf();
    let mut client = UnixStream::connect(peer.path().unwrap()).unwrap();
    client.set_read_timeout(Some(SAFETY)).unwrap();
    wait_accepted(&peer, 1);
    let start = Instant::now();
    drop(peer);
    assert!(start.elapsed() < Duration::from_millis(1000));
    assert!(!dir.exists());
    assert_eq!(read_to_end(&mut client), b"");
}

#[test]
fn closed_target_refuses() {
    let mut peer = Peer::start(&PeerSpec::none()).unwrap();
    let target = peer.target("closed").unwrap();
    assert!(matches!(&target, Target::Tcp { host, .. } if host == "127.0.0.1"));
    let err = TcpStream::connect(addr_of(&target)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(peer.target("closed").unwrap(), target, "cached");
}

#[test]
fn missing_unix_target_is_enoent() {
    let mut peer = Peer::start(&PeerSpec::none()).unwrap();
    let target = peer.target("missing_unix").unwrap();
    let path = path_of(&target);
    assert!(path.ends_with("nonexistent.sock"));
    let err = UnixStream::connect(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop(peer);
    assert!(!path.parent().unwrap().exists());
}

#[test]
fn backlog_full_target_drops_syns_so_a_connect_times_out() {
    let mut peer = Peer::start(&PeerSpec::none()).unwrap();
    let target = peer.target("backlog_full").unwrap();
    let err =
        TcpStream::connect_timeout(&addr_of(&target), Duration::from_millis(200)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(peer.target("backlog_full").unwrap(), target, "cached");
}

#[test]
fn none_peer_reports_no_connections_and_no_peer_target() {
    let mut peer = Peer::start(&PeerSpec::none()).unwrap();
    for name in ["peer", "unix", "bogus"] {
        let err = peer.target(name).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
    }
    assert_eq!(
        peer.finish(Duration::ZERO).to_json(),
        json!({"connections": []})
    );
}

#[test]
fn udp_echo_sends_each_datagram_back() {
    let mut peer = Peer::start(&PeerSpec::udp(vec![Step::Echo(2)])).unwrap();
    let target = peer.target("peer").unwrap();
    assert_eq!(addr_of(&target), peer.addr().unwrap());
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(SAFETY)).unwrap();
    client.connect(addr_of(&target)).unwrap();
    client.send(b"a\xff").unwrap();
    assert_eq!(recv_datagram(&client), b"a\xff");
    client.send(b"").unwrap();
    assert_eq!(recv_datagram(&client), b"");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(report.to_json(), json!({"datagrams": ["a\u{ff}", ""]}));
}

#[test]
fn udp_recv_then_send_answers_the_sender() {
    let peer = Peer::start(&PeerSpec::udp(vec![
        Step::send("no sender yet"),
        Step::Recv,
        Step::send("x"),
        Step::send("yz"),
    ]))
    .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(SAFETY)).unwrap();
    client.connect(peer.addr().unwrap()).unwrap();
    client.send(b"go").unwrap();
    assert_eq!(recv_datagram(&client), b"x");
    assert_eq!(recv_datagram(&client), b"yz");
    let report = peer.finish(Peer::DEFAULT_GRACE);
    assert_eq!(report.datagrams(), [b"go".to_vec()]);
    assert!(report.connections().is_empty());
}

#[test]
fn closed_udp_target_answers_with_port_unreachable() {
    let mut peer = Peer::start(&PeerSpec::none()).unwrap();
    let target = peer.target("closed_udp").unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(SAFETY)).unwrap();
    client.connect(addr_of(&target)).unwrap();
    client.send(b"x").unwrap();
    let err = client.recv(&mut [0; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn a_parsed_scenario_peer_sends_latin1_bytes() {
    let spec: PeerSpec = serde_json::from_str(
        r#"{"type": "tcp", "steps": [{"send": "\u00ff\u0000\r\n", "repeat": 2}, {"close": true}]}"#,
    )
    .unwrap();
    let peer = Peer::start(&spec).unwrap();
    let mut client = connect(&peer);
    assert_eq!(read_to_end(&mut client), b"\xff\x00\r\n\xff\x00\r\n");
    drop(client);
    peer.finish(Peer::DEFAULT_GRACE);
}

#[test]
fn a_spec_format_gives_no_meaning_is_invalid_input() {
    for spec in [
        PeerSpec::tcp(vec![Step::Recv]),
        PeerSpec::udp(vec![Step::Drain]),
        PeerSpec::udp(vec![Step::send_rep("x", 2)]),
    ] {
        let err = Peer::start(&spec).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{spec:?}");
    }
}
