//! The four plain readers of spec §2.3–§2.4: `*l` ([`Line`]), `*a` ([`All`]), exactly `n`
//! ([`Exact`]) and up to `max` ([`Any`]), and the borrowing forms of the first and third
//! ([`LineRef`], [`ExactRef`]), which lend their result out of the buffer instead of
//! handing out `Bytes`. `receive_until` is in [`until`](crate::proto::until).

use bytes::{Bytes, BytesMut};
use memchr::{memchr_iter, memchr2};

use crate::proto::buffer::{Lent, Reader, RecvBuffer};
use crate::proto::error::{Error, Result};

/// `receive("*l")`: one line up to LF; the LF is removed and so is **every** CR in the
/// line (`"bar\rbaz\r\n"` → `"barbaz"`).
#[derive(Debug, Clone)]
pub struct Line {
    /// How many buffered bytes are known to hold no LF.
    scanned: usize,
    /// A CR that is not part of the line's final CRLF was seen: the line must be copied
    /// without its CRs. Without one, the line is a slice of the buffer.
    inner_cr: bool,
    /// The LF is looked for in the first `window` bytes only (the read limit).
    window: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self {
            scanned: 0,
            inner_cr: false,
            window: usize::MAX,
        }
    }
}

impl Line {
    /// A line read.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands out the line's first `n` bytes without any CR and consumes `consume` bytes.
    /// `inner_cr`: a CR other than one at `n - 1` is among them.
    fn take_line(buf: &mut RecvBuffer, n: usize, consume: usize, inner_cr: bool) -> Bytes {
        if !inner_cr {
            // At most the final CR: the line leaves the buffer in one piece.
            let cr = n > 0 && buf.buffered()[n - 1] == b'\r';
            return buf.take_head(consume, n - usize::from(cr));
        }
        // CRs inside the line: one more pass, memchr finds each, the gaps are copied.
        buf.count_examined(n);
        let mut out = BytesMut::with_capacity(n);
        without_crs(&buf.buffered()[..n], |part| out.extend_from_slice(part));
        buf.consume(consume);
        out.freeze()
    }
}

impl Reader for Line {
    type Output = Bytes;

    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Bytes> {
        let (lf, inner_cr) = self.find(buf)?;
        Some(Self::take_line(buf, lf, lf + 1, inner_cr))
    }

    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Bytes> {
        Err(Error::eof(self.take_partial(buf)))
    }

    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        error.with_partial(self.take_partial(buf))
    }

    fn set_limit(&mut self, limit: usize) {
        self.window = limit;
    }

    fn exceeds(&self, buf: &RecvBuffer, limit: usize) -> bool {
        buf.len() >= limit
    }
}

impl Line {
    /// Scans on for the LF: its index and whether a CR other than one right before it is
    /// in the line. The scan position is kept for the next call when there is none yet.
    fn find(&mut self, buf: &mut RecvBuffer) -> Option<(usize, bool)> {
        let data = buf.buffered();
        let data = &data[..data.len().min(self.window)];
        let start = self.scanned;
        let mut at = start;
        // One pass finds the LF and every CR before it: the common CRLF line needs no
        // second look at its bytes.
        let lf = loop {
            let Some(i) = memchr2(b'\n', b'\r', &data[at..]) else {
                at = data.len();
                break None;
            };
            let p = at + i;
            if data[p] == b'\n' {
                break Some(p);
            }
            match data.get(p + 1) {
                Some(b'\n') => break Some(p + 1),
                Some(_) => {
                    self.inner_cr = true;
                    at = p + 1;
                }
                // The last buffered byte is a CR: whether an LF follows is not known
                // yet, so the next scan starts at it again (and counts it then).
                None => {
                    at = p;
                    break None;
                }
            }
        };
        match lf {
            Some(lf) => {
                buf.count_examined(lf + 1 - start);
                self.scanned = 0;
                Some((lf, std::mem::take(&mut self.inner_cr)))
            }
            None => {
                buf.count_examined(at - start);
                self.scanned = at;
                None
            }
        }
    }

    /// The pending line content, CRs removed, consumed (spec §2.3).
    fn take_partial(&mut self, buf: &mut RecvBuffer) -> Bytes {
        // Every scan runs before a call ends, so the scan covered all buffered bytes but
        // a final CR it left for the next one: `inner_cr` speaks for the whole partial.
        let n = buf.len();
        debug_assert!(n - self.scanned.min(n) <= 1, "a partial line not scanned");
        self.scanned = 0;
        let inner_cr = std::mem::take(&mut self.inner_cr);
        Self::take_line(buf, n, n, inner_cr)
    }
}

/// Calls `out` with the pieces of `line` between its CRs, in order.
fn without_crs(line: &[u8], mut out: impl FnMut(&[u8])) {
    let mut from = 0;
    for cr in memchr_iter(b'\r', line) {
        out(&line[from..cr]);
        from = cr + 1;
    }
    out(&line[from..]);
}

