//! The RESP2 / RESP3 reply parser, over a socket's receive buffer: each header line is read
//! borrowed ([`receive_line_ref`](cosocket::StreamRead::receive_line_ref): no allocation),
//! each bulk string as one `Bytes` of the buffer ([`receive_exact`](cosocket::StreamRead::receive_exact)).
//! Nested aggregates are parsed with an explicit stack, not recursion, so the future has a
//! fixed size and [`Limits::max_depth`] bounds the stack; the stack lives in a [`Parser`]
//! between reads, so a dropped read resumes where it was.

use bytes::Bytes;
use cosocket::StreamRead;

use crate::error::{Error, Result, ServerError};
use crate::value::Value;

/// Bounds on what a reply may hold; a reply over one is a [`Error::TooLarge`] and the
/// connection is closed. The defaults admit whatever a default Redis server sends, and stop
/// a broken or hostile peer from making the client allocate without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest bulk string (default 512 MiB, Redis's own `proto-max-bulk-len`).
    pub max_bulk: usize,
    /// The most elements of one aggregate (default 16 Mi).
    pub max_elements: usize,
    /// The deepest nesting of aggregates (default 64).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bulk: 512 << 20,
            max_elements: 16 << 20,
            max_depth: 64,
        }
    }
}

impl Limits {
    /// The socket read limit that goes with these limits: a bulk string and its CRLF (a
    /// header line is never longer).
    pub(crate) fn read_limit(&self) -> usize {
        self.max_bulk.saturating_add(2).max(64 << 10)
    }
}

/// An aggregate being filled.
struct Frame {
    kind: u8,
    want: usize,
    items: Vec<Value>,
}

impl Frame {
    fn finish(self) -> Option<Value> {
        Some(match self.kind {
            b'*' => Value::Array(self.items),
            b'~' => Value::Set(self.items),
            b'>' => Value::Push(self.items),
            b'%' => {
                let mut pairs = Vec::with_capacity(self.items.len() / 2);
                let mut items = self.items.into_iter();
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    pairs.push((k, v));
                }
                Value::Map(pairs)
            }
            // `|` attributes describe the next value; they are read and dropped.
            _ => return None,
        })
    }
}

/// What a header line says.
enum Head {
    Done(Value),
    Blob(u8, usize),
    Aggregate(u8, usize),
    Attribute(usize),
}

fn protocol(what: impl Into<String>) -> Error {
    Error::Protocol(what.into())
}

fn parse_int(digits: &[u8]) -> Result<i64> {
    // RESP integers are an optional `-` and decimal digits; `str::parse` alone would also
    // take a leading `+`.
    let unsigned = digits.strip_prefix(b"-").unwrap_or(digits);
    let well_formed = !unsigned.is_empty() && unsigned.iter().all(u8::is_ascii_digit);
    std::str::from_utf8(digits)
        .ok()
        .filter(|_| well_formed)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| protocol(format!("bad integer {:?}", String::from_utf8_lossy(digits))))
}

/// A length: `-1` (RESP2's null) is `None`.
fn parse_len(digits: &[u8]) -> Result<Option<usize>> {
    match parse_int(digits)? {
        -1 => Ok(None),
        n => usize::try_from(n)
            .map(Some)
            .map_err(|_| protocol(format!("bad length {n}"))),
    }
}

fn head(line: &[u8], limits: &Limits) -> Result<Head> {
    let (&tag, rest) = line
        .split_first()
        .ok_or_else(|| protocol("an empty reply line"))?;
    let blob = |len: Option<usize>| -> Result<Head> {
        match len {
            None => Ok(Head::Done(Value::Nil)),
            Some(n) if n > limits.max_bulk => Err(Error::TooLarge(format!(
                "a bulk string of {n} bytes (the limit is {})",
                limits.max_bulk
            ))),
            Some(n) => Ok(Head::Blob(tag, n)),
        }
    };
    let aggregate = |len: Option<usize>, pairs: bool| -> Result<Option<usize>> {
        let Some(n) = len else { return Ok(None) };
        let count = if pairs { n.checked_mul(2) } else { Some(n) };
        match count {
            Some(c) if c <= limits.max_elements => Ok(Some(c)),
            _ => Err(Error::TooLarge(format!(
                "an aggregate of {n} elements (the limit is {})",
                limits.max_elements
            ))),
        }
    };
    Ok(match tag {
        b'+' => Head::Done(Value::Status(Bytes::copy_from_slice(rest))),
        b'-' => Head::Done(Value::Error(ServerError::new(Bytes::copy_from_slice(rest)))),
        b':' => Head::Done(Value::Int(parse_int(rest)?)),
        b'_' if rest.is_empty() => Head::Done(Value::Nil),
        b'#' => match rest {
            b"t" => Head::Done(Value::Boolean(true)),
            b"f" => Head::Done(Value::Boolean(false)),
            _ => return Err(protocol("a bad boolean")),
        },
        b',' => {
            let text = std::str::from_utf8(rest).map_err(|_| protocol("a bad double"))?;
            let double = match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => text.parse().map_err(|_| protocol("a bad double"))?,
            };
            Head::Done(Value::Double(double))
        }
        b'(' => Head::Done(Value::BigNumber(Bytes::copy_from_slice(rest))),
        b'$' | b'!' | b'=' => blob(parse_len(rest)?)?,
        b'*' | b'~' | b'>' => match aggregate(parse_len(rest)?, false)? {
            None => Head::Done(Value::Nil),
            Some(n) => Head::Aggregate(tag, n),
        },
        b'%' => match aggregate(parse_len(rest)?, true)? {
            None => Head::Done(Value::Nil),
            Some(n) => Head::Aggregate(tag, n),
        },
        b'|' => match aggregate(parse_len(rest)?, true)? {
            None => return Err(protocol("a null attribute")),
            Some(n) => Head::Attribute(n),
        },
        other => {
            return Err(protocol(format!(
                "unknown reply type byte {:?}",
                char::from(other)
            )));
        }
    })
}

