//! What can go wrong, typed: a server's error reply is a value to match on; the transport's
//! error is cosocket's own (its kind and OpenResty's text); a reply that breaks the protocol
//! or a limit is a protocol error, after which the connection is closed, never pooled.

use std::fmt;

use bytes::Bytes;

/// A Redis error reply (`-ERR unknown command`, `-WRONGTYPE …`, `-MOVED …`): the first word
/// is its code, by Redis's convention.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerError {
    text: Bytes,
}

impl ServerError {
    /// An error reply's text, without the leading `-` (or a RESP3 blob error's bytes).
    pub fn new(text: Bytes) -> Self {
        Self { text }
    }

    /// The code: the text up to the first space (`ERR`, `WRONGTYPE`, `NOAUTH`, …).
    pub fn code(&self) -> &str {
        let text = self.text();
        text.split(' ').next().unwrap_or_default()
    }

    /// The whole text (`ERR unknown command 'FOO'…`), lossily decoded.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or("<non-UTF-8 error reply>")
    }

    /// The text's bytes, as the server sent them.
    pub fn as_bytes(&self) -> &Bytes {
        &self.text
    }
}

impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerError({:?})", self.text())
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for ServerError {}

/// Every error of this crate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error reply; the connection is in step and is pooled.
    Server(ServerError),
    /// The connection failed, timed out or was closed: cosocket's error, with its
    /// [`kind`](cosocket::Error::kind) and OpenResty's text. The connection is closed.
    Transport(cosocket::Error),
    /// The reply broke RESP (an unknown type byte, a bad length, a missing CRLF): the
    /// connection is closed.
    Protocol(String),
    /// A reply exceeded a [`Limits`](crate::Limits) bound: the connection is closed.
    TooLarge(String),
    /// The request was refused before anything was sent (an empty command, an argument
    /// over the protocol's 512 MiB, an empty pipeline).
    Input(String),
    /// A typed helper got a reply of another type than the command returns.
    UnexpectedReply(String),
    /// `set_keepalive` on a connection that is subscribed to channels (lua-resty-redis's
    /// `subscribed state`): unsubscribe first, or close it.
    Subscribed,
    /// A request on this connection was cancelled (its future dropped) after it was sent
    /// and before its whole reply was read: the reply would reach the next request, so the
    /// connection refuses work and is closed.
    Unusable,
}

impl Error {
    /// The server error, if this is one.
    pub fn as_server(&self) -> Option<&ServerError> {
        match self {
            Self::Server(e) => Some(e),
            _ => None,
        }
    }

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

    /// Whether the connection stays in step after this error (only a server's error reply
    /// leaves it so).
    pub(crate) fn keeps_connection(&self) -> bool {
        matches!(self, Self::Server(_) | Self::UnexpectedReply(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Server(e) => write!(f, "{e}"),
            Self::Transport(e) => write!(f, "{e}"),
            Self::Protocol(what) => write!(f, "protocol error: {what}"),
            Self::TooLarge(what) => write!(f, "reply too large: {what}"),
            Self::Input(what) => write!(f, "bad request: {what}"),
            Self::UnexpectedReply(what) => write!(f, "unexpected reply: {what}"),
            Self::Subscribed => f.write_str("subscribed state"),
            Self::Unusable => {
                f.write_str("connection unusable: a cancelled request left its reply unread")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Server(e) => Some(e),
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

impl From<ServerError> for Error {
    fn from(e: ServerError) -> Self {
        Self::Server(e)
    }
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
