//! Spawning: prepare, clone with `CLONE_VM` on a private stack, finish the parent's part
//! (id maps), release the child, and learn from the error pipe whether `execve` happened.
//!
//! # Which thread clones
//! The sandbox must die with the host *process* but not with the *thread* that spawned it,
//! and after `execve` only the kernel can kill it: `PR_SET_PDEATHSIG`, which fires when the
//! parent *thread* exits (the kernel reparents the child to a sibling thread and still
//! sends the signal). So the clone is made by a thread that lives as long as the process:
//! - the main thread clones directly (no hand-off: the CLI and most hosts spawn from it).
//!   Its exit ends the process in Rust, C (`return` from `main`), Python and Go; the one
//!   exception, a C host calling `pthread_exit` in its main thread while other threads go
//!   on, kills the sandboxes it spawned (documented in the crate docs);
//! - any other thread hands the clone to an idle engine spawner thread, and a new one is
//!   started when all are busy. Spawner threads never exit, so a sandbox spawned from a
//!   short-lived thread keeps running; several threads spawning at once each get their own
//!   spawner, so clones proceed in parallel (the pool grows to the largest number of
//!   concurrent spawns and stays there).
//!
//! All signals are blocked in the cloning thread around the clone (permanently in spawner
//! threads), so no handler can run in the child on the shared address space before the
//! child resets its signal state. Before `PR_SET_PDEATHSIG` takes hold in the child, the
//! go-ahead pipe (held open by the process until the child has exec'd) covers the death of
//! the host: the child checks it for a hang-up after the go-ahead byte. The idle list is
//! per process ([`ProcessLocal`]): a forked host starts with no spawner threads.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

use hakoniwa_runtime::clone::{self as rc, CloneArgs};
use hakoniwa_runtime::{ErrorRecord, FdMap, Plan};
use rustix::pipe::{pipe_with, PipeFlags};

use crate::child::{Child, ChildStderr, ChildStdin, ChildStdout};
use crate::command::Command;
use crate::error::{Error, Result, Stage};
use crate::idmap;
use crate::namespace::Namespace;
use crate::plan::Storage;
use crate::process_local::ProcessLocal;
use crate::stdio::StdioKind;

const STACK_SIZE: usize = 256 * 1024;
const GUARD: usize = 4096;

/// A private stack for the child, with a guard page below it.
struct Stack {
    base: *mut std::ffi::c_void,
    len: usize,
}

impl Stack {
    fn new() -> Result<Stack> {
        use rustix::mm::{mmap_anonymous, mprotect, MapFlags, MprotectFlags, ProtFlags};
        let len = STACK_SIZE + GUARD;
        // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
        let base = unsafe {
            mmap_anonymous(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::NORESERVE | MapFlags::STACK,
            )
        }
        .map_err(|e| Error::io("mmap", e))?;
        // SAFETY: the guard page is the lowest page of the mapping made above.
        unsafe { mprotect(base, GUARD, MprotectFlags::empty()) }
            .map_err(|e| Error::io("mprotect", e))?;
        Ok(Stack { base, len })
    }

    fn lowest_usable(&self) -> u64 {
        self.base as u64 + GUARD as u64
    }

    fn top(&self) -> *mut u8 {
        // SAFETY: one-past-the-end of our own mapping; 16-byte aligned (page aligned + size).
        unsafe { (self.base as *mut u8).add(self.len) }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping this value owns; the child no longer uses it
        // (Stack is dropped only after EOF on the error pipe: execve or exit happened).
        let _ = unsafe { rustix::mm::munmap(self.base, self.len) };
    }
}

/// One clone request for a spawner thread.
struct Job {
    flags: u64,
    stack_lo: u64,
    stack_top: usize,
    plan: usize,
    reply: mpsc::SyncSender<std::result::Result<(i32, RawFd), i32>>,
}

// SAFETY: the raw addresses in a Job point at memory the submitting thread keeps alive
// until it has received the reply and the child has exec'd or exited.
unsafe impl Send for Job {}

/// Idle spawner threads of this process (see the module docs). Per process: a forked host
/// starts with none instead of senders to threads that do not exist in it.
static IDLE_SPAWNERS: ProcessLocal<Mutex<Vec<mpsc::Sender<Job>>>> = ProcessLocal::new();
static NO_CLONE3: AtomicBool = AtomicBool::new(false);

