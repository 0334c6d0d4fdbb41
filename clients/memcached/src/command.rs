//! Commands of memcached's text protocol, each written as fragments: the command line
//! built from borrowed keys and small numbers, then (for storage commands) the value
//! itself, borrowed, and its CRLF. A pipeline is their concatenation, sent by one
//! vectored `send`.

use std::borrow::Cow;

use cosocket::{FragmentList, Fragments};

use crate::error::{Error, Result};

/// The longest key memcached accepts (its `KEY_MAX_LENGTH`).
pub const MAX_KEY: usize = 250;

/// Refuses a key memcached would refuse, before anything is sent: empty, longer than
/// [`MAX_KEY`] bytes, or holding a space or a control byte (which would end or split the
/// command line).
pub fn validate_key(key: &[u8]) -> Result<()> {
    let shown = || String::from_utf8_lossy(&key[..key.len().min(40)]).into_owned();
    if key.is_empty() {
        return Err(Error::InvalidKey("an empty key".into()));
    }
    if key.len() > MAX_KEY {
        return Err(Error::InvalidKey(format!(
            "{} bytes, more than {MAX_KEY}: {:?}…",
            key.len(),
            shown()
        )));
    }
    if let Some(&b) = key.iter().find(|&&b| b <= b' ' || b == 0x7f) {
        return Err(Error::InvalidKey(format!(
            "byte 0x{b:02x} (a space or a control byte) in {:?}",
            shown()
        )));
    }
    Ok(())
}

/// A storage command's verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// Store, whatever is there.
    Set,
    /// Store only if the key does not exist.
    Add,
    /// Store only if the key exists.
    Replace,
    /// Append to an existing value (flags and expiry ignored).
    Append,
    /// Prepend to an existing value (flags and expiry ignored).
    Prepend,
    /// Store only if nobody changed the item since this `gets` cas unique.
    Cas(u64),
}

impl Store {
    fn verb(self) -> &'static [u8] {
        match self {
            Self::Set => b"set ",
            Self::Add => b"add ",
            Self::Replace => b"replace ",
            Self::Append => b"append ",
            Self::Prepend => b"prepend ",
            Self::Cas(_) => b"cas ",
        }
    }
}

/// One command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `get key…`, or `gets key…` (with cas uniques) when the flag is set.
    ///
    /// The keys are borrowed (`Cow::Borrowed(&[key])`: no allocation per request) or owned
    /// (what [`Pipeline`]'s builders keep).
    Get(Cow<'a, [&'a [u8]]>, bool),
    /// A storage command: verb, key, flags, exptime, value.
    Store(Store, &'a [u8], u32, u32, &'a [u8]),
    /// `delete key`.
    Delete(&'a [u8]),
    /// `incr key by` (`true`) or `decr key by`.
    Arith(&'a [u8], u64, bool),
    /// `touch key exptime`.
    Touch(&'a [u8], u32),
    /// `flush_all [delay]`.
    FlushAll(Option<u32>),
    /// `version`.
    Version,
    /// `stats [group]`.
    Stats(Option<&'a str>),
    /// `verbosity level`: the server's logging level (answered by `OK`).
    Verbosity(u32),
}

impl Command<'_> {
    /// Checks the command before it is sent: keys, the value's size against `max_value`,
    /// the `stats` group.
    pub(crate) fn validate(&self, max_value: usize) -> Result<()> {
        match self {
            Self::Get(keys, _) => {
                if keys.is_empty() {
                    return Err(Error::Input("a get needs a key".into()));
                }
                keys.iter().try_for_each(|k| validate_key(k))
            }
            Self::Store(_, key, _, _, value) => {
                validate_key(key)?;
                // memcached would refuse it too (SERVER_ERROR object too large), but only
                // after the whole block crossed the network: refuse it here, unsent.
                if value.len() > max_value {
                    return Err(Error::TooLarge(format!(
                        "a value of {} bytes to store (the limit is {max_value})",
                        value.len()
                    )));
                }
                Ok(())
            }
            Self::Delete(key) | Self::Arith(key, _, _) | Self::Touch(key, _) => validate_key(key),
            Self::Stats(Some(group)) if group.is_empty() || group.bytes().any(|b| b <= b' ') => {
                Err(Error::Input(format!("bad stats group {group:?}")))
            }
            Self::FlushAll(_) | Self::Version | Self::Stats(_) | Self::Verbosity(_) => Ok(()),
        }
    }
}

impl Fragments for Command<'_> {
    fn write_to<'a>(&'a self, out: &mut FragmentList<'a>) {
        match self {
            Self::Get(keys, cas) => {
                out.push(if *cas { b"gets" } else { b"get" });
                for key in keys.iter() {
                    out.push(b" ");
                    out.push(key);
                }
            }
            Self::Store(store, key, flags, exptime, value) => {
                out.push(store.verb());
                out.push(key);
                out.push(b" ");
                out.push_decimal(*flags);
                out.push(b" ");
                out.push_decimal(*exptime);
                out.push(b" ");
                out.push_decimal(value.len());
                if let Store::Cas(unique) = store {
                    out.push(b" ");
                    out.push_decimal(*unique);
                }
                out.push(b"\r\n");
                out.push(value);
            }
            Self::Delete(key) => {
                out.push(b"delete ");
                out.push(key);
            }
            Self::Arith(key, by, incr) => {
                out.push(if *incr { b"incr " } else { b"decr " });
                out.push(key);
                out.push(b" ");
                out.push_decimal(*by);
            }
            Self::Touch(key, exptime) => {
                out.push(b"touch ");
                out.push(key);
                out.push(b" ");
                out.push_decimal(*exptime);
            }
            Self::FlushAll(delay) => {
                out.push(b"flush_all");
                if let Some(delay) = delay {
                    out.push(b" ");
                    out.push_decimal(*delay);
                }
            }
            Self::Version => out.push(b"version"),
            Self::Verbosity(level) => {
                out.push(b"verbosity ");
                out.push_decimal(*level);
            }
            Self::Stats(group) => {
                out.push(b"stats");
                if let Some(group) = group {
                    out.push(b" ");
                    out.push(group.as_bytes());
                }
            }
        }
        out.push(b"\r\n");
    }
}

