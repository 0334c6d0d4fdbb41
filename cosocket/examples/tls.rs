//! TLS in one screen: an HTTPS request to a real `openssl s_server` that this example
//! starts on 127.0.0.1 with a certificate it makes (a test CA and a `localhost` leaf,
//! rcgen), verified against that CA: once with the one-call form (connect and handshake
//! together), then twice in OpenResty's form, the second handshake resuming the first's
//! session.
//!
//! Run it with `cargo run -p cosocket --example tls --features tokio,tls` (needs the
//! `openssl` command: `apt-get install openssl`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cosocket::prelude::*;
use cosocket::tls::{TlsOptions, TrustStore};
use cosocket::tokio::Tokio;
use cosocket::{ConnectOptions, Context, Until};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// The server process, stopped by PID when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA and a leaf for `localhost` it signed, written to `dir`; returns the CA's PEM.
fn make_certs(dir: &std::path::Path) -> Result<String, Box<dyn std::error::Error>> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "cosocket example CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key)?.pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate()?;
    let leaf =
        CertificateParams::new(vec!["localhost".to_owned()])?.signed_by(&leaf_key, &issuer)?;
    std::fs::write(dir.join("cert.pem"), leaf.pem())?;
    std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem())?;
    Ok(ca_pem)
}

/// `openssl s_server -www` on a free port: it answers GET with an HTML status page.
fn start_server(dir: &std::path::Path) -> Result<(Server, u16), Box<dyn std::error::Error>> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `openssl s_server` ({e}): apt-get install openssl"))?;
    let server = Server(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok((server, port));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("openssl s_server did not start listening".into())
}

/// `GET /`: the status line, and the page read up to its end.
async fn get(sock: &mut impl StreamSock) -> Result<String, Box<dyn std::error::Error>> {
    sock.send(&("GET / HTTP/1.0\r\n", "Host: localhost\r\n\r\n"))
        .await?;
    let status = String::from_utf8_lossy(&sock.receive_line().await?).into_owned();
    assert_eq!(status, "HTTP/1.0 200 ok");
    let mut end = Until::new("</HTML>")?;
    sock.receive_until(&mut end).await?;
    Ok(status)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("cosocket-tls-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let ca_pem = make_certs(&dir)?;
    let (_server, port) = start_server(&dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let cx = Context::new(Tokio::new(tokio::runtime::Handle::current()));
        // Verification is on by default; here against the example's own CA.
        let tls = TlsOptions::new()
            .server_name("localhost")
            .trust(TrustStore::from_pem(ca_pem.as_bytes())?);

        // The one-call form: connect and handshake together.
        let mut sock = cx.stream();
        sock.set_timeout(Duration::from_secs(2));
        sock.connect("127.0.0.1", port, &ConnectOptions::new().tls(tls.clone()))
            .await?;
        let status = get(&mut sock).await?;
        let info = sock.tls_info().ok_or("no TLS after a TLS connect")?;
        println!("{status} over {} ({})", info.version, info.cipher_suite);
        sock.close()?;

        // OpenResty's form: connect, then sslhandshake; its session resumes the next one.
        let mut session = None;
        for round in 1..=2 {
            let mut sock = cx.stream();
            sock.set_timeout(Duration::from_secs(2));
            sock.connect("127.0.0.1", port, &ConnectOptions::new())
                .await?;
            let offer = match session.take() {
                Some(s) => tls.clone().session(s),
                None => tls.clone(),
            };
            session = sock.ssl_handshake(&offer).await?;
            let status = get(&mut sock).await?;
            let resumed = sock.tls_info().is_some_and(|i| i.resumed);
            println!("handshake {round}: {status}, resumed: {resumed}");
            assert_eq!(
                resumed,
                round == 2,
                "the second handshake resumes the first's session"
            );
            sock.close()?;
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}
