//! Timeouts and cancellation never leave a stale reply for the next request.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use cosocket::{Cosockets, Timeout};
use cosocket_conformance::cancel::{within_ms, within_polls};
use cosocket_conformance::servers::Memcached as Server;
use cosocket_conformance::{Case, Harness};
use cosocket_memcached::{Config, Error, Item, Memcached, Pipeline, Reply};

use super::{fresh, idle};

/// A server that answers every `get` with its key's value after `delay_ms`, one
/// connection after another.
fn slow_server(delay_ms: u64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(8) {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = [0; 1024];
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let key = line.trim_end().trim_start_matches("get ").to_owned();
                    std::thread::sleep(Duration::from_millis(delay_ms));
                    let reply = format!("VALUE {key} 0 {}\r\n{key}\r\nEND\r\n", key.len());
                    if conn.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A server that accepts and reads, and never answers.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(4) {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = [0; 1024];
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

pub(crate) async fn read_timeout_on_a_silent_server<H: Harness>(t: Case<H>) {
    let port = silent_server();
    let cx = t.cx();
    let mc = Memcached::new(
        cx.clone(),
        Config::tcp("127.0.0.1", port).timeouts(
            Timeout::Directive,
            Timeout::Directive,
            Duration::from_millis(100),
        ),
    );
    for _ in 0..2 {
        let started = Instant::now();
        let err = mc.set("k", "v", 0, 0).await.unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(
            err.as_transport().map(|e| e.kind()),
            Some(cosocket::ErrorKind::Timeout),
            "{err:?}"
        );
        assert!(err.is_timeout());
        assert_eq!(err.to_string(), "timeout");
        assert!(
            elapsed >= Duration::from_millis(90) && elapsed < Duration::from_millis(1500),
            "{elapsed:?}"
        );
        // Closed, not pooled: no connection of this key is left.
        let stats = cx.pool_stats(&mc.config().pool_key());
        assert_eq!(stats.map_or(0, |s| s.idle + s.connections), 0, "{stats:?}");
    }
}

pub(crate) async fn timeout_closes_and_never_leaves_a_stale_reply<H: Harness>(t: Case<H>) {
    let port = slow_server(200);
    let cx = t.cx();
    let mc = Memcached::new(
        cx.clone(),
        Config::tcp("127.0.0.1", port).timeouts(
            Timeout::Directive,
            Timeout::Directive,
            Duration::from_millis(100),
        ),
    );
    let err = mc.get("first").await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(idle(&cx, &mc), 0);
    // A held connection is closed by its timeout: the late reply is never read.
    let mut conn = mc.connection().await.unwrap();
    let get = cosocket_memcached::Command::Get(std::borrow::Cow::Borrowed(&[b"second"]), false);
    assert!(conn.execute(&get).await.unwrap_err().is_timeout());
    let err = conn.execute(&get).await.unwrap_err();
    assert_eq!(err.to_string(), "closed");
    // With time to answer, each get gets its own key back.
    let patient = Memcached::new(cx, Config::tcp("127.0.0.1", port));
    assert_eq!(patient.get("third").await.unwrap().unwrap().value, "third");
}

pub(crate) async fn cancelled_request_makes_the_connection_unusable<H: Harness>(t: Case<H>) {
    let port = slow_server(100);
    let cx = t.cx();
    let mc = Memcached::new(cx.clone(), Config::tcp("127.0.0.1", port));
    let mut conn = mc.connection().await.unwrap();
    let get = cosocket_memcached::Command::Get(std::borrow::Cow::Borrowed(&[b"one"]), false);
    assert!(within_ms(&t, 30, conn.execute(&get)).await.is_none());
    let err = conn.execute(&get).await.unwrap_err();
    assert!(matches!(err, Error::Unusable), "{err:?}");
    let mut conn = mc.connection().await.unwrap();
    assert!(within_ms(&t, 30, conn.execute(&get)).await.is_none());
    let err = conn.set_keepalive().unwrap_err();
    assert_eq!(
        err.as_transport().map(|e| e.kind()),
        Some(cosocket::ErrorKind::RequestInFlight)
    );
    // A client call dropped mid-way closes its connection; the next call is clean.
    assert!(within_ms(&t, 30, mc.get("two")).await.is_none());
    assert_eq!(idle(&cx, &mc), 0);
    assert_eq!(mc.get("three").await.unwrap().unwrap().value, "three");
    assert_eq!(idle(&cx, &mc), 1);
}

/// Runs `fut` to completion a third of the time; otherwise races it against a sleep of 0 to
/// 2 ms, or drops it at its first or second wake-up (at whichever await point it waits at:
/// connect, send, a header line, a data block).
async fn race<H: Harness, T>(
    t: &Case<H>,
    rng: &mut fastrand::Rng,
    fut: impl Future<Output = T>,
) -> Option<T> {
    match rng.u8(0..3) {
        0 => Some(fut.await),
        1 => within_ms(t, rng.u64(0..3), fut).await,
        _ => within_polls(rng.u32(1..3), fut).await,
    }
}

/// What a `get` of key `k` may return: the value of its last completed set, or of one of
/// its cancelled sets (each may or may not have reached memcached, and since its connection
/// was closed unread, it may even be applied after a later set made on another
/// connection); nothing only if no set of `k` completed yet. Never another key's value.
fn acceptable(
    k: usize,
    last: &[Option<String>],
    maybe: &[Vec<String>],
    got: Option<&Item>,
) -> bool {
    match got {
        None => last[k].is_none(),
        Some(item) => {
            item.key == format!("key{k}")
                && item.flags == k as u32
                && (last[k].as_deref().is_some_and(|v| item.value == v)
                    || maybe[k].iter().any(|v| item.value == v.as_str()))
        }
    }
}

pub(crate) async fn random_cancellation_never_mismatches_replies<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (cx, mc) = fresh(&t, &server);
    const KEYS: usize = 16;
    // Every value names its key and the set that wrote it; every fourth is about 200 KB, so
    // that cancellations also land in the middle of a data block, both ways.
    let value = |k: usize, version: u32| {
        let v = format!("key{k} version {version};");
        if version % 4 == 0 { v.repeat(8_000) } else { v }
    };
    let mut last: Vec<Option<String>> = vec![None; KEYS];
    let mut maybe: Vec<Vec<String>> = vec![Vec::new(); KEYS];
    let mut rng = fastrand::Rng::with_seed(0x6d63_6361);
    let (mut completed, mut cancelled, mut mismatched, mut version) = (0, 0, 0, 0u32);
    let requests = 600;
    for request in 0..requests {
        let k = rng.usize(0..KEYS);
        let key = format!("key{k}");
        let ok = match rng.u8(0..4) {
            0 => {
                version += 1;
                let v = value(k, version);
                match race(&t, &mut rng, mc.set(&key, &v, k as u32, 0)).await {
                    None => {
                        maybe[k].push(v);
                        None
                    }
                    Some(r) => {
                        last[k] = Some(v);
                        Some(r.is_ok())
                    }
                }
            }
            1 => race(&t, &mut rng, mc.get(&key))
                .await
                .map(|r| r.is_ok_and(|item| acceptable(k, &last, &maybe, item.as_ref()))),
            2 => {
                let j = rng.usize(0..KEYS);
                let other = format!("key{j}");
                let keys: [&[u8]; 2] = [key.as_bytes(), other.as_bytes()];
                race(&t, &mut rng, mc.get_multi(&keys)).await.map(|r| {
                    // memcached answers in the order asked, leaving out missing keys (a key
                    // asked twice is answered twice).
                    r.is_ok_and(|items| {
                        let mut items = items.iter();
                        [k, j].into_iter().all(|x| match items.as_slice().first() {
                            Some(i) if i.key == format!("key{x}") => {
                                items.next();
                                acceptable(x, &last, &maybe, Some(i))
                            }
                            _ => acceptable(x, &last, &maybe, None),
                        }) && items.next().is_none()
                    })
                })
            }
            _ => {
                version += 1;
                let v = value(k, version);
                let p = Pipeline::new()
                    .set(key.as_bytes(), v.as_bytes(), k as u32, 0)
                    .get(key.as_bytes());
                match race(&t, &mut rng, mc.pipeline(&p)).await {
                    None => {
                        maybe[k].push(v);
                        None
                    }
                    Some(r) => {
                        last[k] = Some(v.clone());
                        Some(r.is_ok_and(|r| {
                            matches!(&r[0], Ok(Reply::Stored))
                                && matches!(&r[1], Ok(Reply::Items(i))
                                    if i.len() == 1 && acceptable(k, &last, &maybe, Some(&i[0])))
                        }))
                    }
                }
            }
        };
        match ok {
            None => cancelled += 1,
            Some(true) => completed += 1,
            Some(false) => {
                mismatched += 1;
                eprintln!("request {request} on key{k}: a reply that is not its own");
            }
        }
    }
    // Afterwards, uncancelled: every key holds one of its own values.
    for k in 0..KEYS {
        let item = mc.get(format!("key{k}")).await.unwrap();
        if !acceptable(k, &last, &maybe, item.as_ref()) {
            mismatched += 1;
        }
    }
    eprintln!(
        "memcached random cancellation: {requests} requests, {cancelled} cancelled, \
         {completed} completed, {mismatched} mismatched"
    );
    assert_eq!(mismatched, 0);
    // A floor against a vacuous run; how many are cut depends on the machine's load.
    assert!(cancelled >= 10, "only {cancelled} cancelled");
    assert!(completed >= 100, "only {completed} completed");
    // The last request was clean: its connection is back in the pool.
    assert_eq!(idle(&cx, &mc), 1);
}
