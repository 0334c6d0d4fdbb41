//! A request, written by one vectored `send`: the request line, the headers and the body
//! are borrowed fragments (the body is never copied into a head buffer).

use std::borrow::Cow;

use cosocket::{FragmentList, Fragments};

use crate::error::{Error, Result};
use crate::url::Url;

/// An HTTP/1.1 request.
///
/// `Host` is added from the URL; `Content-Length` from the body (for a method that has one
/// or a non-empty body); `User-Agent` from the client unless set here.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub(crate) method: Cow<'a, str>,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub(crate) body: &'a [u8],
    pub(crate) http10: bool,
}

impl<'a> Request<'a> {
    /// A request of `method` for `url`; a bad method or URL is an [`Error::Input`].
    pub fn new(method: impl Into<Cow<'a, str>>, url: &str) -> Result<Self> {
        let method = method.into();
        if method.is_empty() || !method.bytes().all(is_token) {
            return Err(Error::Input(format!("bad method {method:?}")));
        }
        Ok(Self {
            method,
            url: Url::parse(url)?,
            headers: Vec::new(),
            body: &[],
            http10: false,
        })
    }

    /// A `GET` request.
    pub fn get(url: &str) -> Result<Self> {
        Self::new("GET", url)
    }

    /// A `HEAD` request: the response has headers and no body.
    pub fn head(url: &str) -> Result<Self> {
        Self::new("HEAD", url)
    }

    /// A `POST` request with `body`.
    pub fn post(url: &str, body: &'a [u8]) -> Result<Self> {
        Ok(Self::new("POST", url)?.body(body))
    }

    /// Adds a header; a name that is not a token or a value with CR, LF or NUL is an
    /// [`Error::Input`] (a header injection is never sent).
    pub fn header(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Result<Self> {
        let (name, value) = (name.into(), value.into());
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(Error::Input(format!("bad header name {name:?}")));
        }
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(Error::Input(format!("bad value for header {name}")));
        }
        if name.eq_ignore_ascii_case("host")
            || name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return Err(Error::Input(format!(
                "{name} is set by the client from the URL and the body"
            )));
        }
        self.headers.push((name, value));
        Ok(self)
    }

    /// The body (sent with its `Content-Length`).
    #[must_use]
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    /// Sends the request as HTTP/1.0: the server closes the connection after its response,
    /// whose body may then run until the close.
    #[must_use]
    pub fn http10(mut self) -> Self {
        self.http10 = true;
        self
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Whether the request asks the server to close (`Connection: close`, or HTTP/1.0
    /// without `keep-alive`).
    pub(crate) fn wants_close(&self) -> bool {
        let connection = self.header_value("connection");
        let says = |word: &str| {
            connection.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(word)))
        };
        if self.http10 {
            !says("keep-alive")
        } else {
            says("close")
        }
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// The request with the client's defaults, ready to send.
    pub(crate) fn wire<'r>(&'r self, user_agent: &'r str) -> Wire<'r, 'a> {
        Wire {
            request: self,
            user_agent: (self.header_value("user-agent").is_none()).then_some(user_agent),
        }
    }
}

/// RFC 9110's `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A request as its bytes on the wire.
#[derive(Debug)]
pub(crate) struct Wire<'r, 'a> {
    request: &'r Request<'a>,
    user_agent: Option<&'r str>,
}

impl Fragments for Wire<'_, '_> {
    fn write_to<'b>(&'b self, out: &mut FragmentList<'b>) {
        let r = self.request;
        out.push(r.method.as_bytes());
        out.push(b" ");
        out.push(r.url.target.as_bytes());
        out.push(if r.http10 {
            b" HTTP/1.0\r\nHost: "
        } else {
            b" HTTP/1.1\r\nHost: "
        });
        out.push(r.url.authority.as_bytes());
        out.push(b"\r\n");
        if let Some(agent) = self.user_agent {
            out.push(b"User-Agent: ");
            out.push(agent.as_bytes());
            out.push(b"\r\n");
        }
        for (name, value) in &r.headers {
            out.push(name.as_bytes());
            out.push(b": ");
            out.push(value.as_bytes());
            out.push(b"\r\n");
        }
        let has_body = !r.body.is_empty() || matches!(r.method.as_ref(), "POST" | "PUT" | "PATCH");
        if has_body {
            out.push(b"Content-Length: ");
            out.push_decimal(r.body.len());
            out.push(b"\r\n");
        }
        out.push(b"\r\n");
        out.push(r.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_request_on_the_wire() {
        let r = Request::post("http://h:8080/p?q", b"body")
            .unwrap()
            .header("X-A", "1")
            .unwrap();
        assert_eq!(
            FragmentList::of(&r.wire("agent")).to_bytes(),
            "POST /p?q HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: agent\r\nX-A: 1\r\n\
             Content-Length: 4\r\n\r\nbody"
        );
        let r = Request::get("http://h/").unwrap().http10();
        assert!(r.wants_close());
        assert_eq!(
            FragmentList::of(&r.wire("a")).to_bytes(),
            "GET / HTTP/1.0\r\nHost: h\r\nUser-Agent: a\r\n\r\n"
        );
    }

    #[test]
    fn refuses_injections() {
        assert!(Request::new("GE T", "http://h/").is_err());
        assert!(Request::new("", "http://h/").is_err());
        let r = Request::get("http://h/").unwrap();
        assert!(r.clone().header("X Y", "v").is_err());
        assert!(r.clone().header("X", "v\r\nEvil: 1").is_err());
        assert!(r.clone().header("Host", "other").is_err());
        assert!(r.header("Connection", "close").unwrap().wants_close());
    }
}
