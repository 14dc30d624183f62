//! `hakoniwa_child_t`: a running sandboxed program. Mirrors `hakoniwa::Child`.
//!
//! Threads: every function may run while another thread waits for the same child, so one
//! thread can kill or signal a child another thread is waiting for; the calls that need the
//! child itself (waits, streams) take turns on a lock, and the stream calls refuse with
//! `HAKONIWA_ERROR_STATE` instead of waiting for a waiter. Only `hakoniwa_child_free` needs
//! the handle to itself.

use std::ffi::c_int;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use hakoniwa::{Child, Enforcement, Signaller};
use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::args::out;
use crate::consts::{HAKONIWA_STDERR, HAKONIWA_STDIN, HAKONIWA_STDOUT};
use crate::error::{guard, Failure, Result};
use crate::handles::{free_handle, handle_ref, new_handle, Handle};
use crate::memory::give_buffer;
use crate::status::hakoniwa_status_t;

/// A running (or finished) sandboxed program (opaque). Freeing it kills the sandbox if it
/// still runs and reaps it: a sandbox never outlives its handle. (A copy of the handle in a
/// process forked from the spawner is only closed there: the sandbox is the spawner's.)
pub struct hakoniwa_child_t {
    /// `None` once `hakoniwa_child_wait_output` consumed it.
    child: Mutex<Option<Child>>,
    pid: i32,
    /// Signals from any thread, and the pidfd callers poll, valid until the handle is
    /// freed.
    signaller: Signaller,
    /// Shared with every status of this child.
    enforcement: Arc<Enforcement>,
}

impl Handle for hakoniwa_child_t {
    const NAME: &'static str = "hakoniwa_child_t";
}

fn consumed() -> Failure {
    Failure::state("the child was consumed by hakoniwa_child_wait_output")
}

impl hakoniwa_child_t {
    pub(crate) fn new(child: Child) -> Result<Self> {
        Ok(hakoniwa_child_t {
            pid: child.id() as i32,
            signaller: child.signaller()?,
            enforcement: Arc::new(child.enforcement().clone()),
            child: Mutex::new(Some(child)),
        })
    }

    /// The child, waiting for another thread's wait to end.
    fn lock(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The child if no other thread holds it (a wait), else `HAKONIWA_ERROR_STATE`.
    fn try_lock(&self) -> Result<MutexGuard<'_, Option<Child>>> {
        match self.child.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(e)) => Ok(e.into_inner()),
            Err(TryLockError::WouldBlock) => {
                Err(Failure::state("another thread is waiting for this child"))
            }
        }
    }

    fn status_handle(&self, s: hakoniwa::ExitStatus) -> *mut hakoniwa_status_t {
        new_handle(hakoniwa_status_t::new(s, self.enforcement.clone()))
    }
}

fn with<T>(
    child: *mut hakoniwa_child_t,
    on_error: impl FnOnce(c_int) -> T,
    f: impl FnOnce(&hakoniwa_child_t) -> Result<T>,
) -> T {
    guard(on_error, || {
        // SAFETY: shared access only (the child sits behind a lock); the caller does not
        // free the handle during the call (documented).
        let c = unsafe { handle_ref(child) }?;
        f(c)
    })
}

/// Out-parameters for captured output, checked before anything runs.
pub(crate) struct Captured {
    out: Option<(*mut *mut u8, *mut usize)>,
    err: Option<(*mut *mut u8, *mut usize)>,
}

impl Captured {
    pub(crate) fn check(
        out_data: *mut *mut u8,
        out_len: *mut usize,
        err_data: *mut *mut u8,
        err_len: *mut usize,
    ) -> Result<Self> {
        let pair = |d: *mut *mut u8, l: *mut usize, what: &str| match (d.is_null(), l.is_null()) {
            (true, _) => Ok(None),
            (false, true) => Err(Failure::invalid(format!(
                "{what} is set but its length pointer is NULL"
            ))),
            (false, false) => Ok(Some((d, l))),
        };
        Ok(Captured {
            out: pair(out_data, out_len, "out")?,
            err: pair(err_data, err_len, "err")?,
        })
    }

    pub(crate) fn give(self, stdout: Vec<u8>, stderr: Vec<u8>) {
        for (slot, data) in [(self.out, stdout), (self.err, stderr)] {
            if let Some((d, l)) = slot {
                // SAFETY: both checked non-NULL in `check`; they point to the caller's
                // storage for the duration of the call (documented contract).
                unsafe { give_buffer(data, &mut *d, &mut *l) };
            }
        }
    }
}

