//! Publish/subscribe on a connection of its own: once subscribed, a connection receives
//! messages the server pushes at any time, so it cannot serve requests, and it cannot go
//! back to the pool (lua-resty-redis's `set_keepalive` answers `subscribed state`).

use std::collections::VecDeque;

use bytes::Bytes;
use cosocket::{StreamSock, Timeout};

use crate::command::Cmd;
use crate::conn::Connection;
use crate::error::{Error, Result};
use crate::reply::Parser;
use crate::value::Value;

/// A message published to a channel the subscriber listens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The pattern that matched, for a `PSUBSCRIBE`d message.
    pub pattern: Option<Bytes>,
    /// The channel it was published to.
    pub channel: Bytes,
    /// What was published.
    pub payload: Bytes,
}

/// A subscribed connection (RESP2 arrays or RESP3 pushes alike).
#[derive(Debug)]
pub struct Subscriber<S: StreamSock> {
    conn: Connection<S>,
    /// Channels and patterns subscribed, as the server last counted them.
    count: i64,
    /// Of those, the patterns (the server counts both together).
    patterns: i64,
    /// Messages that arrived while a (un)subscribe waited for its confirmations.
    pending: VecDeque<Message>,
    /// Where the parser is in a reply (a dropped read resumes there).
    parser: Parser,
    /// A read failed half-way through a reply: the stream is out of step.
    torn: bool,
}

/// What one pushed array is.
enum Push {
    Message(Message),
    /// `subscribe`, `unsubscribe` and their pattern forms, with the count after them.
    Confirmation(Vec<u8>, i64),
    /// A `pong` (a `PING` while subscribed) or something this crate does not know.
    Other,
}

fn classify(value: Value) -> Result<Push> {
    let Some(items) = value.as_array() else {
        return match value {
            Value::Error(e) => Err(Error::Server(e)),
            other => Err(crate::value::unexpected("a subscription", &other)),
        };
    };
    let text = |i: usize| items.get(i).and_then(Value::as_bytes).cloned();
    let kind = text(0).unwrap_or_default().to_ascii_lowercase();
    Ok(match (kind.as_slice(), items.len()) {
        (b"message" | b"smessage", 3) => Push::Message(Message {
            pattern: None,
            channel: text(1).unwrap_or_default(),
            payload: text(2).unwrap_or_default(),
        }),
        (b"pmessage", 4) => Push::Message(Message {
            pattern: text(1),
            channel: text(2).unwrap_or_default(),
            payload: text(3).unwrap_or_default(),
        }),
        (
            b"subscribe" | b"unsubscribe" | b"psubscribe" | b"punsubscribe" | b"ssubscribe"
            | b"sunsubscribe",
            3,
        ) => Push::Confirmation(kind, items[2].as_int().unwrap_or(0)),
        _ => Push::Other,
    })
}

impl<S: StreamSock> Subscriber<S> {
    /// A subscriber on `conn` (subscribed to nothing yet).
    pub fn new(conn: Connection<S>) -> Self {
        Self {
            conn,
            count: 0,
            patterns: 0,
            pending: VecDeque::new(),
            parser: Parser::default(),
            torn: false,
        }
    }

    /// How many channels and patterns are subscribed.
    pub fn subscriptions(&self) -> i64 {
        self.count
    }

    /// `SUBSCRIBE channel…`, waiting for each confirmation.
    pub async fn subscribe(&mut self, channels: &[&str]) -> Result<()> {
        self.change("SUBSCRIBE", b"subscribe", channels).await
    }

    /// `PSUBSCRIBE pattern…`, waiting for each confirmation.
    pub async fn psubscribe(&mut self, patterns: &[&str]) -> Result<()> {
        self.change("PSUBSCRIBE", b"psubscribe", patterns).await
    }

    /// `UNSUBSCRIBE channel…` (none: every channel), waiting for the confirmations.
    pub async fn unsubscribe(&mut self, channels: &[&str]) -> Result<()> {
        self.change("UNSUBSCRIBE", b"unsubscribe", channels).await
    }

