//! A reply, as RESP2 and RESP3 give it.

use bytes::Bytes;

use crate::error::{Error, Result, ServerError};

/// One reply. RESP2 has the first six kinds; RESP3 (after `HELLO 3`) adds the rest.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A null: RESP2's `$-1` and `*-1`, RESP3's `_`.
    Nil,
    /// `:` an integer.
    Int(i64),
    /// `+` a simple string (`OK`, `PONG`, `QUEUED`).
    Status(Bytes),
    /// `$` a bulk string: shares the receive buffer's block, no copy when it is large.
    Bulk(Bytes),
    /// `*` an array.
    Array(Vec<Self>),
    /// `-` (or RESP3's `!`) an error reply inside an array: a pipeline's or `EXEC`'s
    /// failed command. A top-level error reply is [`Error::Server`] instead.
    Error(ServerError),
    /// `,` a double (RESP3).
    Double(f64),
    /// `#` a boolean (RESP3).
    Boolean(bool),
    /// `(` a big number's decimal digits (RESP3).
    BigNumber(Bytes),
    /// `=` a verbatim string (RESP3): its three-byte format (`txt`, `mkd`) and its text.
    Verbatim([u8; 3], Bytes),
    /// `%` a map (RESP3), its pairs in the order sent.
    Map(Vec<(Self, Self)>),
    /// `~` a set (RESP3).
    Set(Vec<Self>),
    /// `>` a push (RESP3): a published message or an invalidation, out of band.
    Push(Vec<Self>),
}

impl Value {
    /// The bytes of a bulk, simple or verbatim string.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Self::Bulk(b) | Self::Status(b) | Self::Verbatim(_, b) | Self::BigNumber(b) => Some(b),
            _ => None,
        }
    }

    /// The integer of an `Int`, or of a string holding a decimal integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            Self::Bulk(b) | Self::Status(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// The elements of an array, set or push.
    pub fn as_array(&self) -> Option<&[Self]> {
        match self {
            Self::Array(v) | Self::Set(v) | Self::Push(v) => Some(v),
            _ => None,
        }
    }

    /// Whether this is [`Value::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Self::Nil)
    }

    /// Whether this is the status `OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Status(s) if s.as_ref() == b"OK")
    }

    /// An error reply inside as `Err`, anything else as `Ok`.
    pub fn into_result(self) -> Result<Self> {
        match self {
            Self::Error(e) => Err(Error::Server(e)),
            v => Ok(v),
        }
    }

    /// A bulk or simple string as owned bytes; `None` for a nil; an error otherwise.
    pub(crate) fn into_opt_bytes(self, command: &str) -> Result<Option<Bytes>> {
        match self {
            Self::Nil => Ok(None),
            Self::Bulk(b) | Self::Status(b) | Self::Verbatim(_, b) => Ok(Some(b)),
            other => Err(unexpected(command, &other)),
        }
    }

    /// An integer reply.
    pub(crate) fn into_int(self, command: &str) -> Result<i64> {
        match self {
            Self::Int(n) => Ok(n),
            other => Err(unexpected(command, &other)),
        }
    }

    /// An array (a RESP3 set or push too) of elements.
    pub(crate) fn into_vec(self, command: &str) -> Result<Vec<Self>> {
        match self {
            Self::Array(v) | Self::Set(v) | Self::Push(v) => Ok(v),
            other => Err(unexpected(command, &other)),
        }
    }
}

/// The error of a typed helper that got `value`.
pub(crate) fn unexpected(command: &str, value: &Value) -> Error {
    Error::UnexpectedReply(format!("{command} answered {value:?}"))
}
