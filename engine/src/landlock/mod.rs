//! Landlock, parent side: configuration, ABI negotiation, and the plan for the child.
//!
//! A [`Ruleset`] is plain data (what to restrict, which paths and ports stay allowed).
//! [`Ruleset::prepare`] negotiates it against a landlock ABI — normally [`kernel_abi()`],
//! or an older one to simulate an older kernel — and produces a [`Prepared`] ruleset that
//! owns everything the child needs. [`Prepared::plan`] lends it to the allocation-free
//! child runtime as a [`hakoniwa_runtime::LandlockPlan`]; [`Prepared::report`] tells what
//! is actually enforced.
//!
//! # References
//! - [landlock(7)](https://man7.org/linux/man-pages/man7/landlock.7.html),
//!   [landlock_create_ruleset(2)](https://man7.org/linux/man-pages/man2/landlock_create_ruleset.2.html),
//!   [landlock_add_rule(2)](https://man7.org/linux/man-pages/man2/landlock_add_rule.2.html),
//!   [landlock_restrict_self(2)](https://man7.org/linux/man-pages/man2/landlock_restrict_self.2.html)
//!
//! # ABI versions
//!
//! | ABI | adds |
//! |-----|------|
//! | 1 | filesystem rights bits 0..=12 (execute, read/write file, read dir, remove, make) |
//! | 2 | `REFER` (bit 13): link/rename into another directory |
//! | 3 | `TRUNCATE` (bit 14) |
//! | 4 | TCP `bind` and `connect` by port (network bits 0, 1) |
//! | 5 | `IOCTL_DEV` (bit 15): ioctl on devices |
//! | 6 | scopes: abstract UNIX sockets (bit 0) and signals (bit 1) |
//! | 7 | logging flags for `landlock_restrict_self` |
//!
//! # Mapping of `r`/`w`/`x`
//!
//! When [`Resource::Fs`] is restricted, the ruleset handles **every** filesystem right of
//! the negotiated ABI (`handled_fs` = all of them), so anything not granted by a rule is
//! denied. A rule's [`FsAccess`] maps onto the full rights of that ABI:
//!
//! - `R` = `READ_FILE | READ_DIR`
//! - `W` = `WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG |
//!   MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM`, plus `REFER` (ABI ≥ 2),
//!   `TRUNCATE` (ABI ≥ 3) and `IOCTL_DEV` (ABI ≥ 5)
//! - `X` = `EXECUTE`
//!
//! Executing a file needs `R` and `X` on it: `execve` opens it for reading, and landlock
//! checks `READ_FILE` on that open as well as `EXECUTE`.
//!
//! A rule applies to the path and everything beneath it. The child masks directory-only
//! rights (`READ_DIR`, `REMOVE_*`, `MAKE_*`, `REFER`) off rules whose path is not a
//! directory. Rule paths must be absolute; the child resolves them inside the sandbox
//! (after `pivot_root`) and a missing path fails the spawn. Landlock checks resolved
//! paths, so on a merged-`/usr` system a rule for `/usr` covers `/bin`, `/lib`, `/lib64`.
//!
//! # Compatibility: [`CompatMode`]
//!
//! - A rule for a resource that is not restricted is an error
//!   ([`LandlockError::RuleWithoutRestriction`]); it is never silently ignored.
//!   Restricting a resource without rules denies all of it.
//! - [`CompatMode::Enforce`] (default): if the ABI is too old for a restricted resource or
//!   scope, [`Ruleset::prepare`] fails with [`LandlockError::Unsupported`].
//! - [`CompatMode::BestEffort`]: such a resource is dropped (its handled bits and its rules)
//!   and listed in [`Enforcement::dropped`].
//! - Filesystem rights newer than the negotiated ABI (`TRUNCATE` below ABI 3, `IOCTL_DEV`
//!   below ABI 5) cannot be handled, so those operations stay unrestricted. The contract
//!   of `Fs` is "all rights of the running ABI", so this is **not** an error, in either
//!   mode; but it is a real gap, so it is listed in [`Enforcement::dropped`] in both modes
//!   (in `Enforce` mode `dropped` can only contain such rights). `REFER` is the exception:
//!   on ABI 1 the kernel always denies cross-directory links and renames, which is
//!   stricter, so it is not reported.
//!
//! `landlock_restrict_self` flags (ABI 7 audit logging) are left at 0, the kernel default:
//! denials are audit-logged only for the executable that restricted itself, i.e. until the
//! next `execve`. The child restricts itself right before executing the program, so the
//! program's own denials are not logged (`LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON` would
//! log them; not exposed yet).
//!
//! Landlock restricts the calling thread and its future children, and needs
//! `no_new_privs` (or `CAP_SYS_ADMIN`) first; the child runtime sets it before applying.

