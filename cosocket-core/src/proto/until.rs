//! `receiveuntil`: OpenResty's incremental pattern matcher, exactly (spec §2.5).
//!
//! A [`Pattern`] compiles once into OpenResty's KMP-style automaton (the "recovery edges")
//! and is fed one byte at a time through [`Pattern::step`], or a slice at a time by the
//! reader, which skips with `memchr` while nothing is matched.
//!
//! The automaton emits only bytes of the input, in order, so a call's output is always a
//! prefix of the socket buffer: the matcher only counts how many front bytes it *emitted*
//! and how many it *withholds* (a partial match, the state `s`). Withheld bytes therefore
//! never leave the buffer. An [`Until`] stores the compiled pattern, `s`, and the
//! [`ReadEpoch`] of its last call; when another read completes in between, the epoch
//! differs and `s` resets — that is OpenResty's push-back on mixed reads (master ≥
//! v0.10.26) and on garbage collection, its keep-on-timeout, and cancel safety, at no cost.
//! `Until` borrows nothing, so several of them and plain reads interleave on one socket.

use std::num::NonZeroUsize;

use bytes::Bytes;
use memchr::memchr;
use memchr::memmem::Finder;

use crate::proto::buffer::{ReadEpoch, Reader, RecvBuffer};
use crate::proto::error::{Error, Result};

/// A compiled `receiveuntil` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    bytes: Box<[u8]>,
    /// Recovery edges `(state, byte) → target`, sorted for binary search.
    edges: Box<[(usize, u8, usize)]>,
}

/// What one input byte does in a state (spec §2.5, rules 1–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Rule 1: the byte extends the match; the new state (`== len()`: complete).
    Match(usize),
    /// Rule 2: state 0, the byte is emitted.
    Emit,
    /// Rule 3: a recovery edge: emit the first `emit` withheld bytes, go to state `to`;
    /// the byte is consumed.
    Recover {
        /// How many of the withheld bytes are emitted.
        emit: usize,
        /// The new state.
        to: usize,
    },
    /// Rule 4: no edge: emit all `emit` withheld bytes and go to state 0; the byte is
    /// **not** consumed and must be examined again in state 0.
    Restart {
        /// How many withheld bytes are emitted (the old state).
        emit: usize,
    },
}

impl Pattern {
    /// Compiles `pattern`; an empty one is `pattern is empty`.
    pub fn new(pattern: &[u8]) -> Result<Self> {
        if pattern.is_empty() {
            return Err(Error::pattern_empty());
        }
        Ok(Self {
            bytes: pattern.into(),
            edges: recovery_edges(pattern).into_boxed_slice(),
        })
    }

    /// The pattern's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The pattern's length `m`.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: an empty pattern does not compile.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The recovery edges, `(state, byte, target)`.
    pub fn edges(&self) -> &[(usize, u8, usize)] {
        &self.edges
    }

    /// One step of the automaton: byte `c` in state `s` (`0 <= s < len()`).
    pub fn step(&self, s: usize, c: u8) -> Step {
        if c == self.bytes[s] {
            return Step::Match(s + 1);
        }
        if s == 0 {
            return Step::Emit;
        }
        if s >= 2 {
            if let Ok(i) = self
                .edges
                .binary_search_by(|&(state, byte, _)| (state, byte).cmp(&(s, c)))
            {
                let to = self.edges[i].2;
                return Step::Recover {
                    emit: s + 1 - to,
                    to,
                };
            }
        }
        Step::Restart { emit: s }
    }
}

/// spec §2.5's precomputation, only for `m > 2`: for each shift `i` with `P[i] == P[0]`,
/// `L` = the longest `k` with `P[0..k) == P[i..i+k)`; if `i + L < m`, the edge
/// `(i + L, P[L]) → L + 1`; on a duplicate `(state, byte)` the larger target wins.
fn recovery_edges(p: &[u8]) -> Vec<(usize, u8, usize)> {
    let m = p.len();
    let mut edges: Vec<(usize, u8, usize)> = Vec::new();
    if m <= 2 {
        return edges;
    }
    for i in 1..m {
        if p[i] != p[0] {
            continue;
        }
        let mut l = 0;
        while i + l < m && p[l] == p[i + l] {
            l += 1;
        }
        if i + l < m {
            let (state, byte, to) = (i + l, p[l], l + 1);
            match edges.iter_mut().find(|e| e.0 == state && e.1 == byte) {
                Some(e) => e.2 = e.2.max(to),
                None => edges.push((state, byte, to)),
            }
        }
    }
    edges.sort_unstable();
    edges
}

