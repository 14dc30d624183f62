//! The floor: a minimal program that makes only the system calls of hakoniwa's default CLI
//! sandbox (`hakoniwa run -- PROGRAM`) and installs the same seccomp program, then runs
//! PROGRAM. It has no configuration, no plan, no error reporting beyond an exit code: what
//! it costs is what the kernel charges for this sandbox. `bench/run.sh` compares the CLI
//! with it.
//!
//! `floor FILTER_FILE PROGRAM [ARGS...]`; FILTER_FILE holds the raw `sock_filter` array
//! (written by the harness from `podman_default(caps).compile()`).
//!
//! Sequence (as in the engine): clone3(user, mount, pid namespaces; fork-like, this process
//! is small) → the parent writes the id maps and releases the child → private `/`, tmpfs
//! root attached at /tmp, read-only recursive binds of /usr and /etc, the merged-/usr
//! symlinks, procfs with its read-only covers and masks (entries this kernel has), root
//! read-only, pivot_root, nested user namespace, session keyring, setsid, capability
//! bounding set, no_new_privs, seccomp, then PID 1 starts the program (PID 2) with a
//! vfork-like clone and waits for it, as the engine's init does.

use std::ffi::{CStr, CString};

use hakoniwa_runtime::init_proto as proto; // for init_sys (as `crate::proto`)
use hakoniwa_runtime::mount::{self, new_fs};
use hakoniwa_runtime::sys;
use hakoniwa_runtime::trampoline; // for init_sys (as `crate::trampoline`)

/// The engine's init's system calls: its vfork-like start of the program is used as is.
#[allow(dead_code)]
#[path = "../../../engine/init/sys.rs"]
mod init_sys;
use hakoniwa_runtime::{CapPlan, RawFd, SockFilter};
use syscalls::{syscall, Sysno};

const CLONE_NEWNS: u64 = 0x0002_0000;
const CLONE_NEWUSER: u64 = 0x1000_0000;
const CLONE_NEWPID: u64 = 0x2000_0000;
const CLONE_PIDFD: u64 = 0x1000;
const SIGCHLD: u64 = 17;

fn check<T>(r: Result<T, i32>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("floor: {what}: errno {e}");
            sys::exit_group(125)
        }
    }
}

fn attach(mnt: RawFd, dir: RawFd, name: &CStr) -> Result<(), i32> {
    let t = sys::openat(dir, name, sys::O_PATH | sys::O_CLOEXEC, 0)?;
    let r = sys::move_mount_fd(mnt, t);
    sys::close(t);
    sys::close(mnt);
    r
}

struct Proc {
    readonly: Vec<CString>,
    masked_files: Vec<CString>,
    masked_dirs: Vec<CString>,
}

