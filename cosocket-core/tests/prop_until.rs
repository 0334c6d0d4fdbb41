//! Property: `receive_until` (mixed with `*l`, `*a` and exact reads, several iterators on
//! one stream) behaves as an independent reference model of spec §2.5 over random
//! patterns (small alphabets, so self-overlapping ones are common), random streams,
//! segmentations, buffer sizes, sizes and inclusive on/off.
//!
//! The reference works on the stream as a queue of bytes. Its iterator keeps its withheld
//! bytes itself and gives them back to the front of the queue when another read runs, and
//! its automaton is KMP by definition (the longest suffix of the withheld bytes plus the
//! new byte that is a prefix of the pattern), not the spec's recovery edges: agreement
//! checks the spec's claim that the edges make an exact KMP automaton, as well as the
//! emission points of rules 1–4.

mod common;

use std::collections::VecDeque;

use bytes::Bytes;
use common::{Op, Outcome, Session, cases, feed_segmented};
use proptest::prelude::*;

struct RefUntil {
    pattern: Vec<u8>,
    inclusive: bool,
    withheld: Vec<u8>,
    done: bool,
}

struct Reference {
    stream: VecDeque<u8>,
    closed: bool,
    untils: Vec<RefUntil>,
}

fn strip_cr(bytes: &[u8]) -> Bytes {
    bytes
        .iter()
        .copied()
        .filter(|&b| b != b'\r')
        .collect::<Vec<u8>>()
        .into()
}

fn eof(partial: impl Into<Bytes>) -> Outcome {
    Outcome::Fail {
        message: "closed".into(),
        partial: Some(partial.into()),
    }
}

impl Reference {
    /// Another read runs: every iterator's withheld bytes go back to the stream.
    fn push_back_all_but(&mut self, keep: Option<usize>) {
        for (i, u) in self.untils.iter_mut().enumerate() {
            if Some(i) != keep && !u.withheld.is_empty() {
                for &b in u.withheld.iter().rev() {
                    self.stream.push_front(b);
                }
                u.withheld.clear();
            }
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.stream.drain(..n).collect()
    }

    fn call(&mut self, op: Op) -> Outcome {
        if self.closed {
            return Outcome::Fail {
                message: "closed".into(),
                partial: None,
            };
        }
        if let Op::Until(i, _) = op {
            if self.untils[i].done {
                self.untils[i].done = false;
                return Outcome::EndOfPart;
            }
            self.push_back_all_but(Some(i));
        } else {
            self.push_back_all_but(None);
        }
        match op {
            Op::Line => match self.stream.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let line = self.take(i + 1);
                    Outcome::Data(strip_cr(&line[..i]))
                }
                None => {
                    self.closed = true;
                    let all = self.take(self.stream.len());
                    eof(strip_cr(&all))
                }
            },
            Op::All => Outcome::Data(self.take(self.stream.len()).into()),
            Op::Exact(n) if self.stream.len() >= n => Outcome::Data(self.take(n).into()),
            Op::Exact(_) => {
                self.closed = true;
                eof(self.take(self.stream.len()))
            }
            Op::Any(_) => unreachable!("not generated here"),
            Op::Until(i, size) => self.until(i, size),
        }
    }

    fn until(&mut self, i: usize, size: usize) -> Outcome {
        let u = &mut self.untils[i];
        let p = u.pattern.clone();
        let m = p.len();
        let mut budget = (size > 0).then_some(size);
        let mut out = Vec::new();
        // Emits `bytes`; whether the call returns now (budget <= emitted).
        let spend = |out: &mut Vec<u8>, budget: &mut Option<usize>, bytes: &[u8]| -> bool {
            out.extend_from_slice(bytes);
            match budget {
                None => false,
                Some(b) if *b <= bytes.len() => true,
                Some(b) => {
                    *b -= bytes.len();
                    false
                }
            }
        };
        loop {
            let Some(c) = self.stream.pop_front() else {
                u.withheld.clear();
                self.closed = true;
                return eof(out);
            };
            let s = u.withheld.len();
            if c == p[s] {
                u.withheld.push(c);
                if u.withheld.len() == m {
                    if u.inclusive {
                        out.extend_from_slice(&p);
                    }
                    u.withheld.clear();
                    u.done = budget.is_some();
                    return Outcome::Data(out.into());
                }
                continue;
            }
            if s == 0 {
                if spend(&mut out, &mut budget, &[c]) {
                    return Outcome::Data(out.into());
                }
                continue;
            }
            // KMP by definition: the longest proper prefix of p that ends w.
            let mut w = u.withheld.clone();
            w.push(c);
            let t = (1..=s).rev().find(|&k| w.ends_with(&p[..k])).unwrap_or(0);
            if t >= 2 {
                let emit = w.len() - t;
                u.withheld = w[emit..].to_vec();
                if spend(&mut out, &mut budget, &w[..emit]) {
                    return Outcome::Data(out.into());
                }
            } else {
                // Rule 4: give back the withheld bytes, examine `c` again from state 0.
                let held = std::mem::take(&mut u.withheld);
                self.stream.push_front(c);
                if spend(&mut out, &mut budget, &held) {
                    return Outcome::Data(out.into());
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    stream: Vec<u8>,
    patterns: Vec<(Vec<u8>, bool)>,
    ops: Vec<Op>,
    chunks: Vec<(usize, bool)>,
    segment: usize,
}

fn alphabet() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"ab".to_vec()),
        Just(b"ab-".to_vec()),
        Just(b"ab\n\r".to_vec()),
        Just(b"aaab".to_vec())
    ]
}

