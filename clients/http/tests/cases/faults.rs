//! Bad input, limits, broken servers, timeouts.

use std::time::Duration;

use cosocket::{Cosockets, Timeout};
use cosocket_conformance::servers::Nginx;
use cosocket_conformance::{Case, Harness};
use cosocket_http::{Error, Http, Limits, Request};

use super::{config, fake_server, idle, url, write};

pub(crate) async fn bad_input_is_refused_before_sending<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let http = Http::new(cx.clone(), config());
    let input = |r: cosocket_http::Result<_>| matches!(r, Err(Error::Input(_)));
    assert!(input(http.get("ftp://127.0.0.1/").await.map(|_| ())));
    assert!(input(http.get(&url(&nginx, "/a b")).await.map(|_| ())));
    assert!(input(Request::new("GE T", &url(&nginx, "/")).map(|_| ())));
    let r = Request::get(&url(&nginx, "/")).unwrap();
    assert!(input(
        r.clone().header("X-Evil", "1\r\nInjected: yes").map(|_| ())
    ));
    assert!(input(r.clone().header("Bad Name", "v").map(|_| ())));
    assert!(input(r.header("Content-Length", "5").map(|_| ())));
    // Nothing reached the server; no connection was made.
    assert!(nginx.access_log().is_empty());
    assert!(
        cx.pool_stats(&format!("127.0.0.1:{}", nginx.plain_port()))
            .is_none()
    );
}

pub(crate) async fn response_limits<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let limited = |limits: Limits| Http::new(cx.clone(), config().limits(limits));
    // A collected body over the limit fails from its Content-Length, before reading it.
    let http = limited(Limits {
        max_body: 1000,
        ..Limits::default()
    });
    let err = http
        .get(&url(&nginx, Nginx::LARGE))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    // A chunked one when the pieces pass it.
    let http = limited(Limits {
        max_body: 10,
        ..Limits::default()
    });
    let err = http
        .get(&url(&nginx, Nginx::SSI))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    // Too many header lines (nginx sends more than 3).
    let http = limited(Limits {
        max_headers: 3,
        ..Limits::default()
    });
    let err = http.get(&url(&nginx, Nginx::SMALL)).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    // A header line over the limit.
    let port = fake_server(1, |_, _, conn| {
        write(
            conn,
            format!("HTTP/1.1 200 OK\r\nX-Long: {}\r\n\r\n", "x".repeat(200)).as_bytes(),
        );
        false
    });
    let http = limited(Limits {
        max_line: 100,
        ..Limits::default()
    });
    let err = http
        .get(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    // None of those connections was pooled.
    assert_eq!(idle(&cx, nginx.plain_port()), 0);
    // A streamed body has no limit but its piece size.
    let http = limited(Limits {
        max_body: 10,
        chunk_size: std::num::NonZeroUsize::new(1000).unwrap(),
        ..Limits::default()
    });
    let mut response = http.get(&url(&nginx, Nginx::LARGE)).await.unwrap();
    let mut total = 0;
    while let Some(piece) = response.chunk().await.unwrap() {
        assert!(piece.len() <= 1000);
        total += piece.len();
    }
    assert_eq!(total, 1 << 20);
}

pub(crate) async fn malformed_responses_close<H: Harness>(t: Case<H>) {
    let cx = t.cx();
    let http = Http::new(cx.clone(), config());
    for (reply, expect) in [
        (
            &b"HTTP/1.1 2x0 OK\r\n\r\n"[..],
            "protocol error: bad status line \"HTTP/1.1 2x0 OK\"",
        ),
        (
            b"SPDY/3 200 OK\r\n\r\n",
            "protocol error: bad status line \"SPDY/3 200 OK\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\n folded\r\n\r\n",
            "protocol error: a folded header line",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
            "protocol error: conflicting Content-Length headers",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "protocol error: bad Content-Length \"-1\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "protocol error: bad chunk size \"zz\"",
        ),
        // Found by the `http_chunked` fuzz target: `+5` was read as 5 (RFC 9112 §7.1:
        // hex digits only).
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
            "protocol error: bad chunk size \"+5\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
            "protocol error: bad Content-Length \"+3\"",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
            "protocol error: chunk data not ended by CRLF",
        ),
        // The server closes 90 bytes early: the body's reader sees the end.
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
            "closed",
        ),
    ] {
        let port = fake_server(1, move |_, _, conn| {
            write(conn, reply);
            false
        });
        let result = match http.get(&format!("http://127.0.0.1:{port}/")).await {
            Ok(response) => response.bytes().await.map(|_| ()),
            Err(e) => Err(e),
        };
        let err = result.unwrap_err();
        assert_eq!(
            err.to_string(),
            expect,
            "{}",
            String::from_utf8_lossy(reply)
        );
        assert!(
            matches!(err, Error::Protocol(_) | Error::Transport(_)),
            "{err:?}"
        );
        assert_eq!(idle(&cx, port), 0);
    }
}

pub(crate) async fn read_timeout_closes<H: Harness>(t: Case<H>) {
    // Answers the first request; the second one only after 300 ms.
    let port = fake_server(2, |_, r, conn| {
        if r == 1 {
            std::thread::sleep(Duration::from_millis(300));
        }
        write(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
        true
    });
    let cx = t.cx();
    let http = Http::new(
        cx.clone(),
        config().timeouts(
            Timeout::Directive,
            Timeout::Directive,
            Duration::from_millis(100),
        ),
    );
    let target = format!("http://127.0.0.1:{port}/");
    assert_eq!(
        http.get(&target).await.unwrap().text().await.unwrap(),
        "late"
    );
    let err = http.get(&target).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.to_string(), "timeout");
    // The late answer went to a closed connection: the next request, on a new one, gets
    // its own.
    assert_eq!(idle(&cx, port), 0);
    t.sleep_ms(300).await;
    assert_eq!(
        http.get(&target).await.unwrap().text().await.unwrap(),
        "late"
    );
}
