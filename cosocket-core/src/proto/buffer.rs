//! The receive buffer of one connection and the driver every reader runs on (spec §2.2).
//!
//! * Bytes arrive in segments of `lua_socket_buffer_size`: one `recv` asks for at most the
//!   free space of the current segment, and only when the running read needs bytes. There
//!   is no read-ahead and no background read: what stays in the kernel decides FIN vs RST
//!   at close and `connection in dubious state` at `set_keepalive`.
//! * Bytes leave the buffer only when a read call *completes* (successfully or with an
//!   error that returns them as the partial), so dropping a read future loses nothing.
//! * Readers remember how far they scanned, so no byte is scanned twice across polls.
//! * Nothing reserves more than two segments ahead of what arrived (one block holds a
//!   segment's `recv` and the leftover of the reads before it), or, for a large
//!   `receive_exact`, more than twice what arrived plus a segment: `receive_exact(1 << 40)`
//!   holds only about the bytes that really came, and a 1 MiB body takes about ten `recv`s.

use std::io;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};

use crate::proto::error::{Error, ErrorKind, Result};

/// Where a buffer's bytes come from: one non-blocking `recv` per call. This is the one
/// seam between the protocol layer and I/O.
///
/// The socket layer implements it for every registered connection; tests use in-memory
/// sources ([`MemSource`](crate::proto::testing::MemSource)) that deliver any segmentation
/// and return `Pending` between segments.
pub trait Recv {
    /// At most one `recv` of at most `buf.len()` bytes; `Ok(0)` is the end of the stream.
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
}

/// The read half's state (spec §1.2, §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadState {
    /// Reads proceed.
    Open,
    /// `receive_all` reached the end of the stream. Not closed: another `receive_all`
    /// returns `""` at once, any other read returns `closed` with an empty partial once and
    /// then `closed`.
    EofSeen,
    /// The read half is closed (EOF seen by another reader, a read error, or `close`).
    Closed,
}

/// Which read call last completed on which buffer: an [`Until`](crate::proto::until::Until) keeps its
/// withheld bytes only while no other read has completed since its own call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadEpoch {
    buffer: u64,
    reads: u64,
}

static NEXT_BUFFER_ID: AtomicU64 = AtomicU64::new(1);

/// Results up to this size are copied out of the buffer, larger ones shared with it: for a
/// short line, `malloc` + `memcpy` costs less than the two atomic reference-count updates
/// of a shared slice (measured: about 8 % more lines per second on 100-byte lines), and a
/// short result kept for long does not keep a whole block alive.
pub const COPY_MAX: usize = 256;

/// Where the result of a borrowing read is: see [`RecvBuffer::lent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lent {
    /// `len` bytes of the storage from `at`, consumed but still in place.
    Front {
        /// Where they start in the storage.
        at: usize,
        /// How many.
        len: usize,
    },
    /// The buffer's scratch space.
    Scratch,
}

/// A buffer that has no bytes and holds no more than this keeps its memory.
const KEEP_STORAGE: usize = 64 * 1024;

/// The receive buffer of one connection.
///
/// The bytes live in one [`BytesMut`]: `storage[head..filled]` is what arrived and no
/// completed read consumed yet, `storage[filled..]` is zeroed space the next `recv` writes
/// into. `storage[..head]` was consumed and leaves the storage only when it is split or
/// grown, so that a read costs no `advance`, and a borrowing read's result can point into
/// it. A
/// completed read over [`COPY_MAX`] bytes hands them out with `split_to(..).freeze()`: a
/// part or a 64 KiB chunk leaves without being copied, and shares the block it arrived in
/// (freed when the last such `Bytes` is dropped). Zeroing the `recv`'s space is the price
/// of doing this without `unsafe`.
#[derive(Debug)]
pub struct RecvBuffer {
    storage: BytesMut,
    filled: usize,
    /// Front bytes consumed but still in `storage`.
    head: usize,
    /// The reused buffer of borrowed lines with CRs inside.
    scratch: Vec<u8>,
    /// The capacity of the block `storage` last (re)allocated or reclaimed: what stays
    /// allocated while the buffer is empty.
    block: usize,
    segment: usize,
    /// Bytes received into the current segment; a segment is new when the buffer was
    /// emptied (OpenResty resets `pos = last = start`) or the last one filled up.
    segment_fill: usize,
    eof: bool,
    closed: bool,
    epoch: ReadEpoch,
    received: u64,
    consumed: u64,
    /// Bytes looked at by readers' scans, for the "each byte at most twice" tests.
    examined: u64,
}

