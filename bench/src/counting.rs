//! Timers armed by receives (BENCHMARKS.md §2), counted by the conformance suite's
//! [`CountingTimers`], a [`Runtime`] wrapper that counts every `sleep_until` core asks for. A receive served from the buffer, or by a `recv` that finds
//! the bytes already in the kernel, must arm none; a receive that has to wait arms one.

use std::time::Duration;

use cosocket::prelude::*;
use cosocket::rt::Runtime;
use cosocket::{ConnectOptions, Context, Until};
use cosocket_conformance::runtime_contract::CountingTimers;
use serde_json::json;

use crate::Outcome;
use crate::args::{Args, Backend};

/// The conformance suite's timer-counting runtime, read as "armed since the last look".
struct Timers<R> {
    runtime: CountingTimers<R>,
    seen: usize,
}

impl<R: Runtime> Timers<R> {
    /// Timers armed since the last call.
    fn take(&mut self) -> usize {
        let armed = self.runtime.armed();
        let new = armed - self.seen;
        self.seen = armed;
        new
    }
}

/// How many receives each count covers: 300 lines (30 KB) fit in loopback's initial receive
/// window, so all of them are in the kernel before the first receive.
const RECEIVES: usize = 300;

pub(crate) fn timers(args: &Args) -> Outcome {
    let port: u16 = args.get("port")?;
    let directives = args.directives()?;
    match args.backend()? {
        Backend::Tokio => crate::tokio_runtime().block_on(async {
            let runtime = CountingTimers::new(cosocket::tokio::Tokio::new(
                tokio::runtime::Handle::current(),
            ));
            count_timers(runtime, directives, port).await
        }),
        Backend::Smol => smol::block_on(async {
            let runtime = CountingTimers::new(cosocket::smol::Smol::new());
            count_timers(runtime, directives, port).await
        }),
    }
}

/// Asks the `lines` peer for `RECEIVES` + 1 lines, lets them all arrive, and reads the
/// first: tokio learns that a socket is readable only from the reactor, so the first
/// receive after a quiet spell may wait for one turn of it (async-io tries the `recv`
/// first). The counts cover the `RECEIVES` that follow.
async fn request_and_settle<S: StreamSock>(sock: &mut S, lines: usize) -> Result<(), String> {
    sock.send(&(lines + 1, "\n"))
        .await
        .map_err(|e| format!("send: {e}"))?;
    // Blocking on purpose: nothing else runs on this thread while the bytes arrive.
    std::thread::sleep(Duration::from_millis(200));
    sock.receive_line()
        .await
        .map_err(|e| format!("receive_line: {e}"))?;
    Ok(())
}

async fn count_timers<R: Runtime>(
    runtime: CountingTimers<R>,
    directives: cosocket::Directives,
    port: u16,
) -> Outcome {
    let cx = Context::with_directives(runtime.clone(), directives);
    let mut runtime = Timers { runtime, seen: 0 };
    let mut sock = cx
        .connect("127.0.0.1", port, &ConnectOptions::new())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let fail = |what: &str, e: cosocket::Error| format!("{what}: {e}");
    let mut counts = serde_json::Map::new();

    request_and_settle(&mut sock, RECEIVES).await?;
    runtime.take();
    for _ in 0..RECEIVES {
        sock.receive_line()
            .await
            .map_err(|e| fail("receive_line", e))?;
    }
    counts.insert("receive_line".into(), json!(runtime.take()));

    request_and_settle(&mut sock, RECEIVES).await?;
    runtime.take();
    for _ in 0..RECEIVES {
        sock.receive_exact(100)
            .await
            .map_err(|e| fail("receive_exact", e))?;
    }
    counts.insert("receive_exact".into(), json!(runtime.take()));

    request_and_settle(&mut sock, RECEIVES).await?;
    runtime.take();
    let mut until = Until::new("\r\n").map_err(|e| e.to_string())?;
    for _ in 0..RECEIVES {
        sock.receive_until(&mut until)
            .await
            .map_err(|e| fail("receive_until", e))?;
    }
    counts.insert("receive_until".into(), json!(runtime.take()));

    request_and_settle(&mut sock, RECEIVES).await?;
    runtime.take();
    let mut left = RECEIVES * 100;
    let mut calls = 0;
    while left > 0 {
        left -= sock
            .receive_any(100)
            .await
            .map_err(|e| fail("receive_any", e))?
            .len();
        calls += 1;
    }
    counts.insert("receive_any".into(), json!(runtime.take()));

    // The control: each of these receives has to wait for the peer, so each arms one timer.
    runtime.take();
    let waits = 100;
    for _ in 0..waits {
        sock.send("1\n").await.map_err(|e| fail("send", e))?;
        sock.receive_line()
            .await
            .map_err(|e| fail("receive_line", e))?;
    }
    let waiting = runtime.take();
    Ok(json!({
        "receives_each": RECEIVES,
        "receive_any_calls": calls,
        "buffered": counts,
        "waiting_receives": waits,
        "timers_armed_by_waiting_receives": waiting,
    }))
}
