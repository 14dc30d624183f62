//! Architectures: audit identifiers, OCI names and system call tables.
//!
//! Everything architecture-specific is looked up in [`ArchInfo`] rows, so adding an
//! architecture is adding a row (and its table), not adding branches in the code generator.

use crate::table_x86_64;

/// `__AUDIT_ARCH_64BIT`.
const AUDIT_64BIT: u32 = 0x8000_0000;
/// `__AUDIT_ARCH_LE`.
const AUDIT_LE: u32 = 0x4000_0000;

/// Bit that marks an x32 system call number (`__X32_SYSCALL_BIT`).
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// An architecture as seen in `seccomp_data.arch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// x86_64 (64-bit syscall ABI).
    X86_64,
    /// i386 (`int 0x80` / 32-bit compat ABI on an x86_64 kernel).
    X86,
    /// x32 (x86_64 audit arch with [`X32_SYSCALL_BIT`] set in the number).
    X32,
    /// 64-bit ARM.
    Aarch64,
}

/// Static facts about one architecture.
#[derive(Debug)]
pub struct ArchInfo {
    /// The architecture.
    pub arch: Arch,
    /// `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`.
    pub audit: u32,
    /// libseccomp / OCI name (`SCMP_ARCH_*`).
    pub oci_name: &'static str,
    /// Go `GOARCH`-style name used in OCI `includes.arches` / `excludes.arches`.
    pub go_name: &'static str,
    /// `(name, number)` table, sorted by number; `None` if this crate has no table for it.
    pub table: Option<&'static [(&'static str, u32)]>,
    /// The same table sorted by name.
    pub by_name: Option<&'static [(&'static str, u32)]>,
}

static ARCHES: &[ArchInfo] = &[
    ArchInfo {
        arch: Arch::X86_64,
        audit: 62 | AUDIT_64BIT | AUDIT_LE,
        oci_name: "SCMP_ARCH_X86_64",
        go_name: "amd64",
        table: Some(table_x86_64::SYSCALLS),
        by_name: Some(table_x86_64::BY_NAME),
    },
    ArchInfo {
        arch: Arch::X86,
        audit: 3 | AUDIT_LE,
        oci_name: "SCMP_ARCH_X86",
        go_name: "386",
        table: None,
        by_name: None,
    },
    ArchInfo {
        // x32 shares the x86_64 audit value; the number carries X32_SYSCALL_BIT.
        arch: Arch::X32,
        audit: 62 | AUDIT_64BIT | AUDIT_LE,
        oci_name: "SCMP_ARCH_X32",
        go_name: "x32",
        table: None,
        by_name: None,
    },
    ArchInfo {
        arch: Arch::Aarch64,
        audit: 183 | AUDIT_64BIT | AUDIT_LE,
        oci_name: "SCMP_ARCH_AARCH64",
        go_name: "arm64",
        table: None,
        by_name: None,
    },
];

impl Arch {
    /// The architecture this crate was compiled for.
    ///
    /// Only x86_64 has a system call table today; on other targets policies still build,
    /// but every name lookup fails.
    pub const fn native() -> Arch {
        #[cfg(target_arch = "aarch64")]
        {
            Arch::Aarch64
        }
        #[cfg(not(target_arch = "aarch64"))]
        {
            Arch::X86_64
        }
    }

    /// The static row for this architecture.
    pub fn info(self) -> &'static ArchInfo {
        ARCHES
            .iter()
            .find(|a| a.arch == self)
            .expect("every Arch has a row")
    }

    /// `AUDIT_ARCH_*` value.
    pub fn audit(self) -> u32 {
        self.info().audit
    }

    /// Parse an OCI `SCMP_ARCH_*` name. `None` for names this crate does not model.
    pub fn from_oci(name: &str) -> Option<Arch> {
        ARCHES.iter().find(|a| a.oci_name == name).map(|a| a.arch)
    }

    /// Number of `name` on this architecture (a binary search: profiles look up hundreds
    /// of names per compile).
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        let table = self.info().by_name?;
        table
            .binary_search_by(|&(n, _)| n.cmp(name))
            .ok()
            .map(|i| table[i].1)
    }

    /// Name of syscall number `nr` on this architecture.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        let table = self.info().table?;
        table
            .binary_search_by_key(&nr, |&(_, n)| n)
            .ok()
            .map(|i| table[i].0)
    }

    /// Highest syscall number in this architecture's table (0 if there is none).
    pub fn max_syscall_nr(self) -> u32 {
        self.info()
            .table
            .and_then(|t| t.last())
            .map_or(0, |&(_, nr)| nr)
    }

    /// Whether `name` is a Go-style name (as used by OCI `includes.arches`) of this arch.
    /// `x86_64` is accepted as a synonym of `amd64`.
    pub fn matches_go_name(self, name: &str) -> bool {
        name == self.info().go_name
            || (self == Arch::X86_64 && name == "x86_64")
            || (self == Arch::X86 && (name == "x86" || name == "i386"))
            || (self == Arch::Aarch64 && name == "aarch64")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_64_table_lookups() {
        assert_eq!(Arch::X86_64.syscall_nr("read"), Some(0));
        assert_eq!(Arch::X86_64.syscall_nr("kexec_load"), Some(246));
        assert_eq!(Arch::X86_64.syscall_nr("mseal"), Some(462));
        assert_eq!(Arch::X86_64.syscall_name(39), Some("getpid"));
        assert_eq!(Arch::X86_64.syscall_nr("_llseek"), None);
        assert!(Arch::X86_64.max_syscall_nr() >= 462);
        assert_eq!(Arch::X86_64.audit(), 0xc000_003e);
        assert_eq!(Arch::X86.audit(), 0x4000_0003);
    }

    #[test]
    fn the_by_name_table_is_sorted_and_complete() {
        let by_name = table_x86_64::BY_NAME;
        assert!(by_name.windows(2).all(|w| w[0].0 < w[1].0));
        let mut a: Vec<_> = table_x86_64::SYSCALLS.to_vec();
        let mut b: Vec<_> = by_name.to_vec();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        for &(name, nr) in table_x86_64::SYSCALLS {
            assert_eq!(Arch::X86_64.syscall_nr(name), Some(nr), "{name}");
        }
    }
}
