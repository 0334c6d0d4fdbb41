//! A DNS stub resolver on cosocket, for tokio or smol (or any backend): lua-resty-dns's
//! model with Rust types.
//!
//! - Queries go over UDP to a list of nameservers, with a fresh random 16-bit ID and a
//!   fresh socket per try; a reply whose ID or question differs is skipped (the try keeps
//!   listening until its timeout), never accepted.
//! - A try that times out (default 2 s) moves to the next nameserver, up to `retrans`
//!   tries (default 5); the round robin starts at a random server and each query starts
//!   one server further.
//! - A truncated reply (TC) is asked again over TCP; [`DnsClient::tcp_query`] uses TCP from
//!   the start.
//! - Names are checked before anything is sent (RFC 1035 §2.3.4); replies are decoded
//!   with name compression, bounds-checked, loop-proof: a malformed reply is
//!   [`Error::Protocol`], never a panic.
//! - Records are typed ([`RecordData`]); server errors are variants ([`Error::NxDomain`],
//!   …); [`DnsClient`] implements [`cosocket::Resolve`], so a context resolves the names
//!   of its `connect` calls through it.
//!
//! ```no_run
//! # async fn demo<C: cosocket::Cosockets>(cx: C) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use cosocket::{ConnectOptions, Directives, Resolver};
//! use cosocket::prelude::*;
//! use cosocket_dns::{DnsClient, Options};
//!
//! let dns = DnsClient::new(cx.clone(), Options::new().nameserver("10.0.0.53", 53))?;
//! // Every connect of a context with these directives resolves through `dns`
//! // (`cosocket::Context::with_directives(runtime, d)`).
//! let mut d = Directives::default();
//! d.resolver = Resolver::Custom(Arc::new(dns));
//! # Ok(()) }
//! ```
//!
//! Not done: EDNS (so UDP answers stop at 512 bytes and larger ones go over TCP), DNSSEC,
//! caching, search domains and `/etc/resolv.conf` (give the nameservers explicitly), and
//! re-querying the target of a CNAME the server did not resolve itself.

mod client;
mod error;
mod record;
mod wire;

pub use client::{DnsClient, Options, UDP_SIZE, reverse_name};
pub use error::{Error, Result};
pub use record::{CLASS_IN, Record, RecordData, RecordType};

/// For the fuzz targets; not part of the API: query encoding and reply decoding.
#[doc(hidden)]
pub mod fuzzing {
    use crate::{Record, RecordType, Result};

    /// A validated question.
    #[derive(Debug, Clone)]
    pub struct Question(crate::wire::Question);

    impl Question {
        /// Checks and encodes `name`.
        pub fn new(name: &str, rtype: RecordType) -> Result<Self> {
            crate::wire::Question::new(name, rtype).map(Self)
        }

        /// The query message.
        pub fn packet(&self, id: u16, recurse: bool) -> Vec<u8> {
            self.0.packet(id, recurse)
        }
    }

    /// What a datagram is to a query.
    #[derive(Debug)]
    pub enum Reply {
        /// Not its answer.
        Mismatch,
        /// Its answer, truncated.
        Truncated,
        /// Its answer's records.
        Answer(Vec<Record>),
    }

    /// Checks that `msg` answers `q` with `id` and decodes its answer section.
    pub fn parse_reply(msg: &[u8], id: u16, q: &Question, max_records: usize) -> Result<Reply> {
        Ok(
            match crate::wire::parse_reply(msg, id, &q.0, max_records)? {
                crate::wire::Reply::Mismatch => Reply::Mismatch,
                crate::wire::Reply::Truncated => Reply::Truncated,
                crate::wire::Reply::Answer(records) => Reply::Answer(records),
            },
        )
    }
}
