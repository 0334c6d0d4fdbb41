//! Keepalive through the pool, `Connection: close`, statuses, HTTPS.

use cosocket_conformance::servers::Nginx;
use cosocket_conformance::{Case, Harness};
use cosocket_http::{Error, Http, Request};

use super::{config, fake_server, idle, url, write};

pub(crate) async fn content_length_body_and_keepalive<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let http = Http::new(cx.clone(), config());
    for _ in 0..3 {
        let response = http.get(&url(&nginx, Nginx::SMALL)).await.unwrap();
        assert_eq!((response.status(), response.reason()), (200, "OK"));
        assert_eq!(response.header("Content-Length"), Some("100"));
        assert_eq!(response.header("content-type"), Some("text/plain"));
        assert!(response.is_reusable());
        assert_eq!(response.bytes().await.unwrap(), Nginx::small_body());
        assert_eq!(idle(&cx, nginx.plain_port()), 1);
    }
    // nginx saw one connection carry the three requests.
    let log = super::access_log(&t, &nginx, 3).await;
    assert!(log.iter().all(|l| l.connection == log[0].connection));
    assert_eq!(
        log.iter().map(|l| l.requests).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(log[0].request, "GET /small.txt HTTP/1.1");
}

pub(crate) async fn connection_close_is_honoured<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let http = Http::new(cx.clone(), config());
    // The server says `Connection: close`.
    let path = format!("{}{}", Nginx::CLOSE, Nginx::SMALL);
    for _ in 0..2 {
        let response = http.get(&url(&nginx, &path)).await.unwrap();
        assert_eq!(response.header("connection"), Some("close"));
        assert!(!response.is_reusable());
        assert_eq!(response.bytes().await.unwrap(), Nginx::small_body());
        assert_eq!(idle(&cx, nginx.plain_port()), 0);
    }
    // The client says it.
    let request = Request::get(&url(&nginx, Nginx::SMALL))
        .unwrap()
        .header("Connection", "close")
        .unwrap();
    let response = http.send(&request).await.unwrap();
    assert!(!response.is_reusable());
    assert_eq!(response.bytes().await.unwrap(), Nginx::small_body());
    assert_eq!(idle(&cx, nginx.plain_port()), 0);
    // Three connections, one request each.
    let log = super::access_log(&t, &nginx, 3).await;
    assert!(log.iter().all(|l| l.requests == 1));
    assert!(log[0].connection != log[1].connection && log[1].connection != log[2].connection);
}

pub(crate) async fn head_statuses_and_errors_as_values<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let http = Http::new(cx.clone(), config());
    // HEAD: the length of a body that is not sent.
    let head = http
        .send(&Request::head(&url(&nginx, Nginx::LARGE)).unwrap())
        .await
        .unwrap();
    assert_eq!(head.header("content-length"), Some("1048576"));
    assert_eq!(idle(&cx, nginx.plain_port()), 1, "pooled at once: no body");
    assert_eq!(head.bytes().await.unwrap().len(), 0);
    // 4xx and 5xx: responses with bodies, and typed errors on demand.
    let missing = http.get(&url(&nginx, "/missing")).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(matches!(
        missing.error_for_status(),
        Err(Error::Status { status: 404, .. })
    ));
    let failed = http.get(&url(&nginx, "/500")).await.unwrap();
    // nginx ends keepalive after a 500: its `Connection: close` is honoured.
    assert_eq!(failed.header("connection"), Some("close"));
    assert!(!failed.is_reusable());
    let err = failed.error_for_status().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                status: 500..=599,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "HTTP status 500 Internal Server Error");
    let mut ok = http.get(&url(&nginx, Nginx::SMALL)).await.unwrap();
    ok.drain().await.unwrap();
    let redirect = http.get(&url(&nginx, "/redirect")).await.unwrap();
    assert_eq!(redirect.status(), 302);
    assert!(redirect.header("location").unwrap().ends_with(Nginx::SMALL));
    redirect.bytes().await.unwrap();
    // A POST's body goes out with its length; nginx refuses POST on a static file.
    let body = vec![b'p'; 100_000];
    let post = Request::post(&url(&nginx, Nginx::SMALL), &body).unwrap();
    let response = http.send(&post).await.unwrap();
    assert_eq!(response.status(), 405);
    response.bytes().await.unwrap();
    // HEAD and the 404 shared a connection; the 404 dropped with its body unread closed
    // it; nginx closed the 500's; the last three shared one.
    let log = super::access_log(&t, &nginx, 6).await;
    assert_eq!(
        log.iter().map(|l| l.status).collect::<Vec<_>>(),
        [200, 404, 500, 200, 302, 405]
    );
    let conns: Vec<u64> = log.iter().map(|l| l.connection).collect();
    assert_eq!(conns[0], conns[1]);
    assert!(conns[2] != conns[1] && conns[3] != conns[2]);
    assert_eq!((conns[3], conns[3]), (conns[4], conns[5]));
}

