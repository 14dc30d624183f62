//! What the runtime, the sandbox's init and the engine tell each other.
//!
//! Pure `core` code, included by the init executable (`engine/init`) with `#[path]`, so all
//! three sides encode and decode with the same functions.
//!
//! # The init's inputs
//! The runtime starts the init with `execveat(memfd, "", argv, envp, AT_EMPTY_PATH)` where
//! - `argv` is `[INIT_NAME, program argv...]`: the program's argv starts at `argv[1]`;
//! - `envp` is `[control, program, search path, program env...]`: the program's environment
//!   starts at `envp[3]`. `control` is [`Control`] as fixed-width hex text ([`CONTROL_LEN`]
//!   characters, no NUL inside, as `execve` requires of strings).
//!
//! # The init's reports
//! The init writes fixed-size [`Event`] records ([`EVENT_SIZE`] bytes, below `PIPE_BUF`, so
//! each write is atomic) to the events pipe: the program stopped or continued, it ended
//! (with its wait status and `struct rusage`), or the wall-clock limit expired. Failures to
//! start the program are [`crate::ErrorRecord`]s on the setup error pipe, as for every
//! other setup step.

use crate::wire;

/// `argv[0]` of the init (what `ps` shows for PID 1).
pub const INIT_NAME: &core::ffi::CStr = c"hakoniwa-init";

/// Number of `envp` entries before the program's environment.
pub const ENV_PREFIX: usize = 3;

/// Give the terminal (see [`terminal_fd`]) to the program's process group (the caller was
/// its foreground, or it is the sandbox's own controlling terminal).
pub const FLAG_FOREGROUND: u32 = 1;
/// The terminal is the sandbox's controlling terminal: keep it to hand the foreground back
/// on resume.
pub const FLAG_JOB_CONTROL: u32 = 2;
/// The seccomp filter allows the init to start the program with a `CLONE_VM | CLONE_VFORK`
/// clone; without this flag it forks (a profile may kill a process for such a clone).
pub const FLAG_SHARED_CLONE: u32 = 4;
/// The flags of that clone (`flags` of x86_64 `clone`): `CLONE_VM | CLONE_VFORK |
/// CLONE_CHILD_SETTID | SIGCHLD`.
pub const SHARED_CLONE_FLAGS: u64 = 0x100 | 0x4000 | 0x0100_0000 | 17;

/// Where the flags carry the program's descriptor (0, 1 or 2) that holds the terminal.
const TERMINAL_FD_SHIFT: u32 = 8;

/// The flag bits that name descriptor `fd` as the terminal's.
pub const fn terminal_fd_flags(fd: i32) -> u32 {
    ((fd as u32) & 0xff) << TERMINAL_FD_SHIFT
}

/// The program's descriptor that holds the terminal, from the flags.
pub const fn terminal_fd(flags: u32) -> i32 {
    ((flags >> TERMINAL_FD_SHIFT) & 0xff) as i32
}

/// The engine's requests to the init: one byte each, written to the request pipe
/// ([`Control::request_fd`]), which the init watches with its signals. A byte from 1 to 64
/// asks the init to forward that signal as if it had received it (SIGSTOP stops the
/// program: PID 1 cannot receive it to forward, and sent from an ancestor it would stop the
/// init itself); [`REQUEST_FOREGROUND`] with a signal number added asks for the terminal's
/// foreground and that signal to the program's whole group. Through the pipe, the caller's
/// signals arrive in the order they were sent, and none is mistaken for a request: a
/// process inside cannot forge one, having no end of the pipe, and no signal number is taken for the engine's use (neither the sender's pid nor a
/// value queued with a signal would do: a signal the kernel cannot queue, as when the
/// program lowers the init's `RLIMIT_SIGPENDING`, arrives without them).
///
/// Request `REQUEST_FOREGROUND + sig` (`sig` 1 to 64): give the terminal's foreground back
/// to the program's process group (under job control), then send `sig` to the whole group,
/// as the terminal itself signals its foreground group.
pub const REQUEST_FOREGROUND: u8 = 0x80;