/// Clone the child: from the calling thread when it is the main thread, else through an
/// idle spawner thread (a new one when all are busy).
fn clone_child(flags: u64, stack: &Stack, plan: &Plan<'_>) -> Result<(i32, RawFd)> {
    let job = Job {
        flags,
        stack_lo: stack.lowest_usable(),
        stack_top: stack.top() as usize,
        plan: plan as *const Plan<'_> as usize,
        reply: mpsc::sync_channel(1).0,
    };
    let on_main_thread = rustix::thread::gettid() == rustix::process::getpid();
    let result = if on_main_thread {
        // No handler may run in the child on the shared address space before it resets its
        // signal state: block everything around the clone (the child inherits the mask and
        // clears it; CLONE_CLEAR_SIGHAND also resets handlers where clone3 exists).
        let old = crate::sys::block_all_signals();
        let r = do_clone(&job);
        crate::sys::set_signal_mask(old);
        r
    } else {
        clone_via_spawner(job)?
    };
    result.map_err(|e| Error::setup(Stage::Unshare, None, e))
}

fn clone_via_spawner(mut job: Job) -> Result<std::result::Result<(i32, RawFd), i32>> {
    let gone = || Error::Io {
        op: "spawner thread",
        errno: 32,
    };
    let idle = IDLE_SPAWNERS.get_or_init(|| Mutex::new(Vec::new()));
    let taken = idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let tx = match taken {
        Some(tx) => tx,
        None => {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("hakoniwa-spawner".into())
                .spawn(move || {
                    crate::sys::block_all_signals();
                    for job in rx {
                        let _ = job.reply.send(do_clone(&job));
                    }
                })
                .map_err(|e| Error::io("thread spawn", e))?;
            tx
        }
    };
    let (rtx, rrx) = mpsc::sync_channel(1);
    job.reply = rtx;
    tx.send(job).map_err(|_| gone())?;
    let r = rrx.recv().map_err(|_| gone())?;
    idle.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
    Ok(r)
}

fn do_clone(job: &Job) -> std::result::Result<(i32, RawFd), i32> {
    let plan = job.plan as *const Plan<'static>;
    let mut pidfd: i32 = -1;
    if !NO_CLONE3.load(Ordering::Relaxed) {
        let mut args = CloneArgs {
            flags: job.flags | rc::CLONE_CLEAR_SIGHAND,
            pidfd: &mut pidfd as *mut i32 as u64,
            exit_signal: rc::SIGCHLD,
            stack: job.stack_lo,
            stack_size: (job.stack_top as u64) - job.stack_lo,
            ..Default::default()
        };
        // SAFETY: CLONE_VM with a private stack owned by the submitting thread, which keeps
        // the plan alive until the child has exec'd or exited; all signals are blocked here.
        match unsafe { rc::clone3(&mut args, plan) } {
            Ok(pid) => return Ok((pid, pidfd)),
            Err(38) => NO_CLONE3.store(true, Ordering::Relaxed), // ENOSYS: seccomp'd host
            Err(e) => return Err(e),
        }
    }
    // SAFETY: as above, with the older clone(2) calling convention.
    let pid = unsafe {
        rc::clone2(
            job.flags | rc::SIGCHLD,
            job.stack_top as *mut u8,
            &mut pidfd,
            plan,
        )
    }?;
    Ok((pid, pidfd))
}

fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: borrowing a descriptor number only for an fcntl query.
    let b = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_getfd(b).is_ok()
}

fn open_null() -> Result<OwnedFd> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| Error::io("open /dev/null", e))
}

fn tty_path(fd: RawFd) -> Option<std::path::PathBuf> {
    // SAFETY: borrowing a descriptor number for an isatty query.
    let b = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    if !fd_is_open(fd) || !rustix::termios::isatty(b) {
        return None;
    }
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .ok()
        .filter(|p| p.starts_with("/dev/"))
}

