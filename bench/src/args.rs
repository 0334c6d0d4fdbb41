//! `--name value` options, parsed once, with errors that name the option.

use std::collections::HashMap;
use std::str::FromStr;

/// The backend a measurement runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Tokio,
    Smol,
}

/// The options of one subcommand.
#[derive(Debug)]
pub(crate) struct Args {
    values: HashMap<String, String>,
}

impl Args {
    pub(crate) fn parse(argv: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut values = HashMap::new();
        let mut argv = argv.peekable();
        while let Some(flag) = argv.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --option, got {flag:?}"))?;
            let value = argv
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            values.insert(name.to_owned(), value);
        }
        Ok(Self { values })
    }

    /// A required option.
    pub(crate) fn get<T: FromStr>(&self, name: &str) -> Result<T, String> {
        let text = self
            .values
            .get(name)
            .ok_or_else(|| format!("--{name} is required"))?;
        text.parse()
            .map_err(|_| format!("--{name}: cannot parse {text:?}"))
    }

    /// An option with a default.
    pub(crate) fn get_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        if self.values.contains_key(name) {
            self.get(name)
        } else {
            Ok(default)
        }
    }

    /// A string option.
    pub(crate) fn text(&self, name: &str) -> Result<&str, String> {
        self.values
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    /// `--runtime tokio|smol`.
    pub(crate) fn backend(&self) -> Result<Backend, String> {
        match self.text("runtime")? {
            "tokio" => Ok(Backend::Tokio),
            "smol" => Ok(Backend::Smol),
            other => Err(format!("--runtime: tokio or smol, not {other:?}")),
        }
    }

    /// Directives with `--buffer-size` (default OpenResty's 4096) and 60 s timeouts.
    pub(crate) fn directives(&self) -> Result<cosocket::Directives, String> {
        let size: usize = self.get_or("buffer-size", 4096)?;
        let buffer_size = std::num::NonZeroUsize::new(size).ok_or("--buffer-size must be > 0")?;
        let mut directives = cosocket::Directives::default();
        directives.buffer_size = buffer_size;
        Ok(directives)
    }
}
