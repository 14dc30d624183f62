//! `hakoniwa doctor`: what this host supports, checked by trying it where possible.

use std::io::Write;
use std::path::Path;
use std::process::Command as HostCommand;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    /// `ok`, `info` (for the record, nothing to act on), `warn` (works partly or optional
    /// feature missing) or `fail`.
    pub status: &'static str,
    pub detail: String,
}

fn check(name: &'static str, status: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
    }
}

fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn userns() -> Check {
    let result = hakoniwa::Container::new()
        .rootfs("/")
        .command("/bin/true")
        .output();
    match result {
        Ok(o) if o.status.success() => check(
            "user namespaces",
            "ok",
            if rustix::process::geteuid().is_root() {
                "sandbox started as root (/bin/true ran)"
            } else {
                "unprivileged sandbox started (/bin/true ran)"
            },
        ),
        Ok(o) => check(
            "user namespaces",
            "fail",
            format!("/bin/true in a sandbox ended with {}", o.status),
        ),
        Err(e) => {
            let mut blockers = Vec::new();
            if sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
                blockers.push("kernel.unprivileged_userns_clone = 0".to_string());
            }
            if sysctl("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
                blockers.push("user.max_user_namespaces = 0".to_string());
            }
            if sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref()
                == Some("1")
            {
                blockers.push("kernel.apparmor_restrict_unprivileged_userns = 1 (AppArmor)".into());
            }
            let why = if blockers.is_empty() {
                "no known sysctl blocks it".to_string()
            } else {
                format!("blocked by {}", blockers.join(", "))
            };
            // Not the engine's Display: its hint points back to `hakoniwa doctor`.
            let what = match (e.stage(), e.errno()) {
                (Some(stage), Some(errno)) => format!(
                    "sandbox setup failed at stage {} (errno {errno}): {}",
                    stage.name(),
                    crate::strerror::strerror(errno)
                ),
                _ => e.to_string(),
            };
            check("user namespaces", "fail", format!("{what}; {why}"))
        }
    }
}

fn landlock() -> Check {
    use hakoniwa::probe::Support;
    match hakoniwa::probe::landlock_abi() {
        Ok(abi) => check("landlock", "ok", format!("ABI version {abi}")),
        Err(Support::Missing) => check("landlock", "warn", "not supported by the kernel"),
        Err(Support::Disabled) => {
            check("landlock", "warn", "supported but disabled at boot (lsm=)")
        }
        Err(e) => check(
            "landlock",
            "warn",
            format!(
                "probe failed: {}",
                crate::strerror::strerror(e.errno().unwrap_or(0))
            ),
        ),
    }
}

fn pasta() -> Check {
    match HostCommand::new("pasta").arg("--version").output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let first = text.lines().next().unwrap_or("").trim().to_string();
            // Rootless pasta opens /dev/net/tun after joining the sandbox's user namespace,
            // where only the "other" permission bits can grant access.
            use std::os::unix::fs::PermissionsExt;
            match std::fs::metadata("/dev/net/tun").map(|m| m.permissions().mode() & 0o006) {
                Ok(0o006) => check("pasta", "ok", first),
                Ok(_) => check(
                    "pasta",
                    "warn",
                    format!("{first}; /dev/net/tun is not rw for others (Debian's default is 0666), so rootless pasta fails"),
                ),
                Err(_) => check("pasta", "warn", format!("{first}; /dev/net/tun missing (needs the tun module)")),
            }
        }
        Ok(o) => check(
            "pasta",
            "warn",
            format!("pasta --version failed: {}", o.status),
        ),
        Err(_) => check(
            "pasta",
            "warn",
            "not found on PATH (needed for --network pasta)",
        ),
    }
}

fn on_path(name: &str) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_else(|_| hakoniwa::DEFAULT_PATH.to_string());
    path.split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

fn idmap_helpers() -> Vec<Check> {
    let mut out = Vec::new();
    for helper in ["newuidmap", "newgidmap"] {
        out.push(match on_path(helper) {
            Some(p) => check(helper, "ok", p),
            None => check(
                helper,
                "warn",
                "not found (needed for --userns auto and maps beyond your own id)",
            ),
        });
    }
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let name = std::fs::read_to_string("/etc/passwd").ok().and_then(|t| {
        t.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
        })
    });
    for (label, file, id) in [
        ("subuid", "/etc/subuid", uid),
        ("subgid", "/etc/subgid", gid),
    ] {
        out.push(
            match crate::settings::subid_range(file, id, name.as_deref()) {
                Some((start, count)) => check(label, "ok", format!("{start}:{count} in {file}")),
                None => check(label, "warn", format!("no range for the caller in {file}")),
            },
        );
    }
    out
}

fn syscall_probe(name: &'static str, support: hakoniwa::probe::Support, what: &str) -> Check {
    use hakoniwa::probe::Support;
    match support {
        Support::Missing => check(name, "fail", format!("{what}: not supported")),
        // fsopen needs CAP_SYS_ADMIN in the caller's user namespace: EPERM outside one still
        // proves the call exists (the sandbox has the capability inside its own namespace).
        Support::Denied if name == MOUNT_API => check(
            name,
            "ok",
            format!("{what}: available (EPERM outside a user namespace)"),
        ),
        Support::Denied => check(name, "warn", format!("{what}: blocked (EPERM)")),
        _ => check(name, "ok", format!("{what}: available")),
    }
}

