//! rustls client configurations: one base per offered version set, made once per process,
//! and a cheap per-handshake copy with that handshake's session store, ALPN list and
//! client certificate.

use std::sync::{Arc, OnceLock};

use rustls::client::{ClientConfig, ResolvesClientCert, Resumption};
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::{SignatureScheme, version};

use super::options::{ClientCert, TlsVersions};
use super::session::HandshakeStore;
use super::verify::AfterHandshake;
use crate::proto::{Error, ErrorKind, Result};

/// The `ring` provider, passed explicitly to every builder: rustls's process-wide default
/// is never consulted, so a program that also compiles aws-lc-rs cannot make it panic.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())))
}

/// The base configuration offering `versions`: the after-handshake verifier, no client
/// certificate, no resumption.
fn base(versions: TlsVersions) -> Arc<ClientConfig> {
    static BASES: [OnceLock<Arc<ClientConfig>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    Arc::clone(BASES[versions.index()].get_or_init(|| {
        let mut list: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
        if versions.tls13() {
            list.push(&version::TLS13);
        }
        if versions.tls12() {
            list.push(&version::TLS12);
        }
        let config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&list)
            .expect("ring supports TLS 1.2 and 1.3")
            .dangerous()
            .with_custom_certificate_verifier(AfterHandshake::new())
            .with_no_client_auth();
        Arc::new(config)
    }))
}

/// The configuration of one handshake.
pub(crate) fn for_handshake(
    versions: TlsVersions,
    store: Arc<HandshakeStore>,
    alpn: &[Vec<u8>],
    client_cert: Option<&ClientCert>,
) -> Result<Arc<ClientConfig>> {
    let mut config = (*base(versions)).clone();
    config.resumption = Resumption::store(store);
    config.alpn_protocols = alpn.to_vec();
    if let Some(cert) = client_cert {
        config.client_auth_cert_resolver = Arc::new(SendCert(certified(cert)?));
    }
    Ok(Arc::new(config))
}

fn certified(cert: &ClientCert) -> Result<Arc<CertifiedKey>> {
    let key = provider()
        .key_provider
        .load_private_key(cert.key())
        .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("bad private key: {e}")))?;
    Ok(Arc::new(CertifiedKey::new(cert.chain().to_vec(), key)))
}

/// Sends the one client certificate whenever the server asks and its key can sign with a
/// scheme the server accepts (`setclientcert`).
#[derive(Debug)]
struct SendCert(Arc<CertifiedKey>);

impl ResolvesClientCert for SendCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.0
            .key
            .choose_scheme(sigschemes)
            .is_some()
            .then(|| Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::options::TlsVersions;

    /// rustls panics at `ClientConfig::builder()` when two providers are compiled in and
    /// none is installed; core never asks for the process default, so a program with
    /// aws-lc-rs in its graph too is safe.
    #[test]
    fn never_consults_the_process_default_provider() {
        for versions in [TlsVersions::ALL, TlsVersions::TLS12, TlsVersions::TLS13] {
            let store = Arc::new(HandshakeStore::new(None));
            let config = for_handshake(versions, store, &[b"h2".to_vec()], None).expect("config");
            assert_eq!(config.alpn_protocols, [b"h2".to_vec()]);
        }
        assert!(CryptoProvider::get_default().is_none());
    }
}
