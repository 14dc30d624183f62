//! `hakoniwa_status_t`: how the program ended, what it used, what the sandbox enforced.
//!
//! Threads: a status is immutable; any thread may read it at any time until it is freed.

use std::ffi::{c_char, c_int, CString};
use std::sync::{Arc, Mutex, OnceLock};

use hakoniwa::{Enforcement, ExitStatus, SetupTimings, Usage};

use crate::args::out;
use crate::error::{guard, guard_code, Failure, Result};
use crate::handles::{free_handle, handle_ref, Handle};
use crate::memory::give_string;

/// The end of a program (opaque). Free with `hakoniwa_status_free`.
pub struct hakoniwa_status_t {
    status: ExitStatus,
    enforcement: Arc<Enforcement>,
    seccomp_profile: Option<CString>,
    /// `hakoniwa_status_outcome_json`'s text, found or made on first use.
    outcome: OnceLock<Arc<CString>>,
}

impl Handle for hakoniwa_status_t {
    const NAME: &'static str = "hakoniwa_status_t";
}

impl hakoniwa_status_t {
    pub(crate) fn new(status: ExitStatus, enforcement: Arc<Enforcement>) -> Self {
        let seccomp_profile = enforcement
            .seccomp
            .as_ref()
            .and_then(|s| CString::new(s.profile.clone()).ok());
        hakoniwa_status_t {
            status,
            enforcement,
            seccomp_profile,
            outcome: OnceLock::new(),
        }
    }

    /// The status document with its measurements zeroed (see
    /// `hakoniwa_status_outcome_json`): the text of an earlier status that ended alike in a
    /// sandbox that enforced the same, or a new one.
    fn outcome(&self) -> Result<&CString> {
        if let Some(text) = self.outcome.get() {
            return Ok(text);
        }
        let status = ExitStatus {
            usage: Usage::default(),
            ..self.status
        };
        let found = recent_outcomes()
            .iter()
            .find(|k| k.status == status && same_but_timings(&k.enforcement, &self.enforcement))
            .map(|k| k.text.clone());
        let text = match found {
            Some(text) => text,
            None => {
                let enforcement = Enforcement {
                    timings: SetupTimings::default(),
                    ..(*self.enforcement).clone()
                };
                let document = status.to_json(&enforcement);
                let text =
                    Arc::new(CString::new(document).map_err(|_| {
                        Failure::invalid("the status document contains a NUL byte")
                    })?);
                let mut recent = recent_outcomes();
                if recent.len() == OUTCOMES_KEPT {
                    recent.remove(0);
                }
                recent.push(Outcome {
                    status,
                    enforcement: self.enforcement.clone(),
                    text: text.clone(),
                });
                text
            }
        };
        // Two threads may both get one; either text is the same.
        Ok(self.outcome.get_or_init(|| text))
    }
}

/// An outcome text and what it was written from: the status with its usage zeroed and the
/// enforcement (whose timings the text has as zero).
struct Outcome {
    status: ExitStatus,
    enforcement: Arc<Enforcement>,
    text: Arc<CString>,
}

/// Whether two enforcement reports are the same but for their setup timings. Every field is
/// named (no `..`), so a field added to `Enforcement` does not compile until it is
/// compared here.
fn same_but_timings(a: &Enforcement, b: &Enforcement) -> bool {
    let Enforcement {
        namespaces,
        capabilities,
        landlock,
        seccomp,
        no_new_privs,
        setid_denied,
        timings: _,
    } = a;
    *namespaces == b.namespaces
        && *capabilities == b.capabilities
        && *landlock == b.landlock
        && *seccomp == b.seccomp
        && *no_new_privs == b.no_new_privs
        && *setid_denied == b.setid_denied
}

/// How many outcome texts are kept for reuse (the most recent).
const OUTCOMES_KEPT: usize = 32;

