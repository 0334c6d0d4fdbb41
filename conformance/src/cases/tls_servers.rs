//! TLS against real servers that no code here wrote (feature `tls`): `openssl s_server`
//! and nginx with `ssl` ([`crate::servers`]), through the public traits only. Where the
//! scripted TLS peer checks the texts and corner cases, these check that the handshake,
//! verification, mutual TLS, resumption and the TLS pool interoperate with OpenSSL as
//! OpenResty's do; each server reports what it saw (s_server's status page, nginx's
//! access log), so both ends are checked.

use std::time::Duration;

use cosocket_core::tls::{TlsOptions, TlsVersions, TrustStore};
use cosocket_core::{
    ConnectOptions, Cosockets, StreamRead, StreamSock, StreamWrite, TcpSock, TlsSock, Until,
};

use super::wait_until;
use crate::Case;
use crate::harness::Harness;
use crate::render::expect;
use crate::servers::{Nginx, SERVER_NAME, SServer};

/// The suite's directives with 5 s timeouts: a handshake is bounded by the connect
/// timeout, and these cases share two cores with builds and the rest of the suite.
fn cx<H: Harness>(t: &Case<H>) -> H::Cx {
    t.cx_with(|d| {
        d.connect_timeout = Duration::from_secs(5);
        d.send_timeout = Duration::from_secs(5);
        d.read_timeout = Duration::from_secs(5);
    })
}

/// A plain TCP connect to 127.0.0.1:`port`.
async fn tcp<S: TcpSock>(s: &mut S, port: u16) {
    s.connect("127.0.0.1", port, &ConnectOptions::new())
        .await
        .expect("connect to the server");
}

/// The text of a failed call's error, or `"ok"`.
fn error_text<T>(result: &cosocket_core::Result<T>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.message().to_owned(),
    }
}

/// `GET /` to s_server `-www`: its status line and headers, then the page up to its end
/// (`</HTML>`, left out), read with `receive_until`.
async fn www_page<S: StreamSock>(s: &mut S) -> String {
    s.send(&("GET / HTTP/1.0\r\n", "Host: localhost\r\n\r\n"))
        .await
        .expect("send the request");
    expect(
        "status line",
        &s.receive_line().await,
        "(\"HTTP/1.0 200 ok\")",
    );
    expect(
        "header",
        &s.receive_line().await,
        "(\"Content-type: text/html\")",
    );
    expect("end of headers", &s.receive_line().await, "(\"\")");
    let mut end = Until::new("</HTML>").expect("a pattern");
    let page = s.receive_until(&mut end).await.expect("the page");
    String::from_utf8(page.to_vec()).expect("an ASCII page")
}

/// After the page s_server sends `\r\n\r\n` and closes the connection with close_notify:
/// the rest of the body, then `closed` as from a plain FIN. Then the socket is closed:
/// s_server serves one connection at a time and takes the next only once the client has
/// closed this one (it drains the connection until the client's FIN; Python's `ssl`
/// client sees the same), so a socket left open would stall the next handshake.
async fn www_end<S: StreamSock>(s: &mut S) {
    expect(
        "rest of the page",
        &s.receive_all().await,
        "(\"\\r\\n\\r\\n\")",
    );
    expect(
        "after close_notify",
        &s.receive_line().await,
        "(nil,\"closed\",\"\")",
    );
    expect("close", &s.close(), "(1)");
}

