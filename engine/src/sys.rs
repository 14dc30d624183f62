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

/// A one-shot POSIX timer that sends SIGCONT to this process after a delay: the kernel
/// generates the signal even while the process is stopped, so a stop cannot outlast it.
/// Deleted on drop.
pub struct ContinueTimer(i32);

impl ContinueTimer {
    /// Arm a timer that continues this process after `after` (`None` if the kernel refused).
    pub fn arm(after: std::time::Duration) -> Option<ContinueTimer> {
        const CLOCK_MONOTONIC: usize = 1;
        const SIGCONT: i32 = 18;
        const SIGEV_SIGNAL: i32 = 0;
        // struct sigevent (64 bytes): sigev_value (8), sigev_signo, sigev_notify, padding.
        let mut ev = [0i32; 16];
        ev[2] = SIGCONT;
        ev[3] = SIGEV_SIGNAL;
        let mut id: i32 = 0;
        // SAFETY: `ev` is a live struct sigevent and `id` a live timer_t; the kernel copies
        // the first and writes the second.
        unsafe {
            syscall!(
                Sysno::timer_create,
                CLOCK_MONOTONIC,
                ev.as_ptr(),
                &mut id as *mut i32
            )
        }
        .ok()?;
        let timer = ContinueTimer(id);
        // struct itimerspec: it_interval (zero: one shot), it_value; a zero value would
        // disarm, so wait at least a nanosecond.
        let ns = after.subsec_nanos().max(u32::from(after.as_secs() == 0)) as i64;
        let spec: [i64; 4] = [0, 0, after.as_secs().min(i64::MAX as u64) as i64, ns];
        // SAFETY: `spec` is a live struct itimerspec; no old value is asked for.
        unsafe { syscall!(Sysno::timer_settime, id, 0usize, spec.as_ptr(), 0usize) }
            .ok()
            .map(|_| timer)
    }
}

impl Drop for ContinueTimer {
    fn drop(&mut self) {
        // SAFETY: no pointers; the id is ours.
        let _ = unsafe { syscall!(Sysno::timer_delete, self.0) };
    }
}

/// `tgkill(getpid(), gettid(), sig)`: a signal to the calling thread itself, acted upon
/// before this call returns (a stop signal stops the process right here).
pub fn raise(sig: i32) {
    let pid = rustix::process::getpid().as_raw_nonzero().get();
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    // SAFETY: no pointers.
    let _ = unsafe { syscall!(Sysno::tgkill, pid, tid, sig) };
}
