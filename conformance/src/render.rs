//! Results written as the spec writes them (`("abc")`, `(nil,"closed","last")`,
//! `(nil,nil,nil)`, `(1)`), so a case's expectations read like spec §11.

use std::fmt::Write;

use cosocket_core::{Bytes, Error, Result};

/// The spec's notation of a call's result.
pub trait Render {
    /// `("abc")`, `(nil,"timeout","ab")`, `(nil,"closed")`, `(1)`, `(13)`.
    fn render(&self) -> String;
}

/// A byte string in C-escape notation inside quotes.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

fn error(e: &Error) -> String {
    match e.partial() {
        Some(partial) => format!("(nil,{},{})", quote(e.message().as_bytes()), quote(partial)),
        None => format!("(nil,{})", quote(e.message().as_bytes())),
    }
}

impl Render for Result<Bytes> {
    fn render(&self) -> String {
        match self {
            Ok(b) => format!("({})", quote(b)),
            Err(e) => error(e),
        }
    }
}

impl Render for Result<&[u8]> {
    fn render(&self) -> String {
        match self {
            Ok(b) => format!("({})", quote(b)),
            Err(e) => error(e),
        }
    }
}

impl Render for Result<Option<Bytes>> {
    fn render(&self) -> String {
        match self {
            Ok(Some(b)) => format!("({})", quote(b)),
            Ok(None) => "(nil,nil,nil)".to_owned(),
            Err(e) => error(e),
        }
    }
}

impl Render for Result<()> {
    fn render(&self) -> String {
        match self {
            Ok(()) => "(1)".to_owned(),
            Err(e) => error(e),
        }
    }
}

macro_rules! render_number {
    ($($t:ty),*) => {$(
        impl Render for Result<$t> {
            fn render(&self) -> String {
                match self {
                    Ok(n) => format!("({n})"),
                    Err(e) => error(e),
                }
            }
        }
    )*};
}
render_number!(usize, u32, i32);

/// Asserts that `result` renders as `expected`, naming the call on failure.
#[track_caller]
pub fn expect<T: Render>(call: &str, result: &T, expected: &str) {
    let got = result.render();
    assert_eq!(got, expected, "{call}: got {got}, expected {expected}");
}
