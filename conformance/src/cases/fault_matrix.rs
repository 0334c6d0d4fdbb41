//! Issue 19: the fault matrix. Every operation meets a peer that resets (RST), closes
//! (FIN) or half-closes (FIN, then keeps reading) before, during or after it; each row of
//! a table gives what every call must return, value and error text and partial data, and
//! every call must return within its timeout + 500 ms. One driver per table; every row
//! runs on its own connection (one script per connection, in accept order).
//!
//! Receives: the client sends a go byte (`.`) once connected, and the peer's script
//! waits for it, so that no fault races the connect. "before" = the peer faults then and
//! the read starts 60 ms later; "during" = the peer sent part of what the read needs, then
//! faults; "after" = the peer sent all of it, then faults, and the same read is called
//! again. Reads give the bytes
//! that arrived before an RST first (Linux keeps the receive queue), then the error.
//!
//! Connect on loopback: the kernel completes the handshake before the peer accepts, so a
//! fault "during" connect is a peer that faults at accept (connect returns `1`, the next
//! call sees the fault); the listener that is gone (`closed`) and the one whose accept
//! queue is full (`backlog_full`) are the connects that fail.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use cosocket_core::{ConnectOptions, Cosockets, StreamRead, StreamSock, StreamWrite, Until};

use super::{StreamOf, connect_target, finish, start, wait_until};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{Peer, PeerKind, PeerSpec, Step};
use crate::render::Render;

/// What a call may take beyond its timeout.
const MARGIN: Duration = Duration::from_millis(500);

/// The read timeout of every row's socket.
const READ_TIMEOUT: Duration = Duration::from_millis(1000);

const RST: &str = r#"(nil,"connection reset by peer","")"#;
const RST_AB: &str = r#"(nil,"connection reset by peer","ab")"#;
const EOF: &str = r#"(nil,"closed","")"#;
const EOF_AB: &str = r#"(nil,"closed","ab")"#;
const CLOSED: &str = r#"(nil,"closed")"#;
/// A send after the read consumed the RST.
const PIPE: &str = r#"(nil,"broken pipe")"#;
/// A send that meets the RST first.
const RESET: &str = r#"(nil,"connection reset by peer")"#;
const SENT: &str = "(2)";
const NILS: &str = "(nil,nil,nil)";

/// The peer's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// `SO_LINGER 0` + close: an RST.
    Rst,
    /// Close: a FIN, and the socket is gone (a later write of ours gets an RST back).
    Fin,
    /// `shutdown(SHUT_WR)`: a FIN, and the peer keeps reading.
    Half,
}

impl Fault {
    fn step(self) -> Step {
        match self {
            Self::Rst => Step::Reset,
            Self::Fin => Step::Close,
            Self::Half => Step::HalfClose,
        }
    }
}

/// When the fault comes, relative to the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Before,
    During,
    After,
}

/// A receive kind. The pattern of the `receive_until` kinds is `--x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    Line,
    All,
    Exact(usize),
    Any(usize),
    Until { inclusive: bool },
    Chunk { size: usize, inclusive: bool },
}

impl Read {
    /// The bytes that complete one call (`*a`: before the EOF).
    fn full(self) -> &'static str {
        match self {
            Self::Line => "abc\n",
            Self::All => "abc",
            Self::Exact(_) | Self::Any(_) => "abcd",
            Self::Until { .. } | Self::Chunk { .. } => "ab--x",
        }
    }

    /// A prefix of [`full`](Self::full) that completes no call but `receive_any`'s (the
    /// `receive_until` kinds withhold its `-` as a partial match).
    fn part(self) -> &'static str {
        match self {
            Self::Until { .. } | Self::Chunk { .. } => "ab-",
            _ => "ab",
        }
    }

    pub(super) fn until(self) -> Until {
        let inclusive = match self {
            Self::Until { inclusive } | Self::Chunk { inclusive, .. } => inclusive,
            _ => false,
        };
        Until::new("--x").expect("a pattern").inclusive(inclusive)
    }

    /// One call, rendered, and how long it took.
    pub(super) async fn call<S: StreamRead>(
        self,
        s: &mut S,
        until: &mut Until,
    ) -> (String, Duration) {
        let started = Instant::now();
        let got = match self {
            Self::Line => s.receive_line().await.render(),
            Self::All => s.receive_all().await.render(),
            Self::Exact(n) => s.receive_exact(n).await.render(),
            Self::Any(n) => s.receive_any(n).await.render(),
            Self::Until { .. } => s.receive_until(until).await.render(),
            Self::Chunk { size, .. } => {
                let size = NonZeroUsize::new(size).expect("a chunk size");
                s.receive_until_chunk(until, size).await.render()
            }
        };
        (got, started.elapsed())
    }
}

