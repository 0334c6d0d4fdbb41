//! TLS (BENCHMARKS.md §4): the TLS blaster every TLS reader drains (OpenResty's, cosocket's
//! and the raw tokio-rustls loop), the raw baseline, and the handshake rows.
//!
//! The blaster speaks the C blaster's protocol over TLS: a request line
//! `<dataset> <total>\n` is answered with the data set repeated to `total` bytes, in
//! 16 KiB records, then close_notify and the close; `echo\n` turns the connection into an
//! echo (the handshake rows). Its certificate is made at start (rcgen) and not verified by
//! the readers, as OpenResty's `sslhandshake(nil, nil, false)` does not.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use cosocket::prelude::*;
use cosocket::tls::TlsOptions;
use cosocket::{ConnectOptions, ErrorKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ServerConfig, ServerConnection, StreamOwned};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::args::{Args, Backend};
use crate::stream::Tally;
use crate::{Outcome, with_context};

/// The ring provider, named explicitly for every config.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The blaster's configuration: a fresh self-signed `localhost` certificate, TLS 1.2 and
/// 1.3 (the client picks 1.3 where both can).
fn server_config() -> Result<Arc<ServerConfig>, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .and_then(|p| p.self_signed(&key))
        .map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

/// `serve-tls`: the TLS blaster and echo peer, a thread per connection.
pub(crate) fn serve(args: &Args) -> Outcome {
    let port: u16 = args.get("port")?;
    let dir = args.text("data-dir")?.to_owned();
    let config = server_config()?;
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    eprintln!("cosocket-bench TLS peer on 127.0.0.1:{port}");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let config = Arc::clone(&config);
        let dir = dir.clone();
        std::thread::spawn(move || {
            // A client that goes away mid-stream is no error of the peer's.
            let _ = connection(stream, config, &dir);
        });
    }
    Ok(json!({}))
}

fn connection(stream: TcpStream, config: Arc<ServerConfig>, dir: &str) -> std::io::Result<()> {
    let session = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(session, stream);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        if tls.read(&mut byte)? == 0 {
            return Ok(());
        }
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line).trim().to_owned();
    if line == "echo" {
        let mut buf = vec![0u8; 65536];
        loop {
            let n = tls.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            tls.write_all(&buf[..n])?;
        }
    }
    let mut words = line.split_whitespace();
    let (Some(dataset), Some(total)) = (words.next(), words.next()) else {
        return Ok(());
    };
    let total: usize = total.parse().map_err(std::io::Error::other)?;
    let file = std::fs::read(format!("{dir}/{dataset}.dat"))?;
    let mut left = total;
    while left > 0 {
        for chunk in file.chunks(16 * 1024) {
            let take = chunk.len().min(left);
            tls.write_all(&chunk[..take])?;
            left -= take;
            if left == 0 {
                break;
            }
        }
    }
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

/// The raw baseline: tokio-rustls over a tokio `TcpStream`, lines with `read_until` from
/// a `BufReader` of the buffer size, or bulk reads into a 64 KiB buffer.
pub(crate) async fn raw_reader(
    reader: &str,
    port: u16,
    request: &str,
    buffer_size: usize,
) -> Result<(Tally, Instant), String> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut tally = Tally::default();
    let t0 = Instant::now();
    if reader == "raw-tokio-rustls-line" {
        let mut tls = tokio::io::BufReader::with_capacity(buffer_size, tls);
        let mut line = Vec::with_capacity(128);
        loop {
            line.clear();
            match tls.read_until(b'\n', &mut line).await {
                Ok(0) => return Ok((tally, t0)),
                Ok(n) => {
                    tally.payload += n.saturating_sub(2) as u64;
                    tally.items += 1;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    let mut buf = vec![0u8; 65536];
    loop {
        match tls.read(&mut buf).await {
            Ok(0) => return Ok((tally, t0)),
            Ok(n) => {
                tally.payload += n as u64;
                tally.items += 1;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The raw baseline's verifier: none (as the cosocket readers skip verification), the
/// handshake signatures still checked.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `tls-handshake`: `n` requests of one 16-byte echo each, on a new TLS connection per
/// request (`--mode new`: connect, full handshake, close) or through the pool
/// (`--mode pooled`: the one-call TLS connect takes the pooled, handshaked connection).
pub(crate) fn handshakes(args: &Args) -> Outcome {
    let port: u16 = args.get("port")?;
    let n: u64 = args.get("n")?;
    let mode = args.text("mode")?.to_owned();
    let backend: Backend = args.backend()?;
    let directives = args.directives()?;
    let started = Instant::now();
    with_context!(backend, directives, |cx| requests(cx, port, n, &mode))?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({"mode": mode, "seconds": seconds, "ops_per_s": n as f64 / seconds}))
}

async fn requests<C: Cosockets>(cx: C, port: u16, n: u64, mode: &str) -> Result<(), String> {
    let tls = ConnectOptions::new().tls(TlsOptions::new().dangerous_skip_verification());
    let pooled = mode == "pooled";
    for _ in 0..n {
        let mut sock = cx
            .connect("127.0.0.1", port, &tls)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        if sock.reused_times().map_err(|e| e.to_string())? == 0 {
            sock.send("echo\n").await.map_err(|e| e.to_string())?;
        }
        sock.send("0123456789abcdef")
            .await
            .map_err(|e| e.to_string())?;
        let echo = sock.receive_exact(16).await.map_err(|e| e.to_string())?;
        if &echo[..] != b"0123456789abcdef" {
            return Err("a wrong echo".into());
        }
        if pooled {
            sock.set_keepalive(None, None)
                .map_err(|e| format!("set_keepalive: {e}"))?;
        } else {
            match sock.close() {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Closed => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    Ok(())
}
