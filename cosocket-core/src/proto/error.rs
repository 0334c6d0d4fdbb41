//! The one error type of every cosocket operation.
//!
//! OpenResty reports a soft error as `nil, "message"` or, for reads that consumed bytes
//! before failing, `nil, "message", partial` (spec §1.5). [`Error`] carries exactly that:
//! a [`kind`](Error::kind) to match on, a [`Display`](fmt::Display) that is OpenResty's
//! text to the letter, and [`partial`](Error::partial) exactly where OpenResty returns a
//! third value.

use std::borrow::Cow;
use std::fmt;
use std::io;

use bytes::Bytes;

/// `Result<T, cosocket_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, for matching. Its text is [`Error`]'s `Display`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `timeout`: a connect, backlog wait, send or read timeout expired (spec §4.2).
    Timeout,
    /// `closed` with no third value: the operation was made on a half that is closed, or
    /// on a socket that never connected, was closed or was released to the pool.
    Closed,
    /// `closed` with a partial: the peer closed the connection *during this read*; the
    /// bytes consumed before the end of the stream are in [`Error::partial`].
    Eof,
    /// `connection refused` (ECONNREFUSED), also for UDP after an ICMP port unreachable.
    Refused,
    /// `connection reset by peer` (ECONNRESET).
    Reset,
    /// `broken pipe` (EPIPE).
    BrokenPipe,
    /// Any other socket error: the operating system's text for the errno, lower-cased.
    Os,
    /// An argument OpenResty rejects softly: `pattern is empty`, `bad port number: N`,
    /// `missing the port number`, `bad address`, `bad max argument`, …
    InvalidArgument,
    /// `failed to parse host name "H": REASON`.
    HostParse,
    /// `no resolver defined to resolve "H"`: the context's resolver setting is none.
    NoResolver,
    /// `H could not be resolved (N: TEXT)`: name resolution failed or timed out.
    Resolve,
    /// `socket is never created nor connected`: an option call before the first connect.
    NeverConnected,
    /// `unsupported option NAME`: a socket option the platform lacks.
    UnsupportedOption,
    /// `too many waiting connect operations`: the pool's backlog is full (spec §5.5).
    TooManyWaiting,
    /// `unread data in buffer`: `set_keepalive` with unconsumed bytes; nothing changed.
    UnreadData,
    /// `connection in dubious state`: `set_keepalive` found bytes or EOF that arrived
    /// after the last read; the connection was closed.
    DubiousState,
    /// `read limit exceeded`: a read would have buffered more than the socket's read limit
    /// (not an OpenResty error: its reads are unlimited); the read half is closed.
    TooLarge,
    /// `request in flight`: `set_keepalive` on a connection whose request was begun and
    /// never finished (a timeout, an error or a cancellation in between); the connection
    /// was closed, never pooled.
    RequestInFlight,
    /// `handshake failed`: a TLS handshake failed (the peer is not TLS, refused our
    /// client certificate, closed or reset); the connection was closed (spec §8.3).
    Handshake,
    /// A certificate verification failure after a TLS handshake, with OpenSSL's text
    /// (`18: self-signed certificate`, `certificate host mismatch`, …); the connection
    /// was closed (spec §8.5).
    Verify,
    /// `error`: a TLS record or alert the connection could not accept after the
    /// handshake (OpenResty's text of a failed SSL read); the read half is closed.
    Tls,
    /// `truncated`: the peer ended a TLS stream without close_notify while
    /// `receive_all` read to its end, so the end may be an attacker's. OpenResty returns
    /// the data as complete; cosocket returns it as the partial (spec §8.5).
    Truncated,
}

