//! The client: options, the UDP and TCP exchanges, the convenience lookups and the
//! [`Resolve`] implementation.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cosocket::prelude::*;
use cosocket::{ConnectOptions, Resolve};
use futures::future::BoxFuture;

use crate::error::{Error, Result};
use crate::record::{Record, RecordData, RecordType};
use crate::wire::{HEADER_LEN, Question, Reply, parse_reply};

/// The largest UDP reply a server may send to a query without EDNS (RFC 1035 §4.2.1).
pub const UDP_SIZE: usize = 512;
/// How many CNAMEs in a row the lookups follow inside one answer before giving up.
const MAX_CNAME_CHAIN: usize = 16;

/// A [`DnsClient`]'s settings, lua-resty-dns's `new` options with its defaults.
///
/// ```
/// use std::time::Duration;
/// use cosocket_dns::Options;
/// let options = Options::new()
///     .nameserver("127.0.0.1", 53)
///     .nameserver("::1", 53)
///     .retrans(3)
///     .timeout(Duration::from_millis(500));
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    nameservers: Vec<(String, u16)>,
    retrans: usize,
    timeout: Duration,
    no_recurse: bool,
    random_start: bool,
    max_udp_size: usize,
    max_records: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            retrans: 5,
            timeout: Duration::from_secs(2),
            no_recurse: false,
            random_start: true,
            max_udp_size: UDP_SIZE,
            max_records: 1024,
        }
    }
}

impl Options {
    /// The defaults: no nameserver yet, 5 tries, 2 s per try, recursion desired, a random
    /// first nameserver, 512-byte UDP replies, at most 1024 answer records.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a nameserver: an IPv4 or IPv6 literal (`"::1"` or `"[::1]"`; names are not
    /// resolved: a resolver needs an address to start from) and its port (53 usually).
    /// [`DnsClient::new`] refuses anything else with [`Error::InvalidInput`].
    pub fn nameserver(mut self, ip: impl Into<String>, port: u16) -> Self {
        self.nameservers.push((ip.into(), port));
        self
    }

    /// How many tries a query makes, each to the next nameserver (lua-resty-dns's
    /// `retrans`, default 5, at least 1). A try ends with a timeout, an ICMP refusal or a
    /// refused or reset TCP connection; a server's answer (an error answer too) is final.
    pub fn retrans(mut self, tries: usize) -> Self {
        self.retrans = tries;
        self
    }

    /// The timeout of one try (default 2 s, lua-resty-dns's). A UDP try waits this long in
    /// total for its reply; a TCP try bounds its connect, its send and each read by it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Clears RD ("recursion desired", RFC 1035 §4.1.1) in queries, for asking an
    /// authoritative server only what it knows (lua-resty-dns's `no_recurse`).
    pub fn no_recurse(mut self, no_recurse: bool) -> Self {
        self.no_recurse = no_recurse;
        self
    }

    /// Whether the round robin starts at a random nameserver (the default, so that many
    /// clients made with one list spread their load) or at the first one listed
    /// (`false`: lua-resty-dns's `no_random = true`).
    pub fn random_start(mut self, random: bool) -> Self {
        self.random_start = random;
        self
    }

    /// The largest UDP reply accepted (default 512, from 512 to 65535). Queries carry no
    /// EDNS (RFC 6891), so a server must not send more than 512 bytes; a longer reply to
    /// the query is a protocol error, not silently cut.
    pub fn max_udp_size(mut self, size: usize) -> Self {
        self.max_udp_size = size;
        self
    }

    /// The most answer records a reply may hold (default 1024). A TCP reply is at most
    /// 65535 bytes, so a few thousand records at worst; the limit keeps a hostile server
    /// from making the client decode and allocate them all.
    pub fn max_records(mut self, records: usize) -> Self {
        self.max_records = records;
        self
    }
}

/// A DNS stub resolver on a cosocket context: queries over UDP with a random ID per try,
/// round robin over its nameservers, TCP when a reply is truncated (lua-resty-dns's
/// model).
///
/// Cheap to clone: clones share the settings and the round-robin position. Each query
/// uses sockets of its own, so one client serves any number of concurrent queries, and
/// dropping a query's future (a timeout around it, a `select`) closes them: a late reply
/// can never reach another query.
///
/// ```no_run
/// # async fn demo<C: cosocket::Cosockets>(cx: C) -> Result<(), cosocket_dns::Error> {
/// use cosocket_dns::{DnsClient, Options, RecordType, RecordData};
/// let dns = DnsClient::new(cx, Options::new().nameserver("127.0.0.1", 53))?;
/// for ip in dns.lookup_ipv4("www.example.com").await? {
///     println!("{ip}");
/// }
/// for r in dns.query("example.com", RecordType::Mx).await? {
///     if let RecordData::Mx { preference, exchange } = r.data {
///         println!("{preference} {exchange}");
///     }
/// }
/// # Ok(()) }
/// ```
pub struct DnsClient<C: Cosockets> {
    inner: Arc<Inner<C>>,
}

