//! Properties of the plain readers (`*l`, `*a`, exactly n, any up to max):
//!
//! 1. Over random segmentations and buffer sizes they match a naive reference of spec
//!    §2.2–§2.4 (a `Vec` buffer filled one `recv` at a time, each asking for the free space
//!    of the current segment).
//! 2. With timeouts (a read still waiting when the peer pauses), iterators and every reader
//!    interleaved, every output is the next bytes of the stream, in order, with nothing
//!    lost or duplicated: each call's consumed bytes are exactly what it returned (for `*l`
//!    with its LF and CRs; for `receive_until` with the pattern it consumed), and at the
//!    end consumed + buffered = received.

mod common;

use std::collections::VecDeque;

use bytes::Bytes;
use common::{Op, Outcome, Session, cases, feed_segmented};
use proptest::prelude::*;

/// The naive reference: what arrived is a queue of chunks; one recv takes at most the free
/// space of the current segment from the front chunk.
struct Reference {
    chunks: VecDeque<Vec<u8>>,
    buffered: Vec<u8>,
    segment: usize,
    fill: usize,
    eof: bool,
    closed: bool,
}

impl Reference {
    /// One recv; false at the end of the stream.
    fn recv(&mut self) -> bool {
        let Some(front) = self.chunks.front_mut() else {
            self.eof = true;
            return false;
        };
        let n = (self.segment - self.fill).min(front.len());
        self.buffered.extend(front.drain(..n));
        if front.is_empty() {
            self.chunks.pop_front();
        }
        self.fill = (self.fill + n) % self.segment;
        true
    }

    fn take(&mut self, n: usize) -> Bytes {
        let out: Vec<u8> = self.buffered.drain(..n).collect();
        if self.buffered.is_empty() {
            self.fill = 0;
        }
        out.into()
    }

    fn fail_eof(&mut self, partial: Bytes) -> Outcome {
        self.closed = true;
        Outcome::Fail {
            message: "closed".into(),
            partial: Some(partial),
        }
    }

