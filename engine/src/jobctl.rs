//! Job control for a sandbox run from a terminal: the program's process group takes the
//! terminal's foreground, and when the program stops on a terminal stop signal (Ctrl-Z,
//! background read or write), the supervising process stops the same way, so the caller's
//! shell gets the terminal back and `fg` resumes both.
//!
//! The program always runs in its own process group (so `kill(0, sig)` from inside reaches
//! nothing outside). That group is not the caller's shell job, so the shell would not notice
//! the program stopping and the terminal would hang; mirroring the stop here is what `sudo`
//! does for the same reason. Only terminal stop signals (SIGTSTP, SIGTTIN, SIGTTOU) are
//! mirrored: a program stopped by SIGSTOP (e.g. its own `kill(0, SIGSTOP)`) does not stop
//! the supervisor, which keeps enforcing the wall-clock limit.
//!
//! With a terminal of its own (`Command::controlling_terminal`, e.g. a pseudo-terminal the
//! caller relays) the sandbox has its own session and the caller's terminal is not touched
//! here: the caller's [`StopHook`] decides what a terminal stop does on its side.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::process::{getpgrp, test_kill_process_group};
use rustix::termios::{tcgetpgrp, tcsetpgrp};

/// The caller's answer to a terminal stop of a program that has a terminal of its own
/// (see [`crate::Child::on_terminal_stop`]).
pub(crate) struct StopHook(pub(crate) Box<dyn FnMut(i32) -> bool + Send + Sync>);

impl std::fmt::Debug for StopHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StopHook")
    }
}

/// The caller's controlling terminal, as seen on the program's stdin.
#[derive(Debug)]
pub(crate) struct Terminal {
    fd: OwnedFd,
}

/// The terminal stop signals: SIGTSTP, SIGTTIN, SIGTTOU.
pub(crate) fn is_terminal_stop(sig: i32) -> bool {
    matches!(sig, 20..=22)
}

impl Terminal {
    /// `fd` if it is the controlling terminal of the caller's session, and whether the
    /// caller's process group is its foreground group.
    pub(crate) fn detect(fd: BorrowedFd<'_>) -> Option<(Terminal, bool)> {
        // ENOTTY unless `fd` is a terminal *and* our session's controlling terminal.
        let fg = tcgetpgrp(fd).ok()?;
        let fd = fd.try_clone_to_owned().ok()?;
        Some((Terminal { fd }, fg == getpgrp()))
    }

    /// Whether the caller's process group is the terminal's foreground group.
    pub(crate) fn we_are_foreground(&self) -> bool {
        self.foreground_is(getpgrp().as_raw_nonzero().get())
    }

    /// Whether process group `pgrp` is the terminal's foreground group.
    pub(crate) fn foreground_is(&self, pgrp: i32) -> bool {
        tcgetpgrp(self.fd.as_fd()).is_ok_and(|p| p.as_raw_nonzero().get() == pgrp)
    }

    /// The program stopped on terminal stop signal `sig`: stop this process the same way
    /// (the shell notices and takes the terminal). Returns once continued, telling whether
    /// we were continued in the foreground (`fg`) rather than the background (`bg`).
    pub(crate) fn stop_like_program(&self, sig: i32) -> bool {
        if let Some(sig) = crate::sys::signal(sig) {
            crate::sys::raise(sig);
        }
        self.we_are_foreground()
    }

    /// Give the foreground to process group `pgrp` (without an init: the program's).
    pub(crate) fn give_to_group(&self, pgrp: i32) {
        if let Some(p) = rustix::process::Pid::from_raw(pgrp) {
            crate::sys::with_signal_blocked(crate::sys::Signal::TTOU, || {
                let _ = tcsetpgrp(self.fd.as_fd(), p);
            });
        }
    }

    /// After the sandbox ended: take the foreground back if it still belongs to a process
    /// group that no longer exists (the program's), as a shell does when its job ends, so a
    /// host that reads the terminal next is not stopped by SIGTTIN.
    pub(crate) fn reclaim(&self) {
        let Ok(fg) = tcgetpgrp(self.fd.as_fd()) else {
            return;
        };
        let mine = getpgrp();
        if fg == mine || test_kill_process_group(fg) != Err(rustix::io::Errno::SRCH) {
            return;
        }
        // From a background group this would stop us with SIGTTOU unless it is blocked.
        crate::sys::with_signal_blocked(crate::sys::Signal::TTOU, || {
            let _ = tcsetpgrp(self.fd.as_fd(), mine);
        });
    }
}
