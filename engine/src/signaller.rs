//! [`Signaller`]: signals to a sandbox from any thread, with or without its [`crate::Child`].
//!
//! With an init, every signal but SIGKILL goes through the init's request pipe as one byte
//! (see `init_proto::REQUEST_CONT_FOREGROUND`): the init forwards it to the program in the
//! order the caller sent it, stops the program for SIGSTOP (which sent to PID 1 would stop
//! the init, or nothing), and a process inside cannot forge one, having no end of the pipe.
//! SIGKILL goes to PID 1 itself through the pidfd and ends the whole sandbox.
//!
//! Under job control (the program runs in the caller's own terminal, `jobctl.rs`), SIGCONT
//! also hands the program the terminal's foreground when this process's group has it: a
//! shell's `fg` of a stopped job gives the foreground to this process and continues it, and
//! the program must have the terminal again, not only run (else the next Ctrl-Z stops this
//! process alone while the program runs on in the background). Continued in the
//! background (`bg`), the program runs in the background too.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::error::{Error, Result};
use crate::sys::{self, Errno, Signal};

/// Sends signals to one sandbox; made by [`crate::Child::signaller`]. Unlike the `Child`,
/// it is used through a shared reference, so one thread can signal a sandbox another thread
/// waits for. Valid for as long as it lives (its pidfd and pipe end are its own); signals
/// to a sandbox that has ended are no error and have no effect.
#[derive(Debug)]
pub struct Signaller {
    /// PID 1's pid (in the caller's PID namespace).
    pid: i32,
    pidfd: OwnedFd,
    requests: Option<Requests>,
    /// The caller's terminal, under job control.
    terminal: Option<Arc<crate::jobctl::Terminal>>,
}

/// The request pipe's write end, and a read end that keeps the pipe from hanging up when
/// the init has ended (a write would fail with EPIPE and raise SIGPIPE in the caller).
#[derive(Debug)]
pub(crate) struct Requests {
    write: OwnedFd,
    read: OwnedFd,
}

impl Requests {
    pub(crate) fn new(write: OwnedFd, read: OwnedFd) -> Requests {
        Requests { write, read }
    }

    fn try_clone(&self) -> Result<Requests> {
        let dup = |fd: &OwnedFd| fd.try_clone().map_err(|e| Error::io("dup", e));
        Ok(Requests {
            write: dup(&self.write)?,
            read: dup(&self.read)?,
        })
    }
}

impl Signaller {
    pub(crate) fn new(
        pid: i32,
        pidfd: OwnedFd,
        requests: Option<Requests>,
        terminal: Option<Arc<crate::jobctl::Terminal>>,
    ) -> Signaller {
        Signaller {
            pid,
            pidfd,
            requests,
            terminal,
        }
    }

    /// Another `Signaller` for the same sandbox (its own duplicates of the descriptors).
    pub fn try_clone(&self) -> Result<Signaller> {
        Ok(Signaller {
            pid: self.pid,
            pidfd: self.pidfd.try_clone().map_err(|e| Error::io("dup", e))?,
            requests: self
                .requests
                .as_ref()
                .map(Requests::try_clone)
                .transpose()?,
            terminal: self.terminal.clone(),
        })
    }

    /// The sandbox's pidfd (its PID 1's): readable once it has ended.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Send `sig` (1 to 64; 0 only checks the number) as [`crate::Child::signal`] does.
    pub fn signal(&self, sig: i32) -> Result<()> {
        let invalid = Error::Io {
            op: "pidfd_send_signal",
            errno: Errno::INVAL.raw_os_error(),
        };
        let s = match sys::signal(sig) {
            Some(s) => s,
            // Signal 0 would only check that the process exists: it does until reaped.
            None if sig == 0 => return Ok(()),
            None => return Err(invalid),
        };
        let (op, sent) = match (&self.requests, &self.terminal) {
            (_, Some(t)) if s == Signal::CONT => (
                "continue the program",
                self.continue_program(t.we_are_foreground()),
            ),
            (Some(r), _) if s != Signal::KILL => (
                "write to the init's request pipe",
                self.request(r, sig as u8),
            ),
            _ => ("pidfd_send_signal", sys::pidfd_send_signal(self.pidfd(), s)),
        };
        outcome(op, sent)
    }

