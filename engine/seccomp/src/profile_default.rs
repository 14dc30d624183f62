//! The built-in default profile: the decisions of the containers/common (Podman) default
//! seccomp profile, as Rust data, plus the terminal ioctl denials of [`crate::terminal`].
//!
//! Entries are applied in order with the same selection and merge rules as the OCI loader
//! ([`crate::profile`]). Names that do not exist on the native architecture (32-bit
//! variants, other architectures' calls) are part of the upstream lists and are skipped
//! silently here.
//!
//! Intended differences from the upstream profile:
//! - `ioctl(fd, TIOCSTI, ..)`, `ioctl(fd, TIOCLINUX, ..)`, `ioctl(fd, TIOCSETD, ..)` and the
//!   other requests of [`crate::terminal`] return EPERM (the request is an `int`, compared as
//!   the masked low 32-bit word): they inject input into the caller's terminal or change it
//!   for everyone who shares it.
//! - `add_key`, `keyctl` and `request_key` return EPERM (as in Docker's default profile):
//!   the program runs with the caller's host uid, so without this any key the caller owns
//!   would be reachable by its serial number, new session keyring or not.
//!
//! Like upstream (whose `archMap` maps x86_64 to x86 and x32), i386 and x32 are allowed
//! architectures; see the crate docs for what that means here (default action, ENOSYS).

use crate::arch::Arch;
use crate::caps::cap_number;
use crate::policy::{Action, ArgLen, CmpOp, Condition, Policy, ENOSYS};
use crate::profile::{Builder, Filter};

const EPERM: u32 = 1;
const EINVAL: u32 = 22;
const AF_NETLINK: u64 = 16;
const NETLINK_AUDIT: u64 = 9;

struct Entry {
    names: &'static [&'static str],
    action: Action,
    args: &'static [Condition],
    includes_caps: &'static [&'static str],
    excludes_caps: &'static [&'static str],
    includes_arches: &'static [&'static str],
}

const fn q(arg: u8, op: CmpOp, value: u64) -> Condition {
    Condition {
        arg,
        op,
        value,
        len: ArgLen::Qword,
    }
}

const fn plain(names: &'static [&'static str], action: Action) -> Entry {
    Entry {
        names,
        action,
        args: &[],
        includes_caps: &[],
        excludes_caps: &[],
        includes_arches: &[],
    }
}

const fn with_args(
    names: &'static [&'static str],
    action: Action,
    args: &'static [Condition],
) -> Entry {
    Entry {
        args,
        ..plain(names, action)
    }
}

const fn on_arches(names: &'static [&'static str], arches: &'static [&'static str]) -> Entry {
    Entry {
        includes_arches: arches,
        ..plain(names, Action::Allow)
    }
}

impl Entry {
    /// Only when the program holds all of `caps`.
    const fn with(self, caps: &'static [&'static str]) -> Entry {
        Entry {
            includes_caps: caps,
            ..self
        }
    }

    /// Only when the program holds none of `caps`.
    const fn without(self, caps: &'static [&'static str]) -> Entry {
        Entry {
            excludes_caps: caps,
            ..self
        }
    }
}

/// Allowed with `cap`, EPERM without it.
const fn cap_pair(
    names: &'static [&'static str],
    denied: &'static [&'static str],
    cap: &'static [&'static str],
) -> [Entry; 2] {
    [
        plain(names, Action::Allow).with(cap),
        plain(denied, Action::Errno(EPERM)).without(cap),
    ]
}

/// Denied with EPERM whatever the capabilities.
const DENIED: &[&str] = &[
    "bdflush",
    "cachestat",
    "futex_requeue",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "io_pgetevents",
    "io_pgetevents_time64",
    "kexec_file_load",
    "kexec_load",
    "map_shadow_stack",
    "migrate_pages",
    "move_pages",
    "nfsservctl",
    "nice",
    "oldfstat",
    "oldlstat",
    "oldolduname",
    "oldstat",
    "olduname",
    "pciconfig_iobase",
    "pciconfig_read",
    "pciconfig_write",
    "sgetmask",
    "ssetmask",
    "swapoff",
    "swapon",
    "syscall",
    "sysfs",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
    "vmsplice",
];

