//! The addresses a scenario connects to (FORMAT §3.1's targets) and the sockets behind
//! the ones that are not the peer itself.

use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// What `connect` / `setpeername` is given for a target (FORMAT §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// `(host, port)`; the host is always `"127.0.0.1"`, so the default pool key is
    /// `"127.0.0.1:<port>"`.
    Tcp {
        /// The host string passed to connect.
        host: String,
        /// The port.
        port: u16,
    },
    /// The full `"unix:/abs/path"` string, which is also the default pool key.
    Unix(String),
}

impl Target {
    /// `("127.0.0.1", port)`.
    pub(crate) fn loopback(port: u16) -> Self {
        Self::Tcp {
            host: Ipv4Addr::LOCALHOST.to_string(),
            port,
        }
    }

    /// `"unix:<path>"`.
    pub(crate) fn unix(path: &Path) -> io::Result<Self> {
        let path = path.to_str().ok_or_else(|| {
            io::Error::new(ErrorKind::InvalidData, "unix socket path is not UTF-8")
        })?;
        Ok(Self::Unix(format!("unix:{path}")))
    }
}

/// `closed`: a TCP port that was bound and released, so a connect is refused.
pub(crate) fn closed_tcp_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// `closed_udp`: the same for UDP, so a send provokes an ICMP port unreachable.
pub(crate) fn closed_udp_port() -> io::Result<u16> {
    Ok(UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// `backlog_full`: a listener with `listen(0)` that never accepts, whose accept queue
/// three client connects have filled, so a further SYN is dropped and a connect there
/// times out instead of being refused. Kept alive until the peer stops.
#[derive(Debug)]
pub(crate) struct BacklogFull {
    port: u16,
    _listener: Socket,
    _clients: Vec<Socket>,
}

impl BacklogFull {
    /// Listener, the three non-blocking connects, and the 50 ms for their handshakes.
    pub(crate) fn new() -> io::Result<Self> {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        listener.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
        // std's listener would use backlog 128; 0 lets Linux queue a single connection.
        listener.listen(0)?;
        let addr = listener.local_addr()?;
        let port = addr
            .as_socket()
            .ok_or_else(|| io::Error::other("tcp listener without an inet address"))?
            .port();
        let mut clients = Vec::with_capacity(3);
        for _ in 0..3 {
            let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
            client.set_nonblocking(true)?;
            match client.connect(&addr) {
                Ok(()) => {}
                Err(e) if in_progress(&e) => {}
                Err(e) => return Err(e),
            }
            clients.push(client);
        }
        thread::sleep(Duration::from_millis(50));
        Ok(Self {
            port,
            _listener: listener,
            _clients: clients,
        })
    }

    /// The listener's port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

/// A non-blocking connect that has started: EINPROGRESS (115 on Linux; std has no
/// stable `ErrorKind` for it) or `WouldBlock`.
fn in_progress(e: &io::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock || e.raw_os_error() == Some(115)
}
