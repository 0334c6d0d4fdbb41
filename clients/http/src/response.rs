//! A response: its head, parsed line by line from the receive buffer (each line borrowed,
//! never copied but for the headers kept), and its body, streamed in chunks as it arrives
//! (`Content-Length`, `chunked`, or until the server closes: RFC 9112 §6.3).
//!
//! Every read of the body is one cancel-safe cosocket read, and the body's state changes
//! only after a read completes, so a dropped [`Response::chunk`] future loses nothing: the
//! next call goes on where it was. The connection goes back to the pool when the body's
//! end is read, if both sides allow it; dropping a response before that closes it.

use std::num::NonZeroUsize;

use bytes::{Bytes, BytesMut};
use cosocket::{ErrorKind, StreamSock, Timeout};

use crate::error::{Error, Result};

/// Bounds on what a response may hold; over one is an [`Error::TooLarge`] and the
/// connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest status, header, chunk-size or trailer line (default 16 KiB).
    pub max_line: usize,
    /// The most header (or trailer) lines (default 100).
    pub max_headers: usize,
    /// The largest body [`Response::bytes`] collects (default 64 MiB); a streamed body
    /// read with [`Response::chunk`] has no limit.
    pub max_body: usize,
    /// The most bytes one [`Response::chunk`] returns (default 64 KiB).
    pub chunk_size: NonZeroUsize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_line: 16 << 10,
            max_headers: 100,
            max_body: 64 << 20,
            chunk_size: NonZeroUsize::new(64 << 10).expect("non-zero"),
        }
    }
}

/// Where the body's end is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// This many bytes are left (`Content-Length`, or none for HEAD, 204, 304).
    Length(u64),
    /// `Transfer-Encoding: chunked`, at this point of a chunk.
    Chunked(Chunk),
    /// Until the server closes.
    UntilClose,
    /// Read to its end.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// A chunk-size line comes next.
    Size,
    /// This much chunk data is left.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// The trailer section, after the last chunk: this many lines read.
    Trailers(usize),
}

/// How the connection is given back after the body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keepalive {
    pub(crate) reusable: bool,
    pub(crate) idle: Timeout,
    pub(crate) pool_size: Option<NonZeroUsize>,
}

/// The parsed head of a response.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) version: u8,
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, String)>,
}

fn protocol(what: impl Into<String>) -> Error {
    Error::Protocol(what.into())
}

/// Reads a head (skipping interim 1xx responses) from `sock`.
pub(crate) async fn read_head<S: StreamSock>(sock: &mut S, limits: &Limits) -> Result<Head> {
    loop {
        let line = sock.receive_line_ref().await.map_err(line_error)?;
        let (version, status, reason) = status_line(line)?;
        let mut headers = Vec::new();
        loop {
            let line = sock.receive_line_ref().await.map_err(line_error)?;
            if line.is_empty() {
                break;
            }
            if headers.len() == limits.max_headers {
                return Err(Error::TooLarge(format!(
                    "more than {} header lines",
                    limits.max_headers
                )));
            }
            headers.push(header_line(line)?);
        }
        // 1xx (but 101, which this client never asks for) are interim: the final
        // response follows on the same connection.
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return Ok(Head {
            version,
            status,
            reason,
            headers,
        });
    }
}

/// A line read that failed: over the read limit is this crate's `TooLarge`.
fn line_error(e: cosocket::Error) -> Error {
    if e.kind() == ErrorKind::TooLarge {
        Error::TooLarge("a line over the limit".into())
    } else {
        Error::Transport(e)
    }
}

fn status_line(line: &[u8]) -> Result<(u8, u16, String)> {
    let text = std::str::from_utf8(line).map_err(|_| protocol("a non-UTF-8 status line"))?;
    let bad = || protocol(format!("bad status line {text:?}"));
    let (version, rest) = text.split_once(' ').ok_or_else(bad)?;
    let version = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => return Err(bad()),
    };
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let status = code.parse().map_err(|_| bad())?;
    if !(100..=999).contains(&status) {
        return Err(bad());
    }
    Ok((version, status, reason.to_owned()))
}