    /// `PUNSUBSCRIBE pattern…` (none: every pattern), waiting for the confirmations.
    pub async fn punsubscribe(&mut self, patterns: &[&str]) -> Result<()> {
        self.change("PUNSUBSCRIBE", b"punsubscribe", patterns).await
    }

    async fn change(&mut self, command: &str, confirm: &[u8], names: &[&str]) -> Result<()> {
        let subscribing = !command.contains("UNSUB");
        if subscribing && names.is_empty() {
            return Err(Error::Input(format!("{command} needs a channel")));
        }
        let mut cmd = Cmd::new(command);
        names.iter().for_each(|n| cmd.push(*n));
        self.check()?;
        self.conn
            .sock
            .send(&cmd)
            .await
            .map_err(|e| self.fail(e.into()))?;
        // One confirmation per name. An unsubscribe from every channel (or pattern) is
        // confirmed once per subscription it ends, or once (with a nil name) if there was
        // none.
        let pattern = command.starts_with('P');
        let expected = match names.len() {
            0 if pattern => self.patterns.max(1),
            0 => (self.count - self.patterns).max(1),
            n => i64::try_from(n).unwrap_or(i64::MAX),
        };
        let mut confirmed = 0;
        while confirmed < expected {
            let value = self.read().await?;
            match classify(value).map_err(|e| self.fail(e))? {
                Push::Message(m) => self.pending.push_back(m),
                Push::Other => {}
                Push::Confirmation(kind, count) => {
                    if kind == confirm {
                        confirmed += 1;
                        if pattern {
                            self.patterns += count - self.count;
                        }
                    }
                    self.count = count;
                }
            }
        }
        Ok(())
    }

    /// The next published message (one that arrived during a (un)subscribe first). The
    /// socket's read timeout bounds the wait; a timeout leaves the subscriber usable, and
    /// so does dropping the future while it waits.
    pub async fn next_message(&mut self) -> Result<Message> {
        if let Some(m) = self.pending.pop_front() {
            return Ok(m);
        }
        loop {
            let value = self.read().await?;
            match classify(value).map_err(|e| self.fail(e))? {
                Push::Message(m) => return Ok(m),
                Push::Confirmation(_, count) => self.count = count,
                Push::Other => {}
            }
        }
    }

    /// The read timeout of [`next_message`](Self::next_message).
    pub fn set_read_timeout(&mut self, timeout: impl Into<Timeout>) {
        self.conn.sock.set_read_timeout(timeout);
    }

    /// Back into the pool, only once nothing is subscribed: while subscribed, this fails
    /// with [`Error::Subscribed`] and leaves the subscriber as it was. Afterwards the
    /// subscriber has no connection.
    pub fn set_keepalive(&mut self) -> Result<()> {
        self.check()?;
        if self.count > 0 {
            return Err(Error::Subscribed);
        }
        let (idle, size) = (self.conn.keepalive, self.conn.pool_size);
        Ok(self.conn.sock.set_keepalive(idle, size)?)
    }

    /// Closes the connection.
    pub fn close(self) -> Result<()> {
        self.conn.close()
    }

    fn check(&mut self) -> Result<()> {
        if self.torn {
            let _ = self.conn.sock.close();
            return Err(Error::Unusable);
        }
        Ok(())
    }

    /// Reads one value. A dropped read resumes where it was; a wait that times out with
    /// nothing of a reply read leaves the subscriber usable; any other failure marks it
    /// torn (the next call refuses the out-of-step stream).
    async fn read(&mut self) -> Result<Value> {
        self.check()?;
        let result = self
            .parser
            .read(&mut self.conn.sock, &self.conn.limits)
            .await;
        match result {
            Ok(v) => Ok(v),
            Err(Error::Transport(e))
                if e.kind() == cosocket::ErrorKind::Timeout
                    && !self.parser.in_reply()
                    && e.partial().is_none_or(|p| p.is_empty()) =>
            {
                Err(Error::Transport(e))
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        self.torn = true;
        let _ = self.conn.sock.close();
        e
    }
}
