//! The keepalive pool: many tasks share a few connections to one server, with a connect
//! queue (the backlog) instead of opening a connection per request.
//!
//! Run it with `cargo run -p cosocket --example pooling --features tokio`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cosocket::prelude::*;
use cosocket::tokio::Tokio;
use cosocket::{ConnectOptions, Context};

/// A line echo server on 127.0.0.1 that counts the connections it accepted.
fn start_server(accepted: Arc<AtomicUsize>) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            accepted.fetch_add(1, Ordering::Relaxed);
            std::thread::spawn(move || {
                let mut out = stream.try_clone().expect("clone");
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    if writeln!(out, "echo {line}").is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accepted = Arc::new(AtomicUsize::new(0));
    let port = start_server(Arc::clone(&accepted))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let cx = Context::new(Tokio::new(tokio::runtime::Handle::current()));
        // At most 2 connections to this server; up to 30 connects wait for one of them
        // (each for at most its connect timeout) instead of opening more.
        let opts = ConnectOptions::new()
            .pool("echo")
            .pool_size(NonZeroUsize::new(2).expect("2"))
            .backlog(30);
        let mut tasks = Vec::new();
        for task in 0..8 {
            let (cx, opts) = (cx.clone(), opts.clone());
            tasks.push(tokio::spawn(async move {
                let mut reused = Vec::new();
                for request in 0..5 {
                    let mut sock = cx.stream();
                    sock.set_timeout(Some(Duration::from_secs(1)));
                    sock.connect("127.0.0.1", port, &opts).await?;
                    reused.push(sock.reused_times()?);
                    sock.send(&("task ", task, " request ", request, "\n"))
                        .await?;
                    let reply = sock.receive_line().await?;
                    assert_eq!(reply, format!("echo task {task} request {request}"));
                    // Back to the pool (idle for at most 10 s) for the next connect.
                    sock.set_keepalive(Some(Duration::from_secs(10)), None)?;
                }
                Ok::<_, cosocket::Error>(reused)
            }));
        }
        for (task, handle) in tasks.into_iter().enumerate() {
            let reused = handle.await.expect("task")?;
            println!("task {task}: reused_times per request {reused:?}");
        }
        let stats = cx.pool_stats("echo").expect("the pool exists");
        println!(
            "40 requests over {} connections; pool: size {}, {} connections, {} idle, {} waiting",
            accepted.load(Ordering::Relaxed),
            stats.size,
            stats.connections,
            stats.idle,
            stats.waiting
        );
        Ok::<_, cosocket::Error>(())
    })?;
    Ok(())
}
