//! The fuzz targets' checks, as plain functions: `fuzz_targets/<name>.rs` hands libFuzzer's
//! input to `<name>(data)`, and the `replay_corpus` test runs every committed seed of
//! `corpus/<name>/` through the same function on stable (`cargo test --manifest-path
//! fuzz/Cargo.toml`). Each function decodes its input with [`arbitrary::Unstructured`]
//! (mostly one byte per choice, so seeds can be written by hand: see `seed.py`), runs the
//! code under test and panics when it disagrees with a reference or breaks a promise.
//!
//! | target | code under test | check |
//! |---|---|---|
//! | `until` | `proto::until` (receiveuntil) | an independent KMP reference model |
//! | `readers` | `*l`, `*a`, exact, any, lent | a reference buffer; read limits independent of segmentation |
//! | `fragments` | `proto::fragments` | flattened bytes = the concatenation; partial writes resume |
//! | `host` | the `connect` host parser | a reference of nginx's rules; `std`'s IP parsers |
//! | `redis_reply` | the resumable RESP parser | split = whole = split with cancelled reads; limits |
//! | `memcached_reply` | the reply reader | split = whole; the value limit |
//! | `dns_message` | reply decoding, query encoding | no panic or loop; round trip of built answers |
//! | `http_head` | the head parser, the body framing | split = whole; header rules |
//! | `http_chunked` | chunked body decoding | a reference decoder; split = whole = cancelled |

pub mod reference;
pub mod session;
pub mod stream;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::pin;
use std::str::FromStr;
use std::task::Poll;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use cosocket_core::proto::fragments::{COALESCE_MAX, IOV_MAX};
use cosocket_core::proto::fuzzing::{Endpoint, parse_host};
use cosocket_core::{ErrorKind, Fragment, FragmentList, StreamRead};

use reference::{ReaderReference, RefUntil, UntilReference};
use session::{Op, Session, feed_segmented};
use stream::{MemStream, Step, block_on, poll_once};

/// One byte of input (0 once it is used up).
fn byte(u: &mut Unstructured<'_>) -> u8 {
    u8::arbitrary(u).unwrap_or(0)
}

/// A choice among `n` (n > 0).
fn pick(u: &mut Unstructured<'_>, n: usize) -> usize {
    usize::from(byte(u)) % n
}

fn flag(u: &mut Unstructured<'_>) -> bool {
    byte(u) & 1 == 1
}

/// `n` cuts of a byte stream: (length 1..=max, pause after it).
fn cuts(u: &mut Unstructured<'_>, n: usize, max: usize) -> Vec<(usize, bool)> {
    (0..n)
        .map(|_| {
            let b = byte(u);
            (1 + usize::from(b >> 1) % max, b & 1 == 1)
        })
        .collect()
}

const SEGMENTS: [usize; 6] = [1, 2, 3, 7, 16, 4096];

// ---------------------------------------------------------------------------------------
// until

/// The knobs of an `until` case, one byte each.
#[derive(Debug, Arbitrary)]
struct UntilKnobs {
    alphabet: u8,
    segment: u8,
    patterns: u8,
    ops: u8,
    cuts: u8,
}

/// `receiveuntil` (several iterators, mixed with `*l`, `*a` and exact reads) against the
/// reference model over arbitrary patterns on small alphabets (so self-overlap is common),
/// streams, segmentations, buffer sizes, sizes and inclusive on/off.
pub fn until(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(k) = UntilKnobs::arbitrary(&mut u) else {
        return;
    };
    const ALPHABETS: [&[u8]; 5] = [b"ab", b"ab-", b"ab\n\r", b"aaab", b"abc"];
    let abc = ALPHABETS[usize::from(k.alphabet) % ALPHABETS.len()];
    let letter = |b: u8| abc[usize::from(b) % abc.len()];
    let segment = SEGMENTS[usize::from(k.segment) % SEGMENTS.len()];
    let patterns: Vec<(Vec<u8>, bool)> = (0..1 + k.patterns % 2)
        .map(|_| {
            let len = 1 + pick(&mut u, 6);
            let p = (0..len).map(|_| letter(byte(&mut u))).collect();
            (p, flag(&mut u))
        })
        .collect();
    let chunks = cuts(&mut u, 1 + usize::from(k.cuts) % 8, 11);
    let n = patterns.len();
    let ops: Vec<Op> = (0..1 + usize::from(k.ops) % 24)
        .map(|_| {
            let (kind, it, size) = (pick(&mut u, 4), byte(&mut u), pick(&mut u, 6));
            match kind {
                0 | 1 => Op::Until(usize::from(it) % n, size),
                2 => Op::Exact(size % 4),
                _ if size == 5 => Op::All,
                _ => Op::Line,
            }
        })
        .collect();
    let stream: Vec<u8> = u.take_rest().iter().take(512).map(|&b| letter(b)).collect();

    let mut s = Session::new(segment);
    feed_segmented(&mut s, &stream, &chunks);
    let mut model = UntilReference {
        stream: stream.iter().copied().collect(),
        closed: false,
        untils: Vec::new(),
    };
    for (pattern, inclusive) in &patterns {
        s.untils.push(
            cosocket_core::Until::new(pattern)
                .expect("a non-empty pattern")
                .inclusive(*inclusive),
        );
        model.untils.push(RefUntil {
            pattern: pattern.clone(),
            inclusive: *inclusive,
            withheld: Vec::new(),
            done: false,
        });
    }
    for (i, &op) in ops.iter().enumerate() {
        let got = s.call(op);
        let want = model.call(op);
        assert_eq!(
            got,
            want,
            "op #{i} {op:?}; patterns {patterns:?}, stream {:?}, chunks {chunks:?}, segment {segment}",
            stream.escape_ascii().to_string()
        );
    }
}

