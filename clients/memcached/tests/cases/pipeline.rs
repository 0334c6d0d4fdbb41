//! Pipelines, and the same commands through lua-resty-memcached.

use cosocket_conformance::servers::{Memcached as Server, OpenResty};
use cosocket_conformance::{Case, Harness};
use cosocket_memcached::{CasOutcome, Command, Error, Item, Pipeline, Reply, Store};

use super::{fresh, idle};

pub(crate) async fn pipeline_with_failing_commands_in_the_middle<H: Harness>(t: Case<H>) {
    let server = Server::start();
    let (cx, mc) = fresh(&t, &server);
    let pipeline = Pipeline::new()
        .set(b"n", b"1", 5, 0)
        .incr(b"n", 2)
        .set(b"s", b"text", 0, 0)
        .incr(b"s", 1)
        .cas(b"missing", b"v", 0, 0, 1)
        .get(b"n")
        .gets(&[b"s", b"missing", b"n"])
        .delete(b"s")
        .cmd(Command::Version)
        .touch(b"n", 100)
        .decr(b"n", 1)
        .touch(b"s", 100)
        .get_multi(&[b"s", b"n"])
        .store(Store::Append, b"n", b"0", 0, 0)
        .store(Store::Add, b"n", b"x", 0, 0)
        .get(b"n");
    let replies = mc.pipeline(&pipeline).await.unwrap();
    assert_eq!(replies.len(), 16);
    assert_eq!(replies[0].as_ref().unwrap(), &Reply::Stored);
    assert_eq!(replies[1].as_ref().unwrap(), &Reply::Number(3));
    assert_eq!(replies[2].as_ref().unwrap(), &Reply::Stored);
    assert!(matches!(&replies[3], Err(Error::Client(m)) if m.contains("non-numeric")));
    assert_eq!(replies[4].as_ref().unwrap(), &Reply::NotFound);
    assert_eq!(
        replies[5].as_ref().unwrap(),
        &Reply::Items(vec![Item {
            key: "n".into(),
            flags: 5,
            value: "3".into(),
            cas: None
        }])
    );
    let Reply::Items(items) = replies[6].as_ref().unwrap() else {
        panic!("{:?}", replies[6])
    };
    let keys: Vec<&[u8]> = items.iter().map(|i| i.key.as_ref()).collect();
    assert_eq!(keys, [&b"s"[..], b"n"]);
    assert_eq!(replies[7].as_ref().unwrap(), &Reply::Deleted);
    assert!(matches!(replies[8].as_ref().unwrap(), Reply::Version(_)));
    assert_eq!(replies[9].as_ref().unwrap(), &Reply::Touched);
    assert_eq!(replies[10].as_ref().unwrap(), &Reply::Number(2));
    assert_eq!(replies[11].as_ref().unwrap(), &Reply::NotFound);
    let n = |value: &str| Item {
        key: "n".into(),
        flags: 5,
        value: value.to_owned().into(),
        cas: None,
    };
    assert_eq!(replies[12].as_ref().unwrap(), &Reply::Items(vec![n("2")]));
    assert_eq!(replies[13].as_ref().unwrap(), &Reply::Stored);
    assert_eq!(replies[14].as_ref().unwrap(), &Reply::NotStored);
    assert_eq!(replies[15].as_ref().unwrap(), &Reply::Items(vec![n("20")]));
    // 500 commands in one send.
    let keys: Vec<String> = (0..500).map(|i| format!("key{i}")).collect();
    let mut big = Pipeline::new();
    for k in &keys {
        big = big.set(k.as_bytes(), k.as_bytes(), 0, 0);
    }
    let replies = mc.pipeline(&big).await.unwrap();
    assert!(replies.iter().all(|r| matches!(r, Ok(Reply::Stored))));
    let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    let items = mc.get_multi(&refs).await.unwrap();
    assert_eq!(items.len(), 500);
    assert!(items.iter().all(|i| i.key == i.value));
    assert_eq!(idle(&cx, &mc), 1);
}

