//! Stream parsing (BENCHMARKS.md §1): one reader drains one stream from the blaster, the C
//! sender of `bench/openresty/`, and reports MB/s and items (lines or parts) per second.
//! The clock runs, as in OpenResty's `bench.lua`, from just before the first receive to the
//! end of the stream.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use cosocket::prelude::*;
use cosocket::{ConnectOptions, ErrorKind, Until};
use futures::StreamExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_util::codec::{FramedRead, LinesCodec};

use crate::args::{Args, Backend};
use crate::{Outcome, with_context};

/// The multipart data set's boundary.
pub(crate) const BOUNDARY: &str = "\r\n--boundary";

/// What one reader counted.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Payload bytes returned (lines without CRLF, parts without boundaries).
    pub(crate) payload: u64,
    /// Lines, chunks or parts.
    pub(crate) items: u64,
}

pub(crate) fn run(args: &Args) -> Outcome {
    let reader = args.text("reader")?.to_owned();
    let total: u64 = args.get("total")?;
    let started;
    let tally = if reader == "memmem" {
        let (data, t0) = in_memory(args, total)?;
        started = t0;
        let finder = memchr::memmem::Finder::new(BOUNDARY);
        let parts = finder.find_iter(&data).count() as u64;
        Tally {
            payload: total - parts * BOUNDARY.len() as u64,
            items: parts,
        }
    } else {
        let (tally, t0) = from_blaster(args, &reader)?;
        started = t0;
        tally
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "reader": reader,
        "seconds": seconds,
        "mb_per_s": total as f64 / seconds / 1e6,
        "items": tally.items,
        "items_per_s": tally.items as f64 / seconds,
        "payload_bytes": tally.payload,
    }))
}

/// The multipart data set repeated to `total` bytes in memory; the clock starts after.
fn in_memory(args: &Args, total: u64) -> Result<(Vec<u8>, Instant), String> {
    let path = format!("{}/multipart.dat", args.text("data-dir")?);
    let file = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let total = usize::try_from(total).map_err(|e| e.to_string())?;
    let mut data = Vec::with_capacity(total);
    while data.len() < total {
        let take = file.len().min(total - data.len());
        data.extend_from_slice(&file[..take]);
    }
    Ok((data, Instant::now()))
}

/// The request the blaster expects: `<dataset> <total>\n`.
fn request(args: &Args) -> Result<String, String> {
    Ok(format!(
        "{} {}\n",
        args.text("dataset")?,
        args.get::<u64>("total")?
    ))
}

