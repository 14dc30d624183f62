//! The code generator: a binary search over the intervals of system call numbers.
//!
//! The policy splits the number line `[0, 2^32)` into intervals `[lo, hi)` with one target
//! each: a return value (the default action between listed system calls, one action for a
//! run of consecutive numbers with the same unconditional action, the x32 action for numbers
//! `>= 0x40000000` on x86_64, `SECCOMP_RET_USER_NOTIF` for the exit hook's `exit_group`) or
//! the argument block of one system call (`argblock.rs`). Neighbouring intervals with
//! the same return value are merged, and a single number between two intervals with the
//! same return value becomes an exception of the first (`X y X` is one interval `X` with a
//! `jeq y`), so the default profile (356 listed system calls) is 34 intervals (66 before
//! the folding), 16 of them with an exception.
//!
//! Layout of the program:
//!
//! ```text
//!   ld  arch
//!   jeq NATIVE            -> native
//!   jeq FOREIGN_i         -> ret(foreign)      (allowed extra arches without a table: the
//!                             else ret(bad_arch) default, or ENOSYS if that would allow)
//! native:
//!   ld  nr
//!   jge on the first number of the median interval, for both halves in turn, down to one
//!   interval; comparisons that decide an interval with a plain return value jump straight
//!   to its `ret`; an interval with an argument block gets the block placed right there
//!   (rules in order, first match wins); an exception is a `jeq` in front of its interval
//!   rets of this part (one per distinct value)
//! ```
//!
//! `ret` instructions are pooled: each subtree small enough that every jump inside it
//! reaches its end (at most [`POOL_SPAN`] instructions, estimated beforehand) ends with one
//! `ret` per distinct value it uses. When the whole program fits in one span (the default
//! profile does: 109 instructions, 175 with the set-id rules) the arch check shares that
//! pool too and no jump needs a trampoline; larger programs get one pool per subtree that
//! fits and the assembler adds `ja` trampolines for the few jumps above them.
//!
//! The search halves the number of intervals at each level (not weighted by how many
//! numbers an interval holds), so the longest path before a leaf is `ceil(log2(intervals))`
//! comparisons after the three instructions of the arch check and the number load.

use std::collections::HashMap;

use hakoniwa_runtime::SockFilter;

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::argblock::Block;
use crate::bpf::*;
use crate::policy::Policy;
use crate::Error;

/// Longest stretch of code, in instructions, that ends with one shared pool of `ret`s (a
/// conditional jump reaches at most 255 instructions ahead; the rest is slack for the size
/// estimates).
pub const POOL_SPAN: usize = 240;

/// What the accumulator is known to hold: `word(offset) & mask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acc {
    /// Not known (several paths meet with different values).
    Unknown,
    /// A 32-bit word of `seccomp_data`, ANDed with a mask (`u32::MAX`: the word itself).
    Word(u32, u32),
}

/// The assembler plus what the generator tracks while emitting: the open `ret` pools and
/// the accumulator's content at each point (so argument checks skip redundant loads).
pub(crate) struct Gen {
    asm: Asm,
    pools: Vec<Vec<(u32, Label)>>,
    acc: Acc,
    incoming: HashMap<Label, Acc>,
}

impl Gen {
    fn new() -> Self {
        Gen {
            asm: Asm::default(),
            pools: Vec::new(),
            acc: Acc::Unknown,
            incoming: HashMap::new(),
        }
    }

    /// The label of `ret v` in the innermost open pool.
    pub(crate) fn ret(&mut self, v: u32) -> Label {
        let pool = self.pools.last_mut().expect("a ret pool is open");
        if let Some(&(_, l)) = pool.iter().find(|(r, _)| *r == v) {
            return l;
        }
        let l = self.asm.label();
        pool.push((v, l));
        l
    }

    /// Emit what `f` emits, followed by the `ret`s it asked for.
    fn with_pool(&mut self, f: impl FnOnce(&mut Self)) {
        self.pools.push(Vec::new());
        f(self);
        let pool = self.pools.pop().expect("pushed above");
        for (v, l) in pool {
            self.bind(l);
            self.asm.stmt(RET_K, v);
        }
    }

    /// With `own`, emit what `f` emits followed by its own pool; otherwise in the pool
    /// that is open.
    fn with_pool_if(&mut self, own: bool, f: impl FnOnce(&mut Self)) {
        if own {
            self.with_pool(f)
        } else {
            f(self)
        }
    }

    /// A fresh label.
    pub(crate) fn label(&mut self) -> Label {
        self.asm.label()
    }

