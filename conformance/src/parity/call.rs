//! The typed form of an op: FORMAT §3.6's vocabulary, one variant per call, with its
//! arguments checked. A field of the wrong type is a parse error (the op's `error`
//! record), never a guess.

use serde_json::{Map, Value};

use crate::peer::latin1_to_bytes;

use super::scenario::Op;

/// One call of FORMAT §3.6.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `ngx.socket.tcp()`.
    Tcp,
    /// `ngx.socket.udp()`.
    Udp,
    /// `settimeout(ms)`.
    SetTimeout(u64),
    /// `settimeouts(connect, send, read)`.
    SetTimeouts(u64, u64, u64),
    /// `connect(...)` with its options.
    Connect(Address, ConnectArgs),
    /// `setpeername(...)`.
    SetPeerName(Address),
    /// `bind(ip)`.
    Bind(String),
    /// `send(data)`.
    Send(Payload),
    /// `receive(...)`.
    Receive(Receive),
    /// `receiveany(max)`.
    ReceiveAny(u64),
    /// `receiveuntil(pattern[, {inclusive}])`, stored under `name`.
    ReceiveUntil {
        /// The pattern bytes (may be empty).
        pattern: Vec<u8>,
        /// `inclusive`, if given.
        inclusive: Option<bool>,
        /// The iterator's name (`as`, default `"it"`).
        name: String,
    },
    /// `it(size)` of the iterator `name`; size 0 = unlimited.
    Iter {
        /// The iterator's name (`it`, default `"it"`).
        name: String,
        /// The chunk size (0 or absent: unlimited).
        size: u64,
    },
    /// `setkeepalive([timeout[, size]])`.
    SetKeepalive {
        /// Idle timeout in ms (0: never expires).
        timeout: Option<u64>,
        /// The pool size if this call creates the pool.
        size: Option<u64>,
    },
    /// `getreusedtimes()`.
    GetReusedTimes,
    /// `close()`.
    Close,
    /// `setoption(name, value)`; booleans are 1 / 0.
    SetOption(String, i64),
    /// `getoption(name)`.
    GetOption(String),
    /// `ngx.sleep(ms / 1000)`.
    Sleep(u64),
    /// Remember now.
    Mark,
    /// Less than `ms` since the last mark?
    ElapsedLt(u64),
    /// `ngx.thread.spawn` of a nested op list.
    Spawn(String, Vec<Op>),
    /// `ngx.thread.wait`.
    Wait(String),
    /// `sslhandshake(reuse, server_name, verify)` (FORMAT §10.5).
    SslHandshake(Handshake),
    /// `setclientcert(cert, key)`: the named certificate, or `None` to clear.
    SetClientCert(Option<String>),
}

/// `sslhandshake`'s arguments (FORMAT §10.5); absent trailing ones are not passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handshake {
    /// The first argument.
    pub reuse: Reuse,
    /// `server_name`.
    pub server_name: Option<String>,
    /// `ssl_verify`: only `true` verifies.
    pub verify: Option<bool>,
    /// Where the first return value is kept.
    pub save_as: Option<String>,
}

/// `sslhandshake`'s `reused_session` argument.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reuse {
    /// `nil`: a new session is returned.
    #[default]
    Nil,
    /// `false`: `true` is returned instead of a session.
    False,
    /// `true`: as `nil`.
    True,
    /// The session an earlier handshake saved under this slot.
    Slot(String),
}

/// Where `connect` / `setpeername` go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A FORMAT §3.1 target name, resolved before the ops run.
    Target(String),
    /// `host` + `port`, passed as they are.
    HostPort(String, u16),
    /// `path`: `"unix:/abs/path"`, passed as is.
    Path(String),
}

/// `connect`'s options table (only the given keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectArgs {
    /// `pool`.
    pub pool: Option<String>,
    /// `pool_size` (> 0).
    pub pool_size: Option<u64>,
    /// `backlog` (>= 0).
    pub backlog: Option<u64>,
}

/// `receive`'s argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receive {
    /// `"*l"` (also `receive()` on TCP).
    Line,
    /// `"*a"`.
    All,
    /// An integer: exactly N bytes (TCP), or the datagram size (UDP).
    Size(u64),
    /// No argument: a line on TCP, a 65536-byte datagram buffer on UDP.
    Default,
}

/// `send`'s data: FORMAT §3.6's byte strings, integers and nested lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A byte string (already repeated by `data_rep`).
    Bytes(Vec<u8>),
    /// An integer, sent as its decimal text.
    Integer(i64),
    /// A list, flattened in order.
    List(Vec<Self>),
}