/// A `receiveuntil` iterator: the pattern, its options and its match state, as a plain
/// value that borrows no socket (pass it to `receive_until` with `&mut`).
#[derive(Debug, Clone)]
pub struct Until {
    pattern: Pattern,
    /// `memmem` for patterns whose first byte occurs nowhere else in them: for those,
    /// OpenResty's automaton started in state 0 completes exactly at the first occurrence
    /// (no partial match can hide the start of another), so a vectorised search may
    /// replace it there. `None` for the others, which the automaton runs byte by byte.
    finder: Option<Finder<'static>>,
    inclusive: bool,
    /// Withheld bytes (the automaton's state): always the first `held` buffered bytes.
    held: usize,
    /// The read that set `held`; another read since then resets it.
    epoch: Option<ReadEpoch>,
    /// A chunk call completed the pattern: the next chunk call returns the end of the part.
    part_done: bool,
}

impl Until {
    /// An iterator for `pattern`; an empty pattern is `pattern is empty` (spec §2.5).
    pub fn new(pattern: impl AsRef<[u8]>) -> Result<Self> {
        let bytes = pattern.as_ref();
        let first_unique = bytes.len() >= 2 && !bytes[1..].contains(&bytes[0]);
        Ok(Self {
            pattern: Pattern::new(bytes)?,
            finder: first_unique.then(|| Finder::new(bytes).into_owned()),
            inclusive: false,
            held: 0,
            epoch: None,
            part_done: false,
        })
    }

    /// With `inclusive = true` the pattern is returned at the end of the part's last chunk
    /// (OpenResty's `{inclusive = true}`).
    #[must_use]
    pub fn inclusive(mut self, inclusive: bool) -> Self {
        self.inclusive = inclusive;
        self
    }

    /// Whether the pattern is included in results.
    pub fn is_inclusive(&self) -> bool {
        self.inclusive
    }

    /// The compiled pattern.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// How many bytes the iterator withholds as a partial match (they sit at the front of
    /// the socket's buffer and go back to other readers if one runs first).
    pub fn held(&self) -> usize {
        self.held
    }

    /// Forgets the match state (as a fresh iterator for the same pattern).
    pub fn reset(&mut self) {
        self.held = 0;
        self.epoch = None;
        self.part_done = false;
    }

    /// Whether the last chunk call ended with the pattern, so that the next chunk call
    /// returns `None` (the end of the part) without reading.
    pub fn at_end_of_part(&self) -> bool {
        self.part_done
    }

    /// The iterator called without a size (OpenResty's `it()`): the whole part up to the
    /// pattern. A pending end of part (see [`at_end_of_part`](Self::at_end_of_part)) is
    /// dropped first: this reads the next part.
    pub fn part(&mut self) -> UntilPart<'_> {
        self.part_done = false;
        UntilPart(UntilRead {
            until: self,
            budget: None,
            state: 0,
            emitted: 0,
            window: usize::MAX,
        })
    }

    /// The iterator called with a size (OpenResty's `it(size)`): chunks of about `size`
    /// bytes, then `None` at the end of the part.
    pub fn chunk(&mut self, size: NonZeroUsize) -> UntilRead<'_> {
        UntilRead {
            until: self,
            budget: Some(size.get()),
            state: 0,
            emitted: 0,
            window: usize::MAX,
        }
    }
}

/// One whole-part call of an [`Until`] iterator, as a [`Reader`] (see [`Until::part`]).
#[derive(Debug)]
pub struct UntilPart<'a>(UntilRead<'a>);

