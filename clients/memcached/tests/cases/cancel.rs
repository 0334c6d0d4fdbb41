//! Timeouts and cancellation never leave a stale reply for the next request.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use cosocket::Timeout;
use cosocket_conformance::cancel::{at_random, within_ms};
use cosocket_conformance::servers::Memcached as Server;
use cosocket_conformance::{Case, Harness};
use cosocket_memcached::{Config, Error, Memcached, Pipeline, Reply};

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
    let get = cosocket_memcached::Command::Get(vec![b"second"], false);
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
    let get = cosocket_memcached::Command::Get(vec![b"one"], false);
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

pub(crate) async fn random_cancellation_never_mismatches_replies<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    let keys = 40;
    // Every key's value names its key; a large value for every fourth key.
    let value = |k: usize| {
        let v = format!("value of key{k};");
        if k % 4 == 0 { v.repeat(20_000) } else { v }
    };
    for k in 0..keys {
        mc.set(format!("key{k}"), value(k), k as u32, 0)
            .await
            .unwrap();
    }
    let mut rng = fastrand::Rng::with_seed(0x6d63);
    let (mut done, mut cancelled, mut mismatched) = (0, 0, 0);
    let requests = 600;
    for _ in 0..requests {
        let k = rng.usize(0..keys);
        let key = format!("key{k}");
        let outcome = match rng.u8(0..3) {
            0 => at_random(&t, &mut rng, mc.get(&key)).await.map(|r| {
                let item = r.unwrap().unwrap();
                item.value == value(k) && item.flags == k as u32 && item.key == key
            }),
            1 => {
                let j = rng.usize(0..keys);
                let other = format!("key{j}");
                let keys: [&[u8]; 2] = [key.as_bytes(), other.as_bytes()];
                at_random(&t, &mut rng, mc.get_multi(&keys)).await.map(|r| {
                    // A key asked twice is answered twice.
                    let items = r.unwrap();
                    items.len() == 2
                        && items[0].value == value(k)
                        && items.last().unwrap().value == value(j)
                })
            }
            _ => {
                // Rewrites the same value (so gets stay checkable) and reads it back.
                let v = value(k);
                let p = Pipeline::new()
                    .set(key.as_bytes(), v.as_bytes(), k as u32, 0)
                    .get(key.as_bytes());
                at_random(&t, &mut rng, mc.pipeline(&p)).await.map(|r| {
                    let r = r.unwrap();
                    matches!(&r[0], Ok(Reply::Stored))
                        && matches!(&r[1], Ok(Reply::Items(i)) if i[0].value == v)
                })
            }
        };
        match outcome {
            None => cancelled += 1,
            Some(true) => done += 1,
            Some(false) => mismatched += 1,
        }
    }
    eprintln!(
        "memcached random cancellation: {requests} requests, {cancelled} cancelled, {done} \
         completed, {mismatched} mismatched"
    );
    assert_eq!(mismatched, 0);
    assert!(cancelled >= 50, "only {cancelled} cancelled");
    assert!(done >= 100, "only {done} completed");
}
