//! Workloads for `strace -c` (BENCHMARKS.md §2). The driver runs each twice, with `--n` N
//! and 2N, and divides the difference of the counts by N: setup (runtime, connect,
//! warm-up) cancels out, and what is left is the syscalls of one operation.

use std::time::Duration;

use cosocket::ConnectOptions;
use cosocket::prelude::*;
use serde_json::json;

use crate::args::Args;
use crate::{Outcome, with_context};

pub(crate) fn run(args: &Args) -> Outcome {
    let op = args.text("op")?.to_owned();
    let n: usize = args.get("n")?;
    let port: u16 = args.get("port")?;
    let directives = args.directives()?;
    let backend = args.backend()?;
    with_context!(backend, directives, |cx| async {
        let mut sock = cx
            .connect("127.0.0.1", port, &ConnectOptions::new())
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let fail = |what: &str, e: cosocket::Error| format!("{what}: {e}");
        match op.as_str() {
            // Against the `sink` peer: a 10-fragment command, as a client library builds
            // one (verb, key, flags, length, value, CRLFs): one writev each.
            "send10" => {
                let value = [b'v'; 100];
                for i in 0..n + 10 {
                    let command = (
                        "set ",
                        "key:",
                        i,
                        " 0 ",
                        "0 ",
                        100,
                        "\r\n",
                        value.as_slice(),
                        "\r\n",
                        "",
                    );
                    sock.send(&command).await.map_err(|e| fail("send", e))?;
                }
            }
            // Against the `lines` peer: n lines requested and let arrive, then read.
            "receive_line" => {
                sock.send(&(n, "\n")).await.map_err(|e| fail("send", e))?;
                std::thread::sleep(Duration::from_millis(100));
                for _ in 0..n {
                    sock.receive_line()
                        .await
                        .map_err(|e| fail("receive_line", e))?;
                }
            }
            // Against the `echo` peer: a request and the wait for its answer.
            "pingpong" => {
                for _ in 0..n {
                    sock.send(b"x".as_slice())
                        .await
                        .map_err(|e| fail("send", e))?;
                    sock.receive_exact(1)
                        .await
                        .map_err(|e| fail("receive_exact", e))?;
                }
            }
            other => {
                return Err(format!(
                    "--op: send10, receive_line or pingpong, not {other:?}"
                ));
            }
        }
        Ok(json!({ "op": op, "n": n }))
    })
}
