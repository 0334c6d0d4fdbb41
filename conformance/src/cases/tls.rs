//! TLS on every harness (feature `tls`; docs/semantics.md §8.3, §8.5): `ssl_handshake`
//! against the scripted TLS peer (FORMAT.md §10.3), with the certificates of §10.1
//! generated at run time. The peer reports what the server side saw (SNI, version,
//! resumption, client certificate, close_notify), so each case checks both ends.

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::task::Context as TaskContext;
use std::time::{Duration, Instant};

use cosocket_core::tls::{ClientCert, TlsOptions, TlsSession, TlsVersions, TrustStore};
use cosocket_core::{
    ConnectOptions, Cosockets, Directives, ErrorKind, Result, StreamRead, StreamSock, StreamWrite,
    TcpSock, TlsSock, Until,
};
use serde_json::{Value, json};

use super::{connect_target, finish, start};
use crate::Case;
use crate::certs::TestCerts;
use crate::harness::Harness;
use crate::peer::{Peer, PeerSpec};
use crate::render::expect;

/// A peer spec from FORMAT's JSON (`{"type": "tls", ...}`).
fn spec(value: Value) -> PeerSpec {
    serde_json::from_value(value).expect("a valid peer spec")
}

/// The test CA of FORMAT §10.1 as a trust store.
fn ca_store() -> TrustStore {
    let ca = TestCerts::shared().get("ca").expect("the test CA");
    TrustStore::from_der([ca.cert_der().clone()]).expect("the CA parses")
}

/// The named test certificate as a client certificate.
fn client_cert(name: &str) -> ClientCert {
    let named = TestCerts::shared().get(name).expect("a test certificate");
    ClientCert::from_der(vec![named.cert_der().clone()], named.key_der()).expect("a usable key")
}

/// The suite's directives with the test CA trusted.
fn trusting_ca(d: &mut Directives) {
    d.tls.trusted = ca_store();
}

/// Verified against the test CA for `test.local`.
fn verified() -> TlsOptions {
    TlsOptions::new().server_name("test.local")
}

/// No verification (OpenResty's `sslhandshake()`).
fn unverified() -> TlsOptions {
    TlsOptions::new().dangerous_skip_verification()
}

/// `ssl_handshake`'s result in spec notation: `(<session>)`, `(nil)` for `None`, or the
/// failure.
fn rendered(result: &Result<Option<TlsSession>>) -> String {
    match result {
        Ok(Some(_)) => "(<session>)".to_owned(),
        Ok(None) => "(nil)".to_owned(),
        Err(e) => format!("(nil,{:?})", e.message()),
    }
}

#[track_caller]
fn expect_handshake(call: &str, result: &Result<Option<TlsSession>>, expected: &str) {
    let got = rendered(result);
    assert_eq!(got, expected, "{call}: got {got}, expected {expected}");
}

/// A socket of `cx` connected (plain TCP) to the peer.
async fn tcp_to<S: TcpSock + cosocket_core::UnixSock>(s: &mut S, peer: &mut Peer) {
    connect_target(s, peer, "peer", &ConnectOptions::new())
        .await
        .expect("connect to the peer");
}

/// The peer's report of connection `i` (FORMAT §10.4) as JSON.
fn connection(report: &Value, i: usize) -> &Value {
    &report["connections"][i]
}

/// Handshake, echo, close: the session comes back, the peer saw TLS 1.3 (both ends
/// offer it), the request and close_notify (which OpenResty never sends).
pub async fn x_tls_echo<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"expect_recv": {"until": "\n"}}, {"send": "pong\r\n"}, {"drain": true}
    ]})));
    let mut s = t.cx_with(trusting_ca).stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&verified()).await,
        "(<session>)",
    );
    let info = s.tls_info().expect("TLS info");
    assert_eq!(info.version, "TLSv1.3");
    assert!(!info.resumed);
    expect("send", &s.send(&("pi", "ng\n")).await, "(5)");
    expect("line", &s.receive_line().await, r#"("pong")"#);
    expect("close", &s.close(), "(1)");
    let report = finish(peer).to_json();
    let c = connection(&report, 0);
    assert_eq!(c["handshake"], "ok");
    assert_eq!(c["tls_version"], "TLSv1.3");
    assert_eq!(c["sni"], "test.local");
    assert_eq!(c["recv"], "ping\n");
    assert_eq!(
        c["close_notify"], true,
        "cosocket ends TLS with close_notify: {c}"
    );
}

