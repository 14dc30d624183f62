//! The frozen input of the child: everything is prepared and borrowed from the parent.
//!
//! Nothing here owns memory. The parent builds these values from owned storage before
//! `clone`, keeps that storage alive until the child has called `execve` or exited (EOF on
//! the error pipe), and only then frees it. The few [`Cell`]s are scratch space the child
//! writes (fds it opened, setup timings); the child runs on the parent's address
//! space (`CLONE_VM`), so the parent can read what it recorded.

use core::cell::Cell;
use core::ffi::{c_char, CStr};

/// A raw file descriptor number.
pub type RawFd = i32;

/// One classic-BPF instruction, layout-identical to the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Generic field (constant, offset).
    pub k: u32,
}

/// A resource limit to set with `prlimit64`.
#[derive(Clone, Copy, Debug)]
pub struct RlimitSpec {
    /// `RLIMIT_*` number.
    pub resource: u32,
    /// Soft limit (`u64::MAX` = infinity).
    pub soft: u64,
    /// Hard limit (`u64::MAX` = infinity).
    pub hard: u64,
}

/// A file descriptor the program receives: `src` in the parent becomes `dst` in the program.
#[derive(Clone, Copy, Debug)]
pub struct FdMap {
    /// Descriptor in the parent (and so in the child before rearranging).
    pub src: RawFd,
    /// Descriptor number the program sees.
    pub dst: RawFd,
}

/// Identity the program runs as inside its user namespace (`--user`).
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    /// Real, effective and saved uid.
    pub uid: u32,
    /// Real, effective and saved gid.
    pub gid: u32,
    /// Supplementary groups (`setgroups`); `None` leaves them alone (needed when
    /// `setgroups` is denied in the user namespace).
    pub groups: Option<&'a [u32]>,
    /// Ignore `EPERM` from `setgroups` (when the groups were not asked for explicitly and
    /// the user namespace denies `setgroups`).
    pub groups_optional: bool,
}

/// Capability sets to keep; everything else is dropped from all five sets.
#[derive(Clone, Copy, Debug)]
pub struct CapPlan {
    /// Bit `n` set keeps capability `n`.
    pub keep: u64,
    /// Highest capability number the kernel knows (`/proc/sys/kernel/cap_last_cap`).
    pub last_cap: u32,
}

/// How the root of the new mount namespace is made.
#[derive(Clone, Copy, Debug)]
pub enum RootSpec {
    /// A fresh tmpfs (mode 0755) that disappears with the namespace.
    Tmpfs,
    /// An existing host directory, given as an index into [`MountPlan::sources`].
    Dir {
        /// Index into `sources`.
        source: u32,
    },
}

/// The device nodes bound into every devfs, in order.
pub const DEVFS_NODES: [&CStr; 6] = [c"null", c"zero", c"full", c"random", c"urandom", c"tty"];

/// One step of building the new root. Targets are absolute paths inside the sandbox.
#[derive(Clone, Copy, Debug)]
pub enum MountKind<'a> {
    /// Bind a host path (index into [`MountPlan::sources`]) recursively.
    Bind {
        /// Index into `sources`.
        source: u32,
        /// Read-only (recursively, with `mount_setattr(AT_RECURSIVE)`).
        readonly: bool,
        /// The source is not a directory: the mount point is an empty file.
        file: bool,
        /// Keep device nodes usable (no `nodev`): only for an explicit device bind. Every
        /// other bind is `nodev`, because a read-only mount does not stop I/O on the device
        /// nodes below it (a bind of `/dev` would reach the host's disks).
        dev: bool,
    },
    /// A new tmpfs.
    Tmpfs {
        /// `size=` value for fsconfig, e.g. `c"64m"`.
        size: Option<&'a CStr>,
        /// `mode=` value (octal text), e.g. `c"1777"`.
        mode: Option<&'a CStr>,
        /// Mount read-only.
        readonly: bool,
    },
    /// A new procfs for the sandbox's PID namespace (`nosuid,nodev,noexec`).
    Proc,
    /// A minimal /dev: tmpfs + the [`DEVFS_NODES`] bound from the host, devpts, shm and links.
    Devfs {
        /// Index of `/dev/null` in `sources`; the other [`DEVFS_NODES`] follow in order.
        first_node: u32,
        /// Index of the caller's terminal in `sources`, bound at `console`.
        console: Option<u32>,
    },
    /// Create a directory with a mode.
    Dir {
        /// Permission bits.
        mode: u32,
    },
    /// Create a regular file with contents. Where the target lies in a read-only mount
    /// (say a read-only `rootdir`) and exists, the file is not written there: a copy on the
    /// root tmpfs is bound over it, so the host file never changes.
    File {
        /// Bytes to write.
        contents: &'a [u8],
        /// Permission bits.
        mode: u32,
    },
    /// Create a symbolic link at the target pointing at `original`.
    Symlink {
        /// Link contents.
        original: &'a CStr,
    },
    /// Make an existing path inaccessible: an empty read-only tmpfs over a directory, the
    /// host's `/dev/null` (index into `sources`) over anything else; missing paths are skipped.
    Mask {
        /// Index of `/dev/null` in `sources`.
        null: u32,
    },
    /// Make an existing path read-only by binding it onto itself; missing paths are skipped.
    ReadOnly,
}

