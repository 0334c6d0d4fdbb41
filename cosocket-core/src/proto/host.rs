//! The host argument of `connect(host, port)` as nginx's URL parser reads it (spec §2.1,
//! §7, §11 cases 61, 63, 67): `unix:` paths, `[IPv6]`, IPv4 literals, and names for the
//! resolver — with nginx's error texts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::proto::error::{Error, ErrorKind, Result};

/// What a `connect` host argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// An IP literal: no resolution.
    Addr(SocketAddr),
    /// A host name for the context's resolver (`host` without any `:port` suffix).
    Name { host: String, port: u16 },
    /// `unix:PATH` (the prefix matched case-insensitively).
    Unix(PathBuf),
}

/// The longest Unix socket path: `sun_path` holds 108 bytes with the terminating NUL.
const SUN_PATH_MAX: usize = 107;

/// Parses `host` as `ngx_parse_url` does for the Lua module (`no_resolve` set, the port
/// argument as the default port).
pub(crate) fn parse(host: &str, port: u16) -> Result<Endpoint> {
    let bytes = host.as_bytes();
    if bytes.len() >= 5 && bytes[..5].eq_ignore_ascii_case(b"unix:") {
        return parse_unix(host);
    }
    if bytes.first() == Some(&b'[') {
        return parse_inet6(host, port);
    }
    parse_inet(host, port)
}

fn parse_error(host: &str, reason: &str) -> Error {
    Error::new(
        ErrorKind::HostParse,
        format!("failed to parse host name \"{host}\": {reason}"),
    )
}

/// `ngx_parse_unix_domain_url`: everything after `unix:` is the path.
fn parse_unix(host: &str) -> Result<Endpoint> {
    let path = &host[5..];
    if path.is_empty() {
        return Err(parse_error(host, "no path in the unix domain socket"));
    }
    if path.len() > SUN_PATH_MAX {
        return Err(parse_error(host, "too long path in the unix domain socket"));
    }
    Ok(Endpoint::Unix(PathBuf::from(path)))
}

/// Whether `connect`'s host argument names a host to resolve (not an IP literal or a
/// `unix:` path): the default TLS server name of the one-call form.
#[cfg(feature = "tls")]
pub(crate) fn is_dns_name(host: &str) -> bool {
    matches!(parse(host, 0), Ok(Endpoint::Name { .. }))
}

/// The IP address of `bind(ip [, port])` (spec §8.2) for stream and datagram sockets:
/// anything that is not an IP literal is `bad address`.
pub(crate) fn parse_bind_ip(ip: &str) -> Result<IpAddr> {
    ip.parse()
        .map_err(|_| Error::new(ErrorKind::InvalidArgument, "bad address"))
}

/// nginx's checks of a `unix:` host for a path given on its own (the socket layer's
/// `connect_unix`), with the texts of
/// `connect("unix:" .. path)` (spec §7).
pub(crate) fn check_unix_path(path: &Path) -> Result<()> {
    let reason = match path.as_os_str().len() {
        0 => "no path in the unix domain socket",
        n if n > SUN_PATH_MAX => "too long path in the unix domain socket",
        _ => return Ok(()),
    };
    Err(parse_error(&format!("unix:{}", path.display()), reason))
}

/// `ngx_atoi` over a port text, with nginx's range check (`1..=65535`).
fn port_text(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Leading zeros are digits like any other to ngx_atoi; overflow is an error.
    let n = text.bytes().try_fold(0u32, |n, b| {
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })?;
    u16::try_from(n).ok().filter(|&p| p != 0)
}

/// `ngx_parse_inet_url`: the first `:` starts a port (validated, then ignored: the Lua
/// module connects to the port argument), `/` or `?` make the host invalid.
fn parse_inet(host: &str, port: u16) -> Result<Endpoint> {
    let uri = host.find(['/', '?']);
    if uri.is_some() {
        return Err(parse_error(host, "invalid host"));
    }
    let name = match host.find(':') {
        Some(colon) => {
            if port_text(&host[colon + 1..]).is_none() {
                return Err(parse_error(host, "invalid port"));
            }
            &host[..colon]
        }
        None => host,
    };
    if name.is_empty() {
        return Err(parse_error(host, "no host"));
    }
    // nginx's resolver takes IPv4 literals itself (`ngx_inet_addr`); everything else is a
    // name, even all-digit text like "12345" (spec §11 case 61).
    Ok(match inet_addr(name) {
        Some(ip) => Endpoint::Addr(SocketAddr::new(IpAddr::V4(ip), port)),
        None => Endpoint::Name {
            host: name.to_owned(),
            port,
        },
    })
}

/// `ngx_parse_inet6_url`: `[v6]` or `[v6]:port` (this port is used, as nginx stores it in
/// the parsed address).
fn parse_inet6(host: &str, port: u16) -> Result<Endpoint> {
    let Some(close) = host.find(']') else {
        return Err(parse_error(host, "invalid host"));
    };
    let rest = &host[close + 1..];
    if rest.contains('/') {
        return Err(parse_error(host, "invalid host"));
    }
    let port = if rest.is_empty() {
        port
    } else {
        let Some(text) = rest.strip_prefix(':') else {
            return Err(parse_error(host, "invalid host"));
        };
        port_text(text).ok_or_else(|| parse_error(host, "invalid port"))?
    };
    let literal = &host[1..close];
    if literal.is_empty() {
        return Err(parse_error(host, "no host"));
    }
    let ip: Ipv6Addr = literal
        .parse()
        .map_err(|_| parse_error(host, "invalid IPv6 address"))?;
    // A v4-mapped address connects over IPv4, as nginx switches the family.
    let ip = match ip.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(ip),
    };
    Ok(Endpoint::Addr(SocketAddr::new(ip, port)))
}

