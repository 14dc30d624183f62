//! `Mount`: one entry of a sandbox's filesystem layout, as the caller gives it.
//!
//! This is the one mount type of the engine: [`crate::Container`]'s builder methods
//! (`bindmount_ro`, `tmpfsmount`, `file`, ...) each add one, [`crate::Container::mount`]
//! adds any, [`crate::Container::get_mounts`] lists them, and [`crate::layout`] turns them (with
//! the `rootfs`/`rootdir` expansion) into the ordered steps the child applies. With the
//! `serde` feature it is (de)serialisable, tagged by `type`:
//! `{"type": "bind", "source": "/usr", "target": "/usr", "access": "read_only"}`.

use std::path::{Path, PathBuf};

/// How a bind mount may be used. Every bind is `nosuid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum BindAccess {
    /// Read-only, recursively (submounts included), `nodev`
    /// ([`crate::Container::bindmount_ro`]).
    ReadOnly,
    /// Read-write, `nodev` ([`crate::Container::bindmount_rw`]).
    ReadWrite,
    /// Read-write with device nodes usable ([`crate::Container::bindmount_dev`]; dangerous,
    /// see its warning).
    Device,
}

/// One entry of the filesystem layout. Targets are absolute paths inside the sandbox; the
/// layout normalises them (`/a//b/./c/` is `/a/b/c`), refuses `..` and `/`, lets a later
/// entry on a target replace an earlier one and applies parents before children (see
/// [`crate::layout`]).
///
/// # Examples
/// ```
/// use hakoniwa::{BindAccess, Container, Mount};
/// let mut c = Container::new();
/// c.mount(Mount::Bind {
///     source: "/usr".into(),
///     target: "/usr".into(),
///     access: BindAccess::ReadOnly,
/// });
/// c.tmpfsmount("/tmp");
/// assert_eq!(c.get_mounts().len(), 3); // /proc, /usr, /tmp
/// assert_eq!(c.get_mounts()[2].target(), std::path::Path::new("/tmp"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Mount {
    /// Bind a host path (file or directory, recursively) at `target`.
    Bind {
        /// Host path; symlinks in it are followed on the host.
        source: PathBuf,
        /// Path inside the sandbox.
        target: PathBuf,
        /// Read-only, read-write or with devices.
        access: BindAccess,
    },
    /// A new tmpfs (`nosuid,nodev`).
    Tmpfs {
        /// Path inside the sandbox.
        target: PathBuf,
        /// Size limit in bytes (`None`: the kernel's default, half of RAM).
        size: Option<u64>,
        /// Permission bits of its root (`None`: 0755).
        mode: Option<u32>,
    },
    /// A new procfs (`nosuid,nodev,noexec`; needs a new PID namespace), with the
    /// [`crate::PROC_READONLY`] entries read-only and the [`crate::PROC_MASKED`] ones masked.
    Proc {
        /// Path inside the sandbox.
        target: PathBuf,
    },
    /// A minimal /dev (see [`crate::Container::devfsmount`]).
    Devfs {
        /// Path inside the sandbox.
        target: PathBuf,
    },
    /// A directory (and its parents).
    Dir {
        /// Path inside the sandbox.
        target: PathBuf,
        /// Permission bits.
        mode: u32,
    },
    /// A regular file with contents (mode 0644), and its parents.
    File {
        /// Path inside the sandbox.
        target: PathBuf,
        /// The file's bytes.
        contents: Vec<u8>,
    },
    /// A symbolic link `target -> original`.
    Symlink {
        /// The link's contents.
        original: PathBuf,
        /// Path of the link inside the sandbox.
        target: PathBuf,
    },
}

/// The `target` field of any variant (by reference or mutable reference).
macro_rules! target_of {
    ($m:expr) => {
        match $m {
            Mount::Bind { target, .. }
            | Mount::Tmpfs { target, .. }
            | Mount::Proc { target }
            | Mount::Devfs { target }
            | Mount::Dir { target, .. }
            | Mount::File { target, .. }
            | Mount::Symlink { target, .. } => target,
        }
    };
}

impl Mount {
    /// The path inside the sandbox this entry makes.
    pub fn target(&self) -> &Path {
        target_of!(self)
    }

    pub(crate) fn target_mut(&mut self) -> &mut PathBuf {
        target_of!(self)
    }

    /// The name of the kind, as the `-v` log writes it: `bind_ro`, `bind_rw`, `bind_dev`,
    /// `tmpfs`, `proc`, `devfs`, `mkdir`, `write`, `symlink`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Mount::Bind { access, .. } => match access {
                BindAccess::ReadOnly => "bind_ro",
                BindAccess::ReadWrite => "bind_rw",
                BindAccess::Device => "bind_dev",
            },
            Mount::Tmpfs { .. } => "tmpfs",
            Mount::Proc { .. } => "proc",
            Mount::Devfs { .. } => "devfs",
            Mount::Dir { .. } => "mkdir",
            Mount::File { .. } => "write",
            Mount::Symlink { .. } => "symlink",
        }
    }

    /// Whether this entry mounts a filesystem at its target (a bind, tmpfs, procfs or
    /// devfs), rather than creating a directory, file or link.
    pub fn is_mount_point(&self) -> bool {
        matches!(
            self,
            Mount::Bind { .. } | Mount::Tmpfs { .. } | Mount::Proc { .. } | Mount::Devfs { .. }
        )
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn a_mount_serialises_tagged_by_its_type_and_reads_back_the_same() {
        let bind = Mount::Bind {
            source: "/usr".into(),
            target: "/usr".into(),
            access: BindAccess::ReadOnly,
        };
        let json = serde_json::to_string(&bind).unwrap();
        assert_eq!(
            json,
            r#"{"type":"bind","source":"/usr","target":"/usr","access":"read_only"}"#
        );
        for m in [
            bind,
            Mount::Tmpfs {
                target: "/tmp".into(),
                size: Some(1 << 20),
                mode: None,
            },
            Mount::Symlink {
                original: "usr/bin".into(),
                target: "/bin".into(),
            },
        ] {
            let back: Mount = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            assert_eq!(back, m);
        }
    }
}
