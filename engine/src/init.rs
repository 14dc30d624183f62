//! The sandbox's init (PID 1): the embedded executable and the sealed memfd it runs from.
//!
//! The init (`engine/init/main.rs`, built by `build.rs`) is a separate, static executable so
//! that nothing alive after `execve` shares the host's memory. The runtime starts it with
//! `execveat(memfd, "", .., AT_EMPTY_PATH)`: no file on disk, nothing to find in the
//! sandbox's tree, and the seals make its contents immutable. Executing a memfd is not
//! subject to landlock's filesystem rules (memfds live on an internal mount; measured on
//! Linux 6.18 with `LANDLOCK_ACCESS_FS_EXECUTE` handled and no rule allowing it).
//!
//! One memfd serves every spawn of the process; its identity (device and inode) is checked
//! before each use, so a host that closed or reused the descriptor number gets a new one.

use std::os::fd::{OwnedFd, RawFd};

use rustix::fs::{fcntl_add_seals, memfd_create, MemfdFlags, SealFlags};

use crate::cached_fd::CachedFd;
use crate::error::{Error, Result};

/// The init executable.
pub(crate) static BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hakoniwa-init"));

/// One memfd per process (see `cached_fd.rs`).
static MEMFD: CachedFd = CachedFd::new("fstat init");

fn create() -> Result<OwnedFd> {
    // MFD_EXEC (Linux 6.3) keeps the memfd executable where vm.memfd_noexec would default
    // to no-exec; older kernels reject the flag and make memfds executable anyway.
    const MFD_EXEC: u32 = 0x10;
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    let fd = memfd_create(
        c"hakoniwa-init",
        flags | MemfdFlags::from_bits_retain(MFD_EXEC),
    )
    .or_else(|_| memfd_create(c"hakoniwa-init", flags))
    .map_err(|e| Error::io("memfd_create", e))?;
    let mut rest = BINARY;
    while !rest.is_empty() {
        let n = rustix::io::write(&fd, rest).map_err(|e| Error::io("write init", e))?;
        rest = &rest[n..];
    }
    fcntl_add_seals(
        &fd,
        SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
    )
    .map_err(|e| Error::io("seal init", e))?;
    Ok(fd)
}

/// The descriptor of the sealed init memfd (valid while the process does not close it).
pub(crate) fn memfd() -> Result<RawFd> {
    MEMFD.get(create)
}

/// The host pid of the program run by the init `init_pid`: the init's child whose pid in
/// the sandbox's namespace is 2 (the init is 1 and forks the program first). Each file is
/// read with one `read` (std's `read_to_string` makes about eight calls for a status file):
/// the CLI asks this for every sandbox it runs.
pub(crate) fn program_pid(init_pid: i32) -> Option<i32> {
    let mut buf = [0u8; 4096];
    let children = crate::sys::read_small(
        &format!("/proc/{init_pid}/task/{init_pid}/children"),
        &mut buf,
    )?;
    let children: Vec<i32> = std::str::from_utf8(&children)
        .ok()?
        .split_whitespace()
        .filter_map(|c| c.parse::<i32>().ok())
        .collect();
    children.into_iter().find(|c| {
        crate::sys::read_small(&format!("/proc/{c}/status"), &mut buf)
            .and_then(|s| {
                std::str::from_utf8(&s).ok().and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("NSpid:"))
                        .and_then(|l| l.split_whitespace().last().map(|v| v == "2"))
                })
            })
            .unwrap_or(false)
    })
}

/// The system calls the init makes (x86_64 numbers and the arguments that matter), with
/// the condition under which it makes them: (name, nr, args, needs job control, needs a
/// deadline, needs a process limit).
const NEEDS: [(&str, u32, [u64; 6], Need); 21] = {
    const SIGCHLD: u64 = 17;
    const TIOCSPGRP: u64 = 0x5410;
    const F_SETFD: u64 = 2;
    const F_SETFL: u64 = 4;
    const O_NONBLOCK: u64 = 0o4000;
    [
        ("execveat", 322, [0, 0, 0, 0, 0x1000, 0], Need::Always),
        ("fcntl", 72, [0; 6], Need::Always),
        // Its descriptors kept across its execve (the child), then close-on-exec again and
        // the events pipe non-blocking (the init), with the usual descriptor numbers.
        (
            "fcntl(F_SETFD, 0)",
            72,
            [5, F_SETFD, 0, 0, 0, 0],
            Need::Always,
        ),
        (
            "fcntl(F_SETFD, FD_CLOEXEC)",
            72,
            [5, F_SETFD, 1, 0, 0, 0],
            Need::Always,
        ),
        (
            "fcntl(F_SETFL, O_NONBLOCK)",
            72,
            [5, F_SETFL, O_NONBLOCK, 0, 0, 0],
            Need::Always,
        ),
        ("rt_sigprocmask", 14, [2, 0, 0, 8, 0, 0], Need::Always),
        ("prctl", 157, [4, 0, 0, 0, 0, 0], Need::Always),
        ("prctl", 157, [15, 0, 0, 0, 0, 0], Need::Always),
        (
            "clone",
            56,
            [SIGCHLD | 0x0100_0000, 0, 0, 0, 0, 0],
            Need::Always,
        ),
        ("setpgid", 109, [0; 6], Need::Always),
        ("close", 3, [0; 6], Need::Always),
        ("close_range", 436, [0; 6], Need::Always),
        ("rt_sigtimedwait", 128, [0; 6], Need::Always),
        ("wait4", 61, [0; 6], Need::Always),
        ("kill", 62, [0; 6], Need::Always),
        ("write", 1, [0; 6], Need::Always),
        ("read", 0, [0; 6], Need::Always),
        ("execve", 59, [0; 6], Need::Always),
        ("ioctl", 16, [0, TIOCSPGRP, 0, 0, 0, 0], Need::JobControl),
        ("clock_gettime", 228, [1, 0, 0, 0, 0, 0], Need::Deadline),
        ("prlimit64", 302, [0, 6, 0, 0, 0, 0], Need::ProcessLimit),
    ]
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Always,
    JobControl,
    Deadline,
    ProcessLimit,
}

