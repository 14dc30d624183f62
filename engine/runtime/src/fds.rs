//! The descriptors the program inherits: requested ones moved into place, every other one
//! marked close-on-exec (`close_range(CLOSE_RANGE_CLOEXEC)`), so a descriptor the host left
//! without `O_CLOEXEC` does not leak into the sandbox.

use core::cell::Cell;

use crate::plan::{FdMap, RawFd};
use crate::sys::{self, SysResult};

/// Move `maps` into place (sorted by unique `dst`) and close-on-exec everything else.
pub fn arrange(maps: &[FdMap], scratch: &[Cell<RawFd>]) -> SysResult<()> {
    let top = maps.iter().map(|m| m.dst).max().unwrap_or(2).max(2);
    // Pass 1: duplicate every source above all targets, so no later dup3 clobbers a
    // source that is still needed. A descriptor that stays where it is (the inherited
    // stdio) needs no copy: targets are unique, so no other step writes over it.
    for (m, slot) in maps.iter().zip(scratch) {
        if m.src == m.dst {
            continue;
        }
        let tmp = sys::fcntl(m.src, sys::F_DUPFD_CLOEXEC, (top + 1) as u64)?;
        slot.set(tmp as RawFd);
    }
    // Pass 2: into place (dup3 without O_CLOEXEC clears the flag on the target); one in
    // place only loses its close-on-exec flag.
    for (m, slot) in maps.iter().zip(scratch) {
        if m.src == m.dst {
            sys::fcntl(m.dst, sys::F_SETFD, 0)?;
            continue;
        }
        sys::dup3(slot.get(), m.dst)?;
        sys::close(slot.get());
    }
    // Everything from 3 upward that is not a target: close-on-exec. The error pipe is
    // already CLOEXEC and stays usable until execve.
    let mut next: u32 = 3;
    for m in maps {
        let d = m.dst as u32;
        if d >= next {
            if d > next {
                sys::close_range(next, d - 1, sys::CLOSE_RANGE_CLOEXEC)?;
            }
            next = d + 1;
        }
    }
    sys::close_range(next, u32::MAX, sys::CLOSE_RANGE_CLOEXEC)
}
