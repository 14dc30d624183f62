//! Terminal ioctls denied on top of every profile.
//!
//! The program keeps the caller's terminal when one is passed as stdin, stdout or stderr
//! (job control and interactive programs need it). A terminal is shared with everything
//! else attached to it: the calling shell, the user's other programs, and whoever uses it
//! after the sandbox has ended. The requests below change the terminal for all of them, or
//! for the whole machine, and no sandboxed program needs them; each returns `EPERM`.
//!
//! | Request | Value | Why it is denied |
//! |---|---|---|
//! | `TIOCSTI` | `0x5412` | injects input that the calling shell then runs |
//! | `TIOCLINUX` | `0x541C` | console selection paste (input injection), console state |
//! | `TIOCSETD` | `0x5423` | changes the line discipline: `N_NULL` leaves the user's terminal dead after the run; other disciplines load kernel modules with a long CVE history (`n_hdlc`, `n_gsm`) |
//! | `TIOCCONS` | `0x541D` | redirects the kernel console's output to this terminal |
//! | `TIOCVHANGUP` | `0x5437` | hangs the terminal up for every process that has it open |
//! | `TIOCEXCL` | `0x540C` | exclusive mode outlives the run: every later `open` of the terminal (`sudo`, `ssh`, `tty`-reading programs) fails with `EBUSY` |
//! | `TIOCSLCKTRMIOS` | `0x5457` | locks the terminal's settings against everyone's changes |
//! | `KD*`, `PIO_*`, `GIO_*` | `0x4B00..=0x4BFF` | Linux console (VT) state: graphics mode (`KDSETMODE`) blanks the console, raw keyboard mode (`KDSKBMODE`) makes it unusable, keymaps (`KDSKBENT`) and fonts are global to all VTs |
//! | `VT_*` | `0x5600..=0x56FF` | switching, locking, resizing and deallocating virtual terminals |
//!
//! Reviewed and allowed, with the reason:
//! - `TCSETS*`/`TCSETA*` (termios), `TIOCSWINSZ`, `TCXONC`, `TCFLSH`, `TCSBRK*`: every
//!   interactive program (editors, pagers, REPLs) needs them; a terminal left in a strange
//!   mode is repaired by `reset`/`stty sane` and nothing outlives that.
//! - `TIOCSPGRP`, `TIOCNOTTY`: job control within the caller's own session (shells inside
//!   the sandbox need them); they cannot reach another session.
//! - `TIOCSCTTY`: taking a terminal that is another session's controlling terminal ("steal",
//!   argument 1) needs `CAP_SYS_ADMIN` in the initial user namespace, which a sandboxed
//!   program never holds in its own user namespace; otherwise it only acquires a terminal
//!   without a session, which terminal emulators inside the sandbox (`script`, `tmux` on the
//!   sandbox's own devpts) need.
//! - `TIOCNXCL`: only undoes `TIOCEXCL`.
//! - Serial-port requests (`TIOCSSERIAL`, `TIOCMSET`, `TIOCMBIS`, `TIOCMBIC`): they act only
//!   on serial lines, which the engine never passes on its own; a caller who binds a serial
//!   device into the sandbox hands the program the line on purpose.
//!
//! The request argument is an `int`: only its low 32 bits are compared (a program may leave
//! junk in the high word, which the kernel ignores). The `KD*` and `VT_*` ranges are matched
//! with a mask on the low 32 bits, so ioctls of other drivers that share the type byte but
//! carry size and direction bits (V4L2's `VIDIOC_*` use `'V'` too) are not affected.

use crate::policy::{Action, ArgLen, CmpOp, Condition, Policy};
use crate::Error;

const EPERM: u32 = 1;

/// The denied single requests, `(name, value)`.
pub const DENIED_REQUESTS: [(&str, u32); 7] = [
    ("TIOCSTI", 0x5412),
    ("TIOCLINUX", 0x541c),
    ("TIOCSETD", 0x5423),
    ("TIOCCONS", 0x541d),
    ("TIOCVHANGUP", 0x5437),
    ("TIOCEXCL", 0x540c),
    ("TIOCSLCKTRMIOS", 0x5457),
];

/// The denied request ranges, `(name, first value)`: 256 values each (`_IO(type, nr)`
/// requests with no size and direction bits).
pub const DENIED_RANGES: [(&str, u32); 2] = [("KD*/PIO_*/GIO_*", 0x4b00), ("VT_*", 0x5600)];

/// Whether `request` (the low 32 bits of `ioctl`'s second argument) is denied.
pub fn is_denied(request: u64) -> bool {
    let r = (request & 0xffff_ffff) as u32;
    DENIED_REQUESTS.iter().any(|(_, v)| *v == r)
        || DENIED_RANGES.iter().any(|(_, v)| r & 0xffff_ff00 == *v)
}

fn conditions() -> impl Iterator<Item = Condition> {
    let single = DENIED_REQUESTS.iter().map(|(_, v)| Condition {
        arg: 1,
        op: CmpOp::MaskedEq(0xffff_ffff),
        value: (*v).into(),
        len: ArgLen::Dword,
    });
    let ranges = DENIED_RANGES.iter().map(|(_, v)| Condition {
        arg: 1,
        op: CmpOp::MaskedEq(0xffff_ff00),
        value: (*v).into(),
        len: ArgLen::Dword,
    });
    single.chain(ranges)
}

/// Add the denials to `policy`. With `first`, they are tried before the rules `policy`
/// already has for `ioctl` (for a loaded profile); otherwise they are appended (for a
/// profile being built, before its own `ioctl` rules).
pub fn deny_terminal_ioctls(policy: &mut Policy, first: bool) -> Result<(), Error> {
    if crate::Arch::native().syscall_nr("ioctl").is_none() {
        return Ok(());
    }
    // rule_first puts each rule in front: insert in reverse to keep the table's order.
    let conds: Vec<Condition> = conditions().collect();
    if first {
        for c in conds.into_iter().rev() {
            policy.rule_first("ioctl", vec![c], Action::Errno(EPERM))?;
        }
    } else {
        for c in conds {
            policy.rule("ioctl", vec![c], Action::Errno(EPERM))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_discipline_and_console_requests_are_denied_and_termios_is_not() {
        for r in [
            0x5423u64,
            0x5412,
            0x541c,
            0x4b3a,
            0x4b45,
            0x5606,
            0x1_0000_5423,
        ] {
            assert!(is_denied(r), "{r:#x}");
        }
        // TCGETS, TCSETS, TIOCSWINSZ, TIOCSPGRP, TIOCSCTTY, TIOCGETD, VIDIOC_QUERYCAP
        for r in [
            0x5401u64,
            0x5402,
            0x5414,
            0x5410,
            0x540e,
            0x5424,
            0x8068_5600,
        ] {
            assert!(!is_denied(r), "{r:#x}");
        }
    }
}
