//! The child side of hakoniwa: the code that runs between `clone` and `execve`.
//!
//! This crate is `#![no_std]` and does not link `alloc`, so the compiler proves that nothing
//! here allocates. The child shares the parent's address space (`CLONE_VM`), so a call into
//! the allocator, into libc (errno, locks, TLS) or a panic could corrupt the host: every
//! operation is a raw system call on memory the parent prepared in a [`Plan`] before cloning.
//! The child leaves only through `execve` or `exit_group` (a helper thread that clones
//! mount sources beside it, see [`mount`], through `exit`, joined before anything is
//! attached); on failure it writes one
//! [`ErrorRecord`] to the error pipe first.
//!
//! Order of the steps (each depends on the ones before):
//! 1. close the parent's pipe ends, reset signals, arm the parent-death signal;
//! 2. wait until the parent has written the id maps (EOF instead = the parent gave up);
//! 3. build the new root ([`mount`]) and switch to it;
//! 4. host name, new session keyring (unless the key calls are denied), new session;
//! 5. bounding/ambient capabilities, identity switch, remaining capability sets, the
//!    parent-death signal armed again (the kernel clears it when the ids change);
//! 6. `no_new_privs`, working directory, landlock (after the mounts: paths resolve in the
//!    new root), file descriptors;
//! 7. resource limits (after every descriptor the setup opens), then seccomp, last, so that
//!    the filter does not have to allow the setup's own syscalls;
//! 8. `execve` of the program, or `execveat` of the sandbox's init (PID 1, see
//!    `init_proto`), which forks and executes the program under everything set up here.
//!
//! # References
//!
//! - clone: [clone(2)](https://man7.org/linux/man-pages/man2/clone.2.html)
//! - signals: [sigaction(2)](https://man7.org/linux/man-pages/man2/sigaction.2.html), [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)
//! - parent death, no_new_privs, capabilities: [prctl(2)](https://man7.org/linux/man-pages/man2/prctl.2.html), [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html), [capset(2)](https://man7.org/linux/man-pages/man2/capget.2.html)
//! - the new root: [mount_namespaces(7)](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html), [mount_setattr(2)](https://man7.org/linux/man-pages/man2/mount_setattr.2.html), [openat2(2)](https://man7.org/linux/man-pages/man2/openat2.2.html), [pivot_root(2)](https://man7.org/linux/man-pages/man2/pivot_root.2.html), [umount2(2)](https://man7.org/linux/man-pages/man2/umount.2.html)
//! - identity: [user_namespaces(7)](https://man7.org/linux/man-pages/man7/user_namespaces.7.html), [sethostname(2)](https://man7.org/linux/man-pages/man2/gethostname.2.html), [prlimit(2)](https://man7.org/linux/man-pages/man2/getrlimit.2.html), [keyctl(2)](https://man7.org/linux/man-pages/man2/keyctl.2.html), [setsid(2)](https://man7.org/linux/man-pages/man2/setsid.2.html), [setresuid(2)](https://man7.org/linux/man-pages/man2/setresuid.2.html), [setgroups(2)](https://man7.org/linux/man-pages/man2/getgroups.2.html)
//! - confinement: [landlock(7)](https://man7.org/linux/man-pages/man7/landlock.7.html), [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html), [close_range(2)](https://man7.org/linux/man-pages/man2/close_range.2.html), [dup3(2)](https://man7.org/linux/man-pages/man2/dup.2.html)
//! - the program: [execve(2)](https://man7.org/linux/man-pages/man2/execve.2.html)
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod caps;
pub mod clone;
pub mod exec;
pub mod fail;
pub mod fds;
pub mod init_proto;
pub mod landlock;
pub mod mount;
pub mod named;
pub mod path;
pub mod plan;
pub mod search;
pub mod signals;
pub mod stage;
pub mod sys;
pub mod trampoline;
pub mod wire;

pub use fail::Fail;
pub use plan::*;
pub use stage::{ErrorRecord, Stage, NO_INDEX, RECORD_MAGIC};

use fail::Step;
use path::PathBuf;

