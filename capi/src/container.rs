//! `hakoniwa_container_t`: what the sandbox is. Mirrors `hakoniwa::Container`.
//!
//! Threads: the setters change the container and must not run while any other thread uses
//! it; once configured, any number of threads may call `hakoniwa_command_new` on it at once.

use std::ffi::{c_char, c_int};
use std::path::Path;

use hakoniwa::landlock::Ruleset;
use hakoniwa::seccomp::Seccomp;
use hakoniwa::{Container, Network, Pasta};

use crate::args::{bytes, opt_bytes, out, slice, string_array, text};
use crate::consts::{self, HAKONIWA_NETWORK_HOST, HAKONIWA_NETWORK_NONE};
use crate::error::{guard, guard_code, Failure, Result};
use crate::handles::{free_handle, handle_mut, new_handle, Handle};

/// A sandbox configuration (opaque). Make one with `hakoniwa_container_new`,
/// `hakoniwa_container_new_empty` or `hakoniwa_container_from_json`; free it with
/// `hakoniwa_container_free` (commands made from it stay valid: they hold a copy).
pub struct hakoniwa_container_t {
    pub(crate) inner: Container,
    /// The landlock ruleset built so far (the engine takes a whole ruleset).
    pub(crate) landlock: Ruleset,
}

impl Handle for hakoniwa_container_t {
    const NAME: &'static str = "hakoniwa_container_t";
}

impl hakoniwa_container_t {
    pub(crate) fn new(inner: Container) -> Self {
        hakoniwa_container_t {
            inner,
            landlock: Ruleset::new(),
        }
    }

    fn update_landlock(&mut self, f: impl FnOnce(&mut Ruleset)) {
        f(&mut self.landlock);
        self.inner.landlock(self.landlock.clone());
    }
}

/// Apply `f` to a live container.
fn with(
    c: *mut hakoniwa_container_t,
    f: impl FnOnce(&mut hakoniwa_container_t) -> Result<()>,
) -> c_int {
    guard_code(|| {
        // SAFETY: the documented threading rule: no other thread uses `c` during a setter.
        let c = unsafe { handle_mut(c) }?;
        f(c)
    })
}

/// A new container: new user, mount and PID namespaces, the caller's uid and gid mapped to
/// themselves, an empty tmpfs root with a procfs at `/proc`. Returns NULL only if the
/// library failed internally (see the last error).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_container_new() -> *mut hakoniwa_container_t {
    guard(
        |_| std::ptr::null_mut(),
        // The C ABI reports peak memory (usage.max_rss_kb) as it always did: with the init it
        // costs nothing (the init reports the program's rusage).
        || {
            let mut c = Container::new();
            c.peak_memory(true);
            Ok(new_handle(hakoniwa_container_t::new(c)))
        },
    )
}

/// A container with no namespaces at all (the program shares the host's filesystem and
/// process tree, confined only by limits, landlock and seccomp). NULL as for
/// `hakoniwa_container_new`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_container_new_empty() -> *mut hakoniwa_container_t {
    guard(
        |_| std::ptr::null_mut(),
        || {
            let mut c = Container::empty();
            c.peak_memory(true);
            Ok(new_handle(hakoniwa_container_t::new(c)))
        },
    )
}

/// A copy of a container (to derive variants from a common base).
///
/// Thread-safe for a container no thread changes.
#[no_mangle]
pub extern "C" fn hakoniwa_container_clone(
    c: *const hakoniwa_container_t,
    result: *mut *mut hakoniwa_container_t,
) -> c_int {
    guard_code(|| {
        let result = out(result, "result")?;
        // SAFETY: reading only; no thread changes a container that is being copied.
        let c = unsafe { crate::handles::handle_ref(c) }?;
        *result = new_handle(hakoniwa_container_t {
            inner: c.inner.clone(),
            landlock: c.landlock.clone(),
        });
        Ok(())
    })
}

/// Free a container. NULL is ignored; a pointer that is not a live container sets the
/// last error and is not touched.
///
/// Not thread-safe for the same container: no other thread may use it.
#[no_mangle]
pub extern "C" fn hakoniwa_container_free(c: *mut hakoniwa_container_t) {
    // SAFETY: the caller's contract: nothing else uses `c` now.
    guard(|_| (), || unsafe { free_handle(c) })
}