/// The outcome texts of recent statuses: runs of one sandbox that end alike share one text
/// instead of each writing a status document.
fn recent_outcomes() -> std::sync::MutexGuard<'static, Vec<Outcome>> {
    static RECENT: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    RECENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resource usage of the program. The caller sets `size` to `sizeof(hakoniwa_usage_t)`;
/// the library fills at most that many bytes and sets `size` to what it filled, so the
/// struct can grow at its end in later versions.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct hakoniwa_usage_t {
    /// In: the caller's `sizeof(hakoniwa_usage_t)`; out: bytes filled.
    pub size: u32,
    /// Wall-clock time from spawn to exit, microseconds.
    pub real_time_us: u64,
    /// User CPU time, microseconds.
    pub user_time_us: u64,
    /// System CPU time, microseconds.
    pub system_time_us: u64,
    /// The program's own peak resident set size, KiB (0 when it could not be measured).
    pub max_rss_kb: u64,
    /// Page faults served without I/O.
    pub minor_faults: u64,
    /// Page faults that needed I/O.
    pub major_faults: u64,
    /// Voluntary context switches.
    pub voluntary_switches: u64,
    /// Involuntary context switches.
    pub involuntary_switches: u64,
}

/// What the sandbox enforced. `size` as for `hakoniwa_usage_t`. Bit sets: namespaces
/// `1 << HAKONIWA_NS_*`; landlock rights as the kernel's `LANDLOCK_ACCESS_*` /
/// `LANDLOCK_SCOPE_*` bits (names in `hakoniwa_status_to_json`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct hakoniwa_enforcement_t {
    /// In: the caller's `sizeof(hakoniwa_enforcement_t)`; out: bytes filled.
    pub size: u32,
    /// Namespaces unshared, `1 << HAKONIWA_NS_*`.
    pub namespaces: u32,
    /// 1 when the program is uid 0 and `capabilities` is meaningful, else 0.
    pub has_capabilities: u32,
    /// 1 when `no_new_privs` was set.
    pub no_new_privs: u32,
    /// Capabilities kept for a uid-0 program (bit n = capability n).
    pub capabilities: u64,
    /// Landlock ABI the ruleset was built for (0 = no landlock).
    pub landlock_abi: u32,
    /// Number of landlock path rules.
    pub landlock_fs_rules: u32,
    /// Landlock `handled_access_fs`.
    pub landlock_fs: u64,
    /// Landlock `handled_access_net`.
    pub landlock_net: u64,
    /// Landlock `scoped`.
    pub landlock_scoped: u64,
    /// Number of landlock port rules.
    pub landlock_net_rules: u32,
    /// Number of requested restrictions the kernel's landlock ABI could not enforce.
    pub landlock_dropped: u32,
    /// Length of the installed seccomp program (0 = no filter).
    pub seccomp_instructions: u32,
    /// Padding, always 0.
    pub reserved: u32,
    /// Setup time per part, nanoseconds: building the plan in the parent.
    pub setup_prepare_ns: u64,
    /// `clone3` with the namespaces.
    pub setup_clone_ns: u64,
    /// Writing the id maps.
    pub setup_idmap_ns: u64,
    /// Starting pasta.
    pub setup_network_ns: u64,
    /// From the go-ahead until the child ran again.
    pub setup_release_ns: u64,
    /// Building the new root (child).
    pub setup_mounts_ns: u64,
    /// Host name, limits, credentials, capabilities (child).
    pub setup_identity_ns: u64,
    /// no_new_privs, landlock, descriptors, seccomp (child).
    pub setup_confine_ns: u64,
    /// Until the parent saw `execve` succeed.
    pub setup_exec_ns: u64,
    /// Everything, from spawn to `execve`.
    pub setup_total_ns: u64,
}