mod abi;
mod error;
mod ruleset;
#[cfg(test)]
mod tests;

pub use abi::*;
pub use error::{Dropped, LandlockError, NotEnforced};
pub use ruleset::{Enforcement, Prepared, Ruleset};

/// A kind of access that landlock can restrict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Resource {
    /// The filesystem (ABI 1).
    Fs,
    /// Binding TCP ports (ABI 4).
    TcpBind,
    /// Connecting to TCP ports (ABI 4).
    TcpConnect,
}

impl Resource {
    /// Name used in errors and reports: `fs`, `tcp_bind`, `tcp_connect`.
    pub const fn name(self) -> &'static str {
        match self {
            Resource::Fs => "fs",
            Resource::TcpBind => "tcp_bind",
            Resource::TcpConnect => "tcp_connect",
        }
    }

    /// First landlock ABI that can restrict it.
    pub const fn min_abi(self) -> u32 {
        match self {
            Resource::Fs => 1,
            Resource::TcpBind | Resource::TcpConnect => NET_ABI,
        }
    }
}

/// What to do when the kernel cannot enforce a requested restriction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CompatMode {
    /// A kernel that cannot enforce it is an error (default).
    #[default]
    Enforce,
    /// Enforce what the kernel can; report what was dropped.
    BestEffort,
}

/// An IPC scope (ABI 6): the sandbox cannot reach outside its landlock domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Scope {
    /// Connecting to abstract UNIX sockets created outside the domain is denied.
    AbstractUnixSocket,
    /// Sending signals to processes outside the domain is denied.
    Signal,
}

impl Scope {
    /// Name used in errors and reports: `scope:abstract_unix_socket`, `scope:signal`.
    pub const fn name(self) -> &'static str {
        match self {
            Scope::AbstractUnixSocket => "scope:abstract_unix_socket",
            Scope::Signal => "scope:signal",
        }
    }

    /// The `LANDLOCK_SCOPE_*` bit.
    pub const fn bit(self) -> u64 {
        match self {
            Scope::AbstractUnixSocket => SCOPE_ABSTRACT_UNIX_SOCKET,
            Scope::Signal => SCOPE_SIGNAL,
        }
    }
}

bitflags::bitflags! {
    /// Access granted by a filesystem rule, as the CLI's `r`, `w`, `x`. See the module
    /// documentation for the landlock rights each one stands for.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct FsAccess: u8 {
        /// Read files and list directories.
        const R = 1 << 0;
        /// Write, truncate, create, remove, rename/link into, device ioctl.
        const W = 1 << 1;
        /// Execute files.
        const X = 1 << 2;
    }
}

impl FsAccess {
    /// The landlock filesystem rights this access stands for under ABI `abi`.
    pub const fn rights(self, abi: u32) -> u64 {
        let mut bits = 0;
        if self.contains(FsAccess::R) {
            bits |= FS_READ_FILE | FS_READ_DIR;
        }
        if self.contains(FsAccess::W) {
            bits |= FS_WRITE_FILE
                | FS_REMOVE_DIR
                | FS_REMOVE_FILE
                | FS_MAKE_CHAR
                | FS_MAKE_DIR
                | FS_MAKE_REG
                | FS_MAKE_SOCK
                | FS_MAKE_FIFO
                | FS_MAKE_BLOCK
                | FS_MAKE_SYM
                | FS_REFER
                | FS_TRUNCATE
                | FS_IOCTL_DEV;
        }
        if self.contains(FsAccess::X) {
            bits |= FS_EXECUTE;
        }
        bits & fs_rights(abi)
    }
}
