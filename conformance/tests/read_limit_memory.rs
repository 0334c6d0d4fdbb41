//! A hostile peer sends 1 GiB without a delimiter: with a read limit, the peak RSS of the
//! process grows by no more than the limit plus one `buffer_size` segment (plus a fixed
//! allowance for the allocator and the runtime), on every limited reader and every
//! harness. One test in a binary of its own, so no other case runs while the high-water
//! mark (`VmHWM`, reset through `/proc/self/clear_refs`) is measured.

use std::io::Write;
use std::net::TcpListener;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cosocket_conformance::harnesses::{smol, tokio_current, tokio_multi};
use cosocket_conformance::{Harness, Task};
use cosocket_core::{ConnectOptions, Cosockets, ErrorKind, StreamRead, TcpSock, Until};

const LIMIT: usize = 16 << 20;
const SEGMENT: usize = 64 << 10;
const HOSTILE: u64 = 1 << 30;
/// What else may grow the peak: allocator bookkeeping, runtime threads' stacks.
const ALLOWANCE: usize = 4 << 20;

/// A peer that writes up to 1 GiB of `x` (from one 64 KiB chunk) to each connection,
/// counting what the client accepted.
fn hostile_peer() -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let sent = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&sent);
    std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 << 10];
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let count = Arc::clone(&count);
            let chunk = chunk.clone();
            std::thread::spawn(move || {
                let mut total = 0u64;
                while total < HOSTILE {
                    match conn.write(&chunk) {
                        Ok(n) => {
                            total += n as u64;
                            count.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(_) => return,
                    }
                }
            });
        }
    });
    (port, sent)
}

/// `VmRSS` or `VmHWM` of this process, in bytes.
fn status_kib(field: &str) -> usize {
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

/// Resets the peak RSS to the current RSS (Linux ≥ 4.0).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5")
        .expect("write /proc/self/clear_refs (Linux >= 4.0 resets VmHWM with \"5\")");
}

fn hostile_reads<H: Harness>(harness: &H, name: &str) {
    let (port, sent) = hostile_peer();
    for reader in ["line", "line_ref", "part", "all", "exact"] {
        let h = harness.clone();
        let sent = Arc::clone(&sent);
        let case: Task = Box::pin(async move {
            let cx = h.context({
                let mut d = cosocket_conformance::Case::<H>::directives();
                d.buffer_size = NonZeroUsize::new(SEGMENT).unwrap();
                d.read_timeout = Duration::from_secs(30);
                d
            });
            let mut s = cx.stream();
            s.connect("127.0.0.1", port, &ConnectOptions::new())
                .await
                .expect("connect");
            s.set_read_limit(Some(LIMIT));
            let rss = status_kib("VmRSS:");
            reset_peak();
            let err = match reader {
                "line" => s.receive_line().await.map(drop).unwrap_err(),
                "line_ref" => s.receive_line_ref().await.map(drop).unwrap_err(),
                "part" => {
                    let mut until = Until::new("\r\n--end").unwrap();
                    s.receive_until(&mut until).await.map(drop).unwrap_err()
                }
                "all" => s.receive_all().await.map(drop).unwrap_err(),
                _ => s.receive_exact(1 << 30).await.map(drop).unwrap_err(),
            };
            let peak = status_kib("VmHWM:");
            assert_eq!(err.kind(), ErrorKind::TooLarge, "{reader}: {err}");
            let growth = peak.saturating_sub(rss);
            // `TooLarge` itself shows that the peer sent more than the limit.
            println!(
                "{reader}: peak RSS grew {growth} bytes (limit {LIMIT} + segment {SEGMENT}); \
                 the peer had written {} bytes",
                sent.load(Ordering::Relaxed)
            );
            assert!(
                growth < LIMIT + SEGMENT + ALLOWANCE,
                "{reader}: the peak RSS grew {growth} bytes, over the limit {LIMIT} + one segment \
                 {SEGMENT} + {ALLOWANCE}"
            );
        });
        println!("{name}:");
        harness.block_on(case);
    }
}

#[test]
fn peak_rss_stays_under_the_limit_on_every_reader_and_harness() {
    // Re-run in a child whose allocator gives every large block back to the kernel when
    // it is freed (glibc's `MALLOC_MMAP_THRESHOLD_`), so that each reader's peak is
    // measured from the same base, not from memory an earlier one left resident.
    if std::env::var_os("COSOCKET_RSS_CHILD").is_none() {
        let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "peak_rss_stays_under_the_limit_on_every_reader_and_harness",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("COSOCKET_RSS_CHILD", "1")
            .env("MALLOC_MMAP_THRESHOLD_", "131072")
            .output()
            .expect("run the measuring child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "the measuring child failed");
        return;
    }
    hostile_reads(&tokio_current(), "tokio current-thread");
    hostile_reads(&tokio_multi(), "tokio multi-thread");
    hostile_reads(&smol(), "smol");
}
