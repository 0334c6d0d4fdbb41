//! `kv`: SET or GET of 100-byte values against redis-server or memcached (BENCHMARKS.md
//! §5), by cosocket's clients in each connection model and by the Rust references, on one
//! thread: `--tasks` request loops joined in one task (`join_all`), `--n` operations in
//! all. Prints ops/s and the process's CPU time per operation.
//!
//! `--client`:
//! * `co-redis-pool`: `Redis::get` / `set`, a connection from the pool per operation
//!   (OpenResty's model);
//! * `co-redis-persistent`: one `Connection` per task;
//! * `co-redis-mux`: one `Multiplexed` connection shared by every task;
//! * `co-redis-pipeline`: pipelines of 100 commands, a connection per task;
//! * `redis-rs-mux`, `redis-rs-pipeline`: redis-rs's `MultiplexedConnection` (tokio only),
//!   shared by every task; `redis-rs-blocking`: its blocking `Connection` (one task);
//! * `co-memc-pool`, `co-memc-persistent`: cosocket-memcached, as the Redis pair;
//! * `async-memcached`: one `async_memcached::Client` (a connection) per task (tokio only).

use std::time::Instant;

use cosocket::Cosockets;
use cosocket_redis::{Cmd, Config, Pipeline, Redis};

use crate::args::{Args, Backend};
use crate::{Outcome, cpu_seconds, join, with_context};

/// Keys `k0` … `k999`, set before the timed part.
const KEYS: usize = 1000;

fn key(i: usize) -> String {
    format!("k{}", i % KEYS)
}

pub(crate) fn run(args: &Args) -> Outcome {
    let client: String = args.get("client")?;
    let backend = args.backend()?;
    let port: u16 = args.get("port")?;
    let set = match args.text("op")? {
        "set" => true,
        "get" => false,
        other => return Err(format!("--op {other}: set or get")),
    };
    let tasks: usize = args.get_or("tasks", 1)?;
    let n: usize = args.get_or("n", 20_000)?;
    let per = n / tasks;
    let value = vec![b'v'; 100];
    let mut directives = args.directives()?;
    directives.pool_size = std::num::NonZeroUsize::new(tasks.max(30)).ok_or("--tasks")?;

    let cpu0 = cpu_seconds();
    let seconds: f64 = match client.as_str() {
        "redis-rs-mux" | "redis-rs-pipeline" => {
            if backend != Backend::Tokio {
                return Err(format!("{client} runs on tokio only"));
            }
            let rt = crate::tokio_runtime();
            rt.block_on(redis_rs_mux(&client, port, set, tasks, per, &value))?
        }
        "redis-rs-blocking" => redis_rs_blocking(port, set, per * tasks, &value)?,
        "async-memcached" => {
            if backend != Backend::Tokio {
                return Err(format!("{client} runs on tokio only"));
            }
            let rt = crate::tokio_runtime();
            rt.block_on(async_memcached(port, set, tasks, per, &value))?
        }
        _ => with_context!(backend, directives, |cx| async {
            cosocket_clients(&cx, &client, port, set, tasks, per, &value).await
        })?,
    };
    let cpu = cpu_seconds() - cpu0;
    let ops = (per * tasks) as f64;
    Ok(serde_json::json!({
        "client": client,
        "op": if set { "set" } else { "get" },
        "tasks": tasks,
        "n": per * tasks,
        "seconds": seconds,
        "ops_per_s": ops / seconds,
        "cpu_us_per_op": cpu * 1e6 / ops,
    }))
}

