//! cosocket in one screen: a client written like blocking code against an in-process peer
//! that speaks a tiny line + multipart protocol.
//!
//! Run it with `cargo run -p cosocket --example quickstart --features tokio`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use cosocket::prelude::*;
use cosocket::tokio::Tokio;
use cosocket::{ConnectOptions, Context, Until};

/// The peer: reads one request line, answers with a status line and a body in two parts
/// separated by a boundary, then stays silent.
fn start_peer() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut request = String::new();
        reader.read_line(&mut request).expect("request line");
        let mut out = stream;
        write!(
            out,
            "OK {}\r\nfirst part\r\n--boundary\r\nsecond part\r\n--boundary\r\n",
            request.trim()
        )
        .expect("reply");
        std::thread::sleep(Duration::from_secs(2));
    });
    Ok(port)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = start_peer()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // The context is the nginx worker: directives and pools. OpenResty's defaults.
        let cx = Context::new(Tokio::new(tokio::runtime::Handle::current()));
        let mut sock = cx.stream();
        sock.set_timeout(Some(Duration::from_millis(500)));
        sock.connect("127.0.0.1", port, &ConnectOptions::new())
            .await?;

        // A fragment list goes out in one vectored write: no concatenation.
        let sent = sock.send(&("GET ", "/items/", 42, "\r\n")).await?;
        println!("sent {sent} bytes");

        // `*l`: one line, CR and LF removed.
        let status = sock.receive_line().await?;
        println!("status: {}", String::from_utf8_lossy(&status));

        // receiveuntil: the parts between boundaries.
        let mut parts = Until::new("\r\n--boundary\r\n")?;
        for _ in 0..2 {
            let part = sock.receive_until(&mut parts).await?;
            println!("part: {}", String::from_utf8_lossy(&part));
        }

        // The peer says nothing more: the read times out after 500 ms, with what it got
        // (nothing) as the partial; the socket stays usable.
        let err = sock.receive_line().await.unwrap_err();
        println!("then: {err} (partial {:?})", err.partial());
        sock.close()?;
        Ok::<_, cosocket::Error>(())
    })?;
    Ok(())
}