impl RecvBuffer {
    /// An empty buffer with segments of `segment` bytes (`lua_socket_buffer_size`), at
    /// most [`Directives::MAX_BUFFER_SIZE`](crate::Directives::MAX_BUFFER_SIZE): a larger
    /// one is taken as that (sockets never get one: their connect refuses it first).
    pub fn new(segment: NonZeroUsize) -> Self {
        let segment = segment.get().min(crate::Directives::MAX_BUFFER_SIZE);
        Self {
            storage: BytesMut::new(),
            filled: 0,
            head: 0,
            scratch: Vec::new(),
            block: 0,
            segment,
            segment_fill: 0,
            eof: false,
            closed: false,
            epoch: ReadEpoch {
                buffer: NEXT_BUFFER_ID.fetch_add(1, Ordering::Relaxed),
                reads: 0,
            },
            received: 0,
            consumed: 0,
            examined: 0,
        }
    }

    /// Takes over the storage of `old`, an emptied buffer of an earlier user of the same
    /// connection (the pool keeps it with the connection), so that the first `recv`
    /// allocates and zeroes nothing. Only the storage moves: state, counters and epoch
    /// stay this buffer's. A buffer that still holds bytes is not taken.
    pub fn recycle(&mut self, mut old: Self) {
        old.settle();
        if old.filled == 0 && self.filled == 0 && old.block <= KEEP_STORAGE.max(2 * self.segment) {
            self.storage = old.storage;
            self.block = old.block;
        }
    }

    /// The segment size.
    pub fn segment_size(&self) -> usize {
        self.segment
    }

    /// Bytes received but not yet consumed by a completed read.
    pub fn buffered(&self) -> &[u8] {
        &self.storage[self.head..self.filled]
    }

    /// How many bytes are buffered.
    pub fn len(&self) -> usize {
        self.filled - self.head
    }

    /// Whether no byte is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What a borrowing read ([`LineRef`](crate::proto::LineRef),
    /// [`ExactRef`](crate::proto::ExactRef)) handed out, until the next operation on the
    /// buffer.
    pub fn lent(&self, lent: Lent) -> &[u8] {
        match lent {
            Lent::Front { at, len } => self.storage.get(at..at + len).unwrap_or_default(),
            Lent::Scratch => &self.scratch,
        }
    }

    /// Consumes the first `n` buffered bytes and lends out the first `keep` of them,
    /// without a copy: they stay in place until the storage is next compacted, which no
    /// operation does while the borrow lives.
    pub(crate) fn lend(&mut self, n: usize, keep: usize) -> Lent {
        let n = n.min(self.len());
        let lent = Lent::Front {
            at: self.head,
            len: keep.min(n),
        };
        self.consumed_front(n);
        lent
    }

    /// Consumes the first `n` buffered bytes; `fill` writes what is lent out into the
    /// buffer's reused scratch space (a line whose CRs are removed).
    pub(crate) fn lend_scratch(
        &mut self,
        n: usize,
        fill: impl FnOnce(&[u8], &mut Vec<u8>),
    ) -> Lent {
        self.scratch.clear();
        let n = n.min(self.len());
        fill(&self.storage[self.head..self.head + n], &mut self.scratch);
        self.consume(n);
        Lent::Scratch
    }

    /// Drops the consumed front bytes from the storage (before the storage is split or
    /// grown): consumption itself only moves `head`, which costs nothing per read.
    fn settle(&mut self) {
        self.release_block();
        if self.head > 0 {
            let n = std::mem::take(&mut self.head);
            self.storage.advance(n);
            self.filled -= n;
        }
    }

    /// The read half's state.
    pub fn state(&self) -> ReadState {
        match (self.closed, self.eof) {
            (true, _) => ReadState::Closed,
            (false, true) => ReadState::EofSeen,
            (false, false) => ReadState::Open,
        }
    }

