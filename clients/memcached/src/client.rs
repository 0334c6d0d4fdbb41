//! The client: connections from the context's pool, given back after a clean exchange
//! (a server error line included) and closed after anything else.

use std::borrow::Cow;
use std::sync::Arc;

use cosocket::Cosockets;
use cosocket::prelude::*;

use crate::command::{Command, Pipeline, Store};
use crate::config::{Config, Target};
use crate::conn::Connection;
use crate::error::{Error, Result};
use crate::reply::{Item, Reply};

/// What a `cas` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// Stored: nobody changed the item since its `gets`.
    Stored,
    /// Not stored: the item changed since.
    Exists,
    /// Not stored: the item is gone.
    NotFound,
}

/// A memcached client over a cosocket context: cheap to clone, shared by tasks.
#[derive(Debug, Clone)]
pub struct Memcached<C: Cosockets> {
    cx: C,
    config: Arc<Config>,
}

impl<C: Cosockets> Memcached<C> {
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

    /// A connection, from the pool or new. Give it back with
    /// [`Connection::set_keepalive`]; dropping it closes it.
    pub async fn connection(&self) -> Result<Connection<C::Stream>> {
        let config = &*self.config;
        let mut sock = self.cx.stream();
        sock.set_timeouts(
            config.connect_timeout,
            config.send_timeout,
            config.read_timeout,
        );
        // A reply line is short; a data block is bounded by `max_value` before it is read.
        sock.set_read_limit(Some(config.max_value.saturating_add(2).max(64 << 10)));
        match &config.target {
            Target::Tcp(host, port) => sock.connect(host, *port, &config.options).await?,
            Target::Unix(path) => sock.connect_unix(path, &config.options).await?,
        }
        let mut conn = Connection::new(sock, config.max_value);
        conn.keepalive = config.keepalive_timeout;
        conn.pool_size = config.pool_size;
        Ok(conn)
    }

    /// Gives `conn` back to the pool after `result`, or closes it.
    fn finish<T>(conn: Connection<C::Stream>, result: Result<T>) -> Result<T> {
        match &result {
            Ok(_) => {
                let _ = conn.set_keepalive();
            }
            Err(e) if e.keeps_connection() => {
                let _ = conn.set_keepalive();
            }
            Err(_) => drop(conn),
        }
        result
    }

    /// Any command; the server's error lines are `Err`.
    pub async fn execute(&self, cmd: &Command<'_>) -> Result<Reply> {
        cmd.validate(self.config.max_value)?;
        let mut conn = self.connection().await?;
        let result = conn.execute_checked(cmd).await;
        Self::finish(conn, result)
    }

    /// Every command of `pipeline` in one `send`, the replies in order (see
    /// [`Connection::pipeline`]).
    pub async fn pipeline(&self, pipeline: &Pipeline<'_>) -> Result<Vec<Result<Reply>>> {
        // Refused before a connection is even taken: a bad key anywhere refuses the whole
        // pipeline, as nothing of it may have reached the server.
        pipeline.validate(self.config.max_value)?;
        let mut conn = self.connection().await?;
        let result = conn.pipeline_checked(pipeline).await;
        Self::finish(conn, result)
    }

    /// `get key`: the item, or `None`.
    pub async fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Item>> {
        let items = self.retrieve(&[key.as_ref()], false).await?;
        Ok(items.into_iter().next())
    }

    /// `gets key`: the item with its cas unique, or `None`.
    pub async fn gets(&self, key: impl AsRef<[u8]>) -> Result<Option<Item>> {
        let items = self.retrieve(&[key.as_ref()], true).await?;
        Ok(items.into_iter().next())
    }

    /// `get key…`: the items found (missing keys are left out), in the server's order.
    pub async fn get_multi(&self, keys: &[&[u8]]) -> Result<Vec<Item>> {
        self.retrieve(keys, false).await
    }

    /// `gets key…`: as [`get_multi`](Self::get_multi), with cas uniques.
    pub async fn gets_multi(&self, keys: &[&[u8]]) -> Result<Vec<Item>> {
        self.retrieve(keys, true).await
    }

    async fn retrieve(&self, keys: &[&[u8]], cas: bool) -> Result<Vec<Item>> {
        match self
            .execute(&Command::Get(Cow::Borrowed(keys), cas))
            .await?
        {
            Reply::Items(items) => Ok(items),
            other => Err(unexpected(&other)),
        }
    }

    async fn store(
        &self,
        store: Store,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: u32,
    ) -> Result<Reply> {
        self.execute(&Command::Store(store, key, flags, exptime, value))
            .await
    }

