//! spec §11 cases 1–25: `*l`, `*a`, `receive(n)`, `receiveany` on real sockets.

use cosocket_core::{StreamRead, StreamSock};

use super::Call::{All, Any, Close, Exact, KeepAlive, Line, Send, Sleep, Timeout};
use super::{connected, finish, script, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{PeerSpec, Step};
use crate::render::expect;

const HTTP_HEAD: &str = "HTTP/1.1 200 OK\r\nServer: peer\r\nContent-Type: text/plain\r\n\r\n";

/// Case 1.
pub async fn s01_line_drops_every_cr<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("foo\r\r\nbar\rbaz\r\nqux\n\r\n\nlast"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Line, r#"("foo")"#), (Line, r#"("barbaz")"#), (Line, r#"("qux")"#), (Line, r#"("")"#),
        (Line, r#"("")"#), (Line, r#"(nil,"closed","last")"#), (Line, r#"(nil,"closed")"#),
        (Close, "(1)"),
    ]).await;
}

/// Case 2.
pub async fn s02_line_eof_partial_then_closed<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send("abc\ndef"), Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Line, r#"("abc")"#), (Line, r#"(nil,"closed","def")"#), (Line, r#"(nil,"closed")"#),
        (Close, "(1)"), (Close, r#"(nil,"closed")"#),
    ]).await;
}

/// Case 3: the kernel still accepts a write after the peer's FIN.
pub async fn s03_eof_closes_the_read_half_only<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send("abc\n"), Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Line, r#"("abc")"#), (Line, r#"(nil,"closed","")"#), (Line, r#"(nil,"closed")"#),
        (Send("x"), "(1)"), (KeepAlive, r#"(nil,"closed")"#), (Close, "(1)"),
    ]).await;
}

/// Case 4.
pub async fn s04_crs_across_segments<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("a\rb\rc"),
        Step::sleep(50),
        Step::send("\r\n"),
    ]));
    let mut s = connected(&t, &mut peer).await;
    script(&t, &mut s, &mut [], &[(Line, r#"("abc")"#)]).await;
}

/// Case 5: a read timeout consumes its partial and closes nothing.
pub async fn s05_line_timeout_partial_then_rest<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("abc"),
        Step::sleep(500),
        Step::send("def\n"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Timeout(200), ""), (Line, r#"(nil,"timeout","abc")"#), (Timeout(1000), ""),
        (Line, r#"("def")"#),
    ]).await;
}

/// Case 6: `buffer_size` 1 reads a 100 000-byte line.
pub async fn s06_long_line_one_byte_buffer<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send_rep("x", 100_000),
        Step::send("\n"),
        Step::send_rep("y", 10),
        Step::Close,
    ]));
    let mut s = super::connected_with_buffer(&t, &mut peer, 1).await;
    let line = s.receive_line().await.expect("the long line");
    assert_eq!(line.len(), 100_000);
    assert!(line.iter().all(|&b| b == b'x'));
    expect("*a", &s.receive_all().await, r#"("yyyyyyyyyy")"#);
}

/// Case 7.
pub async fn s07_http_lines_then_eof_partial<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send(format!("{HTTP_HEAD}foo")),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Line, r#"("HTTP/1.1 200 OK")"#), (Line, r#"("Server: peer")"#),
        (Line, r#"("Content-Type: text/plain")"#), (Line, r#"("")"#),
        (Line, r#"(nil,"closed","foo")"#), (Close, "(1)"),
    ]).await;
}

/// Case 8.
pub async fn s08_http_lines_one_byte_buffer<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send(format!("{HTTP_HEAD}foo\n")),
        Step::Close,
    ]));
    let mut s = super::connected_with_buffer(&t, &mut peer, 1).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Line, r#"("HTTP/1.1 200 OK")"#), (Line, r#"("Server: peer")"#),
        (Line, r#"("Content-Type: text/plain")"#), (Line, r#"("")"#), (Line, r#"("foo")"#),
        (Line, r#"(nil,"closed","")"#),
    ]).await;
}