/// A verified handshake and a GET against s_server offering only `versions`.
async fn verified_get<H: Harness>(t: &Case<H>, versions: TlsVersions, version: &str) {
    let server = SServer::start(versions, false);
    let cx = cx(t);
    let mut s = cx.stream();
    tcp(&mut s, server.port()).await;
    assert_eq!(s.tls_info(), None, "no TLS before the handshake");
    let session = s
        .ssl_handshake(&server.pki().verified())
        .await
        .unwrap_or_else(|e| panic!("handshake: {e}\n{}", server.log()));
    assert!(session.is_some(), "the handshake returns a session");
    let info = s.tls_info().expect("TLS after the handshake");
    assert_eq!(info.version, version);
    assert!(!info.resumed, "a first handshake is full");
    assert_ne!(info.cipher_suite, "unknown");
    assert_eq!(info.alpn, None, "no ALPN was offered");
    let page = www_page(&mut s).await;
    assert!(
        page.contains(&format!("\nNew, {version}, Cipher is ")),
        "s_server saw a full {version} handshake:\n{page}"
    );
    assert!(page.contains(&format!("Protocol  : {version}")), "{page}");
    assert!(page.contains("no client certificate available"), "{page}");
    www_end(&mut s).await;
}

/// s_server `-tls1_2`: a verified handshake (the test CA, `localhost`), `GET /`, the
/// status line by `receive_line` and the page by `receive_until`; TLS 1.2 negotiated.
pub async fn x_tls_openssl_tls12_verified_get<H: Harness>(t: Case<H>) {
    verified_get(&t, TlsVersions::TLS12, "TLSv1.2").await;
}

/// The same against s_server `-tls1_3`.
pub async fn x_tls_openssl_tls13_verified_get<H: Harness>(t: Case<H>) {
    verified_get(&t, TlsVersions::TLS13, "TLSv1.3").await;
}

/// A client offering only TLS 1.3 to s_server `-tls1_2` (and the reverse): `handshake
/// failed`, and the connection is closed.
pub async fn x_tls_openssl_version_mismatch<H: Harness>(t: Case<H>) {
    for (server_offers, client_offers) in [
        (TlsVersions::TLS12, TlsVersions::TLS13),
        (TlsVersions::TLS13, TlsVersions::TLS12),
    ] {
        let server = SServer::start(server_offers, false);
        let cx = cx(&t);
        let mut s = cx.stream();
        tcp(&mut s, server.port()).await;
        let opts = server.pki().verified().versions(client_offers);
        let result = s.ssl_handshake(&opts).await;
        assert_eq!(error_text(&result), "handshake failed", "{server_offers:?}");
        assert_eq!(s.tls_info(), None);
        expect(
            "send after",
            &s.send(b"GET / HTTP/1.0\r\n\r\n").await,
            "(nil,\"closed\")",
        );
    }
}

/// Verification failures against s_server, with OpenSSL's texts: a chain the trust store
/// does not reach (the default Mozilla roots, or an empty store) is `20: unable to get
/// local issuer certificate`; a name the certificate is not for is `certificate host
/// mismatch`. Each closes the connection: `send` then gives `closed`. The same server
/// with the CA trusted and no verification both work.
pub async fn x_tls_openssl_verify_failures<H: Harness>(t: Case<H>) {
    let server = SServer::start(TlsVersions::ALL, false);
    let pki = server.pki();
    let failures = [
        // The context's default store: webpki-roots, which does not hold the test CA.
        (
            "default roots",
            TlsOptions::new().server_name(SERVER_NAME),
            "20: unable to get local issuer certificate",
        ),
        (
            "empty store",
            TlsOptions::new()
                .server_name(SERVER_NAME)
                .trust(TrustStore::empty()),
            "20: unable to get local issuer certificate",
        ),
        (
            "wrong name",
            TlsOptions::new()
                .server_name("wrong.example")
                .trust(pki.trust()),
            "certificate host mismatch",
        ),
        (
            "an IP address for a DNS-name certificate",
            TlsOptions::new()
                .server_name("127.0.0.1")
                .trust(pki.trust()),
            "certificate host mismatch",
        ),
    ];
    let cx = cx(&t);
    for (what, opts, text) in failures {
        let mut s = cx.stream();
        tcp(&mut s, server.port()).await;
        let result = s.ssl_handshake(&opts).await;
        assert_eq!(error_text(&result), text, "{what}");
        assert_eq!(s.tls_info(), None, "{what}: no TLS after a failed verify");
        expect(
            &format!("{what}: send"),
            &s.send(b"GET / HTTP/1.0\r\n\r\n").await,
            "(nil,\"closed\")",
        );
        expect(
            &format!("{what}: receive"),
            &s.receive_line().await,
            "(nil,\"closed\")",
        );
    }

    // Without a name only the chain is verified; without verification nothing is.
    for (what, opts) in [
        ("chain only", TlsOptions::new().trust(pki.trust())),
        (
            "no verification",
            TlsOptions::new().dangerous_skip_verification(),
        ),
    ] {
        let mut s = cx.stream();
        tcp(&mut s, server.port()).await;
        s.ssl_handshake(&opts)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let page = www_page(&mut s).await;
        assert!(page.contains("\nNew, TLSv1.3, "), "{what}:\n{page}");
        www_end(&mut s).await;
    }
}