// ---------------------------------------------------------------------------------------
// readers

#[derive(Debug, Arbitrary)]
struct ReaderKnobs {
    segment: u8,
    ops: u8,
    cuts: u8,
    /// Even: bytes over `ab\r\n`; odd: any bytes.
    raw: u8,
    /// The read limit of the segmentation-independence check.
    limit: u8,
}

/// Every plain reader (`*l`, `*a`, exact, any, and the lent `*l` and exact) over arbitrary
/// segmentations and buffer sizes against the reference buffer; and with a read limit,
/// every outcome but `receiveany`'s the same however the bytes arrived.
pub fn readers(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(k) = ReaderKnobs::arbitrary(&mut u) else {
        return;
    };
    let segment = SEGMENTS[usize::from(k.segment) % SEGMENTS.len()];
    let chunks = cuts(&mut u, 1 + usize::from(k.cuts) % 10, 16);
    let ops: Vec<Op> = (0..1 + usize::from(k.ops) % 30)
        .map(|_| {
            let b = byte(&mut u);
            let n = usize::from(b >> 3) % 9;
            match b % 8 {
                0 | 1 => Op::Line,
                2 => Op::All,
                3 | 4 => Op::Exact(n),
                5 | 6 => Op::Any(1 + n % 8),
                _ if n % 2 == 0 => Op::LineRef,
                _ => Op::ExactRef(n),
            }
        })
        .collect();
    let stream: Vec<u8> = u
        .take_rest()
        .iter()
        .take(400)
        .map(|&b| {
            if k.raw % 2 == 1 {
                b
            } else {
                b"ab\r\n"[usize::from(b % 4)]
            }
        })
        .collect();

    // 1. Against the reference.
    let mut s = Session::new(segment);
    feed_segmented(&mut s, &stream, &chunks);
    let mut model = ReaderReference {
        chunks: VecDeque::new(),
        buffered: Vec::new(),
        segment,
        fill: 0,
        eof: false,
        closed: false,
    };
    let (mut at, mut i) = (0, 0);
    while at < stream.len() {
        let end = (at + chunks[i % chunks.len()].0).min(stream.len());
        model.chunks.push_back(stream[at..end].to_vec());
        at = end;
        i += 1;
    }
    for (i, &op) in ops.iter().enumerate() {
        assert_eq!(
            s.call(op),
            model.call(op),
            "op #{i} {op:?}; stream {:?}, chunks {chunks:?}, segment {segment}",
            stream.escape_ascii().to_string()
        );
    }

    // 2. A read limit: whether a read passes does not depend on how its bytes arrived.
    if ops.iter().any(|op| matches!(op, Op::Any(_))) {
        return;
    }
    let limit = 1 + usize::from(k.limit) % 24;
    let run = |chunks: &[(usize, bool)]| {
        let mut s = Session::new(segment);
        s.limit = Some(limit);
        feed_segmented(&mut s, &stream, chunks);
        ops.iter().map(|&op| s.call(op)).collect::<Vec<_>>()
    };
    assert_eq!(
        run(&chunks),
        run(&[(stream.len().max(1), false)]),
        "limit {limit}, ops {ops:?}; stream {:?}, chunks {chunks:?}, segment {segment}",
        stream.escape_ascii().to_string()
    );
}

// ---------------------------------------------------------------------------------------
// fragments

/// A fragment tree from the input: at most `budget` nodes, depth at most 8; byte strings
/// around [`COALESCE_MAX`] are common.
fn fragment(u: &mut Unstructured<'_>, depth: usize, budget: &mut usize) -> Fragment {
    *budget = budget.saturating_sub(1);
    match byte(u) % 5 {
        0 | 1 => {
            let len = usize::from(byte(u) % 16);
            Fragment::Bytes(Bytes::copy_from_slice(u.bytes(len).unwrap_or_default()))
        }
        2 => {
            let len = [0, COALESCE_MAX - 1, COALESCE_MAX, COALESCE_MAX + 1, 2000][pick(u, 5)];
            Fragment::Bytes(Bytes::from(vec![byte(u); len]))
        }
        3 => Fragment::Integer(i64::arbitrary(u).unwrap_or(0)),
        _ if depth >= 8 || *budget == 0 => Fragment::List(Vec::new()),
        _ => {
            let mut items = Vec::new();
            for _ in 0..pick(u, 6) {
                if *budget == 0 {
                    break;
                }
                items.push(fragment(u, depth + 1, budget));
            }
            Fragment::List(items)
        }
    }
}

/// The reference flattening: the concatenation, integers as `to_string` writes them.
fn concat(f: &Fragment, out: &mut Vec<u8>) {
    match f {
        Fragment::Bytes(b) => out.extend_from_slice(b),
        Fragment::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Fragment::List(list) => list.iter().for_each(|f| concat(f, out)),
    }
}

/// Large byte strings (each its own slice) in the tree.
fn large(f: &Fragment) -> usize {
    match f {
        Fragment::Bytes(b) => usize::from(b.len() > COALESCE_MAX),
        Fragment::Integer(_) => 0,
        Fragment::List(list) => list.iter().map(large).sum(),
    }
}

