//! A process-wide `tracing` subscriber that keeps every event of target `cosocket`, so cases
//! can check spec §10's error-log lines whatever thread the executor ran them on.

use std::fmt::{self, Write};
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the messages of `cosocket` events.
struct Capture;

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "cosocket"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("[{}] ", event.metadata().level().as_str().to_lowercase());
        event.record(&mut Message(&mut line));
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Installs the capturing subscriber as the global default (once per process). Panics with
/// a clear message if the process already has another global subscriber.
pub fn install() {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let ok = *INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(Capture).is_ok());
    assert!(
        ok,
        "the log cases need cosocket_conformance::logs' subscriber as the global default; \
         another one was installed first"
    );
}

/// Every captured line containing `needle` (e.g. a peer's port).
pub fn lines_with(needle: &str) -> Vec<String> {
    lines_since(0, needle)
}

/// How many lines were captured so far: a mark for [`lines_since`].
pub fn mark() -> usize {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// The lines containing `needle` captured after `mark`. A case that checks a line is
/// absent looks only at its own window: an earlier case of the process may have logged
/// the same ephemeral port (a refused connect to a port the kernel handed out again).
pub fn lines_since(mark: usize, needle: &str) -> Vec<String> {
    LINES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .skip(mark)
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}