/// s_server `-Verify 1 -CAfile ca.pem` (mutual TLS): a client certificate the CA signed,
/// given per handshake (`TlsOptions::client_cert`) or per socket (`set_client_cert`),
/// is accepted and shown on the page; without one the server refuses the client.
pub async fn x_tls_openssl_mutual_tls<H: Harness>(t: Case<H>) {
    let server = SServer::start(TlsVersions::ALL, true);
    let pki = server.pki();
    let cx = cx(&t);

    for version in [TlsVersions::TLS12, TlsVersions::TLS13] {
        // Per handshake.
        let mut s = cx.stream();
        tcp(&mut s, server.port()).await;
        let opts = pki
            .verified()
            .versions(version)
            .client_cert(pki.client_cert());
        s.ssl_handshake(&opts)
            .await
            .unwrap_or_else(|e| panic!("{version:?}: {e}\n{}", server.log()));
        let page = www_page(&mut s).await;
        assert!(
            page.contains("Client certificate") && page.contains("cosocket conformance client"),
            "{version:?}: s_server got the client certificate:\n{page}"
        );
        www_end(&mut s).await;

        // Per socket, kept across connects.
        let mut s = cx.stream();
        s.set_client_cert(Some(pki.client_cert()));
        for round in 0..2 {
            tcp(&mut s, server.port()).await;
            s.ssl_handshake(&pki.verified().versions(version))
                .await
                .unwrap_or_else(|e| panic!("{version:?} round {round}: {e}\n{}", server.log()));
            let page = www_page(&mut s).await;
            assert!(page.contains("cosocket conformance client"), "{page}");
            www_end(&mut s).await;
        }
    }

    // TLS 1.2: the server asks for the certificate before its Finished, so the refusal
    // (an alert instead of the server's Finished) fails the handshake itself.
    let mut s = cx.stream();
    tcp(&mut s, server.port()).await;
    let result = s
        .ssl_handshake(&pki.verified().versions(TlsVersions::TLS12))
        .await;
    assert_eq!(
        error_text(&result),
        "handshake failed",
        "TLS 1.2 without a certificate"
    );
    assert_eq!(s.tls_info(), None);
    expect("send after", &s.send(b"x").await, "(nil,\"closed\")");

    // TLS 1.3: the client's handshake is complete once it has sent its (empty)
    // Certificate and its Finished, before the server has looked at them; the server's
    // refusal (a `certificate_required` alert) arrives after, so the handshake succeeds
    // and the first read fails with `error` (a fatal alert after the handshake,
    // docs/semantics.md §8.5); nothing needs to be sent, the alert comes unasked.
    let mut s = cx.stream();
    tcp(&mut s, server.port()).await;
    let result = s
        .ssl_handshake(&pki.verified().versions(TlsVersions::TLS13))
        .await;
    assert_eq!(error_text(&result), "ok", "TLS 1.3 without a certificate");
    assert_eq!(s.tls_info().map(|i| i.version), Some("TLSv1.3"));
    expect(
        "first read",
        &s.receive_line().await,
        "(nil,\"error\",\"\")",
    );
    // The read half is closed by the failure.
    expect("second read", &s.receive_line().await, "(nil,\"closed\")");
    // The write side fails too. Its text is not checked: core gives rustls's own
    // (`received fatal alert: certificaterequired`, kind `Os`) where OpenResty's failed
    // SSL write gives `error`, as the failed read here does.
    let sent = s.send(b"GET / HTTP/1.0\r\n\r\n").await;
    assert!(sent.is_err(), "send after a fatal alert: {sent:?}");
}

