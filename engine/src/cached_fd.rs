//! A descriptor the engine opens once per process and reuses for every spawn: the init's
//! memfd, a file with an inode of its own, which the identity check below needs (pidfds
//! share one before Linux 6.9, so the host's pidfd is opened per spawn instead). The host
//! owns its descriptor table: it may close the number or reuse it for something else
//! behind the engine's back (a C host closing every descriptor before it forks, a Python
//! test harness). So the file's identity (device and inode) is
//! checked before each use, and a number that no longer holds it is forgotten, never closed,
//! and a new descriptor made.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use rustix::fs::fstat;

use crate::error::{Error, Result};
use crate::process_local::ProcessLocal;

struct Cached {
    fd: OwnedFd,
    dev: u64,
    ino: u64,
}

/// One cached descriptor per process ([`ProcessLocal`]: a forked host never waits on a lock
/// that another thread of its parent held at the fork; it makes its own).
pub(crate) struct CachedFd {
    slot: ProcessLocal<Mutex<Option<Cached>>>,
    what: &'static str,
}

impl CachedFd {
    /// An empty cache; `what` names the descriptor in errors.
    pub(crate) const fn new(what: &'static str) -> Self {
        CachedFd {
            slot: ProcessLocal::new(),
            what,
        }
    }

    /// The cached descriptor when it still refers to the file it was made for, else a new
    /// one from `make` (valid while the process does not close it).
    pub(crate) fn get(&'static self, make: impl FnOnce() -> Result<OwnedFd>) -> Result<RawFd> {
        let mut g = self
            .slot
            .get_or_init(|| Mutex::new(None))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(c) = g.as_ref() {
            let same = fstat(c.fd.as_fd())
                .map(|st| st.st_dev == c.dev && st.st_ino == c.ino)
                .unwrap_or(false);
            if same {
                return Ok(c.fd.as_raw_fd());
            }
            // Closed or reused behind our back: never close a number we no longer own.
            if let Some(c) = g.take() {
                std::mem::forget(c.fd);
            }
        }
        let fd = make()?;
        let st = fstat(&fd).map_err(|e| Error::io(self.what, e))?;
        let raw = fd.as_raw_fd();
        *g = Some(Cached {
            fd,
            dev: st.st_dev,
            ino: st.st_ino,
        });
        Ok(raw)
    }

    /// Hold the cache's lock (tests: a thread holding it when the host forks).
    #[cfg(test)]
    pub(crate) fn hold_lock(&'static self) -> std::sync::MutexGuard<'static, impl Sized> {
        self.slot
            .get_or_init(|| Mutex::new(None))
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}
