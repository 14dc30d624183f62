//! Keeping a sandbox alive past the end of the thread that spawned it, and no longer than
//! the host process, without a hand-off to a spawner thread.
//!
//! The kernel sends a child's parent-death signal when the *thread* that cloned it ends
//! (`spawn.rs`, "Which thread clones"). A sandbox with an init does without it: its init
//! watches a pidfd of the host process, which reports the end of the whole process (every
//! thread gone), and ends the sandbox then. So a thread other than the main thread may clone
//! such a sandbox itself, which saves the two thread switches of the hand-off (measured: 2
//! threads spawning `/bin/true` in a loop, 16-18% more sandboxes per second).
//!
//! What differs from a parent-death signal, which the kernel sends from the exiting thread:
//! - the host's end counts once its last thread is reaped: a tracer that keeps the host's
//!   threads as zombies (a debugger attached when the host is killed) keeps the sandbox
//!   until it lets them go;
//! - an init stopped from outside (`kill -STOP` on the sandbox's PID 1) ends only once it
//!   is continued;
//! - an `execve` of the host from another thread is not its end (as for a sandbox spawned
//!   from the main thread by the thread that calls `execve`).
//!
//! The runtime makes the init's signalfd and epoll instance (which also watches the engine's
//! request pipe, with or without the host's pidfd) before the program's limits and seccomp
//! filter; the init then needs only `epoll_wait`, which no resource limit affects:
//! the program, which has the init's ids, may lower the init's `RLIMIT_NOFILE` (`prlimit`),
//! and `poll` of two descriptors under a limit of one fails. A failing wait ends the
//! sandbox: the watch never silently stops.
//!
//! The pidfd must stay the init's: a program that could `ptrace` the init (which makes
//! itself non-dumpable, so only with `CAP_SYS_PTRACE` in its user namespace) could reach it.
//! So the watch is used only where the program can never hold that capability (its bounding
//! set is planned without it), and where the seccomp filter lets the init make the calls of
//! the watch (`init::allows_watch`).

use std::os::fd::OwnedFd;

/// A new pidfd of the calling process (close-on-exec), one per spawn: the init gets a copy
/// with the descriptor table, and the host's is closed after the clone. `None` where the
/// kernel has no `pidfd_open` (before 5.3) or no descriptor is free: the spawn then goes
/// through a spawner thread.
pub(crate) fn pidfd() -> Option<OwnedFd> {
    rustix::process::pidfd_open(
        rustix::process::getpid(),
        rustix::process::PidfdFlags::empty(),
    )
    .ok()
}

/// `CAP_SYS_PTRACE`.
const CAP_SYS_PTRACE: u32 = 19;

/// Whether a sandbox with this capability plan may have its init watch the host: the
/// program can never hold `CAP_SYS_PTRACE` (it is outside the bounding set, which also
/// bounds what any `execve` grants). Without a plan, the bounding set is left as it is.
pub(crate) fn program_cannot_ptrace_init(caps: Option<&hakoniwa_runtime::CapPlan>) -> bool {
    caps.is_some_and(|c| c.keep & (1u64 << CAP_SYS_PTRACE) == 0)
}
