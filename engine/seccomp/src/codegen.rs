//! The binary-search code generator.
//!
//! Layout of the program:
//!
//! ```text
//!   ld  arch
//!   jeq NATIVE            -> native
//!   jeq FOREIGN_i         -> ret(foreign)      (allowed extra arches without a table: the
//!                                              default, or ENOSYS if that would allow)
//!   ja                    -> ret(bad_arch)
//! native:
//!   ld  nr
//!   jge 0x40000000        -> ret(x32 action)   (x86_64 only)
//!   binary search: jge on the median number, leaves of <= LEAF jeq
//!                         -> ret(action) or an argument block; fall-through -> ret(default)
//! argument blocks (only for syscalls with conditions): rules in order, first match wins
//! one `ret` per distinct action value
//! ```

use hakoniwa_runtime::SockFilter;

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::*;
use crate::policy::{Action, ArgLen, CmpOp, Condition, Policy, SyscallRules};
use crate::Error;

/// Most `jeq` in one leaf of the search tree.
pub const LEAF: usize = 4;

struct Gen {
    asm: Asm,
    rets: Vec<(u32, Label)>,
}

impl Gen {
    fn ret(&mut self, action: Action) -> Label {
        self.ret_value(action.ret_value())
    }

    fn ret_value(&mut self, v: u32) -> Label {
        if let Some(&(_, l)) = self.rets.iter().find(|(r, _)| *r == v) {
            return l;
        }
        let l = self.asm.label();
        self.rets.push((v, l));
        l
    }

    /// Binary search over `entries` (sorted by number); the accumulator holds `nr`.
    fn tree(&mut self, entries: &[(u32, Label)], default: Label) {
        if entries.len() <= LEAF {
            if entries.is_empty() {
                self.asm.ja(default);
            }
            for (i, &(nr, target)) in entries.iter().enumerate() {
                if i + 1 == entries.len() {
                    self.asm.cond(JEQ_K, nr, target, default);
                } else {
                    let next = self.asm.label();
                    self.asm.cond(JEQ_K, nr, target, next);
                    self.asm.bind(next);
                }
            }
            return;
        }
        let mid = entries.len() / 2;
        let (left, right) = entries.split_at(mid);
        let (l, r) = (self.asm.label(), self.asm.label());
        self.asm.cond(JGE_K, right[0].0, r, l);
        self.asm.bind(l);
        self.tree(left, default);
        self.asm.bind(r);
        self.tree(right, default);
    }

    /// Emit one condition: fall through (or jump to `pass`) when it holds, else jump to
    /// `fail`. 64-bit comparisons test the high word first, then the low word.
    fn condition(&mut self, c: &Condition, pass: Label, fail: Label) {
        let (hi, lo) = ((c.value >> 32) as u32, c.value as u32);
        let a = &mut self.asm;
        if c.len == ArgLen::Qword {
            a.stmt(LD_W_ABS, off_arg_hi(c.arg));
            let low = a.label();
            match c.op {
                CmpOp::Eq => a.cond(JEQ_K, hi, low, fail),
                CmpOp::Ne => a.cond(JEQ_K, hi, low, pass),
                CmpOp::Gt | CmpOp::Ge => {
                    let eq = a.label();
                    a.cond(JGT_K, hi, pass, eq);
                    a.bind(eq);
                    a.cond(JEQ_K, hi, low, fail);
                }
                CmpOp::Lt | CmpOp::Le => {
                    let eq = a.label();
                    a.cond(JGT_K, hi, fail, eq);
                    a.bind(eq);
                    a.cond(JEQ_K, hi, low, pass);
                }
                CmpOp::MaskedEq(m) => {
                    let mhi = (m >> 32) as u32;
                    a.stmt(ALU_AND_K, mhi);
                    a.cond(JEQ_K, hi & mhi, low, fail);
                }
            }
            a.bind(low);
        }
        a.stmt(LD_W_ABS, off_arg_lo(c.arg));
        match c.op {
            CmpOp::Eq => a.cond(JEQ_K, lo, pass, fail),
            CmpOp::Ne => a.cond(JEQ_K, lo, fail, pass),
            CmpOp::Gt => a.cond(JGT_K, lo, pass, fail),
            CmpOp::Ge => a.cond(JGE_K, lo, pass, fail),
            CmpOp::Lt => a.cond(JGE_K, lo, fail, pass),
            CmpOp::Le => a.cond(JGT_K, lo, fail, pass),
            CmpOp::MaskedEq(m) => {
                let mlo = m as u32;
                a.stmt(ALU_AND_K, mlo);
                a.cond(JEQ_K, lo & mlo, pass, fail);
            }
        }
    }

