//! Signal state for the program: every disposition back to default, empty mask.
//!
//! `CLONE_CLEAR_SIGHAND` only resets *handled* signals; ignored ones (Python ignores SIGPIPE
//! and SIGXFSZ) and the mask survive `execve`, so `yes | head -1` would hang or misbehave.
//! The spawning thread blocks everything before `clone`, so no handler can run on the shared
//! address space before this reset.

use crate::sys::{self, SysResult};

/// Reset dispositions of signals 1..=64 (except the two that cannot change) and unblock all.
pub fn reset() -> SysResult<()> {
    for sig in 1..=64u32 {
        if sig == 9 || sig == 19 {
            continue;
        }
        match sys::signal_default(sig) {
            // 32 and 33 are reserved by the C library on some systems: EINVAL is fine.
            Ok(()) | Err(sys::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    sys::sigprocmask(sys::SIG_SETMASK, 0)
}
