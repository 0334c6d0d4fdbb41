//! cosocket-http against a real nginx it starts itself (plain and TLS, a free port each):
//! a body with a length, a chunked one streamed in pieces, HTTP/1.0 read until the close,
//! `Connection: close`, an error status as a value, and HTTPS verified against the test
//! CA, with nginx's access log showing which requests shared a connection.
//!
//! ```sh
//! cargo run -p cosocket-http --example http --features tokio
//! cargo run -p cosocket-http --example http --features smol
//! ```
//!
//! Against a server of your own: `http.get("http://127.0.0.1:8080/").await?.text().await?`.

#[cfg(any(feature = "tokio", feature = "smol"))]
mod demo {
    use cosocket::Cosockets;
    use cosocket_conformance::servers::Nginx;
    use cosocket_http::{Config, Error, Http, Request};

    /// Every request, printed and checked.
    pub(crate) async fn run<C: Cosockets>(cx: C, nginx: &Nginx) -> Result<(), Error> {
        let base = format!("http://127.0.0.1:{}", nginx.plain_port());
        let http = Http::new(cx, Config::new().tls(nginx.pki().verified()));

        let small = http.get(&format!("{base}{}", Nginx::SMALL)).await?;
        println!(
            "GET {}      -> {} {:?}",
            Nginx::SMALL,
            small.status(),
            small.header("content-length")
        );
        assert_eq!(small.bytes().await?, Nginx::small_body());

        let mut page = http.get(&format!("{base}{}", Nginx::SSI)).await?;
        assert!(page.is_chunked());
        let mut pieces = Vec::new();
        while let Some(piece) = page.chunk().await? {
            pieces.push(piece);
        }
        println!(
            "GET {}  -> chunked, {} pieces: {:?}",
            Nginx::SSI,
            pieces.len(),
            String::from_utf8_lossy(&pieces.concat())
        );
        assert_eq!(pieces.concat(), Nginx::ssi_body("(none)").as_bytes());

        let old = Request::get(&format!("{base}{}", Nginx::SSI))?.http10();
        let response = http.send(&old).await?;
        println!(
            "HTTP/1.0 {}     -> no length, read until the close",
            Nginx::SSI
        );
        assert_eq!(response.text().await?, Nginx::ssi_body("(none)"));

        let missing = http.get(&format!("{base}/missing")).await?;
        let err = missing.error_for_status().unwrap_err();
        println!("GET /missing         -> {err}");
        assert!(matches!(err, Error::Status { status: 404, .. }));

        let tls = format!("https://127.0.0.1:{}", nginx.port());
        let large = http
            .get(&format!("{tls}{}", Nginx::LARGE))
            .await?
            .bytes()
            .await?;
        println!("GET https {}  -> {} bytes", Nginx::LARGE, large.len());
        assert!(large == Nginx::large_body());

        for line in nginx.access_log() {
            println!(
                "nginx: connection {} request {} {} {} {:?}",
                line.connection, line.requests, line.status, line.protocol, line.request
            );
        }
        Ok(())
    }
}

#[cfg(feature = "tokio")]
fn main() {
    let nginx = cosocket_conformance::servers::Nginx::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cx = cosocket::Context::new(cosocket::tokio::Tokio::new(rt.handle().clone()));
    rt.block_on(demo::run(cx, &nginx)).expect("the requests");
    println!(
        "ok (tokio, nginx on ports {} and {})",
        nginx.plain_port(),
        nginx.port()
    );
}

#[cfg(all(feature = "smol", not(feature = "tokio")))]
fn main() {
    let nginx = cosocket_conformance::servers::Nginx::start();
    let cx = cosocket::Context::new(cosocket::smol::Smol::new());
    smol::block_on(demo::run(cx, &nginx)).expect("the requests");
    println!(
        "ok (smol, nginx on ports {} and {})",
        nginx.plain_port(),
        nginx.port()
    );
}

#[cfg(not(any(feature = "tokio", feature = "smol")))]
fn main() {
    eprintln!(
        "pick a backend: cargo run -p cosocket-http --example http --features tokio (or smol)"
    );
    std::process::exit(2);
}
