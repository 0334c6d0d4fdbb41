//! Bodies: Content-Length, chunked, until close, streamed.

use cosocket_conformance::servers::Nginx;
use cosocket_conformance::{Case, Harness};
use cosocket_http::{Limits, Request};

use cosocket_conformance::cancel::within_polls;

use super::{client, fake_server, idle, url, write};

pub(crate) async fn large_body_streamed_in_pieces<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let http = client(&t);
    let mut response = http.get(&url(&nginx, Nginx::LARGE)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-length"), Some("1048576"));
    let mut body = Vec::new();
    let mut pieces = 0;
    while let Some(piece) = response.chunk().await.unwrap() {
        assert!(!piece.is_empty() && piece.len() <= Limits::default().chunk_size.get());
        body.extend_from_slice(&piece);
        pieces += 1;
    }
    assert!(pieces > 1, "{pieces}");
    assert!(body == Nginx::large_body());
    // After the end, more reads are `None`.
    assert_eq!(response.chunk().await.unwrap(), None);
    // Collected in one call, on the pooled connection.
    let body = http
        .get(&url(&nginx, Nginx::LARGE))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(body == Nginx::large_body());
    let log = super::access_log(&t, &nginx, 2).await;
    assert_eq!(log[0].connection, log[1].connection);
}

pub(crate) async fn dropped_chunk_reads_lose_nothing<H: Harness>(t: Case<H>) {
    // A server that trickles its bodies (a chunked one, then one with a length) in small
    // writes 2 ms apart, split inside chunk-size lines and CRLFs, so that reads wait.
    let body: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut chunked = Vec::new();
    for piece in body.chunks(700) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    let replies = [
        [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            chunked,
        ]
        .concat(),
        [
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes(),
            body.clone(),
        ]
        .concat(),
    ];
    let port = fake_server(1, move |_, r, conn| {
        for piece in replies[r % 2].chunks(97) {
            write(conn, piece);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        true
    });
    let cx = t.cx();
    let http = cosocket_http::Http::new(cx.clone(), super::config());
    for _ in 0..2 {
        let mut response = http
            .get(&format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut dropped = 0;
        loop {
            // One poll each: a read that has to wait is dropped when woken.
            match within_polls(1, response.chunk()).await {
                None => dropped += 1,
                Some(Ok(Some(piece))) => got.extend_from_slice(&piece),
                Some(Ok(None)) => break,
                Some(Err(e)) => panic!("{e}"),
            }
        }
        assert!(got == body, "{} bytes, {dropped} dropped", got.len());
        // The server writes in ~60 pieces 2 ms apart; on a loaded machine several may
        // arrive together, so only a floor is asserted.
        assert!(dropped >= 5, "only {dropped} reads were dropped");
    }
    // Both bodies were read to their ends on one connection, which is pooled.
    assert_eq!(idle(&cx, port), 1);
}

pub(crate) async fn chunked_body<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let http = cosocket_http::Http::new(cx.clone(), super::config());
    for _ in 0..2 {
        let response = http.get(&url(&nginx, Nginx::SSI)).await.unwrap();
        assert!(response.is_chunked());
        assert_eq!(response.header("transfer-encoding"), Some("chunked"));
        assert_eq!(response.text().await.unwrap(), Nginx::ssi_body("(none)"));
    }
    assert_eq!(idle(&cx, nginx.plain_port()), 1);
    let log = super::access_log(&t, &nginx, 2).await;
    assert_eq!((log[0].connection, log[1].requests), (log[1].connection, 2));
}

pub(crate) async fn read_until_close_body<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let cx = t.cx();
    let http = cosocket_http::Http::new(cx.clone(), super::config());
    // HTTP/1.0 has no chunked coding: nginx sends the SSI page with no length and closes.
    let request = Request::get(&url(&nginx, Nginx::SSI)).unwrap().http10();
    let response = http.send(&request).await.unwrap();
    assert_eq!(response.version(), "HTTP/1.1");
    assert_eq!(response.header("content-length"), None);
    assert!(!response.is_chunked());
    assert!(!response.is_reusable());
    assert_eq!(response.text().await.unwrap(), Nginx::ssi_body("(none)"));
    assert_eq!(idle(&cx, nginx.plain_port()), 0);
}
