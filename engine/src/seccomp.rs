//! Seccomp profiles for the sandbox: which filter the child installs last, right before
//! `execve`. The policy model, the binary-search code generator and the OCI loader live in
//! the `hakoniwa-seccomp` crate (re-exported as [`filter`]); this module chooses a profile,
//! evaluates capability conditions against what the program will really have, and caches
//! compiled programs.
//!
//! # References
//! - [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html)
//! - [seccomp_unotify(2)](https://man7.org/linux/man-pages/man2/seccomp_unotify.2.html) (the exit hook)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use hakoniwa_seccomp as filter;

use crate::error::{Error, Result};

/// Which seccomp filter the program gets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Seccomp {
    /// The built-in default: the containers/common (Podman) decisions, plus the terminal
    /// ioctls of [`filter::terminal`] (`TIOCSTI`, `TIOCLINUX`, `TIOCSETD`, ...) denied.
    /// Capability conditions follow the program's real set.
    Podman,
    /// Log every system call (nothing is denied).
    Audit,
    /// No filter.
    Unconfined,
    /// An OCI/Docker/Podman JSON profile: a name for reports and the JSON text.
    Oci {
        /// Name reported (usually the file path).
        name: String,
        /// The JSON document.
        json: String,
    },
}

impl Seccomp {
    /// The name reports use: `podman`, `audit`, `unconfined`, or the OCI profile's name.
    pub fn name(&self) -> &str {
        match self {
            Seccomp::Podman => "podman",
            Seccomp::Audit => "audit",
            Seccomp::Unconfined => "unconfined",
            Seccomp::Oci { name, .. } => name,
        }
    }
}

/// A compiled filter and what compiling it reported.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) program: filter::Program,
    /// The same program with the exit hook (`exit_group` → user notification), when the
    /// caller asked for peak memory.
    pub(crate) hooked: Option<Vec<filter::SockFilter>>,
    pub(crate) warnings: Vec<String>,
    /// Rules of the policy (for reports).
    pub(crate) rules: usize,
    /// Bit `n` set: the init's calls for the needs combination `n` were found allowed by
    /// `program` (see `init::check_compiled`), so later spawns skip the check.
    pub(crate) init_allowed: std::sync::atomic::AtomicU8,
    /// `program` lets the init start the program with a shared-memory clone
    /// (`init::allows_shared_clone`).
    pub(crate) init_shared_clone: bool,
    /// `program` lets the init wait on its watch (`init::allows_watch`).
    pub(crate) init_watch: bool,
}

type Cache = Mutex<HashMap<(Seccomp, u64, bool, bool), Arc<Compiled>>>;
/// Per process, so that a `fork` of the host never finds this lock held by a thread that
/// does not exist in the forked process.
static CACHE: crate::process_local::ProcessLocal<Cache> = crate::process_local::ProcessLocal::new();

/// The built-in profile compiled at build time for one capability set (see `build.rs`).
pub(crate) struct Precompiled {
    caps: u64,
    deny_setid: bool,
    profile: &'static str,
    rules: usize,
    arches: &'static [filter::Arch],
    plain: &'static [filter::SockFilter],
    hooked: &'static [filter::SockFilter],
}

mod generated {
    use super::filter::{Arch, SockFilter};
    use super::Precompiled;
    include!(concat!(env!("OUT_DIR"), "/precompiled_seccomp.rs"));
}

/// The built-in profile for `caps` and `deny_setid`, if it was compiled at build time.
fn precompiled(
    profile: &Seccomp,
    caps: u64,
    deny_setid: bool,
    exit_hook: bool,
) -> Option<Compiled> {
    if *profile != Seccomp::Podman {
        return None;
    }
    let p = generated::PRECOMPILED
        .iter()
        .find(|p| p.caps == caps && p.deny_setid == deny_setid)?;
    Some(Compiled {
        program: filter::Program {
            instructions: p.plain.to_vec(),
            profile: p.profile.to_owned(),
            arches: p.arches.to_vec(),
        },
        hooked: exit_hook.then(|| p.hooked.to_vec()),
        warnings: Vec::new(),
        rules: p.rules,
        init_allowed: Default::default(),
        init_shared_clone: crate::init::allows_shared_clone(p.plain),
        init_watch: crate::init::allows_watch(p.plain),
    })
}

