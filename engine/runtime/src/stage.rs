//! The setup stages and the fixed-size record a failing child sends to its parent.
//!
//! The child reports the first failure over a `CLOEXEC` pipe as one [`ErrorRecord`] and
//! exits; a successful `execve` closes the pipe, so the parent reads EOF. This follows the
//! model of `std::process` (errno plus footer over a CLOEXEC pipe), with the stage added.

use crate::wire;

crate::named_enum! {
    /// The step of sandbox setup that failed.
    ///
    /// Values are stable: they cross the error pipe and the C ABI.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum Stage {
        /// Validating the configuration in the parent (bad path, bad id, too many entries).
        Config = 1 => "config",
        /// `clone3`/`clone` creating the child and its namespaces.
        Unshare = 2 => "unshare",
        /// Writing `uid_map`/`gid_map`/`setgroups` (parent side, or `newuidmap`/`newgidmap`).
        IdMap = 3 => "idmap",
        /// Resetting signal dispositions and the signal mask.
        Signals = 4 => "signals",
        /// Arming the parent-death signal or waiting for the parent's go-ahead.
        Sync = 5 => "sync",
        /// Making the inherited mount tree private.
        MountPrivate = 6 => "mount-private",
        /// Opening a bind-mount source on the host (`open_tree`).
        MountSource = 7 => "mount-source",
        /// Creating or attaching the new root.
        MountRoot = 8 => "mount-root",
        /// Creating a mount point or file inside the new root.
        MountTarget = 9 => "mount-target",
        /// Mounting onto a target inside the new root.
        Mount = 10 => "mount",
        /// `pivot_root` into the new root or detaching the old one.
        PivotRoot = 11 => "pivot-root",
        /// Making the root read-only after setup.
        RemountRoot = 12 => "remount-root",
        /// `sethostname`.
        Hostname = 13 => "hostname",
        /// `prlimit64`.
        Rlimit = 14 => "rlimit",
        /// Joining a new session keyring.
        Keyring = 15 => "keyring",
        /// `setsid` / controlling terminal.
        Session = 16 => "session",
        /// Switching to the requested uid/gid/supplementary groups.
        Credentials = 17 => "credentials",
        /// Dropping capabilities.
        Capabilities = 18 => "capabilities",
        /// `PR_SET_NO_NEW_PRIVS`.
        NoNewPrivs = 19 => "no-new-privs",
        /// Changing to the working directory.
        Chdir = 20 => "chdir",
        /// Arranging the file descriptors the program inherits.
        Fds = 21 => "fds",
        /// Building or applying the landlock ruleset.
        Landlock = 22 => "landlock",
        /// Installing the seccomp filter.
        Seccomp = 23 => "seccomp",
        /// `execve` of the program.
        Exec = 24 => "exec",
        /// Starting or configuring the network helper (pasta).
        Network = 25 => "network",
        /// Masking or locking paths of a procfs.
        ProcMask = 26 => "proc-mask",
        /// Starting the sandbox's init (PID 1) or its fork of the program.
        Init = 27 => "init",
    }
}

/// Marker in every record, so a short or foreign write is never taken for a report.
pub const RECORD_MAGIC: u32 = 0x484b_4e57; // "HKNW"

/// What a failing child writes to the error pipe: 16 bytes, native endian.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRecord {
    /// Always [`RECORD_MAGIC`].
    pub magic: u32,
    /// A [`Stage`] as `u32`.
    pub stage: u32,
    /// The positive errno.
    pub errno: i32,
    /// Index of the plan entry concerned (mount op, source, rlimit, landlock rule), or
    /// `u32::MAX` when none applies.
    pub index: u32,
}

/// `index` value meaning "no particular entry".
pub const NO_INDEX: u32 = u32::MAX;

impl ErrorRecord {
    /// Size on the wire.
    pub const SIZE: usize = 16;

    /// Encode to bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        wire::put(
            &mut out,
            &[self.magic, self.stage, self.errno as u32, self.index],
        );
        out
    }

    /// Decode from bytes; `None` when the magic does not match.
    pub fn from_bytes(b: &[u8; 16]) -> Option<Self> {
        let [magic, stage, errno, index]: [u32; 4] = wire::get(b);
        if magic != RECORD_MAGIC {
            return None;
        }
        Some(ErrorRecord {
            magic,
            stage,
            errno: errno as i32,
            index,
        })
    }
}
