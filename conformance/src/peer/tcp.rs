//! The stream peer (FORMAT §3.1, §3.2): a TCP or unix listener whose accept thread runs
//! each connection's script in a thread of its own, logging every byte it reads.

use std::io::{self, ErrorKind, Read};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::report::End;
use super::spec::{PeerSpec, Step};
use super::state::{ScriptGuard, Shared, TICK};

/// FORMAT §3.1: both stream listeners have backlog 64.
const BACKLOG: i32 = 64;

/// FORMAT §3.2: each peer read asks for up to 65536 bytes.
const READ_SIZE: usize = 65536;

/// `send(2)` flag: a write to a reset connection fails with EPIPE (FORMAT §3.2: end
/// `reset`) instead of raising SIGPIPE; socket2's `send` passes no flags.
#[cfg(any(target_os = "linux", target_os = "android"))]
const MSG_NOSIGNAL: std::ffi::c_int = 0x4000;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const MSG_NOSIGNAL: std::ffi::c_int = 0;

/// The TCP listener of FORMAT §3.1: 127.0.0.1, ephemeral port, `SO_REUSEADDR`, backlog 64.
pub(crate) fn listen_tcp() -> io::Result<(Socket, SocketAddr)> {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    listener.set_reuse_address(true)?;
    listener.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
    listener.listen(BACKLOG)?;
    let addr = listener
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("tcp listener without an inet address"))?;
    Ok((listener, addr))
}

/// The unix stream listener of FORMAT §3.1 at `path` (in the peer's fresh temp dir).
pub(crate) fn listen_unix(path: &Path) -> io::Result<Socket> {
    let listener = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    listener.bind(&SockAddr::unix(path)?)?;
    listener.listen(BACKLOG)?;
    Ok(listener)
}

/// Starts the accept thread. It accepts in order (connection numbers are accept order,
/// FORMAT §3.2), starts one script thread per connection, and on stop joins them all.
pub(crate) fn spawn_acceptor(
    listener: Socket,
    tcp: bool,
    spec: PeerSpec,
    shared: Arc<Shared>,
) -> io::Result<JoinHandle<()>> {
    // `accept` honours SO_RCVTIMEO on Linux: the thread wakes every tick to see a stop.
    listener.set_read_timeout(Some(TICK))?;
    thread::Builder::new()
        .name("cosocket-peer-accept".into())
        .spawn(move || accept_loop(&listener, tcp, &spec, &shared))
}

