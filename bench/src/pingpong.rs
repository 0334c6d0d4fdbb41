//! Per-call overhead (BENCHMARKS.md §2) and the cost of the pool (§3): a 1-byte request
//! and its 1-byte echo, timed in batches, with cosocket and its baseline interleaved in one
//! process so that both see the same machine (the order alternates from pair to pair).

use std::net::TcpStream;
use std::time::{Duration, Instant};

use cosocket::ConnectOptions;
use cosocket::prelude::*;
use serde_json::{Value, json};

use crate::args::{Args, Backend};
use crate::{Outcome, with_context};

/// The raw baseline: the same loop hand-written on the runtime's own stream type.
enum Raw {
    Tokio(tokio::net::TcpStream),
    AsyncIo(smol::Async<TcpStream>),
}

impl Raw {
    async fn connect(backend: Backend, port: u16) -> Result<Self, String> {
        Ok(match backend {
            Backend::Tokio => {
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .map_err(|e| e.to_string())?;
                // cosocket sets TCP_NODELAY on the first send (the `tcp_nodelay` directive).
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                Self::Tokio(stream)
            }
            Backend::Smol => {
                let stream = smol::Async::<TcpStream>::connect(([127, 0, 0, 1], port))
                    .await
                    .map_err(|e| e.to_string())?;
                stream
                    .get_ref()
                    .set_nodelay(true)
                    .map_err(|e| e.to_string())?;
                Self::AsyncIo(stream)
            }
        })
    }

