//! `redis-server`, with no persistence (`save ""`, `appendonly no`), on a free loopback port
//! and a Unix socket in its own directory; optionally with a password (`requirepass`) or
//! with TLS only (`tls-port`, certificates of a [`TestPki`] of its own).

use std::ffi::OsString;
use std::path::PathBuf;

use super::{Process, TempDir, TestPki, find_binary, start_listening};

/// A running `redis-server`; stopped (by PID) when dropped.
#[derive(Debug)]
pub struct RedisServer {
    // Fields drop in order: the process before the directory it works in.
    process: Process,
    port: u16,
    pki: Option<TestPki>,
    dir: TempDir,
}

impl RedisServer {
    /// A plain server, no password.
    pub fn start() -> Self {
        Self::start_with(None, false)
    }

    /// A server with `requirepass password`: commands before `AUTH` fail with `-NOAUTH`.
    pub fn with_password(password: &str) -> Self {
        Self::start_with(Some(password), false)
    }

    /// A server that speaks TLS only (its plain port is off); clients are not asked for
    /// certificates.
    pub fn with_tls() -> Self {
        Self::start_with(None, true)
    }

    fn start_with(password: Option<&str>, tls: bool) -> Self {
        let binary = find_binary(
            "redis-server",
            &["/usr/bin", "/usr/local/bin"],
            "redis-server",
        );
        let dir = TempDir::new("redis");
        let pki = tls.then(|| TestPki::generate(dir.path()));
        let (process, port) = start_listening("redis", &binary, &dir, |port| {
            let mut args: Vec<OsString> = Vec::new();
            let mut arg = |name: &str, value: OsString| {
                args.push(format!("--{name}").into());
                args.push(value);
            };
            arg("bind", "127.0.0.1".into());
            arg("protected-mode", "no".into());
            arg("daemonize", "no".into());
            arg("save", "".into());
            arg("appendonly", "no".into());
            // DEBUG SLEEP: a reply that comes late, for the timeout and cancellation cases.
            arg("enable-debug-command", "local".into());
            arg("dir", dir.path().into());
            arg("unixsocket", dir.join("redis.sock").into());
            arg("unixsocketperm", "700".into());
            if let Some(password) = password {
                arg("requirepass", password.into());
            }
            if tls {
                arg("port", "0".into());
                arg("tls-port", port.to_string().into());
                arg("tls-cert-file", dir.join("server.pem").into());
                arg("tls-key-file", dir.join("server.key").into());
                arg("tls-ca-cert-file", dir.join("ca.pem").into());
                arg("tls-auth-clients", "no".into());
            } else {
                arg("port", port.to_string().into());
            }
            args
        });
        Self {
            process,
            port,
            pki,
            dir,
        }
    }

    /// The port on 127.0.0.1 (the TLS port of a [`with_tls`](Self::with_tls) server).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The Unix socket's path.
    pub fn unix_path(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    /// The certificates of a [`with_tls`](Self::with_tls) server.
    pub fn pki(&self) -> Option<&TestPki> {
        self.pki.as_ref()
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.out")).unwrap_or_default()
    }
}
