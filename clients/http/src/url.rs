//! The URLs an HTTP/1.1 client needs: `http://` and `https://`, a host (a name, an IPv4
//! address or a bracketed IPv6 one), an optional port and a path with its query. Anything
//! else is refused before a connection is made.

use crate::error::{Error, Result};

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https://`.
    pub tls: bool,
    /// The host as the connect takes it (no brackets around IPv6).
    pub host: String,
    /// The port (80 or 443 when the URL has none).
    pub port: u16,
    /// The path and query (`/` when the URL has none); the fragment is dropped.
    pub target: String,
    /// What `Host:` says (the port only when it is not the scheme's default).
    pub authority: String,
}

impl Url {
    /// Parses `url`.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::Input(format!("bad URL {url:?}: {why}"));
        let (tls, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else {
            return Err(bad("only http:// and https:// are supported"));
        };
        if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("spaces and control characters are not allowed"));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(bad("user information is not supported"));
        }
        let default = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let close = v6.find(']').ok_or_else(|| bad("an unclosed '['"))?;
            let host = &v6[..close];
            match &v6[close + 1..] {
                "" => (host, None),
                p => (
                    host,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => default,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("a bad port"))?,
        };
        let target = tail.split('#').next().unwrap_or_default();
        let target = match target {
            "" => "/".to_owned(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_owned(),
        };
        let host_text = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let authority = if port == default {
            host_text
        } else {
            format!("{host_text}:{port}")
        };
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
            target,
            authority,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_a_client_meets() {
        let u = Url::parse("http://example.test/a/b?c=d#frag").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port),
            (false, "example.test", 80)
        );
        assert_eq!(
            (u.target.as_str(), u.authority.as_str()),
            ("/a/b?c=d", "example.test")
        );
        let u = Url::parse("https://127.0.0.1:8443").unwrap();
        assert_eq!((u.tls, u.port, u.target.as_str()), (true, 8443, "/"));
        assert_eq!(u.authority, "127.0.0.1:8443");
        let u = Url::parse("http://[::1]:8080?x").unwrap();
        assert_eq!((u.host.as_str(), u.target.as_str()), ("::1", "/?x"));
        assert_eq!(u.authority, "[::1]:8080");
        assert_eq!(Url::parse("https://h:443/").unwrap().authority, "h");
    }

    #[test]
    fn refuses_what_it_cannot_send() {
        for url in [
            "ftp://h/",
            "http://",
            "http://h:0/",
            "http://h:99999/",
            "http://h/a b",
            "http://h/\r\nX: y",
            "http://u:p@h/",
            "http://[::1/",
        ] {
            assert!(matches!(Url::parse(url), Err(Error::Input(_))), "{url}");
        }
    }
}