/// Run the child: apply `plan` and `execve` the program. Never returns.
pub fn child_main(plan: &Plan<'_>) -> ! {
    let mut buf = PathBuf::new();
    // The error pipe may have to move out of the way of the program's descriptors.
    let mut fds = ChildFds {
        err: plan.err_fd,
        init_memfd: plan.init.map_or(-1, |i| i.memfd),
        events: plan.init.map_or(-1, |i| i.events_fd),
        events_read: plan.init.map_or(-1, |i| i.events_read_fd),
        requests: plan.init.map_or(-1, |i| i.requests_fd),
        host_pidfd: plan.init.map_or(-1, |i| i.host_pidfd),
        signal_fd: -1,
        watch_fd: -1,
    };
    let fail = run(plan, &mut buf, &mut fds);
    let _ = sys::write_all(fds.err, &fail.record().to_bytes());
    sys::exit_group(127)
}

/// The child's own descriptors that must survive until `execve`; moved out of the way of
/// the program's descriptors during setup.
struct ChildFds {
    err: RawFd,
    init_memfd: RawFd,
    events: RawFd,
    events_read: RawFd,
    requests: RawFd,
    host_pidfd: RawFd,
    /// The init's watch (see `init_proto::Control::watch_fd`).
    signal_fd: RawFd,
    watch_fd: RawFd,
}

fn run(plan: &Plan<'_>, buf: &mut PathBuf, fds: &mut ChildFds) -> Fail {
    match (setup(plan, buf, fds), &plan.init) {
        (Err(f), _) => f,
        (Ok(()), None) => Fail::new(Stage::Exec, exec::exec(plan), NO_INDEX),
        (Ok(()), Some(init)) => Fail::new(
            Stage::Init,
            exec::exec_init(
                init,
                fds.err,
                [fds.events, fds.events_read, fds.requests],
                [fds.host_pidfd, fds.signal_fd, fds.watch_fd],
                fds.init_memfd,
            ),
            NO_INDEX,
        ),
    }
}

/// Enter a user namespace nested in the sandbox's one and map the same ids through.
fn nested_userns(n: &NestedUserns<'_>, proc_fd: RawFd) -> sys::SysResult<()> {
    let r = (|| {
        sys::unshare(clone::CloneFlags::NEWUSER.bits())?;
        // From inside, only a one-id map of our own ids is allowed, and the gid map needs
        // setgroups denied first.
        for (file, map) in [
            (c"self/uid_map", n.uid_map),
            (c"self/setgroups", b"deny" as &[u8]),
            (c"self/gid_map", n.gid_map),
        ] {
            let fd = sys::openat(proc_fd, file, sys::O_WRONLY | sys::O_CLOEXEC, 0)?;
            let w = sys::write_all(fd, map);
            sys::close(fd);
            w?;
        }
        Ok(())
    })();
    sys::close(proc_fd);
    r
}

/// Arm the parent-death signal again after the identity switch, then check that the parent
/// is still there.
///
/// The kernel clears `PR_SET_PDEATHSIG` on every change of the effective or filesystem uid
/// or gid (`commit_creds`): the switch to the initial ids of a map without the caller, the
/// `--user` switch, a user namespace whose ids differ. Nothing after this point changes
/// those ids (landlock, the capability drop and seccomp keep them, and a capability drop
/// is a subset, which the kernel does not count). The parent may have died while the
/// signal was off, and `getppid()` says nothing in a new PID namespace: the go-ahead pipe,
/// whose write end the parent holds until it has seen `execve`, is hung up then.
fn rearm_parent_death(plan: &Plan<'_>) -> Result<(), Fail> {
    sys::prctl(sys::PR_SET_PDEATHSIG, sys::SIGKILL, 0, 0, 0).at(Stage::Sync, NO_INDEX)?;
    if sys::hung_up(plan.sync_fd) {
        sys::exit_group(127);
    }
    sys::close(plan.sync_fd);
    Ok(())
}

