//! A read session over the pure core: a scripted peer, a receive buffer, iterators, and
//! results rendered the way spec §11 writes them. Copied from
//! `cosocket-core/tests/common/mod.rs` (the property tests' harness), without proptest.

use std::num::NonZeroUsize;

use cosocket_core::proto::buffer::{Lent, ReadCall, Reader, RecvBuffer};
use cosocket_core::proto::reader::{All, Any, Exact, ExactRef, Line, LineRef};
use cosocket_core::proto::testing::{Feed, MemSource, drive};
use cosocket_core::{Bytes, Error, Until};

/// One read call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Line,
    All,
    Exact(usize),
    Any(usize),
    /// Iterator number, size.
    Until(usize, usize),
    /// `*l` lent out of the buffer (compared as `Line`).
    LineRef,
    /// Exactly n, lent (compared as `Exact`).
    ExactRef(usize),
}

/// What a call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Data(Bytes),
    EndOfPart,
    Fail {
        message: String,
        partial: Option<Bytes>,
    },
}

impl Outcome {
    pub fn render(&self) -> String {
        match self {
            Self::Data(b) => format!("(\"{}\")", b.escape_ascii()),
            Self::EndOfPart => "(nil,nil,nil)".to_owned(),
            Self::Fail {
                message,
                partial: Some(p),
            } => {
                format!("(nil,\"{message}\",\"{}\")", p.escape_ascii())
            }
            Self::Fail {
                message,
                partial: None,
            } => format!("(nil,\"{message}\")"),
        }
    }
}

fn outcome(result: Result<Option<Bytes>, Error>) -> Outcome {
    match result {
        Ok(Some(b)) => Outcome::Data(b),
        Ok(None) => Outcome::EndOfPart,
        Err(e) => Outcome::Fail {
            message: e.to_string(),
            partial: e.partial().cloned(),
        },
    }
}

pub struct Session {
    pub src: MemSource,
    pub buf: RecvBuffer,
    pub untils: Vec<Until>,
    /// The read limit of every call (`None`: none, as OpenResty).
    pub limit: Option<usize>,
}

impl Session {
    pub fn new(segment: usize) -> Self {
        Self {
            src: MemSource::new([]),
            buf: RecvBuffer::new(NonZeroUsize::new(segment).unwrap()),
            untils: Vec::new(),
            limit: None,
        }
    }

    /// A new iterator; its number for `Op::Until`.
    pub fn until(&mut self, pattern: &str, inclusive: bool) -> usize {
        self.untils
            .push(Until::new(pattern).unwrap().inclusive(inclusive));
        self.untils.len() - 1
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.src.push(Feed::data(bytes));
    }

    pub fn pause(&mut self) {
        self.src.push(Feed::Pending);
    }

    pub fn fin(&mut self) {
        self.src.push(Feed::Eof);
    }

    fn run<R: Reader>(&mut self, reader: R, wrap: impl Fn(R::Output) -> Option<Bytes>) -> Outcome {
        let mut call = ReadCall::limited(reader, self.limit);
        let result = match drive(&mut call, &mut self.buf, &self.src) {
            Some(r) => r.map(wrap),
            // The peer is silent: the read timer fires.
            None => Err(call.fail(&mut self.buf, Error::timeout())),
        };
        outcome(result)
    }

    /// [`run`](Self::run) of a lending reader: the lent bytes, copied.
    fn run_lent<R: Reader<Output = Lent>>(&mut self, reader: R) -> Outcome {
        let mut call = ReadCall::limited(reader, self.limit);
        let result = match drive(&mut call, &mut self.buf, &self.src) {
            Some(r) => r.map(|lent| Some(Bytes::copy_from_slice(self.buf.lent(lent)))),
            None => Err(call.fail(&mut self.buf, Error::timeout())),
        };
        outcome(result)
    }

    /// Runs one call; a call still waiting when the peer's script is exhausted times out.
    pub fn call(&mut self, op: Op) -> Outcome {
        match op {
            Op::Line => self.run(Line::new(), Some),
            Op::All => self.run(All, Some),
            Op::Exact(n) => self.run(Exact::new(n), Some),
            Op::LineRef => self.run_lent(LineRef::new()),
            Op::ExactRef(n) => self.run_lent(ExactRef::new(n)),
            Op::Any(max) => match Any::new(max) {
                Ok(r) => self.run(r, Some),
                Err(e) => outcome(Err(e)),
            },
            Op::Until(i, size) => {
                let mut until = std::mem::replace(&mut self.untils[i], Until::new("x").unwrap());
                // OpenResty's `it(size)`: a pending end of part answers a call of any size.
                let out = match NonZeroUsize::new(size) {
                    Some(size) => self.run(until.chunk(size), |o| o),
                    None if until.at_end_of_part() => {
                        self.run(until.chunk(NonZeroUsize::MIN), |o| o)
                    }
                    None => self.run(until.part(), Some),
                };
                self.untils[i] = until;
                out
            }
        }
    }

    pub fn render(&mut self, op: Op) -> String {
        self.call(op).render()
    }

    pub fn renders(&mut self, ops: &[Op]) -> Vec<String> {
        ops.iter().map(|&op| self.render(op)).collect()
    }
}

/// Feeds `stream` to the session in chunks of the given sizes (cycled), with a `Pending`
/// after the chunks whose flag is set, then the end of the stream.
pub fn feed_segmented(s: &mut Session, stream: &[u8], chunks: &[(usize, bool)]) {
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let (size, pause) = chunks[i % chunks.len()];
        let end = (at + size.max(1)).min(stream.len());
        s.send(&stream[at..end]);
        if pause {
            s.pause();
        }
        at = end;
        i += 1;
    }
    s.fin();
}