/// Writes `list` out as a backend would, through writes of arbitrary sizes (some over
/// what was offered or left: a misbehaving backend, clamped), into a sink.
fn write_out(list: &mut FragmentList<'_>, u: &mut Unstructured<'_>) -> Vec<u8> {
    let mut sink = Vec::new();
    let mut rounds = 0;
    while !list.is_done() {
        rounds += 1;
        assert!(rounds < 100_000, "no progress: {list:?}");
        let mut offered = Vec::new();
        if flag(u) {
            let mut slices = Vec::new();
            list.io_slices(&mut slices);
            assert!(!slices.is_empty() && slices.len() <= IOV_MAX, "{list:?}");
            offered.extend(slices.iter().map(|s| s.to_vec()));
        } else {
            let mut stack = [std::io::IoSlice::new(&[]); 8];
            let width = 1 + pick(u, 8);
            let n = list.fill_io_slices(&mut stack[..width]);
            assert!(n >= 1 && n <= width, "{list:?}");
            offered.extend(stack[..n].iter().map(|s| s.to_vec()));
        }
        assert!(
            offered.iter().all(|s| !s.is_empty()),
            "an empty slice offered"
        );
        let total: usize = offered.iter().map(Vec::len).sum();
        let b = byte(u);
        let n = match b % 4 {
            0 => total,
            1 if rounds < 1000 => usize::from(b >> 2) % (total + 1),
            2 => 1 + usize::from(b >> 2) % total,
            _ => total,
        };
        let mut left = n;
        for s in &offered {
            let take = s.len().min(left);
            sink.extend_from_slice(&s[..take]);
            left -= take;
        }
        let before = list.written();
        // Now and then a count past the end: it is clamped.
        let reported = if n == list.remaining() && b == 255 {
            usize::MAX
        } else {
            n
        };
        list.advance(reported);
        assert_eq!(list.written(), (before + n).min(list.len()));
        assert_eq!(list.remaining(), list.len() - list.written());
    }
    sink
}

/// The flattener: for arbitrary nested fragment lists the flattened bytes (`to_bytes`,
/// and a write-out through `io_slices` / `fill_io_slices` / `advance` with arbitrary
/// partial writes) are the concatenation of the parts, large parts get slices of their
/// own, and the same holds for lists built by `push`, `push_copied` and `push_decimal`.
/// The flattener has no error case: nothing here may panic.
pub fn fragments(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut budget = 64;
    let tree = fragment(&mut u, 0, &mut budget);
    let mut want = Vec::new();
    concat(&tree, &mut want);

    let list = FragmentList::of(&tree);
    assert_eq!(list.to_bytes(), want, "{tree:?}");
    assert_eq!((list.len(), list.is_empty()), (want.len(), want.is_empty()));
    let big = large(&tree);
    let slices = list.slices();
    assert!(
        slices >= big && slices <= 2 * big + 1 && (slices == 0) == want.is_empty(),
        "{slices} slices for {big} large fragments: {list:?}"
    );
    let mut list = FragmentList::with_scratch(&tree, b"stale scratch".to_vec());
    assert_eq!(write_out(&mut list, &mut u), want);
    assert!(list.into_scratch().is_empty());

    // The same payload through the typed forms and the builder calls.
    let items = match &tree {
        Fragment::List(items) => items.clone(),
        other => vec![other.clone()],
    };
    assert_eq!(FragmentList::of(&items).to_bytes(), want);
    assert_eq!(FragmentList::of(&(&items[..], "")).to_bytes(), want);
    let mut flat = Vec::new();
    flatten(&tree, &mut flat);
    let mut built = FragmentList::new();
    let mut expect = Vec::new();
    for leaf in &flat {
        match leaf {
            Fragment::Bytes(b) if flag(&mut u) => {
                built.push(b);
                expect.extend_from_slice(b);
            }
            Fragment::Bytes(b) => {
                built.push_copied(b);
                expect.extend_from_slice(b);
            }
            Fragment::Integer(n) => {
                let n = *n;
                let text = match pick(&mut u, 6) {
                    0 => push_int(&mut built, n as i8),
                    1 => push_int(&mut built, n as u16),
                    2 => push_int(&mut built, n as i32),
                    3 => push_int(&mut built, n as u64),
                    4 => push_int(&mut built, -(i128::from(n) * i128::from(n))),
                    _ => push_int(&mut built, (n as u128) << 64 | n as u128),
                };
                expect.extend_from_slice(text.as_bytes());
            }
            Fragment::List(_) => unreachable!("flattened"),
        }
    }
    assert_eq!(built.to_bytes(), expect);
    assert_eq!(write_out(&mut built, &mut u), expect);
}

fn push_int<T>(list: &mut FragmentList<'_>, n: T) -> String
where
    T: cosocket_core::proto::fragments::Integer + ToString,
{
    list.push_decimal(n);
    n.to_string()
}

fn flatten(f: &Fragment, out: &mut Vec<Fragment>) {
    match f {
        Fragment::List(list) => list.iter().for_each(|f| flatten(f, out)),
        leaf => out.push(leaf.clone()),
    }
}

// ---------------------------------------------------------------------------------------
// host

/// `ngx_inet_addr` as its comment in `host.rs` describes it, written independently: four
/// dot-separated runs of decimal digits (empty runs are 0), each at most 255.
fn ref_inet_addr(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, part) in octets.iter_mut().zip(&parts) {
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v = part.bytes().try_fold(0u32, |v, b| {
            let v = v * 10 + u32::from(b - b'0');
            (v <= 255).then_some(v)
        })?;
        *o = v as u8;
    }
    Some(Ipv4Addr::from(octets))
}

/// nginx's port text: decimal digits, 1..=65535.
fn ref_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = text.bytes().try_fold(0u32, |v, b| {
        let v = v * 10 + u32::from(b - b'0');
        (v <= 65535).then_some(v)
    })?;
    u16::try_from(v).ok().filter(|&p| p != 0)
}

