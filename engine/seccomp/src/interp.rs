//! A classic-BPF interpreter for seccomp programs, used by the tests to compare programs.
//!
//! It implements the instructions seccomp programs built here use (loads from
//! `seccomp_data`, `and`/`or` with a constant, jumps, returns) and rejects anything else,
//! as well as misaligned or out-of-range loads and jumps past the end, as the kernel's
//! checker would.

use hakoniwa_runtime::SockFilter;

use crate::bpf::*;

/// The kernel's `struct seccomp_data`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeccompData {
    /// System call number.
    pub nr: i32,
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    /// Instruction pointer.
    pub instruction_pointer: u64,
    /// Arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// A native call on `arch` with the given number and arguments.
    pub fn new(arch: u32, nr: u32, args: [u64; 6]) -> Self {
        SeccompData {
            nr: nr as i32,
            arch,
            instruction_pointer: 0,
            args,
        }
    }

    fn word(&self, off: u32) -> Option<u32> {
        if off % 4 != 0 || off >= 64 {
            return None;
        }
        let mut bytes = [0u8; 64];
        bytes[0..4].copy_from_slice(&self.nr.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.arch.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.instruction_pointer.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            bytes[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        let o = off as usize;
        Some(u32::from_le_bytes(bytes[o..o + 4].try_into().ok()?))
    }
}

/// Why a program could not be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterpError {
    /// Unsupported opcode at this pc.
    BadOpcode(usize, u16),
    /// Load outside `seccomp_data` or misaligned.
    BadLoad(usize, u32),
    /// Ran past the end of the program.
    FellOff(usize),
}

/// Run `prog` on `data`; returns the `SECCOMP_RET_*` value.
pub fn run(prog: &[SockFilter], data: &SeccompData) -> Result<u32, InterpError> {
    exec(prog, data).map(|(r, _)| r)
}

fn exec(prog: &[SockFilter], data: &SeccompData) -> Result<(u32, usize), InterpError> {
    let mut a: u32 = 0;
    let mut pc = 0usize;
    let mut steps = 0usize;
    loop {
        steps += 1;
        let ins = *prog.get(pc).ok_or(InterpError::FellOff(pc))?;
        let next = pc + 1;
        pc = match ins.code {
            LD_W_ABS => {
                a = data.word(ins.k).ok_or(InterpError::BadLoad(pc, ins.k))?;
                next
            }
            LD_IMM => {
                a = ins.k;
                next
            }
            ALU_AND_K => {
                a &= ins.k;
                next
            }
            ALU_OR_K => {
                a |= ins.k;
                next
            }
            JA => next + ins.k as usize,
            JEQ_K | JGT_K | JGE_K | JSET_K => {
                let taken = match ins.code {
                    JEQ_K => a == ins.k,
                    JGT_K => a > ins.k,
                    JGE_K => a >= ins.k,
                    _ => a & ins.k != 0,
                };
                next + if taken { ins.jt } else { ins.jf } as usize
            }
            RET_K => return Ok((ins.k, steps)),
            RET_A => return Ok((a, steps)),
            code => return Err(InterpError::BadOpcode(pc, code)),
        };
    }
}

/// Number of instructions executed for `data` (the path length), for reports.
pub fn path_len(prog: &[SockFilter], data: &SeccompData) -> Result<usize, InterpError> {
    exec(prog, data).map(|(_, n)| n)
}
