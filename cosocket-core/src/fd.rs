//! Everything core does on a connection's fd directly, once for every backend
//! (ARCHITECTURE.md, "Invariants"): socket options (spec §8.1), the zero-timeout probe for
//! bytes or a FIN that arrived while nobody read (spec §5.4, §5.6), and the local and peer
//! addresses (spec §8.4 `getfd`, §12 `getpeername` / `getsockname`), read from the kernel
//! on each call so that a pooled connection reports the address it was opened with.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::net::{RecvFlags, recv, sockopt};
use socket2::{Domain, SockAddr, SockRef};

use crate::options::{Address, SocketOption};
use crate::proto::{Error, ErrorKind, Result, strerror};

/// `setoption`: `setsockopt` for one of OpenResty's option names; values are C `int`s
/// (booleans 1/0). Errors report `strerror` as is, not lower-cased (spec §8.1).
pub(crate) fn set_option(fd: impl AsFd, option: SocketOption, value: i32) -> Result<()> {
    set(fd, option, value).map_err(|e| option_error(&e))
}

/// `getoption`: the value read back from the kernel, errors as for [`set_option`].
pub(crate) fn get_option(fd: impl AsFd, option: SocketOption) -> Result<i32> {
    get(fd, option).map_err(|e| option_error(&e))
}

fn option_error(error: &io::Error) -> Error {
    Error::new(ErrorKind::Os, strerror(error))
}

/// `setsockopt` for one of OpenResty's option names; values are C `int`s (booleans 1/0).
pub(crate) fn set(fd: impl AsFd, option: SocketOption, value: i32) -> io::Result<()> {
    let on = value != 0;
    // Buffer sizes are C ints to the kernel: a negative value goes through as OpenResty
    // passes it (Linux clamps it), never as a huge usize that fails in conversion.
    let size = value.max(0) as usize;
    match option {
        SocketOption::KeepAlive => sockopt::set_socket_keepalive(fd, on)?,
        SocketOption::ReuseAddr => sockopt::set_socket_reuseaddr(fd, on)?,
        SocketOption::TcpNoDelay => sockopt::set_tcp_nodelay(fd, on)?,
        SocketOption::SndBuf => sockopt::set_socket_send_buffer_size(fd, size)?,
        SocketOption::RcvBuf => sockopt::set_socket_recv_buffer_size(fd, size)?,
        SocketOption::KeepIntvl => {
            let secs = u64::try_from(value).map_err(|_| invalid())?;
            sockopt::set_tcp_keepintvl(fd, Duration::from_secs(secs))?;
        }
        SocketOption::KeepCnt => {
            let count = u32::try_from(value).map_err(|_| invalid())?;
            sockopt::set_tcp_keepcnt(fd, count)?;
        }
    }
    Ok(())
}

/// `getsockopt`: the value read back from the kernel (`sndbuf` set to 4096 reads 8192 on
/// Linux).
fn get(fd: impl AsFd, option: SocketOption) -> io::Result<i32> {
    let int = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    Ok(match option {
        SocketOption::KeepAlive => i32::from(sockopt::socket_keepalive(fd)?),
        SocketOption::ReuseAddr => i32::from(sockopt::socket_reuseaddr(fd)?),
        SocketOption::TcpNoDelay => i32::from(sockopt::tcp_nodelay(fd)?),
        SocketOption::SndBuf => int(sockopt::socket_send_buffer_size(fd)?),
        SocketOption::RcvBuf => int(sockopt::socket_recv_buffer_size(fd)?),
        SocketOption::KeepIntvl => {
            i32::try_from(sockopt::tcp_keepintvl(fd)?.as_secs()).unwrap_or(i32::MAX)
        }
        SocketOption::KeepCnt => i32::try_from(sockopt::tcp_keepcnt(fd)?).unwrap_or(i32::MAX),
    })
}