/// Request: give the terminal back to the program's process group, then continue it.
pub const REQUEST_CONT_FOREGROUND: u8 = REQUEST_FOREGROUND + 18;

const MAGIC: &[u8; 4] = b"HKI4";

/// Length of the control string (without its NUL).
pub const CONTROL_LEN: usize = 4 + 8 + 8 + 8 + 8 + 16 + 16 + 8 + 8 + 8 + 8;

/// The init's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// Write end of the setup error pipe (the program's `execve` failure goes there).
    pub err_fd: i32,
    /// Write end of the events pipe.
    pub events_fd: i32,
    /// A read end of the events pipe: when the pipe is full (a program can make many stops
    /// and continues while the engine does not read), the init drops the oldest reports
    /// to make room, so the newest state, and the report of the end above all, always
    /// arrives and PID 1 never blocks.
    pub events_read_fd: i32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// `RLIMIT_NPROC` for the program, set after the init forked it (`u64::MAX`: none).
    pub nproc: u64,
    /// Wall-clock deadline, `CLOCK_MONOTONIC` nanoseconds (0: none).
    pub deadline_ns: u64,
    /// A pidfd of the host process, or -1. With one, the init has no parent-death signal
    /// (the sandbox was cloned by a thread that may end before the host process does, and
    /// must then keep running); its watch ([`Control::watch_fd`]) reports the end of the
    /// host process, and the init ends the sandbox then.
    pub host_pidfd: i32,
    /// A signalfd of every signal (kept open: the epoll instance watches the file through
    /// it), or -1 without a watch.
    pub signal_fd: i32,
    /// An epoll instance watching `signal_fd` (event data 0), `request_fd` (data 1) and
    /// `host_pidfd` (data 2, if any) for input, or -1 when there are neither requests nor a
    /// host pidfd. Made by the runtime before the program's limits: `epoll_wait`, unlike
    /// `poll`, does not depend on `RLIMIT_NOFILE`, which the program may lower for the init
    /// (same ids).
    pub watch_fd: i32,
    /// Read end of the request pipe (non-blocking), or -1: see
    /// [`REQUEST_CONT_FOREGROUND`].
    pub request_fd: i32,
}

fn put_hex(out: &mut [u8], v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let n = out.len();
    for (i, b) in out.iter_mut().enumerate() {
        let shift = 4 * (n - 1 - i);
        *b = DIGITS
            .get(((v >> shift) & 0xf) as usize)
            .copied()
            .unwrap_or(b'0');
    }
}

fn get_hex(s: &[u8]) -> Option<u64> {
    s.iter().try_fold(0u64, |acc, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        Some((acc << 4) | u64::from(d))
    })
}

impl Control {
    /// Encode as text (followed by a NUL).
    pub fn encode(&self) -> [u8; CONTROL_LEN + 1] {
        let mut out = [0u8; CONTROL_LEN + 1];
        let fields: [(usize, u64); 10] = [
            (8, self.err_fd as u32 as u64),
            (8, self.events_fd as u32 as u64),
            (8, self.events_read_fd as u32 as u64),
            (8, u64::from(self.flags)),
            (16, self.nproc),
            (16, self.deadline_ns),
            (8, self.host_pidfd as u32 as u64),
            (8, self.signal_fd as u32 as u64),
            (8, self.watch_fd as u32 as u64),
            (8, self.request_fd as u32 as u64),
        ];
        if let Some(m) = out.get_mut(..4) {
            m.copy_from_slice(MAGIC);
        }
        let mut at = 4;
        for (width, v) in fields {
            if let Some(slot) = out.get_mut(at..at + width) {
                put_hex(slot, v);
            }
            at += width;
        }
        out
    }

    /// Decode the text made by [`Control::encode`] (without the NUL).
    pub fn decode(s: &[u8]) -> Option<Control> {
        if s.len() != CONTROL_LEN || s.get(..4)? != MAGIC {
            return None;
        }
        let f = |at: usize, width: usize| get_hex(s.get(at..at + width)?);
        Some(Control {
            err_fd: f(4, 8)? as u32 as i32,
            events_fd: f(12, 8)? as u32 as i32,
            events_read_fd: f(20, 8)? as u32 as i32,
            flags: f(28, 8)? as u32,
            nproc: f(36, 16)?,
            deadline_ns: f(52, 16)?,
            host_pidfd: f(68, 8)? as u32 as i32,
            signal_fd: f(76, 8)? as u32 as i32,
            watch_fd: f(84, 8)? as u32 as i32,
            request_fd: f(92, 8)? as u32 as i32,
        })
    }
}

