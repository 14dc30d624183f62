//! Asking the kernel what it supports, for diagnostics (`hakoniwa doctor`).
//!
//! Each probe makes the system call with arguments the kernel must refuse (an empty name
//! or path) or with a query flag, so nothing is created; the error says whether the call
//! exists. A seccomp filter that hides a call (`ENOSYS`) looks the same as a kernel without
//! it, as it does to the sandbox.

use hakoniwa_runtime::sys;

/// What a probe found out about a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Support {
    /// The call exists (it refused the probe's arguments, or answered the query).
    Available,
    /// `ENOSYS`: the kernel does not have it, or a seccomp filter hides it.
    Missing,
    /// `EPERM`: the call exists but the caller may not make it here (for the mount API:
    /// `CAP_SYS_ADMIN` outside a user namespace, which the sandbox has inside its own).
    Denied,
    /// `EOPNOTSUPP`: built in but disabled at boot (landlock without `lsm=...landlock`).
    Disabled,
    /// Another error, with its errno.
    Failed(i32),
}

impl Support {
    /// The errno the probe got (`None` for [`Support::Available`]).
    pub fn errno(self) -> Option<i32> {
        use rustix::io::Errno;
        match self {
            Support::Available => None,
            Support::Missing => Some(Errno::NOSYS.raw_os_error()),
            Support::Denied => Some(Errno::PERM.raw_os_error()),
            Support::Disabled => Some(Errno::OPNOTSUPP.raw_os_error()),
            Support::Failed(e) => Some(e),
        }
    }

    fn from_errno(errno: i32) -> Support {
        match errno {
            e if e == rustix::io::Errno::NOSYS.raw_os_error() => Support::Missing,
            e if e == rustix::io::Errno::PERM.raw_os_error() => Support::Denied,
            e if e == rustix::io::Errno::OPNOTSUPP.raw_os_error() => Support::Disabled,
            e => Support::Failed(e),
        }
    }

    /// [`Support::Available`] for an error the probe's arguments are expected to get.
    fn from_refusal(errno: i32) -> Support {
        match Support::from_errno(errno) {
            Support::Failed(_) => Support::Available,
            other => other,
        }
    }
}

/// The kernel's landlock ABI version:
/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`.
///
/// `Err(Support::Missing)`: landlock is not built in; `Err(Support::Disabled)`: built in
/// but not enabled at boot. [`crate::landlock::kernel_abi`] reads both as ABI 0.
pub fn landlock_abi() -> Result<u32, Support> {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: with the VERSION flag the kernel requires a NULL attribute and size 0; it
    // reads no memory.
    let r = unsafe {
        sys::landlock_create_ruleset(core::ptr::null(), 0, LANDLOCK_CREATE_RULESET_VERSION)
    };
    r.map(|v| u32::try_from(v).unwrap_or(u32::MAX))
        .map_err(Support::from_errno)
}

/// The new mount API (`fsopen`, `fsmount`, `move_mount`, `open_tree`), which builds the
/// sandbox's root: `fsopen("")`, which no file system type matches.
pub fn mount_api() -> Support {
    match sys::fsopen(c"") {
        Ok(fd) => {
            sys::close(fd);
            Support::Available
        }
        Err(e) => Support::from_refusal(e),
    }
}

/// `openat2`, which resolves paths inside the new root: an empty path, which it refuses
/// (`ENOENT`) without `AT_EMPTY_PATH`.
pub fn openat2() -> Support {
    match sys::openat2(sys::AT_FDCWD, c"", sys::O_PATH | sys::O_CLOEXEC, 0, 0) {
        Ok(fd) => {
            sys::close(fd);
            Support::Available
        }
        Err(e) => Support::from_refusal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_the_sandbox_is_built_with_are_found_on_this_kernel() {
        // Every test that spawns a sandbox needs them, so they exist wherever tests pass.
        assert!(matches!(mount_api(), Support::Available | Support::Denied));
        assert_eq!(openat2(), Support::Available);
    }

    #[test]
    fn errnos_are_read_as_support() {
        assert_eq!(Support::from_errno(38), Support::Missing);
        assert_eq!(Support::from_errno(1), Support::Denied);
        assert_eq!(Support::from_errno(95), Support::Disabled);
        assert_eq!(Support::from_errno(14), Support::Failed(14));
        assert_eq!(Support::from_refusal(14), Support::Available);
        for e in [1, 14, 38, 95] {
            assert_eq!(Support::from_errno(e).errno(), Some(e));
        }
    }
}
