//! The op interpreter: runs an op list as one task of a request, over the public traits
//! only, and records every op as FORMAT §4 describes.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cosocket_core::{
    ConnectOptions, Cosockets, ErrorKind, Fragment, MAX_DATAGRAM, SocketOption, StreamRead,
    StreamSock, StreamWrite, TcpSock, UdpSock, UnixSock, Until,
};
use futures::channel::oneshot;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::harness::{Harness, Task};
use crate::peer::Target;

use super::call::{Address, Call, ConnectArgs, Payload, Receive};
use super::objects::{Objects, Sock};
use super::render::{self, Returned};
use super::scenario::Op;

/// The resolved targets of a scenario (an error if the peer could not provide one).
pub(crate) type Targets = HashMap<String, Result<Target, String>>;

/// What the watchdog sees of the main op list: the records so far and the op running.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Records of the ops that finished.
    pub(crate) records: Vec<Value>,
    /// The op running now, with its index.
    pub(crate) running: Option<(usize, Op)>,
}

/// Shared progress of the main op list.
pub(crate) type SharedProgress = Arc<Mutex<Progress>>;

/// One request (FORMAT §1): the context, the targets, the socket objects and the
/// spawned threads, shared by all its tasks.
pub(crate) struct Request<H: Harness> {
    harness: H,
    cx: H::Cx,
    targets: Arc<Targets>,
    objects: Objects<H::Cx>,
    threads: Arc<Mutex<HashMap<String, oneshot::Receiver<Vec<Value>>>>>,
    /// The request's latest `mark`, for a task that has none of its own.
    last_mark: Arc<Mutex<Option<Instant>>>,
    /// TLS sessions saved by `sslhandshake`'s `save_as`, shared by every task.
    #[cfg(feature = "tls")]
    sessions: super::tls::Sessions,
}

impl<H: Harness> Clone for Request<H> {
    fn clone(&self) -> Self {
        Self {
            harness: self.harness.clone(),
            cx: self.cx.clone(),
            targets: Arc::clone(&self.targets),
            objects: self.objects.clone(),
            threads: Arc::clone(&self.threads),
            last_mark: Arc::clone(&self.last_mark),
            #[cfg(feature = "tls")]
            sessions: Arc::clone(&self.sessions),
        }
    }
}

/// Where a connect goes once the target is resolved.
enum Endpoint {
    /// `connect(host, port)`.
    Host(String, u16),
    /// `"unix:/path"`, the whole string.
    Unix(String),
}

/// `settimeout(0)` means the directive (FORMAT §3.6).
fn timeout(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

fn fragment(payload: &Payload) -> Fragment {
    match payload {
        Payload::Bytes(b) => Fragment::from(b.clone()),
        Payload::Integer(n) => Fragment::from(*n),
        Payload::List(items) => Fragment::List(items.iter().map(fragment).collect()),
    }
}

fn connect_options(args: &ConnectArgs) -> Result<ConnectOptions, String> {
    let mut options = ConnectOptions::new();
    if let Some(pool) = &args.pool {
        options = options.pool(pool.clone());
    }
    if let Some(size) = args.pool_size {
        let size = usize::try_from(size)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| format!("bad \"pool_size\" option value: {size}"))?;
        options = options.pool_size(size);
    }
    if let Some(backlog) = args.backlog {
        let backlog = usize::try_from(backlog).map_err(|_| "\"backlog\" is too large")?;
        options = options.backlog(backlog);
    }
    Ok(options)
}

fn size(n: u64) -> Result<usize, String> {
    usize::try_from(n).map_err(|_| format!("{n} is too large"))
}

