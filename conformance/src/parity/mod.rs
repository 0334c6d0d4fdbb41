//! The parity runner's library: FORMAT.md's scenarios run against any [`Harness`],
//! results written in FORMAT §4's shape for `compare.py`.
//!
//! * [`scenario`]: the scenario file (serde), ops with their common fields;
//! * [`call`]: the typed FORMAT §3.6 vocabulary;
//! * `interp`: the op interpreter over the public traits (`Cosockets`, `TcpSock`, ...);
//! * [`render`]: FORMAT §5's rendering of results and records;
//! * `environment`: FORMAT §1's per-scenario order (peer, targets, context, ops, request
//!   end, snapshot, context end);
//! * [`runner`]: the directory loop, each scenario under a watchdog;
//! * [`args`]: the command line of `src/bin/parity.rs`.
//!
//! [`Harness`]: crate::Harness

pub mod args;
pub mod call;
mod environment;
mod interp;
mod objects;
pub mod render;
pub mod runner;
pub mod scenario;
#[cfg(feature = "tls")]
mod tls;

pub use args::{Args, Backend, USAGE};
pub use runner::{RunSummary, run_dir, run_scenario};
pub use scenario::{Op, Scenario};
