//! Issue 10, "must show": killing the CLI with SIGKILL at random moments of 200 runs that use
//! pasta, `--user` and `--rootdir` leaves no process, no pasta, no mount and no created file.
//!
//! This file holds one test on purpose: the test process becomes a child subreaper, so every
//! process a killed CLI leaves behind (the sandbox, pasta) is re-parented to it and shows up
//! in its own children list, which no other test may add to.
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const RUNS: usize = 200;

/// Small deterministic generator for the kill delays (the seed is printed).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Our live children (every thread's), after reaping the ones that exited.
fn live_children() -> Vec<(u32, String)> {
    while let Ok(Some(_)) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {}
    let mut v = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let s = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        for pid in s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            v.push((pid, String::from_utf8_lossy(&cmd).replace('\0', " ")));
        }
    }
    v
}

fn mountinfo() -> BTreeSet<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        // Drop the mount id and parent id: only what is mounted where matters.
        .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
        .collect()
}

fn tree(p: &Path) -> Vec<PathBuf> {
    let mut v = vec![];
    for e in std::fs::read_dir(p).unwrap().flatten() {
        v.push(e.path());
        if e.file_type().unwrap().is_dir() {
            v.extend(tree(&e.path()));
        }
    }
    v.sort();
    v
}

/// Wait (bounded) until `f` returns an empty list; return what is left.
fn settle<T>(mut f: impl FnMut() -> Vec<T>) -> Vec<T> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = f();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the killed runs left behind.
struct Leftovers {
    sandboxes: Vec<(u32, String)>,
    orphans: Vec<(u32, String)>,
    mounts: Vec<String>,
    rootdir_changed: Option<(Vec<PathBuf>, Vec<PathBuf>)>,
    rw_rootdir_changed: Option<(Vec<PathBuf>, Vec<PathBuf>)>,
    bind_changed: Option<(Vec<PathBuf>, Vec<PathBuf>)>,
    tmp_files: Vec<std::ffi::OsString>,
    /// Runs that ended by themselves before their SIGKILL (setup failures).
    failed_runs: Vec<String>,
}