/// The host parser's rules (spec §2.1, §7), written from nginx's `ngx_parse_url` as
/// `host.rs` documents it: the endpoint, or the error's reason.
fn ref_parse_host(host: &str, port: u16) -> Result<Endpoint, &'static str> {
    if host.len() >= 5 && host.as_bytes()[..5].eq_ignore_ascii_case(b"unix:") {
        let path = &host[5..];
        return match path.len() {
            0 => Err("no path in the unix domain socket"),
            n if n > 107 => Err("too long path in the unix domain socket"),
            _ => Ok(Endpoint::Unix(path.into())),
        };
    }
    if let Some(inner) = host.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err("invalid host");
        };
        let (literal, rest) = (&inner[..close], &inner[close + 1..]);
        if rest.contains('/') {
            return Err("invalid host");
        }
        let port = match rest {
            "" => port,
            _ => match rest.strip_prefix(':') {
                None => return Err("invalid host"),
                Some(text) => ref_port(text).ok_or("invalid port")?,
            },
        };
        if literal.is_empty() {
            return Err("no host");
        }
        let ip: Ipv6Addr = literal.parse().map_err(|_| "invalid IPv6 address")?;
        let ip = ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4);
        return Ok(Endpoint::Addr(SocketAddr::new(ip, port)));
    }
    if host.contains(['/', '?']) {
        return Err("invalid host");
    }
    let name = match host.split_once(':') {
        Some((name, text)) => {
            ref_port(text).ok_or("invalid port")?;
            name
        }
        None => host,
    };
    if name.is_empty() {
        return Err("no host");
    }
    Ok(match ref_inet_addr(name) {
        Some(ip) => Endpoint::Addr(SocketAddr::new(IpAddr::V4(ip), port)),
        None => Endpoint::Name(name.to_owned(), port),
    })
}