    fn call(&mut self, op: Op) -> Outcome {
        if self.closed {
            return Outcome::Fail {
                message: "closed".into(),
                partial: None,
            };
        }
        match op {
            Op::Line => loop {
                if let Some(i) = self.buffered.iter().position(|&b| b == b'\n') {
                    let line = self.take(i + 1);
                    return Outcome::Data(
                        line[..i]
                            .iter()
                            .copied()
                            .filter(|&b| b != b'\r')
                            .collect::<Vec<_>>()
                            .into(),
                    );
                }
                if self.eof || !self.recv() {
                    let all = self.take(self.buffered.len());
                    let stripped: Vec<u8> = all.iter().copied().filter(|&b| b != b'\r').collect();
                    return self.fail_eof(stripped.into());
                }
            },
            Op::All => {
                while !self.eof && self.recv() {}
                Outcome::Data(self.take(self.buffered.len()))
            }
            Op::Exact(n) => loop {
                if self.buffered.len() >= n {
                    return Outcome::Data(self.take(n));
                }
                if self.eof || !self.recv() {
                    let all = self.take(self.buffered.len());
                    return self.fail_eof(all);
                }
            },
            Op::Any(max) => {
                if self.buffered.is_empty() && (self.eof || !self.recv()) {
                    return self.fail_eof(Bytes::new());
                }
                let n = max.min(self.buffered.len());
                Outcome::Data(self.take(n))
            }
            Op::Until(..) => unreachable!("not generated here"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Line),
        1 => Just(Op::All),
        3 => (0usize..9).prop_map(Op::Exact),
        3 => (1usize..9).prop_map(Op::Any),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(proptest::sample::select(b"ab\r\n".to_vec()), 0..200),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

fn chunks() -> impl Strategy<Value = Vec<(usize, bool)>> {
    proptest::collection::vec((1usize..17, any::<bool>()), 1..10)
}

fn segment() -> impl Strategy<Value = usize> {
    prop_oneof![Just(1usize), Just(2), Just(5), Just(16), Just(4096)]
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn readers_match_the_reference(stream in stream(), chunks in chunks(), segment in segment(), ops in proptest::collection::vec(op(), 1..30)) {
        let mut s = Session::new(segment);
        feed_segmented(&mut s, &stream, &chunks);
        // The reference sees the same chunks (pauses do not change what a recv returns).
        let mut reference = Reference { chunks: VecDeque::new(), buffered: Vec::new(), segment, fill: 0, eof: false, closed: false };
        let mut at = 0;
        let mut i = 0;
        while at < stream.len() {
            let end = (at + chunks[i % chunks.len()].0).min(stream.len());
            reference.chunks.push_back(stream[at..end].to_vec());
            at = end;
            i += 1;
        }
        for (i, &op) in ops.iter().enumerate() {
            prop_assert_eq!(s.call(op), reference.call(op), "op #{} {:?}", i, op);
        }
    }
}

/// What `op` may have consumed, given its outcome, checked against the stream bytes it did
/// consume.
fn check_consumed(
    op: Op,
    out: &Outcome,
    region: &[u8],
    pattern: Option<(&[u8], bool)>,
) -> Result<(), String> {
    let no_cr = |b: &[u8]| {
        b.iter()
            .copied()
            .filter(|&c| c != b'\r')
            .collect::<Vec<u8>>()
    };
    let fail = |why: &str| {
        Err(format!(
            "{op:?} → {out:?} consumed {:?}: {why}",
            region.escape_ascii().to_string()
        ))
    };
    match (op, out) {
        (_, Outcome::Fail { partial: None, .. }) | (_, Outcome::EndOfPart) => {
            if !region.is_empty() {
                return fail("consumed without returning");
            }
        }
        (Op::Line, Outcome::Data(line)) => {
            if region.last() != Some(&b'\n')
                || region[..region.len() - 1].contains(&b'\n')
                || no_cr(&region[..region.len() - 1]) != line[..]
            {
                return fail("not one line");
            }
        }
        (
            Op::Line,
            Outcome::Fail {
                partial: Some(p), ..
            },
        ) => {
            if region.contains(&b'\n') || no_cr(region) != p[..] {
                return fail("partial line");
            }
        }
        (Op::Until(..), Outcome::Data(chunk)) => {
            let (pat, inclusive) = pattern.unwrap();
            let ok = region == &chunk[..]
                || (!inclusive
                    && region.len() == chunk.len() + pat.len()
                    && region.starts_with(chunk)
                    && region.ends_with(pat));
            if !ok {
                return fail("chunk");
            }
        }
        (
            Op::Until(..),
            Outcome::Fail {
                message,
                partial: Some(p),
            },
        ) => {
            // At EOF the withheld bytes (a proper prefix of the pattern) are discarded.
            let (pat, _) = pattern.unwrap();
            let rest = region
                .strip_prefix(&p[..])
                .map(|r| r.len() < pat.len() && pat.starts_with(r));
            if !(rest == Some(true) && (message == "closed" || region.len() == p.len())) {
                return fail("partial chunk");
            }
        }
        (_, Outcome::Data(d))
        | (
            _,
            Outcome::Fail {
                partial: Some(d), ..
            },
        ) => {
            if region != &d[..] {
                return fail("bytes");
            }
            if let (Op::Exact(n), Outcome::Data(_)) = (op, out) {
                if d.len() != n {
                    return fail("length");
                }
            }
            if let (Op::Any(max), Outcome::Data(_)) = (op, out) {
                if d.is_empty() || d.len() > max {
                    return fail("any size");
                }
            }
        }
    }
    Ok(())
}

fn any_op(iterators: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        op(),
        (0..iterators, 0usize..5).prop_map(|(i, size)| Op::Until(i, size)),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Peer(Vec<u8>),
    Fin,
    Call(Op),
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn nothing_is_lost_or_duplicated(
        patterns in proptest::collection::vec((proptest::collection::vec(proptest::sample::select(b"ab\n".to_vec()), 1..5), any::<bool>()), 1..3),
        steps in proptest::collection::vec(prop_oneof![
            proptest::collection::vec(proptest::sample::select(b"aab\r\n".to_vec()), 0..12).prop_map(Step::Peer),
            any_op(2).prop_map(Step::Call),
        ], 1..40),
        segment in segment(),
        fin in any::<bool>(),
    ) {
        let mut s = Session::new(segment);
        let n = patterns.len();
        for (p, inclusive) in &patterns {
            s.until(std::str::from_utf8(p).unwrap(), *inclusive);
        }
        let mut stream = Vec::new();
        let mut cursor = 0usize;
        let mut steps = steps;
        if fin {
            // The peer closes, then one last read takes everything.
            steps.push(Step::Fin);
            steps.push(Step::Call(Op::All));
        }
        for step in &steps {
            match step {
                // A peer step, then a pause: a call waiting after it times out.
                Step::Peer(bytes) => {
                    s.send(bytes);
                    stream.extend_from_slice(bytes);
                }
                Step::Fin => s.fin(),
                Step::Call(op) => {
                    let op = match *op { Op::Until(i, size) => Op::Until(i % n, size), other => other };
                    let before = s.buf.consumed() as usize;
                    let out = s.call(op);
                    let after = s.buf.consumed() as usize;
                    prop_assert_eq!(before, cursor);
                    let pattern = match op {
                        Op::Until(i, _) => Some((&patterns[i].0[..], patterns[i].1)),
                        _ => None,
                    };
                    if let Err(why) = check_consumed(op, &out, &stream[cursor..after], pattern) {
                        return Err(TestCaseError::fail(why));
                    }
                    cursor = after;
                }
            }
        }
        // Nothing lost: what was received and not consumed is still buffered, in order.
        let received = s.buf.received() as usize;
        prop_assert_eq!(s.buf.buffered(), &stream[cursor..received]);
    }
}
