//! Linux namespaces a sandbox can unshare.

use hakoniwa_runtime::clone::CloneFlags as c;

hakoniwa_runtime::named_enum! {
    /// A namespace kind. `Container::new()` unshares `User`, `Mount` and `Pid`.
    ///
    /// # References
    /// - [namespaces(7)](https://man7.org/linux/man-pages/man7/namespaces.7.html)
    /// - [clone(2)](https://man7.org/linux/man-pages/man2/clone.2.html)
    /// - [cgroup_namespaces(7)](https://man7.org/linux/man-pages/man7/cgroup_namespaces.7.html)
    /// - [ipc_namespaces(7)](https://man7.org/linux/man-pages/man7/ipc_namespaces.7.html)
    /// - [network_namespaces(7)](https://man7.org/linux/man-pages/man7/network_namespaces.7.html)
    /// - [mount_namespaces(7)](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html)
    /// - [pid_namespaces(7)](https://man7.org/linux/man-pages/man7/pid_namespaces.7.html)
    /// - [user_namespaces(7)](https://man7.org/linux/man-pages/man7/user_namespaces.7.html)
    /// - [uts_namespaces(7)](https://man7.org/linux/man-pages/man7/uts_namespaces.7.html)
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
    pub enum Namespace {
        /// Cgroup namespace (`CLONE_NEWCGROUP`).
        Cgroup = 0 => "cgroup",
        /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
        Ipc = 1 => "ipc",
        /// Network stack (`CLONE_NEWNET`).
        Network = 2 => "network",
        /// Mount table (`CLONE_NEWNS`).
        Mount = 3 => "mount",
        /// Process ids (`CLONE_NEWPID`): the program becomes PID 1.
        Pid = 4 => "pid",
        /// User and group ids, capabilities (`CLONE_NEWUSER`).
        User = 5 => "user",
        /// Host and domain name (`CLONE_NEWUTS`).
        Uts = 6 => "uts",
    }
}

impl Namespace {
    /// The `clone` flag.
    pub fn clone_flag(self) -> u64 {
        let flag = match self {
            Namespace::Cgroup => c::NEWCGROUP,
            Namespace::Ipc => c::NEWIPC,
            Namespace::Network => c::NEWNET,
            Namespace::Mount => c::NEWNS,
            Namespace::Pid => c::NEWPID,
            Namespace::User => c::NEWUSER,
            Namespace::Uts => c::NEWUTS,
        };
        flag.bits()
    }

    /// The name under `/proc/<pid>/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Cgroup => "cgroup",
            Namespace::Ipc => "ipc",
            Namespace::Network => "net",
            Namespace::Mount => "mnt",
            Namespace::Pid => "pid",
            Namespace::User => "user",
            Namespace::Uts => "uts",
        }
    }

    /// Parse a name as the CLI and profiles spell it (`cgroup`, `ipc`, `network`/`net`,
    /// `mount`/`mnt`, `pid`, `user`, `uts`).
    pub fn from_name(s: &str) -> Option<Namespace> {
        Some(match s {
            "cgroup" => Namespace::Cgroup,
            "ipc" => Namespace::Ipc,
            "network" | "net" => Namespace::Network,
            "mount" | "mnt" | "ns" => Namespace::Mount,
            "pid" => Namespace::Pid,
            "user" => Namespace::User,
            "uts" => Namespace::Uts,
            _ => return None,
        })
    }

    pub(crate) fn bit(self) -> u8 {
        1 << (self as u32)
    }
}
