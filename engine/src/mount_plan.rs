//! The mount part of the plan: a [`Layout`]'s steps turned, in one pass, into the owned
//! records the child's [`MountPlan`] borrows (C strings, bind sources to clone first).

use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use hakoniwa_runtime::{MountKind, MountOp, MountPlan, RawFd, RootSpec, DEVFS_NODES};

use crate::error::{Error, Result};
use crate::layout::{Action, Layout, Root, Step};
use crate::mount::{BindAccess, Mount};

/// Where the new root is attached while it is built (in the private copy of the host tree).
const ATTACH_POINTS: [&CStr; 5] = [c"/tmp", c"/mnt", c"/run", c"/var/tmp", c"/dev"];

/// Source index of a step that uses none.
const NO_SOURCE: u32 = u32::MAX;

/// `p` as a C string; a NUL byte in it is a configuration error naming `field`.
fn c_path(field: &'static str, p: &Path) -> Result<CString> {
    let nul = |_| Error::config(field, format!("contains a NUL byte: {p:?}"));
    CString::new(p.as_os_str().as_bytes()).map_err(nul)
}

/// A host path the child clones with `open_tree` before it mounts anything.
#[derive(Debug)]
struct Source {
    path: PathBuf,
    c: CString,
}

/// What one layout step needs besides the layout itself: its C strings and source indices.
#[derive(Debug)]
struct Op {
    target: CString,
    /// A bind's source, a devfs's first node, a masked file's `/dev/null`; else
    /// [`NO_SOURCE`].
    source: u32,
    /// A devfs's console.
    console: Option<u32>,
    /// A tmpfs's `size=` and `mode=` values.
    tmpfs: [Option<CString>; 2],
    /// A link's contents.
    original: Option<CString>,
    /// See [`MountOp::fresh`].
    fresh: bool,
}

/// The owned mount plan: the layout, and per step what the child borrows.
#[derive(Debug)]
pub(crate) struct MountStorage {
    layout: Layout,
    root: RootSpec,
    sources: Vec<Source>,
    /// Scratch the child writes: the descriptor it opened for each source (same length as
    /// `sources`; the runtime reads it as one slice of cells).
    source_fds: Vec<Cell<RawFd>>,
    /// One per step of the layout, in the same order.
    ops: Vec<Op>,
}

/// The per-spawn borrowed views of a [`MountStorage`] that a [`MountPlan`] points into.
pub(crate) struct Lent<'a> {
    storage: &'a MountStorage,
    sources: Vec<&'a CStr>,
    ops: Vec<MountOp<'a>>,
}

impl Lent<'_> {
    /// The child's mount plan.
    pub(crate) fn plan(&self) -> MountPlan<'_> {
        MountPlan {
            root: self.storage.root,
            root_writable: self.storage.layout.root_writable(),
            sources: &self.sources,
            source_fds: &self.storage.source_fds,
            attach_points: &ATTACH_POINTS,
            ops: &self.ops,
        }
    }
}

impl MountStorage {
    fn add_source(&mut self, p: &Path) -> Result<u32> {
        self.sources.push(Source {
            path: p.to_path_buf(),
            c: c_path("bindmount", p)?,
        });
        self.source_fds.push(Cell::new(-1));
        Ok((self.sources.len() - 1) as u32)
    }

