//! Load, on every harness: many connections open at once on one runtime thread, and many
//! requests through a pool with a connect backlog, with zero errors and every reply
//! matching its request; the figures (time, RSS per connection, peak RSS) are printed.
//! The soak of pool churn with random peer closes and random cancellation is the suite's
//! `x_pool_stress_random_cancellation`, sized by the same variable.
//!
//! CI runs a size that fits (2 000 connections, 50 000 requests per harness);
//! `COSOCKET_LOAD=full` runs the full size (10 000 connections, 1 000 000 requests), as
//! `scripts/load.sh` does in release mode. One test per binary run at a time: the peak
//! RSS (`VmHWM`) is the process's.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosocket_conformance::harnesses::{smol, tokio_current, tokio_multi};
use cosocket_conformance::{Harness, Task};
use cosocket_core::{ConnectOptions, Cosockets, StreamRead, StreamSock, StreamWrite, TcpSock};
use futures::FutureExt;
use futures::channel::oneshot;
use futures::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Whether `COSOCKET_LOAD=full` asks for the full size.
fn full() -> bool {
    std::env::var("COSOCKET_LOAD").is_ok_and(|v| v == "full")
}

/// `VmRSS:` or `VmHWM:` of this process, in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

/// Raises the soft open-file limit to the hard one; fails with how to raise the hard one
/// if that is still too low for `needed` descriptors.
fn raise_open_files(needed: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    // Root may raise the hard limit too (up to `fs.nr_open`); others take the hard one.
    if limit.maximum.is_some_and(|max| max < needed) {
        let raised = rustix::process::Rlimit {
            current: Some(needed),
            maximum: Some(needed),
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return;
        }
    }
    limit.current = limit.maximum;
    setrlimit(Resource::Nofile, limit).expect("setrlimit(RLIMIT_NOFILE)");
    let have = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    assert!(
        have >= needed,
        "this test needs {needed} open files and the hard limit is {have}: raise it \
         (`ulimit -Hn {needed}` as root, or `LimitNOFILE=` for a service)"
    );
}

/// The echo server, in a child process of its own so that its descriptors and memory are
/// not the client's: the child is this test binary with `COSOCKET_ECHO_SERVER` set. It is
/// killed (by PID) when dropped.
struct EchoServer {
    child: std::process::Child,
    addr: SocketAddr,
}

impl EchoServer {
    fn start(connections: usize) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe().expect("binary"))
            .args(["--exact", "load_on_every_harness", "--nocapture"])
            .env("COSOCKET_ECHO_SERVER", connections.to_string())
            .env_remove("COSOCKET_LOAD_CHILD")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the echo server process");
        let stdout = child.stdout.take().expect("its stdout");
        let addr = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("echo server at ")?.parse().ok())
            .expect("the echo server prints its address");
        Self { child, addr }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The echo server process's body: on 127.0.0.1, a tokio current-thread runtime (so it
