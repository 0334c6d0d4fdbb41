//! Publish/subscribe.

use std::time::Duration;

use bytes::Bytes;
use cosocket_conformance::servers::RedisServer;
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Error, Message};

use super::{client, idle};

fn message(channel: &str, payload: &str) -> Message {
    Message {
        pattern: None,
        channel: Bytes::from(channel.to_owned()),
        payload: Bytes::from(payload.to_owned()),
    }
}

pub(crate) async fn publish_subscribe<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let redis = client(&t, &server);
    let mut sub = redis.subscribe(&["news", "sport"]).await.unwrap();
    assert_eq!(sub.subscriptions(), 2);
    assert_eq!(redis.publish("news", "first").await.unwrap(), 1);
    assert_eq!(redis.publish("sport", "second").await.unwrap(), 1);
    assert_eq!(redis.publish("weather", "nobody").await.unwrap(), 0);
    assert_eq!(sub.next_message().await.unwrap(), message("news", "first"));
    assert_eq!(
        sub.next_message().await.unwrap(),
        message("sport", "second")
    );
    // A pattern subscription, and a message published while it was being confirmed.
    sub.psubscribe(&["w*"]).await.unwrap();
    assert_eq!(sub.subscriptions(), 3);
    assert_eq!(redis.publish("weather", "rain").await.unwrap(), 1);
    let m = sub.next_message().await.unwrap();
    assert_eq!(m.pattern.as_deref(), Some(&b"w*"[..]));
    assert_eq!(m.channel, "weather");
    assert_eq!(m.payload, "rain");
    // A wait that times out with nothing read leaves the subscriber usable.
    sub.set_read_timeout(Duration::from_millis(100));
    let err = sub.next_message().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(redis.publish("news", "after the timeout").await.unwrap(), 1);
    sub.set_read_timeout(Duration::from_secs(2));
    assert_eq!(
        sub.next_message().await.unwrap(),
        message("news", "after the timeout")
    );
    // A message of 1 MiB.
    let big = "m".repeat(1 << 20);
    redis.publish("sport", big.as_str()).await.unwrap();
    assert_eq!(sub.next_message().await.unwrap().payload.len(), 1 << 20);
    // Unsubscribed from one channel, messages there stop.
    sub.unsubscribe(&["news"]).await.unwrap();
    assert_eq!(sub.subscriptions(), 2);
    assert_eq!(redis.publish("news", "lost").await.unwrap(), 0);
    sub.close().unwrap();
}

pub(crate) async fn subscribed_connection_refuses_keepalive<H: Harness>(t: Case<H>) {
    let server = RedisServer::start();
    let cx = t.cx();
    let redis = cosocket_redis::Redis::new(cx.clone(), super::config(&server));
    let mut sub = redis.subscribe(&["a", "b"]).await.unwrap();
    sub.psubscribe(&["p*"]).await.unwrap();
    // As lua-resty-redis: `subscribed state`, and the subscriber stays as it was.
    let err = sub.set_keepalive().unwrap_err();
    assert!(matches!(err, Error::Subscribed), "{err:?}");
    assert_eq!(err.to_string(), "subscribed state");
    redis.publish("a", "still here").await.unwrap();
    assert_eq!(
        sub.next_message().await.unwrap(),
        message("a", "still here")
    );
    // Requests that are not subscriptions cannot go through a plain connection's query.
    let mut conn = redis.connection().await.unwrap();
    let err = conn
        .query(&cosocket_redis::cmd!("SUBSCRIBE", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    conn.set_keepalive().unwrap();
    // Unsubscribed from everything (channels, then patterns), it may be pooled.
    sub.unsubscribe(&[]).await.unwrap();
    assert_eq!(sub.subscriptions(), 1);
    assert!(matches!(sub.set_keepalive(), Err(Error::Subscribed)));
    sub.punsubscribe(&[]).await.unwrap();
    assert_eq!(sub.subscriptions(), 0);
    sub.set_keepalive().unwrap();
    assert_eq!(idle(&redis, &cx), 2);
    // The pooled connection serves requests again.
    assert_eq!(redis.ping().await.unwrap(), "PONG");
}
