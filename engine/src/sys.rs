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

/// Block every signal in the calling thread (for the spawner thread).
pub fn block_all_signals() {
    let all: u64 = !0;
    // SAFETY: `all` is a live sigset of the kernel's size (8 bytes).
    let _ = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            2usize,
            &all as *const u64,
            0usize,
            8usize
        )
    };
}
