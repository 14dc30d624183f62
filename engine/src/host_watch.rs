//! Keeping a sandbox alive past the end of the thread that spawned it, and no longer than
//! the host process, without a hand-off to a spawner thread.
//!
//! The kernel sends a child's parent-death signal when the *thread* that cloned it ends
//! (`spawn.rs`, "Which thread clones"). A sandbox with an init can tell the two ends apart
//! itself: its init keeps a pidfd of the host process and gets
//! `init_proto::HOST_CHECK_SIGNAL` instead of `SIGKILL`; on that signal it waits a moment
//! for the pidfd to report the end of the whole process and ends the sandbox only then. So a
//! thread other than the main thread may clone such a sandbox itself, which saves the two
//! thread switches of the hand-off (measured: 2 threads spawning `/bin/true` in a loop,
//! 16-18% more sandboxes per second).
//!
//! The pidfd must stay the init's: a program that could `ptrace` the init (which makes
//! itself non-dumpable, so only with `CAP_SYS_PTRACE` in its user namespace) could signal the
//! host through it. So the watch is used only where the program can never hold that
//! capability: its bounding set is planned without it.

use std::os::fd::RawFd;

use crate::cached_fd::CachedFd;
use crate::error::{Error, Result};

/// One pidfd of this process, per process (a forked host opens its own).
static HOST_PIDFD: CachedFd = CachedFd::new("fstat host pidfd");

/// A pidfd of the calling process (close-on-exec; valid while the process does not close
/// it).
pub(crate) fn pidfd() -> Result<RawFd> {
    HOST_PIDFD.get(|| {
        rustix::process::pidfd_open(
            rustix::process::getpid(),
            rustix::process::PidfdFlags::empty(),
        )
        .map_err(|e| Error::io("pidfd_open", e))
    })
}

/// `CAP_SYS_PTRACE`.
const CAP_SYS_PTRACE: u32 = 19;

/// Whether a sandbox with this capability plan may have its init watch the host: the
/// program can never hold `CAP_SYS_PTRACE` (it is outside the bounding set, which also
/// bounds what any `execve` grants). Without a plan, the bounding set is left as it is.
pub(crate) fn program_cannot_ptrace_init(caps: Option<&hakoniwa_runtime::CapPlan>) -> bool {
    caps.is_some_and(|c| c.keep & (1u64 << CAP_SYS_PTRACE) == 0)
}
