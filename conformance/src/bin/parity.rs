//! The parity runner: runs FORMAT.md's scenarios against a backend and writes one result
//! file per scenario for `compare.py`.
//!
//! ```text
//! parity --backend tokio|smol [--flavor current|multi] --scenarios DIR --out DIR
//! ```
//!
//! `--backend tokio` defaults to `--flavor current` (a fresh current-thread runtime per
//! scenario); `multi` spawns each scenario's request onto one 2-worker runtime.

use std::process::ExitCode;
use std::sync::OnceLock;

use cosocket_conformance::parity::{self, Args, Backend, USAGE};
use cosocket_conformance::{RuntimeHarness, Task};
use cosocket_smol::Smol;
use cosocket_tokio::Tokio;
use tokio::runtime::{Builder, Runtime};

/// tokio on a fresh current-thread runtime per scenario (the harness's `runtime` is
/// called from inside `block_on`, where the current handle is that runtime's).
fn tokio_current() -> RuntimeHarness<Tokio> {
    RuntimeHarness::new(
        || Tokio::try_current().expect("called inside the scenario's runtime"),
        |task: Task| {
            Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime")
                .block_on(task);
        },
    )
}

fn multi_thread() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a multi-thread runtime")
    })
}

/// tokio's multi-thread runtime (2 workers): each request is a task spawned onto it.
fn tokio_multi() -> RuntimeHarness<Tokio> {
    RuntimeHarness::new(
        || Tokio::new(multi_thread().handle().clone()),
        |task: Task| {
            let handle = multi_thread().handle();
            handle
                .block_on(handle.spawn(task))
                .expect("the request task panicked");
        },
    )
}

/// smol: the request on `smol::block_on`, spawned threads on smol's global executor.
fn smol() -> RuntimeHarness<Smol> {
    RuntimeHarness::new(Smol::new, |task: Task| smol::block_on(task))
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match Args::parse(argv) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("parity: {e}");
            return ExitCode::from(2);
        }
    };
    let run = match args.backend {
        Backend::TokioCurrent => parity::run_dir(&tokio_current(), &args.scenarios, &args.out),
        Backend::TokioMulti => parity::run_dir(&tokio_multi(), &args.scenarios, &args.out),
        Backend::Smol => parity::run_dir(&smol(), &args.scenarios, &args.out),
    };
    match run {
        Ok(summary) => {
            eprintln!(
                "parity: {} scenarios run, {} with errors; results in {}",
                summary.scenarios,
                summary.with_errors,
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("parity: {e}");
            ExitCode::FAILURE
        }
    }
}