/// The name of the mount API check.
const MOUNT_API: &str = "mount API";

/// Informational: no hakoniwa feature uses cgroups (`--unshare-cgroup` only needs the
/// namespace), so neither a missing cgroup2 mount nor a missing delegation is a warning.
fn cgroup() -> Check {
    let c = cgroup_state();
    check(
        "cgroup v2",
        "info",
        format!("not used by any hakoniwa feature; {}", c.detail),
    )
}

fn cgroup_state() -> Check {
    let is_cg2 = rustix::fs::statfs("/sys/fs/cgroup")
        .map(|s| s.f_type == 0x6367_7270)
        .unwrap_or(false);
    if !is_cg2 {
        return check(
            "cgroup v2",
            "warn",
            "/sys/fs/cgroup is not a cgroup2 file system",
        );
    }
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        })
        .unwrap_or_default();
    let dir = Path::new("/sys/fs/cgroup").join(own.trim_start_matches('/'));
    let writable = rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK).is_ok();
    if writable {
        check(
            "cgroup v2",
            "ok",
            format!("delegated: {} is writable", dir.display()),
        )
    } else {
        check(
            "cgroup v2",
            "warn",
            format!("not delegated: {} is not writable", dir.display()),
        )
    }
}

/// The uid and gid the unprivileged checks run as when doctor runs as root.
const NOBODY: u32 = 65534;

/// As root, run the checks that depend on privilege again as `nobody` (a re-run of this
/// binary: `doctor --json` with uid and gid 65534 and no supplementary groups).
fn unprivileged_checks() -> Vec<Check> {
    use std::os::unix::process::CommandExt;
    let note = |status, detail: String| check("privileges", status, detail);
    let exe = std::fs::read_link("/proc/self/exe");
    let out = match &exe {
        Ok(path) => HostCommand::new(path)
            .args(["doctor", "--json"])
            .uid(NOBODY)
            .gid(NOBODY)
            .output(),
        Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
    };
    let text = match (&out, &exe) {
        (Ok(o), _) => String::from_utf8_lossy(&o.stdout).into_owned(),
        // E.g. installed under /root (`cargo install`), which nobody may not enter.
        (Err(e), Ok(path)) if e.kind() == std::io::ErrorKind::PermissionDenied => format!(
            "nobody may not run {}: a directory on its path is closed to other users; \
             a copy in /usr/local/bin would do",
            path.display()
        ),
        (Err(e), _) => e.to_string(),
    };
    let parsed: Option<Vec<serde_json::Value>> = serde_json::from_str(&text).ok();
    let Some(list) = parsed else {
        return vec![note(
            "warn",
            format!(
                "running as root: every check ran as root; re-running them as nobody (uid {NOBODY}) failed ({}), so nothing says what an unprivileged user gets",
                text.lines().next().unwrap_or("no output")
            ),
        )];
    };
    let mut v = vec![note(
        "info",
        format!(
            "running as root: \"user namespaces\" and \"pasta\" were checked again as nobody (uid {NOBODY}), below; \
             newuidmap, subuid and subgid were checked for root only (run doctor as the user who will run sandboxes); \
             the other checks do not depend on the user"
        ),
    )];
    for (name, label) in [
        ("user namespaces", "user namespaces (as nobody)"),
        ("pasta", "pasta (as nobody)"),
    ] {
        if let Some(c) = list.iter().find(|c| c["name"] == name) {
            let status = match c["status"].as_str() {
                Some("ok") => "ok",
                Some("fail") => "fail",
                Some("info") => "info",
                _ => "warn",
            };
            v.push(check(
                label,
                status,
                c["detail"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    v
}

pub fn checks() -> Vec<Check> {
    let mut v = vec![userns(), landlock(), pasta()];
    v.extend(idmap_helpers());
    v.push(syscall_probe(
        MOUNT_API,
        hakoniwa::probe::mount_api(),
        "fsopen/fsmount",
    ));
    v.push(syscall_probe(
        "openat2",
        hakoniwa::probe::openat2(),
        "openat2",
    ));
    v.push(cgroup());
    if rustix::process::geteuid().is_root() {
        v.extend(unprivileged_checks());
    }
    v
}

/// `hakoniwa doctor`: 0 when nothing failed, 1 otherwise.
pub fn main(json: bool) -> i32 {
    let checks = checks();
    // Written, not println!'d: `hakoniwa doctor | head` must not panic on a closed pipe.
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&checks).expect("plain data serializes")
        );
    } else {
        let w = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &checks {
            if writeln!(out, "{:<w$}  {:<4}  {}", c.name, c.status, c.detail).is_err() {
                break;
            }
        }
    }
    if checks.iter().any(|c| c.status == "fail") {
        1
    } else {
        0
    }
}
