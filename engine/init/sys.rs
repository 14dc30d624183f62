//! Raw x86_64 system calls for the init (no libc, no crates). Every function returns
//! `Err(errno)` with a positive errno.

use core::arch::asm;

pub type SysResult<T> = Result<T, i32>;

pub const SYS_READ: usize = 0;
pub const SYS_WRITE: usize = 1;
pub const SYS_EPOLL_WAIT: usize = 232;
pub const SYS_CLOSE: usize = 3;
pub const SYS_RT_SIGPROCMASK: usize = 14;
pub const SYS_IOCTL: usize = 16;
pub const SYS_CLONE: usize = 56;
pub const SYS_EXECVE: usize = 59;
pub const SYS_WAIT4: usize = 61;
pub const SYS_KILL: usize = 62;
pub const SYS_FCNTL: usize = 72;
pub const SYS_SETPGID: usize = 109;
pub const SYS_RT_SIGTIMEDWAIT: usize = 128;
pub const SYS_PRCTL: usize = 157;
pub const SYS_CLOCK_GETTIME: usize = 228;
pub const SYS_EXIT_GROUP: usize = 231;
pub const SYS_PRLIMIT64: usize = 302;
pub const SYS_CLOSE_RANGE: usize = 436;

pub const EINTR: i32 = 4;
pub const EAGAIN: i32 = 11;

pub const SIGKILL: i32 = 9;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const F_DUPFD: usize = 0;
pub const F_SETFD: usize = 2;
pub const F_SETFL: usize = 4;
pub const FD_CLOEXEC: usize = 1;
pub const O_NONBLOCK: usize = 0o4000;

pub const WNOHANG: usize = 1;
pub const WUNTRACED: usize = 2;
pub const WCONTINUED: usize = 8;

pub const TIOCSPGRP: usize = 0x5410;
pub const PR_SET_NAME: usize = 15;
pub const PR_SET_DUMPABLE: usize = 4;
pub const RLIMIT_NPROC: usize = 6;

/// `syscall` with up to six arguments.
///
/// # Safety
/// The arguments must be valid for the system call `nr` (pointers to live memory of the
/// size the kernel expects).
pub unsafe fn syscall6(nr: usize, a: [usize; 6]) -> SysResult<usize> {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; the kernel clobbers rcx and r11 only.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    if (-4095..0).contains(&ret) {
        Err(-ret as i32)
    } else {
        Ok(ret as usize)
    }
}

/// A system call without pointer arguments.
pub fn plain(nr: usize, a: [usize; 6]) -> SysResult<usize> {
    // SAFETY: only used for calls whose arguments are plain integers.
    unsafe { syscall6(nr, a) }
}

pub fn exit_group(code: i32) -> ! {
    loop {
        let _ = plain(SYS_EXIT_GROUP, [code as usize, 0, 0, 0, 0, 0]);
    }
}

pub fn close(fd: i32) {
    let _ = plain(SYS_CLOSE, [fd as usize, 0, 0, 0, 0, 0]);
}

