//! `http` and `dns` (BENCHMARKS.md §5): cosocket-http and cosocket-dns against the Rust
//! clients people use, on one thread, `--tasks` loops joined in one task.
//!
//! * `http --client co-http|hyper|reqwest|raw --runtime R --port P --path /files/… --tasks T
//!   --n N`: GETs of one file from nginx with keepalive. `hyper` is hyper-util's legacy
//!   client, `reqwest` reqwest's (both tokio only); `raw` is a hand-written keepalive
//!   loop on tokio's `TcpStream` (write the request, read the head, read the
//!   `Content-Length` body in 64 KiB reads): the floor for the 1 MiB body.
//! * `dns --client co-dns|hickory --runtime R --port P --tasks T --n N`: A queries for
//!   `n0.test` … `n99.test` against dnsmasq; hickory-resolver with its cache off.

use std::time::Instant;

use cosocket::Cosockets;

use crate::args::{Args, Backend};
use crate::{Outcome, cpu_seconds, join, with_context};

fn result(client: &str, tasks: usize, n: usize, seconds: f64, cpu: f64) -> serde_json::Value {
    serde_json::json!({
        "client": client, "tasks": tasks, "n": n, "seconds": seconds,
        "ops_per_s": n as f64 / seconds, "cpu_us_per_op": cpu * 1e6 / n as f64,
    })
}

pub(crate) fn http(args: &Args) -> Outcome {
    let client: String = args.get("client")?;
    let backend = args.backend()?;
    let port: u16 = args.get("port")?;
    let path: String = args.get("path")?;
    let size: usize = args.get("size")?;
    let tasks: usize = args.get_or("tasks", 1)?;
    let per = args.get_or::<usize>("n", 10_000)? / tasks;
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut directives = args.directives()?;
    directives.pool_size = std::num::NonZeroUsize::new(tasks.max(30)).ok_or("--tasks")?;
    let cpu0 = cpu_seconds();
    let seconds = match client.as_str() {
        "co-http" => with_context!(backend, directives, |cx| async {
            co_http(&cx, &url, size, tasks, per).await
        })?,
        other => {
            if backend != Backend::Tokio {
                return Err(format!("{other} runs on tokio only"));
            }
            let rt = crate::tokio_runtime();
            match other {
                "hyper" => rt.block_on(hyper_client(&url, size, tasks, per))?,
                "reqwest" => rt.block_on(reqwest_client(&url, size, tasks, per))?,
                "raw" => rt.block_on(raw(port, &path, size, tasks, per))?,
                _ => return Err(format!("unknown --client {other}")),
            }
        }
    };
    Ok(result(
        &client,
        tasks,
        per * tasks,
        seconds,
        cpu_seconds() - cpu0,
    ))
}

async fn co_http<C: Cosockets>(
    cx: &C,
    url: &str,
    size: usize,
    tasks: usize,
    per: usize,
) -> Result<f64, String> {
    let http = cosocket_http::Http::new(cx.clone(), cosocket_http::Config::new());
    let t0 = Instant::now();
    join((0..tasks).map(|_| {
        let http = &http;
        async move {
            for _ in 0..per {
                let response = http.get(url).await.map_err(|e| e.to_string())?;
                let body = response.bytes().await.map_err(|e| e.to_string())?;
                if body.len() != size {
                    return Err(format!("a body of {} bytes", body.len()));
                }
            }
            Ok(())
        }
    }))
    .await?;
    Ok(t0.elapsed().as_secs_f64())
}

async fn hyper_client(url: &str, size: usize, tasks: usize, per: usize) -> Result<f64, String> {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let t0 = Instant::now();
    join((0..tasks).map(|_| {
        let (client, uri) = (&client, uri.clone());
        async move {
            for _ in 0..per {
                let response = client.get(uri.clone()).await.map_err(|e| e.to_string())?;
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                if body.len() != size {
                    return Err(format!("a body of {} bytes", body.len()));
                }
            }
            Ok(())
        }
    }))
    .await?;
    Ok(t0.elapsed().as_secs_f64())
}

async fn reqwest_client(url: &str, size: usize, tasks: usize, per: usize) -> Result<f64, String> {
    let client = reqwest::Client::new();
    let t0 = Instant::now();
    join((0..tasks).map(|_| {
        let client = &client;
        async move {
            for _ in 0..per {
                let response = client.get(url).send().await.map_err(|e| e.to_string())?;
                let body = response.bytes().await.map_err(|e| e.to_string())?;
                if body.len() != size {
                    return Err(format!("a body of {} bytes", body.len()));
                }
            }
            Ok(())
        }
    }))
    .await?;
    Ok(t0.elapsed().as_secs_f64())
}