/// Size of one event record: a 16-byte header and a `struct rusage` (18 longs).
pub const EVENT_SIZE: usize = 16 + 18 * 8;

const EVENT_MAGIC: u32 = 0x484b_4556; // "HKEV"

/// What happened to the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// It stopped on this signal.
    Stopped(i32),
    /// It was continued.
    Continued,
    /// It ended: raw wait status and its `struct rusage` (its own and its waited-for
    /// descendants', as `wait4` reports them).
    Ended {
        /// Raw wait status (`WIFEXITED` etc. decode it).
        status: i32,
        /// `struct rusage` as 18 longs.
        rusage: [i64; 18],
    },
    /// The wall-clock deadline passed; the init ends the sandbox.
    WallTime,
}

impl Event {
    /// Encode as one record.
    pub fn encode(&self) -> [u8; EVENT_SIZE] {
        let (kind, value, rusage) = match *self {
            Event::Stopped(sig) => (1u32, sig, [0i64; 18]),
            Event::Continued => (2, 0, [0; 18]),
            Event::Ended { status, rusage } => (3, status, rusage),
            Event::WallTime => (4, 0, [0; 18]),
        };
        let mut out = [0u8; EVENT_SIZE];
        wire::put(&mut out, &[EVENT_MAGIC, kind, value as u32, 0]);
        wire::put(out.get_mut(16..).unwrap_or(&mut []), &rusage);
        out
    }

    /// Decode one record; `None` for anything else.
    pub fn decode(b: &[u8; EVENT_SIZE]) -> Option<Event> {
        let [magic, kind, value, _]: [u32; 4] = wire::get(b);
        if magic != EVENT_MAGIC {
            return None;
        }
        let rusage: [i64; 18] = wire::get(b.get(16..)?);
        let value = value as i32;
        match kind {
            1 => Some(Event::Stopped(value)),
            2 => Some(Event::Continued),
            3 => Some(Event::Ended {
                status: value,
                rusage,
            }),
            4 => Some(Event::WallTime),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_round_trips_through_its_text_form() {
        let c = Control {
            err_fd: 7,
            events_fd: 1023,
            events_read_fd: 1022,
            flags: FLAG_FOREGROUND | FLAG_JOB_CONTROL | terminal_fd_flags(2),
            nproc: u64::MAX,
            deadline_ns: 123_456_789_000,
            host_pidfd: 1021,
            signal_fd: 1020,
            watch_fd: 1019,
            request_fd: 1018,
        };
        let text = c.encode();
        assert_eq!(text[CONTROL_LEN], 0);
        assert!(!text[..CONTROL_LEN].contains(&0));
        assert_eq!(Control::decode(&text[..CONTROL_LEN]), Some(c));
        let none = Control {
            host_pidfd: -1,
            signal_fd: -1,
            watch_fd: -1,
            request_fd: -1,
            ..c
        };
        assert_eq!(Control::decode(&none.encode()[..CONTROL_LEN]), Some(none));
        assert_eq!(Control::decode(b"HKI1zz"), None);
        assert_eq!(terminal_fd(c.flags), 2);
        assert_eq!(terminal_fd(FLAG_FOREGROUND), 0);
    }

    #[test]
    fn events_round_trip_and_foreign_bytes_are_refused() {
        let mut rusage = [0i64; 18];
        rusage[4] = 4242;
        for e in [
            Event::Stopped(20),
            Event::Continued,
            Event::Ended {
                status: 0x8b,
                rusage,
            },
            Event::WallTime,
        ] {
            assert_eq!(Event::decode(&e.encode()), Some(e));
        }
        assert_eq!(Event::decode(&[0u8; EVENT_SIZE]), None);
    }
}
