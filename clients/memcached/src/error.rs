//! What can go wrong, typed: the server's error lines are values to match on; the
//! transport's error is cosocket's own; a reply that breaks the protocol or a limit is a
//! protocol error, after which the connection is closed, never pooled.

use std::fmt;

/// Every error of this crate.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `SERVER_ERROR <message>`: the server failed (out of memory, an object too large for
    /// its item size). The connection stays in step and is pooled.
    Server(String),
    /// `CLIENT_ERROR <message>`: the server refused the command (incr on a non-numeric
    /// value, a bad format). The connection stays in step and is pooled.
    Client(String),
    /// `ERROR`: the server does not know the command.
    UnknownCommand,
    /// The connection failed, timed out or was closed: cosocket's error, with its
    /// [`kind`](cosocket::Error::kind) and OpenResty's text. The connection is closed.
    Transport(cosocket::Error),
    /// The reply broke the protocol (an unknown line, a bad length, a data block not
    /// ended by CRLF): the connection is closed.
    Protocol(String),
    /// A value larger than [`Config::max_value`](crate::Config::max_value). Refused
    /// before anything is sent when it is ours (a storage command); when a reply's `VALUE`
    /// header announces it, refused before its data block is read, and the connection,
    /// with that block still unread, is closed.
    TooLarge(String),
    /// A key that memcached would refuse (empty, over 250 bytes, with a space or a
    /// control byte): nothing was sent.
    InvalidKey(String),
    /// Another request refused before anything was sent (a multi-get of no key, an empty
    /// pipeline, a bad `stats` argument).
    Input(String),
    /// A request on this connection was cancelled after it was sent and before its reply
    /// was read: the connection refuses more work and is closed.
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

    /// Whether the connection is in step after this error (the server answered).
    pub(crate) fn keeps_connection(&self) -> bool {
        matches!(
            self,
            Self::Server(_) | Self::Client(_) | Self::UnknownCommand
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Server(m) => write!(f, "SERVER_ERROR {m}"),
            Self::Client(m) => write!(f, "CLIENT_ERROR {m}"),
            Self::UnknownCommand => f.write_str("ERROR"),
            Self::Transport(e) => write!(f, "{e}"),
            Self::Protocol(what) => write!(f, "protocol error: {what}"),
            Self::TooLarge(what) => write!(f, "too large: {what}"),
            Self::InvalidKey(what) => write!(f, "invalid key: {what}"),
            Self::Input(what) => write!(f, "bad request: {what}"),
            Self::Unusable => {
                f.write_str("connection unusable: a cancelled request left its reply unread")
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
