//! What can go wrong, typed.

use std::fmt;

/// Every error of this crate.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status (4xx, 5xx), from
    /// [`Response::error_for_status`](crate::Response::error_for_status): a value to match
    /// on (`Error::Status { status: 500..=599, .. }`).
    Status {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The connection failed, timed out or was closed early: cosocket's error, with its
    /// [`kind`](cosocket::Error::kind) and OpenResty's text. The connection is closed.
    Transport(cosocket::Error),
    /// The response broke HTTP/1.1 (a bad status line, header, length or chunk size): the
    /// connection is closed.
    Protocol(String),
    /// A response exceeded a [`Limits`](crate::Limits) bound: the connection is closed.
    TooLarge(String),
    /// The request was refused before anything was sent (a bad URL, method or header).
    Input(String),
    /// A body was still being read when its future was dropped, or the response was not
    /// read to its end: the connection is closed, never reused.
    Unusable,
}

impl Error {
    /// cosocket's error, if this is a transport error.
    pub fn as_transport(&self) -> Option<&cosocket::Error> {
        match self {
            Self::Transport(e) => Some(e),
            _ => None,
        }
    }

    /// Whether this is a transport timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Transport(e) if e.kind() == cosocket::ErrorKind::Timeout)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { status, reason } => write!(f, "HTTP status {status} {reason}"),
            Self::Transport(e) => write!(f, "{e}"),
            Self::Protocol(what) => write!(f, "protocol error: {what}"),
            Self::TooLarge(what) => write!(f, "response too large: {what}"),
            Self::Input(what) => write!(f, "bad request: {what}"),
            Self::Unusable => {
                f.write_str("connection unusable: a response was not read to its end")
            }
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

impl From<cosocket::Error> for Error {
    fn from(e: cosocket::Error) -> Self {
        Self::Transport(e)
    }
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
