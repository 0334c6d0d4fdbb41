//! Counts, not times: how often the readers look at a byte, and what a cancelled read
//! keeps.

mod common;

use std::num::NonZeroUsize;
use std::task::{Context, Waker};

use cosocket_core::Until;
use cosocket_core::proto::buffer::{ReadCall, RecvBuffer};
use cosocket_core::proto::reader::{Exact, Line};
use cosocket_core::proto::testing::{Feed, MemSource, drive};

/// A 1 MiB line delivered one byte per recv: memchr looks at each byte once while
/// scanning (the scan position survives every `Pending`), and once more to drop CRs.
#[test]
fn one_mib_line_in_one_byte_segments_examines_each_byte_at_most_twice() {
    const LEN: usize = 1 << 20;
    let src = MemSource::new([]);
    for i in 0..LEN {
        src.push(Feed::Data(vec![if i % 1000 == 999 { b'\r' } else { b'x' }]));
        src.push(Feed::Pending);
    }
    src.push(Feed::data(b"\n"));
    let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
    let line = drive(&mut ReadCall::new(Line::new()), &mut buf, &src)
        .unwrap()
        .unwrap();
    assert_eq!(line.len(), LEN - LEN / 1000);
    assert!(
        buf.examined() <= 2 * (LEN as u64 + 1),
        "examined {} bytes",
        buf.examined()
    );
    assert!(buf.examined() > LEN as u64);
}

#[test]
fn receive_until_scans_each_byte_about_once() {
    const LEN: usize = 1 << 20;
    let src = MemSource::new([]);
    for chunk in vec![b'-'; LEN].chunks(7) {
        src.push(Feed::data(chunk));
        src.push(Feed::Pending);
    }
    src.push(Feed::data(b"--abc"));
    let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
    let mut until = Until::new("--abc").unwrap();
    let part = drive(&mut ReadCall::new(until.part()), &mut buf, &src)
        .unwrap()
        .unwrap();
    assert_eq!(part.len(), LEN);
    assert!(
        buf.examined() <= 2 * (LEN as u64 + 5),
        "examined {}",
        buf.examined()
    );
}

/// The same bound on the `memmem` path (a pattern whose first byte occurs once in it), over
/// CRLF lines, each `\r\n` a false start of the pattern, delivered 7 bytes at a time.
#[test]
fn receive_until_with_a_unique_first_byte_scans_each_byte_about_once() {
    const LINES: usize = 10_000;
    let line = b"0123456789abcdefghijklmnopqrstuvwxyz\r\n";
    let body: Vec<u8> = line.repeat(LINES);
    let src = MemSource::new([]);
    for chunk in body.chunks(7) {
        src.push(Feed::data(chunk));
        src.push(Feed::Pending);
    }
    src.push(Feed::data(b"\r\n--boundary"));
    let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
    let mut until = Until::new("\r\n--boundary").unwrap();
    let part = drive(&mut ReadCall::new(until.part()), &mut buf, &src)
        .unwrap()
        .unwrap();
    assert_eq!(part, body);
    let len = body.len() as u64 + 12;
    assert!(buf.examined() <= 2 * len, "examined {}", buf.examined());
    assert!(buf.examined() >= len, "examined {}", buf.examined());
}

/// A read future dropped after `Pending` consumes nothing: the next read gets every byte.
#[test]
fn cancelled_read_loses_no_byte() {
    let src = MemSource::new([
        Feed::data(b"partial line, "),
        Feed::Pending,
        Feed::data(b"more"),
    ]);
    let mut buf = RecvBuffer::new(NonZeroUsize::new(4).unwrap());
    let mut cx = Context::from_waker(Waker::noop());
    {
        let mut call = ReadCall::new(Line::new());
        for _ in 0..6 {
            assert!(call.poll(&mut buf, &src, &mut cx).is_pending());
        }
    } // The call is dropped here: cancelled while pending.
    // The same for an iterator holding withheld bytes mid-match.
    let mut until = Until::new(", more!").unwrap();
    {
        let mut call = ReadCall::new(until.part());
        while call.poll(&mut buf, &src, &mut cx).is_pending() && !src.is_silent() {}
    } // Cancelled while holding a partial match.
    assert_eq!(until.held(), 0);
    src.push(Feed::Eof);
    let all = drive(&mut ReadCall::new(Exact::new(18)), &mut buf, &src)
        .unwrap()
        .unwrap();
    assert_eq!(all, "partial line, more");
}
