//! cosocket's benchmark binary. Each subcommand measures one thing and prints one JSON
//! object on stdout; `bench/run.py` (run by `scripts/bench.sh`) pins the processes, repeats
//! every measurement, runs the baselines in the same run and prints the ratios.
//!
//! Subcommands (options are `--name value`):
//! * `serve --kind echo|sink|hold|lines --port P`: a blocking peer for the others.
//! * `stream --reader R --runtime tokio|smol --buffer-size B --dataset D --total T --port P`:
//!   reads one stream from the blaster (stream parsing, BENCHMARKS.md §1).
//! * `pingpong --runtime R --port P --pairs N --round-trips M`: cosocket vs the same loop on
//!   the raw runtime, interleaved (§2).
//! * `pool --runtime R --port P --pairs N --round-trips M --new-connections K`: pooled per
//!   request vs persistent vs new connection per request (§3).
//! * `pipeline --runtime R --port P --pairs N --batches M`: a 100-`GET` RESP pipeline sent
//!   as a fragment list vs copied into one buffer first (§2).
//! * `timers --runtime R --port P`: timers armed by receives served from the buffer (§2).
//! * `syscalls --runtime R --op O --n N --port P`: a workload for `strace -c` (§2).
//! * `memory --runtime R --kind K --n N --port P`: RSS per connection (§3).
//! * `serve-tls --port P --data-dir D`: the TLS blaster and echo peer (§4).
//! * `stream ... --tls 1` and the readers `raw-tokio-rustls-line|bulk`: stream parsing over
//!   TLS (§4).
//! * `tls-handshake --runtime R --port P --n N --mode new|pooled`: a TLS connection per
//!   request (connect, full handshake) vs pooled reuse (§4).
//! * `kv --client C --runtime R --port P --op get|set --tasks T --n N`: the Redis and
//!   memcached clients against their references (§5).
//! * `http --client C --runtime R --port P --path /files/F --size S --tasks T --n N` and
//!   `dns --client C --runtime R --port P --tasks T --n N`: the HTTP and DNS clients
//!   against theirs (§5).

mod args;
mod counting;
mod httpdns;
mod kv;
mod memory;
mod pingpong;
mod pipeline;
mod servers;
mod stream;
mod syscalls;
mod tls;

use std::process::ExitCode;

use args::Args;

/// Runs `$body` with `$cx` bound to a cosocket context on the named runtime, both on the
/// current thread: tokio's current-thread runtime, or `smol::block_on` of a smol executor
/// (async-io's reactor driven by this thread). A macro because the two contexts are
/// different types.
macro_rules! with_context {
    ($runtime:expr, $directives:expr, |$cx:ident| $body:expr) => {
        match $runtime {
            $crate::args::Backend::Tokio => {
                let rt = $crate::tokio_runtime();
                rt.block_on(async {
                    let $cx = cosocket::Context::with_directives(
                        cosocket::tokio::Tokio::new(tokio::runtime::Handle::current()),
                        $directives,
                    );
                    $body.await
                })
            }
            $crate::args::Backend::Smol => {
                // The pool's watcher runs on an executor this thread drives, as tokio's
                // current-thread runtime runs it: no second thread on the measured core.
                let executor = std::sync::Arc::new(smol::Executor::new());
                let runtime = cosocket::smol::Smol::with_executor(executor.clone());
                smol::block_on(executor.run(async {
                    let $cx = cosocket::Context::with_directives(runtime, $directives);
                    $body.await
                }))
            }
        }
    };
}
pub(crate) use with_context;

/// The current-thread tokio runtime every tokio measurement runs on.
pub(crate) fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime")
}

/// The process's CPU seconds, user + system (`/proc/self/stat`, in clock ticks of 1/100 s):
/// the client rows' CPU time per operation (§5).
pub(crate) fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields 14 and 15 (utime, stime), counted after the parenthesised command name.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field(11) + field(12)) as f64 / 100.0
}

/// Runs request loops concurrently on this thread (`join_all`); the first error.
pub(crate) async fn join<F: Future<Output = Result<(), String>>>(
    loops: impl Iterator<Item = F>,
) -> Result<(), String> {
    futures::future::join_all(loops)
        .await
        .into_iter()
        .collect::<Result<Vec<()>, String>>()
        .map(drop)
}

/// The result of a subcommand: the JSON it prints, or why it failed.
pub(crate) type Outcome = Result<serde_json::Value, String>;

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprintln!(
            "usage: cosocket-bench <serve|stream|pingpong|pool|pipeline|timers|syscalls|memory> [--option value]..."
        );
        return ExitCode::from(2);
    };
    let args = match Args::parse(argv) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("cosocket-bench {command}: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command.as_str() {
        "serve" => servers::serve(&args),
        "stream" => stream::run(&args),
        "pingpong" => pingpong::overhead(&args),
        "pool" => pingpong::pool(&args),
        "pipeline" => pipeline::run(&args),
        "timers" => counting::timers(&args),
        "syscalls" => syscalls::run(&args),
        "memory" => memory::run(&args),
        "serve-tls" => tls::serve(&args),
        "tls-handshake" => tls::handshakes(&args),
        "kv" => kv::run(&args),
        "http" => httpdns::http(&args),
        "dns" => httpdns::dns(&args),
        other => Err(format!("unknown subcommand {other:?}")),
    };
    match outcome {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cosocket-bench {command}: {e}");
            ExitCode::FAILURE
        }
    }
}