fn child(p: &Proc, filter: &[SockFilter], argv: &[CString], uid: u32, gid: u32) -> ! {
    check(
        sys::mount_propagation(c"/", sys::MS_REC | sys::MS_PRIVATE),
        "private /",
    );
    let host_proc = check(
        sys::openat(
            sys::AT_FDCWD,
            c"/proc",
            sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC,
            0,
        ),
        "/proc",
    );
    let clone_flags = sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC | sys::AT_RECURSIVE;
    let usr = check(sys::open_tree(sys::AT_FDCWD, c"/usr", clone_flags), "usr");
    let etc = check(sys::open_tree(sys::AT_FDCWD, c"/etc", clone_flags), "etc");
    let root = check(
        new_fs(
            c"tmpfs",
            &[(c"mode", c"0755")],
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
        ),
        "tmpfs",
    );
    check(sys::move_mount_to_path(root, c"/tmp"), "attach root");
    for (src, name) in [(usr, c"usr"), (etc, c"etc")] {
        check(
            sys::mount_setattr_fd(
                src,
                true,
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_RDONLY,
                0,
                sys::MS_PRIVATE,
            ),
            "setattr",
        );
        check(sys::mkdirat(root, name, 0o755), "mkdir");
        check(attach(src, root, name), "bind");
    }
    for (link, to) in [
        (c"bin", c"usr/bin"),
        (c"lib", c"usr/lib"),
        (c"lib64", c"usr/lib64"),
        (c"sbin", c"usr/sbin"),
    ] {
        check(sys::symlinkat(to, root, link), "symlink");
    }
    check(sys::mkdirat(root, c"proc", 0o755), "mkdir proc");
    let procfs = check(
        new_fs(
            c"proc",
            &[],
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
        ),
        "procfs",
    );
    check(attach(procfs, root, c"proc"), "proc");
    let proc = check(
        sys::openat(
            root,
            c"proc",
            sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC,
            0,
        ),
        "open proc",
    );
    for name in &p.readonly {
        let t = check(
            sys::openat(proc, name, sys::O_PATH | sys::O_CLOEXEC, 0),
            "ro",
        );
        let m = check(
            sys::open_tree(t, c"", clone_flags | sys::AT_EMPTY_PATH),
            "ro clone",
        );
        check(
            sys::mount_setattr_fd(
                m,
                true,
                sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID,
                0,
                0,
            ),
            "ro setattr",
        );
        check(sys::move_mount_fd(m, t), "ro move");
        sys::close(m);
        sys::close(t);
    }
    for name in &p.masked_files {
        let n = check(
            sys::open_tree(sys::AT_FDCWD, c"/dev/null", clone_flags),
            "null",
        );
        check(
            sys::mount_setattr_fd(n, false, sys::MOUNT_ATTR_RDONLY, 0, 0),
            "null ro",
        );
        check(attach(n, proc, name), "mask");
    }
    for name in &p.masked_dirs {
        let m = check(
            new_fs(c"tmpfs", &mount::MASK_DIR_OPTIONS, mount::MASK_DIR_ATTRS),
            "mask dir",
        );
        check(attach(m, proc, name), "mask dir");
    }
    sys::close(proc);
    check(
        sys::mount_setattr_fd(root, false, sys::MOUNT_ATTR_RDONLY, 0, 0),
        "root ro",
    );
    check(sys::fchdir(root), "fchdir");
    check(sys::pivot_root(c".", c"."), "pivot_root");
    check(sys::umount2(c".", sys::MNT_DETACH), "detach");
    check(sys::chdir(c"/"), "chdir");
    sys::close(root);

    // Nested user namespace (locks the read-only binds), as the engine does.
    check(sys::unshare(CLONE_NEWUSER), "nested userns");
    let uid_map = format!("{uid} {uid} 1\n");
    let gid_map = format!("{gid} {gid} 1\n");
    for (file, map) in [
        (c"self/uid_map", uid_map.as_bytes()),
        (c"self/setgroups", b"deny" as &[u8]),
        (c"self/gid_map", gid_map.as_bytes()),
    ] {
        let fd = check(
            sys::openat(host_proc, file, sys::O_WRONLY | sys::O_CLOEXEC, 0),
            "map",
        );
        check(sys::write_all(fd, map), "write map");
        sys::close(fd);
    }
    sys::close(host_proc);
    check(sys::join_new_session_keyring(), "keyring");
    check(sys::setsid(), "setsid");
    // A root caller's sandbox reaches host root: no CAP_SETFCAP (as in the engine).
    let keep = if uid == 0 {
        hakoniwa::caps::DEFAULT & !(1 << 31)
    } else {
        0
    };
    let caps = CapPlan {
        keep,
        last_cap: last_cap(),
    };
    check(hakoniwa_runtime::caps::drop_bounding(&caps), "bounding set");
    if uid == 0 {
        check(hakoniwa_runtime::caps::set(&caps), "capset");
    }
    check(
        sys::prctl(sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).map(drop),
        "no_new_privs",
    );
    check(sys::seccomp_set_filter(filter), "seccomp");
    // PID 1 stays to reap, as the engine's init does: the program is its child (PID 2),
    // started with a CLONE_VM | CLONE_VFORK clone on this stack, below this frame.
    let mut ptrs: Vec<*const std::ffi::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let exec = Exec {
        argv: ptrs.as_ptr(),
        envp: [std::ptr::null()],
    };
    let mut pid: i32 = 0;
    // SAFETY: `exec_program` only calls execve on `exec`, which outlives the child's exec.
    // (std's SIGSEGV handler would run on the shared memory only if execve faulted.)
    match unsafe {
        init_sys::vfork_into(&raw mut pid, exec_program, &exec as *const Exec as *mut u8)
    } {
        Ok(child) => {
            let mut status: i32 = 0;
            loop {
                // SAFETY: `status` is a live i32; no rusage.
                match unsafe { syscall!(Sysno::wait4, -1isize, &mut status as *mut i32, 0, 0) } {
                    Ok(p) if p == child as usize => break,
                    Ok(_) => {}
                    Err(_) => sys::exit_group(127),
                }
            }
            let code = if status & 0x7f == 0 {
                (status >> 8) & 0xff
            } else {
                128 + (status & 0x7f)
            };
            sys::exit_group(code)
        }
        Err(e) => {
            eprintln!("floor: clone: {e}");
            sys::exit_group(127)
        }
    }
}