/// The `connect` host parser: never panics; agrees with the reference of nginx's rules,
/// error texts included; and with `std` on the obvious IP literals: whatever `std` reads
/// as an IPv4 address is that address, a bracketed literal is an address exactly when
/// `std` reads an IPv6 address in it, and a bare IPv6 literal (`::1`) is never one.
pub fn host(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let port = u16::from_be_bytes([byte(&mut u), byte(&mut u)]);
    let mode = byte(&mut u);
    let rest = u.take_rest();
    let host: String = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // Text from the pieces of addresses, so that near-literals are common.
        const PIECES: [&str; 16] = [
            "0", "1", "25", "255", "256", ".", ":", "::", "[", "]", "ffff", "a", "/", "unix:", "%",
            "00",
        ];
        rest.iter().map(|&b| PIECES[usize::from(b % 16)]).collect()
    };
    let got = parse_host(&host, port);
    let want = ref_parse_host(&host, port);
    match (&got, &want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "host {host:?} port {port}"),
        (Err(e), Err(reason)) => {
            assert_eq!(e.kind(), ErrorKind::HostParse, "host {host:?}: {e}");
            assert_eq!(
                e.to_string(),
                format!("failed to parse host name \"{host}\": {reason}"),
                "host {host:?}"
            );
        }
        _ => panic!("host {host:?} port {port}: got {got:?}, the reference {want:?}"),
    }
    // std's parsers on the obvious cases.
    let name = host.split_once(':').map_or(host.as_str(), |(n, _)| n);
    if let Ok(ip) = Ipv4Addr::from_str(name) {
        if !host.contains(['/', '?']) && got.is_ok() {
            assert_eq!(
                got.as_ref().ok(),
                Some(&Endpoint::Addr(SocketAddr::new(IpAddr::V4(ip), port))),
                "host {host:?}"
            );
        }
        if !host.contains(['/', '?', ':']) {
            assert!(got.is_ok(), "std reads {host:?} as {ip}: {got:?}");
        }
    }
    if Ipv6Addr::from_str(&host).is_ok() {
        assert!(got.is_err(), "a bare IPv6 literal {host:?} parsed: {got:?}");
    }
    if let Some(inner) = host.strip_prefix('[') {
        if let Some((literal, "")) = inner.split_once(']') {
            match Ipv6Addr::from_str(literal) {
                Ok(ip) => {
                    let ip = ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4);
                    assert_eq!(
                        got.as_ref().ok(),
                        Some(&Endpoint::Addr(SocketAddr::new(ip, port))),
                        "host {host:?}"
                    );
                }
                Err(_) => assert!(got.is_err(), "host {host:?}: {got:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// redis_reply

#[derive(Debug, Arbitrary)]
struct RedisKnobs {
    segment: u8,
    max_bulk: u8,
    max_elements: u8,
    max_depth: u8,
    cuts: u8,
}

/// Checks a parsed value against the limits: (depth of non-empty aggregates).
fn redis_depth(v: &cosocket_redis::Value, limits: &cosocket_redis::Limits) -> usize {
    use cosocket_redis::Value;
    let aggregate = |items: &[Value], count: usize| -> usize {
        assert!(
            count <= limits.max_elements,
            "{count} elements over {limits:?}"
        );
        match items.iter().map(|v| redis_depth(v, limits)).max() {
            None => 0,
            Some(d) => d + 1,
        }
    };
    match v {
        Value::Bulk(b) | Value::Verbatim(_, b) => {
            assert!(
                b.len() <= limits.max_bulk,
                "bulk {} over {limits:?}",
                b.len()
            );
            0
        }
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            aggregate(items, items.len())
        }
        Value::Map(pairs) => {
            let items: Vec<Value> = pairs
                .iter()
                .flat_map(|(k, v)| [k.clone(), v.clone()])
                .collect();
            aggregate(&items, items.len())
        }
        _ => 0,
    }
}

/// How the replies of one case are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Everything in one piece.
    Whole,
    /// The cuts, every read polled to its end.
    Split,
    /// The cuts, every read that returns `Pending` dropped and made again.
    Cancel,
}

/// The RESP parser: the replies read from arbitrary bytes are the same whether the bytes
/// come whole, cut anywhere, or cut with every waiting read dropped and made again (the
/// parser resumes where it was); no input panics; a parsed reply keeps within the limits.
pub fn redis_reply(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(k) = RedisKnobs::arbitrary(&mut u) else {
        return;
    };
    let defaults = cosocket_redis::Limits::default();
    let limits = cosocket_redis::Limits {
        max_bulk: if k.max_bulk == 255 {
            defaults.max_bulk
        } else {
            usize::from(k.max_bulk % 64)
        },
        max_elements: if k.max_elements == 255 {
            defaults.max_elements
        } else {
            usize::from(k.max_elements % 16)
        },
        max_depth: if k.max_depth == 255 {
            defaults.max_depth
        } else {
            usize::from(k.max_depth % 8)
        },
    };
    let segment = SEGMENTS[usize::from(k.segment) % SEGMENTS.len()];
    let cut = cuts(&mut u, 1 + usize::from(k.cuts) % 8, 12);
    let payload = u.take_rest();
    let run = |mode: Mode| -> Vec<String> {
        let script = match mode {
            Mode::Whole => vec![Step::Data(payload.to_vec())],
            _ => MemStream::script(payload, &cut),
        };
        let mut sock = MemStream::new(segment, script);
        // As the connection sets it (`Limits::read_limit`).
        sock.set_read_limit(Some(limits.max_bulk.saturating_add(2).max(64 << 10)));
        let mut parser = cosocket_redis::fuzzing::Parser::default();
        let mut out = Vec::new();
        loop {
            let result = if mode == Mode::Cancel {
                loop {
                    let fut = pin!(parser.read(&mut sock, &limits));
                    if let Poll::Ready(r) = poll_once(fut) {
                        break r;
                    }
                }
            } else {
                block_on(parser.read(&mut sock, &limits))
            };
            match result {
                Ok(v) => {
                    assert!(!parser.in_reply(), "a reply ended inside a reply");
                    let depth = redis_depth(&v, &limits);
                    assert!(
                        depth <= limits.max_depth,
                        "depth {depth} over {limits:?}: {v:?}"
                    );
                    out.push(format!("{v:?}"));
                }
                Err(e) => {
                    out.push(format!("error: {e}"));
                    return out;
                }
            }
        }
    };
    let whole = run(Mode::Whole);
    assert_eq!(run(Mode::Split), whole, "cuts {cut:?}, segment {segment}");
    assert_eq!(
        run(Mode::Cancel),
        whole,
        "cancelled, cuts {cut:?}, segment {segment}"
    );
}

// ---------------------------------------------------------------------------------------
// memcached_reply

#[derive(Debug, Arbitrary)]
struct MemcachedKnobs {
    segment: u8,
    command: u8,
    max_value: u8,
    cuts: u8,
}

/// The memcached reply reader: the replies read from arbitrary bytes are the same whether
/// they come whole or cut anywhere; no input panics; no value is over the limit.
pub fn memcached_reply(data: &[u8]) {
    use cosocket_memcached::{Command, Reply, Store};
    let mut u = Unstructured::new(data);
    let Ok(k) = MemcachedKnobs::arbitrary(&mut u) else {
        return;
    };
    let cmd = match k.command % 11 {
        0 => Command::Get(std::borrow::Cow::Borrowed(&[b"k"]), false),
        1 => Command::Get(std::borrow::Cow::Borrowed(&[b"a", b"b"]), true),
        2 => Command::Store(Store::Set, b"k", 0, 0, b"v"),
        3 => Command::Store(Store::Cas(7), b"k", 0, 0, b"v"),
        4 => Command::Delete(b"k"),
        5 => Command::Arith(b"k", 1, true),
        6 => Command::Touch(b"k", 1),
        7 => Command::FlushAll(None),
        8 => Command::Version,
        9 => Command::Stats(None),
        _ => Command::Verbosity(1),
    };
    let max_value = if k.max_value == 255 {
        1 << 20
    } else {
        usize::from(k.max_value % 32)
    };
    let segment = SEGMENTS[usize::from(k.segment) % SEGMENTS.len()];
    let cut = cuts(&mut u, 1 + usize::from(k.cuts) % 8, 12);
    let payload = u.take_rest();
    let run = |whole: bool| -> Vec<String> {
        let script = if whole {
            vec![Step::Data(payload.to_vec())]
        } else {
            MemStream::script(payload, &cut)
        };
        let mut sock = MemStream::new(segment, script);
        // As the client sets it.
        sock.set_read_limit(Some(max_value.saturating_add(2).max(64 << 10)));
        let mut out = Vec::new();
        loop {
            match block_on(cosocket_memcached::fuzzing::read_reply(
                &mut sock, &cmd, max_value,
            )) {
                Ok(reply) => {
                    if let Ok(Reply::Items(items)) = &reply {
                        for item in items {
                            assert!(item.value.len() <= max_value, "{item:?} over {max_value}");
                        }
                    }
                    out.push(format!("{reply:?}"));
                }
                Err(e) => {
                    out.push(format!("error: {e}"));
                    return out;
                }
            }
        }
    };
    assert_eq!(
        run(false),
        run(true),
        "{cmd:?}, cuts {cut:?}, segment {segment}"
    );
}

// ---------------------------------------------------------------------------------------
// dns_message

/// The name in presentation form as the decoder writes it, from the text the query was
/// built from (labels of printable ASCII: only `\` is escaped).
fn dns_text(name: &str) -> String {
    let text = name.strip_suffix('.').unwrap_or(name);
    if text.is_empty() {
        return ".".to_owned();
    }
    text.replace('\\', "\\\\")
}

/// The name rules of RFC 1035 §2.3.4 the encoder promises.
fn dns_name_ok(name: &str) -> bool {
    if name == "." {
        return true;
    }
    let text = name.strip_suffix('.').unwrap_or(name);
    !text.is_empty()
        && text.is_ascii()
        && text.len() <= 253
        && text.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.bytes().any(|b| b.is_ascii_control() || b == b' ')
        })
}