    /// The plan for `layout`. `has_pidns`: the sandbox has a new PID namespace (a procfs
    /// needs one); `console`: the caller's terminal, bound at `console` in a devfs.
    pub(crate) fn build(
        layout: Layout,
        has_pidns: bool,
        console: Option<&Path>,
    ) -> Result<MountStorage> {
        let mut m = MountStorage {
            root: RootSpec::Tmpfs,
            sources: Vec::new(),
            source_fds: Vec::new(),
            ops: Vec::with_capacity(layout.steps().len()),
            layout: Layout::default(),
        };
        if let Root::Dir(dir) = layout.root() {
            let source = m.add_source(dir)?;
            m.root = RootSpec::Dir { source };
        }
        for step in layout.steps() {
            let mut op = Op {
                target: c_path("mount target", &step.target)?,
                source: NO_SOURCE,
                console: None,
                tmpfs: [None, None],
                original: None,
                fresh: false,
            };
            match step.action {
                Action::ProcReadOnly | Action::ProcMask { dir: true } => {}
                // A file is covered by a clone of /dev/null, one per file (a detached mount
                // is attached once).
                Action::ProcMask { dir: false } => {
                    op.source = m.add_source(Path::new("/dev/null"))?;
                }
                Action::Entry { index, .. } => {
                    m.prepare_entry(&mut op, &layout.entries()[index].mount, has_pidns, console)?
                }
            }
            m.ops.push(op);
        }
        if matches!(layout.root(), Root::Tmpfs) {
            for (op, fresh) in m.ops.iter_mut().zip(fresh_steps(&layout)) {
                op.fresh = fresh;
            }
        }
        m.layout = layout;
        m.check_rw_mount_points()?;
        Ok(m)
    }

    /// Sources and C strings of one entry; refuses a procfs without a PID namespace.
    fn prepare_entry(
        &mut self,
        op: &mut Op,
        mount: &Mount,
        has_pidns: bool,
        console: Option<&Path>,
    ) -> Result<()> {
        let digits = |s: String| CString::new(s).expect("digits");
        match mount {
            Mount::Bind { source, .. } => op.source = self.add_source(source)?,
            Mount::Tmpfs { size, mode, .. } => {
                op.tmpfs = [
                    size.map(|s| digits(s.to_string())),
                    mode.map(|m| digits(format!("{m:o}"))),
                ]
            }
            Mount::Proc { target } if !has_pidns => {
                return Err(Error::config(
                    "procfsmount",
                    format!(
                        "a new procfs at {} needs a new PID namespace",
                        target.display()
                    ),
                ))
            }
            Mount::Devfs { .. } => {
                op.source = self.sources.len() as u32;
                for n in DEVFS_NODES {
                    self.add_source(&Path::new("/dev").join(OsStr::from_bytes(n.to_bytes())))?;
                }
                op.console = console.map(|p| self.add_source(p)).transpose()?;
            }
            Mount::Symlink { original, .. } => op.original = Some(c_path("symlink", original)?),
            Mount::Proc { .. } | Mount::Dir { .. } | Mount::File { .. } => {}
        }
        Ok(())
    }

