//! Run-time switches that loosen a default of the sandbox.

/// Run-time switches (upstream hakoniwa's `Runctl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Runctl {
    /// Do not set `no_new_privs` (setuid binaries and file capabilities take effect). See
    /// `PR_SET_NO_NEW_PRIVS` in [prctl(2)](https://man7.org/linux/man-pages/man2/prctl.2.html).
    AllowNewPrivs,
    /// Keep the root of the sandbox writable after setup.
    RootdirRW,
    /// Let a sandbox whose ids include host root create set-user-ID/set-group-ID files and
    /// file capabilities (dangerous: such files in a read-write bind let any host user
    /// become root). By default such a sandbox loses `CAP_SETFCAP` and its seccomp filter
    /// denies set-id modes in `chmod`, `mknod` and file creation.
    AllowSetid,
}
