//! `dnsmasq` as an authoritative-looking server for the records a test gives it, on a free
//! loopback port (UDP and TCP), with no upstream (`--no-resolv`), no `/etc/hosts`, and
//! `--local=/test/`: a name under `test` it has no record for is NXDOMAIN.
//!
//! A UDP reply over 512 bytes (the query has no EDNS) is sent truncated (`TC`); the TCP
//! port answers in full.

use std::ffi::OsString;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Process, TempDir, find_binary, start_listening};

/// A record dnsmasq serves.
#[derive(Debug, Clone)]
pub enum DnsRecord {
    /// `A` (and the matching `PTR`) of `name`.
    A(String, Ipv4Addr),
    /// `AAAA` of `name`.
    Aaaa(String, Ipv6Addr),
    /// `alias` is a `CNAME` for `target` (which needs a record of its own).
    Cname(String, String),
    /// `MX`: `domain`, `exchange`, preference.
    Mx(String, String, u16),
    /// `TXT`: `name` and its strings (one record; no string may hold a comma).
    Txt(String, Vec<String>),
    /// `SRV`: `_service._proto.domain`, target, port, priority, weight.
    Srv(String, String, u16, u16, u16),
    /// `PTR`: `x.x.x.x.in-addr.arpa`-style name and its target.
    Ptr(String, String),
    /// `NS`: `domain` and its name server (served as raw RDATA, type 2).
    Ns(String, String),
}

impl DnsRecord {
    fn arg(&self) -> String {
        match self {
            Self::A(name, ip) => format!("--host-record={name},{ip}"),
            Self::Aaaa(name, ip) => format!("--host-record={name},{ip}"),
            Self::Cname(alias, target) => format!("--cname={alias},{target}"),
            Self::Mx(domain, host, pref) => format!("--mx-host={domain},{host},{pref}"),
            // On the command line dnsmasq keeps quotes as part of the text, so the strings
            // go bare (and so cannot hold a comma).
            Self::Txt(name, texts) => format!("--txt-record={name},{}", texts.join(",")),
            Self::Srv(service, target, port, priority, weight) => {
                format!("--srv-host={service},{target},{port},{priority},{weight}")
            }
            Self::Ptr(name, target) => format!("--ptr-record={name},{target}"),
            Self::Ns(domain, server) => {
                format!("--dns-rr={domain},2,{}", wire_name_hex(server))
            }
        }
    }
}

/// `name` in DNS wire format (uncompressed labels), as hex: `--dns-rr`'s RDATA.
fn wire_name_hex(name: &str) -> String {
    let mut hex = String::new();
    for label in name.trim_end_matches('.').split('.') {
        hex.push_str(&format!("{:02x}", label.len()));
        for b in label.bytes() {
            hex.push_str(&format!("{b:02x}"));
        }
    }
    hex.push_str("00");
    hex
}

/// A running `dnsmasq`; stopped (by PID) when dropped.
#[derive(Debug)]
pub struct Dnsmasq {
    // Fields drop in order: the process before the directory it works in.
    process: Process,
    port: u16,
    dir: TempDir,
}

impl Dnsmasq {
    /// Starts dnsmasq serving `records`.
    pub fn start(records: &[DnsRecord]) -> Self {
        let binary = find_binary("dnsmasq", &["/usr/sbin", "/usr/local/sbin"], "dnsmasq-base");
        let dir = TempDir::new("dnsmasq");
        let (process, port) = start_listening("dnsmasq", &binary, &dir, |port| {
            let mut args: Vec<OsString> = [
                "--keep-in-foreground".to_owned(),
                "--conf-file=/dev/null".to_owned(),
                "--no-resolv".to_owned(),
                "--no-hosts".to_owned(),
                "--no-poll".to_owned(),
                "--pid-file=".to_owned(),
                "--bind-interfaces".to_owned(),
                "--listen-address=127.0.0.1".to_owned(),
                format!("--port={port}"),
                "--local=/test/".to_owned(),
                "--local=/in-addr.arpa/".to_owned(),
                "--log-queries".to_owned(),
                "--log-facility=-".to_owned(),
                "--cache-size=0".to_owned(),
            ]
            .into_iter()
            .map(OsString::from)
            .collect();
            // As root dnsmasq drops to `nobody`, which may not exist; stay who we are.
            if super::running_as_root() {
                args.extend(["--user=root".into(), "--group=root".into()]);
            }
            args.extend(records.iter().map(|r| OsString::from(r.arg())));
            args
        });
        Self { process, port, dir }
    }

    /// The port on 127.0.0.1 (UDP and TCP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// What dnsmasq logged so far (every query, `--log-queries`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dnsmasq.err")).unwrap_or_default()
    }
}
