//! Spawning, in the order it happens (each phase a function below, [`spawn`] reads as the
//! list):
//! 1. prepare the plan completely ([`prepare_plan`]): wire the streams, look at the caller's
//!    terminal, build every byte the child reads (`plan.rs`); open the channels (error
//!    pipe, go-ahead pipe, exit-hook socket, the init's events pipe) and take the child's
//!    stack (reused: `child_stack.rs`);
//! 2. clone with `CLONE_VM` on the private stack ([`clone_sandbox`]), from a thread that
//!    lives as long as the process (below);
//! 3. the parent's part of the setup ([`Cloned::finish_setup`]): id maps, pasta;
//! 4. release the child and learn from the error pipe whether `execve` happened
//!    ([`Cloned::release_and_await_exec`]);
//! 5. hand over the [`Child`] with its reports (`enforcement.rs`).
//!
//! # Which thread clones
//! The sandbox must die with the host *process* but not with the *thread* that spawned it,
//! and after `execve` only the kernel can kill it: `PR_SET_PDEATHSIG`, which fires when the
//! parent *thread* exits (the kernel reparents the child to a sibling thread and still
//! sends the signal). So:
//! - the main thread clones directly (no hand-off: the CLI and most hosts spawn from it).
//!   Its exit ends the process in Rust, C (`return` from `main`), Python and Go; the one
//!   exception, a C host calling `pthread_exit` in its main thread while other threads go
//!   on, kills the sandboxes it spawned (documented in the crate docs);
//! - any other thread clones directly too when the sandbox has an init that can tell the
//!   end of that thread from the end of the process (`host_watch.rs`: the init keeps a
//!   pidfd of the host; the default sandbox);
//! - otherwise (no init, or a program that may hold `CAP_SYS_PTRACE`) it hands the clone to
//!   an idle engine spawner thread, and a new one is started when all are busy. Spawner
//!   threads never exit, so a sandbox spawned from a short-lived thread keeps running;
//!   several threads spawning at once each get their own spawner, so clones proceed in
//!   parallel (the pool grows to the largest number of concurrent spawns and stays there).
//!
//! All signals are blocked in the cloning thread around the clone (permanently in spawner
//! threads), so no handler can run in the child on the shared address space before the
//! child resets its signal state. Before `PR_SET_PDEATHSIG` takes hold in the child, the
//! go-ahead pipe (held open by the process until the child has exec'd) covers the death of
//! the host: the child checks it for a hang-up after the go-ahead byte. The idle list is
//! per process ([`ProcessLocal`]): a forked host starts with no spawner threads.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

use hakoniwa_runtime::clone::{self as rc, CloneArgs};
use hakoniwa_runtime::{ErrorRecord, Plan};
use rustix::pipe::{pipe_with, PipeFlags};

use crate::child::{Child, ChildStderr, ChildStdin, ChildStdout};
use crate::child_stack::Stack;
use crate::container::Container;
use crate::enforcement::{Enforcement, Marks, SetupTimings};
use crate::error::{Error, Result, Stage};
use crate::namespace::Namespace;
use crate::plan::{ChildEnds, Storage, TerminalUse};
use crate::process_local::ProcessLocal;
use crate::process_spec::ProcessSpec;
use crate::stdio::{Streams, Wired};

/// The plan of a spawn and what it would enforce, without spawning (`Command::prepare`).
pub(crate) fn prepare(c: &Container, mut spec: ProcessSpec<'_>) -> Result<Enforcement> {
    let mut marks = Marks::start();
    let prepared = prepare_plan(c, &mut spec, &marks)?;
    if let Some(m) = &prepared.plan.mount {
        m.check_fd_budget()?;
    }
    marks.prepared = crate::enforcement::now_ns();
    let timings = SetupTimings::from_marks(&marks, [0; 4]);
    Ok(Enforcement::new(c, &prepared.plan, timings))
}