fn accept_loop(listener: &Socket, tcp: bool, spec: &PeerSpec, shared: &Arc<Shared>) {
    let recv_timeout = Duration::from_millis(spec.recv_timeout_ms());
    #[cfg(feature = "tls")]
    let tls = spec
        .tls
        .as_ref()
        .map(|t| (super::tls::server_config(t), t.handshake_delay_ms));
    let mut scripts = Vec::new();
    while !shared.stopped() {
        let socket = match listener.accept() {
            Ok((socket, _)) => socket,
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::ConnectionAborted => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => {
                // EMFILE and the like: retry later rather than spin or give up.
                shared.sleep(TICK);
                continue;
            }
        };
        let index = shared.add_connection();
        if tcp {
            // FORMAT §3.2: every `send` step leaves as its own segment.
            let _ = socket.set_nodelay(true);
        }
        // Writes wake every tick too, so a peer blocked on a full send buffer stops.
        let _ = socket.set_write_timeout(Some(TICK));
        if spec.log_recv == Some(false) {
            shared.set_unlogged(index);
        }
        #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
        let mut connection = Connection {
            socket,
            index,
            shared: Arc::clone(shared),
            recv_timeout,
            buf: vec![0; READ_SIZE],
            #[cfg(feature = "tls")]
            tls: None,
        };
        let steps = spec.script_for(index).to_vec();
        #[cfg(feature = "tls")]
        let tls = tls.clone();
        let thread = thread::Builder::new()
            .name(format!("cosocket-peer-conn-{index}"))
            .spawn(move || {
                let shared = Arc::clone(&connection.shared);
                let _ended = ScriptGuard(&shared);
                #[cfg(feature = "tls")]
                if let Some((config, delay)) = tls {
                    let Ok(config) = config else { return };
                    if !connection.tls_handshake(config, delay) {
                        return;
                    }
                }
                connection.run(&steps);
            });
        match thread {
            Ok(thread) => scripts.push(thread),
            // The closure (and the socket) is gone; the script never ran, never ends.
            Err(_) => shared.end_script(),
        }
    }
    for script in scripts {
        // A panicking script is already accounted for by its guard; nothing to add.
        let _ = script.join();
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// One accepted connection running its script.
pub(super) struct Connection {
    pub(super) socket: Socket,
    pub(super) index: usize,
    pub(super) shared: Arc<Shared>,
    pub(super) recv_timeout: Duration,
    pub(super) buf: Vec<u8>,
    /// A `tls` peer's session after its handshake (FORMAT §10.3).
    #[cfg(feature = "tls")]
    pub(super) tls: Option<super::tls::ServerTls>,
}

/// The outcome of one raw read of the socket.
pub(super) enum Raw {
    /// This many bytes, now at the start of `buf` (not logged).
    Bytes(usize),
    /// EOF.
    Eof,
    /// ECONNRESET or another error that leaves the connection dead.
    Reset,
    /// The deadline passed without data.
    Idle,
    /// The peer is stopping.
    Stopped,
}

/// The outcome of one peer read.
pub(super) enum Got {
    /// This many bytes, now at the start of `buf` and in the log.
    Bytes(usize),
    /// EOF or ECONNRESET (FORMAT §3.2: a reset counts as EOF); the end is set.
    Eof,
    /// The deadline passed without data.
    Idle,
    /// The peer is stopping.
    Stopped,
}

/// Whether the script goes on after a step.
pub(super) enum Flow {
    Next,
    /// The connection ended (end set) or the peer is stopping.
    Done,
}

impl Connection {
    fn run(mut self, steps: &[Step]) {
        for step in steps {
            let flow = match step {
                Step::Send { data, repeat } => self.send(data, *repeat),
                Step::SleepMs(ms) => {
                    if self.shared.sleep(Duration::from_millis(*ms)) {
                        Flow::Next
                    } else {
                        Flow::Done
                    }
                }
                Step::ExpectRecv(n) => self.expect_count(*n),
                Step::ExpectRecvUntil(pattern) => self.expect_until(pattern),
                Step::Drain => self.drain(),
                Step::HalfClose => {
                    // FIN only; the socket stays open for reading. A failure (the client
                    // already reset) shows up on the next read or write.
                    let _ = self.socket.shutdown(Shutdown::Write);
                    Flow::Next
                }
                Step::Close => return self.close(),
                Step::Reset => return self.reset(),
                #[cfg(feature = "tls")]
                Step::SendRecords(records) => self.send_records(records),
                #[cfg(feature = "tls")]
                Step::CloseNotify => self.close_notify(),
                #[cfg(feature = "tls")]
                Step::SendRaw(data) => self.send_bytes(data),
                // UDP steps: `PeerSpec::check` keeps them out of stream scripts, TLS
                // steps out of plain ones.
                _ => Flow::Next,
            };
            if let Flow::Done = flow {
                return;
            }
        }
        self.hold();
    }

    /// FORMAT §3.2 `send`: the whole data `repeat` times, blocking; a failed write ends
    /// the connection as `reset` and stops the script.
    fn send(&mut self, data: &[u8], repeat: usize) -> Flow {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return self.send_tls(data, repeat);
        }
        for _ in 0..repeat {
            if let Flow::Done = self.send_bytes(data) {
                return Flow::Done;
            }
        }
        Flow::Next
    }

    /// Writes all of `data`, blocking; a failed write ends the connection as `reset`.
    pub(super) fn send_bytes(&self, data: &[u8]) -> Flow {
        let mut rest = data;
        while !rest.is_empty() {
            if self.shared.stopped() {
                return Flow::Done;
            }
            match self.socket.send_with_flags(rest, MSG_NOSIGNAL) {
                Ok(0) => return self.end(End::Reset),
                Ok(n) => rest = &rest[n..],
                Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.end(End::Reset),
            }
        }
        Flow::Next
    }

    /// FORMAT §3.2 `expect_recv: N`: N bytes since the step began (a read may take more;
    /// the surplus is logged but not carried over), EOF, or the deadline.
    fn expect_count(&mut self, n: usize) -> Flow {
        let deadline = Instant::now() + self.recv_timeout;
        let mut got = 0;
        while got < n {
            match self.read(Some(deadline)) {
                Got::Bytes(k) => got += k,
                Got::Idle => break,
                Got::Eof | Got::Stopped => return Flow::Done,
            }
        }
        Flow::Next
    }

    /// FORMAT §3.2 `expect_recv: {"until": P}`: until this step's bytes contain P.
    fn expect_until(&mut self, pattern: &[u8]) -> Flow {
        let deadline = Instant::now() + self.recv_timeout;
        let mut seen = Vec::new();
        // Where a match not yet ruled out may start.
        let mut from = 0;
        while !contains(&seen[from..], pattern) {
            from = seen.len().saturating_sub(pattern.len().saturating_sub(1));
            match self.read(Some(deadline)) {
                Got::Bytes(k) => seen.extend_from_slice(&self.buf[..k]),
                Got::Idle => break,
                Got::Eof | Got::Stopped => return Flow::Done,
            }
        }
        Flow::Next
    }

    /// FORMAT §3.2 `drain`: until EOF; `recv_timeout` is an idle limit per read.
    fn drain(&mut self) -> Flow {
        loop {
            match self.read(Some(Instant::now() + self.recv_timeout)) {
                Got::Bytes(_) => {}
                Got::Idle => return Flow::Next,
                Got::Eof | Got::Stopped => return Flow::Done,
            }
        }
    }

    /// FORMAT §3.2 `close`: take what is already queued without blocking, so that Linux
    /// sends a FIN and not an RST, then close.
    ///
    /// The step's read stops at EOF or ECONNRESET without setting `end`: the step ends the
    /// connection as `closed_by_peer` (FORMAT §3.2's `close` row) even when the client's
    /// FIN or RST is already queued. OpenResty's recordings show `closed_by_peer` for a
    /// client that closes right after connecting, and for one that ends its request with
    /// the peer's bytes unread (an RST) just after the peer's last `send`, in every run:
    /// nginx ends a request later than we do, so the race is ours alone.
    fn close(mut self) {
        let _ = self.socket.set_nonblocking(true);
        loop {
            match (&self.socket).read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => self.log(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.close_as(End::ClosedByPeer);
    }

    /// FORMAT §3.2 `reset`: `SO_LINGER {on, 0}` makes `close()` send an RST.
    fn reset(self) {
        let _ = self.socket.set_linger(Some(Duration::ZERO));
        self.close_as(End::ResetByPeer);
    }

    /// Closes the socket first, then records how the connection ended (a reader of the
    /// record then sees the close done).
    fn close_as(self, end: End) {
        let Self {
            socket,
            index,
            shared,
            ..
        } = self;
        drop(socket);
        shared.set_end(index, end);
    }

    /// FORMAT §3.2: after the last step an open connection is held, read and logged,
    /// until EOF, ECONNRESET or the peer stops (the snapshot then says `open`).
    fn hold(mut self) {
        while let Got::Bytes(_) = self.read(None) {}
    }

    /// Logs the first `n` bytes of `buf`: plaintext over TLS.
    fn log(&mut self, n: usize) {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            self.log_tls(n);
            return;
        }
        self.shared.log_recv(self.index, &self.buf[..n]);
    }

    /// One read of up to 65536 bytes, logged (the plaintext, over TLS), waiting at most
    /// until `deadline` (never, if `None`); at least one read is tried even if the
    /// deadline has passed.
    fn read(&mut self, deadline: Option<Instant>) -> Got {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return self.read_tls(deadline);
        }
        match self.read_raw(deadline) {
            Raw::Bytes(n) => {
                self.shared.log_recv(self.index, &self.buf[..n]);
                Got::Bytes(n)
            }
            Raw::Eof => {
                self.shared.set_end(self.index, End::Eof);
                Got::Eof
            }
            Raw::Reset => {
                // ECONNRESET (FORMAT §3.2: `reset`, counts as EOF), or another error
                // that leaves the connection just as dead.
                self.shared.set_end(self.index, End::Reset);
                Got::Eof
            }
            Raw::Idle => Got::Idle,
            Raw::Stopped => Got::Stopped,
        }
    }

    /// One raw read of the socket into `buf`, nothing logged, nothing ended.
    pub(super) fn read_raw(&mut self, deadline: Option<Instant>) -> Raw {
        loop {
            if self.shared.stopped() {
                return Raw::Stopped;
            }
            let wait = deadline.map_or(TICK, |d| {
                d.saturating_duration_since(Instant::now()).min(TICK)
            });
            // SO_RCVTIMEO of zero would mean "forever".
            let _ = self
                .socket
                .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
            match (&self.socket).read(&mut self.buf) {
                Ok(0) => return Raw::Eof,
                Ok(n) => return Raw::Bytes(n),
                Err(e) if is_timeout(&e) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Raw::Idle;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Raw::Reset,
            }
        }
    }

    /// Sets the end and stops the script.
    pub(super) fn end(&self, end: End) -> Flow {
        self.shared.set_end(self.index, end);
        Flow::Done
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
