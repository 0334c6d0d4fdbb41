//! The runner's command line, parsed by hand.

use std::path::PathBuf;

/// The usage line.
pub const USAGE: &str =
    "usage: parity --backend tokio|smol [--flavor current|multi] --scenarios DIR --out DIR";

/// The implementation under test and its executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// tokio, a fresh current-thread runtime per scenario.
    TokioCurrent,
    /// tokio, ops in a task spawned onto a 2-worker multi-thread runtime.
    TokioMulti,
    /// smol.
    Smol,
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `--backend` (+ `--flavor`).
    pub backend: Backend,
    /// `--scenarios DIR`.
    pub scenarios: PathBuf,
    /// `--out DIR`.
    pub out: PathBuf,
}

impl Args {
    /// Parses the arguments after the program name; the error explains what is wrong and
    /// ends with [`USAGE`].
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut backend = None;
        let mut flavor = None;
        let mut scenarios = None;
        let mut out = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                "--backend" => &mut backend,
                "--flavor" => &mut flavor,
                "--scenarios" => &mut scenarios,
                "--out" => &mut out,
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            };
            let value = args
                .next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))?;
            if slot.replace(value).is_some() {
                return Err(format!("{arg} given twice\n{USAGE}"));
            }
        }
        let backend = match (backend.as_deref(), flavor.as_deref()) {
            (Some("tokio"), None | Some("current")) => Backend::TokioCurrent,
            (Some("tokio"), Some("multi")) => Backend::TokioMulti,
            (Some("smol"), None) => Backend::Smol,
            (Some("smol"), Some(_)) => {
                return Err(format!("--flavor applies to --backend tokio only\n{USAGE}"));
            }
            (Some("tokio"), Some(f)) => {
                return Err(format!(
                    "unknown --flavor {f:?} (current or multi)\n{USAGE}"
                ));
            }
            (Some(b), _) => {
                return Err(format!("unknown --backend {b:?} (tokio or smol)\n{USAGE}"));
            }
            (None, _) => return Err(format!("--backend is required\n{USAGE}")),
        };
        Ok(Self {
            backend,
            scenarios: scenarios
                .ok_or_else(|| format!("--scenarios is required\n{USAGE}"))?
                .into(),
            out: out
                .ok_or_else(|| format!("--out is required\n{USAGE}"))?
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, String> {
        Args::parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn backends_and_flavors() {
        let a = parse("--backend tokio --scenarios s --out o").unwrap();
        assert_eq!(a.backend, Backend::TokioCurrent);
        assert_eq!(a.scenarios, PathBuf::from("s"));
        assert_eq!(a.out, PathBuf::from("o"));
        let a = parse("--out o --flavor multi --backend tokio --scenarios s").unwrap();
        assert_eq!(a.backend, Backend::TokioMulti);
        assert_eq!(
            parse("--backend smol --scenarios s --out o")
                .unwrap()
                .backend,
            Backend::Smol
        );
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "",
            "--backend",
            "--backend async-std --scenarios s --out o",
            "--backend smol --flavor multi --scenarios s --out o",
            "--backend tokio --flavor both --scenarios s --out o",
            "--backend tokio --out o",
            "--backend tokio --scenarios s",
            "--backend tokio --backend smol --scenarios s --out o",
            "--verbose",
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.ends_with(USAGE), "{line:?}: {e}");
        }
    }
}