pub(crate) async fn https_verified_chunked_and_pooled<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let http = Http::new(cx.clone(), config().tls(nginx.pki().verified()));
    let base = format!("https://127.0.0.1:{}", nginx.port());
    let small = http.get(&format!("{base}{}", Nginx::SMALL)).await.unwrap();
    assert_eq!(small.bytes().await.unwrap(), Nginx::small_body());
    let page = http.get(&format!("{base}{}", Nginx::SSI)).await.unwrap();
    assert!(page.is_chunked());
    let text = page.text().await.unwrap();
    assert!(text == Nginx::ssi_body("TLSv1.3"), "{text:?}");
    let large = http.get(&format!("{base}{}", Nginx::LARGE)).await.unwrap();
    assert!(large.bytes().await.unwrap() == Nginx::large_body());
    let log = super::access_log(&t, &nginx, 3).await;
    assert!(
        log.iter()
            .all(|l| l.connection == log[0].connection && l.protocol == "TLSv1.3")
    );
    // An https client that does not trust the test CA fails verification.
    let strict = Http::new(cx, config());
    let err = strict
        .get(&format!("{base}{}", Nginx::SMALL))
        .await
        .unwrap_err();
    assert_eq!(
        err.as_transport().map(|e| e.kind()),
        Some(cosocket::ErrorKind::Verify),
        "{err:?}"
    );
    // Plain HTTP to the TLS port: nginx answers 400 in plain text.
    let plain = Http::new(t.cx(), config());
    let response = plain
        .get(&format!("http://127.0.0.1:{}/", nginx.port()))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

pub(crate) async fn stale_pooled_connection_is_retried_once<H: Harness>(t: Case<H>) {
    // The first connection answers one request, then reads the second and closes without
    // answering (a keepalive timeout racing the request); the second connection answers.
    let port = fake_server(2, |c, r, conn| {
        if c == 0 && r == 1 {
            return false;
        }
        write(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        true
    });
    let cx = t.cx();
    let http = Http::new(cx.clone(), config());
    let target = format!("http://127.0.0.1:{port}/");
    assert_eq!(http.get(&target).await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(idle(&cx, port), 1);
    assert_eq!(http.get(&target).await.unwrap().text().await.unwrap(), "ok");
    // A POST is not idempotent: it is not sent twice.
    let second = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = second.clone();
    let port = fake_server(2, move |c, r, conn| {
        if c == 0 && r == 1 {
            return false;
        }
        if c == 1 {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        write(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        true
    });
    let target = format!("http://127.0.0.1:{port}/");
    assert_eq!(http.get(&target).await.unwrap().text().await.unwrap(), "ok");
    let post = Request::post(&target, b"once").unwrap();
    let err = http.send(&post).await.unwrap_err();
    // The server closed with the request unread: an end of stream or a reset.
    let kind = err.as_transport().map(|e| e.kind());
    assert!(
        matches!(
            kind,
            Some(cosocket::ErrorKind::Eof | cosocket::ErrorKind::Reset)
        ),
        "{err:?}"
    );
    t.sleep_ms(50).await;
    assert_eq!(second.load(std::sync::atomic::Ordering::SeqCst), 0);
}