/// `receive("*l")` lent out of the buffer: [`Line`]'s rules, but the line is borrowed from
/// the receive buffer until the next read (no allocation). A line with CRs inside is
/// copied, without them, into the buffer's reused scratch space. The partial of an error
/// is `Bytes`, as [`Line`]'s.
#[derive(Debug, Clone, Default)]
pub struct LineRef(Line);

impl LineRef {
    /// A borrowed line read.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Reader for LineRef {
    type Output = Lent;

    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Lent> {
        let (lf, inner_cr) = self.0.find(buf)?;
        if !inner_cr {
            let cr = lf > 0 && buf.buffered()[lf - 1] == b'\r';
            return Some(buf.lend(lf + 1, lf - usize::from(cr)));
        }
        buf.count_examined(lf);
        Some(buf.lend_scratch(lf + 1, |line, out| {
            without_crs(&line[..lf], |part| out.extend_from_slice(part));
        }))
    }

    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Lent> {
        Err(Error::eof(self.0.take_partial(buf)))
    }

    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        error.with_partial(self.0.take_partial(buf))
    }

    fn set_limit(&mut self, limit: usize) {
        self.0.set_limit(limit);
    }

    fn exceeds(&self, buf: &RecvBuffer, limit: usize) -> bool {
        self.0.exceeds(buf, limit)
    }
}

/// `receive(n)` lent out of the buffer: [`Exact`]'s rules, borrowed until the next read.
#[derive(Debug, Clone, Copy)]
pub struct ExactRef(Exact);

impl ExactRef {
    /// A borrowed read of exactly `n` bytes.
    pub fn new(n: usize) -> Self {
        Self(Exact::new(n))
    }
}

impl Reader for ExactRef {
    type Output = Lent;

    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Lent> {
        let n = self.0.n;
        (buf.len() >= n).then(|| buf.lend(n, n))
    }

    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Lent> {
        Err(Error::eof(buf.take(buf.len())))
    }

    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        error.with_partial(buf.take(buf.len()))
    }

    fn needs(&self) -> usize {
        self.0.n
    }
}

/// `receive("*a")`: everything until the end of the stream, which is a success here.
///
/// Reaching EOF this way does not close the read half ([`ReadState::EofSeen`]).
///
/// [`ReadState::EofSeen`]: crate::proto::buffer::ReadState::EofSeen
#[derive(Debug, Clone, Copy, Default)]
pub struct All;

impl Reader for All {
    type Output = Bytes;

    fn scan(&mut self, _buf: &mut RecvBuffer) -> Option<Bytes> {
        None
    }

    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Bytes> {
        Ok(buf.take(buf.len()))
    }

    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        error.with_partial(buf.take(buf.len()))
    }

    /// Everything up to the end of the stream must fit.
    fn exceeds(&self, buf: &RecvBuffer, limit: usize) -> bool {
        buf.len() > limit
    }
}

/// `receive(n)`: exactly `n` bytes; `receive(0)` is `""` at once.
#[derive(Debug, Clone, Copy)]
pub struct Exact {
    n: usize,
}

impl Exact {
    /// A read of exactly `n` bytes.
    pub fn new(n: usize) -> Self {
        Self { n }
    }
}

impl Reader for Exact {
    type Output = Bytes;

    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Bytes> {
        (buf.len() >= self.n).then(|| buf.take(self.n))
    }

    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Bytes> {
        Err(Error::eof(buf.take(buf.len())))
    }

    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        error.with_partial(buf.take(buf.len()))
    }

    fn needs(&self) -> usize {
        self.n
    }
}

/// `receiveany(max)`: buffered bytes at once if there are any, else what one `recv`
/// brings, at most `max` either way (spec §2.4). Errors carry an empty partial.
#[derive(Debug, Clone, Copy)]
pub struct Any {
    max: usize,
}

impl Any {
    /// A read of at most `max` bytes; `max` must be positive (`bad max argument`).
    pub fn new(max: usize) -> Result<Self> {
        if max == 0 {
            return Err(Error::new(
                crate::proto::error::ErrorKind::InvalidArgument,
                "bad max argument",
            ));
        }
        Ok(Self { max })
    }
}

impl Reader for Any {
    type Output = Bytes;

    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Bytes> {
        // At most one segment, as OpenResty's one buffer holds: the buffer can hold more
        // after a read that was dropped while it gathered a long line (issue 19's probe).
        let max = self.max.min(buf.segment_size());
        (!buf.is_empty()).then(|| buf.take(max))
    }

    fn at_eof(&mut self, _buf: &mut RecvBuffer) -> Result<Bytes> {
        Err(Error::eof(Bytes::new()))
    }

    fn fail(&mut self, _buf: &mut RecvBuffer, error: Error) -> Error {
        error.with_partial(Bytes::new())
    }
}
