//! The client: connections from the context's pool, set up once, given back after a clean
//! request and closed after anything else.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cosocket::prelude::*;
use cosocket::{Cosockets, Timeout};

use crate::command::{Cmd, Pipeline};
use crate::config::{Config, Target};
use crate::conn::Connection;
use crate::error::{Error, Result};
use crate::multiplexed::Multiplexed;
use crate::pubsub::Subscriber;
use crate::value::Value;

/// A Redis client over a cosocket context: cheap to clone, shared by tasks. Each call takes
/// a connection from the context's pool (or opens and sets up one: `HELLO`/`AUTH`,
/// `SELECT`), and puts it back after a clean exchange; after a transport error, a timeout,
/// a protocol error or a cancelled call (the future dropped), the connection is closed.
#[derive(Debug, Clone)]
pub struct Redis<C: Cosockets> {
    cx: C,
    config: Arc<Config>,
}

impl<C: Cosockets> Redis<C> {
    /// A client of `config`'s server on the context `cx`.
    pub fn new(cx: C, config: Config) -> Self {
        Self {
            cx,
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A connection, from the pool or new (and then set up). Give it back with
    /// [`Connection::set_keepalive`]; dropping it closes it.
    pub async fn connection(&self) -> Result<Connection<C::Stream>> {
        let config = &*self.config;
        let mut sock = self.cx.stream();
        sock.set_timeouts(
            config.connect_timeout,
            config.send_timeout,
            config.read_timeout,
        );
        let options = config.connect_options_with_pool();
        match &config.target {
            Target::Tcp(host, port) => sock.connect(host, *port, &options).await?,
            Target::Unix(path) => sock.connect_unix(path, &options).await?,
        }
        let fresh = sock.reused_times()? == 0;
        let mut conn = Connection::new(sock, config.limits, config.read_timeout);
        conn.keepalive = config.keepalive_timeout;
        conn.pool_size = config.pool_size;
        conn.resp3 = config.resp3;
        if fresh {
            // A pooled connection was set up when it was opened (its pool name says how).
            self.set_up(&mut conn).await?;
        }
        Ok(conn)
    }

    /// `HELLO 3 [AUTH user pass]` or `AUTH`, then `SELECT`, in one send.
    async fn set_up(&self, conn: &mut Connection<C::Stream>) -> Result<()> {
        let config = &*self.config;
        let mut setup = Pipeline::new();
        let user = config.username.as_deref().unwrap_or("default");
        if config.resp3 {
            let mut hello = Cmd::new("HELLO").arg("3");
            if let Some(password) = &config.password {
                hello = hello.arg("AUTH").arg(user).arg(password);
            }
            setup.push(hello);
        } else if let Some(password) = &config.password {
            setup.push(match &config.username {
                Some(user) => Cmd::new("AUTH").arg(user).arg(password),
                None => Cmd::new("AUTH").arg(password),
            });
        }
        if config.db != 0 {
            setup.push(Cmd::new("SELECT").arg(config.db));
        }
        if setup.is_empty() {
            return Ok(());
        }
        for reply in conn.pipeline(&setup).await? {
            if let Value::Error(e) = reply {
                // A connection that failed its setup is not what its pool name promises.
                let _ = conn.stream_mut().close();
                return Err(Error::Server(e));
            }
        }
        Ok(())
    }

    /// Gives `conn` back to the pool after `result`, or closes it.
    fn finish<T>(conn: Connection<C::Stream>, result: Result<T>) -> Result<T> {
        match &result {
            Ok(_) => {
                // The answer is complete; a failed keepalive only means the connection is
                // closed, which the caller need not hear about.
                let _ = conn.set_keepalive();
            }
            Err(e) if e.keeps_connection() => {
                let _ = conn.set_keepalive();
            }
            Err(_) => drop(conn),
        }
        result
    }

    /// Any command: `redis.query(&cmd!("HSET", "h", "f", 1)).await`. An error reply is
    /// [`Error::Server`].
    pub async fn query(&self, cmd: &Cmd<'_>) -> Result<Value> {
        cmd.validate_request()?;
        let mut conn = self.connection().await?;
        let result = conn.query_checked(cmd, None).await;
        Self::finish(conn, result)
    }

    /// Every command of `pipeline` in one `send`, the replies in order; a failed command is
    /// a [`Value::Error`] in its place and the others still run.
    pub async fn pipeline(&self, pipeline: &Pipeline<'_>) -> Result<Vec<Value>> {
        pipeline.validate()?;
        let mut conn = self.connection().await?;
        let result = conn.pipeline_checked(pipeline).await;
        Self::finish(conn, result)
    }

    /// `MULTI` … `EXEC` (see [`Connection::transaction`]).
    pub async fn transaction(&self, pipeline: &Pipeline<'_>) -> Result<Option<Vec<Value>>> {
        pipeline.validate()?;
        let mut conn = self.connection().await?;
        let result = conn.transaction_checked(pipeline).await;
        Self::finish(conn, result)
    }

    /// A [`Multiplexed`] connection: one new connection (set up like any other, never
    /// pooled) that many tasks share, their commands pipelined as they arrive.
    pub async fn multiplexed(&self) -> Result<Multiplexed<C::Stream>> {
        let conn = self.connection().await?;
        Ok(Multiplexed::new(
            conn.sock,
            self.config.limits,
            self.config.resp3,
        ))
    }

    /// A [`Subscriber`] on a connection of its own, subscribed to `channels`.
    pub async fn subscribe(&self, channels: &[&str]) -> Result<Subscriber<C::Stream>> {
        let mut sub = Subscriber::new(self.connection().await?);
        sub.subscribe(channels).await?;
        Ok(sub)
    }

    /// A [`Subscriber`] on a connection of its own, subscribed to `patterns`.
    pub async fn psubscribe(&self, patterns: &[&str]) -> Result<Subscriber<C::Stream>> {
        let mut sub = Subscriber::new(self.connection().await?);
        sub.psubscribe(patterns).await?;
        Ok(sub)
    }

    /// `PING`: the server's `PONG`.
    pub async fn ping(&self) -> Result<Bytes> {
        let v = self.query(&Cmd::new("PING")).await?;
        Ok(v.into_opt_bytes("PING")?.unwrap_or_default())
    }

    /// `GET key`: `None` when the key does not exist.
    pub async fn get<'a>(&self, key: impl Into<crate::Arg<'a>>) -> Result<Option<Bytes>> {
        self.query(&Cmd::new("GET").arg(key))
            .await?
            .into_opt_bytes("GET")
    }

    /// `SET key value`.
    pub async fn set<'a>(
        &self,
        key: impl Into<crate::Arg<'a>>,
        value: impl Into<crate::Arg<'a>>,
    ) -> Result<()> {
        expect_ok(
            "SET",
            self.query(&Cmd::new("SET").arg(key).arg(value)).await?,
        )
    }

