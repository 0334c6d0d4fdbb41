//! The values a TLS handshake takes (spec §8.3): per-handshake [`TlsOptions`], the
//! protocol versions, the trust store and the client certificate, which the directives
//! ([`TlsDirectives`]) also carry as a context's defaults.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::session::TlsSession;
use crate::proto::{Error, ErrorKind, Result};

/// The TLS protocol versions a handshake offers (`lua_ssl_protocols`).
///
/// ```
/// use cosocket_core::tls::TlsVersions;
/// assert_eq!(TlsVersions::parse("TLSv1.2 TLSv1.3").unwrap(), TlsVersions::ALL);
/// assert_eq!(TlsVersions::parse("TLSv1 TLSv1.1 TLSv1.2").unwrap(), TlsVersions::TLS12);
/// assert!(TlsVersions::parse("SSLv3").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TlsVersions {
    tls12: bool,
    tls13: bool,
}

impl TlsVersions {
    /// TLS 1.2 and TLS 1.3: the default for Rust users.
    pub const ALL: Self = Self {
        tls12: true,
        tls13: true,
    };
    /// TLS 1.2 only: what OpenResty 0.10.23 offers without `lua_ssl_protocols`.
    pub const TLS12: Self = Self {
        tls12: true,
        tls13: false,
    };
    /// TLS 1.3 only.
    pub const TLS13: Self = Self {
        tls12: false,
        tls13: true,
    };

    /// Parses `lua_ssl_protocols`'s value (`"TLSv1.2 TLSv1.3"`). `SSLv2`, `SSLv3`,
    /// `TLSv1` and `TLSv1.1` are accepted and left out (rustls implements neither: they
    /// are obsolete); a list with neither 1.2 nor 1.3 is an error.
    pub fn parse(list: &str) -> Result<Self> {
        let mut versions = Self {
            tls12: false,
            tls13: false,
        };
        for word in list.split_whitespace() {
            match word {
                "TLSv1.2" => versions.tls12 = true,
                "TLSv1.3" => versions.tls13 = true,
                "SSLv2" | "SSLv3" | "TLSv1" | "TLSv1.1" => {}
                other => {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("unknown protocol: {other}"),
                    ));
                }
            }
        }
        if !versions.tls12 && !versions.tls13 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "no supported protocol (TLSv1.2 or TLSv1.3)",
            ));
        }
        Ok(versions)
    }

    /// Whether TLS 1.2 is offered.
    pub fn tls12(self) -> bool {
        self.tls12
    }

    /// Whether TLS 1.3 is offered.
    pub fn tls13(self) -> bool {
        self.tls13
    }

    /// The index of this set among the three non-empty ones (a config cache slot).
    pub(crate) fn index(self) -> usize {
        usize::from(self.tls12) + 2 * usize::from(self.tls13) - 1
    }
}

/// Ids of trust stores and client certificates, for pool keys (never reused in a process).
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The certificates a verifying handshake trusts (`lua_ssl_trusted_certificate`).
///
/// Cheap to clone (one `Arc`); the verifier built from it is made once and shared by every
/// handshake that uses the store. The default of [`TlsDirectives`] is
/// [`TrustStore::webpki_roots`], Mozilla's root program compiled into the binary (no file
/// system access, the same on every machine); [`TrustStore::system`] (feature
/// `tls-native-roots`) reads the operating system's store instead.
#[derive(Clone)]
pub struct TrustStore(Arc<TrustInner>);

struct TrustInner {
    roots: Arc<RootCertStore>,
    id: u64,
    label: &'static str,
    verifier: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
}

impl TrustStore {
    fn from_roots(roots: RootCertStore, label: &'static str) -> Self {
        Self(Arc::new(TrustInner {
            roots: Arc::new(roots),
            id: next_id(),
            label,
            verifier: OnceLock::new(),
        }))
    }

    /// Mozilla's root certificates (the `webpki-roots` crate).
    pub fn webpki_roots() -> Self {
        static ROOTS: OnceLock<TrustStore> = OnceLock::new();
        ROOTS
            .get_or_init(|| {
                let roots = RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                Self::from_roots(roots, "webpki-roots")
            })
            .clone()
    }

