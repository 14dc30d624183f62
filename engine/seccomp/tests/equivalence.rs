//! Binary-search program vs seccompiler's linear program vs the policy model, for every
//! system call number and many argument vectors.

mod common;

use common::{arg_vectors, assert_equivalent};
use hakoniwa_seccomp::bpf::{JA, RET_K};
use hakoniwa_seccomp::interp::{path_len, run, SeccompData};
use hakoniwa_seccomp::{
    audit, podman_default, Action, Arch, ArgLen, CmpOp, Condition, Policy, SockFilter, ENOSYS,
};

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;

/// ~150 syscalls: every other entry of the x86_64 table up to 300.
fn allowlist() -> Policy {
    let mut p = Policy::new(Action::Errno(1));
    p.set_name("allowlist-150");
    for nr in (0..300).step_by(2) {
        if Arch::X86_64.syscall_name(nr).is_some() {
            p.rule_nr(nr, vec![], Action::Allow).unwrap();
        }
    }
    p
}

/// Every operator, both widths, several actions, several rules per syscall.
fn conditional() -> Policy {
    use CmpOp::*;
    let q = Condition::qword;
    let d = Condition::dword;
    let mut p = Policy::new(Action::Errno(38));
    p.set_name("conditional");
    p.rule("read", vec![], Action::Allow).unwrap();
    p.rule("write", vec![q(0, Eq, 1)], Action::Allow).unwrap();
    p.rule("write", vec![q(0, Eq, 2)], Action::Log).unwrap();
    p.rule("openat", vec![q(2, Ne, 0x1_0000_0000)], Action::Errno(13))
        .unwrap();
    p.rule("mmap", vec![q(1, Lt, 0x1_0000), q(2, Le, 7)], Action::Allow)
        .unwrap();
    p.rule("mmap", vec![q(3, Gt, 0xffff_ffff)], Action::Trap)
        .unwrap();
    p.rule(
        "mprotect",
        vec![q(2, Ge, 0x2_0000_0004)],
        Action::KillThread,
    )
    .unwrap();
    p.rule("mprotect", vec![], Action::Allow).unwrap();
    p.rule(
        "ioctl",
        vec![d(1, MaskedEq(0xffff_ffff), 0x5412)],
        Action::Errno(1),
    )
    .unwrap();
    p.rule(
        "ioctl",
        vec![q(1, MaskedEq(0xff00_0000_0000_ff00), 0x1200_0000_0000_5400)],
        Action::Trace(7),
    )
    .unwrap();
    p.rule("ioctl", vec![], Action::Allow).unwrap();
    p.rule(
        "kill",
        vec![d(1, Eq, 9), d(0, Lt, 100)],
        Action::KillProcess,
    )
    .unwrap();
    p.rule("kill", vec![d(1, Ne, 9)], Action::Allow).unwrap();
    p.rule(
        "fcntl",
        vec![d(1, Gt, 1000), d(1, Le, 1030)],
        Action::Errno(22),
    )
    .unwrap();
    p.rule("fcntl", vec![d(1, Ge, 5)], Action::Log).unwrap();
    p.rule("fcntl", vec![d(2, Lt, 3)], Action::Allow).unwrap();
    p.rule("clone", vec![q(0, MaskedEq(0x7e02_0000), 0)], Action::Allow)
        .unwrap();
    p.rule("exit_group", vec![], Action::Allow).unwrap();
    p.rule("getpid", vec![], Action::Trace(3)).unwrap();
    p.rule("getppid", vec![], Action::Trap).unwrap();
    p.rule("kexec_load", vec![], Action::KillProcess).unwrap();
    p.rule("mseal", vec![], Action::Log).unwrap();
    p.allow_arch(Arch::X86);
    p
}

fn check(p: &Policy) -> (usize, usize) {
    let ours = p.compile().unwrap().instructions;
    let reference = p.compile_linear_seccompiler().unwrap();
    let args = arg_vectors(&[p]);
    let n = assert_equivalent(p, &ours, &reference, &args);
    (n, ours.len())
}