/// DNS messages. Arbitrary bytes (raw, or after a real question so that the answer
/// section is reached) decode without panic or hang (compression loops are errors) and
/// never give more records than the limit. Built answers round-trip: a query from an
/// arbitrary name encodes exactly when the name is valid, is not its own answer (QR
/// clear), and with QR set and answer records (A, AAAA, TXT, CNAME, MX, compressed owner
/// and target names) appended decodes to exactly those records.
pub fn dns_message(data: &[u8]) {
    use cosocket_dns::fuzzing::{Question, Reply, parse_reply};
    use cosocket_dns::{Record, RecordData, RecordType};
    let mut u = Unstructured::new(data);
    let mode = byte(&mut u) % 3;
    const TYPES: [RecordType; 10] = [
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Cname,
        RecordType::Txt,
        RecordType::Mx,
        RecordType::Srv,
        RecordType::Ptr,
        RecordType::Ns,
        RecordType::Soa,
        RecordType::Other(99),
    ];
    let rtype = TYPES[pick(&mut u, TYPES.len())];
    let max_records = usize::from(byte(&mut u) % 8);
    let check = |msg: &[u8], id: u16, q: &Question| {
        let r = parse_reply(msg, id, q, max_records);
        if msg.len() < 12 {
            assert!(r.is_err(), "{msg:?}");
        }
        if let Ok(Reply::Answer(records)) = &r {
            assert!(records.len() <= max_records, "{records:?}");
        }
    };
    match mode {
        0 => {
            let q = Question::new("www.test", rtype).expect("a valid name");
            let msg = u.take_rest();
            let id = msg.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            check(msg, id, &q);
        }
        1 => {
            let q = Question::new("a.b", rtype).expect("a valid name");
            let id = 7;
            let mut msg = q.packet(id, true);
            msg[2] |= 0x80;
            msg[3] = byte(&mut u) & 0x0f;
            msg[6..8].copy_from_slice(&[0, byte(&mut u) % 8]);
            msg.extend_from_slice(u.take_rest());
            check(&msg, id, &q);
        }
        _ => {
            // A name: labels over a small alphabet, maybe a bad one.
            const LETTERS: &[u8] = b"abcXYZ09-_\\*";
            let mut name = String::new();
            for _ in 0..1 + pick(&mut u, 5) {
                if !name.is_empty() {
                    name.push('.');
                }
                let len = match byte(&mut u) {
                    255 => 64,
                    254 => 63,
                    253 => 0,
                    b => 1 + usize::from(b % 8),
                };
                for _ in 0..len {
                    let b = byte(&mut u);
                    name.push(match b {
                        250 => ' ',
                        251 => 'é',
                        _ => char::from(LETTERS[usize::from(b) % LETTERS.len()]),
                    });
                }
            }
            if flag(&mut u) {
                name.push('.');
            }
            let q = Question::new(&name, rtype);
            assert_eq!(q.is_ok(), dns_name_ok(&name), "{name:?}: {q:?}");
            let Ok(q) = q else { return };
            let id = u16::from_be_bytes([byte(&mut u), byte(&mut u)]);
            let mut msg = q.packet(id, flag(&mut u));
            assert!(
                matches!(parse_reply(&msg, id, &q, 8), Ok(Reply::Mismatch)),
                "a query taken for its answer"
            );
            msg[2] |= 0x80;
            let owner = dns_text(&name);
            let mut want = Vec::new();
            let count = pick(&mut u, 5);
            for _ in 0..count {
                let ttl = u32::from_be_bytes([byte(&mut u), 0, 1, byte(&mut u)]);
                let (code, rdata, data) = match pick(&mut u, 5) {
                    0 => {
                        let ip = [byte(&mut u), byte(&mut u), 2, 3];
                        (1u16, ip.to_vec(), RecordData::A(Ipv4Addr::from(ip)))
                    }
                    1 => {
                        let ip = [byte(&mut u); 16];
                        (28, ip.to_vec(), RecordData::Aaaa(Ipv6Addr::from(ip)))
                    }
                    2 => {
                        let strings: Vec<Bytes> = (0..pick(&mut u, 3))
                            .map(|_| {
                                let len = usize::from(byte(&mut u) % 6);
                                Bytes::copy_from_slice(u.bytes(len).unwrap_or_default())
                            })
                            .collect();
                        let mut rdata = Vec::new();
                        for s in &strings {
                            rdata.push(s.len() as u8);
                            rdata.extend_from_slice(s);
                        }
                        (16, rdata, RecordData::Txt(strings))
                    }
                    3 => (5, vec![0xc0, 12], RecordData::Cname(owner.clone())),
                    _ => {
                        // A label, then the question's name by pointer.
                        let preference = u16::from(byte(&mut u));
                        let rdata = [&preference.to_be_bytes()[..], b"\x02mx\xc0\x0c"].concat();
                        let exchange = if owner == "." {
                            "mx".to_owned()
                        } else {
                            format!("mx.{owner}")
                        };
                        (
                            15,
                            rdata,
                            RecordData::Mx {
                                preference,
                                exchange,
                            },
                        )
                    }
                };
                msg.extend_from_slice(&[0xc0, 12]);
                msg.extend_from_slice(&code.to_be_bytes());
                msg.extend_from_slice(&1u16.to_be_bytes());
                msg.extend_from_slice(&ttl.to_be_bytes());
                msg.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                msg.extend_from_slice(&rdata);
                want.push(Record {
                    name: owner.clone(),
                    ttl: if ttl & 0x8000_0000 != 0 { 0 } else { ttl },
                    class: 1,
                    data,
                });
            }
            msg[6..8].copy_from_slice(&(count as u16).to_be_bytes());
            match parse_reply(&msg, id, &q, 8) {
                Ok(Reply::Answer(records)) => assert_eq!(records, want, "{name:?}"),
                other => panic!("{name:?}: {other:?}, want {want:?}"),
            }
            // And any truncation of it decodes without panic.
            let cut = pick(&mut u, msg.len() + 1);
            check(&msg[..cut], id, &q);
        }
    }
}