    /// Note an edge to `l`: what the accumulator holds there is what all its edges agree on.
    fn arrive(&mut self, l: Label) {
        let acc = self.acc;
        self.incoming
            .entry(l)
            .and_modify(|a| {
                if *a != acc {
                    *a = Acc::Unknown
                }
            })
            .or_insert(acc);
    }

    /// Bind `l` here. Every jump is forward and every instruction before ends in a jump or
    /// a return, so the accumulator holds what all jumps to `l` agree on.
    pub(crate) fn bind(&mut self, l: Label) {
        self.acc = self.incoming.remove(&l).unwrap_or(Acc::Unknown);
        self.asm.bind(l);
    }

    /// The accumulator's known content.
    pub(crate) fn acc(&self) -> Acc {
        self.acc
    }

    /// `ld [off]`.
    pub(crate) fn load(&mut self, off: u32) {
        self.asm.stmt(LD_W_ABS, off);
        self.acc = Acc::Word(off, u32::MAX);
    }

    /// `and mask`.
    pub(crate) fn and(&mut self, mask: u32) {
        self.asm.stmt(ALU_AND_K, mask);
        if let Acc::Word(off, m) = self.acc {
            self.acc = Acc::Word(off, m & mask);
        }
    }

    /// A conditional jump (the accumulator is unchanged on both edges).
    pub(crate) fn cond(&mut self, code: u16, k: u32, jt: Label, jf: Label) {
        self.arrive(jt);
        self.arrive(jf);
        self.asm.cond(code, k, jt, jf);
    }

    /// An unconditional jump.
    pub(crate) fn ja(&mut self, l: Label) {
        self.arrive(l);
        self.asm.ja(l);
    }
}

/// Where numbers go: a return value, or an argument block with its size in instructions
/// (for the pool estimates).
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Ret(u32),
    Block(Block, usize),
}

impl Target {
    fn new(b: Block) -> Target {
        match b.constant() {
            Some(v) => Target::Ret(v),
            None => {
                let mut g = Gen::new();
                g.with_pool(|g| b.emit(g));
                // Its own `ret`s included: an overestimate inside a pool.
                let size = g.asm.len();
                Target::Block(b, size)
            }
        }
    }

    /// Instructions it takes; adds the values it returns to `values`.
    fn cost(&self, values: &mut Vec<u32>) -> usize {
        match self {
            Target::Ret(v) => {
                values.push(*v);
                0
            }
            Target::Block(b, size) => {
                values.extend(b.values());
                *size
            }
        }
    }

    /// Where a comparison jumps to reach it: the pool's `ret`, or a fresh label (then
    /// `true`: [`Target::emit`] must follow at that label).
    fn entry(&self, g: &mut Gen) -> (Label, bool) {
        match self {
            Target::Ret(v) => (g.ret(*v), false),
            Target::Block(..) => (g.label(), true),
        }
    }

    fn emit(&self, g: &mut Gen) {
        match self {
            Target::Ret(v) => {
                let l = g.ret(*v);
                g.ja(l);
            }
            Target::Block(b, _) => b.emit(g),
        }
    }
}

/// An interval `[lo, next interval's lo)`. Its numbers go to `target`, except the one in
/// `except` (a single number between two parts with the same return value: one `jeq`
/// instead of three intervals and two comparisons).
#[derive(Clone, Debug)]
struct Interval {
    lo: u32,
    target: Target,
    except: Option<(u32, Target)>,
}

/// The policy's intervals, sorted, covering `[0, 2^32)`, neighbours with the same return
/// value merged. With `notify`, that number returns `SECCOMP_RET_USER_NOTIF`.
fn intervals(policy: &Policy, notify: Option<u32>) -> Vec<Interval> {
    let default = policy.default_action().ret_value();
    let mut out: Vec<Interval> = Vec::new();
    let mut push = |lo: u32, target: Target| {
        if let (Some(last), Target::Ret(v)) = (out.last(), &target) {
            if last.target == Target::Ret(*v) {
                return;
            }
        }
        out.push(Interval {
            lo,
            target,
            except: None,
        });
    };
    let mut next = 0u32;
    let mut listed: Vec<(u32, Target)> = policy
        .syscalls()
        .filter(|s| Some(s.nr) != notify)
        .map(|s| (s.nr, Target::new(Block::new(&s.rules, default))))
        .collect();
    if let Some(nr) = notify {
        let at = listed.partition_point(|&(n, _)| n < nr);
        listed.insert(at, (nr, Target::Ret(RET_USER_NOTIF)));
    }
    for (nr, target) in listed {
        if nr > next {
            push(next, Target::Ret(default));
        }
        push(nr, target);
        next = nr + 1;
    }
    // Numbers are below X32_SYSCALL_BIT (`Policy::rule_nr` refuses the others).
    let end = if policy.native_arch() == Arch::X86_64 {
        X32_SYSCALL_BIT
    } else {
        u32::MAX
    };
    if next < end {
        push(next, Target::Ret(default));
    }
    if policy.native_arch() == Arch::X86_64 {
        push(
            X32_SYSCALL_BIT,
            Target::Ret(policy.x32_action().ret_value()),
        );
    }
    islands(out)
}

