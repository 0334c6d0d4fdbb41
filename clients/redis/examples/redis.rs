//! cosocket-redis against a real `redis-server` it starts itself (no persistence, a free
//! port): typed helpers, the generic call, a pipeline with a failing command in the
//! middle, a transaction, publish/subscribe, a blocking pop, and the pool at work.
//!
//! ```sh
//! cargo run -p cosocket-redis --example redis --features tokio
//! cargo run -p cosocket-redis --example redis --features smol
//! ```
//!
//! Against a server of your own, the same code with `Config::tcp("127.0.0.1", 6379)`.

#[cfg(any(feature = "tokio", feature = "smol"))]
mod demo {
    use std::num::NonZeroUsize;
    use std::time::Duration;

    use cosocket::{Cosockets, Timeout};
    use cosocket_redis::{Config, Error, Pipeline, Redis, Value, cmd};

    /// Every call, printed and checked.
    pub(crate) async fn run<C: Cosockets>(cx: C, port: u16) -> Result<(), Error> {
        let config = Config::tcp("127.0.0.1", port)
            .db(1)
            .keepalive(Duration::from_secs(30), NonZeroUsize::new(8))
            .timeouts(
                Timeout::Directive,
                Timeout::Directive,
                Duration::from_secs(2),
            );
        let redis = Redis::new(cx.clone(), config);

        redis.set("greeting", "hello").await?;
        let greeting = redis.get("greeting").await?;
        println!("GET greeting        -> {greeting:?}");
        assert_eq!(greeting.as_deref(), Some(&b"hello"[..]));

        let n = redis.incr_by("visits", 3).await?;
        println!("INCRBY visits 3     -> {n}");
        assert_eq!(n, 3);

        let v = redis
            .query(&cmd!("HSET", "user:1", "name", "ada", "lang", "rust"))
            .await?;
        println!("HSET user:1 …       -> {v:?}");
        assert_eq!(v, Value::Int(2));

        // One send, four replies; the failing one does not fail the others.
        let replies = redis
            .pipeline(
                &Pipeline::new()
                    .cmd(cmd!("SET", "counter", 10))
                    .cmd(cmd!("INCR", "counter"))
                    .cmd(cmd!("LPUSH", "counter", "x"))
                    .cmd(cmd!("GET", "counter")),
            )
            .await?;
        for (i, reply) in replies.iter().enumerate() {
            println!("pipeline reply {i}    -> {reply:?}");
        }
        assert!(matches!(&replies[2], Value::Error(e) if e.code() == "WRONGTYPE"));
        assert_eq!(replies[3].as_int(), Some(11));

        let results = redis
            .transaction(
                &Pipeline::new()
                    .cmd(cmd!("INCR", "tx"))
                    .cmd(cmd!("INCR", "tx")),
            )
            .await?
            .expect("no WATCH: never aborted");
        println!("MULTI … EXEC        -> {results:?}");
        assert_eq!(results, [Value::Int(1), Value::Int(2)]);

        let mut sub = redis.subscribe(&["news"]).await?;
        let receivers = redis.publish("news", "cosocket-redis works").await?;
        let message = sub.next_message().await?;
        println!("SUBSCRIBE news      -> {message:?} ({receivers} receiver)");
        assert_eq!(message.payload, "cosocket-redis works");
        assert!(matches!(sub.set_keepalive(), Err(Error::Subscribed)));
        sub.close()?;

        let popped = redis.blpop(&["jobs"], Duration::from_millis(300)).await?;
        println!("BLPOP jobs 0.3      -> {popped:?}");
        assert_eq!(popped, None);

        let stats = cx
            .pool_stats(&redis.config().pool_name())
            .expect("the client's pool");
        println!(
            "pool                -> {} idle of {} connections",
            stats.idle, stats.connections
        );
        assert_eq!(
            stats.idle, 1,
            "every request but the subscription shared one connection"
        );
        Ok(())
    }
}

#[cfg(feature = "tokio")]
fn main() {
    let server = cosocket_conformance::servers::RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cx = cosocket::Context::new(cosocket::tokio::Tokio::new(rt.handle().clone()));
    rt.block_on(demo::run(cx, server.port()))
        .expect("the requests");
    println!("ok (tokio, redis-server on port {})", server.port());
}

#[cfg(all(feature = "smol", not(feature = "tokio")))]
fn main() {
    let server = cosocket_conformance::servers::RedisServer::start();
    let cx = cosocket::Context::new(cosocket::smol::Smol::new());
    smol::block_on(demo::run(cx, server.port())).expect("the requests");
    println!("ok (smol, redis-server on port {})", server.port());
}

#[cfg(not(any(feature = "tokio", feature = "smol")))]
fn main() {
    eprintln!(
        "pick a backend: cargo run -p cosocket-redis --example redis --features tokio (or smol)"
    );
    std::process::exit(2);
}
