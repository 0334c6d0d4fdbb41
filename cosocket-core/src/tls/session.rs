//! TLS sessions (spec §8.3): the value `ssl_handshake` returns and a later handshake
//! offers for resumption, and the per-handshake store through which rustls reads the
//! offered session and writes the new one.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::NamedGroup;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;

/// A TLS session (OpenResty's session cdata): what a handshake returns, to be offered by
/// a later handshake ([`TlsOptions::session`](super::TlsOptions::session)) so that it
/// resumes instead of doing a full handshake.
///
/// Cheap to clone; clones share one session. A TLS 1.2 session resumes any number of
/// times. TLS 1.3 servers send their tickets after the handshake, and the session value
/// collects them as the connection reads them; each ticket resumes once.
#[derive(Clone, Default)]
pub struct TlsSession(Arc<Slot>);

#[derive(Default)]
struct Slot {
    tls12: Mutex<Option<Tls12ClientSessionValue>>,
    tls13: Mutex<VecDeque<Tls13ClientSessionValue>>,
    kx_hint: Mutex<Option<NamedGroup>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl TlsSession {
    /// Whether the session holds anything to resume with (a TLS 1.2 session or a TLS
    /// 1.3 ticket not yet used).
    pub fn is_resumable(&self) -> bool {
        lock(&self.0.tls12).is_some() || !lock(&self.0.tls13).is_empty()
    }
}

impl fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSession")
            .field("tls12", &lock(&self.0.tls12).is_some())
            .field("tls13_tickets", &lock(&self.0.tls13).len())
            .finish()
    }
}

impl PartialEq for TlsSession {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for TlsSession {}

/// The session store of one handshake: rustls takes the offered session from it and puts
/// the new one into [`fresh`](Self::fresh), which the handshake returns. Server names
/// are not looked at: the store serves one connection.
#[derive(Debug)]
pub(crate) struct HandshakeStore {
    offer: Option<TlsSession>,
    fresh: TlsSession,
}

impl HandshakeStore {
    pub(crate) fn new(offer: Option<TlsSession>) -> Self {
        Self {
            offer,
            fresh: TlsSession::default(),
        }
    }

    /// The session this handshake establishes (filled as rustls learns it).
    pub(crate) fn fresh(&self) -> TlsSession {
        self.fresh.clone()
    }
}

impl ClientSessionStore for HandshakeStore {
    fn set_kx_hint(&self, _: ServerName<'static>, group: NamedGroup) {
        *lock(&self.fresh.0.kx_hint) = Some(group);
    }

    fn kx_hint(&self, _: &ServerName<'_>) -> Option<NamedGroup> {
        self.offer.as_ref().and_then(|s| *lock(&s.0.kx_hint))
    }

    fn set_tls12_session(&self, _: ServerName<'static>, value: Tls12ClientSessionValue) {
        *lock(&self.fresh.0.tls12) = Some(value);
    }

    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.offer.as_ref().and_then(|s| lock(&s.0.tls12).clone())
    }

    /// The server refused the offered session: the offer is left as it was (another
    /// connection may still resume with it); the fresh session is not touched.
    fn remove_tls12_session(&self, _: &ServerName<'static>) {}

    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        let mut tickets = lock(&self.fresh.0.tls13);
        // A server may send any number; a handful is plenty (each resumes once).
        if tickets.len() >= 8 {
            tickets.pop_front();
        }
        tickets.push_back(value);
    }

    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.offer
            .as_ref()
            .and_then(|s| lock(&s.0.tls13).pop_front())
    }
}

/// The context's session cache (`TlsDirectives::session_cache`): the last session per
/// server, offered to the next handshake to it that was given none.
#[derive(Debug, Default)]
pub(crate) struct SessionCache {
    map: Mutex<HashMap<String, TlsSession>>,
}

impl SessionCache {
    pub(crate) fn get(&self, key: &str) -> Option<TlsSession> {
        lock(&self.map).get(key).cloned()
    }

    pub(crate) fn put(&self, key: String, session: TlsSession, capacity: usize) {
        let mut map = lock(&self.map);
        if map.len() >= capacity && !map.contains_key(&key) {
            // Not an LRU: any entry makes room; a cache miss costs one full handshake.
            if let Some(evict) = map.keys().next().cloned() {
                map.remove(&evict);
            }
        }
        map.insert(key, session);
    }
}