/// Create a new namespace (`HAKONIWA_NS_*`) for the program.
#[no_mangle]
pub extern "C" fn hakoniwa_container_unshare(c: *mut hakoniwa_container_t, ns: u32) -> c_int {
    with(c, |c| {
        c.inner.unshare(consts::namespace(ns)?);
        Ok(())
    })
}

/// Share the caller's namespace (`HAKONIWA_NS_*`): undo `hakoniwa_container_unshare`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_share(c: *mut hakoniwa_container_t, ns: u32) -> c_int {
    with(c, |c| {
        c.inner.share(consts::namespace(ns)?);
        Ok(())
    })
}

/// Map one uid: the caller's uid appears as `container_id` inside.
#[no_mangle]
pub extern "C" fn hakoniwa_container_uidmap(
    c: *mut hakoniwa_container_t,
    container_id: u32,
) -> c_int {
    with(c, |c| {
        c.inner.uidmap(container_id);
        Ok(())
    })
}

/// Map one gid: the caller's gid appears as `container_id` inside.
#[no_mangle]
pub extern "C" fn hakoniwa_container_gidmap(
    c: *mut hakoniwa_container_t,
    container_id: u32,
) -> c_int {
    with(c, |c| {
        c.inner.gidmap(container_id);
        Ok(())
    })
}

fn triples(maps: *const u32, count: usize) -> Result<Vec<(u32, u32, u32)>> {
    let n = count
        .checked_mul(3)
        .ok_or_else(|| Failure::invalid("too many id map ranges"))?;
    Ok(slice(maps, n, "maps")?
        .chunks_exact(3)
        .map(|t| (t[0], t[1], t[2]))
        .collect())
}

/// Map uid ranges: `maps` holds `count` triples `{container_id, host_id, count}` (ranges
/// other than the caller's own uid go through `newuidmap` when the caller is not root).
/// Replaces earlier uid maps.
#[no_mangle]
pub extern "C" fn hakoniwa_container_uidmaps(
    c: *mut hakoniwa_container_t,
    maps: *const u32,
    count: usize,
) -> c_int {
    with(c, |c| {
        c.inner.uidmaps(&triples(maps, count)?);
        Ok(())
    })
}

/// Map gid ranges, as `hakoniwa_container_uidmaps`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_gidmaps(
    c: *mut hakoniwa_container_t,
    maps: *const u32,
    count: usize,
) -> c_int {
    with(c, |c| {
        c.inner.gidmaps(&triples(maps, count)?);
        Ok(())
    })
}

/// Set the host name (implies a new UTS namespace). UTF-8.
#[no_mangle]
pub extern "C" fn hakoniwa_container_hostname(
    c: *mut hakoniwa_container_t,
    name: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner.hostname(text(name, "name")?);
        Ok(())
    })
}

/// Set a resource limit (`HAKONIWA_RLIMIT_*`; `HAKONIWA_RLIM_INFINITY` = unlimited).
#[no_mangle]
pub extern "C" fn hakoniwa_container_setrlimit(
    c: *mut hakoniwa_container_t,
    resource: u32,
    soft: u64,
    hard: u64,
) -> c_int {
    with(c, |c| {
        c.inner.setrlimit(consts::rlimit(resource)?, soft, hard);
        Ok(())
    })
}

/// Populate the root from a directory: for `"/"` the host's `/bin /etc /lib* /sbin /usr`
/// read-only, for any other directory every top-level entry.
#[no_mangle]
pub extern "C" fn hakoniwa_container_rootfs(
    c: *mut hakoniwa_container_t,
    dir: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner.rootfs(bytes(dir, "dir")?);
        Ok(())
    })
}

/// Use a host directory as the root instead of a tmpfs (read-only unless `rw` is non-zero).
#[no_mangle]
pub extern "C" fn hakoniwa_container_rootdir(
    c: *mut hakoniwa_container_t,
    dir: *const c_char,
    rw: c_int,
) -> c_int {
    with(c, |c| {
        c.inner.rootdir(bytes(dir, "dir")?, rw != 0);
        Ok(())
    })
}

