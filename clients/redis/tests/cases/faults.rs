//! Limits, bad input and broken servers.

use std::io::{Read, Write};
use std::net::TcpListener;

use cosocket::Cosockets;
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Cmd, Config, Error, Limits, Pipeline, Redis, cmd};

use super::{config, idle};

pub(crate) async fn reply_limits_and_bad_input<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let limits = Limits {
        max_bulk: 1000,
        max_elements: 5,
        max_depth: 1,
    };
    let redis = Redis::new(cx.clone(), config(&server).limits(limits));
    // Refused before anything is sent: no connection was even opened.
    assert!(matches!(
        redis.query(&Cmd::default()).await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        redis.query(&Cmd::new("")).await,
        Err(Error::Input(_))
    ));
    assert!(matches!(
        redis.pipeline(&Pipeline::new()).await,
        Err(Error::Input(_))
    ));
    assert!(cx.pool_stats(&redis.config().pool_name()).is_none());

    redis.set("small", "x".repeat(1000).as_str()).await.unwrap();
    redis.set("big", "x".repeat(1001).as_str()).await.unwrap();
    assert_eq!(redis.get("small").await.unwrap().unwrap().len(), 1000);
    assert_eq!(idle(&redis, &cx), 1);
    // Over a limit: refused from the header, the connection closed, not pooled.
    let err = redis.get("big").await.unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    assert_eq!(idle(&redis, &cx), 0);
    redis
        .rpush("l", &[b"1", b"2", b"3", b"4", b"5", b"6"])
        .await
        .unwrap();
    let err = redis.lrange("l", 0, -1).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    assert_eq!(redis.lrange("l", 0, 4).await.unwrap().len(), 5);
    // Nested deeper than allowed.
    let err = redis
        .query(&cmd!("COMMAND", "INFO", "GET"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    // And the client goes on with new connections.
    assert_eq!(redis.get("small").await.unwrap().unwrap().len(), 1000);
}

/// A one-shot fake server: answers the first request it reads with `reply`, then closes.
fn fake_server(reply: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(4) {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(reply);
        }
    });
    port
}

pub(crate) async fn malformed_and_truncated_replies_close<H: Harness>(t: Case<H>) {
    let cx = t.cx();
    for (reply, expect) in [
        (
            &b"?what\r\n"[..],
            "protocol error: unknown reply type byte '?'",
        ),
        (b":12x\r\n", "protocol error: bad integer \"12x\""),
        // Found by the fuzz targets' review: `str::parse` takes a `+`, RESP does not.
        (b":+5\r\n", "protocol error: bad integer \"+5\""),
        (b"$+3\r\nabc\r\n", "protocol error: bad integer \"+3\""),
        (
            b"$3\r\nabcd\r\n",
            "protocol error: a bulk string not ended by CRLF",
        ),
        (b"$-2\r\n", "protocol error: bad length -2"),
        (b"*1\r\n$10\r\nabc", "closed"),
    ] {
        let port = fake_server(reply);
        let redis = Redis::new(cx.clone(), Config::tcp("127.0.0.1", port));
        let err = redis.get("k").await.unwrap_err();
        assert_eq!(err.to_string(), expect, "{reply:?}");
        match &err {
            Error::Protocol(_) => {}
            Error::Transport(e) => {
                // The truncated reply's partial is what was read of the bulk string.
                assert_eq!(e.kind(), cosocket::ErrorKind::Eof);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(idle(&redis, &cx), 0, "{reply:?}");
    }
    // Nothing listens: the connect error is cosocket's, with OpenResty's text.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let redis = Redis::new(cx, Config::tcp("127.0.0.1", port));
    let err = redis.ping().await.unwrap_err();
    assert_eq!(err.to_string(), "connection refused");
}
