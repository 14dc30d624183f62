//! The parent side's system calls beyond std, typed: signals are rustix [`Signal`]s, wait
//! options rustix [`WaitIdOptions`], errors rustix [`Errno`]s.
//!
//! What rustix offers comes from rustix (`pidfd_send_signal`, the ids). The raw calls it
//! lacks (`waitid` with `rusage`, signal masks, POSIX timers, `tgkill`) are in the runtime's
//! `sys` (`engine/runtime/src/sys.rs`), the one place the engine spells out system calls;
//! this module only converts their arguments and results.

use std::os::fd::{AsRawFd, BorrowedFd};

use hakoniwa_runtime::sys as raw;
pub(crate) use rustix::io::Errno;
pub(crate) use rustix::process::{Signal, WaitIdOptions};

/// `si_code` of a child that exited.
pub const CLD_EXITED: i32 = 1;
/// `si_code` of a child killed by a signal.
pub const CLD_KILLED: i32 = 2;
/// `si_code` of a child killed by a signal that dumped core.
pub const CLD_DUMPED: i32 = 3;
/// `si_code` of a stopped child.
pub const CLD_STOPPED: i32 = 5;

fn errno(raw: i32) -> Errno {
    Errno::from_raw_os_error(raw)
}

/// What `waitid` reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitResult {
    /// The pid (0 with `NOHANG` when nothing changed).
    pub pid: i32,
    /// `si_code` (`CLD_*`).
    pub code: i32,
    /// Exit status or signal.
    pub status: i32,
    /// The kernel's rusage, as 18 longs (2 timevals + 14 counters).
    pub rusage: [i64; raw::RUSAGE_WORDS],
}

/// `waitid(P_PIDFD, fd, .., options, rusage)`.
pub fn waitid_pidfd(fd: BorrowedFd<'_>, options: WaitIdOptions) -> Result<WaitResult, Errno> {
    let mut info = [0i32; raw::SIGINFO_WORDS];
    let mut rusage = [0i64; raw::RUSAGE_WORDS];
    raw::waitid_pidfd(fd.as_raw_fd(), options.bits(), &mut info, &mut rusage).map_err(errno)?;
    // x86_64 siginfo: signo, errno, code, pad, then pid, uid, status.
    Ok(WaitResult {
        pid: info[4],
        code: info[2],
        status: info[6],
        rusage,
    })
}

/// `SIGRTMIN`, the first real-time signal the kernel numbers (the C library reserves two).
const SIGRTMIN: i32 = 32;
/// `SIGRTMAX`.
const SIGRTMAX: i32 = 64;

/// The signal numbered `raw`: a named one or a real-time one (`None` for anything else).
pub fn signal(raw: i32) -> Option<Signal> {
    match Signal::from_named_raw(raw) {
        Some(s) => Some(s),
        // SAFETY: rustix requires a valid signal number; every number from SIGRTMIN to
        // SIGRTMAX is one on Linux.
        None if (SIGRTMIN..=SIGRTMAX).contains(&raw) => {
            Some(unsafe { Signal::from_raw_unchecked(raw) })
        }
        None => None,
    }
}

/// `pidfd_send_signal(fd, sig, NULL, 0)`.
pub fn pidfd_send_signal(fd: BorrowedFd<'_>, sig: Signal) -> Result<(), Errno> {
    rustix::process::pidfd_send_signal(fd, sig)
}

/// The bit of `sig` in a kernel signal set.
fn bit(sig: Signal) -> u64 {
    1 << (sig.as_raw() - 1)
}

/// Block every signal in the calling thread; returns the previous mask.
pub fn block_all_signals() -> u64 {
    raw::swap_sigmask(raw::SIG_SETMASK, !0).unwrap_or(0)
}

/// Set the calling thread's signal mask (to restore what [`block_all_signals`] returned).
pub fn set_signal_mask(mask: u64) {
    let _ = raw::sigprocmask(raw::SIG_SETMASK, mask);
}

