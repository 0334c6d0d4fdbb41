//! What core does on a connection's fd directly (ARCHITECTURE.md: "Options, shutdown, the
//! zero-timeout readiness probe … are done by core on the fd, once"): socket options
//! (spec §8.1) and the probe for bytes or a FIN that arrived while nobody read.

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::net::{RecvFlags, recv, sockopt};

use crate::SocketOption;

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
pub(crate) fn get(fd: impl AsFd, option: SocketOption) -> io::Result<i32> {
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