// ---------------------------------------------------------------------------------------
// http_head, http_chunked

#[derive(Debug, Arbitrary)]
struct HttpKnobs {
    segment: u8,
    max_line: u8,
    max_headers: u8,
    chunk_size: u8,
    head: u8,
    cuts: u8,
}

fn http_limits(k: &HttpKnobs) -> cosocket_http::Limits {
    let defaults = cosocket_http::Limits::default();
    cosocket_http::Limits {
        max_line: if k.max_line == 255 {
            defaults.max_line
        } else {
            1 + usize::from(k.max_line % 64)
        },
        max_headers: if k.max_headers == 255 {
            defaults.max_headers
        } else {
            usize::from(k.max_headers % 8)
        },
        max_body: defaults.max_body,
        chunk_size: std::num::NonZeroUsize::new(1 + usize::from(k.chunk_size % 16))
            .expect("positive"),
    }
}

/// Reads a response's body to its end with `chunk`, dropping and remaking a read that
/// waits if `cancel`: the pieces and the end (or the error).
fn read_body(
    resp: &mut cosocket_http::Response<MemStream>,
    cancel: bool,
    chunk_size: usize,
) -> (Vec<u8>, Result<(), String>) {
    let mut body = Vec::new();
    loop {
        let next = if cancel {
            loop {
                if let Poll::Ready(r) = poll_once(pin!(resp.chunk())) {
                    break r;
                }
            }
        } else {
            block_on(resp.chunk())
        };
        match next {
            Ok(Some(piece)) => {
                assert!(
                    !piece.is_empty() && piece.len() <= chunk_size,
                    "a piece of {}",
                    piece.len()
                );
                body.extend_from_slice(&piece);
            }
            Ok(None) => return (body, Ok(())),
            Err(e) => return (body, Err(e.to_string())),
        }
    }
}

/// The response head parser, and the body framing it selects: a head (status line,
/// headers, interim 1xx responses) and its body read from arbitrary bytes are the same
/// whether they come whole or cut anywhere (the body also with cancelled reads); no input
/// panics; a parsed head keeps the promised rules (a final status in 100..=999, at most
/// `max_headers` headers, names without trailing blanks, trimmed values); a
/// `Content-Length` body that ends is exactly that long.
pub fn http_head(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(k) = HttpKnobs::arbitrary(&mut u) else {
        return;
    };
    let limits = http_limits(&k);
    let method = if k.head % 4 == 3 { "HEAD" } else { "GET" };
    let segment = SEGMENTS[usize::from(k.segment) % SEGMENTS.len()];
    let cut = cuts(&mut u, 1 + usize::from(k.cuts) % 8, 12);
    let payload = u.take_rest();
    let run = |mode: Mode| -> String {
        let script = match mode {
            Mode::Whole => vec![Step::Data(payload.to_vec())],
            _ => MemStream::script(payload, &cut),
        };
        let mut sock = MemStream::new(segment, script);
        sock.set_read_limit(Some(limits.max_line));
        let parts = match block_on(cosocket_http::fuzzing::read_head(&mut sock, &limits)) {
            Ok(parts) => parts,
            Err(e) => return format!("head error: {e}"),
        };
        let (version, status, reason, headers) = &parts;
        assert!(*version <= 1);
        assert!((100..=999).contains(status) && !(100..200).contains(status) || *status == 101);
        assert!(!reason.contains(['\r', '\n']), "{reason:?}");
        assert!(
            headers.len() <= limits.max_headers,
            "{} headers",
            headers.len()
        );
        for (name, value) in headers {
            assert!(!name.is_empty() && !name.ends_with([' ', '\t']), "{name:?}");
            assert!(!name.starts_with([' ', '\t']), "a folded line {name:?}");
            assert_eq!(value.trim_matches([' ', '\t']), value);
        }
        let head = format!("{parts:?}");
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<u64>().ok());
        let chunked = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"));
        let no_body = method == "HEAD" || matches!(status, 204 | 304) || *status < 200;
        let mut resp = match cosocket_http::fuzzing::response(sock, method, parts, limits) {
            Ok(resp) => resp,
            Err(e) => return format!("{head} framing error: {e}"),
        };
        let (body, end) = read_body(&mut resp, mode == Mode::Cancel, limits.chunk_size.get());
        if let (Ok(()), Some(n), false, false) = (&end, length, chunked, no_body) {
            assert_eq!(
                body.len() as u64,
                n,
                "a Content-Length body of another length"
            );
        }
        format!("{head} body {:?} {end:?}", body.escape_ascii().to_string())
    };
    let whole = run(Mode::Whole);
    assert_eq!(run(Mode::Split), whole, "cuts {cut:?}, segment {segment}");
    assert_eq!(
        run(Mode::Cancel),
        whole,
        "cancelled, cuts {cut:?}, segment {segment}"
    );
}