impl Reader for UntilPart<'_> {
    type Output = Bytes;

    fn begin(&mut self, buf: &RecvBuffer) -> Option<Bytes> {
        self.0.begin(buf).map(Option::unwrap_or_default)
    }

    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Bytes> {
        self.0.scan(buf).map(Option::unwrap_or_default)
    }

    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Bytes> {
        self.0.at_eof(buf).map(Option::unwrap_or_default)
    }

    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        self.0.fail(buf, error)
    }

    fn completed(&mut self, epoch: ReadEpoch) {
        self.0.completed(epoch);
    }

    fn set_limit(&mut self, limit: usize) {
        self.0.window = limit;
    }

    fn exceeds(&self, buf: &RecvBuffer, limit: usize) -> bool {
        buf.len() >= limit
    }
}

/// One chunk call of an [`Until`] iterator, as a [`Reader`] (see [`Until::chunk`]).
/// Returns `Some(chunk)`, or `None` for the end of a part (OpenResty's `nil, nil, nil`).
#[derive(Debug)]
pub struct UntilRead<'a> {
    until: &'a mut Until,
    /// Size mode: bytes still to emit before the call returns.
    budget: Option<usize>,
    /// The automaton's state during this call.
    state: usize,
    /// Front bytes emitted by this call; `emitted + state` bytes are examined.
    emitted: usize,
    /// The pattern is looked for in the first `window` bytes only (a part's read limit).
    window: usize,
}

/// How a scan of the buffered bytes ended.
enum Scanned {
    NeedMore,
    /// Size mode's budget is spent.
    Chunk,
    /// The pattern is complete; it occupies `emitted..emitted + m`.
    Complete,
}

impl UntilRead<'_> {
    /// Emits `n` bytes; whether size mode's budget is now spent. The call returns when the
    /// budget is `<= n`, so a rule-3/4 chunk may be longer than the size.
    fn emit(&mut self, n: usize) -> bool {
        self.emitted += n;
        match &mut self.budget {
            None => false,
            Some(budget) if *budget <= n => true,
            Some(budget) => {
                *budget -= n;
                false
            }
        }
    }

    fn run(&mut self, data: &[u8]) -> (Scanned, usize) {
        let first = self.until.pattern.as_bytes()[0];
        let m = self.until.pattern.len();
        let start = self.emitted + self.state;
        loop {
            let pos = self.emitted + self.state;
            if pos >= data.len() {
                return (Scanned::NeedMore, pos - start);
            }
            if self.state == 0 {
                if let Some(finder) = &self.until.finder {
                    let rest = &data[pos..];
                    match finder.find(rest) {
                        // Within the budget: the automaton would emit the `i` bytes before
                        // the occurrence and then complete on it.
                        Some(i) if self.budget.is_none_or(|b| i < b) => {
                            self.emit(i);
                            self.state = m;
                            return (Scanned::Complete, pos + i + m - start);
                        }
                        // No occurrence: only the last `m - 1` bytes may start one.
                        None if self.budget.is_none() && rest.len() >= m => {
                            self.emit(rest.len() + 1 - m);
                            continue;
                        }
                        _ => {}
                    }
                }
                // Nothing matched: skip to the next occurrence of the first byte, emitting
                // everything before it (but no more than the budget).
                let end = match self.budget {
                    Some(b) => data.len().min(pos + b),
                    None => data.len(),
                };
                let skip = memchr(first, &data[pos..end]).unwrap_or(end - pos);
                if skip > 0 && self.emit(skip) {
                    return (Scanned::Chunk, self.emitted - start);
                }
                if pos + skip == end {
                    continue;
                }
            }
            let pos = self.emitted + self.state;
            match self.until.pattern.step(self.state, data[pos]) {
                Step::Match(s) => {
                    self.state = s;
                    if s == m {
                        return (Scanned::Complete, pos + 1 - start);
                    }
                }
                Step::Emit => {
                    if self.emit(1) {
                        return (Scanned::Chunk, pos + 1 - start);
                    }
                }
                Step::Recover { emit, to } => {
                    self.state = to;
                    if self.emit(emit) {
                        return (Scanned::Chunk, pos + 1 - start);
                    }
                }
                Step::Restart { emit } => {
                    self.state = 0;
                    if self.emit(emit) {
                        return (Scanned::Chunk, pos - start);
                    }
                }
            }
        }
    }

    /// The call ends keeping the automaton's state: emitted bytes leave the buffer, the
    /// withheld ones stay at its front.
    fn finish(&mut self, buf: &mut RecvBuffer, keep_state: bool) -> Bytes {
        let out = buf.take(self.emitted);
        self.until.held = if keep_state { self.state } else { 0 };
        if self.until.held > 0 && buf.len() == self.until.held {
            // OpenResty moved the withheld bytes out of its buffer, so a buffer holding
            // nothing else starts a fresh segment for the next recv (spec §2.2).
            buf.restart_segment();
        }
        out
    }
}

