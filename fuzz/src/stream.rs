//! An in-memory stream socket for the client parsers: `StreamSock` over a
//! [`RecvBuffer`] and a scripted source, every read run as the real stream runs it
//! (`cosocket-core/src/stream/read.rs`: a [`ReadCall`] with the socket's read limit over
//! the receive buffer), so a parser sees exactly what it would see from a socket, with no
//! runtime. A `Pending` step of the script makes the read future return `Pending` once;
//! the caller then polls it again or drops it (a cancelled read).
//!
//! What parsers never use (writes, options, halves) fails or panics.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::BorrowedFd;
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use cosocket_core::proto::{
    All, Any, Exact, ExactRef, Line, LineRef, ReadCall, Reader, Recv, RecvBuffer,
};
use cosocket_core::{
    Address, Error, Fragments, ReuniteError, SocketOption, StreamRead, StreamSock, StreamWrite,
    Timeout, Until,
};

/// One step of the peer's script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Bytes, delivered by as many `recv`s as the buffer's free space needs.
    Data(Vec<u8>),
    /// One `recv` returns `Pending`.
    Pending,
}

/// The peer: its script, then the end of the stream.
#[derive(Debug, Default)]
struct Script(Mutex<VecDeque<Step>>);

impl Recv for Script {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut script = self.0.lock().expect("not poisoned");
        while matches!(script.front(), Some(Step::Data(d)) if d.is_empty()) {
            script.pop_front();
        }
        match script.front_mut() {
            // The end of the script is the end of the stream: nothing waits forever.
            None => Poll::Ready(Ok(0)),
            Some(Step::Pending) => {
                script.pop_front();
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Data(data)) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                data.drain(..n);
                Poll::Ready(Ok(n))
            }
        }
    }
}

/// The in-memory stream socket.
#[derive(Debug)]
pub struct MemStream {
    buf: RecvBuffer,
    src: Script,
    limit: Option<usize>,
    /// `close` or `set_keepalive` was called.
    pub released: bool,
    in_flight: bool,
}

impl MemStream {
    /// A stream with receive segments of `segment` bytes (at least 1) that plays `script`.
    pub fn new(segment: usize, script: impl IntoIterator<Item = Step>) -> Self {
        Self {
            buf: RecvBuffer::new(NonZeroUsize::new(segment.max(1)).expect("positive")),
            src: Script(Mutex::new(script.into_iter().collect())),
            limit: None,
            released: false,
            in_flight: false,
        }
    }

    /// `bytes` cut after the given lengths (cycled; 0 counts as 1), with a `Pending` after
    /// the pieces whose flag is set.
    pub fn script(bytes: &[u8], cuts: &[(usize, bool)]) -> Vec<Step> {
        let mut steps = Vec::new();
        if cuts.is_empty() {
            steps.push(Step::Data(bytes.to_vec()));
            return steps;
        }
        let (mut at, mut i) = (0, 0);
        while at < bytes.len() {
            let (len, pause) = cuts[i % cuts.len()];
            let end = (at + len.max(1)).min(bytes.len());
            steps.push(Step::Data(bytes[at..end].to_vec()));
            if pause {
                steps.push(Step::Pending);
            }
            at = end;
            i += 1;
        }
        steps
    }

    /// The receive buffer (what is left unread, the counters).
    pub fn buffer(&self) -> &RecvBuffer {
        &self.buf
    }

    async fn read<R: Reader>(&mut self, reader: R) -> cosocket_core::Result<R::Output> {
        let mut call = ReadCall::limited(reader, self.limit);
        if let Some(result) = call.poll_buffered(&mut self.buf) {
            return result;
        }
        let (buf, src) = (&mut self.buf, &self.src);
        poll_fn(|cx| call.poll(buf, src, cx)).await
    }

    async fn read_lent<R>(&mut self, reader: R) -> cosocket_core::Result<&[u8]>
    where
        R: Reader<Output = cosocket_core::proto::Lent>,
    {
        let lent = self.read(reader).await?;
        Ok(self.buf.lent(lent))
    }
}

/// Polls `fut` to completion: the script ends with the end of the stream, so it always
/// completes.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Polls `fut` once.
pub fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

impl StreamRead for MemStream {
    fn receive_line(&mut self) -> impl Future<Output = cosocket_core::Result<Bytes>> + Send {
        self.read(Line::new())
    }

    fn receive_all(&mut self) -> impl Future<Output = cosocket_core::Result<Bytes>> + Send {
        self.read(All)
    }

