//! What a spawned sandbox actually enforces: namespaces, capabilities, landlock ABI and
//! handled access sets, seccomp profile and filter length. Every front end reports this
//! alike (the CLI's `-v` log and `--json-status`). Both reports are built here from the
//! plan: [`Enforcement`] at spawn, [`Enforced`] (its plain numbers) for the exit status.

use std::time::Duration;

use crate::container::Container;
use crate::namespace::Namespace;
use crate::plan::Storage;

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

/// When the parent reached each step of a spawn ([`now_ns`]; 0 = not reached).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Marks {
    /// `spawn()` was called.
    pub(crate) start: u64,
    /// The plan is complete.
    pub(crate) prepared: u64,
    /// `clone` returned.
    pub(crate) cloned: u64,
    /// The id maps are written.
    pub(crate) mapped: u64,
    /// pasta configured the network namespace.
    pub(crate) network: u64,
    /// The parent saw `execve` succeed.
    pub(crate) exec: u64,
}

impl Marks {
    /// Marks of a spawn starting now.
    pub(crate) fn start() -> Marks {
        Marks {
            start: now_ns(),
            ..Marks::default()
        }
    }
}

impl SetupTimings {
    /// From the parent's marks and the child's `[released, mounted, identity, confined]`
    /// (0 = not reached).
    pub(crate) fn from_marks(p: &Marks, c: [u64; 4]) -> Self {
        let d = |a: u64, b: u64| {
            if a == 0 || b == 0 {
                Duration::ZERO
            } else {
                Duration::from_nanos(b.saturating_sub(a))
            }
        };
        let Marks {
            start,
            prepared,
            cloned,
            mapped,
            network,
            exec,
        } = *p;
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

impl Enforcement {
    /// What a sandbox of container `c` built from `plan` enforces.
    pub(crate) fn new(c: &Container, plan: &Storage, timings: SetupTimings) -> Enforcement {
        Enforcement {
            namespaces: Namespace::ALL
                .iter()
                .copied()
                .filter(|ns| c.is_unshared(*ns))
                .collect(),
            capabilities: plan.caps.map(|p| p.keep),
            landlock: plan.landlock.as_ref().map(|l| {
                let r = l.report();
                let rules = l.plan();
                LandlockReport {
                    abi: r.abi,
                    handled_fs: r.handled_fs,
                    handled_net: r.handled_net,
                    scoped: r.scoped,
                    fs_rules: rules.fs_rules.len(),
                    net_rules: rules.net_rules.len(),
                    dropped: r.dropped.clone(),
                }
            }),
            seccomp: plan.seccomp.as_ref().map(|s| SeccompReport {
                profile: s.program.profile.clone(),
                instructions: s.program.instructions.len(),
                rules: s.rules,
                architectures: s
                    .program
                    .arches
                    .iter()
                    .map(|a| format!("{a:?}").to_lowercase())
                    .collect(),
            }),
            no_new_privs: plan.no_new_privs,
            setid_denied: plan.setid_denied,
            timings,
        }
    }
}

/// What the sandbox enforced, as plain numbers (the full report with names is
/// [`crate::Child::enforcement`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Enforced {
    /// Namespaces unshared, as a bit set of `1 << Namespace as u32`.
    pub namespaces: u8,
    /// Capabilities kept for a uid-0 program (bit n = capability n); 0 otherwise.
    pub capabilities: u64,
    /// Landlock ABI the ruleset was built for (0 = no landlock).
    pub landlock_abi: u32,
    /// Landlock `handled_access_fs`.
    pub landlock_fs: u64,
    /// Landlock `handled_access_net`.
    pub landlock_net: u64,
    /// Landlock `scoped`.
    pub landlock_scoped: u64,
    /// Length of the installed seccomp program (0 = no filter).
    pub seccomp_instructions: u32,
    /// `no_new_privs` was set.
    pub no_new_privs: bool,
}

impl From<&Enforcement> for Enforced {
    fn from(e: &Enforcement) -> Enforced {
        Enforced {
            namespaces: e
                .namespaces
                .iter()
                .fold(0, |m, ns| m | (1u8 << (*ns as u32))),
            capabilities: e.capabilities.unwrap_or(0),
            landlock_abi: e.landlock.as_ref().map_or(0, |l| l.abi),
            landlock_fs: e.landlock.as_ref().map_or(0, |l| l.handled_fs),
            landlock_net: e.landlock.as_ref().map_or(0, |l| l.handled_net),
            landlock_scoped: e.landlock.as_ref().map_or(0, |l| l.scoped),
            seccomp_instructions: e.seccomp.as_ref().map_or(0, |s| s.instructions as u32),
            no_new_privs: e.no_new_privs,
        }
    }
}
