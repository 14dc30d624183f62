//! Shared helpers: argument vectors that exercise every constant of a policy, and a
//! program-vs-program comparison over every system call number.
#![allow(dead_code)]

use hakoniwa_seccomp::interp::{run, SeccompData};
use hakoniwa_seccomp::{Action, Arch, CmpOp, Policy, SockFilter, SyscallRules};

/// Numbers beyond the table that are still checked.
pub const OUT_OF_RANGE: &[u32] = &[
    1000,
    4095,
    0x3fff_ffff,
    0x4000_0000,
    0x4000_0001,
    0x4000_0027,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

/// Interesting 64-bit values around `v`.
fn around(v: u64) -> Vec<u64> {
    let lo = v & 0xffff_ffff;
    let hi = v >> 32;
    let mut out = vec![
        v,
        v.wrapping_sub(1),
        v.wrapping_add(1),
        lo,
        lo.wrapping_sub(1) & 0xffff_ffff,
        lo + 1,
        v ^ 0xffff_ffff_0000_0000,
        v | 1 << 32,
        (hi.wrapping_add(1) << 32) | lo,
        (hi.wrapping_sub(1) << 32) | lo,
        (hi << 32) | lo.wrapping_add(1) & 0xffff_ffff,
        (hi << 32) | lo.wrapping_sub(1) & 0xffff_ffff,
    ];
    out.sort_unstable();
    out.dedup();
    out
}

/// Argument vectors for `policies`: zeros, all-ones, and for every rule, vectors where each
/// conditioned argument takes values around its constant (masked variants included) while
/// the others hold their constants, so AND-ed conditions are exercised together.
pub fn arg_vectors(policies: &[&Policy]) -> Vec<[u64; 6]> {
    let mut out = Vec::new();
    for p in policies {
        for s in p.syscalls() {
            out.extend(syscall_vectors(s));
        }
    }
    finish(out)
}

/// [`arg_vectors`] for the rules of one system call.
pub fn syscall_vectors(s: &SyscallRules) -> Vec<[u64; 6]> {
    let mut out = Vec::new();
    for r in &s.rules {
        let mut base = [0u64; 6];
        for c in &r.conditions {
            base[c.arg as usize] = c.value;
        }
        out.push(base);
        for c in &r.conditions {
            let mut values = around(c.value);
            if let CmpOp::MaskedEq(m) = c.op {
                values.extend(around(c.value | !m));
                values.extend(around(c.value & m));
                values.push(!c.value);
                values.push(c.value ^ m);
            }
            for v in values {
                let mut a = base;
                a[c.arg as usize] = v;
                out.push(a);
            }
        }
    }
    finish(out)
}

/// Sorted, without duplicates, zeros and all-ones first.
fn finish(mut out: Vec<[u64; 6]>) -> Vec<[u64; 6]> {
    out.extend([[0xffff_ffff; 6], [1 << 32; 6]]);
    out.sort_unstable();
    out.dedup();
    out.retain(|a| *a != [0; 6] && *a != [u64::MAX; 6]);
    out.insert(0, [u64::MAX; 6]);
    out.insert(0, [0; 6]);
    out
}

/// Every number to check: 0..=max of the table plus a few out of range.
pub fn numbers() -> Vec<u32> {
    let mut v: Vec<u32> = (0..=Arch::X86_64.max_syscall_nr() + 8).collect();
    v.extend_from_slice(OUT_OF_RANGE);
    v
}

/// Audit arch values to check: native, i386, aarch64 (not allowed) and junk.
pub const ARCHES: &[u32] = &[0xc000_003e, 0x4000_0003, 0xc000_00b7, 0, 0xffff_ffff];

fn show(v: u32) -> String {
    match Action::from_ret_value(v) {
        Some(a) => format!("{a:?}"),
        None => format!("{v:#x}"),
    }
}

/// Compare `ours`, `reference` and the policy model itself for every number, arch and
/// argument vector. Returns how many inputs were checked.
pub fn assert_equivalent(
    policy: &Policy,
    ours: &[SockFilter],
    reference: &[SockFilter],
    args: &[[u64; 6]],
) -> usize {
    let mut checked = 0;
    for &arch in ARCHES {
        for nr in numbers() {
            // Every vector for every native number; zeros and all-ones for other arches.
            let vectors: &[[u64; 6]] = if arch == 0xc000_003e {
                args
            } else {
                &args[..2]
            };
            for a in vectors {
                let d = SeccompData::new(arch, nr, *a);
                let x = run(ours, &d).expect("our program runs");
                let y = run(reference, &d).expect("reference program runs");
                let z = policy.decide(&d);
                assert!(
                    x == y && y == z,
                    "{}: arch {arch:#x} nr {nr} args {a:x?}: ours {} seccompiler {} model {}",
                    policy.name(),
                    show(x),
                    show(y),
                    show(z)
                );
                checked += 1;
            }
        }
    }
    checked
}