/// The program's pid in the caller's PID namespace (> 0), or a negative error code.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_child_pid(child: *mut hakoniwa_child_t) -> c_int {
    with(child, |c| c, |c| Ok(c.pid))
}

/// The child's pidfd (readable when the program has ended: poll it from an event loop),
/// or a negative error code. It belongs to the child handle: valid until
/// `hakoniwa_child_free`; do not close it.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_child_pidfd(child: *mut hakoniwa_child_t) -> c_int {
    with(child, |c| c, |c| Ok(c.signaller.pidfd().as_raw_fd()))
}

/// The caller's end of a piped stream, if it is still held.
fn pipe_fd(c: &Child, stream: u32) -> Result<Option<std::os::fd::BorrowedFd<'_>>> {
    Ok(match stream {
        HAKONIWA_STDIN => c.stdin.as_ref().map(|s| s.as_fd()),
        HAKONIWA_STDOUT => c.stdout.as_ref().map(|s| s.as_fd()),
        HAKONIWA_STDERR => c.stderr.as_ref().map(|s| s.as_fd()),
        _ => return Err(Failure::invalid(format!("unknown stream {stream}"))),
    })
}

fn not_piped(stream: u32) -> Failure {
    Failure::state(format!(
        "stream {stream} is not piped (HAKONIWA_STDIO_PIPE) or was already taken"
    ))
}

/// The caller's end of a piped stream (`HAKONIWA_STDIN/STDOUT/STDERR`), still owned by the
/// child handle (do not close it), or a negative error code (`HAKONIWA_ERROR_STATE` when
/// the stream is not piped, or while another thread waits for the child).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_child_stdio_fd(child: *mut hakoniwa_child_t, stream: u32) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            let g = c.try_lock()?;
            let fd = pipe_fd(g.as_ref().ok_or_else(consumed)?, stream)?
                .ok_or_else(|| not_piped(stream))?;
            Ok(fd.as_raw_fd())
        },
    )
}

/// Take the caller's end of a piped stream: the returned descriptor belongs to the caller
/// (close it when done; closing stdin gives the program end-of-file). Negative error code
/// when the stream is not piped or was taken before, or while another thread waits for the
/// child.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_child_take_stdio(child: *mut hakoniwa_child_t, stream: u32) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            let mut g = c.try_lock()?;
            let ch = g.as_mut().ok_or_else(consumed)?;
            let owned = pipe_fd(ch, stream)?
                .ok_or_else(|| not_piped(stream))?
                .try_clone_to_owned()
                .map_err(|e| Failure::io("dup", e))?;
            match stream {
                HAKONIWA_STDIN => drop(ch.stdin.take()),
                HAKONIWA_STDOUT => drop(ch.stdout.take()),
                _ => drop(ch.stderr.take()),
            }
            Ok(owned.into_raw_fd())
        },
    )
}

/// Close the program's piped stdin (it sees end-of-file). No effect if not piped.
///
/// Thread-safe (waits for another thread's wait, which closes stdin itself).
#[no_mangle]
pub extern "C" fn hakoniwa_child_close_stdin(child: *mut hakoniwa_child_t) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            if let Some(ch) = c.lock().as_mut() {
                drop(ch.stdin.take());
            }
            Ok(0)
        },
    )
}

/// Send a signal as `Child::signal` does; a program that has ended is not an error.
fn send(c: &hakoniwa_child_t, sig: c_int) -> Result<()> {
    if !(1..=64).contains(&sig) {
        return Err(Failure::invalid(format!("invalid signal {sig}")));
    }
    Ok(c.signaller.signal(sig)?)
}

/// Kill the sandbox (SIGKILL to its PID 1 ends everything in it). No effect once the
/// program has ended.
///
/// Thread-safe: may be called while another thread waits for the child.
#[no_mangle]
pub extern "C" fn hakoniwa_child_kill(child: *mut hakoniwa_child_t) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            // With the child at hand, the engine records its peak memory before killing.
            match c.try_lock() {
                Ok(mut g) => match g.as_mut() {
                    Some(ch) => ch.kill()?,
                    None => send(c, 9)?,
                },
                Err(_) => send(c, 9)?,
            }
            Ok(0)
        },
    )
}

/// Send signal `sig` (1 to 64) to the program. With the sandbox's init (the default with a
/// PID namespace), the init forwards the signals in the order they were sent: `SIGSTOP`
/// stops the program, `SIGCONT` continues its process group, and `SIGKILL` ends the whole
/// sandbox. A program that is PID 1 itself (`hakoniwa_container_init(c, 0)`) ignores
/// signals it has no handler for, except SIGKILL and SIGSTOP.
///
/// Thread-safe: may be called while another thread waits for the child.
#[no_mangle]
pub extern "C" fn hakoniwa_child_signal(child: *mut hakoniwa_child_t, sig: c_int) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            send(c, sig)?;
            Ok(0)
        },
    )
}

