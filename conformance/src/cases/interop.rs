//! The futures-io traits on every stream type: byte-exact interleaving with the cosocket
//! readers, `futures::io::copy` both ways, the socket's timeouts, FIN on close and on
//! dropping the owned write half. (tokio's traits: `interop_tokio.rs`.)

use std::time::Duration;

use cosocket_core::{ErrorKind, StreamRead, StreamSock, StreamWrite, Until};
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::{StreamOf, connected, finish, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerSpec, Step};
use crate::render::expect;

/// Cosocket reads and `AsyncRead` / `AsyncBufRead` reads in turns on one stream, with a
/// `receive_until` match withheld across a trait read: every byte once, in order.
pub async fn x_io_reads_interleave_byte_exact<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("line one\r\nABCDEFpart--"),
        Step::sleep(400),
        Step::send("ab--x-tail\nxyz"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    expect("receive_line", &s.receive_line().await, r#"("line one")"#);
    let mut three = [0; 3];
    s.read_exact(&mut three).await.unwrap();
    assert_eq!(&three, b"ABC");
    expect("receive_exact", &s.receive_exact(3).await, r#"("DEF")"#);
    // The iterator withholds "--" (a partial match of "--x") when its read times out…
    let mut until = Until::new("--x").unwrap();
    s.set_read_timeout(Duration::from_millis(100));
    expect(
        "until",
        &s.receive_until(&mut until).await,
        r#"(nil,"timeout","part")"#,
    );
    s.set_read_timeout(Duration::from_millis(2000));
    // …and a trait read that runs first takes them: they never left the buffer.
    let buffered = s.fill_buf().await.unwrap().to_vec();
    assert!(
        buffered.starts_with(b"--"),
        "the withheld bytes come first: {buffered:?}"
    );
    s.consume_unpin(1);
    let mut rest = String::new();
    s.read_line(&mut rest).await.unwrap();
    assert_eq!(rest, "-ab--x-tail\n");
    expect("receive_any", &s.receive_any(10).await, r#"("xyz")"#);
    // The end of the stream: `Ok(0)` for the traits, then cosocket's `closed`.
    assert_eq!(s.read(&mut three).await.unwrap(), 0);
    assert_eq!(s.read(&mut three).await.unwrap(), 0);
    expect("after eof", &s.receive_line().await, r#"(nil,"closed","")"#);
}

/// `futures::io::copy` out of a socket (after a cosocket read) and into one; a vectored
/// write; `close` sends FIN.
pub async fn x_io_futures_copy_both_ways<H: Harness>(t: Case<H>) {
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut sent = b"head\n".to_vec();
    sent.extend_from_slice(&body);
    let mut peer = start(PeerSpec::tcp(vec![Step::send(&sent), Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    expect("head", &s.receive_line().await, r#"("head")"#);
    let mut got = Vec::new();
    let n = futures::io::copy(&mut s, &mut got).await.unwrap();
    assert_eq!(n, body.len() as u64);
    assert!(got == body, "the body, byte for byte");
    drop(finish(peer));

    let mut peer = start(PeerSpec::tcp(vec![Step::Drain]));
    let mut s = connected(&t, &mut peer).await;
    let n = futures::io::copy(&mut &body[..], &mut s).await.unwrap();
    assert_eq!(n, body.len() as u64);
    let slices = [std::io::IoSlice::new(b"ab"), std::io::IoSlice::new(b"cd")];
    assert_eq!(s.write_vectored(&slices).await.unwrap(), 4);
    s.flush().await.unwrap();
    AsyncWriteExt::close(&mut s).await.unwrap();
    // Closed for writing: `send` says so; a second close is fine.
    expect("send after close", &s.send("x").await, r#"(nil,"closed")"#);
    AsyncWriteExt::close(&mut s).await.unwrap();
    let report = finish(peer);
    let conn = &report.connections()[0];
    let mut expected = body.clone();
    expected.extend_from_slice(b"abcd");
    assert!(conn.recv == expected, "the peer got every byte");
    assert_eq!(conn.end, End::Eof, "close sent FIN");
}

/// The read timeout bounds a trait read that waits (`TimedOut`, the socket stays usable);
/// the send timeout bounds a trait write that waits (`TimedOut`, the write half closes).
pub async fn x_io_traits_follow_the_timeouts<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::sleep(300), Step::send("late\n")]));
    let mut s = connected(&t, &mut peer).await;
    s.set_read_timeout(Duration::from_millis(50));
    let mut buf = [0; 8];
    let err = s.read(&mut buf).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(err.to_string(), "timeout");
    s.set_read_timeout(Duration::from_millis(2000));
    expect("still usable", &s.receive_line().await, r#"("late")"#);

    // A peer that reads nothing: the kernel's buffers fill, then a write waits.
    let mut peer = start(PeerSpec::tcp(vec![Step::sleep(1000)]));
    let mut s = connected(&t, &mut peer).await;
    s.set_send_timeout(Duration::from_millis(100));
    let chunk = vec![b'x'; 1 << 16];
    let err = loop {
        match s.write(&chunk).await {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    expect("write half closed", &s.send("x").await, r#"(nil,"closed")"#);
    let err = s.write(b"x").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    drop(peer);
}

/// Owned halves: dropping the write half sends FIN (the peer sees the end while the read
/// half still reads its answer); dropping the read half changes nothing.
pub async fn x_dropped_write_half_sends_fin<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::expect(7),
        Step::send("bye\n"),
        Step::Drain,
    ]));
    let s = connected(&t, &mut peer).await;
    let (mut r, mut w) = s.into_split();
    expect("send", &w.send("request").await, "(7)");
    drop(w);
    expect("answer after FIN", &r.receive_line().await, r#"("bye")"#);
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"request");
    assert_eq!(report.connections()[0].end, End::Eof);

    let mut peer = start(PeerSpec::tcp(vec![Step::expect(4), Step::send("back\n")]));
    let s = connected(&t, &mut peer).await;
    let (r, mut w) = s.into_split();
    drop(r);
    t.sleep_ms(50).await;
    // The peer has seen no FIN and no RST: the write half goes on.
    expect("send", &w.send("ping").await, "(4)");
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"ping");
    // Reunited halves send no FIN: the connection goes back to the pool clean.
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(2), Step::send("ok\n")]));
    let s = connected(&t, &mut peer).await;
    let (r, w) = s.into_split();
    let mut s = <StreamOf<H> as StreamSock>::reunite(r, w).unwrap();
    expect("send", &s.send("hi").await, "(2)");
    expect("line", &s.receive_line().await, r#"("ok")"#);
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
    drop(peer);
}

/// A borrowed read half and a borrowed write half as `AsyncRead` / `AsyncWrite` in one
/// task: an echo through `futures::io::copy`.
pub async fn x_io_borrowed_halves_copy<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("hello through the halves"),
        Step::expect(24),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    {
        let (mut r, mut w) = StreamSock::split(&mut s);
        let mut got = [0; 24];
        r.read_exact(&mut got).await.unwrap();
        w.write_all(&got).await.unwrap();
        let err = r.receive_line().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Eof);
    }
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"hello through the halves");
}