/// The protocol directive: TLS 1.2 only against a peer that takes both.
pub async fn x_tls_protocols_directive<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": []})));
    let cx = t.cx_with(|d| {
        trusting_ca(d);
        d.tls.protocols = TlsVersions::TLS12;
    });
    let mut s = cx.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&verified()).await,
        "(<session>)",
    );
    assert_eq!(s.tls_info().expect("TLS").version, "TLSv1.2");
    // Per handshake too, overriding the context.
    let mut s2 = cx.stream();
    tcp_to(&mut s2, &mut peer).await;
    let only13 = verified().versions(TlsVersions::TLS13);
    expect_handshake(
        "handshake 1.3",
        &s2.ssl_handshake(&only13).await,
        "(<session>)",
    );
    assert_eq!(s2.tls_info().expect("TLS").version, "TLSv1.3");
    drop((s, s2));
    let report = finish(peer).to_json();
    assert_eq!(connection(&report, 0)["tls_version"], "TLSv1.2");
    assert_eq!(connection(&report, 1)["tls_version"], "TLSv1.3");
}

/// SNI: the server name as sent; none without a name, and none for an IP address.
pub async fn x_tls_sni<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": []})));
    let cx = t.cx();
    for options in [
        unverified().server_name("Test.Local"),
        unverified(),
        unverified().server_name("127.0.0.1"),
    ] {
        let mut s = cx.stream();
        tcp_to(&mut s, &mut peer).await;
        expect_handshake("handshake", &s.ssl_handshake(&options).await, "(<session>)");
        expect("close", &s.close(), "(1)");
    }
    let report = finish(peer).to_json();
    // rustls lower-cases the name it sends (DNS names are case-insensitive).
    let sni = connection(&report, 0)["sni"]
        .as_str()
        .map(str::to_ascii_lowercase);
    assert_eq!(sni.as_deref(), Some("test.local"));
    assert_eq!(connection(&report, 1)["sni"], Value::Null);
    assert_eq!(connection(&report, 2)["sni"], Value::Null);
}

/// One verification failure: the handshake completed for the server, the client closed
/// without close_notify, and the socket is closed.
async fn verify_fails<H: Harness>(
    t: &Case<H>,
    peer_cert: &str,
    change: impl FnOnce(&mut Directives),
    options: TlsOptions,
    text: &str,
) {
    let mut peer = start(spec(json!({"type": "tls", "cert": peer_cert, "steps": []})));
    let mut s = t.cx_with(change).stream();
    tcp_to(&mut s, &mut peer).await;
    let result = s.ssl_handshake(&options).await;
    expect_handshake("handshake", &result, &format!("(nil,{text:?})"));
    assert_eq!(result.expect_err("failed").kind(), ErrorKind::Verify);
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    expect("receive", &s.receive_line().await, r#"(nil,"closed")"#);
    expect("close", &s.close(), r#"(nil,"closed")"#);
    let report = finish(peer).to_json();
    let c = connection(&report, 0);
    assert_eq!(
        c["handshake"], "ok",
        "verification comes after the handshake: {c}"
    );
    // `false` after the client's FIN; `null` when its close was an RST (TLS 1.3 tickets
    // the client never read make Linux reset): never `true`.
    assert_ne!(
        c["close_notify"], true,
        "no close_notify after a failed check: {c}"
    );
}

/// A self-signed leaf nobody trusts.
pub async fn x_tls_verify_self_signed<H: Harness>(t: Case<H>) {
    let text = "18: self-signed certificate";
    verify_fails(&t, "self_test_local", trusting_ca, verified(), text).await;
}

/// A leaf for another name.
pub async fn x_tls_verify_wrong_host<H: Harness>(t: Case<H>) {
    let text = "certificate host mismatch";
    verify_fails(&t, "ca_other", trusting_ca, verified(), text).await;
}

/// A CA-signed leaf with the CA not trusted: the default store (Mozilla's roots) does not
/// know the test CA.
pub async fn x_tls_verify_unknown_ca<H: Harness>(t: Case<H>) {
    let text = "20: unable to get local issuer certificate";
    verify_fails(&t, "ca_test_local", |_| {}, verified(), text).await;
}

/// A CA-signed leaf that expired in 2020.
pub async fn x_tls_verify_expired<H: Harness>(t: Case<H>) {
    let text = "10: certificate has expired";
    verify_fails(&t, "expired", trusting_ca, verified(), text).await;
}

/// A custom trusted store per handshake overrides the context's (which trusts nothing
/// here); without a name only the chain is checked; opting out accepts anything.
pub async fn x_tls_custom_trust<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(
        json!({"type": "tls", "cert": "ca_other", "steps": []}),
    ));
    let cx = t.cx_with(|d| d.tls.trusted = TrustStore::empty());
    let cases = [
        (
            TlsOptions::new()
                .trust(ca_store())
                .server_name("other.local"),
            "(<session>)",
        ),
        (TlsOptions::new().trust(ca_store()), "(<session>)"),
        (
            TlsOptions::new().server_name("other.local"),
            r#"(nil,"20: unable to get local issuer certificate")"#,
        ),
        (unverified().server_name("wrong.name"), "(<session>)"),
    ];
    for (options, expected) in cases {
        let mut s = cx.stream();
        tcp_to(&mut s, &mut peer).await;
        expect_handshake("handshake", &s.ssl_handshake(&options).await, expected);
    }
    drop(finish(peer));
}