/// Copy `value` into the caller's struct, at most `(*dst).size` bytes.
fn fill<T: Copy>(dst: *mut T, mut value: T, size_of: impl Fn(&mut T) -> &mut u32) -> Result<()> {
    let dst = out(dst, "result")?;
    let want = *size_of(dst) as usize;
    if want < 4 {
        return Err(Failure::invalid(
            "set result->size to sizeof the struct first",
        ));
    }
    let n = want.min(std::mem::size_of::<T>());
    *size_of(&mut value) = n as u32;
    // SAFETY: `dst` is valid for `want` >= `n` bytes (the caller's size field says so) and
    // `value` for size_of::<T>() >= `n`; they do not overlap (`value` is a local).
    unsafe {
        std::ptr::copy_nonoverlapping(
            (&value as *const T).cast::<u8>(),
            (dst as *mut T).cast::<u8>(),
            n,
        )
    };
    Ok(())
}

fn read<T>(s: *const hakoniwa_status_t, on_error: T, f: impl FnOnce(&hakoniwa_status_t) -> T) -> T {
    guard(
        |_| on_error,
        || {
            // SAFETY: statuses are immutable; the caller does not free it meanwhile.
            let s = unsafe { handle_ref(s) }?;
            Ok(f(s))
        },
    )
}

/// Why the program ended (`HAKONIWA_EXIT_*`), or `UINT32_MAX` for an invalid handle.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_reason(s: *const hakoniwa_status_t) -> u32 {
    read(s, u32::MAX, |s| s.status.reason as u32)
}

/// The program's exit code (0..255), or -1 when a signal ended it (or the handle is
/// invalid).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_exit_code(s: *const hakoniwa_status_t) -> c_int {
    read(s, -1, |s| s.status.exit_code.unwrap_or(-1))
}

/// The signal that ended the program, or 0 (also for an invalid handle).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_signal(s: *const hakoniwa_status_t) -> c_int {
    read(s, 0, |s| s.status.signal.unwrap_or(0))
}

/// The shell's view: the exit code, or 128 + signal (137 for a wall-time kill); negative
/// error code for an invalid handle.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_code(s: *const hakoniwa_status_t) -> c_int {
    guard(
        |c| c,
        || {
            // SAFETY: as in `read`.
            Ok(unsafe { handle_ref(s) }?.status.code())
        },
    )
}

/// 1 if the program exited with code 0, else 0.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_success(s: *const hakoniwa_status_t) -> c_int {
    read(s, 0, |s| s.status.success() as c_int)
}

/// 1 if the program dumped core, else 0.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_core_dumped(s: *const hakoniwa_status_t) -> c_int {
    read(s, 0, |s| s.status.core_dumped as c_int)
}

/// Fill `*result` with the resource usage (set `result->size` first).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_usage(
    s: *const hakoniwa_status_t,
    result: *mut hakoniwa_usage_t,
) -> c_int {
    guard_code(|| {
        // SAFETY: as in `read`.
        let u = unsafe { handle_ref(s) }?.status.usage;
        let us = |d: std::time::Duration| d.as_micros() as u64;
        let v = hakoniwa_usage_t {
            size: 0,
            real_time_us: us(u.real_time),
            user_time_us: us(u.user_time),
            system_time_us: us(u.system_time),
            max_rss_kb: u.max_rss_kb.unwrap_or(0),
            minor_faults: u.minor_faults,
            major_faults: u.major_faults,
            voluntary_switches: u.voluntary_switches,
            involuntary_switches: u.involuntary_switches,
        };
        fill(result, v, |x| &mut x.size)
    })
}

