//! What a spawned sandbox actually enforces: namespaces, capabilities, landlock ABI and
//! handled access sets, seccomp profile and filter length. Every front end reports this
//! alike (the CLI's `-v` log and `--json-status`).

use std::time::Duration;

use crate::namespace::Namespace;

/// How long each part of the setup took (from `spawn()` to the program's `execve`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SetupTimings {
    /// Building the plan in the parent (paths, mount plan, seccomp program, landlock).
    pub prepare: Duration,
    /// `clone3` with the namespaces.
    pub clone: Duration,
    /// Writing the id maps.
    pub idmap: Duration,
    /// Starting pasta and waiting until it configured the namespace.
    pub network: Duration,
    /// From the go-ahead until the child ran again (scheduling).
    pub release: Duration,
    /// Building the new root and `pivot_root` (child).
    pub mounts: Duration,
    /// Host name, nested user namespace, keyring, session, credentials, capabilities
    /// (child).
    pub identity: Duration,
    /// no_new_privs, working directory, landlock, descriptors, resource limits, seccomp
    /// (child).
    pub confine: Duration,
    /// From the end of setup until the parent saw `execve` succeed.
    pub exec: Duration,
    /// Everything, from `spawn()` to `execve`.
    pub total: Duration,
}

/// Nanoseconds of `CLOCK_MONOTONIC`, as the child records them.
pub(crate) fn now_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(t.tv_nsec as u64)
}

impl SetupTimings {
    /// From parent marks `[start, prepared, cloned, mapped, network, exec]` and the child's
    /// `[released, mounted, identity, confined]` (0 = not reached).
    pub(crate) fn from_marks(p: [u64; 6], c: [u64; 4]) -> Self {
        let d = |a: u64, b: u64| {
            if a == 0 || b == 0 {
                Duration::ZERO
            } else {
                Duration::from_nanos(b.saturating_sub(a))
            }
        };
        let [start, prepared, cloned, mapped, network, exec] = p;
        let [released, mounted, identity, confined] = c;
        SetupTimings {
            prepare: d(start, prepared),
            clone: d(prepared, cloned),
            idmap: d(cloned, mapped),
            network: d(mapped, network),
            release: d(network, released),
            mounts: d(released, mounted),
            identity: d(mounted, identity),
            confine: d(identity, confined),
            exec: d(confined, exec),
            total: d(start, exec),
        }
    }
}

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
    /// What the ruleset could not enforce (too old an ABI).
    pub dropped: Vec<crate::landlock::Dropped>,
}

/// The seccomp part of [`Enforcement`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SeccompReport {
    /// Profile name (`podman`, `audit`, or the OCI file).
    pub profile: String,
    /// Number of BPF instructions installed.
    pub instructions: usize,
    /// Rules the profile selected (one per system call name of each applying entry).
    pub rules: usize,
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
    /// The sandbox holds host root's ids and may not create set-id files or file
    /// capabilities: `CAP_SETFCAP` is dropped and, when [`Enforcement::seccomp`] is set, the
    /// filter denies set-id modes (see [`crate::seccomp::filter::setid`] for what remains).
    pub setid_denied: bool,
    /// How long the setup took, part by part.
    pub timings: SetupTimings,
}
