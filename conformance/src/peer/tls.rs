//! The `tls` peer of FORMAT §10.3 (feature `tls`): the stream peer's connection with a
//! rustls server session between its socket and its script. Reads log plaintext, `send`
//! is one TLS write in one TCP write, and the report gets §10.4's keys.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::server::{ServerSessionMemoryCache, WebPkiClientVerifier};
use rustls::{HandshakeKind, ProtocolVersion, RootCertStore, ServerConfig, ServerConnection};

use super::report::{End, Handshake};
use super::spec::TlsServerSpec;
use super::state::TICK;
use super::tcp::{Connection, Flow, Got, Raw};
use crate::certs::TestCerts;

/// A connection's server session and the ciphertext read but not yet given to rustls.
pub(crate) struct ServerTls {
    session: ServerConnection,
    pending: Vec<u8>,
}

/// The server configuration of a `tls` peer, shared by its connections (one ticket key
/// and one session cache per peer: FORMAT §10.3's resumption).
pub(crate) fn server_config(spec: &TlsServerSpec) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = TestCerts::shared();
    let named = certs
        .get(&spec.cert)
        .ok_or_else(|| format!("no certificate named {:?}", spec.cert))?;
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if spec.tls_min == "1.2" {
        versions.push(&rustls::version::TLS12);
    }
    if spec.tls_max == "1.3" {
        versions.push(&rustls::version::TLS13);
    }
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let builder = if spec.require_client_cert || spec.request_client_cert {
        let mut roots = RootCertStore::empty();
        let ca = certs.get("ca").ok_or("no CA")?;
        roots
            .add(ca.cert_der().clone())
            .map_err(|e| e.to_string())?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let verifier = if spec.require_client_cert {
            verifier
        } else {
            verifier.allow_unauthenticated()
        };
        builder.with_client_cert_verifier(verifier.build().map_err(|e| e.to_string())?)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(vec![named.cert_der().clone()], named.key_der())
        .map_err(|e| e.to_string())?;
    config.send_tls13_tickets = spec.tickets;
    config.alpn_protocols = spec.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| e.to_string())?;
    config.session_storage = ServerSessionMemoryCache::new(256);
    Ok(Arc::new(config))
}