/// Mutual TLS: the client certificate of the socket (`set_client_cert`) is sent and
/// verified; without one, or with one the server does not trust, the handshake fails.
pub async fn x_tls_mutual<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "tls_max": "1.2",
        "require_client_cert": true, "steps": [
        {"expect_recv": {"until": "\n"}}, {"send": "pong\r\n"}
    ]})));
    let cx = t.cx_with(trusting_ca);
    let mut a = cx.stream();
    a.set_client_cert(Some(client_cert("client")));
    tcp_to(&mut a, &mut peer).await;
    expect_handshake(
        "with a certificate",
        &a.ssl_handshake(&verified()).await,
        "(<session>)",
    );
    expect("send", &a.send("ping\n").await, "(5)");
    expect("line", &a.receive_line().await, r#"("pong")"#);
    let mut b = cx.stream();
    tcp_to(&mut b, &mut peer).await;
    expect_handshake(
        "without",
        &b.ssl_handshake(&verified()).await,
        r#"(nil,"handshake failed")"#,
    );
    expect("send", &b.send("x").await, r#"(nil,"closed")"#);
    let mut c = cx.stream();
    tcp_to(&mut c, &mut peer).await;
    let rogue = verified().client_cert(client_cert("client_self"));
    expect_handshake(
        "untrusted",
        &c.ssl_handshake(&rogue).await,
        r#"(nil,"handshake failed")"#,
    );
    drop((a, b, c));
    let report = finish(peer).to_json();
    assert_eq!(connection(&report, 0)["client_cert"], "oracle-client");
    assert_eq!(connection(&report, 1)["handshake"], "failed");
    assert_eq!(connection(&report, 2)["handshake"], "failed");
}

/// Resumption that really resumed (the server says so), TLS 1.2 and TLS 1.3; and a
/// second handshake on a TLS connection returns at once.
pub async fn x_tls_resumption<H: Harness>(t: Case<H>) {
    for (max, version) in [("1.2", "TLSv1.2"), ("1.3", "TLSv1.3")] {
        let mut peer = start(spec(json!({"type": "tls", "tls_max": max, "steps": [
            {"expect_recv": {"until": "\n"}}, {"send": "pong\r\n"}
        ]})));
        let cx = t.cx_with(trusting_ca);
        let mut a = cx.stream();
        tcp_to(&mut a, &mut peer).await;
        let session = a
            .ssl_handshake(&verified())
            .await
            .expect("handshake")
            .expect("a session");
        // TLS 1.3 tickets come after the handshake: a read takes them in.
        expect("send", &a.send("ping\n").await, "(5)");
        expect("line", &a.receive_line().await, r#"("pong")"#);
        assert!(session.is_resumable(), "{version}: {session:?}");
        // A second handshake: at once, the offered session or the connection's.
        let started = Instant::now();
        let again = a.ssl_handshake(&verified().no_session()).await;
        expect_handshake("again", &again, "(nil)");
        let again = a
            .ssl_handshake(&unverified().session(session.clone()))
            .await;
        assert_eq!(again.expect("again").as_ref(), Some(&session));
        // No round trip: well under the peer's handshake time even on a loaded machine.
        assert!(started.elapsed() < Duration::from_millis(300));
        expect("close", &a.close(), "(1)");

        let mut b = cx.stream();
        tcp_to(&mut b, &mut peer).await;
        let resumed = b.ssl_handshake(&verified().session(session)).await;
        expect_handshake("resumed", &resumed, "(<session>)");
        let info = b.tls_info().expect("TLS");
        assert!(info.resumed, "{version}: {info:?}");
        assert_eq!(info.version, version);
        expect("send", &b.send("ping\n").await, "(5)");
        expect("line", &b.receive_line().await, r#"("pong")"#);
        drop((a, b));
        let report = finish(peer).to_json();
        assert_eq!(connection(&report, 0)["resumed"], false);
        assert_eq!(
            connection(&report, 1)["resumed"],
            true,
            "{version}: {report}"
        );
    }
}

/// The context's session cache resumes with no session passed around.
pub async fn x_tls_session_cache<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "tls_max": "1.2", "steps": []})));
    let cx = t.cx_with(|d| {
        trusting_ca(d);
        d.tls.session_cache = 16;
    });
    for _ in 0..2 {
        let mut s = cx.stream();
        tcp_to(&mut s, &mut peer).await;
        expect_handshake(
            "handshake",
            &s.ssl_handshake(&verified()).await,
            "(<session>)",
        );
        expect("close", &s.close(), "(1)");
    }
    let report = finish(peer).to_json();
    assert_eq!(connection(&report, 0)["resumed"], false);
    assert_eq!(connection(&report, 1)["resumed"], true);
}

