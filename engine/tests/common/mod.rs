//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use hakoniwa::Container;

pub mod filters;

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

/// Names in /tmp owned by this process's effective uid, the only ones a sandbox of this
/// process could leave there: entries of other users (and of the machine's services) are not
/// counted. Names starting with one of `skip` (scratch directories that tests of the same
/// binary make on purpose, at the same time) are not counted either.
pub fn my_tmp_entries(skip: &[&str]) -> std::collections::BTreeSet<std::ffi::OsString> {
    use std::os::unix::fs::MetadataExt;
    let me = euid();
    std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == me))
        .map(|e| e.file_name())
        .filter(|n| !skip.iter().any(|s| n.to_string_lossy().starts_with(s)))
        .collect()
}

/// The entries of [`my_tmp_entries`] that are not in `before` and stay: polled for up to
/// 10 s, so that another process of the same user (a compiler's temporary files, say)
/// that creates and removes its own while the test runs is not taken for a leak.
pub fn new_tmp_entries(
    before: &std::collections::BTreeSet<std::ffi::OsString>,
    skip: &[&str],
) -> Vec<std::ffi::OsString> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let new: Vec<_> = my_tmp_entries(skip).difference(before).cloned().collect();
        if new.is_empty() || std::time::Instant::now() > deadline {
            return new;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Exit codes of the forked process.
pub const OK: i32 = 0;
pub const FAILED: i32 = 1;
pub const PANICKED: i32 = 2;

/// Run `f` in a forked copy of this process and return its exit code (killing it after
/// 60 s: a hang is the failure these tests look for).
pub fn in_forked_process(f: impl FnOnce() -> bool) -> i32 {
    // SAFETY: fork(); the child runs `f` (the C library's fork handlers keep malloc usable)
    // and leaves with _exit, never returning into the test harness.
    match unsafe { libc::fork() } {
        0 => {
            let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(true) => OK,
                Ok(false) => FAILED,
                Err(_) => PANICKED,
            };
            // SAFETY: ends the forked process at once.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let start = std::time::Instant::now();
            let mut status = 0;
            loop {
                // SAFETY: our own child, a live status pointer.
                let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
                if r == pid {
                    break;
                }
                if start.elapsed() > std::time::Duration::from_secs(60) {
                    // SAFETY: killing and reaping our own child.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                        libc::waitpid(pid, &mut status, 0);
                    }
                    panic!("the forked process hung");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            assert!(libc::WIFEXITED(status), "status {status:#x}");
            libc::WEXITSTATUS(status)
        }
    }
}
