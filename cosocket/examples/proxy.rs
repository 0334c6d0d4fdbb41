//! A TCP proxy that does not know the protocol it forwards: the use case `receive_any` was
//! made for. Downstream clients are accepted by tokio; each gets a cosocket to the
//! upstream, split into owned halves that move into two tasks:
//!
//! * upstream → client: `receive_any(buffer_size)` returns whatever one `recv` brought, at
//!   once, so bytes flow with no framing and no added latency;
//! * client → upstream: bytes read from the client go out with `send`.
//!
//! Each direction passes the end of its stream on as FIN, so a half-closing client gets
//! the rest of its answer. The demo proxies an in-process upstream that upper-cases what
//! it receives, and a client that sends three messages, half-closes and reads to the end.
//!
//! Run it with `cargo run -p cosocket --example proxy --features tokio`.

use std::io;
use std::time::Duration;

use cosocket::prelude::*;
use cosocket::tokio::Tokio;
use cosocket::{ConnectOptions, Context, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Forwards one downstream client to the upstream on `port`.
async fn proxy(cx: Context<Tokio>, client: TcpStream, port: u16) -> cosocket::Result<()> {
    let mut upstream = cx.stream();
    // A silent upstream is dropped after 10 s without a byte.
    upstream.set_timeout(Duration::from_secs(10));
    upstream
        .connect("127.0.0.1", port, &ConnectOptions::new())
        .await?;
    let (mut up_read, mut up_write) = upstream.into_split();
    let (mut client_read, mut client_write) = client.into_split();

    let to_client = tokio::spawn(async move {
        loop {
            match up_read.receive_any(64 * 1024).await {
                Ok(bytes) => client_write.write_all(&bytes).await?,
                // The upstream's FIN: pass it on.
                Err(e) if e.kind() == ErrorKind::Eof => break client_write.shutdown().await,
                Err(e) => break Err(io::Error::from(e)),
            }
        }
    });
    let to_upstream = tokio::spawn(async move {
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                // The client's FIN: dropping the owned write half sends one upstream.
                drop(up_write);
                return Ok::<(), io::Error>(());
            }
            up_write.send(&buf[..n]).await?;
        }
    });
    let (down, up) = tokio::join!(to_client, to_upstream);
    down.map_err(io::Error::other)??;
    up.map_err(io::Error::other)??;
    Ok(())
}

/// The upstream: answers every read with its bytes upper-cased, until the client's FIN.
async fn upstream() -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    let upper = buf[..n].to_ascii_uppercase();
                    if conn.write_all(&upper).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let upstream_port = upstream().await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy_port = listener.local_addr()?.port();
        let cx = Context::new(Tokio::new(tokio::runtime::Handle::current()));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let cx = cx.clone();
                tokio::spawn(async move {
                    if let Err(e) = proxy(cx, client, upstream_port).await {
                        eprintln!("proxy: {e}");
                    }
                });
            }
        });

        // A client that does not care that a proxy is in between.
        let mut client = TcpStream::connect(("127.0.0.1", proxy_port)).await?;
        for message in ["hello, ", "proxied ", "world\n"] {
            client.write_all(message.as_bytes()).await?;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        client.shutdown().await?;
        let mut answer = String::new();
        client.read_to_string(&mut answer).await?;
        print!("{answer}");
        assert_eq!(answer, "HELLO, PROXIED WORLD\n");
        Ok(())
    })
}