/// Case 9.
pub async fn s09_all_until_eof_then_empty<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("hello "),
        Step::sleep(50),
        Step::send("world\r\n"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (All, r#"("hello world\r\n")"#), (All, r#"("")"#), (Line, r#"(nil,"closed","")"#),
        (Close, "(1)"),
    ]).await;
}

/// Case 10.
pub async fn s10_all_timeout_partial<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("partial-data"),
        Step::sleep(1000),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Timeout(200), ""), (All, r#"(nil,"timeout","partial-data")"#), (Timeout(2000), ""),
        (All, r#"("")"#),
    ]).await;
}

/// Case 11.
pub async fn s11_all_immediate_fin<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    script(&t, &mut s, &mut [], &[(All, r#"("")"#), (All, r#"("")"#)]).await;
}

/// Case 12.
pub async fn s12_all_then_keepalive_and_reads<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("hello world\r\n"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (All, r#"("hello world\r\n")"#), (KeepAlive, r#"(nil,"closed")"#),
        (Any(10), r#"(nil,"closed","")"#), (All, r#"(nil,"closed")"#),
    ]).await;
}

/// Case 13.
pub async fn s13_line_then_all_verbatim<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send(format!("{HTTP_HEAD}a\r\nb\r")),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Line, r#"("HTTP/1.1 200 OK")"#),
        (All, r#"("Server: peer\r\nContent-Type: text/plain\r\n\r\na\r\nb\r")"#),
    ]).await;
}

/// Case 14.
pub async fn s14_exact_and_zero<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send("12345"), Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Exact(3), r#"("123")"#), (Exact(0), r#"("")"#), (Exact(5), r#"(nil,"closed","45")"#),
        (Exact(0), r#"(nil,"closed")"#), (Exact(1), r#"(nil,"closed")"#),
    ]).await;
}

/// Case 15.
pub async fn s15_exact_timeout_partial_then_rest<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("abc"),
        Step::sleep(1000),
        Step::send("defgh"),
        Step::sleep(300),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Timeout(200), ""), (Exact(5), r#"(nil,"timeout","abc")"#), (Timeout(2000), ""),
        (Exact(5), r#"("defgh")"#), (Exact(5), r#"(nil,"closed","")"#),
    ]).await;
}

/// Case 16: data trickling in every 150 ms never trips a 250 ms read timeout.
pub async fn s16_idle_read_timeout_restarts_on_progress<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("a"),
        Step::sleep(150),
        Step::send("b"),
        Step::sleep(150),
        Step::send("c"),
        Step::sleep(150),
        Step::send("d"),
    ]));
    let mut s = connected(&t, &mut peer).await;
    script(
        &t,
        &mut s,
        &mut [],
        &[(Timeout(250), ""), (Exact(4), r#"("abcd")"#)],
    )
    .await;
}

/// Case 19, with the default buffer and with `buffer_size` 1.
pub async fn s19_exact_pieces_then_eof_partial<H: Harness>(t: Case<H>) {
    // 62 bytes: six pieces of 10, then "o\n".
    let body = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: cosocket\r\n\r\nhello\n";
    assert_eq!(body.len() % 10, 2);
    for segment in [4096, 1] {
        let mut peer = start(PeerSpec::tcp(vec![Step::send(body), Step::Close]));
        let mut s = super::connected_with_buffer(&t, &mut peer, segment).await;
        for piece in body.as_bytes()[..body.len() - 2].chunks(10) {
            let got = s.receive_exact(10).await.expect("a piece");
            assert_eq!(&got[..], piece, "buffer {segment}");
        }
        expect(
            "last",
            &s.receive_exact(10).await,
            r#"(nil,"closed","o\n")"#,
        );
        expect("close", &s.close(), "(1)");
    }
}

/// Case 20.
pub async fn s20_any_returns_buffered_bytes_first<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("hello"),
        Step::sleep(100),
        Step::send("world"),
        Step::sleep(100),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Sleep(200), ""), (Any(3), r#"("hel")"#), (Any(100), r#"("loworld")"#),
        (Any(100), r#"(nil,"closed","")"#), (Any(100), r#"(nil,"closed")"#), (Close, "(1)"),
    ]).await;
}

