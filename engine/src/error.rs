//! The engine's error type: which stage failed, what it concerned, and the errno.
//!
//! A failure inside the sandbox before `execve` is always an [`Error::Setup`] returned by
//! `spawn()`; it is never confused with the program itself exiting 125 or 127, because the
//! child reports it over a dedicated pipe, not through its exit status.

use std::fmt;

pub use hakoniwa_runtime::Stage;

/// Result alias for the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

hakoniwa_runtime::named_enum! {
    /// A stable, numbered classification of [`Error`], for front ends that cannot match on the
    /// enum (the C ABI returns `-(kind as i32)`). Values never change; new kinds get new values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum ErrorKind {
        /// [`Error::Config`]: an invalid setting.
        Config = 2 => "config",
        /// [`Error::Setup`]: a setup step failed in the parent or in the child.
        Setup = 3 => "setup",
        /// [`Error::Io`]: a parent-side system call failed outside the setup.
        Io = 4 => "io",
        /// [`Error::Landlock`] other than an unsupported ABI: an invalid ruleset.
        Landlock = 5 => "landlock",
        /// [`Error::Seccomp`]: the profile cannot be loaded or compiled.
        Seccomp = 6 => "seccomp",
        /// The kernel cannot provide what was asked for (e.g. a landlock resource its ABI lacks
        /// in `Enforce` mode).
        Unsupported = 7 => "unsupported",
    }
}

/// Everything that can go wrong when spawning or supervising a sandboxed program.
///
/// # Examples
///
/// A program missing inside the sandbox is a setup error at [`Stage::Exec`], not an exit
/// code:
///
/// ```
/// use hakoniwa::{Container, Error, Stage};
///
/// let err = Container::new().command("/no/such/program").status().unwrap_err();
/// assert!(matches!(err, Error::Setup { stage: Stage::Exec, errno: 2, .. }));
/// assert_eq!(err.stage(), Some(Stage::Exec));
/// let text = err.to_string(); // the stage, the target and the errno, then the error's text
/// assert!(text.starts_with("sandbox setup failed at stage exec ("), "{text}");
/// assert!(text.lines().next().unwrap().ends_with("): No such file or directory"), "{text}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid (reported by `spawn()`, never by a builder method).
    Config {
        /// The setting concerned, e.g. `"bindmount"` or `"uidmap"`.
        field: &'static str,
        /// What is wrong, naming the offending value.
        message: String,
    },
    /// A setup step failed, in the parent (clone, id maps) or in the child before `execve`.
    Setup {
        /// The stage that failed.
        stage: Stage,
        /// The path, limit or rule concerned, when there is one.
        target: Option<String>,
        /// The positive errno.
        errno: i32,
    },
    /// The landlock ruleset cannot be prepared (found by `spawn()` before cloning).
    Landlock(crate::landlock::LandlockError),
    /// The seccomp profile cannot be loaded or compiled (found by `spawn()` before cloning).
    Seccomp {
        /// The profile's name (`podman`, `audit`, or the OCI profile's name).
        profile: String,
        /// What is wrong with it.
        error: hakoniwa_seccomp::Error,
    },
    /// A parent-side system call failed outside the setup (pipes, polling, waiting).
    Io {
        /// The operation, e.g. `"waitid"`.
        op: &'static str,
        /// The positive errno.
        errno: i32,
    },
}

