//! cosocket-memcached against a real `memcached` it starts itself (a free port): set and
//! get with flags, a multi-get, gets and cas, incr, a pipeline with a failing command in
//! the middle, and stats.
//!
//! ```sh
//! cargo run -p cosocket-memcached --example memcached --features tokio
//! cargo run -p cosocket-memcached --example memcached --features smol
//! ```
//!
//! Against a server of your own, the same code with `Config::tcp("127.0.0.1", 11211)`.

#[cfg(any(feature = "tokio", feature = "smol"))]
mod demo {
    use std::num::NonZeroUsize;
    use std::time::Duration;

    use cosocket::Cosockets;
    use cosocket_memcached::{CasOutcome, Config, Error, Memcached, Pipeline, Reply};

    /// Every call, printed and checked.
    pub(crate) async fn run<C: Cosockets>(cx: C, port: u16) -> Result<(), Error> {
        let config =
            Config::tcp("127.0.0.1", port).keepalive(Duration::from_secs(30), NonZeroUsize::new(8));
        let mc = Memcached::new(cx.clone(), config);

        mc.set("greeting", "hello", 7, 0).await?;
        let item = mc.get("greeting").await?.expect("just stored");
        println!(
            "get greeting       -> {:?} flags {}",
            item.value, item.flags
        );
        assert_eq!((item.value.as_ref(), item.flags), (&b"hello"[..], 7));

        mc.set("other", "world", 0, 0).await?;
        let items = mc.get_multi(&[b"greeting", b"missing", b"other"]).await?;
        println!("get greeting missing other -> {} items", items.len());
        assert_eq!(items.len(), 2);

        let unique = mc
            .gets("greeting")
            .await?
            .and_then(|i| i.cas)
            .expect("a cas unique");
        let first = mc.cas("greeting", "hi", 7, 0, unique).await?;
        let second = mc.cas("greeting", "hey", 7, 0, unique).await?;
        println!("cas twice with one unique -> {first:?}, {second:?}");
        assert_eq!((first, second), (CasOutcome::Stored, CasOutcome::Exists));

        mc.set("hits", "41", 0, 0).await?;
        let hits = mc.incr("hits", 1).await?;
        println!("incr hits          -> {hits:?}");
        assert_eq!(hits, Some(42));

        // One send, four replies; the refused command does not fail the others.
        let replies = mc
            .pipeline(
                &Pipeline::new()
                    .set(b"n", b"1", 0, 0)
                    .incr(b"greeting", 1)
                    .incr(b"n", 9)
                    .get(b"n"),
            )
            .await?;
        for (i, reply) in replies.iter().enumerate() {
            println!("pipeline reply {i}   -> {reply:?}");
        }
        assert!(matches!(replies[1], Err(Error::Client(_))));
        assert_eq!(replies[2].as_ref().ok(), Some(&Reply::Number(10)));

        let stats = mc.stats(None).await?;
        let version = &stats
            .iter()
            .find(|(n, _)| n == "version")
            .expect("a version")
            .1;
        println!(
            "stats              -> {} entries, memcached {version}",
            stats.len()
        );
        assert_eq!(version, &mc.version().await?);

        let pool = cx.pool_stats(&mc.config().pool_key()).expect("the pool");
        println!(
            "pool               -> {} idle of {} connections",
            pool.idle, pool.connections
        );
        assert_eq!(pool.idle, 1, "every request shared one connection");
        Ok(())
    }
}

#[cfg(feature = "tokio")]
fn main() {
    let server = cosocket_conformance::servers::Memcached::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cx = cosocket::Context::new(cosocket::tokio::Tokio::new(rt.handle().clone()));
    rt.block_on(demo::run(cx, server.port()))
        .expect("the requests");
    println!("ok (tokio, memcached on port {})", server.port());
}

#[cfg(all(feature = "smol", not(feature = "tokio")))]
fn main() {
    let server = cosocket_conformance::servers::Memcached::start();
    let cx = cosocket::Context::new(cosocket::smol::Smol::new());
    smol::block_on(demo::run(cx, server.port())).expect("the requests");
    println!("ok (smol, memcached on port {})", server.port());
}

#[cfg(not(any(feature = "tokio", feature = "smol")))]
fn main() {
    eprintln!(
        "pick a backend: cargo run -p cosocket-memcached --example memcached --features tokio (or smol)"
    );
    std::process::exit(2);
}
