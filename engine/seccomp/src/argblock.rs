//! The argument block of one system call: its rules in order, first match wins.
//!
//! Each rule's conditions are AND-ed; a rule that matches jumps to the `ret` of its action
//! (in the pool the code generator keeps open, see [`crate::codegen`]), one that does not
//! falls to the next rule, and the last one that fails jumps to the value left over (the
//! default action, or the action of a final unconditional rule).
//!
//! Before emitting, the rules are reduced without changing any decision: conditions that
//! always hold (a mask of 0, `>= 0`, `<= MAX`) are dropped, so are rules after the first
//! unconditional one, rules with a condition that never holds (`< 0`, `> MAX`), and rules
//! at the end whose action is the value left over anyway. A block left with no rule is a
//! plain return value.
//!
//! 64-bit comparisons test the high word first, then the low word. The generator tracks
//! what the accumulator holds, so a word that is already loaded (and masked) for the next
//! comparison is not loaded again (the terminal ioctl checks compare the same argument nine
//! times); a masked comparison with a one-bit mask is a `jset`, with an all-ones mask a
//! plain `jeq`.

use crate::bpf::*;
use crate::codegen::{Acc, Gen};
use crate::policy::{ArgLen, CmpOp, Condition, Rule};

/// One reduced rule: AND-ed conditions and the value returned when they hold.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BlockRule {
    conditions: Vec<Condition>,
    value: u32,
}

/// The reduced rules of one system call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    rules: Vec<BlockRule>,
    otherwise: u32,
}

/// `Some(true)` when `c` holds for every argument, `Some(false)` when for none.
fn constant(c: &Condition) -> Option<bool> {
    let max = match c.len {
        ArgLen::Qword => u64::MAX,
        ArgLen::Dword => u32::MAX.into(),
    };
    let v = c.value & max;
    match c.op {
        CmpOp::MaskedEq(m) if m & max == 0 => Some(true),
        CmpOp::Ge if v == 0 => Some(true),
        CmpOp::Le if v == max => Some(true),
        CmpOp::Lt if v == 0 => Some(false),
        CmpOp::Gt if v == max => Some(false),
        _ => None,
    }
}

impl Block {
    /// Reduce `rules` (see the module docs); `default` is what a call no rule matches gets.
    pub(crate) fn new(rules: &[Rule], default: u32) -> Block {
        let mut out = Vec::new();
        let mut otherwise = default;
        'rules: for r in rules {
            let mut conditions = Vec::new();
            for c in &r.conditions {
                match constant(c) {
                    Some(true) => {}
                    Some(false) => continue 'rules,
                    None => conditions.push(*c),
                }
            }
            if conditions.is_empty() {
                otherwise = r.action.ret_value();
                break;
            }
            out.push(BlockRule {
                conditions,
                value: r.action.ret_value(),
            });
        }
        while out.last().is_some_and(|r| r.value == otherwise) {
            out.pop();
        }
        Block {
            rules: out,
            otherwise,
        }
    }

    /// The return value when no rule is left to check.
    pub(crate) fn constant(&self) -> Option<u32> {
        self.rules.is_empty().then_some(self.otherwise)
    }

    /// Every value the block can return.
    pub(crate) fn values(&self) -> impl Iterator<Item = u32> + '_ {
        self.rules
            .iter()
            .map(|r| r.value)
            .chain(std::iter::once(self.otherwise))
    }

    /// Emit the block; it ends in jumps to `ret`s of the open pool.
    pub(crate) fn emit(&self, g: &mut Gen) {
        for (i, rule) in self.rules.iter().enumerate() {
            let pass = g.ret(rule.value);
            let fail = if i + 1 == self.rules.len() {
                g.ret(self.otherwise)
            } else {
                g.label()
            };
            let n = rule.conditions.len();
            for (j, c) in rule.conditions.iter().enumerate() {
                if j + 1 == n {
                    condition(g, c, pass, fail);
                } else {
                    let next = g.label();
                    condition(g, c, next, fail);
                    g.bind(next);
                }
            }
            if i + 1 < self.rules.len() {
                g.bind(fail);
            }
        }
        if self.rules.is_empty() {
            let l = g.ret(self.otherwise);
            g.ja(l);
        }
    }
}

/// Make the accumulator hold `word(off) & mask`, reusing what it holds when it can.
fn fetch(g: &mut Gen, off: u32, mask: u32) {
    match g.acc() {
        Acc::Word(o, m) if o == off && m == mask => {}
        Acc::Word(o, m) if o == off && m & mask == mask => g.and(mask),
        _ => {
            g.load(off);
            if mask != u32::MAX {
                g.and(mask);
            }
        }
    }
}

/// Jump to `pass` when `word(off) & mask == value & mask`, else to `fail`.
fn masked_eq(g: &mut Gen, off: u32, mask: u32, value: u32, pass: Label, fail: Label) {
    if mask.count_ones() == 1 {
        // One bit: test it in place if the accumulator holds it unmasked.
        match g.acc() {
            Acc::Word(o, m) if o == off && m & mask == mask => {}
            _ => g.load(off),
        }
        if value & mask != 0 {
            g.cond(JSET_K, mask, pass, fail);
        } else {
            g.cond(JSET_K, mask, fail, pass);
        }
    } else {
        fetch(g, off, mask);
        g.cond(JEQ_K, value & mask, pass, fail);
    }
}