/// Spawn the program of `spec` in a sandbox made as `c` says: prepare the plan completely,
/// clone, finish the parent's part of the setup, release the child and await its
/// `execve`, hand over the [`Child`].
pub(crate) fn spawn(c: &Container, mut spec: ProcessSpec<'_>) -> Result<Child> {
    let started = Instant::now();
    let mut marks = Marks::start();
    // Phase 1: the plan, complete; then the channels and the child's stack.
    let Prepared {
        wired,
        terminal,
        plan,
    } = prepare_plan(c, &mut spec, &marks)?;
    marks.prepared = crate::enforcement::now_ns();
    let channels = Channels::open(&plan).map_err(|e| explain_emfile(e, &plan))?;
    let stack = Stack::take()?;
    let child_ends = channels.child_ends();
    let keep = wired.keep;
    // The borrowed plan lives until the closure returns: after the child's execve or exit.
    let outcome = plan.with_plan(&child_ends, &wired.maps, |p| {
        // Phase 2: clone. The child has its own copy of the descriptor table now.
        let child = clone_sandbox(c, &stack, p)?;
        marks.cloned = crate::enforcement::now_ns();
        let mut ends = channels.into_parent_ends();
        drop(keep);
        // Phase 3: the parent's part of the setup.
        let pasta = match child.finish_setup(c, &plan, &mut marks) {
            Ok(pasta) => pasta,
            Err(e) => {
                // The go-ahead pipe hangs up: the child gives up; the kill makes sure.
                drop(ends);
                child.kill_and_reap();
                return Err(e);
            }
        };
        // Phase 4: release the child, await its execve.
        child.release_and_await_exec(&mut ends, &plan)?;
        marks.exec = crate::enforcement::now_ns();
        let peak = watch_peak(c, &plan, ends.hook, child.pid);
        Ok((child, ends.events, ends.requests, pasta, peak))
    });
    // The child is past execve (or gone, or never made): its stack can be reused and the
    // plan can go. (A panic above unwinds past this line and leaks the stack instead.)
    stack.release();
    let (child, events, requests, pasta, peak) = outcome.map_err(|e| explain_emfile(e, &plan))?;
    // Phase 5: hand over the Child with its reports.
    let timings = SetupTimings::from_marks(&marks, plan.timings.each_ref().map(|c| c.get()));
    let [stdin, stdout, stderr] = wired.parent_ends;
    // Shared with every Signaller: under job control, SIGCONT hands the program the
    // terminal's foreground when this process has it (see signaller.rs).
    let terminal = terminal.map(std::sync::Arc::new);
    Ok(Child {
        pid: child.pid,
        signaller: crate::signaller::Signaller::new(
            child.pid,
            child.pidfd,
            requests,
            terminal.clone(),
        ),
        stdin: stdin.map(ChildStdin),
        stdout: stdout.map(ChildStdout),
        stderr: stderr.map(ChildStderr),
        started,
        deadline: spec.wait_timeout.map(|d| started + d),
        cpu_limit: c
            .rlimits
            .get(&crate::rlimit::Rlimit::Cpu)
            .map(|(soft, _)| *soft),
        timed_out: false,
        status: None,
        warnings: plan.warnings(),
        pasta,
        enforcement: Enforcement::new(c, &plan, timings),
        peak,
        events,
        terminal,
        stop_hook: None,
        controlling_terminal: spec.controlling_terminal,
        ended: None,
        owner: crate::process_local::current_pid(),
    })
}

/// A spawn that failed for want of descriptors (EMFILE, in this process or in the child,
/// which has a copy of this process's descriptor table), explained by the open-file limit
/// when the plan's mount sources do not fit under it: `MountStorage::check_fd_budget`
/// lists the open descriptors only then.
fn explain_emfile(e: Error, plan: &Storage) -> Error {
    const EMFILE: i32 = 24;
    match (e.errno(), &plan.mount) {
        (Some(EMFILE), Some(m)) => m.check_fd_budget().err().unwrap_or(e),
        _ => e,
    }
}

/// Everything decided before the clone: the streams, the caller's terminal, the plan.
struct Prepared {
    wired: Wired,
    terminal: Option<crate::jobctl::Terminal>,
    plan: Storage,
}