    async fn round_trips(&mut self, n: usize) -> Result<Duration, String> {
        let mut one = [0u8; 1];
        let t0 = Instant::now();
        match self {
            Self::Tokio(stream) => {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                for _ in 0..n {
                    stream.write_all(b"x").await.map_err(|e| e.to_string())?;
                    stream
                        .read_exact(&mut one)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            Self::AsyncIo(stream) => {
                use smol::io::{AsyncReadExt, AsyncWriteExt};
                for _ in 0..n {
                    stream.write_all(b"x").await.map_err(|e| e.to_string())?;
                    stream
                        .read_exact(&mut one)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(t0.elapsed())
    }
}

/// `n` round trips on one cosocket connection.
async fn persistent<S: StreamSock>(sock: &mut S, n: usize) -> Result<Duration, String> {
    let t0 = Instant::now();
    for _ in 0..n {
        sock.send(b"x".as_slice())
            .await
            .map_err(|e| format!("send: {e}"))?;
        sock.receive_exact(1)
            .await
            .map_err(|e| format!("receive: {e}"))?;
    }
    Ok(t0.elapsed())
}

/// `n` requests, each on a connection taken from the pool and put back (`lib:new()`,
/// `connect`, request, `set_keepalive`, as lua-resty-redis is used per request).
async fn pooled<C: Cosockets>(cx: &C, port: u16, n: usize) -> Result<Duration, String> {
    let options = ConnectOptions::new();
    let t0 = Instant::now();
    for _ in 0..n {
        let mut sock = cx
            .connect("127.0.0.1", port, &options)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        sock.send(b"x".as_slice())
            .await
            .map_err(|e| format!("send: {e}"))?;
        sock.receive_exact(1)
            .await
            .map_err(|e| format!("receive: {e}"))?;
        sock.set_keepalive(None, None)
            .map_err(|e| format!("set_keepalive: {e}"))?;
    }
    Ok(t0.elapsed())
}

/// `n` requests, each on a new connection closed after it.
async fn unpooled<C: Cosockets>(cx: &C, port: u16, n: usize) -> Result<Duration, String> {
    let t0 = Instant::now();
    for _ in 0..n {
        let mut sock = cx
            .connect("127.0.0.1", port, &ConnectOptions::new())
            .await
            .map_err(|e| format!("connect: {e}"))?;
        sock.send(b"x".as_slice())
            .await
            .map_err(|e| format!("send: {e}"))?;
        sock.receive_exact(1)
            .await
            .map_err(|e| format!("receive: {e}"))?;
        sock.close().map_err(|e| format!("close: {e}"))?;
    }
    Ok(t0.elapsed())
}

/// `tasks` concurrent request loops in one task (`join_all`: one thread, any executor),
/// `n / tasks` requests each, each on a connection of its own: persistent ones (`socks`)
/// or taken from the pool per request (`socks` empty).
async fn concurrent<C: Cosockets>(
    cx: &C,
    port: u16,
    socks: &mut [C::Stream],
    tasks: usize,
    n: usize,
) -> Result<Duration, String> {
    let per_task = n / tasks;
    let t0 = Instant::now();
    let cpu0 = thread_cpu();
    let results = if socks.is_empty() {
        futures::future::join_all((0..tasks).map(|_| pooled(cx, port, per_task))).await
    } else {
        futures::future::join_all(socks.iter_mut().map(|s| persistent(s, per_task))).await
    };
    results.into_iter().collect::<Result<Vec<_>, _>>()?;
    CPU.with(|c| c.set(thread_cpu() - cpu0));
    Ok(t0.elapsed())
}

thread_local! {
    /// The client thread's CPU time of the last `concurrent` run.
    static CPU: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

/// The CPU time this thread has run (`/proc/thread-self/schedstat`, nanoseconds): the
/// client's own cost, whatever the peer's scheduling adds to the wall time.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The per-pair ratios `a[i] / b[i]` of two interleaved series.
pub(crate) fn ratios(a: &[Duration], b: &[Duration]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
        .collect()
}

/// Median, first and third quartile (linear interpolation).
pub(crate) fn quartiles(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (sorted.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
    };
    (at(0.5), at(0.25), at(0.75))
}

/// The per-pair ratios of two interleaved series, summarised.
fn summary(ratios: &[f64], a: &[Duration], b: &[Duration], n: usize) -> Value {
    let (median, q1, q3) = quartiles(ratios);
    let rtt = |d: &[Duration]| {
        let us: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1e6 / n as f64).collect();
        quartiles(&us).0
    };
    json!({
        "ratios": ratios,
        "median": median,
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "a_us_per_round_trip": rtt(a),
        "b_us_per_round_trip": rtt(b),
    })
}

/// Runs `first` and `second` alternately, `pairs` times, the order swapping every pair.
macro_rules! interleave {
    ($pairs:expr, $first:expr, $second:expr) => {{
        let mut a = Vec::new();
        let mut b = Vec::new();
        for pair in 0..$pairs {
            if pair % 2 == 0 {
                a.push($first?);
                b.push($second?);
            } else {
                b.push($second?);
                a.push($first?);
            }
        }
        (a, b)
    }};
}

/// cosocket vs the raw runtime: the ratio is cosocket's time over raw's (1.03 = 3 % slower).
pub(crate) fn overhead(args: &Args) -> Outcome {
    let backend = args.backend()?;
    let port: u16 = args.get("port")?;
    let pairs: usize = args.get_or("pairs", 30)?;
    let n: usize = args.get_or("round-trips", 10_000)?;
    let directives = args.directives()?;
    with_context!(backend, directives, |cx| async move {
        let mut raw = Raw::connect(backend, port).await?;
        let mut sock = cx
            .connect("127.0.0.1", port, &ConnectOptions::new())
            .await
            .map_err(|e| format!("connect: {e}"))?;
        raw.round_trips(n / 5).await?;
        persistent(&mut sock, n / 5).await?;
        let (co, raw_times) = interleave!(
            pairs,
            persistent(&mut sock, n).await,
            raw.round_trips(n).await
        );
        let ratios = ratios(&co, &raw_times);
        let mut out = summary(&ratios, &co, &raw_times, n);
        out["pairs"] = json!(pairs);
        out["round_trips"] = json!(n);
        Ok::<_, String>(out)
    })
}

/// Pooled per request vs persistent (ratio: persistent time over pooled time, so 0.95 means
/// pooled runs at 95 % of persistent's rate), then new connections per request.
pub(crate) fn pool(args: &Args) -> Outcome {
    let backend = args.backend()?;
    let port: u16 = args.get("port")?;
    let pairs: usize = args.get_or("pairs", 30)?;
    let n: usize = args.get_or("round-trips", 10_000)?;
    let fresh: usize = args.get_or("new-connections", 2000)?;
    let reps: usize = args.get_or("new-connection-reps", 5)?;
    let tasks: usize = args.get_or("tasks", 1)?;
    let mut directives = args.directives()?;
    // Room for every task's connection in the pool.
    directives.pool_size = std::num::NonZeroUsize::new(tasks.max(30)).ok_or("--tasks")?;
    if tasks > 1 {
        return with_context!(backend, directives, |cx| async move {
            let mut socks = Vec::new();
            for _ in 0..tasks {
                socks.push(
                    cx.connect("127.0.0.1", port, &ConnectOptions::new())
                        .await
                        .map_err(|e| format!("connect: {e}"))?,
                );
            }
            concurrent(&cx, port, &mut socks, tasks, n / 5).await?;
            concurrent(&cx, port, &mut [], tasks, n / 5).await?;
            let (mut kept_cpu, mut pool_cpu) = (Vec::new(), Vec::new());
            let (kept, pool) = interleave!(
                pairs,
                concurrent(&cx, port, &mut socks, tasks, n)
                    .await
                    .inspect(|_| kept_cpu.push(CPU.with(std::cell::Cell::get))),
                concurrent(&cx, port, &mut [], tasks, n)
                    .await
                    .inspect(|_| pool_cpu.push(CPU.with(std::cell::Cell::get)))
            );
            let cpu_ratios = ratios(&kept_cpu, &pool_cpu);
            let mut out = summary(&ratios(&kept, &pool), &kept, &pool, n);
            let per_request = |d: &[Duration]| {
                let us: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1e6 / n as f64).collect();
                quartiles(&us).0
            };
            out["cpu_median"] = json!(quartiles(&cpu_ratios).0);
            out["cpu_ratios"] = json!(cpu_ratios);
            out["a_cpu_us_per_request"] = json!(per_request(&kept_cpu));
            out["b_cpu_us_per_request"] = json!(per_request(&pool_cpu));
            out["pairs"] = json!(pairs);
            out["round_trips"] = json!(n);
            out["tasks"] = json!(tasks);
            Ok::<_, String>(out)
        });
    }
    with_context!(backend, directives, |cx| async move {
        let mut sock = cx
            .connect("127.0.0.1", port, &ConnectOptions::new())
            .await
            .map_err(|e| format!("connect: {e}"))?;
        persistent(&mut sock, n / 5).await?;
        pooled(&cx, port, n / 5).await?;
        let (kept, pool) = interleave!(
            pairs,
            persistent(&mut sock, n).await,
            pooled(&cx, port, n).await
        );
        let ratios = ratios(&kept, &pool);
        let mut out = summary(&ratios, &kept, &pool, n);
        let mut new_us = Vec::new();
        for _ in 0..reps {
            let took = unpooled(&cx, port, fresh).await?;
            new_us.push(took.as_secs_f64() * 1e6 / fresh as f64);
            // Let the client's TIME_WAIT ports age between repetitions.
            std::thread::sleep(Duration::from_millis(200));
        }
        out["new_connection_us_per_request"] = json!(quartiles(&new_us).0);
        out["new_connection_runs_us"] = json!(new_us);
        out["pairs"] = json!(pairs);
        out["round_trips"] = json!(n);
        out["new_connections"] = json!(fresh);
        Ok::<_, String>(out)
    })
}
