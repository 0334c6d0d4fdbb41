//! Connecting: AUTH/SELECT, RESP3, Unix sockets, TLS, blocking commands.

use std::time::{Duration, Instant};

use bytes::Bytes;
use cosocket::prelude::*;
use cosocket::{ConnectOptions, Timeout};
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Config, Redis, Value, cmd};

use super::{SECOND, config, reused};

pub(crate) async fn auth_and_select_on_connect<H: Harness>(t: Case<H>) {
    let server = RedisServer::with_password("s3cret");
    let cx = t.cx();
    let anonymous = Redis::new(cx.clone(), config(&server));
    let err = anonymous.ping().await.unwrap_err();
    assert_eq!(err.as_server().unwrap().code(), "NOAUTH");
    let wrong = Redis::new(cx.clone(), config(&server).password("nope"));
    let err = wrong.ping().await.unwrap_err();
    assert_eq!(err.as_server().unwrap().code(), "WRONGPASS");
    // A failed setup is never pooled under the name that promises it.
    assert!(cx.pool_stats(&wrong.config().pool_name()).is_none());

    let db3 = Redis::new(cx.clone(), config(&server).password("s3cret").db(3));
    let db0 = Redis::new(cx.clone(), config(&server).password("s3cret"));
    let acl = Redis::new(
        cx.clone(),
        config(&server).username("default").password("s3cret"),
    );
    db3.set("where", "three").await.unwrap();
    assert_eq!(db0.get("where").await.unwrap(), None);
    assert_eq!(acl.get("where").await.unwrap(), None);
    // A pooled connection keeps its database: the second request reuses the first's.
    let mut conn = db3.connection().await.unwrap();
    assert_eq!(reused(&conn), 1);
    let info = conn.query(&cmd!("CLIENT", "INFO")).await.unwrap();
    let info = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
    assert!(info.contains(" db=3 "), "{info}");
    conn.set_keepalive().unwrap();
    assert_eq!(db3.get("where").await.unwrap().unwrap(), "three");
    // Three configurations, three pools.
    let names = [&db3, &db0, &acl].map(|r| r.config().pool_name());
    assert!(names[0] != names[1] && names[1] != names[2] && names[0] != names[2]);
    for name in &names {
        assert_eq!(cx.pool_stats(name).unwrap().idle, 1, "{name}");
    }
}

pub(crate) async fn resp3_types_and_pushes<H: Harness>(t: Case<H>) {
    let server = RedisServer::with_password("pw");
    let redis = Redis::new(t.cx(), config(&server).password("pw").resp3(true));
    redis.hset("h", "f", "v").await.unwrap();
    // HGETALL is a map in RESP3; the typed helper reads either.
    let map = redis.query(&cmd!("HGETALL", "h")).await.unwrap();
    assert_eq!(
        map,
        Value::Map(vec![(
            Value::Bulk(Bytes::from("f")),
            Value::Bulk(Bytes::from("v"))
        )])
    );
    assert_eq!(
        redis.hgetall("h").await.unwrap(),
        [(Bytes::from("f"), Bytes::from("v"))]
    );
    redis.query(&cmd!("SADD", "s", "x")).await.unwrap();
    assert_eq!(
        redis.query(&cmd!("SMEMBERS", "s")).await.unwrap(),
        Value::Set(vec![Value::Bulk(Bytes::from("x"))])
    );
    redis.query(&cmd!("ZADD", "z", 2.5, "m")).await.unwrap();
    assert_eq!(
        redis.query(&cmd!("ZSCORE", "z", "m")).await.unwrap(),
        Value::Double(2.5)
    );
    assert_eq!(
        redis.query(&cmd!("GET", "missing")).await.unwrap(),
        Value::Nil
    );
    // Client-side caching: invalidation pushes arrive on the connection between
    // replies; they are not taken for replies.
    let mut conn = redis.connection().await.unwrap();
    conn.query(&cmd!("CLIENT", "TRACKING", "ON")).await.unwrap();
    conn.query(&cmd!("SET", "tracked", "1")).await.unwrap();
    assert_eq!(
        conn.query(&cmd!("GET", "tracked")).await.unwrap(),
        Value::Bulk(Bytes::from("1"))
    );
    assert!(
        conn.query(&cmd!("SET", "tracked", "2"))
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        conn.query(&cmd!("GET", "tracked")).await.unwrap(),
        Value::Bulk(Bytes::from("2"))
    );
    conn.query(&cmd!("CLIENT", "TRACKING", "OFF"))
        .await
        .unwrap();
    conn.set_keepalive().unwrap();
    // Publish/subscribe over RESP3 pushes.
    let mut sub = redis.subscribe(&["c"]).await.unwrap();
    redis.publish("c", "pushed").await.unwrap();
    let m = sub.next_message().await.unwrap();
    assert_eq!(
        (m.channel, m.payload),
        (Bytes::from("c"), Bytes::from("pushed"))
    );
}

