//! What a spawned sandbox actually enforces: namespaces, capabilities, landlock ABI and
//! handled access sets, seccomp profile and filter length. Every front end reports this
//! alike (the CLI's `-v` log and `--json-status`).

use crate::namespace::Namespace;

/// The landlock part of [`Enforcement`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LandlockReport {
    /// The ABI the ruleset was built for.
    pub abi: u32,
    /// `handled_access_fs`.
    pub handled_fs: u64,
    /// `handled_access_net`.
    pub handled_net: u64,
    /// `scoped`.
    pub scoped: u64,
    /// Number of path rules.
    pub fs_rules: usize,
    /// Number of port rules.
    pub net_rules: usize,
    /// What a `BestEffort` ruleset could not enforce.
    pub dropped: Vec<String>,
}

/// The seccomp part of [`Enforcement`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SeccompReport {
    /// Profile name (`podman`, `audit`, or the OCI file).
    pub profile: String,
    /// Number of BPF instructions installed.
    pub instructions: usize,
    /// Architectures the filter accepts (native first).
    pub architectures: Vec<String>,
}

/// What the sandbox enforces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Enforcement {
    /// Namespaces unshared.
    pub namespaces: Vec<Namespace>,
    /// Capabilities kept for a uid-0 program (`None` when the program is not uid 0).
    pub capabilities: Option<u64>,
    /// Landlock, when a ruleset is applied.
    pub landlock: Option<LandlockReport>,
    /// Seccomp, when a filter is installed.
    pub seccomp: Option<SeccompReport>,
    /// `no_new_privs` set.
    pub no_new_privs: bool,
}
