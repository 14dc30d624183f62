//! The `-v` / `-vv` log: first the lines the original hakoniwa printed, in its wording and
//! order (`Unshare namespaces`, `Mount`, `FsOperation`, `UID mapping`, `GID mapping`, `Env`,
//! `Rlimit`, `Landlock`, `Seccomp: Load N rules ...`, `Execve`, `Exited`, `Metric`), then
//! ours (setup timings, capabilities, the landlock ABI and the filter actually installed).

use std::path::Path;

use hakoniwa::{Mount, Namespace};

use crate::config::LandlockResource;
use crate::printable::printable;
use crate::settings::Settings;

/// The original's names of namespaces (`CGROUP`, `MOUNT`, ...), sorted as it sorted them.
pub fn namespace_names(unshared: &[Namespace]) -> Vec<String> {
    let mut v: Vec<String> = unshared
        .iter()
        .map(|ns| format!("{ns:?}").to_uppercase())
        .collect();
    v.sort();
    v
}

fn idmap_lines(what: &str, maps: &[(u32, u32, u32)]) {
    for (c, h, n) in maps {
        log::debug!("{what} mapping: container_id: {c}, host_id: {h}, count: {n}");
    }
}

/// Everything known before the spawn, in the original's order. `rootfs` are the entries the
/// engine's layout makes of the rootfs directory.
pub fn plan(
    s: &Settings,
    unshared: &[Namespace],
    rootfs: &[Mount],
    uidmaps: &[(u32, u32, u32)],
    gidmaps: &[(u32, u32, u32)],
    envs: &[(String, String)],
) {
    if !log::log_enabled!(log::Level::Debug) {
        return;
    }
    log::debug!(
        "Unshare namespaces: {}",
        namespace_names(unshared).join(", ")
    );
    match &s.rootdir {
        Some((d, rw)) => log::debug!(
            "Mount:  <root>: {} (rootdir, {})",
            d.display(),
            if *rw { "rw" } else { "ro" }
        ),
        None => log::debug!("Mount:  <root>: tmpfs (read-only after setup)"),
    }
    // Names from the rootfs directory (an image the user may not have made): control
    // characters escaped, so they cannot forge log lines or drive the terminal.
    let p = |s: &Path| printable(&s.display().to_string());
    // A profile may list what the rootfs already brings (the shipped abstractions bind
    // /usr and /etc and link /bin, as `rootfs = "/"` does): the sandbox gets it once, and
    // the log says it once.
    let mut said = std::collections::HashSet::new();
    let mut say = |line: String| {
        if said.insert(line.clone()) {
            log::debug!("{line}");
        }
    };
    let mut symlinks: Vec<(String, String)> = Vec::new();
    for m in rootfs {
        match m {
            Mount::Symlink { original, target } => symlinks.push((p(target), p(original))),
            other => say(mount_line(other, p)),
        }
    }
    say("Mount:    proc: /proc".to_string());
    for m in &s.mounts {
        say(mount_line(m, |p| p.display().to_string()));
    }
    for (link, target) in symlinks {
        say(format!("FsOperation: symlink: {link} -> {target}"));
    }
    for (f, _) in &s.files {
        say(format!("FsOperation:   write: {}", f.display()));
    }
    for (d, _) in &s.dirs {
        say(format!("FsOperation:   mkdir: {}", d.display()));
    }
    for (o, l) in &s.symlinks {
        say(format!(
            "FsOperation: symlink: {} -> {}",
            l.display(),
            o.display()
        ));
    }
    idmap_lines("UID", uidmaps);
    idmap_lines("GID", gidmaps);
    for (k, v) in envs {
        log::debug!("Env: {k}={v}");
    }
    if !s.limits.is_empty() {
        // Sorted by name, as the original did.
        let mut limits: Vec<(&str, u64)> = s.limits.iter().map(|(r, v)| (r.name(), *v)).collect();
        limits.sort();
        let names: Vec<&str> = limits.iter().map(|(n, _)| *n).collect();
        log::debug!("Rlimit: {}", names.join(", "));
        for (n, v) in limits {
            log::trace!("Rlimit rule: {n:>7}: ({v}, {v})");
        }
    }
    let ll = &s.landlock;
    if !ll.restrict.is_empty() {
        let names: Vec<&str> = ll.restrict.iter().map(|r| r.name()).collect();
        log::debug!("Landlock: {}", names.join(", "));
        if ll.restrict.contains(&LandlockResource::Fs) {
            for (p, a) in &ll.fs {
                log::trace!("Landlock FS rule: {} {}", a.mode_string(), p.display());
            }
        }
        for (ports, r) in [
            (&ll.tcp_bind, LandlockResource::TcpBind),
            (&ll.tcp_connect, LandlockResource::TcpConnect),
        ] {
            for p in ports {
                log::trace!("Landlock NET rule: {} {p}", r.name());
            }
        }
    }
    // Ours.
    if let Some(h) = &s.hostname {
        log::debug!("Hostname: {h}");
    }
    if let Some(w) = s.walltime {
        log::debug!("Limit: walltime = {}s", w.as_secs_f64());
    }
    if s.allow_new_privs {
        log::debug!("NoNewPrivs: off (--allow-new-privs)");
    }
    if let Some(d) = &s.cwd {
        log::debug!("Workdir: {}", d.display());
    }
}

