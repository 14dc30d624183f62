//! Raw system calls the child needs, as thin typed wrappers over the `syscalls` crate.
//!
//! Every function returns `Err(errno)` with a positive errno. No wrapper allocates, touches
//! thread-local storage or `errno`, so all are safe to call in a `CLONE_VM` child.
//! Constants are the kernel's UAPI values for Linux (x86_64 and aarch64 share them).

#![allow(missing_docs)] // UAPI constants keep their kernel names; see the man pages.

use core::ffi::{c_char, CStr};
use syscalls::{syscall, Sysno};

use crate::plan::{RawFd, SockFilter};

/// Result of a raw syscall: the return value or a positive errno.
pub type SysResult<T> = Result<T, i32>;

pub const AT_FDCWD: i32 = -100;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_RECURSIVE: u32 = 0x8000;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;

pub const O_RDONLY: u64 = 0;
pub const O_WRONLY: u64 = 1;
pub const O_RDWR: u64 = 2;
pub const O_CREAT: u64 = 0o100;
pub const O_EXCL: u64 = 0o200;
pub const O_NOCTTY: u64 = 0o400;
/// `O_NONBLOCK`.
pub const O_NONBLOCK: u64 = 0o4000;
pub const O_TRUNC: u64 = 0o1000;
pub const O_DIRECTORY: u64 = 0o200000;
pub const O_NOFOLLOW: u64 = 0o400000;
pub const O_CLOEXEC: u64 = 0o2000000;
pub const O_PATH: u64 = 0o10000000;

pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

pub const MS_REC: u64 = 16384;
pub const MS_PRIVATE: u64 = 1 << 18;

pub const MNT_DETACH: u32 = 2;

pub const OPEN_TREE_CLONE: u32 = 1;
pub const OPEN_TREE_CLOEXEC: u32 = 0o2000000;

pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x04;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

pub const FSOPEN_CLOEXEC: u32 = 1;
pub const FSMOUNT_CLOEXEC: u32 = 1;
pub const FSCONFIG_SET_FLAG: u32 = 0;
pub const FSCONFIG_SET_STRING: u32 = 1;
pub const FSCONFIG_CMD_CREATE: u32 = 6;

pub const MOUNT_ATTR_RDONLY: u64 = 0x01;
pub const MOUNT_ATTR_NOSUID: u64 = 0x02;
pub const MOUNT_ATTR_NODEV: u64 = 0x04;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x08;

pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

pub const F_SETFD: u32 = 2;
pub const F_DUPFD_CLOEXEC: u32 = 1030;

pub const PR_SET_PDEATHSIG: u64 = 1;
pub const PR_CAPBSET_DROP: u64 = 24;
pub const PR_SET_NO_NEW_PRIVS: u64 = 38;
pub const PR_CAP_AMBIENT: u64 = 47;
pub const PR_CAP_AMBIENT_CLEAR_ALL: u64 = 4;

pub const SIGKILL: u64 = 9;
pub const SIG_BLOCK: u64 = 0;
pub const SIG_UNBLOCK: u64 = 1;
pub const SIG_SETMASK: u64 = 2;

pub const KEYCTL_JOIN_SESSION_KEYRING: u64 = 1;

pub const SECCOMP_SET_MODE_FILTER: u64 = 1;

pub const EEXIST: i32 = 17;
pub const ENOENT: i32 = 2;
pub const EINTR: i32 = 4;
pub const EINVAL: i32 = 22;
pub const ENOTDIR: i32 = 20;
pub const EACCES: i32 = 13;
pub const ENAMETOOLONG: i32 = 36;
pub const EPIPE: i32 = 32;
pub const EBUSY: i32 = 16;
pub const EROFS: i32 = 30;
pub const EBADF: i32 = 9;

fn res(r: Result<usize, syscalls::Errno>) -> SysResult<usize> {
    r.map_err(|e| e.into_raw())
}

/// `struct open_how` for `openat2`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `struct mount_attr` for `mount_setattr`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

/// `read(2)`, retried on EINTR.
pub fn read(fd: RawFd, buf: &mut [u8]) -> SysResult<usize> {
    loop {
        // SAFETY: the pointer and length describe a live, writable buffer.
        let r = res(unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()) });
        if r != Err(EINTR) {
            return r;
        }
    }
}

