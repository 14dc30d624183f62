//! Creating the child: `clone3` (or `clone` where `clone3` is filtered) with `CLONE_VM` on a
//! private stack, entering [`crate::child_main`] through a tiny assembly trampoline.
//!
//! With `CLONE_VM` the child shares the parent's address space, so no page tables are
//! copied and a host holding gigabytes spawns as fast as a small one. The child cannot
//! return into the compiler's frame (its stack pointer was replaced), so right after the
//! syscall it calls the entry function on the new stack and never comes back: the entry
//! leaves only through `execve` or `exit_group`.

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
        /// `CLONE_PIDFD`: the parent gets a pidfd for the child.
        const PIDFD = 0x1000;
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

extern "C" fn entry(plan: *const Plan<'static>) -> ! {
    // SAFETY: the parent passes a pointer to a Plan it keeps alive until the error pipe
    // reports EOF, i.e. until this child has called execve or exit_group.
    let plan = unsafe { &*plan };
    crate::child_main(plan)
}

/// Make the system call `nr` (`clone3` or `clone`) with its first five arguments in
/// `args`, and send the child into [`entry`] with `plan`: the one trampoline both calls use.
/// Returns the child's pid in the parent.
///
/// # Safety
/// As for [`clone3`]: the call must create a `CLONE_VM` child on a private, 16-byte aligned
/// stack, and `plan` must outlive the child's `execve` or exit.
#[cfg(target_arch = "x86_64")]
unsafe fn clone_into_entry(nr: Sysno, args: [usize; 5], plan: *const Plan<'_>) -> Result<i32, i32> {
    let ret: isize;
    // SAFETY: see the function contract. The child branch (rax == 0) runs on the new stack
    // (the kernel set rsp), clears the frame pointer, aligns the stack and calls `entry`,
    // which never returns; `ud2` guards that. The parent branch falls through to `2:`.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "and rsp, -16",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r12") plan,
            in("r13") entry as extern "C" fn(*const Plan<'static>) -> !,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    if ret < 0 {
        Err(-ret as i32)
    } else {
        Ok(ret as i32)
    }
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

#[cfg(not(target_arch = "x86_64"))]
compile_error!("hakoniwa-runtime: the clone trampoline is written for x86_64 only so far");