fn header_line(line: &[u8]) -> Result<(String, String)> {
    let text = String::from_utf8_lossy(line);
    if line.first().is_some_and(|b| matches!(b, b' ' | b'\t')) {
        // Obsolete line folding (RFC 9112 §5.2): refused, as a request smuggling vector.
        return Err(protocol("a folded header line"));
    }
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| protocol(format!("bad header line {text:?}")))?;
    if name.is_empty() || name.ends_with([' ', '\t']) {
        return Err(protocol(format!("bad header name {name:?}")));
    }
    Ok((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
}

/// A response; its body is read with [`chunk`](Self::chunk) or collected with
/// [`bytes`](Self::bytes) / [`text`](Self::text).
pub struct Response<S: StreamSock> {
    head: Head,
    body: Body,
    /// `None` once the body's end is read (the connection pooled or closed).
    sock: Option<S>,
    keepalive: Keepalive,
    limits: Limits,
}

impl<S: StreamSock> std::fmt::Debug for Response<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.head.status)
            .field("headers", &self.head.headers)
            .field("body", &self.body)
            .field("connected", &self.sock.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: StreamSock> Response<S> {
    /// The response to a request of `method` with `head`, on `sock`.
    pub(crate) fn new(
        sock: S,
        method: &str,
        head: Head,
        mut keepalive: Keepalive,
        limits: Limits,
    ) -> Result<Self> {
        let header = |name: &'static str| {
            head.headers
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let connection_says = |word: &'static str| {
            header("connection")
                .flat_map(|v| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(word))
        };
        let no_body =
            method == "HEAD" || head.status == 204 || head.status == 304 || head.status < 200;
        let body = if no_body {
            Body::Length(0)
        } else if let Some(te) = header("transfer-encoding").next_back() {
            // Chunked must be the final coding; any other is read until the close.
            let last = te.rsplit(',').next().unwrap_or_default().trim();
            if last.eq_ignore_ascii_case("chunked") {
                Body::Chunked(Chunk::Size)
            } else {
                Body::UntilClose
            }
        } else {
            let mut lengths = header("content-length").flat_map(|v| v.split(','));
            match lengths.next() {
                None => Body::UntilClose,
                Some(first) => {
                    let first = first.trim();
                    let n: u64 = first
                        .parse()
                        .ok()
                        .filter(|_| first.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| protocol(format!("bad Content-Length {first:?}")))?;
                    // Repeated lengths must agree (RFC 9110 §8.6).
                    if lengths.any(|other| other.trim() != first) {
                        return Err(protocol("conflicting Content-Length headers"));
                    }
                    Body::Length(n)
                }
            }
        };
        let server_keeps = if head.version == 1 {
            !connection_says("close")
        } else {
            connection_says("keep-alive")
        };
        keepalive.reusable &= server_keeps && body != Body::UntilClose;
        let mut response = Self {
            head,
            body,
            sock: Some(sock),
            keepalive,
            limits,
        };
        if response.body == Body::Length(0) {
            response.finish();
        }
        Ok(response)
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The reason phrase.
    pub fn reason(&self) -> &str {
        &self.head.reason
    }

    /// `"HTTP/1.1"` or `"HTTP/1.0"`.
    pub fn version(&self) -> &'static str {
        if self.head.version == 1 {
            "HTTP/1.1"
        } else {
            "HTTP/1.0"
        }
    }

    /// The headers, in order, as sent (names as the server spelled them).
    pub fn headers(&self) -> &[(String, String)] {
        &self.head.headers
    }

    /// The first header named `name` (case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is chunked.
    pub fn is_chunked(&self) -> bool {
        matches!(self.body, Body::Chunked(_))
            || self
                .header("transfer-encoding")
                .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
    }

    /// Whether the connection goes back to the pool after the body.
    pub fn is_reusable(&self) -> bool {
        self.keepalive.reusable
    }

    /// `Err(Error::Status)` for a 4xx or 5xx status (the connection is closed unless the
    /// body was read), the response itself otherwise.
    pub fn error_for_status(self) -> Result<Self> {
        if self.head.status >= 400 {
            return Err(Error::Status {
                status: self.head.status,
                reason: self.head.reason.clone(),
            });
        }
        Ok(self)
    }

    /// The next piece of the body (at most [`Limits::chunk_size`] bytes, as they
    /// arrived), or `None` at its end. Cancel safe.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        match self.next().await {
            Ok(chunk) => Ok(chunk),
            Err(e) => {
                // Out of step or broken: never reused.
                if let Some(mut sock) = self.sock.take() {
                    let _ = sock.close();
                }
                self.body = Body::Done;
                Err(e)
            }
        }
    }

    async fn next(&mut self) -> Result<Option<Bytes>> {
        let max = self.limits.chunk_size.get() as u64;
        loop {
            let Some(sock) = self.sock.as_mut() else {
                return Ok(None);
            };
            match self.body {
                Body::Done => return Ok(None),
                Body::Length(0) => {
                    self.finish();
                    return Ok(None);
                }
                Body::Length(left) => {
                    let bytes = sock.receive_any(to_usize(left.min(max))).await?;
                    let left = left - bytes.len() as u64;
                    self.body = Body::Length(left);
                    if left == 0 {
                        self.finish();
                    }
                    return Ok(Some(bytes));
                }
                Body::UntilClose => match sock.receive_any(to_usize(max)).await {
                    Ok(bytes) => return Ok(Some(bytes)),
                    Err(e) if e.kind() == ErrorKind::Eof => {
                        self.keepalive.reusable = false;
                        self.finish();
                        return Ok(None);
                    }
                    Err(e) => return Err(e.into()),
                },
                Body::Chunked(Chunk::Size) => {
                    let line = sock.receive_line_ref().await.map_err(line_error)?;
                    let size = chunk_size(line)?;
                    self.body = Body::Chunked(match size {
                        0 => Chunk::Trailers(0),
                        n => Chunk::Data(n),
                    });
                }
                Body::Chunked(Chunk::Data(left)) => {
                    let bytes = sock.receive_any(to_usize(left.min(max))).await?;
                    let left = left - bytes.len() as u64;
                    self.body = Body::Chunked(if left == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left)
                    });
                    return Ok(Some(bytes));
                }
                Body::Chunked(Chunk::DataEnd) => {
                    if sock.receive_exact_ref(2).await? != b"\r\n" {
                        return Err(protocol("chunk data not ended by CRLF"));
                    }
                    self.body = Body::Chunked(Chunk::Size);
                }
                Body::Chunked(Chunk::Trailers(n)) => {
                    let line = sock.receive_line_ref().await.map_err(line_error)?;
                    if line.is_empty() {
                        self.finish();
                        return Ok(None);
                    }
                    if n == self.limits.max_headers {
                        return Err(Error::TooLarge("too many trailer lines".into()));
                    }
                    self.body = Body::Chunked(Chunk::Trailers(n + 1));
                }
            }
        }
    }

    /// The whole body, at most [`Limits::max_body`] bytes (a `Content-Length` over it
    /// fails at once, before any of the body is read).
    pub async fn bytes(mut self) -> Result<Bytes> {
        let max = self.limits.max_body;
        let too_large = || Error::TooLarge(format!("a body over {max} bytes"));
        if let Body::Length(n) = self.body {
            if n > max as u64 {
                return Err(too_large());
            }
        }
        if let (Body::Length(n), Some(sock)) = (self.body, self.sock.as_mut()) {
            // The whole body in one read call: cosocket grows its buffer to the length and
            // reads with large `recv`s into one block, which becomes the `Bytes` (no copy
            // into a second buffer, no piece-by-piece reads). Cancel safe as `chunk`.
            // The body is bounded by `max_body`, checked above; lines stay bounded by
            // `max_line`.
            let n = to_usize(n);
            sock.set_read_limit(Some(n.max(self.limits.max_line)));
            let read = sock.receive_exact(n).await;
            sock.set_read_limit(Some(self.limits.max_line));
            let body = match read {
                Ok(body) => body,
                Err(e) => {
                    let _ = sock.close();
                    self.sock = None;
                    self.body = Body::Done;
                    return Err(e.into());
                }
            };
            self.finish();
            return Ok(body);
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            if body.is_empty() && self.body == Body::Done {
                // One piece was the whole body: no copy.
                return Ok(chunk);
            }
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The whole body as text (invalid UTF-8 replaced), at most [`Limits::max_body`].
    pub async fn text(self) -> Result<String> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads and drops the rest of the body, so the connection can be pooled.
    pub async fn drain(&mut self) -> Result<()> {
        while self.chunk().await?.is_some() {}
        Ok(())
    }

    /// The body's end is read: the connection goes back to the pool, or is closed.
    fn finish(&mut self) {
        self.body = Body::Done;
        let Some(mut sock) = self.sock.take() else {
            return;
        };
        sock.end_request();
        if self.keepalive.reusable {
            let _ = sock.set_keepalive(self.keepalive.idle, self.keepalive.pool_size);
        } else {
            let _ = sock.close();
        }
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A chunk-size line: hex digits, then maybe `;extensions` (ignored).
fn chunk_size(line: &[u8]) -> Result<u64> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = std::str::from_utf8(digits)
        .map_err(|_| protocol("a bad chunk size"))?
        .trim_matches([' ', '\t']);
    // Hex digits only (RFC 9112 §7.1): `from_str_radix` alone would take a leading `+`.
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(protocol(format!("bad chunk size {digits:?}")));
    }
    u64::from_str_radix(digits, 16).map_err(|_| protocol(format!("bad chunk size {digits:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_header_lines() {
        assert_eq!(
            status_line(b"HTTP/1.1 404 Not Found").unwrap(),
            (1, 404, "Not Found".to_owned())
        );
        assert_eq!(
            status_line(b"HTTP/1.0 200").unwrap(),
            (0, 200, String::new())
        );
        for bad in [
            &b"HTTP/2 200 OK"[..],
            b"HTTP/1.1 20 OK",
            b"HTTP/1.1 abc",
            b"junk",
        ] {
            assert!(status_line(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            header_line(b"Content-Type:  text/plain ").unwrap(),
            ("Content-Type".to_owned(), "text/plain".to_owned())
        );
        assert!(header_line(b" folded").is_err());
        assert!(header_line(b"Name : v").is_err());
        assert!(header_line(b"no colon").is_err());
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a").unwrap(), 26);
        assert_eq!(chunk_size(b"FF;name=value").unwrap(), 255);
        assert!(chunk_size(b"").is_err());
        assert!(chunk_size(b"zz").is_err());
        assert!(chunk_size(b"1234567890abcdef0").is_err());
        // Found by the `http_chunked` fuzz target: a sign is not a hex digit.
        assert!(chunk_size(b"+5").is_err());
        assert!(chunk_size(b"-5").is_err());
    }
}
