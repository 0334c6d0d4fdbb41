//! The cases.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::num::NonZeroUsize;

use cosocket::Timeout;
use cosocket_conformance::servers::Nginx;
use cosocket_conformance::{Case, Harness};
use cosocket_http::{Config, Http};

mod bodies;
mod cancel;
mod faults;
mod keepalive;

pub(crate) use bodies::*;
pub(crate) use cancel::*;
pub(crate) use faults::*;
pub(crate) use keepalive::*;

/// A client on a fresh context, pooling 4 connections per server.
pub(crate) fn client<H: Harness>(t: &Case<H>) -> Http<H::Cx> {
    Http::new(t.cx(), config())
}

pub(crate) fn config() -> Config {
    Config::new().keepalive(Timeout::Directive, NonZeroUsize::new(4))
}

/// `http://127.0.0.1:<plain port><path>`.
pub(crate) fn url(nginx: &Nginx, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", nginx.plain_port())
}

/// Idle connections in the pool of `127.0.0.1:port`.
pub(crate) fn idle<C: cosocket::Cosockets>(cx: &C, port: u16) -> usize {
    cx.pool_stats(&format!("127.0.0.1:{port}"))
        .map_or(0, |s| s.idle)
}

/// A hand-written server: for each connection it accepts, reads a request (up to the
/// blank line) and runs `answer` with the connection's number, request number and
/// stream; returns the port. It stops after `connections` connections.
pub(crate) fn fake_server(
    connections: usize,
    answer: impl Fn(usize, usize, &mut TcpStream) -> bool + Send + 'static,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (c, conn) in listener.incoming().take(connections).enumerate() {
            let Ok(mut conn) = conn else { return };
            let mut r = 0;
            loop {
                let mut head = Vec::new();
                let mut byte = [0];
                while !head.ends_with(b"\r\n\r\n") {
                    match conn.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                if !head.ends_with(b"\r\n\r\n") || !answer(c, r, &mut conn) {
                    break;
                }
                r += 1;
            }
        }
    });
    port
}

/// Writes `bytes` (ignoring a peer that left).
pub(crate) fn write(conn: &mut TcpStream, bytes: &[u8]) {
    let _ = conn.write_all(bytes);
}

/// nginx's access log once it has `lines` lines (nginx writes a line after it sent the
/// response, so the client may see the response first); at most 5 s.
pub(crate) async fn access_log<H: Harness>(
    t: &Case<H>,
    nginx: &Nginx,
    lines: usize,
) -> Vec<cosocket_conformance::servers::AccessLine> {
    for _ in 0..500 {
        let log = nginx.access_log();
        if log.len() >= lines {
            assert_eq!(log.len(), lines, "{log:?}");
            return log;
        }
        t.sleep_ms(10).await;
    }
    panic!(
        "nginx's access log has not {lines} lines: {:?}",
        nginx.access_log()
    );
}