    /// `SET key value PX ms`: with an expiry.
    pub async fn set_ex<'a>(
        &self,
        key: impl Into<crate::Arg<'a>>,
        value: impl Into<crate::Arg<'a>>,
        ttl: Duration,
    ) -> Result<()> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let cmd = Cmd::new("SET").arg(key).arg(value).arg("PX").arg(ms);
        expect_ok("SET", self.query(&cmd).await?)
    }

    /// `DEL key…`: how many existed.
    pub async fn del(&self, keys: &[&str]) -> Result<i64> {
        let mut cmd = Cmd::new("DEL");
        keys.iter().for_each(|k| cmd.push(*k));
        self.query(&cmd).await?.into_int("DEL")
    }

    /// `EXISTS key…`: how many exist.
    pub async fn exists(&self, keys: &[&str]) -> Result<i64> {
        let mut cmd = Cmd::new("EXISTS");
        keys.iter().for_each(|k| cmd.push(*k));
        self.query(&cmd).await?.into_int("EXISTS")
    }

    /// `INCRBY key by`: the new value.
    pub async fn incr_by<'a>(&self, key: impl Into<crate::Arg<'a>>, by: i64) -> Result<i64> {
        self.query(&Cmd::new("INCRBY").arg(key).arg(by))
            .await?
            .into_int("INCRBY")
    }

    /// `EXPIRE key seconds`: whether the key exists (and now expires).
    pub async fn expire<'a>(&self, key: impl Into<crate::Arg<'a>>, seconds: u64) -> Result<bool> {
        let n = self
            .query(&Cmd::new("EXPIRE").arg(key).arg(seconds))
            .await?
            .into_int("EXPIRE")?;
        Ok(n == 1)
    }

    /// `TTL key`: seconds left; `-1` without expiry, `-2` when the key does not exist.
    pub async fn ttl<'a>(&self, key: impl Into<crate::Arg<'a>>) -> Result<i64> {
        self.query(&Cmd::new("TTL").arg(key)).await?.into_int("TTL")
    }

    /// `HSET key field value`: whether the field is new.
    pub async fn hset<'a>(
        &self,
        key: impl Into<crate::Arg<'a>>,
        field: impl Into<crate::Arg<'a>>,
        value: impl Into<crate::Arg<'a>>,
    ) -> Result<bool> {
        let n = self
            .query(&Cmd::new("HSET").arg(key).arg(field).arg(value))
            .await?
            .into_int("HSET")?;
        Ok(n == 1)
    }

    /// `HGET key field`.
    pub async fn hget<'a>(
        &self,
        key: impl Into<crate::Arg<'a>>,
        field: impl Into<crate::Arg<'a>>,
    ) -> Result<Option<Bytes>> {
        self.query(&Cmd::new("HGET").arg(key).arg(field))
            .await?
            .into_opt_bytes("HGET")
    }

    /// `HGETALL key`: the fields and values (a RESP2 flat array or a RESP3 map).
    pub async fn hgetall<'a>(&self, key: impl Into<crate::Arg<'a>>) -> Result<Vec<(Bytes, Bytes)>> {
        let pairs = match self.query(&Cmd::new("HGETALL").arg(key)).await? {
            Value::Map(pairs) => pairs,
            other => {
                let mut flat = other.into_vec("HGETALL")?.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (flat.next(), flat.next()) {
                    pairs.push((k, v));
                }
                pairs
            }
        };
        pairs
            .into_iter()
            .map(|(k, v)| {
                let k = k.into_opt_bytes("HGETALL")?.unwrap_or_default();
                let v = v.into_opt_bytes("HGETALL")?.unwrap_or_default();
                Ok((k, v))
            })
            .collect()
    }

    /// `RPUSH key value…`: the list's new length.
    pub async fn rpush<'a>(&self, key: impl Into<crate::Arg<'a>>, values: &[&[u8]]) -> Result<i64> {
        let mut cmd = Cmd::new("RPUSH").arg(key);
        values.iter().for_each(|v| cmd.push(*v));
        self.query(&cmd).await?.into_int("RPUSH")
    }

    /// `LRANGE key start stop`.
    pub async fn lrange<'a>(
        &self,
        key: impl Into<crate::Arg<'a>>,
        start: i64,
        stop: i64,
    ) -> Result<Vec<Bytes>> {
        let values = self
            .query(&Cmd::new("LRANGE").arg(key).arg(start).arg(stop))
            .await?
            .into_vec("LRANGE")?;
        values
            .into_iter()
            .map(|v| Ok(v.into_opt_bytes("LRANGE")?.unwrap_or_default()))
            .collect()
    }

    /// `BLPOP key… timeout`: the first element pushed to any of `keys` within `timeout`
    /// (`Duration::ZERO`: wait forever), as `(key, element)`; `None` when the server's
    /// timeout passed. The read waits `timeout` plus the client's read timeout, so the
    /// server's answer, not the client's timer, ends the wait.
    pub async fn blpop(&self, keys: &[&str], timeout: Duration) -> Result<Option<(Bytes, Bytes)>> {
        if keys.is_empty() {
            return Err(Error::Input("BLPOP needs a key".into()));
        }
        let mut cmd = Cmd::new("BLPOP");
        keys.iter().for_each(|k| cmd.push(*k));
        cmd.push(format!("{:.3}", timeout.as_secs_f64()));
        let read = if timeout.is_zero() {
            Timeout::Never
        } else {
            let margin = match self.cx.directives().read_timeout {
                d if d.is_zero() => Duration::from_secs(1),
                d => d,
            };
            let margin = match self.config.read_timeout {
                Timeout::After(d) => d,
                _ => margin,
            };
            Timeout::After(timeout + margin)
        };
        cmd.validate()?;
        let mut conn = self.connection().await?;
        let result = conn.query_checked(&cmd, Some(read)).await;
        let value = Self::finish(conn, result)?;
        if value.is_nil() {
            return Ok(None);
        }
        let mut pair = value.into_vec("BLPOP")?.into_iter();
        match (pair.next(), pair.next()) {
            (Some(k), Some(v)) => Ok(Some((
                k.into_opt_bytes("BLPOP")?.unwrap_or_default(),
                v.into_opt_bytes("BLPOP")?.unwrap_or_default(),
            ))),
            _ => Err(Error::UnexpectedReply(
                "BLPOP answered a short array".into(),
            )),
        }
    }

    /// `PUBLISH channel message`: how many subscribers got it.
    pub async fn publish<'a>(
        &self,
        channel: impl Into<crate::Arg<'a>>,
        message: impl Into<crate::Arg<'a>>,
    ) -> Result<i64> {
        self.query(&Cmd::new("PUBLISH").arg(channel).arg(message))
            .await?
            .into_int("PUBLISH")
    }
}

fn expect_ok(command: &str, value: Value) -> Result<()> {
    if value.is_ok() {
        Ok(())
    } else {
        Err(crate::value::unexpected(command, &value))
    }
}
