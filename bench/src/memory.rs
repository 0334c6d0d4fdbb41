//! Memory per connection (BENCHMARKS.md §3), from the process's resident set: N
//! connections to the `hold` peer, open in cosocket sockets, idle in the pool, or open in
//! the raw runtime's stream type (the baseline). Kernel socket buffers are not in the RSS
//! and not counted.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use cosocket::prelude::*;
use cosocket::rt::Runtime;
use cosocket::{ConnectOptions, Context};
use serde_json::json;

use crate::Outcome;
use crate::args::{Args, Backend};

/// The resident set size in bytes (`VmRSS` of `/proc/self/status`).
fn rss() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS in /proc/self/status")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or("bad VmRSS line")?;
    Ok(kib * 1024)
}

pub(crate) fn run(args: &Args) -> Outcome {
    let kind = args.text("kind")?.to_owned();
    let n: usize = args.get("n")?;
    let port: u16 = args.get("port")?;
    let directives = args.directives()?;
    match args.backend()? {
        Backend::Tokio => crate::tokio_runtime().block_on(async {
            let runtime = cosocket::tokio::Tokio::new(tokio::runtime::Handle::current());
            if kind == "raw" {
                let mut held = Vec::with_capacity(n);
                let before = warm_up(&runtime, directives, port).await?;
                for _ in 0..n {
                    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                        .await
                        .map_err(|e| format!("connect: {e}"))?;
                    held.push(stream);
                }
                report(&kind, n, before)
            } else {
                measure(runtime, directives, &kind, n, port).await
            }
        }),
        Backend::Smol => smol::block_on(async {
            let runtime = cosocket::smol::Smol::new();
            if kind == "raw" {
                let mut held = Vec::with_capacity(n);
                let before = warm_up(&runtime, directives, port).await?;
                for _ in 0..n {
                    let stream =
                        smol::Async::<std::net::TcpStream>::connect(([127, 0, 0, 1], port))
                            .await
                            .map_err(|e| format!("connect: {e}"))?;
                    held.push(stream);
                }
                report(&kind, n, before)
            } else {
                measure(runtime, directives, &kind, n, port).await
            }
        }),
    }
}

/// One connection made and closed through a context of its own, so the reactor, the
/// allocator's arenas and the lazily created pieces exist before the first reading.
async fn warm_up<R: Runtime>(
    runtime: &R,
    directives: cosocket::Directives,
    port: u16,
) -> Result<u64, String> {
    let cx = Context::with_directives(runtime.clone(), directives);
    let mut sock = cx
        .connect("127.0.0.1", port, &ConnectOptions::new())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    sock.close().map_err(|e| e.to_string())?;
    drop(cx);
    pause(runtime).await;
    rss()
}

async fn pause<R: Runtime>(runtime: &R) {
    runtime
        .sleep_until(Instant::now() + Duration::from_millis(100))
        .await;
}

fn report(kind: &str, n: usize, before: u64) -> Outcome {
    let after = rss()?;
    Ok(json!({
        "kind": kind,
        "n": n,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_connection": after.saturating_sub(before) as f64 / n as f64,
    }))
}

async fn measure<R: Runtime>(
    runtime: R,
    directives: cosocket::Directives,
    kind: &str,
    n: usize,
    port: u16,
) -> Outcome {
    let before = warm_up(&runtime, directives.clone(), port).await?;
    let cx = Context::with_directives(runtime.clone(), directives);
    let size = NonZeroUsize::new(n).ok_or("--n must be > 0")?;
    let options = ConnectOptions::new().pool_size(size);
    // One allocation for every socket object (freed back to the system when dropped), so
    // what stays resident after `set_keepalive` is what the pool holds.
    let mut socks = Vec::with_capacity(n);
    for _ in 0..n {
        socks.push(
            cx.connect("127.0.0.1", port, &options)
                .await
                .map_err(|e| format!("connect: {e}"))?,
        );
    }
    match kind {
        "open" => {
            pause(&runtime).await;
            report(kind, n, before)
        }
        "pooled" => {
            for sock in &mut socks {
                sock.set_keepalive(Some(Duration::from_secs(600)), None)
                    .map_err(|e| format!("set_keepalive: {e}"))?;
            }
            drop(socks);
            // The idle watcher registers every connection before the reading.
            pause(&runtime).await;
            let idle = cx
                .pool_stats(&format!("127.0.0.1:{port}"))
                .map_or(0, |s| s.idle);
            if idle != n {
                return Err(format!("{idle} of {n} connections idle in the pool"));
            }
            report(kind, n, before)
        }
        other => Err(format!("--kind: open, pooled or raw, not {other:?}")),
    }
}
