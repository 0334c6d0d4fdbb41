//! `openssl s_server -www`: OpenSSL's own test server. It answers each connection's
//! request with an HTML page of what it negotiated (`New, TLSv1.3, Cipher is …` or
//! `Reused, …`, `Protocol  : TLSv1.3`, the client certificate it got), so a case checks
//! what the server saw, and then closes the connection with close_notify.
//!
//! It serves one connection at a time, and after closing one it reads it until the
//! client's FIN before it accepts the next: a client must close (or drop) each socket
//! before its next handshake to the same server, or that handshake stalls.

use std::ffi::OsString;

use cosocket_core::tls::TlsVersions;

use super::{Process, TempDir, TestPki, find_binary, start_listening};

/// A running `openssl s_server -www` with a [`TestPki`] of its own; stopped when dropped.
#[derive(Debug)]
pub struct SServer {
    // Fields drop in order: the process before the directory it works in.
    process: Process,
    port: u16,
    pki: TestPki,
    dir: TempDir,
}

impl SServer {
    /// Starts a server offering `versions` (`-tls1_2`, `-tls1_3`, or both), requiring a
    /// client certificate signed by the CA when `require_client_cert` (`-Verify 1
    /// -CAfile ca.pem`).
    pub fn start(versions: TlsVersions, require_client_cert: bool) -> Self {
        let binary = find_binary("openssl", &["/usr/bin", "/usr/local/bin"], "openssl");
        let dir = TempDir::new("s_server");
        let pki = TestPki::generate(dir.path());
        let (process, port) = start_listening("s_server", &binary, &dir, |port| {
            let mut args: Vec<OsString> = ["s_server", "-quiet", "-www", "-accept"]
                .into_iter()
                .map(OsString::from)
                .collect();
            args.push(format!("127.0.0.1:{port}").into());
            args.extend(["-cert".into(), dir.join("server.pem").into()]);
            args.extend(["-key".into(), dir.join("server.key").into()]);
            match (versions.tls12(), versions.tls13()) {
                (true, false) => args.push("-tls1_2".into()),
                (false, true) => args.push("-tls1_3".into()),
                _ => {}
            }
            if require_client_cert {
                // Upper-case `-Verify`: a client without a certificate is refused.
                args.extend(["-Verify".into(), "1".into()]);
                args.extend(["-CAfile".into(), dir.join("ca.pem").into()]);
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

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The certificates.
    pub fn pki(&self) -> &TestPki {
        &self.pki
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// What the server wrote to its error output so far (failed handshakes are logged
    /// there).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("s_server.err")).unwrap_or_default()
    }
}