/// The program's NULL-terminated argv and envp.
struct Exec {
    argv: *const *const std::ffi::c_char,
    envp: [*const std::ffi::c_char; 1],
}

/// The child's entry: execve, or exit 127.
///
/// # Safety
/// `arg` points at a live [`Exec`].
unsafe extern "C" fn exec_program(arg: *mut u8) -> ! {
    // SAFETY: the caller's contract.
    let exec = unsafe { &*(arg as *const Exec) };
    // SAFETY: NULL-terminated argv/envp of live C strings; argv[0] is the program.
    let _ = unsafe { syscall!(Sysno::execve, *exec.argv, exec.argv, exec.envp.as_ptr()) };
    sys::exit_group(127)
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: floor FILTER_FILE PROGRAM [ARGS...]");
        std::process::exit(2);
    }
    let bytes = std::fs::read(&args[0]).expect("filter file");
    let filter: Vec<SockFilter> = bytes
        .chunks_exact(8)
        .map(|c| SockFilter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    let argv: Vec<CString> = args[1..]
        .iter()
        .map(|a| CString::new(a.as_str()).expect("no NUL"))
        .collect();
    // The same procfs entries the engine covers, if this kernel has them.
    let mut p = Proc {
        readonly: Vec::new(),
        masked_files: Vec::new(),
        masked_dirs: Vec::new(),
    };
    for name in hakoniwa::PROC_READONLY {
        if std::path::Path::new("/proc").join(name).exists() {
            p.readonly.push(CString::new(name).expect("name"));
        }
    }
    for name in hakoniwa::PROC_MASKED {
        if let Ok(m) = std::fs::symlink_metadata(std::path::Path::new("/proc").join(name)) {
            let c = CString::new(name).expect("name");
            if m.is_dir() {
                p.masked_dirs.push(c);
            } else {
                p.masked_files.push(c);
            }
        }
    }
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let (sync_r, sync_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe");
    let mut pidfd: i32 = -1;
    let mut cl = hakoniwa_runtime::clone::CloneArgs {
        flags: CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_PIDFD,
        pidfd: &mut pidfd as *mut i32 as u64,
        exit_signal: SIGCHLD,
        ..Default::default()
    };
    // SAFETY: a fork-like clone3 (no CLONE_VM, no stack): both sides return here with their
    // own copy of this single-threaded process.
    let pid = unsafe {
        syscall!(
            Sysno::clone3,
            &mut cl as *mut _,
            std::mem::size_of::<hakoniwa_runtime::clone::CloneArgs>()
        )
    }
    .expect("clone3");
    if pid == 0 {
        drop(sync_w);
        let mut b = [0u8; 1];
        use std::os::fd::AsRawFd;
        if sys::read(sync_r.as_raw_fd(), &mut b) != Ok(1) {
            sys::exit_group(125);
        }
        child(&p, &filter, &argv, uid, gid);
    }
    drop(sync_r);
    for (file, contents) in [
        ("uid_map", format!("{uid} {uid} 1\n")),
        ("setgroups", "deny".to_string()),
        ("gid_map", format!("{gid} {gid} 1\n")),
    ] {
        std::fs::write(format!("/proc/{pid}/{file}"), contents).expect("id map");
    }
    rustix::io::write(&sync_w, b"1").expect("go-ahead");
    drop(sync_w);
    let code = loop {
        let mut info = [0i32; 32];
        // SAFETY: a live siginfo buffer; P_PIDFD = 3, WEXITED = 4.
        match unsafe { syscall!(Sysno::waitid, 3, pidfd, info.as_mut_ptr(), 4, 0) } {
            Ok(_) => break if info[2] == 1 { info[6] } else { 128 + info[6] },
            Err(e) if e.into_raw() == 4 => continue,
            Err(e) => panic!("waitid: {e}"),
        }
    };
    std::process::exit(code);
}