/// `write(2)`, retried on EINTR, until everything is written.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> SysResult<()> {
    while !buf.is_empty() {
        // SAFETY: the pointer and length describe a live buffer.
        match res(unsafe { syscall!(Sysno::write, fd, buf.as_ptr(), buf.len()) }) {
            Ok(0) => return Err(EPIPE),
            Ok(n) => buf = buf.get(n..).unwrap_or(&[]),
            Err(EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `close(2)`; errors are not interesting to the child.
pub fn close(fd: RawFd) {
    // SAFETY: closing a descriptor number has no memory-safety effect.
    let _ = unsafe { syscall!(Sysno::close, fd) };
}

/// `exit_group(2)`; falls back to `exit(2)` (the child has one thread) when it returns,
/// which it does under the exit-hook filter once nobody listens (ENOSYS).
pub fn exit_group(code: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers and does not return.
        let _ = unsafe { syscall!(Sysno::exit_group, code) };
        // SAFETY: as above; ends the calling (only) thread and so the process.
        let _ = unsafe { syscall!(Sysno::exit, code) };
    }
}

/// `exit(2)`: ends the calling thread only (a helper thread of the child).
pub fn exit_thread() -> ! {
    loop {
        // SAFETY: exit takes no pointers and does not return.
        let _ = unsafe { syscall!(Sysno::exit, 0usize) };
    }
}

/// Wait until the thread behind the pidfd `pidfd` (`CLONE_PIDFD` with `CLONE_THREAD`) is
/// gone: released from its thread group, its descriptor table and filesystem data dropped
/// (`poll` reports `POLLHUP` only then; `POLLIN` already when it starts to exit). Polls
/// with a 1 ms timeout in case no wake-up comes at the release.
pub fn wait_thread_gone(pidfd: RawFd) {
    loop {
        if let Ok(true) | Err(EBADF) = poll_hup(pidfd, 1) {
            return;
        }
    }
}

/// Whether the other end of a pipe is closed (`poll` with no timeout reports `POLLHUP`).
pub fn hung_up(fd: RawFd) -> bool {
    poll_hup(fd, 0).unwrap_or(false)
}

/// `poll` on `fd` for nothing but `POLLHUP` (always reported), waiting up to `timeout_ms`:
/// whether it was reported.
fn poll_hup(fd: RawFd, timeout_ms: usize) -> SysResult<bool> {
    const POLLHUP: i32 = 0x10;
    // struct pollfd { int fd; short events; short revents; }: no events asked.
    let mut pfd: [i32; 2] = [fd, 0];
    // SAFETY: `pfd` is one live struct pollfd.
    let n = res(unsafe { syscall!(Sysno::poll, pfd.as_mut_ptr(), 1usize, timeout_ms) })?;
    Ok(n > 0 && (pfd[1] >> 16) & POLLHUP != 0)
}

/// `openat2(2)` with a resolve mask.
pub fn openat2(dirfd: RawFd, path: &CStr, flags: u64, mode: u64, resolve: u64) -> SysResult<RawFd> {
    let how = OpenHow {
        flags,
        mode,
        resolve,
    };
    loop {
        // SAFETY: `path` is NUL-terminated and `how` lives across the call; the size is exact.
        let r = res(unsafe {
            syscall!(
                Sysno::openat2,
                dirfd,
                path.as_ptr(),
                &how as *const OpenHow,
                core::mem::size_of::<OpenHow>()
            )
        });
        if r != Err(EINTR) {
            return r.map(|fd| fd as RawFd);
        }
    }
}

/// `openat(2)`.
pub fn openat(dirfd: RawFd, path: &CStr, flags: u64, mode: u64) -> SysResult<RawFd> {
    // SAFETY: `path` is NUL-terminated.
    res(unsafe { syscall!(Sysno::openat, dirfd, path.as_ptr(), flags, mode) }).map(|fd| fd as RawFd)
}

/// A signalfd for every signal (`signalfd4(-1, ~0, 8, SFD_CLOEXEC)`): readable while a
/// signal is pending for the process that waits on it.
pub fn signalfd_all() -> SysResult<RawFd> {
    const SFD_CLOEXEC: u64 = 0o2000000;
    let mask: u64 = !0;
    // SAFETY: `mask` is a live 8-byte sigset the kernel reads.
    res(unsafe {
        syscall!(
            Sysno::signalfd4,
            -1i32,
            &mask as *const u64,
            8usize,
            SFD_CLOEXEC
        )
    })
    .map(|fd| fd as RawFd)
}

/// An epoll instance (`EPOLL_CLOEXEC`) watching `fds` for input, each with its index in
/// `fds` as the event's data; negative entries are skipped (their index stays unused).
pub fn epoll_watching(fds: &[RawFd]) -> SysResult<RawFd> {
    const EPOLL_CLOEXEC: u64 = 0o2000000;
    const EPOLL_CTL_ADD: u64 = 1;
    const EPOLLIN: u32 = 1;
    // SAFETY: no pointer arguments.
    let ep = res(unsafe { syscall!(Sysno::epoll_create1, EPOLL_CLOEXEC) })? as RawFd;
    for (i, fd) in fds.iter().enumerate().filter(|(_, fd)| **fd >= 0) {
        // struct epoll_event is packed on x86_64: u32 events, u64 data.
        let mut ev = [0u8; 12];
        let (e, d) = ev.split_at_mut(4);
        e.copy_from_slice(&EPOLLIN.to_ne_bytes());
        d.copy_from_slice(&(i as u64).to_ne_bytes());
        // SAFETY: `ev` is a live struct epoll_event the kernel reads.
        let r = res(unsafe { syscall!(Sysno::epoll_ctl, ep, EPOLL_CTL_ADD, *fd, ev.as_ptr()) });
        if let Err(e) = r {
            close(ep);
            return Err(e);
        }
    }
    Ok(ep)
}

/// `mkdirat(2)`.
pub fn mkdirat(dirfd: RawFd, path: &CStr, mode: u32) -> SysResult<()> {
    // SAFETY: `path` is NUL-terminated.
    res(unsafe { syscall!(Sysno::mkdirat, dirfd, path.as_ptr(), mode) }).map(drop)
}

/// `unlinkat(2)`.
pub fn unlinkat(dirfd: RawFd, path: &CStr, flags: u32) -> SysResult<()> {
    // SAFETY: `path` is NUL-terminated.
    res(unsafe { syscall!(Sysno::unlinkat, dirfd, path.as_ptr(), flags) }).map(drop)
}

/// `readlinkat(2)`: the number of bytes placed in `buf`.
pub fn readlinkat(dirfd: RawFd, path: &CStr, buf: &mut [u8]) -> SysResult<usize> {
    // SAFETY: `path` is NUL-terminated; the kernel writes at most `buf.len()` bytes to it.
    res(unsafe {
        syscall!(
            Sysno::readlinkat,
            dirfd,
            path.as_ptr(),
            buf.as_mut_ptr(),
            buf.len()
        )
    })
}

/// `symlinkat(2)`.
pub fn symlinkat(original: &CStr, dirfd: RawFd, link: &CStr) -> SysResult<()> {
    // SAFETY: both strings are NUL-terminated.
    res(unsafe { syscall!(Sysno::symlinkat, original.as_ptr(), dirfd, link.as_ptr()) }).map(drop)
}

/// `fchmod(2)`.
pub fn fchmod(fd: RawFd, mode: u32) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::fchmod, fd, mode) }).map(drop)
}

