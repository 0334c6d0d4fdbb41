//! An in-memory [`Recv`] source for testing readers and parsers without sockets.
//!
//! It delivers any segmentation, returns `Pending` where the script says so, and records
//! the size of every `recv`, so tests can check what a reader asked of the kernel.
//!
//! ```
//! use std::num::NonZeroUsize;
//! use cosocket_core::proto::buffer::{ReadCall, RecvBuffer};
//! use cosocket_core::proto::reader::Line;
//! use cosocket_core::proto::testing::{drive, Feed, MemSource};
//!
//! let src = MemSource::new([Feed::data(b"foo\r"), Feed::Pending, Feed::data(b"\nbar"), Feed::Eof]);
//! let mut buf = RecvBuffer::new(NonZeroUsize::new(4096).unwrap());
//! let line = drive(&mut ReadCall::new(Line::new()), &mut buf, &src).unwrap().unwrap();
//! assert_eq!(line, "foo");
//! let err = drive(&mut ReadCall::new(Line::new()), &mut buf, &src).unwrap().unwrap_err();
//! assert_eq!((err.to_string().as_str(), err.partial().unwrap().as_ref()), ("closed", &b"bar"[..]));
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::task::{Context, Poll, Waker};

use crate::proto::buffer::{ReadCall, Reader, Recv, RecvBuffer};
use crate::proto::error::Result;

/// One step of a [`MemSource`]'s script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// Bytes, delivered by as many `recv`s as their sizes need.
    Data(Vec<u8>),
    /// One `recv` returns `Pending` (and wakes the task at once).
    Pending,
    /// The end of the stream: every later `recv` returns 0.
    Eof,
    /// One `recv` fails with this errno.
    Error(i32),
}

impl Feed {
    /// [`Feed::Data`] from anything byte-like.
    pub fn data(bytes: impl AsRef<[u8]>) -> Self {
        Self::Data(bytes.as_ref().to_vec())
    }
}

/// A scripted source of bytes. Once the script is exhausted without [`Feed::Eof`], every
/// `recv` is `Pending` and nobody wakes the task: a silent peer.
#[derive(Debug, Default)]
pub struct MemSource {
    script: RefCell<VecDeque<Feed>>,
    asked: RefCell<Vec<usize>>,
}

impl MemSource {
    /// A source that plays `script`.
    pub fn new(script: impl IntoIterator<Item = Feed>) -> Self {
        Self {
            script: RefCell::new(script.into_iter().collect()),
            asked: RefCell::new(Vec::new()),
        }
    }

    /// Appends to the script.
    pub fn push(&self, feed: Feed) {
        self.script.borrow_mut().push_back(feed);
    }

    /// The buffer sizes of every `recv` that returned `Ready`.
    pub fn asked(&self) -> Vec<usize> {
        self.asked.borrow().clone()
    }

    /// Whether the script is exhausted (the next `recv` would wait forever) — `Eof`, which
    /// stays, does not count as exhausted.
    pub fn is_silent(&self) -> bool {
        self.script.borrow().is_empty()
    }
}

impl Recv for MemSource {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut script = self.script.borrow_mut();
        // An empty `Data` would read as the end of the stream: it delivers nothing instead.
        while matches!(script.front(), Some(Feed::Data(d)) if d.is_empty()) {
            script.pop_front();
        }
        let result = match script.front_mut() {
            None => return Poll::Pending,
            Some(Feed::Pending) => {
                script.pop_front();
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Some(Feed::Eof) => Ok(0),
            Some(Feed::Error(code)) => {
                let code = *code;
                script.pop_front();
                Err(io::Error::from_raw_os_error(code))
            }
            Some(Feed::Data(data)) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                data.drain(..n);
                if data.is_empty() {
                    script.pop_front();
                }
                Ok(n)
            }
        };
        self.asked.borrow_mut().push(buf.len());
        Poll::Ready(result)
    }
}

/// Polls `call` until it completes, or until `src` is silent and the call still waits
/// (`None`: a real socket would now be waiting for its timer).
pub fn drive<R: Reader>(
    call: &mut ReadCall<R>,
    buf: &mut RecvBuffer,
    src: &MemSource,
) -> Option<Result<R::Output>> {
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(result) = call.poll(buf, src, &mut cx) {
            return Some(result);
        }
        if src.is_silent() {
            return None;
        }
    }
}