/// One `Mount:` line: the kind right-aligned as the original wrote it, then the bind's
/// source and the target (paths shown with `show`).
fn mount_line(m: &Mount, show: impl Fn(&Path) -> String) -> String {
    match m {
        Mount::Bind { source, target, .. } => format!(
            "Mount: {:>7}: {} -> {}",
            m.kind_name(),
            show(source),
            show(target)
        ),
        _ => format!("Mount: {:>7}: {}", m.kind_name(), show(m.target())),
    }
}

/// The original's seccomp and `Execve` lines, from what the spawn reported.
pub fn seccomp_and_execve(e: Option<&hakoniwa::Enforcement>, program: &str, args: &[String]) {
    if let Some(s) = e.and_then(|e| e.seccomp.as_ref()) {
        // The original's names (libseccomp's ScmpArch debug names), sorted as it did.
        let mut arches: Vec<String> = s
            .architectures
            .iter()
            .map(|a| match a.as_str() {
                "x86_64" => "X8664".to_string(),
                "x86" | "i386" => "X86".to_string(),
                "x32" => "X32".to_string(),
                other => other.to_uppercase(),
            })
            .collect();
        arches.sort();
        log::debug!(
            "Seccomp: Load {} rules for architectures({})",
            s.rules + 1,
            arches.join(", ")
        );
    }
    log::debug!("Execve: {program:?}, {args:?}");
}

/// Ours, after the spawn: timings, capabilities, landlock and the installed filter.
pub fn enforcement(e: &hakoniwa::Enforcement) {
    let t = &e.timings;
    let ms = |d: std::time::Duration| format!("{:.3}", d.as_secs_f64() * 1e3);
    log::debug!(
        "Setup: {} ms total (prepare {}, clone {}, idmap {}, network {}, release {}, mounts {}, identity {}, confine {}, exec {})",
        ms(t.total),
        ms(t.prepare),
        ms(t.clone),
        ms(t.idmap),
        ms(t.network),
        ms(t.release),
        ms(t.mounts),
        ms(t.identity),
        ms(t.confine),
        ms(t.exec)
    );
    if let Some(c) = e.capabilities {
        log::debug!("Capabilities: {}", hakoniwa::caps::names(c).join(", "));
    }
    match &e.landlock {
        Some(l) => log::debug!(
            "Landlock ABI: {}, handled fs {:#x}, net {:#x}, scoped {:#x}, {} path rule(s), {} port rule(s){}",
            l.abi,
            l.handled_fs,
            l.handled_net,
            l.scoped,
            l.fs_rules,
            l.net_rules,
            if l.dropped.is_empty() { String::new() } else { format!(", dropped: {}", l.dropped.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
        ),
        None => log::debug!("Landlock ABI: off"),
    }
    if e.setid_denied {
        log::debug!(
            "Set-id: the sandbox holds host root's ids: CAP_SETFCAP dropped{}",
            if e.seccomp.is_some() {
                "; chmod/fchmod/fchmodat/fchmodat2/mknod/mknodat/creat/open/openat with \
                 S_ISUID or S_ISGID denied, openat2 and io_uring_setup return ENOSYS"
            } else {
                "; set-id modes NOT denied (no seccomp filter)"
            }
        );
        log::debug!(
            "Set-id: warning: not blockable: a new directory inherits S_ISGID from a \
             set-group-ID parent; existing set-id files keep their bits when hard-linked or \
             copied up by overlayfs; --allow-setid turns the block off"
        );
    }
    match &e.seccomp {
        Some(s) => log::debug!(
            "Seccomp filter: profile {}, {} BPF instructions, architectures {}",
            s.profile,
            s.instructions,
            s.architectures.join(", ")
        ),
        None => log::debug!("Seccomp filter: none (unconfined)"),
    }
}

/// The original's `Exited` and `Metric` lines, then ours.
pub fn exited(status: &hakoniwa::ExitStatus) {
    let u = status.usage();
    log::debug!("Exited: {} (code {})", status.reason.name(), status.code());
    log::debug!(
        "Metric:      RealTime: {:>12} sec",
        u.real_time.as_secs_f64()
    );
    log::debug!(
        "Metric:      UserTime: {:>12} sec",
        u.user_time.as_secs_f64()
    );
    log::debug!(
        "Metric:       SysTime: {:>12} sec",
        u.system_time.as_secs_f64()
    );
    // Measured because -v asked for it; absent only when it cannot be read (unconfined).
    let hwm = u
        .max_rss_kb
        .map_or_else(|| "unknown".to_string(), |kb| kb.to_string());
    log::debug!("Metric:         VmHWM: {hwm:>12} kB");
}