/// Install the one seccomp filter of the sandbox. With an exit hook, its variant that turns
/// `exit_group` into a user notification is installed with a listener, which goes to the
/// parent (the only system call made under the new filter; the listener and the socket are
/// close-on-exec). An enclosing sandbox may already hold the one listener a filter stack can
/// have (EBUSY): then the plain filter is installed and the parent reports no peak memory.
fn install_filter(filter: &[SockFilter], hook: Option<ExitHook<'_>>) -> sys::SysResult<()> {
    const SECCOMP_FILTER_FLAG_NEW_LISTENER: u64 = 1 << 3;
    let Some(hook) = hook else {
        return sys::seccomp_set_filter(filter);
    };
    match sys::seccomp_set_filter_flags(hook.filter, SECCOMP_FILTER_FLAG_NEW_LISTENER) {
        Ok(listener) => sys::send_fd(hook.socket, listener as RawFd),
        Err(sys::EBUSY) => sys::seccomp_set_filter(filter),
        Err(e) => Err(e),
    }
}

/// Record the time of setup point `i` (see [`plan::TIMING_POINTS`]).
fn mark(plan: &Plan<'_>, i: usize) {
    if let Some(slot) = plan.timings.get(i) {
        slot.set(sys::monotonic_ns());
    }
}