/// `mount(2)` used only for changing propagation (no source, type or data).
pub fn mount_propagation(target: &CStr, flags: u64) -> SysResult<()> {
    // SAFETY: `target` is NUL-terminated; the other pointers are NULL, which mount accepts
    // for a propagation change.
    res(unsafe { syscall!(Sysno::mount, 0usize, target.as_ptr(), 0usize, flags, 0usize) }).map(drop)
}

/// `umount2(2)`.
pub fn umount2(target: &CStr, flags: u32) -> SysResult<()> {
    // SAFETY: `target` is NUL-terminated.
    res(unsafe { syscall!(Sysno::umount2, target.as_ptr(), flags) }).map(drop)
}

/// `pivot_root(2)`.
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> SysResult<()> {
    // SAFETY: both strings are NUL-terminated.
    res(unsafe { syscall!(Sysno::pivot_root, new_root.as_ptr(), put_old.as_ptr()) }).map(drop)
}

/// `open_tree(2)`.
pub fn open_tree(dirfd: RawFd, path: &CStr, flags: u32) -> SysResult<RawFd> {
    // SAFETY: `path` is NUL-terminated.
    res(unsafe { syscall!(Sysno::open_tree, dirfd, path.as_ptr(), flags) }).map(|fd| fd as RawFd)
}

