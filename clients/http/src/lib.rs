//! # cosocket-http
//!
//! An HTTP/1.1 client on [cosocket](https://docs.rs/cosocket), written against its public
//! traits only, so it runs on any backend (tokio, smol, a third party's) with the same
//! behaviour, the way OpenResty's HTTP clients are written on cosockets: a request is one
//! vectored `send` (head and body, the body never copied), the response's head is parsed
//! line by line from the receive buffer, and the body is streamed in pieces as they
//! arrive, whatever its framing (`Content-Length`, `chunked`, or until the server closes).
//!
//! Connections come from the context's keepalive pool and go back when a body has been
//! read to its end, unless either side said `Connection: close`; a response dropped
//! before its end, an error or a timeout closes the connection, so a late body never
//! reaches the next request. HTTPS (feature `tls`, on by default) verifies the server by
//! default.
//!
//! ```no_run
//! # async fn demo<C: cosocket::Cosockets>(cx: C) -> cosocket_http::Result<()> {
//! use cosocket_http::{Config, Http};
//!
//! let http = Http::new(cx, Config::new());
//! let mut response = http.get("http://127.0.0.1:8080/big.iso").await?.error_for_status()?;
//! let mut total = 0;
//! while let Some(piece) = response.chunk().await? {
//!     total += piece.len();
//! }
//! let page = http.get("http://127.0.0.1:8080/").await?.text().await?;
//! # Ok(()) }
//! ```

mod client;
mod error;
mod request;
mod response;
mod url;

pub use client::{Config, Http};
pub use error::{Error, Result};
pub use request::Request;
pub use response::{Limits, Response};
pub use url::Url;

/// For the fuzz targets; not part of the API: the head parser and a response over any
/// stream.
#[doc(hidden)]
pub mod fuzzing {
    use cosocket::{StreamSock, Timeout};

    use crate::response::{Head, Keepalive};
    use crate::{Limits, Response, Result};

    /// A head: version (1: HTTP/1.1, 0: HTTP/1.0), status, reason, headers.
    pub type Parts = (u8, u16, String, Vec<(String, String)>);

    /// Reads a head (skipping interim 1xx responses) from `sock`.
    pub async fn read_head<S: StreamSock>(sock: &mut S, limits: &Limits) -> Result<Parts> {
        let head = crate::response::read_head(sock, limits).await?;
        Ok((head.version, head.status, head.reason, head.headers))
    }

    /// The response to a `method` request with this head, its body to be read from `sock`
    /// (a reusable connection: it is given back with `set_keepalive` at the body's end).
    pub fn response<S: StreamSock>(
        sock: S,
        method: &str,
        (version, status, reason, headers): Parts,
        limits: Limits,
    ) -> Result<Response<S>> {
        let head = Head {
            version,
            status,
            reason,
            headers,
        };
        let keepalive = Keepalive {
            reusable: true,
            idle: Timeout::Directive,
            pool_size: None,
        };
        Response::new(sock, method, head, keepalive, limits)
    }
}
