//! One connection: requests, pipelines and transactions, each one vectored `send` and its
//! replies read in order, and the rule that keeps replies matched to their requests.
//!
//! Every exchange is bracketed by cosocket's `begin_request` / `end_request`. A request
//! whose future is dropped after it was sent, or that failed or timed out half-way, leaves
//! its reply (or the rest of it) in flight; such a connection is never used again: the
//! next request on it fails with [`Error::Unusable`], and `set_keepalive` closes it instead
//! of pooling it (cosocket's `RequestInFlight`). That is the bug of redis-rs #325 / #489 /
//! #1252 and deadpool #97 / #102 (a late reply read as the answer to the next command),
//! and what lua-resty-redis does on a timeout: close.

use std::num::NonZeroUsize;

use cosocket::{Fragments, StreamSock, Timeout};

use crate::command::{Cmd, Pipeline};
use crate::error::{Error, Result};
use crate::reply::{Limits, Parser};
use crate::value::Value;

const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";

/// A connection to a Redis server, from [`Redis::connection`](crate::Redis::connection) or
/// made from a connected stream with [`Connection::new`].
///
/// Dropping it closes the connection; [`set_keepalive`](Self::set_keepalive) pools it.
#[derive(Debug)]
pub struct Connection<S: StreamSock> {
    pub(crate) sock: S,
    pub(crate) limits: Limits,
    pub(crate) keepalive: Timeout,
    pub(crate) pool_size: Option<NonZeroUsize>,
    pub(crate) resp3: bool,
    read_timeout: Timeout,
}

impl<S: StreamSock> Connection<S> {
    /// Wraps a connected stream (set up already: authenticated, database selected).
    /// `read_timeout` is the stream's read timeout, restored after a blocking command.
    pub fn new(mut sock: S, limits: Limits, read_timeout: Timeout) -> Self {
        sock.set_read_limit(Some(limits.read_limit()));
        Self {
            sock,
            limits,
            keepalive: Timeout::Directive,
            pool_size: None,
            resp3: false,
            read_timeout,
        }
    }

    /// Sends `cmd` and reads its reply; an error reply is [`Error::Server`].
    ///
    /// The subscription commands (`SUBSCRIBE`, `PSUBSCRIBE`, `SSUBSCRIBE`) and `MONITOR`
    /// are refused: their replies are a stream, read by a [`Subscriber`](crate::Subscriber).
    pub async fn query(&mut self, cmd: &Cmd<'_>) -> Result<Value> {
        self.query_timeout(cmd, None).await
    }

    /// [`query`](Self::query) with a read timeout of its own for this reply (a blocking
    /// command's: `BLPOP k 5` with 5 s plus a margin).
    pub async fn query_timeout(&mut self, cmd: &Cmd<'_>, read: Option<Timeout>) -> Result<Value> {
        cmd.validate_request()?;
        self.query_checked(cmd, read).await
    }

    /// [`query_timeout`](Self::query_timeout) of a command already checked.
    pub(crate) async fn query_checked(
        &mut self,
        cmd: &Cmd<'_>,
        read: Option<Timeout>,
    ) -> Result<Value> {
        // One reply: no `Vec` of replies.
        self.begin(read)?;
        let result = async {
            self.sock.send(cmd).await?;
            let mut parser = Parser::default();
            loop {
                match parser.read(&mut self.sock, &self.limits).await? {
                    // Out-of-band pushes (client-side caching's invalidations) are not
                    // replies.
                    Value::Push(_) if self.resp3 => {}
                    v => return Ok(v),
                }
            }
        }
        .await;
        self.finish(read, result)?.into_result()
    }

    /// Sends every command of `pipeline` in one `send` and reads their replies in order.
    /// A failed command is a [`Value::Error`] in its place and does not fail the others;
    /// a transport or protocol error fails the whole (and closes the connection).
    pub async fn pipeline(&mut self, pipeline: &Pipeline<'_>) -> Result<Vec<Value>> {
        pipeline.validate()?;
        self.pipeline_checked(pipeline).await
    }

    /// [`pipeline`](Self::pipeline) of commands already checked.
    pub(crate) async fn pipeline_checked(&mut self, pipeline: &Pipeline<'_>) -> Result<Vec<Value>> {
        self.exchange(pipeline, pipeline.len(), None).await
    }

