//! Job control for a sandbox run from a terminal: the program's process group takes the
//! terminal's foreground, and when the program stops on a terminal stop signal (Ctrl-Z,
//! background read or write), the supervising process stops the same way, so the caller's
//! shell gets the terminal back and `fg` resumes both.
//!
//! The program always runs in its own process group (so `kill(0, sig)` from inside reaches
//! nothing outside). That group is not the caller's shell job, so the shell would not notice
//! the program stopping and the terminal would hang; mirroring the stop here is what `sudo`
//! does for the same reason. Only this process stops: the program may have stopped itself
//! (`kill -TSTP 0` reaches only its own group), and the caller's group may be one that a
//! terminal would never stop, e.g. the background group `timeout` runs its command in,
//! whose end must not wait on a `fg`. A caller that knows a stop came from the keyboard
//! (a relay that passed the suspend key on) stops its whole job with [`stop_job`]. Only
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

/// Stop the caller's job on terminal stop signal `sig` (SIGTSTP, SIGTTIN or SIGTTOU) as the
/// terminal stops a job: when this process's group is the foreground group of `terminal`
/// (the caller's controlling terminal), every other process of the group first (the shell
/// script that ran this one, the rest of its pipeline), then this process, from the calling
/// thread (with `sig` unblocked there for the moment). Returns once this process is
/// continued (a shell's `fg` or `bg` continues the whole group). A group in the background
/// is left alone, and so is any signal other than a terminal stop: this process alone acts
/// on it as its default action would.
///
/// For a [`crate::Child::on_terminal_stop`] hook that relays the caller's terminal, when the
/// stop came from the user's suspend key: a program's own `kill -TSTP 0` reaches only its
/// group, and mirroring that onto the caller's job would let it stop a script (or a
/// `timeout`) that runs the sandbox. The engine itself stops only its own process under job
/// control, since it cannot tell a typed Ctrl-Z from the program's own stop. The other
/// processes are found in `/proc` (nothing is sent unless it shows this process's PID
/// namespace); each is signalled through a pidfd taken while it is seen in the group, so a
/// reused pid is never hit, and one stopped already is left as it is.
pub fn stop_job(sig: i32, terminal: BorrowedFd<'_>) {
    let Some(sig) = crate::sys::signal(sig) else {
        return;
    };
    let own = getpgrp();
    if is_terminal_stop(sig.as_raw()) && tcgetpgrp(terminal).is_ok_and(|fg| fg == own) {
        signal_group_peers(sig);
    }
    crate::sys::raise(sig);
}

/// Send `sig` to every process of this process's group but this one that is not stopped
/// already (see [`stop_job`]).
fn signal_group_peers(sig: rustix::process::Signal) {
    use rustix::fs::{openat, Dir, Mode, OFlags, CWD};
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let group = getpgrp().as_raw_nonzero().get();
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(proc_fd) = openat(CWD, "/proc", flags, Mode::empty()) else {
        return;
    };
    // Another PID namespace's procfs numbers other processes.
    match rustix::fs::readlinkat(&proc_fd, "self", Vec::new()) {
        Ok(s) if s.to_bytes() == me.to_string().as_bytes() => {}
        _ => return,
    }
    let Ok(dir) = Dir::read_from(&proc_fd) else {
        return;
    };
    for entry in dir.flatten() {
        let Some(pid) = std::str::from_utf8(entry.file_name().to_bytes())
            .ok()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // One stopped already is left as it is (a pending SIGTSTP would stop it again
        // when it is continued).
        match stat_of(&proc_fd, pid) {
            Some((state, g)) if pid != me && g == group && !matches!(state, b'T' | b't') => {}
            _ => continue,
        }
        let Some(p) = rustix::process::Pid::from_raw(pid) else {
            continue;
        };
        let Ok(pidfd) = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) else {
            continue;
        };
        // The pidfd holds the process now: is it the one seen in the group?
        if stat_of(&proc_fd, pid).map(|s| s.1) == Some(group) {
            let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), sig);
        }
    }
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
    parse_stat(buf.get(..n)?)
}

/// State letter and process group from the text of `/proc/PID/stat`: `pid (comm) state
/// ppid pgrp ...`, where `comm` may hold spaces and parentheses (the last `)` ends it).
fn parse_stat(stat: &[u8]) -> Option<(u8, i32)> {
    let after = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(after + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    Some((state, fields.nth(1)?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_the_state_and_group_whatever_the_command_name() {
        assert_eq!(
            parse_stat(b"42 (sh) S 1 40 40 34816 40 0"),
            Some((b'S', 40))
        );
        // A name made to look like the fields that follow it.
        assert_eq!(
            parse_stat(b"43 (x) T 1 1 1 (y) R 7 99 99 0 0"),
            Some((b'R', 99))
        );
        assert_eq!(parse_stat(b"44 (a b) T 2 77 77"), Some((b'T', 77)));
        assert_eq!(parse_stat(b"45 (sh) S 1"), None);
        assert_eq!(parse_stat(b"garbage"), None);
        assert_eq!(parse_stat(b""), None);
    }

    #[test]
    fn stat_of_this_process_gives_its_state_and_group() {
        let proc_fd = rustix::fs::open(
            "/proc",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        let me = rustix::process::getpid().as_raw_nonzero().get();
        let (state, group) = stat_of(&proc_fd, me).unwrap();
        assert_eq!(group, getpgrp().as_raw_nonzero().get());
        assert!(matches!(state, b'R' | b'S'), "{}", state as char);
    }
}