/// Fold every single number between two intervals with the same return value into the
/// first of them, as its exception.
fn islands(items: Vec<Interval>) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::with_capacity(items.len());
    let mut rest = items.into_iter().peekable();
    while let Some(i) = rest.next() {
        let fold = match (out.last(), rest.peek()) {
            (Some(prev), Some(after)) => {
                prev.except.is_none()
                    && matches!(prev.target, Target::Ret(_))
                    && after.lo == i.lo.wrapping_add(1)
                    && after.target == prev.target
            }
            _ => false,
        };
        if fold {
            out.last_mut().expect("matched above").except = Some((i.lo, i.target));
            rest.next();
        } else {
            out.push(i);
        }
    }
    out
}

/// Estimated size of the search over `items` with its pool: one `jge` per split, one
/// `jeq` per exception, the blocks, one `ret` per distinct value.
fn estimate(items: &[Interval]) -> usize {
    let mut values: Vec<u32> = Vec::new();
    let mut n = items.len() - 1;
    for i in items {
        n += i.target.cost(&mut values);
        if let Some((_, t)) = &i.except {
            n += 1 + t.cost(&mut values);
        }
    }
    values.sort_unstable();
    values.dedup();
    n + values.len()
}

impl Gen {
    /// Binary search over `items` (sorted); the accumulator holds the number.
    fn search(&mut self, items: &[Interval]) {
        if let [Interval {
            target: Target::Ret(v),
            except: None,
            ..
        }] = items
        {
            if self.pools.is_empty() {
                self.asm.stmt(RET_K, *v);
                return;
            }
        }
        if self.pools.is_empty() && (items.len() == 1 || estimate(items) <= POOL_SPAN) {
            self.with_pool(|g| g.search(items));
            return;
        }
        if let [one] = items {
            self.leaf(one);
            return;
        }
        let (left, right) = items.split_at(items.len() / 2);
        let side = |g: &mut Self, part: &[Interval]| match part {
            [Interval {
                target: Target::Ret(v),
                except: None,
                ..
            }] if !g.pools.is_empty() => (g.ret(*v), false),
            _ => (g.label(), true),
        };
        let (l, l_code) = side(self, left);
        let (r, r_code) = side(self, right);
        self.cond(JGE_K, right[0].lo, r, l);
        if l_code {
            self.bind(l);
            self.search(left);
        }
        if r_code {
            self.bind(r);
            self.search(right);
        }
    }

    /// One interval (a pool is open).
    fn leaf(&mut self, i: &Interval) {
        let Some((nr, inner)) = &i.except else {
            i.target.emit(self);
            return;
        };
        let (t, t_code) = inner.entry(self);
        let (f, f_code) = i.target.entry(self);
        self.cond(JEQ_K, *nr, t, f);
        if t_code {
            self.bind(t);
            inner.emit(self);
        }
        if f_code {
            self.bind(f);
            i.target.emit(self);
        }
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
    let items = intervals(policy, notify);
    let foreign = policy.foreign_audit_arches();
    // The arch check: two loads, one `jeq` per arch, at most two `ret`s.
    let header = 5 + foreign.len();
    let one_pool = header + estimate(&items) <= POOL_SPAN;
    let mut g = Gen::new();
    let program = |g: &mut Gen| {
        let native = g.label();
        g.with_pool_if(!one_pool, |g| {
            // Architecture check.
            g.load(OFF_ARCH);
            let audit = policy.native_arch().audit();
            let arches: Vec<u32> = std::iter::once(audit)
                .chain(foreign.iter().copied())
                .collect();
            for (i, &arch) in arches.iter().enumerate() {
                let target = if arch == audit {
                    native
                } else {
                    g.ret(policy.foreign_action().ret_value())
                };
                let next = if i + 1 == arches.len() {
                    g.ret(policy.bad_arch_action().ret_value())
                } else {
                    g.label()
                };
                g.cond(JEQ_K, arch, target, next);
                if i + 1 < arches.len() {
                    g.bind(next);
                }
            }
        });
        // System call number.
        g.bind(native);
        g.load(OFF_NR);
        g.search(&items);
    };
    g.with_pool_if(one_pool, program);
    g.asm.assemble()
}
