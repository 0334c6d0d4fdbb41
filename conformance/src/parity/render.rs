//! Results as FORMAT §4/§5 JSON: byte strings char-per-byte, OpenResty's exact arity,
//! integers as integers, and the op records (`ret`, `calls` or `error`).

use cosocket_core::{Bytes, Error};
use serde_json::{Map, Value, json};

use crate::peer::{bytes_to_latin1, latin1_to_bytes, summarize};

use super::scenario::Op;

/// What one call returned: its values, and a `wait`'s thread records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Returned {
    /// The returned values (`ret`), exactly as many as OpenResty returns.
    pub values: Vec<Value>,
    /// A `wait`'s `thread_ops`.
    pub thread_ops: Option<Vec<Value>>,
}

impl Returned {
    /// Just these values.
    pub fn values(values: Vec<Value>) -> Self {
        Self {
            values,
            thread_ops: None,
        }
    }

    /// Whether a `repeat` stops after this call: the first value is `nil` or `false` (a
    /// call that returned nothing has a `nil` first value, as `({f()})[1]` in Lua).
    pub fn is_falsy(&self) -> bool {
        matches!(
            self.values.first(),
            None | Some(Value::Null | Value::Bool(false))
        )
    }
}

/// A byte string (FORMAT §2).
pub fn bytes(b: &[u8]) -> Value {
    Value::String(bytes_to_latin1(b))
}

/// `[bytes]`.
pub fn data(b: &Bytes) -> Vec<Value> {
    vec![bytes(b)]
}

/// A soft error: `[null, msg, partial]` when the error carries a partial, else
/// `[null, msg]`.
pub fn failure(e: &Error) -> Vec<Value> {
    let mut values = vec![Value::Null, Value::String(e.message().to_owned())];
    if let Some(partial) = e.partial() {
        values.push(bytes(partial));
    }
    values
}

/// `[ok]` or the failure.
pub fn unit(result: &cosocket_core::Result<()>, ok: Value) -> Vec<Value> {
    match result {
        Ok(()) => vec![ok],
        Err(e) => failure(e),
    }
}

/// `[n]` or the failure.
pub fn number<N: Into<Value> + Copy>(result: &cosocket_core::Result<N>) -> Vec<Value> {
    match result {
        Ok(n) => vec![(*n).into()],
        Err(e) => failure(e),
    }
}

/// FORMAT §3.6 `summary`: every string over 64 bytes becomes `"<N bytes md5=HEX>"`.
pub fn summarized(value: Value) -> Value {
    match value {
        Value::String(s) if s.chars().count() > 64 => match latin1_to_bytes(&s) {
            Ok(b) => Value::String(summarize(&b)),
            Err(_) => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(summarized).collect()),
        other => other,
    }
}

/// The record of op `i`: `{"i", "op", "args"?, <result>, "thread_ops"?}`; `args` only
/// when the op has fields.
pub fn record(i: usize, op: &Op, result: (&str, Value), thread_ops: Option<Vec<Value>>) -> Value {
    let mut rec = Map::new();
    rec.insert("i".into(), json!(i));
    rec.insert("op".into(), Value::String(op.name.clone()));
    let args = op.args();
    if !args.is_empty() {
        rec.insert("args".into(), Value::Object(args));
    }
    rec.insert(result.0.into(), result.1);
    if let Some(thread_ops) = thread_ops {
        rec.insert("thread_ops".into(), Value::Array(thread_ops));
    }
    Value::Object(rec)
}

/// The `error` record of op `i` (the runner could not perform it).
pub fn error_record(i: usize, op: &Op, message: &str) -> Value {
    record(i, op, ("error", Value::String(message.to_owned())), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosocket_core::ErrorKind;

    #[test]
    fn arity_follows_the_partial() {
        assert_eq!(
            failure(&Error::closed()),
            vec![Value::Null, json!("closed")]
        );
        let e = Error::from_kind(ErrorKind::Timeout).with_partial(Bytes::from_static(b"a\xff"));
        assert_eq!(
            failure(&e),
            vec![Value::Null, json!("timeout"), json!("a\u{ff}")]
        );
        assert_eq!(unit(&Ok(()), json!(true)), vec![json!(true)]);
        assert_eq!(number(&Ok(5_usize)), vec![json!(5)]);
    }

    #[test]
    fn summary_replaces_only_long_strings() {
        let long = "x".repeat(65);
        let v = summarized(json!([long, "short", 1, null]));
        assert_eq!(v[0], json!(summarize(&[b'x'; 65])));
        assert_eq!(v[1], json!("short"));
        assert_eq!(v[2], json!(1));
        assert_eq!(summarized(json!("y".repeat(64))), json!("y".repeat(64)));
    }

    #[test]
    fn falsy_first_values_stop_a_repeat() {
        assert!(Returned::values(vec![]).is_falsy());
        assert!(Returned::values(vec![Value::Null, Value::Null]).is_falsy());
        assert!(Returned::values(vec![json!(false)]).is_falsy());
        assert!(!Returned::values(vec![json!("")]).is_falsy());
        assert!(!Returned::values(vec![json!(0)]).is_falsy());
    }
}
