//! The send of a RESP pipeline (BENCHMARKS.md §2): 100 `GET`s as one fragment list (11
//! fragments each, 1100 in all) against the same bytes copied into one reused buffer first
//! and sent as one slice, interleaved in one process against the sink peer.

use std::time::{Duration, Instant};

use cosocket::prelude::*;
use cosocket::{ConnectOptions, FragmentList};
use serde_json::json;

use crate::args::Args;
use crate::pingpong::quartiles;
use crate::{Outcome, with_context};

/// The commands of one pipeline: `*2\r\n$3\r\nGET\r\n$<len>\r\n<key>\r\n`, each an
/// 11-fragment tuple borrowing its key.
type Get<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    usize,
    &'a str,
    &'a str,
    &'a str,
);

fn commands(keys: &[String]) -> Vec<Get<'_>> {
    keys.iter()
        .map(|k| {
            (
                "*2",
                "\r\n",
                "$3\r\n",
                "GET",
                "\r\n",
                k.len(),
                "\r\n",
                k.as_str(),
                "\r\n",
            )
        })
        .collect()
}

/// `batches` sends of the pipeline as a fragment list.
async fn as_fragments<S: StreamSock>(
    sock: &mut S,
    keys: &[String],
    batches: usize,
) -> Result<Duration, String> {
    let t0 = Instant::now();
    for _ in 0..batches {
        let pipeline = commands(keys);
        sock.send(&pipeline)
            .await
            .map_err(|e| format!("send: {e}"))?;
    }
    Ok(t0.elapsed())
}

/// `batches` sends of the pipeline copied into one reused buffer first.
async fn copied<S: StreamSock>(
    sock: &mut S,
    keys: &[String],
    batches: usize,
) -> Result<Duration, String> {
    let mut buf = Vec::with_capacity(4096);
    let t0 = Instant::now();
    for _ in 0..batches {
        buf.clear();
        for key in keys {
            buf.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$");
            buf.extend_from_slice(itoa::Buffer::new().format(key.len()).as_bytes());
            buf.extend_from_slice(b"\r\n");
            buf.extend_from_slice(key.as_bytes());
            buf.extend_from_slice(b"\r\n");
        }
        sock.send(buf.as_slice())
            .await
            .map_err(|e| format!("send: {e}"))?;
    }
    Ok(t0.elapsed())
}

/// Fragment list vs pre-copied buffer; ratio = copied time / fragment-list time (≥ 1: the
/// fragment list is at least as fast).
pub(crate) fn run(args: &Args) -> Outcome {
    let backend = args.backend()?;
    let port: u16 = args.get("port")?;
    let pairs: usize = args.get_or("pairs", 30)?;
    let batches: usize = args.get_or("batches", 2000)?;
    let directives = args.directives()?;
    let keys: Vec<String> = (0..100).map(|i| format!("user:{i:06}")).collect();
    let slices = FragmentList::of(&commands(&keys)).slices();
    with_context!(backend, directives, |cx| async move {
        let mut sock = cx
            .connect("127.0.0.1", port, &ConnectOptions::new())
            .await
            .map_err(|e| format!("connect: {e}"))?;
        as_fragments(&mut sock, &keys, batches / 5).await?;
        copied(&mut sock, &keys, batches / 5).await?;
        let (mut frag, mut copy) = (Vec::new(), Vec::new());
        for pair in 0..pairs {
            if pair % 2 == 0 {
                frag.push(as_fragments(&mut sock, &keys, batches).await?);
                copy.push(copied(&mut sock, &keys, batches).await?);
            } else {
                copy.push(copied(&mut sock, &keys, batches).await?);
                frag.push(as_fragments(&mut sock, &keys, batches).await?);
            }
        }
        let ratios: Vec<f64> = copy
            .iter()
            .zip(&frag)
            .map(|(c, f)| c.as_secs_f64() / f.as_secs_f64())
            .collect();
        let (median, q1, q3) = quartiles(&ratios);
        let us = |d: &[Duration]| {
            let v: Vec<f64> = d
                .iter()
                .map(|d| d.as_secs_f64() * 1e6 / batches as f64)
                .collect();
            quartiles(&v).0
        };
        Ok::<_, String>(json!({
            "median": median, "q1": q1, "q3": q3, "ratios": ratios,
            "fragments_us_per_send": us(&frag), "copied_us_per_send": us(&copy),
            "fragments": 11 * keys.len(), "slices": slices, "pairs": pairs, "batches": batches,
        }))
    })
}
