//! The borrowed reads, `receive_line_ref` and `receive_exact_ref`: `*l`'s and
//! `receive(n)`'s results, errors and partials exactly, lent out of the receive buffer,
//! interleaved with every other read.

use std::time::Duration;

use cosocket_core::{StreamRead, StreamSock, StreamWrite, Until};

use super::{connected, poll_once, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{PeerSpec, Step};
use crate::render::expect;

/// Borrowed and owned reads on one stream, byte for byte; the CR rule; the end.
pub async fn x_borrowed_reads_interleave<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("GET / HTTP/1.1\r\nA: b\r\nx\ry\r\r\n\r\nBODY12345tail\n--ab"),
        Step::send("c after--abc\nrest"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    let mut until = Until::new("--abc").unwrap();
    expect(
        "line_ref",
        &s.receive_line_ref().await,
        r#"("GET / HTTP/1.1")"#,
    );
    expect("line", &s.receive_line().await, r#"("A: b")"#);
    expect(
        "line_ref with CRs",
        &s.receive_line_ref().await,
        r#"("xy")"#,
    );
    expect("line_ref empty", &s.receive_line_ref().await, r#"("")"#);
    expect("exact_ref", &s.receive_exact_ref(4).await, r#"("BODY")"#);
    expect("exact", &s.receive_exact(5).await, r#"("12345")"#);
    expect("exact_ref(0)", &s.receive_exact_ref(0).await, r#"("")"#);
    expect("line_ref", &s.receive_line_ref().await, r#"("tail")"#);
    expect("until", &s.receive_until(&mut until).await, r#"("")"#);
    expect("any", &s.receive_any(3).await, r#"(" af")"#);
    expect("line_ref", &s.receive_line_ref().await, r#"("ter--abc")"#);
    expect(
        "exact_ref at eof",
        &s.receive_exact_ref(10).await,
        r#"(nil,"closed","rest")"#,
    );
    expect(
        "line_ref closed",
        &s.receive_line_ref().await,
        r#"(nil,"closed")"#,
    );
    expect(
        "exact_ref closed",
        &s.receive_exact_ref(1).await,
        r#"(nil,"closed")"#,
    );
}

/// A borrowed line ends with a partial on timeout and on EOF, as `receive_line`; a
/// dropped call consumes nothing; the lent bytes count as consumed for `set_keepalive`.
pub async fn x_borrowed_reads_partials_cancel_and_keepalive<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("ab\rc"),
        Step::sleep(300),
        Step::send("d\r\nnext\n"),
        Step::expect(1),
        Step::send("e\nf"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    s.set_read_timeout(Duration::from_millis(100));
    // Polled once while the bytes are incomplete, then dropped: nothing is consumed.
    assert!(
        poll_once(s.receive_line_ref()),
        "the line is not complete yet"
    );
    expect(
        "timeout",
        &s.receive_line_ref().await,
        r#"(nil,"timeout","abc")"#,
    );
    s.set_read_timeout(Duration::from_millis(2000));
    expect("rest", &s.receive_line_ref().await, r#"("d")"#);
    expect("next", &s.receive_line_ref().await, r#"("next")"#);
    // Everything was consumed by borrowed reads: the connection is clean.
    expect("send", &s.send("x").await, "(1)");
    expect("line", &s.receive_line_ref().await, r#"("e")"#);
    expect("eof", &s.receive_line_ref().await, r#"(nil,"closed","f")"#);
}

/// A lent line leaves the buffer when the next operation begins: `set_keepalive` right
/// after one sees an empty buffer, and one with bytes behind it sees `unread data`.
pub async fn x_borrowed_read_then_keepalive<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("one\n"),
        Step::expect(1),
        Step::send("two\nx"),
    ]));
    let mut s = connected(&t, &mut peer).await;
    expect("line_ref", &s.receive_line_ref().await, r#"("one")"#);
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
    super::connect_target(
        &mut s,
        &mut peer,
        "peer",
        &cosocket_core::ConnectOptions::new(),
    )
    .await
    .unwrap();
    expect("send", &s.send("?").await, "(1)");
    expect("line_ref", &s.receive_line_ref().await, r#"("two")"#);
    // "x" may still be in the kernel: wait until it is buffered behind the lent line.
    expect("exact_ref", &s.receive_exact_ref(1).await, r#"("x")"#);
    expect("keepalive", &s.set_keepalive(None, None), "(1)");
}
