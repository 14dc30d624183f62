//! Numbered constants of the C ABI, and their conversion to engine types. Values never
//! change; new ones are appended.

use hakoniwa::landlock::{CompatMode, FsAccess, Resource, Scope};
use hakoniwa::{Namespace, Rlimit, Runctl};

use crate::error::{Failure, Result};

/// Cgroup namespace.
pub const HAKONIWA_NS_CGROUP: u32 = 0;
/// System V IPC / POSIX message queue namespace.
pub const HAKONIWA_NS_IPC: u32 = 1;
/// Network namespace.
pub const HAKONIWA_NS_NETWORK: u32 = 2;
/// Mount namespace.
pub const HAKONIWA_NS_MOUNT: u32 = 3;
/// PID namespace (the program is PID 1).
pub const HAKONIWA_NS_PID: u32 = 4;
/// User namespace.
pub const HAKONIWA_NS_USER: u32 = 5;
/// UTS (host name) namespace.
pub const HAKONIWA_NS_UTS: u32 = 6;

/// `RLIMIT_CPU` (seconds).
pub const HAKONIWA_RLIMIT_CPU: u32 = 0;
/// `RLIMIT_FSIZE` (bytes).
pub const HAKONIWA_RLIMIT_FSIZE: u32 = 1;
/// `RLIMIT_DATA`.
pub const HAKONIWA_RLIMIT_DATA: u32 = 2;
/// `RLIMIT_STACK`.
pub const HAKONIWA_RLIMIT_STACK: u32 = 3;
/// `RLIMIT_CORE`.
pub const HAKONIWA_RLIMIT_CORE: u32 = 4;
/// `RLIMIT_RSS`.
pub const HAKONIWA_RLIMIT_RSS: u32 = 5;
/// `RLIMIT_NPROC`.
pub const HAKONIWA_RLIMIT_NPROC: u32 = 6;
/// `RLIMIT_NOFILE`.
pub const HAKONIWA_RLIMIT_NOFILE: u32 = 7;
/// `RLIMIT_MEMLOCK`.
pub const HAKONIWA_RLIMIT_MEMLOCK: u32 = 8;
/// `RLIMIT_AS` (bytes).
pub const HAKONIWA_RLIMIT_AS: u32 = 9;
/// `RLIMIT_LOCKS`.
pub const HAKONIWA_RLIMIT_LOCKS: u32 = 10;
/// `RLIMIT_SIGPENDING`.
pub const HAKONIWA_RLIMIT_SIGPENDING: u32 = 11;
/// `RLIMIT_MSGQUEUE`.
pub const HAKONIWA_RLIMIT_MSGQUEUE: u32 = 12;
/// `RLIMIT_NICE`.
pub const HAKONIWA_RLIMIT_NICE: u32 = 13;
/// `RLIMIT_RTPRIO`.
pub const HAKONIWA_RLIMIT_RTPRIO: u32 = 14;
/// `RLIMIT_RTTIME` (microseconds).
pub const HAKONIWA_RLIMIT_RTTIME: u32 = 15;
/// An unlimited rlimit value.
pub const HAKONIWA_RLIM_INFINITY: u64 = 0xffff_ffff_ffff_ffff;

/// Landlock resource: the filesystem.
pub const HAKONIWA_LANDLOCK_FS: u32 = 0;
/// Landlock resource: binding TCP ports.
pub const HAKONIWA_LANDLOCK_TCP_BIND: u32 = 1;
/// Landlock resource: connecting to TCP ports.
pub const HAKONIWA_LANDLOCK_TCP_CONNECT: u32 = 2;
/// Landlock compatibility: a kernel that cannot enforce the restriction is an error.
pub const HAKONIWA_COMPAT_ENFORCE: u32 = 0;
/// Landlock compatibility: enforce what the kernel can, report the rest.
pub const HAKONIWA_COMPAT_BEST_EFFORT: u32 = 1;
/// Landlock scope: abstract UNIX sockets outside the sandbox.
pub const HAKONIWA_SCOPE_ABSTRACT_UNIX_SOCKET: u32 = 0;
/// Landlock scope: signals to processes outside the sandbox.
pub const HAKONIWA_SCOPE_SIGNAL: u32 = 1;
/// Landlock file access: read files, list directories.
pub const HAKONIWA_ACCESS_R: u32 = 1;
/// Landlock file access: write, create, remove, rename.
pub const HAKONIWA_ACCESS_W: u32 = 2;
/// Landlock file access: execute.
pub const HAKONIWA_ACCESS_X: u32 = 4;

/// Run-time switch: do not set `no_new_privs`.
pub const HAKONIWA_RUNCTL_ALLOW_NEW_PRIVS: u32 = 0;
/// Run-time switch: keep the sandbox's root writable.
pub const HAKONIWA_RUNCTL_ROOTDIR_RW: u32 = 1;
/// Run-time switch: a sandbox whose ids include host root may create set-id files and
/// file capabilities (dangerous; see the Rust `Runctl::AllowSetid`).
pub const HAKONIWA_RUNCTL_ALLOW_SETID: u32 = 2;

/// Network: a new network namespace with only `lo` (up).
pub const HAKONIWA_NETWORK_NONE: u32 = 0;
/// Network: the caller's network namespace.
pub const HAKONIWA_NETWORK_HOST: u32 = 1;

