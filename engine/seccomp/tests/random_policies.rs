//! Randomised comparison of the compiled programs (run through the interpreter) with the
//! policy model, over many generated policies: runs of consecutive numbers with one rule
//! list (so intervals merge and split), numbers near the x32 bit, every action, argument
//! conditions of every operator and width with edge constants and masks (0, one bit, all
//! ones, high word only), several conditions on the same argument (the generator reuses
//! loaded words), extra architectures. Deterministic: a fixed seed, no crates.

mod common;

use common::{arg_vectors, syscall_vectors, ARCHES, OUT_OF_RANGE};
use hakoniwa_seccomp::bpf::JA;
use hakoniwa_seccomp::codegen::RET_USER_NOTIF;
use hakoniwa_seccomp::interp::{run, SeccompData};
use hakoniwa_seccomp::{Action, Arch, ArgLen, CmpOp, Condition, Policy};

const X86_64: u32 = 0xc000_003e;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn action(rng: &mut Rng) -> Action {
    match rng.below(8) {
        0 | 1 => Action::Allow,
        2 => Action::Errno(rng.pick(&[1, 13, 38, 0xffff])),
        3 => Action::KillProcess,
        4 => Action::KillThread,
        5 => Action::Log,
        6 => Action::Trap,
        _ => Action::Trace(rng.pick(&[0, 7, 0xffff])),
    }
}

fn value(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 => rng.pick(&[
            0,
            1,
            0x1b6,
            0o4000,
            0xffff_ffff,
            0x1_0000_0000,
            0x1_0000_0001,
            0xffff_ffff_0000_0000,
            u64::MAX,
            u64::MAX - 1,
        ]),
        1 => rng.below(16),
        2 => rng.next() & 0xffff_ffff,
        _ => rng.next(),
    }
}

fn condition(rng: &mut Rng) -> Condition {
    let op = match rng.below(7) {
        0 => CmpOp::Eq,
        1 => CmpOp::Ne,
        2 => CmpOp::Lt,
        3 => CmpOp::Le,
        4 => CmpOp::Gt,
        5 => CmpOp::Ge,
        _ => CmpOp::MaskedEq(match rng.below(6) {
            0 => 0,
            1 => 1 << rng.below(64),
            2 => 0xffff_ffff,
            3 => 0xffff_ff00,
            4 => 0xffff_0000_0000_0000,
            _ => rng.next(),
        }),
    };
    let len = if rng.below(2) == 0 {
        ArgLen::Dword
    } else {
        ArgLen::Qword
    };
    let mut value = value(rng);
    if len == ArgLen::Dword {
        value &= 0xffff_ffff;
    }
    Condition {
        // Mostly the first two arguments, so conditions often share a loaded word.
        arg: rng.pick(&[0, 0, 1, 1, 2, 5]),
        op,
        value,
        len,
    }
}

fn rules(rng: &mut Rng) -> Vec<(Vec<Condition>, Action)> {
    (0..1 + rng.below(4))
        .map(|_| {
            let n = match rng.below(4) {
                0 => 0,
                1 | 2 => 1,
                _ => 2 + rng.below(2),
            };
            ((0..n).map(|_| condition(rng)).collect(), action(rng))
        })
        .collect()
}

fn policy(rng: &mut Rng, i: usize) -> Policy {
    let mut p = Policy::new(action(rng));
    p.set_name(format!("random-{i}"));
    if rng.below(3) == 0 {
        p.set_bad_arch_action(action(rng));
    }
    if rng.below(2) == 0 {
        p.allow_arch(Arch::X86);
    }
    if rng.below(3) == 0 {
        p.allow_arch(Arch::X32);
    }
    // Every tenth policy is large: several `ret` pools and long jumps between them.
    let runs = if i % 10 == 0 { 40 } else { rng.below(14) };
    for _ in 0..runs {
        let start = match rng.below(6) {
            0 => 0x3fff_fff0 + rng.below(16) as u32,
            1 => rng.below(0x3fff_ffff) as u32,
            _ => rng.below(480) as u32,
        };
        let len = 1 + rng.below(6) as u32;
        let shared = rules(rng);
        // A run shares one rule list, except now and then one number inside it.
        for nr in start..start.saturating_add(len).min(0x4000_0000) {
            let list = if rng.below(8) == 0 {
                rules(rng)
            } else {
                shared.clone()
            };
            for (conditions, action) in list {
                p.rule_nr(nr, conditions, action)
                    .expect("valid random rule");
            }
        }
    }
    p
}

/// Numbers to check for `p`: 0, the table's range sampled, every listed number and its
/// neighbours, the top of the native range and the x32 range.
fn numbers(p: &Policy, rng: &mut Rng) -> Vec<u32> {
    let mut v: Vec<u32> = vec![0, 1, Arch::X86_64.max_syscall_nr()];
    v.extend_from_slice(OUT_OF_RANGE);
    for s in p.syscalls() {
        v.extend([s.nr.wrapping_sub(1), s.nr, s.nr.wrapping_add(1)]);
    }
    v.extend((0..40).map(|_| rng.below(500) as u32));
    v.extend((0..10).map(|_| rng.next() as u32));
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn random_policies_compile_to_programs_that_decide_as_the_model() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let exit_group = Arch::X86_64.syscall_nr("exit_group").unwrap();
    let (mut inputs, mut longest, mut large) = (0usize, 0usize, 0usize);
    for i in 0..300 {
        let p = policy(&mut rng, i);
        let plain = p.compile().unwrap().instructions;
        let hooked = p.compile_with_exit_hook().unwrap().instructions;
        longest = longest.max(plain.len());
        if plain.iter().any(|i| i.code == JA) {
            large += 1;
        }
        let random: Vec<[u64; 6]> = (0..8)
            .map(|_| std::array::from_fn(|_| value(&mut rng)))
            .collect();
        // Small policies: the edge vectors of every rule for every listed number; large
        // ones: those of the number's own rules.
        let all = arg_vectors(&[&p]);
        for nr in numbers(&p, &mut rng) {
            let listed = p.syscalls().find(|s| s.nr == nr);
            let mut args = match listed {
                Some(_) if plain.len() <= 256 => all.clone(),
                Some(s) => syscall_vectors(s),
                None => vec![[0; 6], [u64::MAX; 6]],
            };
            args.extend_from_slice(&random);
            for &arch in ARCHES {
                // Every vector where a block may be reached, a few elsewhere.
                let vectors = if arch == X86_64 {
                    &args[..]
                } else {
                    &args[..3]
                };
                for a in vectors {
                    let d = SeccompData::new(arch, nr, *a);
                    let want = p.decide(&d);
                    let got = run(&plain, &d).unwrap();
                    assert_eq!(
                        got,
                        want,
                        "{}: arch {arch:#x} nr {nr:#x} args {a:x?}: program {:?}, model {:?}\n{p:?}",
                        p.name(),
                        Action::from_ret_value(got),
                        Action::from_ret_value(want)
                    );
                    let want = if arch == X86_64 && nr == exit_group {
                        RET_USER_NOTIF
                    } else {
                        want
                    };
                    assert_eq!(
                        run(&hooked, &d).unwrap(),
                        want,
                        "{} with the exit hook: arch {arch:#x} nr {nr:#x} args {a:x?}\n{p:?}",
                        p.name()
                    );
                    inputs += 1;
                }
            }
        }
    }
    eprintln!("{inputs} inputs, longest program {longest} instructions, {large} with long jumps");
    assert!(large >= 20, "the large policies need long jumps: {large}");
}