    /// Marks the read half closed (a socket error outside a read, or `close`).
    pub fn close_read(&mut self) {
        self.closed = true;
    }

    /// Total bytes received from the source (progress, for idle timeouts).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Total bytes consumed by completed reads.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The epoch of the last completed read.
    pub fn epoch(&self) -> ReadEpoch {
        self.epoch
    }

    /// Bytes examined by readers' scans so far.
    pub fn examined(&self) -> u64 {
        self.examined
    }

    pub(crate) fn count_examined(&mut self, n: usize) {
        self.examined += n as u64;
    }

    /// Removes `n` buffered bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len());
        self.consumed_front(n);
    }

    /// The next recv may fill a whole segment again.
    pub(crate) fn restart_segment(&mut self) {
        self.segment_fill = 0;
    }

    /// Hands out and consumes the first `n` buffered bytes.
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        self.take_head(n, n)
    }

    /// Consumes the first `n` buffered bytes and hands out the first `keep` of them (a
    /// line without its CRLF). Up to [`COPY_MAX`] bytes are copied; a larger result is
    /// split off the block it arrived in, without a copy.
    pub(crate) fn take_head(&mut self, n: usize, keep: usize) -> Bytes {
        let n = n.min(self.len());
        let keep = keep.min(n);
        if n == 0 {
            return Bytes::new();
        }
        if keep <= COPY_MAX {
            let out = Bytes::copy_from_slice(&self.storage[self.head..self.head + keep]);
            self.consumed_front(n);
            return out;
        }
        self.settle();
        let mut out = self.storage.split_to(n).freeze();
        out.truncate(keep);
        self.filled -= n;
        self.consumed += n as u64;
        self.released_front();
        self.release_block();
        out
    }

    /// Bookkeeping after `n` bytes were consumed at the front.
    fn consumed_front(&mut self, n: usize) {
        self.head += n;
        self.consumed += n as u64;
        self.released_front();
    }

    /// The buffer emptied: a new segment starts (OpenResty resets `pos = last = start`).
    fn released_front(&mut self) {
        if self.head == self.filled {
            self.segment_fill = 0;
        }
    }

    /// An empty buffer gives a large block back. Never while a borrowing read's result
    /// may point into it: only where the storage is split or filled.
    fn release_block(&mut self) {
        if self.head == self.filled && self.block > KEEP_STORAGE.max(2 * self.segment) {
            self.storage = BytesMut::new();
            self.block = 0;
            self.head = 0;
            self.filled = 0;
        }
    }

    /// One `recv` of at most the free space of the current segment, outside any read call
    /// (the I/O traits' `poll_fill_buf`): `Ok(0)` marks the end of the stream.
    pub fn poll_more<S: Recv + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        src: &S,
    ) -> Poll<io::Result<usize>> {
        let n = ready!(self.poll_fill(cx, src, 0))?;
        if n == 0 {
            self.eof = true;
        }
        Poll::Ready(Ok(n))
    }

    /// Consumes `n` buffered bytes outside any read call (the I/O traits' `consume`); it
    /// counts as a completed read, so an [`Until`](crate::proto::Until)'s withheld bytes,
    /// taken by it, are not withheld any more.
    pub fn consume_read(&mut self, n: usize) {
        self.consume(n);
        self.epoch.reads += 1;
    }

    /// One `recv` of at most the free space of the current segment, or, for a read that
    /// still `needs` more than that (a large `receive_exact`), of at most what it needs
    /// rounded up to the end of its last segment, and no more than is already buffered.
    ///
    /// The larger `recv` changes no result: OpenResty loops `recv`s of a segment until the
    /// size is met, which takes the same bytes from the kernel, up to the same segment
    /// end, in more system calls (256 instead of about 10 for a 1 MiB body at the default
    /// 4 KiB). Bounding it by what already arrived keeps a hostile length from reserving
    /// memory the peer never sent: the storage stays within twice the bytes received plus
    /// two segments.
    fn poll_fill<S: Recv + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        src: &S,
        needs: usize,
    ) -> Poll<io::Result<usize>> {
        self.settle();
        let mut want = self.segment - self.segment_fill;
        if needs > want {
            // Up to the end of the segment where the read's last byte falls, as
            // OpenResty's last segment-sized `recv` would ask: the bytes past the need
            // within that segment are read (and stay buffered) there too.
            let end = self
                .segment_fill
                .saturating_add(needs)
                .div_ceil(self.segment)
                .saturating_mul(self.segment);
            // No more than already arrived (a hostile length reserves nothing), unless
            // that much completes the read: then up to that segment end, never stopping
            // the read mid-segment where OpenResty's `recv`s would go on to its end.
            let cap = want.max(self.len());
            want = if cap >= needs {
                end - self.segment_fill
            } else {
                cap
            };
        }
        self.make_room(want);
        let free = &mut self.storage[self.filled..self.filled + want];
        let n = ready!(src.poll_recv(cx, free))?;
        // A backend that reports more than it was given is clamped, never trusted.
        let n = n.min(want);
        self.filled += n;
        self.segment_fill = (self.segment_fill + n) % self.segment;
        self.received += n as u64;
        Poll::Ready(Ok(n))
    }

    /// Ensures `want` zeroed bytes after the buffered ones.
    ///
    /// A new block holds two segments: a segment's worth of `recv` plus what the reads
    /// leave over (a partial line or part), so that `reserve` can move the leftover to
    /// the front of the same block once no handed-out `Bytes` shares it, instead of
    /// allocating. It allocates (amortised) only when a result is still alive or one read
    /// needs more. Only the bytes the `recv` may write are zeroed.
    fn make_room(&mut self, want: usize) {
        if self.storage.len() - self.filled >= want {
            return;
        }
        if self.storage.capacity() - self.filled >= want {
            // The block has the room: only what lies past the zeroed tail is zeroed (a
            // read that consumed one byte costs one byte here, not a segment).
            self.storage.resize(self.filled + want, 0);
            return;
        }
        self.storage.truncate(self.filled);
        if self.storage.capacity() == 0 {
            self.storage = BytesMut::with_capacity(2 * self.segment.max(want));
        } else {
            self.storage.reserve(want);
        }
        self.block = self.block.max(self.storage.capacity());
        self.storage.resize(self.filled + want, 0);
    }
}

