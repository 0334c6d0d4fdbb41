//! Every command against the real server.

use cosocket_conformance::servers::Memcached as Server;
use cosocket_conformance::{Case, Harness};
use cosocket_memcached::{CasOutcome, Error, Item};

use super::fresh;

pub(crate) async fn get_and_set_with_flags<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    assert_eq!(mc.get("missing").await.unwrap(), None);
    mc.set("k", "v", 42, 0).await.unwrap();
    let item = mc.get("k").await.unwrap().unwrap();
    assert_eq!(
        item,
        Item {
            key: "k".into(),
            flags: 42,
            value: "v".into(),
            cas: None
        }
    );
    // Any bytes, CRLFs included: the data block is length-framed.
    let binary: Vec<u8> = (0..=255u8).chain(*b"\r\nEND\r\n").collect();
    mc.set("bin", &binary, u32::MAX, 0).await.unwrap();
    let item = mc.get("bin").await.unwrap().unwrap();
    assert_eq!(
        (item.value.as_ref(), item.flags),
        (binary.as_slice(), u32::MAX)
    );
    // An empty value, and a large one.
    mc.set("empty", "", 0, 0).await.unwrap();
    assert_eq!(mc.get("empty").await.unwrap().unwrap().value, "");
    let big = vec![b'x'; 1_000_000];
    mc.set("big", &big, 0, 0).await.unwrap();
    assert!(mc.get("big").await.unwrap().unwrap().value == big);
    // The longest key memcached takes.
    let key = "k".repeat(250);
    mc.set(&key, "long key", 0, 0).await.unwrap();
    assert_eq!(mc.get(&key).await.unwrap().unwrap().value, "long key");
}

pub(crate) async fn multi_get_leaves_out_missing_keys<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    for (i, k) in ["a", "b", "c"].iter().enumerate() {
        mc.set(k, format!("value {k}"), i as u32, 0).await.unwrap();
    }
    let items = mc.get_multi(&[b"a", b"nope", b"c", b"b"]).await.unwrap();
    let got: Vec<(&[u8], u32, &[u8])> = items
        .iter()
        .map(|i| (i.key.as_ref(), i.flags, i.value.as_ref()))
        .collect();
    assert_eq!(
        got,
        [
            (&b"a"[..], 0, &b"value a"[..]),
            (b"c", 2, b"value c"),
            (b"b", 1, b"value b")
        ]
    );
    let with_cas = mc.gets_multi(&[b"a", b"b"]).await.unwrap();
    assert!(with_cas.iter().all(|i| i.cas.is_some()));
    assert_ne!(with_cas[0].cas, with_cas[1].cas);
    assert!(mc.get_multi(&[b"x", b"y"]).await.unwrap().is_empty());
}

pub(crate) async fn add_replace_append_prepend<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    assert!(mc.add("k", "first", 1, 0).await.unwrap());
    assert!(!mc.add("k", "second", 2, 0).await.unwrap());
    assert!(!mc.replace("missing", "x", 0, 0).await.unwrap());
    assert!(mc.replace("k", "replaced", 3, 0).await.unwrap());
    assert!(mc.append("k", ">>").await.unwrap());
    assert!(mc.prepend("k", "<<").await.unwrap());
    assert!(!mc.append("missing", "x").await.unwrap());
    assert!(!mc.prepend("missing", "x").await.unwrap());
    let item = mc.get("k").await.unwrap().unwrap();
    // Append and prepend keep the flags.
    assert_eq!((item.value.as_ref(), item.flags), (&b"<<replaced>>"[..], 3));
}

pub(crate) async fn cas_outcomes<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    mc.set("k", "v1", 0, 0).await.unwrap();
    let unique = mc.gets("k").await.unwrap().unwrap().cas.unwrap();
    assert_eq!(
        mc.cas("k", "v2", 7, 0, unique).await.unwrap(),
        CasOutcome::Stored
    );
    // The same unique again: the item changed since.
    assert_eq!(
        mc.cas("k", "v3", 0, 0, unique).await.unwrap(),
        CasOutcome::Exists
    );
    let item = mc.gets("k").await.unwrap().unwrap();
    assert_eq!((item.value.as_ref(), item.flags), (&b"v2"[..], 7));
    assert_ne!(item.cas, Some(unique));
    assert_eq!(
        mc.cas("gone", "v", 0, 0, 1).await.unwrap(),
        CasOutcome::NotFound
    );
}

