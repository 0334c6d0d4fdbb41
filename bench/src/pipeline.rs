//! The send of a RESP pipeline (BENCHMARKS.md §2): 100 `GET`s as one fragment list (11
//! fragments each, 1100 in all) against the same bytes copied into one reused buffer first
//! and sent as one slice, interleaved in one process against the sink peer.

use std::time::{Duration, Instant};

use cosocket::prelude::*;
use cosocket::{ConnectOptions, FragmentList};
use serde_json::{Value, json};

use crate::args::Args;
use crate::pingpong::quartiles;
use crate::{Outcome, with_context};

/// One command, `*2\r\n$3\r\nGET\r\n$<len>\r\n<key>\r\n`, as an 11-fragment tuple
/// borrowing its key, as a client library builds it.
type Get<'a> = (
    &'static [u8; 1],
    usize,
    &'static [u8; 2],
    &'static [u8; 4],
    &'static [u8; 3],
    &'static [u8; 2],
    &'static [u8; 1],
    usize,
    &'static [u8; 2],
    &'a str,
    &'static [u8; 2],
);

fn commands(keys: &[String]) -> Vec<Get<'_>> {
    keys.iter()
        .map(|k| {
            let key = k.as_str();
            (
                b"*",
                2,
                b"\r\n",
                b"$3\r\n",
                b"GET",
                b"\r\n",
                b"$",
                k.len(),
                b"\r\n",
                key,
                b"\r\n",
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

/// `batches` sends of the pipeline copied into one reused buffer first: the same 11
/// pieces per command (`merged`: false), or the constant pieces merged by hand (five
/// copies a command: the tightest a hand-written encoder gets).
async fn copied<S: StreamSock>(
    sock: &mut S,
    keys: &[String],
    batches: usize,
    merged: bool,
) -> Result<Duration, String> {
    let mut buf = Vec::with_capacity(4096);
    let t0 = Instant::now();
    for _ in 0..batches {
        buf.clear();
        for key in keys {
            let mut digits = itoa::Buffer::new();
            let len = digits.format(key.len()).as_bytes();
            if merged {
                buf.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$");
                buf.extend_from_slice(len);
            } else {
                // The argument count is a computed number, as in the fragment list.
                let mut count = itoa::Buffer::new();
                buf.extend_from_slice(b"*");
                buf.extend_from_slice(count.format(2usize).as_bytes());
                for piece in [&b"\r\n"[..], b"$3\r\n", b"GET", b"\r\n", b"$", len] {
                    buf.extend_from_slice(piece);
                }
            }
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

/// The per-round ratios `base / frag`, summarised.
fn ratio(base: &[Duration], frag: &[Duration]) -> Value {
    let r = crate::pingpong::ratios(base, frag);
    let (median, q1, q3) = quartiles(&r);
    json!({"median": median, "q1": q1, "q3": q3, "ratios": r})
}

/// Fragment list vs pre-copied buffers; ratio = the copy's time / the fragment list's
/// time (≥ 1: the fragment list is at least as fast).
pub(crate) fn run(args: &Args) -> Outcome {
    let backend = args.backend()?;
    let port: u16 = args.get("port")?;
    let pairs: usize = args.get_or("pairs", 30)?;
    let batches: usize = args.get_or("batches", 2000)?;
    let directives = args.directives()?;
    let keys: Vec<String> = (0..100).map(|i| format!("user:{i:06}")).collect();
    let pipeline = commands(&keys);
    let list = FragmentList::of(&pipeline);
    let slices = list.slices();
    let mut check = Vec::new();
    for key in &keys {
        check.extend_from_slice(
            format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes(),
        );
    }
    if list.to_bytes() != check {
        return Err("the fragment list does not encode the pipeline".into());
    }
    with_context!(backend, directives, |cx| async move {
        let mut sock = cx
            .connect("127.0.0.1", port, &ConnectOptions::new())
            .await
            .map_err(|e| format!("connect: {e}"))?;
        as_fragments(&mut sock, &keys, batches / 5).await?;
        copied(&mut sock, &keys, batches / 5, false).await?;
        let (mut frag, mut copy, mut merged) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..pairs {
            // The three rotate, so that none always runs first.
            for turn in 0..3 {
                match (round + turn) % 3 {
                    0 => frag.push(as_fragments(&mut sock, &keys, batches).await?),
                    1 => copy.push(copied(&mut sock, &keys, batches, false).await?),
                    _ => merged.push(copied(&mut sock, &keys, batches, true).await?),
                }
            }
        }
        let us = |d: &[Duration]| {
            let v: Vec<f64> = d
                .iter()
                .map(|d| d.as_secs_f64() * 1e6 / batches as f64)
                .collect();
            quartiles(&v).0
        };
        let same = ratio(&copy, &frag);
        Ok::<_, String>(json!({
            "median": same["median"], "q1": same["q1"], "q3": same["q3"],
            "merged": ratio(&merged, &frag),
            "fragments_us_per_send": us(&frag), "copied_us_per_send": us(&copy),
            "merged_us_per_send": us(&merged),
            "fragments": 11 * keys.len(), "slices": slices, "pairs": pairs, "batches": batches,
        }))
    })
}
