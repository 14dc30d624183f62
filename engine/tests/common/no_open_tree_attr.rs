//! A seccomp filter that makes `open_tree_attr` fail with ENOSYS, as on kernels before
//! 6.15 (shared by the engine's tests and the `ro_probe` example).
/// `open_tree_attr` (x86_64 number 467) returns ENOSYS from now on, in this process and
/// everything it starts.
pub fn without_open_tree_attr() {
    const OPEN_TREE_ATTR: u32 = 467;
    let filter = [
        // Load the system call number.
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: OPEN_TREE_ATTR,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: plain prctl; `prog` and `filter` live across the seccomp call, which copies
    // the program; the probe call passes no pointer the kernel dereferences before failing.
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
        let r = libc::syscall(OPEN_TREE_ATTR as libc::c_long, -1, 0, 0, 0, 0);
        assert_eq!((r, *libc::__errno_location()), (-1, libc::ENOSYS));
    }
}