/// One entry of the mount plan.
#[derive(Clone, Copy, Debug)]
pub struct MountOp<'a> {
    /// Absolute path inside the sandbox.
    pub target: &'a CStr,
    /// What to do there.
    pub kind: MountKind<'a>,
    /// Whether missing path components may be created for this step. `false` for mount
    /// points inside a read-write host directory (a read-write bind or rootdir): anything
    /// created there would be created on the host and could outlive a killed supervisor, so
    /// a missing component fails the step with `ENOENT` instead.
    pub create: bool,
    /// The mount point is a new directory on the root tmpfs that no earlier step touches
    /// (none targets it or one of its ancestors): the child may make it before anything is
    /// mounted, while the sources are being cloned. Only binds of directories, tmpfs and
    /// procfs steps; never with a `rootdir`.
    pub fresh: bool,
}

/// Everything needed to build the new root.
#[derive(Debug)]
pub struct MountPlan<'a> {
    /// The root itself.
    pub root: RootSpec,
    /// Whether the root stays writable after setup.
    pub root_writable: bool,
    /// Host paths opened with `open_tree(OPEN_TREE_CLONE|AT_RECURSIVE)` before anything is
    /// mounted, so later covering mounts cannot hide them.
    pub sources: &'a [&'a CStr],
    /// Scratch: the child stores the fd opened for each source here (same length).
    pub source_fds: &'a [Cell<RawFd>],
    /// Places in the private copy of the host tree where the new root may be attached
    /// while it is built (tried in order; the first existing directory wins).
    pub attach_points: &'a [&'a CStr],
    /// The steps, already ordered by the parent (shallow targets first).
    pub ops: &'a [MountOp<'a>],
}

/// Landlock: handled access rights and the rules, prepared by the parent.
#[derive(Clone, Copy, Debug)]
pub struct LandlockPlan<'a> {
    /// The ABI the parent negotiated (1..=7).
    pub abi: u32,
    /// `handled_access_fs` of the ruleset (0 when the filesystem is not restricted).
    pub handled_fs: u64,
    /// `handled_access_net` of the ruleset (0 when the network is not restricted).
    pub handled_net: u64,
    /// `scoped` of the ruleset (ABI 6).
    pub scoped: u64,
    /// Path rules: a path opened `O_PATH` after `pivot_root`, and its allowed access.
    pub fs_rules: &'a [LandlockFsRule<'a>],
    /// Port rules.
    pub net_rules: &'a [LandlockNetRule],
    /// `landlock_restrict_self` flags (ABI 7 logging flags).
    pub restrict_flags: u32,
}

/// One landlock path rule.
#[derive(Clone, Copy, Debug)]
pub struct LandlockFsRule<'a> {
    /// Path inside the sandbox.
    pub path: &'a CStr,
    /// Allowed access; directory-only rights are masked off for non-directories.
    pub access: u64,
}

/// One landlock port rule.
#[derive(Clone, Copy, Debug)]
pub struct LandlockNetRule {
    /// TCP port.
    pub port: u64,
    /// `LANDLOCK_ACCESS_NET_*` bits.
    pub access: u64,
}

/// A user namespace entered after the mounts are built, so that the mount namespace is
/// owned by a more privileged (outer) user namespace: the program, even as uid 0 with
/// `CAP_SYS_ADMIN` in its own namespace, can no longer remount our read-only binds (and any
/// mount namespace it creates gets the flags locked).
#[derive(Clone, Copy, Debug)]
pub struct NestedUserns<'a> {
    /// Contents of the inner `uid_map` (identity of the outer map's inside ids).
    pub uid_map: &'a [u8],
    /// Contents of the inner `gid_map`.
    pub gid_map: &'a [u8],
}

/// The exit hook: the sandbox's seccomp program in the variant that turns `exit_group` into
/// a user notification, so the parent can read the program's own peak memory (`VmHWM`)
/// while its address space still exists. It replaces [`Plan::seccomp`] (one filter either
/// way); the listener descriptor travels to the parent over `socket`.
#[derive(Clone, Copy, Debug)]
pub struct ExitHook<'a> {
    /// The hooked program (prepared by the parent).
    pub filter: &'a [SockFilter],
    /// The child's end of a `SOCK_SEQPACKET` pair to the parent.
    pub socket: RawFd,
}

