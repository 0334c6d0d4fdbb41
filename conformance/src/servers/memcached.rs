//! `memcached` on a free loopback port (TCP only, `-U 0`), 64 MiB of memory.

use std::ffi::OsString;

use super::{Process, TempDir, find_binary, start_listening};

/// A running `memcached`; stopped (by PID) when dropped.
#[derive(Debug)]
pub struct Memcached {
    // Fields drop in order: the process before the directory it works in.
    process: Process,
    port: u16,
    _dir: TempDir,
}

impl Memcached {
    /// Starts the server.
    pub fn start() -> Self {
        let binary = find_binary("memcached", &["/usr/bin", "/usr/local/bin"], "memcached");
        let dir = TempDir::new("memcached");
        let (process, port) = start_listening("memcached", &binary, &dir, |port| {
            let mut args: Vec<OsString> = vec![
                "-l".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string().into(),
                "-U".into(),
                "0".into(),
                "-m".into(),
                "64".into(),
            ];
            // memcached refuses to run as root unless told which user to be.
            if super::running_as_root() {
                args.extend(["-u".into(), "root".into()]);
            }
            args
        });
        Self {
            process,
            port,
            _dir: dir,
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}