/// A blob's value, from its bytes (CRLF stripped).
fn blob(tag: u8, bytes: Bytes) -> Result<Value> {
    Ok(match tag {
        b'$' => Value::Bulk(bytes),
        b'!' => Value::Error(ServerError::new(bytes)),
        _ => {
            // `=`: three bytes of format, a colon, the text.
            if bytes.len() < 4 || bytes[3] != b':' {
                return Err(protocol("a bad verbatim string"));
            }
            Value::Verbatim([bytes[0], bytes[1], bytes[2]], bytes.slice(4..))
        }
    })
}

/// The parser's place in a reply, kept between reads: every read it makes is one
/// cancel-safe cosocket read, and the state changes only after a read completes, so a
/// dropped [`Parser::read`] future loses nothing and the next call resumes the same reply
/// (what lets many callers share one connection's read side).
#[derive(Default)]
pub(crate) struct Parser {
    stack: Vec<Frame>,
    /// A blob whose header is read: its tag and length.
    blob: Option<(u8, usize)>,
}

impl std::fmt::Debug for Parser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser")
            .field("depth", &self.stack.len())
            .field("blob", &self.blob)
            .finish()
    }
}

/// Bulk strings (with their CRLF) up to this size are read borrowed and copied: the size
/// up to which cosocket copies a result out of its buffer (`COPY_MAX`), larger ones share
/// the buffer's block and are cut without an allocation.
const SHORT_BLOB: usize = 256;

impl Parser {
    /// Whether a reply is half read.
    pub(crate) fn in_reply(&self) -> bool {
        !self.stack.is_empty() || self.blob.is_some()
    }

    /// Reads the rest of one reply. After an error the parser is in no defined state:
    /// the connection is to be closed.
    pub(crate) async fn read<S: StreamRead>(
        &mut self,
        sock: &mut S,
        limits: &Limits,
    ) -> Result<Value> {
        loop {
            let mut value = if let Some((tag, n)) = self.blob {
                // One read call for the string and its CRLF, so that a dropped read
                // leaves the parser where it was. A short one is borrowed and copied
                // once: cosocket copies short results anyway, and cutting the CRLF off
                // such a `Bytes` would allocate a second time.
                let ended = |raw: &[u8]| {
                    (&raw[n..] == b"\r\n")
                        .then_some(())
                        .ok_or_else(|| protocol("a bulk string not ended by CRLF"))
                };
                let bytes = if n + 2 <= SHORT_BLOB {
                    let raw = sock.receive_exact_ref(n + 2).await?;
                    ended(raw)?;
                    Bytes::copy_from_slice(&raw[..n])
                } else {
                    let mut bytes = sock.receive_exact(n + 2).await?;
                    ended(&bytes)?;
                    bytes.truncate(n);
                    bytes
                };
                self.blob = None;
                blob(tag, bytes)?
            } else {
                let line = sock.receive_line_ref().await?;
                let opened = match head(line, limits)? {
                    Head::Done(v) => Err(v),
                    Head::Blob(tag, n) => {
                        self.blob = Some((tag, n));
                        continue;
                    }
                    Head::Aggregate(kind, want) => Ok((kind, want)),
                    Head::Attribute(want) => Ok((b'|', want)),
                };
                match opened {
                    Err(value) => value,
                    Ok((kind, 0)) => {
                        let empty = Frame {
                            kind,
                            want: 0,
                            items: Vec::new(),
                        };
                        match empty.finish() {
                            Some(v) => v,
                            None => continue,
                        }
                    }
                    Ok(_) if self.stack.len() >= limits.max_depth => {
                        return Err(Error::TooLarge(format!(
                            "aggregates nested deeper than {}",
                            limits.max_depth
                        )));
                    }
                    Ok((kind, want)) => {
                        self.stack.push(Frame {
                            kind,
                            want,
                            // Never trust a length for an allocation: grow as elements
                            // arrive.
                            items: Vec::with_capacity(want.min(1024)),
                        });
                        continue;
                    }
                }
            };
            // Hand the value up through every aggregate it completes.
            loop {
                let Some(top) = self.stack.last_mut() else {
                    return Ok(value);
                };
                top.items.push(value);
                if top.items.len() < top.want {
                    break;
                }
                let done = self.stack.pop().expect("the top frame");
                match done.finish() {
                    Some(v) => value = v,
                    // A finished attribute: the value it annotates comes next.
                    None => break,
                }
            }
        }
    }
}
