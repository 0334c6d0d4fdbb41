//! tokio's I/O traits on every stream type (cosocket-core's feature `tokio`), on every
//! harness, smol's included: tokio-util's `FramedRead` / `FramedWrite` with `LinesCodec`,
//! `tokio::io::copy`, `copy_bidirectional` between two cosockets, and interleaving with
//! the cosocket readers. These cases need the stream types to implement tokio's traits, so
//! they have a list of their own: [`conformance_tokio_io_tests!`](crate::conformance_tokio_io_tests).

use std::num::NonZeroUsize;

use cosocket_core::{ConnectOptions, Cosockets, StreamRead, StreamSock, StreamWrite};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec};

use super::{StreamOf, connect_target, connected, finish, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{End, PeerSpec, Step};
use crate::render::expect;

/// The owned halves of a harness's stream type.
type ReadOf<H> = <StreamOf<H> as StreamSock>::OwnedReadHalf;
type WriteOf<H> = <StreamOf<H> as StreamSock>::OwnedWriteHalf;

/// `LinesCodec` over the owned halves, in two tasks; the lines a codec leaves buffered in
/// its own buffer are its own, the socket's go on after a `receive_line`.
pub async fn x_tokio_framed_lines<H: Harness>(t: Case<H>)
where
    ReadOf<H>: tokio::io::AsyncRead + Unpin,
    WriteOf<H>: tokio::io::AsyncWrite + Unpin,
{
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("first\n"),
        Step::send("one\r\ntwo\nthree\n"),
        Step::Drain,
    ]));
    let mut s = connected(&t, &mut peer).await;
    expect("receive_line", &s.receive_line().await, r#"("first")"#);
    let (r, w) = s.into_split();
    let reader = t.spawn(async move {
        let mut lines = FramedRead::new(r, LinesCodec::new_with_max_length(64));
        let mut got = Vec::new();
        while let Some(line) = lines.next().await {
            got.push(line.expect("a line"));
        }
        got
    });
    let writer = t.spawn(async move {
        let mut out = FramedWrite::new(w, LinesCodec::new());
        for line in ["x", "yy", "zzz"] {
            out.send(line).await.expect("send a line");
        }
        SinkExt::<&str>::close(&mut out).await.expect("FIN");
    });
    writer.await;
    assert_eq!(reader.await, ["one", "two", "three"]);
    let report = finish(peer);
    assert_eq!(report.connections()[0].recv, b"x\nyy\nzzz\n");
    assert_eq!(report.connections()[0].end, End::Eof);
}

/// `tokio::io::copy` out of a socket and into one, with `BufReader`-style reads of the
/// socket itself (it is an `AsyncBufRead`) in between.
pub async fn x_tokio_copy<H: Harness>(t: Case<H>)
where
    StreamOf<H>: tokio::io::AsyncRead + tokio::io::AsyncBufRead + tokio::io::AsyncWrite + Unpin,
{
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut sent = b"status 200\nlength\n".to_vec();
    sent.extend_from_slice(&body);
    let mut peer = start(PeerSpec::tcp(vec![Step::send(&sent), Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    let mut status = String::new();
    AsyncBufReadExt::read_line(&mut s, &mut status)
        .await
        .unwrap();
    assert_eq!(status, "status 200\n");
    expect("receive_line", &s.receive_line().await, r#"("length")"#);
    let mut got = Vec::new();
    assert_eq!(
        tokio::io::copy(&mut s, &mut got).await.unwrap(),
        body.len() as u64
    );
    assert!(got == body, "the body, byte for byte");
    let mut more = [0; 4];
    assert_eq!(AsyncReadExt::read(&mut s, &mut more).await.unwrap(), 0);
    drop(finish(peer));

    let mut peer = start(PeerSpec::tcp(vec![Step::Drain]));
    let mut s = connected(&t, &mut peer).await;
    assert_eq!(
        tokio::io::copy(&mut &body[..], &mut s).await.unwrap(),
        body.len() as u64
    );
    AsyncWriteExt::shutdown(&mut s).await.unwrap();
    let report = finish(peer);
    assert!(
        report.connections()[0].recv == body,
        "the peer got every byte"
    );
    assert_eq!(report.connections()[0].end, End::Eof);
}

/// `copy_bidirectional` between two cosockets (a proxy): each side's bytes reach the
/// other, FIN is passed on, and the counts are exact.
pub async fn x_tokio_copy_bidirectional<H: Harness>(t: Case<H>)
where
    StreamOf<H>: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut client = start(PeerSpec::tcp(vec![
        Step::send("request from the client"),
        Step::HalfClose,
        Step::Drain,
    ]));
    let mut server = start(PeerSpec::tcp(vec![
        Step::expect(23),
        Step::send("answer of the server!"),
        Step::Close,
    ]));
    let cx = t.cx_with(|d| d.buffer_size = NonZeroUsize::new(7).unwrap());
    let mut a = cx.stream();
    connect_target(&mut a, &mut client, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    let mut b = cx.stream();
    connect_target(&mut b, &mut server, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    let (to_server, to_client) = tokio::io::copy_bidirectional(&mut a, &mut b).await.unwrap();
    assert_eq!((to_server, to_client), (23, 21));
    let (client, server) = (finish(client), finish(server));
    assert_eq!(client.connections()[0].recv, b"answer of the server!");
    assert_eq!(
        client.connections()[0].end,
        End::Eof,
        "the server's FIN was passed on"
    );
    assert_eq!(server.connections()[0].recv, b"request from the client");
}

/// tokio trait reads on a borrowed read half while the write half sends, in one task.
pub async fn x_tokio_borrowed_halves<H: Harness>(t: Case<H>)
where
    for<'a> <StreamOf<H> as StreamSock>::ReadHalf<'a>: tokio::io::AsyncRead + Unpin,
    for<'a> <StreamOf<H> as StreamSock>::WriteHalf<'a>: tokio::io::AsyncWrite + Unpin,
    StreamOf<H>: tokio::io::AsyncBufRead + Unpin,
{
    let mut peer = start(PeerSpec::tcp(vec![Step::expect(4), Step::send("pong")]));
    let mut s = connected(&t, &mut peer).await;
    let (mut r, mut w) = StreamSock::split(&mut s);
    let mut got = [0; 4];
    let (read, written) = futures::join!(r.read_exact(&mut got), w.write_all(b"ping"));
    read.unwrap();
    written.unwrap();
    assert_eq!(&got, b"pong");
    drop((r, w));
    let mut line = String::new();
    s.set_read_timeout(std::time::Duration::from_millis(50));
    let err = s.read_line(&mut line).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    expect("send", &StreamWrite::send(&mut s, "x").await, "(1)");
    drop(peer);
}