/// Receive the exit hook's listener (sent by the child with `SCM_RIGHTS` before `execve`).
fn receive_fd(sock: &OwnedFd) -> Option<OwnedFd> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let mut space = [std::mem::MaybeUninit::<u8>::uninit(); 64];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    rustix::net::recvmsg(
        sock,
        &mut iov,
        &mut anc,
        RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC,
    )
    .ok()?;
    let mut out = None;
    for msg in anc.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = msg {
            for fd in fds {
                out.get_or_insert(fd);
            }
        }
    }
    out
}

pub(crate) fn spawn(
    cmd: &Command,
    stdio: [StdioKind; 3],
    extra: Vec<(OwnedFd, i32)>,
) -> Result<Child> {
    let started = Instant::now();
    let mut marks = [crate::enforcement::now_ns(), 0, 0, 0, 0, 0];
    let c = &cmd.container;

    // Standard streams and passed descriptors: `keep` holds what must stay open until the
    // clone has copied the descriptor table.
    let mut keep: Vec<OwnedFd> = Vec::new();
    let mut maps: Vec<FdMap> = Vec::new();
    let mut parent_ends: [Option<std::fs::File>; 3] = [None, None, None];
    let mut stdin_is_tty = false;
    let mut stdin_src: RawFd = -1;
    for (i, kind) in stdio.into_iter().enumerate() {
        let dst = i as RawFd;
        let src = match kind {
            StdioKind::Inherit if fd_is_open(dst) => {
                if i == 0 {
                    stdin_is_tty = tty_path(0).is_some();
                }
                dst
            }
            StdioKind::Inherit | StdioKind::Null => {
                let n = open_null()?;
                let raw = n.as_raw_fd();
                keep.push(n);
                raw
            }
            StdioKind::Piped => {
                let (r, w) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::io("pipe2", e))?;
                let (mine, theirs) = if i == 0 { (w, r) } else { (r, w) };
                parent_ends[i] = Some(std::fs::File::from(mine));
                let raw = theirs.as_raw_fd();
                keep.push(theirs);
                raw
            }
            StdioKind::Fd(fd) => {
                if i == 0 {
                    stdin_is_tty = rustix::termios::isatty(&fd);
                }
                let raw = fd.as_raw_fd();
                keep.push(fd);
                raw
            }
        };
        if i == 0 {
            stdin_src = src;
        }
        maps.push(FdMap { src, dst });
    }
    for (fd, target) in extra {
        if target < 3 {
            return Err(Error::config(
                "preserve_fd",
                format!("target {target} must be 3 or higher (use stdin/stdout/stderr)"),
            ));
        }
        maps.push(FdMap {
            src: fd.as_raw_fd(),
            dst: target,
        });
        keep.push(fd);
    }
    maps.sort_by_key(|m| m.dst);

    let console = if c
        .mounts
        .iter()
        .any(|m| matches!(m, crate::container::MountEntry::Devfs { .. }))
    {
        tty_path(1)
    } else {
        None
    };
    let mut storage = Storage::build(cmd, stdin_is_tty, console)?;
    // Job control: with the caller's controlling terminal on stdin (and no new session), the
    // program's process group gets the foreground if the caller has it (see jobctl.rs).
    let terminal = if stdin_is_tty && !storage.new_session {
        // SAFETY: `stdin_src` is open: it is fd 0 or a descriptor held in `keep`.
        crate::jobctl::Terminal::detect(unsafe { std::os::fd::BorrowedFd::borrow_raw(stdin_src) })
    } else {
        None
    };
    let foreground = terminal.as_ref().is_some_and(|(_, fg)| *fg);
    let terminal = terminal.map(|(t, _)| t);
    match storage.init.as_mut() {
        Some(init) => {
            use hakoniwa_runtime::init_proto::{FLAG_FOREGROUND, FLAG_JOB_CONTROL};
            if terminal.is_some() {
                init.flags |= FLAG_JOB_CONTROL;
            }
            if foreground {
                init.flags |= FLAG_FOREGROUND;
            }
            // The init enforces the deadline too, so it holds while this process is stopped.
            // It acts a moment after this process would: a running supervisor kills first
            // and can still read the program's peak memory, which a kill by the init loses.
            const INIT_DEADLINE_GRACE_NS: u64 = 100_000_000;
            init.deadline_ns = cmd.wait_timeout.map_or(0, |d| {
                marks[0]
                    .saturating_add(d.as_nanos() as u64)
                    .saturating_add(INIT_DEADLINE_GRACE_NS)
            });
        }
        None => storage.foreground = foreground,
    }

    let euid = rustix::process::geteuid().as_raw();
    let egid = rustix::process::getegid().as_raw();
    let userns = c.is_unshared(Namespace::User);
    let (uidmaps, gidmaps) = if userns {
        let u = idmap::effective(&c.uidmaps, euid);
        let g = idmap::effective(&c.gidmaps, egid);
        idmap::validate("uidmap", &u)?;
        idmap::validate("gidmap", &g)?;
        // When the caller's own ids are not mapped, the child could not create a single
        // file; it switches to an id of the namespace first (0 if mapped, else the lowest).
        let pick = |m: &[crate::idmap::IdMap]| {
            if m.iter().any(|r| r.container_id == 0) {
                0
            } else {
                m.iter().map(|r| r.container_id).min().unwrap_or(0)
            }
        };
        if idmap::inside(&u, euid).is_none() || idmap::inside(&g, egid).is_none() {
            storage.initial_ids = Some((pick(&u), pick(&g)));
        }
        // The nested namespace maps itself from inside, which the kernel allows only for
        // a single id; multi-range maps keep the mount flags unlocked (documented).
        let single = |m: &[crate::idmap::IdMap]| m.len() == 1 && m[0].count == 1;
        if c.is_unshared(Namespace::Mount) && single(&u) && single(&g) {
            storage.nested = Some((crate::plan::identity_map(&u), crate::plan::identity_map(&g)));
        }
        (u, g)
    } else {
        if c.uidmaps.is_some() || c.gidmaps.is_some() {
            return Err(Error::config("uidmap", "id maps need a user namespace"));
        }
        (Vec::new(), Vec::new())
    };

    // Capability conditions of the filter follow what the program will really hold: the
    // container's set as uid 0 (in its own user namespace, or as real root), none otherwise.
    let uid_inside = if userns {
        idmap::inside(&uidmaps, euid).or(storage.initial_ids.map(|(u, _)| u))
    } else {
        Some(euid)
    };
    let uid_inside = match &c.credentials {
        Some((uid, _, _)) => Some(*uid),
        None => uid_inside,
    };
    // A uid-0 program keeps only the container's capability set (Podman's by default).
    let all = crate::seccomp::all_caps();
    if c.caps & !all != 0 {
        return Err(Error::config(
            "capabilities",
            format!("unknown capability bits {:#x}", c.caps & !all),
        ));
    }
    // A process limit that the kernel would not enforce is refused; a sandbox holding host
    // root's ids may not leave set-id files or file capabilities behind (see host_root).
    crate::host_root::check_nproc(
        c.rlimits.contains_key(&crate::rlimit::Rlimit::Nproc),
        crate::host_root::program_host_uid(userns, &uidmaps, uid_inside, euid),
    )?;
    let deny_setid = !c.has_runctl(crate::runctl::Runctl::AllowSetid)
        && crate::host_root::reaches_host_root(userns, &uidmaps, &gidmaps, euid, egid);
    let container_caps = if deny_setid {
        c.caps & !(1u64 << crate::host_root::CAP_SETFCAP)
    } else {
        c.caps
    };
    let caps = if uid_inside == Some(0) {
        let last_cap = all.count_ones().saturating_sub(1);
        storage.caps = Some(hakoniwa_runtime::CapPlan {
            keep: container_caps,
            last_cap,
        });
        container_caps
    } else {
        // Any other program loses its effective and permitted sets at `execve`, but the
        // bounding set would stay full; empty it (the child still holds CAP_SETPCAP in the
        // user namespace it was cloned into).
        if userns {
            storage.caps = Some(hakoniwa_runtime::CapPlan {
                keep: 0,
                last_cap: all.count_ones().saturating_sub(1),
            });
        }
        0
    };
    storage.seccomp = crate::seccomp::compile(
        &c.seccomp,
        caps,
        deny_setid,
        // With an init, the init reports the program's own rusage: no hook needed.
        c.peak_memory && storage.init.is_none(),
    )?;
    if let (Some(init), Some(filter)) = (&storage.init, &storage.seccomp) {
        crate::init::check_filter(
            &filter.program.instructions,
            &filter.program.profile,
            init.flags & hakoniwa_runtime::init_proto::FLAG_JOB_CONTROL != 0,
            init.deadline_ns != 0,
            init.nproc != u64::MAX,
        )?;
    }

    let flags = Namespace::ALL
        .iter()
        .filter(|ns| c.is_unshared(**ns))
        .fold(rc::CLONE_VM | rc::CLONE_PIDFD, |f, ns| f | ns.clone_flag());

    marks[1] = crate::enforcement::now_ns();
    let (err_r, err_w) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::io("pipe2", e))?;
    let (sync_r, sync_w) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::io("pipe2", e))?;
    let stack = Stack::new()?;

    let init_reports_peak = c.peak_memory && storage.init.is_some();
    // The exit hook is a variant of the seccomp program (unconfined means no filter at all),
    // made only when the caller asked for peak memory and there is no init (which reports
    // the program's own rusage).
    let hook = match storage.seccomp.as_ref().and_then(|s| s.hooked.as_ref()) {
        Some(_) => Some(
            rustix::net::socketpair(
                rustix::net::AddressFamily::UNIX,
                rustix::net::SocketType::SEQPACKET,
                rustix::net::SocketFlags::CLOEXEC,
                None,
            )
            .map_err(|e| Error::io("socketpair", e))?,
        ),
        _ => None,
    };
    // The init's reports: stops, continues, the program's end.
    let (events_r, events_w) = match &storage.init {
        Some(_) => {
            let (r, w) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::io("pipe2", e))?;
            (Some(std::fs::File::from(r)), Some(w))
        }
        None => (None, None),
    };
    if let (Some(init), Some(w)) = (storage.init.as_mut(), &events_w) {
        init.memfd = crate::init::memfd()?;
        init.events_fd = w.as_raw_fd();
    }
    let mut close_first = vec![err_r.as_raw_fd(), sync_w.as_raw_fd()];
    if let Some((mine, _)) = &hook {
        close_first.push(mine.as_raw_fd());
    }
    if let Some(r) = &events_r {
        close_first.push(r.as_raw_fd());
    }
    let hook_child = hook.as_ref().map(|(_, theirs)| theirs.as_raw_fd());
    let mut err_r = std::fs::File::from(err_r);
    let outcome = storage.with_plan(
        err_w.as_raw_fd(),
        sync_r.as_raw_fd(),
        &close_first,
        &maps,
        hook_child,
        |plan| {
            let (pid, pidfd) = clone_child(flags, &stack, plan)?;
            marks[2] = crate::enforcement::now_ns();
            // SAFETY: the kernel just returned this pidfd to us; nobody else owns it.
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            // The child has its own copy of the descriptor table now.
            drop(err_w);
            drop(sync_r);
            drop(events_w);
            drop(std::mem::take(&mut keep));
            let hook_mine = hook.map(|(mine, _theirs)| mine);

            let kill_and_reap = |pidfd: &OwnedFd| {
                let _ = crate::sys::pidfd_send_signal(std::os::fd::AsFd::as_fd(pidfd), 9);
                let _ =
                    crate::sys::waitid_pidfd(std::os::fd::AsFd::as_fd(pidfd), crate::sys::WEXITED);
            };
            if userns {
                if let Err(e) = idmap::write(pid, &uidmaps, &gidmaps, euid, egid) {
                    drop(sync_w);
                    kill_and_reap(&pidfd);
                    return Err(e);
                }
            }
            marks[3] = crate::enforcement::now_ns();
            let pasta = match &c.network {
                Some(crate::network::Network::Pasta(p)) => {
                    match crate::network::start_pasta(p, pid, euid == 0) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            drop(sync_w);
                            kill_and_reap(&pidfd);
                            return Err(e);
                        }
                    }
                }
                _ => None,
            };
            marks[4] = crate::enforcement::now_ns();
            // Kept open until the child has exec'd or failed: a hung-up pipe after the byte
            // tells the child that this process died before its PR_SET_PDEATHSIG took hold.
            let mut sync_w = std::fs::File::from(sync_w);
            let go = std::io::Write::write_all(&mut sync_w, b"1");
            if let Err(e) = go {
                kill_and_reap(&pidfd);
                return Err(Error::io("go-ahead pipe", e));
            }

            // EOF: execve happened (the pipe is CLOEXEC) or the child exited without a report.
            let mut rec = [0u8; ErrorRecord::SIZE];
            let mut got = 0;
            while got < rec.len() {
                match err_r.read(&mut rec[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        kill_and_reap(&pidfd);
                        return Err(Error::io("read error pipe", e));
                    }
                }
            }
            if got == 0 {
                marks[5] = crate::enforcement::now_ns();
                // With an init, the init's report fills the figure in (when asked for).
                let peak = match init_reports_peak {
                    true => Some(Default::default()),
                    false => hook_mine
                        .and_then(|s| receive_fd(&s))
                        .and_then(|l| crate::exit_hook::watch(l, pid)),
                };
                return Ok((pid, pidfd, pasta, peak));
            }
            kill_and_reap(&pidfd);
            match (got, ErrorRecord::from_bytes(&rec)) {
                (ErrorRecord::SIZE, Some(r)) => {
                    let stage = Stage::from_u32(r.stage).unwrap_or(Stage::Exec);
                    Err(Error::setup(
                        stage,
                        storage.describe(stage, r.index, r.errno),
                        r.errno,
                    ))
                }
                _ => Err(Error::Io {
                    op: "error pipe (short record)",
                    errno: 5,
                }),
            }
        },
    );
    // The child is past execve (or gone): its stack and the plan can go.
    drop(stack);
    let (pid, pidfd, pasta, peak) = outcome?;
    let [i, o, e] = parent_ends;
    let enforcement = crate::enforcement::Enforcement {
        namespaces: Namespace::ALL
            .iter()
            .copied()
            .filter(|ns| c.is_unshared(*ns))
            .collect(),
        capabilities: storage.caps.map(|p| p.keep),
        landlock: storage.landlock.as_ref().map(|l| {
            let r = l.report();
            let plan = l.plan();
            crate::enforcement::LandlockReport {
                abi: r.abi,
                handled_fs: r.handled_fs,
                handled_net: r.handled_net,
                scoped: r.scoped,
                fs_rules: plan.fs_rules.len(),
                net_rules: plan.net_rules.len(),
                dropped: r.dropped.clone(),
            }
        }),
        seccomp: storage
            .seccomp
            .as_ref()
            .map(|s| crate::enforcement::SeccompReport {
                profile: s.program.profile.clone(),
                instructions: s.program.instructions.len(),
                rules: s.rules,
                architectures: s
                    .program
                    .arches
                    .iter()
                    .map(|a| format!("{a:?}").to_lowercase())
                    .collect(),
            }),
        no_new_privs: storage.no_new_privs,
        setid_denied: deny_setid,
        timings: crate::enforcement::SetupTimings::from_marks(
            marks,
            storage.timings.each_ref().map(|c| c.get()),
        ),
    };
    let mut warnings: Vec<String> = storage
        .seccomp
        .iter()
        .flat_map(|c| c.warnings.iter().cloned())
        .collect();
    if deny_setid && storage.seccomp.is_none() {
        warnings.push(
            "set-id files can be created: the sandbox holds host root's ids and has no \
             seccomp filter to deny set-id modes (only CAP_SETFCAP is dropped)"
                .into(),
        );
    }
    if let Some(l) = &storage.landlock {
        warnings.extend(
            l.report()
                .dropped
                .iter()
                .map(|d| format!("landlock: not enforced: {d}")),
        );
    }
    Ok(Child {
        pid,
        pidfd,
        stdin: i.map(ChildStdin),
        stdout: o.map(ChildStdout),
        stderr: e.map(ChildStderr),
        started,
        deadline: cmd.wait_timeout.map(|d| started + d),
        cpu_limit: c
            .rlimits
            .get(&crate::rlimit::Rlimit::Cpu)
            .map(|(soft, _)| *soft),
        timed_out: false,
        status: None,
        warnings,
        pasta,
        enforcement,
        peak,
        events: events_r,
        terminal,
        ended: None,
    })
}
