//! The one clone trampoline: a `CLONE_VM` child cannot return into the compiler's frame
//! (its stack pointer was replaced, or the frames above it belong to a suspended parent), so
//! right after the system call it calls an entry function on its new stack and never comes
//! back. Used by the runtime to create the sandbox's first process and by the init (which
//! includes this file) to start the program.

/// Make the system call `nr` (`clone3` or `clone`) with its first five arguments in `args`;
/// the child (return value 0) calls `entry(arg)` on the stack the call gave it. Returns the
/// child's pid in the parent, or the errno.
///
/// # Safety
/// The call must create a child on a private (or, with `CLONE_VFORK`, otherwise unused)
/// stack; `entry` must never return (it ends in `execve` or `exit_group`), and `arg` must
/// stay valid until the child has called `execve` or exited.
#[cfg(target_arch = "x86_64")]
pub unsafe fn clone_into(
    nr: usize,
    args: [usize; 5],
    entry: unsafe extern "C" fn(*mut u8) -> !,
    arg: *mut u8,
) -> Result<i32, i32> {
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
            in("r12") arg,
            in("r13") entry,
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

#[cfg(not(target_arch = "x86_64"))]
compile_error!("hakoniwa-runtime: the clone trampoline is written for x86_64 only so far");
