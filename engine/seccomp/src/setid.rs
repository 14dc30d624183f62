//! Rules that stop a program from creating set-user-ID and set-group-ID files.
//!
//! A program whose ids are host root's (a root caller's sandbox with the default `0 0 1`
//! map) creates host-root-owned files in a read-write bind; a setuid-root copy of a shell
//! left there is a root shell for every host user. The engine adds these rules (with the
//! capability drop of `CAP_SETFCAP`, which stops `security.capability` xattrs) to such
//! sandboxes unless the caller opts out.
//!
//! Denied with `EPERM` when `mode & (S_ISUID | S_ISGID) != 0`:
//! - `chmod`, `fchmod`, `fchmodat`, `fchmodat2`: the mode argument;
//! - `mknod`, `mknodat`: the mode argument (a regular file can be made with `mknod`);
//! - `creat`: the mode argument;
//! - `open`, `openat`: the mode argument when the flags hold `O_CREAT` or `__O_TMPFILE`
//!   (the kernel ignores the mode otherwise, and callers may leave junk there).
//!
//! Denied with `ENOSYS` (callers fall back to the calls above, as on kernels without them):
//! - `openat2`: the mode is inside `struct open_how`, which seccomp cannot read;
//! - `io_uring_setup`: `IORING_OP_OPENAT`/`OPENAT2` carry the mode in the submission ring.
//!
//! What these rules cannot see is listed in the engine's security documentation: the
//! `S_ISGID` a new directory inherits from a set-group-ID parent (`mkdir` never takes
//! set-id bits from its mode), set-id files that already exist (a hard link or an overlayfs
//! copy-up keeps their bits). i386 and x32 calls never reach these rules unchecked: the
//! engine's profiles deny them or return ENOSYS (see the crate docs).

use crate::policy::{Action, ArgLen, CmpOp, Condition, Policy, ENOSYS};
use crate::Error;

const EPERM: u32 = 1;
/// `S_ISUID`.
pub const S_ISUID: u32 = 0o4000;
/// `S_ISGID`.
pub const S_ISGID: u32 = 0o2000;
const O_CREAT: u32 = 0o100;
const O_TMPFILE_BIT: u32 = 0o20000000;

/// `(system call, index of the mode argument, index of the flags argument)`.
const MODE_CALLS: [(&str, u8, Option<u8>); 9] = [
    ("chmod", 1, None),
    ("fchmod", 1, None),
    ("fchmodat", 2, None),
    ("fchmodat2", 2, None),
    ("mknod", 1, None),
    ("mknodat", 2, None),
    ("creat", 1, None),
    ("open", 2, Some(1)),
    ("openat", 3, Some(2)),
];

/// System calls denied outright (their mode cannot be checked).
pub const UNCHECKABLE: [&str; 2] = ["openat2", "io_uring_setup"];

fn bit(arg: u8, b: u32) -> Condition {
    Condition {
        arg,
        op: CmpOp::MaskedEq(b.into()),
        value: b.into(),
        len: ArgLen::Dword,
    }
}

/// Add the set-id rules to `policy`, in front of its own rules for the same calls.
/// Calls the native architecture does not have are skipped.
pub fn deny_setid_modes(policy: &mut Policy) -> Result<(), Error> {
    let native = crate::Arch::native();
    for (name, mode, flags) in MODE_CALLS {
        if native.syscall_nr(name).is_none() {
            continue;
        }
        for id_bit in [S_ISUID, S_ISGID] {
            match flags {
                None => {
                    policy.rule_first(name, vec![bit(mode, id_bit)], Action::Errno(EPERM))?;
                }
                Some(f) => {
                    for create in [O_CREAT, O_TMPFILE_BIT] {
                        policy.rule_first(
                            name,
                            vec![bit(f, create), bit(mode, id_bit)],
                            Action::Errno(EPERM),
                        )?;
                    }
                }
            }
        }
    }
    for name in UNCHECKABLE {
        if native.syscall_nr(name).is_some() {
            policy.rule_first(name, vec![], Action::Errno(ENOSYS))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::{run, SeccompData};

    fn decide(p: &Policy, name: &str, args: [u64; 6]) -> Action {
        let prog = p.compile().unwrap().instructions;
        let nr = crate::Arch::native().syscall_nr(name).unwrap();
        let d = SeccompData::new(0xc000_003e, nr, args);
        Action::from_ret_value(run(&prog, &d).unwrap()).unwrap()
    }

    #[test]
    fn set_id_modes_are_denied_and_plain_modes_are_not() {
        let mut p = Policy::new(Action::Allow);
        deny_setid_modes(&mut p).unwrap();
        let eperm = Action::Errno(EPERM);
        assert_eq!(decide(&p, "chmod", [0, 0o4755, 0, 0, 0, 0]), eperm);
        assert_eq!(decide(&p, "fchmod", [0, 0o2755, 0, 0, 0, 0]), eperm);
        assert_eq!(decide(&p, "fchmodat", [0, 0, 0o6755, 0, 0, 0]), eperm);
        assert_eq!(decide(&p, "fchmodat2", [0, 0, 0o4000, 0, 0, 0]), eperm);
        assert_eq!(decide(&p, "mknodat", [0, 0, 0o104755, 0, 0, 0]), eperm);
        assert_eq!(decide(&p, "creat", [0, 0o4755, 0, 0, 0, 0]), eperm);
        assert_eq!(decide(&p, "chmod", [0, 0o755, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(
            decide(&p, "chmod", [0, 0x1_0000_01ed, 0, 0, 0, 0]),
            Action::Allow
        );
        // open/openat: only with O_CREAT or O_TMPFILE does the mode count.
        assert_eq!(decide(&p, "openat", [0, 0, 0o101, 0o4755, 0, 0]), eperm);
        assert_eq!(
            decide(&p, "openat", [0, 0, 0o20200002, 0o2755, 0, 0]),
            eperm
        );
        assert_eq!(decide(&p, "open", [0, 0o101, 0o4755, 0, 0, 0]), eperm);
        assert_eq!(
            decide(&p, "openat", [0, 0, 0o2, 0o4755, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(&p, "openat", [0, 0, 0o101, 0o644, 0, 0]),
            Action::Allow
        );
        assert_eq!(decide(&p, "openat2", [0; 6]), Action::Errno(ENOSYS));
        assert_eq!(decide(&p, "io_uring_setup", [0; 6]), Action::Errno(ENOSYS));
    }
}