impl Payload {
    fn parse(value: &Value) -> Result<Self, String> {
        match value {
            Value::String(s) => latin1_to_bytes(s).map(Self::Bytes),
            Value::Number(n) => n
                .as_i64()
                .map(Self::Integer)
                .ok_or_else(|| format!("send data {n} is not an integer")),
            Value::Array(items) => items
                .iter()
                .map(Self::parse)
                .collect::<Result<_, _>>()
                .map(Self::List),
            other => Err(format!("send data of an unsupported type: {other}")),
        }
    }
}

/// Field access with FORMAT's types and clear messages.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn uint(&self, key: &str) -> Result<Option<u64>, String> {
        self.get(key)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| format!("\"{key}\" is not an integer >= 0: {v}"))
            })
            .transpose()
    }

    fn need_uint(&self, key: &str) -> Result<u64, String> {
        self.uint(key)?.ok_or_else(|| format!("missing \"{key}\""))
    }

    fn string(&self, key: &str) -> Result<Option<&str>, String> {
        self.get(key)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| format!("\"{key}\" is not a string: {v}"))
            })
            .transpose()
    }

    fn need_string(&self, key: &str) -> Result<&str, String> {
        self.string(key)?
            .ok_or_else(|| format!("missing \"{key}\""))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        self.get(key)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| format!("\"{key}\" is not a boolean: {v}"))
            })
            .transpose()
    }

    fn address(&self) -> Result<Address, String> {
        if let Some(target) = self.string("target")? {
            return Ok(Address::Target(target.to_owned()));
        }
        if let Some(path) = self.string("path")? {
            return Ok(Address::Path(path.to_owned()));
        }
        let host = self
            .string("host")?
            .ok_or("neither \"target\", \"host\" nor \"path\"")?;
        let port = self.need_uint("port")?;
        let port = u16::try_from(port).map_err(|_| format!("port {port} is out of range"))?;
        Ok(Address::HostPort(host.to_owned(), port))
    }
}

impl Call {
    /// The typed call of `op`, or why it is not one of FORMAT §3.6.
    pub fn parse(op: &Op) -> Result<Self, String> {
        let f = Fields(&op.fields);
        Ok(match op.name.as_str() {
            "tcp" => Self::Tcp,
            "udp" => Self::Udp,
            "settimeout" => Self::SetTimeout(f.need_uint("ms")?),
            "settimeouts" => Self::SetTimeouts(
                f.need_uint("connect")?,
                f.need_uint("send")?,
                f.need_uint("read")?,
            ),
            "connect" => Self::Connect(
                f.address()?,
                ConnectArgs {
                    pool: f.string("pool")?.map(str::to_owned),
                    pool_size: f.uint("pool_size")?,
                    backlog: f.uint("backlog")?,
                },
            ),
            "setpeername" => Self::SetPeerName(f.address()?),
            "bind" => Self::Bind(f.need_string("ip")?.to_owned()),
            "send" => Self::Send(send_payload(&f)?),
            "receive" => Self::Receive(receive_arg(&f)?),
            "receiveany" => Self::ReceiveAny(f.need_uint("max")?),
            "receiveuntil" => Self::ReceiveUntil {
                pattern: latin1_to_bytes(f.need_string("pattern")?)?,
                inclusive: f.bool("inclusive")?,
                name: f.string("as")?.unwrap_or("it").to_owned(),
            },
            "iter" => Self::Iter {
                name: f.string("it")?.unwrap_or("it").to_owned(),
                size: f.uint("size")?.unwrap_or(0),
            },
            "setkeepalive" => Self::SetKeepalive {
                timeout: f.uint("timeout")?,
                size: f.uint("size")?,
            },
            "getreusedtimes" => Self::GetReusedTimes,
            "close" => Self::Close,
            "call" => option_call(&f)?,
            "sleep" => Self::Sleep(f.need_uint("ms")?),
            "mark" => Self::Mark,
            "elapsed_lt" => Self::ElapsedLt(f.need_uint("ms")?),
            "spawn" => {
                let thread = f.need_string("thread")?.to_owned();
                let ops = f.get("ops").ok_or("missing \"ops\"")?;
                let ops = serde_json::from_value(ops.clone())
                    .map_err(|e| format!("bad nested \"ops\": {e}"))?;
                Self::Spawn(thread, ops)
            }
            "wait" => Self::Wait(f.need_string("thread")?.to_owned()),
            "sslhandshake" => Self::SslHandshake(Handshake {
                reuse: match f.get("reuse") {
                    None => Reuse::Nil,
                    Some(Value::Bool(false)) => Reuse::False,
                    Some(Value::Bool(true)) => Reuse::True,
                    Some(Value::String(slot)) => Reuse::Slot(slot.clone()),
                    Some(v) => return Err(format!("bad \"reuse\": {v}")),
                },
                server_name: f.string("server_name")?.map(str::to_owned),
                verify: f.bool("verify")?,
                save_as: f.string("save_as")?.map(str::to_owned),
            }),
            "setclientcert" => match (f.string("cert")?, f.string("key")?) {
                (None, None) => Self::SetClientCert(None),
                (Some(cert), Some(key)) if cert == key => {
                    Self::SetClientCert(Some(cert.to_owned()))
                }
                (cert, key) => {
                    return Err(format!(
                        "setclientcert takes one certificate's cert and key: {cert:?}, {key:?}"
                    ));
                }
            },
            other => return Err(format!("unknown op {other:?} (not in FORMAT §3.6)")),
        })
    }
}