/// The handshake is bounded by the connect timeout (not the read timeout) against a
/// peer that never answers; the connection is closed.
pub async fn x_tls_handshake_timeout<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tcp", "log_recv": false, "steps": []})));
    let mut s = t.stream();
    s.set_timeouts(
        Duration::from_millis(100),
        Duration::from_secs(2),
        Duration::from_secs(2),
    );
    tcp_to(&mut s, &mut peer).await;
    let started = Instant::now();
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&unverified()).await,
        r#"(nil,"timeout")"#,
    );
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(90) && waited < Duration::from_millis(1000));
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    drop(finish(peer));
}

/// A plain TCP peer answering the ClientHello with HTTP: `handshake failed`, closed.
pub async fn x_tls_plain_peer<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tcp", "log_recv": false, "steps": [
        {"expect_recv": 1}, {"send": "HTTP/1.1 400 Bad Request\r\n\r\n"}, {"close": true}
    ]})));
    let mut s = t.stream();
    tcp_to(&mut s, &mut peer).await;
    let result = s.ssl_handshake(&unverified()).await;
    expect_handshake("handshake", &result, r#"(nil,"handshake failed")"#);
    assert_eq!(result.expect_err("failed").kind(), ErrorKind::Handshake);
    expect("send", &s.send("x").await, r#"(nil,"closed")"#);
    expect("close", &s.close(), r#"(nil,"closed")"#);
    drop(finish(peer));
}

/// `closed` without a connection: never connected, closed, pooled; an empty server name
/// fails before any traffic and leaves the connection open.
pub async fn x_tls_closed_and_bad_name<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"expect_recv": {"until": "\n"}}, {"send": "ok\n"}
    ]})));
    let cx = t.cx();
    let mut never = cx.stream();
    expect_handshake(
        "never",
        &never.ssl_handshake(&unverified()).await,
        r#"(nil,"closed")"#,
    );
    let mut s = cx.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "empty name",
        &s.ssl_handshake(&unverified().server_name("")).await,
        r#"(nil,"SSL_set_tlsext_host_name failed")"#,
    );
    expect_handshake("then", &s.ssl_handshake(&unverified()).await, "(<session>)");
    expect("send", &s.send("hi\n").await, "(3)");
    expect("line", &s.receive_line().await, r#"("ok")"#);
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
    expect_handshake(
        "pooled",
        &s.ssl_handshake(&unverified()).await,
        r#"(nil,"closed")"#,
    );
    drop(finish(peer));
}

