//! Replies, parsed from the receive buffer: each line borrowed
//! ([`receive_line_ref`](cosocket::StreamRead::receive_line_ref): no allocation), each
//! data block one `Bytes` of the buffer ([`receive_exact`](cosocket::StreamRead::receive_exact)),
//! its size checked against the limit before any of it is read.

use bytes::Bytes;
use cosocket::StreamRead;

use crate::command::Command;
use crate::error::{Error, Result};

/// An item of a `get` / `gets` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The key.
    pub key: Bytes,
    /// The flags stored with the value.
    pub flags: u32,
    /// The value.
    pub value: Bytes,
    /// The cas unique (`gets` only).
    pub cas: Option<u64>,
}

/// A command's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The items found, in the order the server sent them.
    Items(Vec<Item>),
    /// `STORED`.
    Stored,
    /// `NOT_STORED`: an `add` of an existing key, a `replace` / `append` / `prepend` of a
    /// missing one.
    NotStored,
    /// `EXISTS`: a `cas` whose item changed since its `gets`.
    Exists,
    /// `NOT_FOUND`.
    NotFound,
    /// `DELETED`.
    Deleted,
    /// `TOUCHED`.
    Touched,
    /// The new value of an `incr` / `decr`.
    Number(u64),
    /// `OK` (`flush_all`, `verbosity`).
    Ok,
    /// `VERSION <text>`.
    Version(String),
    /// `STAT <name> <value>` lines.
    Stats(Vec<(String, String)>),
}

fn protocol(what: impl Into<String>) -> Error {
    Error::Protocol(what.into())
}

fn unexpected(line: &[u8]) -> Error {
    protocol(format!(
        "unexpected line {:?}",
        String::from_utf8_lossy(line)
    ))
}

/// The error lines any command may get (one line each: the connection stays in step).
fn error_line(line: &[u8]) -> Option<Error> {
    let text = |rest: &[u8]| String::from_utf8_lossy(rest).into_owned();
    if line == b"ERROR" {
        Some(Error::UnknownCommand)
    } else if let Some(rest) = line.strip_prefix(b"CLIENT_ERROR ") {
        Some(Error::Client(text(rest)))
    } else {
        line.strip_prefix(b"SERVER_ERROR ")
            .map(|rest| Error::Server(text(rest)))
    }
}

fn number<T: std::str::FromStr>(word: Option<&[u8]>, what: &str) -> Result<T> {
    // memcached's numbers are unsigned decimals; `str::parse` alone would take a `+`.
    word.filter(|w| !w.is_empty() && w.iter().all(u8::is_ascii_digit))
        .and_then(|w| std::str::from_utf8(w).ok())
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| protocol(format!("a bad {what}")))
}

/// Reads the reply to `cmd`. `Ok(Err(_))` is the server's error line (the connection in
/// step); `Err(_)` a transport, protocol or limit error (the connection out of step).
pub(crate) async fn read_reply<S: StreamRead>(
    sock: &mut S,
    cmd: &Command<'_>,
    max_value: usize,
) -> Result<Result<Reply>> {
    let line = sock.receive_line_ref().await?;
    if let Some(e) = error_line(line) {
        return Ok(Err(e));
    }
    let reply = match cmd {
        Command::Get(keys, _) => {
            let mut items = Vec::new();
            let mut line = line;
            loop {
                if line == b"END" {
                    break;
                }
                let Some(rest) = line.strip_prefix(b"VALUE ") else {
                    return Err(unexpected(line));
                };
                let mut words = rest.split(|&b| b == b' ');
                let key = Bytes::copy_from_slice(words.next().unwrap_or_default());
                let flags = number(words.next(), "flags")?;
                let len: usize = number(words.next(), "length")?;
                let cas = match words.next() {
                    Some(w) => Some(number(Some(w), "cas unique")?),
                    None => None,
                };
                if len > max_value {
                    return Err(Error::TooLarge(format!(
                        "a value of {len} bytes in a reply (the limit is {max_value})"
                    )));
                }
                // The value, then its CRLF borrowed: cutting the CRLF off one `Bytes`
                // would cost a shared header's allocation for a short (copied) value.
                let value = sock.receive_exact(len).await?;
                if sock.receive_exact_ref(2).await? != b"\r\n" {
                    return Err(protocol("a data block not ended by CRLF"));
                }
                if items.is_empty() {
                    items.reserve_exact(keys.len());
                }
                items.push(Item {
                    key,
                    flags,
                    value,
                    cas,
                });
                line = sock.receive_line_ref().await?;
            }
            Reply::Items(items)
        }
        Command::Store(..) => match line {
            b"STORED" => Reply::Stored,
            b"NOT_STORED" => Reply::NotStored,
            b"EXISTS" => Reply::Exists,
            b"NOT_FOUND" => Reply::NotFound,
            _ => return Err(unexpected(line)),
        },
        Command::Delete(_) => match line {
            b"DELETED" => Reply::Deleted,
            b"NOT_FOUND" => Reply::NotFound,
            _ => return Err(unexpected(line)),
        },
        Command::Arith(..) => match line {
            b"NOT_FOUND" => Reply::NotFound,
            digits => Reply::Number(number(Some(digits), "number").map_err(|_| unexpected(line))?),
        },
        Command::Touch(..) => match line {
            b"TOUCHED" => Reply::Touched,
            b"NOT_FOUND" => Reply::NotFound,
            _ => return Err(unexpected(line)),
        },
        Command::FlushAll(_) | Command::Verbosity(_) => match line {
            b"OK" => Reply::Ok,
            _ => return Err(unexpected(line)),
        },
        Command::Version => match line.strip_prefix(b"VERSION ") {
            Some(v) => Reply::Version(String::from_utf8_lossy(v).into_owned()),
            None => return Err(unexpected(line)),
        },
        Command::Stats(_) => {
            let mut stats = Vec::new();
            let mut line = line;
            while line != b"END" {
                let Some(rest) = line.strip_prefix(b"STAT ") else {
                    return Err(unexpected(line));
                };
                let text = String::from_utf8_lossy(rest);
                let (name, value) = text.split_once(' ').unwrap_or((&text, ""));
                stats.push((name.to_owned(), value.to_owned()));
                line = sock.receive_line_ref().await?;
            }
            Reply::Stats(stats)
        }
    };
    Ok(Ok(reply))
}
