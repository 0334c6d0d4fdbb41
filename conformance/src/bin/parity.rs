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

use cosocket_conformance::harnesses::{smol, tokio_current, tokio_multi};
use cosocket_conformance::parity::{self, Args, Backend, USAGE};

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