struct Inner<C> {
    cx: C,
    servers: Vec<SocketAddr>,
    /// The `udp` socket's host text of each server (`set_peer_name` takes text).
    server_hosts: Vec<String>,
    retrans: usize,
    timeout: Duration,
    recurse: bool,
    max_udp_size: usize,
    max_records: usize,
    /// The round-robin position: the next query's first nameserver.
    next: AtomicUsize,
}

impl<C: Cosockets> Clone for DnsClient<C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<C: Cosockets> fmt::Debug for DnsClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("DnsClient")
            .field("nameservers", &i.servers)
            .field("retrans", &i.retrans)
            .field("timeout", &i.timeout)
            .field("recurse", &i.recurse)
            .finish_non_exhaustive()
    }
}

impl<C: Cosockets> DnsClient<C> {
    /// A client that makes its sockets from `cx` (their timeouts are the client's own,
    /// not the context's directives).
    ///
    /// Errors ([`Error::InvalidInput`]): no nameserver, a nameserver that is not an IP
    /// literal or has port 0, zero tries, a zero timeout, a UDP size outside 512..=65535.
    pub fn new(cx: C, options: Options) -> Result<Self> {
        let bad = |text: String| Err(Error::InvalidInput(text));
        if options.nameservers.is_empty() {
            return bad("no nameserver given".into());
        }
        let mut servers = Vec::with_capacity(options.nameservers.len());
        for (host, port) in &options.nameservers {
            let literal = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let Ok(ip) = literal.parse::<IpAddr>() else {
                return bad(format!("nameserver {host:?} is not an IP address"));
            };
            if *port == 0 {
                return bad(format!("nameserver {host:?} has port 0"));
            }
            servers.push(SocketAddr::new(ip, *port));
        }
        if options.retrans == 0 {
            return bad("retrans is 0: a query needs at least one try".into());
        }
        if options.timeout.is_zero() {
            return bad("the timeout is zero".into());
        }
        if !(UDP_SIZE..=usize::from(u16::MAX)).contains(&options.max_udp_size) {
            return bad(format!(
                "max_udp_size {} is outside {UDP_SIZE}..=65535",
                options.max_udp_size
            ));
        }
        let start = if options.random_start {
            fastrand::usize(..servers.len())
        } else {
            0
        };
        let server_hosts = servers.iter().map(|a| a.ip().to_string()).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                cx,
                servers,
                server_hosts,
                retrans: options.retrans,
                timeout: options.timeout,
                recurse: !options.no_recurse,
                max_udp_size: options.max_udp_size,
                max_records: options.max_records,
                next: AtomicUsize::new(start),
            }),
        })
    }

    /// The nameservers, in the order given.
    pub fn nameservers(&self) -> &[SocketAddr] {
        &self.inner.servers
    }

    /// The answer section's records for `name` and `rtype`, over UDP (over TCP when the UDP
    /// reply is truncated). `name` may end with a dot; `.` is the root.
    ///
    /// An empty list is a name that exists without records of that type (NODATA). A
    /// CNAME answer lists the CNAME first and then the target's records (owned by the
    /// target's name); [`lookup_ipv4`](Self::lookup_ipv4) follows them for you.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future closes this query's socket and changes nothing
    /// else (the round-robin position has moved on, as for a completed query).
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<Vec<Record>> {
        let q = Question::new(name, rtype)?;
        self.exchange(&q, false).await
    }

    /// As [`query`](Self::query), but over TCP from the start (RFC 1035 §4.2.2: the two-byte
    /// length, then the message), for answers known to be large.
    pub async fn tcp_query(&self, name: &str, rtype: RecordType) -> Result<Vec<Record>> {
        let q = Question::new(name, rtype)?;
        self.exchange(&q, true).await
    }

    /// The IPv4 addresses of `name`: the A records of the name the answer's CNAME chain
    /// (if any) ends at. Empty if the name has none.
    pub async fn lookup_ipv4(&self, name: &str) -> Result<Vec<Ipv4Addr>> {
        let records = self.query(name, RecordType::A).await?;
        Ok(follow_cnames(name, &records)
            .filter_map(|d| match d {
                RecordData::A(ip) => Some(*ip),
                _ => None,
            })
            .collect())
    }

    /// The IPv6 addresses of `name`, as [`lookup_ipv4`](Self::lookup_ipv4) (AAAA records).
    pub async fn lookup_ipv6(&self, name: &str) -> Result<Vec<Ipv6Addr>> {
        let records = self.query(name, RecordType::Aaaa).await?;
        Ok(follow_cnames(name, &records)
            .filter_map(|d| match d {
                RecordData::Aaaa(ip) => Some(*ip),
                _ => None,
            })
            .collect())
    }

    /// The names `ip` points to: a PTR query for [`reverse_name`]`(ip)`.
    pub async fn reverse(&self, ip: IpAddr) -> Result<Vec<String>> {
        let name = reverse_name(ip);
        let records = self.query(&name, RecordType::Ptr).await?;
        Ok(follow_cnames(&name, &records)
            .filter_map(|d| match d {
                RecordData::Ptr(target) => Some(target.clone()),
                _ => None,
            })
            .collect())
    }

    /// Up to `retrans` tries, each to the next nameserver in the round robin.
    async fn exchange(&self, q: &Question, force_tcp: bool) -> Result<Vec<Record>> {
        let inner = &*self.inner;
        let n = inner.servers.len();
        // The round robin moves one server per query, and a query's retries go on around
        // the list from its first server. lua-resty-dns moves its cursor once per try; per
        // query, concurrent queries spread over the servers evenly whatever their retries.
        let start = inner.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut last = Error::Timeout;
        for i in 0..inner.retrans {
            let server = (start + i) % n;
            // A fresh random ID per try (RFC 5452 §9.2): a late reply to an earlier try,
            // or a guess by an off-path attacker, does not match. fastrand is not a
            // cryptographic generator; the fresh source port of each try's new socket
            // adds the other 16 bits RFC 5452 asks for.
            let id = fastrand::u16(..);
            let packet = q.packet(id, inner.recurse);
            let result = if force_tcp {
                self.tcp_try(server, id, q, &packet).await
            } else {
                match self.udp_try(server, id, q, &packet).await {
                    // RFC 1035 §4.2.1 / lua-resty-dns: a truncated reply is asked again
                    // over TCP, of the server that truncated it (it is up).
                    Ok(None) => self.tcp_try(server, id, q, &packet).await,
                    Ok(Some(records)) => Ok(records),
                    Err(e) => Err(e),
                }
            };
            match result {
                Err(e) if e.try_next_server() => last = e,
                done => return done,
            }
        }
        Err(last)
    }

    /// One UDP try: `Ok(None)` if the reply is truncated.
    async fn udp_try(
        &self,
        server: usize,
        id: u16,
        q: &Question,
        packet: &[u8],
    ) -> Result<Option<Vec<Record>>> {
        let inner = &*self.inner;
        let deadline = Instant::now() + inner.timeout;
        // A new socket per try, so a new source port: replies to an earlier try or
        // query (possibly cancelled) never arrive here.
        let mut sock = inner.cx.datagram();
        let addr = inner.servers[server];
        sock.set_peer_name(&inner.server_hosts[server], addr.port())
            .await
            .map_err(Error::transport)?;
        sock.send(packet).await.map_err(Error::transport)?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // (A zero timeout would mean the context's directive to cosocket.)
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            sock.set_timeout(left);
            // One byte more than allowed, to tell an oversized reply from a full one.
            let reply = sock
                .receive(inner.max_udp_size + 1)
                .await
                .map_err(Error::transport)?;
            if reply.len() >= 2 && reply[..2] != id.to_be_bytes() {
                continue;
            }
            if reply.len() > inner.max_udp_size {
                return Err(Error::protocol(format!(
                    "UDP reply longer than {} bytes",
                    inner.max_udp_size
                )));
            }
            match parse_reply(&reply, id, q, inner.max_records)? {
                // Keep listening until this try's deadline, never accept it (RFC 5452 §9.1).
                Reply::Mismatch => continue,
                Reply::Truncated => return Ok(None),
                Reply::Answer(records) => return Ok(Some(records)),
            }
        }
    }

    /// One TCP try (RFC 1035 §4.2.2): connect, the length-prefixed query, the
    /// length-prefixed reply, close.
    ///
    /// The connection is closed rather than pooled: TCP is the rare fallback for large
    /// answers, servers close idle DNS connections after a few seconds (RFC 7766 §6.2.3,
    /// dnsmasq at once), and a pooled one would often be dead by the next use, costing a
    /// failed try instead of a handshake.
    async fn tcp_try(
        &self,
        server: usize,
        id: u16,
        q: &Question,
        packet: &[u8],
    ) -> Result<Vec<Record>> {
        let inner = &*self.inner;
        let mut sock = inner.cx.stream();
        sock.set_timeout(inner.timeout);
        sock.connect_addr(inner.servers[server], &ConnectOptions::new())
            .await
            .map_err(Error::transport)?;
        let len = u16::try_from(packet.len()).expect("a query is under 300 bytes");
        // One vectored write of the prefix and the query.
        sock.send(&(len.to_be_bytes(), packet))
            .await
            .map_err(Error::transport)?;
        let prefix = sock.receive_exact_ref(2).await.map_err(Error::transport)?;
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        if len < HEADER_LEN {
            return Err(Error::protocol(format!(
                "TCP reply of {len} bytes, shorter than the header"
            )));
        }
        let reply = sock.receive_exact(len).await.map_err(Error::transport)?;
        // Closing an open connection cannot fail in a way that matters to the answer.
        let _ = sock.close();
        match parse_reply(&reply, id, q, inner.max_records)? {
            // On a connection of its own, a reply to anything else is the server's fault.
            Reply::Mismatch => Err(Error::protocol(
                "the TCP reply answers another query (ID or question differ)",
            )),
            // TC over TCP means the answer did not fit 65535 bytes: nothing more to try.
            Reply::Truncated => Err(Error::protocol("the TCP reply is truncated")),
            Reply::Answer(records) => Ok(records),
        }
    }
}

