//! The cases: each starts its own dnsmasq (or scripted fake server).

use std::time::Duration;

use cosocket_conformance::{Case, Harness};
use cosocket_dns::{DnsClient, Options};

mod cancel;
mod fake;
mod records;
mod resolve;
mod transport;

pub(crate) use cancel::*;
pub(crate) use records::*;
pub(crate) use resolve::*;
pub(crate) use transport::*;

/// A client of the nameserver on 127.0.0.1:`port`, on a fresh context, with short tries.
pub(crate) fn client<H: Harness>(t: &Case<H>, port: u16) -> DnsClient<H::Cx> {
    DnsClient::new(t.cx(), options(port)).unwrap()
}

/// The options every case starts from: one nameserver, 3 tries of 1 s.
pub(crate) fn options(port: u16) -> Options {
    Options::new()
        .nameserver("127.0.0.1", port)
        .retrans(3)
        .timeout(Duration::from_secs(1))
}