/// A pooled TLS connection comes back handshaked: one TCP connection, reused once, no
/// new handshake; TLS 1.3 tickets that arrived after the handshake do not stop
/// `set_keepalive` (OpenResty's v0.10.28 fix).
pub async fn x_tls_pool_reuse<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "tickets": 2, "steps": [
        {"expect_recv": {"until": "\n"}}, {"send": "one\n"},
        {"expect_recv": {"until": "\n"}}, {"send": "two\n"}
    ]})));
    let cx = t.cx_with(trusting_ca);
    let mut a = cx.stream();
    tcp_to(&mut a, &mut peer).await;
    expect_handshake(
        "handshake",
        &a.ssl_handshake(&verified()).await,
        "(<session>)",
    );
    // The tickets arrive right after the handshake; nothing was read since.
    t.sleep_ms(50).await;
    expect(
        "keepalive after tickets",
        &a.set_keepalive(None, None),
        "(1)",
    );
    let mut b = cx.stream();
    tcp_to(&mut b, &mut peer).await;
    expect("reused", &b.reused_times(), "(1)");
    let started = Instant::now();
    expect_handshake("again", &b.ssl_handshake(&verified()).await, "(<session>)");
    assert!(started.elapsed() < Duration::from_millis(300));
    expect("send", &b.send("1\n").await, "(2)");
    expect("line", &b.receive_line().await, r#"("one")"#);
    expect("keepalive", &b.set_keepalive(None, None), "(1)");
    // Reused without calling ssl_handshake: still TLS.
    let mut c = cx.stream();
    tcp_to(&mut c, &mut peer).await;
    expect("reused", &c.reused_times(), "(2)");
    assert!(c.tls_info().is_some());
    expect("send", &c.send("2\n").await, "(2)");
    expect("line", &c.receive_line().await, r#"("two")"#);
    drop((a, b, c));
    let report = finish(peer).to_json();
    assert_eq!(
        report["connections"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(connection(&report, 0)["recv"], "1\n2\n");
}

/// The one-call form: connect and handshake together, the host as server name, and a
/// pool key that keeps TLS connections from plain connects and from differently
/// verified ones.
pub async fn x_tls_one_call_pool_key<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": []})));
    let crate::peer::Target::Tcp { port, .. } = peer.target("peer").expect("the target") else {
        panic!("a TCP target");
    };
    let cx = t.cx_with(|d| {
        trusting_ca(d);
        d.resolver = cosocket_core::Resolver::Runtime;
    });
    let tls = ConnectOptions::new().tls(unverified().server_name("test.local"));
    let mut a = cx.stream();
    a.connect("127.0.0.1", port, &tls)
        .await
        .expect("TLS connect");
    assert!(a.tls_info().is_some());
    expect("keepalive", &a.set_keepalive(None, None), "(1)");
    // A plain connect to the same address gets a new (plain) connection.
    let mut plain = cx.stream();
    plain
        .connect("127.0.0.1", port, &ConnectOptions::new())
        .await
        .expect("connect");
    expect("plain reused", &plain.reused_times(), "(0)");
    assert!(plain.tls_info().is_none());
    // A verifying connect is not handed the unverified connection.
    let mut checked = cx.stream();
    let verifying = ConnectOptions::new().tls(verified());
    checked
        .connect("127.0.0.1", port, &verifying)
        .await
        .expect("verified connect");
    expect("verified reused", &checked.reused_times(), "(0)");
    // The same TLS identity again gets the pooled one.
    let mut again = cx.stream();
    again
        .connect("127.0.0.1", port, &tls)
        .await
        .expect("TLS connect");
    expect("same identity reused", &again.reused_times(), "(1)");
    // A name connect with no server name: the host is the SNI (verification fails here,
    // `localhost` is not in the certificate, which proves the name was used).
    let mut named = cx.stream();
    let by_name = ConnectOptions::new().tls(TlsOptions::new());
    let e = named
        .connect("localhost", port, &by_name)
        .await
        .expect_err("host mismatch");
    assert_eq!(e.message(), "certificate host mismatch");
    drop((a, plain, checked, again, named));
    let report = finish(peer).to_json();
    let snis: Vec<&Value> = report["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| &c["sni"])
        .collect();
    assert!(snis.contains(&&json!("localhost")), "{report}");
}

/// Every reader over TLS with records split at odd places: several records in one TCP
/// segment, a line across records, a pattern across records, and the data of many small
/// records read by size and by `receive_any`.
pub async fn x_tls_readers_over_records<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"send_records": ["ab", "c\r\nde", "f\r\n", "12", "345", "6--b", "ound", "ary--", "tail"]},
        {"sleep_ms": 30},
        {"send_records": ["x", "y", "z"]},
        {"sleep_ms": 30},
        {"send": "end"}, {"close_notify": true}, {"close": true}
    ]})));
    let cx = t.cx_with(|d| d.buffer_size = NonZeroUsize::new(3).expect("3"));
    let mut s = cx.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    expect("line", &s.receive_line().await, r#"("abc")"#);
    expect("line", &s.receive_line().await, r#"("def")"#);
    expect("exact", &s.receive_exact(4).await, r#"("1234")"#);
    let mut until = Until::new("--boundary--").expect("a pattern");
    expect("until", &s.receive_until(&mut until).await, r#"("56")"#);
    expect("exact", &s.receive_exact(4).await, r#"("tail")"#);
    t.sleep_ms(60).await;
    expect("any", &s.receive_any(10).await, r#"("xyz")"#);
    expect("all", &s.receive_all().await, r#"("end")"#);
    expect("after", &s.receive_line().await, r#"(nil,"closed","")"#);
    drop(finish(peer));
}

/// A FIN without close_notify: the readers that fail at the end anyway give `closed`
/// with the partial (as OpenResty); `receive_all` refuses it as `truncated`.
pub async fn x_tls_truncated_end<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "connections": [
        [{"send": "abc"}, {"sleep_ms": 30}, {"close": true}],
        [{"send": "abc"}, {"sleep_ms": 30}, {"close": true}],
        [{"send": "abc"}, {"sleep_ms": 30}, {"close_notify": true}, {"close": true}]
    ]})));
    let cx = t.cx();
    let mut a = cx.stream();
    tcp_to(&mut a, &mut peer).await;
    expect_handshake(
        "handshake",
        &a.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    expect(
        "exact",
        &a.receive_exact(10).await,
        r#"(nil,"closed","abc")"#,
    );
    let mut b = cx.stream();
    tcp_to(&mut b, &mut peer).await;
    expect_handshake(
        "handshake",
        &b.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    let all = b.receive_all().await;
    expect("all", &all, r#"(nil,"truncated","abc")"#);
    assert_eq!(all.expect_err("truncated").kind(), ErrorKind::Truncated);
    let mut c = cx.stream();
    tcp_to(&mut c, &mut peer).await;
    expect_handshake(
        "handshake",
        &c.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    expect(
        "all with close_notify",
        &c.receive_all().await,
        r#"("abc")"#,
    );
    drop(finish(peer));
}

/// Dropping a receive over TLS loses no byte: what was decrypted stays buffered.
pub async fn x_tls_cancel_receive<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"send": "hello wor"}, {"sleep_ms": 400}, {"send": "ld\r\n"}, {"drain": true}
    ]})));
    let mut s = t.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    // Poll the line read until the first record was decrypted into the buffer, then drop it.
    t.sleep_ms(40).await;
    {
        let mut read = pin!(s.receive_line());
        let waker = futures::task::noop_waker();
        let mut cx = TaskContext::from_waker(&waker);
        for _ in 0..3 {
            assert!(read.as_mut().poll(&mut cx).is_pending());
        }
    }
    expect("line", &s.receive_line().await, r#"("hello world")"#);
    drop(finish(peer));
}

