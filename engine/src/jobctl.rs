//! Job control for a sandbox run from a terminal: the program's process group takes the
//! terminal's foreground, and when the program stops on a terminal stop signal (Ctrl-Z,
//! background read or write), the supervising process stops the same way, so the caller's
//! shell gets the terminal back and `fg` resumes both.
//!
//! The program always runs in its own process group (so `kill(0, sig)` from inside reaches
//! nothing outside). That group is not the caller's shell job, so the shell would not notice
//! the program stopping and the terminal would hang; mirroring the stop here is what `sudo`
//! does for the same reason. When the caller's group is the terminal's foreground, the stop
//! is mirrored onto that whole group, as the terminal would have stopped it ([`stop_job`]):
//! when a shell script or a pipeline ran the caller, the shell sees its job stop only once
//! every process of it has stopped. Only
//! terminal stop signals (SIGTSTP, SIGTTIN, SIGTTOU) are mirrored: a program stopped by
//! SIGSTOP (e.g. its own `kill(0, SIGSTOP)`) does not stop the supervisor, which keeps
//! enforcing the wall-clock limit.
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
    pub(crate) fn stop_like_program(&self, sig: i32, program_group: Option<i32>) -> bool {
        stop_job_with(sig, self.fd.as_fd(), program_group);
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

/// Stop the caller's job on terminal stop signal `sig` (SIGTSTP, SIGTTIN or SIGTTOU) as the
/// terminal would have stopped it: when this process's group is the foreground group of
/// `terminal` (the caller's controlling terminal), every other process of the group first
/// (the shell script that ran this one, the rest of its pipeline), then this process, from
/// the calling thread (with `sig` unblocked there for the moment). Returns once this process
/// is continued. A shell's `fg` or `bg` continues the whole group; when this process alone
/// is continued (the wall-clock deadline of [`crate::Child::wait`], a `kill -CONT` of this
/// process), the others it stopped are continued too.
///
/// A group in the background, or one that is not the terminal's (`timeout` runs its command
/// in a group of its own; so may a script's caller), is left alone: a terminal would not
/// have stopped it, and a stop there would hold whoever waits to end this process. Other
/// signals are sent to this process alone, acted upon as their default action would.
///
/// The engine does this itself under job control ([`crate::Child::job_control`]); a
/// [`crate::Child::on_terminal_stop`] hook that relays the caller's terminal calls it after
/// putting that terminal back in its own mode. The other processes are found in `/proc`
/// (nothing is sent to them unless it shows this process's PID namespace), each signalled
/// through a pidfd taken while it is seen in the group, so a reused pid is never hit.
pub fn stop_job(sig: i32, terminal: BorrowedFd<'_>) {
    stop_job_with(sig, terminal, None);
}

/// [`stop_job`], counting `program_group` as this process's own when it holds the terminal's
/// foreground (under job control the program's group gets it from the caller's).
pub(crate) fn stop_job_with(sig: i32, terminal: BorrowedFd<'_>, program_group: Option<i32>) {
    let Some(sig) = crate::sys::signal(sig) else {
        return;
    };
    let own = getpgrp().as_raw_nonzero().get();
    let job_has_terminal = tcgetpgrp(terminal).is_ok_and(|fg| {
        let fg = fg.as_raw_nonzero().get();
        fg == own || Some(fg) == program_group
    });
    let peers = if is_terminal_stop(sig.as_raw()) && job_has_terminal {
        signal_group_peers(sig)
    } else {
        Vec::new()
    };
    crate::sys::raise(sig);
    for (pid, pidfd) in peers {
        if state_of(pid) == Some(b'T') {
            let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), rustix::process::Signal::CONT);
        }
    }
}

/// Send `sig` to every process of this process's group but this one (see [`stop_job`]);
/// returns them, each with the pidfd it was signalled through.
fn signal_group_peers(sig: rustix::process::Signal) -> Vec<(i32, OwnedFd)> {
    use rustix::fs::{openat, Dir, Mode, OFlags, CWD};
    let mut peers = Vec::new();
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let group = getpgrp().as_raw_nonzero().get();
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(proc_fd) = openat(CWD, "/proc", flags, Mode::empty()) else {
        return peers;
    };
    // Another PID namespace's procfs numbers other processes.
    match rustix::fs::readlinkat(&proc_fd, "self", Vec::new()) {
        Ok(s) if s.to_bytes() == me.to_string().as_bytes() => {}
        _ => return peers,
    }
    let Ok(dir) = Dir::read_from(&proc_fd) else {
        return peers;
    };
    for entry in dir.flatten() {
        let Some(pid) = std::str::from_utf8(entry.file_name().to_bytes())
            .ok()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me || stat_of(&proc_fd, pid).map(|s| s.1) != Some(group) {
            continue;
        }
        let Some(p) = rustix::process::Pid::from_raw(pid) else {
            continue;
        };
        let Ok(pidfd) = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) else {
            continue;
        };
        // The pidfd holds the process now: is it the one seen in the group?
        if stat_of(&proc_fd, pid).map(|s| s.1) == Some(group)
            && crate::sys::pidfd_send_signal(pidfd.as_fd(), sig).is_ok()
        {
            peers.push((pid, pidfd));
        }
    }
    peers
}

/// The state letter of process `pid` (which the caller holds a pidfd of).
fn state_of(pid: i32) -> Option<u8> {
    use rustix::fs::{openat, Mode, OFlags, CWD};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let proc_fd = openat(CWD, "/proc", flags, Mode::empty()).ok()?;
    stat_of(&proc_fd, pid).map(|s| s.0)
}

/// The state letter and process group of process `pid`, from `/proc/PID/stat` (after the
/// command name, which may hold anything: state, parent, group).
fn stat_of(proc_fd: &OwnedFd, pid: i32) -> Option<(u8, i32)> {
    let f = rustix::fs::openat(
        proc_fd,
        format!("{pid}/stat"),
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ok()?;
    let mut buf = [0u8; 512];
    let n = rustix::io::read(&f, &mut buf).ok()?;
    let stat = buf.get(..n)?;
    let after = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(after + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    Some((state, fields.nth(1)?.parse().ok()?))
}
