//! Resource limits (`setrlimit`), all 16 of Linux.

hakoniwa_runtime::named_enum! {
    /// A resource limited with `prlimit64` in the child.
    ///
    /// # References
    /// - [getrlimit(2)](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
    pub enum Rlimit {
        /// CPU time in seconds (`RLIMIT_CPU`).
        Cpu = 0 => "cpu",
        /// Largest file size in bytes (`RLIMIT_FSIZE`).
        Fsize = 1 => "fsize",
        /// Data segment size (`RLIMIT_DATA`).
        Data = 2 => "data",
        /// Stack size (`RLIMIT_STACK`).
        Stack = 3 => "stack",
        /// Core file size (`RLIMIT_CORE`).
        Core = 4 => "core",
        /// Resident set size (`RLIMIT_RSS`, not enforced by Linux).
        Rss = 5 => "rss",
        /// Processes of the real uid (`RLIMIT_NPROC`).
        Nproc = 6 => "nproc",
        /// Open files (`RLIMIT_NOFILE`).
        Nofile = 7 => "nofile",
        /// Locked memory (`RLIMIT_MEMLOCK`).
        Memlock = 8 => "memlock",
        /// Address space (`RLIMIT_AS`).
        As = 9 => "as",
        /// File locks (`RLIMIT_LOCKS`).
        Locks = 10 => "locks",
        /// Pending signals (`RLIMIT_SIGPENDING`).
        Sigpending = 11 => "sigpending",
        /// POSIX message queue bytes (`RLIMIT_MSGQUEUE`).
        Msgqueue = 12 => "msgqueue",
        /// Nice ceiling (`RLIMIT_NICE`).
        Nice = 13 => "nice",
        /// Real-time priority ceiling (`RLIMIT_RTPRIO`).
        Rtprio = 14 => "rtprio",
        /// Real-time CPU time in microseconds (`RLIMIT_RTTIME`).
        Rttime = 15 => "rttime",
    }
}

impl Rlimit {
    /// Parse a name as [`Rlimit::name`] prints it.
    pub fn from_name(s: &str) -> Option<Rlimit> {
        Rlimit::ALL.iter().copied().find(|r| r.name() == s)
    }
}

/// The value meaning "no limit".
pub const RLIM_INFINITY: u64 = u64::MAX;
