//! The policy model: actions, argument conditions, per-syscall rule lists.
//!
//! Conditions are validated with seccompiler's own types ([`SeccompCondition`],
//! [`SeccompRule`]) when a rule is added, and the validated seccompiler rule is kept so the
//! reference program ([`Policy::compile_linear_seccompiler`]) is built from exactly what the
//! user gave.

use std::collections::BTreeMap;

use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule};

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::interp::SeccompData;
use crate::Error;

/// `SECCOMP_RET_*` values.
pub mod ret {
    /// Kill the whole process.
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    /// Kill the calling thread.
    pub const KILL_THREAD: u32 = 0x0000_0000;
    /// Send SIGSYS.
    pub const TRAP: u32 = 0x0003_0000;
    /// Return an errno (low 16 bits).
    pub const ERRNO: u32 = 0x0005_0000;
    /// Notify a ptrace tracer (low 16 bits are the message).
    pub const TRACE: u32 = 0x7ff0_0000;
    /// Allow after logging.
    pub const LOG: u32 = 0x7ffc_0000;
    /// Allow.
    pub const ALLOW: u32 = 0x7fff_0000;
    /// The data part of a return value.
    pub const DATA: u32 = 0x0000_ffff;
}

/// `ENOSYS`: what x32 system calls get when x32 is not an allowed architecture.
pub const ENOSYS: u32 = 38;

/// What the kernel does with a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `SECCOMP_RET_ALLOW`.
    Allow,
    /// `SECCOMP_RET_ERRNO`: fail with this errno (at most 0xffff; the kernel caps it at 4095).
    Errno(u32),
    /// `SECCOMP_RET_KILL_PROCESS`.
    KillProcess,
    /// `SECCOMP_RET_KILL_THREAD`.
    KillThread,
    /// `SECCOMP_RET_LOG`: allow and log.
    Log,
    /// `SECCOMP_RET_TRAP`: SIGSYS.
    Trap,
    /// `SECCOMP_RET_TRACE` with a message for the tracer.
    Trace(u32),
}

impl Action {
    /// The 32-bit `SECCOMP_RET_*` value the filter returns.
    pub fn ret_value(self) -> u32 {
        match self {
            Action::Allow => ret::ALLOW,
            Action::Errno(e) => ret::ERRNO | (e & ret::DATA),
            Action::KillProcess => ret::KILL_PROCESS,
            Action::KillThread => ret::KILL_THREAD,
            Action::Log => ret::LOG,
            Action::Trap => ret::TRAP,
            Action::Trace(m) => ret::TRACE | (m & ret::DATA),
        }
    }

    /// Decode a `SECCOMP_RET_*` value (for reports and test messages).
    pub fn from_ret_value(v: u32) -> Option<Action> {
        Some(match v & !ret::DATA {
            ret::ALLOW if v == ret::ALLOW => Action::Allow,
            ret::ERRNO => Action::Errno(v & ret::DATA),
            ret::KILL_PROCESS if v == ret::KILL_PROCESS => Action::KillProcess,
            ret::KILL_THREAD if v == ret::KILL_THREAD => Action::KillThread,
            ret::LOG if v == ret::LOG => Action::Log,
            ret::TRAP if v == ret::TRAP => Action::Trap,
            ret::TRACE => Action::Trace(v & ret::DATA),
            _ => return None,
        })
    }

    pub(crate) fn to_seccompiler(self) -> SeccompAction {
        match self {
            Action::Allow => SeccompAction::Allow,
            Action::Errno(e) => SeccompAction::Errno(e),
            Action::KillProcess => SeccompAction::KillProcess,
            Action::KillThread => SeccompAction::KillThread,
            Action::Log => SeccompAction::Log,
            Action::Trap => SeccompAction::Trap,
            Action::Trace(m) => SeccompAction::Trace(m),
        }
    }

    fn validate(self) -> Result<(), String> {
        match self {
            Action::Errno(v) | Action::Trace(v) if v > ret::DATA => {
                Err(format!("{self:?}: the data must fit in 16 bits"))
            }
            _ => Ok(()),
        }
    }
}

/// Comparison of a system call argument with a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `arg == value`
    Eq,
    /// `arg != value`
    Ne,
    /// `arg < value` (unsigned)
    Lt,
    /// `arg <= value` (unsigned)
    Le,
    /// `arg > value` (unsigned)
    Gt,
    /// `arg >= value` (unsigned)
    Ge,
    /// `arg & mask == value & mask`
    MaskedEq(u64),
}

/// How much of the 64-bit argument slot is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgLen {
    /// The low 32-bit word only (for `int` arguments: the high word is not defined).
    Dword,
    /// All 64 bits (compared as high word, then low word).
    Qword,
}

/// One argument comparison. The conditions of a rule are AND-ed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Condition {
    /// Argument index, 0..=5.
    pub arg: u8,
    /// Comparison.
    pub op: CmpOp,
    /// Constant compared with.
    pub value: u64,
    /// Compared width.
    pub len: ArgLen,
}

