//! The parity runner's library on made-up scenarios (not the parity set): every op kind,
//! FORMAT §5's rendering, FORMAT §1's request end, and `error` records, on tokio's
//! current-thread runtime and on smol.

use cosocket_conformance::Harness;
use cosocket_conformance::harnesses::{smol, tokio_current};
use cosocket_conformance::parity::run_scenario;
use serde_json::{Value, json};

/// The `ret` / `calls` / `error` of every record, recursively (`[i, op, key, value]`).
fn results(ops: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for rec in ops.as_array().expect("ops") {
        let key = ["ret", "calls", "error"]
            .into_iter()
            .find(|k| rec.get(*k).is_some())
            .expect("a result");
        out.push(json!([rec["i"], rec["op"], key, rec[key]]));
        if let Some(thread) = rec.get("thread_ops") {
            out.push(json!(results(thread)));
        }
    }
    out
}

fn stream_ops<H: Harness>(harness: &H) {
    let scenario = json!({
        "peer": {"type": "tcp", "connections": [
            [{"send": "line\r\nab--xy--rest"}, {"expect_recv": 9}, {"close": true}],
            [{"expect_recv": 2}, {"send": "k"}]
        ]},
        "ops": [
            {"op": "tcp"},
            {"op": "settimeout", "ms": 1000},
            {"op": "connect", "target": "peer"},
            {"op": "receive", "pattern": "*l"},
            {"op": "receiveuntil", "pattern": "--", "as": "d"},
            {"op": "iter", "it": "d", "size": 1, "repeat": 5},
            {"op": "iter", "it": "d"},
            {"op": "receiveuntil", "pattern": ""},
            {"op": "send", "data": ["a", ["b", 12], [], ""]},
            {"op": "send", "data": "xyz", "data_rep": 2},
            {"op": "receive", "pattern": "*a", "summary": true},
            {"op": "receive", "pattern": 1},
            {"op": "call", "method": "setoption", "args": ["keepalive", true]},
            {"op": "call", "method": "getoption", "args": ["keepalive"]},
            {"op": "call", "method": "getoption", "args": ["bogus"]},
            {"op": "close"},
            {"op": "close"},
            {"op": "tcp", "sock": "p"},
            {"op": "connect", "target": "peer", "sock": "p", "pool": "mine", "pool_size": 2},
            {"op": "spawn", "thread": "t", "ops": [
                {"op": "send", "data": "hi", "sock": "p"},
                {"op": "receive", "pattern": 1, "sock": "p"},
                {"op": "mark"},
                {"op": "elapsed_lt", "ms": 1000}
            ]},
            {"op": "wait", "thread": "t"},
            {"op": "getreusedtimes", "sock": "p"},
            {"op": "setkeepalive", "timeout": 0, "size": 3, "sock": "p"},
            {"op": "receive", "sock": "p"},
            {"op": "bind", "ip": "not-an-ip"},
            {"op": "frobnicate"},
            {"op": "receive", "sock": "nobody"}
        ]
    });
    let result = run_scenario(harness, "made_up", &scenario.to_string());
    assert!(result.get("error").is_none(), "{result:#}");
    let got = results(&result["ops"]);
    let expected = [
        json!([0, "tcp", "ret", ["<table>"]]),
        json!([1, "settimeout", "ret", []]),
        json!([2, "connect", "ret", [1]]),
        json!([3, "receive", "ret", ["line"]]),
        json!([4, "receiveuntil", "ret", ["<function>"]]),
        json!([5, "iter", "calls", [["a"], ["b"], [""], [null, null, null]]]),
        json!([6, "iter", "ret", ["xy"]]),
        json!([7, "receiveuntil", "ret", [null, "pattern is empty"]]),
        json!([8, "send", "ret", [4]]),
        json!([9, "send", "ret", [6]]),
        json!([10, "receive", "ret", ["rest"]]),
        json!([11, "receive", "ret", [null, "closed", ""]]),
        json!([12, "call", "ret", [true]]),
        json!([13, "call", "ret", [1]]),
        json!([14, "call", "ret", [null, "unsupported option bogus"]]),
        json!([15, "close", "ret", [1]]),
        json!([16, "close", "ret", [null, "closed"]]),
        json!([17, "tcp", "ret", ["<table>"]]),
        json!([18, "connect", "ret", [1]]),
        json!([19, "spawn", "ret", ["<thread>"]]),
        json!([20, "wait", "ret", [true, "done"]]),
        json!([
            [0, "send", "ret", [2]],
            [1, "receive", "ret", ["k"]],
            [2, "mark", "ret", []],
            [3, "elapsed_lt", "ret", [true]]
        ]),
        json!([21, "getreusedtimes", "ret", [0]]),
        json!([22, "setkeepalive", "ret", [1]]),
        json!([23, "receive", "ret", [null, "closed"]]),
        json!([24, "bind", "ret", [null, "bad address"]]),
    ];
    assert_eq!(&got[..expected.len()], &expected[..], "{result:#}");
    let tail = &got[expected.len()..];
    assert_eq!(tail.len(), 2, "{result:#}");
    assert_eq!(tail[0][2], "error");
    assert_eq!(tail[1][2], "error");
    // The pooled connection is still open at the snapshot; the closed one saw its FIN.
    assert_eq!(
        result["peer"],
        json!({"connections": [
            {"recv": "ab12xyzxyz", "end": "closed_by_peer"},
            {"recv": "hi", "end": "open"}
        ]})
    );
}