fn invalid() -> io::Error {
    io::Error::from_raw_os_error(rustix::io::Errno::INVAL.raw_os_error())
}

/// What a zero-timeout look at a connection nobody is reading found (spec §5.4 steps 1
/// and 8, §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Nothing arrived (or a one-byte read would block).
    Quiet,
    /// Bytes (or an EOF) are readable.
    Readable,
    /// The peer's FIN (read-hangup), a hangup or an error is pending.
    Hangup,
    /// A one-byte read got a byte or the end of the stream: the connection is in a dubious
    /// state.
    Dubious,
}

/// Polls the fd with a zero timeout for input and read-hangup (`POLLRDHUP`, the kernel's
/// notice of a FIN that arrived while the socket sat unread).
pub(crate) fn probe_readiness(fd: impl AsFd) -> Probe {
    let fd = fd.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN | PollFlags::RDHUP)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&zero)) {
        Ok(0) => Probe::Quiet,
        Ok(_) => {
            let revents = fds[0].revents();
            if revents.intersects(PollFlags::RDHUP | PollFlags::HUP | PollFlags::ERR) {
                Probe::Hangup
            } else {
                Probe::Readable
            }
        }
        Err(_) => Probe::Hangup,
    }
}

/// Reads exactly one byte, as OpenResty does when an idle connection turns readable:
/// [`Probe::Quiet`] if it would block, [`Probe::Dubious`] otherwise.
pub(crate) fn read_one_byte(fd: impl AsFd) -> Probe {
    let mut byte = [0u8; 1];
    match recv(fd, &mut byte[..], RecvFlags::DONTWAIT) {
        Err(rustix::io::Errno::AGAIN) => Probe::Quiet,
        _ => Probe::Dubious,
    }
}

/// Whether an idle connection can be handed out: nothing arrived since it was released.
pub(crate) fn is_quiet(fd: impl AsFd) -> bool {
    let fd = fd.as_fd();
    match probe_readiness(fd) {
        Probe::Quiet => true,
        Probe::Readable => read_one_byte(fd) == Probe::Quiet,
        Probe::Hangup | Probe::Dubious => false,
    }
}

/// `getsockname` of `fd`.
pub(crate) fn local(fd: BorrowedFd<'_>) -> Result<Address> {
    let addr = SockRef::from(&fd)
        .local_addr()
        .map_err(|e| Error::from_io(&e))?;
    Ok(address(&addr))
}

/// `getpeername` of `fd`.
pub(crate) fn peer(fd: BorrowedFd<'_>) -> Result<Address> {
    let addr = SockRef::from(&fd)
        .peer_addr()
        .map_err(|e| Error::from_io(&e))?;
    Ok(address(&addr))
}

/// The kernel's address as an [`Address`]; a Unix address that is neither a path nor an
/// abstract name is unnamed.
fn address(addr: &SockAddr) -> Address {
    if let Some(ip) = addr.as_socket() {
        return Address::Ip(ip);
    }
    if let Some(path) = addr.as_pathname() {
        return Address::Path(path.to_owned());
    }
    match addr.as_abstract_namespace() {
        Some(name) if addr.domain() == Domain::UNIX => Address::Abstract(name.to_vec()),
        _ => Address::Unnamed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_every_kind() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let at = tcp.local_addr().unwrap();
        assert_eq!(local(tcp.as_fd()).unwrap(), Address::Ip(at));
        assert_eq!(Address::Ip(at).to_string(), at.to_string());
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(local(a.as_fd()).unwrap(), Address::Unnamed);
        assert_eq!(Address::Unnamed.to_string(), "unix:");
        assert_eq!(Address::Path("/x.sock".into()).to_string(), "unix:/x.sock");
        assert_eq!(Address::Abstract(b"n".to_vec()).to_string(), "unix:@n");
        // No peer: the errno text.
        let lone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(
            peer(lone.as_fd()).unwrap_err().to_string(),
            "transport endpoint is not connected"
        );
    }
}