/// OpenResty raises (a Lua error, not `nil, err`) for an option call on a socket that
/// never connected (spec §8.1): that is an `error` record.
fn soft<T>(result: cosocket_core::Result<T>) -> Result<cosocket_core::Result<T>, String> {
    match result {
        Err(e) if e.kind() == ErrorKind::NeverConnected => Err(e.message().to_owned()),
        other => Ok(other),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<H: Harness> Request<H> {
    /// A request on context `cx` with the scenario's resolved targets.
    pub(crate) fn new(harness: H, cx: H::Cx, targets: Targets) -> Self {
        Self {
            harness,
            cx,
            targets: Arc::new(targets),
            objects: Objects::new(),
            threads: Arc::default(),
            last_mark: Arc::default(),
            #[cfg(feature = "tls")]
            sessions: Arc::default(),
        }
    }

    /// Runs `ops` in order and returns their records; the main list reports to
    /// `progress` as it goes.
    pub(crate) fn run_list(
        self,
        ops: Vec<Op>,
        progress: Option<SharedProgress>,
    ) -> BoxFuture<'static, Vec<Value>> {
        Box::pin(async move {
            let mut mark = None;
            let mut records = Vec::with_capacity(ops.len());
            for (i, op) in ops.iter().enumerate() {
                if let Some(p) = &progress {
                    lock(p).running = Some((i, op.clone()));
                }
                let rec = self.run_op(i, op, &mut mark).await;
                if let Some(p) = &progress {
                    let mut p = lock(p);
                    p.records.push(rec.clone());
                    p.running = None;
                }
                records.push(rec);
            }
            records
        })
    }

    /// Request end (FORMAT §1 step 4): waits for every thread nobody waited for (nginx
    /// keeps the request until its light threads end), then closes every object; pooled
    /// connections stay in the context.
    pub(crate) async fn end(&self) {
        loop {
            let pending: Vec<_> = lock(&self.threads).drain().map(|(_, rx)| rx).collect();
            if pending.is_empty() {
                break;
            }
            for rx in pending {
                // A thread that panicked has nothing to report here.
                let _ = rx.await;
            }
        }
        drop(self.objects.clear());
    }

    /// One op: its call (repeated for `repeat`) and its record.
    async fn run_op(&self, i: usize, op: &Op, mark: &mut Option<Instant>) -> Value {
        let call = match Call::parse(op) {
            Ok(call) => call,
            Err(e) => return render::error_record(i, op, &e),
        };
        let summary = |v: Value| if op.summary { render::summarized(v) } else { v };
        let Some(times) = op.repeat else {
            return match self.call(&call, op, mark).await {
                Ok(r) => render::record(
                    i,
                    op,
                    ("ret", summary(Value::Array(r.values))),
                    r.thread_ops,
                ),
                Err(e) => render::error_record(i, op, &e),
            };
        };
        let mut calls = Vec::new();
        for _ in 0..times {
            match self.call(&call, op, mark).await {
                Ok(r) => {
                    let stop = op.stop_on_nil && r.is_falsy();
                    calls.push(Value::Array(r.values));
                    if stop {
                        break;
                    }
                }
                Err(e) => return render::error_record(i, op, &e),
            }
        }
        render::record(i, op, ("calls", summary(Value::Array(calls))), None)
    }

    /// One call; `Err` is an op the runner cannot perform (its `error` record).
    async fn call(
        &self,
        call: &Call,
        op: &Op,
        mark: &mut Option<Instant>,
    ) -> Result<Returned, String> {
        let values = match call {
            Call::Tcp => {
                self.objects
                    .create(&op.sock, Sock::Stream(self.cx.stream()));
                vec![json!("<table>")]
            }
            Call::Udp => {
                self.objects
                    .create(&op.sock, Sock::Datagram(self.cx.datagram()));
                vec![json!("<table>")]
            }
            Call::Sleep(ms) => {
                self.harness.sleep(Duration::from_millis(*ms)).await;
                vec![]
            }
            Call::Mark => {
                let now = Instant::now();
                *mark = Some(now);
                *lock(&self.last_mark) = Some(now);
                vec![]
            }
            Call::ElapsedLt(ms) => {
                // The task's own mark; a task that never marked uses the request's latest.
                let since = mark
                    .or(*lock(&self.last_mark))
                    .ok_or("elapsed_lt without a mark")?;
                vec![json!(since.elapsed() < Duration::from_millis(*ms))]
            }
            Call::Spawn(thread, ops) => self.spawn(thread, ops.clone()).await,
            Call::Wait(thread) => return self.wait(thread).await,
            Call::ReceiveUntil {
                pattern,
                inclusive,
                name,
            } => self.receive_until(op, pattern, *inclusive, name)?,
            Call::Iter { name, size } => self.iter(name, *size).await?,
            _ => {
                let (id, mut sock) = self.objects.take(&op.sock)?;
                let result = match &mut sock {
                    Sock::Stream(s) => self.stream_call(call, op, s).await,
                    Sock::Datagram(d) => self.datagram_call(call, op, d).await,
                };
                self.objects.put(id, sock);
                result?
            }
        };
        Ok(Returned::values(values))
    }

    /// `ngx.thread.spawn`: the thread runs at once until its first suspension (polled
    /// once here), then as a task of its own.
    async fn spawn(&self, thread: &str, ops: Vec<Op>) -> Vec<Value> {
        let (tx, rx) = oneshot::channel();
        let records = self.clone().run_list(ops, None);
        let mut task: Task = Box::pin(async move {
            let _ = tx.send(records.await);
        });
        if futures::poll!(task.as_mut()).is_pending() {
            self.harness.spawn(task);
        }
        lock(&self.threads).insert(thread.to_owned(), rx);
        vec![json!("<thread>")]
    }

    /// `ngx.thread.wait`: `true, "done"` and the thread's records.
    async fn wait(&self, thread: &str) -> Result<Returned, String> {
        let rx = lock(&self.threads)
            .remove(thread)
            .ok_or_else(|| format!("no thread {thread:?} to wait for"))?;
        let records = rx
            .await
            .map_err(|_| format!("thread {thread:?} panicked or was dropped"))?;
        Ok(Returned {
            values: vec![json!(true), json!("done")],
            thread_ops: Some(records),
        })
    }

    /// `receiveuntil`: an iterator bound to the slot's current object.
    fn receive_until(
        &self,
        op: &Op,
        pattern: &[u8],
        inclusive: Option<bool>,
        name: &str,
    ) -> Result<Vec<Value>, String> {
        let (id, sock) = self.objects.take(&op.sock)?;
        let is_stream = matches!(sock, Sock::Stream(_));
        self.objects.put(id, sock);
        if !is_stream {
            return Err("a udp socket has no method receiveuntil".into());
        }
        Ok(match Until::new(pattern) {
            Ok(until) => {
                let until = match inclusive {
                    Some(b) => until.inclusive(b),
                    None => until,
                };
                self.objects.bind_iter(name, id, until);
                vec![json!("<function>")]
            }
            Err(e) => {
                // `it = sock:receiveuntil("")` assigns nil: an older `it` is gone.
                self.objects.unbind_iter(name);
                render::failure(&e)
            }
        })
    }

    /// One call of an iterator, on the object it was created on.
    async fn iter(&self, name: &str, size: u64) -> Result<Vec<Value>, String> {
        let size = self::size(size)?;
        let (id, mut until) = self.objects.take_iter(name)?;
        let result = self.iter_on(id, &mut until, size).await;
        self.objects.put_iter(name, until);
        result
    }

    async fn iter_on(
        &self,
        id: usize,
        until: &mut Until,
        size: usize,
    ) -> Result<Vec<Value>, String> {
        let mut sock = self.objects.take_id(id)?;
        let result = match &mut sock {
            Sock::Stream(s) => Ok(match crate::cases::it(s, until, size).await {
                Ok(Some(chunk)) => render::data(&chunk),
                Ok(None) => vec![Value::Null, Value::Null, Value::Null],
                Err(e) => render::failure(&e),
            }),
            Sock::Datagram(_) => Err("an iterator on a udp socket".to_owned()),
        };
        self.objects.put(id, sock);
        result
    }

    fn endpoint(&self, address: &Address) -> Result<Endpoint, String> {
        match address {
            Address::Target(name) => match self.targets.get(name) {
                Some(Ok(Target::Tcp { host, port })) => Ok(Endpoint::Host(host.clone(), *port)),
                Some(Ok(Target::Unix(path))) => Ok(Endpoint::Unix(path.clone())),
                Some(Err(e)) => Err(format!("target {name:?}: {e}")),
                None => Err(format!("target {name:?} was not resolved")),
            },
            Address::HostPort(host, port) => Ok(Endpoint::Host(host.clone(), *port)),
            Address::Path(path) if path.starts_with("unix:") => Ok(Endpoint::Unix(path.clone())),
            Address::Path(path) => Err(format!("path {path:?} does not start with \"unix:\"")),
        }
    }

    /// A call on a stream object (`ngx.socket.tcp()`).
    async fn stream_call(
        &self,
        call: &Call,
        op: &Op,
        s: &mut <H::Cx as Cosockets>::Stream,
    ) -> Result<Vec<Value>, String> {
        Ok(match call {
            Call::SetTimeout(ms) => {
                s.set_timeout(timeout(*ms));
                vec![]
            }
            Call::SetTimeouts(connect, send, read) => {
                s.set_timeouts(timeout(*connect), timeout(*send), timeout(*read));
                vec![]
            }
            Call::Connect(address, args) => {
                let options = connect_options(args)?;
                let result = match self.endpoint(address)? {
                    Endpoint::Host(host, port) => s.connect(&host, port, &options).await,
                    Endpoint::Unix(full) => {
                        let path = full.strip_prefix("unix:").unwrap_or(&full);
                        s.connect_unix(Path::new(path), &options).await
                    }
                };
                render::unit(&result, json!(1))
            }
            Call::Bind(ip) => render::unit(&s.bind(ip, 0), json!(true)),
            Call::Send(payload) => render::number(&s.send(&fragment(payload)).await),
            Call::Receive(pattern) => {
                let result = match pattern {
                    Receive::Line | Receive::Default => s.receive_line().await,
                    Receive::All => s.receive_all().await,
                    Receive::Size(n) => s.receive_exact(size(*n)?).await,
                };
                match result {
                    Ok(b) => render::data(&b),
                    Err(e) => render::failure(&e),
                }
            }
            Call::ReceiveAny(max) => match s.receive_any(size(*max)?).await {
                Ok(b) => render::data(&b),
                Err(e) => render::failure(&e),
            },
            Call::SetKeepalive { timeout, size } => {
                let timeout = timeout.map(Duration::from_millis);
                let size = match size {
                    None => None,
                    Some(n) => Some(
                        self::size(*n)
                            .ok()
                            .and_then(NonZeroUsize::new)
                            .ok_or_else(|| format!("bad pool size: {n}"))?,
                    ),
                };
                render::unit(&s.set_keepalive(timeout, size), json!(1))
            }
            Call::GetReusedTimes => render::number(&s.reused_times()),
            Call::Close => render::unit(&s.close(), json!(1)),
            Call::SetOption(name, value) => match SocketOption::from_name(name) {
                Ok(option) => {
                    let value = i32::try_from(*value)
                        .map_err(|_| format!("option value {value} is not a C int"))?;
                    render::unit(&soft(s.set_option(option, value))?, json!(true))
                }
                Err(e) => render::failure(&e),
            },
            Call::GetOption(name) => match SocketOption::from_name(name) {
                Ok(option) => render::number(&soft(s.get_option(option))?),
                Err(e) => render::failure(&e),
            },
            #[cfg(feature = "tls")]
            Call::SslHandshake(handshake) => {
                super::tls::handshake(s, handshake, &self.sessions).await?
            }
            #[cfg(feature = "tls")]
            Call::SetClientCert(name) => super::tls::set_client_cert(s, name.as_deref())?,
            _ => return Err(format!("a tcp socket has no method {}", op.name)),
        })
    }

    /// A call on a datagram object (`ngx.socket.udp()`).
    async fn datagram_call(
        &self,
        call: &Call,
        op: &Op,
        d: &mut <H::Cx as Cosockets>::Datagram,
    ) -> Result<Vec<Value>, String> {
        Ok(match call {
            Call::SetTimeout(ms) => {
                d.set_timeout(timeout(*ms));
                vec![]
            }
            Call::SetPeerName(address) => {
                let result = match self.endpoint(address)? {
                    Endpoint::Host(host, port) => d.set_peer_name(&host, port).await,
                    Endpoint::Unix(full) => d.set_peer_name(&full, 0).await,
                };
                render::unit(&result, json!(1))
            }
            Call::Bind(ip) => render::unit(&d.bind(ip), json!(1)),
            Call::Send(payload) => render::unit(&d.send(&fragment(payload)).await, json!(1)),
            Call::Receive(pattern) => {
                let size = match pattern {
                    Receive::Default => MAX_DATAGRAM,
                    Receive::Size(n) => size(*n)?,
                    Receive::Line | Receive::All => {
                        return Err("a udp receive takes a size, not a pattern".into());
                    }
                };
                match d.receive(size).await {
                    Ok(b) => render::data(&b),
                    Err(e) => render::failure(&e),
                }
            }
            Call::Close => render::unit(&d.close(), json!(1)),
            _ => return Err(format!("a udp socket has no method {}", op.name)),
        })
    }
}
