//! Test helper: bind DIR read-only at /data and try to write into its submount /data/sub.
//! Prints the shell's error (expected: "sub: Read-only file system").
//!
//! `ro_probe --without-open-tree-attr DIR` first installs a seccomp filter that makes
//! `open_tree_attr` fail with ENOSYS (as on kernels before 6.15) for this process and the
//! sandboxes it starts, and prints `open_tree_attr: ENOSYS` once it is in place.
fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--without-open-tree-attr") {
        args.remove(0);
        without_open_tree_attr();
    }
    let dir = args
        .first()
        .expect("usage: ro_probe [--without-open-tree-attr] DIR");
    let mut c = hakoniwa::Container::new();
    c.rootfs("/").bindmount_ro(dir, "/data");
    let out = c
        .command("/bin/sh")
        .args(["-c", "touch /data/sub/x 2>&1 | grep -o 'Read-only file system' | sed 's/^/sub: /'; test ! -e /data/sub/x"])
        .output()
        .expect("spawn");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    std::process::exit(out.status.code());
}

/// `open_tree_attr` (x86_64 number 467) returns ENOSYS from now on, in this process and
/// everything it starts.
fn without_open_tree_attr() {
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
    println!("open_tree_attr: ENOSYS");
}