    /// Whether the program runs in the caller's own terminal under job control (see
    /// [`crate::Child::job_control`]).
    pub fn job_control(&self) -> bool {
        self.terminal.is_some()
    }

    /// Send `sig` as the caller's terminal sends what is typed there (`Ctrl-C`: SIGINT,
    /// `Ctrl-\`: SIGQUIT, `Ctrl-Z`: SIGTSTP). Under job control, such a signal reaches the
    /// caller when its group holds the terminal's foreground instead of the program's: a
    /// shell's `fg` of a job that ran on in the background (`bg`) hands the foreground to the
    /// caller without a signal. Then the program's process group gets the foreground back
    /// and `sig` goes to the whole group, its children included, as the terminal would have
    /// sent it. Otherwise the same as [`Signaller::signal`].
    pub fn signal_from_terminal(&self, sig: i32) -> Result<()> {
        use hakoniwa_runtime::init_proto::REQUEST_FOREGROUND;
        match (&self.requests, &self.terminal) {
            (Some(r), Some(t))
                if (1..=64).contains(&sig)
                    && sig != Signal::KILL.as_raw()
                    && t.we_are_foreground() =>
            {
                outcome(
                    "write to the init's request pipe",
                    self.request(r, REQUEST_FOREGROUND + sig as u8),
                )
            }
            _ => self.signal(sig),
        }
    }

    /// Continue the program's process group, first handing it the terminal's foreground if
    /// `foreground` (the init's request `REQUEST_CONT_FOREGROUND`); without an init, continue
    /// PID 1, the program, after giving its group the caller's terminal's foreground (the
    /// runtime gave it a group of its own; with a terminal of its own, that group leads the
    /// session and keeps the foreground).
    pub(crate) fn continue_program(&self, foreground: bool) -> std::result::Result<(), Errno> {
        use hakoniwa_runtime::init_proto::REQUEST_CONT_FOREGROUND;
        if let (None, true, Some(t)) = (&self.requests, foreground, &self.terminal) {
            t.give_to_group(self.pid);
        }
        match &self.requests {
            Some(r) if foreground => self.request(r, REQUEST_CONT_FOREGROUND),
            Some(r) => self.request(r, Signal::CONT.as_raw() as u8),
            None => sys::pidfd_send_signal(self.pidfd.as_fd(), Signal::CONT),
        }
    }

    /// Write one request. The pipe is non-blocking: a full one (an init that stopped
    /// reading because it ended, or is frozen) refuses with EAGAIN, which is no error when
    /// the sandbox has ended.
    fn request(&self, r: &Requests, code: u8) -> std::result::Result<(), Errno> {
        match rustix::io::write(&r.write, &[code]) {
            Ok(1) => Ok(()),
            Ok(_) => Err(Errno::AGAIN),
            Err(Errno::AGAIN) if self.ended() => Err(Errno::SRCH),
            Err(e) => Err(e),
        }
    }

    /// PID 1 has ended (its pidfd is readable).
    fn ended(&self) -> bool {
        let mut fds = [PollFd::new(&self.pidfd, PollFlags::IN)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
    }
}

/// A signal's delivery as the caller sees it: none is an error once the sandbox has ended.
fn outcome(op: &'static str, sent: std::result::Result<(), Errno>) -> Result<()> {
    match sent {
        Ok(()) | Err(Errno::SRCH) => Ok(()), // already gone
        Err(e) => Err(Error::Io {
            op,
            errno: e.raw_os_error(),
        }),
    }
}
