//! Creating the child: `clone3` (or `clone` where `clone3` is filtered) with `CLONE_VM` on a
//! private stack, entering [`crate::child_main`] through the assembly trampoline of
//! [`crate::trampoline`] (the entry leaves only through `execve` or `exit_group`).
//!
//! With `CLONE_VM` the child shares the parent's address space, so no page tables are
//! copied and a host holding gigabytes spawns as fast as a small one.

use syscalls::Sysno;

use crate::plan::Plan;

/// `struct clone_args` (size 88, `CLONE_ARGS_SIZE_VER2`).
#[repr(C)]
#[derive(Debug, Default)]
pub struct CloneArgs {
    /// Clone flags.
    pub flags: u64,
    /// Where the kernel stores the pidfd (`CLONE_PIDFD`).
    pub pidfd: u64,
    /// `CLONE_CHILD_SETTID` target.
    pub child_tid: u64,
    /// `CLONE_PARENT_SETTID` target.
    pub parent_tid: u64,
    /// Signal sent to the parent on exit.
    pub exit_signal: u64,
    /// Lowest address of the child's stack.
    pub stack: u64,
    /// Size of the child's stack.
    pub stack_size: u64,
    /// TLS (`CLONE_SETTLS`).
    pub tls: u64,
    /// PID selection.
    pub set_tid: u64,
    /// Length of `set_tid`.
    pub set_tid_size: u64,
    /// Cgroup fd (`CLONE_INTO_CGROUP`).
    pub cgroup: u64,
}

bitflags::bitflags! {
    /// Flags of `clone3`, `clone` and `unshare` (UAPI values).
    #[repr(transparent)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct CloneFlags: u64 {
        /// `CLONE_VM`: the child runs in the parent's address space.
        const VM = 0x100;
        /// `CLONE_FS`: share root, cwd and umask.
        const FS = 0x200;
        /// `CLONE_FILES`: share the descriptor table.
        const FILES = 0x400;
        /// `CLONE_SIGHAND`: share signal handlers.
        const SIGHAND = 0x800;
        /// `CLONE_PIDFD`: the parent gets a pidfd for the child.
        const PIDFD = 0x1000;
        /// `CLONE_THREAD`: a thread of the caller's process.
        const THREAD = 0x1_0000;
        /// `CLONE_SYSVSEM`: share System V semaphore undo values.
        const SYSVSEM = 0x4_0000;
        /// `CLONE_NEWNS`: a new mount namespace.
        const NEWNS = 0x0002_0000;
        /// `CLONE_NEWCGROUP`: a new cgroup namespace.
        const NEWCGROUP = 0x0200_0000;
        /// `CLONE_NEWUTS`: a new UTS (host name) namespace.
        const NEWUTS = 0x0400_0000;
        /// `CLONE_NEWIPC`: a new IPC namespace.
        const NEWIPC = 0x0800_0000;
        /// `CLONE_NEWUSER`: a new user namespace.
        const NEWUSER = 0x1000_0000;
        /// `CLONE_NEWPID`: a new PID namespace.
        const NEWPID = 0x2000_0000;
        /// `CLONE_NEWNET`: a new network namespace.
        const NEWNET = 0x4000_0000;
        /// `CLONE_CLEAR_SIGHAND`: handled signals start at their default (`clone3` only).
        const CLEAR_SIGHAND = 0x1_0000_0000;
    }
}

/// The signal the parent gets when the child ends (`exit_signal`, or the low byte of
/// `clone`'s flags).
pub const SIGCHLD: u64 = 17;