/// The halves over one TLS connection, full duplex in two tasks.
pub async fn x_tls_halves<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"send": "first\n"}, {"expect_recv": {"until": "done\n"}}, {"send": "last\n"}
    ]})));
    let mut s = t.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    let (mut r, mut w) = s.into_split();
    let reader = t.spawn(async move {
        let first = r.receive_line().await.expect("first");
        let last = r.receive_line().await.expect("last");
        (first, last)
    });
    let writer = t.spawn(async move {
        for chunk in ["a", "b", "done\n"] {
            w.send(chunk).await.expect("send");
        }
        w
    });
    let w = writer.await;
    let (first, last) = reader.await;
    assert_eq!((&first[..], &last[..]), (&b"first"[..], &b"last"[..]));
    drop(w);
    let report = finish(peer).to_json();
    assert_eq!(connection(&report, 0)["recv"], "abdone\n");
}

/// A large payload both ways (many records, partial writes under back-pressure).
pub async fn x_tls_bulk<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"expect_recv": 1_000_000}, {"send": "0123456789", "repeat": 100_000}
    ]})));
    let mut s = t.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    let payload = vec![b'x'; 1_000_000];
    expect("send", &s.send(&payload[..]).await, "(1000000)");
    let got = s.receive_exact(1_000_000).await.expect("1 MB");
    assert!(got.chunks(10).all(|c| c == b"0123456789"));
    drop(finish(peer));
}

