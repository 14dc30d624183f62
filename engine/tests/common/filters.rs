//! Seccomp filters that make a system call fail as an older kernel or a strict container
//! filter would, for this process and everything it starts (shared by the engine's tests
//! and the `ro_probe` and `binds_probe` examples).

/// A one-instruction statement of a filter.
fn stmt(code: u32, k: u32) -> libc::sock_filter {
    jump(code, k, 0, 0)
}

/// A conditional jump of a filter.
fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Install `filter` (with `no_new_privs`) on every thread of this process, then check that
/// system call `nr` with first argument `arg0` (and zeros) fails with `errno` (the filter
/// answers before the kernel looks at the arguments).
fn install(filter: &[libc::sock_filter], nr: libc::c_long, arg0: libc::c_long, errno: i32) {
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: plain prctl; `prog` and `filter` live across the seccomp call, which copies
    // the program; the probe passes no pointer (the filter refuses it first).
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        assert_eq!(
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_TSYNC,
                &prog as *const libc::sock_fprog
            ),
            0
        );
        let r = libc::syscall(nr, arg0, 0, 0, 0, 0);
        assert_eq!((r, *libc::__errno_location()), (-1, errno));
    }
}

/// A filter that makes system call `nr` fail with `errno`; with `flags`, only where its
/// first argument has one of these bits (the low 32 bits of `args[0]`, offset 16 of
/// `struct seccomp_data`). Everything else is allowed.
fn deny(nr: u32, flags: Option<u32>, errno: i32) -> Vec<libc::sock_filter> {
    let ld = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let ret = libc::BPF_RET | libc::BPF_K;
    let mut f = vec![stmt(ld, 0)];
    match flags {
        None => f.push(jump(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, nr, 0, 1)),
        Some(bits) => f.extend([
            jump(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, nr, 0, 3),
            stmt(ld, 16),
            jump(libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K, bits, 0, 1),
        ]),
    }
    f.push(stmt(ret, libc::SECCOMP_RET_ERRNO | errno as u32));
    f.push(stmt(ret, libc::SECCOMP_RET_ALLOW));
    f
}

/// `open_tree_attr` (x86_64 number 467) returns ENOSYS from now on, as on kernels before
/// 6.15.
pub fn without_open_tree_attr() {
    const OPEN_TREE_ATTR: u32 = 467;
    install(
        &deny(OPEN_TREE_ATTR, None, libc::ENOSYS),
        OPEN_TREE_ATTR.into(),
        -1,
        libc::ENOSYS,
    );
}

/// `clone` with `CLONE_THREAD` fails with EPERM from now on: no thread can be made with it,
/// as under a strict container filter (`clone3`, which glibc uses for threads, is left
/// alone).
pub fn without_clone_threads() {
    const CLONE: u32 = 56;
    const CLONE_THREAD: u32 = 0x1_0000;
    let filter = deny(CLONE, Some(CLONE_THREAD), libc::EPERM);
    install(&filter, CLONE.into(), CLONE_THREAD.into(), libc::EPERM);
}