/// Standard stream: stdin.
pub const HAKONIWA_STDIN: u32 = 0;
/// Standard stream: stdout.
pub const HAKONIWA_STDOUT: u32 = 1;
/// Standard stream: stderr.
pub const HAKONIWA_STDERR: u32 = 2;
/// Stream mode: the caller's own stream.
pub const HAKONIWA_STDIO_INHERIT: u32 = 0;
/// Stream mode: `/dev/null`.
pub const HAKONIWA_STDIO_NULL: u32 = 1;
/// Stream mode: a pipe whose other end the child handle holds.
pub const HAKONIWA_STDIO_PIPE: u32 = 2;
/// Stream mode: a descriptor of the caller (duplicated; the caller keeps its own).
pub const HAKONIWA_STDIO_FD: u32 = 3;

/// Exit reason: the program called `exit`.
pub const HAKONIWA_EXIT_EXITED: u32 = 0;
/// Exit reason: a signal ended it.
pub const HAKONIWA_EXIT_SIGNALED: u32 = 1;
/// Exit reason: the wall-clock limit expired and the sandbox was killed.
pub const HAKONIWA_EXIT_WALL_TIME_EXCEEDED: u32 = 2;
/// Exit reason: the CPU time limit fired.
pub const HAKONIWA_EXIT_CPU_TIME_EXCEEDED: u32 = 3;
/// Exit reason: the file size limit fired.
pub const HAKONIWA_EXIT_FILE_SIZE_EXCEEDED: u32 = 4;
/// Exit reason: a seccomp filter killed it.
pub const HAKONIWA_EXIT_SECCOMP_VIOLATION: u32 = 5;

pub(crate) fn namespace(v: u32) -> Result<Namespace> {
    Namespace::ALL
        .into_iter()
        .find(|ns| *ns as u32 == v)
        .ok_or_else(|| Failure::invalid(format!("unknown namespace {v}")))
}

pub(crate) fn rlimit(v: u32) -> Result<Rlimit> {
    Rlimit::ALL
        .into_iter()
        .find(|r| *r as u32 == v)
        .ok_or_else(|| Failure::invalid(format!("unknown rlimit resource {v}")))
}

pub(crate) fn resource(v: u32) -> Result<Resource> {
    match v {
        HAKONIWA_LANDLOCK_FS => Ok(Resource::Fs),
        HAKONIWA_LANDLOCK_TCP_BIND => Ok(Resource::TcpBind),
        HAKONIWA_LANDLOCK_TCP_CONNECT => Ok(Resource::TcpConnect),
        _ => Err(Failure::invalid(format!("unknown landlock resource {v}"))),
    }
}

pub(crate) fn compat(v: u32) -> Result<CompatMode> {
    match v {
        HAKONIWA_COMPAT_ENFORCE => Ok(CompatMode::Enforce),
        HAKONIWA_COMPAT_BEST_EFFORT => Ok(CompatMode::BestEffort),
        _ => Err(Failure::invalid(format!(
            "unknown landlock compatibility mode {v}"
        ))),
    }
}

pub(crate) fn scope(v: u32) -> Result<Scope> {
    match v {
        HAKONIWA_SCOPE_ABSTRACT_UNIX_SOCKET => Ok(Scope::AbstractUnixSocket),
        HAKONIWA_SCOPE_SIGNAL => Ok(Scope::Signal),
        _ => Err(Failure::invalid(format!("unknown landlock scope {v}"))),
    }
}

pub(crate) fn access(v: u32) -> Result<FsAccess> {
    u8::try_from(v)
        .ok()
        .and_then(FsAccess::from_bits)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Failure::invalid(format!("invalid landlock access {v} (R=1, W=2, X=4)")))
}

pub(crate) fn runctl(v: u32) -> Result<Runctl> {
    match v {
        HAKONIWA_RUNCTL_ALLOW_NEW_PRIVS => Ok(Runctl::AllowNewPrivs),
        HAKONIWA_RUNCTL_ROOTDIR_RW => Ok(Runctl::RootdirRW),
        HAKONIWA_RUNCTL_ALLOW_SETID => Ok(Runctl::AllowSetid),
        _ => Err(Failure::invalid(format!("unknown runctl {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_reason_constants_match_the_engine() {
        use hakoniwa::ExitReason as R;
        assert_eq!(R::Exited as u32, HAKONIWA_EXIT_EXITED);
        assert_eq!(R::Signaled as u32, HAKONIWA_EXIT_SIGNALED);
        assert_eq!(R::WallTimeExceeded as u32, HAKONIWA_EXIT_WALL_TIME_EXCEEDED);
        assert_eq!(R::CpuTimeExceeded as u32, HAKONIWA_EXIT_CPU_TIME_EXCEEDED);
        assert_eq!(R::FileSizeExceeded as u32, HAKONIWA_EXIT_FILE_SIZE_EXCEEDED);
        assert_eq!(R::SeccompViolation as u32, HAKONIWA_EXIT_SECCOMP_VIOLATION);
    }

    #[test]
    fn namespace_and_rlimit_constants_match_the_engine() {
        assert_eq!(namespace(HAKONIWA_NS_USER).unwrap(), Namespace::User);
        assert_eq!(namespace(HAKONIWA_NS_UTS).unwrap(), Namespace::Uts);
        assert_eq!(rlimit(HAKONIWA_RLIMIT_NOFILE).unwrap(), Rlimit::Nofile);
        assert_eq!(rlimit(HAKONIWA_RLIMIT_RTTIME).unwrap(), Rlimit::Rttime);
        assert!(namespace(7).is_err() && rlimit(16).is_err());
    }
}
