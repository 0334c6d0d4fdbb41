//! A server on a Unix socket (`memcached -s PATH`).

use cosocket::Cosockets;
use cosocket_conformance::servers::Memcached;
use cosocket_conformance::{Case, Harness};
use cosocket_memcached::{Config, Memcached as Client};

pub(crate) async fn unix_socket_server<H: Harness>(t: Case<H>) {
    let server = Memcached::start_unix();
    let path = server.unix_path();
    let cx = t.cx();
    let mc = Client::new(cx.clone(), Config::unix(&path));
    assert_eq!(mc.config().pool_key(), format!("unix:{}", path.display()));
    mc.set("k", "over a unix socket", 9, 0).await.unwrap();
    let item = mc.get("k").await.unwrap().unwrap();
    assert_eq!(
        (item.value.as_ref(), item.flags),
        (&b"over a unix socket"[..], 9)
    );
    assert_eq!(
        mc.incr("k", 1).await.unwrap_err().to_string(),
        "CLIENT_ERROR cannot increment or decrement non-numeric value"
    );
    assert!(!mc.version().await.unwrap().is_empty());
    let conn = mc.connection().await.unwrap();
    assert_eq!(conn.reused_times().unwrap(), 4);
    conn.set_keepalive().unwrap();
    assert_eq!(
        cx.pool_stats(&mc.config().pool_key()).map(|s| s.idle),
        Some(1)
    );
}
