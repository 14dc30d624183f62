//! Resource limits (`setrlimit`), all 16 of Linux.

/// A resource limited with `prlimit64` in the child.
///
/// # References
/// - [getrlimit(2)](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[repr(u32)]
pub enum Rlimit {
    /// CPU time in seconds (`RLIMIT_CPU`).
    Cpu = 0,
    /// Largest file size in bytes (`RLIMIT_FSIZE`).
    Fsize = 1,
    /// Data segment size (`RLIMIT_DATA`).
    Data = 2,
    /// Stack size (`RLIMIT_STACK`).
    Stack = 3,
    /// Core file size (`RLIMIT_CORE`).
    Core = 4,
    /// Resident set size (`RLIMIT_RSS`, not enforced by Linux).
    Rss = 5,
    /// Processes of the real uid (`RLIMIT_NPROC`).
    Nproc = 6,
    /// Open files (`RLIMIT_NOFILE`).
    Nofile = 7,
    /// Locked memory (`RLIMIT_MEMLOCK`).
    Memlock = 8,
    /// Address space (`RLIMIT_AS`).
    As = 9,
    /// File locks (`RLIMIT_LOCKS`).
    Locks = 10,
    /// Pending signals (`RLIMIT_SIGPENDING`).
    Sigpending = 11,
    /// POSIX message queue bytes (`RLIMIT_MSGQUEUE`).
    Msgqueue = 12,
    /// Nice ceiling (`RLIMIT_NICE`).
    Nice = 13,
    /// Real-time priority ceiling (`RLIMIT_RTPRIO`).
    Rtprio = 14,
    /// Real-time CPU time in microseconds (`RLIMIT_RTTIME`).
    Rttime = 15,
}

impl Rlimit {
    /// All resources.
    pub const ALL: [Rlimit; 16] = [
        Rlimit::Cpu,
        Rlimit::Fsize,
        Rlimit::Data,
        Rlimit::Stack,
        Rlimit::Core,
        Rlimit::Rss,
        Rlimit::Nproc,
        Rlimit::Nofile,
        Rlimit::Memlock,
        Rlimit::As,
        Rlimit::Locks,
        Rlimit::Sigpending,
        Rlimit::Msgqueue,
        Rlimit::Nice,
        Rlimit::Rtprio,
        Rlimit::Rttime,
    ];

    /// Lowercase name without the `RLIMIT_` prefix (`"as"`, `"nofile"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Rlimit::Cpu => "cpu",
            Rlimit::Fsize => "fsize",
            Rlimit::Data => "data",
            Rlimit::Stack => "stack",
            Rlimit::Core => "core",
            Rlimit::Rss => "rss",
            Rlimit::Nproc => "nproc",
            Rlimit::Nofile => "nofile",
            Rlimit::Memlock => "memlock",
            Rlimit::As => "as",
            Rlimit::Locks => "locks",
            Rlimit::Sigpending => "sigpending",
            Rlimit::Msgqueue => "msgqueue",
            Rlimit::Nice => "nice",
            Rlimit::Rtprio => "rtprio",
            Rlimit::Rttime => "rttime",
        }
    }

    /// Parse a name as [`Rlimit::name`] prints it.
    pub fn from_name(s: &str) -> Option<Rlimit> {
        Rlimit::ALL.iter().copied().find(|r| r.name() == s)
    }
}

/// The value meaning "no limit".
pub const RLIM_INFINITY: u64 = u64::MAX;