/// `open_tree_attr(2)` (Linux 6.15): [`open_tree`] that also applies mount attributes to
/// the clone (recursively with `AT_RECURSIVE`), as [`mount_setattr_fd`] would.
pub fn open_tree_attr(
    dirfd: RawFd,
    path: &CStr,
    flags: u32,
    set: u64,
    propagation: u64,
) -> SysResult<RawFd> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation,
        userns_fd: 0,
    };
    // SAFETY: `path` is NUL-terminated; `attr` lives across the call and the size is exact.
    res(unsafe {
        syscall!(
            Sysno::open_tree_attr,
            dirfd,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            core::mem::size_of::<MountAttr>()
        )
    })
    .map(|fd| fd as RawFd)
}

/// `move_mount(2)` between two fds (both with empty paths).
pub fn move_mount_fd(from: RawFd, to: RawFd) -> SysResult<()> {
    // SAFETY: the empty strings are static and NUL-terminated.
    res(unsafe {
        syscall!(
            Sysno::move_mount,
            from,
            c"".as_ptr(),
            to,
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH
        )
    })
    .map(drop)
}

/// `move_mount(2)` from an fd onto a path (relative to the cwd).
pub fn move_mount_to_path(from: RawFd, to: &CStr) -> SysResult<()> {
    move_mount_at(from, AT_FDCWD, to)
}

/// `move_mount(2)` from an fd onto `to` relative to the directory `to_dir`. A final symlink
/// in `to` is not followed (no `MOVE_MOUNT_T_SYMLINKS`).
pub fn move_mount_at(from: RawFd, to_dir: RawFd, to: &CStr) -> SysResult<()> {
    // SAFETY: both strings are NUL-terminated.
    res(unsafe {
        syscall!(
            Sysno::move_mount,
            from,
            c"".as_ptr(),
            to_dir,
            to.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH
        )
    })
    .map(drop)
}

/// `mount_setattr(2)` on an fd (`AT_EMPTY_PATH`), optionally recursive.
pub fn mount_setattr_fd(
    fd: RawFd,
    recursive: bool,
    set: u64,
    clr: u64,
    propagation: u64,
) -> SysResult<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clr,
        propagation,
        userns_fd: 0,
    };
    let flags = AT_EMPTY_PATH | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: `attr` lives across the call and the size is exact.
    res(unsafe {
        syscall!(
            Sysno::mount_setattr,
            fd,
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            core::mem::size_of::<MountAttr>()
        )
    })
    .map(drop)
}

/// `fsopen(2)`.
pub fn fsopen(fstype: &CStr) -> SysResult<RawFd> {
    // SAFETY: `fstype` is NUL-terminated.
    res(unsafe { syscall!(Sysno::fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) }).map(|fd| fd as RawFd)
}

/// `fsconfig(FSCONFIG_SET_STRING)`.
pub fn fsconfig_string(fd: RawFd, key: &CStr, value: &CStr) -> SysResult<()> {
    // SAFETY: both strings are NUL-terminated.
    res(unsafe {
        syscall!(
            Sysno::fsconfig,
            fd,
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0usize
        )
    })
    .map(drop)
}

/// `fsconfig(FSCONFIG_SET_FLAG)`.
pub fn fsconfig_flag(fd: RawFd, key: &CStr) -> SysResult<()> {
    // SAFETY: `key` is NUL-terminated; value must be NULL for a flag.
    res(unsafe {
        syscall!(
            Sysno::fsconfig,
            fd,
            FSCONFIG_SET_FLAG,
            key.as_ptr(),
            0usize,
            0usize
        )
    })
    .map(drop)
}

/// `fsconfig(FSCONFIG_CMD_CREATE)`.
pub fn fsconfig_create(fd: RawFd) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe {
        syscall!(
            Sysno::fsconfig,
            fd,
            FSCONFIG_CMD_CREATE,
            0usize,
            0usize,
            0usize
        )
    })
    .map(drop)
}

/// `fsmount(2)`.
pub fn fsmount(fd: RawFd, attrs: u64) -> SysResult<RawFd> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::fsmount, fd, FSMOUNT_CLOEXEC, attrs) }).map(|fd| fd as RawFd)
}

/// `fchdir(2)`.
pub fn fchdir(fd: RawFd) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::fchdir, fd) }).map(drop)
}

/// `chdir(2)`.
pub fn chdir(path: &CStr) -> SysResult<()> {
    // SAFETY: `path` is NUL-terminated.
    res(unsafe { syscall!(Sysno::chdir, path.as_ptr()) }).map(drop)
}

