//! Name resolution through the context's resolver setting (spec §2.1 step 5, §4.2),
//! bounded by `resolver_timeout` (not by the connect timeout), with OpenResty's texts.

use std::io;
use std::net::SocketAddr;

use crate::config::{Directives, Resolver};
use crate::proto::deadline::deadline_after;
use crate::proto::{Error, ErrorKind, Result, Timeout};
use crate::rt::Runtime;
use crate::timer::within;

/// Every address of `host`, in the order to try them: the first, and the others (a
/// resolver that answers with no address fails with `Host not found`).
pub(crate) async fn resolve<R: Runtime>(
    rt: &R,
    directives: &Directives,
    host: &str,
    port: u16,
) -> Result<(SocketAddr, Vec<SocketAddr>)> {
    let timeout = Timeout::Directive.resolve(directives.resolver_timeout);
    let deadline = deadline_after(rt.now(), timeout);
    let looked_up = match &directives.resolver {
        Resolver::None => {
            return Err(Error::new(
                ErrorKind::NoResolver,
                format!("no resolver defined to resolve \"{host}\""),
            ));
        }
        Resolver::Runtime => within(rt, deadline, rt.resolve(host, port)).await,
        Resolver::Custom(resolver) => within(rt, deadline, resolver.resolve(host, port)).await,
    };
    match looked_up.unwrap_or_else(|| Err(io::Error::from(io::ErrorKind::TimedOut))) {
        Ok(mut addrs) if !addrs.is_empty() => {
            let first = addrs.remove(0);
            Ok((first, addrs))
        }
        Ok(_) => Err(resolve_error(host, io::ErrorKind::NotFound)),
        Err(e) => Err(resolve_error(host, e.kind())),
    }
}

/// OpenResty's resolver texts (spec §1.5): a missing name is `(3: Host not found)`, a
/// timeout `(110: Operation timed out)`, anything else `(2: Server failure)`.
fn resolve_error(host: &str, kind: io::ErrorKind) -> Error {
    let (code, text) = match kind {
        io::ErrorKind::NotFound => (3, "Host not found"),
        io::ErrorKind::TimedOut => (110, "Operation timed out"),
        _ => (2, "Server failure"),
    };
    Error::new(
        ErrorKind::Resolve,
        format!("{host} could not be resolved ({code}: {text})"),
    )
}
