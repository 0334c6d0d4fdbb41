//! FORMAT §10 in the runner: the scenario's `nginx` object as the context's TLS
//! directives, and the `sslhandshake` / `setclientcert` ops over [`TlsSock`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use cosocket_core::tls::{ClientCert, TlsOptions, TlsSession, TlsVersions, TrustStore};
use cosocket_core::{Directives, TlsSock};
use serde_json::{Value, json};

use crate::certs::TestCerts;

use super::call::{Handshake, Reuse};
use super::render;
use super::scenario::Nginx;

/// What a `save_as` slot holds: a session, or `true` / `null` (FORMAT §10.5).
pub(crate) type Sessions = Arc<Mutex<HashMap<String, Option<TlsSession>>>>;

/// The client settings of FORMAT §10.2 as OpenResty 0.10.23 has them: without
/// `lua_ssl_protocols` at most TLS 1.2, without `lua_ssl_trusted_certificate` an empty
/// store.
pub(crate) fn apply(nginx: Option<&Nginx>, d: &mut Directives) -> Result<(), String> {
    let nginx = nginx.cloned().unwrap_or_default();
    d.tls.protocols = match &nginx.lua_ssl_protocols {
        Some(list) => TlsVersions::parse(list).map_err(|e| e.message().to_owned())?,
        None => TlsVersions::TLS12,
    };
    d.tls.trusted = match &nginx.lua_ssl_trusted_certificate {
        Some(names) => {
            let certs = TestCerts::shared();
            let ders = names
                .list()
                .into_iter()
                .map(|name| {
                    certs
                        .get(name)
                        .map(|c| c.cert_der().clone())
                        .ok_or_else(|| format!("no certificate named {name:?}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            TrustStore::from_der(ders).map_err(|e| e.message().to_owned())?
        }
        None => TrustStore::empty(),
    };
    d.tls.verify_depth = nginx.lua_ssl_verify_depth;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `sslhandshake(reuse, server_name, verify)`: `["<cdata>"]`, `[true]` or `[null, msg]`.
pub(crate) async fn handshake<S: TlsSock>(
    s: &mut S,
    call: &Handshake,
    sessions: &Sessions,
) -> Result<Vec<Value>, String> {
    let mut options = TlsOptions::new();
    // Only `ssl_verify = true` verifies; OpenResty checks nothing otherwise.
    if call.verify != Some(true) {
        options = options.dangerous_skip_verification();
    }
    if let Some(name) = &call.server_name {
        options = options.server_name(name.clone());
    }
    match &call.reuse {
        Reuse::Nil | Reuse::True => {}
        Reuse::False => options = options.no_session(),
        Reuse::Slot(slot) => {
            let saved = lock(sessions)
                .get(slot)
                .cloned()
                .ok_or_else(|| format!("no session saved as {slot:?}"))?;
            if let Some(session) = saved {
                options = options.session(session);
            }
        }
    }
    let result = s.ssl_handshake(&options).await;
    let (values, saved) = match result {
        Ok(Some(session)) => (vec![json!("<cdata>")], Some(session)),
        Ok(None) => (vec![json!(true)], None),
        Err(e) => (render::failure(&e), None),
    };
    if let Some(slot) = &call.save_as {
        lock(sessions).insert(slot.clone(), saved);
    }
    Ok(values)
}

/// `setclientcert(cert, key)` with the named test certificate, or cleared: `[true]`.
pub(crate) fn set_client_cert<S: TlsSock>(
    s: &mut S,
    name: Option<&str>,
) -> Result<Vec<Value>, String> {
    let cert = match name {
        None => None,
        Some(name) => {
            let named = TestCerts::shared()
                .get(name)
                .ok_or_else(|| format!("no certificate named {name:?}"))?;
            let cert = ClientCert::from_der(vec![named.cert_der().clone()], named.key_der())
                .map_err(|e| e.message().to_owned())?;
            Some(cert)
        }
    };
    s.set_client_cert(cert);
    Ok(vec![json!(true)])
}