/// A second handshake to s_server offering the first's session resumes it, on both
/// versions: `tls_info().resumed` and s_server's `Reused, …` agree.
async fn resumption<H: Harness>(t: &Case<H>, versions: TlsVersions, version: &str) {
    let server = SServer::start(versions, false);
    let opts = server.pki().verified();
    let cx = cx(t);

    let mut s = cx.stream();
    tcp(&mut s, server.port()).await;
    let session = s
        .ssl_handshake(&opts)
        .await
        .expect("the first handshake")
        .expect("a session");
    // TLS 1.3 tickets come after the handshake: reading the page processes them.
    let page = www_page(&mut s).await;
    assert!(page.contains(&format!("\nNew, {version}, ")), "{page}");
    www_end(&mut s).await;
    assert!(session.is_resumable(), "{session:?}");

    for round in 2..=3 {
        let mut s = cx.stream();
        tcp(&mut s, server.port()).await;
        let offered = opts.clone().session(session.clone());
        s.ssl_handshake(&offered)
            .await
            .unwrap_or_else(|e| panic!("handshake {round}: {e}"));
        let info = s.tls_info().expect("TLS");
        assert_eq!(info.version, version);
        assert!(
            info.resumed,
            "handshake {round} resumed the first's session"
        );
        let page = www_page(&mut s).await;
        assert!(
            page.contains(&format!("\nReused, {version}, ")),
            "s_server resumed ({round}):\n{page}"
        );
        www_end(&mut s).await;
    }
}

/// Resumption with a TLS 1.2 session (s_server `-tls1_2`): it resumes any number of times.
pub async fn x_tls_openssl_resumption_tls12<H: Harness>(t: Case<H>) {
    resumption(&t, TlsVersions::TLS12, "TLSv1.2").await;
}

/// Resumption with TLS 1.3 tickets (s_server `-tls1_3` sends two after the handshake;
/// each resumes once, so the session resumes twice).
pub async fn x_tls_openssl_resumption_tls13<H: Harness>(t: Case<H>) {
    resumption(&t, TlsVersions::TLS13, "TLSv1.3").await;
}

