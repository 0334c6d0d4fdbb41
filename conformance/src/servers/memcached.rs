//! `memcached` on a free loopback port (TCP only, `-U 0`) or on a Unix socket (`-s`), 64
//! MiB of memory.

use std::ffi::OsString;

use std::path::PathBuf;

use super::{Process, TempDir, find_binary, start_listening, start_on_unix_socket};

/// A running `memcached`; stopped (by PID) when dropped.
#[derive(Debug)]
pub struct Memcached {
    // Fields drop in order: the process before the directory it works in.
    process: Process,
    port: u16,
    dir: TempDir,
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
        Self { process, port, dir }
    }

    /// Starts the server on a Unix socket only ([`unix_path`](Self::unix_path); memcached
    /// then listens on no port: [`port`](Self::port) is 0).
    pub fn start_unix() -> Self {
        let binary = find_binary("memcached", &["/usr/bin", "/usr/local/bin"], "memcached");
        let dir = TempDir::new("memcached");
        let path = dir.join("memcached.sock");
        let mut args: Vec<OsString> = vec!["-s".into(), path.clone().into()];
        args.extend(["-a".into(), "0700".into(), "-m".into(), "64".into()]);
        if super::running_as_root() {
            args.extend(["-u".into(), "root".into()]);
        }
        let process = start_on_unix_socket("memcached", &binary, &dir, &path, args);
        Self {
            process,
            port: 0,
            dir,
        }
    }

    /// The Unix socket's path (of a [`start_unix`](Self::start_unix) server).
    pub fn unix_path(&self) -> PathBuf {
        self.dir.join("memcached.sock")
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