/// A read in progress: what it waits for, how far it scanned, and how it ends.
///
/// Implementations only *look* at the buffer until they complete; they consume bytes only
/// in [`scan`](Reader::scan) (when returning `Some`), [`at_eof`](Reader::at_eof) and
/// [`fail`](Reader::fail).
pub trait Reader {
    /// What a successful call returns.
    type Output;

    /// Called once, on the first poll, after the closed check: a result here ends the
    /// call at once without counting as a read (the end-of-part call of `receive_until`).
    fn begin(&mut self, buf: &RecvBuffer) -> Option<Self::Output> {
        let _ = buf;
        None
    }

    /// Looks at the buffered bytes; once complete, consumes its bytes and returns the
    /// result. Keeps its scan position across calls.
    fn scan(&mut self, buf: &mut RecvBuffer) -> Option<Self::Output>;

    /// The stream ended before [`scan`](Reader::scan) completed. Returns the result
    /// (`receive_all`) or the `closed` error with the partial; consumes what it returns.
    fn at_eof(&mut self, buf: &mut RecvBuffer) -> Result<Self::Output>;

    /// The call fails with `error` (timeout or socket error): consumes the partial and
    /// returns the error carrying it.
    fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error;

    /// The call completed (in any way) as read number `epoch` of the buffer.
    fn completed(&mut self, epoch: ReadEpoch) {
        let _ = epoch;
    }

    /// The call's read limit (never `usize::MAX`), told once before the first scan. A
    /// reader that waits for an end only the peer decides (a line's LF, a part's pattern)
    /// looks for it within the first `limit` bytes only, so that whether a read passes
    /// does not depend on how its bytes arrived.
    fn set_limit(&mut self, limit: usize) {
        let _ = limit;
    }

    /// After a scan that did not complete: whether the read can no longer complete within
    /// `limit` bytes.
    fn exceeds(&self, buf: &RecvBuffer, limit: usize) -> bool {
        let _ = (buf, limit);
        false
    }

    /// The bytes the read consumes at least (`receive_exact(n)`: `n`), checked against a
    /// read limit before any I/O.
    fn needs(&self) -> usize {
        0
    }
}