/// [`check_filter`] of a compiled filter, remembered in it: a program never changes, so a
/// combination of needs found allowed once is not interpreted again (on every spawn).
pub(crate) fn check_compiled(
    filter: &crate::seccomp::Compiled,
    job_control: bool,
    deadline: bool,
    process_limit: bool,
) -> Result<()> {
    use std::sync::atomic::Ordering;
    let bit = 1u8 << (job_control as u8 | (deadline as u8) << 1 | (process_limit as u8) << 2);
    if filter.init_allowed.load(Ordering::Relaxed) & bit != 0 {
        return Ok(());
    }
    check_filter(
        &filter.program.instructions,
        &filter.program.profile,
        job_control,
        deadline,
        process_limit,
    )?;
    filter.init_allowed.fetch_or(bit, Ordering::Relaxed);
    Ok(())
}

/// Whether the seccomp program lets the init start the program with a shared-memory clone
/// (else the init forks, which [`check_filter`] requires to be allowed). The clone's other
/// arguments (a stack address, a pointer) are tried as zero and as typical values: a
/// profile looking at them must allow both.
pub(crate) fn allows_shared_clone(prog: &[hakoniwa_runtime::SockFilter]) -> bool {
    use hakoniwa_runtime::init_proto::SHARED_CLONE_FLAGS;
    [
        [SHARED_CLONE_FLAGS, 0, 0, 0, 0, 0],
        [
            SHARED_CLONE_FLAGS,
            0x7ffd_0000_0000,
            0,
            0x7ffd_0000_1000,
            0,
            0,
        ],
    ]
    .into_iter()
    .all(|args| allows(prog, 56, args))
}

/// Whether the seccomp program lets the init wait on its watch (its signals, the engine's
/// requests, and the host's pidfd: see `host_watch.rs`): `epoll_wait` of the epoll
/// instance the runtime made before the filter, for three events,
/// with no timeout and with the milliseconds left until a deadline (tried as typical
/// values; a filter refusing another one ends the sandbox when it is refused, rather than
/// leave it without the watch).
pub(crate) fn allows_watch(prog: &[hakoniwa_runtime::SockFilter]) -> bool {
    [
        u64::MAX,
        u32::MAX as u64,
        0,
        1,
        1000,
        3_600_000,
        i32::MAX as u64,
    ]
    .iter()
    .all(|&t| allows(prog, 232, [3, 0x7ffd_0000_0000, 3, t, 0, 0]))
}

/// Whether `prog` lets the x86_64 system call `nr` with `args` run (allowed or logged).
fn allows(prog: &[hakoniwa_runtime::SockFilter], nr: u32, args: [u64; 6]) -> bool {
    use hakoniwa_seccomp::interp::{run, SeccompData};
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const ALLOW: u32 = 0x7fff_0000;
    const LOG: u32 = 0x7ffc_0000;
    let action = run(prog, &SeccompData::new(AUDIT_ARCH_X86_64, nr, args));
    matches!(action, Ok(a) if a & 0xffff_0000 == ALLOW || a & 0xffff_0000 == LOG)
}

/// Whether the init may start the program with a shared-memory clone: not where the filter
/// would refuse it, nor where the program's group gets the terminal (`init_flags`): a
/// Ctrl-Z between that and its `execve` would stop it while the init, suspended by
/// `CLONE_VFORK`, could neither report the stop nor continue it. The init forks then.
pub(crate) fn use_shared_clone(init_flags: u32, filter: Option<&crate::seccomp::Compiled>) -> bool {
    use hakoniwa_runtime::init_proto::{FLAG_FOREGROUND, FLAG_JOB_CONTROL};
    init_flags & (FLAG_FOREGROUND | FLAG_JOB_CONTROL) == 0
        && filter.is_none_or(|f| f.init_shared_clone)
}

