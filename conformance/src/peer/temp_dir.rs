//! The unix peer's fresh temp directory (FORMAT §3.1), removed when the peer stops.

use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Distinguishes the directories of one process's peers.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A directory under [`std::env::temp_dir`] that no one else uses; removed with its
/// contents on drop.
#[derive(Debug)]
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `cosocket-peer-<pid>-<n>`, skipping names that exist (a stale directory
    /// of an earlier process with the same pid).
    pub(crate) fn new() -> io::Result<Self> {
        let base = std::env::temp_dir();
        let mut attempts = 0;
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("cosocket-peer-{}-{n}", process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == ErrorKind::AlreadyExists && attempts < 1000 => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory is harmless, a panic in drop is not.
        let _ = fs::remove_dir_all(&self.path);
    }
}