    /// The child holds one descriptor per source at once (all are cloned before anything is
    /// mounted): a plan that cannot fit the open-file limit is refused with this error
    /// rather than the child's EMFILE on some entry (a read-only rootdir binds each
    /// top-level entry). Listing the open descriptors costs six system calls, so a spawn
    /// checks only once the child failed with EMFILE (`spawn::explain_emfile`);
    /// `Command::prepare` checks always.
    pub(crate) fn check_fd_budget(&self) -> Result<()> {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        let open = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()) as u64;
        // A few for the child's own pipes and the root.
        let need = self.sources.len() as u64 + open + 8;
        if need <= limit {
            return Ok(());
        }
        Err(Error::config(
            "mount",
            format!(
                "{} mount sources (a read-only rootdir counts each top-level entry) and {open} \
                 open descriptors exceed the open-file limit of {limit}: raise it (ulimit -n) \
                 or bind fewer entries",
                self.sources.len()
            ),
        ))
    }

    /// Refuse, before anything runs, the mount points missing in read-write host
    /// directories, all of them in one message (the child refuses them too, one at a time:
    /// this check only looks from the host and may miss one behind a symlink).
    fn check_rw_mount_points(&self) -> Result<()> {
        let missing: Vec<String> = self
            .layout
            .steps()
            .iter()
            .filter_map(|step| {
                let host = step.host_mount_point.as_ref()?;
                std::fs::symlink_metadata(host)
                    .is_err()
                    .then(|| describe_missing(host))
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::config(
            "mount point",
            format!(
                "missing in a read-write host directory: {}; the engine never creates mount \
                 points there (they could be left on the host if it is killed): create them \
                 first, or make the directory read-only",
                missing.join(", ")
            ),
        ))
    }

    /// Borrow everything for one spawn (see [`Lent::plan`]).
    pub(crate) fn lend(&self) -> Lent<'_> {
        Lent {
            storage: self,
            sources: self.sources.iter().map(|s| s.c.as_c_str()).collect(),
            ops: self
                .layout
                .steps()
                .iter()
                .zip(&self.ops)
                .map(|(step, op)| self.lend_op(step, op))
                .collect(),
        }
    }

    /// The runtime's record of one step.
    fn lend_op<'a>(&'a self, step: &Step, op: &'a Op) -> MountOp<'a> {
        let kind = match step.action {
            Action::ProcReadOnly => MountKind::ReadOnly,
            Action::ProcMask { .. } => MountKind::Mask { null: op.source },
            Action::Entry { index, file } => match &self.layout.entries()[index].mount {
                Mount::Bind { access, .. } => MountKind::Bind {
                    source: op.source,
                    readonly: *access == BindAccess::ReadOnly,
                    file,
                    dev: *access == BindAccess::Device,
                },
                Mount::Tmpfs { .. } => MountKind::Tmpfs {
                    size: op.tmpfs[0].as_deref(),
                    mode: op.tmpfs[1].as_deref(),
                    readonly: false,
                },
                Mount::Proc { .. } => MountKind::Proc,
                Mount::Devfs { .. } => MountKind::Devfs {
                    first_node: op.source,
                    console: op.console,
                },
                Mount::Dir { mode, .. } => MountKind::Dir { mode: *mode },
                Mount::File { contents, .. } => MountKind::File {
                    contents,
                    mode: 0o644,
                },
                Mount::Symlink { .. } => MountKind::Symlink {
                    original: op.original.as_deref().unwrap_or(c""),
                },
            },
        };
        MountOp {
            target: &op.target,
            kind,
            create: step.host_mount_point.is_none(),
            fresh: op.fresh,
        }
    }

    /// A readable name for the step at `index` (a bind as `source -> target`), with what an
    /// `errno` from `stage` means when the engine chose it.
    pub(crate) fn describe_op(
        &self,
        stage: hakoniwa_runtime::Stage,
        index: usize,
        errno: i32,
    ) -> Option<String> {
        use hakoniwa_runtime::Stage as S;
        const ENOENT: i32 = 2;
        const EROFS: i32 = 30;
        let step = self.layout.steps().get(index)?;
        let mut text = match step.action {
            Action::Entry { index, .. } => match &self.layout.entries()[index].mount {
                Mount::Bind { source, .. } => {
                    format!("{} -> {}", source.display(), step.target.display())
                }
                _ => step.target.display().to_string(),
            },
            _ => step.target.display().to_string(),
        };
        match (&step.host_mount_point, stage, errno) {
            (Some(host), S::MountTarget, ENOENT) => text.push_str(&format!(
                "; the mount point is missing in a read-write bind and is never \
                 created on the host: create {} first",
                host.display()
            )),
            (_, S::MountTarget, EROFS) => text.push_str(
                "; it lies in a read-only mount, where nothing is created \
                 (a file may only replace an existing one there)",
            ),
            _ => {}
        }
        Some(text)
    }

    /// The host path of source `index`, for messages.
    pub(crate) fn source_path(&self, index: usize) -> Option<String> {
        self.sources
            .get(index)
            .map(|s| s.path.display().to_string())
    }
}