#[test]
fn allowlist_150_equivalent_to_seccompiler() {
    let p = allowlist();
    assert!(p.syscalls().count() >= 145, "{}", p.syscalls().count());
    let (n, len) = check(&p);
    eprintln!("allowlist: {n} inputs, {len} instructions");
}

#[test]
fn conditions_all_operators_and_actions_equivalent_to_seccompiler() {
    let p = conditional();
    let (n, len) = check(&p);
    eprintln!("conditional: {n} inputs, {len} instructions");
    // Spot checks of the intended meaning, not just agreement.
    let prog = p.compile().unwrap().instructions;
    let call = |name: &str, args: [u64; 6]| {
        let nr = Arch::X86_64.syscall_nr(name).unwrap();
        Action::from_ret_value(run(&prog, &SeccompData::new(X86_64, nr, args)).unwrap()).unwrap()
    };
    assert_eq!(call("write", [1, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(call("write", [2, 0, 0, 0, 0, 0]), Action::Log);
    assert_eq!(
        call("write", [1 | 1 << 32, 0, 0, 0, 0, 0]),
        Action::Errno(38)
    );
    assert_eq!(
        call("ioctl", [0, 0xffff_ffff_0000_5412, 0, 0, 0, 0]),
        Action::Errno(1)
    );
    assert_eq!(
        call("ioctl", [0, 0x12aa_0000_0000_54bb, 0, 0, 0, 0]),
        Action::Trace(7)
    );
    assert_eq!(call("ioctl", [0, 0x5413, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(call("kill", [99, 9, 0, 0, 0, 0]), Action::KillProcess);
    assert_eq!(call("kill", [100, 9, 0, 0, 0, 0]), Action::Errno(38));
    assert_eq!(call("fcntl", [0, 1030, 0, 0, 0, 0]), Action::Errno(22));
    assert_eq!(call("fcntl", [0, 1031, 0, 0, 0, 0]), Action::Log);
    assert_eq!(
        call("mprotect", [0, 0, 0x2_0000_0004, 0, 0, 0]),
        Action::KillThread
    );
    assert_eq!(
        call("mprotect", [0, 0, 0x2_0000_0003, 0, 0, 0]),
        Action::Allow
    );
    assert_eq!(
        call("mmap", [0, 0x1_0000, 0, 0x1_0000_0000, 0, 0]),
        Action::Trap
    );
}

#[test]
fn podman_default_equivalent_to_seccompiler() {
    for caps in [
        0,
        hakoniwa_seccomp::caps::cap_mask(hakoniwa_seccomp::caps::PODMAN_DEFAULT_CAPS),
        hakoniwa_seccomp::caps::ALL_CAPS,
    ] {
        let (n, len) = check(&podman_default(caps));
        eprintln!("podman caps {caps:#x}: {n} inputs, {len} instructions");
    }
}

#[test]
fn arch_checks() {
    let p = conditional(); // allows i386, not x32; default Errno(38)
    let prog = p.compile().unwrap().instructions;
    let r = |arch, nr| {
        Action::from_ret_value(run(&prog, &SeccompData::new(arch, nr, [0; 6])).unwrap()).unwrap()
    };
    assert_eq!(r(X86_64, 0), Action::Allow);
    // x32 numbers under the x86_64 audit arch: ENOSYS even for `read | X32_BIT`.
    assert_eq!(r(X86_64, 0x4000_0000), Action::Errno(ENOSYS));
    assert_eq!(r(X86_64, 0x4000_0000 + 39), Action::Errno(ENOSYS));
    // i386 allowed: default action for every number (i386 `read` = 3 is not allowed).
    assert_eq!(r(I386, 3), Action::Errno(38));
    // aarch64 not allowed: kill.
    assert_eq!(r(0xc000_00b7, 63), Action::KillProcess);

    // A deny-list (default Allow) must not be bypassable through x32 or i386.
    let mut deny = Policy::new(Action::Allow);
    deny.rule("kexec_load", vec![], Action::Errno(1)).unwrap();
    let prog = deny.compile().unwrap().instructions;
    let r = |arch, nr| {
        Action::from_ret_value(run(&prog, &SeccompData::new(arch, nr, [0; 6])).unwrap()).unwrap()
    };
    assert_eq!(r(X86_64, 246), Action::Errno(1));
    assert_eq!(r(X86_64, 0x4000_0000 | 246), Action::Errno(ENOSYS));
    assert_eq!(r(I386, 283), Action::KillProcess);
    // Explicitly allowed x32 and i386 under an allowing default: still no bypass. There is
    // no table to apply the deny rules to them, so they fail closed with ENOSYS.
    deny.allow_arch(Arch::X32).allow_arch(Arch::X86);
    let prog = deny.compile().unwrap().instructions;
    assert_eq!(
        run(&prog, &SeccompData::new(X86_64, 0x4000_0000 | 246, [0; 6])).unwrap(),
        Action::Errno(ENOSYS).ret_value()
    );
    assert_eq!(
        run(&prog, &SeccompData::new(I386, 283, [0; 6])).unwrap(),
        Action::Errno(ENOSYS).ret_value()
    );
    check(&deny);
}

#[test]
fn audit_logs_everything() {
    let p = audit();
    assert_eq!(p.name(), "audit");
    let prog = p.compile().unwrap().instructions;
    for nr in [0, 59, 246, 462] {
        assert_eq!(
            run(&prog, &SeccompData::new(X86_64, nr, [0; 6])).unwrap(),
            Action::Log.ret_value()
        );
    }
    check(&p);
}

/// Instructions executed for every native number `0..=max` of the table: (mean, max).
fn paths(prog: &[SockFilter]) -> (f64, usize) {
    let n = Arch::X86_64.max_syscall_nr() + 1;
    let v: Vec<usize> = (0..n)
        .map(|nr| path_len(prog, &SeccompData::new(X86_64, nr, [0; 6])).unwrap())
        .collect();
    (
        v.iter().sum::<usize>() as f64 / v.len() as f64,
        v.iter().copied().max().unwrap_or(0),
    )
}

#[test]
fn binary_search_paths_are_short() {
    let p = podman_default(0);
    let ours = p.compile().unwrap().instructions;
    let lin = p.compile_linear_seccompiler().unwrap();
    let ((mean_o, max_o), (mean_l, _)) = (paths(&ours), paths(&lin));
    eprintln!(
        "podman default: ours {} insns, mean path {mean_o:.1}, max {max_o}; seccompiler {} insns, mean path {mean_l:.1}",
        ours.len(),
        lin.len(),
    );
    // The longest path is ioctl's: nine terminal-request checks on one loaded word (see
    // `terminal`). The interval search takes log2(~70) comparisons.
    assert!(max_o <= 24, "longest path {max_o}");
    assert!(mean_o <= 11.0, "mean path {mean_o}");
    assert!(
        mean_o * 10.0 < mean_l,
        "binary search should be >10x shorter on average"
    );
}

/// The built-in profile, with and without the set-id rules and the exit hook, is short
/// enough for one pool of `ret`s: no long-jump trampolines, one `ret` per distinct value,
/// far fewer instructions than one `jeq` per listed system call.
#[test]
fn the_default_profile_compiles_to_one_short_program_without_long_jumps() {
    for caps in [
        0,
        hakoniwa_seccomp::caps::cap_mask(hakoniwa_seccomp::caps::PODMAN_DEFAULT_CAPS),
    ] {
        for setid in [false, true] {
            let mut p = podman_default(caps);
            if setid {
                hakoniwa_seccomp::setid::deny_setid_modes(&mut p).unwrap();
            }
            for prog in [
                p.compile().unwrap().instructions,
                p.compile_with_exit_hook().unwrap().instructions,
            ] {
                let listed = p.syscalls().count();
                eprintln!(
                    "caps {caps:#x} setid {setid}: {} insns for {listed} system calls",
                    prog.len()
                );
                assert!(listed > 300, "{listed}");
                assert!(prog.len() <= 200, "{} instructions", prog.len());
                assert!(!prog.iter().any(|i| i.code == JA), "a long jump");
                let mut rets: Vec<u32> = prog
                    .iter()
                    .filter(|i| i.code == RET_K)
                    .map(|i| i.k)
                    .collect();
                let total = rets.len();
                rets.sort_unstable();
                rets.dedup();
                assert_eq!(total, rets.len(), "duplicate RET instructions");
                let (mean, max) = paths(&prog);
                assert!(mean <= 11.0 && max <= 24, "paths: mean {mean}, max {max}");
            }
        }
    }
}

#[test]
fn long_jumps_and_size_limit() {
    // Many conditional syscalls push the returns far away: every branch must still resolve.
    let mut p = Policy::new(Action::Errno(1));
    for nr in 0..300 {
        if Arch::X86_64.syscall_name(nr).is_some() {
            p.rule_nr(
                nr,
                vec![Condition::qword(0, CmpOp::Eq, nr as u64)],
                Action::Allow,
            )
            .unwrap();
        }
    }
    let prog = p.compile().unwrap().instructions;
    assert!(prog.len() > 256);
    assert!(
        prog.iter().any(|i| i.code == JA && i.k > 255),
        "expected long jumps"
    );
    let args = arg_vectors(&[&p]);
    assert_equivalent(&p, &prog, &p.compile_linear_seccompiler().unwrap(), &args);

    // Too many conditions: TooLarge, from both compilers.
    let mut big = Policy::new(Action::Errno(1));
    for v in 0..500u64 {
        big.rule(
            "write",
            vec![
                Condition::qword(0, CmpOp::Eq, v),
                Condition::qword(1, CmpOp::Eq, v),
            ],
            Action::Allow,
        )
        .unwrap();
    }
    assert!(matches!(big.compile(), Err(hakoniwa_seccomp::Error::TooLarge(n)) if n > 4096));
    assert!(matches!(
        big.compile_linear_seccompiler(),
        Err(hakoniwa_seccomp::Error::TooLarge(_))
    ));
}

#[test]
fn rule_validation() {
    let mut p = Policy::new(Action::Allow);
    let e = p
        .rule("no_such_call", vec![], Action::Errno(1))
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown system call `no_such_call`");
    let e = p
        .rule(
            "read",
            vec![Condition {
                arg: 6,
                op: CmpOp::Eq,
                value: 0,
                len: ArgLen::Qword,
            }],
            Action::Errno(1),
        )
        .unwrap_err();
    assert!(e.to_string().contains("`read`"), "{e}");
    assert!(p.rule("read", vec![], Action::Errno(0x1_0000)).is_err());
}

/// The exit hook is folded into the profile's own program: `exit_group` on x86_64 becomes
/// a user notification and every other input keeps the profile's decision.
#[test]
fn the_exit_hook_program_differs_from_the_profile_only_in_exit_group() {
    use hakoniwa_seccomp::codegen::RET_USER_NOTIF;
    let exit_group = Arch::X86_64.syscall_nr("exit_group").unwrap();
    for p in [podman_default(0), audit(), allowlist(), conditional()] {
        let hooked = p.compile_with_exit_hook().unwrap().instructions;
        for &arch in common::ARCHES {
            for nr in common::numbers() {
                for args in [[0u64; 6], [u64::MAX; 6], [1, 2, 3, 4, 5, 6]] {
                    let d = SeccompData::new(arch, nr, args);
                    let want = if arch == X86_64 && nr == exit_group {
                        RET_USER_NOTIF
                    } else {
                        p.decide(&d)
                    };
                    assert_eq!(
                        run(&hooked, &d).unwrap(),
                        want,
                        "{}: arch {arch:#x} nr {nr}",
                        p.name()
                    );
                }
            }
        }
    }
}