/// One read call: a [`Reader`] plus the checks that run on its first poll.
///
/// The socket owns the buffer and the source; it polls this with both, and when its timer
/// fires it calls [`fail`](ReadCall::fail) with a timeout.
#[derive(Debug)]
pub struct ReadCall<R> {
    reader: R,
    begun: bool,
    limit: usize,
}

impl<R: Reader> ReadCall<R> {
    /// A call that has not been polled yet, with no read limit.
    pub fn new(reader: R) -> Self {
        Self::limited(reader, None)
    }

    /// A call that fails with [`ErrorKind::TooLarge`] if it would consume more than
    /// `limit` bytes (`None`: no limit, as OpenResty): a line with its LF, a part with its
    /// pattern, everything of `*a`, and `receive_exact(n)` with `n` over the limit (before
    /// any I/O). The failure discards the buffered bytes and closes the read half, so no
    /// more than the limit plus one segment is ever buffered for such a read.
    pub fn limited(reader: R, limit: Option<usize>) -> Self {
        Self {
            reader,
            begun: false,
            limit: limit.unwrap_or(usize::MAX),
        }
    }

    /// Drives the read: scans the buffered bytes, `recv`s only when they do not suffice.
    ///
    /// # Cancel safety
    /// Dropping the call between polls consumes nothing: every byte received stays
    /// buffered for the next read.
    pub fn poll<S: Recv + ?Sized>(
        &mut self,
        buf: &mut RecvBuffer,
        src: &S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<R::Output>> {
        loop {
            if let Some(result) = self.poll_buffered(buf) {
                return Poll::Ready(result);
            }
            let needs = self.reader.needs().saturating_sub(buf.len());
            match ready!(buf.poll_fill(cx, src, needs)) {
                Ok(0) => buf.eof = true,
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(self.fail(buf, Error::from_io(&e)))),
            }
        }
    }

    /// The part of [`poll`](Self::poll) that needs no source: the first poll's checks, a
    /// scan of the buffered bytes, the end of the stream already seen. `None`: the call
    /// needs a `recv`.
    pub fn poll_buffered(&mut self, buf: &mut RecvBuffer) -> Option<Result<R::Output>> {
        if !self.begun {
            self.begun = true;
            if buf.closed {
                return Some(Err(Error::closed()));
            }
            if let Some(out) = self.reader.begin(buf) {
                return Some(Ok(out));
            }
            if self.limit != usize::MAX {
                if self.reader.needs() > self.limit {
                    return Some(Err(self.too_large(buf)));
                }
                self.reader.set_limit(self.limit);
            }
        }
        if let Some(out) = self.reader.scan(buf) {
            self.complete(buf);
            return Some(Ok(out));
        }
        if self.limit != usize::MAX && self.reader.exceeds(buf, self.limit) {
            return Some(Err(self.too_large(buf)));
        }
        if buf.eof {
            let result = self.reader.at_eof(buf);
            if result.is_err() {
                buf.closed = true;
            }
            self.complete(buf);
            return Some(result);
        }
        None
    }

    /// Ends the call with `error`: the partial is consumed and attached; a timeout leaves
    /// the read half open, any other error closes it (spec §1.2).
    pub fn fail(&mut self, buf: &mut RecvBuffer, error: Error) -> Error {
        let timeout = error.is_timeout();
        let error = self.reader.fail(buf, error);
        if !timeout {
            buf.closed = true;
        }
        self.complete(buf);
        error
    }

    /// The read would exceed its limit: the buffered bytes are discarded (no partial: the
    /// framing is lost) and the read half closes.
    fn too_large(&mut self, buf: &mut RecvBuffer) -> Error {
        buf.consume(buf.len());
        buf.closed = true;
        self.complete(buf);
        Error::from_kind(ErrorKind::TooLarge)
    }

