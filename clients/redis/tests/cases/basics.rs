//! Commands, typed helpers, values, pipelines and the pool.

use std::time::Duration;

use bytes::Bytes;
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Cmd, Error, Pipeline, Value, cmd};

use super::{client, idle, reused};

pub(crate) async fn commands_and_typed_helpers<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    assert_eq!(redis.ping().await.unwrap(), "PONG");
    assert_eq!(redis.get("missing").await.unwrap(), None);
    redis.set("k", "v1").await.unwrap();
    assert_eq!(redis.get("k").await.unwrap().unwrap(), "v1");
    assert_eq!(redis.exists(&["k", "missing"]).await.unwrap(), 1);
    assert_eq!(redis.incr_by("n", 5).await.unwrap(), 5);
    assert_eq!(redis.incr_by("n", -7).await.unwrap(), -2);
    assert!(redis.expire("n", 100).await.unwrap());
    assert!(!redis.expire("missing", 100).await.unwrap());
    let ttl = redis.ttl("n").await.unwrap();
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(redis.ttl("k").await.unwrap(), -1);
    assert_eq!(redis.ttl("missing").await.unwrap(), -2);
    redis
        .set_ex("short", "x", Duration::from_secs(50))
        .await
        .unwrap();
    assert!(redis.ttl("short").await.unwrap() > 40);
    assert!(redis.hset("h", "f1", "a").await.unwrap());
    assert!(!redis.hset("h", "f1", "b").await.unwrap());
    assert!(redis.hset("h", "f2", 2).await.unwrap());
    assert_eq!(redis.hget("h", "f1").await.unwrap().unwrap(), "b");
    assert_eq!(redis.hget("h", "nope").await.unwrap(), None);
    let mut all = redis.hgetall("h").await.unwrap();
    all.sort();
    assert_eq!(
        all,
        [
            (Bytes::from("f1"), Bytes::from("b")),
            (Bytes::from("f2"), Bytes::from("2"))
        ]
    );
    assert_eq!(redis.rpush("l", &[b"a", b"b", b"c"]).await.unwrap(), 3);
    assert_eq!(redis.lrange("l", 0, -1).await.unwrap(), ["a", "b", "c"]);
    assert_eq!(redis.del(&["k", "l", "missing"]).await.unwrap(), 2);
    // The generic call: any command, any reply.
    let v = redis
        .query(&cmd!("ZADD", "z", 1.5, "one", 2, "two"))
        .await
        .unwrap();
    assert_eq!(v, Value::Int(2));
    let v = redis
        .query(&cmd!("ZRANGE", "z", 0, -1, "WITHSCORES"))
        .await
        .unwrap();
    assert_eq!(
        v,
        Value::Array(
            ["one", "1.5", "two", "2"]
                .map(|s| Value::Bulk(Bytes::from(s)))
                .to_vec()
        )
    );
    assert_eq!(
        redis.query(&cmd!("TYPE", "h")).await.unwrap(),
        Value::Status(Bytes::from("hash"))
    );
    // A nil array (RESP2 `*-1`) and an empty one.
    assert_eq!(
        redis
            .query(&cmd!("LRANGE", "missing", 0, -1))
            .await
            .unwrap(),
        Value::Array(vec![])
    );
    // Nested arrays.
    let v = redis.query(&cmd!("COMMAND", "INFO", "GET")).await.unwrap();
    let inner = v.as_array().unwrap()[0].as_array().unwrap();
    assert_eq!(inner[0].as_bytes().unwrap(), "get");
    // Every helper above went through one pooled connection.
    let conn = redis.connection().await.unwrap();
    assert!(reused(&conn) >= 20, "{}", reused(&conn));
}

pub(crate) async fn large_and_binary_values<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    // Every byte value, CRLFs included: bulk strings are length-framed.
    let binary: Vec<u8> = (0..=255u8).cycle().take(1000).chain(*b"\r\n\r\n").collect();
    redis.set("bin", binary.as_slice()).await.unwrap();
    assert_eq!(redis.get("bin").await.unwrap().unwrap(), binary);
    // 4 MiB: many receive segments, one `Bytes`.
    let mut rng = fastrand::Rng::with_seed(7);
    let big: Vec<u8> = (0..4 << 20).map(|_| rng.u8(..)).collect();
    redis.set("big", &big).await.unwrap();
    let got = redis.get("big").await.unwrap().unwrap();
    assert_eq!(got.len(), big.len());
    assert!(got == big);
    // An empty value is `$0`, not nil.
    redis.set("empty", "").await.unwrap();
    assert_eq!(redis.get("empty").await.unwrap(), Some(Bytes::new()));
}

