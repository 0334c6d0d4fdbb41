//! The reference models the property tests of cosocket-core check against, copied
//! (with the lent readers added) from `cosocket-core/tests/prop_until.rs` and
//! `cosocket-core/tests/prop_readers.rs`; see those files for their reasoning.
//!
//! [`UntilReference`] works on the stream as a queue of bytes. Its iterator keeps its
//! withheld bytes itself and gives them back to the front of the queue when another read
//! runs, and its automaton is KMP by definition (the longest suffix of the withheld bytes
//! plus the new byte that is a prefix of the pattern), not the spec's recovery edges.
//!
//! [`ReaderReference`] is a `Vec` buffer filled one `recv` at a time, each asking for the
//! free space of the current segment.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::session::{Op, Outcome};

pub struct RefUntil {
    pub pattern: Vec<u8>,
    pub inclusive: bool,
    pub withheld: Vec<u8>,
    pub done: bool,
}

pub struct UntilReference {
    pub stream: VecDeque<u8>,
    pub closed: bool,
    pub untils: Vec<RefUntil>,
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

impl UntilReference {
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

    pub fn call(&mut self, op: Op) -> Outcome {
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
            Op::Any(_) | Op::LineRef | Op::ExactRef(_) => unreachable!("not generated here"),
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

/// The naive reference: what arrived is a queue of chunks; one recv takes at most the free
/// space of the current segment from the front chunk.
pub struct ReaderReference {
    pub chunks: VecDeque<Vec<u8>>,
    pub buffered: Vec<u8>,
    pub segment: usize,
    pub fill: usize,
    pub eof: bool,
    pub closed: bool,
}

impl ReaderReference {
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

    pub fn call(&mut self, op: Op) -> Outcome {
        if self.closed {
            return Outcome::Fail {
                message: "closed".into(),
                partial: None,
            };
        }
        match op {
            Op::Line | Op::LineRef => loop {
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
            Op::Exact(n) | Op::ExactRef(n) => loop {
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
