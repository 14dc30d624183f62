//! `hakoniwa doctor`: what this host supports, checked by trying it where possible.

use std::path::Path;
use std::process::Command as HostCommand;

use serde::Serialize;
use syscalls::{syscall, Sysno};

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    /// `ok`, `warn` (works partly or optional feature missing) or `fail`.
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
            "unprivileged sandbox started (/bin/true ran)",
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
            check("user namespaces", "fail", format!("{e}; {why}"))
        }
    }
}

fn landlock() -> Check {
    // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) returns the ABI.
    // SAFETY: NULL attributes with the VERSION flag; the kernel reads no memory.
    match unsafe { syscall!(Sysno::landlock_create_ruleset, 0usize, 0usize, 1usize) } {
        Ok(abi) => check("landlock", "ok", format!("ABI version {abi}")),
        Err(e) if e.into_raw() == 38 => check("landlock", "warn", "not supported by the kernel"),
        Err(e) if e.into_raw() == 95 => {
            check("landlock", "warn", "supported but disabled at boot (lsm=)")
        }
        Err(e) => check("landlock", "warn", format!("probe failed: {e}")),
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
        out.push(match crate::run::subid_range(file, id, name.as_deref()) {
            Some((start, count)) => check(label, "ok", format!("{start}:{count} in {file}")),
            None => check(label, "warn", format!("no range for the caller in {file}")),
        });
    }
    out
}

fn syscall_probe(name: &'static str, nr: Sysno, what: &str) -> Check {
    // Called with NULL pointers: EFAULT/EINVAL mean the call exists, ENOSYS that it does not.
    // SAFETY: the arguments are integers or invalid pointers the kernel rejects (EFAULT)
    // before touching memory; no descriptor is created on success with these arguments.
    let r = unsafe { syscall!(nr, -100isize as usize, 0usize, 0usize, 0usize) };
    match r {
        Err(e) if e.into_raw() == 38 => check(name, "fail", format!("{what}: not supported")),
        // fsopen needs CAP_SYS_ADMIN in the caller's user namespace: EPERM outside one still
        // proves the call exists (the sandbox has the capability inside its own namespace).
        Err(e) if e.into_raw() == 1 && nr == Sysno::fsopen => check(
            name,
            "ok",
            format!("{what}: available (EPERM outside a user namespace)"),
        ),
        Err(e) if e.into_raw() == 1 => check(name, "warn", format!("{what}: blocked (EPERM)")),
        _ => check(name, "ok", format!("{what}: available")),
    }
}

fn cgroup() -> Check {
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

pub fn checks() -> Vec<Check> {
    let mut v = vec![userns(), landlock(), pasta()];
    v.extend(idmap_helpers());
    v.push(syscall_probe("mount API", Sysno::fsopen, "fsopen/fsmount"));
    v.push(syscall_probe("openat2", Sysno::openat2, "openat2"));
    v.push(cgroup());
    v
}

/// `hakoniwa doctor`: 0 when nothing failed, 1 otherwise.
pub fn main(json: bool) -> i32 {
    let checks = checks();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&checks).expect("plain data serializes")
        );
    } else {
        let w = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &checks {
            println!("{:<w$}  {:<4}  {}", c.name, c.status, c.detail);
        }
    }
    if checks.iter().any(|c| c.status == "fail") {
        1
    } else {
        0
    }
}
