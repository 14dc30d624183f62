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

pub use hakoniwa_seccomp::caps::{names, NAMES};

/// Podman's default set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE,
/// SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT.
pub const DEFAULT: u64 = hakoniwa_seccomp::caps::PODMAN_DEFAULT;

/// The number of a capability name (`"SYS_ADMIN"`, `"CAP_SYS_ADMIN"`, any case).
pub fn from_name(name: &str) -> Option<u32> {
    hakoniwa_seccomp::caps::cap_number(name)
}