impl Connection {
    /// FORMAT §10.3 steps 1–2: wait for the client's first bytes, then the handshake
    /// within `recv_timeout`. `false`: no TLS (the steps are not run).
    pub(super) fn tls_handshake(&mut self, config: Arc<ServerConfig>, delay_ms: u64) -> bool {
        let index = self.index;
        self.shared.update_tls(index, |_| {});
        if !self.wait_first_bytes() {
            return false;
        }
        if delay_ms > 0 && !self.shared.sleep(Duration::from_millis(delay_ms)) {
            return false;
        }
        let Ok(session) = ServerConnection::new(config) else {
            return self.handshake_failed();
        };
        self.tls = Some(ServerTls {
            session,
            pending: Vec::new(),
        });
        let deadline = Instant::now() + self.recv_timeout;
        loop {
            if let Flow::Done = self.flush_tls() {
                return false;
            }
            let tls = self.tls.as_mut().expect("set above");
            let sni = tls.session.server_name().map(str::to_owned);
            if sni.is_some() {
                self.shared.update_tls(index, |t| t.sni = sni);
            }
            let tls = self.tls.as_mut().expect("set above");
            if !tls.session.is_handshaking() {
                break;
            }
            if !tls.pending.is_empty() {
                if self.feed().is_err() {
                    // The alert rustls produced goes out, then the client's end is read.
                    let _ = self.flush_tls();
                    return self.handshake_failed();
                }
                continue;
            }
            match self.read_raw(Some(deadline)) {
                Raw::Bytes(n) => {
                    let bytes = self.buf[..n].to_vec();
                    self.tls.as_mut().expect("set above").pending.extend(bytes);
                }
                Raw::Eof | Raw::Reset | Raw::Idle => return self.handshake_failed(),
                Raw::Stopped => return false,
            }
        }
        let session = &self.tls.as_ref().expect("set above").session;
        let version = match session.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => Some("TLSv1.3"),
            Some(ProtocolVersion::TLSv1_2) => Some("TLSv1.2"),
            _ => None,
        };
        let resumed = session.handshake_kind() == Some(HandshakeKind::Resumed);
        let client_cert = session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| common_name(leaf));
        self.shared.update_tls(index, |t| {
            t.handshake = Handshake::Ok;
            t.tls_version = version;
            t.resumed = resumed;
            t.client_cert = client_cert;
        });
        true
    }

    /// Blocks until the client sent a byte (`true`), closed, reset or the peer stopped.
    fn wait_first_bytes(&mut self) -> bool {
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        loop {
            if self.shared.stopped() {
                return false;
            }
            let _ = self.socket.set_read_timeout(Some(TICK));
            match self.socket.peek(&mut byte) {
                Ok(0) => {
                    self.shared.set_end(self.index, End::Eof);
                    return false;
                }
                Ok(_) => return true,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.shared.set_end(self.index, End::Reset);
                    return false;
                }
            }
        }
    }

    /// FORMAT §10.3 step 2's failure: raw reads, unlogged, until the client ends the
    /// connection or stays silent for `recv_timeout`; the steps are not run.
    fn handshake_failed(&mut self) -> bool {
        self.shared
            .update_tls(self.index, |t| t.handshake = Handshake::Failed);
        self.tls = None;
        loop {
            match self.read_raw(Some(Instant::now() + self.recv_timeout)) {
                Raw::Bytes(_) => {}
                Raw::Eof => {
                    self.shared.set_end(self.index, End::Eof);
                    return false;
                }
                Raw::Reset => {
                    self.shared.set_end(self.index, End::Reset);
                    return false;
                }
                Raw::Idle | Raw::Stopped => return false,
            }
        }
    }

    /// Gives rustls what it can take of the pending ciphertext and processes it.
    fn feed(&mut self) -> Result<(), rustls::Error> {
        let tls = self.tls.as_mut().expect("a TLS connection");
        let mut rd = &tls.pending[..];
        // An error is a full plaintext buffer: the caller reads it first.
        let taken = tls.session.read_tls(&mut rd).unwrap_or_default();
        tls.pending.drain(..taken);
        tls.session.process_new_packets().map(drop)
    }

    /// Writes every record rustls has queued in one TCP write.
    pub(super) fn flush_tls(&mut self) -> Flow {
        let tls = self.tls.as_mut().expect("a TLS connection");
        let mut out = Vec::new();
        while tls.session.wants_write() {
            if tls.session.write_tls(&mut out).is_err() {
                break;
            }
        }
        if out.is_empty() {
            return Flow::Next;
        }
        self.send_bytes(&out)
    }

    /// FORMAT §10.3 `send`: one TLS write of `data` (records of at most 16 KiB) per
    /// repetition, each in one TCP write.
    pub(super) fn send_tls(&mut self, data: &[u8], repeat: usize) -> Flow {
        for _ in 0..repeat {
            let tls = self.tls.as_mut().expect("a TLS connection");
            if tls.session.writer().write_all(data).is_err() {
                return self.end(End::Reset);
            }
            if let Flow::Done = self.flush_tls() {
                return Flow::Done;
            }
        }
        Flow::Next
    }

    /// FORMAT §10.3 `send_records`: one record per element, all in one TCP write.
    pub(super) fn send_records(&mut self, records: &[Vec<u8>]) -> Flow {
        let tls = self.tls.as_mut().expect("a TLS connection");
        for record in records {
            // rustls encrypts each write as records of its own once the handshake is done.
            if tls.session.writer().write_all(record).is_err() {
                return self.end(End::Reset);
            }
        }
        self.flush_tls()
    }

    /// FORMAT §10.3 `close_notify`: the alert; the TCP connection stays open.
    pub(super) fn close_notify(&mut self) -> Flow {
        let tls = self.tls.as_mut().expect("a TLS connection");
        tls.session.send_close_notify();
        self.flush_tls()
    }

    /// The `close` step's read of what is queued: ciphertext in `buf[..n]`, logged as
    /// the plaintext it holds.
    pub(super) fn log_tls(&mut self, n: usize) {
        let bytes = self.buf[..n].to_vec();
        self.tls
            .as_mut()
            .expect("a TLS connection")
            .pending
            .extend(bytes);
        while self.take_plaintext().is_some_and(|k| k > 0) {}
    }

    /// Reads plaintext rustls holds (and what the pending ciphertext gives) into `buf`
    /// and logs it: `Some(n)` bytes, `Some(0)` at the client's close_notify, `None` when
    /// more ciphertext is needed; a TLS error ends the connection as `reset`.
    fn take_plaintext(&mut self) -> Option<usize> {
        loop {
            let tls = self.tls.as_mut().expect("a TLS connection");
            match tls.session.reader().read(&mut self.buf) {
                Ok(0) => {
                    self.shared
                        .update_tls(self.index, |t| t.close_notify = true);
                    return Some(0);
                }
                Ok(n) => {
                    self.shared.log_recv(self.index, &self.buf[..n]);
                    return Some(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return None,
            }
            let tls = self.tls.as_mut().expect("a TLS connection");
            if tls.pending.is_empty() {
                return None;
            }
            if self.feed().is_err() {
                let _ = self.flush_tls();
                self.shared.set_end(self.index, End::Reset);
                return Some(0);
            }
        }
    }

    /// One read of plaintext (FORMAT §10.3's reads): the client's close_notify or FIN is
    /// EOF (`close_notify` true / false), its RST `reset`.
    pub(super) fn read_tls(&mut self, deadline: Option<Instant>) -> Got {
        loop {
            match self.take_plaintext() {
                Some(0) => {
                    self.shared.set_end(self.index, End::Eof);
                    return Got::Eof;
                }
                Some(n) => return Got::Bytes(n),
                None => {}
            }
            match self.read_raw(deadline) {
                Raw::Bytes(n) => {
                    let bytes = self.buf[..n].to_vec();
                    let tls = self.tls.as_mut().expect("a TLS connection");
                    tls.pending.extend(bytes);
                }
                Raw::Eof => {
                    // Whatever was pending was read above: a FIN before any close_notify.
                    self.shared.set_end(self.index, End::Eof);
                    return Got::Eof;
                }
                Raw::Reset => {
                    self.shared.set_end(self.index, End::Reset);
                    return Got::Eof;
                }
                Raw::Idle => return Got::Idle,
                Raw::Stopped => return Got::Stopped,
            }
        }
    }
}

/// The subject CN of a DER certificate (the client certificate's, FORMAT §10.4), by a
/// walk of just enough DER: TBSCertificate's subject, then the first commonName.
fn common_name(cert: &[u8]) -> Option<String> {
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (bytes, rest) = rest.split_at(count);
            (
                bytes.iter().fold(0, |acc, &b| (acc << 8) | usize::from(b)),
                rest,
            )
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }
    let (_, certificate, _) = tlv(cert)?;
    let (_, tbs, _) = tlv(certificate)?;
    let mut rest = tbs;
    if tlv(rest)?.0 == 0xa0 {
        rest = tlv(rest)?.2;
    }
    // serialNumber, signature, issuer, validity, then subject.
    for _ in 0..4 {
        rest = tlv(rest)?.2;
    }
    let (_, mut subject, _) = tlv(rest)?;
    const CN: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
    while !subject.is_empty() {
        let (_, set, next) = tlv(subject)?;
        subject = next;
        let (_, attribute, _) = tlv(set)?;
        if attribute.starts_with(CN) {
            let (_, value, _) = tlv(&attribute[CN.len()..])?;
            return String::from_utf8(value.to_vec()).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_of_the_test_certificates() {
        let certs = TestCerts::shared();
        let cn = |name: &str| common_name(certs.get(name).unwrap().cert_der());
        assert_eq!(cn("client").as_deref(), Some("oracle-client"));
        assert_eq!(cn("client_self").as_deref(), Some("rogue-client"));
        assert_eq!(cn("ca").as_deref(), Some("Oracle Test CA"));
        assert_eq!(common_name(b"\x30\x03junk"), None);
    }
}