/// `sethostname(2)`.
pub fn sethostname(name: &[u8]) -> SysResult<()> {
    // SAFETY: pointer and length describe a live buffer.
    res(unsafe { syscall!(Sysno::sethostname, name.as_ptr(), name.len()) }).map(drop)
}

/// `prlimit64(0, resource, new, NULL)`.
pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> SysResult<()> {
    let lim = [soft, hard];
    // SAFETY: `lim` is a live `struct rlimit64`; the old-limit pointer is NULL.
    res(unsafe { syscall!(Sysno::prlimit64, 0usize, resource, lim.as_ptr(), 0usize) }).map(drop)
}

/// The soft limit of `resource` (`prlimit64(0, resource, NULL, old)`).
pub fn getrlimit_soft(resource: u32) -> SysResult<u64> {
    let mut lim = [0u64; 2];
    // SAFETY: `lim` is a live, writable `struct rlimit64`; the new-limit pointer is NULL.
    res(unsafe { syscall!(Sysno::prlimit64, 0usize, resource, 0usize, lim.as_mut_ptr()) })?;
    Ok(lim[0])
}

/// `RLIMIT_NOFILE`.
pub const RLIMIT_NOFILE: u32 = 7;

/// `prctl(2)` with integer arguments.
pub fn prctl(option: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> SysResult<usize> {
    // SAFETY: only integer arguments are passed for the options used here.
    res(unsafe { syscall!(Sysno::prctl, option, a2, a3, a4, a5) })
}

/// `rt_sigaction(sig, SIG_DFL)`.
pub fn signal_default(sig: u32) -> SysResult<()> {
    // Kernel `struct sigaction` on x86_64/aarch64: handler, flags, restorer, mask.
    let act: [u64; 4] = [0, 0, 0, 0];
    // SAFETY: `act` is a live kernel sigaction with SIG_DFL; the old-action pointer is NULL.
    res(unsafe { syscall!(Sysno::rt_sigaction, sig, act.as_ptr(), 0usize, 8usize) }).map(drop)
}

/// `rt_sigprocmask(how, set)`.
pub fn sigprocmask(how: u64, set: u64) -> SysResult<()> {
    swap_sigmask(how, set).map(drop)
}

/// `rt_sigprocmask(how, set, &old)`: returns the calling thread's previous mask.
pub fn swap_sigmask(how: u64, set: u64) -> SysResult<u64> {
    let mut old: u64 = 0;
    // SAFETY: `set` and `old` live across the call; size is the kernel sigset size (8).
    res(unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            how,
            &set as *const u64,
            &mut old as *mut u64,
            8usize
        )
    })
    .map(|_| old)
}

/// `keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)`: a new anonymous session keyring.
pub fn join_new_session_keyring() -> SysResult<()> {
    // SAFETY: NULL name asks for an anonymous keyring.
    res(unsafe { syscall!(Sysno::keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) }).map(drop)
}

/// `unshare(2)`.
pub fn unshare(flags: u64) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::unshare, flags) }).map(drop)
}

/// Bring the loopback interface of the current network namespace up
/// (`SIOCGIFFLAGS`/`SIOCSIFFLAGS` on a datagram socket).
pub fn loopback_up() -> SysResult<()> {
    const AF_INET: u64 = 2;
    const SOCK_DGRAM_CLOEXEC: u64 = 2 | 0o2000000;
    const SIOCGIFFLAGS: u64 = 0x8913;
    const SIOCSIFFLAGS: u64 = 0x8914;
    const IFF_UP: u16 = 1;
    // SAFETY: no pointers.
    let fd = res(unsafe { syscall!(Sysno::socket, AF_INET, SOCK_DGRAM_CLOEXEC, 0usize) })? as RawFd;
    // struct ifreq: 16-byte name, then the flags (short) at offset 16; 40 bytes in all.
    let mut ifr = [0u8; 40];
    ifr[0] = b'l';
    ifr[1] = b'o';
    let r = (|| {
        // SAFETY: `ifr` is a live, writable struct ifreq.
        res(unsafe { syscall!(Sysno::ioctl, fd, SIOCGIFFLAGS, ifr.as_mut_ptr()) })?;
        let flags = u16::from_ne_bytes([ifr[16], ifr[17]]) | IFF_UP;
        ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
        // SAFETY: as above.
        res(unsafe { syscall!(Sysno::ioctl, fd, SIOCSIFFLAGS, ifr.as_ptr()) }).map(drop)
    })();
    close(fd);
    r
}

/// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds (0 on failure).
pub fn monotonic_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: `ts` is a live struct timespec.
    match res(unsafe { syscall!(Sysno::clock_gettime, 1usize, ts.as_mut_ptr()) }) {
        Ok(_) => (ts[0] as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts[1] as u64),
        Err(_) => 0,
    }
}

/// `setsid(2)`.
pub fn setsid() -> SysResult<()> {
    // SAFETY: no arguments.
    res(unsafe { syscall!(Sysno::setsid) }).map(drop)
}

/// `setresuid(2)`.
pub fn setresuid(uid: u32) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::setresuid, uid, uid, uid) }).map(drop)
}

/// `setresgid(2)`.
pub fn setresgid(gid: u32) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::setresgid, gid, gid, gid) }).map(drop)
}

/// `setgroups(2)`.
pub fn setgroups(groups: &[u32]) -> SysResult<()> {
    // SAFETY: pointer and count describe a live array of gid_t.
    res(unsafe { syscall!(Sysno::setgroups, groups.len(), groups.as_ptr()) }).map(drop)
}

/// `capset(2)` with version 3 (two 32-bit words per set).
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> SysResult<()> {
    let header: [u32; 2] = [0x2008_0522, 0];
    let data: [u32; 6] = [
        effective as u32,
        permitted as u32,
        inheritable as u32,
        (effective >> 32) as u32,
        (permitted >> 32) as u32,
        (inheritable >> 32) as u32,
    ];
    // SAFETY: header and data are live arrays of the layout capset expects.
    res(unsafe { syscall!(Sysno::capset, header.as_ptr(), data.as_ptr()) }).map(drop)
}

/// `dup3(2)`.
pub fn dup3(old: RawFd, new: RawFd) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::dup3, old, new, 0usize) }).map(drop)
}

/// `fcntl(2)` with an integer argument.
pub fn fcntl(fd: RawFd, cmd: u32, arg: u64) -> SysResult<usize> {
    // SAFETY: no pointers for the commands used here.
    res(unsafe { syscall!(Sysno::fcntl, fd, cmd, arg) })
}

/// `close_range(2)`.
pub fn close_range(first: u32, last: u32, flags: u32) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::close_range, first, last, flags) }).map(drop)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`.
pub fn seccomp_set_filter(filter: &[SockFilter]) -> SysResult<()> {
    seccomp_set_filter_flags(filter, 0).map(drop)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`; returns the listener with
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
pub fn seccomp_set_filter_flags(filter: &[SockFilter], flags: u64) -> SysResult<usize> {
    let prog = SockFprog {
        len: filter.len() as u16,
        filter: filter.as_ptr(),
    };
    // SAFETY: `prog` points at a live instruction array; the kernel copies it.
    res(unsafe {
        syscall!(
            Sysno::seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const SockFprog
        )
    })
}

/// `ioctl(SECCOMP_IOCTL_NOTIF_RECV)`: wait for the next notification of a seccomp listener
/// and return its (id, thread id). Used by the parent, not the child.
pub fn seccomp_notif_recv(listener: RawFd) -> SysResult<(u64, i32)> {
    const SECCOMP_IOCTL_NOTIF_RECV: u64 = 0xc050_2100;
    // struct seccomp_notif: id (u64), pid (u32), flags (u32), struct seccomp_data (64 bytes).
    let mut notif = [0u64; 10];
    // SAFETY: `notif` is a zeroed struct seccomp_notif of the kernel's size, which the
    // kernel fills; it lives across the call.
    res(unsafe {
        syscall!(
            Sysno::ioctl,
            listener,
            SECCOMP_IOCTL_NOTIF_RECV,
            notif.as_mut_ptr()
        )
    })?;
    let [id, pid_flags, ..] = notif;
    Ok((id, (pid_flags & 0xffff_ffff) as i32))
}

/// `ioctl(SECCOMP_IOCTL_NOTIF_SEND)` with `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: let the
/// notified system call `id` run as if the filter had allowed it.
pub fn seccomp_notif_continue(listener: RawFd, id: u64) -> SysResult<()> {
    const SECCOMP_IOCTL_NOTIF_SEND: u64 = 0xc018_2101;
    const SECCOMP_USER_NOTIF_FLAG_CONTINUE: u64 = 1;
    // struct seccomp_notif_resp: id (u64), val (i64), error (i32), flags (u32).
    let resp: [u64; 3] = [id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE << 32];
    // SAFETY: `resp` is a live struct seccomp_notif_resp the kernel only reads.
    res(unsafe {
        syscall!(
            Sysno::ioctl,
            listener,
            SECCOMP_IOCTL_NOTIF_SEND,
            resp.as_ptr()
        )
    })
    .map(drop)
}

