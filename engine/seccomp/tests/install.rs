//! Installing compiled programs in the kernel, each in a fresh thread (filters are
//! per-thread without TSYNC, so the test process itself stays unfiltered).

use hakoniwa_seccomp::{podman_default, Action, CmpOp, Condition, Policy, SockFilter};
use syscalls::{syscall, Errno, Sysno};

const PR_SET_NO_NEW_PRIVS: usize = 38;
const SECCOMP_SET_MODE_FILTER: usize = 1;
const EPERM: i32 = 1;
const ENOSYS: i32 = 38;
const EINVAL: i32 = 22;

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

/// no_new_privs + seccomp(SECCOMP_SET_MODE_FILTER) for the calling thread.
fn install(prog: &[SockFilter]) -> Result<(), Errno> {
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) takes no pointers.
    unsafe { syscall!(Sysno::prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }?;
    let fprog = SockFprog {
        len: prog.len() as u16,
        filter: prog.as_ptr(),
    };
    // SAFETY: `fprog` points at a live instruction array for the duration of the call; the
    // kernel copies it.
    unsafe {
        syscall!(
            Sysno::seccomp,
            SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const SockFprog
        )
    }?;
    Ok(())
}

fn in_filtered_thread<R: Send + 'static>(
    prog: Vec<SockFilter>,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    std::thread::spawn(move || {
        install(&prog).expect("install the filter");
        f()
    })
    .join()
    .expect("filtered thread")
}

fn errno(r: Result<usize, Errno>) -> Result<usize, i32> {
    r.map_err(Errno::into_raw)
}

#[derive(Debug, PartialEq)]
struct PodmanResults {
    kexec_load: Result<usize, i32>,
    add_key: Result<usize, i32>,
    unlisted_io_uring: Result<usize, i32>,
    personality_query: bool,
    netlink_audit: Result<usize, i32>,
    unix_socket: bool,
    tiocsti: Result<usize, i32>,
    getpid: bool,
}

fn podman_checks() -> PodmanResults {
    let byte = b'x';
    // SAFETY: every call below passes plain integers, null pointers the kernel
    // rejects before using them, or a pointer to a live local byte.
    unsafe {
        let unix = errno(syscall!(Sysno::socket, 1, 1, 0));
        if let Ok(fd) = unix {
            let _ = syscall!(Sysno::close, fd);
        }
        let netlink = errno(syscall!(Sysno::socket, 16, 3, 9));
        if let Ok(fd) = netlink {
            let _ = syscall!(Sysno::close, fd);
        }
        PodmanResults {
            kexec_load: errno(syscall!(Sysno::kexec_load, 0, 0, 0, 0)),
            add_key: errno(syscall!(Sysno::add_key, 0, 0, 0, 0, 0)),
            unlisted_io_uring: errno(syscall!(Sysno::io_uring_setup, 0, 0)),
            personality_query: syscall!(Sysno::personality, 0xffff_ffffusize).is_ok(),
            netlink_audit: netlink,
            unix_socket: unix.is_ok(),
            tiocsti: errno(syscall!(Sysno::ioctl, 0, 0x5412, &byte as *const u8)),
            getpid: syscall!(Sysno::getpid).is_ok(),
        }
    }
}

#[test]
fn podman_default_installed_in_a_thread() {
    let prog = podman_default(0).compile().unwrap().instructions;
    let r = in_filtered_thread(prog, podman_checks);
    assert_eq!(
        r,
        PodmanResults {
            kexec_load: Err(EPERM),
            add_key: Err(EPERM),
            unlisted_io_uring: Err(ENOSYS),
            personality_query: true,
            netlink_audit: Err(EINVAL),
            unix_socket: true,
            tiocsti: Err(EPERM),
            getpid: true,
        }
    );
}

#[test]
fn seccompiler_reference_program_installs_too() {
    let prog = podman_default(0).compile_linear_seccompiler().unwrap();
    let r = in_filtered_thread(prog, podman_checks);
    assert_eq!(r.kexec_load, Err(EPERM));
    assert_eq!(r.add_key, Err(EPERM));
    assert_eq!(r.unlisted_io_uring, Err(ENOSYS));
    assert_eq!(r.netlink_audit, Err(EINVAL));
    assert!(r.personality_query && r.unix_socket && r.getpid);
    // Same policy, so the TIOCSTI rule is in the reference program as well.
    assert_eq!(r.tiocsti, Err(EPERM));
}

#[test]
fn custom_policy_errno_and_conditions() {
    let mut p = Policy::new(Action::Allow);
    p.rule(
        "dup",
        vec![Condition::qword(0, CmpOp::Eq, 1000)],
        Action::Errno(77),
    )
    .unwrap();
    p.rule("getppid", vec![], Action::Errno(78)).unwrap();
    p.rule(
        "getpriority",
        vec![Condition::dword(0, CmpOp::MaskedEq(0xff), 0x7f)],
        Action::Errno(79),
    )
    .unwrap();
    let prog = p.compile().unwrap().instructions;
    let (dup1000, dup0, getppid, prio) = in_filtered_thread(prog, || {
        // SAFETY: integer arguments only.
        unsafe {
            let dup0 = errno(syscall!(Sysno::dup, 0));
            if let Ok(fd) = dup0 {
                let _ = syscall!(Sysno::close, fd);
            }
            (
                errno(syscall!(Sysno::dup, 1000)),
                dup0.is_ok(),
                errno(syscall!(Sysno::getppid)),
                errno(syscall!(Sysno::getpriority, 0x17f, 0)),
            )
        }
    });
    assert_eq!(dup1000, Err(77));
    assert!(dup0);
    assert_eq!(getppid, Err(78));
    assert_eq!(prio, Err(79));
    // The test process itself is not filtered.
    // SAFETY: no arguments.
    assert!(unsafe { syscall!(Sysno::getppid) }.is_ok());
}