    /// Argument block of one system call: rules in order, first match wins.
    fn block(&mut self, s: &SyscallRules, default: Label) {
        for rule in &s.rules {
            let target = self.ret(rule.action);
            if rule.conditions.is_empty() {
                self.asm.ja(target);
                return;
            }
            let fail = self.asm.label();
            let n = rule.conditions.len();
            for (i, c) in rule.conditions.iter().enumerate() {
                if i + 1 == n {
                    self.condition(c, target, fail);
                } else {
                    let next = self.asm.label();
                    self.condition(c, next, fail);
                    self.asm.bind(next);
                }
            }
            self.asm.bind(fail);
        }
        self.asm.ja(default);
    }
}

/// `SECCOMP_RET_USER_NOTIF`: hand the call to the filter's listener.
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;

/// Compile `policy` to one program.
pub fn compile(policy: &Policy) -> Result<Vec<SockFilter>, Error> {
    compile_inner(policy, None)
}

/// Compile `policy` to one program in which the native `exit_group` (whatever the policy
/// says about it) returns `SECCOMP_RET_USER_NOTIF`: the exit hook. The engine installs this
/// program with `SECCOMP_FILTER_FLAG_NEW_LISTENER` and answers the notification with
/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE` after reading the exiting program's peak memory, so
/// the program sees one filter whether or not its peak memory is measured.
pub fn compile_with_exit_hook(policy: &Policy) -> Result<Vec<SockFilter>, Error> {
    let nr = policy
        .native_arch()
        .syscall_nr("exit_group")
        .ok_or_else(|| Error::UnknownSyscall("exit_group".to_owned()))?;
    compile_inner(policy, Some(nr))
}

fn compile_inner(policy: &Policy, notify: Option<u32>) -> Result<Vec<SockFilter>, Error> {
    let mut g = Gen {
        asm: Asm::default(),
        rets: Vec::new(),
    };
    let default = g.ret(policy.default_action());
    let foreign = g.ret(policy.foreign_action());
    let bad_arch = g.ret(policy.bad_arch_action());

    // Architecture check.
    let native = g.asm.label();
    g.asm.stmt(LD_W_ABS, OFF_ARCH);
    for audit in std::iter::once(policy.native_arch().audit()).chain(policy.foreign_audit_arches())
    {
        let target = if audit == policy.native_arch().audit() {
            native
        } else {
            foreign
        };
        let next = g.asm.label();
        g.asm.cond(JEQ_K, audit, target, next);
        g.asm.bind(next);
    }
    g.asm.ja(bad_arch);

    // System call number.
    g.asm.bind(native);
    g.asm.stmt(LD_W_ABS, OFF_NR);
    if policy.native_arch() == Arch::X86_64 {
        let x32 = g.ret(policy.x32_action());
        let search = g.asm.label();
        g.asm.cond(JGE_K, X32_SYSCALL_BIT, x32, search);
        g.asm.bind(search);
    }

    // Leaves: unconditional syscalls go straight to their return, the others to a block.
    let mut entries = Vec::new();
    let mut blocks = Vec::new();
    for s in policy.syscalls() {
        if Some(s.nr) == notify {
            continue;
        }
        let first = &s.rules[0];
        let target = if first.conditions.is_empty() {
            g.ret(first.action)
        } else {
            let l = g.asm.label();
            blocks.push((l, s));
            l
        };
        entries.push((s.nr, target));
    }
    if let Some(nr) = notify {
        let target = g.ret_value(RET_USER_NOTIF);
        let at = entries.partition_point(|&(n, _)| n < nr);
        entries.insert(at, (nr, target));
    }
    g.tree(&entries, default);

    for (l, s) in blocks {
        g.asm.bind(l);
        g.block(s, default);
    }

    let rets = std::mem::take(&mut g.rets);
    for (v, l) in rets {
        g.asm.bind(l);
        g.asm.stmt(RET_K, v);
    }
    g.asm.assemble()
}