pub(crate) async fn delete_incr_decr<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    assert!(!mc.delete("k").await.unwrap());
    mc.set("k", "x", 0, 0).await.unwrap();
    assert!(mc.delete("k").await.unwrap());
    assert_eq!(mc.get("k").await.unwrap(), None);
    assert_eq!(mc.incr("n", 1).await.unwrap(), None);
    mc.set("n", "10", 0, 0).await.unwrap();
    assert_eq!(mc.incr("n", 5).await.unwrap(), Some(15));
    assert_eq!(mc.decr("n", 3).await.unwrap(), Some(12));
    // memcached's arithmetic: decr stops at 0, incr wraps at 2^64.
    assert_eq!(mc.decr("n", 100).await.unwrap(), Some(0));
    mc.set("max", u64::MAX.to_string(), 0, 0).await.unwrap();
    assert_eq!(mc.incr("max", 2).await.unwrap(), Some(1));
    mc.set("text", "abc", 0, 0).await.unwrap();
    let err = mc.incr("text", 1).await.unwrap_err();
    assert!(matches!(&err, Error::Client(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "CLIENT_ERROR cannot increment or decrement non-numeric value"
    );
    // The error line left the connection in step.
    assert_eq!(mc.incr("n", 1).await.unwrap(), Some(1));
}

pub(crate) async fn touch_and_expiry<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    assert!(!mc.touch("missing", 10).await.unwrap());
    mc.set("short", "x", 0, 1).await.unwrap();
    mc.set("touched", "y", 0, 1).await.unwrap();
    assert!(mc.touch("touched", 100).await.unwrap());
    assert!(mc.get("short").await.unwrap().is_some());
    // memcached's clock ticks in seconds: an item with exptime 1 is gone within 2 s.
    let mut gone = false;
    for _ in 0..30 {
        t.sleep_ms(100).await;
        if mc.get("short").await.unwrap().is_none() {
            gone = true;
            break;
        }
    }
    assert!(gone, "the item did not expire");
    assert_eq!(mc.get("touched").await.unwrap().unwrap().value, "y");
}

pub(crate) async fn flush_all_version_and_stats<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    let version = mc.version().await.unwrap();
    assert!(
        version.split('.').count() >= 3 && version.chars().next().unwrap().is_ascii_digit(),
        "{version}"
    );
    mc.set("a", "1", 0, 0).await.unwrap();
    mc.flush_all(None).await.unwrap();
    assert_eq!(mc.get("a").await.unwrap(), None);
    mc.set("b", "2", 0, 0).await.unwrap();
    mc.flush_all(Some(0)).await.unwrap();
    assert_eq!(mc.get("b").await.unwrap(), None);
    let stats = mc.stats(None).await.unwrap();
    let stat = |name: &str| {
        stats
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no stat {name}"))
    };
    assert_eq!(stat("version"), version);
    assert_eq!(stat("pid"), server.pid().to_string());
    assert_eq!(stat("cmd_flush"), "2");
    // Everything went through one pooled connection (plus the probe that saw the port).
    assert!(
        stat("total_connections").parse::<u32>().unwrap() <= 3,
        "{stats:?}"
    );
    mc.verbosity(1).await.unwrap();
    let settings = mc.stats(Some("settings")).await.unwrap();
    let setting = |name: &str| {
        settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(setting("item_size_max"), Some("1048576"));
    assert_eq!(setting("verbosity"), Some("1"));
    mc.verbosity(0).await.unwrap();
    // A group memcached does not know: its error line, the connection in step.
    let err = mc.stats(Some("nonsense")).await.unwrap_err();
    assert!(
        matches!(err, Error::UnknownCommand | Error::Client(_)),
        "{err:?}"
    );
    assert_eq!(mc.version().await.unwrap(), version);
}
