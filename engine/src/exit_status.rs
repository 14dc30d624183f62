//! `ExitStatus`: how the program ended, and what it used. Plain data (`Copy`), so every
//! front end (Rust, C, Python, the CLI's JSON) reports alike.

use std::fmt;
use std::time::Duration;

use crate::enforcement::Enforced;

hakoniwa_runtime::named_enum! {
    /// Why the program ended.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
    #[non_exhaustive]
    pub enum ExitReason {
        /// It called `exit`.
        Exited = 0 => "exited",
        /// A signal ended it.
        Signaled = 1 => "signaled",
        /// The wall-clock limit expired and the sandbox was killed.
        WallTimeExceeded = 2 => "wall_time_exceeded",
        /// `RLIMIT_CPU` fired (SIGXCPU, or SIGKILL at the hard limit).
        CpuTimeExceeded = 3 => "cpu_time_exceeded",
        /// `RLIMIT_FSIZE` fired (SIGXFSZ).
        FileSizeExceeded = 4 => "file_size_exceeded",
        /// A seccomp filter killed it (SIGSYS).
        SeccompViolation = 5 => "seccomp_violation",
    }
}

/// Resource usage of the program (from `waitid(P_PIDFD, .., rusage)`).
///
/// # References
/// - [getrusage(2)](https://man7.org/linux/man-pages/man2/getrusage.2.html)
/// - [proc(5)](https://man7.org/linux/man-pages/man5/proc.5.html)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Usage {
    /// Wall-clock time from spawn to exit.
    pub real_time: Duration,
    /// User CPU time.
    pub user_time: Duration,
    /// System CPU time.
    pub system_time: Duration,
    /// The program's own peak resident set size in KiB, when it was asked for with
    /// [`crate::Container::peak_memory`] and could be read (see the crate docs); `None`
    /// otherwise (never the kernel's `ru_maxrss`, which includes the host's peak).
    pub max_rss_kb: Option<u64>,
    /// Page faults served without I/O.
    pub minor_faults: u64,
    /// Page faults that needed I/O.
    pub major_faults: u64,
    /// Voluntary context switches.
    pub voluntary_switches: u64,
    /// Involuntary context switches.
    pub involuntary_switches: u64,
}

/// How a sandboxed program ended.
///
/// Plain data (`Copy`): the [`ExitReason`], the exit code or signal, and the resource
/// [`Usage`].
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use hakoniwa::{Container, ExitReason};
///
/// let status = Container::new()
///     .rootfs("/")
///     .command("/bin/sleep")
///     .arg("10")
///     .wait_timeout(Duration::from_millis(100))
///     .status()?;
/// match status.reason {
///     ExitReason::Exited => println!("exited with {:?}", status.exit_code),
///     ExitReason::WallTimeExceeded => assert_eq!(status.code(), 137),
///     other => println!("{other:?}, signal {:?}", status.signal),
/// }
/// println!("{status}; peak memory {:?} KiB", status.usage.max_rss_kb);
/// # Ok::<(), hakoniwa::Error>(())
/// ```
///
/// # References
/// - [waitid(2)](https://man7.org/linux/man-pages/man2/wait.2.html)
/// - [getrusage(2)](https://man7.org/linux/man-pages/man2/getrusage.2.html)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExitStatus {
    /// Why it ended.
    pub reason: ExitReason,
    /// The exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal, when one ended it.
    pub signal: Option<i32>,
    /// Whether it dumped core.
    pub core_dumped: bool,
    /// Resource usage.
    pub usage: Usage,
    /// What the sandbox enforced.
    pub enforced: Enforced,
}

impl ExitStatus {
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// Upstream hakoniwa's CLI convention: the exit code, or 128 + signal when killed
    /// (137 for a wall-time kill).
    pub fn code(&self) -> i32 {
        match (self.exit_code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 128,
        }
    }

    /// The exit code, when it exited.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }

    /// The signal, when one ended it.
    pub fn signal(&self) -> Option<i32> {
        self.signal
    }

    /// Resource usage.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.reason, self.exit_code, self.signal) {
            (ExitReason::Exited, Some(c), _) => write!(f, "exit status: {c}"),
            (ExitReason::WallTimeExceeded, _, _) => write!(f, "killed: wall-clock limit exceeded"),
            (r, _, Some(s)) => write!(f, "signal: {s} ({})", r.name()),
            (r, _, _) => write!(f, "{}", r.name()),
        }
    }
}
