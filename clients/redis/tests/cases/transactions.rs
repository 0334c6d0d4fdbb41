//! MULTI / EXEC.

use bytes::Bytes;
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Pipeline, Value, cmd};

use super::client;

pub(crate) async fn transactions<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    let tx = Pipeline::new()
        .cmd(cmd!("SET", "a", "x"))
        .cmd(cmd!("INCR", "a"))
        .cmd(cmd!("APPEND", "a", "y"))
        .cmd(cmd!("GET", "a"));
    let results = redis.transaction(&tx).await.unwrap().expect("not aborted");
    // A command that fails when executed is an error in its place; the others ran.
    assert_eq!(results.len(), 4);
    assert!(results[0].is_ok());
    assert!(matches!(&results[1], Value::Error(e) if e.code() == "ERR"));
    assert_eq!(results[2], Value::Int(2));
    assert_eq!(results[3], Value::Bulk(Bytes::from("xy")));
    // A command refused while queueing (wrong arity) aborts the whole transaction.
    let bad = Pipeline::new()
        .cmd(cmd!("SET", "b", "1"))
        .cmd(cmd!("SET", "b"));
    let err = redis.transaction(&bad).await.unwrap_err();
    assert_eq!(err.as_server().unwrap().code(), "EXECABORT");
    assert_eq!(redis.get("b").await.unwrap(), None);
    // The connection stayed in step through both.
    assert_eq!(redis.get("a").await.unwrap().unwrap(), "xy");
}

pub(crate) async fn watch_aborts_a_transaction<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    let mut conn = redis.connection().await.unwrap();
    assert!(conn.query(&cmd!("WATCH", "w")).await.unwrap().is_ok());
    // Another connection changes the watched key.
    redis.set("w", "changed").await.unwrap();
    let tx = Pipeline::new().cmd(cmd!("SET", "w", "mine"));
    assert_eq!(conn.transaction(&tx).await.unwrap(), None);
    assert_eq!(redis.get("w").await.unwrap().unwrap(), "changed");
    // Unwatched, the same transaction runs.
    let results = conn.transaction(&tx).await.unwrap().unwrap();
    assert!(results[0].is_ok());
    conn.set_keepalive().unwrap();
    assert_eq!(redis.get("w").await.unwrap().unwrap(), "mine");
}