/// Phase 1: connect the streams, look at the caller's terminal, build the complete plan.
fn prepare_plan(c: &Container, spec: &mut ProcessSpec<'_>, marks: &Marks) -> Result<Prepared> {
    let streams = std::mem::replace(&mut spec.streams, Streams::inherit());
    let wired = streams.wire()?;
    if spec.controlling_terminal && wired.terminal.is_none() {
        return Err(Error::config(
            "controlling_terminal",
            "none of the program's stdin, stdout, stderr is a terminal (give it the \
             terminal, e.g. a pseudo-terminal's slave, as one of them)",
        ));
    }
    // Job control: with the caller's controlling terminal on stdin (and no new session), the
    // program's process group gets the foreground if the caller has it (see jobctl.rs). A
    // terminal of its own (Command::controlling_terminal) leaves the caller's alone.
    let detected = if wired.stdin_is_tty
        && !spec.controlling_terminal
        && !crate::plan::new_session(c, wired.stdin_is_tty)
    {
        // SAFETY: `wired.stdin` is open: it is fd 0 or a descriptor held in `wired.keep`.
        crate::jobctl::Terminal::detect(unsafe { BorrowedFd::borrow_raw(wired.stdin) })
    } else {
        None
    };
    let tty = TerminalUse {
        stdin_is_tty: wired.stdin_is_tty,
        job_control: detected.is_some(),
        foreground: detected.as_ref().is_some_and(|(_, fg)| *fg),
        controlling_terminal: spec.controlling_terminal,
        terminal_fd: if spec.controlling_terminal {
            wired.terminal.unwrap_or(0)
        } else {
            0
        },
        console: console(c, &wired),
    };
    let plan = Storage::build(c, spec, &tty, marks.start)?;
    Ok(Prepared {
        wired,
        terminal: detected.map(|(t, _)| t),
        plan,
    })
}

/// The terminal on the program's stdout, for a devfs's console: the descriptor it is given
/// (e.g. the slave of a relayed pseudo-terminal), not the caller's own stdout.
fn console(c: &Container, wired: &crate::stdio::Wired) -> Option<std::path::PathBuf> {
    let devfs = c
        .mounts
        .iter()
        .any(|m| matches!(m, crate::mount::Mount::Devfs { .. }));
    let stdout = wired.maps.iter().find(|m| m.dst == 1)?.src;
    devfs.then(|| crate::stdio::tty_path(stdout)).flatten()
}

/// The program's peak memory: the init's report fills it in (when asked for); without an
/// init, the exit hook's listener comes back from the child and is watched.
fn watch_peak(
    c: &Container,
    plan: &Storage,
    hook: Option<OwnedFd>,
    pid: i32,
) -> Option<crate::exit_hook::Peak> {
    if c.peak_memory && plan.init.is_some() {
        return Some(Default::default());
    }
    hook.and_then(|s| receive_fd(&s))
        .and_then(|l| crate::exit_hook::watch(l, pid))
}

/// The pipes and sockets between the parent and the child of one spawn.
struct Channels {
    /// Setup errors (the child's end is close-on-exec: EOF means `execve` happened).
    err: (std::fs::File, OwnedFd),
    /// The go-ahead: one byte once the parent's setup is done; a hang-up afterwards tells
    /// the child that the parent died.
    sync: (OwnedFd, OwnedFd),
    /// The exit hook's listener comes back over this socket pair (parent's end first).
    hook: Option<(OwnedFd, OwnedFd)>,
    /// The init's reports: stops, continues, the program's end (read end first, then the
    /// write end and a second read end, both for the init: with it, the init drops reports
    /// the parent has not read when the pipe is full, never the last one).
    events: Option<(std::fs::File, OwnedFd, OwnedFd)>,
    /// The engine's requests to the init (read end for the init, then the write end).
    requests: Option<(OwnedFd, OwnedFd)>,
}

/// The parent's ends of the channels, once the child holds its own copies.
struct ParentEnds {
    err: std::fs::File,
    sync: std::fs::File,
    hook: Option<OwnedFd>,
    events: Option<std::fs::File>,
    requests: Option<crate::signaller::Requests>,
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::io("pipe2", e))
}

