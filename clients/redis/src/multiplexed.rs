//! One connection shared by many tasks, the model of redis-rs's `MultiplexedConnection`
//! built on cosocket's owned halves, with no task of its own (cosocket's traits have no
//! spawn, and none is needed):
//!
//! * A caller appends its encoded commands to a shared outbox and its reply slot to the
//!   queue of expected replies, under one lock, so the order of the bytes on the wire is
//!   the order of the queue. Whoever holds the write half then writes the whole outbox:
//!   the commands of every task waiting meanwhile go out in one write.
//! * A caller then waits for its reply, or for the read half: whoever holds it reads one
//!   reply and hands it to the head of the queue (its owner's channel), until its own has
//!   come, and then hands on the replies already buffered before it lets go.
//! * Cancellation: every write and read is resumable. Unwritten bytes stay in the writer
//!   with how much of them is written; the reply parser keeps its place in a reply
//!   between reads (`Parser`); each cosocket read consumes nothing when dropped. A
//!   cancelled caller's slot stays in the queue, so its reply is read and discarded,
//!   never handed to another caller.
//! * Writes follow Nagle's rule: a caller writes only when nothing is in flight; the
//!   reader that reads the last in-flight reply writes what was queued meanwhile. A
//!   writer dropped half-way marks the writer abandoned and wakes the reader, which
//!   writes the rest before it waits for replies to it.
//! * A transport or protocol error fails every waiting caller and every later one: the
//!   connection is closed for good ([`Multiplexed::is_broken`]).

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Arc, Mutex as StdMutex, MutexGuard};

use futures::FutureExt;
use futures::channel::oneshot;
use futures::future::{Either, select};
use futures::io::AsyncWriteExt;
use futures::lock::Mutex;
use futures::task::AtomicWaker;

use cosocket::StreamSock;

use crate::command::{Cmd, Pipeline};
use crate::error::{Error, Result};
use crate::reply::{Limits, Parser};
use crate::value::Value;

/// Marks the writer abandoned if a flush is dropped before it finished, and wakes the
/// reader, which may be waiting for replies to the bytes left unwritten.
struct AbandonGuard<'a, S: StreamSock> {
    mux: &'a Multiplexed<S>,
    armed: bool,
}

impl<S: StreamSock> Drop for AbandonGuard<'_, S> {
    fn drop(&mut self) {
        if self.armed {
            self.mux.state().abandoned = true;
            self.mux.shared.reader_waker.wake();
        }
    }
}

/// A future that is pending once (waking itself at once), so that the other tasks ready
/// to run go first.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// A reply slot: its channel and the replies it waits for.
struct Waiter {
    tx: oneshot::Sender<Result<Vec<Value>>>,
    want: usize,
    got: Vec<Value>,
}

/// What the callers share under a short lock (never held across an await).
#[derive(Default)]
struct State {
    /// Encoded commands no writer has taken yet.
    outbox: Vec<u8>,
    /// The replies expected, in the order their commands were queued.
    queue: VecDeque<Waiter>,
    /// Why the connection is gone.
    broken: Option<Error>,
    /// Waiters (from the head of the queue) whose commands a writer has taken.
    sent: usize,
    /// Waiters whose commands a writer took and has not finished writing.
    writing: usize,
    /// Waiters whose commands are in the outbox.
    unsent: usize,
    /// A writer was dropped (its caller cancelled) before it finished: the bytes it left
    /// wait in the writer, and the reader must not wait for replies to them.
    abandoned: bool,
}

struct Writer<W> {
    half: W,
    /// Bytes taken from the outbox, and how much of them is written.
    pending: Vec<u8>,
    written: usize,
}

struct Reader<R> {
    half: R,
    parser: Parser,
}

struct Shared<S: StreamSock> {
    state: StdMutex<State>,
    /// The reader waiting for the socket, woken when a writer is abandoned.
    reader_waker: AtomicWaker,
    writer: Mutex<Writer<S::OwnedWriteHalf>>,
    reader: Mutex<Reader<S::OwnedReadHalf>>,
    limits: Limits,
    resp3: bool,
}

/// A connection many tasks use at once: commands are pipelined as they arrive and each
/// caller gets its own reply. Cheap to clone; the connection closes when the last clone
/// is dropped. Made by [`Redis::multiplexed`](crate::Redis::multiplexed).
///
/// A blocking command (`BLPOP`) holds up every caller behind it, and the read timeout
/// applies to the shared read: a reply later than it fails the connection for all.
pub struct Multiplexed<S: StreamSock> {
    shared: Arc<Shared<S>>,
}

