//! The UDP peer (FORMAT §3.3): one script, run once, on a datagram socket bound to
//! 127.0.0.1; every datagram the script receives is logged.

use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::spec::{PeerSpec, Step};
use super::state::{ScriptGuard, Shared, TICK};

/// FORMAT §3.3: `recv` and `echo` receive into a 65536-byte buffer.
const DATAGRAM_BUFFER: usize = 65536;

/// FORMAT §3.1: a datagram socket on 127.0.0.1, ephemeral port.
pub(crate) fn bind() -> io::Result<UdpSocket> {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
}

/// Starts the script thread. The socket stays bound after the script until the peer
/// stops, so a late client datagram is not answered by an ICMP port unreachable.
pub(crate) fn spawn(
    socket: UdpSocket,
    spec: &PeerSpec,
    shared: Arc<Shared>,
) -> io::Result<JoinHandle<()>> {
    let mut script = Script {
        socket,
        recv_timeout: Duration::from_millis(spec.recv_timeout_ms()),
        shared,
        buf: vec![0; DATAGRAM_BUFFER],
        last_sender: None,
    };
    let steps = spec.steps.clone().unwrap_or_default();
    // Counted before the thread exists, so a snapshot can never miss a script to wait for.
    let shared = Arc::clone(&script.shared);
    shared.add_script();
    let thread = thread::Builder::new()
        .name("cosocket-peer-udp".into())
        .spawn(move || {
            let shared = Arc::clone(&script.shared);
            {
                let _ended = ScriptGuard(&shared);
                script.run(&steps);
            }
            shared.wait_stopped();
        });
    if thread.is_err() {
        shared.end_script();
    }
    thread
}

/// The UDP script and its state.
struct Script {
    socket: UdpSocket,
    recv_timeout: Duration,
    shared: Arc<Shared>,
    buf: Vec<u8>,
    /// FORMAT §3.3: `send` goes to the sender of the last datagram received.
    last_sender: Option<SocketAddr>,
}

/// The outcome of one receive.
enum Got {
    /// A datagram of this many bytes, at the start of `buf`, logged.
    Datagram(usize, SocketAddr),
    /// `recv_timeout` passed without one.
    Idle,
    /// The peer is stopping.
    Stopped,
}

impl Script {
    fn run(&mut self, steps: &[Step]) {
        for step in steps {
            let go_on = match step {
                Step::Recv => !matches!(self.recv(), Got::Stopped),
                Step::Send { data, .. } => {
                    // Skipped while nobody has sent anything (FORMAT §3.3). A send error
                    // is the client's business (it sees the ICMP), not the peer's.
                    if let Some(to) = self.last_sender {
                        let _ = self.socket.send_to(data, to);
                    }
                    true
                }
                Step::Echo(n) => self.echo(*n),
                Step::SleepMs(ms) => self.shared.sleep(Duration::from_millis(*ms)),
                // Stream steps: `PeerSpec::check` keeps them out of UDP scripts.
                _ => true,
            };
            if !go_on {
                return;
            }
        }
    }

    /// FORMAT §3.3 `echo`: `n` times receive one datagram and send it back to its
    /// sender, stopping early at a receive timeout; `false` if the peer is stopping.
    fn echo(&mut self, n: usize) -> bool {
        for _ in 0..n {
            match self.recv() {
                Got::Datagram(len, from) => {
                    let _ = self.socket.send_to(&self.buf[..len], from);
                }
                Got::Idle => break,
                Got::Stopped => return false,
            }
        }
        true
    }

    /// Waits up to `recv_timeout` for one datagram, logs it and remembers its sender.
    fn recv(&mut self) -> Got {
        let deadline = Instant::now() + self.recv_timeout;
        loop {
            if self.shared.stopped() {
                return Got::Stopped;
            }
            let wait = deadline.saturating_duration_since(Instant::now()).min(TICK);
            // SO_RCVTIMEO of zero would mean "forever".
            let _ = self
                .socket
                .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
            match self.socket.recv_from(&mut self.buf) {
                Ok((len, from)) => {
                    self.shared.log_datagram(self.buf[..len].to_vec());
                    self.last_sender = Some(from);
                    return Got::Datagram(len, from);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A timeout, or a one-off error report: try again until the deadline.
                Err(_) => {
                    if Instant::now() >= deadline {
                        return Got::Idle;
                    }
                }
            }
        }
    }
}