impl Condition {
    /// A 64-bit comparison.
    pub fn qword(arg: u8, op: CmpOp, value: u64) -> Self {
        Condition {
            arg,
            op,
            value,
            len: ArgLen::Qword,
        }
    }

    /// A comparison of the low 32-bit word.
    pub fn dword(arg: u8, op: CmpOp, value: u32) -> Self {
        Condition {
            arg,
            op,
            value: value.into(),
            len: ArgLen::Dword,
        }
    }

    /// Evaluate on a concrete argument vector (the semantics the generated code implements).
    pub fn holds(&self, args: &[u64; 6]) -> bool {
        let (a, v) = match self.len {
            ArgLen::Qword => (args[self.arg as usize], self.value),
            ArgLen::Dword => (
                args[self.arg as usize] & 0xffff_ffff,
                self.value & 0xffff_ffff,
            ),
        };
        match self.op {
            CmpOp::Eq => a == v,
            CmpOp::Ne => a != v,
            CmpOp::Lt => a < v,
            CmpOp::Le => a <= v,
            CmpOp::Gt => a > v,
            CmpOp::Ge => a >= v,
            CmpOp::MaskedEq(m) => {
                let m = match self.len {
                    ArgLen::Qword => m,
                    ArgLen::Dword => m & 0xffff_ffff,
                };
                a & m == v & m
            }
        }
    }

    fn to_seccompiler(self) -> Result<SeccompCondition, seccompiler::BackendError> {
        let op = match self.op {
            CmpOp::Eq => SeccompCmpOp::Eq,
            CmpOp::Ne => SeccompCmpOp::Ne,
            CmpOp::Lt => SeccompCmpOp::Lt,
            CmpOp::Le => SeccompCmpOp::Le,
            CmpOp::Gt => SeccompCmpOp::Gt,
            CmpOp::Ge => SeccompCmpOp::Ge,
            CmpOp::MaskedEq(m) => SeccompCmpOp::MaskedEq(m),
        };
        let len = match self.len {
            ArgLen::Dword => SeccompCmpArgLen::Dword,
            ArgLen::Qword => SeccompCmpArgLen::Qword,
        };
        SeccompCondition::new(self.arg, len, op, self.value)
    }
}

/// One rule: if all conditions hold (or there are none), take the action.
#[derive(Clone, Debug)]
pub struct Rule {
    /// AND-ed conditions; empty = unconditional.
    pub conditions: Vec<Condition>,
    /// Action when the rule matches.
    pub action: Action,
    /// The same conditions as a validated seccompiler rule (`None` when unconditional).
    pub(crate) checked: Option<SeccompRule>,
}

/// The rules of one system call, evaluated in order; the first matching rule decides.
#[derive(Clone, Debug)]
pub struct SyscallRules {
    /// Number on the policy's native architecture.
    pub nr: u32,
    /// Name (or `#nr` for rules added by number).
    pub name: String,
    /// Rules in evaluation order.
    pub rules: Vec<Rule>,
}

/// A seccomp policy for one native architecture.
#[derive(Clone, Debug)]
pub struct Policy {
    name: String,
    native: Arch,
    default: Action,
    bad_arch: Action,
    extra_arches: Vec<Arch>,
    syscalls: BTreeMap<u32, SyscallRules>,
    profile_rules: usize,
}

impl Policy {
    /// An empty policy: every system call gets `default`.
    pub fn new(default: Action) -> Self {
        Policy {
            name: "custom".to_owned(),
            native: Arch::native(),
            default,
            bad_arch: Action::KillProcess,
            extra_arches: Vec::new(),
            syscalls: BTreeMap::new(),
            profile_rules: 0,
        }
    }