pub(crate) async fn unix_socket<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let redis = Redis::new(cx.clone(), Config::unix(server.unix_path()).db(1));
    redis.set("via", "unix").await.unwrap();
    assert_eq!(redis.get("via").await.unwrap().unwrap(), "unix");
    let mut conn = redis.connection().await.unwrap();
    let info = conn.query(&cmd!("CLIENT", "INFO")).await.unwrap();
    assert!(
        String::from_utf8_lossy(info.as_bytes().unwrap()).contains("laddr="),
        "{info:?}"
    );
    assert_eq!(reused(&conn), 2);
    conn.set_keepalive().unwrap();
    assert_eq!(cx.pool_stats(&redis.config().pool_name()).unwrap().idle, 1);
}

pub(crate) async fn tls_through_the_one_call_connect<H: Harness>(t: Case<H>) {
    let server = RedisServer::with_tls();
    let pki = server.pki().expect("a TLS server");
    let cx = t.cx();
    let redis = Redis::new(
        cx.clone(),
        config(&server).connect_options(ConnectOptions::new().tls(pki.verified())),
    );
    assert_eq!(redis.ping().await.unwrap(), "PONG");
    let value = "t".repeat(100_000);
    redis.set("secret", value.as_str()).await.unwrap();
    assert_eq!(redis.get("secret").await.unwrap().unwrap(), value);
    let conn = redis.connection().await.unwrap();
    assert_eq!(reused(&conn), 3);
    let mut conn = conn;
    let info = conn.stream_mut().tls_info().expect("a TLS connection");
    assert!(info.version.starts_with("TLSv1."), "{info:?}");
    conn.set_keepalive().unwrap();
    // Without TLS, the same server is unreachable: a plain client's reply is no RESP.
    let plain = Redis::new(
        cx.clone(),
        config(&server).timeouts(Timeout::Directive, Timeout::Directive, SECOND),
    );
    assert!(plain.ping().await.is_err());
    // Unverifiable: the CA is not trusted by default.
    let untrusted = Redis::new(
        cx,
        config(&server).connect_options(
            ConnectOptions::new().tls(cosocket::tls::TlsOptions::new().server_name("localhost")),
        ),
    );
    let err = untrusted.ping().await.unwrap_err();
    assert_eq!(
        err.as_transport().map(|e| e.kind()),
        Some(cosocket::ErrorKind::Verify),
        "{err:?}"
    );
}

pub(crate) async fn blpop_with_its_own_timeout<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    // A read timeout far below the server's BLPOP timeout: the BLPOP's read waits for the
    // server's answer anyway.
    let redis = Redis::new(
        t.cx(),
        config(&server).timeouts(
            Timeout::Directive,
            Timeout::Directive,
            Duration::from_millis(200),
        ),
    );
    let start = Instant::now();
    assert_eq!(
        redis
            .blpop(&["q"], Duration::from_millis(600))
            .await
            .unwrap(),
        None
    );
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(550), "{waited:?}");
    // An element pushed while BLPOP waits.
    let pusher = redis.clone();
    let push = t.spawn(async move {
        pusher.rpush("q2", &[b"job"]).await.unwrap();
    });
    let popped = async {
        let r = redis.blpop(&["q1", "q2"], Duration::from_secs(5)).await;
        r.unwrap()
    };
    let (popped, ()) = futures::join!(popped, push);
    assert_eq!(popped, Some((Bytes::from("q2"), Bytes::from("job"))));
    // The connection's own read timeout is back for the next request.
    let mut conn = redis.connection().await.unwrap();
    let err = conn.query(&cmd!("BLPOP", "never", 1)).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(redis.blpop(&[], Duration::ZERO).await.is_err());
}

#[allow(dead_code)]
fn _assert_send<C: Cosockets>(redis: Redis<C>) {
    fn send<T: Send>(_: T) {}
    send(async move { redis.get("k").await });
}
