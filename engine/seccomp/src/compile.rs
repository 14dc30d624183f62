//! Compiling a [`Policy`]: the binary-search program ([`crate::codegen`]), its exit-hook
//! variant, and seccompiler's reference program ([`crate::linear`]).
//!
//! The entry points live here rather than in `policy.rs` so that the model does not depend
//! on its code generators (which depend on the model).

use hakoniwa_runtime::SockFilter;

use crate::arch::Arch;
use crate::policy::Policy;
use crate::{codegen, linear, Error};

impl Policy {
    /// Compile to one binary-search program.
    pub fn compile(&self) -> Result<Program, Error> {
        Ok(self.program(codegen::compile(self)?))
    }

    /// Compile to one binary-search program whose native `exit_group` returns
    /// `SECCOMP_RET_USER_NOTIF` (see [`codegen::compile_with_exit_hook`]).
    pub fn compile_with_exit_hook(&self) -> Result<Program, Error> {
        Ok(self.program(codegen::compile_with_exit_hook(self)?))
    }

    /// Compile the reference program: seccompiler's linear filters, chained (see
    /// [`crate::linear`]).
    pub fn compile_linear_seccompiler(&self) -> Result<Vec<SockFilter>, Error> {
        linear::compile(self)
    }

    fn program(&self, instructions: Vec<SockFilter>) -> Program {
        Program {
            instructions,
            profile: self.name().to_owned(),
            arches: self.arches(),
        }
    }
}

/// A compiled program.
#[derive(Clone, Debug)]
pub struct Program {
    /// The instructions, ready for `seccomp(SECCOMP_SET_MODE_FILTER)`.
    pub instructions: Vec<SockFilter>,
    /// Profile name.
    pub profile: String,
    /// Allowed architectures, native first.
    pub arches: Vec<Arch>,
}