/// The chunked body as RFC 9112 §7.1 frames it, decoded independently: size lines of 1 to
/// 15 hex digits (blanks around them and `;extensions` ignored), each chunk's data and its
/// CRLF, the last chunk, at most `max_headers` trailer lines and the empty line. Lines end
/// at LF with every CR removed (cosocket's `*l`) and may be `max_line` bytes with the LF.
fn ref_chunked(input: &[u8], limits: &cosocket_http::Limits) -> Result<Vec<u8>, ()> {
    let mut pos = 0;
    let line = |pos: &mut usize| -> Result<Vec<u8>, ()> {
        let lf = input[*pos..].iter().position(|&b| b == b'\n').ok_or(())?;
        if lf + 1 > limits.max_line {
            return Err(());
        }
        let text = input[*pos..*pos + lf]
            .iter()
            .copied()
            .filter(|&b| b != b'\r')
            .collect();
        *pos += lf + 1;
        Ok(text)
    };
    let mut body = Vec::new();
    loop {
        let size_line = line(&mut pos)?;
        // The size field: before any `;`, SP and HTAB trimmed, at most 15 characters.
        let field = size_line.split(|&b| b == b';').next().unwrap_or_default();
        let blank = |b: &u8| *b == b' ' || *b == b'\t';
        let start = field.iter().position(|b| !blank(b)).unwrap_or(field.len());
        let end = field
            .iter()
            .rposition(|b| !blank(b))
            .map_or(start, |i| i + 1);
        let digits = &field[start..end];
        if digits.is_empty() || digits.len() > 15 {
            return Err(());
        }
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(());
        }
        let size = u64::from_str_radix(std::str::from_utf8(digits).map_err(|_| ())?, 16)
            .map_err(|_| ())?;
        if size == 0 {
            let mut trailers = 0;
            loop {
                if line(&mut pos)?.is_empty() {
                    return Ok(body);
                }
                if trailers == limits.max_headers {
                    return Err(());
                }
                trailers += 1;
            }
        }
        let size = usize::try_from(size).map_err(|_| ())?;
        if input.len() - pos < size {
            return Err(());
        }
        body.extend_from_slice(&input[pos..pos + size]);
        pos += size;
        if limits.max_line < 2 || input.get(pos..pos + 2) != Some(b"\r\n") {
            return Err(());
        }
        pos += 2;
    }
}

/// Chunked body decoding: the body read from arbitrary bytes after a chunked head is what
/// the reference decoder finds (or both fail), and the same whether the bytes come whole,
/// cut anywhere, or cut with every waiting read dropped and made again; every piece is at
/// most `chunk_size` bytes.
pub fn http_chunked(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(k) = HttpKnobs::arbitrary(&mut u) else {
        return;
    };
    let limits = http_limits(&k);
    let segment = SEGMENTS[usize::from(k.segment) % SEGMENTS.len()];
    let cut = cuts(&mut u, 1 + usize::from(k.cuts) % 8, 12);
    let payload = u.take_rest();
    let te = ["chunked", "gzip, chunked", "Chunked"][usize::from(k.head) % 3];
    let run = |mode: Mode| -> (Vec<u8>, Result<(), String>) {
        let script = match mode {
            Mode::Whole => vec![Step::Data(payload.to_vec())],
            _ => MemStream::script(payload, &cut),
        };
        let mut sock = MemStream::new(segment, script);
        sock.set_read_limit(Some(limits.max_line));
        let head = (
            1,
            200,
            "OK".to_owned(),
            vec![("Transfer-Encoding".to_owned(), te.to_owned())],
        );
        let mut resp =
            cosocket_http::fuzzing::response(sock, "GET", head, limits).expect("a chunked head");
        assert!(resp.is_chunked());
        read_body(&mut resp, mode == Mode::Cancel, limits.chunk_size.get())
    };
    let whole = run(Mode::Whole);
    let want = ref_chunked(payload, &limits);
    match (&whole, &want) {
        ((body, Ok(())), Ok(w)) => assert_eq!(body, w, "{limits:?}"),
        ((_, Err(_)), Err(())) => {}
        _ => panic!(
            "{:?} {limits:?}: got {whole:?}, the reference {want:?}",
            payload.escape_ascii().to_string()
        ),
    }
    assert_eq!(run(Mode::Split), whole, "cuts {cut:?}, segment {segment}");
    assert_eq!(
        run(Mode::Cancel),
        whole,
        "cancelled, cuts {cut:?}, segment {segment}"
    );
}

// ---------------------------------------------------------------------------------------

/// A target's check.
pub type Check = fn(&[u8]);

/// Every target by name, for the replay test.
pub const TARGETS: [(&str, Check); 9] = [
    ("until", until),
    ("readers", readers),
    ("fragments", fragments),
    ("host", host),
    ("redis_reply", redis_reply),
    ("memcached_reply", memcached_reply),
    ("dns_message", dns_message),
    ("http_head", http_head),
    ("http_chunked", http_chunked),
];

#[cfg(test)]
mod tests {
    use super::TARGETS;

    /// Every committed seed of every target through its check, on stable: what CI runs.
    #[test]
    fn replay_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        for (name, check) in TARGETS {
            let dir = root.join(name);
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("no corpus for {name} ({}): {e}", dir.display()));
            let mut files: Vec<_> = entries
                .map(|e| e.expect("a readable entry").path())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "no seeds in {}", dir.display());
            for file in files {
                let data = std::fs::read(&file).expect("a readable seed");
                eprintln!("{name}: {}", file.display());
                check(&data);
            }
        }
    }
}
