//! `hakoniwa-init`: PID 1 of a sandbox's PID namespace.
//!
//! The kernel treats PID 1 specially: it drops every signal PID 1 has no handler for (so a
//! program run as PID 1 ignores Ctrl-C, Ctrl-Z and `kill -TERM` unless it handles them, and
//! `kill -SEGV $$` does not kill it), and orphaned processes are re-parented to it and stay
//! zombies unless it waits for them. This init takes that role, like tini, dumb-init or
//! bubblewrap's init, so the program gets ordinary signal semantics:
//! - it starts the program in its own process group (given the terminal's foreground when
//!   the caller had it), so `kill(0, ...)` from inside reaches neither the init nor anything
//!   outside the sandbox;
//! - it forwards every signal it receives to the program (`SIGCONT` to its process group,
//!   handing the terminal back first when the engine asks), reaps every orphan, reports the
//!   program's stops, continues and end (wait status and `rusage`) to the engine, enforces the
//!   wall-clock deadline even while the engine is stopped, and ends with the program.
//!
//! It must not share the host's memory (the program could ptrace it), so it is its own small
//! static executable, without libc or crates, built by `engine/build.rs`, embedded in the
//! engine and run from a sealed memfd. It runs with everything the runtime set up (mounts,
//! identity, capabilities, landlock, seccomp): it is never a way around them. It makes
//! itself non-dumpable, so the program cannot ptrace it or read its memory.
//!
//! Inputs and outputs are described in `runtime/src/init_proto.rs`.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[allow(dead_code)]
#[path = "../runtime/src/init_proto.rs"]
mod proto;
#[path = "../runtime/src/named.rs"]
mod named;
#[allow(dead_code)]
#[path = "../runtime/src/search.rs"]
mod search;
#[allow(dead_code)]
#[path = "../runtime/src/stage.rs"]
mod stage;
mod sys;
#[path = "../runtime/src/trampoline.rs"]
mod trampoline;
#[allow(dead_code)]
#[path = "../runtime/src/wire.rs"]
mod wire;

use core::ffi::{c_char, CStr};

use proto::{Control, Event};
use stage::{ErrorRecord, Stage, NO_INDEX, RECORD_MAGIC};

core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    sys::exit_group(127)
}

/// Every signal (SIGKILL and SIGSTOP cannot be blocked; the kernel ignores them here).
const ALL_SIGNALS: u64 = !0;

/// The entry: `sp` points at `argc`, then `argv[]`, NULL, `envp[]`, NULL.
///
/// # Safety
/// Called once by `_start` with the initial stack pointer the kernel set up.
unsafe extern "C" fn entry(sp: *const usize) -> ! {
    // SAFETY: the kernel's initial stack layout: argc, argv pointers, NULL, envp pointers.
    let (argv, envp) = unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        (argv, argv.add(argc + 1))
    };
    // SAFETY: argv/envp are the kernel-made, NULL-terminated arrays; the runtime passed at
    // least one argv entry and `proto::ENV_PREFIX` envp entries before the program's.
    unsafe { main(argv, envp) }
}

/// The `i`th string of a NULL-terminated array, if the array is that long.
///
/// # Safety
/// `arr` must be a NULL-terminated array of NUL-terminated strings.
unsafe fn nth<'a>(arr: *const *const u8, i: usize) -> Option<&'a CStr> {
    for k in 0..=i {
        // SAFETY: we stop at the first NULL, so every read is inside the array.
        let p = unsafe { *arr.add(k) };
        if p.is_null() {
            return None;
        }
        if k == i {
            // SAFETY: a non-NULL entry points at a NUL-terminated string.
            return Some(unsafe { CStr::from_ptr(p as *const c_char) });
        }
    }
    None
}

/// Blank the program's arguments in this process's memory, so `/proc/1/cmdline` (what
/// `ps` shows, inside and on the host) is just the init's name.
///
/// # Safety
/// `argv` must be the kernel-made, NULL-terminated argument array of this process.
unsafe fn scrub_arguments(argv: *const *const u8) {
    let mut i = 1;
    loop {
        // SAFETY: we stop at the terminating NULL.
        let p = unsafe { *argv.add(i) } as *mut u8;
        if p.is_null() {
            return;
        }
        // SAFETY: each entry is a NUL-terminated string on our own, writable stack.
        unsafe { blank(p) };
        i += 1;
    }
}

