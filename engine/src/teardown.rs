//! The sandbox's mount namespace, dismantled off the caller's path.
//!
//! When the init exits holding the last reference to the sandbox's mount namespace, the
//! kernel dismantles the mount tree inside that exit (every mount unmounted, with expedited
//! RCU grace periods), before the init counts as exited: the caller's `wait` returns that
//! much later (about 0.1 ms of a 1.4 ms spawn and wait of `/bin/true`, measured on Linux
//! 6.18). The engine therefore takes its own reference right after the spawn
//! (`PIDFD_GET_MNT_NAMESPACE`, Linux 6.11; none on older kernels or when the init has
//! already gone) and, once it has reaped the init, hands it to a thread that drops it: the
//! mounts go away a moment after `wait` returns, on another CPU when there is one.
//!
//! The reference is a close-on-exec descriptor in the caller's process: nothing of the
//! sandbox can be entered through it once the init is gone (a namespace without processes
//! only holds its mounts), and it is closed at the latest when the process exits.
//! [`Container::background_teardown`](crate::Container::background_teardown) turns this off
//! for a caller about to exit (the CLI), which would pay the same cost in its own exit.
//!
//! Per process ([`ProcessLocal`]): a forked host starts its own thread.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::{mpsc, Mutex};

use crate::process_local::ProcessLocal;

/// The queue of the `hakoniwa-umount` thread (none until the first hand-over; `None` inside
/// when it could not be started).
static QUEUE: ProcessLocal<Mutex<Option<mpsc::Sender<OwnedFd>>>> = ProcessLocal::new();

/// A reference to the mount namespace of the process `pidfd` refers to, if the kernel gives
/// one.
pub(crate) fn hold(pidfd: BorrowedFd<'_>) -> Option<OwnedFd> {
    let fd = hakoniwa_runtime::sys::pidfd_mount_namespace(pidfd.as_raw_fd()).ok()?;
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Drop `ns` on the `hakoniwa-umount` thread (here, when that thread cannot be started).
pub(crate) fn release(ns: OwnedFd) {
    let queue = QUEUE.get_or_init(|| Mutex::new(start()));
    let guard = queue.lock().unwrap_or_else(|e| e.into_inner());
    match guard.as_ref() {
        Some(tx) => {
            if let Err(mpsc::SendError(ns)) = tx.send(ns) {
                drop(ns);
            }
        }
        None => drop(ns),
    }
}

fn start() -> Option<mpsc::Sender<OwnedFd>> {
    let (tx, rx) = mpsc::channel::<OwnedFd>();
    std::thread::Builder::new()
        .name("hakoniwa-umount".into())
        .spawn(move || {
            crate::sys::block_all_signals();
            for ns in rx {
                drop(ns);
            }
        })
        .ok()?;
    Some(tx)
}