    /// `MULTI`, the commands, `EXEC`, in one `send`. `Ok(None)` when a `WATCH`ed key changed
    /// (`EXEC` answered nil); a command refused while queueing (a syntax error) aborts the
    /// transaction: `Error::Server` with `EXECABORT`. Each command's result is in the
    /// returned vector; a command that failed when executed is a [`Value::Error`] there
    /// (Redis runs the others: there is no rollback).
    pub async fn transaction(&mut self, pipeline: &Pipeline<'_>) -> Result<Option<Vec<Value>>> {
        pipeline.validate()?;
        self.transaction_checked(pipeline).await
    }

    /// [`transaction`](Self::transaction) of commands already checked.
    pub(crate) async fn transaction_checked(
        &mut self,
        pipeline: &Pipeline<'_>,
    ) -> Result<Option<Vec<Value>>> {
        let request = (MULTI, pipeline, EXEC);
        let mut replies = self.exchange(&request, pipeline.len() + 2, None).await?;
        let exec = replies.pop().expect("EXEC's reply");
        match exec {
            Value::Nil => Ok(None),
            Value::Error(e) => Err(Error::Server(e)),
            Value::Array(results) => Ok(Some(results)),
            other => Err(crate::value::unexpected("EXEC", &other)),
        }
    }

    /// Sends `request` and reads `replies` replies, within one request bracket.
    pub(crate) async fn exchange<F: Fragments + ?Sized + Sync>(
        &mut self,
        request: &F,
        replies: usize,
        read: Option<Timeout>,
    ) -> Result<Vec<Value>> {
        self.begin(read)?;
        let result = self.send_and_read(request, replies).await;
        self.finish(read, result)
    }

    /// Opens an exchange (with its own read timeout, if given). The `begin_request` /
    /// `end_request` bracket is what lets a cancelled exchange be told from a clean one.
    fn begin(&mut self, read: Option<Timeout>) -> Result<()> {
        if self.sock.request_in_flight() {
            let _ = self.sock.close();
            return Err(Error::Unusable);
        }
        self.sock.begin_request();
        if let Some(timeout) = read {
            self.sock.set_read_timeout(timeout);
        }
        Ok(())
    }

    /// Closes an exchange: a clean one ends the request, a failed one closes the
    /// connection (out of step, or maybe: never reuse it).
    fn finish<T>(&mut self, read: Option<Timeout>, result: Result<T>) -> Result<T> {
        if read.is_some() {
            self.sock.set_read_timeout(self.read_timeout);
        }
        match result {
            Ok(out) => {
                self.sock.end_request();
                Ok(out)
            }
            Err(e) => {
                let _ = self.sock.close();
                Err(e)
            }
        }
    }

    async fn send_and_read<F: Fragments + ?Sized + Sync>(
        &mut self,
        request: &F,
        replies: usize,
    ) -> Result<Vec<Value>> {
        self.sock.send(request).await?;
        let mut values = Vec::with_capacity(replies);
        let mut parser = Parser::default();
        while values.len() < replies {
            match parser.read(&mut self.sock, &self.limits).await? {
                // Out-of-band pushes (client-side caching's invalidations) are not replies.
                Value::Push(_) if self.resp3 => {}
                v => values.push(v),
            }
        }
        Ok(values)
    }

    /// How often this connection was taken from a pool (`getreusedtimes`): 0 for a new
    /// one.
    pub fn reused_times(&self) -> Result<u32> {
        Ok(self.sock.reused_times()?)
    }

    /// Puts the connection into the context's pool (with the client's idle timeout and
    /// pool size). A connection with a request in flight (one was cancelled) is closed
    /// instead: cosocket's `RequestInFlight` error.
    pub fn set_keepalive(mut self) -> Result<()> {
        let (idle, size) = (self.keepalive, self.pool_size);
        Ok(self.sock.set_keepalive(idle, size)?)
    }

    /// Closes the connection.
    pub fn close(mut self) -> Result<()> {
        Ok(self.sock.close()?)
    }

    /// The stream, for what this crate does not do; bytes read or written through it
    /// are not seen by the reply parser.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.sock
    }
}