/// holds thousands of connections cheaply); what arrives goes back. Never returns.
fn serve_echo(connections: u64) -> ! {
    raise_open_files(connections + 256);
    // A deep accept queue (the kernel caps it at `net.core.somaxconn`): thousands of
    // connects at once would otherwise overflow it, and a dropped SYN is retried after 1 s.
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&any.into()).expect("bind");
    socket.listen(65_535).expect("listen");
    let listener = std::net::TcpListener::from(socket);
    listener.set_nonblocking(true).expect("non-blocking");
    println!("echo server at {}", listener.local_addr().expect("address"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the echo server's runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}

/// N connections open at once on the harness's runtime: each connects, sends a line of
/// its own and reads it back; only when all are open and answered do they close.
fn many_connections<H: Harness>(harness: &H, name: &'static str, n: usize) {
    let server = EchoServer::start(n);
    let addr = server.addr;
    let h = harness.clone();
    let case: Task = Box::pin(async move {
        let cx = h.context(cosocket_conformance::Case::<H>::directives());
        let rss_before = status_bytes("VmRSS:");
        let started = Instant::now();
        let open = Arc::new(AtomicUsize::new(0));
        // The last connection to be answered opens the gate; until then all stay open.
        let (open_gate, gate) = oneshot::channel::<()>();
        let open_gate = Arc::new(Mutex::new(Some(open_gate)));
        let gate = gate.shared();
        let clients = (0..n).map(|i| {
            let cx = &cx;
            let open = Arc::clone(&open);
            let open_gate = Arc::clone(&open_gate);
            let gate = gate.clone();
            async move {
                let mut s = cx.stream();
                s.connect_addr(addr, &ConnectOptions::new())
                    .await
                    .unwrap_or_else(|e| panic!("connection {i}: connect: {e}"));
                let line = format!("connection {i}\n");
                s.send(&line).await.expect("send");
                let back = s.receive_line().await.expect("receive");
                assert_eq!(back, line.trim_end(), "connection {i} got another's reply");
                if open.fetch_add(1, Ordering::Relaxed) + 1 == n {
                    let took = started.elapsed();
                    let rss = status_bytes("VmRSS:").saturating_sub(rss_before);
                    println!(
                        "{name}: {n} connections open and answered at once in {took:?}, {} \
                         bytes of RSS each",
                        rss / n
                    );
                    let sender = open_gate.lock().expect("gate").take();
                    let _ = sender.expect("opened once").send(());
                }
                gate.await.expect("the gate opens");
                s.close().expect("close");
            }
        });
        join_all(clients).await;
        assert_eq!(open.load(Ordering::Relaxed), n);
    });
    harness.block_on(case);
}

/// `requests` requests from 100 tasks through one pool of 10 with a backlog of 200:
/// connect (a pooled connection or a queued wait), send, receive the echo, `set_keepalive`.
/// Zero errors, every reply its own request's; the peak RSS is printed.
fn pooled_requests<H: Harness>(harness: &H, name: &'static str, requests: usize) {
    const TASKS: usize = 100;
    let server = EchoServer::start(TASKS);
    let addr = server.addr;
    let h = harness.clone();
    let case: Task = Box::pin(async move {
        let mut d = cosocket_conformance::Case::<H>::directives();
        d.connect_timeout = Duration::from_secs(30);
        d.read_timeout = Duration::from_secs(30);
        let cx = h.context(d);
        let opts = ConnectOptions::new()
            .pool("load")
            .pool_size(std::num::NonZeroUsize::new(10).expect("10"))
            .backlog(200);
        let started = Instant::now();
        let tasks = (0..TASKS).map(|task| {
            let cx = &cx;
            let opts = &opts;
            async move {
                let mut line = String::new();
                let mut s = cx.stream();
                for i in (task..requests).step_by(TASKS) {
                    s.connect_addr(addr, opts)
                        .await
                        .unwrap_or_else(|e| panic!("request {i}: connect: {e}"));
                    line.clear();
                    std::fmt::Write::write_fmt(&mut line, format_args!("request {i}\n"))
                        .expect("format");
                    s.send(&line).await.expect("send");
                    let back = s.receive_line_ref().await.expect("receive");
                    assert_eq!(
                        back,
                        line.trim_end().as_bytes(),
                        "request {i}: another reply"
                    );
                    s.set_keepalive(None, None).expect("set_keepalive");
                }
            }
        });
        join_all(tasks).await;
        let took = started.elapsed();
        let stats = cx.pool_stats("load").expect("the pool");
        assert_eq!(stats.waiting, 0, "nobody waits at the end");
        assert_eq!(stats.idle, stats.connections, "every place was given back");
        assert!(
            stats.connections <= 10,
            "at most the pool's size: {stats:?}"
        );
        println!(
            "{name}: {requests} requests through a pool of 10 with a backlog, 100 tasks, zero \
             errors, in {took:?} ({:.0}/s); peak RSS of the process {:.1} MiB",
            requests as f64 / took.as_secs_f64(),
            status_bytes("VmHWM:") as f64 / f64::from(1 << 20)
        );
    });
    harness.block_on(case);
}

/// One test, so that nothing else runs in the process while it measures RSS; each
/// harness runs in a child process of its own, so that its figures start from a fresh
/// allocator.
#[test]
fn load_on_every_harness() {
    let (connections, mut requests) = if full() {
        (10_000, 1_000_000)
    } else {
        (2_000, 50_000)
    };
    // `COSOCKET_LOAD_REQUESTS=N` sets the request count alone (to see how memory grows).
    if let Some(n) = std::env::var("COSOCKET_LOAD_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        requests = n;
    }
    let harnesses: [(&dyn Run, &str); 3] = [
        (&tokio_current(), "tokio current-thread"),
        (&smol(), "smol"),
        (&tokio_multi(), "tokio multi-thread"),
    ];
    if let Some(connections) = std::env::var("COSOCKET_ECHO_SERVER")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        serve_echo(connections);
    }
    if let Ok(only) = std::env::var("COSOCKET_LOAD_CHILD") {
        raise_open_files(connections as u64 + 256);
        let (harness, name) = harnesses
            .into_iter()
            .find(|(_, name)| *name == only)
            .expect("a harness name");
        harness.run(name, connections, requests);
        return;
    }
    for (_, name) in harnesses {
        let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--exact", "load_on_every_harness", "--nocapture"])
            .env("COSOCKET_LOAD_CHILD", name)
            .output()
            .expect("run the child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{name}: the load child failed");
    }
}

/// Both loads on one harness (a trait object, so the three harness types share a list).
trait Run {
    fn run(&self, name: &'static str, connections: usize, requests: usize);
}

impl<H: Harness> Run for H {
    fn run(&self, name: &'static str, connections: usize, requests: usize) {
        // Requests first: their peak RSS is then theirs, not the memory the many
        // connections left with the allocator.
        pooled_requests(self, name, requests);
        many_connections(self, name, connections);
    }
}
