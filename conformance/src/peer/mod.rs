//! The scripted peer of FORMAT.md §3: the other end of every conformance case and parity
//! scenario. This part holds FORMAT §2's byte strings and §3.4's report (the result's
//! `"peer"` object).

mod bytes;
mod report;

pub use bytes::{bytes_to_latin1, latin1_to_bytes};
pub use report::{ConnectionReport, End, PeerReport, summarize};
