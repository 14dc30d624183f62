//! Errors of landlock configuration and negotiation.

use std::fmt;

/// Why a landlock configuration cannot be prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LandlockError {
    /// A resource restricted in [`CompatMode::Enforce`](super::CompatMode::Enforce) needs
    /// a newer landlock ABI than the kernel's.
    Unsupported {
        /// Resource name: `fs`, `tcp_bind`, `tcp_connect`, `scope:abstract_unix_socket`,
        /// `scope:signal`.
        resource: &'static str,
        /// First ABI that can enforce it.
        needed_abi: u32,
        /// ABI of the kernel (0: landlock unavailable).
        kernel_abi: u32,
    },
    /// A rule was added for a resource that is not restricted. Such a rule would be
    /// meaningless (everything of that resource is allowed), so it is refused instead of
    /// being silently ignored.
    RuleWithoutRestriction {
        /// Resource name (`fs`, `tcp_bind`, `tcp_connect`).
        resource: &'static str,
        /// The rule: a path or a port.
        rule: String,
    },
    /// A rule path is not absolute, or contains a NUL byte.
    BadPath(String),
    /// A filesystem rule grants no access at all.
    EmptyAccess(String),
    /// [`Ruleset::add_net_rule`](super::Ruleset::add_net_rule) was given a resource that
    /// has no ports (`Fs`).
    NotANetResource {
        /// The port of the rule.
        port: u16,
    },
    /// A landlock system call failed unexpectedly.
    Syscall {
        /// The system call.
        call: &'static str,
        /// Positive errno.
        errno: i32,
    },
}

impl fmt::Display for LandlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LandlockError::Unsupported {
                resource,
                needed_abi,
                kernel_abi: 0,
            } => write!(
                f,
                "landlock cannot restrict {resource}: landlock is not available in this kernel \
                 (ABI {needed_abi} needed)"
            ),
            LandlockError::Unsupported {
                resource,
                needed_abi,
                kernel_abi,
            } => write!(
                f,
                "landlock cannot restrict {resource}: it needs landlock ABI {needed_abi}, \
                 the kernel has ABI {kernel_abi}"
            ),
            LandlockError::RuleWithoutRestriction { resource, rule } => write!(
                f,
                "landlock rule {rule:?} for {resource}, but {resource} is not restricted"
            ),
            LandlockError::BadPath(p) => {
                write!(
                    f,
                    "landlock rule path {p:?} is not an absolute path without NUL bytes"
                )
            }
            LandlockError::EmptyAccess(p) => write!(f, "landlock rule {p:?} grants no access"),
            LandlockError::NotANetResource { port } => {
                write!(
                    f,
                    "landlock port rule {port} must be for tcp_bind or tcp_connect"
                )
            }
            LandlockError::Syscall { call, errno } => write!(
                f,
                "{call} failed: {}",
                std::io::Error::from_raw_os_error(*errno)
            ),
        }
    }
}

impl std::error::Error for LandlockError {}

/// What a [`Dropped`] entry could not enforce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum NotEnforced {
    /// A whole resource (dropped in [`CompatMode::BestEffort`](super::CompatMode::BestEffort)).
    Resource(super::Resource),
    /// A scope (dropped in `BestEffort`).
    Scope(super::Scope),
    /// One filesystem right newer than the ABI (an `FS_*` bit), in either mode.
    FsRight(u64),
}

impl NotEnforced {
    /// Name used in reports: `fs`, `tcp_bind`, `scope:signal`, `fs:truncate`, ...
    pub fn name(self) -> String {
        match self {
            NotEnforced::Resource(r) => r.name().to_string(),
            NotEnforced::Scope(s) => s.name().to_string(),
            NotEnforced::FsRight(bit) => {
                let names = super::fs_right_names(bit);
                format!("fs:{}", names.first().copied().unwrap_or("unknown"))
            }
        }
    }
}

/// A requested landlock restriction that is not enforced because the ABI is too old.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Dropped {
    /// What is not enforced.
    pub what: NotEnforced,
    /// First ABI that could enforce it.
    pub needed_abi: u32,
    /// ABI of the kernel (0: landlock unavailable).
    pub kernel_abi: u32,
    /// Rules of a dropped resource that are not applied (0 for scopes and rights).
    pub rules: usize,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: needs landlock ABI {}, kernel has {}",
            self.what.name(),
            self.needed_abi,
            self.kernel_abi
        )?;
        match self.what {
            NotEnforced::FsRight(_) => write!(f, " (not restricted)"),
            _ => write!(f, " ({} rule(s) not applied)", self.rules),
        }
    }
}
