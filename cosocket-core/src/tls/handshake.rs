//! One TLS handshake over a connected stream (spec §8.3): prepared without traffic (the
//! errors that leave the connection open), then driven within the connect timeout,
//! verified once complete, and turned into the connection's [`TlsConn`].

use std::future::poll_fn;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use rustls::ClientConnection;
use rustls::pki_types::{ServerName, UnixTime};

use super::config;
use super::conn::{HandshakeEnd, TlsConn, poll_handshake};
use super::options::{ClientCert, TlsDirectives, TlsOptions};
use super::session::{HandshakeStore, SessionCache, TlsSession};
use super::verify;
use crate::config::Directives;
use crate::log;
use crate::proto::{Error, ErrorKind, Result};
use crate::rt::Runtime;
use crate::timer::within;

/// The TLS state a context shares: its session cache.
#[derive(Debug, Default)]
pub(crate) struct TlsShared {
    sessions: SessionCache,
}

/// A handshake ready to run: its rustls connection and the store its session lands in.
pub(crate) struct Prepared {
    client: ClientConnection,
    store: Arc<HandshakeStore>,
    name: Option<String>,
    cache_key: Option<String>,
}

/// `handshake failed`, logged as OpenResty logs a failed `SSL_do_handshake()`.
fn failed(directives: &Directives, peer: &str) -> Error {
    log::module(
        directives,
        format_args!("SSL_do_handshake() failed, upstream: {peer}"),
    );
    Error::new(ErrorKind::Handshake, "handshake failed")
}

/// Everything before the first byte is sent. An error here leaves the connection as it
/// was (OpenResty fails `SSL_set_tlsext_host_name` before any I/O).
pub(crate) fn prepare(
    shared: &TlsShared,
    tls: &TlsDirectives,
    options: &TlsOptions,
    socket_cert: Option<&ClientCert>,
    peer: &str,
) -> Result<Prepared> {
    let name = match options.server_name.as_deref() {
        Some(name) => Some(
            ServerName::try_from(name.to_owned())
                .ok()
                .filter(|_| !name.is_empty() && name.len() <= 255)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        "SSL_set_tlsext_host_name failed",
                    )
                })?,
        ),
        None => None,
    };
    // rustls needs a name; an IP address is never sent as SNI, so without a server name
    // none is sent, as OpenResty sends none.
    let rustls_name = name
        .clone()
        .unwrap_or_else(|| ServerName::IpAddress(Ipv4Addr::UNSPECIFIED.into()));
    let cache_key = (tls.session_cache > 0).then(|| {
        format!(
            "{peer}|{}",
            options.server_name.as_deref().unwrap_or_default()
        )
    });
    let offer = options.session.clone().or_else(|| {
        cache_key
            .as_deref()
            .and_then(|key| shared.sessions.get(key))
    });
    let store = Arc::new(HandshakeStore::new(offer));
    let cert = options
        .client_cert
        .as_ref()
        .or(socket_cert)
        .or(tls.client_cert.as_ref());
    let versions = options.versions.unwrap_or(tls.protocols);
    let config = config::for_handshake(versions, Arc::clone(&store), &options.alpn, cert)?;
    let client = ClientConnection::new(config, rustls_name)
        .map_err(|_| Error::new(ErrorKind::Handshake, "handshake failed"))?;
    Ok(Prepared {
        client,
        store,
        name: options.server_name.clone(),
        cache_key,
    })
}

/// Runs a prepared handshake on `io` until `deadline` (the connect timeout), then
/// verifies. Every error here means the connection must be closed (spec §8.3).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn handshake<R: Runtime>(
    rt: &R,
    directives: &Directives,
    shared: &TlsShared,
    io: &R::Stream,
    peer: &str,
    deadline: Option<Instant>,
    prepared: Prepared,
    options: &TlsOptions,
) -> Result<(TlsConn, TlsSession)> {
    let Prepared {
        mut client,
        store,
        name,
        cache_key,
    } = prepared;
    let driven = within(
        rt,
        deadline,
        poll_fn(|cx| poll_handshake(&mut client, io, cx)),
    )
    .await;
    match driven {
        None => {
            log::module(
                directives,
                format_args!("lua tcp socket connect timed out, upstream: {peer}"),
            );
            return Err(Error::timeout());
        }
        Some(HandshakeEnd::Failed) => return Err(failed(directives, peer)),
        Some(HandshakeEnd::Done) => {}
    }
    if options.verify {
        let tls = &directives.tls;
        let trust = options.trust.as_ref().unwrap_or(&tls.trusted);
        let chain = client.peer_certificates().unwrap_or_default();
        let now = UnixTime::now();
        if let Err(e) = verify::check(trust, chain, name.as_deref(), tls.verify_depth, now) {
            log::module(
                directives,
                format_args!(
                    "lua ssl certificate verify error: ({}), upstream: {peer}",
                    e.message()
                ),
            );
            return Err(e);
        }
    }
    let session = store.fresh();
    if let Some(key) = cache_key {
        shared
            .sessions
            .put(key, session.clone(), directives.tls.session_cache);
    }
    Ok((TlsConn::new(client, session.clone()), session))
}