/// Overwrite the NUL-terminated string at `p` with NULs.
///
/// # Safety
/// `p` points at a NUL-terminated string in writable memory of this process.
unsafe fn blank(p: *mut u8) {
    let mut q = p;
    // SAFETY: the caller's contract; we stop at the NUL.
    unsafe {
        while q.read_volatile() != 0 {
            q.write_volatile(0);
            q = q.add(1);
        }
    }
}

fn report_setup_error(fd: i32, stage: Stage, errno: i32) {
    let rec = ErrorRecord {
        magic: RECORD_MAGIC,
        stage: stage as u32,
        errno,
        index: NO_INDEX,
    };
    let _ = sys::write(fd, &rec.to_bytes());
}

/// Report `e` to the engine. Non-blocking: an engine that stopped reading must not stall
/// PID 1, and an engine that waits only for PID 1's end (an event loop on the pidfd) must
/// get it. The program can fill the pipe with stop and continue reports while nobody reads;
/// then the reports nobody read are dropped from the pipe (through the init's own read
/// end) to make room, so the newest state always arrives, above all the report of how the
/// program ended, without which the engine would take PID 1's own exit for the program's.
/// A report is smaller than PIPE_BUF: it is written whole or not at all.
fn send(ctl: &Control, e: Event) {
    let report = e.encode();
    if sys::write(ctl.events_fd, &report) == Err(sys::EAGAIN) {
        // Whole reports only: a read that split one would leave the engine reading the
        // rest out of step, the report of the end included.
        let mut stale = [0u8; proto::EVENT_SIZE * 25];
        while matches!(sys::read(ctl.events_read_fd, &mut stale), Ok(n) if n > 0) {}
        let _ = sys::write(ctl.events_fd, &report);
    }
}

