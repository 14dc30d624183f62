//! Landlock ABI facts: access-right bits, what each ABI version adds, and the kernel query.

use super::error::LandlockError;

/// Newest ABI this module knows. A newer kernel is driven as if it were this ABI (landlock
/// is backward compatible), so rights added later are neither handled nor reported.
pub const LATEST_ABI: u32 = 7;

/// `LANDLOCK_ACCESS_FS_EXECUTE` (ABI 1).
pub const FS_EXECUTE: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_FS_WRITE_FILE` (ABI 1).
pub const FS_WRITE_FILE: u64 = 1 << 1;
/// `LANDLOCK_ACCESS_FS_READ_FILE` (ABI 1).
pub const FS_READ_FILE: u64 = 1 << 2;
/// `LANDLOCK_ACCESS_FS_READ_DIR` (ABI 1).
pub const FS_READ_DIR: u64 = 1 << 3;
/// `LANDLOCK_ACCESS_FS_REMOVE_DIR` (ABI 1).
pub const FS_REMOVE_DIR: u64 = 1 << 4;
/// `LANDLOCK_ACCESS_FS_REMOVE_FILE` (ABI 1).
pub const FS_REMOVE_FILE: u64 = 1 << 5;
/// `LANDLOCK_ACCESS_FS_MAKE_CHAR` (ABI 1).
pub const FS_MAKE_CHAR: u64 = 1 << 6;
/// `LANDLOCK_ACCESS_FS_MAKE_DIR` (ABI 1).
pub const FS_MAKE_DIR: u64 = 1 << 7;
/// `LANDLOCK_ACCESS_FS_MAKE_REG` (ABI 1).
pub const FS_MAKE_REG: u64 = 1 << 8;
/// `LANDLOCK_ACCESS_FS_MAKE_SOCK` (ABI 1).
pub const FS_MAKE_SOCK: u64 = 1 << 9;
/// `LANDLOCK_ACCESS_FS_MAKE_FIFO` (ABI 1).
pub const FS_MAKE_FIFO: u64 = 1 << 10;
/// `LANDLOCK_ACCESS_FS_MAKE_BLOCK` (ABI 1).
pub const FS_MAKE_BLOCK: u64 = 1 << 11;
/// `LANDLOCK_ACCESS_FS_MAKE_SYM` (ABI 1).
pub const FS_MAKE_SYM: u64 = 1 << 12;
/// `LANDLOCK_ACCESS_FS_REFER` (ABI 2): link or rename a file into another directory.
pub const FS_REFER: u64 = 1 << 13;
/// `LANDLOCK_ACCESS_FS_TRUNCATE` (ABI 3).
pub const FS_TRUNCATE: u64 = 1 << 14;
/// `LANDLOCK_ACCESS_FS_IOCTL_DEV` (ABI 5): ioctl on character and block devices.
pub const FS_IOCTL_DEV: u64 = 1 << 15;

/// `LANDLOCK_ACCESS_NET_BIND_TCP` (ABI 4).
pub const NET_BIND_TCP: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_NET_CONNECT_TCP` (ABI 4).
pub const NET_CONNECT_TCP: u64 = 1 << 1;

/// `LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET` (ABI 6).
pub const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
/// `LANDLOCK_SCOPE_SIGNAL` (ABI 6).
pub const SCOPE_SIGNAL: u64 = 1 << 1;

/// First ABI with network (TCP port) rules.
pub const NET_ABI: u32 = 4;
/// First ABI with scopes.
pub const SCOPE_ABI: u32 = 6;

/// Every ABI-1 filesystem right (bits 0..=12).
const FS_ABI1: u64 = (1 << 13) - 1;

/// The filesystem rights ABI `abi` knows (0 for ABI 0, i.e. no landlock).
pub const fn fs_rights(abi: u32) -> u64 {
    let mut bits = 0;
    if abi >= 1 {
        bits |= FS_ABI1;
    }
    if abi >= 2 {
        bits |= FS_REFER;
    }
    if abi >= 3 {
        bits |= FS_TRUNCATE;
    }
    if abi >= 5 {
        bits |= FS_IOCTL_DEV;
    }
    bits
}

/// The network rights ABI `abi` knows.
pub const fn net_rights(abi: u32) -> u64 {
    if abi >= NET_ABI {
        NET_BIND_TCP | NET_CONNECT_TCP
    } else {
        0
    }
}

/// The scopes ABI `abi` knows.
pub const fn scopes(abi: u32) -> u64 {
    if abi >= SCOPE_ABI {
        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
    } else {
        0
    }
}

/// The highest landlock ABI of the running kernel:
/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`.
///
/// Returns `Ok(0)` when landlock is not available (`ENOSYS`: not built in; `EOPNOTSUPP`:
/// built in but disabled at boot). Any other error is returned as
/// [`LandlockError::Syscall`].
pub fn kernel_abi() -> Result<u32, LandlockError> {
    use crate::probe::Support;
    match crate::probe::landlock_abi() {
        Ok(v) => Ok(v),
        Err(Support::Missing | Support::Disabled) => Ok(0),
        Err(other) => Err(LandlockError::Syscall {
            call: "landlock_create_ruleset",
            errno: other.errno().unwrap_or(0),
        }),
    }
}

/// Names of the filesystem rights, bit by bit (`execute` is bit 0).
const FS_NAMES: [&str; 16] = [
    "execute",
    "write_file",
    "read_file",
    "read_dir",
    "remove_dir",
    "remove_file",
    "make_char",
    "make_dir",
    "make_reg",
    "make_sock",
    "make_fifo",
    "make_block",
    "make_sym",
    "refer",
    "truncate",
    "ioctl_dev",
];

fn names_of(bits: u64, names: &'static [&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// The names of the filesystem rights in `bits` (`execute`, `write_file`, ...), lowest bit
/// first; unknown bits are left out.
pub fn fs_right_names(bits: u64) -> Vec<&'static str> {
    names_of(bits, &FS_NAMES)
}

/// The names of the network rights in `bits`: `bind_tcp`, `connect_tcp`.
pub fn net_right_names(bits: u64) -> Vec<&'static str> {
    names_of(bits, &["bind_tcp", "connect_tcp"])
}

/// The names of the scopes in `bits`: `abstract_unix_socket`, `signal`.
pub fn scope_names(bits: u64) -> Vec<&'static str> {
    names_of(bits, &["abstract_unix_socket", "signal"])
}