/// The sandbox's init (PID 1), started instead of the program (see `init_proto`).
#[derive(Clone, Copy, Debug)]
pub struct InitPlan<'a> {
    /// Sealed memfd holding the init executable.
    pub memfd: RawFd,
    /// Write end of the events pipe (init to parent).
    pub events_fd: RawFd,
    /// A read end of the events pipe for the init (see `init_proto::Control`).
    pub events_read_fd: RawFd,
    /// The init's argv: `[INIT_NAME, program argv...]`, NULL-terminated.
    pub argv: *const *const c_char,
    /// The init's envp: `[control, program, search path, program env...]`, NULL-terminated;
    /// `envp[0]` points at `control`.
    pub envp: *const *const c_char,
    /// Scratch: the control text (`CONTROL_LEN + 1` bytes), written by the child once the
    /// final descriptor numbers are known.
    pub control: &'a [Cell<u8>],
    /// `init_proto::FLAG_*` bits.
    pub flags: u32,
    /// `RLIMIT_NPROC` for the program (`u64::MAX`: none); applied after the init's fork so
    /// that the init itself does not use up a limit of 1.
    pub nproc: u64,
    /// Wall-clock deadline in `CLOCK_MONOTONIC` nanoseconds (0: none).
    pub deadline_ns: u64,
    /// A pidfd of the host process for the init to watch, or -1: with one, the parent-death
    /// signal is cleared just before the init's `execveat` (see
    /// `init_proto::Control::host_pidfd`).
    pub host_pidfd: RawFd,
    /// The request pipe's read end for the init (see `init_proto::Control::request_fd`).
    pub requests_fd: RawFd,
}

/// Points in the child's setup whose `CLOCK_MONOTONIC` time (ns) is recorded in
/// [`Plan::timings`], in order.
pub const TIMING_POINTS: [&str; 4] = ["released", "mounted", "identity", "confined"];

/// The complete input of the child.
#[derive(Debug)]
pub struct Plan<'a> {
    /// Write end of the `CLOEXEC` error pipe.
    pub err_fd: RawFd,
    /// Read end of the go-ahead pipe: the parent writes one byte once the id maps are in
    /// place; EOF without that byte means the parent gave up (the child exits quietly).
    pub sync_fd: RawFd,
    /// Parent-side pipe ends that the child closes first.
    pub close_first: &'a [RawFd],
    /// Mount namespace plan (`None` without a new mount namespace).
    pub mount: Option<&'a MountPlan<'a>>,
    /// Ids to switch to right after the id maps are written, when the caller's own ids are
    /// not mapped (e.g. root mapping `0 100000 65536`): the child becomes that uid/gid of
    /// its namespace (normally 0) and keeps its capabilities there.
    pub initial_ids: Option<(u32, u32)>,
    /// Scratch: `CLOCK_MONOTONIC` nanoseconds at each of [`TIMING_POINTS`] (may be empty).
    pub timings: &'a [Cell<u64>],
    /// Enter a nested user namespace after the mounts and the host name.
    pub nested_userns: Option<NestedUserns<'a>>,
    /// Scratch: a descriptor of the host's `/proc`, kept across `pivot_root` to write the
    /// nested user namespace's maps.
    pub host_proc: &'a Cell<RawFd>,
    /// Bring `lo` up (new network namespace).
    pub loopback_up: bool,
    /// Host name to set (requires a UTS namespace).
    pub hostname: Option<&'a [u8]>,
    /// Resource limits.
    pub rlimits: &'a [RlimitSpec],
    /// Join a new anonymous session keyring.
    pub new_keyring: bool,
    /// Start a new session (`setsid`); otherwise the child becomes the leader of a new process
    /// group in the caller's session.
    pub new_session: bool,
    /// After `setsid`, make the terminal on `terminal_fd` (once the descriptors are in
    /// place) the new session's controlling terminal.
    pub controlling_terminal: bool,
    /// The program's descriptor (0, 1 or 2) that holds the terminal `controlling_terminal`
    /// and `foreground` are about.
    pub terminal_fd: RawFd,
    /// Without an init: give the terminal on `terminal_fd` to its process group (the
    /// caller is the terminal's foreground group). With an init, the init does it.
    pub foreground: bool,
    /// Start the sandbox's init as PID 1 instead of the program.
    pub init: Option<InitPlan<'a>>,
    /// Switch identity inside the user namespace.
    pub credentials: Option<Credentials<'a>>,
    /// Drop capabilities.
    pub caps: Option<CapPlan>,
    /// Set `PR_SET_NO_NEW_PRIVS`.
    pub no_new_privs: bool,
    /// Working directory (after `pivot_root`); `None` = `/` with a new root, unchanged otherwise.
    pub cwd: Option<&'a CStr>,
    /// Descriptors the program receives (sorted by `dst`, unique `dst`).
    pub fds: &'a [FdMap],
    /// Scratch for rearranging `fds` (same length).
    pub fd_scratch: &'a [Cell<RawFd>],
    /// Landlock ruleset.
    pub landlock: Option<&'a LandlockPlan<'a>>,
    /// Exit hook: installed instead of `seccomp` (which stays the fallback when the filter
    /// stack already has a listener).
    pub exit_hook: Option<ExitHook<'a>>,
    /// Seccomp program, installed last.
    pub seccomp: Option<&'a [SockFilter]>,
    /// Program: an absolute path, or a name searched in `search_path`.
    pub program: &'a CStr,
    /// Colon-separated directories for a program name without `/`.
    pub search_path: &'a [u8],
    /// NULL-terminated argument vector.
    pub argv: *const *const c_char,
    /// NULL-terminated environment.
    pub envp: *const *const c_char,
}