/// # Safety
/// As for [`entry`].
unsafe fn main(argv: *const *const u8, envp: *const *const u8) -> ! {
    // SAFETY: forwarded contract.
    let (ctl, program, search_path) = unsafe { (nth(envp, 0), nth(envp, 1), nth(envp, 2)) };
    let (Some(ctl), Some(program), Some(search_path)) = (ctl, program, search_path) else {
        sys::exit_group(127)
    };
    let Some(ctl_text) = Control::decode(ctl.to_bytes()) else {
        sys::exit_group(127)
    };
    // The request key stays in this frame only (the program cannot read our environment
    // either: we are not dumpable).
    // SAFETY: envp[0] is a NUL-terminated string on our own, writable stack.
    unsafe { blank(ctl.as_ptr() as *mut u8) };
    let ctl = ctl_text;
    // Nothing may interrupt PID 1's bookkeeping: every signal is taken with sigtimedwait.
    let _ = sys::set_sigmask(ALL_SIGNALS);
    let _ = sys::plain(sys::SYS_PRCTL, [sys::PR_SET_DUMPABLE, 0, 0, 0, 0, 0]);
    sys::set_name(proto::INIT_NAME);
    // The engine's descriptors must not reach the program (the host's pidfd would let it
    // take the host out of the watch; the error pipe's EOF is how the engine learns of the
    // execve), and the events pipe must not block PID 1: a filter refusing these calls
    // (the engine checks the usual arguments before the spawn) fails the spawn here.
    let setups = [
        (ctl.events_fd, sys::F_SETFD, sys::FD_CLOEXEC),
        (ctl.events_fd, sys::F_SETFL, sys::O_NONBLOCK),
        (ctl.events_read_fd, sys::F_SETFD, sys::FD_CLOEXEC),
        (ctl.events_read_fd, sys::F_SETFL, sys::O_NONBLOCK),
        (ctl.err_fd, sys::F_SETFD, sys::FD_CLOEXEC),
        (ctl.host_pidfd, sys::F_SETFD, sys::FD_CLOEXEC),
        (ctl.signal_fd, sys::F_SETFD, sys::FD_CLOEXEC),
        (ctl.watch_fd, sys::F_SETFD, sys::FD_CLOEXEC),
        (ctl.request_fd, sys::F_SETFD, sys::FD_CLOEXEC),
    ];
    for (fd, cmd, arg) in setups {
        if fd < 0 {
            continue;
        }
        if let Err(e) = sys::fcntl(fd, cmd, arg) {
            report_setup_error(ctl.err_fd, Stage::Init, e);
            sys::exit_group(127)
        }
    }
    // SAFETY: argv[1..] and envp[ENV_PREFIX..] are the program's NULL-terminated arrays.
    let (prog_argv, prog_envp) = unsafe { (argv.add(1), envp.add(proto::ENV_PREFIX)) };

    // The child learns its pid from the kernel (CLONE_CHILD_SETTID): no getpid, which a
    // seccomp profile might deny.
    let mut child = ProgramChild {
        ctl: &ctl,
        me: 0,
        program,
        search_path: search_path.to_bytes(),
        argv: prog_argv,
        envp: prog_envp,
    };
    let arg = &mut child as *mut ProgramChild<'_> as *mut u8;
    let shared = if ctl.flags & proto::FLAG_SHARED_CLONE != 0 {
        // SAFETY: `program_entry` ends in execve or exit_group and writes only its own
        // stack and (through the kernel) `child.me`; `child` lives in this frame, which
        // stays put while the child runs; every signal is blocked.
        unsafe { sys::vfork_into(&raw mut child.me, program_entry, arg) }
    } else {
        Err(0) // the seccomp filter would refuse (or kill for) a CLONE_VM clone
    };
    let pid = match shared {
        Ok(pid) => pid,
        // A seccomp profile may refuse a CLONE_VM clone: copy the address space instead.
        Err(_) => match sys::fork(&mut child.me) {
            Ok(0) => program_child(&child),
            Ok(pid) => pid,
            Err(e) => {
                report_setup_error(ctl.err_fd, Stage::Init, e);
                sys::exit_group(127)
            }
        },
    };
    // Both sides set the group, whichever runs first (as shells do); after a shared clone
    // the child has already done it and exec'd, and this call fails harmlessly (EACCES).
    let _ = sys::setpgid(pid, pid);
    // SAFETY: argv is the kernel-made array; the child no longer reads it (it has called
    // execve or exited: CLONE_VFORK), or it has its own copy of this memory (fork).
    unsafe { scrub_arguments(argv) };
    // The error pipe's EOF now tells the engine that the program's execve happened.
    sys::close(ctl.err_fd);
    // Keep only the events pipe's ends, and the terminal when job control needs it, as fd 0 (the
    // program's stdin, when it is not the terminal, is not held open here).
    let keep_tty = ctl.flags & proto::FLAG_JOB_CONTROL != 0;
    let tty = proto::terminal_fd(ctl.flags);
    if keep_tty && tty != 0 {
        sys::close(0);
        let _ = sys::fcntl(tty, sys::F_DUPFD, 0);
    }
    // Close everything from `first` on but the events pipe's two ends and the host watch.
    let first = if keep_tty { 1 } else { 0 };
    let mut keep = [
        ctl.events_fd,
        ctl.events_read_fd,
        ctl.host_pidfd,
        ctl.signal_fd,
        ctl.watch_fd,
        ctl.request_fd,
    ];
    keep.sort_unstable();
    let mut from = first as usize;
    for fd in keep {
        if fd < 0 || (fd as usize) < from {
            continue;
        }
        // [from, fd): close_range takes the last descriptor itself.
        if from < fd as usize {
            let _ = sys::plain(sys::SYS_CLOSE_RANGE, [from, fd as usize - 1, 0, 0, 0, 0]);
        }
        from = fd as usize + 1;
    }
    let _ = sys::plain(sys::SYS_CLOSE_RANGE, [from, u32::MAX as usize, 0, 0, 0, 0]);
    supervise(&ctl, pid, keep_tty)
}

/// What the program's child needs from PID 1's frame.
struct ProgramChild<'a> {
    ctl: &'a Control,
    /// The child's pid, stored by the kernel (`CLONE_CHILD_SETTID`).
    me: i32,
    program: &'a CStr,
    search_path: &'a [u8],
    /// The program's NULL-terminated argv and envp, as the kernel gave them to the init.
    argv: *const *const u8,
    envp: *const *const u8,
}

