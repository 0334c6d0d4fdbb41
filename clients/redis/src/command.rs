//! Commands as RESP arrays of bulk strings, written by one vectored `send`: argument bytes
//! are borrowed (a large value is handed to the kernel where it lies), the `*N` and `$len`
//! headers are small copies into the fragment list's scratch buffer.

use std::borrow::Cow;

use bytes::Bytes;
use cosocket::{FragmentList, Fragments};

use crate::error::{Error, Result};

/// The largest bulk string a Redis server accepts by default (`proto-max-bulk-len`).
pub const MAX_ARGUMENT: usize = 512 << 20;

/// One command: a name and its arguments, each sent as a bulk string.
///
/// ```
/// use cosocket_redis::{Cmd, cmd};
/// let c = Cmd::new("SET").arg("user:1").arg(b"payload".as_slice()).arg(60);
/// assert_eq!(c, cmd!("SET", "user:1", b"payload".as_slice(), 60));
/// assert_eq!(c.to_bytes(), "*4\r\n$3\r\nSET\r\n$6\r\nuser:1\r\n$7\r\npayload\r\n$2\r\n60\r\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cmd<'a> {
    args: Vec<Cow<'a, [u8]>>,
}

/// Builds a [`Cmd`] from its name and arguments: `cmd!("HSET", key, field, value)`.
#[macro_export]
macro_rules! cmd {
    ($name:expr $(, $arg:expr)* $(,)?) => {
        $crate::Cmd::new($name)$(.arg($arg))*
    };
}

impl<'a> Cmd<'a> {
    /// A command named `name` (`GET`, `SET`, `CLIENT`), no arguments yet.
    pub fn new(name: impl Into<Arg<'a>>) -> Self {
        Self {
            args: vec![name.into().0],
        }
    }

    /// Appends an argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<Arg<'a>>) -> Self {
        self.args.push(arg.into().0);
        self
    }

    /// Appends an argument in place.
    pub fn push(&mut self, arg: impl Into<Arg<'a>>) {
        self.args.push(arg.into().0);
    }

    /// The name and the arguments.
    pub fn args(&self) -> &[Cow<'a, [u8]>] {
        &self.args
    }

    /// The command's name, upper-cased (for messages and for recognising subscriptions).
    pub fn name(&self) -> String {
        self.args
            .first()
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default()
    }

    /// The command as RESP, in one buffer (for tests and logs; sends never build it).
    pub fn to_bytes(&self) -> Bytes {
        FragmentList::of(self).to_bytes()
    }

    /// Appends the command as RESP to `out` (the multiplexed connection's outbox, where
    /// the commands of many callers are written together).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        let mut n = itoa::Buffer::new();
        out.push(b'*');
        out.extend_from_slice(n.format(self.args.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        for arg in &self.args {
            out.push(b'$');
            out.extend_from_slice(n.format(arg.len()).as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Whether the command's name is `name` (ASCII case-insensitively; no allocation).
    pub(crate) fn is(&self, name: &str) -> bool {
        self.args
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// [`validate`](Self::validate), and refuses the commands whose replies are a stream
    /// (`SUBSCRIBE` and its kin, `MONITOR`): they take a connection of their own, read by
    /// a [`Subscriber`](crate::Subscriber). Checked once per request, before connecting.
    pub(crate) fn validate_request(&self) -> Result<()> {
        self.validate()?;
        if ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"]
            .iter()
            .any(|name| self.is(name))
        {
            return Err(Error::Input(format!(
                "{} takes a connection of its own (Redis::subscribe)",
                self.name()
            )));
        }
        Ok(())
    }

    /// Refuses what no server would take, before anything is sent.
    pub(crate) fn validate(&self) -> Result<()> {
        match self.args.first() {
            None => return Err(Error::Input("empty command".into())),
            Some(name) if name.is_empty() => {
                return Err(Error::Input("empty command name".into()));
            }
            Some(_) => {}
        }
        if let Some(big) = self.args.iter().find(|a| a.len() > MAX_ARGUMENT) {
            return Err(Error::Input(format!(
                "an argument of {} bytes is over the protocol's {MAX_ARGUMENT}",
                big.len()
            )));
        }
        Ok(())
    }
}

impl Fragments for Cmd<'_> {
    fn write_to<'a>(&'a self, out: &mut FragmentList<'a>) {
        out.push(b"*");
        out.push_decimal(self.args.len());
        out.push(b"\r\n");
        for arg in &self.args {
            out.push(b"$");
            out.push_decimal(arg.len());
            out.push(b"\r\n");
            out.push(arg);
            out.push(b"\r\n");
        }
    }
}

/// One argument's bytes: from strings and byte strings (borrowed), `Bytes`, and integers
/// and floats (as their decimal text).
#[derive(Debug, Clone)]
pub struct Arg<'a>(Cow<'a, [u8]>);

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Self(Cow::Borrowed(s.as_bytes()))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Self(Cow::Borrowed(s.as_bytes()))
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Self(Cow::Owned(s.into_bytes()))
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(s: &'a [u8]) -> Self {
        Self(Cow::Borrowed(s))
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Arg<'a> {
    fn from(s: &'a [u8; N]) -> Self {
        Self(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(s: &'a Vec<u8>) -> Self {
        Self(Cow::Borrowed(s))
    }
}

impl From<Vec<u8>> for Arg<'_> {
    fn from(s: Vec<u8>) -> Self {
        Self(Cow::Owned(s))
    }
}

impl<'a> From<&'a Bytes> for Arg<'a> {
    fn from(s: &'a Bytes) -> Self {
        Self(Cow::Borrowed(s))
    }
}

macro_rules! decimal_arg {
    ($($ty:ty)*) => {$(
        impl From<$ty> for Arg<'_> {
            fn from(n: $ty) -> Self {
                Self(Cow::Owned(n.to_string().into_bytes()))
            }
        }
    )*};
}
decimal_arg!(i8 i16 i32 i64 i128 isize u16 u32 u64 u128 usize f32 f64);

/// Commands sent together in one `send`, their replies read in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pipeline<'a> {
    cmds: Vec<Cmd<'a>>,
}

impl<'a> Pipeline<'a> {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a command.
    #[must_use]
    pub fn cmd(mut self, cmd: Cmd<'a>) -> Self {
        self.cmds.push(cmd);
        self
    }

    /// Appends a command in place.
    pub fn push(&mut self, cmd: Cmd<'a>) {
        self.cmds.push(cmd);
    }

    /// The commands.
    pub fn cmds(&self) -> &[Cmd<'a>] {
        &self.cmds
    }

    /// How many commands.
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// Whether it has no command.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.cmds.is_empty() {
            return Err(Error::Input("empty pipeline".into()));
        }
        self.cmds.iter().try_for_each(Cmd::validate)
    }
}

impl Fragments for Pipeline<'_> {
    fn write_to<'a>(&'a self, out: &mut FragmentList<'a>) {
        for cmd in &self.cmds {
            cmd.write_to(out);
        }
    }
}
