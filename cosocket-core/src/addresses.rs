//! What a connection's fd tells about it (spec §8.4 `getfd`, §12 `getpeername` /
//! `getsockname`): the descriptor itself and the local and peer addresses, read from the
//! kernel on each call so that a pooled connection reports the address it was opened with.

use std::os::fd::{AsFd, BorrowedFd};

use socket2::{Domain, SockAddr, SockRef};

use crate::error::{Error, Result};
use crate::stream::Stream;
use crate::{Address, Runtime};

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

impl<R: Runtime> Stream<R> {
    /// `getfd()`: `closed` without a connection (spec §8.4).
    pub(crate) fn fd_impl(&self) -> Result<BorrowedFd<'_>> {
        self.conn
            .as_deref()
            .map(|conn| conn.io.as_fd())
            .ok_or_else(Error::closed)
    }

    pub(crate) fn local_addr_impl(&self) -> Result<Address> {
        local(self.fd_impl()?)
    }

    pub(crate) fn peer_addr_impl(&self) -> Result<Address> {
        peer(self.fd_impl()?)
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