fn from_blaster(args: &Args, reader: &str) -> Result<(Tally, Instant), String> {
    let port: u16 = args.get("port")?;
    let buffer_size: usize = args.get_or("buffer-size", 4096)?;
    let size: usize = args.get_or("size", 65536)?;
    let request = request(args)?;
    match reader {
        "raw-std" => {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            stream
                .write_all(request.as_bytes())
                .map_err(|e| e.to_string())?;
            let mut buf = vec![0; buffer_size];
            let mut tally = Tally::default();
            let t0 = Instant::now();
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => return Ok((tally, t0)),
                    Ok(n) => {
                        tally.payload += n as u64;
                        tally.items += 1;
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        "raw-tokio" | "bufreader" | "lines-codec" => {
            crate::tokio_runtime().block_on(tokio_baseline(reader, port, &request, buffer_size))
        }
        "raw-asyncio" => smol::block_on(async_io_baseline(port, &request, buffer_size)),
        "raw-tokio-rustls-line" | "raw-tokio-rustls-bulk" => crate::tokio_runtime()
            .block_on(crate::tls::raw_reader(reader, port, &request, buffer_size)),
        _ => {
            let directives = args.directives()?;
            let backend: Backend = args.backend()?;
            let reader = reader.to_owned();
            let tls = args.get_or("tls", 0u8)? == 1;
            with_context!(backend, directives, |cx| cosocket_reader(
                cx, &reader, port, &request, size, tls
            ))
        }
    }
}

/// A cosocket reader, as `bench.lua` does it in OpenResty.
async fn cosocket_reader<C: Cosockets>(
    cx: C,
    reader: &str,
    port: u16,
    request: &str,
    size: usize,
    tls: bool,
) -> Result<(Tally, Instant), String> {
    let mut options = ConnectOptions::new();
    if tls {
        // BENCHMARKS.md §4: the blaster's certificate is not verified (as OpenResty's
        // `sslhandshake(nil, nil, false)`); the handshake is outside the clock.
        options = options.tls(cosocket::tls::TlsOptions::new().dangerous_skip_verification());
    }
    let mut sock = cx
        .connect("127.0.0.1", port, &options)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    sock.send(request).await.map_err(|e| format!("send: {e}"))?;
    let mut tally = Tally::default();
    let t0 = Instant::now();
    // Every loop ends at the blaster's close: `closed` with the partial.
    let end = match reader {
        "co-line" => loop {
            match sock.receive_line().await {
                Ok(line) => {
                    tally.payload += line.len() as u64;
                    tally.items += 1;
                }
                Err(e) => break e,
            }
        },
        // The borrowed line: parsed in place, nothing allocated.
        "co-line-ref" => loop {
            match sock.receive_line_ref().await {
                Ok(line) => {
                    tally.payload += line.len() as u64;
                    tally.items += 1;
                }
                Err(e) => break e,
            }
        },
        "co-fixed" | "co-any" => loop {
            let data = if reader == "co-fixed" {
                sock.receive_exact(size).await
            } else {
                sock.receive_any(size).await
            };
            match data {
                Ok(data) => {
                    tally.payload += data.len() as u64;
                    tally.items += 1;
                }
                Err(e) => break e,
            }
        },
        "co-until" => {
            let mut until = Until::new(BOUNDARY).map_err(|e| e.to_string())?;
            loop {
                match sock.receive_until(&mut until).await {
                    Ok(part) => {
                        tally.payload += part.len() as u64;
                        tally.items += 1;
                    }
                    Err(e) => break e,
                }
            }
        }
        "co-until-size" => {
            let mut until = Until::new(BOUNDARY).map_err(|e| e.to_string())?;
            let chunk = std::num::NonZeroUsize::new(size).ok_or("--size must not be 0")?;
            loop {
                match sock.receive_until_chunk(&mut until, chunk).await {
                    Ok(Some(chunk)) => tally.payload += chunk.len() as u64,
                    // `nil, nil`: the end of one part.
                    Ok(None) => tally.items += 1,
                    Err(e) => break e,
                }
            }
        }
        other => return Err(format!("unknown --reader {other:?}")),
    };
    if end.kind() != ErrorKind::Eof {
        return Err(format!("the stream ended with {end}, not closed"));
    }
    tally.payload += end.partial().map_or(0, |p| p.len() as u64);
    Ok((tally, t0))
}

/// The tokio baselines: a raw read loop, `BufReader::read_until` and `LinesCodec`.
async fn tokio_baseline(
    reader: &str,
    port: u16,
    request: &str,
    buffer_size: usize,
) -> Result<(Tally, Instant), String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut tally = Tally::default();
    let t0 = Instant::now();
    match reader {
        "raw-tokio" => {
            let mut buf = vec![0; buffer_size];
            loop {
                let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                tally.payload += n as u64;
                tally.items += 1;
            }
        }
        "bufreader" => {
            let mut lines = BufReader::with_capacity(buffer_size, stream);
            let mut line = Vec::with_capacity(128);
            loop {
                line.clear();
                let n = lines
                    .read_until(b'\n', &mut line)
                    .await
                    .map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                tally.payload += n as u64 - 2;
                tally.items += 1;
            }
        }
        _ => {
            let mut lines = FramedRead::with_capacity(stream, LinesCodec::new(), buffer_size);
            while let Some(line) = lines.next().await {
                let line = line.map_err(|e| e.to_string())?;
                tally.payload += line.len() as u64;
                tally.items += 1;
            }
        }
    }
    Ok((tally, t0))
}

/// The raw async-io read loop (smol's `Async<TcpStream>`).
async fn async_io_baseline(
    port: u16,
    request: &str,
    buffer_size: usize,
) -> Result<(Tally, Instant), String> {
    use smol::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = smol::Async::<TcpStream>::connect(([127, 0, 0, 1], port))
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0; buffer_size];
    let mut tally = Tally::default();
    let t0 = Instant::now();
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok((tally, t0));
        }
        tally.payload += n as u64;
        tally.items += 1;
    }
}
