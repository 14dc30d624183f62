//! The sandbox's own terminal: a pseudo-terminal pair opened on the host, and the modes of
//! the caller's terminal while the program has it.
//!
//! With the caller's terminal on stdin, stdout or stderr, the program gets the slave of a new
//! pseudo-terminal on those streams instead (as `sudo`'s `use_pty`, `systemd-run --pty` or
//! `docker run -t` do): a sandbox process can then change the foreground, the modes or the
//! line discipline of that terminal only, never read what the user types to the shell.
//! [`crate::relay`] copies the bytes between the two. The slave starts with the caller's
//! window size, and its modes when `hakoniwa` starts in the foreground (so its output
//! processing, e.g. `\n` to `\r\n`, is the caller's terminal's; when only output is
//! relayed the caller's terminal processes it again, which leaves `\r\n` a line end).
//!
//! When stdin is the terminal, the caller's terminal is put in raw mode while the program is
//! in the foreground (so
//! Ctrl-C, Ctrl-Z and Ctrl-D reach the pseudo-terminal's line discipline as bytes); the
//! modes it had then are put back on every way out: normal end, signal, error (the relay's
//! drop) and panic (a hook installed here). Not when stdout is elsewhere (a pipeline, maybe
//! to a pager that sets its own modes on the same terminal): then the terminal keeps its
//! modes and the slave does not echo (see `relay.rs`).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rustix::fs::{fstat, FileType};
use rustix::pty::{ioctl_tiocgptpeer, openpt, unlockpt, OpenptFlags};
use rustix::termios::{
    tcgetattr, tcgetpgrp, tcgetwinsize, tcsetattr, tcsetwinsize, OptionalActions, Termios,
};

/// A new pseudo-terminal: the master stays here, the slave goes to the program.
pub struct Pair {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Open a pseudo-terminal whose slave has the window size of `user`, and its modes if
/// `copy_modes` (otherwise the kernel's defaults for a new terminal: in the background the
/// caller's terminal may be in the modes of the shell's line editor).
pub fn open(user: BorrowedFd<'_>, copy_modes: bool) -> std::io::Result<Pair> {
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = openpt(flags)?;
    unlockpt(&master)?;
    // By the master, not by a path: nothing can swap the slave node in between.
    let slave = ioctl_tiocgptpeer(&master, flags)?;
    if let (true, Ok(t)) = (copy_modes, tcgetattr(user)) {
        let _ = tcsetattr(&slave, OptionalActions::Now, &t);
    }
    copy_size(user, master.as_fd());
    Ok(Pair { master, slave })
}

/// No echo on the pseudo-terminal whose slave is `slave` (the caller's terminal echoes).
pub fn echo_off(slave: BorrowedFd<'_>) {
    use rustix::termios::LocalModes;
    if let Ok(mut t) = tcgetattr(slave) {
        t.local_modes -= LocalModes::ECHO | LocalModes::ECHONL;
        let _ = tcsetattr(slave, OptionalActions::Now, &t);
    }
}

/// Give the pseudo-terminal `master` the window size of `user` (the kernel then sends
/// SIGWINCH to the slave's foreground group if it changed).
pub fn copy_size(user: BorrowedFd<'_>, master: BorrowedFd<'_>) {
    if let Ok(w) = tcgetwinsize(user) {
        let _ = tcsetwinsize(master, w);
    }
}

/// `ioctl(master, TIOCSIG, sig)`: the kernel sends `sig` (SIGINT, SIGQUIT or SIGTSTP) to the
/// foreground process group of the pseudo-terminal's slave, whatever its modes.
pub fn signal_foreground(master: BorrowedFd<'_>, sig: i32) -> std::io::Result<()> {
    use syscalls::{syscall, Sysno};
    const TIOCSIG: usize = 0x4004_5436;
    // SAFETY: no pointers: the argument is the signal number itself.
    unsafe {
        syscall!(
            Sysno::ioctl,
            std::os::fd::AsRawFd::as_raw_fd(&master),
            TIOCSIG,
            sig
        )
    }
    .map(drop)
    .map_err(|e| std::io::Error::from_raw_os_error(e.into_raw()))
}

/// The terminal device (`st_rdev`) open on descriptor `fd`, if it is a terminal.
pub fn terminal_device(fd: BorrowedFd<'_>) -> Option<u64> {
    if !rustix::termios::isatty(fd) {
        return None;
    }
    let st = fstat(fd).ok()?;
    (FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice).then_some(st.st_rdev)
}

/// The caller's terminal.
pub struct UserTerminal {
    fd: OwnedFd,
    /// `hakoniwa`'s own stderr is this terminal.
    stderr_too: bool,
    /// Echo was off when `hakoniwa` started (`stty -echo; x=$(hakoniwa run -- ...)`): then
    /// echo off says nothing about who has the keyboard (see [`Self::is_cooked`]).
    echo_off_at_start: bool,
}

/// Set while the caller's terminal, which is also `hakoniwa`'s stderr, is raw: the log then
/// ends its lines with `\r\n` (raw mode has no output processing).
static STDERR_RAW: AtomicBool = AtomicBool::new(false);

/// The line end for `hakoniwa`'s own messages on stderr now.
pub fn stderr_line_end() -> &'static str {
    if STDERR_RAW.load(Ordering::Relaxed) {
        "\r\n"
    } else {
        "\n"
    }
}