    fn receive_exact(
        &mut self,
        n: usize,
    ) -> impl Future<Output = cosocket_core::Result<Bytes>> + Send {
        self.read(Exact::new(n))
    }

    async fn receive_any(&mut self, max: usize) -> cosocket_core::Result<Bytes> {
        self.read(Any::new(max)?).await
    }

    async fn receive_until(&mut self, until: &mut Until) -> cosocket_core::Result<Bytes> {
        self.read(until.part()).await
    }

    async fn receive_until_chunk(
        &mut self,
        until: &mut Until,
        size: NonZeroUsize,
    ) -> cosocket_core::Result<Option<Bytes>> {
        self.read(until.chunk(size)).await
    }

    fn receive_line_ref(&mut self) -> impl Future<Output = cosocket_core::Result<&[u8]>> + Send {
        self.read_lent(LineRef::new())
    }

    fn receive_exact_ref(
        &mut self,
        n: usize,
    ) -> impl Future<Output = cosocket_core::Result<&[u8]>> + Send {
        self.read_lent(ExactRef::new(n))
    }

    fn set_read_timeout(&mut self, _timeout: impl Into<Timeout>) {}

    fn set_read_limit(&mut self, limit: Option<usize>) {
        self.limit = limit;
    }
}

fn unsupported<T>() -> Poll<io::Result<T>> {
    Poll::Ready(Err(io::ErrorKind::Unsupported.into()))
}

impl futures_io::AsyncRead for MemStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        unsupported()
    }
}

impl futures_io::AsyncBufRead for MemStream {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        unsupported()
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

impl futures_io::AsyncWrite for MemStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl StreamWrite for MemStream {
    /// Every byte is taken at once.
    fn send<F: Fragments + ?Sized + Sync>(
        &mut self,
        data: &F,
    ) -> impl Future<Output = cosocket_core::Result<usize>> + Send {
        let n = cosocket_core::FragmentList::of(data).len();
        async move { Ok(n) }
    }

    fn set_send_timeout(&mut self, _timeout: impl Into<Timeout>) {}

    fn shutdown(&mut self) -> cosocket_core::Result<()> {
        Ok(())
    }
}

impl StreamSock for MemStream {
    type ReadHalf<'a> = Self;
    type WriteHalf<'a> = Self;
    type OwnedReadHalf = Self;
    type OwnedWriteHalf = Self;

    fn set_timeout(&mut self, _timeout: impl Into<Timeout>) {}

    fn set_timeouts(
        &mut self,
        _connect: impl Into<Timeout>,
        _send: impl Into<Timeout>,
        _read: impl Into<Timeout>,
    ) {
    }

    fn close(&mut self) -> cosocket_core::Result<()> {
        self.released = true;
        Ok(())
    }

    fn set_keepalive(
        &mut self,
        _timeout: impl Into<Timeout>,
        _size: Option<NonZeroUsize>,
    ) -> cosocket_core::Result<()> {
        self.released = true;
        Ok(())
    }

    fn begin_request(&mut self) {
        self.in_flight = true;
    }

    fn end_request(&mut self) {
        self.in_flight = false;
    }

    fn request_in_flight(&self) -> bool {
        self.in_flight
    }

    fn reused_times(&self) -> cosocket_core::Result<u32> {
        Ok(0)
    }

    fn set_option(&mut self, _option: SocketOption, _value: i32) -> cosocket_core::Result<()> {
        Err(Error::closed())
    }

    fn get_option(&self, _option: SocketOption) -> cosocket_core::Result<i32> {
        Err(Error::closed())
    }

    fn bind(&mut self, _ip: &str, _port: u16) -> cosocket_core::Result<()> {
        Err(Error::closed())
    }

    fn fd(&self) -> cosocket_core::Result<BorrowedFd<'_>> {
        Err(Error::closed())
    }

    fn local_addr(&self) -> cosocket_core::Result<Address> {
        Err(Error::closed())
    }

    fn peer_addr(&self) -> cosocket_core::Result<Address> {
        Err(Error::closed())
    }

    fn split(&mut self) -> (Self::ReadHalf<'_>, Self::WriteHalf<'_>) {
        unimplemented!("the parsers never split a stream")
    }

    fn into_split(self) -> (Self::OwnedReadHalf, Self::OwnedWriteHalf) {
        unimplemented!("the parsers never split a stream")
    }

    fn reunite(
        _read: Self::OwnedReadHalf,
        _write: Self::OwnedWriteHalf,
    ) -> Result<Self, ReuniteError<Self::OwnedReadHalf, Self::OwnedWriteHalf>> {
        unimplemented!("the parsers never split a stream")
    }
}