/// Case 21.
pub async fn s21_any_after_exact_and_timeout<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("01234567890123456789"),
        Step::sleep(200),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Exact(2), r#"("01")"#), (Any(5), r#"("23456")"#), (Any(100), r#"("7890123456789")"#),
        (Timeout(50), ""), (Any(100), r#"(nil,"timeout","")"#),
    ]).await;
}

/// Case 22, the part a Rust caller can express.
pub async fn s22_any_zero_is_bad_max_argument<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send("abc")]));
    let mut s = connected(&t, &mut peer).await;
    expect(
        "any(0)",
        &s.receive_any(0).await,
        r#"(nil,"bad max argument")"#,
    );
    expect("any(5)", &s.receive_any(5).await, r#"("abc")"#);
}

/// Case 23.
pub async fn s23_any_bounded_by_buffer_size<H: Harness>(t: Case<H>) {
    for (segment, first) in [(4096, 4096), (1, 1)] {
        let mut peer = start(PeerSpec::tcp(vec![Step::send_rep("z", 100_010)]));
        let mut s = super::connected_with_buffer(&t, &mut peer, segment).await;
        t.sleep_ms(100).await;
        assert_eq!(s.receive_any(20000).await.unwrap().len(), first);
        assert_eq!(s.receive_any(3).await.unwrap().len(), 3.min(first.max(1)));
    }
}

/// `receive_any` never returns more than `buffer_size`, even when a line read that was
/// dropped (an outer timeout) left more than that buffered; every byte follows in order.
pub async fn x_any_bounded_after_dropped_line<H: Harness>(t: Case<H>) {
    let data: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut peer = start(PeerSpec::tcp(vec![Step::send(&data), Step::Drain]));
    let mut s = super::connected_with_buffer(&t, &mut peer, 4096).await;
    t.sleep_ms(100).await;
    // The line read gathers every byte (no LF), then is dropped unfinished.
    {
        let line = std::pin::pin!(s.receive_line());
        let timer = std::pin::pin!(t.sleep_ms(100));
        let dropped = futures::future::select(line, timer).await;
        assert!(
            matches!(dropped, futures::future::Either::Right(_)),
            "no LF: the line waits"
        );
    }
    let mut got = Vec::new();
    while got.len() < data.len() {
        let chunk = s.receive_any(usize::MAX).await.expect("buffered bytes");
        assert!(
            chunk.len() <= 4096,
            "receive_any returned {} bytes",
            chunk.len()
        );
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got, data);
    drop(finish(peer));
}

/// Case 24.
pub async fn s24_any_fin<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::Close]));
    let mut s = connected(&t, &mut peer).await;
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Any(10), r#"(nil,"closed","")"#), (Any(10), r#"(nil,"closed")"#),
    ]).await;
}

/// Case 25.
pub async fn s25_any_body_after_headers<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send(format!("{HTTP_HEAD}hello world")),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    for _ in 0..4 {
        s.receive_line().await.expect("a header line");
    }
    #[rustfmt::skip]
    script(&t, &mut s, &mut [], &[
        (Any(7), r#"("hello w")"#), (Any(7), r#"("orld")"#), (Any(7), r#"(nil,"closed","")"#),
    ]).await;
}

/// A 1 MiB line arriving in 1-byte segments, read with `buffer_size` 1.
pub async fn x_megabyte_line_one_byte_segments<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send_rep("m", 1 << 20),
        Step::send("\r\n"),
        Step::Close,
    ]));
    let mut s = super::connected_with_buffer(&t, &mut peer, 1).await;
    let line = s.receive_line().await.expect("the line");
    assert_eq!(line.len(), 1 << 20);
    expect("then", &s.receive_line().await, r#"(nil,"closed","")"#);
    drop(s);
    let report = finish(peer);
    assert_eq!(report.connections().len(), 1);
}

/// Silence the unused-import lint for `Send` in this file's scripts.
#[allow(dead_code)]
const _SEND: super::Call = Send("");