impl<S: StreamSock> Clone for Multiplexed<S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<S: StreamSock> std::fmt::Debug for Multiplexed<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multiplexed")
            .field("broken", &self.is_broken())
            .finish_non_exhaustive()
    }
}

impl<S: StreamSock> Multiplexed<S> {
    /// Shares `sock` (connected and set up).
    pub(crate) fn new(sock: S, limits: Limits, resp3: bool) -> Self {
        let (read, write) = sock.into_split();
        Self {
            shared: Arc::new(Shared {
                state: StdMutex::new(State::default()),
                reader_waker: AtomicWaker::new(),
                writer: Mutex::new(Writer {
                    half: write,
                    pending: Vec::new(),
                    written: 0,
                }),
                reader: Mutex::new(Reader {
                    half: read,
                    parser: Parser::default(),
                }),
                limits,
                resp3,
            }),
        }
    }

    /// Whether the connection failed (every call now fails with that error).
    pub fn is_broken(&self) -> bool {
        self.state().broken.is_some()
    }

    /// Sends `cmd` (with the commands of other callers) and reads its reply; an error
    /// reply is [`Error::Server`].
    pub async fn query(&self, cmd: &Cmd<'_>) -> Result<Value> {
        cmd.validate_request()?;
        let mut replies = self.exchange(std::slice::from_ref(cmd)).await?;
        replies.pop().expect("one reply").into_result()
    }