/// Bind a host path read-only (recursively) at `target`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_bindmount_ro(
    c: *mut hakoniwa_container_t,
    source: *const c_char,
    target: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner
            .bindmount_ro(bytes(source, "source")?, bytes(target, "target")?);
        Ok(())
    })
}

/// Bind a host path read-write at `target`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_bindmount_rw(
    c: *mut hakoniwa_container_t,
    source: *const c_char,
    target: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner
            .bindmount_rw(bytes(source, "source")?, bytes(target, "target")?);
        Ok(())
    })
}

/// A minimal /dev at `target`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_devfsmount(
    c: *mut hakoniwa_container_t,
    target: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner.devfsmount(bytes(target, "target")?);
        Ok(())
    })
}

/// A new tmpfs at `target`; `size` in bytes (0 = the kernel's default), `mode` (0 = the
/// default, 0755).
#[no_mangle]
pub extern "C" fn hakoniwa_container_tmpfsmount(
    c: *mut hakoniwa_container_t,
    target: *const c_char,
    size: u64,
    mode: u32,
) -> c_int {
    with(c, |c| {
        let size = (size != 0).then_some(size);
        let mode = (mode != 0).then_some(mode);
        c.inner
            .tmpfsmount_with(bytes(target, "target")?, size, mode);
        Ok(())
    })
}

/// A new procfs at `target` (needs a new PID namespace).
#[no_mangle]
pub extern "C" fn hakoniwa_container_procfsmount(
    c: *mut hakoniwa_container_t,
    target: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner.procfsmount(bytes(target, "target")?);
        Ok(())
    })
}

/// Create a directory (and its parents) with `mode`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_dir(
    c: *mut hakoniwa_container_t,
    target: *const c_char,
    mode: u32,
) -> c_int {
    with(c, |c| {
        c.inner.dir(bytes(target, "target")?, mode);
        Ok(())
    })
}

/// Create a file with `len` bytes of `contents` (NULL allowed when `len` is 0).
#[no_mangle]
pub extern "C" fn hakoniwa_container_file(
    c: *mut hakoniwa_container_t,
    target: *const c_char,
    contents: *const u8,
    len: usize,
) -> c_int {
    with(c, |c| {
        let data = slice(contents, len, "contents")?;
        c.inner.file(bytes(target, "target")?, data);
        Ok(())
    })
}

/// Create a symbolic link `link -> original`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_symlink(
    c: *mut hakoniwa_container_t,
    original: *const c_char,
    link: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner
            .symlink(bytes(original, "original")?, bytes(link, "link")?);
        Ok(())
    })
}

/// Restrict a landlock resource (`HAKONIWA_LANDLOCK_*`) in a compatibility mode
/// (`HAKONIWA_COMPAT_*`): everything of it is denied except what rules allow.
#[no_mangle]
pub extern "C" fn hakoniwa_container_landlock_restrict(
    c: *mut hakoniwa_container_t,
    resource: u32,
    mode: u32,
) -> c_int {
    with(c, |c| {
        let (r, m) = (consts::resource(resource)?, consts::compat(mode)?);
        c.update_landlock(|l| {
            l.restrict(r, m);
        });
        Ok(())
    })
}

/// Allow `access` (`HAKONIWA_ACCESS_R | _W | _X`) beneath `path` (absolute, inside the
/// sandbox). The filesystem must be restricted.
#[no_mangle]
pub extern "C" fn hakoniwa_container_landlock_fs_rule(
    c: *mut hakoniwa_container_t,
    path: *const c_char,
    access: u32,
) -> c_int {
    with(c, |c| {
        let (p, a) = (
            Path::new(bytes(path, "path")?).to_path_buf(),
            consts::access(access)?,
        );
        c.update_landlock(|l| {
            l.add_fs_rule(p, a);
        });
        Ok(())
    })
}

/// Allow TCP `port` for `resource` (`HAKONIWA_LANDLOCK_TCP_BIND` or `_TCP_CONNECT`).
#[no_mangle]
pub extern "C" fn hakoniwa_container_landlock_net_rule(
    c: *mut hakoniwa_container_t,
    port: u16,
    resource: u32,
) -> c_int {
    with(c, |c| {
        let r = consts::resource(resource)?;
        c.update_landlock(|l| {
            l.add_net_rule(port, r);
        });
        Ok(())
    })
}

