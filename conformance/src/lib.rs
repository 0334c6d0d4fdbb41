//! # cosocket-conformance
//!
//! The conformance suite of cosocket. At this stage it checks the backend contract
//! ([`runtime_contract`]): any `Runtime` runs it with one line,
//! `cosocket_conformance::runtime_contract_tests!(make_runtime(), block_on);`. The suite
//! over the public socket traits, the scripted peer and the parity runner follow.

pub mod runtime_contract;