/// The child's entry: [`crate::child_main`] on the plan the parent passed.
///
/// # Safety
/// `plan` points at a `Plan` the parent keeps alive until the error pipe reports EOF, i.e.
/// until this child has called execve or exit_group.
unsafe extern "C" fn entry(plan: *mut u8) -> ! {
    // SAFETY: the function contract.
    let plan = unsafe { &*(plan as *const Plan<'static>) };
    crate::child_main(plan)
}

/// [`crate::trampoline::clone_into`] with [`entry`] and `plan`.
///
/// # Safety
/// As for [`clone3`].
unsafe fn clone_into_entry(nr: Sysno, args: [usize; 5], plan: *const Plan<'_>) -> Result<i32, i32> {
    // SAFETY: forwarded from the caller: a CLONE_VM child on a private stack; `entry`
    // never returns; `plan` outlives the child's execve or exit.
    unsafe { crate::trampoline::clone_into(nr as usize, args, entry, plan as *mut u8) }
}

/// Create the child with `clone3`. Returns the child's pid; the pidfd is stored through
/// `args.pidfd`.
///
/// # Safety
/// `args.flags` must contain `CLONE_VM`, `args.stack`/`stack_size` must describe a private
/// writable stack whose top is 16-byte aligned, and `plan` (with everything it borrows)
/// must stay valid and unmodified until the child has called `execve` or exited. All signals
/// should be blocked in the calling thread so that no handler runs on the shared memory.
#[cfg(target_arch = "x86_64")]
pub unsafe fn clone3(args: &mut CloneArgs, plan: *const Plan<'_>) -> Result<i32, i32> {
    let regs = [
        args as *mut CloneArgs as usize,
        core::mem::size_of::<CloneArgs>(),
        0,
        0,
        0,
    ];
    // SAFETY: forwarded from the caller; `args` lives across the call.
    unsafe { clone_into_entry(Sysno::clone3, regs, plan) }
}

/// Create the child with the older `clone(2)` (for seccomp profiles that make `clone3`
/// return ENOSYS). `pidfd` receives the pidfd when `flags` has `CLONE_PIDFD`.
///
/// # Safety
/// As for [`clone3`]; `stack_top` is the 16-byte aligned top of the private stack.
#[cfg(target_arch = "x86_64")]
pub unsafe fn clone2(
    flags: u64,
    stack_top: *mut u8,
    pidfd: *mut i32,
    plan: *const Plan<'_>,
) -> Result<i32, i32> {
    // x86_64 clone takes (flags, newsp, parent_tid, child_tid, tls); CLONE_PIDFD stores the
    // pidfd through parent_tid.
    let regs = [flags as usize, stack_top as usize, pidfd as usize, 0, 0];
    // SAFETY: forwarded from the caller.
    unsafe { clone_into_entry(Sysno::clone, regs, plan) }
}

/// Start a thread of the calling process on `stack` that runs `entry(arg)` (which ends with
/// [`crate::sys::exit_thread`]); returns a pidfd for it (`CLONE_PIDFD`, Linux 6.9 for a
/// thread), with which [`crate::sys::wait_thread_gone`] joins it. Uses `clone(2)`, which
/// container filters allow for threads.
///
/// # Safety
/// `stack` must stay unused by anything else until the thread is gone, `entry` must never
/// return, and `arg` (and everything `entry` reaches through it) must stay valid until then.
#[cfg(target_arch = "x86_64")]
pub unsafe fn spawn_thread(
    stack: &mut [u8],
    entry: unsafe extern "C" fn(*mut u8) -> !,
    arg: *mut u8,
) -> Result<crate::plan::RawFd, i32> {
    let flags = CloneFlags::VM
        | CloneFlags::FS
        | CloneFlags::FILES
        | CloneFlags::SIGHAND
        | CloneFlags::THREAD
        | CloneFlags::SYSVSEM
        | CloneFlags::PIDFD;
    let top = (stack.as_mut_ptr() as usize + stack.len()) & !15;
    let mut pidfd: crate::plan::RawFd = -1;
    // x86_64 clone takes (flags, newsp, parent_tid, child_tid, tls); CLONE_PIDFD stores the
    // pidfd through parent_tid; exit_signal 0.
    let regs = [
        flags.bits() as usize,
        top,
        &mut pidfd as *mut i32 as usize,
        0,
        0,
    ];
    // SAFETY: a CLONE_VM thread on `stack`, which the caller keeps for it alone; `entry`
    // never returns; the caller keeps `arg` alive until the thread is gone.
    unsafe { crate::trampoline::clone_into(Sysno::clone as usize, regs, entry, arg) }?;
    Ok(pidfd)
}