impl ErrorKind {
    /// The text OpenResty uses for this kind when the kind alone decides it.
    fn fixed_text(self) -> Option<&'static str> {
        Some(match self {
            Self::Timeout => "timeout",
            Self::Closed | Self::Eof => "closed",
            Self::Refused => "connection refused",
            Self::Reset => "connection reset by peer",
            Self::BrokenPipe => "broken pipe",
            Self::NeverConnected => "socket is never created nor connected",
            Self::TooManyWaiting => "too many waiting connect operations",
            Self::UnreadData => "unread data in buffer",
            Self::DubiousState => "connection in dubious state",
            Self::TooLarge => "read limit exceeded",
            Self::RequestInFlight => "request in flight",
            Self::Handshake => "handshake failed",
            Self::Tls => "error",
            Self::Truncated => "truncated",
            _ => return None,
        })
    }

    fn io_kind(self) -> io::ErrorKind {
        match self {
            Self::Timeout => io::ErrorKind::TimedOut,
            Self::Closed | Self::NeverConnected => io::ErrorKind::NotConnected,
            Self::Eof => io::ErrorKind::UnexpectedEof,
            Self::Refused => io::ErrorKind::ConnectionRefused,
            Self::Reset => io::ErrorKind::ConnectionReset,
            Self::BrokenPipe => io::ErrorKind::BrokenPipe,
            Self::InvalidArgument | Self::HostParse => io::ErrorKind::InvalidInput,
            Self::UnsupportedOption => io::ErrorKind::Unsupported,
            Self::NoResolver | Self::Resolve => io::ErrorKind::NotFound,
            Self::TooLarge => io::ErrorKind::InvalidData,
            Self::Os
            | Self::TooManyWaiting
            | Self::UnreadData
            | Self::DubiousState
            | Self::RequestInFlight
            | Self::Handshake
            | Self::Verify => io::ErrorKind::Other,
            Self::Tls => io::ErrorKind::InvalidData,
            Self::Truncated => io::ErrorKind::UnexpectedEof,
        }
    }
}

/// A cosocket error: a kind, OpenResty's exact message and, for reads, the partial bytes.
///
/// One pointer wide, so `Result<Bytes>` stays small on the hot path.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    partial: Option<Bytes>,
    os_code: Option<i32>,
}

