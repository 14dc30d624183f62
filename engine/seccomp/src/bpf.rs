//! Classic-BPF opcodes and a small assembler with labels and long-jump relaxation.

use hakoniwa_runtime::SockFilter;

use crate::Error;

/// `BPF_LD | BPF_W | BPF_ABS`
pub const LD_W_ABS: u16 = 0x20;
/// `BPF_LD | BPF_IMM`
pub const LD_IMM: u16 = 0x00;
/// `BPF_ALU | BPF_AND | BPF_K`
pub const ALU_AND_K: u16 = 0x54;
/// `BPF_ALU | BPF_OR | BPF_K`
pub const ALU_OR_K: u16 = 0x44;
/// `BPF_JMP | BPF_JA`
pub const JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`
pub const JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGT | BPF_K`
pub const JGT_K: u16 = 0x25;
/// `BPF_JMP | BPF_JGE | BPF_K`
pub const JGE_K: u16 = 0x35;
/// `BPF_JMP | BPF_JSET | BPF_K`
pub const JSET_K: u16 = 0x45;
/// `BPF_RET | BPF_K`
pub const RET_K: u16 = 0x06;
/// `BPF_RET | BPF_A`
pub const RET_A: u16 = 0x16;

/// `BPF_MAXINSNS`: the kernel's limit on program length.
pub const MAX_INSNS: usize = 4096;

/// Offset of `seccomp_data.nr`.
pub const OFF_NR: u32 = 0;
/// Offset of `seccomp_data.arch`.
pub const OFF_ARCH: u32 = 4;
/// Offset of the low word of argument `i` (little endian).
pub const fn off_arg_lo(i: u8) -> u32 {
    16 + 8 * i as u32
}
/// Offset of the high word of argument `i` (little endian).
pub const fn off_arg_hi(i: u8) -> u32 {
    off_arg_lo(i) + 4
}

/// A statement (no jump).
pub const fn stmt(code: u16, k: u32) -> SockFilter {
    SockFilter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A jump with raw offsets.
pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// A jump target, resolved at assembly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(usize);

enum Item {
    Stmt(SockFilter),
    Cond {
        code: u16,
        k: u32,
        jt: Label,
        jf: Label,
    },
    Ja(Label),
    Bind(Label),
}

/// Collects instructions with symbolic forward jumps.
///
/// Conditional jumps have 8-bit offsets. [`Asm::assemble`] lays the program out and, for
/// every conditional branch whose target is more than 255 instructions away, inserts a
/// `JA` (32-bit offset) right after the jump and points the branch at it. Insertions only
/// lengthen distances, so the layout is repeated until nothing changes.
#[derive(Default)]
pub struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    /// A fresh, unbound label.
    pub fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    /// Bind `l` to the next instruction.
    pub fn bind(&mut self, l: Label) {
        self.items.push(Item::Bind(l));
    }

    /// Emit a statement.
    pub fn stmt(&mut self, code: u16, k: u32) {
        self.items.push(Item::Stmt(stmt(code, k)));
    }

    /// Emit a conditional jump.
    pub fn cond(&mut self, code: u16, k: u32, jt: Label, jf: Label) {
        self.items.push(Item::Cond { code, k, jt, jf });
    }

    /// Emit an unconditional jump.
    pub fn ja(&mut self, l: Label) {
        self.items.push(Item::Ja(l));
    }

    /// Instructions emitted so far, not counting long-jump trampolines.
    pub fn len(&self) -> usize {
        self.items
            .iter()
            .filter(|i| !matches!(i, Item::Bind(_)))
            .count()
    }

    /// Whether nothing was emitted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolve labels and produce the program.
    pub fn assemble(self) -> Result<Vec<SockFilter>, Error> {
        // (far_t, far_f) for every item (only meaningful for Cond).
        let mut far = vec![(false, false); self.items.len()];
        let mut at = vec![usize::MAX; self.labels];
        loop {
            let mut pos = 0usize;
            for (i, item) in self.items.iter().enumerate() {
                match item {
                    Item::Bind(l) => at[l.0] = pos,
                    Item::Stmt(_) | Item::Ja(_) => pos += 1,
                    Item::Cond { .. } => pos += 1 + far[i].0 as usize + far[i].1 as usize,
                }
            }
            let mut changed = false;
            let mut pos = 0usize;
            let laid_out = far.clone();
            for (i, item) in self.items.iter().enumerate() {
                match item {
                    Item::Bind(_) => {}
                    Item::Stmt(_) | Item::Ja(_) => pos += 1,
                    Item::Cond { jt, jf, .. } => {
                        let too_far = |target: &Label| {
                            let t = at[target.0];
                            assert!(
                                t != usize::MAX && t > pos,
                                "BPF jumps must go forward: label {} at {t}, jump at {pos}",
                                target.0
                            );
                            t - (pos + 1) > u8::MAX as usize
                        };
                        let (ft, ff) = (too_far(jt), too_far(jf));
                        if (ft && !far[i].0) || (ff && !far[i].1) {
                            far[i] = (far[i].0 || ft, far[i].1 || ff);
                            changed = true;
                        }
                        pos += 1 + laid_out[i].0 as usize + laid_out[i].1 as usize;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut out = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            match *item {
                Item::Bind(_) => {}
                Item::Stmt(s) => out.push(s),
                Item::Ja(l) => {
                    let off = at[l.0] - (out.len() + 1);
                    out.push(stmt(JA, off as u32));
                }
                Item::Cond { code, k, jt, jf } => {
                    let pc = out.len();
                    let (far_t, far_f) = far[i];
                    let mut tramp = Vec::new();
                    let mut off = |target: Label, is_far: bool| -> u8 {
                        if is_far {
                            tramp.push(target);
                            (tramp.len() - 1) as u8
                        } else {
                            (at[target.0] - (pc + 1)) as u8
                        }
                    };
                    let t = off(jt, far_t);
                    let f = off(jf, far_f);
                    out.push(jump(code, k, t, f));
                    for target in tramp {
                        let off = at[target.0] - (out.len() + 1);
                        out.push(stmt(JA, off as u32));
                    }
                }
            }
        }
        if out.len() > MAX_INSNS {
            return Err(Error::TooLarge(out.len()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_branches_get_trampolines() {
        let mut a = Asm::default();
        let far = a.label();
        let near = a.label();
        a.stmt(LD_W_ABS, OFF_NR);
        a.cond(JEQ_K, 7, far, near);
        a.bind(near);
        for _ in 0..300 {
            a.stmt(LD_W_ABS, OFF_NR);
        }
        a.stmt(RET_K, 1);
        a.bind(far);
        a.stmt(RET_K, 2);
        let p = a.assemble().unwrap();
        assert_eq!(p[1], jump(JEQ_K, 7, 0, 1));
        assert_eq!(p[2], stmt(JA, 301));
        assert_eq!(p.len(), 2 + 1 + 300 + 2);
        assert_eq!(p[2 + 1 + 301], stmt(RET_K, 2));
    }

    #[test]
    fn too_large_is_an_error() {
        let mut a = Asm::default();
        for _ in 0..=MAX_INSNS {
            a.stmt(RET_K, 0);
        }
        assert!(matches!(a.assemble(), Err(Error::TooLarge(4097))));
    }
}
