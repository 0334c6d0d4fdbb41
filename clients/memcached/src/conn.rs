//! One connection: a command or a pipeline per exchange, one vectored `send` each, the
//! replies read in order.
//!
//! Every exchange is bracketed by cosocket's `begin_request` / `end_request`: a request
//! whose future is dropped after it was sent, or that failed or timed out half-way, leaves
//! its reply in flight, and such a connection is never used again (the next request fails
//! with [`Error::Unusable`]; [`Connection::set_keepalive`] closes it instead of pooling it).

use std::num::NonZeroUsize;

use cosocket::{StreamSock, Timeout};

use crate::command::{Command, Pipeline};
use crate::error::{Error, Result};
use crate::reply::{Reply, read_reply};

/// A connection to a memcached server, held across requests (to pipeline by hand, or to
/// keep one server connection for a sequence of calls). Dropping it closes the
/// connection; [`set_keepalive`](Self::set_keepalive) pools it if it is clean.
pub struct Connection<S: StreamSock> {
    sock: S,
    max_value: usize,
    pub(crate) keepalive: Timeout,
    pub(crate) pool_size: Option<NonZeroUsize>,
}

impl<S: StreamSock> std::fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("max_value", &self.max_value)
            .finish_non_exhaustive()
    }
}

impl<S: StreamSock> Connection<S> {
    /// Wraps a connected stream; `max_value` bounds the values sent and accepted.
    pub fn new(sock: S, max_value: usize) -> Self {
        Self {
            sock,
            max_value,
            keepalive: Timeout::Directive,
            pool_size: None,
        }
    }

    /// Sends `cmd` and reads its reply; the server's error lines are `Err`
    /// ([`Error::Client`], [`Error::Server`], [`Error::UnknownCommand`]) and leave the
    /// connection usable.
    pub async fn execute(&mut self, cmd: &Command<'_>) -> Result<Reply> {
        cmd.validate(self.max_value)?;
        self.execute_checked(cmd).await
    }

    /// [`execute`](Self::execute) of a command already checked: one `send`, one reply,
    /// no `Vec` of replies.
    pub(crate) async fn execute_checked(&mut self, cmd: &Command<'_>) -> Result<Reply> {
        self.begin()?;
        let result = async {
            self.sock.send(cmd).await?;
            read_reply(&mut self.sock, cmd, self.max_value).await
        }
        .await;
        self.finish(result)?
    }

    /// Sends every command of `pipeline` in one `send` and reads their replies in order;
    /// a command the server refused is an `Err` in its place and does not fail the others.
    /// A transport, protocol or limit error fails the whole (and closes the connection).
    pub async fn pipeline(&mut self, pipeline: &Pipeline<'_>) -> Result<Vec<Result<Reply>>> {
        pipeline.validate(self.max_value)?;
        self.pipeline_checked(pipeline).await
    }

    /// [`pipeline`](Self::pipeline) of commands already checked.
    pub(crate) async fn pipeline_checked(
        &mut self,
        pipeline: &Pipeline<'_>,
    ) -> Result<Vec<Result<Reply>>> {
        self.begin()?;
        let result = async {
            self.sock.send(pipeline).await?;
            let cmds = pipeline.cmds();
            let mut replies = Vec::with_capacity(cmds.len());
            for cmd in cmds {
                replies.push(read_reply(&mut self.sock, cmd, self.max_value).await?);
            }
            Ok(replies)
        }
        .await;
        self.finish(result)
    }

    /// Opens an exchange. The `begin_request` / `end_request` bracket is what lets a
    /// cancelled exchange be told from a clean one afterwards.
    fn begin(&mut self) -> Result<()> {
        if self.sock.request_in_flight() {
            let _ = self.sock.close();
            return Err(Error::Unusable);
        }
        self.sock.begin_request();
        Ok(())
    }

    /// Closes an exchange: a clean one ends the request, a failed one (transport,
    /// protocol or limit error) closes the connection.
    fn finish<T>(&mut self, result: Result<T>) -> Result<T> {
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

    /// How often this connection was taken from a pool: 0 for a new one.
    pub fn reused_times(&self) -> Result<u32> {
        Ok(self.sock.reused_times()?)
    }

    /// Gives the connection back to the context's pool (cosocket's `set_keepalive`, with
    /// the client's idle timeout and pool size). One with a request in flight (its future
    /// was dropped before the reply was read) is closed instead and this fails with a
    /// [`Error::Transport`] of kind `RequestInFlight`: its unread reply would otherwise
    /// answer the pool's next user. A connection closed by an earlier error fails with
    /// `closed`.
    pub fn set_keepalive(mut self) -> Result<()> {
        let (idle, size) = (self.keepalive, self.pool_size);
        Ok(self.sock.set_keepalive(idle, size)?)
    }

    /// Closes the connection.
    pub fn close(mut self) -> Result<()> {
        Ok(self.sock.close()?)
    }
}