impl Channels {
    fn open(plan: &Storage) -> Result<Channels> {
        let (err_r, err_w) = pipe()?;
        let sync = pipe()?;
        let hook = match plan.has_exit_hook() {
            true => Some(
                rustix::net::socketpair(
                    rustix::net::AddressFamily::UNIX,
                    rustix::net::SocketType::SEQPACKET,
                    rustix::net::SocketFlags::CLOEXEC,
                    None,
                )
                .map_err(|e| Error::io("socketpair", e))?,
            ),
            false => None,
        };
        let events = match &plan.init {
            Some(_) => {
                let (r, w) = pipe()?;
                let init_r = r.try_clone().map_err(|e| Error::io("dup", e))?;
                Some((std::fs::File::from(r), w, init_r))
            }
            None => None,
        };
        // Non-blocking at both ends: the init reads until it is empty, and a full pipe
        // (an init that has ended) must not block the caller.
        let requests = match &plan.init {
            Some(_) => Some(
                pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)
                    .map_err(|e| Error::io("pipe2", e))?,
            ),
            None => None,
        };
        Ok(Channels {
            err: (std::fs::File::from(err_r), err_w),
            sync,
            hook,
            events,
            requests,
        })
    }

    /// The descriptors the child uses; the parent's ends are closed first thing there.
    fn child_ends(&self) -> ChildEnds {
        let mut close_first = vec![self.err.0.as_raw_fd(), self.sync.1.as_raw_fd()];
        close_first.extend(self.hook.as_ref().map(|(mine, _)| mine.as_raw_fd()));
        close_first.extend(self.events.as_ref().map(|(r, _, _)| r.as_raw_fd()));
        close_first.extend(self.requests.as_ref().map(|(_, w)| w.as_raw_fd()));
        ChildEnds {
            err_fd: self.err.1.as_raw_fd(),
            sync_fd: self.sync.0.as_raw_fd(),
            close_first,
            exit_hook_socket: self.hook.as_ref().map(|(_, theirs)| theirs.as_raw_fd()),
            events_fd: self.events.as_ref().map_or(-1, |(_, w, _)| w.as_raw_fd()),
            events_read_fd: self.events.as_ref().map_or(-1, |(_, _, r)| r.as_raw_fd()),
            requests_fd: self.requests.as_ref().map_or(-1, |(r, _)| r.as_raw_fd()),
        }
    }

    /// After the clone: the child has its own copy of the descriptor table, so the
    /// parent closes the child's ends.
    fn into_parent_ends(self) -> ParentEnds {
        ParentEnds {
            err: self.err.0,
            sync: std::fs::File::from(self.sync.1),
            hook: self.hook.map(|(mine, _theirs)| mine),
            events: self.events.map(|(r, _w, _init_r)| r),
            // The parent keeps a read end too: see `signaller::Requests`.
            requests: self
                .requests
                .map(|(r, w)| crate::signaller::Requests::new(w, r)),
        }
    }
}

/// The cloned child, until it has exec'd.
struct Cloned {
    pid: i32,
    pidfd: OwnedFd,
}

/// Phase 2: clone the child on `stack` with the namespaces of `c`.
fn clone_sandbox(c: &Container, stack: &Stack, plan: &Plan<'_>) -> Result<Cloned> {
    let flags = Namespace::ALL.iter().filter(|ns| c.is_unshared(**ns)).fold(
        (rc::CloneFlags::VM | rc::CloneFlags::PIDFD).bits(),
        |f, ns| f | ns.clone_flag(),
    );
    let (pid, pidfd) = clone_child(flags, stack, plan)?;
    // SAFETY: the kernel just returned this pidfd to us; nobody else owns it.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Cloned { pid, pidfd })
}

impl Cloned {
    /// End a child that will not run the program.
    fn kill_and_reap(&self) {
        use crate::sys::{Signal, WaitIdOptions};
        let _ = crate::sys::pidfd_send_signal(self.pidfd.as_fd(), Signal::KILL);
        let _ = crate::sys::waitid_pidfd(self.pidfd.as_fd(), WaitIdOptions::EXITED);
    }

    /// Phase 3: the parent's part of the setup: the id maps, then pasta.
    fn finish_setup(
        &self,
        c: &Container,
        plan: &Storage,
        marks: &mut Marks,
    ) -> Result<Option<crate::network::PastaProc>> {
        if let Some(maps) = &plan.id_maps {
            maps.write(self.pid)?;
        }
        marks.mapped = crate::enforcement::now_ns();
        let pasta = match &c.network {
            Some(crate::network::Network::Pasta(p)) => Some(crate::network::start_pasta(
                p,
                self.pid,
                rustix::process::geteuid().is_root(),
            )?),
            _ => None,
        };
        marks.network = crate::enforcement::now_ns();
        Ok(pasta)
    }

