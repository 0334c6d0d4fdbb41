//! Bad input, limits, the pool, broken servers.

use std::io::{Read, Write};
use std::net::TcpListener;

use cosocket::Cosockets;
use cosocket_conformance::servers::Memcached as Server;
use cosocket_conformance::{Case, Harness};
use cosocket_memcached::{Config, Error, Memcached, Pipeline};

use super::{config, fresh, idle};

pub(crate) async fn keys_and_values_refused_before_sending<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let cx = t.cx();
    let mc = Memcached::new(cx.clone(), config(&server).max_value(1000));
    let long = "k".repeat(251);
    for bad in [
        "",
        "with space",
        "new\r\nline",
        "tab\there",
        "\x7f",
        long.as_str(),
    ] {
        let err = mc.set(bad, "v", 0, 0).await.unwrap_err();
        assert!(matches!(err, Error::InvalidKey(_)), "{bad:?}: {err:?}");
        let err = mc.get(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidKey(_)), "{bad:?}: {err:?}");
    }
    // One bad key of many refuses the whole multi-get, and the whole pipeline.
    let err = mc.get_multi(&[b"good", b"b a d"]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidKey(_)), "{err:?}");
    let p = Pipeline::new().set(b"fine", b"v", 0, 0).delete(b"not fine");
    assert!(matches!(mc.pipeline(&p).await, Err(Error::InvalidKey(_))));
    assert!(matches!(
        mc.pipeline(&Pipeline::new()).await,
        Err(Error::Input(_))
    ));
    assert!(matches!(mc.get_multi(&[]).await, Err(Error::Input(_))));
    // A value over the limit.
    let err = mc.set("k", vec![b'v'; 1001], 0, 0).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "too large: a value of 1001 bytes to store (the limit is 1000)"
    );
    let p = Pipeline::new()
        .set(b"fine", b"v", 0, 0)
        .set(b"k", &[b'v'; 1001], 0, 0);
    assert!(matches!(mc.pipeline(&p).await, Err(Error::TooLarge(_))));
    assert!(matches!(
        mc.stats(Some("two words")).await,
        Err(Error::Input(_))
    ));
    // Nothing was sent: no connection was even made, nothing was stored.
    assert!(cx.pool_stats(&mc.config().pool_key()).is_none());
    assert!(mc.get_multi(&[b"fine", b"k"]).await.unwrap().is_empty());
    mc.set("k", vec![b'v'; 1000], 0, 0).await.unwrap();
}

pub(crate) async fn oversized_value_in_a_reply_closes<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let cx = t.cx();
    let writer = Memcached::new(cx.clone(), config(&server));
    writer.set("big", vec![b'b'; 5000], 0, 0).await.unwrap();
    writer.set("small", "s", 0, 0).await.unwrap();
    let reader = Memcached::new(cx.clone(), config(&server).max_value(4096));
    assert_eq!(reader.get("small").await.unwrap().unwrap().value, "s");
    assert_eq!(idle(&cx, &reader), 1);
    // Refused from its VALUE line, before the data: the connection is closed.
    let err = reader.get("big").await.unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "too large: a value of 5000 bytes in a reply (the limit is 4096)"
    );
    assert_eq!(idle(&cx, &reader), 0);
    assert_eq!(reader.get("small").await.unwrap().unwrap().value, "s");
    assert_eq!(idle(&cx, &reader), 1);
    // Within our limit but not memcached's (its item size counts the key and the item
    // header too): its SERVER_ERROR, after which it skips the data block it was sent, so
    // the connection stays in step and is pooled.
    let err = writer
        .set("huge", vec![b'h'; 1 << 20], 0, 0)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server(m) if m == "object too large for cache"),
        "{err:?}"
    );
    assert_eq!(idle(&cx, &writer), 1);
    assert_eq!(writer.get("huge").await.unwrap(), None);
    assert_eq!(writer.get("small").await.unwrap().unwrap().value, "s");
}

pub(crate) async fn pool_reuses_one_connection<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (cx, mc) = fresh(&t, &server);
    for i in 0..50 {
        mc.set("k", i.to_string(), 0, 0).await.unwrap();
    }
    assert_eq!(idle(&cx, &mc), 1);
    let conn = mc.connection().await.unwrap();
    assert_eq!(conn.reused_times().unwrap(), 50);
    conn.set_keepalive().unwrap();
    // Two at once: two connections, both pooled after.
    let (a, b) = futures::join!(mc.connection(), mc.connection());
    a.unwrap().set_keepalive().unwrap();
    b.unwrap().set_keepalive().unwrap();
    assert_eq!(idle(&cx, &mc), 2);
    let stats = mc.stats(None).await.unwrap();
    let curr: u32 = stats
        .iter()
        .find(|(n, _)| n == "curr_connections")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    // memcached counts its listening socket too.
    assert!(curr <= 4, "{curr}");
}

/// A fake server answering each request it reads with `reply`.
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

pub(crate) async fn malformed_replies_close<H: Harness>(t: Case<H>) {
    let cx = t.cx();
    for (reply, expect) in [
        (&b"WHAT\r\n"[..], "protocol error: unexpected line \"WHAT\""),
        (
            b"VALUE k x 1\r\nv\r\nEND\r\n",
            "protocol error: a bad flags",
        ),
        (b"VALUE k 0 -1\r\n", "protocol error: a bad length"),
        // Unsigned decimals only: `str::parse` alone would take a `+`.
        (
            b"VALUE k 0 +1\r\nv\r\nEND\r\n",
            "protocol error: a bad length",
        ),
        (
            b"VALUE k +0 1\r\nv\r\nEND\r\n",
            "protocol error: a bad flags",
        ),
        (
            b"VALUE k 0 1\r\nvv\r\nEND\r\n",
            "protocol error: a data block not ended by CRLF",
        ),
        (b"VALUE k 0 10\r\nabc", "closed"),
        (b"STORED\r\n", "protocol error: unexpected line \"STORED\""),
    ] {
        let port = fake_server(reply);
        let mc = Memcached::new(cx.clone(), Config::tcp("127.0.0.1", port));
        let err = mc.get("k").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            expect,
            "{}",
            String::from_utf8_lossy(reply)
        );
        assert!(
            matches!(err, Error::Protocol(_) | Error::Transport(_)),
            "{err:?}"
        );
        assert_eq!(idle(&cx, &mc), 0);
    }
}