/// Wait for the program to end (its piped stdin is closed first) and put the status in
/// `*result` (free with `hakoniwa_status_free`). Waiting again returns the same status.
///
/// Thread-safe: concurrent waits take turns and get the same status.
#[no_mangle]
pub extern "C" fn hakoniwa_child_wait(
    child: *mut hakoniwa_child_t,
    result: *mut *mut hakoniwa_status_t,
) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            let result = out(result, "result")?;
            let s = c.lock().as_mut().ok_or_else(consumed)?.wait()?;
            *result = c.status_handle(s);
            Ok(0)
        },
    )
}

/// The status if the program has ended (`*result` set), else `*result` = NULL; never
/// blocks (while another thread waits, the program counts as running). Returns 0 either
/// way, or a negative error code.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_child_try_wait(
    child: *mut hakoniwa_child_t,
    result: *mut *mut hakoniwa_status_t,
) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            let result = out(result, "result")?;
            *result = std::ptr::null_mut();
            let status = match c.child.try_lock() {
                Ok(mut g) => g.as_mut().ok_or_else(consumed)?.try_wait()?,
                Err(TryLockError::Poisoned(e)) => {
                    e.into_inner().as_mut().ok_or_else(consumed)?.try_wait()?
                }
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(s) = status {
                *result = c.status_handle(s);
            }
            Ok(0)
        },
    )
}

/// Wait at most `ms` milliseconds: `*result` is the status if the program ended by then,
/// else NULL (the program keeps running). Returns 0 either way, or a negative error code.
///
/// Thread-safe: concurrent waits take turns.
#[no_mangle]
pub extern "C" fn hakoniwa_child_wait_timeout(
    child: *mut hakoniwa_child_t,
    ms: u64,
    result: *mut *mut hakoniwa_status_t,
) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            let result = out(result, "result")?;
            *result = std::ptr::null_mut();
            let end = Instant::now() + Duration::from_millis(ms);
            let mut g = c.lock();
            let ch = g.as_mut().ok_or_else(consumed)?;
            loop {
                if let Some(s) = ch.try_wait()? {
                    *result = c.status_handle(s);
                    return Ok(0);
                }
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(0);
                }
                // Wake up at least every 50 ms so try_wait can enforce a wall-clock limit.
                let step =
                    Timespec::try_from(left.min(Duration::from_millis(50))).unwrap_or(Timespec {
                        tv_sec: 0,
                        tv_nsec: 50_000_000,
                    });
                let pidfd = c.signaller.pidfd();
                let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
                match poll(&mut fds, Some(&step)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(Failure::io("poll", e.into())),
                }
            }
        },
    )
}

/// Wait for the end while draining the piped stdout and stderr concurrently (stdin is
/// closed first). `*result` is the status; `*out`/`*out_len` and `*err`/`*err_len` the
/// captured bytes (NULL when empty or not piped; free each with `hakoniwa_buffer_free`);
/// `out` or `err` may be NULL to discard. Afterwards the child's pid, pidfd, kill and signal
/// still work; the other calls return `HAKONIWA_ERROR_STATE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_child_wait_output(
    child: *mut hakoniwa_child_t,
    result: *mut *mut hakoniwa_status_t,
    out_data: *mut *mut u8,
    out_len: *mut usize,
    err_data: *mut *mut u8,
    err_len: *mut usize,
) -> c_int {
    with(
        child,
        |c| c,
        |c| {
            let result = out(result, "result")?;
            let captured = Captured::check(out_data, out_len, err_data, err_len)?;
            let ch = c.lock().take().ok_or_else(consumed)?;
            let o = ch.wait_with_output()?;
            *result = c.status_handle(o.status);
            captured.give(o.stdout, o.stderr);
            Ok(0)
        },
    )
}

/// Free a child. If the program still runs, the sandbox is killed and reaped first (by
/// the process that spawned it; in a forked process only that process's descriptors are
/// closed). NULL is ignored.
///
/// No other thread may use the child during or after this call.
#[no_mangle]
pub extern "C" fn hakoniwa_child_free(child: *mut hakoniwa_child_t) {
    // SAFETY: the caller's contract: nothing else uses `child` now.
    guard(|_| (), || unsafe { free_handle(child) })
}