/// Send one descriptor over a unix socket (`SCM_RIGHTS`) with a one-byte payload.
pub fn send_fd(sock: RawFd, fd: RawFd) -> SysResult<()> {
    #[repr(C)]
    struct Iovec {
        base: *const u8,
        len: usize,
    }
    #[repr(C)]
    struct Msghdr {
        name: usize,
        namelen: u32,
        iov: *const Iovec,
        iovlen: usize,
        control: *const u8,
        controllen: usize,
        flags: i32,
    }
    // struct cmsghdr { size_t len; int level; int type; } then one int, padded to 8 bytes.
    let mut cmsg = [0u8; 24];
    cmsg[..8].copy_from_slice(&20u64.to_ne_bytes());
    cmsg[8..12].copy_from_slice(&1i32.to_ne_bytes()); // SOL_SOCKET
    cmsg[12..16].copy_from_slice(&1i32.to_ne_bytes()); // SCM_RIGHTS
    cmsg[16..20].copy_from_slice(&fd.to_ne_bytes());
    let byte = [b'L'];
    let iov = Iovec {
        base: byte.as_ptr(),
        len: 1,
    };
    let msg = Msghdr {
        name: 0,
        namelen: 0,
        iov: &iov,
        iovlen: 1,
        control: cmsg.as_ptr(),
        controllen: 24,
        flags: 0,
    };
    // SAFETY: `msg` and everything it points at live across the call.
    res(unsafe { syscall!(Sysno::sendmsg, sock, &msg as *const Msghdr, 0usize) }).map(drop)
}

/// `execve(2)`; returns only on failure.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of NUL-terminated strings.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
    // SAFETY: the caller guarantees the arrays; `path` is NUL-terminated.
    match res(unsafe { syscall!(Sysno::execve, path.as_ptr(), argv, envp) }) {
        Ok(_) => 0,
        Err(e) => e,
    }
}

/// `landlock_create_ruleset(2)`.
///
/// # Safety
/// `attr` must point at `size` readable bytes (or be NULL with flags asking for the ABI).
pub unsafe fn landlock_create_ruleset(
    attr: *const u8,
    size: usize,
    flags: u32,
) -> SysResult<usize> {
    // SAFETY: forwarded from the caller.
    res(unsafe { syscall!(Sysno::landlock_create_ruleset, attr, size, flags) })
}

/// `landlock_add_rule(2)`.
///
/// # Safety
/// `attr` must point at the attribute struct matching `rule_type`.
pub unsafe fn landlock_add_rule(ruleset: RawFd, rule_type: u32, attr: *const u8) -> SysResult<()> {
    // SAFETY: forwarded from the caller.
    res(unsafe { syscall!(Sysno::landlock_add_rule, ruleset, rule_type, attr, 0usize) }).map(drop)
}

/// `landlock_restrict_self(2)`.
pub fn landlock_restrict_self(ruleset: RawFd, flags: u32) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::landlock_restrict_self, ruleset, flags) }).map(drop)
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: execute the file behind `fd`; returns
/// only on failure.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of NUL-terminated strings.
pub unsafe fn execveat_fd(
    fd: RawFd,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> i32 {
    // SAFETY: the caller guarantees the arrays; the empty path is a static C string.
    match res(unsafe { syscall!(Sysno::execveat, fd, c"".as_ptr(), argv, envp, AT_EMPTY_PATH) }) {
        Ok(_) => 0,
        Err(e) => e,
    }
}

/// `setpgid(0, 0)`: become the leader of a new process group.
pub fn new_process_group() -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::setpgid, 0usize, 0usize) }).map(drop)
}

/// `ioctl(fd, TIOCSCTTY, 0)`: make the terminal on `fd` the controlling terminal of this
/// process's session (it must be the session's leader, and the terminal no other session's).
pub fn set_controlling_terminal(fd: RawFd) -> SysResult<()> {
    const TIOCSCTTY: u64 = 0x540e;
    // SAFETY: no pointers (the argument 0 means "do not steal it from another session").
    res(unsafe { syscall!(Sysno::ioctl, fd, TIOCSCTTY, 0usize) }).map(drop)
}