fn setup(plan: &Plan<'_>, buf: &mut PathBuf, fds: &mut ChildFds) -> Result<(), Fail> {
    for fd in plan.close_first {
        sys::close(*fd);
    }
    signals::reset().at(Stage::Signals, NO_INDEX)?;
    sys::prctl(sys::PR_SET_PDEATHSIG, sys::SIGKILL, 0, 0, 0).at(Stage::Sync, NO_INDEX)?;
    // The parent writes one byte once the id maps are in place, and keeps its end open until
    // it has seen this child exec or fail. EOF means it is gone or gave up. The byte may
    // have been written by a parent that died before PR_SET_PDEATHSIG above took effect
    // (getppid() says nothing in a new PID namespace): a hung-up pipe after the byte tells.
    let mut go = [0u8; 1];
    match sys::read(plan.sync_fd, &mut go) {
        Ok(1) => {}
        Ok(_) => sys::exit_group(127),
        Err(e) => return Err(Fail::new(Stage::Sync, e, NO_INDEX)),
    }
    if sys::hung_up(plan.sync_fd) {
        sys::exit_group(127);
    }
    // sync_fd stays open (it is close-on-exec) for the same check after the identity switch.
    mark(plan, 0);
    if let Some((uid, gid)) = plan.initial_ids {
        sys::setresgid(gid).at(Stage::IdMap, NO_INDEX)?;
        sys::setresuid(uid).at(Stage::IdMap, NO_INDEX)?;
    }

    if let Some(m) = plan.mount {
        mount::setup(m, buf, plan.nested_userns.map(|_| plan.host_proc))?;
    }
    mark(plan, 1);
    if plan.loopback_up {
        sys::loopback_up().at(Stage::Network, NO_INDEX)?;
    }
    if let Some(name) = plan.hostname {
        sys::sethostname(name).at(Stage::Hostname, NO_INDEX)?;
    }
    if let Some(n) = plan.nested_userns {
        nested_userns(&n, plan.host_proc.get()).at(Stage::IdMap, NO_INDEX)?;
    }
    if plan.new_keyring {
        sys::join_new_session_keyring().at(Stage::Keyring, NO_INDEX)?;
    }
    if plan.new_session {
        sys::setsid().at(Stage::Session, NO_INDEX)?;
    } else {
        // Its own process group: kill(0, sig) from inside then reaches nothing outside.
        sys::new_process_group().at(Stage::Session, NO_INDEX)?;
    }
    if let Some(c) = &plan.caps {
        caps::drop_bounding(c).at(Stage::Capabilities, NO_INDEX)?;
    }
    if let Some(c) = &plan.credentials {
        if let Some(groups) = c.groups {
            match sys::setgroups(groups) {
                Err(1) if c.groups_optional => {}
                r => r.at(Stage::Credentials, NO_INDEX)?,
            }
        }
        sys::setresgid(c.gid).at(Stage::Credentials, NO_INDEX)?;
        sys::setresuid(c.uid).at(Stage::Credentials, NO_INDEX)?;
    }
    // After a switch to a non-zero uid the kernel already cleared the sets. Without
    // no_new_privs, installing the seccomp filter needs CAP_SYS_ADMIN, so the final capset
    // then waits until the filter is in place (and must be allowed by it: fail closed).
    let final_caps = plan
        .caps
        .filter(|_| plan.credentials.is_none_or(|c| c.uid == 0));
    let defer_caps = plan.seccomp.is_some() && !plan.no_new_privs;
    if let (Some(c), false) = (&final_caps, defer_caps) {
        caps::set(c).at(Stage::Capabilities, NO_INDEX)?;
    }
    rearm_parent_death(plan)?;
    mark(plan, 2);
    if plan.no_new_privs {
        sys::prctl(sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).at(Stage::NoNewPrivs, NO_INDEX)?;
    }
    if let Some(dir) = plan.cwd {
        sys::chdir(dir).at(Stage::Chdir, NO_INDEX)?;
    }
    if let Some(l) = plan.landlock {
        landlock::apply(l)?;
    }
    if fds.requests >= 0 || fds.host_pidfd >= 0 {
        // The init's watch of its signals, the engine's requests and the host, made here:
        // before the limits (a low RLIMIT_NOFILE would refuse new descriptors) and the
        // filter (which need not allow making them).
        fds.signal_fd = sys::signalfd_all().at(Stage::Init, NO_INDEX)?;
        fds.watch_fd = sys::epoll_watching(&[fds.signal_fd, fds.requests, fds.host_pidfd])
            .at(Stage::Init, NO_INDEX)?;
    }
    // The program's descriptors are put in place with dup3: keep the child's own (a parent
    // with closed stdio may have given them low numbers) above every target first.
    let top = plan.fds.iter().map(|m| m.dst).max().unwrap_or(2).max(2);
    for fd in [
        &mut fds.err,
        &mut fds.init_memfd,
        &mut fds.events,
        &mut fds.events_read,
        &mut fds.requests,
        &mut fds.host_pidfd,
        &mut fds.signal_fd,
        &mut fds.watch_fd,
    ] {
        if *fd >= 0 && *fd <= top {
            *fd = sys::fcntl(*fd, sys::F_DUPFD_CLOEXEC, (top + 1) as u64)
                .at(Stage::Fds, NO_INDEX)? as RawFd;
        }
    }
    fds::arrange(plan.fds, plan.fd_scratch).at(Stage::Fds, NO_INDEX)?;
    if plan.controlling_terminal {
        // The caller's own terminal (e.g. a pseudo-terminal it relays): the session, made
        // above, gets it; its foreground is the session leader's group (the init, or the
        // program without one) until the init hands it to the program.
        sys::set_controlling_terminal(plan.terminal_fd).at(Stage::Session, NO_INDEX)?;
    }
    // Limits bind the program, not this setup: applied after every descriptor the setup
    // needs is open (a low RLIMIT_NOFILE would fail the landlock ruleset, the exit-hook
    // listener or the descriptor moves above) and before the filter, which need not allow
    // prlimit64. Nothing is lost by setting them this late: raising a hard limit needs
    // CAP_SYS_RESOURCE in the initial user namespace, which this process never has.
    for (i, l) in plan.rlimits.iter().enumerate() {
        sys::setrlimit(l.resource, l.soft, l.hard).at(Stage::Rlimit, i as u32)?;
    }
    if plan.foreground && plan.init.is_none() {
        // Best effort, like a shell's: the program still runs if the terminal refuses.
        let _ = sys::take_foreground(plan.terminal_fd);
    }
    if let Some(filter) = plan.seccomp {
        install_filter(filter, plan.exit_hook).at(Stage::Seccomp, NO_INDEX)?;
    }
    if let (Some(c), true) = (&final_caps, defer_caps) {
        caps::set(c).at(Stage::Capabilities, NO_INDEX)?;
    }
    mark(plan, 3);
    Ok(())
}
