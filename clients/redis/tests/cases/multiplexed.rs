//! One connection shared by many tasks.

use bytes::Bytes;
use cosocket_conformance::cancel::at_random;
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Error, Pipeline, Value, cmd};

use super::client;

pub(crate) async fn multiplexed_connection_shared_by_many_tasks<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    let mux = redis.multiplexed().await.unwrap();
    let id = mux.query(&cmd!("CLIENT", "ID")).await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..20 {
        let mux = mux.clone();
        let id = id.clone();
        tasks.push(t.spawn(async move {
            for i in 0..50 {
                let token = format!("task {task} request {i}");
                let echo = mux.query(&cmd!("ECHO", token.as_str())).await.unwrap();
                assert_eq!(echo, Value::Bulk(Bytes::from(token)));
                mux.query(&cmd!("INCR", "counter")).await.unwrap();
                if i % 10 == 0 {
                    // Every task talks to the same server connection.
                    assert_eq!(mux.query(&cmd!("CLIENT", "ID")).await.unwrap(), id);
                    let p = Pipeline::new()
                        .cmd(cmd!("ECHO", format!("{task}.{i}.a")))
                        .cmd(cmd!("LPUSH", "counter", "x"))
                        .cmd(cmd!("ECHO", format!("{task}.{i}.b")));
                    let r = mux.pipeline(&p).await.unwrap();
                    assert_eq!(r[0].as_bytes().unwrap(), format!("{task}.{i}.a").as_str());
                    assert!(matches!(&r[1], Value::Error(e) if e.code() == "WRONGTYPE"));
                    assert_eq!(r[2].as_bytes().unwrap(), format!("{task}.{i}.b").as_str());
                }
            }
        }));
    }
    for task in tasks {
        task.await;
    }
    assert_eq!(redis.get("counter").await.unwrap().unwrap(), "1000");
    // The multiplexed connection and the pooled one of `get`: two server clients.
    let list = redis.query(&cmd!("CLIENT", "LIST")).await.unwrap();
    let clients = list.as_bytes().unwrap().split(|&b| b == b'\n');
    assert_eq!(clients.filter(|l| !l.is_empty()).count(), 2);
    assert!(!mux.is_broken());
}

pub(crate) async fn multiplexed_random_cancellation_never_mismatches<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    let mux = redis.multiplexed().await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..8u64 {
        let mux = mux.clone();
        let t2 = t.clone();
        tasks.push(t.spawn(async move {
            let mut rng = fastrand::Rng::with_seed(0x6d75_7800 + task);
            let (mut done, mut cancelled, mut mismatched) = (0u32, 0u32, 0u32);
            for i in 0..150 {
                let token = format!("{task}:{i}:{}", "z".repeat(rng.usize(0..3) * 40_000));
                let outcome = if rng.bool() {
                    at_random(&t2, &mut rng, mux.query(&cmd!("ECHO", token.as_str())))
                        .await
                        .map(|r| r.unwrap().as_bytes().map(|b| b == token.as_str()) == Some(true))
                } else {
                    let p = Pipeline::new()
                        .cmd(cmd!("ECHO", token.as_str()))
                        .cmd(cmd!("PING"))
                        .cmd(cmd!("ECHO", format!("{token}!")));
                    at_random(&t2, &mut rng, mux.pipeline(&p)).await.map(|r| {
                        let r = r.unwrap();
                        r[0].as_bytes().map(|b| b == token.as_str()) == Some(true)
                            && r[1] == Value::Status(Bytes::from("PONG"))
                            && r[2].as_bytes().map(|b| b == format!("{token}!").as_str())
                                == Some(true)
                    })
                };
                match outcome {
                    None => cancelled += 1,
                    Some(true) => done += 1,
                    Some(false) => mismatched += 1,
                }
            }
            (done, cancelled, mismatched)
        }));
    }
    let (mut done, mut cancelled, mut mismatched) = (0, 0, 0);
    for task in tasks {
        let (d, c, m) = task.await;
        (done, cancelled, mismatched) = (done + d, cancelled + c, mismatched + m);
    }
    // After all that, the shared connection still pairs every reply with its request.
    for i in 0..20 {
        let token = format!("after {i}");
        assert_eq!(
            mux.query(&cmd!("ECHO", token.as_str())).await.unwrap(),
            Value::Bulk(Bytes::from(token))
        );
        done += 1;
    }
    eprintln!(
        "redis multiplexed random cancellation: {} requests from 8 tasks, {cancelled} \
         cancelled, {done} completed, {mismatched} mismatched",
        8 * 150 + 20
    );
    assert_eq!(mismatched, 0);
    // A floor against a vacuous run; how many are cut depends on the machine's load.
    assert!(cancelled >= 20, "only {cancelled} cancelled");
    assert!(!mux.is_broken());
}

pub(crate) async fn multiplexed_failure_fails_every_caller<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    let mux = redis.multiplexed().await.unwrap();
    let id = mux
        .query(&cmd!("CLIENT", "ID"))
        .await
        .unwrap()
        .as_int()
        .unwrap();
    // Callers queued behind a blocking command when the server kills the connection.
    let mut waiting = Vec::new();
    for i in 0..3 {
        let mux = mux.clone();
        waiting.push(t.spawn(async move {
            let key = format!("never{i}");
            mux.query(&cmd!("BLPOP", key.as_str(), 5)).await
        }));
    }
    t.sleep_ms(100).await;
    assert_eq!(
        redis
            .query(&cmd!("CLIENT", "KILL", "ID", id))
            .await
            .unwrap(),
        Value::Int(1)
    );
    for waiter in waiting {
        let err = waiter.await.unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
    }
    assert!(mux.is_broken());
    let err = mux.query(&cmd!("PING")).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    // The rest of the client is unaffected.
    assert_eq!(redis.ping().await.unwrap(), "PONG");
}