/// An HTTP/1.1 response head: the status line and the headers (names lowercased).
async fn response_head<S: StreamSock>(s: &mut S) -> (String, Vec<(String, String)>) {
    let status = s.receive_line().await.expect("the status line");
    let mut headers = Vec::new();
    loop {
        let line = s.receive_line().await.expect("a header line");
        if line.is_empty() {
            break;
        }
        let line = String::from_utf8(line.to_vec()).expect("an ASCII header");
        let (name, value) = line.split_once(':').expect("a header");
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    (String::from_utf8(status.to_vec()).expect("ASCII"), headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `GET path` (HTTP/1.1, keepalive) and its `Content-Length` body by `receive_exact`.
async fn get_exact<S: StreamSock>(s: &mut S, path: &str) -> Vec<u8> {
    s.send(&[
        "GET ",
        path,
        " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: cosocket\r\n\r\n",
    ])
    .await
    .expect("send the request");
    let (status, headers) = response_head(s).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{path}: {headers:?}");
    assert_eq!(
        header(&headers, "connection"),
        Some("keep-alive"),
        "{headers:?}"
    );
    let length: usize = header(&headers, "content-length")
        .expect("Content-Length")
        .parse()
        .expect("a length");
    s.receive_exact(length).await.expect("the body").to_vec()
}

/// nginx, the one-call form (`ConnectOptions::tls`): two keepalive GETs on one TLS
/// connection (`Content-Length` bodies by `receive_exact`), `set_keepalive`, and a
/// second connect with the same options gets that connection back from the pool
/// (`reused_times() == 1`) with no new handshake: nginx's access log shows all three
/// requests on one connection, numbered 1, 2, 3.
pub async fn x_tls_nginx_keepalive_and_pool<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let opts = ConnectOptions::new().tls(nginx.pki().verified());
    let cx = cx(&t);

    let mut s = cx.stream();
    s.connect("127.0.0.1", nginx.port(), &opts)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}\n{}", nginx.error_log()));
    expect("reused", &s.reused_times(), "(0)");
    assert_eq!(s.tls_info().map(|i| i.version), Some("TLSv1.3"));
    for _ in 0..2 {
        assert_eq!(get_exact(&mut s, Nginx::SMALL).await, Nginx::small_body());
    }
    expect("set_keepalive", &s.set_keepalive(None, None), "(1)");

    let mut s = cx.stream();
    s.connect("127.0.0.1", nginx.port(), &opts)
        .await
        .expect("connect from the pool");
    expect("reused", &s.reused_times(), "(1)");
    let info = s.tls_info().expect("the pooled connection is TLS");
    assert!(!info.resumed);
    assert_eq!(get_exact(&mut s, Nginx::SMALL).await, Nginx::small_body());
    expect("close", &s.close(), "(1)");

    // nginx writes a request's line after sending its response.
    wait_until(&t, "nginx logged three requests", || {
        nginx.access_log().len() == 3
    })
    .await;
    let log = nginx.access_log();
    let connection = log[0].connection;
    for (i, line) in log.iter().enumerate() {
        assert_eq!(line.connection, connection, "one connection: {log:?}");
        assert_eq!(line.requests, i as u64 + 1, "{log:?}");
        assert_eq!(line.status, 200);
        assert_eq!(line.protocol, "TLSv1.3");
        assert!(!line.reused);
        assert_eq!(line.request, "GET /small.txt HTTP/1.1");
    }
}

/// nginx: a 1 MiB `Content-Length` body byte-exact, then a chunked response (SSI) decoded
/// with `receive_line` and `receive_exact`, on one keepalive TLS connection, on TLS 1.2
/// and TLS 1.3.
pub async fn x_tls_nginx_large_and_chunked_bodies<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = cx(&t);
    for (versions, version) in [
        (TlsVersions::TLS12, "TLSv1.2"),
        (TlsVersions::TLS13, "TLSv1.3"),
    ] {
        let mut s = cx.stream();
        let opts = ConnectOptions::new().tls(nginx.pki().verified().versions(versions));
        s.connect("127.0.0.1", nginx.port(), &opts)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}\n{}", nginx.error_log()));
        assert_eq!(s.tls_info().map(|i| i.version), Some(version));
        let body = get_exact(&mut s, Nginx::LARGE).await;
        assert!(
            body == Nginx::large_body(),
            "{version}: the 1 MiB body differs"
        );

        s.send(&["GET ", Nginx::SSI, " HTTP/1.1\r\nHost: localhost\r\n\r\n"])
            .await
            .expect("send");
        let (status, headers) = response_head(&mut s).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(
            header(&headers, "transfer-encoding"),
            Some("chunked"),
            "{headers:?}"
        );
        assert_eq!(header(&headers, "content-length"), None);
        let mut decoded = Vec::new();
        loop {
            let size = s.receive_line().await.expect("a chunk size");
            let size = usize::from_str_radix(std::str::from_utf8(&size).expect("hex"), 16)
                .expect("a hex chunk size");
            if size == 0 {
                expect("end of the trailer", &s.receive_line().await, "(\"\")");
                break;
            }
            decoded.extend_from_slice(&s.receive_exact(size).await.expect("a chunk"));
            expect("chunk end", &s.receive_line().await, "(\"\")");
        }
        assert_eq!(
            String::from_utf8(decoded).expect("text"),
            Nginx::ssi_body(version)
        );
        // The connection is still good for another request.
        assert_eq!(get_exact(&mut s, Nginx::SMALL).await, Nginx::small_body());
        expect("close", &s.close(), "(1)");
    }
}