impl Error {
    /// An error of `kind` with the given text (used for kinds whose text varies, such as
    /// [`ErrorKind::HostParse`]; other implementations of the traits build errors here).
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            partial: None,
            os_code: None,
        }))
    }

    /// An error of `kind` with OpenResty's fixed text for it (`timeout`, `closed`, …).
    /// Kinds whose text varies fall back to a generic description; use [`Error::new`].
    pub fn from_kind(kind: ErrorKind) -> Self {
        let text = kind.fixed_text().unwrap_or(match kind {
            ErrorKind::InvalidArgument => "bad argument",
            ErrorKind::UnsupportedOption => "unsupported option",
            ErrorKind::HostParse => "failed to parse host name",
            ErrorKind::NoResolver => "no resolver defined",
            ErrorKind::Resolve => "could not be resolved",
            ErrorKind::Verify => "certificate verify failed",
            _ => "error",
        });
        Self::new(kind, text)
    }

    /// `timeout` with no partial (connect, backlog queue, send).
    pub fn timeout() -> Self {
        Self::from_kind(ErrorKind::Timeout)
    }

    /// `closed` with no partial: an operation on a closed half or a socket with no
    /// connection.
    pub fn closed() -> Self {
        Self::from_kind(ErrorKind::Closed)
    }

    /// `closed` with `partial`: the peer closed the stream during this read.
    pub fn eof(partial: Bytes) -> Self {
        Self::from_kind(ErrorKind::Eof).with_partial(partial)
    }

    /// `pattern is empty`: `receive_until` with an empty pattern (spec §2.5).
    pub fn pattern_empty() -> Self {
        Self::new(ErrorKind::InvalidArgument, "pattern is empty")
    }

    /// A socket error from the errno `code`, by the one rule of spec §1.5: the operating
    /// system's text, lower-cased (`111` → `connection refused`); errno 0 is `error`.
    pub fn from_os(code: i32) -> Self {
        let os = io::Error::from_raw_os_error(code);
        // The platform's errno values, through std's own table.
        let kind = match os.kind() {
            io::ErrorKind::ConnectionRefused => ErrorKind::Refused,
            io::ErrorKind::ConnectionReset => ErrorKind::Reset,
            io::ErrorKind::BrokenPipe => ErrorKind::BrokenPipe,
            _ => ErrorKind::Os,
        };
        let message = if code == 0 {
            "error".to_owned()
        } else {
            os_text(&os)
        };
        let mut error = Self::new(kind, message);
        error.0.os_code = Some(code);
        error
    }

    /// Converts an I/O error from a backend: an OS error by [`Error::from_os`]'s rule,
    /// anything else by its `Display`, lower-cased (an `io::ErrorKind::TimedOut` without
    /// errno is a [`timeout`](Error::timeout)).
    pub fn from_io(error: &io::Error) -> Self {
        if let Some(code) = error.raw_os_error() {
            return Self::from_os(code);
        }
        if let Some(inner) = error.get_ref().and_then(|e| e.downcast_ref::<Self>()) {
            return inner.clone();
        }
        let kind = match error.kind() {
            io::ErrorKind::TimedOut => return Self::timeout(),
            io::ErrorKind::ConnectionRefused => ErrorKind::Refused,
            io::ErrorKind::ConnectionReset => ErrorKind::Reset,
            io::ErrorKind::BrokenPipe => ErrorKind::BrokenPipe,
            _ => ErrorKind::Os,
        };
        match kind.fixed_text() {
            Some(text) => Self::new(kind, text),
            None => Self::new(kind, os_text(error)),
        }
    }

    /// Attaches the third value of a failed read: the bytes it consumed and discards.
    #[must_use]
    pub fn with_partial(mut self, partial: Bytes) -> Self {
        self.0.partial = Some(partial);
        self
    }

    /// The kind, for matching.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// OpenResty's text (also this error's `Display`).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The bytes a failed read consumed before it failed, exactly where OpenResty returns
    /// a third value (`nil, "timeout", "abc"`); `None` where it returns two values. The
    /// bytes are gone from the socket: the next read does not see them again.
    pub fn partial(&self) -> Option<&Bytes> {
        self.0.partial.as_ref()
    }

    /// Takes the partial out of the error (see [`Error::partial`]).
    pub fn into_partial(self) -> Option<Bytes> {
        self.0.partial
    }

    /// The errno of a socket error, if it came from one.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.0.os_code
    }

    /// `timeout`.
    pub fn is_timeout(&self) -> bool {
        self.0.kind == ErrorKind::Timeout
    }

    /// The text is `closed`: either [`ErrorKind::Closed`] or [`ErrorKind::Eof`].
    pub fn is_closed(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Closed | ErrorKind::Eof)
    }

    /// The peer closed the stream during this read ([`ErrorKind::Eof`]).
    pub fn is_eof(&self) -> bool {
        self.0.kind == ErrorKind::Eof
    }

    /// A socket error reported by the operating system (refused, reset, broken pipe, …).
    pub fn is_os(&self) -> bool {
        self.0.os_code.is_some()
    }
}

/// The OS text of `error` as `strerror` has it: Rust's " (os error N)" suffix removed.
/// The one copy of that strip, for error messages, option errors and log lines.
pub(crate) fn strerror(error: &io::Error) -> String {
    let mut text = error.to_string();
    if let Some(at) = text.rfind(" (os error ") {
        if text.ends_with(')') {
            text.truncate(at);
        }
    }
    text
}

/// The OS text of `error`, lower-cased: OpenResty lower-cases `strerror(errno)` for
/// LuaSocket compatibility (spec §1.5).
fn os_text(error: &io::Error) -> String {
    strerror(error).to_lowercase()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.0.kind)
            .field("message", &self.0.message);
        if let Some(partial) = &self.0.partial {
            s.field("partial", partial);
        }
        if let Some(code) = self.0.os_code {
            s.field("os_code", &code);
        }
        s.finish()
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Self::from_io(&error)
    }
}

