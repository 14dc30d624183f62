//! Process-wide engine state that survives `fork()` of the host.
//!
//! After `fork()` only the calling thread exists in the new process, but every static is
//! copied as it was: a background thread's work queue with no thread behind it, an epoll
//! instance shared with the parent, a mutex another thread held at that moment (locked
//! forever). A [`ProcessLocal`] value is tagged with the pid of the process that created
//! it; a process that finds a value created by another process (its parent, before a fork)
//! never touches it, not even its locks, and builds its own. The parent's copy is leaked in
//! the forked process (a few bytes per fork; its descriptors are the child's copies and are
//! closed at the next `execve` because they are close-on-exec).
//!
//! Python's `multiprocessing` (fork start method), Go hosts and C hosts that fork workers
//! rely on this.

use std::sync::atomic::{AtomicPtr, Ordering};

struct Tagged<T> {
    pid: u32,
    value: T,
}

/// One value of `T` per process (see the module docs).
pub(crate) struct ProcessLocal<T> {
    ptr: AtomicPtr<Tagged<T>>,
}

/// The calling process's pid (a system call; cheap next to a spawn).
pub(crate) fn current_pid() -> u32 {
    rustix::process::getpid().as_raw_nonzero().get() as u32
}

impl<T> ProcessLocal<T> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        ProcessLocal {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// This process's value, if it has made one.
    pub(crate) fn get(&'static self) -> Option<&'static T> {
        let me = current_pid();
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer was published by `get_or_try_init` from a leaked Box
        // and is never freed, so it is valid for 'static.
        let t = unsafe { p.as_ref() }?;
        (t.pid == me).then_some(&t.value)
    }

    /// This process's value, made with `init` if there is none yet (see
    /// [`ProcessLocal::get_or_try_init`]).
    pub(crate) fn get_or_init(&'static self, init: impl FnOnce() -> T) -> &'static T {
        let r = self.get_or_try_init(|| Ok::<T, std::convert::Infallible>(init()));
        r.unwrap_or_else(|e| match e {})
    }

    /// This process's value, made with `init` if there is none yet (or only the parent's
    /// copy from before a `fork`). When two threads race, one value wins and the other is
    /// dropped.
    pub(crate) fn get_or_try_init<E>(
        &'static self,
        init: impl FnOnce() -> Result<T, E>,
    ) -> Result<&'static T, E> {
        let me = current_pid();
        let mut seen = self.ptr.load(Ordering::Acquire);
        // SAFETY: as in `get`.
        if let Some(t) = unsafe { seen.as_ref() } {
            if t.pid == me {
                return Ok(&t.value);
            }
        }
        let fresh = Box::into_raw(Box::new(Tagged {
            pid: me,
            value: init()?,
        }));
        loop {
            match self
                .ptr
                .compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // The previous value (null, or the parent's) is leaked on purpose.
                // SAFETY: `fresh` was just leaked from a Box and is now published.
                Ok(_) => return Ok(unsafe { &(*fresh).value }),
                Err(now) => {
                    // SAFETY: as in `get`.
                    match unsafe { now.as_ref() } {
                        Some(t) if t.pid == me => {
                            // Another thread of this process won: drop our candidate.
                            // SAFETY: `fresh` was never published; we own it.
                            drop(unsafe { Box::from_raw(fresh) });
                            return Ok(&t.value);
                        }
                        _ => seen = now,
                    }
                }
            }
        }
    }
}

/// Run `f` in a forked copy of the test process; `Ok(exit code)` (0 when `f` returned
/// true), or `Err(signal)` when the forked process was killed, e.g. by the alarm that ends
/// a forked process stuck on a lock copied in the held state (instead of hanging the suite).
#[cfg(test)]
pub(crate) fn in_forked_process(f: impl FnOnce() -> bool) -> std::result::Result<i32, i32> {
    // SAFETY: fork(); the child runs `f` (allocation works: the C library's fork handlers
    // make malloc usable) and leaves with _exit.
    match unsafe { libc::fork() } {
        0 => {
            // SAFETY: no pointers; the default action of SIGALRM ends the process.
            unsafe { libc::alarm(30) };
            let ok = f();
            // SAFETY: ends the forked process without running the test harness's code.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: waiting for our own child with a live status pointer.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            if libc::WIFSIGNALED(status) {
                Err(libc::WTERMSIG(status))
            } else {
                Ok(libc::WEXITSTATUS(status))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Fork in a child process of the test while `slot`'s lock is held by another thread,
    /// then use the slot in the forked process; returns the forked process's exit code.
    fn fork_and_use(slot: &'static ProcessLocal<Mutex<u32>>) -> i32 {
        // SAFETY: fork(); the child only touches the slot, allocates (the C library's
        // fork handlers make malloc usable) and leaves with _exit.
        match unsafe { libc::fork() } {
            0 => {
                let v = slot.get_or_try_init(|| Ok::<_, ()>(Mutex::new(7))).unwrap();
                // A lock copied in the held state would block here forever.
                let ok = v.try_lock().map(|g| *g == 7).unwrap_or(false);
                // SAFETY: ends the forked process without running the test harness's code.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            pid => {
                let mut status = 0;
                // SAFETY: waiting for our own child with a live status pointer.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                libc::WEXITSTATUS(status)
            }
        }
    }

    #[test]
    fn a_forked_process_gets_its_own_value_not_the_parents_locked_one() {
        static SLOT: ProcessLocal<Mutex<u32>> = ProcessLocal::new();
        let parent = SLOT.get_or_try_init(|| Ok::<_, ()>(Mutex::new(1))).unwrap();
        let guard = parent.lock().unwrap();
        assert_eq!(fork_and_use(&SLOT), 0);
        drop(guard);
        // The parent keeps its own value.
        assert_eq!(*SLOT.get().unwrap().lock().unwrap(), 1);
    }

    #[test]
    fn racing_threads_share_one_value() {
        static SLOT: ProcessLocal<Mutex<u32>> = ProcessLocal::new();
        let ptrs: Vec<usize> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    SLOT.get_or_try_init(|| Ok::<_, ()>(Mutex::new(i))).unwrap() as *const _
                        as usize
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert!(ptrs.windows(2).all(|w| w[0] == w[1]));
    }
}
