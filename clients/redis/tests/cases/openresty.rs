//! The same commands through lua-resty-redis (OpenResty's own client, in a real nginx
//! with lua-nginx-module) against the same server: the results must agree.

use cosocket_conformance::servers::{OpenResty, RedisServer};
use cosocket_conformance::{Case, Harness};
use cosocket_redis::{Pipeline, Value, cmd};

use super::client;

/// lua-resty-redis's results, one line each: `int:N`, `string:S` (status or bulk),
/// `nil`, `error:TEXT` (a `{false, err}` entry), `array:a,b`.
const RENDER: &str = r#"
local function render(r)
    if r == ngx.null then return "nil" end
    if type(r) == "number" then return "int:" .. r end
    if type(r) == "string" then return "string:" .. r end
    if type(r) == "table" and r[1] == false then return "error:" .. r[2] end
    local items = {}
    for i, v in ipairs(r) do items[i] = tostring(v) end
    return "array:" .. table.concat(items, ",")
end
"#;

const PIPELINE: &str = r#"
local redis = require "resty.redis"
local red = redis:new()
red:set_timeout(2000)
assert(red:connect("127.0.0.1", tonumber(ngx.var.arg_port)))
red:init_pipeline()
red:set("a", 1)
red:incr("a")
red:lpush("a", "x")
red:incr("a")
red:get("a")
red:get("nothing")
red:rpush("l", "p", "q")
red:lrange("l", 0, -1)
local results = assert(red:commit_pipeline())
for _, r in ipairs(results) do ngx.say(render(r)) end
red:multi()
red:set("t", "v")
red:incr("t")
red:get("t")
local results = assert(red:exec())
for _, r in ipairs(results) do ngx.say(render(r)) end
"#;

/// Our value in the same notation.
fn render(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(n) => format!("int:{n}"),
        Value::Status(s) | Value::Bulk(s) => format!("string:{}", String::from_utf8_lossy(s)),
        Value::Error(e) => format!("error:{}", e.text()),
        Value::Array(items) => format!(
            "array:{}",
            items
                .iter()
                .map(|i| String::from_utf8_lossy(i.as_bytes().unwrap()).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => panic!("not in RESP2: {other:?}"),
    }
}

pub(crate) async fn pipeline_and_transaction_match_lua_resty_redis<H: Harness>(t: Case<H>) {
    // lua-resty-redis first, on a server of its own.
    let lua_server = RedisServer::start();
    let openresty = OpenResty::start(&[("/pipeline", &format!("{RENDER}{PIPELINE}"))]);
    let (status, lua) = openresty.get(&format!("/pipeline?port={}", lua_server.port()));
    assert_eq!(status, 200, "{lua}");

    let server = RedisServer::start();
    let redis = client(&t, &server);
    let pipeline = Pipeline::new()
        .cmd(cmd!("SET", "a", 1))
        .cmd(cmd!("INCR", "a"))
        .cmd(cmd!("LPUSH", "a", "x"))
        .cmd(cmd!("INCR", "a"))
        .cmd(cmd!("GET", "a"))
        .cmd(cmd!("GET", "nothing"))
        .cmd(cmd!("RPUSH", "l", "p", "q"))
        .cmd(cmd!("LRANGE", "l", 0, -1));
    let mut ours: Vec<String> = redis
        .pipeline(&pipeline)
        .await
        .unwrap()
        .iter()
        .map(render)
        .collect();
    let tx = Pipeline::new()
        .cmd(cmd!("SET", "t", "v"))
        .cmd(cmd!("INCR", "t"))
        .cmd(cmd!("GET", "t"));
    let results = redis.transaction(&tx).await.unwrap().unwrap();
    ours.extend(results.iter().map(render));
    let lua: Vec<&str> = lua.lines().collect();
    assert_eq!(ours, lua);
    // And what both say, spelled out.
    assert_eq!(
        lua[..4],
        [
            "string:OK",
            "int:2",
            "error:WRONGTYPE Operation against a key holding the wrong kind of value",
            "int:3"
        ]
    );
    assert_eq!(lua[9], "error:ERR value is not an integer or out of range");
}
