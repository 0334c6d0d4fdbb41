//! spec §10's error-log lines as `tracing` events (target `cosocket`, level `error`).
//!
//! Lines the Lua module writes honour `lua_socket_log_errors` ([`Directives::log_errors`]);
//! the lines nginx's core writes for failed syscalls (`recv() failed (104: Connection reset
//! by peer)`, `connect() to unix:/p failed (2: …)`, `bind(IP) failed (99: …)`) are written
//! regardless, as nginx does.

use std::io;

use crate::config::Directives;
use crate::proto::strerror;

/// nginx's `(N: Text)` form of an OS error: the errno and the unmodified `strerror` text.
pub(crate) fn errno_text(error: &io::Error) -> String {
    let text = strerror(error);
    match error.raw_os_error() {
        Some(code) => format!("({code}: {text})"),
        None => format!("({text})"),
    }
}

/// A line of the Lua module: only with `log_errors` on.
pub(crate) fn module(directives: &Directives, line: std::fmt::Arguments<'_>) {
    if directives.log_errors {
        tracing::error!(target: "cosocket", "{line}");
    }
}

/// A line of nginx's core: always.
pub(crate) fn core(line: std::fmt::Arguments<'_>) {
    tracing::error!(target: "cosocket", "{line}");
}