/// Commands sent together in one `send`, their replies read in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pipeline<'a> {
    pub(crate) cmds: Vec<Command<'a>>,
}

impl<'a> Pipeline<'a> {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a command.
    #[must_use]
    pub fn cmd(mut self, cmd: Command<'a>) -> Self {
        self.cmds.push(cmd);
        self
    }

    /// `get key`.
    #[must_use]
    pub fn get(self, key: &'a [u8]) -> Self {
        self.cmd(Command::Get(Cow::Owned(vec![key]), false))
    }

    /// `gets key…`.
    #[must_use]
    pub fn gets(self, keys: &[&'a [u8]]) -> Self {
        self.cmd(Command::Get(Cow::Owned(keys.to_vec()), true))
    }

    /// `get key…` (one reply with the items found).
    #[must_use]
    pub fn get_multi(self, keys: &[&'a [u8]]) -> Self {
        self.cmd(Command::Get(Cow::Owned(keys.to_vec()), false))
    }

    /// Any storage command: `set`, `add`, `replace`, `append`, `prepend` or `cas`.
    #[must_use]
    pub fn store(
        self,
        store: Store,
        key: &'a [u8],
        value: &'a [u8],
        flags: u32,
        exptime: u32,
    ) -> Self {
        self.cmd(Command::Store(store, key, flags, exptime, value))
    }

    /// `set key flags exptime` with `value`.
    #[must_use]
    pub fn set(self, key: &'a [u8], value: &'a [u8], flags: u32, exptime: u32) -> Self {
        self.store(Store::Set, key, value, flags, exptime)
    }

    /// `cas key flags exptime unique` with `value`: [`Reply::Exists`](crate::Reply::Exists)
    /// or [`Reply::NotFound`](crate::Reply::NotFound) in its place when not stored.
    #[must_use]
    pub fn cas(
        self,
        key: &'a [u8],
        value: &'a [u8],
        flags: u32,
        exptime: u32,
        unique: u64,
    ) -> Self {
        self.store(Store::Cas(unique), key, value, flags, exptime)
    }

    /// `incr key by`.
    #[must_use]
    pub fn incr(self, key: &'a [u8], by: u64) -> Self {
        self.cmd(Command::Arith(key, by, true))
    }

    /// `decr key by`.
    #[must_use]
    pub fn decr(self, key: &'a [u8], by: u64) -> Self {
        self.cmd(Command::Arith(key, by, false))
    }

    /// `touch key exptime`.
    #[must_use]
    pub fn touch(self, key: &'a [u8], exptime: u32) -> Self {
        self.cmd(Command::Touch(key, exptime))
    }

    /// `delete key`.
    #[must_use]
    pub fn delete(self, key: &'a [u8]) -> Self {
        self.cmd(Command::Delete(key))
    }

    /// The commands.
    pub fn cmds(&self) -> &[Command<'a>] {
        &self.cmds
    }

    /// Checks every command (and that there is one) before anything is sent.
    pub(crate) fn validate(&self, max_value: usize) -> Result<()> {
        if self.cmds.is_empty() {
            return Err(Error::Input("an empty pipeline".into()));
        }
        self.cmds.iter().try_for_each(|cmd| cmd.validate(max_value))
    }

    /// How many commands.
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// Whether it has no command.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }
}

impl Fragments for Pipeline<'_> {
    fn write_to<'a>(&'a self, out: &mut FragmentList<'a>) {
        for cmd in &self.cmds {
            cmd.write_to(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(c: &Command<'_>) -> bytes::Bytes {
        FragmentList::of(c).to_bytes()
    }

    #[test]
    fn commands_on_the_wire() {
        assert_eq!(
            wire(&Command::Get(Cow::Borrowed(&[b"a", b"b"]), true)),
            "gets a b\r\n"
        );
        assert_eq!(
            wire(&Command::Store(Store::Cas(42), b"k", 5, 60, b"v\r\nx")),
            "cas k 5 60 4 42\r\nv\r\nx\r\n"
        );
        assert_eq!(wire(&Command::Arith(b"n", 7, false)), "decr n 7\r\n");
        assert_eq!(wire(&Command::FlushAll(Some(0))), "flush_all 0\r\n");
        assert_eq!(wire(&Command::Stats(Some("slabs"))), "stats slabs\r\n");
        assert_eq!(wire(&Command::Verbosity(1)), "verbosity 1\r\n");
        assert_eq!(
            wire(&Command::Store(Store::Append, b"k", 0, 0, b"")),
            "append k 0 0 0\r\n\r\n"
        );
    }

    #[test]
    fn keys_memcached_would_refuse() {
        assert!(validate_key(&[b'k'; 250]).is_ok());
        for bad in [
            &b""[..],
            &[b'k'; 251],
            b"a b",
            b"a\r\nb",
            b"tab\t",
            b"\x7f",
            b"nul\0",
        ] {
            assert!(
                matches!(validate_key(bad), Err(Error::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }
}