impl Reader for UntilRead<'_> {
    type Output = Option<Bytes>;

    fn begin(&mut self, buf: &RecvBuffer) -> Option<Option<Bytes>> {
        if std::mem::take(&mut self.until.part_done) {
            return Some(None);
        }
        // Another read ran since this iterator's last call: its withheld bytes went back
        // to that read (they never left the front of the buffer).
        if self.until.epoch != Some(buf.epoch()) {
            self.until.held = 0;
        }
        // Held bytes can only be missing if the buffer was replaced (a reconnect).
        self.state = self.until.held.min(buf.len());
        None
    }

    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Option<Bytes>> {
        let data = buf.buffered();
        let (outcome, looked) = self.run(&data[..data.len().min(self.window)]);
        buf.count_examined(looked);
        match outcome {
            Scanned::NeedMore => None,
            Scanned::Chunk => Some(Some(self.finish(buf, true))),
            Scanned::Complete => {
                let m = self.until.pattern.len();
                let out = if self.until.inclusive {
                    buf.take(self.emitted + m)
                } else {
                    let out = buf.take(self.emitted);
                    buf.consume(m);
                    out
                };
                self.until.held = 0;
                self.until.part_done = self.budget.is_some();
                Some(Some(out))
            }
        }
    }

    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Option<Bytes>> {
        // Withheld bytes are discarded at EOF (spec §2.5, "hello--ab"+FIN → "hello").
        let out = self.finish(buf, false);
        buf.consume(buf.len());
        Err(Error::eof(out))
    }

    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        // A timeout keeps the withheld bytes in the iterator: the next call resumes.
        let keep = error.is_timeout();
        let out = self.finish(buf, keep);
        if !keep {
            buf.consume(buf.len());
        }
        error.with_partial(out)
    }

    fn completed(&mut self, epoch: ReadEpoch) {
        self.until.epoch = Some(epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_pattern_is_an_error() {
        let err = Until::new("").unwrap_err();
        assert_eq!(err.to_string(), "pattern is empty");
        assert_eq!(err.kind(), crate::proto::error::ErrorKind::InvalidArgument);
    }

    #[test]
    fn edges_follow_the_spec() {
        assert!(Pattern::new(b"aa").unwrap().edges().is_empty());
        // "--abc": shift 1 has L = 1 → edge (2, '-') → 2.
        assert_eq!(Pattern::new(b"--abc").unwrap().edges(), [(2, b'-', 2)]);
        // "ab1ab2": shift 3 has L = 2 → edge (5, '1') → 3.
        assert_eq!(Pattern::new(b"ab1ab2").unwrap().edges(), [(5, b'1', 3)]);
        // "aab": shift 1 has L = 1 → edge (2, 'a') → 2.
        assert_eq!(Pattern::new(b"aab").unwrap().edges(), [(2, b'a', 2)]);
    }

    #[test]
    fn step_api() {
        let p = Pattern::new(b"ab1ab2").unwrap();
        assert_eq!(p.step(0, b'a'), Step::Match(1));
        assert_eq!(p.step(0, b'x'), Step::Emit);
        assert_eq!(p.step(5, b'1'), Step::Recover { emit: 3, to: 3 });
        assert_eq!(p.step(5, b'x'), Step::Restart { emit: 5 });
        assert_eq!(p.step(1, b'a'), Step::Restart { emit: 1 });
        assert_eq!(p.step(5, b'2'), Step::Match(6));
    }
}
