//! Timeouts and cancellation never leave a stale reply for the next request.

use std::time::Duration;

use bytes::Bytes;
use cosocket::Timeout;
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Error, Pipeline, Redis, Value, cmd};

use cosocket_conformance::cancel::at_random;

use super::{config, idle, within};

pub(crate) async fn timeout_closes_and_never_leaves_a_stale_reply<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let redis = Redis::new(
        cx.clone(),
        config(&server).timeouts(
            Timeout::Directive,
            Timeout::Directive,
            Duration::from_millis(150),
        ),
    );
    redis.set("k", "own value").await.unwrap();
    assert_eq!(idle(&redis, &cx), 1);
    // The reply (`+OK` after 400 ms) comes after the read timeout: the connection that
    // would receive it is closed, not pooled (lua-resty-redis closes on timeout too).
    let err = redis
        .query(&cmd!("DEBUG", "SLEEP", "0.4"))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(idle(&redis, &cx), 0);
    t.sleep_ms(400).await;
    // The next request gets its own reply, on a new connection.
    assert_eq!(redis.get("k").await.unwrap().unwrap(), "own value");
    let mut conn = redis.connection().await.unwrap();
    assert_eq!(conn.reused_times().unwrap(), 1);
    // On a held connection, the timed-out request closed it: the next one fails with
    // `closed` instead of reading the late `+OK`.
    let err = conn
        .query(&cmd!("DEBUG", "SLEEP", "0.3"))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let err = conn.query(&cmd!("GET", "k")).await.unwrap_err();
    assert_eq!(
        err.as_transport().map(|e| e.message()),
        Some("closed"),
        "{err:?}"
    );
}

pub(crate) async fn cancelled_request_makes_the_connection_unusable<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let redis = Redis::new(cx.clone(), config(&server));
    redis.set("k", "v").await.unwrap();
    let mut conn = redis.connection().await.unwrap();
    // Dropped after the request was sent, before its reply: the reply is still coming.
    let cancelled = within(&t, 50, conn.query(&cmd!("DEBUG", "SLEEP", "0.2"))).await;
    assert!(cancelled.is_none());
    let err = conn.query(&cmd!("GET", "k")).await.unwrap_err();
    assert!(matches!(err, Error::Unusable), "{err:?}");
    // Pooling it is refused too (cosocket's request-in-flight guard closes it).
    let mut conn = redis.connection().await.unwrap();
    let cancelled = within(&t, 50, conn.query(&cmd!("DEBUG", "SLEEP", "0.2"))).await;
    assert!(cancelled.is_none());
    let err = conn.set_keepalive().unwrap_err();
    assert_eq!(
        err.as_transport().map(|e| e.kind()),
        Some(cosocket::ErrorKind::RequestInFlight),
        "{err:?}"
    );
    assert_eq!(idle(&redis, &cx), 0);
    // A client call dropped mid-way drops (closes) its connection.
    let cancelled = within(&t, 50, redis.query(&cmd!("DEBUG", "SLEEP", "0.2"))).await;
    assert!(cancelled.is_none());
    assert_eq!(idle(&redis, &cx), 0);
    assert_eq!(redis.get("k").await.unwrap().unwrap(), "v");
    assert_eq!(idle(&redis, &cx), 1);
}

/// One request of the random-cancellation case and the reply it must get.
enum Request {
    Echo(String),
    Get(String),
    Pipeline(Vec<String>),
    BigEcho(usize),
    /// `DEBUG SLEEP` of this many ms, then an echo, in one pipeline.
    Slow(u64, String),
}

pub(crate) async fn random_cancellation_never_mismatches_replies<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let redis = Redis::new(cx.clone(), config(&server));
    // Every key's value names its key, so a reply for another request is recognisable.
    let keys = 50;
    let mut setup = Pipeline::new();
    for k in 0..keys {
        setup.push(cmd!("SET", format!("key:{k}"), format!("value of key:{k}")));
    }
    redis.pipeline(&setup).await.unwrap();
    let mut rng = fastrand::Rng::with_seed(0x0C05_C4E7);
    let (mut done, mut cancelled, mut mismatched) = (0, 0, 0);
    let requests = 600;
    for i in 0..requests {
        let request = match rng.u8(0..5) {
            4 => Request::Slow(rng.u64(0..6), format!("slow {i}")),
            0 => Request::Echo(format!("echo {i}")),
            1 => Request::Get(format!("key:{}", rng.usize(0..keys))),
            2 => Request::Pipeline((0..rng.usize(1..20)).map(|j| format!("p{i}.{j}")).collect()),
            _ => Request::BigEcho(rng.usize(10_000..300_000)),
        };
        // Cut at a random time or poll: before or after the send, in the middle of a
        // reply, or not at all.
        let mut cut = fastrand::Rng::with_seed(rng.u64(..));
        let ok = match &request {
            Request::Echo(s) => at_random(&t, &mut cut, redis.query(&cmd!("ECHO", s.as_str())))
                .await
                .map(|r| r.unwrap() == Value::Bulk(Bytes::from(s.clone()))),
            Request::Get(k) => at_random(&t, &mut cut, redis.get(k.as_str()))
                .await
                .map(|r| r.unwrap().unwrap() == format!("value of {k}")),
            Request::Pipeline(items) => {
                let mut p = Pipeline::new();
                items.iter().for_each(|s| p.push(cmd!("ECHO", s.as_str())));
                at_random(&t, &mut cut, redis.pipeline(&p)).await.map(|r| {
                    let r = r.unwrap();
                    r.len() == items.len()
                        && r.iter()
                            .zip(items)
                            .all(|(v, s)| v.as_bytes().map(|b| b == s.as_str()) == Some(true))
                })
            }
            Request::BigEcho(n) => {
                let payload = format!("{i:08}").repeat(n / 8);
                at_random(&t, &mut cut, redis.query(&cmd!("ECHO", payload.as_str())))
                    .await
                    .map(|r| r.unwrap().as_bytes().map(|b| b == payload.as_str()) == Some(true))
            }
            Request::Slow(ms, s) => {
                let p = Pipeline::new()
                    .cmd(cmd!("DEBUG", "SLEEP", format!("0.{ms:03}")))
                    .cmd(cmd!("ECHO", s.as_str()));
                at_random(&t, &mut cut, redis.pipeline(&p)).await.map(|r| {
                    let r = r.unwrap();
                    r[0].is_ok() && r[1].as_bytes().map(|b| b == s.as_str()) == Some(true)
                })
            }
        };
        match ok {
            None => cancelled += 1,
            Some(true) => done += 1,
            Some(false) => mismatched += 1,
        }
    }
    // Then every request runs to completion, and still gets its own reply.
    for k in 0..keys {
        let key = format!("key:{k}");
        assert_eq!(
            redis.get(key.as_str()).await.unwrap().unwrap(),
            format!("value of {key}")
        );
        done += 1;
    }
    eprintln!(
        "redis random cancellation: {} requests, {cancelled} cancelled, {done} completed, \
         {mismatched} mismatched",
        requests + keys
    );
    assert_eq!(mismatched, 0);
    // A floor against a vacuous run; how many are cut depends on the machine's load.
    assert!(cancelled >= 20, "only {cancelled} cancelled");
    assert!(done >= 100, "only {done} completed");
}