/// The entry of the child [`sys::vfork_into`] starts.
///
/// # Safety
/// `arg` points at a live [`ProgramChild`].
unsafe extern "C" fn program_entry(arg: *mut u8) -> ! {
    // SAFETY: the caller's contract; the parent is suspended until this child's execve or
    // exit, so the value does not change under us.
    let child = unsafe { &*(arg as *const ProgramChild<'_>) };
    program_child(child)
}

/// The program's child: own process group, the terminal if the caller had it, the process
/// limit, a clean signal mask, then `execve` of the program. It shares PID 1's memory until
/// `execve` (or has a copy of it where the kernel refused that), so it writes only its own
/// stack.
fn program_child(child: &ProgramChild<'_>) -> ! {
    let ProgramChild {
        ctl,
        program,
        search_path,
        argv,
        envp,
        ..
    } = *child;
    // SAFETY: `me` was stored by the kernel before this child ran.
    let me = unsafe { (&raw const child.me).read_volatile() };
    let _ = sys::setpgid(0, 0);
    if ctl.flags & proto::FLAG_FOREGROUND != 0 {
        // SIGTTOU is blocked (the whole mask is), so a background group may do this.
        let _ = sys::set_foreground(proto::terminal_fd(ctl.flags), me);
    }
    // Close-on-exec already (`main`); closed here too, as nothing of PID 1's may reach the
    // program.
    for fd in [
        ctl.events_fd,
        ctl.events_read_fd,
        ctl.host_pidfd,
        ctl.signal_fd,
        ctl.watch_fd,
        ctl.request_fd,
    ] {
        if fd >= 0 {
            sys::close(fd);
        }
    }
    if ctl.nproc != u64::MAX {
        if let Err(e) = sys::set_rlimit(sys::RLIMIT_NPROC, ctl.nproc) {
            report_setup_error(ctl.err_fd, Stage::Rlimit, e);
            sys::exit_group(127)
        }
    }
    let _ = sys::set_sigmask(0);
    let mut buf = [0u8; search::SEARCH_MAX];
    let errno = search::exec_search(program, search_path, &mut buf, |path| {
        // SAFETY: the program's argv/envp are the NULL-terminated arrays the kernel gave us.
        unsafe { sys::execve(path, argv, envp) }
    });
    report_setup_error(ctl.err_fd, Stage::Exec, errno);
    sys::exit_group(127)
}

/// Wait for signals and the engine's requests until the program ends; never returns.
fn supervise(ctl: &Control, program: i32, keep_tty: bool) -> ! {
    let mut info = [0i32; 32];
    // The watch (see `proto::Control::watch_fd`): wait for a pending signal (the signalfd
    // is readable then), a request, or the host's end, whichever comes first.
    let watch = match (ctl.signal_fd, ctl.watch_fd) {
        (sfd, ep) if sfd >= 0 && ep >= 0 => Some(ep),
        // Requests or a host pidfd without the watch: never run without both a
        // parent-death signal and the host's pidfd watched, nor ignore the engine.
        _ if ctl.host_pidfd >= 0 || ctl.request_fd >= 0 => sys::exit_group(127),
        _ => None,
    };
    let mut request_fd = ctl.request_fd;
    loop {
        let timeout = match ctl.deadline_ns {
            0 => None,
            d => Some(d.saturating_sub(sys::monotonic_ns())),
        };
        if timeout == Some(0) {
            send(ctl, Event::WallTime);
            sys::exit_group(128 + sys::SIGKILL)
        }
        let mut wait = timeout;
        if let Some(ep) = watch {
            // Milliseconds, rounded up: the deadline is checked again above.
            let ms = timeout.map(|ns| ns.div_ceil(1_000_000));
            match sys::epoll_ready(ep, ms) {
                // The host process ended: ending PID 1 ends the whole sandbox.
                Ok([_, _, true]) => sys::exit_group(128 + sys::SIGKILL),
                Ok([signal, requested, false]) => {
                    if requested && request_fd >= 0 && !requests(ctl, request_fd, program, keep_tty) {
                        // Every write end is closed: closing the last read end here takes
                        // it out of the watch, which would report its EOF forever.
                        sys::close(request_fd);
                        request_fd = -1;
                    }
                    if !signal {
                        continue; // the deadline, or requests only
                    }
                    wait = Some(0); // a signal is pending: take it
                }
                // A stop and continue, a freeze and thaw, or a tracer's attach interrupts
                // the wait (the kernel does not restart epoll_wait): wait again.
                Err(sys::EINTR) => continue,
                // The filter was checked before the spawn and the program cannot make the
                // call fail (no limit applies to it): never go on without the watch.
                Err(_) => sys::exit_group(128 + sys::SIGKILL),
            }
        }
        match sys::sigtimedwait(ALL_SIGNALS, &mut info, wait) {
            Ok(sig) => forward(ctl, program, sig),
            Err(_) => continue, // EAGAIN (nothing pending, or the deadline), EINTR
        }
    }
}

/// Act on a signal the init received, or one the engine asked it to forward.
fn forward(ctl: &Control, program: i32, sig: i32) {
    match sig {
        sys::SIGCHLD => reap(ctl, program),
        // The whole group: a shell's jobs stopped with it continue too.
        sys::SIGCONT => {
            let _ = sys::kill(-program, sys::SIGCONT);
        }
        // SIGSTOP (the engine's request only: PID 1 never receives it) and every other.
        other => {
            let _ = sys::kill(program, other);
        }
    }
}

/// Carry out every request waiting in the request pipe `fd`, in order (see
/// `proto::REQUEST_FOREGROUND`); `false` once no one can write to it any more.
fn requests(ctl: &Control, fd: i32, program: i32, keep_tty: bool) -> bool {
    let mut buf = [0u8; 64];
    loop {
        let n = match sys::read(fd, &mut buf) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(_) => return true, // EAGAIN: all taken
        };
        for &code in buf.iter().take(n) {
            match code {
                code @ proto::REQUEST_FOREGROUND.. => {
                    if keep_tty {
                        let _ = sys::set_foreground(0, program);
                    }
                    let sig = i32::from(code - proto::REQUEST_FOREGROUND);
                    if (1..=64).contains(&sig) {
                        let _ = sys::kill(-program, sig);
                    }
                }
                1..=64 => forward(ctl, program, i32::from(code)),
                _ => {}
            }
        }
    }
}

/// Reap every child that changed state; report the program's changes; end with it.
fn reap(ctl: &Control, program: i32) {
    let mut rusage = [0i64; 18];
    loop {
        let opts = sys::WNOHANG | sys::WUNTRACED | sys::WCONTINUED;
        let (pid, status) = match sys::wait_any(opts, &mut rusage) {
            Ok((0, _)) | Err(_) => return,
            Ok(r) => r,
        };
        if pid != program {
            continue; // an orphan: reaped, nothing to report
        }
        let low = status & 0x7f;
        if status & 0xff == 0x7f {
            send(ctl, Event::Stopped((status >> 8) & 0xff));
        } else if status == 0xffff {
            send(ctl, Event::Continued);
        } else {
            send(ctl, Event::Ended { status, rusage });
            // Exiting ends the namespace: the kernel kills whatever is left in it.
            let code = if low == 0 { (status >> 8) & 0xff } else { 128 + low };
            sys::exit_group(code)
        }
    }
}

// The compiler may emit calls to these for copies and comparisons; there is no libc.
// Byte loops through volatile accesses, so they are not turned back into calls to themselves.

/// # Safety
/// As C's `memcpy`.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges.
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
    }
    dst
}

/// # Safety
/// As C's `memmove`.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) < (src as usize) {
        for i in 0..n {
            // SAFETY: the caller guarantees both ranges; forward copy is safe here.
            unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: as above, backward copy.
            unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
        }
    }
    dst
}

/// # Safety
/// As C's `memset`.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller guarantees the range.
        unsafe { dst.add(i).write_volatile(c as u8) };
    }
    dst
}

/// # Safety
/// As C's `memcmp`.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As C's `strlen`.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller passes a NUL-terminated string.
    while unsafe { s.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}

/// The precompiled `core` refers to the unwinding personality routine even with
/// `panic=abort`; nothing unwinds here, so it is never called.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// # Safety
/// As C's `bcmp`.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: forwarded.
    unsafe { memcmp(a, b, n) }
}
