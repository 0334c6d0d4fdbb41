//! Read limits: the directive `read_limit` and `set_read_limit`, on every reader that waits
//! for an end the peer decides, with the error text and what it leaves behind. Whether a
//! read passes never depends on how its bytes arrived: each case runs with the bytes in
//! one segment and a byte at a time.

use std::num::NonZeroUsize;

use cosocket_core::{
    ConnectOptions, Cosockets, ErrorKind, StreamRead, StreamSock, StreamWrite, Until,
};

use super::{connect_target, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{Peer, PeerSpec, Step};
use crate::render::expect;

/// A peer that sends `data` at once, or a byte at a time.
fn peer(data: &str, bytewise: bool) -> Peer {
    let steps = if bytewise {
        data.bytes()
            .flat_map(|b| [Step::send([b]), Step::sleep(1)])
            .chain([Step::Close])
            .collect()
    } else {
        vec![Step::send(data), Step::Close]
    };
    start(PeerSpec::tcp(steps))
}

/// Each limited reader at its limit and one byte past it, on both segmentations; then
/// the read half is closed and the write half is not.
pub async fn x_read_limits<H: Harness>(t: Case<H>) {
    let cx = t.cx_with(|d| d.read_limit = NonZeroUsize::new(16));
    for bytewise in [false, true] {
        let name = |call: &str| format!("{call} (bytewise: {bytewise})");
        // A line of 15 bytes and its LF pass, a line of 16 and its LF do not.
        let mut p = peer("0123456789abcde\n0123456789abcdef\n", bytewise);
        let mut s = cx.stream();
        connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
            .await
            .unwrap();
        expect(
            &name("line"),
            &s.receive_line().await,
            r#"("0123456789abcde")"#,
        );
        let err = s.receive_line().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{}", name("line over"));
        assert_eq!(err.to_string(), "read limit exceeded");
        assert!(
            err.partial().is_none(),
            "no partial: the bytes are discarded"
        );
        expect(&name("after"), &s.receive_line().await, r#"(nil,"closed")"#);
        expect(&name("after"), &s.receive_any(1).await, r#"(nil,"closed")"#);
        expect(&name("write half"), &s.send("x").await, "(1)");
        expect(
            &name("keepalive"),
            &s.set_keepalive(None, None),
            r#"(nil,"closed")"#,
        );

        // The borrowed line, with CRs that count: 14 + CR + LF pass.
        let mut p = peer("0123456789abc\r\r\n0123456789abcd\r\r\n", bytewise);
        let mut s = cx.stream();
        connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
            .await
            .unwrap();
        expect(
            &name("line_ref"),
            &s.receive_line_ref().await,
            r#"("0123456789abc")"#,
        );
        expect(
            &name("line_ref over"),
            &s.receive_line_ref().await,
            r#"(nil,"read limit exceeded")"#,
        );

        // A part and its pattern: 14 + "--" pass, 15 + "--" do not.
        let mut p = peer("0123456789abcd--0123456789abcde--", bytewise);
        let mut s = cx.stream();
        connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
            .await
            .unwrap();
        let mut until = Until::new("--").unwrap();
        expect(
            &name("part"),
            &s.receive_until(&mut until).await,
            r#"("0123456789abcd")"#,
        );
        expect(
            &name("part over"),
            &s.receive_until(&mut until).await,
            r#"(nil,"read limit exceeded")"#,
        );

        // receive_all: 16 bytes then EOF pass, 17 do not.
        for (data, expected) in [
            ("0123456789abcdef", r#"("0123456789abcdef")"#),
            ("0123456789abcdefg", r#"(nil,"read limit exceeded")"#),
        ] {
            let mut p = peer(data, bytewise);
            let mut s = cx.stream();
            connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
                .await
                .unwrap();
            expect(&name("all"), &s.receive_all().await, expected);
        }

        // Chunks and receive_any are bounded by their sizes: never limited.
        let data = "0123456789abcdefghijklmnopqrstuvwxyz--0123456789abcdefghijklmnopqrstuvwxyz";
        let mut p = peer(data, bytewise);
        let mut s = cx.stream();
        connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
            .await
            .unwrap();
        let size = NonZeroUsize::new(8).unwrap();
        let mut part = Vec::new();
        while let Some(chunk) = s.receive_until_chunk(&mut until, size).await.unwrap() {
            part.extend_from_slice(&chunk);
        }
        assert_eq!(
            part,
            b"0123456789abcdefghijklmnopqrstuvwxyz",
            "{}",
            name("chunks")
        );
        let mut rest = Vec::new();
        while let Ok(bytes) = s.receive_any(4).await {
            rest.extend_from_slice(&bytes);
        }
        assert_eq!(
            rest,
            b"0123456789abcdefghijklmnopqrstuvwxyz",
            "{}",
            name("any")
        );
    }
}

/// `receive_exact` past the limit fails before any I/O; the socket's own limit overrides
/// the context's and stays across reconnects; `Some(usize::MAX)` is unlimited.
pub async fn x_read_limit_per_socket<H: Harness>(t: Case<H>) {
    let mut p = start(PeerSpec::tcp(vec![Step::send(
        "abcdefghijklmnopqrstuvwxyz\n",
    )]));
    let cx = t.cx_with(|d| d.read_limit = NonZeroUsize::new(16));
    let mut s = cx.stream();
    s.set_read_limit(Some(4));
    connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    expect(
        "exact at the limit",
        &s.receive_exact(4).await,
        r#"("abcd")"#,
    );
    expect(
        "exact over",
        &s.receive_exact(5).await,
        r#"(nil,"read limit exceeded")"#,
    );
    expect("closed", &s.receive_exact(1).await, r#"(nil,"closed")"#);
    // A reconnect keeps the socket's limit.
    connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    expect(
        "exact_ref over",
        &s.receive_exact_ref(5).await,
        r#"(nil,"read limit exceeded")"#,
    );
    connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    s.set_read_limit(Some(usize::MAX));
    expect(
        "unlimited",
        &s.receive_line().await,
        r#"("abcdefghijklmnopqrstuvwxyz")"#,
    );
    // Back to the context's 16.
    connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    s.set_read_limit(None);
    expect(
        "the directive",
        &s.receive_line().await,
        r#"(nil,"read limit exceeded")"#,
    );
    // The default context has no limit.
    let mut s = t.stream();
    connect_target(&mut s, &mut p, "peer", &ConnectOptions::new())
        .await
        .unwrap();
    expect(
        "default",
        &s.receive_line().await,
        r#"("abcdefghijklmnopqrstuvwxyz")"#,
    );
}

/// Issue 19's probe: `buffer_size` has a range, 1 byte to `Directives::MAX_BUFFER_SIZE`.
/// Beyond it (`usize::MAX` once overflowed, 1 TiB aborted on allocation, 256 MiB cost
/// 258 MiB of memory for a 6-byte line) every connect fails with a clear error before
/// anything is opened; at the edge a socket works, and `receive_any` keeps its bound.
pub async fn x_buffer_size_range<H: Harness>(t: Case<H>) {
    use cosocket_core::Directives;
    let max = Directives::MAX_BUFFER_SIZE;
    let mut peer = start(PeerSpec::tcp(vec![Step::send("hello\n"), Step::expect(1)]));
    for size in [usize::MAX, 1 << 40, 256 << 20, max + 1] {
        let cx = t.cx_with(|d| d.buffer_size = NonZeroUsize::new(size).expect("size"));
        let mut s = cx.stream();
        let r = connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new()).await;
        let text = format!("invalid lua_socket_buffer_size: {size} (1 to {max} bytes)");
        expect(
            &format!("connect with {size}"),
            &r,
            &format!("(nil,{text:?})"),
        );
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidArgument);
        expect("then a read", &s.receive_line().await, r#"(nil,"closed")"#);
    }
    assert_eq!(peer.accepted(), 0, "no connect reached the peer");
    let cx = t.cx_with(|d| d.buffer_size = NonZeroUsize::new(max).expect("max"));
    let mut s = cx.stream();
    connect_target(&mut s, &mut peer, "peer", &ConnectOptions::new())
        .await
        .expect("the largest buffer_size connects");
    expect("line", &s.receive_line().await, r#"("hello")"#);
    expect("send", &s.send("!").await, "(1)");
    expect("close", &s.close(), "(1)");
    drop(super::finish(peer));
}