/// Allowed whatever the capabilities.
const ALLOWED: &[&str] = &[
    "_llseek",
    "_newselect",
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "clone",
    "clone3",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_init",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsconfig",
    "fsetxattr",
    "fsmount",
    "fsopen",
    "fspick",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futimesat",
    "get_mempolicy",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "keyctl",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "mbind",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mount",
    "mount_setattr",
    "move_mount",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "open",
    "open_tree",
    "openat",
    "openat2",
    "pause",
    "pidfd_getfd",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pivot_root",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "process_vm_readv",
    "process_vm_writev",
    "pselect6",
    "pselect6_time64",
    "ptrace",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "reboot",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_mempolicy",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setns",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signal",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "syslog",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "umount",
    "umount2",
    "uname",
    "unlink",
    "unlinkat",
    "unshare",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

const NO_AUDIT_WRITE: &[&str] = &["CAP_AUDIT_WRITE"];

const PERSONALITY: [&[Condition]; 5] = [
    &[q(0, CmpOp::Eq, 0x0)],
    &[q(0, CmpOp::Eq, 0x8)],
    &[q(0, CmpOp::Eq, 0x20000)],
    &[q(0, CmpOp::Eq, 0x20008)],
    &[q(0, CmpOp::Eq, 0xffff_ffff)],
];
const NETLINK_AUDIT_SOCKET: &[Condition] =
    &[q(0, CmpOp::Eq, AF_NETLINK), q(2, CmpOp::Eq, NETLINK_AUDIT)];
const NOT_NETLINK_AUDIT: &[Condition] = &[q(2, CmpOp::Ne, NETLINK_AUDIT)];
const NOT_NETLINK: &[Condition] = &[q(0, CmpOp::Ne, AF_NETLINK)];

fn entries() -> Vec<Entry> {
    let mut v = vec![
        plain(DENIED, Action::Errno(EPERM)),
        plain(ALLOWED, Action::Allow),
        // personality: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query.
        with_args(&["personality"], Action::Allow, PERSONALITY[0]),
        with_args(&["personality"], Action::Allow, PERSONALITY[1]),
        with_args(&["personality"], Action::Allow, PERSONALITY[2]),
        with_args(&["personality"], Action::Allow, PERSONALITY[3]),
        with_args(&["personality"], Action::Allow, PERSONALITY[4]),
        on_arches(&["sync_file_range2", "swapcontext"], &["ppc64le"]),
        on_arches(
            &[
                "arm_fadvise64_64",
                "arm_sync_file_range",
                "breakpoint",
                "cacheflush",
                "set_tls",
                "sync_file_range2",
            ],
            &["arm", "arm64"],
        ),
        on_arches(&["arch_prctl"], &["amd64", "x32"]),
        on_arches(&["modify_ldt"], &["amd64", "x32", "x86"]),
        on_arches(
            &[
                "s390_pci_mmio_read",
                "s390_pci_mmio_write",
                "s390_runtime_instr",
            ],
            &["s390", "s390x"],
        ),
        on_arches(&["riscv_flush_icache"], &["riscv64"]),
    ];
    v.extend(cap_pair(
        &["open_by_handle_at"],
        &["open_by_handle_at"],
        &["CAP_DAC_READ_SEARCH"],
    ));
    v.extend(cap_pair(
        &[
            "bpf",
            "lookup_dcookie",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
        ],
        &[
            "lookup_dcookie",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
        ],
        &["CAP_SYS_ADMIN"],
    ));
    v.extend(cap_pair(&["chroot"], &["chroot"], &["CAP_SYS_CHROOT"]));
    let modules: &[&str] = &[
        "delete_module",
        "finit_module",
        "init_module",
        "query_module",
    ];
    v.extend(cap_pair(modules, modules, &["CAP_SYS_MODULE"]));
    v.extend(cap_pair(&["acct"], &["acct"], &["CAP_SYS_PACCT"]));
    v.extend(cap_pair(
        &["kcmp", "process_madvise"],
        &["kcmp", "process_madvise"],
        &["CAP_SYS_PTRACE"],
    ));
    v.extend(cap_pair(
        &["ioperm", "iopl"],
        &["ioperm", "iopl"],
        &["CAP_SYS_RAWIO"],
    ));
    let time: &[&str] = &["clock_settime", "clock_settime64", "settimeofday", "stime"];
    v.extend(cap_pair(time, time, &["CAP_SYS_TIME"]));
    v.extend(cap_pair(
        &["vhangup"],
        &["vhangup"],
        &["CAP_SYS_TTY_CONFIG"],
    ));
    // socket: without CAP_AUDIT_WRITE, AF_NETLINK + NETLINK_AUDIT fails with EINVAL.
    v.extend([
        with_args(&["socket"], Action::Errno(EINVAL), NETLINK_AUDIT_SOCKET).without(NO_AUDIT_WRITE),
        with_args(&["socket"], Action::Allow, NOT_NETLINK_AUDIT).without(NO_AUDIT_WRITE),
        with_args(&["socket"], Action::Allow, NOT_NETLINK).without(NO_AUDIT_WRITE),
        with_args(&["socket"], Action::Allow, NOT_NETLINK_AUDIT).without(NO_AUDIT_WRITE),
        plain(&["socket"], Action::Allow).with(NO_AUDIT_WRITE),
        plain(&["bpf"], Action::Errno(EPERM)).without(&["CAP_SYS_ADMIN", "CAP_BPF"]),
        plain(&["bpf"], Action::Allow).with(&["CAP_BPF"]),
        plain(&["perf_event_open"], Action::Errno(EPERM)).without(&["CAP_SYS_ADMIN", "CAP_BPF"]),
        plain(&["perf_event_open"], Action::Allow).with(&["CAP_PERFMON"]),
    ]);
    v
}

fn caps(names: &[&str]) -> Vec<u32> {
    names
        .iter()
        .map(|n| cap_number(n).expect("built-in capability name"))
        .collect()
}

/// The built-in default profile for a program that will hold the capabilities in `caps`
/// (bit `n` = capability number `n`, e.g. bit 21 = `CAP_SYS_ADMIN`).
pub fn podman_default(caps_held: u64) -> Policy {
    let native = Arch::native();
    let mut policy = Policy::new(Action::Errno(ENOSYS));
    policy.set_name("podman-default");
    policy.allow_arch(Arch::X86).allow_arch(Arch::X32);
    crate::terminal::deny_terminal_ioctls(&mut policy, false).expect("valid built-in rules");
    for name in ["add_key", "keyctl", "request_key"] {
        if native.syscall_nr(name).is_some() {
            policy
                .rule(name, vec![], Action::Errno(EPERM))
                .expect("valid built-in rule");
        }
    }
    let mut builder = Builder::new(Action::Errno(ENOSYS), native);
    for e in entries() {
        let (inc, exc) = (caps(e.includes_caps), caps(e.excludes_caps));
        let filter = Filter {
            includes_caps: &inc,
            excludes_caps: &exc,
            includes_arches: e.includes_arches,
            excludes_arches: &[],
        };
        if filter.applies(caps_held, native) {
            for name in e.names {
                builder.add(name, e.args, e.action);
            }
        }
    }
    builder
        .finish(&mut policy)
        .expect("built-in profile names were checked");
    policy
}