/// Run `f` with signal `sig` blocked in the calling thread, then restore the thread's mask.
pub fn with_signal_blocked<R>(sig: Signal, f: impl FnOnce() -> R) -> R {
    let old = raw::swap_sigmask(raw::SIG_BLOCK, bit(sig));
    let r = f();
    if let Ok(old) = old {
        set_signal_mask(old);
    }
    r
}

/// A one-shot POSIX timer that sends SIGCONT to this process after a delay: the kernel
/// generates the signal even while the process is stopped, so a stop cannot outlast it.
/// Deleted on drop.
pub struct ContinueTimer(i32);

impl ContinueTimer {
    /// Arm a timer that continues this process after `after` (`None` if the kernel refused).
    pub fn arm(after: std::time::Duration) -> Option<ContinueTimer> {
        let timer = ContinueTimer(raw::timer_create_signal(Signal::CONT.as_raw()).ok()?);
        // A zero value would disarm, so wait at least a nanosecond.
        let ns = after.subsec_nanos().max(u32::from(after.as_secs() == 0)) as i64;
        let secs = after.as_secs().min(i64::MAX as u64) as i64;
        raw::timer_arm_once(timer.0, secs, ns).ok().map(|_| timer)
    }
}

impl Drop for ContinueTimer {
    fn drop(&mut self) {
        raw::timer_delete(self.0);
    }
}

/// `tgkill(getpid(), gettid(), sig)`: a signal to the calling thread itself, acted upon
/// before this call returns (a stop signal stops the process right here), with `sig`
/// unblocked around it (a caller that takes its signals with `sigtimedwait` blocks them in
/// every thread: the signal would stay pending on this thread instead).
pub fn raise(sig: Signal) {
    let old = raw::swap_sigmask(raw::SIG_UNBLOCK, bit(sig));
    let pid = rustix::process::getpid().as_raw_nonzero().get();
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    let _ = raw::tgkill(pid, tid, sig.as_raw());
    if let Ok(old) = old {
        set_signal_mask(old);
    }
}

/// A small file, with one `read` into `buf` (a procfs file is generated whole at its first
/// read; std's `read_to_string` makes about eight calls for one), else with std when it
/// does not fit. `None` if it cannot be opened or read.
pub(crate) fn read_small<'b>(path: &str, buf: &'b mut [u8]) -> Option<std::borrow::Cow<'b, [u8]>> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let n = rustix::io::read(&fd, &mut *buf).ok()?;
    if n < buf.len() {
        return Some(std::borrow::Cow::Borrowed(&buf[..n]));
    }
    // Maybe longer (a status file with hundreds of supplementary groups): read it whole.
    drop(fd);
    std::fs::read(path).ok().map(std::borrow::Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_small_reads_a_file_longer_than_its_buffer_whole() {
        let path = std::env::temp_dir().join(format!("hk-read-small-{}", std::process::id()));
        let text: Vec<u8> = (0..100u8).collect();
        std::fs::write(&path, &text).unwrap();
        let p = path.to_str().unwrap();
        let mut small = [0u8; 16];
        assert_eq!(read_small(p, &mut small).unwrap().as_ref(), &text[..]);
        let mut exact = [0u8; 100];
        assert_eq!(read_small(p, &mut exact).unwrap().as_ref(), &text[..]);
        let mut large = [0u8; 4096];
        assert!(
            matches!(read_small(p, &mut large), Some(std::borrow::Cow::Borrowed(b)) if b == &text[..])
        );
        std::fs::remove_file(&path).unwrap();
        assert!(read_small(p, &mut large).is_none());
    }

    #[test]
    fn named_and_real_time_signal_numbers_are_signals_and_others_are_not() {
        assert_eq!(signal(9), Some(Signal::KILL));
        assert_eq!(signal(19), Some(Signal::STOP));
        assert_eq!(signal(34).map(Signal::as_raw), Some(34));
        assert_eq!(signal(64).map(Signal::as_raw), Some(64));
        assert_eq!(signal(0), None);
        assert_eq!(signal(65), None);
        assert_eq!(signal(-1), None);
    }
}