/// Confine the sandbox to its landlock domain for a scope (`HAKONIWA_SCOPE_*`).
#[no_mangle]
pub extern "C" fn hakoniwa_container_landlock_scope(
    c: *mut hakoniwa_container_t,
    scope: u32,
    mode: u32,
) -> c_int {
    with(c, |c| {
        let (s, m) = (consts::scope(scope)?, consts::compat(mode)?);
        c.update_landlock(|l| {
            l.scope(s, m);
        });
        Ok(())
    })
}

pub(crate) fn seccomp_by_name(name: &str) -> Result<Seccomp> {
    match name {
        "podman" | "default" => Ok(Seccomp::Podman),
        "audit" => Ok(Seccomp::Audit),
        "unconfined" => Ok(Seccomp::Unconfined),
        _ => Err(Failure::invalid(format!(
            "unknown seccomp profile {name:?} (podman, audit, unconfined)"
        ))),
    }
}

/// Choose a built-in seccomp profile: `"podman"` (the default), `"audit"` or
/// `"unconfined"`.
#[no_mangle]
pub extern "C" fn hakoniwa_container_seccomp(
    c: *mut hakoniwa_container_t,
    profile: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner.seccomp(seccomp_by_name(text(profile, "profile")?)?);
        Ok(())
    })
}

/// Use an OCI (Docker/Podman) seccomp profile given as JSON text; `name` is what reports
/// show. The profile is checked by spawn (`HAKONIWA_ERROR_SECCOMP`).
#[no_mangle]
pub extern "C" fn hakoniwa_container_seccomp_oci(
    c: *mut hakoniwa_container_t,
    name: *const c_char,
    json: *const c_char,
) -> c_int {
    with(c, |c| {
        c.inner.seccomp(Seccomp::Oci {
            name: text(name, "name")?.to_string(),
            json: text(json, "json")?.to_string(),
        });
        Ok(())
    })
}

/// Use an OCI seccomp profile read now from a host file (reported under its path).
#[no_mangle]
pub extern "C" fn hakoniwa_container_seccomp_file(
    c: *mut hakoniwa_container_t,
    path: *const c_char,
) -> c_int {
    with(c, |c| {
        let p = bytes(path, "path")?;
        let json = std::fs::read_to_string(p)
            .map_err(|e| Failure::io(&format!("reading {}", Path::new(p).display()), e))?;
        c.inner.seccomp(Seccomp::Oci {
            name: Path::new(p).display().to_string(),
            json,
        });
        Ok(())
    })
}

/// Give a uid-0 program a capability beyond the default set (see `hakoniwa_cap_from_name`).
#[no_mangle]
pub extern "C" fn hakoniwa_container_cap_add(c: *mut hakoniwa_container_t, cap: u32) -> c_int {
    with(c, |c| {
        c.inner.cap_add(cap);
        Ok(())
    })
}

/// Take a capability away from a uid-0 program.
#[no_mangle]
pub extern "C" fn hakoniwa_container_cap_drop(c: *mut hakoniwa_container_t, cap: u32) -> c_int {
    with(c, |c| {
        c.inner.cap_drop(cap);
        Ok(())
    })
}

/// Keep exactly the capabilities in `mask` (bit n = capability n) for a uid-0 program.
#[no_mangle]
pub extern "C" fn hakoniwa_container_capabilities(
    c: *mut hakoniwa_container_t,
    mask: u64,
) -> c_int {
    with(c, |c| {
        c.inner.capabilities(mask);
        Ok(())
    })
}

/// The number of a capability name (`"CAP_NET_ADMIN"` or `"net_admin"`), or a negative
/// error code.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_cap_from_name(name: *const c_char) -> c_int {
    by_name(name, "capability", |n| {
        hakoniwa::caps::from_name(n).map(|v| v as c_int)
    })
}

/// The number `find` gives for a name, or an error naming the unknown `what`.
fn by_name(name: *const c_char, what: &str, find: impl FnOnce(&str) -> Option<c_int>) -> c_int {
    guard(
        |code| code,
        || {
            let n = text(name, "name")?;
            find(n).ok_or_else(|| Failure::invalid(format!("unknown {what} {n:?}")))
        },
    )
}

