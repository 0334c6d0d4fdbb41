//! Issue 19's random driver, kept as a suite: random reads of every kind (line, borrowed
//! line, exact, borrowed exact, any, `receive_until` whole and in chunks, inclusive or
//! not) over random streams that arrive in random segments, through the socket, a
//! borrowed read half or owned halves put back together, with random cancellation after
//! a few polls, and a peer that ends with a FIN or an RST. Every result is checked
//! against a model of the stream (a byte string and a position): no byte lost, none
//! reordered, no panic. 40 connections per harness in CI; `COSOCKET_LOAD=full` runs 2 500
//! (about 75 000 reads).

use std::num::NonZeroUsize;

use cosocket_core::{Bytes, ErrorKind, Result, StreamRead, StreamSock, StreamWrite, Until};

use super::{connected_with_buffer, finish, start};
use crate::Case;
use crate::cancel::within_polls;
use crate::harness::Harness;
use crate::peer::{PeerKind, PeerSpec, Step};

/// The pattern of the `receive_until` reads.
const PATTERN: &[u8] = b"--x";

/// Chunk calls cut inside a chunked part, in this process.
static CHUNK_CUTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Operations per connection.
const OPS: usize = 40;

/// One read, as the model sees it.
#[derive(Debug, Clone, Copy)]
enum Op {
    Line,
    LineRef,
    Exact(usize),
    ExactRef(usize),
    Any(usize),
    Until { inclusive: bool },
    Chunks { size: usize, inclusive: bool },
}

/// The stream and how far the reads got.
struct Model {
    stream: Vec<u8>,
    pos: usize,
    segment: usize,
}

impl Model {
    fn rest(&self) -> &[u8] {
        &self.stream[self.pos..]
    }

    /// A read the rest of the stream can complete, chosen at random.
    fn pick(&self, rng: &mut fastrand::Rng) -> Option<Op> {
        let rest = self.rest();
        if rest.is_empty() {
            return None;
        }
        let has_line = rest.contains(&b'\n');
        let has_part = find(rest, PATTERN).is_some();
        loop {
            let op = match rng.u8(0..7) {
                0 if has_line => Op::Line,
                1 if has_line => Op::LineRef,
                2 => Op::Exact(rng.usize(1..=rest.len().min(300))),
                3 => Op::ExactRef(rng.usize(1..=rest.len().min(300))),
                4 => Op::Any(rng.usize(1..=400)),
                5 if has_part => Op::Until {
                    inclusive: rng.bool(),
                },
                6 if has_part => Op::Chunks {
                    size: rng.usize(1..=8),
                    inclusive: rng.bool(),
                },
                _ => continue,
            };
            return Some(op);
        }
    }

    /// Checks what `op` returned and moves past it.
    fn take(&mut self, op: Op, got: &[u8], at: &str) {
        let rest = self.rest();
        let (expected, used): (Vec<u8>, usize) = match op {
            Op::Line | Op::LineRef => {
                let nl = rest.iter().position(|&b| b == b'\n').expect("a line");
                // `*l` drops every CR of the line (spec §2.4).
                let line = rest[..nl].iter().copied().filter(|&b| b != b'\r').collect();
                (line, nl + 1)
            }
            Op::Exact(n) | Op::ExactRef(n) => (rest[..n].to_vec(), n),
            Op::Any(n) => {
                assert!(
                    !got.is_empty() && got.len() <= n.min(self.segment),
                    "{at}: receive_any({n}) with buffer_size {} gave {} bytes",
                    self.segment,
                    got.len()
                );
                (rest[..got.len()].to_vec(), got.len())
            }
            Op::Until { inclusive } | Op::Chunks { inclusive, .. } => {
                let at_pattern = find(rest, PATTERN).expect("a part");
                let end = at_pattern + PATTERN.len();
                let part = if inclusive { end } else { at_pattern };
                (rest[..part].to_vec(), end)
            }
        };
        assert!(
            got == expected.as_slice(),
            "{at}: {op:?} gave {:?}, the stream has {:?}",
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(&expected)
        );
        self.pos += used;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A random stream: lines and parts over a small alphabet, with the odd CR.
fn stream(rng: &mut fastrand::Rng) -> Vec<u8> {
    let len = rng.usize(200..3000);
    (0..len)
        .map(|_| match rng.u8(0..40) {
            0..=9 => b'a',
            10..=16 => b'b',
            17..=27 => b'-',
            28..=33 => b'x',
            34..=38 => b'\n',
            _ => b'\r',
        })
        .collect()
}

/// The peer's script: the stream in random segments (some after a short pause), then,
/// once the client says so, the end (FIN or RST).
fn script(stream: &[u8], rst: bool, rng: &mut fastrand::Rng) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = rng.usize(1..=rest.len().min(100));
        steps.push(Step::send(&rest[..n]));
        if rng.bool() {
            steps.push(Step::sleep(1));
        }
        rest = &rest[n..];
    }
    steps.push(Step::expect(1));
    steps.push(if rst { Step::Reset } else { Step::Close });
    steps
}