/// A hand-written keepalive loop: the floor.
async fn raw(port: u16, path: &str, size: usize, tasks: usize, per: usize) -> Result<f64, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let t0 = Instant::now();
    join((0..tasks).map(|_| {
        let request = request.as_bytes();
        async move {
            let e = |e: std::io::Error| e.to_string();
            let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map_err(e)?;
            conn.set_nodelay(true).map_err(e)?;
            let mut buf = vec![0u8; 64 << 10];
            let mut have = 0;
            let mut done = 0;
            while done < per {
                conn.write_all(request).await.map_err(e)?;
                // The head, then the body: what was read past the head counts.
                let head_end = loop {
                    if let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    let n = conn.read(&mut buf[have..]).await.map_err(e)?;
                    if n == 0 {
                        // nginx closes after `keepalive_requests`: reconnect.
                        conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
                            .await
                            .map_err(e)?;
                        conn.set_nodelay(true).map_err(e)?;
                        conn.write_all(request).await.map_err(e)?;
                        have = 0;
                        continue;
                    }
                    have += n;
                };
                let mut body = Vec::with_capacity(size);
                body.extend_from_slice(&buf[head_end..have.min(head_end + size)]);
                let extra = have.saturating_sub(head_end + size);
                buf.copy_within(have - extra..have, 0);
                have = extra;
                while body.len() < size {
                    let n = conn.read(&mut buf).await.map_err(e)?;
                    if n == 0 {
                        return Err("closed mid-body".into());
                    }
                    let take = n.min(size - body.len());
                    body.extend_from_slice(&buf[..take]);
                    buf.copy_within(take..n, 0);
                    have = n - take;
                }
                done += 1;
            }
            Ok(())
        }
    }))
    .await?;
    Ok(t0.elapsed().as_secs_f64())
}

pub(crate) fn dns(args: &Args) -> Outcome {
    let client: String = args.get("client")?;
    let backend = args.backend()?;
    let port: u16 = args.get("port")?;
    let tasks: usize = args.get_or("tasks", 1)?;
    let per = args.get_or::<usize>("n", 10_000)? / tasks;
    let directives = args.directives()?;
    let cpu0 = cpu_seconds();
    let seconds = match client.as_str() {
        "co-dns" => with_context!(backend, directives, |cx| async {
            let dns = cosocket_dns::DnsClient::new(
                cx.clone(),
                cosocket_dns::Options::new().nameserver("127.0.0.1", port),
            )
            .map_err(|e| e.to_string())?;
            let t0 = Instant::now();
            join((0..tasks).map(|t| {
                let dns = &dns;
                async move {
                    for i in 0..per {
                        let name = format!("n{}.test", (t * per + i) % 100);
                        let ips = dns.lookup_ipv4(&name).await.map_err(|e| e.to_string())?;
                        if ips.len() != 1 {
                            return Err(format!("{name}: {ips:?}"));
                        }
                    }
                    Ok(())
                }
            }))
            .await?;
            Ok::<f64, String>(t0.elapsed().as_secs_f64())
        })?,
        "hickory" => {
            if backend != Backend::Tokio {
                return Err("hickory runs on tokio here".into());
            }
            crate::tokio_runtime().block_on(hickory(port, tasks, per))?
        }
        other => return Err(format!("unknown --client {other}")),
    };
    Ok(result(
        &client,
        tasks,
        per * tasks,
        seconds,
        cpu_seconds() - cpu0,
    ))
}

async fn hickory(port: u16, tasks: usize, per: usize) -> Result<f64, String> {
    use hickory_resolver::Resolver;
    use hickory_resolver::config::{
        NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts,
    };
    use hickory_resolver::name_server::TokioConnectionProvider;
    let servers = NameServerConfigGroup::from_ips_clear(&[[127, 0, 0, 1].into()], port, true);
    let config = ResolverConfig::from_parts(None, vec![], servers);
    let mut opts = ResolverOpts::default();
    opts.cache_size = 0;
    opts.use_hosts_file = ResolveHosts::Never;
    let resolver = Resolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(opts)
        .build();
    let t0 = Instant::now();
    join((0..tasks).map(|t| {
        let resolver = &resolver;
        async move {
            for i in 0..per {
                let name = format!("n{}.test.", (t * per + i) % 100);
                let ips = resolver
                    .ipv4_lookup(name.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                if ips.iter().count() != 1 {
                    return Err(format!("{name}: {ips:?}"));
                }
            }
            Ok(())
        }
    }))
    .await?;
    Ok(t0.elapsed().as_secs_f64())
}
