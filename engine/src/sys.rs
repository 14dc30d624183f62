//! Parent-side raw system calls that rustix does not offer (waitid with rusage on a pidfd,
//! the signal mask of the spawner thread). All unsafe code of the engine lives here and in
//! `spawn.rs`.

use std::os::fd::{AsRawFd, BorrowedFd};

use syscalls::{syscall, Sysno};

const P_PIDFD: usize = 3;
/// `waitid` option: wait for exited children.
pub const WEXITED: usize = 4;
/// `waitid` option: do not block.
pub const WNOHANG: usize = 1;
/// `si_code` values for SIGCHLD.
pub const CLD_EXITED: i32 = 1;
/// Killed by a signal.
#[allow(dead_code)]
pub const CLD_KILLED: i32 = 2;
/// Killed by a signal, dumped core.
pub const CLD_DUMPED: i32 = 3;

/// What `waitid` reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitResult {
    /// The pid (0 with WNOHANG when nothing changed).
    pub pid: i32,
    /// `si_code`.
    pub code: i32,
    /// Exit status or signal.
    pub status: i32,
    /// The kernel's rusage, as 18 longs (2 timevals + 14 counters).
    pub rusage: [i64; 18],
}

/// `waitid(P_PIDFD, fd, .., options, rusage)`.
pub fn waitid_pidfd(fd: BorrowedFd<'_>, options: usize) -> Result<WaitResult, i32> {
    let mut info = [0i32; 32]; // siginfo_t is 128 bytes
    let mut ru = [0i64; 18];
    loop {
        // SAFETY: `info` and `ru` are live, correctly sized buffers the kernel fills.
        let r = unsafe {
            syscall!(
                Sysno::waitid,
                P_PIDFD,
                fd.as_raw_fd(),
                info.as_mut_ptr(),
                options,
                ru.as_mut_ptr()
            )
        };
        match r {
            Ok(_) => break,
            Err(e) if e.into_raw() == 4 => continue,
            Err(e) => return Err(e.into_raw()),
        }
    }
    // x86_64 siginfo: signo, errno, code, pad, then pid, uid, status.
    Ok(WaitResult {
        pid: info[4],
        code: info[2],
        status: info[6],
        rusage: ru,
    })
}

/// `pidfd_send_signal(fd, sig, NULL, 0)`.
pub fn pidfd_send_signal(fd: BorrowedFd<'_>, sig: i32) -> Result<(), i32> {
    // SAFETY: NULL siginfo asks the kernel to build one.
    unsafe {
        syscall!(
            Sysno::pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            0usize,
            0usize
        )
    }
    .map(drop)
    .map_err(|e| e.into_raw())
}

/// Block every signal in the calling thread; returns the previous mask.
pub fn block_all_signals() -> u64 {
    let all: u64 = !0;
    let mut old: u64 = 0;
    // SAFETY: `all` and `old` are live sigsets of the kernel's size (8 bytes).
    let _ = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            2usize,
            &all as *const u64,
            &mut old as *mut u64,
            8usize
        )
    };
    old
}

/// Set the calling thread's signal mask (to restore what [`block_all_signals`] returned).
pub fn set_signal_mask(mask: u64) {
    // SAFETY: `mask` is a live sigset of the kernel's size (8 bytes).
    let _ = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            2usize,
            &mask as *const u64,
            0usize,
            8usize
        )
    };
}

/// `waitid` option: report stopped children.
pub const WSTOPPED: usize = 2;
/// `si_code` of a stopped child.
pub const CLD_STOPPED: i32 = 5;

/// `pidfd_send_signal(fd, sig, info)` with a queued (`SI_QUEUE`) siginfo carrying `value`.
pub fn pidfd_send_queued(fd: BorrowedFd<'_>, sig: i32, value: i32) -> Result<(), i32> {
    const SI_QUEUE: i32 = -1;
    // siginfo_t (128 bytes): signo, errno, code, pad, then pid, uid, value (8 bytes).
    let mut info = [0i32; 32];
    info[0] = sig;
    info[2] = SI_QUEUE;
    info[4] = rustix::process::getpid().as_raw_nonzero().get();
    info[5] = rustix::process::getuid().as_raw() as i32;
    info[6] = value;
    // SAFETY: `info` is a live siginfo_t; the kernel copies it.
    unsafe {
        syscall!(
            Sysno::pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            info.as_ptr(),
            0usize
        )
    }
    .map(drop)
    .map_err(|e| e.into_raw())
}

/// Run `f` with signal `sig` blocked in the calling thread, then restore the thread's mask.
pub fn with_signal_blocked<R>(sig: i32, f: impl FnOnce() -> R) -> R {
    let set: u64 = 1 << (sig - 1);
    let mut old: u64 = 0;
    // SAFETY: `set` and `old` are live sigsets of the kernel's size (8 bytes).
    let _ = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            0usize, // SIG_BLOCK
            &set as *const u64,
            &mut old as *mut u64,
            8usize
        )
    };
    let r = f();
    // SAFETY: as above; restores the previous mask.
    let _ = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            2usize, // SIG_SETMASK
            &old as *const u64,
            0usize,
            8usize
        )
    };
    r
}

/// `tgkill(getpid(), gettid(), sig)`: a signal to the calling thread itself, acted upon
/// before this call returns (a stop signal stops the process right here).
pub fn raise(sig: i32) {
    let pid = rustix::process::getpid().as_raw_nonzero().get();
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    // SAFETY: no pointers.
    let _ = unsafe { syscall!(Sysno::tgkill, pid, tid, sig) };
}
