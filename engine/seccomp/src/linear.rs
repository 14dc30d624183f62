//! The reference program, built by seccompiler.
//!
//! A seccompiler [`SeccompFilter`] has one match action and one mismatch action, and its
//! program is a linear chain of `jeq` per system call. A policy with several actions is
//! therefore split into *layers*: the rules of each system call are cut into runs of
//! consecutive rules with the same action; layer `i` holds run `i` of every system call.
//! Within a layer every system call appears at most once, so the layer can be split by
//! action into seccompiler filters whose order does not matter. Each filter gets a sentinel
//! mismatch action that no rule uses; after compilation every `ret SENTINEL` is rewritten
//! into a `ja` to the start of the next filter (same length, so no offset changes). Chaining
//! the layers in order gives exactly "first matching rule of the system call decides", the
//! policy's semantics. After the last filter comes `ret default`.
//!
//! seccompiler's own arch check does not handle x32 numbers nor extra architectures, so the
//! chain is preceded by a hand-written linear prelude with the same meaning as the one in
//! [`crate::codegen`]: `ld arch`, `jeq` native / allowed extra arches, `ret bad_arch`,
//! `ld nr`, `jge 0x40000000 -> ret x32_action`. seccompiler's per-filter arch checks stay in
//! place (they always pass after the prelude).

use std::collections::BTreeMap;

use hakoniwa_runtime::SockFilter;
use seccompiler::{BpfProgram, SeccompFilter, SeccompRule, TargetArch};

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::*;
use crate::policy::{Action, Policy};
use crate::Error;

fn target_arch(arch: Arch) -> Result<TargetArch, Error> {
    match arch {
        Arch::X86_64 => Ok(TargetArch::x86_64),
        Arch::Aarch64 => Ok(TargetArch::aarch64),
        other => Err(Error::InvalidProfile {
            field: "native architecture".to_owned(),
            message: format!("seccompiler has no target for {other:?}"),
        }),
    }
}

/// Compile `policy` with seccompiler (see the module docs).
pub fn compile(policy: &Policy) -> Result<Vec<SockFilter>, Error> {
    let backend = |e: seccompiler::BackendError| match e {
        seccompiler::BackendError::FilterTooLarge(n) => Error::TooLarge(n),
        e => Error::InvalidProfile {
            field: "seccompiler".to_owned(),
            message: e.to_string(),
        },
    };
    let arch = target_arch(policy.native_arch())?;

    // Runs of same-action rules per syscall.
    type Run = (Action, Option<Vec<SeccompRule>>); // None = unconditional
    let mut runs: BTreeMap<u32, Vec<Run>> = BTreeMap::new();
    for s in policy.syscalls() {
        let v = runs.entry(s.nr).or_default();
        for r in &s.rules {
            match v.last_mut() {
                Some((a, conds)) if *a == r.action => {
                    if let (Some(list), Some(c)) = (conds.as_mut(), &r.checked) {
                        list.push(c.clone());
                    } else {
                        *conds = None;
                    }
                }
                _ => v.push((r.action, r.checked.clone().map(|c| vec![c]))),
            }
        }
    }

    // A mismatch action no rule uses.
    let used: Vec<u32> = policy
        .syscalls()
        .flat_map(|s| s.rules.iter().map(|r| r.action.ret_value()))
        .collect();
    let sentinel = (0..=0xffffu32)
        .rev()
        .map(Action::Trace)
        .find(|a| !used.contains(&a.ret_value()))
        .expect("a policy cannot use all 65536 trace messages");

    let mut out: Vec<SockFilter> = Vec::new();

    // Prelude.
    let native = policy.native_arch().audit();
    let foreign = policy.foreign_audit_arches();
    out.push(stmt(LD_W_ABS, OFF_ARCH));
    out.push(jump(JEQ_K, native, (2 * foreign.len() + 1) as u8, 0));
    for audit in &foreign {
        out.push(jump(JEQ_K, *audit, 0, 1));
        out.push(stmt(RET_K, policy.foreign_action().ret_value()));
    }
    out.push(stmt(RET_K, policy.bad_arch_action().ret_value()));
    out.push(stmt(LD_W_ABS, OFF_NR));
    if policy.native_arch() == Arch::X86_64 {
        out.push(jump(JGE_K, X32_SYSCALL_BIT, 0, 1));
        out.push(stmt(RET_K, policy.x32_action().ret_value()));
    }

    // Layers.
    let depth = runs.values().map(Vec::len).max().unwrap_or(0);
    for layer in 0..depth {
        let mut by_action: Vec<(Action, BTreeMap<i64, Vec<SeccompRule>>)> = Vec::new();
        for (&nr, v) in &runs {
            let Some((action, conds)) = v.get(layer) else {
                continue;
            };
            let idx = match by_action.iter().position(|(a, _)| a == action) {
                Some(i) => i,
                None => {
                    by_action.push((*action, BTreeMap::new()));
                    by_action.len() - 1
                }
            };
            by_action[idx]
                .1
                .insert(nr.into(), conds.clone().unwrap_or_default());
        }
        for (action, rules) in by_action {
            let filter = SeccompFilter::new(
                rules,
                sentinel.to_seccompiler(),
                action.to_seccompiler(),
                arch,
            )
            .map_err(backend)?;
            let prog: BpfProgram = filter.try_into().map_err(backend)?;
            let n = prog.len();
            for (i, ins) in prog.into_iter().enumerate() {
                if ins.code == RET_K && ins.k == sentinel.ret_value() {
                    out.push(stmt(JA, (n - i - 1) as u32));
                } else {
                    out.push(SockFilter {
                        code: ins.code,
                        jt: ins.jt,
                        jf: ins.jf,
                        k: ins.k,
                    });
                }
            }
        }
    }
    out.push(stmt(RET_K, policy.default_action().ret_value()));
    if out.len() > MAX_INSNS {
        return Err(Error::TooLarge(out.len()));
    }
    Ok(out)
}