/// Fill `*result` with the enforcement report (set `result->size` first).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_enforcement(
    s: *const hakoniwa_status_t,
    result: *mut hakoniwa_enforcement_t,
) -> c_int {
    guard_code(|| {
        // SAFETY: as in `read`.
        let e = &unsafe { handle_ref(s) }?.enforcement;
        let ns = |d: std::time::Duration| d.as_nanos() as u64;
        let l = e.landlock.as_ref();
        let t = &e.timings;
        let v = hakoniwa_enforcement_t {
            size: 0,
            namespaces: e.namespaces.iter().fold(0, |m, n| m | 1 << (*n as u32)),
            has_capabilities: e.capabilities.is_some() as u32,
            no_new_privs: e.no_new_privs as u32,
            capabilities: e.capabilities.unwrap_or(0),
            landlock_abi: l.map_or(0, |l| l.abi),
            landlock_fs_rules: l.map_or(0, |l| l.fs_rules as u32),
            landlock_fs: l.map_or(0, |l| l.handled_fs),
            landlock_net: l.map_or(0, |l| l.handled_net),
            landlock_scoped: l.map_or(0, |l| l.scoped),
            landlock_net_rules: l.map_or(0, |l| l.net_rules as u32),
            landlock_dropped: l.map_or(0, |l| l.dropped.len() as u32),
            seccomp_instructions: e.seccomp.as_ref().map_or(0, |s| s.instructions as u32),
            reserved: 0,
            setup_prepare_ns: ns(t.prepare),
            setup_clone_ns: ns(t.clone),
            setup_idmap_ns: ns(t.idmap),
            setup_network_ns: ns(t.network),
            setup_release_ns: ns(t.release),
            setup_mounts_ns: ns(t.mounts),
            setup_identity_ns: ns(t.identity),
            setup_confine_ns: ns(t.confine),
            setup_exec_ns: ns(t.exec),
            setup_total_ns: ns(t.total),
        };
        fill(result, v, |x| &mut x.size)
    })
}

/// The seccomp profile's name (`"podman-default"`, `"audit"`, an OCI profile's name), or
/// NULL when no filter was installed. Owned by the status.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_seccomp_profile(s: *const hakoniwa_status_t) -> *const c_char {
    read(s, std::ptr::null(), |s| {
        s.seccomp_profile
            .as_ref()
            .map_or(std::ptr::null(), |p| p.as_ptr())
    })
}

/// The JSON status document, the same as `hakoniwa run --json-status` writes (schema:
/// `docs/status.schema.json`). `*json` receives a NUL-terminated string (free it with
/// `hakoniwa_string_free`) and `*len`, if `len` is not NULL, its length.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_to_json(
    s: *const hakoniwa_status_t,
    json: *mut *mut c_char,
    len: *mut usize,
) -> c_int {
    guard_code(|| {
        let json = out(json, "json")?;
        // SAFETY: as in `read`.
        let s = unsafe { handle_ref(s) }?;
        let len = if len.is_null() {
            None
        } else {
            Some(out(len, "len")?)
        };
        give_string(s.status.to_json(&s.enforcement), json, len)
    })
}

/// The status document (`hakoniwa_status_to_json`) with the figures that measure the run
/// zeroed: `real_time`, `user_time`, `system_time`, the fault and switch counts and every
/// part of `setup_ms` are 0, `max_rss_kb` is null. What is left says how the program ended
/// and what the sandbox enforced (`reason`, `code`, `exit_code`, `signal`, `core_dumped`,
/// `limit`, `namespaces`, `capabilities`, `no_new_privs`, `landlock`, `seccomp`): runs of
/// one configuration that end alike give the same text, so a binding can parse it once
/// and take the measurements from `hakoniwa_status_usage` and
/// `hakoniwa_status_enforcement`. Owned by the status (valid until `hakoniwa_status_free`);
/// NULL for an invalid handle.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_status_outcome_json(s: *const hakoniwa_status_t) -> *const c_char {
    guard(
        |_| std::ptr::null(),
        || {
            // SAFETY: as in `read`.
            Ok(unsafe { handle_ref(s) }?.outcome()?.as_ptr())
        },
    )
}

/// Free a status. NULL is ignored.
///
/// Not thread-safe for the same status: no other thread may use it.
#[no_mangle]
pub extern "C" fn hakoniwa_status_free(s: *mut hakoniwa_status_t) {
    // SAFETY: the caller's contract: nothing else uses `s` now.
    guard(|_| (), || unsafe { free_handle(s) })
}