    /// The commands of `pipeline`, kept together, and their replies in order (a failed
    /// command is a [`Value::Error`] in its place).
    pub async fn pipeline(&self, pipeline: &Pipeline<'_>) -> Result<Vec<Value>> {
        pipeline.validate()?;
        self.exchange(pipeline.cmds()).await
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held left consistent data (every change is one
        // statement), so a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn exchange(&self, cmds: &[Cmd<'_>]) -> Result<Vec<Value>> {
        let (tx, mut rx) = oneshot::channel();
        {
            let mut state = self.state();
            if let Some(e) = &state.broken {
                return Err(e.clone());
            }
            for cmd in cmds {
                cmd.encode_into(&mut state.outbox);
            }
            state.queue.push_back(Waiter {
                tx,
                want: cmds.len(),
                got: Vec::with_capacity(cmds.len()),
            });
            state.unsent += 1;
        }
        // Let the other ready tasks queue their commands first (a task alone pays one
        // extra poll, no syscall). Then write, unless commands are in flight: their
        // replies are coming, and the reader that reads the last of them writes all that
        // was queued meanwhile in one write (Nagle's rule). Without it, replies that come
        // one by one wake callers one by one, each of whose commands would go alone.
        YieldOnce(false).await;
        if self.must_write() {
            self.flush().await?;
        }
        loop {
            if let Some(result) = self.try_take(&mut rx) {
                return result;
            }
            if self.should_flush() {
                self.flush().await?;
            }
            let lock = pin!(self.shared.reader.lock());
            match select(&mut rx, lock).await {
                Either::Left((result, _)) => return self.received(result),
                Either::Right((mut reader, _)) => {
                    // The reply may have come while the lock was awaited.
                    if let Some(result) = self.try_take(&mut rx) {
                        return result;
                    }
                    if self.should_flush() {
                        // Nothing in flight and commands unwritten: no reply is coming
                        // until they are written.
                        self.flush().await?;
                        continue;
                    }
                    let Reader { half, parser } = &mut *reader;
                    // The read races an abandoned writer: its bytes are written first.
                    // A read dropped here loses nothing (it resumes on the next call).
                    let outcome = {
                        let read = pin!(parser.read(half, &self.shared.limits));
                        match select(read, pin!(self.abandoned())).await {
                            Either::Left((result, _)) => Some(result),
                            Either::Right(((), _)) => None,
                        }
                    };
                    match outcome {
                        Some(Ok(value)) => self.deliver(value),
                        Some(Err(e)) => self.fail(e),
                        None => {
                            self.flush().await?;
                            continue;
                        }
                    }
                    if self.should_flush() {
                        self.flush().await?;
                    }
                    if let Some(result) = self.try_take(&mut rx) {
                        // Before handing the read side on, deliver the replies already
                        // buffered: polled once each, and a read that would wait is
                        // dropped, which loses nothing (it resumes in the next reader).
                        while self.expecting() {
                            match parser.read(half, &self.shared.limits).now_or_never() {
                                Some(Ok(value)) => self.deliver(value),
                                Some(Err(e)) => self.fail(e),
                                None => break,
                            }
                        }
                        if self.should_flush() {
                            // Another caller's commands: written before this one leaves,
                            // as nobody else may be reading.
                            self.flush().await?;
                        }
                        return result;
                    }
                }
            }
        }
    }

    fn try_take(
        &self,
        rx: &mut oneshot::Receiver<Result<Vec<Value>>>,
    ) -> Option<Result<Vec<Value>>> {
        match rx.try_recv() {
            Ok(None) => None,
            Ok(Some(result)) => Some(result),
            Err(oneshot::Canceled) => Some(self.received(Err(oneshot::Canceled))),
        }
    }

    fn received(
        &self,
        result: Result<Result<Vec<Value>>, oneshot::Canceled>,
    ) -> Result<Vec<Value>> {
        result.unwrap_or_else(|_| Err(self.state().broken.clone().unwrap_or(Error::Unusable)))
    }

    /// Writes the outbox (and what an earlier, cancelled writer left) until it is empty.
    async fn flush(&self) -> Result<()> {
        let mut writer = self.shared.writer.lock().await;
        let mut guard = AbandonGuard {
            mux: self,
            armed: true,
        };
        let Writer {
            half,
            pending,
            written,
        } = &mut *writer;
        loop {
            if *written == pending.len() {
                let mut state = self.state();
                // What was taken is written: those commands are in flight.
                state.sent += state.writing;
                state.writing = 0;
                state.abandoned = false;
                pending.clear();
                *written = 0;
                if state.outbox.is_empty() {
                    guard.armed = false;
                    return Ok(());
                }
                std::mem::swap(pending, &mut state.outbox);
                state.writing = state.unsent;
                state.unsent = 0;
            }
            // One write at a time: a dropped write wrote nothing, a finished one is
            // counted, so the next writer resumes exactly where this one stopped.
            match half.write(&pending[*written..]).await {
                Ok(n) => *written += n,
                Err(e) => {
                    guard.armed = false;
                    let e = Error::Transport(cosocket::Error::from_io(&e));
                    self.fail(e.clone());
                    return Err(e);
                }
            }
        }
    }

    /// Whether a caller must write after queueing its commands: unless some are in flight
    /// and fully written (their reader will write the rest, Nagle's rule).
    fn must_write(&self) -> bool {
        let state = self.state();
        state.sent == 0 || state.writing > 0 || state.abandoned
    }

    /// Pending until a writer is abandoned (then the reader writes its bytes).
    fn abandoned(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            self.shared.reader_waker.register(cx.waker());
            if self.state().abandoned {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
    }

    /// Whether commands wait unwritten with none in flight (or a writer was abandoned):
    /// the reader writes them.
    fn should_flush(&self) -> bool {
        let state = self.state();
        state.broken.is_none()
            && (state.abandoned || (state.sent == 0 && (state.unsent > 0 || state.writing > 0)))
    }

    /// Whether replies are expected.
    fn expecting(&self) -> bool {
        let state = self.state();
        state.broken.is_none() && !state.queue.is_empty()
    }

    /// Hands a reply to the head of the queue.
    fn deliver(&self, value: Value) {
        if self.shared.resp3 && matches!(value, Value::Push(_)) {
            // Out of band (client-side caching's invalidations): not a reply.
            return;
        }
        let mut state = self.state();
        let Some(head) = state.queue.front_mut() else {
            drop(state);
            self.fail(Error::Protocol("a reply nobody asked for".into()));
            return;
        };
        head.got.push(value);
        if head.got.len() == head.want {
            let done = state.queue.pop_front().expect("the head");
            // The queue is in wire order: fully written, being written, unwritten. A
            // reply can come while its batch is still being written (a large batch).
            if state.sent > 0 {
                state.sent -= 1;
            } else if state.writing > 0 {
                state.writing -= 1;
            }
            // A cancelled caller's receiver is gone: its reply is dropped here.
            let _ = done.tx.send(Ok(done.got));
        }
    }

    /// The connection is gone: every waiting caller and every later one gets `e`.
    fn fail(&self, e: Error) {
        let mut state = self.state();
        if state.broken.is_none() {
            state.broken = Some(e.clone());
        }
        for waiter in state.queue.drain(..) {
            let _ = waiter.tx.send(Err(e.clone()));
        }
        state.outbox.clear();
        (state.sent, state.writing, state.unsent) = (0, 0, 0);
        state.abandoned = false;
    }
}