fn udp_ops<H: Harness>(harness: &H) {
    let scenario = json!({
        "peer": {"type": "udp", "steps": [{"echo": 2}]},
        "ops": [
            {"op": "udp"},
            {"op": "settimeout", "ms": 1000},
            {"op": "setpeername", "target": "peer"},
            {"op": "send", "data": ["ab", 1]},
            {"op": "receive", "size": 2},
            {"op": "send", "data": "x".repeat(70)},
            {"op": "receive", "summary": true},
            {"op": "receiveany", "max": 1},
            {"op": "close"},
            {"op": "close"}
        ]
    });
    let result = run_scenario(harness, "made_up_udp", &scenario.to_string());
    let got = results(&result["ops"]);
    let summary = cosocket_conformance::peer::summarize("x".repeat(70).as_bytes());
    assert_eq!(
        got,
        [
            json!([0, "udp", "ret", ["<table>"]]),
            json!([1, "settimeout", "ret", []]),
            json!([2, "setpeername", "ret", [1]]),
            json!([3, "send", "ret", [1]]),
            json!([4, "receive", "ret", ["ab"]]),
            json!([5, "send", "ret", [1]]),
            json!([6, "receive", "ret", [summary]]),
            json!([
                7,
                "receiveany",
                "error",
                "a udp socket has no method receiveany"
            ]),
            json!([8, "close", "ret", [1]]),
            json!([9, "close", "ret", [null, "closed"]]),
        ],
        "{result:#}"
    );
    assert_eq!(
        result["peer"],
        json!({"datagrams": ["ab1", "x".repeat(70)]})
    );
}

#[test]
fn stream_ops_on_tokio_current_thread() {
    stream_ops(&tokio_current());
}

#[test]
fn stream_ops_on_smol() {
    stream_ops(&smol());
}

#[test]
fn udp_ops_on_tokio_current_thread() {
    udp_ops(&tokio_current());
}

#[test]
fn udp_ops_on_smol() {
    udp_ops(&smol());
}

#[test]
fn a_bad_scenario_file_is_an_error_result() {
    let result = run_scenario(&smol(), "broken", "{\"ops\": []}");
    assert_eq!(result["scenario"], "broken");
    assert_eq!(result["ops"], json!([]));
    assert!(
        result["error"].as_str().unwrap().contains("peer"),
        "{result}"
    );
}