/// `ngx_inet_addr`: four dot-separated decimal octets, each at most 255 (empty octets count
/// as 0, leading zeros are plain digits).
fn inet_addr(text: &str) -> Option<Ipv4Addr> {
    let mut addr: u32 = 0;
    let mut octet: u32 = 0;
    let mut dots = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => {
                octet = octet * 10 + u32::from(b - b'0');
                if octet > 255 {
                    return None;
                }
            }
            b'.' => {
                addr = (addr << 8) + octet;
                octet = 0;
                dots += 1;
                if dots > 3 {
                    return None;
                }
            }
            _ => return None,
        }
    }
    (dots == 3).then(|| Ipv4Addr::from((addr << 8) + octet))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(host: &str, port: u16) -> String {
        parse(host, port).unwrap_err().to_string()
    }

    #[test]
    fn nginx_texts_of_spec_case_61_and_67() {
        assert_eq!(err("", 80), r#"failed to parse host name "": no host"#);
        assert_eq!(
            err("::1", 1),
            r#"failed to parse host name "::1": invalid port"#
        );
        assert_eq!(
            err("unix:", 0),
            r#"failed to parse host name "unix:": no path in the unix domain socket"#
        );
        let long = format!("unix:/{}", "x".repeat(200));
        assert_eq!(
            err(&long, 0),
            format!(
                r#"failed to parse host name "{long}": too long path in the unix domain socket"#
            )
        );
        assert_eq!(
            parse("example.invalid", 80).unwrap(),
            Endpoint::Name {
                host: "example.invalid".into(),
                port: 80
            }
        );
        assert_eq!(
            parse("12345", 80).unwrap(),
            Endpoint::Name {
                host: "12345".into(),
                port: 80
            }
        );
    }

    #[test]
    fn unix_paths_given_on_their_own() {
        assert_eq!(
            check_unix_path(Path::new("")).unwrap_err().to_string(),
            r#"failed to parse host name "unix:": no path in the unix domain socket"#
        );
        let long = format!("/{}", "x".repeat(200));
        assert_eq!(
            check_unix_path(Path::new(&long)).unwrap_err().to_string(),
            format!(
                r#"failed to parse host name "unix:{long}": too long path in the unix domain socket"#
            )
        );
        assert!(check_unix_path(Path::new(&long[..SUN_PATH_MAX])).is_ok());
    }

    #[test]
    fn literals_and_unix_paths() {
        assert_eq!(
            parse("127.0.0.1", 6379).unwrap(),
            Endpoint::Addr("127.0.0.1:6379".parse().unwrap())
        );
        assert_eq!(
            parse("[::1]", 8080).unwrap(),
            Endpoint::Addr("[::1]:8080".parse().unwrap())
        );
        assert_eq!(
            parse("[::1]:81", 8080).unwrap(),
            Endpoint::Addr("[::1]:81".parse().unwrap())
        );
        assert_eq!(
            parse("[::ffff:127.0.0.1]", 1).unwrap(),
            Endpoint::Addr("127.0.0.1:1".parse().unwrap())
        );
        assert_eq!(
            parse("UNIX:/tmp/x.sock", 0).unwrap(),
            Endpoint::Unix("/tmp/x.sock".into())
        );
        // The embedded port is validated, then the argument is used.
        assert_eq!(
            parse("127.0.0.1:9", 80).unwrap(),
            Endpoint::Addr("127.0.0.1:80".parse().unwrap())
        );
        // A path without `unix:` is a host name.
        assert!(
            matches!(parse("/tmp/x.sock", 80), Err(e) if e.to_string().ends_with("invalid host"))
        );
    }

    #[test]
    fn malformed_hosts() {
        assert_eq!(
            err("127.0.0.1:0", 1),
            r#"failed to parse host name "127.0.0.1:0": invalid port"#
        );
        assert_eq!(
            err("h:65536", 1),
            r#"failed to parse host name "h:65536": invalid port"#
        );
        assert_eq!(err(":80", 1), r#"failed to parse host name ":80": no host"#);
        assert_eq!(
            err("[::1", 1),
            r#"failed to parse host name "[::1": invalid host"#
        );
        assert_eq!(
            err("[::1]x", 1),
            r#"failed to parse host name "[::1]x": invalid host"#
        );
        assert_eq!(
            err("[zz]", 1),
            r#"failed to parse host name "[zz]": invalid IPv6 address"#
        );
        assert_eq!(err("[]", 1), r#"failed to parse host name "[]": no host"#);
        assert_eq!(
            parse("h:65536", 1).unwrap_err().kind(),
            ErrorKind::HostParse
        );
    }

    #[test]
    fn inet_addr_is_nginx_s() {
        assert_eq!(inet_addr("10.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_addr("010.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_addr("1..2.3"), Some(Ipv4Addr::new(1, 0, 2, 3)));
        assert_eq!(inet_addr("256.0.0.1"), None);
        assert_eq!(inet_addr("1.2.3"), None);
        assert_eq!(inet_addr("1.2.3.4.5"), None);
        assert_eq!(inet_addr("localhost"), None);
    }
}
