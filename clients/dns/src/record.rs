//! Record types and decoded resource records.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;

/// The class of Internet records (RFC 1035 §3.2.4), the only one this client asks for.
pub const CLASS_IN: u16 = 1;

/// A record TYPE to query (RFC 1035 §3.2.2, RFC 3596 for AAAA, RFC 2782 for SRV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// 1: an IPv4 address.
    A,
    /// 2: an authoritative name server.
    Ns,
    /// 5: the canonical name of an alias.
    Cname,
    /// 6: the start of a zone of authority (decoded as [`RecordData::Other`]).
    Soa,
    /// 12: a domain name pointer (reverse lookups).
    Ptr,
    /// 15: a mail exchange.
    Mx,
    /// 16: text strings.
    Txt,
    /// 28: an IPv6 address.
    Aaaa,
    /// 33: a service location.
    Srv,
    /// Any other TYPE value, by number.
    Other(u16),
}

impl RecordType {
    /// The TYPE value on the wire.
    pub fn code(self) -> u16 {
        match self {
            Self::A => 1,
            Self::Ns => 2,
            Self::Cname => 5,
            Self::Soa => 6,
            Self::Ptr => 12,
            Self::Mx => 15,
            Self::Txt => 16,
            Self::Aaaa => 28,
            Self::Srv => 33,
            Self::Other(n) => n,
        }
    }

    /// The type of a TYPE value (a known value is never `Other`).
    pub fn from_code(code: u16) -> Self {
        match code {
            1 => Self::A,
            2 => Self::Ns,
            5 => Self::Cname,
            6 => Self::Soa,
            12 => Self::Ptr,
            15 => Self::Mx,
            16 => Self::Txt,
            28 => Self::Aaaa,
            33 => Self::Srv,
            n => Self::Other(n),
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::A => f.write_str("A"),
            Self::Ns => f.write_str("NS"),
            Self::Cname => f.write_str("CNAME"),
            Self::Soa => f.write_str("SOA"),
            Self::Ptr => f.write_str("PTR"),
            Self::Mx => f.write_str("MX"),
            Self::Txt => f.write_str("TXT"),
            Self::Aaaa => f.write_str("AAAA"),
            Self::Srv => f.write_str("SRV"),
            // RFC 3597 §5's notation for a type without a mnemonic.
            Self::Other(n) => write!(f, "TYPE{n}"),
        }
    }
}

/// The data of a resource record, decoded by its type.
///
/// Names are in presentation form without the trailing dot (`mail.example.com`; the root
/// is `.`); a label byte that is not a printable ASCII character, or is `.` or `\`, is
/// escaped as RFC 1035 §5.1 does (`\DDD`, `\.`), so a name always reads back unambiguously.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name the owner is an alias of.
    Cname(String),
    /// A mail exchange.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The exchange host.
        exchange: String,
    },
    /// A name server of the owner's zone.
    Ns(String),
    /// The character-strings of one TXT record, each at most 255 bytes, in order (the
    /// bytes as sent: TXT data need not be UTF-8).
    Txt(Vec<Bytes>),
    /// A service location (RFC 2782).
    Srv {
        /// Lower is tried first.
        priority: u16,
        /// The relative weight among targets of one priority.
        weight: u16,
        /// The service's port on the target.
        port: u16,
        /// The host providing the service.
        target: String,
    },
    /// The name an address (`…in-addr.arpa`, `…ip6.arpa`) points to.
    Ptr(String),
    /// Any other type: its TYPE value and its RDATA as received (names inside may be
    /// compressed, so they are only meaningful with the whole message).
    Other {
        /// The TYPE value.
        rtype: u16,
        /// The raw RDATA.
        data: Bytes,
    },
}

impl RecordData {
    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        match self {
            Self::A(_) => RecordType::A,
            Self::Aaaa(_) => RecordType::Aaaa,
            Self::Cname(_) => RecordType::Cname,
            Self::Mx { .. } => RecordType::Mx,
            Self::Ns(_) => RecordType::Ns,
            Self::Txt(_) => RecordType::Txt,
            Self::Srv { .. } => RecordType::Srv,
            Self::Ptr(_) => RecordType::Ptr,
            Self::Other { rtype, .. } => RecordType::from_code(*rtype),
        }
    }
}

/// One resource record of an answer section (RFC 1035 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name (for the records a CNAME leads to, the canonical name, not the one
    /// asked for).
    pub name: String,
    /// Seconds the record may be cached. A value with the top bit set reads as 0
    /// (RFC 2181 §8).
    pub ttl: u32,
    /// The CLASS value ([`CLASS_IN`] for Internet records).
    pub class: u16,
    /// The typed data.
    pub data: RecordData,
}