    /// Phase 4: release the child and wait until it has exec'd (EOF on the error pipe) or
    /// reported a setup failure.
    fn release_and_await_exec(&self, ends: &mut ParentEnds, plan: &Storage) -> Result<()> {
        // The go-ahead pipe stays open until the child has exec'd or failed: a hung-up pipe
        // after the byte tells the child that this process died before its
        // PR_SET_PDEATHSIG took hold.
        let go = std::io::Write::write_all(&mut ends.sync, b"1");
        if let Err(e) = go {
            self.kill_and_reap();
            return Err(Error::io("go-ahead pipe", e));
        }
        // EOF: execve happened (the pipe is CLOEXEC) or the child exited without a report.
        let mut rec = [0u8; ErrorRecord::SIZE];
        let mut got = 0;
        while got < rec.len() {
            match ends.err.read(&mut rec[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.kill_and_reap();
                    return Err(Error::io("read error pipe", e));
                }
            }
        }
        if got == 0 {
            return Ok(());
        }
        self.kill_and_reap();
        match (got, ErrorRecord::from_bytes(&rec)) {
            (ErrorRecord::SIZE, Some(r)) => {
                let stage = Stage::from_u32(r.stage).unwrap_or(Stage::Exec);
                Err(Error::setup(
                    stage,
                    plan.describe(stage, r.index, r.errno),
                    r.errno,
                ))
            }
            _ => Err(Error::Io {
                op: "error pipe (short record)",
                errno: 5,
            }),
        }
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

/// Clones of sandbox children (shared) against the engine's own `fork`/`execve` of a
/// helper (exclusive: [`without_clones`]). A child cloned while `std::process` spawns a
/// helper holds a copy of every descriptor of the process, the close-on-exec pipe on whose
/// end-of-file that spawn waits included, until its own `execve`; and the child waits for
/// its go-ahead first, which may wait for that very spawn's thread (the pasta launcher
/// serves every sandbox): two sandboxes with pasta spawned at once could deadlock.
/// Per process ([`ProcessLocal`]): a forked host never waits on its parent's lock.
static CLONING: ProcessLocal<std::sync::RwLock<()>> = ProcessLocal::new();

/// Run `f` (a `std::process` spawn of a helper) while no sandbox child is being cloned.
pub(crate) fn without_clones<T>(f: impl FnOnce() -> T) -> T {
    let lock = CLONING.get_or_init(|| std::sync::RwLock::new(()));
    let _exclusive = lock.write().unwrap_or_else(|e| e.into_inner());
    f()
}

/// Whether the calling thread is the process's main thread.
pub(crate) fn on_main_thread() -> bool {
    rustix::thread::gettid() == rustix::process::getpid()
}

/// Clone the child: from the calling thread when it is the main thread or the sandbox's init
/// watches the host (see `host_watch.rs`), else through an idle spawner thread (a new one
/// when all are busy).
fn clone_child(flags: u64, stack: &Stack, plan: &Plan<'_>) -> Result<(i32, RawFd)> {
    let job = Job {
        flags,
        stack_lo: stack.lowest_usable(),
        stack_top: stack.top(),
        plan: plan as *const Plan<'_> as usize,
        reply: mpsc::sync_channel(1).0,
    };
    let direct = on_main_thread() || plan.init.is_some_and(|i| i.host_pidfd >= 0);
    let result = if direct {
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
    // Held across the clone only (see CLONING); the child never touches it.
    let lock = CLONING.get_or_init(|| std::sync::RwLock::new(()));
    let _shared = lock.read().unwrap_or_else(|e| e.into_inner());
    let plan = job.plan as *const Plan<'static>;
    let mut pidfd: i32 = -1;
    if !NO_CLONE3.load(Ordering::Relaxed) {
        let mut args = CloneArgs {
            flags: job.flags | rc::CloneFlags::CLEAR_SIGHAND.bits(),
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