impl From<Error> for io::Error {
    /// An `io::Error` of the matching kind that wraps the cosocket error (downcast it back
    /// with `get_ref()`); the partial bytes travel with it.
    fn from(error: Error) -> Self {
        Self::new(error.kind().io_kind(), error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_openresty_text() {
        assert_eq!(Error::timeout().to_string(), "timeout");
        assert_eq!(Error::closed().to_string(), "closed");
        assert_eq!(Error::eof(Bytes::from_static(b"ab")).to_string(), "closed");
        assert_eq!(Error::pattern_empty().to_string(), "pattern is empty");
        assert_eq!(
            Error::from_kind(ErrorKind::TooManyWaiting).to_string(),
            "too many waiting connect operations"
        );
        assert_eq!(
            Error::from_kind(ErrorKind::UnreadData).to_string(),
            "unread data in buffer"
        );
        assert_eq!(
            Error::from_kind(ErrorKind::DubiousState).to_string(),
            "connection in dubious state"
        );
        assert_eq!(
            Error::from_kind(ErrorKind::NeverConnected).to_string(),
            "socket is never created nor connected"
        );
    }

    #[test]
    fn closed_has_no_partial_eof_has_one() {
        let closed = Error::closed();
        assert_eq!(closed.partial(), None);
        assert!(closed.is_closed() && !closed.is_eof());
        let eof = Error::eof(Bytes::from_static(b"last"));
        assert_eq!(eof.partial().map(|b| &b[..]), Some(&b"last"[..]));
        assert!(eof.is_closed() && eof.is_eof());
        assert_eq!(eof.kind(), ErrorKind::Eof);
        assert_ne!(eof.kind(), closed.kind());
    }

    #[test]
    fn timeout_with_partial_keeps_both() {
        let e = Error::timeout().with_partial(Bytes::from_static(b"abc"));
        assert!(e.is_timeout());
        assert_eq!(e.message(), "timeout");
        assert_eq!(e.into_partial(), Some(Bytes::from_static(b"abc")));
    }

    /// One rule for every errno: the OS text without " (os error N)", lower-cased.
    #[cfg(target_os = "linux")]
    #[test]
    fn socket_errors_follow_one_rule_for_every_errno() {
        let cases: &[(i32, &str, ErrorKind)] = &[
            (111, "connection refused", ErrorKind::Refused),
            (104, "connection reset by peer", ErrorKind::Reset),
            (32, "broken pipe", ErrorKind::BrokenPipe),
            (2, "no such file or directory", ErrorKind::Os),
            (99, "cannot assign requested address", ErrorKind::Os),
            (101, "network is unreachable", ErrorKind::Os),
            (98, "address already in use", ErrorKind::Os),
            (13, "permission denied", ErrorKind::Os),
            (90, "message too long", ErrorKind::Os),
            (110, "connection timed out", ErrorKind::Os),
            (113, "no route to host", ErrorKind::Os),
            (107, "transport endpoint is not connected", ErrorKind::Os),
            (11, "resource temporarily unavailable", ErrorKind::Os),
            (0, "error", ErrorKind::Os),
        ];
        for &(code, text, kind) in cases {
            let e = Error::from_os(code);
            assert_eq!(e.to_string(), text, "errno {code}");
            assert_eq!(e.kind(), kind, "errno {code}");
            assert_eq!(e.raw_os_error(), Some(code));
            assert!(e.partial().is_none());
            // The same through io::Error, as a backend hands it over.
            let via_io = Error::from(io::Error::from_raw_os_error(code));
            assert_eq!(via_io, e);
        }
    }

    #[test]
    fn io_errors_without_errno_are_lower_cased() {
        let e = Error::from(io::Error::other("Weird Failure"));
        assert_eq!(e.to_string(), "weird failure");
        assert_eq!(e.kind(), ErrorKind::Os);
        assert!(!e.is_os());
        assert!(Error::from(io::Error::from(io::ErrorKind::TimedOut)).is_timeout());
        assert_eq!(
            Error::from(io::Error::from(io::ErrorKind::ConnectionReset)).to_string(),
            "connection reset by peer"
        );
    }

    #[test]
    fn round_trips_through_io_error() {
        let original = Error::timeout().with_partial(Bytes::from_static(b"xy"));
        let io_error: io::Error = original.clone().into();
        assert_eq!(io_error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(Error::from(io_error), original);
        let refused: io::Error = Error::from_os(111).into();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        let eof: io::Error = Error::eof(Bytes::new()).into();
        assert_eq!(eof.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
    }
}
