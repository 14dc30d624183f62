//! Capabilities of a program that runs as uid 0 inside.
//!
//! A uid-0 program would hold every capability in its user namespace; by default it gets
//! the set container runtimes use (Podman's default), dropped from the bounding, effective,
//! permitted, inheritable and ambient sets. A program with any other uid in its own user
//! namespace holds no capability and gets an empty bounding set too. The seccomp profile's
//! capability conditions follow the final set.
//!
//! # References
//! - [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)

/// Linux capability names in number order (`CAP_` prefix omitted).
pub const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Podman's default set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE,
/// SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT.
pub const DEFAULT: u64 = (1 << 0)
    | (1 << 1)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 10)
    | (1 << 31)
    | (1 << 6)
    | (1 << 8)
    | (1 << 7)
    | (1 << 18);

/// The number of a capability name (`"SYS_ADMIN"`, `"CAP_SYS_ADMIN"`, any case).
pub fn from_name(name: &str) -> Option<u32> {
    let n = name.to_ascii_uppercase();
    let n = n.strip_prefix("CAP_").unwrap_or(&n);
    NAMES.iter().position(|c| *c == n).map(|i| i as u32)
}

/// Names of the capabilities in a mask.
pub fn names(mask: u64) -> Vec<&'static str> {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u64 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}
