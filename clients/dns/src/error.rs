//! The error type of every query.

use std::fmt;
use std::io;

/// What a query or a client's construction can fail with.
///
/// Server answers with a non-zero RCODE (RFC 1035 §4.1.1) are variants of their own, so
/// that "the name does not exist" is a value to match, not a string to parse:
///
/// ```
/// use cosocket_dns::Error;
/// fn exists(r: Result<Vec<cosocket_dns::Record>, Error>) -> Option<bool> {
///     match r {
///         Ok(_) => Some(true),
///         Err(Error::NxDomain) => Some(false),
///         Err(_) => None,
///     }
/// }
/// assert_eq!(exists(Err(Error::NxDomain)), Some(false));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// RCODE 3, "Name Error": the name does not exist (NXDOMAIN).
    NxDomain,
    /// RCODE 2, "Server failure": the server could not answer (SERVFAIL).
    ServerFailure,
    /// RCODE 5, "Refused": the server will not answer this client (REFUSED).
    Refused,
    /// Any other non-zero RCODE (1: format error, 4: not implemented, …).
    Rcode(u8),
    /// No acceptable reply within the per-try timeout, on the last try. A UDP try waits
    /// for the whole timeout (replies for other queries are skipped meanwhile); a TCP try
    /// bounds its connect, its send and each read by it. cosocket's own `timeout` errors
    /// become this variant, so [`Error::Transport`] never carries one.
    Timeout,
    /// A socket error from cosocket (`connection refused`, `connection reset by peer`, a
    /// TCP stream closed before the whole reply, …), with OpenResty's text.
    Transport(cosocket::Error),
    /// A reply that does not follow RFC 1035 (cut short, a compression pointer loop, a
    /// record whose data does not fit its type, too many records, …).
    Protocol(String),
    /// A name that cannot be sent: an empty label, a label over 63 bytes, a name over 253
    /// characters, non-ASCII text. Nothing was sent.
    InvalidName(String),
    /// A bad argument or option: no nameserver, a nameserver that is not an IP address,
    /// zero tries, … Nothing was sent.
    InvalidInput(String),
}

impl Error {
    /// The error of a non-zero RCODE.
    pub(crate) fn from_rcode(rcode: u8) -> Self {
        match rcode {
            2 => Self::ServerFailure,
            3 => Self::NxDomain,
            5 => Self::Refused,
            n => Self::Rcode(n),
        }
    }

    /// The RCODE of a server's error answer, `None` for the other errors.
    pub fn rcode(&self) -> Option<u8> {
        match self {
            Self::ServerFailure => Some(2),
            Self::NxDomain => Some(3),
            Self::Refused => Some(5),
            Self::Rcode(n) => Some(*n),
            _ => None,
        }
    }

    /// Whether the next nameserver may do better: a timeout, or a server that is not
    /// there (an ICMP refusal on UDP, a refused or reset TCP connection). A server's
    /// answer, even an error answer, is final, as in lua-resty-dns.
    pub(crate) fn try_next_server(&self) -> bool {
        match self {
            Self::Timeout => true,
            Self::Transport(e) => matches!(
                e.kind(),
                cosocket::ErrorKind::Refused
                    | cosocket::ErrorKind::Reset
                    | cosocket::ErrorKind::Eof
                    | cosocket::ErrorKind::BrokenPipe
            ),
            _ => false,
        }
    }

    /// A cosocket error: its timeouts are [`Error::Timeout`].
    pub(crate) fn transport(e: cosocket::Error) -> Self {
        if e.kind() == cosocket::ErrorKind::Timeout {
            Self::Timeout
        } else {
            Self::Transport(e)
        }
    }

    pub(crate) fn protocol(text: impl Into<String>) -> Self {
        Self::Protocol(text.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NxDomain => f.write_str("name does not exist (NXDOMAIN)"),
            Self::ServerFailure => f.write_str("server failure (SERVFAIL)"),
            Self::Refused => f.write_str("query refused (REFUSED)"),
            Self::Rcode(n) => write!(f, "server error, rcode {n}"),
            Self::Timeout => f.write_str("timeout"),
            Self::Transport(e) => write!(f, "transport error: {e}"),
            Self::Protocol(text) => write!(f, "malformed reply: {text}"),
            Self::InvalidName(text) => write!(f, "invalid name: {text}"),
            Self::InvalidInput(text) => write!(f, "invalid input: {text}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            _ => None,
        }
    }
}

/// For [`cosocket::Resolve`]: the kinds its table of OpenResty texts reads.
/// NXDOMAIN is `NotFound` (`3: Host not found`), a timeout `TimedOut`
/// (`110: Operation timed out`), bad input `InvalidInput`, the rest `Other`
/// (`2: Server failure`).
impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::NxDomain => io::ErrorKind::NotFound,
            Error::Timeout => io::ErrorKind::TimedOut,
            Error::InvalidName(_) | Error::InvalidInput(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        Self::new(kind, e)
    }
}

/// The result of the client's calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
