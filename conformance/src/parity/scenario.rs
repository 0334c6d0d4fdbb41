//! A scenario file (FORMAT §3): the peer, the op list and the grace period.
//!
//! Ops stay loosely typed ([`Op`]: the name, the socket slot, the modifiers and the raw
//! fields) until they run, so that one op the runner cannot parse becomes one `error`
//! record and the rest of the scenario still runs; [`Call::parse`](super::call::Call::parse)
//! gives the typed call.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::peer::{Peer, PeerSpec};

/// One `scenarios/<name>.json` file.
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    /// Free text, copied into the result.
    #[serde(default)]
    pub description: Option<String>,
    /// The scripted peer (FORMAT §3.1–3.3).
    pub peer: PeerSpec,
    /// The request's op list.
    pub ops: Vec<Op>,
    /// How long the peer waits for its scripts after request end (FORMAT §3.5).
    #[serde(default)]
    pub peer_grace_ms: Option<u64>,
    /// The client's TLS settings: nginx directives of the location (FORMAT §10.2).
    #[serde(default)]
    pub nginx: Option<Nginx>,
}

/// FORMAT §10.2's `nginx` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nginx {
    /// `lua_ssl_trusted_certificate`: certificate names (one, or a list for a bundle).
    #[serde(default)]
    pub lua_ssl_trusted_certificate: Option<Names>,
    /// `lua_ssl_verify_depth`.
    #[serde(default)]
    pub lua_ssl_verify_depth: Option<u32>,
    /// `lua_ssl_protocols`, e.g. `"TLSv1.2 TLSv1.3"`.
    #[serde(default)]
    pub lua_ssl_protocols: Option<String>,
}

/// One certificate name or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Names {
    /// One name.
    One(String),
    /// A bundle.
    Many(Vec<String>),
}

impl Names {
    /// The names in order.
    pub fn list(&self) -> Vec<&str> {
        match self {
            Self::One(name) => vec![name.as_str()],
            Self::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

impl Scenario {
    /// Parses a scenario file's text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("bad scenario file: {e}"))
    }

    /// The peer's grace period: `peer_grace_ms`, 300 ms if absent.
    pub fn grace(&self) -> Duration {
        self.peer_grace_ms
            .map_or(Peer::DEFAULT_GRACE, Duration::from_millis)
    }

    /// Every target name an op names (`connect`, `setpeername`, in nested `spawn` lists
    /// too), in order of first mention: they are all resolved before the ops run.
    pub fn target_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        collect_targets(&self.ops, &mut names);
        names
    }
}

fn collect_targets(ops: &[Op], names: &mut Vec<String>) {
    for op in ops {
        if let Some(Value::String(target)) = op.fields.get("target") {
            if !names.contains(target) {
                names.push(target.clone());
            }
        }
        if let Some(nested) = op.nested() {
            collect_targets(&nested, names);
        }
    }
}

/// One op of a list: `{"op": NAME, ...fields}` with FORMAT §3.6's common fields decoded.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct Op {
    /// The op's name (`"connect"`, `"iter"`, ...).
    pub name: String,
    /// The socket slot (`"sock"`, default `"s"`).
    pub sock: String,
    /// `"repeat": N`: call up to N times, record `calls`.
    pub repeat: Option<u64>,
    /// `"stop_on_nil"` (default true): with `repeat`, stop after a `nil` / `false` result.
    pub stop_on_nil: bool,
    /// `"summary": true`: strings over 64 bytes are recorded as their md5.
    pub summary: bool,
    /// Every field but `"op"`, as written (the record's informational `args`, and the
    /// source of the call's own arguments).
    pub fields: Map<String, Value>,
}

impl TryFrom<Map<String, Value>> for Op {
    type Error = String;

    fn try_from(mut fields: Map<String, Value>) -> Result<Self, String> {
        let name = match fields.remove("op") {
            Some(Value::String(name)) => name,
            Some(other) => return Err(format!("\"op\" is not a string: {other}")),
            None => return Err("an op without \"op\"".to_owned()),
        };
        let sock = match fields.get("sock") {
            None => "s".to_owned(),
            Some(Value::String(sock)) => sock.clone(),
            Some(other) => return Err(format!("\"sock\" is not a string: {other}")),
        };
        let repeat = match fields.get("repeat") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| format!("\"repeat\" is not an integer >= 0: {v}"))?,
            ),
        };
        let flag = |key: &str, default: bool| match fields.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("\"{key}\" is not a boolean: {other}")),
        };
        let stop_on_nil = flag("stop_on_nil", true)?;
        let summary = flag("summary", false)?;
        Ok(Self {
            name,
            sock,
            repeat,
            stop_on_nil,
            summary,
            fields,
        })
    }
}

impl Op {
    /// The nested op list of a `spawn` (`None` for other ops or an unparsable list).
    pub fn nested(&self) -> Option<Vec<Self>> {
        if self.name != "spawn" {
            return None;
        }
        serde_json::from_value(self.fields.get("ops")?.clone()).ok()
    }

    /// The record's `args`: the fields without a `spawn`'s nested list.
    pub fn args(&self) -> Map<String, Value> {
        let mut args = self.fields.clone();
        if self.name == "spawn" {
            args.remove("ops");
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_fields_and_defaults() {
        let op: Op = serde_json::from_str(r#"{"op": "iter", "repeat": 3, "size": 1}"#).unwrap();
        assert_eq!(op.name, "iter");
        assert_eq!(op.sock, "s");
        assert_eq!(op.repeat, Some(3));
        assert!(op.stop_on_nil);
        assert!(!op.summary);
        assert_eq!(op.args().len(), 2);
        assert!(serde_json::from_str::<Op>(r#"{"sock": "b"}"#).is_err());
    }

    #[test]
    fn targets_include_nested_spawns_once() {
        let s = Scenario::from_json(
            r#"{"peer": {"type": "none"}, "ops": [
                {"op": "connect", "target": "closed"},
                {"op": "spawn", "thread": "t", "ops": [
                    {"op": "connect", "target": "backlog_full", "sock": "b"},
                    {"op": "connect", "target": "closed", "sock": "b"}]}]}"#,
        )
        .unwrap();
        assert_eq!(s.target_names(), ["closed", "backlog_full"]);
        assert_eq!(s.grace(), Peer::DEFAULT_GRACE);
        assert_eq!(
            s.ops[1].args(),
            serde_json::json!({"thread": "t"})
                .as_object()
                .unwrap()
                .clone()
        );
    }
}