/// ALPN: the protocol the server chose is readable after the handshake; none when the
/// server has none in common.
pub async fn x_tls_alpn<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(
        json!({"type": "tls", "alpn": ["h2", "http/1.1"], "steps": []}),
    ));
    let cx = t.cx();
    let mut a = cx.stream();
    tcp_to(&mut a, &mut peer).await;
    let offer = unverified().alpn(["http/1.1", "h2"]);
    expect_handshake("handshake", &a.ssl_handshake(&offer).await, "(<session>)");
    let alpn = a.tls_info().expect("TLS").alpn;
    assert_eq!(
        alpn.as_deref(),
        Some(&b"h2"[..]),
        "the server's preference wins"
    );
    let mut b = cx.stream();
    tcp_to(&mut b, &mut peer).await;
    expect_handshake(
        "no ALPN",
        &b.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    assert_eq!(b.tls_info().expect("TLS").alpn, None);
    drop((a, b));
    drop(finish(peer));
}

/// Garbage after the handshake (bytes that are no TLS record): the read fails with
/// `error` (kind `Tls`), keeps the bytes decrypted before it, and the read half is closed;
/// nothing panics.
pub async fn x_tls_garbage_after_handshake<H: Harness>(t: Case<H>) {
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"send": "ok\n"}, {"sleep_ms": 20}, {"send_raw": "\u{0}\u{ff}garbage that is no record\r\n"},
        {"drain": true}
    ]})));
    let mut s = t.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    expect("line", &s.receive_line().await, r#"("ok")"#);
    let result = s.receive_line().await;
    expect("garbage", &result, r#"(nil,"error","")"#);
    assert_eq!(result.expect_err("garbage").kind(), ErrorKind::Tls);
    expect("then", &s.receive_line().await, r#"(nil,"closed")"#);
    drop(finish(peer));
}

/// futures-io's traits over TLS: `futures::io::copy` both ways through the receive
/// buffer, and `close` sends close_notify before the FIN.
pub async fn x_tls_io_traits<H: Harness>(t: Case<H>) {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    let mut peer = start(spec(json!({"type": "tls", "steps": [
        {"expect_recv": {"until": "end\n"}}, {"send": "line one\nrest of it"},
        {"close_notify": true}, {"drain": true}
    ]})));
    let mut s = t.stream();
    tcp_to(&mut s, &mut peer).await;
    expect_handshake(
        "handshake",
        &s.ssl_handshake(&unverified()).await,
        "(<session>)",
    );
    let mut source = futures::io::Cursor::new(b"copied through TLS\nend\n".to_vec());
    let sent = futures::io::copy(&mut source, &mut s)
        .await
        .expect("copy out");
    assert_eq!(sent, 23);
    expect("line", &s.receive_line().await, r#"("line one")"#);
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)
        .await
        .expect("read to the close_notify");
    assert_eq!(rest, b"rest of it");
    AsyncWriteExt::close(&mut s)
        .await
        .expect("close_notify and FIN");
    let report = finish(peer).to_json();
    let c = connection(&report, 0);
    assert_eq!(c["recv"], "copied through TLS\nend\n");
    assert_eq!(c["close_notify"], true, "{c}");
}