/// nginx: the one-call form's pool key holds the TLS identity. After a TLS connection is
/// pooled, a plain connect to the same host and port opens a new (plain) connection,
/// which nginx answers with its "plain HTTP request was sent to HTTPS port" 400; a TLS
/// connect with another identity (no verification) opens a new one too; the TLS connect
/// with the first identity still gets the pooled connection.
pub async fn x_tls_nginx_pool_key_separates_tls_and_plain<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let tls = ConnectOptions::new().tls(nginx.pki().verified());
    let cx = cx(&t);

    let mut s = cx.stream();
    s.connect("127.0.0.1", nginx.port(), &tls)
        .await
        .expect("connect");
    assert_eq!(get_exact(&mut s, Nginx::SMALL).await, Nginx::small_body());
    expect("set_keepalive", &s.set_keepalive(None, None), "(1)");

    let mut plain = cx.stream();
    plain
        .connect("127.0.0.1", nginx.port(), &ConnectOptions::new())
        .await
        .expect("plain connect");
    expect("plain reused", &plain.reused_times(), "(0)");
    assert_eq!(
        plain.tls_info(),
        None,
        "the plain connect got no TLS connection"
    );
    plain
        .send(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("send in plain text");
    expect(
        "plain status",
        &plain.receive_line().await,
        "(\"HTTP/1.1 400 Bad Request\")",
    );
    expect("close", &plain.close(), "(1)");

    let other = ConnectOptions::new().tls(TlsOptions::new().dangerous_skip_verification());
    let mut s = cx.stream();
    s.connect("127.0.0.1", nginx.port(), &other)
        .await
        .expect("connect");
    expect("another identity reused", &s.reused_times(), "(0)");
    assert!(s.tls_info().is_some());
    expect("close", &s.close(), "(1)");

    let mut s = cx.stream();
    s.connect("127.0.0.1", nginx.port(), &tls)
        .await
        .expect("connect");
    expect("same identity reused", &s.reused_times(), "(1)");
    assert_eq!(get_exact(&mut s, Nginx::SMALL).await, Nginx::small_body());
    expect("close", &s.close(), "(1)");
}

/// nginx: a TLS 1.3 connection pooled before any request, with nginx's session tickets
/// arrived and unread, is pooled (tickets are handshake messages, not `unread data in
/// buffer`: OpenResty v0.10.28's fix) and serves the next connect with the same options.
pub async fn x_tls_nginx_pooled_with_tickets_unread<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let tls = ConnectOptions::new().tls(nginx.pki().verified());
    let cx = cx(&t);

    let mut s = cx.stream();
    s.connect("127.0.0.1", nginx.port(), &tls)
        .await
        .expect("connect");
    assert_eq!(s.tls_info().map(|i| i.version), Some("TLSv1.3"));
    // nginx sends its tickets right after the handshake; let them arrive.
    t.sleep_ms(100).await;
    expect("set_keepalive", &s.set_keepalive(None, None), "(1)");

    let mut s = cx.stream();
    s.connect("127.0.0.1", nginx.port(), &tls)
        .await
        .expect("connect");
    expect("reused", &s.reused_times(), "(1)");
    assert_eq!(get_exact(&mut s, Nginx::SMALL).await, Nginx::small_body());
    expect("close", &s.close(), "(1)");
    wait_until(&t, "nginx logged the request", || {
        nginx.access_log().len() == 1
    })
    .await;
    assert_eq!(
        nginx.access_log()[0].requests,
        1,
        "the first request of its connection"
    );
}
