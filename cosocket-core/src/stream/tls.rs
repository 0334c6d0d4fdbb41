//! `sslhandshake` and `setclientcert` (spec §8.3) on core's stream socket: the handshake
//! runs over the socket's connection within the connect timeout and installs the TLS
//! layer into the connection, so the halves, the readers and the pool all see it.

use std::sync::Arc;

use super::Stream;
use crate::conn::Conn;
use crate::proto::{Error, Result};
use crate::rt::Runtime;
use crate::socket::TlsSock;
use crate::tls::{self, ClientCert, TlsConn, TlsInfo, TlsOptions, TlsSession};

/// Closes the connection unless disarmed: a handshake that failed, or was dropped half
/// way, leaves a connection nobody can read (spec §8.3: every handshake failure closes).
struct CloseUnlessDone<'a, R: Runtime> {
    stream: &'a mut Stream<R>,
    armed: bool,
}

impl<R: Runtime> Drop for CloseUnlessDone<'_, R> {
    fn drop(&mut self) {
        if self.armed {
            drop(self.stream.disconnect());
        }
    }
}

/// A second handshake on a TLS connection (spec §8.3): no traffic, no check.
fn immediate(options: &TlsOptions, tls: &TlsConn) -> Option<TlsSession> {
    if !options.want_session {
        return None;
    }
    Some(options.session.clone().unwrap_or_else(|| tls.session()))
}

impl<R: Runtime> TlsSock for Stream<R> {
    async fn ssl_handshake(&mut self, options: &TlsOptions) -> Result<Option<TlsSession>> {
        let conn: Arc<Conn<R>> = match &self.conn {
            Some(conn) if !self.both_closed() => Arc::clone(conn),
            _ => return Err(Error::closed()),
        };
        if let Some(tls) = conn.tls() {
            return Ok(immediate(options, tls));
        }
        let prepared = tls::prepare(
            self.worker.tls(),
            &self.worker.directives().tls,
            options,
            self.rest.client_cert.as_ref(),
            &conn.peer,
        )?;
        let deadline = self.connect_deadline();
        let guard = CloseUnlessDone {
            stream: self,
            armed: true,
        };
        let worker = &guard.stream.worker;
        let result = tls::handshake(
            worker.runtime(),
            worker.directives(),
            worker.tls(),
            &conn.io,
            &conn.peer,
            deadline,
            prepared,
            options,
        )
        .await;
        let (state, session) = result?;
        let mut guard = guard;
        guard.armed = false;
        // The connection was never shared while handshaking (the socket holds it whole).
        let _ = conn.tls.set(state);
        Ok(options.want_session.then_some(session))
    }

    fn set_client_cert(&mut self, cert: Option<ClientCert>) {
        self.rest.client_cert = cert;
    }

    fn tls_info(&self) -> Option<TlsInfo> {
        self.conn.as_deref()?.tls().map(TlsConn::info)
    }
}
