//! The private stacks the `CLONE_VM` children run on until `execve`, reused across spawns.
//!
//! Mapping a fresh stack for every spawn and unmapping it afterwards costs three system
//! calls, the page faults of the child's first touches, and the `munmap`'s TLB shoot-down,
//! which interrupts every CPU running one of the caller's threads. A stack goes back to a
//! per-process pool instead, but only once no child can use it any more: the spawn returns
//! it after the child has exec'd or exited (EOF on the close-on-exec error pipe: the kernel
//! drops the child's hold on this address space before it closes its descriptors, on exit
//! and on `execve` alike) or was killed and reaped. A spawn that unwinds (a panic) leaks
//! its stack rather than reuse or unmap memory a child might still run on.
//!
//! The pool is per process ([`ProcessLocal`]), and its stacks are `MADV_DONTFORK`: a forked
//! host gets neither the mappings nor the list, and starts with an empty pool. (So the
//! child must never fork before its `execve`: a forked copy would lack the stack it runs
//! on. The runtime only clones with `CLONE_VM` and unshares; the init forks after its own
//! `execve`.) The pool
//! keeps at most [`KEPT`] idle stacks (the largest number of concurrent spawns, up to that);
//! more are unmapped when they come back.

use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::process_local::ProcessLocal;

const STACK_SIZE: usize = 256 * 1024;
const GUARD: usize = 4096;
/// Idle stacks kept for later spawns; beyond that a returned stack is unmapped.
const KEPT: usize = 16;

/// A private stack for the child, with a guard page below it.
pub(crate) struct Stack {
    base: usize,
}

/// Idle stacks of this process (see the module docs).
static IDLE: ProcessLocal<Mutex<Vec<Stack>>> = ProcessLocal::new();

impl Stack {
    const LEN: usize = STACK_SIZE + GUARD;

    /// An idle stack of this process, or a new one.
    pub(crate) fn take() -> Result<Stack> {
        Self::take_from(IDLE.get_or_init(|| Mutex::new(Vec::new())))
    }

    fn take_from(idle: &Mutex<Vec<Stack>>) -> Result<Stack> {
        match idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            Some(s) => Ok(s),
            None => Stack::map(),
        }
    }

    fn map() -> Result<Stack> {
        use rustix::mm::{madvise, mmap_anonymous, mprotect, Advice, MapFlags};
        use rustix::mm::{MprotectFlags, ProtFlags};
        // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
        let base = unsafe {
            mmap_anonymous(
                std::ptr::null_mut(),
                Self::LEN,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::NORESERVE | MapFlags::STACK,
            )
        }
        .map_err(|e| Error::io("mmap", e))?;
        let stack = Stack {
            base: base as usize,
        };
        // SAFETY: the guard page is the lowest page of the mapping made above.
        let guarded = unsafe { mprotect(base, GUARD, MprotectFlags::empty()) }
            .map_err(|e| Error::io("mprotect", e));
        let unforked = || {
            // SAFETY: advice on our own mapping only: a forked host does not inherit it.
            unsafe { madvise(base, Self::LEN, Advice::LinuxDontFork) }
                .map_err(|e| Error::io("madvise", e))
        };
        match guarded.and_then(|()| unforked()) {
            Ok(()) => Ok(stack),
            Err(e) => {
                stack.unmap();
                Err(e)
            }
        }
    }

    /// The lowest usable address (above the guard page).
    pub(crate) fn lowest_usable(&self) -> u64 {
        (self.base + GUARD) as u64
    }

    /// One past the highest address; 16-byte aligned (page aligned + size).
    pub(crate) fn top(&self) -> usize {
        self.base + Self::LEN
    }

    /// Give the stack back once no child runs on it any more: the child exec'd, exited or
    /// was reaped (see the module docs), or no child was made.
    pub(crate) fn release(self) {
        self.release_into(IDLE.get_or_init(|| Mutex::new(Vec::new())));
    }

    fn release_into(self, idle: &Mutex<Vec<Stack>>) {
        let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < KEPT {
            idle.push(self);
        } else {
            drop(idle);
            self.unmap();
        }
    }

    fn unmap(self) {
        // SAFETY: unmapping exactly the mapping this value owns, which no child uses (the
        // caller's promise in `release`).
        let _ = unsafe { rustix::mm::munmap(self.base as *mut std::ffi::c_void, Self::LEN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_pool_keeps_only_returned_stacks_and_at_most_its_bound() {
        // A pool of its own: the process's pool is shared with the tests that spawn.
        let pool = Mutex::new(Vec::new());
        let many: Vec<Stack> = (0..KEPT + 4)
            .map(|_| Stack::take_from(&pool).unwrap())
            .collect();
        let mut bases: Vec<usize> = many.iter().map(|s| s.base).collect();
        many.into_iter().for_each(|s| s.release_into(&pool));
        let mut idle = pool.into_inner().unwrap();
        assert_eq!(idle.len(), KEPT);
        // What is kept is among what was given back (no stack is handed out twice).
        bases.sort();
        assert!(idle.iter().all(|s| bases.binary_search(&s.base).is_ok()));
        // And handed out again before a new one is mapped.
        let pool = Mutex::new(std::mem::take(&mut idle));
        let again = Stack::take_from(&pool).unwrap();
        assert!(bases.binary_search(&again.base).is_ok());
        again.unmap();
        pool.into_inner()
            .unwrap()
            .into_iter()
            .for_each(Stack::unmap);
    }

    #[test]
    fn a_forked_process_starts_with_no_idle_stacks() {
        let s = Stack::take().unwrap();
        let start = format!("{:x}-", s.base);
        s.release();
        let r = crate::process_local::in_forked_process(|| {
            // The parent's idle stacks are neither listed nor mapped here.
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
            IDLE.get().is_none()
                && !maps.lines().any(|l| l.starts_with(&start))
                && Stack::take().map(Stack::release).is_ok()
        });
        assert_eq!(r, Ok(0));
    }
}