/// For each step of `layout` (on a tmpfs root), whether it is fresh (see
/// [`MountOp::fresh`]): a bind of a directory, a tmpfs or a procfs whose target is neither
/// an earlier step's target nor below one. Targets are normalised, so the ancestors of one
/// are its prefixes up to a `/`; one hash lookup per path component.
fn fresh_steps(layout: &Layout) -> Vec<bool> {
    let mut earlier: HashSet<&[u8]> = HashSet::with_capacity(layout.steps().len());
    layout
        .steps()
        .iter()
        .map(|step| {
            let target = step.target.as_os_str().as_bytes();
            let dir_mount_point = match step.action {
                Action::Entry { index, file } => {
                    matches!(
                        layout.entries()[index].mount,
                        Mount::Bind { .. } | Mount::Tmpfs { .. } | Mount::Proc { .. }
                    ) && !file
                }
                Action::ProcReadOnly | Action::ProcMask { .. } => false,
            };
            let below_earlier = (1..target.len())
                .filter(|&i| target[i] == b'/')
                .map(|i| &target[..i])
                .chain([target])
                .any(|a| earlier.contains(a));
            earlier.insert(target);
            dir_mount_point && step.host_mount_point.is_none() && !below_earlier
        })
        .collect()
}

/// A missing mount point's host path for a message, with where creating it would really put
/// it when a symbolic link lies on the way (one an earlier run of the sandbox may have left
/// in the read-write directory: `mkdir -p` of the path shown would follow it).
fn describe_missing(host: &Path) -> String {
    let Some(existing) = host.ancestors().find(|a| a.symlink_metadata().is_ok()) else {
        return host.display().to_string();
    };
    let rest = host.strip_prefix(existing).unwrap_or(host);
    match std::fs::canonicalize(existing) {
        Ok(real) if real != existing => format!(
            "{} (through a symbolic link, really {}: look before creating it)",
            host.display(),
            real.join(rest).display()
        ),
        Err(_) if existing.is_symlink() => format!(
            "{} ({} is a symbolic link that leads nowhere: look before creating it)",
            host.display(),
            existing.display()
        ),
        _ => host.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::Namespace;

    fn storage(c: &crate::Container) -> MountStorage {
        MountStorage::build(Layout::of(c).unwrap(), true, None).expect("plan")
    }

    #[test]
    fn every_masked_proc_file_gets_its_own_dev_null_clone() {
        let m = storage(&crate::Container::new());
        let files = crate::layout::PROC_MASKED
            .iter()
            .filter(|n| {
                std::fs::symlink_metadata(Path::new("/proc").join(n)).is_ok_and(|m| !m.is_dir())
            })
            .count();
        let nulls = m
            .sources
            .iter()
            .filter(|s| s.path == Path::new("/dev/null"))
            .count();
        assert_eq!(nulls, files, "one /dev/null clone per masked file");
        let masks: Vec<u32> = m
            .ops
            .iter()
            .zip(m.layout.steps())
            .filter_map(|(op, step)| match step.action {
                Action::ProcMask { dir: false } => Some(op.source),
                _ => None,
            })
            .collect();
        let mut unique = masks.clone();
        unique.dedup();
        assert_eq!(masks, unique);
    }

    #[test]
    fn fresh_steps_are_new_directory_mount_points_below_no_earlier_target() {
        let mut c = crate::Container::empty();
        c.unshare(Namespace::Mount)
            .bindmount_ro("/usr", "/a")
            .bindmount_ro("/usr/share", "/a/b")
            .bindmount_ro("/usr/share", "/c/d")
            .bindmount_ro("/etc/passwd", "/c/passwd")
            .tmpfsmount("/t")
            .bindmount_ro("/usr", "/t/x")
            .symlink("/t", "/l")
            .bindmount_ro("/usr", "/l/y")
            .dir("/e", 0o700)
            .bindmount_ro("/usr", "/e/f")
            .file("/g/h", "x")
            .bindmount_ro("/usr", "/g/i")
            .bindmount_ro("/usr", "/ab");
        let m = MountStorage::build(Layout::of(&c).unwrap(), false, None).unwrap();
        let fresh: Vec<String> = m
            .ops
            .iter()
            .filter(|op| op.fresh)
            .map(|op| op.target.to_string_lossy().into_owned())
            .collect();
        // /a/b, /t/x, /l/y, /e/f lie below an earlier target; /c/passwd is a file; /l, /e
        // and /g/h are no mount points. /ab only shares a prefix with /a.
        assert_eq!(fresh, ["/a", "/t", "/ab", "/c/d", "/g/i"]);
        // Nothing is fresh with a host directory as the root (read-write: a read-only one
        // is a tmpfs with the directory's entries bound).
        let mut c = crate::Container::empty();
        c.unshare(Namespace::Mount)
            .rootdir("/", true)
            .bindmount_ro("/usr", "/usr");
        let m = MountStorage::build(Layout::of(&c).unwrap(), false, None).unwrap();
        assert!(m.ops.iter().all(|op| !op.fresh));
    }

    #[test]
    fn no_two_steps_share_a_source() {
        // The child clones the sources of the steps on two threads, step by step: a
        // source two steps used would be cloned by both.
        let mut c = crate::Container::new();
        c.rootfs("/")
            .devfsmount("/dev")
            .bindmount_ro("/usr", "/a")
            .bindmount_ro("/usr", "/b")
            .bindmount_ro("/etc/passwd", "/c");
        let m = MountStorage::build(Layout::of(&c).unwrap(), true, Some(Path::new("/dev/tty")))
            .unwrap();
        let lent = m.lend();
        let plan = lent.plan();
        let mut owner = vec![None; plan.sources.len()];
        for (i, op) in plan.ops.iter().enumerate() {
            let used: Vec<u32> = match op.kind {
                MountKind::Bind { source, .. } => vec![source],
                MountKind::Mask { null } => vec![null],
                MountKind::Devfs {
                    first_node,
                    console,
                } => (first_node..first_node + DEVFS_NODES.len() as u32)
                    .chain(console)
                    .collect(),
                _ => vec![],
            };
            // A masked directory has no source (NO_SOURCE).
            for s in used.into_iter().filter(|&s| s != NO_SOURCE) {
                assert_eq!(owner[s as usize], None, "source {s} of step {i}");
                owner[s as usize] = Some(i);
            }
        }
        assert!(owner.iter().all(Option::is_some), "{owner:?}");
    }

    #[test]
    fn a_procfs_without_a_pid_namespace_is_refused() {
        let mut c = crate::Container::empty();
        c.unshare(Namespace::Mount).procfsmount("/proc");
        let l = Layout::of(&c).unwrap();
        match MountStorage::build(l, false, None) {
            Err(Error::Config { message, .. }) => {
                assert!(message.contains("needs a new PID namespace"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_devfs_takes_its_nodes_and_the_console_as_consecutive_sources() {
        let mut c = crate::Container::empty();
        c.unshare(Namespace::Mount)
            .bindmount_ro("/etc", "/etc")
            .devfsmount("/dev");
        let m = MountStorage::build(Layout::of(&c).unwrap(), false, Some(Path::new("/dev/tty")))
            .unwrap();
        let paths: Vec<String> = m
            .sources
            .iter()
            .map(|s| s.path.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "/etc",
                "/dev/null",
                "/dev/zero",
                "/dev/full",
                "/dev/random",
                "/dev/urandom",
                "/dev/tty",
                "/dev/tty"
            ]
        );
        let lent = m.lend();
        let plan = lent.plan();
        assert_eq!(plan.sources.len(), plan.source_fds.len());
        assert!(matches!(
            plan.ops[1].kind,
            MountKind::Devfs {
                first_node: 1,
                console: Some(7)
            }
        ));
        assert!(plan.ops.iter().all(|op| op.create));
    }
}
