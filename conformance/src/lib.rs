//! # cosocket-conformance
//!
//! One suite over the public traits, run against every implementation:
//!
//! * [`conformance_tests!`] expands into one `#[test]` per case of the suite for a
//!   [`Harness`] (a fresh [`Cosockets`](cosocket_core::Cosockets) context per case plus an
//!   executor). [`RuntimeHarness`] covers every [`Runtime`](cosocket_core::rt::Runtime):
//!
//!   ```no_run
//!   use cosocket_conformance::{RuntimeHarness, Task};
//!   fn block_on(case: Task) {
//!       smol::block_on(case);
//!   }
//!   cosocket_conformance::conformance_tests!(RuntimeHarness::new(cosocket_smol::Smol::new, block_on));
//!   ```
//! * [`runtime_contract_tests!`] checks the backend contract itself.
//! * `harnesses` (feature `harnesses`, on by default) holds the tokio and smol harnesses;
//!   a third-party backend depends on this crate with `default-features = false` and
//!   pulls in neither runtime.
//! * [`parity`] runs FORMAT.md's parity scenarios on a [`Harness`] (the `parity`
//!   binary: `--backend tokio|smol [--flavor current|multi] --scenarios DIR --out DIR`).
//! * [`peer`] is the scripted peer (std threads and socket2 only, never the executor under
//!   test) of the cases, of the parity runner and of client libraries' own tests.
//!
//! Every case runs in a thread of its own under a watchdog ([`harness::WATCHDOG`]): a hung
//! case fails with its name and never stalls the run.

pub mod cancel;
mod case;
pub mod cases;
#[cfg(feature = "tls")]
pub mod certs;
pub mod harness;
#[cfg(feature = "harnesses")]
pub mod harnesses;
pub mod logs;
pub mod parity;
pub mod peer;
pub mod render;
pub mod runtime_contract;
#[cfg(feature = "tls")]
pub mod servers;

pub use case::Case;
pub use harness::{Harness, RuntimeHarness, Task};

/// Expands into one `#[test]` per conformance case, each run on the harness `$harness`
/// (an expression, evaluated per test) under the watchdog.
#[macro_export]
macro_rules! conformance_tests {
    ($harness:expr) => {
        $crate::__conformance_cases!($crate::__conformance_test, $harness);
    };
}

/// Expands into one `#[test]` per case of tokio's I/O traits (feature `tokio-io`, on with
/// `harnesses`): for implementations whose stream types implement tokio's `AsyncRead`,
/// `AsyncBufRead` and `AsyncWrite`, as core's do with its feature `tokio`.
#[cfg(feature = "tokio-io")]
#[macro_export]
macro_rules! conformance_tokio_io_tests {
    ($harness:expr) => {
        $crate::__conformance_tokio_io_cases!($crate::__conformance_test, $harness);
    };
}

/// Expands into one `#[test]` per TLS case (feature `tls`): `ssl_handshake` against the
/// scripted TLS peer, for implementations whose stream type implements `TlsSock`.
#[cfg(feature = "tls")]
#[macro_export]
macro_rules! conformance_tls_tests {
    ($harness:expr) => {
        $crate::__conformance_tls_cases!($crate::__conformance_test, $harness);
    };
}

/// Expands into one `#[test]` per case against real TLS servers (feature `tls`):
/// `openssl s_server` and nginx with `ssl`, started by [`servers`] (they must be
/// installed: `apt-get install openssl nginx`; a missing one fails, never skips).
#[cfg(feature = "tls")]
#[macro_export]
macro_rules! conformance_tls_server_tests {
    ($harness:expr) => {
        $crate::__conformance_tls_server_cases!($crate::__conformance_test, $harness);
    };
}

/// Runs a crate's own cases on every in-tree harness (feature `harnesses`): one module
/// per harness (`tokio_current_thread`, `tokio_multi_thread`, `smol`), one `#[test]` per
/// case in each, every case under the [watchdog](harness::run_watched). This is how the
/// client libraries of `clients/` test themselves: a case is
/// `pub async fn name<H: Harness>(t: Case<H>)` in the module `$cases` at the test
/// crate's root, written against the public traits only.
///
/// ```text
/// mod cases;   // pub async fn get_and_set<H: Harness>(t: Case<H>) { … }
/// cosocket_conformance::every_harness_tests!(cases; get_and_set pipeline);
/// ```
#[cfg(feature = "harnesses")]
#[macro_export]
macro_rules! every_harness_tests {
    ($cases:ident; $($case:ident)*) => {
        mod tokio_current_thread {
            $crate::__every_harness_test!($crate::harnesses::tokio_current(), $cases; $($case)*);
        }
        mod tokio_multi_thread {
            $crate::__every_harness_test!($crate::harnesses::tokio_multi(), $cases; $($case)*);
        }
        mod smol {
            $crate::__every_harness_test!($crate::harnesses::smol(), $cases; $($case)*);
        }
    };
}

#[cfg(feature = "harnesses")]
#[doc(hidden)]
#[macro_export]
// `crate::$cases` is the test crate's module of cases, by design.
#[allow(clippy::crate_in_macro_def)]
macro_rules! __every_harness_test {
    ($harness:expr, $cases:ident; $($case:ident)*) => {$(
        #[test]
        fn $case() {
            let harness = $harness;
            $crate::harness::run_watched(&harness, stringify!($case), |h| {
                ::std::boxed::Box::pin(crate::$cases::$case($crate::Case::new(h)))
            });
        }
    )*};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test {
    ($harness:expr; $($case:ident)*) => {$(
        #[test]
        fn $case() {
            let harness = $harness;
            $crate::harness::run_watched(&harness, stringify!($case), |h| {
                ::std::boxed::Box::pin($crate::cases::$case($crate::Case::new(h)))
            });
        }
    )*};
}