    /// `set`: stores `value` with `flags`, expiring after `exptime` (seconds, or a Unix
    /// time; 0: never).
    pub async fn set(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        flags: u32,
        exptime: u32,
    ) -> Result<()> {
        match self
            .store(Store::Set, key.as_ref(), value.as_ref(), flags, exptime)
            .await?
        {
            Reply::Stored => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// `add`: whether it was stored (not if the key exists).
    pub async fn add(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        flags: u32,
        exptime: u32,
    ) -> Result<bool> {
        stored(
            self.store(Store::Add, key.as_ref(), value.as_ref(), flags, exptime)
                .await?,
        )
    }

    /// `replace`: whether it was stored (not if the key is missing).
    pub async fn replace(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        flags: u32,
        exptime: u32,
    ) -> Result<bool> {
        stored(
            self.store(Store::Replace, key.as_ref(), value.as_ref(), flags, exptime)
                .await?,
        )
    }

    /// `append`: whether the key existed (and now ends with `value`).
    pub async fn append(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<bool> {
        stored(
            self.store(Store::Append, key.as_ref(), value.as_ref(), 0, 0)
                .await?,
        )
    }

    /// `prepend`: whether the key existed (and now starts with `value`).
    pub async fn prepend(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<bool> {
        stored(
            self.store(Store::Prepend, key.as_ref(), value.as_ref(), 0, 0)
                .await?,
        )
    }

    /// `cas`: stores `value` only if the item's cas unique is still `unique`.
    pub async fn cas(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        flags: u32,
        exptime: u32,
        unique: u64,
    ) -> Result<CasOutcome> {
        let reply = self
            .store(
                Store::Cas(unique),
                key.as_ref(),
                value.as_ref(),
                flags,
                exptime,
            )
            .await?;
        match reply {
            Reply::Stored => Ok(CasOutcome::Stored),
            Reply::Exists => Ok(CasOutcome::Exists),
            Reply::NotFound => Ok(CasOutcome::NotFound),
            other => Err(unexpected(&other)),
        }
    }

    /// `delete`: whether the key existed.
    pub async fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        match self.execute(&Command::Delete(key.as_ref())).await? {
            Reply::Deleted => Ok(true),
            Reply::NotFound => Ok(false),
            other => Err(unexpected(&other)),
        }
    }

    /// `incr key by`: the new value (wrapping at 2^64, as memcached does), or `None` if
    /// the key is missing. A value that is not a decimal number is
    /// [`Error::Client`].
    pub async fn incr(&self, key: impl AsRef<[u8]>, by: u64) -> Result<Option<u64>> {
        number(
            self.execute(&Command::Arith(key.as_ref(), by, true))
                .await?,
        )
    }

    /// `decr key by`: the new value (never below 0, as memcached does), or `None` if the
    /// key is missing.
    pub async fn decr(&self, key: impl AsRef<[u8]>, by: u64) -> Result<Option<u64>> {
        number(
            self.execute(&Command::Arith(key.as_ref(), by, false))
                .await?,
        )
    }

    /// `touch key exptime`: whether the key exists (and now expires after `exptime`).
    pub async fn touch(&self, key: impl AsRef<[u8]>, exptime: u32) -> Result<bool> {
        match self.execute(&Command::Touch(key.as_ref(), exptime)).await? {
            Reply::Touched => Ok(true),
            Reply::NotFound => Ok(false),
            other => Err(unexpected(&other)),
        }
    }

    /// `flush_all [delay]`: invalidates every item (after `delay` seconds).
    pub async fn flush_all(&self, delay: Option<u32>) -> Result<()> {
        match self.execute(&Command::FlushAll(delay)).await? {
            Reply::Ok => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// `version`: the server's version.
    pub async fn version(&self) -> Result<String> {
        match self.execute(&Command::Version).await? {
            Reply::Version(v) => Ok(v),
            other => Err(unexpected(&other)),
        }
    }

    /// `verbosity level`: sets the server's logging level.
    pub async fn verbosity(&self, level: u32) -> Result<()> {
        match self.execute(&Command::Verbosity(level)).await? {
            Reply::Ok => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// `stats [group]`: the server's statistics, in its order.
    pub async fn stats(&self, group: Option<&str>) -> Result<Vec<(String, String)>> {
        match self.execute(&Command::Stats(group)).await? {
            Reply::Stats(stats) => Ok(stats),
            other => Err(unexpected(&other)),
        }
    }
}

fn stored(reply: Reply) -> Result<bool> {
    match reply {
        Reply::Stored => Ok(true),
        Reply::NotStored => Ok(false),
        other => Err(unexpected(&other)),
    }
}

fn number(reply: Reply) -> Result<Option<u64>> {
    match reply {
        Reply::Number(n) => Ok(Some(n)),
        Reply::NotFound => Ok(None),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(reply: &Reply) -> Error {
    Error::Protocol(format!("unexpected reply {reply:?}"))
}