    fn complete(&mut self, buf: &mut RecvBuffer) {
        buf.epoch.reads += 1;
        self.reader.completed(buf.epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::testing::{Feed, MemSource, drive as poll_once};

    #[test]
    fn recv_asks_for_the_free_space_of_the_current_segment() {
        let src = MemSource::new([Feed::data(b"01"), Feed::data(b"2345"), Feed::data(b"6789")]);
        let mut buf = RecvBuffer::new(NonZeroUsize::new(4).unwrap());
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(1));
        assert_eq!(poll_once(&mut call, &mut buf, &src).unwrap().unwrap(), "0");
        assert_eq!(src.asked(), [4]);
        // "1" is buffered and the segment holds 2 bytes: the next recv asks for 2.
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(3));
        assert_eq!(
            poll_once(&mut call, &mut buf, &src).unwrap().unwrap(),
            "123"
        );
        assert_eq!(src.asked(), [4, 2]);
        // The segment filled up and the buffer emptied: a new one of 4, which "45" fills
        // half, so the next recv asks for 2.
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(3));
        assert_eq!(
            poll_once(&mut call, &mut buf, &src).unwrap().unwrap(),
            "456"
        );
        assert_eq!(src.asked(), [4, 2, 4, 2]);
        // "7" is buffered: no recv.
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(1));
        assert_eq!(poll_once(&mut call, &mut buf, &src).unwrap().unwrap(), "7");
        assert_eq!(src.asked(), [4, 2, 4, 2]);
        // The buffer emptied: its segment starts over, a full-size recv.
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(2));
        assert_eq!(poll_once(&mut call, &mut buf, &src).unwrap().unwrap(), "89");
        assert_eq!(src.asked(), [4, 2, 4, 2, 4]);
    }

    #[test]
    fn a_large_exact_read_asks_for_up_to_what_arrived() {
        let body: Vec<u8> = (0..100u8).collect();
        let src = MemSource::new([Feed::data(&body), Feed::data(b"next")]);
        let mut buf = RecvBuffer::new(NonZeroUsize::new(4).unwrap());
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(62));
        assert_eq!(
            poll_once(&mut call, &mut buf, &src).unwrap().unwrap(),
            &body[..62]
        );
        // A segment, then doubling, up to the end of the segment holding byte 62 (64), as
        // OpenResty's segment-sized recvs take: the 2 bytes past the read stay buffered.
        assert_eq!(src.asked(), [4, 4, 8, 16, 32]);
        assert_eq!(buf.buffered(), &body[62..64]);
        // The rest is read as before, a segment at a time.
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(3));
        assert_eq!(
            poll_once(&mut call, &mut buf, &src).unwrap().unwrap(),
            &body[62..65]
        );
        assert_eq!(src.asked(), [4, 4, 8, 16, 32, 4]);
    }

    #[test]
    fn no_recv_when_the_buffer_suffices() {
        let src = MemSource::new([Feed::data(b"abcdef")]);
        let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
        for expected in ["ab", "cd", "ef"] {
            let mut call = ReadCall::new(crate::proto::reader::Exact::new(2));
            assert_eq!(
                poll_once(&mut call, &mut buf, &src).unwrap().unwrap(),
                expected
            );
        }
        assert_eq!(src.asked().len(), 1);
    }

    #[test]
    fn hostile_length_reserves_only_what_arrived() {
        let src = MemSource::new([Feed::data(b"tiny"), Feed::Pending]);
        let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
        let mut call = ReadCall::new(crate::proto::reader::Exact::new(1 << 40));
        assert!(poll_once(&mut call, &mut buf, &src).is_none());
        assert!(buf.storage.capacity() <= 2 * 4096);
        let err = call.fail(&mut buf, Error::timeout());
        assert_eq!(err.partial().unwrap(), "tiny");
    }

    #[test]
    fn storage_is_released_after_a_huge_read() {
        let big = vec![b'x'; 1 << 20];
        let src = MemSource::new([Feed::data(&big), Feed::Eof]);
        let mut buf = RecvBuffer::new(NonZeroUsize::new(65536).unwrap());
        let mut call = ReadCall::new(crate::proto::reader::All);
        assert_eq!(
            poll_once(&mut call, &mut buf, &src).unwrap().unwrap().len(),
            1 << 20
        );
        assert_eq!(buf.storage.capacity(), 0);
    }

    #[test]
    fn epochs_are_unique_per_buffer() {
        let a = RecvBuffer::new(NonZeroUsize::MIN);
        let b = RecvBuffer::new(NonZeroUsize::MIN);
        assert_ne!(a.epoch(), b.epoch());
    }
}