    /// The operating system's trust store (`rustls-native-certs`); certificates it cannot
    /// parse are left out, and a store with none is an error.
    #[cfg(feature = "tls-native-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-native-roots")))]
    pub fn system() -> Result<Self> {
        let loaded = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(loaded.certs);
        if added == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "no certificate in the system trust store",
            ));
        }
        Ok(Self::from_roots(roots, "system"))
    }

    /// A store that trusts nothing: what OpenResty verifies against without
    /// `lua_ssl_trusted_certificate` (every verification fails with `20: unable to get
    /// local issuer certificate`, or `18: self-signed certificate`).
    pub fn empty() -> Self {
        Self::from_roots(RootCertStore::empty(), "empty")
    }

    /// Exactly these certificates (DER).
    pub fn from_der(certs: impl IntoIterator<Item = CertificateDer<'static>>) -> Result<Self> {
        let mut roots = RootCertStore::empty();
        for cert in certs {
            roots.add(cert).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("bad trusted certificate: {e}"),
                )
            })?;
        }
        Ok(Self::from_roots(roots, "custom"))
    }

    /// Exactly the certificates of a PEM bundle (`lua_ssl_trusted_certificate`'s file).
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("bad PEM: {e}")))?;
        if certs.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "no certificate in the PEM data",
            ));
        }
        Self::from_der(certs)
    }

    /// How many trust anchors the store holds.
    pub fn len(&self) -> usize {
        self.0.roots.len()
    }

    /// Whether the store trusts nothing.
    pub fn is_empty(&self) -> bool {
        self.0.roots.is_empty()
    }

    pub(crate) fn id(&self) -> u64 {
        self.0.id
    }

    /// The chain-and-name verifier of this store, made once; `None` for an empty store
    /// (rustls refuses to build one: every chain is then untrusted).
    pub(crate) fn verifier(&self) -> Option<&Arc<WebPkiServerVerifier>> {
        self.0
            .verifier
            .get_or_init(|| {
                WebPkiServerVerifier::builder_with_provider(
                    Arc::clone(&self.0.roots),
                    super::config::provider(),
                )
                .build()
                .ok()
            })
            .as_ref()
    }
}

impl fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustStore")
            .field("kind", &self.0.label)
            .field("anchors", &self.0.roots.len())
            .finish()
    }
}

impl PartialEq for TrustStore {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for TrustStore {}

/// A client certificate chain and its private key, for mutual TLS (OpenResty's
/// `setclientcert`): sent when the server asks for one.
#[derive(Clone)]
pub struct ClientCert(Arc<CertInner>);

struct CertInner {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// A digest of the chain: equal certificates share a pool key.
    fingerprint: u64,
}

impl ClientCert {
    /// A chain (leaf first, DER) and its private key (PKCS#8, PKCS#1 or SEC1, DER). The
    /// key must be one the `ring` provider can sign with, and the chain not empty.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self> {
        if chain.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "no client certificate",
            ));
        }
        super::config::provider()
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("bad private key: {e}")))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for cert in &chain {
            cert.as_ref().hash(&mut hasher);
        }
        Ok(Self(Arc::new(CertInner {
            chain,
            key,
            fingerprint: hasher.finish(),
        })))
    }

    /// A PEM chain and a PEM private key (`ngx.ssl.parse_pem_cert` /
    /// `parse_pem_priv_key`).
    pub fn from_pem(chain: &[u8], key: &[u8]) -> Result<Self> {
        let certs = CertificateDer::pem_slice_iter(chain)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("bad PEM: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("bad PEM key: {e}")))?;
        Self::from_der(certs, key)
    }

    pub(crate) fn chain(&self) -> &[CertificateDer<'static>] {
        &self.0.chain
    }

    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        self.0.key.clone_key()
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.0.fingerprint
    }
}

impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert")
            .field("chain", &self.0.chain.len())
            .field("fingerprint", &format_args!("{:016x}", self.0.fingerprint))
            .finish_non_exhaustive()
    }
}

impl PartialEq for ClientCert {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.chain == other.0.chain
    }
}

impl Eq for ClientCert {}

/// The TLS settings of a context (OpenResty's `lua_ssl_*` directives), in
/// [`Directives::tls`](crate::Directives::tls).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsDirectives {
    /// `lua_ssl_protocols`: the versions offered. Default TLS 1.2 and 1.3 (OpenResty
    /// 0.10.23 offers at most 1.2 by default; set [`TlsVersions::TLS12`] to match it).
    pub protocols: TlsVersions,
    /// `lua_ssl_trusted_certificate`: what a verifying handshake trusts. Default
    /// [`TrustStore::webpki_roots`] (OpenResty's default is an empty store:
    /// [`TrustStore::empty`]).
    pub trusted: TrustStore,
    /// `lua_ssl_verify_depth`: the longest chain accepted, counted as OpenSSL does
    /// (`1` = the leaf and its issuer). `None` (default) leaves it to the verifier's own
    /// limits; OpenResty's default is 1.
    pub verify_depth: Option<u32>,
    /// `lua_ssl_certificate` / `lua_ssl_certificate_key`: a client certificate every
    /// handshake of the context sends when asked (a socket's or a handshake's own wins).
    pub client_cert: Option<ClientCert>,
    /// How many servers (address and name) the context remembers the last session of,
    /// to offer it to the next handshake to the same server that was given no session
    /// itself: resumption with no code. `0` (default, as OpenResty) keeps none.
    pub session_cache: usize,
}