/// Compile `profile` for a program holding capabilities `caps` (bit n = capability n);
/// with `deny_setid`, the set-id mode rules of [`filter::setid`] go on top (not with
/// [`Seccomp::Unconfined`], which installs no filter at all); with `exit_hook`, the
/// exit-hook variant is made too.
pub(crate) fn compile(
    profile: &Seccomp,
    caps: u64,
    deny_setid: bool,
    exit_hook: bool,
) -> Result<Option<Arc<Compiled>>> {
    if *profile == Seccomp::Unconfined {
        return Ok(None);
    }
    let cache = CACHE.get_or_init(Cache::default);
    let key = (profile.clone(), caps, deny_setid, exit_hook);
    if let Some(c) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(Some(c.clone()));
    }
    let c = match precompiled(profile, caps, deny_setid, exit_hook) {
        Some(c) => c,
        None => compile_now(profile, caps, deny_setid, exit_hook)?,
    };
    let c = Arc::new(c);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, c.clone());
    Ok(Some(c))
}

/// Compile at run time (profiles and capability sets not precompiled).
fn compile_now(
    profile: &Seccomp,
    caps: u64,
    deny_setid: bool,
    exit_hook: bool,
) -> Result<Compiled> {
    let typed = |error| Error::Seccomp {
        profile: profile.name().to_string(),
        error,
    };
    let (mut policy, warnings) = match profile {
        Seccomp::Podman => (filter::podman_default(caps), Vec::new()),
        Seccomp::Audit => (filter::audit(), Vec::new()),
        Seccomp::Oci { name, json } => {
            let (mut p, w) = filter::from_oci_json(json, caps).map_err(typed)?;
            p.set_name(name);
            (p, w.into_iter().map(|w| w.0).collect())
        }
        Seccomp::Unconfined => unreachable!("handled above"),
    };
    // The terminal ioctls are denied on top of every profile, not only the built-in one
    // (which has them already): the program keeps the caller's terminal (for job control)
    // when stdin is one.
    if !matches!(profile, Seccomp::Podman) {
        filter::terminal::deny_terminal_ioctls(&mut policy, true).map_err(typed)?;
    }
    if deny_setid {
        filter::setid::deny_setid_modes(&mut policy).map_err(typed)?;
    }
    let program = policy.compile().map_err(typed)?;
    let rules = policy.profile_rules();
    let hooked = if exit_hook {
        Some(filter::codegen::compile_with_exit_hook(&policy).map_err(typed)?)
    } else {
        None
    };
    Ok(Compiled {
        init_shared_clone: crate::init::allows_shared_clone(&program.instructions),
        init_watch: crate::init::allows_watch(&program.instructions),
        program,
        hooked,
        warnings,
        rules,
        init_allowed: Default::default(),
    })
}

/// Every capability the running kernel knows (from `/proc/sys/kernel/cap_last_cap`, read
/// once per process: it cannot change while the kernel runs; per process rather than a
/// `OnceLock`, whose initialisation a `fork` could catch half-way).
pub(crate) fn all_caps() -> u64 {
    static ALL: crate::process_local::ProcessLocal<u64> = crate::process_local::ProcessLocal::new();
    *ALL.get_or_init(|| {
        let mut buf = [0u8; 16];
        let last: u32 = crate::sys::read_small("/proc/sys/kernel/cap_last_cap", &mut buf)
            .and_then(|s| std::str::from_utf8(&s).ok()?.trim().parse().ok())
            .unwrap_or(40);
        if last >= 63 {
            u64::MAX
        } else {
            (1u64 << (last + 1)) - 1
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_caps_are_the_capabilities_up_to_the_kernel_s_last_one() {
        let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(all_caps().count_ones(), last + 1);
        assert_eq!(all_caps().trailing_ones(), last + 1);
    }

    #[test]
    fn precompiled_programs_equal_what_the_run_time_compiler_makes() {
        let setfcap = 1u64 << crate::host_root::CAP_SETFCAP;
        for (caps, setid) in [
            (crate::caps::DEFAULT, false),
            (crate::caps::DEFAULT & !setfcap, true),
            (0, false),
            (0, true),
        ] {
            assert!(
                generated::PRECOMPILED
                    .iter()
                    .any(|p| p.caps == caps && p.deny_setid == setid),
                "the default capability sets are precompiled: {caps:#x}, {setid}"
            );
        }
        for p in generated::PRECOMPILED {
            for hook in [false, true] {
                let pre = precompiled(&Seccomp::Podman, p.caps, p.deny_setid, hook).unwrap();
                let now = compile_now(&Seccomp::Podman, p.caps, p.deny_setid, hook).unwrap();
                assert_eq!(pre.program.instructions, now.program.instructions);
                assert_eq!(pre.program.profile, now.program.profile);
                assert_eq!(pre.program.arches, now.program.arches);
                assert_eq!(pre.hooked, now.hooked);
                assert_eq!(pre.warnings, now.warnings);
                assert_eq!(pre.rules, now.rules);
            }
        }
    }
}
