//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use hakoniwa::Container;

/// The default sandbox plus the host's system directories.
pub fn sandbox() -> Container {
    let mut c = Container::new();
    c.rootfs("/");
    c
}

/// Run `sh -c script` in `c` and return (exit code, stdout, stderr).
pub fn sh(c: &Container, script: &str) -> (i32, String, String) {
    let out = c
        .command("/bin/sh")
        .args(["-c", script])
        .output()
        .expect("spawn");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .parse()
        .unwrap()
}

pub fn egid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Gid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .parse()
        .unwrap()
}

/// Number of open descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Children (any thread's) of this process that still exist, zombies included.
pub fn child_count() -> usize {
    let mut n = 0;
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let s = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        n += s.split_whitespace().count();
    }
    n
}

/// Pids of host processes whose command line contains `needle`.
pub fn host_pids_with(needle: &str) -> Vec<u32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) {
            v.push(pid);
        }
    }
    v
}

/// The built example binary `name` (cargo builds examples for `cargo test`).
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}