impl Default for TlsDirectives {
    fn default() -> Self {
        Self {
            protocols: TlsVersions::ALL,
            trusted: TrustStore::webpki_roots(),
            verify_depth: None,
            client_cert: None,
            session_cache: 0,
        }
    }
}

/// What one handshake asks for (the arguments of OpenResty's `sslhandshake` and more).
///
/// Verification is **on** by default: the chain against the trust store (the socket's
/// [`trust`](Self::trust), else the context's [`TlsDirectives::trusted`]) and, with a
/// [`server_name`](Self::server_name), the name against the certificate. Turning it off
/// takes [`dangerous_skip_verification`](Self::dangerous_skip_verification).
///
/// ```
/// use cosocket_core::tls::TlsOptions;
/// let opts = TlsOptions::new().server_name("redis.example").alpn(["h2", "http/1.1"]);
/// assert!(opts.verifies());
/// assert_eq!(opts.name(), Some("redis.example"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    pub(crate) server_name: Option<String>,
    pub(crate) verify: bool,
    pub(crate) session: Option<TlsSession>,
    pub(crate) want_session: bool,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) trust: Option<TrustStore>,
    pub(crate) client_cert: Option<ClientCert>,
    pub(crate) versions: Option<TlsVersions>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsOptions {
    /// Verification on, no server name, no session offered, a session returned.
    pub fn new() -> Self {
        Self {
            server_name: None,
            verify: true,
            session: None,
            want_session: true,
            alpn: Vec::new(),
            trust: None,
            client_cert: None,
            versions: None,
        }
    }

    /// The server name: sent as SNI (unless it is an IP address) and, when verifying,
    /// checked against the certificate. Without one only the chain is verified. An empty
    /// name fails the handshake with `SSL_set_tlsext_host_name failed` before any traffic,
    /// as OpenResty does, and leaves the connection open.
    #[must_use]
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Accept any certificate: no chain, expiry or name check (OpenResty's
    /// `sslhandshake` without `ssl_verify`). The handshake's own signatures are still
    /// checked. Only for tests and for peers authenticated some other way.
    #[must_use]
    pub fn dangerous_skip_verification(mut self) -> Self {
        self.verify = false;
        self
    }

    /// Offers `session` (a value an earlier handshake returned) for resumption
    /// (`sslhandshake(session)`).
    #[must_use]
    pub fn session(mut self, session: TlsSession) -> Self {
        self.session = Some(session);
        self
    }

    /// Returns no session (`sslhandshake(false)`): the handshake then gives `None`.
    #[must_use]
    pub fn no_session(mut self) -> Self {
        self.want_session = false;
        self
    }

    /// ALPN protocols offered, most preferred first; the negotiated one is
    /// [`TlsInfo::alpn`](super::TlsInfo::alpn).
    #[must_use]
    pub fn alpn<P: AsRef<[u8]>>(mut self, protocols: impl IntoIterator<Item = P>) -> Self {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Verifies against `trust` instead of the context's store.
    #[must_use]
    pub fn trust(mut self, trust: TrustStore) -> Self {
        self.trust = Some(trust);
        self
    }

    /// Sends `cert` when the server asks for a client certificate (wins over the
    /// socket's [`set_client_cert`](crate::TlsSock::set_client_cert) and the context's).
    #[must_use]
    pub fn client_cert(mut self, cert: ClientCert) -> Self {
        self.client_cert = Some(cert);
        self
    }

    /// Offers these versions instead of the context's `protocols`.
    #[must_use]
    pub fn versions(mut self, versions: TlsVersions) -> Self {
        self.versions = Some(versions);
        self
    }

    /// The part of a one-call TLS connect's pool key that names its TLS identity: what
    /// decides whether a pooled connection may serve it.
    pub(crate) fn pool_identity(&self, context: &TlsDirectives) -> String {
        use std::fmt::Write as _;
        let mut key = String::from("|tls");
        let _ = write!(key, ":sni={}", self.server_name.as_deref().unwrap_or(""));
        if self.verify {
            let trust = self.trust.as_ref().unwrap_or(&context.trusted);
            let _ = write!(key, ":verify={}", trust.id());
        } else {
            key.push_str(":noverify");
        }
        if let Some(cert) = self.client_cert.as_ref().or(context.client_cert.as_ref()) {
            let _ = write!(key, ":cert={:016x}", cert.fingerprint());
        }
        for proto in &self.alpn {
            let _ = write!(key, ":alpn={}", String::from_utf8_lossy(proto));
        }
        let versions = self.versions.unwrap_or(context.protocols);
        let _ = write!(key, ":v={}", versions.index());
        key
    }

    /// Whether the handshake verifies the certificate.
    pub fn verifies(&self) -> bool {
        self.verify
    }

    /// The server name, if any.
    pub fn name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }
}
