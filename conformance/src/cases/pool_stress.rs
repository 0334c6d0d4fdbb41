//! The pool under stress (the pool issue's acceptance case; issue 19's soak with
//! `COSOCKET_LOAD=full`, 1 000 cycles): 200 tasks × 50 cycles of
//! connect / request / `set_keepalive` against one pool of 10 with a backlog, cancelling
//! random operations at random points, with a server that closes connections it is asked
//! to close while they may sit idle in the pool.
//!
//! At the end each pool's count equals its idle connections, nobody waits, every connect
//! was served, refused or timed out, and no connection was handed out after its peer
//! closed it: the server records, per client port, the moment the client's kernel had
//! its FIN (the client socket left `ESTABLISHED` in `/proc/net/tcp`), and every checkout
//! compares its start with that moment.

use std::collections::HashMap;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::num::NonZeroUsize;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosocket_core::{
    Address, ConnectOptions, Cosockets, ErrorKind, StreamRead, StreamSock, StreamWrite, TcpSock,
};
use futures::future::{Either, select};

use super::wait_until;
use crate::Case;
use crate::harness::Harness;

const TASKS: usize = 200;

/// Cycles per task: 50, or 1 000 (200 000 operations, the soak) with `COSOCKET_LOAD=full`
/// (`scripts/load.sh`).
fn cycles() -> usize {
    if std::env::var("COSOCKET_LOAD").is_ok_and(|v| v == "full") {
        1_000
    } else {
        50
    }
}
const POOL: &str = "stress";

/// The echo server's shared record.
#[derive(Default)]
struct Record {
    /// Client port → when the client's kernel had the FIN of a connection we closed.
    closed_visible: HashMap<u16, Instant>,
    /// Client port → how many connections came from it (a port may be used again).
    generation: HashMap<u16, u64>,
    accepted: usize,
    open: usize,
}

/// A line server on 127.0.0.1: `PING n` → `PONG n`; `BYE` → close at once.
struct Server {
    port: u16,
    record: Arc<Mutex<Record>>,
}

impl Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stress server");
        let port = listener.local_addr().expect("local address").port();
        let record = Arc::new(Mutex::new(Record::default()));
        let shared = Arc::clone(&record);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let client = stream.peer_addr().expect("peer address").port();
                let generation = {
                    let mut r = shared.lock().unwrap();
                    // A new connection from a port that an old one used.
                    r.closed_visible.remove(&client);
                    r.accepted += 1;
                    r.open += 1;
                    let g = r.generation.entry(client).or_default();
                    *g += 1;
                    *g
                };
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, (client, generation), port, &shared));
            }
        });
        Self { port, record }
    }

    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap()
    }
}

fn serve(stream: TcpStream, (client, generation): (u16, u64), server: u16, record: &Mutex<Record>) {
    let mut out = stream.try_clone().expect("clone");
    let mut lines = BufReader::new(stream).lines();
    let bye = loop {
        match lines.next() {
            Some(Ok(line)) if line == "BYE" => break true,
            Some(Ok(line)) => {
                let reply = line.replacen("PING", "PONG", 1);
                if writeln!(out, "{reply}").is_err() {
                    break false;
                }
            }
            _ => break false,
        }
    };
    let _ = out.shutdown(Shutdown::Both);
    drop(out);
    drop(lines);
    if bye {
        wait_client_saw_fin(client, server);
        let mut r = record.lock().unwrap();
        // Unless the port already carries a newer connection.
        if r.generation.get(&client) == Some(&generation) {
            r.closed_visible.insert(client, Instant::now());
        }
    }
    record.lock().unwrap().open -= 1;
}

