//! The scripted peer of FORMAT.md §3: the other end of every conformance case and parity
//! scenario.
//!
//! A [`Peer`] runs a [`PeerSpec`] on plain std threads and `socket2` sockets, never on an
//! async executor, so it stays independent of the executor under test. Stream peers run
//! one script per accepted connection, log every byte they read and how the connection
//! ended; UDP peers run one script and log the datagrams it received. [`Peer::finish`]
//! takes FORMAT §3.5's snapshot as a [`PeerReport`], whose [`to_json`](PeerReport::to_json)
//! is the `"peer"` object of a result file.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use cosocket_conformance::peer::{End, Peer, PeerSpec, Step};
//!
//! let mut peer = Peer::start(&PeerSpec::tcp(vec![
//!     Step::expect(4),
//!     Step::send("pong\r\n"),
//!     Step::Close,
//! ]))?;
//! let mut client = std::net::TcpStream::connect(peer.addr().unwrap())?;
//! client.write_all(b"ping")?;
//! let mut reply = Vec::new();
//! client.read_to_end(&mut reply)?;
//! assert_eq!(reply, b"pong\r\n");
//!
//! let report = peer.finish(Peer::DEFAULT_GRACE);
//! assert_eq!(report.connections()[0].recv, b"ping");
//! assert_eq!(report.connections()[0].end, End::ClosedByPeer);
//! assert_eq!(
//!     report.to_json(),
//!     serde_json::json!({"connections": [{"recv": "ping", "end": "closed_by_peer"}]})
//! );
//! # Ok::<(), std::io::Error>(())
//! ```

mod bytes;
mod report;
mod spec;
mod state;
mod target;
mod tcp;
mod temp_dir;
#[cfg(feature = "tls")]
mod tls;
mod udp;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use bytes::{bytes_to_latin1, latin1_to_bytes};
pub use report::{ConnectionReport, End, Handshake, PeerReport, TlsReport, summarize};
pub use spec::{PeerKind, PeerSpec, Step, TlsServerSpec};
pub use target::Target;

use state::Shared;
use target::BacklogFull;
use temp_dir::TempDir;

/// FORMAT §3.5: after request end the peer first sleeps this long.
const SETTLE: Duration = Duration::from_millis(100);

/// A running scripted peer. Dropping it without [`finish`](Self::finish) stops it the
/// same way (threads joined, temp dir removed), so a panicking test leaks nothing.
#[derive(Debug)]
pub struct Peer {
    kind: PeerKind,
    shared: Arc<Shared>,
    addr: Option<SocketAddr>,
    path: Option<PathBuf>,
    /// The unix peer's directory, or the one made for `missing_unix`.
    dir: Option<TempDir>,
    threads: Vec<JoinHandle<()>>,
    targets: HashMap<String, Target>,
    backlog_full: Option<BacklogFull>,
}

impl Peer {
    /// FORMAT §3.5's default `peer_grace_ms` (300 ms), for [`finish`](Self::finish).
    pub const DEFAULT_GRACE: Duration = Duration::from_millis(300);

    /// Starts the peer of `spec`: the listener or socket is up and accepting (or
    /// receiving) when this returns. A spec FORMAT §3 gives no meaning (see
    /// [`PeerSpec`]) is an [`ErrorKind::InvalidInput`] error.
    pub fn start(spec: &PeerSpec) -> io::Result<Self> {
        spec.check()
            .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?;
        // Built first, so that `Drop` cleans up whatever a failing step below left.
        let mut peer = Self {
            kind: spec.kind,
            shared: Arc::default(),
            addr: None,
            path: None,
            dir: None,
            threads: Vec::new(),
            targets: HashMap::new(),
            backlog_full: None,
        };
        let shared = Arc::clone(&peer.shared);
        match spec.kind {
            PeerKind::Tcp | PeerKind::Tls => {
                let (listener, addr) = tcp::listen_tcp()?;
                peer.addr = Some(addr);
                let thread = tcp::spawn_acceptor(listener, true, spec.clone(), shared)?;
                peer.threads.push(thread);
            }
            PeerKind::Unix => {
                let dir = peer.dir.insert(TempDir::new()?);
                let path = dir.path().join("peer.sock");
                let listener = tcp::listen_unix(&path)?;
                peer.path = Some(path);
                let thread = tcp::spawn_acceptor(listener, false, spec.clone(), shared)?;
                peer.threads.push(thread);
            }
            PeerKind::Udp => {
                let socket = udp::bind()?;
                peer.addr = Some(socket.local_addr()?);
                peer.threads.push(udp::spawn(socket, spec, shared)?);
            }
            PeerKind::None => {}
        }
        Ok(peer)
    }

