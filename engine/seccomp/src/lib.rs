//! Seccomp policies for hakoniwa.
//!
//! A [`Policy`] is a default [`Action`], per-syscall rule lists (each rule: AND-ed argument
//! [`Condition`]s and an action; the rules of one system call are tried in order and the
//! first match decides, so several rules of one system call are OR-ed) and the allowed
//! architectures. Conditions are validated with seccompiler's types, and
//! [`Policy::compile_linear_seccompiler`] builds a reference program with seccompiler (see
//! [`linear`] for how several actions are chained).
//!
//! # Why a binary search
//!
//! When a filter is installed the kernel checks and converts it, JIT-compiles it (linear in
//! its length) and emulates it once for every system call number of every architecture to
//! build its allow-cache (numbers whose result is ALLOW whatever the arguments skip the
//! filter later): install time grows with the program's length and its average path.
//! seccompiler's layout is a linear chain (5 instructions per unconditional system call),
//! so the average path of a 370-syscall allowlist is hundreds of instructions.
//! [`Policy::compile`] ([`codegen`]) splits the number line into intervals with one target
//! each (the listed numbers form few runs of consecutive numbers with the same action) and
//! emits a binary search over their boundaries, with `ret`s shared per stretch of code and
//! argument checks placed inline at their interval. For the default profile on x86_64
//! (356 system calls) that is 109 instructions, 175 with the set-id rules (the earlier
//! search over every listed number with leaves of four `jeq` took 861 and 1060); the mean
//! path over the table is 10 instructions (longest 21, ioctl's terminal checks, including
//! the arch check) against 458 for seccompiler's layout. Installing it measured ~50 µs
//! against ~160 µs for the earlier search and ~600 µs for seccompiler's program. 64-bit
//! comparisons are done on the high and low 32-bit words of `seccomp_data.args[i]`, high
//! word first. Branches farther than 255 instructions get a `ja` trampoline (the default
//! profile has none); programs over 4096 instructions are refused with [`Error::TooLarge`].
//!
//! # Architectures
//!
//! The program first loads `seccomp_data.arch`:
//! - the native architecture (x86_64) proceeds to the search;
//! - an extra architecture allowed with [`Policy::allow_arch`] that this crate has no
//!   system call table for (i386) gets [`Policy::foreign_action`] for every system call:
//!   the default action when it denies, `ERRNO(ENOSYS)` when the default would allow
//!   (`Allow`, `Log`) — the rules cannot be applied without a table, and an allowing
//!   default would let i386 calls bypass a deny-list, so it fails closed;
//! - any other architecture gets the bad-arch action (default `KillProcess`).
//!
//! x32 system calls arrive with the x86_64 audit value and numbers `>= 0x40000000`. Unless
//! x32 is allowed they return `ERRNO(ENOSYS)` — not the default action (which may be
//! ALLOW in a deny-list, the classic x32 bypass) and not KILL (a binary probing for x32
//! support should see "no such system call"). If x32 is allowed, its calls get
//! [`Policy::foreign_action`], like i386.
//!
//! # Profiles
//!
//! [`podman_default`] is the containers/common default profile written as Rust data, plus
//! the terminal ioctls of [`terminal`] (`TIOCSTI`, `TIOCLINUX`, `TIOCSETD`, ...) denied with
//! EPERM. [`from_oci_json`] loads OCI /
//! Docker / Podman JSON profiles. [`audit`] logs everything. "Unconfined" is the engine not
//! installing a program.
//!
//! # References
//!
//! - [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html): filters, return values, `seccomp_data`
//! - The classic BPF instruction set: `filter.txt` in the kernel's networking documentation,
//!   <https://www.kernel.org/doc/html/latest/networking/filter.html>

#![deny(missing_docs)]

pub mod arch;
mod argblock;
pub mod bpf;
pub mod caps;
pub mod codegen;
mod compile;
pub mod interp;
pub mod linear;
mod oci;
mod policy;
mod profile;
mod profile_default;
pub mod setid;
mod table_x86_64;
pub mod terminal;

use std::fmt;

pub use arch::Arch;
pub use compile::Program;
pub use hakoniwa_runtime::SockFilter;
pub use oci::from_oci_json;
pub use policy::{ret, Action, ArgLen, CmpOp, Condition, Policy, Rule, SyscallRules, ENOSYS};
pub use profile_default::podman_default;

/// A policy that allows and logs every system call (`SECCOMP_RET_LOG`).
pub fn audit() -> Policy {
    let mut p = Policy::new(Action::Log);
    p.set_name("audit");
    p
}

/// Something the caller should know about a loaded profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning(pub String);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Errors building or compiling a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A system call name the native architecture does not have.
    UnknownSyscall(String),
    /// A rule seccompiler's validation (or ours) refused.
    InvalidRule {
        /// System call name.
        syscall: String,
        /// Why.
        message: String,
    },
    /// A profile document is invalid.
    InvalidProfile {
        /// Path of the offending field, e.g. `syscalls[3].action`.
        field: String,
        /// Why.
        message: String,
    },
    /// The program would have this many instructions (more than 4096).
    TooLarge(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownSyscall(name) => write!(f, "unknown system call `{name}`"),
            Error::InvalidRule { syscall, message } => {
                write!(f, "invalid rule for `{syscall}`: {message}")
            }
            Error::InvalidProfile { field, message } => {
                write!(f, "invalid seccomp profile: `{field}`: {message}")
            }
            Error::TooLarge(n) => {
                write!(
                    f,
                    "seccomp program too large: {n} instructions (at most 4096)"
                )
            }
        }
    }
}

impl std::error::Error for Error {}
