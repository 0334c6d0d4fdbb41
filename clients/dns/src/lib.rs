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