/// Start `RUNS` sandboxes with pasta, `--user` and a `--rootdir` (read-only, every third
/// one read-write; every second one also with a devfs, a tmpfs and binds into a read-write
/// bind), SIGKILL each CLI after a random delay, then collect what is left (and end it).
fn kill_runs() -> Leftovers {
    rustix::process::set_child_subreaper(Some(rustix::process::getpid())).unwrap();
    let base = temp_dir("sigkill");
    // A read-only rootdir with its own /etc/passwd and nothing else: the mount points for
    // the host's system directories, /proc, /dev and /tmp all have to be made somewhere.
    let root = base.join("root");
    write(
        &root.join("etc/passwd"),
        "root:x:0:0::/:/bin/sh\nsbx:x:1000:1000::/:/bin/sh\n",
    );
    write(&root.join("etc/group"), "root:x:0:\nsbx:x:1000:\n");
    // A read-write rootdir holding every mount point and link the runs need.
    let root_rw = base.join("root-rw");
    write(
        &root_rw.join("etc/passwd"),
        "root:x:0:0::/:/bin/sh\nsbx:x:1000:1000::/:/bin/sh\n",
    );
    write(&root_rw.join("etc/group"), "root:x:0:\nsbx:x:1000:\n");
    for d in ["proc", "dev", "tmp", "shared"] {
        std::fs::create_dir(root_rw.join(d)).unwrap();
    }
    for top in hakoniwa::HOST_ROOT_DIRS {
        let host = Path::new("/").join(top);
        match std::fs::read_link(&host) {
            Ok(t) => std::os::unix::fs::symlink(t, root_rw.join(top)).unwrap(),
            Err(_) if host.is_dir() && !root_rw.join(top).exists() => {
                std::fs::create_dir(root_rw.join(top)).unwrap()
            }
            Err(_) => {}
        }
    }
    // A read-write bind whose mount point for a nested bind exists.
    let shared = base.join("shared");
    write(&shared.join("slot"), "");
    std::fs::create_dir_all(shared.join("dir")).unwrap();
    // The sandbox's root may write both trees, as with a rootfs made for the mapped ids:
    // anything the engine created there on the host would succeed and be seen.
    for d in [
        &base,
        &root,
        &root.join("etc"),
        &root_rw,
        &shared,
        &shared.join("dir"),
    ] {
        let _ = std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755));
    }
    if euid() == 0 {
        for p in [
            &root,
            &root.join("etc"),
            &root_rw,
            &shared,
            &shared.join("dir"),
        ] {
            std::os::unix::fs::chown(p, Some(100000), Some(100000)).unwrap();
        }
    }
    let root_before = tree(&root);
    let root_rw_before = tree(&root_rw);
    let shared_before = tree(&shared);
    let mounts_before = mountinfo();
    let tmp_before: BTreeSet<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();

    let marker = format!("{}.{}", 3000 + std::process::id() % 1000, 161803);
    let ids: Vec<String> = if euid() == 0 {
        // A map that does not contain the caller: the identity switch is a real one.
        ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"]
            .map(String::from)
            .to_vec()
    } else {
        ["--userns", "auto"].map(String::from).to_vec()
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill delays seeded with {seed}");
    let mut rng = XorShift(seed);
    let mut cli_pids = Vec::new();
    let mut failed_runs = Vec::new();
    for i in 0..RUNS {
        let mut args: Vec<String> = ["run", "--network", "pasta", "--user", "sbx", "--rootdir"]
            .map(String::from)
            .to_vec();
        if i % 3 == 2 {
            args.push(format!("{}:rw", s(&root_rw)));
        } else {
            args.push(s(&root).to_string());
        }
        args.extend(ids.iter().cloned());
        if i % 2 == 1 {
            for a in [
                "--devfs",
                "/dev",
                "--tmpfs",
                "/tmp",
                "-B",
                &format!("{}:/shared", s(&shared)),
                "-b",
                "/etc/passwd:/shared/slot",
                "--tmpfs",
                "/shared/dir",
            ] {
                args.push(a.to_string());
            }
        }
        args.extend(["--", "sleep"].map(String::from));
        args.push(marker.clone());
        let mut cli = Command::new(bin())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(base.join("stderr")).unwrap())
            .spawn()
            .unwrap();
        cli_pids.push(cli.id());
        // 0 to 250 ms: from before the clone, through pasta's start, into the running program.
        std::thread::sleep(Duration::from_micros(rng.next() % 250_000));
        let ended = cli.try_wait().unwrap().is_some();
        let _ = cli.kill();
        cli.wait().unwrap();
        if ended {
            // The program sleeps for about an hour: the run failed its setup and proves
            // nothing about being killed.
            let err = std::fs::read_to_string(base.join("stderr")).unwrap_or_default();
            failed_runs.push(format!("run {i} ({}): {err}", args.join(" ")));
        }
    }

    let sandboxes = settle(|| pids_with(&format!("sleep {marker}")));
    let orphans = settle(live_children);
    let mounts_after = mountinfo();
    let new_mounts: Vec<&String> = mounts_after.difference(&mounts_before).collect();
    let tmp_new: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !tmp_before.contains(n))
        .filter(|n| {
            // Named after one of our CLIs' pids (other tests' scratch dirs aside).
            let n = n.to_string_lossy();
            let numbers: Vec<&str> = n.split(|c: char| !c.is_ascii_digit()).collect();
            !n.starts_with("hk-cli-test-")
                && cli_pids
                    .iter()
                    .any(|p| numbers.contains(&p.to_string().as_str()))
        })
        .collect();
    let root_after = tree(&root);
    let root_rw_after = tree(&root_rw);
    let shared_after = tree(&shared);

    // Whatever is left was started by this test: end it.
    for (pid, _) in orphans.iter().chain(&sandboxes) {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    let _ = live_children();
    let mounts: Vec<String> = new_mounts
        .iter()
        .filter(|l| {
            let mp = l.split_whitespace().nth(2).unwrap_or("");
            l.contains(s(&base)) || ["/tmp", "/mnt", "/run", "/var/tmp", "/dev"].contains(&mp)
        })
        .map(|l| l.to_string())
        .collect();
    if mounts.len() < new_mounts.len() {
        eprintln!("host mounts that appeared meanwhile (other tests?): {new_mounts:?}");
    }
    Leftovers {
        sandboxes,
        orphans,
        mounts,
        rootdir_changed: (root_after != root_before).then_some((root_before, root_after)),
        rw_rootdir_changed: (root_rw_after != root_rw_before)
            .then_some((root_rw_before, root_rw_after)),
        bind_changed: (shared_after != shared_before).then_some((shared_before, shared_after)),
        tmp_files: tmp_new,
        failed_runs,
    }
}

#[test]
fn sigkill_of_the_cli_at_random_moments_leaves_no_process_pasta_mount_or_file() {
    let left = kill_runs();
    assert!(left.failed_runs.is_empty(), "{:#?}", left.failed_runs);
    assert!(
        left.sandboxes.is_empty(),
        "sandboxed programs outlived the CLI: {:?}",
        left.sandboxes
    );
    let pastas: Vec<_> = left
        .orphans
        .iter()
        .filter(|(_, c)| c.contains("pasta"))
        .collect();
    assert!(pastas.is_empty(), "pasta outlived the CLI: {pastas:?}");
    assert!(
        left.orphans.is_empty(),
        "processes outlived the CLI: {:?}",
        left.orphans
    );
    assert!(
        left.mounts.is_empty(),
        "mounts left on the host: {:?}",
        left.mounts
    );
    assert_eq!(left.rootdir_changed, None, "files created in the rootdir");
    assert_eq!(
        left.rw_rootdir_changed, None,
        "files created in the read-write rootdir"
    );
    assert_eq!(
        left.bind_changed, None,
        "files created in the read-write bind"
    );
    assert!(
        left.tmp_files.is_empty(),
        "files left in /tmp: {:?}",
        left.tmp_files
    );
}