    /// The address of FORMAT §3.1's target `name`: `peer`, `unix`, `closed`,
    /// `closed_udp`, `missing_unix` or `backlog_full`.
    ///
    /// Each is made on first ask and the same one returned afterwards; `backlog_full`
    /// fills its accept queue then (three connects and 50 ms), so ask for every target
    /// before the ops run. An unknown name, or `peer` / `unix` on a peer that has no such
    /// address, is an [`ErrorKind::InvalidInput`] error.
    pub fn target(&mut self, name: &str) -> io::Result<Target> {
        if let Some(target) = self.targets.get(name) {
            return Ok(target.clone());
        }
        let target = match (name, self.kind) {
            ("peer", PeerKind::Tcp | PeerKind::Tls | PeerKind::Udp) => {
                Target::loopback(self.port())
            }
            ("peer" | "unix", PeerKind::Unix) => {
                let path = self.path.as_deref();
                Target::unix(path.ok_or_else(|| invalid("unix peer without a path".into()))?)?
            }
            ("peer" | "unix", kind) => {
                return Err(invalid(format!("a {kind:?} peer has no {name:?} target")));
            }
            ("closed", _) => Target::loopback(target::closed_tcp_port()?),
            ("closed_udp", _) => Target::loopback(target::closed_udp_port()?),
            ("missing_unix", _) => {
                let dir = match &mut self.dir {
                    Some(dir) => dir,
                    none => none.insert(TempDir::new()?),
                };
                Target::unix(&dir.path().join("nonexistent.sock"))?
            }
            ("backlog_full", _) => {
                let port = self.backlog_full.insert(BacklogFull::new()?).port();
                Target::loopback(port)
            }
            _ => {
                return Err(invalid(format!(
                    "unknown peer target {name:?} (FORMAT §3.1)"
                )));
            }
        };
        self.targets.insert(name.to_owned(), target.clone());
        Ok(target)
    }

    /// The TCP or UDP peer's address (`None` for unix and none peers).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The unix peer's socket path (`None` for the other kinds).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted()
    }

    /// FORMAT §3.5, called at request end: sleep 100 ms, wait up to `grace` (the
    /// scenario's `peer_grace_ms`) for every script to end, take the snapshot (an unset
    /// end is `open`), then stop every thread and remove the temp dir.
    pub fn finish(mut self, grace: Duration) -> PeerReport {
        thread::sleep(SETTLE);
        self.shared.wait_scripts(Instant::now() + grace);
        let report = match self.kind {
            PeerKind::Udp => PeerReport::Datagrams(self.shared.datagrams()),
            PeerKind::Tcp | PeerKind::Tls | PeerKind::Unix | PeerKind::None => {
                PeerReport::Connections(self.shared.connections())
            }
        };
        self.stop();
        report
    }

    fn port(&self) -> u16 {
        self.addr.map_or(0, |a| a.port())
    }

    /// Stops and joins every thread (each wakes within a tick), then closes the extra
    /// targets' sockets and removes the temp dir. Idempotent.
    fn stop(&mut self) {
        self.shared.stop();
        for thread in self.threads.drain(..) {
            // A panicked peer thread has nothing more to report; never panic here.
            let _ = thread.join();
        }
        self.backlog_full = None;
        self.dir = None;
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(ErrorKind::InvalidInput, message)
}