fn case() -> impl Strategy<Value = Case> {
    alphabet().prop_flat_map(|abc| {
        let byte = proptest::sample::select(abc);
        let pattern = (proptest::collection::vec(byte.clone(), 1..7), any::<bool>());
        (
            proptest::collection::vec(byte, 0..160),
            proptest::collection::vec(pattern, 1..3),
            proptest::collection::vec((0usize..4, 0usize..2, 0usize..6), 1..24),
            proptest::collection::vec((1usize..12, any::<bool>()), 1..8),
            prop_oneof![Just(1usize), Just(2), Just(3), Just(7), Just(4096)],
        )
            .prop_map(|(stream, patterns, raw_ops, chunks, segment)| {
                let n = patterns.len();
                let ops = raw_ops
                    .into_iter()
                    .map(|(kind, it, size)| match kind {
                        0 | 1 => Op::Until(it % n, size),
                        2 => Op::Exact(size % 4),
                        _ if size == 5 => Op::All,
                        _ => Op::Line,
                    })
                    .collect();
                Case {
                    stream,
                    patterns,
                    ops,
                    chunks,
                    segment,
                }
            })
    })
}

fn run_case(case: &Case) {
    let mut s = Session::new(case.segment);
    feed_segmented(&mut s, &case.stream, &case.chunks);
    let mut reference = Reference {
        stream: case.stream.iter().copied().collect(),
        closed: false,
        untils: Vec::new(),
    };
    for (pattern, inclusive) in &case.patterns {
        s.untils.push(
            cosocket_core::Until::new(pattern)
                .unwrap()
                .inclusive(*inclusive),
        );
        reference.untils.push(RefUntil {
            pattern: pattern.clone(),
            inclusive: *inclusive,
            withheld: Vec::new(),
            done: false,
        });
    }
    for (i, &op) in case.ops.iter().enumerate() {
        let got = s.call(op);
        let want = reference.call(op);
        assert_eq!(got, want, "op #{i} {op:?} of {case:?}");
    }
}

proptest! {
    #![proptest_config(cases(4000))]

    #[test]
    fn until_and_plain_reads_match_the_reference(case in case()) {
        run_case(&case);
    }
}

/// A few adversarial self-overlapping patterns, every stream of length ≤ 9 over {a, b}.
#[test]
fn exhaustive_small_streams() {
    for pattern in ["aab", "aba", "abab", "aabaa", "abaab", "aaaab", "babb"] {
        for len in 0..=9u32 {
            for bits in 0..(1u32 << len) {
                let stream: Vec<u8> = (0..len)
                    .map(|i| if bits >> i & 1 == 1 { b'b' } else { b'a' })
                    .collect();
                for size in [0, 1, 2, 3] {
                    run_case(&Case {
                        stream: stream.clone(),
                        patterns: vec![(pattern.as_bytes().to_vec(), size == 2)],
                        ops: vec![Op::Until(0, size); 6],
                        chunks: vec![(1, true)],
                        segment: 4096,
                    });
                }
            }
        }
    }
}