pub(crate) async fn server_errors_are_values_and_keep_the_connection<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let redis = cosocket_redis::Redis::new(cx.clone(), super::config(&server));
    let err = redis.query(&cmd!("NOSUCHCOMMAND", "x")).await.unwrap_err();
    let Error::Server(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.code(), "ERR");
    assert!(
        e.text().starts_with("ERR unknown command 'NOSUCHCOMMAND'"),
        "{e}"
    );
    redis.set("s", "x").await.unwrap();
    let err = redis.query(&cmd!("LPUSH", "s", "y")).await.unwrap_err();
    assert_eq!(err.as_server().unwrap().code(), "WRONGTYPE");
    // A typed helper that gets another type: a typed error, the connection in step.
    let err = redis.incr_by("s", 1).await.unwrap_err();
    assert_eq!(
        err.as_server().unwrap().text(),
        "ERR value is not an integer or out of range"
    );
    // The error replies left the connection in step: pooled, and reused.
    assert_eq!(idle(&redis, &cx), 1);
    let conn = redis.connection().await.unwrap();
    assert_eq!(reused(&conn), 4);
}

pub(crate) async fn pipeline_with_a_failing_command_in_the_middle<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    // What lua-resty-redis's `commit_pipeline` returns for the same commands: each
    // reply in its place, the error one as `{false, "WRONGTYPE …"}`.
    let p = Pipeline::new()
        .cmd(cmd!("SET", "a", 1))
        .cmd(cmd!("INCR", "a"))
        .cmd(cmd!("LPUSH", "a", "x"))
        .cmd(cmd!("INCR", "a"))
        .cmd(cmd!("GET", "a"))
        .cmd(cmd!("GET", "nothing"));
    let replies = redis.pipeline(&p).await.unwrap();
    assert_eq!(replies.len(), 6);
    assert!(replies[0].is_ok());
    assert_eq!(replies[1], Value::Int(2));
    let Value::Error(e) = &replies[2] else {
        panic!("{:?}", replies[2])
    };
    assert_eq!(
        e.text(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(replies[3], Value::Int(3));
    assert_eq!(replies[4], Value::Bulk(Bytes::from("3")));
    assert_eq!(replies[5], Value::Nil);
    // 1000 commands in one send.
    let mut big = Pipeline::new();
    for i in 0..1000 {
        big.push(cmd!("RPUSH", "list", i));
    }
    let replies = redis.pipeline(&big).await.unwrap();
    assert_eq!(replies.last(), Some(&Value::Int(1000)));
    assert_eq!(
        replies
            .iter()
            .filter(|v| matches!(v, Value::Int(_)))
            .count(),
        1000
    );
    // The pipeline's commands were sent as one request: one send's bytes.
    assert_eq!(
        Cmd::new("GET").arg("a").to_bytes(),
        "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
    );
}

pub(crate) async fn pool_reuses_one_connection<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let redis = cosocket_redis::Redis::new(cx.clone(), super::config(&server));
    let first = redis.query(&cmd!("CLIENT", "ID")).await.unwrap();
    for _ in 0..50 {
        assert_eq!(redis.query(&cmd!("CLIENT", "ID")).await.unwrap(), first);
    }
    assert_eq!(idle(&redis, &cx), 1);
    // Two connections at once: two server clients, both pooled after.
    let (a, b) = futures::join!(redis.connection(), redis.connection());
    let (mut a, mut b) = (a.unwrap(), b.unwrap());
    let ida = a.query(&cmd!("CLIENT", "ID")).await.unwrap();
    let idb = b.query(&cmd!("CLIENT", "ID")).await.unwrap();
    assert_ne!(ida, idb);
    a.set_keepalive().unwrap();
    b.set_keepalive().unwrap();
    assert_eq!(idle(&redis, &cx), 2);
    let clients = redis.query(&cmd!("CLIENT", "LIST")).await.unwrap();
    let list = clients.as_bytes().unwrap();
    assert_eq!(
        list.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        2
    );
}