/// Emit one condition: jump to `pass` when it holds, else to `fail`.
fn condition(g: &mut Gen, c: &Condition, pass: Label, fail: Label) {
    let (hi, lo) = ((c.value >> 32) as u32, c.value as u32);
    let (off_hi, off_lo) = (off_arg_hi(c.arg), off_arg_lo(c.arg));
    if c.len == ArgLen::Qword {
        let low = g.label();
        match c.op {
            CmpOp::MaskedEq(m) if m >> 32 == 0 => {
                // The high word is not compared.
                masked_eq(g, off_lo, m as u32, lo, pass, fail);
                return;
            }
            CmpOp::MaskedEq(m) if m as u32 == 0 => {
                masked_eq(g, off_hi, (m >> 32) as u32, hi, pass, fail);
                return;
            }
            CmpOp::MaskedEq(m) => masked_eq(g, off_hi, (m >> 32) as u32, hi, low, fail),
            CmpOp::Eq => {
                fetch(g, off_hi, u32::MAX);
                g.cond(JEQ_K, hi, low, fail);
            }
            CmpOp::Ne => {
                fetch(g, off_hi, u32::MAX);
                g.cond(JEQ_K, hi, low, pass);
            }
            CmpOp::Gt | CmpOp::Ge | CmpOp::Lt | CmpOp::Le => {
                // A high word above (below) the constant's decides; an equal one leaves it
                // to the low word.
                let (above, below) = if matches!(c.op, CmpOp::Gt | CmpOp::Ge) {
                    (pass, fail)
                } else {
                    (fail, pass)
                };
                fetch(g, off_hi, u32::MAX);
                let eq = g.label();
                g.cond(JGT_K, hi, above, eq);
                g.bind(eq);
                g.cond(JEQ_K, hi, low, below);
            }
        }
        g.bind(low);
    }
    match c.op {
        CmpOp::MaskedEq(m) => masked_eq(g, off_lo, m as u32, lo, pass, fail),
        op => {
            fetch(g, off_lo, u32::MAX);
            match op {
                CmpOp::Eq => g.cond(JEQ_K, lo, pass, fail),
                CmpOp::Ne => g.cond(JEQ_K, lo, fail, pass),
                CmpOp::Gt => g.cond(JGT_K, lo, pass, fail),
                CmpOp::Ge => g.cond(JGE_K, lo, pass, fail),
                CmpOp::Lt => g.cond(JGE_K, lo, fail, pass),
                CmpOp::Le => g.cond(JGT_K, lo, fail, pass),
                CmpOp::MaskedEq(_) => unreachable!("handled above"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Action, Policy};

    fn block(rules: Vec<(Vec<Condition>, Action)>) -> Block {
        let mut p = Policy::new(Action::Errno(1));
        for (conditions, action) in rules {
            p.rule("read", conditions, action).unwrap();
        }
        let s = p.syscalls().next().unwrap();
        Block::new(&s.rules, Action::Errno(1).ret_value())
    }

    #[test]
    fn rules_that_cannot_change_the_decision_leave_a_plain_return_value() {
        let q = Condition::qword;
        let d = Condition::dword;
        let allow = Action::Allow.ret_value();
        // `>= 0` always holds: the rule is unconditional.
        assert_eq!(
            block(vec![(vec![q(0, CmpOp::Ge, 0)], Action::Allow)]).constant(),
            Some(allow)
        );
        // A zero mask always holds; `< 0` never does; a rule before the last one that
        // returns what the last returns changes nothing.
        assert_eq!(
            block(vec![
                (vec![d(1, CmpOp::Lt, 0)], Action::KillProcess),
                (vec![q(2, CmpOp::Eq, 7)], Action::Allow),
                (vec![q(3, CmpOp::MaskedEq(0), 5)], Action::Allow),
            ])
            .constant(),
            Some(allow)
        );
        // A last rule returning the default returns what falling through returns.
        assert_eq!(
            block(vec![(vec![q(2, CmpOp::Eq, 7)], Action::Errno(1))]).constant(),
            Some(Action::Errno(1).ret_value())
        );
        // A rule that can change the decision stays.
        assert_eq!(
            block(vec![(vec![q(0, CmpOp::Gt, 0)], Action::Allow)]).constant(),
            None
        );
    }

    #[test]
    fn the_terminal_checks_load_the_request_once_and_test_it_without_masking_it_first() {
        let mut p = Policy::new(Action::Allow);
        crate::terminal::deny_terminal_ioctls(&mut p, false).unwrap();
        let prog = p.compile().unwrap().instructions;
        let loads = prog
            .iter()
            .filter(|i| i.code == LD_W_ABS && i.k == off_arg_lo(1))
            .count();
        assert_eq!(loads, 1, "{prog:?}");
        // One `and` for the two ranges (`KD*`, `VT_*`) share, none for the single requests.
        assert_eq!(prog.iter().filter(|i| i.code == ALU_AND_K).count(), 1);
    }
}