/// One row: the first call of `read`, the same call again, then `send("ok")`.
#[derive(Debug)]
struct ReadRow {
    read: Read,
    fault: Fault,
    when: When,
    first: &'static str,
    again: &'static str,
    send: &'static str,
}

const fn row(
    read: Read,
    fault: Fault,
    when: When,
    first: &'static str,
    again: &'static str,
    send: &'static str,
) -> ReadRow {
    ReadRow {
        read,
        fault,
        when,
        first,
        again,
        send,
    }
}

use Fault::{Fin, Half, Rst};
use When::{After, Before, During};

const LINE: Read = Read::Line;
const ALL: Read = Read::All;
const EXACT: Read = Read::Exact(4);
const ANY: Read = Read::Any(8);
const UNTIL: Read = Read::Until { inclusive: false };
const UNTIL_INCL: Read = Read::Until { inclusive: true };
const CHUNK: Read = Read::Chunk {
    size: 4,
    inclusive: false,
};
const CHUNK_INCL: Read = Read::Chunk {
    size: 4,
    inclusive: true,
};

/// Every receive kind × fault × time. A FIN and a half-close read the same; they differ
/// in what the peer does with our `send("ok")` (checked against the peer's report).
#[rustfmt::skip]
const READ_ROWS: &[ReadRow] = &[
    // receive_line
    row(LINE, Rst, Before, RST, CLOSED, PIPE),
    row(LINE, Fin, Before, EOF, CLOSED, SENT),
    row(LINE, Half, Before, EOF, CLOSED, SENT),
    row(LINE, Rst, During, RST_AB, CLOSED, PIPE),
    row(LINE, Fin, During, EOF_AB, CLOSED, SENT),
    row(LINE, Half, During, EOF_AB, CLOSED, SENT),
    row(LINE, Rst, After, r#"("abc")"#, RST, PIPE),
    row(LINE, Fin, After, r#"("abc")"#, EOF, SENT),
    row(LINE, Half, After, r#"("abc")"#, EOF, SENT),
    // receive_all: EOF is success and leaves the read half open (spec §2.3).
    row(ALL, Rst, Before, RST, CLOSED, PIPE),
    row(ALL, Fin, Before, r#"("")"#, r#"("")"#, SENT),
    row(ALL, Half, Before, r#"("")"#, r#"("")"#, SENT),
    row(ALL, Rst, During, RST_AB, CLOSED, PIPE),
    row(ALL, Fin, During, r#"("ab")"#, r#"("")"#, SENT),
    row(ALL, Half, During, r#"("ab")"#, r#"("")"#, SENT),
    row(ALL, Rst, After, r#"(nil,"connection reset by peer","abc")"#, CLOSED, PIPE),
    row(ALL, Fin, After, r#"("abc")"#, r#"("")"#, SENT),
    row(ALL, Half, After, r#"("abc")"#, r#"("")"#, SENT),
    // receive_exact(4)
    row(EXACT, Rst, Before, RST, CLOSED, PIPE),
    row(EXACT, Fin, Before, EOF, CLOSED, SENT),
    row(EXACT, Half, Before, EOF, CLOSED, SENT),
    row(EXACT, Rst, During, RST_AB, CLOSED, PIPE),
    row(EXACT, Fin, During, EOF_AB, CLOSED, SENT),
    row(EXACT, Half, During, EOF_AB, CLOSED, SENT),
    row(EXACT, Rst, After, r#"("abcd")"#, RST, PIPE),
    row(EXACT, Fin, After, r#"("abcd")"#, EOF, SENT),
    row(EXACT, Half, After, r#"("abcd")"#, EOF, SENT),
    // receive_any(8): any byte completes it; the fault goes to the next call.
    row(ANY, Rst, Before, RST, CLOSED, PIPE),
    row(ANY, Fin, Before, EOF, CLOSED, SENT),
    row(ANY, Half, Before, EOF, CLOSED, SENT),
    row(ANY, Rst, During, r#"("ab")"#, RST, PIPE),
    row(ANY, Fin, During, r#"("ab")"#, EOF, SENT),
    row(ANY, Half, During, r#"("ab")"#, EOF, SENT),
    row(ANY, Rst, After, r#"("abcd")"#, RST, PIPE),
    row(ANY, Fin, After, r#"("abcd")"#, EOF, SENT),
    row(ANY, Half, After, r#"("abcd")"#, EOF, SENT),
    // receive_until("--x"): the withheld "-" of "ab-" is discarded at the fault (§2.5).
    row(UNTIL, Rst, Before, RST, CLOSED, PIPE),
    row(UNTIL, Fin, Before, EOF, CLOSED, SENT),
    row(UNTIL, Half, Before, EOF, CLOSED, SENT),
    row(UNTIL, Rst, During, RST_AB, CLOSED, PIPE),
    row(UNTIL, Fin, During, EOF_AB, CLOSED, SENT),
    row(UNTIL, Half, During, EOF_AB, CLOSED, SENT),
    row(UNTIL, Rst, After, r#"("ab")"#, RST, PIPE),
    row(UNTIL, Fin, After, r#"("ab")"#, EOF, SENT),
    row(UNTIL, Half, After, r#"("ab")"#, EOF, SENT),
    // receive_until("--x", inclusive)
    row(UNTIL_INCL, Rst, Before, RST, CLOSED, PIPE),
    row(UNTIL_INCL, Fin, Before, EOF, CLOSED, SENT),
    row(UNTIL_INCL, Half, Before, EOF, CLOSED, SENT),
    row(UNTIL_INCL, Rst, During, RST_AB, CLOSED, PIPE),
    row(UNTIL_INCL, Fin, During, EOF_AB, CLOSED, SENT),
    row(UNTIL_INCL, Half, During, EOF_AB, CLOSED, SENT),
    row(UNTIL_INCL, Rst, After, r#"("ab--x")"#, RST, PIPE),
    row(UNTIL_INCL, Fin, After, r#"("ab--x")"#, EOF, SENT),
    row(UNTIL_INCL, Half, After, r#"("ab--x")"#, EOF, SENT),
    // receive_until_chunk(4): after the part's end the next call is (nil,nil,nil) without
    // reading, so an RST after it is still pending for the send.
    row(CHUNK, Rst, Before, RST, CLOSED, PIPE),
    row(CHUNK, Fin, Before, EOF, CLOSED, SENT),
    row(CHUNK, Half, Before, EOF, CLOSED, SENT),
    row(CHUNK, Rst, During, RST_AB, CLOSED, PIPE),
    row(CHUNK, Fin, During, EOF_AB, CLOSED, SENT),
    row(CHUNK, Half, During, EOF_AB, CLOSED, SENT),
    row(CHUNK, Rst, After, r#"("ab")"#, NILS, RESET),
    row(CHUNK, Fin, After, r#"("ab")"#, NILS, SENT),
    row(CHUNK, Half, After, r#"("ab")"#, NILS, SENT),
    // receive_until_chunk(4, inclusive)
    row(CHUNK_INCL, Rst, Before, RST, CLOSED, PIPE),
    row(CHUNK_INCL, Fin, Before, EOF, CLOSED, SENT),
    row(CHUNK_INCL, Half, Before, EOF, CLOSED, SENT),
    row(CHUNK_INCL, Rst, During, RST_AB, CLOSED, PIPE),
    row(CHUNK_INCL, Fin, During, EOF_AB, CLOSED, SENT),
    row(CHUNK_INCL, Half, During, EOF_AB, CLOSED, SENT),
    row(CHUNK_INCL, Rst, After, r#"("ab--x")"#, NILS, RESET),
    row(CHUNK_INCL, Fin, After, r#"("ab--x")"#, NILS, SENT),
    row(CHUNK_INCL, Half, After, r#"("ab--x")"#, NILS, SENT),
];

/// Every receive kind once more, against a peer that sends the answer one byte per step.
const DRIP: &[(Read, &str)] = &[
    (LINE, r#"("abc")"#),
    (ALL, r#"("abc")"#),
    (EXACT, r#"("abcd")"#),
    (ANY, r#"("a")"#),
    (UNTIL, r#"("ab")"#),
    (UNTIL_INCL, r#"("ab--x")"#),
    (CHUNK, r#"("ab")"#),
    (CHUNK_INCL, r#"("ab--x")"#),
];

/// `got` is `expected`, or one of its ` | `-separated alternatives.
#[track_caller]
fn check(what: &str, got: &str, expected: &str) {
    assert!(
        expected.split(" | ").any(|e| e == got),
        "{what}: got {got}, expected {expected}"
    );
}

/// The call returned within `timeout` + [`MARGIN`].
#[track_caller]
fn in_time(what: &str, took: Duration, timeout: Duration) {
    assert!(
        took <= timeout + MARGIN,
        "{what}: took {took:?}, timeout {timeout:?}"
    );
}

fn read_script(row: &ReadRow) -> Vec<Step> {
    // Not at accept but after the client's go byte: an RST that arrives before the connect
    // saw the socket writable fails the connect itself (see `Op::ConnectThenFault`).
    let mut steps = vec![Step::expect(1)];
    match row.when {
        Before => {}
        During => steps.extend([Step::send(row.read.part()), Step::sleep(20)]),
        After => steps.extend([Step::send(row.read.full()), Step::sleep(20)]),
    }
    steps.push(row.fault.step());
    steps
}

fn drip_script(read: Read) -> Vec<Step> {
    let mut steps = Vec::new();
    for b in read.full().bytes() {
        steps.push(Step::send([b]));
        steps.push(Step::sleep(3));
    }
    if read == ALL {
        steps.push(Step::Close);
    }
    steps
}

/// A socket of `cx` on the peer's next connection, with the row read timeout, that sent
/// the go byte `.` (the peer's script waits for it before it faults).
async fn open<C: Cosockets>(cx: &C, peer: &mut Peer) -> C::Stream {
    let mut s = cx.stream();
    connect_target(&mut s, peer, "peer", &ConnectOptions::new())
        .await
        .expect("connect to the peer");
    s.set_read_timeout(READ_TIMEOUT);
    s.send(".").await.expect("the go byte");
    s
}

/// Every receive kind × RST / FIN / half-close × before / during / after (72 rows), then
/// the one-byte drip for each kind.
pub async fn x_fault_matrix_receives<H: Harness>(t: Case<H>) {
    let mut scripts: Vec<Vec<Step>> = READ_ROWS.iter().map(read_script).collect();
    scripts.extend(DRIP.iter().map(|&(read, _)| drip_script(read)));
    let mut peer = start(PeerSpec::per_connection(PeerKind::Tcp, scripts, vec![]));
    let cx = t.cx();
    for row in READ_ROWS {
        let what = format!("{row:?}");
        let mut s = open(&cx, &mut peer).await;
        let mut until = row.read.until();
        if row.when == Before {
            t.sleep_ms(60).await;
        }
        let (got, took) = row.read.call(&mut s, &mut until).await;
        check(&format!("{what}: first"), &got, row.first);
        in_time(&what, took, READ_TIMEOUT);
        let (got, took) = row.read.call(&mut s, &mut until).await;
        check(&format!("{what}: again"), &got, row.again);
        in_time(&what, took, READ_TIMEOUT);
        if row.again == NILS {
            // Neither call read past the part: let the fault arrive.
            t.sleep_ms(50).await;
        }
        check(
            &format!("{what}: send"),
            &s.send("ok").await.render(),
            row.send,
        );
    }
    for &(read, expected) in DRIP {
        let what = format!("drip {read:?}");
        let mut s = open(&cx, &mut peer).await;
        let mut until = read.until();
        let (got, took) = read.call(&mut s, &mut until).await;
        check(&what, &got, expected);
        in_time(&what, took, READ_TIMEOUT);
        if read == ANY {
            // The rest, byte by byte or together: the stream is exact.
            let rest = s.receive_exact(3).await.render();
            check(&format!("{what}: rest"), &rest, r#"("bcd")"#);
        }
    }
    let report = finish(peer);
    let connections = report.connections();
    assert_eq!(connections.len(), READ_ROWS.len() + DRIP.len());
    for (row, c) in READ_ROWS.iter().zip(connections) {
        // The half-closed peer reads our "ok"; the closed one never does.
        let expected: &[u8] = match (row.fault, row.send) {
            (Half, SENT) => b".ok",
            _ => b".",
        };
        assert_eq!(c.recv, expected, "{row:?}: what the peer read");
    }
}

/// The connect and send rows: the calls a row makes depend on its operation and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `connect` to the `closed` target (the listener is gone), then `send("hello")`.
    ConnectRefused,
    /// `connect` to `backlog_full` (SYNs dropped) with a 150 ms connect timeout, then
    /// `send("hello")`.
    ConnectNoAccept,
    /// `connect` (`1`: the kernel's handshake) to a peer that faults at accept; 50 ms
    /// later `send("hello")`, then `receive_line()`.
    ConnectThenFault,
    /// After our go byte the peer sends `hi\n` and faults 30 ms later: `connect`,
    /// `receive_line()` twice, `send("hello")`.
    ConnectAnswerThenFault,
    /// The peer faults after our go byte: 80 ms later `send("hello")`, 50 ms later
    /// `send("again")`.
    SendBefore,
    /// The peer reads 64 KiB of an 8 MiB send (send timeout 2 s), then faults; then
    /// `send("y")`.
    SendDuring,
    /// The peer reads `hello` then faults: `send("hello")`, 50 ms later `send("again")`,
    /// 50 ms later `send("more")`.
    SendAfter,
    /// The peer never reads: an 8 MiB send with a 150 ms send timeout, then `send("y")`.
    SendNeverRead,
}

/// One connect or send row: what each of the row's calls returns (alternatives split by
/// ` | `), and what the peer read (`None`: not checked).
#[derive(Debug)]
struct OpRow {
    op: Op,
    fault: Option<Fault>,
    results: &'static [&'static str],
    /// Another outcome the kernel may give instead of `results`, as a whole.
    or: &'static [&'static str],
    peer_read: Option<&'static str>,
}

const fn op_row(
    op: Op,
    fault: Option<Fault>,
    results: &'static [&'static str],
    peer_read: Option<&'static str>,
) -> OpRow {
    OpRow {
        op,
        fault,
        results,
        or: &[],
        peer_read,
    }
}

const fn or(row: OpRow, other: &'static [&'static str]) -> OpRow {
    OpRow { or: other, ..row }
}

const TIMEOUT: &str = r#"(nil,"timeout")"#;

#[rustfmt::skip]
const OP_ROWS: &[OpRow] = &[
    op_row(Op::ConnectRefused, None, &[r#"(nil,"connection refused")"#, CLOSED], None),
    op_row(Op::ConnectNoAccept, None, &[TIMEOUT, CLOSED], None),
    // A send that meets the RST reports it; the read after it finds the EOF the reset left.
    // An RST that comes before the connect saw the socket writable fails the connect
    // (SO_ERROR): the object is then closed.
    or(op_row(Op::ConnectThenFault, Some(Rst), &["(1)", RESET, EOF], Some("")),
        &[RESET, CLOSED, CLOSED]),
    op_row(Op::ConnectThenFault, Some(Fin), &["(1)", "(5)", EOF], Some("")),
    op_row(Op::ConnectThenFault, Some(Half), &["(1)", "(5)", EOF], Some("hello")),
    op_row(Op::ConnectAnswerThenFault, Some(Rst), &["(1)", r#"("hi")"#, RST, PIPE], Some(".")),
    op_row(Op::ConnectAnswerThenFault, Some(Fin), &["(1)", r#"("hi")"#, EOF, "(5)"], Some(".")),
    op_row(Op::ConnectAnswerThenFault, Some(Half), &["(1)", r#"("hi")"#, EOF, "(5)"], Some(".hello")),
    // After a FIN our first send still goes to the kernel; the closed peer answers it with
    // an RST, which the next send reports as EPIPE (the RST came in CLOSE_WAIT).
    op_row(Op::SendBefore, Some(Rst), &[RESET, CLOSED], Some(".")),
    op_row(Op::SendBefore, Some(Fin), &["(5)", PIPE], Some(".")),
    op_row(Op::SendBefore, Some(Half), &["(5)", "(5)"], Some(".helloagain")),
    // The blocked send wakes with the reset. A peer that closes (its close step first
    // reads what is queued) sends an RST if our bytes are still in its receive queue, a
    // FIN if it read them all (then our next bytes get an RST, EPIPE after the FIN), or
    // it read the whole 8 MiB before closing (a kernel race; no FIN can come "during").
    op_row(Op::SendDuring, Some(Rst), &[RESET, CLOSED], None),
    or(op_row(Op::SendDuring, Some(Fin), &[r#"(nil,"connection reset by peer") | (nil,"broken pipe")"#, CLOSED], None),
        &["(8388608)", "(1)"]),
    op_row(Op::SendDuring, Some(Half), &["(8388608)", "(1)"], None),
    op_row(Op::SendAfter, Some(Rst), &["(5)", RESET, CLOSED], Some("hello")),
    op_row(Op::SendAfter, Some(Fin), &["(5)", "(5)", PIPE], Some("hello")),
    op_row(Op::SendAfter, Some(Half), &["(5)", "(5)", "(4)"], Some("helloagainmore")),
    op_row(Op::SendNeverRead, None, &[TIMEOUT, CLOSED], None),
];

fn op_script(row: &OpRow) -> Vec<Step> {
    let fault = row.fault.map(Fault::step);
    match row.op {
        Op::ConnectRefused | Op::ConnectNoAccept => vec![],
        Op::ConnectThenFault => fault.into_iter().collect(),
        Op::SendBefore => [Step::expect(1)].into_iter().chain(fault).collect(),
        Op::ConnectAnswerThenFault => [Step::expect(1), Step::send("hi\n"), Step::sleep(30)]
            .into_iter()
            .chain(fault)
            .collect(),
        Op::SendDuring => {
            let mut steps = vec![Step::expect(64 << 10)];
            steps.extend(fault);
            if row.fault == Some(Half) {
                steps.push(Step::Drain);
            }
            steps
        }
        Op::SendAfter => [Step::expect(5)].into_iter().chain(fault).collect(),
        Op::SendNeverRead => vec![Step::sleep(1000)],
    }
}

/// Runs the calls of `row` on a fresh socket; their renderings and durations.
async fn run_op<H: Harness>(
    t: &Case<H>,
    peer: &mut Peer,
    row: &OpRow,
) -> Vec<(String, Duration, Duration)> {
    let ms = Duration::from_millis;
    let mut s: StreamOf<H> = t.stream();
    s.set_timeouts(Some(ms(150)), Some(ms(2000)), Some(READ_TIMEOUT));
    let target = match row.op {
        Op::ConnectRefused => "closed",
        Op::ConnectNoAccept => "backlog_full",
        _ => "peer",
    };
    // Every target is made before the timed calls (backlog_full takes 50 ms).
    peer.target(target).expect("the target");
    let mut out = Vec::new();
    let started = Instant::now();
    let connected = connect_target(&mut s, peer, target, &ConnectOptions::new()).await;
    let took = started.elapsed();
    match row.op {
        Op::ConnectRefused
        | Op::ConnectNoAccept
        | Op::ConnectThenFault
        | Op::ConnectAnswerThenFault => {
            out.push((connected.render(), took, ms(150)));
        }
        _ => connected.expect("connect to the peer"),
    }
    macro_rules! timed {
        ($timeout:expr, $call:expr) => {{
            let started = Instant::now();
            let got = $call.await.render();
            out.push((got, started.elapsed(), $timeout));
        }};
    }
    let big = vec![b'z'; 8 << 20];
    match row.op {
        Op::ConnectRefused | Op::ConnectNoAccept => {
            timed!(ms(2000), s.send("hello"));
        }
        Op::ConnectThenFault => {
            t.sleep_ms(50).await;
            timed!(ms(2000), s.send("hello"));
            timed!(READ_TIMEOUT, s.receive_line());
        }
        Op::ConnectAnswerThenFault => {
            s.send(".").await.expect("the go byte");
            timed!(READ_TIMEOUT, s.receive_line());
            timed!(READ_TIMEOUT, s.receive_line());
            timed!(ms(2000), s.send("hello"));
        }
        Op::SendBefore => {
            s.send(".").await.expect("the go byte");
            t.sleep_ms(80).await;
            timed!(ms(2000), s.send("hello"));
            t.sleep_ms(50).await;
            timed!(ms(2000), s.send("again"));
        }
        Op::SendDuring => {
            timed!(ms(2000), s.send(&big));
            timed!(ms(2000), s.send("y"));
        }
        Op::SendAfter => {
            timed!(ms(2000), s.send("hello"));
            t.sleep_ms(50).await;
            timed!(ms(2000), s.send("again"));
            t.sleep_ms(50).await;
            timed!(ms(2000), s.send("more"));
        }
        Op::SendNeverRead => {
            s.set_send_timeout(ms(150));
            timed!(ms(150), s.send(&big));
            timed!(ms(150), s.send("y"));
        }
    }
    out
}

/// Connect and send × RST / FIN / half-close × before / during / after, the listener that
/// is gone, the full accept queue and the peer that never reads (18 rows; one peer each).
pub async fn x_fault_matrix_connect_send<H: Harness>(t: Case<H>) {
    for row in OP_ROWS {
        let what = format!("{:?} {:?}", row.op, row.fault);
        let mut peer = start(PeerSpec::tcp(op_script(row)));
        let got = run_op(&t, &mut peer, row).await;
        let rendered: Vec<&str> = got.iter().map(|(g, _, _)| g.as_str()).collect();
        let results = if !row.or.is_empty() && rendered == row.or {
            row.or
        } else {
            row.results
        };
        assert_eq!(
            got.len(),
            row.results.len(),
            "{what}: {rendered:?} for {:?}",
            row.results
        );
        for (i, ((got, took, timeout), expected)) in got.iter().zip(results).enumerate() {
            check(&format!("{what}: call {i} of {rendered:?}"), got, expected);
            in_time(&format!("{what}: call {i}"), *took, *timeout);
        }
        if let Some(expected) = row.peer_read {
            let report = finish(peer);
            assert_eq!(
                report.connections()[0].recv,
                expected.as_bytes(),
                "{what}: what the peer read"
            );
        }
    }
}

/// Where in a pooled connection's life the peer faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PoolPoint {
    /// While idle in the pool: the watcher (spec §5.6) removes it, the next connect opens
    /// a fresh connection and its request succeeds.
    Idle,
    /// While idle, but the executor thread is blocked from the fault to the checkout, so a
    /// watcher on that thread cannot run: checkout makes no check (spec §5.3), so either
    /// the watcher ran elsewhere (a fresh connection, as `Idle`) or the dead connection is
    /// handed out and the request fails cleanly (as `CheckedOut`).
    IdleUnwatched,
    /// Right after the checkout, before the reused request: the request fails cleanly.
    CheckedOut,
    /// During the reused request, after part of the answer.
    Request,
}

/// One pool row: `second` are the results of the calls after the checkout.
#[derive(Debug)]
struct PoolRow {
    point: PoolPoint,
    fault: Fault,
    second: &'static [&'static str],
    /// The other outcome the runtime's scheduling may give, as a whole.
    or: &'static [&'static str],
}

#[rustfmt::skip]
const POOL_ROWS: &[PoolRow] = &[
    // connect's reuse count, send("req2"), receive_line(), set_keepalive(), close(): a
    // send error and a read error close both halves, so close() finds nothing open
    // (spec §2.6).
    PoolRow { point: PoolPoint::Idle, fault: Rst, second: &["(0)", "(4)", r#"("ok")"#, "(1)", CLOSED], or: &[] },
    PoolRow { point: PoolPoint::Idle, fault: Fin, second: &["(0)", "(4)", r#"("ok")"#, "(1)", CLOSED], or: &[] },
    PoolRow { point: PoolPoint::Idle, fault: Half, second: &["(0)", "(4)", r#"("ok")"#, "(1)", CLOSED], or: &[] },
    PoolRow { point: PoolPoint::IdleUnwatched, fault: Rst, second: &["(0)", "(4)", r#"("ok")"#, "(1)", CLOSED], or: &["(1)", RESET, EOF, CLOSED, CLOSED] },
    PoolRow { point: PoolPoint::IdleUnwatched, fault: Fin, second: &["(0)", "(4)", r#"("ok")"#, "(1)", CLOSED], or: &["(1)", "(4)", EOF, CLOSED, "(1)"] },
    PoolRow { point: PoolPoint::IdleUnwatched, fault: Half, second: &["(0)", "(4)", r#"("ok")"#, "(1)", CLOSED], or: &["(1)", "(4)", EOF, CLOSED, "(1)"] },
    PoolRow { point: PoolPoint::CheckedOut, fault: Rst, second: &["(1)", RESET, EOF, CLOSED, CLOSED], or: &[] },
    PoolRow { point: PoolPoint::CheckedOut, fault: Fin, second: &["(1)", "(4)", EOF, CLOSED, "(1)"], or: &[] },
    PoolRow { point: PoolPoint::CheckedOut, fault: Half, second: &["(1)", "(4)", EOF, CLOSED, "(1)"], or: &[] },
    PoolRow { point: PoolPoint::Request, fault: Rst, second: &["(1)", "(4)", r#"(nil,"connection reset by peer","o")"#, CLOSED, "(1)"], or: &[] },
    PoolRow { point: PoolPoint::Request, fault: Fin, second: &["(1)", "(4)", r#"(nil,"closed","o")"#, CLOSED, "(1)"], or: &[] },
    PoolRow { point: PoolPoint::Request, fault: Half, second: &["(1)", "(4)", r#"(nil,"closed","o")"#, CLOSED, "(1)"], or: &[] },
];

/// A peer that closes a pooled connection at each point of the pool's life: idle, right
/// after checkout, during the reused request (12 rows; one peer each).
pub async fn x_fault_matrix_pool<H: Harness>(t: Case<H>) {
    for (i, row) in POOL_ROWS.iter().enumerate() {
        let what = format!("{row:?}");
        let first = [Step::expect(4), Step::send("ok\n")];
        let fault = row.fault.step();
        let a: Vec<Step> = match row.point {
            PoolPoint::Idle | PoolPoint::IdleUnwatched => {
                first.into_iter().chain([Step::sleep(50), fault]).collect()
            }
            PoolPoint::CheckedOut => first.into_iter().chain([Step::sleep(200), fault]).collect(),
            PoolPoint::Request => first
                .into_iter()
                .chain([Step::expect(4), Step::send("o"), Step::sleep(20), fault])
                .collect(),
        };
        let b = vec![Step::expect(4), Step::send("ok\n")];
        let mut peer = start(PeerSpec::per_connection(PeerKind::Tcp, vec![a, b], vec![]));
        let cx = t.cx();
        let key = format!("fault-pool-{i}");
        let opts = ConnectOptions::new().pool(key.clone());
        let mut s = cx.stream();
        s.set_read_timeout(READ_TIMEOUT);
        connect_target(&mut s, &mut peer, "peer", &opts)
            .await
            .expect("connect");
        check(&what, &s.send("req1").await.render(), "(4)");
        check(&what, &s.receive_line().await.render(), r#"("ok")"#);
        check(&what, &s.set_keepalive(None, None).render(), "(1)");
        match row.point {
            PoolPoint::Idle => {
                wait_until(&t, "the watcher removed the idle connection", || {
                    cx.pool_stats(&key).is_none()
                })
                .await;
            }
            PoolPoint::IdleUnwatched => {
                // Blocks the executor's thread (not a yield) while the fault arrives.
                std::thread::sleep(Duration::from_millis(250));
            }
            PoolPoint::CheckedOut | PoolPoint::Request => {}
        }
        let mut got = Vec::new();
        let started = Instant::now();
        connect_target(&mut s, &mut peer, "peer", &opts)
            .await
            .expect("checkout");
        in_time(&what, started.elapsed(), Duration::from_millis(2000));
        got.push(s.reused_times().render());
        if row.point == PoolPoint::CheckedOut {
            // The fault arrives while the connection is checked out, before the request.
            t.sleep_ms(400).await;
        }
        let started = Instant::now();
        got.push(s.send("req2").await.render());
        in_time(&what, started.elapsed(), Duration::from_millis(2000));
        let started = Instant::now();
        got.push(s.receive_line().await.render());
        in_time(&what, started.elapsed(), READ_TIMEOUT);
        got.push(s.set_keepalive(None, None).render());
        got.push(s.close().render());
        let rendered: Vec<&str> = got.iter().map(String::as_str).collect();
        let fresh = rendered[0] == "(0)";
        if row.point == PoolPoint::IdleUnwatched {
            let how = if fresh { "a fresh one" } else { "the dead one" };
            eprintln!(
                "x_fault_matrix_pool: {:?} while unwatched: {how}",
                row.fault
            );
        }
        if rendered != row.or {
            assert_eq!(rendered, row.second, "{what}");
        }
        match row.point {
            PoolPoint::Idle | PoolPoint::IdleUnwatched if fresh => {
                let stats = cx.pool_stats(&key).expect("the fresh connection pooled");
                assert_eq!((stats.connections, stats.idle), (1, 1), "{what}");
            }
            _ => {
                // Both halves closed or close(): the place is back, the pool gone.
                assert!(cx.pool_stats(&key).is_none(), "{what}: pool destroyed");
            }
        }
        drop(peer);
    }
}