/// What the panic hook restores: the terminal's descriptor and modes, while raw.
static RESTORE_ON_PANIC: Mutex<Option<(RawFd, Termios)>> = Mutex::new(None);

impl UserTerminal {
    /// `fd`'s terminal (`stderr_too`: also `hakoniwa`'s stderr); installs the panic hook
    /// that puts its modes back.
    pub fn new(fd: OwnedFd, stderr_too: bool) -> UserTerminal {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if let Some((fd, t)) = RESTORE_ON_PANIC
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                {
                    // SAFETY: the descriptor stays open while it is registered (it is
                    // unregistered when the modes are restored, before the UserTerminal
                    // can be dropped).
                    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                    let _ = tcsetattr(fd, OptionalActions::Now, &t);
                }
                previous(info);
            }));
        });
        let echo_off_at_start = tcgetattr(&fd)
            .is_ok_and(|t| !t.local_modes.contains(rustix::termios::LocalModes::ECHO));
        UserTerminal {
            fd,
            stderr_too,
            echo_off_at_start,
        }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Whether the terminal was hung up (its window or connection closed): the kernel then
    /// fails every terminal request on it with `EIO`.
    pub fn hung_up(&self) -> bool {
        matches!(tcgetattr(&self.fd), Err(rustix::io::Errno::IO))
    }

    /// Whether this process's group is the terminal's foreground group (true when the
    /// terminal is not our controlling terminal: then nobody stops us for using it).
    pub fn is_foreground(&self) -> bool {
        match tcgetpgrp(&self.fd) {
            Ok(p) => p == rustix::process::getpgrp(),
            Err(_) => true,
        }
    }

    /// Whether the terminal is in the modes shells leave it in for the jobs they run:
    /// canonical (line) mode with echo. A pager or an editor turns canonical mode off, a
    /// password prompt (sudo's, ssh's) turns echo off: the keys are theirs then. Echo that
    /// was already off when `hakoniwa` started is the user's choice, not such a prompt.
    pub fn is_cooked(&self) -> bool {
        use rustix::termios::LocalModes;
        tcgetattr(&self.fd).is_ok_and(|t| {
            t.local_modes.contains(LocalModes::ICANON)
                && (self.echo_off_at_start || t.local_modes.contains(LocalModes::ECHO))
        })
    }

    /// A description of its own of this terminal, for reading without blocking: when
    /// another reader (a pager) takes what was typed first, a read returns `EAGAIN`
    /// instead of waiting for the next line (the caller's own description is shared with
    /// the shell and stays blocking).
    pub fn reopen_nonblocking(&self) -> Option<OwnedFd> {
        use std::os::fd::AsRawFd;
        rustix::fs::open(
            format!("/proc/self/fd/{}", self.fd.as_raw_fd()),
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::NONBLOCK
                | rustix::fs::OFlags::NOCTTY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok()
    }

    /// The characters set (not disabled) among `which`, e.g. the line ends besides `\n`
    /// (VEOL, VEOL2).
    pub fn special_chars(&self, which: &[rustix::termios::SpecialCodeIndex]) -> Vec<u8> {
        tcgetattr(&self.fd).map_or(Vec::new(), |t| {
            which
                .iter()
                .map(|&i| t.special_codes[i])
                .filter(|&c| c != 0)
                .collect()
        })
    }

    /// Raw mode: every byte typed goes to the pseudo-terminal as is. Returns the modes it
    /// replaced (those the shell set for its foreground job), to give to [`Self::restore`].
    pub fn make_raw(&self) -> Option<Termios> {
        let saved = tcgetattr(&self.fd).ok()?;
        let mut t = saved.clone();
        t.make_raw();
        *RESTORE_ON_PANIC.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::os::fd::AsRawFd::as_raw_fd(&self.fd), saved.clone()));
        tcsetattr(&self.fd, OptionalActions::Now, &t).ok()?;
        STDERR_RAW.store(self.stderr_too, Ordering::Relaxed);
        Some(saved)
    }

    /// Put `saved` back, if we are in the foreground: from the background, the terminal is
    /// the shell's, which has set its own modes (and a change would stop us with SIGTTOU).
    pub fn restore(&self, saved: &Termios) {
        if self.is_foreground() {
            let _ = tcsetattr(&self.fd, OptionalActions::Now, saved);
        }
        STDERR_RAW.store(false, Ordering::Relaxed);
        *RESTORE_ON_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pair_s_slave_is_a_terminal_and_bytes_cross_it() {
        let p = open(rustix::stdio::stdin(), false).expect("open a pseudo-terminal");
        assert!(terminal_device(p.slave.as_fd()).is_some());
        // The slave's line discipline echoes what the master writes and passes it on.
        rustix::io::write(&p.master, b"hi\n").unwrap();
        let mut buf = [0u8; 16];
        let n = rustix::io::read(&p.slave, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hi\n");
    }

    #[test]
    fn a_pipe_is_not_a_terminal_device() {
        let (r, _w) = rustix::pipe::pipe().unwrap();
        assert_eq!(terminal_device(r.as_fd()), None);
    }
}