impl Error {
    /// The stable kind of this error (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        use crate::landlock::LandlockError;
        match self {
            Error::Config { .. } => ErrorKind::Config,
            Error::Setup { .. } => ErrorKind::Setup,
            Error::Io { .. } => ErrorKind::Io,
            Error::Landlock(LandlockError::Unsupported { .. }) => ErrorKind::Unsupported,
            Error::Landlock(_) => ErrorKind::Landlock,
            Error::Seccomp { .. } => ErrorKind::Seccomp,
        }
    }

    /// The stage of a setup error ([`Stage::Config`] for configuration errors, landlock and
    /// seccomp configuration included).
    pub fn stage(&self) -> Option<Stage> {
        match self {
            Error::Config { .. } | Error::Landlock(_) | Error::Seccomp { .. } => {
                Some(Stage::Config)
            }
            Error::Setup { stage, .. } => Some(*stage),
            Error::Io { .. } => None,
        }
    }

    /// The errno, when the error carries one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Landlock(crate::landlock::LandlockError::Syscall { errno, .. })
            | Error::Setup { errno, .. }
            | Error::Io { errno, .. } => Some(*errno),
            Error::Config { .. } | Error::Landlock(_) | Error::Seccomp { .. } => None,
        }
    }

    /// The path or entry concerned, when there is one.
    pub fn target(&self) -> Option<&str> {
        match self {
            Error::Setup { target, .. } => target.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn config(field: &'static str, message: impl Into<String>) -> Self {
        Error::Config {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn io(op: &'static str, e: impl Into<std::io::Error>) -> Self {
        Error::Io {
            op,
            errno: e.into().raw_os_error().unwrap_or(0),
        }
    }

    pub(crate) fn setup(stage: Stage, target: Option<String>, errno: i32) -> Self {
        Error::Setup {
            stage,
            target,
            errno,
        }
    }
}

fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    // std appends " (os error N)"; keep only the text.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Known causes worth a hint, keyed by stage and errno.
fn hint(stage: Stage, errno: i32) -> Option<&'static str> {
    const EPERM: i32 = 1;
    const EACCES: i32 = 13;
    const ENOSPC: i32 = 28;
    const EINVAL: i32 = 22;
    const ENOSYS: i32 = 38;
    match (stage, errno) {
        (Stage::Unshare, EPERM) | (Stage::Unshare, EACCES) => Some(
            "unprivileged user namespaces look disabled: check sysctl kernel.unprivileged_userns_clone, \
             kernel.apparmor_restrict_unprivileged_userns (AppArmor) and user.max_user_namespaces; \
             `hakoniwa doctor` tells which",
        ),
        (Stage::Unshare, ENOSPC) => Some("user.max_user_namespaces (or another namespace count limit) is exhausted"),
        (Stage::Unshare, EINVAL) => Some("the kernel rejected this namespace combination"),
        (Stage::Landlock, ENOSYS) | (Stage::Landlock, 95) => Some("the kernel does not support landlock"),
        (Stage::Seccomp, EINVAL) => Some("the kernel rejected the seccomp filter (CONFIG_SECCOMP_FILTER?)"),
        (Stage::Credentials, EINVAL) => Some("the uid or gid is not mapped in the sandbox's user namespace (map a range with uidmaps/gidmaps or --userns auto)"),
        (Stage::MountSource, ENOSYS) | (Stage::MountRoot, ENOSYS) | (Stage::Mount, ENOSYS) => Some("the kernel lacks the new mount API (open_tree, fsopen, move_mount, mount_setattr: Linux 5.12 or newer)"),
        (Stage::MountTarget, ENOSYS) => Some("the kernel lacks openat2 (Linux 5.6 or newer)"),
        (Stage::Exec, 2) => Some("the program does not exist inside the sandbox (is its directory mounted?)"),
        (Stage::IdMap, EPERM) => Some("the id map is not allowed: ranges beyond your own id need newuidmap/newgidmap and /etc/subuid, /etc/subgid entries"),
        _ => None,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { field, message } => {
                write!(f, "invalid configuration ({field}): {message}")
            }
            Error::Setup {
                stage,
                target,
                errno,
            } => {
                // The line ends with the error's text, as the original's did (scripts match
                // the end); a hint for a known cause follows on a line of its own.
                write!(f, "sandbox setup failed at stage {} (", stage.name())?;
                if let Some(t) = target {
                    write!(f, "{t}, ")?;
                }
                write!(f, "errno {errno}): {}", strerror(*errno))?;
                if let Some(h) = hint(*stage, *errno) {
                    write!(f, "\nhint: {h}")?;
                }
                Ok(())
            }
            Error::Io { op, errno } => {
                write!(f, "{op} failed (errno {errno}): {}", strerror(*errno))
            }
            Error::Landlock(e) => write!(f, "invalid configuration (landlock): {e}"),
            Error::Seccomp { profile, error } => {
                write!(f, "invalid configuration (seccomp): {profile}: {error}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e.errno() {
            Some(n) => std::io::Error::new(std::io::Error::from_raw_os_error(n).kind(), e),
            None => std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        }
    }
}
