//! Linux capability names and numbers (`linux/capability.h`).

/// Linux capability names in number order, without the `CAP_` prefix: the one table the
/// engine, the CLI and the C ABI use.
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

/// Number of a capability name (`"CAP_SYS_ADMIN"` or `"sys_admin"` → 21); case-insensitive,
/// the `CAP_` prefix is optional.
pub fn cap_number(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    NAMES.iter().position(|c| *c == bare).map(|i| i as u32)
}

/// Names of the capabilities in a mask, in number order (without the `CAP_` prefix).
pub fn names(mask: u64) -> Vec<&'static str> {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u64 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Bit mask with the named capabilities set. Panics on an unknown name (for constants).
pub fn cap_mask(names: &[&str]) -> u64 {
    names.iter().fold(0, |m, n| {
        m | 1u64 << cap_number(n).unwrap_or_else(|| panic!("unknown capability {n}"))
    })
}

/// [`cap_mask`] at compile time, for names written exactly as in [`NAMES`] with the `CAP_`
/// prefix (a build error otherwise).
const fn const_mask(names: &[&str]) -> u64 {
    let mut mask = 0;
    let mut i = 0;
    while i < names.len() {
        let name = names[i].as_bytes();
        let mut n = 0;
        loop {
            assert!(n < NAMES.len(), "unknown capability");
            if prefixed_eq(name, NAMES[n].as_bytes()) {
                break;
            }
            n += 1;
        }
        mask |= 1 << n;
        i += 1;
    }
    mask
}

/// Whether `name` is `CAP_` followed by `bare`.
const fn prefixed_eq(name: &[u8], bare: &[u8]) -> bool {
    const PREFIX: &[u8] = b"CAP_";
    if name.len() != PREFIX.len() + bare.len() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        let want = if i < PREFIX.len() {
            PREFIX[i]
        } else {
            bare[i - PREFIX.len()]
        };
        if name[i] != want {
            return false;
        }
        i += 1;
    }
    true
}

/// Every capability this crate knows (`CAP_CHOWN` ..= `CAP_CHECKPOINT_RESTORE`).
pub const ALL_CAPS: u64 = (1u64 << NAMES.len()) - 1;

/// Podman's default capability set.
pub const PODMAN_DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// [`PODMAN_DEFAULT_CAPS`] as a mask.
pub const PODMAN_DEFAULT: u64 = const_mask(PODMAN_DEFAULT_CAPS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_names_map_to_their_kernel_numbers() {
        assert_eq!(cap_number("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(cap_number("sys_chroot"), Some(18));
        assert_eq!(cap_number("CAP_AUDIT_WRITE"), Some(29));
        assert_eq!(cap_number("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(cap_number("CAP_NOPE"), None);
        assert_eq!(ALL_CAPS.count_ones() as usize, NAMES.len());
    }

    #[test]
    fn the_compile_time_default_set_equals_the_named_one() {
        assert_eq!(PODMAN_DEFAULT, cap_mask(PODMAN_DEFAULT_CAPS));
        // CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
        // NET_BIND_SERVICE, SYS_CHROOT, SETFCAP.
        let bits = [0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 31];
        assert_eq!(PODMAN_DEFAULT, bits.iter().fold(0, |m, b| m | 1 << b));
    }
}