fn send_payload(f: &Fields<'_>) -> Result<Payload, String> {
    let data = f.get("data").ok_or("missing \"data\"")?;
    match f.uint("data_rep")? {
        None => Payload::parse(data),
        Some(n) => {
            let s = data
                .as_str()
                .ok_or("\"data_rep\" needs a string \"data\"")?;
            let n = usize::try_from(n).map_err(|_| "\"data_rep\" is too large")?;
            Ok(Payload::Bytes(latin1_to_bytes(s)?.repeat(n)))
        }
    }
}

fn receive_arg(f: &Fields<'_>) -> Result<Receive, String> {
    if let Some(size) = f.uint("size")? {
        return Ok(Receive::Size(size));
    }
    match f.get("pattern") {
        None => Ok(Receive::Default),
        Some(Value::String(p)) if p == "*l" => Ok(Receive::Line),
        Some(Value::String(p)) if p == "*a" => Ok(Receive::All),
        Some(v) => v
            .as_u64()
            .map(Receive::Size)
            .ok_or_else(|| format!("bad receive pattern {v}")),
    }
}

fn option_call(f: &Fields<'_>) -> Result<Call, String> {
    let method = f.need_string("method")?;
    let args = f
        .get("args")
        .and_then(Value::as_array)
        .ok_or("\"args\" is not a list")?;
    let name = args
        .first()
        .and_then(Value::as_str)
        .ok_or("the option name is not a string")?
        .to_owned();
    match (method, args.len()) {
        ("setoption", 2) => {
            let value = match &args[1] {
                Value::Bool(b) => i64::from(*b),
                v => v.as_i64().ok_or_else(|| {
                    format!("option value {v} is neither a boolean nor an integer")
                })?,
            };
            Ok(Call::SetOption(name, value))
        }
        ("getoption", 1) => Ok(Call::GetOption(name)),
        _ => Err(format!(
            "unsupported call {method:?} with {} arguments",
            args.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(json: &str) -> Result<Call, String> {
        Call::parse(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn every_address_form() {
        assert_eq!(
            call(r#"{"op": "connect", "target": "peer", "pool_size": 1, "backlog": 0}"#),
            Ok(Call::Connect(
                Address::Target("peer".into()),
                ConnectArgs {
                    pool: None,
                    pool_size: Some(1),
                    backlog: Some(0)
                }
            ))
        );
        assert_eq!(
            call(r#"{"op": "connect", "host": "localhost", "port": 1}"#),
            Ok(Call::Connect(
                Address::HostPort("localhost".into(), 1),
                ConnectArgs::default()
            ))
        );
        assert_eq!(
            call(r#"{"op": "setpeername", "path": "unix:/x"}"#),
            Ok(Call::SetPeerName(Address::Path("unix:/x".into())))
        );
        assert!(call(r#"{"op": "connect", "host": "h", "port": 70000}"#).is_err());
    }

    #[test]
    fn send_data_nests_and_repeats() {
        assert_eq!(
            call(r#"{"op": "send", "data": ["a", [1, []]]}"#),
            Ok(Call::Send(Payload::List(vec![
                Payload::Bytes(b"a".to_vec()),
                Payload::List(vec![Payload::Integer(1), Payload::List(vec![])])
            ])))
        );
        assert_eq!(
            call(r#"{"op": "send", "data": "ab", "data_rep": 3}"#),
            Ok(Call::Send(Payload::Bytes(b"ababab".to_vec())))
        );
        assert!(call(r#"{"op": "send", "data": 2.5}"#).is_err());
    }

    #[test]
    fn receive_patterns_and_options() {
        assert_eq!(
            call(r#"{"op": "receive"}"#),
            Ok(Call::Receive(Receive::Default))
        );
        assert_eq!(
            call(r#"{"op": "receive", "pattern": 0}"#),
            Ok(Call::Receive(Receive::Size(0)))
        );
        assert!(call(r#"{"op": "receive", "pattern": "*x"}"#).is_err());
        assert_eq!(
            call(r#"{"op": "call", "method": "setoption", "args": ["keepalive", false]}"#),
            Ok(Call::SetOption("keepalive".into(), 0))
        );
        assert_eq!(
            call(r#"{"op": "call", "method": "getoption", "args": ["sndbuf"]}"#),
            Ok(Call::GetOption("sndbuf".into()))
        );
        assert!(call(r#"{"op": "frobnicate"}"#).is_err());
    }
}
