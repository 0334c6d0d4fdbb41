//! # cosocket-conformance
//!
//! The conformance suite of cosocket. At this stage it checks the backend contract
//! ([`runtime_contract`]): any `Runtime` runs it with one line,
//! `cosocket_conformance::runtime_contract_tests!(make_runtime(), block_on);`. The
//! scripted peer of the parity format ([`peer`]) is the other end of the cases; the suite
//! over the public socket traits and the parity runner follow.

pub mod peer;
pub mod runtime_contract;