pub fn read(fd: i32, buf: &mut [u8]) -> SysResult<usize> {
    // SAFETY: pointer and length describe a live buffer we may write.
    unsafe {
        syscall6(
            SYS_READ,
            [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }
}

pub fn write(fd: i32, buf: &[u8]) -> SysResult<usize> {
    // SAFETY: pointer and length describe a live buffer.
    unsafe {
        syscall6(
            SYS_WRITE,
            [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }
}

pub fn fcntl(fd: i32, cmd: usize, arg: usize) -> SysResult<usize> {
    plain(SYS_FCNTL, [fd as usize, cmd, arg, 0, 0, 0])
}

pub fn setpgid(pid: i32, pgid: i32) -> SysResult<usize> {
    plain(SYS_SETPGID, [pid as usize, pgid as usize, 0, 0, 0, 0])
}

pub fn kill(pid: i32, sig: i32) -> SysResult<usize> {
    plain(SYS_KILL, [pid as isize as usize, sig as usize, 0, 0, 0, 0])
}

/// `ioctl(fd, TIOCSPGRP, &pgid)`.
pub fn set_foreground(fd: i32, pgid: i32) -> SysResult<usize> {
    let p = pgid;
    // SAFETY: `p` is a live pid_t the kernel reads.
    unsafe {
        syscall6(
            SYS_IOCTL,
            [fd as usize, TIOCSPGRP, &p as *const i32 as usize, 0, 0, 0],
        )
    }
}

/// `rt_sigprocmask(SIG_SETMASK, set)`.
pub fn set_sigmask(set: u64) -> SysResult<usize> {
    // SAFETY: `set` lives across the call; 8 is the kernel's sigset size.
    unsafe {
        syscall6(
            SYS_RT_SIGPROCMASK,
            [2, &set as *const u64 as usize, 0, 8, 0, 0],
        )
    }
}

/// `fork()` as `clone(SIGCHLD | CLONE_CHILD_SETTID)`: the child gets a copy of this small
/// address space, in which the kernel has stored its pid at `child_pid`.
pub fn fork(child_pid: &mut i32) -> SysResult<i32> {
    const CLONE_CHILD_SETTID: usize = 0x0100_0000;
    // SAFETY: x86_64 clone(flags, stack, parent_tid, child_tid, tls): `child_pid` is live
    // memory, written in the child's copy only; a NULL stack keeps the current one (fork).
    unsafe {
        syscall6(
            SYS_CLONE,
            [
                SIGCHLD as usize | CLONE_CHILD_SETTID,
                0,
                0,
                child_pid as *mut i32 as usize,
                0,
                0,
            ],
        )
    }
    .map(|p| p as i32)
}

/// Start `entry(arg)` in a child that shares this address space until it calls `execve` or
/// exits: `clone(CLONE_VM | CLONE_VFORK | SIGCHLD | CLONE_CHILD_SETTID)`, as `posix_spawn`
/// does. No page tables are copied, the child's `execve` frees nothing of ours, and no page
/// is copied on write afterwards; this process is suspended meanwhile (`CLONE_VFORK`).
///
/// The child runs on this thread's own stack, 512 bytes below the current stack pointer:
/// the frames above it are this suspended caller's, and the kernel grows the stack (with its
/// guard gap) as for any deeper call. The kernel stores the child's pid at `child_pid`.
///
/// # Safety
/// `entry` must never return (it ends in `execve` or `exit_group`), must not write to
/// memory this process uses afterwards except through `arg`, and `arg` and `child_pid` must
/// stay valid until then. All signals should be blocked, so that no handler runs in the
/// child on this memory.
pub unsafe fn vfork_into(
    child_pid: *mut i32,
    entry: unsafe extern "C" fn(*mut u8) -> !,
    arg: *mut u8,
) -> SysResult<i32> {
    /// Room left below the stack pointer (four times the x86_64 red zone).
    const GAP: usize = 512;
    let sp: usize;
    // SAFETY: reads the stack pointer only.
    unsafe { asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    let stack_top = (sp - GAP) & !15;
    let flags = crate::proto::SHARED_CLONE_FLAGS as usize;
    // x86_64 clone(flags, newsp, parent_tid, child_tid, tls).
    let args = [flags, stack_top, 0, child_pid as usize, 0];
    // SAFETY: a CLONE_VFORK child on the otherwise unused stack below this frame; the caller
    // vouches for `entry`, `arg` and `child_pid`.
    unsafe { crate::trampoline::clone_into(SYS_CLONE, args, entry, arg) }
}

/// `wait4(-1, &status, options, &rusage)`: (pid, status); pid 0 when nothing changed.
pub fn wait_any(options: usize, rusage: &mut [i64; 18]) -> SysResult<(i32, i32)> {
    let mut status: i32 = 0;
    // SAFETY: `status` and `rusage` are live buffers of the sizes wait4 writes.
    let pid = unsafe {
        syscall6(
            SYS_WAIT4,
            [
                usize::MAX, // -1: any child
                &mut status as *mut i32 as usize,
                options,
                rusage.as_mut_ptr() as usize,
                0,
                0,
            ],
        )
    }?;
    Ok((pid as i32, status))
}

/// `rt_sigtimedwait(set, info, timeout)`: the signal number; `info` receives the siginfo
/// (128 bytes). `timeout_ns` `None` waits forever.
pub fn sigtimedwait(set: u64, info: &mut [i32; 32], timeout_ns: Option<u64>) -> SysResult<i32> {
    let ts: [i64; 2] = match timeout_ns {
        Some(ns) => [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64],
        None => [0, 0],
    };
    let ts_ptr = if timeout_ns.is_some() {
        ts.as_ptr() as usize
    } else {
        0
    };
    // SAFETY: `set`, `info` and `ts` are live and of the sizes the kernel expects.
    unsafe {
        syscall6(
            SYS_RT_SIGTIMEDWAIT,
            [
                &set as *const u64 as usize,
                info.as_mut_ptr() as usize,
                ts_ptr,
                8,
                0,
                0,
            ],
        )
    }
    .map(|s| s as i32)
}

/// `epoll_wait` on `ep`, whose watched descriptors carry data 0, 1 and 2 (`timeout_ms`
/// `None` waits forever): which of them are ready.
pub fn epoll_ready(ep: i32, timeout_ms: Option<u64>) -> SysResult<[bool; 3]> {
    // struct epoll_event is packed on x86_64: u32 events, u64 data (12 bytes).
    let mut evs = [0u8; 36];
    let timeout = timeout_ms.map_or(-1, |ms| ms.min(i32::MAX as u64) as i64);
    // SAFETY: `evs` holds three live struct epoll_event the kernel writes.
    let n = unsafe {
        syscall6(
            SYS_EPOLL_WAIT,
            [
                ep as usize,
                evs.as_mut_ptr() as usize,
                3,
                timeout as usize,
                0,
                0,
            ],
        )
    }?;
    let mut ready = [false; 3];
    for ev in evs.chunks_exact(12).take(n) {
        let mut data = [0u8; 8];
        data.copy_from_slice(&ev[4..12]);
        if let Some(r) = ready.get_mut(u64::from_ne_bytes(data) as usize) {
            *r = true;
        }
    }
    Ok(ready)
}

/// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: `ts` is a live struct timespec.
    match unsafe { syscall6(SYS_CLOCK_GETTIME, [1, ts.as_mut_ptr() as usize, 0, 0, 0, 0]) } {
        Ok(_) => (ts[0] as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts[1] as u64),
        Err(_) => 0,
    }
}

/// `prlimit64(0, resource, {v, v}, NULL)`.
pub fn set_rlimit(resource: usize, v: u64) -> SysResult<usize> {
    let lim = [v, v];
    // SAFETY: `lim` is a live struct rlimit64.
    unsafe { syscall6(SYS_PRLIMIT64, [0, resource, lim.as_ptr() as usize, 0, 0, 0]) }
}

/// `prctl(PR_SET_NAME, name)`.
pub fn set_name(name: &core::ffi::CStr) {
    // SAFETY: `name` is NUL-terminated; the kernel copies at most 16 bytes.
    let _ = unsafe { syscall6(SYS_PRCTL, [PR_SET_NAME, name.as_ptr() as usize, 0, 0, 0, 0]) };
}

/// `execve(path, argv, envp)`; returns the errno.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of NUL-terminated strings.
pub unsafe fn execve(
    path: &core::ffi::CStr,
    argv: *const *const u8,
    envp: *const *const u8,
) -> i32 {
    // SAFETY: forwarded from the caller; `path` is NUL-terminated.
    match unsafe {
        syscall6(
            SYS_EXECVE,
            [
                path.as_ptr() as usize,
                argv as usize,
                envp as usize,
                0,
                0,
                0,
            ],
        )
    } {
        Ok(_) => 0,
        Err(e) => e,
    }
}