/// The records of the name the answer's CNAME chain from `name` ends at (RFC 1034 §3.6.2:
/// a server puts the chain and the final records in one answer).
fn follow_cnames<'r>(name: &str, records: &'r [Record]) -> impl Iterator<Item = &'r RecordData> {
    let mut current = name.strip_suffix('.').unwrap_or(name).to_owned();
    for _ in 0..MAX_CNAME_CHAIN {
        let next = records.iter().find_map(|r| match &r.data {
            RecordData::Cname(target) if r.name.eq_ignore_ascii_case(&current) => Some(target),
            _ => None,
        });
        match next {
            Some(target) => current.clone_from(target),
            None => break,
        }
    }
    records
        .iter()
        .filter(move |r| r.name.eq_ignore_ascii_case(&current))
        .map(|r| &r.data)
}

/// The reverse-lookup name of an address: `4.3.2.1.in-addr.arpa` for 1.2.3.4 (RFC 1035
/// §3.5), the 32 nibbles in reverse under `ip6.arpa` for IPv6 (RFC 3596 §2.5).
///
/// ```
/// assert_eq!(cosocket_dns::reverse_name([10, 1, 2, 3].into()), "3.2.1.10.in-addr.arpa");
/// assert!(cosocket_dns::reverse_name("::1".parse().unwrap()).starts_with("1.0.0.0."));
/// ```
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, c, d] = ip.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(ip) => {
            let mut name = String::with_capacity(72);
            for byte in ip.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// A context's name resolution through this client (`Resolver::Custom`): the A and AAAA
/// queries at once, CNAMEs in the answers followed, IPv4 addresses first.
///
/// Errors, for cosocket's texts (`H could not be resolved (N: …)`): NXDOMAIN, or a name
/// with no address, is `NotFound` (`3: Host not found`); a timeout `TimedOut`
/// (`110: Operation timed out`); anything else `Other` or `InvalidInput`
/// (`2: Server failure`). When one family has addresses, the other's error is ignored.
impl<C: Cosockets> Resolve for DnsClient<C> {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, io::Result<Vec<SocketAddr>>> {
        Box::pin(async move {
            if let Ok(ip) = host.parse::<IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            let (v4, v6) =
                futures::future::join(self.lookup_ipv4(host), self.lookup_ipv6(host)).await;
            let mut addrs: Vec<SocketAddr> = Vec::new();
            if let Ok(ips) = &v4 {
                addrs.extend(ips.iter().map(|&ip| SocketAddr::from((ip, port))));
            }
            if let Ok(ips) = &v6 {
                addrs.extend(ips.iter().map(|&ip| SocketAddr::from((ip, port))));
            }
            if !addrs.is_empty() {
                return Ok(addrs);
            }
            match (v4, v6) {
                (Err(e), _) => Err(e.into()),
                (Ok(_), Err(e)) if !matches!(e, Error::NxDomain) => Err(e.into()),
                _ => Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{host} has no address"),
                )),
            }
        })
    }
}
