//! Certificate verification, after the handshake (spec §8.5): OpenResty runs OpenSSL with
//! `SSL_VERIFY_NONE` and checks the result once the handshake completed, so the server
//! always sees a finished handshake and the client closes the connection itself on a
//! failure, with OpenSSL's texts. rustls verifies during the handshake; here its verifier
//! accepts every chain (the handshake's signatures are still checked), and
//! [`check`] verifies the chain the server sent once the handshake is done.
//!
//! | rustls (`CertificateError`) | text |
//! |---|---|
//! | `UnknownIssuer`, leaf self-signed | `18: self-signed certificate` |
//! | `UnknownIssuer` (or an empty store) | `20: unable to get local issuer certificate` |
//! | `Expired*` | `10: certificate has expired` |
//! | `NotValidYet*` | `9: certificate is not yet valid` |
//! | `BadSignature`, `UnsupportedSignatureAlgorithm*` | `7: certificate signature failure` |
//! | `Revoked` | `23: certificate revoked` |
//! | `InvalidPurpose*` | `26: unsupported certificate purpose` |
//! | a chain longer than `verify_depth` | `22: certificate chain too long` |
//! | `NotValidForName*` (only with a server name) | `certificate host mismatch` |
//! | anything else (`BadEncoding`, …) | `handshake failed` |

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::options::TrustStore;
use crate::proto::{Error, ErrorKind};

/// The verifier inside the handshake: every chain is accepted, signatures are checked.
#[derive(Debug)]
pub(crate) struct AfterHandshake {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AfterHandshake {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            algorithms: super::config::provider().signature_verification_algorithms,
        })
    }
}

impl ServerCertVerifier for AfterHandshake {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A verification failure with OpenSSL's text (the table above).
fn failed(text: &'static str) -> Error {
    Error::new(ErrorKind::Verify, text)
}

/// Verifies `chain` (leaf first, as the server sent it) against `trust`: the chain and
/// its validity first, then, with a non-empty `server_name`, the name (OpenSSL's order).
pub(crate) fn check(
    trust: &TrustStore,
    chain: &[CertificateDer<'static>],
    server_name: Option<&str>,
    depth: Option<u32>,
    now: UnixTime,
) -> Result<(), Error> {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err(Error::new(ErrorKind::Handshake, "handshake failed"));
    };
    if let Some(depth) = depth {
        // OpenSSL's depth counts the certificates above the leaf: a leaf signed by a
        // trusted root is depth 1. The chain as sent (leaf + intermediates) is what is
        // counted here; the root itself is not sent.
        if intermediates.len() as u64 + 1 > u64::from(depth) {
            return Err(failed("22: certificate chain too long"));
        }
    }
    let name = server_name.and_then(|n| ServerName::try_from(n.to_owned()).ok());
    // Without a name the chain alone is checked: any name serves, its mismatch is ignored.
    let probe = name
        .clone()
        .unwrap_or_else(|| ServerName::try_from("chain-only.invalid").expect("a valid name"));
    let Some(verifier) = trust.verifier() else {
        return Err(unknown_issuer(leaf));
    };
    match verifier.verify_server_cert(leaf, intermediates, &probe, &[], now) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InvalidCertificate(e)) => match e {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
                if name.is_none() =>
            {
                Ok(())
            }
            other => Err(map_certificate_error(&other, leaf)),
        },
        Err(_) => Err(Error::new(ErrorKind::Handshake, "handshake failed")),
    }
}

fn map_certificate_error(e: &CertificateError, leaf: &CertificateDer<'_>) -> Error {
    match e {
        CertificateError::UnknownIssuer => unknown_issuer(leaf),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            failed("10: certificate has expired")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            failed("9: certificate is not yet valid")
        }
        CertificateError::BadSignature
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            failed("7: certificate signature failure")
        }
        CertificateError::Revoked => failed("23: certificate revoked"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            failed("26: unsupported certificate purpose")
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            failed("certificate host mismatch")
        }
        _ => Error::new(ErrorKind::Handshake, "handshake failed"),
    }
}

/// OpenSSL tells an untrusted self-signed leaf (`18`) from a leaf whose issuer is not in
/// the store (`20`).
fn unknown_issuer(leaf: &CertificateDer<'_>) -> Error {
    if super::der::is_self_issued(leaf) {
        failed("18: self-signed certificate")
    } else {
        failed("20: unable to get local issuer certificate")
    }
}