/// Waits until the client socket 127.0.0.1:`client` → :`server` is no longer
/// `ESTABLISHED` (its kernel processed our FIN), at most 5 s.
fn wait_client_saw_fin(client: u16, server: u16) {
    let local = format!("0100007F:{client:04X}");
    let remote = format!("0100007F:{server:04X}");
    for _ in 0..5000 {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let established = table.lines().any(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() > 3 && f[1] == local && f[2] == remote && f[3] == "01"
        });
        if !established {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("the client never saw the FIN of 127.0.0.1:{client}");
}

/// What happened, over every task.
#[derive(Default)]
struct Tally {
    connects: AtomicUsize,
    reused: AtomicUsize,
    too_many: AtomicUsize,
    timeouts: AtomicUsize,
    cancelled: AtomicUsize,
    failed_requests: AtomicUsize,
    violations: Mutex<Vec<String>>,
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The pool survives random cancellations and peer closes without losing a place.
pub async fn x_pool_stress_random_cancellation<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let cx = t.cx();
    let tally = Arc::new(Tally::default());
    let cycles = cycles();
    let opts = ConnectOptions::new()
        .pool(POOL)
        .pool_size(NonZeroUsize::new(10).expect("10"))
        .backlog(120);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (cx, opts, tally) = (cx.clone(), opts.clone(), Arc::clone(&tally));
        let (record, port) = (Arc::clone(&server.record), server.port);
        let harness = t.harness().clone();
        tasks.push(t.spawn(async move {
            let mut rng = fastrand::Rng::with_seed(task as u64);
            for cycle in 0..cycles {
                one_cycle(&harness, &cx, &opts, port, &record, &tally, &mut rng, cycle).await;
            }
        }));
    }
    for task in tasks {
        task.await;
    }
    // Every cycle's connect ended one way or another.
    let connects = tally.connects.load(Ordering::Relaxed);
    let ended = tally.too_many.load(Ordering::Relaxed)
        + tally.timeouts.load(Ordering::Relaxed)
        + tally.cancelled.load(Ordering::Relaxed);
    assert_eq!(
        connects + ended,
        TASKS * cycles,
        "every connect was accounted for"
    );
    // The watcher closes the connections the server closed while they sat idle; then the
    // pool holds exactly the connections the server still has open.
    wait_until(
        &t,
        "the pool holds exactly the server's open connections",
        || cx.pool_stats(POOL).map_or(0, |s| s.idle) == server.record().open,
    )
    .await;
    if let Some(stats) = cx.pool_stats(POOL) {
        assert_eq!(
            stats.connections, stats.idle,
            "count = idle at rest: {stats:?}"
        );
        assert_eq!(stats.waiting, 0, "nobody waits at rest");
        assert!(stats.idle <= 10, "at most pool_size connections: {stats:?}");
    }
    let violations = tally.violations.lock().unwrap();
    assert!(
        violations.is_empty(),
        "handed out after the peer closed it: {violations:?}"
    );
    eprintln!(
        "pool stress: {} cycles; {} connects ({} reused, {} opened), {} too many waiting, \
         {} queue/connect timeouts, {} cancelled connects, {} failed requests",
        TASKS * cycles,
        connects,
        tally.reused.load(Ordering::Relaxed),
        server.record().accepted,
        tally.too_many.load(Ordering::Relaxed),
        tally.timeouts.load(Ordering::Relaxed),
        tally.cancelled.load(Ordering::Relaxed),
        tally.failed_requests.load(Ordering::Relaxed),
    );
}

/// Races `fut` against a sleep of `ms`; `None` if the sleep won (`fut` is dropped).
async fn cancel_after<H: Harness, T>(
    harness: &H,
    ms: u64,
    fut: impl Future<Output = T>,
) -> Option<T> {
    let sleep = harness.sleep(Duration::from_millis(ms));
    match select(pin!(fut), pin!(sleep)).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(((), _)) => None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn one_cycle<H: Harness, C: Cosockets>(
    harness: &H,
    cx: &C,
    opts: &ConnectOptions,
    port: u16,
    record: &Mutex<Record>,
    tally: &Tally,
    rng: &mut fastrand::Rng,
    cycle: usize,
) {
    let mut s = cx.stream();
    // One connect in ten has a 2 ms connect timeout (so queued connects time out).
    let connect_ms = if rng.u8(..10) == 0 { 2 } else { 3000 };
    s.set_timeouts(
        Some(Duration::from_millis(connect_ms)),
        Some(Duration::from_secs(3)),
        Some(Duration::from_secs(3)),
    );
    let started = Instant::now();
    let connected = if rng.u8(..10) == 0 {
        // Cancel the connect at a random point: queued, connecting, or just handed one.
        cancel_after(harness, rng.u64(0..3), s.connect("127.0.0.1", port, opts)).await
    } else {
        Some(s.connect("127.0.0.1", port, opts).await)
    };
    match connected {
        None => return bump(&tally.cancelled),
        Some(Err(e)) if e.kind() == ErrorKind::TooManyWaiting => return bump(&tally.too_many),
        Some(Err(e)) if e.kind() == ErrorKind::Timeout => return bump(&tally.timeouts),
        Some(Err(e)) => panic!("connect: {e}"),
        Some(Ok(())) => bump(&tally.connects),
    }
    let reused = s.reused_times().expect("connected") > 0;
    if reused {
        bump(&tally.reused);
        let Ok(Address::Ip(local)) = s.local_addr() else {
            panic!("a TCP connection has an IP local address")
        };
        if let Some(at) = record.lock().unwrap().closed_visible.get(&local.port()) {
            if *at < started {
                tally.violations.lock().unwrap().push(format!(
                    "127.0.0.1:{} closed {:?} before the connect began",
                    local.port(),
                    started - *at
                ));
            }
        }
    }
    let action = rng.u8(..20);
    let ping = format!("PING {cycle}\n");
    if action == 0 {
        // Cancel the request mid-way: the socket may hold unread bytes; dropped, it closes.
        let _ = cancel_after(harness, 0, async {
            s.send(ping.as_bytes()).await?;
            s.receive_line().await
        })
        .await;
        return drop(s);
    }
    let reply = match s.send(ping.as_bytes()).await {
        Ok(_) => s.receive_line().await,
        Err(e) => Err(e),
    };
    match reply {
        Ok(line) => assert_eq!(line, format!("PONG {cycle}")),
        // The server closed it after the checkout began (the FIN was not there yet).
        Err(_) => return bump(&tally.failed_requests),
    }
    match action {
        // Ask the server to close it, and pool it at once: the FIN may arrive while it
        // sits idle (the watcher's job) or just before (set_keepalive's).
        1 | 2 => {
            s.send(&b"BYE\n"[..]).await.expect("send BYE");
            let _ = s.set_keepalive(None, None);
        }
        3 => {
            let _ = s.close();
        }
        4 => drop(s),
        _ => {
            s.set_keepalive(None, None)
                .expect("set_keepalive after a clean reply");
        }
    }
}
