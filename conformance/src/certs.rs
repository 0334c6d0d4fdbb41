//! The test certificates of FORMAT.md §10.1, made at run time with rcgen (feature `tls`):
//! a CA, leaves it signed (`ca_test_local`, `ca_other`, `expired`, `client`) and
//! self-signed ones (`self_test_local`, `client_self`), ECDSA P-256 with SHA-256. Nothing
//! depends on their bytes, only on the properties §10.1 lists.
//!
//! ```
//! use cosocket_conformance::certs::TestCerts;
//! let certs = TestCerts::shared();
//! let ca = certs.get("ca").unwrap();
//! assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! assert!(certs.get("nope").is_none());
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// One certificate and its private key.
#[derive(Debug)]
pub struct NamedCert {
    cert: CertificateDer<'static>,
    cert_pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

impl NamedCert {
    /// The certificate (DER).
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The private key (PKCS#8 DER).
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// The certificate (PEM).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key (PKCS#8 PEM).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

/// Every certificate of FORMAT §10.1, by name.
#[derive(Debug)]
pub struct TestCerts {
    by_name: HashMap<&'static str, NamedCert>,
}

/// What one leaf is.
struct Leaf {
    name: &'static str,
    cn: &'static str,
    dns: Option<&'static str>,
    purpose: ExtendedKeyUsagePurpose,
    signed_by_ca: bool,
    expired: bool,
}

const LEAVES: [Leaf; 6] = [
    Leaf::server("ca_test_local", "test.local", true, false),
    Leaf::server("ca_other", "other.local", true, false),
    Leaf::server("self_test_local", "test.local", false, false),
    Leaf::server("expired", "test.local", true, true),
    Leaf::client("client", "oracle-client", true),
    Leaf::client("client_self", "rogue-client", false),
];

impl Leaf {
    const fn server(name: &'static str, dns: &'static str, by_ca: bool, expired: bool) -> Self {
        Self {
            name,
            cn: dns,
            dns: Some(dns),
            purpose: ExtendedKeyUsagePurpose::ServerAuth,
            signed_by_ca: by_ca,
            expired,
        }
    }

    const fn client(name: &'static str, cn: &'static str, by_ca: bool) -> Self {
        Self {
            name,
            cn,
            dns: None,
            purpose: ExtendedKeyUsagePurpose::ClientAuth,
            signed_by_ca: by_ca,
            expired: false,
        }
    }

    fn params(&self) -> CertificateParams {
        let sans: Vec<String> = self.dns.iter().map(|d| (*d).to_owned()).collect();
        let mut params = CertificateParams::new(sans).expect("valid names");
        params.distinguished_name.push(DnType::CommonName, self.cn);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![self.purpose.clone()];
        validity(&mut params, self.expired);
        params
    }
}

/// Now + 10 years (rcgen's default start is 1975), or §10.1's day in 2020.
fn validity(params: &mut CertificateParams, expired: bool) {
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2020, 1, 2);
    } else {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let year = 1970 + i32::try_from(now / 31_556_952).unwrap_or(56);
        params.not_before = date_time_ymd(year - 1, 1, 1);
        params.not_after = date_time_ymd(year + 10, 1, 1);
    }
}

fn named(cert: &rcgen::Certificate, key: &KeyPair) -> NamedCert {
    NamedCert {
        cert: cert.der().clone(),
        cert_pem: cert.pem(),
        key_der: key.serialize_der(),
        key_pem: key.serialize_pem(),
    }
}

impl TestCerts {
    /// Makes every certificate (a few milliseconds).
    pub fn generate() -> Self {
        let mut by_name = HashMap::new();
        let ca_key = KeyPair::generate().expect("a P-256 key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("no names");
        ca.distinguished_name
            .push(DnType::CommonName, "Oracle Test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut ca, false);
        let ca_cert = ca.self_signed(&ca_key).expect("the CA signs itself");
        by_name.insert("ca", named(&ca_cert, &ca_key));
        let issuer = Issuer::new(ca, ca_key);
        for leaf in &LEAVES {
            let key = KeyPair::generate().expect("a P-256 key");
            let params = leaf.params();
            let cert = if leaf.signed_by_ca {
                params.signed_by(&key, &issuer)
            } else {
                params.self_signed(&key)
            }
            .expect("the certificate is made");
            by_name.insert(leaf.name, named(&cert, &key));
        }
        Self { by_name }
    }

    /// One set per process, made on first use.
    pub fn shared() -> &'static Self {
        static CERTS: OnceLock<TestCerts> = OnceLock::new();
        CERTS.get_or_init(Self::generate)
    }

    /// The certificate called `name` (FORMAT §10.1), if there is one.
    pub fn get(&self, name: &str) -> Option<&NamedCert> {
        self.by_name.get(name)
    }
}
