//! TLS on stream sockets (feature `tls`; spec §8.3, §8.5): OpenResty's `sslhandshake` and
//! `setclientcert` as [`TlsSock`](crate::TlsSock), implemented once in core over
//! rustls's sans-IO client, so every backend has TLS with no code of its own.
//!
//! * [`TlsOptions`]: what one handshake asks for (server name, verification, a session
//!   to resume, ALPN, trust store, client certificate, versions). Verification is on
//!   unless [`TlsOptions::dangerous_skip_verification`] says otherwise.
//! * [`TlsDirectives`]: the context's `lua_ssl_*` settings
//!   ([`Directives::tls`](crate::Directives::tls)).
//! * [`TlsSession`]: the value a handshake returns, offered again for resumption.
//! * [`TlsInfo`]: what was negotiated.
//! * [`ConnectOptions::tls`](crate::ConnectOptions::tls): connect and handshake in one
//!   call, with the TLS identity in the pool key.
//!
//! The error texts are OpenResty's: `handshake failed`, `timeout` (the handshake is
//! bounded by the connect timeout), `closed`, `SSL_set_tlsext_host_name failed`,
//! `certificate host mismatch` and OpenSSL's verify texts (the table of rustls's errors
//! and their texts is in `tls/verify.rs` and in `docs/semantics.md` §8.5).

mod config;
mod conn;
mod der;
mod handshake;
mod options;
mod session;
mod verify;

pub(crate) use conn::{Settled, TlsConn};
pub(crate) use handshake::{TlsShared, handshake, prepare};
pub use options::{ClientCert, TlsDirectives, TlsOptions, TlsVersions, TrustStore};
pub use rustls::pki_types::{CertificateDer, PrivateKeyDer};
pub use session::TlsSession;

/// What a handshake negotiated: [`TlsSock::tls_info`](crate::TlsSock::tls_info).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// `"TLSv1.2"` or `"TLSv1.3"`.
    pub version: &'static str,
    /// The ALPN protocol the server chose, if any.
    pub alpn: Option<Vec<u8>>,
    /// The cipher suite's IANA name.
    pub cipher_suite: &'static str,
    /// Whether the handshake resumed a session.
    pub resumed: bool,
}

impl TlsInfo {
    fn of(client: &rustls::ClientConnection) -> Self {
        let version = match client.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "unknown",
        };
        Self {
            version,
            alpn: client.alpn_protocol().map(<[u8]>::to_vec),
            cipher_suite: client
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .unwrap_or("unknown"),
            resumed: client.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
        }
    }
}