/// `ioctl(fd, TIOCSPGRP, getpgrp())` with `SIGTTOU` blocked around it (a process outside
/// the foreground group may then take the terminal).
pub fn take_foreground(fd: RawFd) -> SysResult<()> {
    const TIOCSPGRP: u64 = 0x5410;
    const SIGTTOU_BIT: u64 = 1 << (22 - 1);
    // SAFETY: no pointers.
    let pgrp = res(unsafe { syscall!(Sysno::getpgid, 0usize) })? as i32;
    sigprocmask(SIG_BLOCK, SIGTTOU_BIT)?;
    // SAFETY: `pgrp` is a live pid_t the kernel reads.
    let r = res(unsafe { syscall!(Sysno::ioctl, fd, TIOCSPGRP, &pgrp as *const i32) }).map(drop);
    sigprocmask(SIG_UNBLOCK, SIGTTOU_BIT)?;
    r
}

// The parent's raw calls that rustix does not offer; `engine/src/sys.rs` gives them types.

/// Size of `siginfo_t`, as 32-bit words.
pub const SIGINFO_WORDS: usize = 32;
/// Size of `struct rusage`, as 64-bit words (2 timevals, 14 counters).
pub const RUSAGE_WORDS: usize = 18;

/// `waitid(P_PIDFD, pidfd, info, options, rusage)`, retried on EINTR: the kernel fills
/// `info` (a `siginfo_t`) and `rusage`. Used by the parent, not the child.
pub fn waitid_pidfd(
    pidfd: RawFd,
    options: u32,
    info: &mut [i32; SIGINFO_WORDS],
    rusage: &mut [i64; RUSAGE_WORDS],
) -> SysResult<()> {
    const P_PIDFD: usize = 3;
    loop {
        // SAFETY: `info` and `rusage` are live buffers of the kernel's sizes, which it fills.
        let r = res(unsafe {
            syscall!(
                Sysno::waitid,
                P_PIDFD,
                pidfd,
                info.as_mut_ptr(),
                options,
                rusage.as_mut_ptr()
            )
        });
        if r != Err(EINTR) {
            return r.map(drop);
        }
    }
}

/// `timer_create(CLOCK_MONOTONIC, {SIGEV_SIGNAL, sig})`: a POSIX timer that sends `sig` to
/// the calling process; returns its id. Used by the parent, not the child.
pub fn timer_create_signal(sig: i32) -> SysResult<i32> {
    const CLOCK_MONOTONIC: usize = 1;
    const SIGEV_SIGNAL: i32 = 0;
    // struct sigevent (64 bytes): sigev_value (8), sigev_signo, sigev_notify, padding.
    let mut ev = [0i32; 16];
    ev[2] = sig;
    ev[3] = SIGEV_SIGNAL;
    let mut id: i32 = 0;
    // SAFETY: `ev` is a live struct sigevent and `id` a live timer_t; the kernel copies the
    // first and writes the second.
    res(unsafe {
        syscall!(
            Sysno::timer_create,
            CLOCK_MONOTONIC,
            ev.as_ptr(),
            &mut id as *mut i32
        )
    })
    .map(|_| id)
}

/// `timer_settime(id, 0, {0, {secs, nanos}}, NULL)`: fire once after the delay (a zero
/// delay disarms).
pub fn timer_arm_once(id: i32, secs: i64, nanos: i64) -> SysResult<()> {
    // struct itimerspec: it_interval (zero: one shot), it_value.
    let spec: [i64; 4] = [0, 0, secs, nanos];
    // SAFETY: `spec` is a live struct itimerspec; no old value is asked for.
    res(unsafe { syscall!(Sysno::timer_settime, id, 0usize, spec.as_ptr(), 0usize) }).map(drop)
}

/// `timer_delete(id)`.
pub fn timer_delete(id: i32) {
    // SAFETY: no pointers.
    let _ = unsafe { syscall!(Sysno::timer_delete, id) };
}

/// `tgkill(tgid, tid, sig)`: a signal to one thread.
pub fn tgkill(tgid: i32, tid: i32, sig: i32) -> SysResult<()> {
    // SAFETY: no pointers.
    res(unsafe { syscall!(Sysno::tgkill, tgid, tid, sig) }).map(drop)
}