    /// Set the profile name used in reports.
    pub fn set_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = name.into();
        self
    }

    /// Profile name for reporting.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The default action.
    pub fn default_action(&self) -> Action {
        self.default
    }

    /// The native architecture.
    pub fn native_arch(&self) -> Arch {
        self.native
    }

    /// Action for a system call from an architecture that is not allowed (default
    /// `KillProcess`).
    pub fn set_bad_arch_action(&mut self, action: Action) -> &mut Self {
        self.bad_arch = action;
        self
    }

    /// Action for a system call from an architecture that is not allowed.
    pub fn bad_arch_action(&self) -> Action {
        self.bad_arch
    }

    /// Add a rule for `syscall` (a name on the native architecture). Rules of one system call
    /// are tried in the order they were added; the first whose conditions all hold decides.
    pub fn rule(
        &mut self,
        syscall: &str,
        conditions: Vec<Condition>,
        action: Action,
    ) -> Result<&mut Self, Error> {
        let nr = self
            .native
            .syscall_nr(syscall)
            .ok_or_else(|| Error::UnknownSyscall(syscall.to_owned()))?;
        self.add(nr, syscall, conditions, action)
    }

    /// Add a rule for `syscall` that is tried before every rule added earlier (used to put
    /// the engine's own denials, such as `ioctl(TIOCSTI)`, on top of a loaded profile).
    pub fn rule_first(
        &mut self,
        syscall: &str,
        conditions: Vec<Condition>,
        action: Action,
    ) -> Result<&mut Self, Error> {
        self.rule(syscall, conditions, action)?;
        let nr = self.native.syscall_nr(syscall).expect("checked by rule()");
        if let Some(r) = self.syscalls.get_mut(&nr).and_then(|s| s.rules.pop()) {
            self.syscalls
                .get_mut(&nr)
                .expect("just popped")
                .rules
                .insert(0, r);
        }
        Ok(self)
    }

    /// Add a rule by system call number (see [`Policy::rule`]).
    pub fn rule_nr(
        &mut self,
        nr: u32,
        conditions: Vec<Condition>,
        action: Action,
    ) -> Result<&mut Self, Error> {
        if nr >= X32_SYSCALL_BIT {
            return Err(Error::InvalidRule {
                syscall: format!("#{nr}"),
                message: "numbers with the x32 bit are not native system calls".to_owned(),
            });
        }
        let name = self
            .native
            .syscall_name(nr)
            .map_or_else(|| format!("#{nr}"), str::to_owned);
        self.add(nr, &name, conditions, action)
    }

    fn add(
        &mut self,
        nr: u32,
        name: &str,
        conditions: Vec<Condition>,
        action: Action,
    ) -> Result<&mut Self, Error> {
        let invalid = |message: String| Error::InvalidRule {
            syscall: name.to_owned(),
            message,
        };
        action.validate().map_err(invalid)?;
        let checked = if conditions.is_empty() {
            None
        } else {
            let conds = conditions
                .iter()
                .map(|c| c.to_seccompiler())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(e.to_string()))?;
            Some(SeccompRule::new(conds).map_err(|e| invalid(e.to_string()))?)
        };
        self.syscalls
            .entry(nr)
            .or_insert_with(|| SyscallRules {
                nr,
                name: name.to_owned(),
                rules: Vec::new(),
            })
            .rules
            .push(Rule {
                conditions,
                action,
                checked,
            });
        Ok(self)
    }

    /// Also accept system calls from `arch` (see the crate docs for what that means for
    /// architectures without a table here).
    pub fn allow_arch(&mut self, arch: Arch) -> &mut Self {
        if arch != self.native && !self.extra_arches.contains(&arch) {
            self.extra_arches.push(arch);
        }
        self
    }

    /// Allowed architectures, native first.
    pub fn arches(&self) -> Vec<Arch> {
        let mut v = vec![self.native];
        v.extend(self.extra_arches.iter().copied());
        v
    }

    /// Whether `arch` is allowed.
    pub fn allows_arch(&self, arch: Arch) -> bool {
        arch == self.native || self.extra_arches.contains(&arch)
    }

    /// How many rules the profile this policy was loaded from selected: one per system call
    /// name of every entry that applies, before merging (the count the original hakoniwa
    /// and libseccomp users report); 0 for a policy built rule by rule.
    pub fn profile_rules(&self) -> usize {
        self.profile_rules
    }

    pub(crate) fn add_profile_rules(&mut self, n: usize) {
        self.profile_rules += n;
    }

    /// The per-syscall rule lists, by number.
    pub fn syscalls(&self) -> impl Iterator<Item = &SyscallRules> {
        self.syscalls.values()
    }

    /// Action for system calls of an allowed foreign architecture (i386) or of x32: there
    /// is no table for them here, so their rules cannot be applied. A denying default
    /// applies as it is; an allowing default (`Allow`, `Log`) would leave them unfiltered —
    /// the classic deny-list bypass — so they fail closed with ENOSYS instead.
    pub fn foreign_action(&self) -> Action {
        match self.default {
            Action::Allow | Action::Log => Action::Errno(ENOSYS),
            other => other,
        }
    }

    /// Action taken when x32 numbers arrive under the x86_64 audit arch.
    pub fn x32_action(&self) -> Action {
        if self.allows_arch(Arch::X32) {
            self.foreign_action()
        } else {
            Action::Errno(ENOSYS)
        }
    }

    /// Extra (non-native) architectures with their own audit value, in policy order.
    pub(crate) fn foreign_audit_arches(&self) -> Vec<u32> {
        let native = self.native.audit();
        let mut v: Vec<u32> = Vec::new();
        for a in &self.extra_arches {
            let audit = a.audit();
            if audit != native && !v.contains(&audit) {
                v.push(audit);
            }
        }
        v
    }

    /// The decision this policy specifies for `data`, straight from the model (no BPF).
    /// The generated programs must agree with it; tests use it as a third oracle.
    pub fn decide(&self, data: &SeccompData) -> u32 {
        if data.arch != self.native.audit() {
            return if self.foreign_audit_arches().contains(&data.arch) {
                self.foreign_action().ret_value()
            } else {
                self.bad_arch.ret_value()
            };
        }
        let nr = data.nr as u32;
        if self.native == Arch::X86_64 && nr >= X32_SYSCALL_BIT {
            return self.x32_action().ret_value();
        }
        if let Some(s) = self.syscalls.get(&nr) {
            for r in &s.rules {
                if r.conditions.iter().all(|c| c.holds(&data.args)) {
                    return r.action.ret_value();
                }
            }
        }
        self.default.ret_value()
    }
}