/// lua-resty-memcached's results, one line each.
const LUA: &str = r#"
local memcached = require "resty.memcached"
local memc = memcached:new()
memc:set_timeout(2000)
assert(memc:connect("127.0.0.1", tonumber(ngx.var.arg_port)))
local function say(ok, err)
    if ok then ngx.say("ok:" .. tostring(ok)) elseif err then ngx.say("err:" .. err) else ngx.say("nil") end
end
local function value(v, flags, err)
    if v then ngx.say("value:" .. v .. ":flags:" .. flags) elseif err then ngx.say("err:" .. err) else ngx.say("nil") end
end
say(memc:set("a", "1"))
say(memc:incr("a", 5))
say(memc:set("s", "text"))
say(memc:incr("s", 1))
say(memc:add("a", "x"))
value(memc:get("missing"))
say(memc:decr("a", 10))
value(memc:get("a"))
say(memc:delete("missing"))
say(memc:touch("a", 100))
say(memc:set("f", "flagged", 0, 42))
value(memc:get("f"))
say(memc:append("a", "9"))
value(memc:get("a"))
local v, flags, cas = memc:gets("a")
say(memc:set("a", "new"))
say(memc:cas("a", "x", cas))
say(memc:replace("missing", "x"))
"#;

pub(crate) async fn results_match_lua_resty_memcached<H: Harness>(t: Case<H>) {
    let lua_server = Server::start();
    let openresty = OpenResty::start(&[("/memcached", LUA)]);
    let (status, lua) = openresty.get(&format!("/memcached?port={}", lua_server.port()));
    assert_eq!(status, 200, "{lua}");

    let server = Server::start();
    let (_cx, mc) = fresh(&t, &server);
    let mut ours: Vec<String> = Vec::new();
    let ok = |r: Result<bool, Error>, refusal: &str| match r {
        Ok(true) => "ok:1".to_owned(),
        Ok(false) => format!("err:{refusal}"),
        Err(e) => format!("err:{e}"),
    };
    let num = |r: Result<Option<u64>, Error>| match r {
        Ok(Some(n)) => format!("ok:{n}"),
        Ok(None) => "err:NOT_FOUND".to_owned(),
        Err(e) => format!("err:{e}"),
    };
    let value = |r: Option<Item>| match r {
        Some(i) => format!(
            "value:{}:flags:{}",
            String::from_utf8_lossy(&i.value),
            i.flags
        ),
        None => "nil".to_owned(),
    };
    ours.push(ok(mc.set("a", "1", 0, 0).await.map(|()| true), ""));
    ours.push(num(mc.incr("a", 5).await));
    ours.push(ok(mc.set("s", "text", 0, 0).await.map(|()| true), ""));
    ours.push(num(mc.incr("s", 1).await));
    ours.push(ok(mc.add("a", "x", 0, 0).await, "NOT_STORED"));
    ours.push(value(mc.get("missing").await.unwrap()));
    ours.push(num(mc.decr("a", 10).await));
    ours.push(value(mc.get("a").await.unwrap()));
    ours.push(ok(mc.delete("missing").await, "NOT_FOUND"));
    ours.push(ok(mc.touch("a", 100).await, "NOT_FOUND"));
    ours.push(ok(mc.set("f", "flagged", 42, 0).await.map(|()| true), ""));
    ours.push(value(mc.get("f").await.unwrap()));
    ours.push(ok(mc.append("a", "9").await, "NOT_STORED"));
    ours.push(value(mc.get("a").await.unwrap()));
    let unique = mc.gets("a").await.unwrap().unwrap().cas.unwrap();
    ours.push(ok(mc.set("a", "new", 0, 0).await.map(|()| true), ""));
    ours.push(ok(
        mc.cas("a", "x", 0, 0, unique)
            .await
            .map(|o| o == CasOutcome::Stored),
        "EXISTS",
    ));
    ours.push(ok(mc.replace("missing", "x", 0, 0).await, "NOT_STORED"));
    let lua: Vec<&str> = lua.lines().collect();
    assert_eq!(ours, lua);
    assert_eq!(
        lua[3],
        "err:CLIENT_ERROR cannot increment or decrement non-numeric value"
    );
}