/// `op` on `r`: the bytes it returned (a chunked part concatenated).
async fn read<R: StreamRead>(r: &mut R, op: Op) -> Result<Vec<u8>> {
    let bytes = |b: Bytes| b.to_vec();
    match op {
        Op::Line => r.receive_line().await.map(bytes),
        Op::LineRef => r.receive_line_ref().await.map(<[u8]>::to_vec),
        Op::Exact(n) => r.receive_exact(n).await.map(bytes),
        Op::ExactRef(n) => r.receive_exact_ref(n).await.map(<[u8]>::to_vec),
        Op::Any(n) => r.receive_any(n).await.map(bytes),
        Op::Until { inclusive } => {
            let mut until = Until::new(PATTERN).expect("pattern").inclusive(inclusive);
            r.receive_until(&mut until).await.map(bytes)
        }
        Op::Chunks { size, inclusive } => {
            let mut until = Until::new(PATTERN).expect("pattern").inclusive(inclusive);
            let size = NonZeroUsize::new(size).expect("size");
            let mut part = Vec::new();
            // A cut chunk call loses nothing: the iterator and the buffer stay as they
            // were, so the same call is made again with a larger budget.
            let mut budget = 1;
            loop {
                match within_polls(budget, r.receive_until_chunk(&mut until, size)).await {
                    None => {
                        CHUNK_CUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        budget += 1;
                    }
                    Some(Ok(Some(piece))) => {
                        // A chunk may be longer than its size by withheld bytes and, when
                        // inclusive, the pattern (spec §2.5's size mode).
                        assert!(
                            piece.len() <= size.get() + 2 * PATTERN.len(),
                            "a chunk of {} bytes for a size of {size}",
                            piece.len()
                        );
                        part.extend_from_slice(&piece);
                    }
                    Some(Ok(None)) => return Ok(part),
                    Some(Err(e)) => return Err(e),
                }
            }
        }
    }
}

/// Random reads against random streams: every result is the model's.
pub async fn x_random_driver<H: Harness>(t: Case<H>) {
    let connections = if std::env::var("COSOCKET_LOAD").is_ok_and(|v| v == "full") {
        2_500
    } else {
        40
    };
    let mut rng = fastrand::Rng::with_seed(19);
    let streams: Vec<(Vec<u8>, bool)> = (0..connections)
        .map(|_| (stream(&mut rng), rng.bool()))
        .collect();
    let scripts = streams
        .iter()
        .map(|(s, rst)| script(s, *rst, &mut rng))
        .collect();
    let mut peer = start(PeerSpec::per_connection(PeerKind::Tcp, scripts, vec![]));
    let (mut ops, mut cut) = (0usize, 0usize);
    for (c, (stream, rst)) in streams.into_iter().enumerate() {
        let segment = [1, 7, 64, 4096][rng.usize(0..4)];
        let mut s = connected_with_buffer(&t, &mut peer, segment).await;
        let mut model = Model {
            stream,
            pos: 0,
            segment,
        };
        // The peer ends the stream (FIN or RST) once it reads this: at a random point,
        // after which the reads go on over what already arrived.
        let end_at = rng.usize(0..OPS);
        let mut signalled = false;
        for i in 0..OPS {
            let at = format!("connection {c} op {i}");
            if i == end_at {
                s.send("!").await.expect("the end signal");
                signalled = true;
            }
            let Some(op) = model.pick(&mut rng) else {
                break;
            };
            ops += 1;
            // A chunked part is many calls, each cut inside `read`; cutting the whole
            // would drop the chunks already returned, which the model cannot tell.
            let budget = if rng.u8(0..3) == 0 && !matches!(op, Op::Chunks { .. }) {
                rng.u32(1..4)
            } else {
                u32::MAX
            };
            let got = match rng.u8(0..10) {
                0 => {
                    let (mut r, _w) = s.split();
                    within_polls(budget, read(&mut r, op)).await
                }
                1 => {
                    let (mut r, w) = s.into_split();
                    let got = within_polls(budget, read(&mut r, op)).await;
                    s = <super::StreamOf<H> as StreamSock>::reunite(r, w).expect("reunite");
                    got
                }
                _ => within_polls(budget, read(&mut s, op)).await,
            };
            match got {
                None => cut += 1,
                Some(Ok(bytes)) => model.take(op, &bytes, &at),
                Some(Err(e)) => panic!("{at}: {op:?} failed: {e}"),
            }
        }
        if !signalled {
            s.send("!").await.expect("the end signal");
        }
        // The rest of the stream, then the peer's end.
        let rest = model.rest().len();
        if rest > 0 {
            let got = s.receive_exact(rest).await.expect("the rest");
            model.take(Op::Exact(rest), &got, &format!("connection {c}, the rest"));
        }
        let end = s.receive_any(1).await.expect_err("the end");
        let kind = if rst {
            ErrorKind::Reset
        } else {
            ErrorKind::Eof
        };
        assert_eq!(end.kind(), kind, "connection {c}: {end}");
        let _ = s.close();
    }
    drop(finish(peer));
    let chunk_cuts = CHUNK_CUTS.load(std::sync::atomic::Ordering::Relaxed);
    // Most reads find their bytes already buffered; the floor is low for a loaded machine.
    assert!(cut >= 10, "only {cut} of {ops} reads were cut");
    eprintln!(
        "random driver: {connections} connections, {ops} reads, {cut} cut, and {chunk_cuts} \
         chunk calls cut inside a part (this process)"
    );
}