/// Check before spawning that the seccomp program lets the init work: a profile that
/// denies one of its calls would otherwise end the sandbox with an obscure error.
pub(crate) fn check_filter(
    prog: &[hakoniwa_runtime::SockFilter],
    profile: &str,
    job_control: bool,
    deadline: bool,
    process_limit: bool,
) -> Result<()> {
    let refused = |name: &str| {
        Error::config(
            "seccomp",
            format!(
                "profile {profile} does not allow {name}, which the sandbox's init (PID 1) \
                 needs; allow it, or run the program as PID 1 without the init \
                 (Container::init(false), --no-init)"
            ),
        )
    };
    for (name, nr, args, need) in NEEDS {
        let needed = match need {
            Need::Always => true,
            Need::JobControl => job_control,
            Need::Deadline => deadline,
            Need::ProcessLimit => process_limit,
        };
        if !needed {
            continue;
        }
        if !allows(prog, nr, args) {
            return Err(refused(name));
        }
    }
    // After the calls above, so a profile that allows next to nothing is named by the
    // first one the init makes (its execveat), not by its wait.
    if !allows_watch(prog) {
        return Err(refused("epoll_wait"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compiled filter allowing everything but `ioctl`, which only job control needs.
    fn denying_ioctl() -> crate::seccomp::Compiled {
        use hakoniwa_runtime::SockFilter;
        let op = |code, jt, jf, k| SockFilter { code, jt, jf, k };
        crate::seccomp::Compiled {
            program: hakoniwa_seccomp::Program {
                // ld [nr]; jeq 16 ? errno : allow
                instructions: vec![
                    op(0x20, 0, 0, 0),
                    op(0x15, 0, 1, 16),
                    op(0x06, 0, 0, 0x0005_0001),
                    op(0x06, 0, 0, 0x7fff_0000),
                ],
                profile: "no-ioctl".into(),
                arches: Vec::new(),
            },
            hooked: None,
            warnings: Vec::new(),
            rules: 1,
            init_allowed: Default::default(),
            init_shared_clone: false,
            init_watch: false,
        }
    }

    #[test]
    fn the_init_watches_only_where_the_filter_allows_epoll_wait() {
        use hakoniwa_runtime::SockFilter;
        let op = |code, jt, jf, k| SockFilter { code, jt, jf, k };
        // ld [nr]; jeq NR ? errno : allow
        let denying = |nr| {
            vec![
                op(0x20, 0, 0, 0),
                op(0x15, 0, 1, nr),
                op(0x06, 0, 0, 0x0005_0001),
                op(0x06, 0, 0, 0x7fff_0000),
            ]
        };
        assert!(allows_watch(&denying(16)), "ioctl is not needed");
        assert!(!allows_watch(&denying(232)), "epoll_wait is");
        let podman = crate::seccomp::compile(&crate::seccomp::Seccomp::Podman, 0, false, false)
            .unwrap()
            .unwrap();
        assert!(podman.init_watch, "the default profile allows the watch");
    }

    #[test]
    fn the_program_is_started_with_a_shared_clone_only_off_the_terminal_and_where_allowed() {
        use hakoniwa_runtime::init_proto::{FLAG_FOREGROUND, FLAG_JOB_CONTROL};
        let refusing = denying_ioctl(); // init_shared_clone: false
        let mut allowing = denying_ioctl();
        allowing.init_shared_clone = true;
        assert!(use_shared_clone(0, None));
        assert!(use_shared_clone(0, Some(&allowing)));
        assert!(!use_shared_clone(0, Some(&refusing)));
        for interactive in [FLAG_FOREGROUND, FLAG_JOB_CONTROL] {
            assert!(!use_shared_clone(interactive, None));
            assert!(!use_shared_clone(interactive, Some(&allowing)));
        }
        // The filter's own answer: this one allows every clone.
        assert!(allows_shared_clone(&denying_ioctl().program.instructions));
    }

    #[test]
    fn a_remembered_init_check_still_refuses_a_combination_the_filter_denies() {
        let f = denying_ioctl();
        // Twice: the second answer comes from what the first remembered.
        for _ in 0..2 {
            assert!(check_compiled(&f, false, true, true).is_ok());
            let err = check_compiled(&f, true, true, true)
                .unwrap_err()
                .to_string();
            assert!(err.contains("does not allow ioctl"), "{err}");
        }
    }

    #[test]
    fn a_forked_host_gets_the_init_memfd_while_a_parent_thread_held_its_lock() {
        memfd().expect("the parent's memfd");
        // A spawning thread of the parent holds the lock at the moment of the fork.
        let held = MEMFD.hold_lock();
        let forked = crate::process_local::in_forked_process(|| memfd().is_ok());
        drop(held);
        assert_eq!(
            forked,
            Ok(0),
            "Err(14): stuck on the parent's lock until the alarm"
        );
        memfd().expect("the parent's memfd after the fork");
    }
}