/// The `HAKONIWA_NS_*` number of a namespace name (`"cgroup"`, `"ipc"`, `"network"` or
/// `"net"`, `"mount"` or `"mnt"`, `"pid"`, `"user"`, `"uts"`), or a negative error code.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_namespace_from_name(name: *const c_char) -> c_int {
    by_name(name, "namespace", |n| {
        hakoniwa::Namespace::from_name(n).map(|ns| ns as c_int)
    })
}

/// The `HAKONIWA_RLIMIT_*` number of a resource name (`"cpu"`, `"fsize"`, `"nofile"`,
/// `"as"`, ... as in `RLIMIT_*` without the prefix, lowercase), or a negative error code.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_rlimit_from_name(name: *const c_char) -> c_int {
    by_name(name, "rlimit resource", |n| {
        hakoniwa::Rlimit::from_name(n).map(|r| r as c_int)
    })
}

/// Choose the network: `HAKONIWA_NETWORK_NONE` (a new namespace with `lo` up) or
/// `HAKONIWA_NETWORK_HOST` (the caller's).
#[no_mangle]
pub extern "C" fn hakoniwa_container_network(c: *mut hakoniwa_container_t, mode: u32) -> c_int {
    with(c, |c| {
        let n = match mode {
            HAKONIWA_NETWORK_NONE => Network::None,
            HAKONIWA_NETWORK_HOST => Network::Host,
            _ => return Err(Failure::invalid(format!("unknown network mode {mode}"))),
        };
        c.inner.network(n);
        Ok(())
    })
}

/// Connect a new network namespace through pasta: `program` is the pasta binary (NULL =
/// `pasta` from `PATH`), `args` its `nargs` extra options (e.g. `"-t", "8080"`; UTF-8).
#[no_mangle]
pub extern "C" fn hakoniwa_container_network_pasta(
    c: *mut hakoniwa_container_t,
    program: *const c_char,
    args: *const *const c_char,
    nargs: usize,
) -> c_int {
    with(c, |c| {
        let mut p = Pasta::new();
        if let Some(prog) = opt_bytes(program, "program")? {
            p.program(prog);
        }
        let list = string_array(args, nargs, "args")?;
        let list: Vec<String> = list
            .iter()
            .map(|a| {
                a.to_str()
                    .map(str::to_string)
                    .ok_or_else(|| Failure::invalid("a pasta option is not valid UTF-8"))
            })
            .collect::<Result<_>>()?;
        p.args(list);
        c.inner.network(p);
        Ok(())
    })
}

/// Run the program as `uid`/`gid` of the sandbox's user namespace. `groups` (`ngroups`
/// entries) sets the supplementary groups; NULL leaves them to the engine's default.
#[no_mangle]
pub extern "C" fn hakoniwa_container_user(
    c: *mut hakoniwa_container_t,
    uid: u32,
    gid: u32,
    groups: *const u32,
    ngroups: usize,
) -> c_int {
    with(c, |c| {
        let g = if groups.is_null() {
            None
        } else {
            Some(slice(groups, ngroups, "groups")?)
        };
        c.inner.user(uid, gid, g);
        Ok(())
    })
}

/// Run a small init as PID 1 of the PID namespace (`on` non-zero, the default: the program
/// is PID 2 and behaves as outside a sandbox with signals, Ctrl-C, Ctrl-Z and orphans), or
/// the program itself as PID 1 (`on` = 0, the original hakoniwa's layout). See the Rust
/// `Container::init` for what a custom seccomp profile must then allow.
#[no_mangle]
pub extern "C" fn hakoniwa_container_init(c: *mut hakoniwa_container_t, on: c_int) -> c_int {
    with(c, |c| {
        c.inner.init(on != 0);
        Ok(())
    })
}

/// Turn on a run-time switch (`HAKONIWA_RUNCTL_*`).
#[no_mangle]
pub extern "C" fn hakoniwa_container_runctl(c: *mut hakoniwa_container_t, ctl: u32) -> c_int {
    with(c, |c| {
        c.inner.runctl(consts::runctl(ctl)?);
        Ok(())
    })
}