fn err(what: &str) -> impl Fn(cosocket_redis::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The cosocket clients; returns the timed part's seconds.
async fn cosocket_clients<C: Cosockets>(
    cx: &C,
    client: &str,
    port: u16,
    set: bool,
    tasks: usize,
    per: usize,
    value: &[u8],
) -> Result<f64, String> {
    if client.starts_with("co-memc") {
        return memcached_clients(cx, client, port, set, tasks, per, value).await;
    }
    let redis = Redis::new(cx.clone(), Config::tcp("127.0.0.1", port));
    let mut fill = Pipeline::new();
    let keys: Vec<String> = (0..KEYS).map(key).collect();
    for k in &keys {
        fill.push(Cmd::new("SET").arg(k).arg(value));
    }
    redis.pipeline(&fill).await.map_err(err("fill"))?;
    let op = |k: &str| {
        if set {
            Cmd::new("SET").arg(k.to_owned()).arg(value)
        } else {
            Cmd::new("GET").arg(k.to_owned())
        }
    };
    let check = |v: cosocket_redis::Value| -> Result<(), String> {
        match v {
            cosocket_redis::Value::Status(_) | cosocket_redis::Value::Bulk(_) => Ok(()),
            other => Err(format!("unexpected {other:?}")),
        }
    };
    let t0 = Instant::now();
    match client {
        "co-redis-pool" => {
            let loops = (0..tasks).map(|t| {
                let redis = &redis;
                async move {
                    for i in 0..per {
                        check(
                            redis
                                .query(&op(&key(t * per + i)))
                                .await
                                .map_err(err("query"))?,
                        )?;
                    }
                    Ok::<(), String>(())
                }
            });
            join(loops).await?;
        }
        "co-redis-persistent" => {
            let loops = (0..tasks).map(|t| {
                let redis = &redis;
                async move {
                    let mut conn = redis.connection().await.map_err(err("connect"))?;
                    for i in 0..per {
                        check(
                            conn.query(&op(&key(t * per + i)))
                                .await
                                .map_err(err("query"))?,
                        )?;
                    }
                    conn.set_keepalive().map_err(err("keepalive"))
                }
            });
            join(loops).await?;
        }
        "co-redis-mux" => {
            let mux = redis.multiplexed().await.map_err(err("connect"))?;
            let loops = (0..tasks).map(|t| {
                let mux = &mux;
                async move {
                    for i in 0..per {
                        check(
                            mux.query(&op(&key(t * per + i)))
                                .await
                                .map_err(err("query"))?,
                        )?;
                    }
                    Ok::<(), String>(())
                }
            });
            join(loops).await?;
        }
        "co-redis-pipeline" => {
            let loops = (0..tasks).map(|t| {
                let redis = &redis;
                async move {
                    let mut conn = redis.connection().await.map_err(err("connect"))?;
                    for batch in 0..per / 100 {
                        let mut p = Pipeline::new();
                        for i in 0..100 {
                            p.push(op(&key(t * per + batch * 100 + i)));
                        }
                        for v in conn.pipeline(&p).await.map_err(err("pipeline"))? {
                            check(v)?;
                        }
                    }
                    conn.set_keepalive().map_err(err("keepalive"))
                }
            });
            join(loops).await?;
        }
        other => return Err(format!("unknown --client {other}")),
    }
    Ok(t0.elapsed().as_secs_f64())
}

async fn memcached_clients<C: Cosockets>(
    cx: &C,
    client: &str,
    port: u16,
    set: bool,
    tasks: usize,
    per: usize,
    value: &[u8],
) -> Result<f64, String> {
    use cosocket_memcached::{Config, Memcached};
    let mc = Memcached::new(cx.clone(), Config::tcp("127.0.0.1", port));
    let e = |what: &'static str| move |e: cosocket_memcached::Error| format!("{what}: {e}");
    for k in 0..KEYS {
        mc.set(key(k), value, 0, 0).await.map_err(e("fill"))?;
    }
    let t0 = Instant::now();
    match client {
        "co-memc-pool" => {
            let loops = (0..tasks).map(|t| {
                let mc = &mc;
                async move {
                    for i in 0..per {
                        let k = key(t * per + i);
                        if set {
                            mc.set(&k, value, 0, 0).await.map_err(e("set"))?;
                        } else if mc.get(&k).await.map_err(e("get"))?.is_none() {
                            return Err(format!("{k} is missing"));
                        }
                    }
                    Ok::<(), String>(())
                }
            });
            join(loops).await?;
        }
        "co-memc-persistent" => {
            use cosocket_memcached::{Command, Reply, Store};
            let loops = (0..tasks).map(|t| {
                let mc = &mc;
                async move {
                    let mut conn = mc.connection().await.map_err(e("connect"))?;
                    for i in 0..per {
                        let k = key(t * per + i);
                        let keys = [k.as_bytes()];
                        let cmd = if set {
                            Command::Store(Store::Set, k.as_bytes(), 0, 0, value)
                        } else {
                            Command::Get(std::borrow::Cow::Borrowed(&keys), false)
                        };
                        match conn.execute(&cmd).await.map_err(e("execute"))? {
                            Reply::Stored => {}
                            Reply::Items(items) if items.len() == 1 => {}
                            other => return Err(format!("unexpected {other:?}")),
                        }
                    }
                    conn.set_keepalive().map_err(e("keepalive"))
                }
            });
            join(loops).await?;
        }
        other => return Err(format!("unknown --client {other}")),
    }
    Ok(t0.elapsed().as_secs_f64())
}

async fn redis_rs_mux(
    client: &str,
    port: u16,
    set: bool,
    tasks: usize,
    per: usize,
    value: &[u8],
) -> Result<f64, String> {
    let e = |what: &'static str| move |e: redis::RedisError| format!("{what}: {e}");
    let rs = redis::Client::open(format!("redis://127.0.0.1:{port}/")).map_err(e("open"))?;
    let con = rs
        .get_multiplexed_async_connection()
        .await
        .map_err(e("connect"))?;
    let mut fill = redis::pipe();
    for k in 0..KEYS {
        fill.cmd("SET").arg(key(k)).arg(value).ignore();
    }
    fill.query_async::<()>(&mut con.clone())
        .await
        .map_err(e("fill"))?;
    let cmd = |k: &str| {
        let mut c = redis::cmd(if set { "SET" } else { "GET" });
        c.arg(k);
        if set {
            c.arg(value);
        }
        c
    };
    let t0 = Instant::now();
    let loops = (0..tasks).map(|t| {
        let mut con = con.clone();
        async move {
            if client == "redis-rs-pipeline" {
                for batch in 0..per / 100 {
                    let mut p = redis::pipe();
                    for i in 0..100 {
                        p.add_command(cmd(&key(t * per + batch * 100 + i)));
                    }
                    let replies: Vec<redis::Value> =
                        p.query_async(&mut con).await.map_err(e("pipeline"))?;
                    if replies.len() != 100 {
                        return Err("a short pipeline reply".to_owned());
                    }
                }
            } else {
                for i in 0..per {
                    let v: redis::Value = cmd(&key(t * per + i))
                        .query_async(&mut con)
                        .await
                        .map_err(e("query"))?;
                    if matches!(v, redis::Value::Nil) {
                        return Err("a nil reply".to_owned());
                    }
                }
            }
            Ok(())
        }
    });
    join(loops).await?;
    Ok(t0.elapsed().as_secs_f64())
}

fn redis_rs_blocking(port: u16, set: bool, n: usize, value: &[u8]) -> Result<f64, String> {
    let e = |what: &'static str| move |e: redis::RedisError| format!("{what}: {e}");
    let rs = redis::Client::open(format!("redis://127.0.0.1:{port}/")).map_err(e("open"))?;
    let mut con = rs.get_connection().map_err(e("connect"))?;
    for k in 0..KEYS {
        redis::cmd("SET")
            .arg(key(k))
            .arg(value)
            .exec(&mut con)
            .map_err(e("fill"))?;
    }
    let t0 = Instant::now();
    for i in 0..n {
        let mut c = redis::cmd(if set { "SET" } else { "GET" });
        c.arg(key(i));
        if set {
            c.arg(value);
        }
        let v: redis::Value = c.query(&mut con).map_err(e("query"))?;
        if matches!(v, redis::Value::Nil) {
            return Err("a nil reply".to_owned());
        }
    }
    Ok(t0.elapsed().as_secs_f64())
}

async fn async_memcached(
    port: u16,
    set: bool,
    tasks: usize,
    per: usize,
    value: &[u8],
) -> Result<f64, String> {
    use async_memcached::AsciiProtocol;
    let e = |what: &'static str| move |e: async_memcached::Error| format!("{what}: {e:?}");
    let dsn = format!("tcp://127.0.0.1:{port}");
    let mut clients = Vec::new();
    for _ in 0..tasks {
        clients.push(
            async_memcached::Client::new(dsn.as_str())
                .await
                .map_err(e("connect"))?,
        );
    }
    for k in 0..KEYS {
        clients[0]
            .set(key(k).as_str(), value, None, None)
            .await
            .map_err(e("fill"))?;
    }
    let t0 = Instant::now();
    let loops = clients
        .into_iter()
        .enumerate()
        .map(|(t, mut client)| async move {
            for i in 0..per {
                let k = key(t * per + i);
                if set {
                    client
                        .set(k.as_str(), value, None, None)
                        .await
                        .map_err(e("set"))?;
                } else if client.get(k.as_str()).await.map_err(e("get"))?.is_none() {
                    return Err(format!("{k} is missing"));
                }
            }
            Ok(())
        });
    join(loops).await?;
    Ok(t0.elapsed().as_secs_f64())
}
