//! Parent-side compilation of a container and a process spec into the child's [`Plan`].
//!
//! Everything the child will read is built here, before `clone`: C strings, argv/envp
//! pointer arrays, the ordered mount plan, limits. [`Storage`] owns it all; the borrowed
//! [`Plan`] only exists inside [`Storage::with_plan`], whose caller keeps the frame alive
//! until the child has exec'd or exited.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use hakoniwa_runtime::{
    FdMap, MountKind, MountOp, MountPlan, Plan, RawFd, RlimitSpec, RootSpec, DEVFS_NODES,
};

use crate::container::{Container, MountEntry};
use crate::error::{Error, Result};
use crate::idmap::{IdMap, Maps};
use crate::namespace::Namespace;
use crate::process_spec::ProcessSpec;
use crate::runctl::Runctl;

/// Top-level directories `rootfs("/")` takes from the host.
pub const HOST_ROOT_DIRS: [&str; 8] = [
    "bin", "etc", "lib", "lib32", "lib64", "libx32", "sbin", "usr",
];

/// Where the new root is attached while it is built (in the private copy of the host tree).
const ATTACH_POINTS: [&std::ffi::CStr; 5] = [c"/tmp", c"/mnt", c"/run", c"/var/tmp", c"/dev"];

/// procfs entries made read-only in every procfs the engine mounts (the OCI default set).
pub const PROC_READONLY: [&str; 5] = ["sys", "sysrq-trigger", "irq", "bus", "fs"];
/// procfs entries masked in every procfs the engine mounts (the OCI default set).
pub const PROC_MASKED: [&str; 7] = [
    "kcore",
    "keys",
    "timer_list",
    "latency_stats",
    "sched_debug",
    "acpi",
    "scsi",
];

/// Default `PATH` for a program name without a slash when the command sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn cstring(field: &'static str, s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| Error::config(field, format!("contains a NUL byte: {:?}", s)))
}

/// Normalise an absolute in-sandbox path: no `..`, no `.`, no duplicate or trailing slash.
pub(crate) fn normalize_target(field: &'static str, p: &Path) -> Result<PathBuf> {
    if !p.is_absolute() {
        return Err(Error::config(
            field,
            format!("path must be absolute: {}", p.display()),
        ));
    }
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                return Err(Error::config(
                    field,
                    format!("path must not contain '..': {}", p.display()),
                ))
            }
            Component::Prefix(_) => unreachable!("no prefixes on Linux"),
        }
    }
    Ok(out)
}

fn depth(p: &Path) -> usize {
    p.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count()
}

/// An owned mount step; turned into a borrowed [`MountOp`] in `with_plan`.
#[derive(Debug)]
pub(crate) enum OwnedKind {
    Bind {
        source: u32,
        readonly: bool,
        file: bool,
        dev: bool,
    },
    Tmpfs {
        size: Option<CString>,
        mode: Option<CString>,
        readonly: bool,
    },
    Proc,
    Devfs {
        first_node: u32,
        console: Option<u32>,
    },
    Dir {
        mode: u32,
    },
    File {
        contents: Vec<u8>,
        mode: u32,
    },
    Symlink {
        original: CString,
    },
    Mask {
        null: u32,
    },
    ReadOnly,
}

#[derive(Debug)]
pub(crate) struct OwnedOp {
    pub(crate) target: PathBuf,
    pub(crate) target_c: CString,
    pub(crate) kind: OwnedKind,
    /// For a mount whose target lies in a read-write bind of a host directory: that bind's
    /// source index and the target relative to it. Nothing is created there (see
    /// [`MountOp::create`]).
    pub(crate) in_rw_bind: Option<(u32, PathBuf)>,
}

/// The owned mount plan.
#[derive(Debug)]
pub(crate) struct MountStorage {
    pub(crate) root: RootSpec,
    pub(crate) root_writable: bool,
    /// The source index of a read-write rootdir (the root itself).
    pub(crate) rw_root: Option<u32>,
    pub(crate) sources: Vec<CString>,
    pub(crate) source_paths: Vec<PathBuf>,
    pub(crate) source_fds: Vec<Cell<RawFd>>,
    pub(crate) ops: Vec<OwnedOp>,
}

impl MountStorage {
    fn add_source(&mut self, p: &Path) -> Result<u32> {
        self.sources.push(cstring("bindmount", p.as_os_str())?);
        self.source_paths.push(p.to_path_buf());
        self.source_fds.push(Cell::new(-1));
        Ok((self.sources.len() - 1) as u32)
    }

    fn add_op(&mut self, target: PathBuf, kind: OwnedKind) -> Result<()> {
        let target_c = cstring("mount target", target.as_os_str())?;
        self.ops.push(OwnedOp {
            target,
            target_c,
            kind,
            in_rw_bind: None,
        });
        Ok(())
    }

    /// Mark every mount step whose target lies in a read-write host directory (a read-write
    /// bind, or a read-write rootdir where no other mount covers it): its missing mount
    /// point would have to be created on the host. The covering mount is the deepest earlier
    /// step whose target is an ancestor (steps are ordered by depth).
    fn mark_rw_bind_targets(&mut self) {
        for i in 0..self.ops.len() {
            let (done, rest) = self.ops.split_at_mut(i);
            let Some(op) = rest.first_mut() else { break };
            if !matches!(
                op.kind,
                OwnedKind::Bind { .. }
                    | OwnedKind::Tmpfs { .. }
                    | OwnedKind::Proc
                    | OwnedKind::Devfs { .. }
            ) {
                continue;
            }
            let cover = done
                .iter()
                .filter(|o| o.target != op.target && op.target.starts_with(&o.target))
                .max_by_key(|o| depth(&o.target));
            if let Some(OwnedOp {
                target,
                kind:
                    OwnedKind::Bind {
                        source,
                        readonly: false,
                        file: false,
                        ..
                    },
                ..
            }) = cover
            {
                let rel = op.target.strip_prefix(target).unwrap_or(Path::new(""));
                op.in_rw_bind = Some((*source, rel.to_path_buf()));
            } else if let (None, Some(root)) = (cover, self.rw_root) {
                let rel = op.target.strip_prefix("/").unwrap_or(&op.target);
                op.in_rw_bind = Some((root, rel.to_path_buf()));
            }
        }
    }

    /// The child holds one descriptor per source at once (all are cloned before anything is
    /// mounted): refuse a plan that cannot fit the open-file limit, rather than failing in
    /// the child with EMFILE on some entry (a read-only rootdir binds each top-level entry).
    fn check_fd_budget(&self) -> Result<()> {
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
            .ops
            .iter()
            .filter_map(|op| {
                let (source, rel) = op.in_rw_bind.as_ref()?;
                let host = self.source_paths.get(*source as usize)?.join(rel);
                std::fs::symlink_metadata(&host)
                    .is_err()
                    .then(|| host.display().to_string())
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

    /// The mount entries of a container, expanded (rootfs), de-duplicated (a later entry on
    /// the same target replaces an earlier one) and ordered (shallow targets first; equal
    /// depth keeps the caller's order).
    fn build(c: &Container, console: Option<PathBuf>) -> Result<MountStorage> {
        let mut entries: Vec<MountEntry> = Vec::new();
        // A read-only rootdir is never written to: the root is a tmpfs holding read-only
        // binds of its top-level entries, so the mount points the engine needs are made in
        // the tmpfs (nothing on the host, nothing to clean up, even if the supervisor is
        // killed). A read-write rootdir is the root itself.
        let ro_rootdir = match &c.rootdir {
            Some((dir, false)) => Some(dir),
            _ => None,
        };
        if let Some(dir) = ro_rootdir {
            entries.extend(top_level_entries("rootdir", dir, None)?);
        }
        if let Some(dir) = &c.rootfs {
            entries.extend(expand_rootfs(dir)?);
        }
        entries.extend(c.mounts.iter().cloned());

        // A later entry on a target replaces the earlier one (an index keeps this linear).
        let mut slots: Vec<Option<(PathBuf, MountEntry)>> = Vec::with_capacity(entries.len());
        let mut by_target: HashMap<PathBuf, usize> = HashMap::with_capacity(entries.len());
        for e in entries {
            let t = normalize_target("mount target", e.target())?;
            if t == Path::new("/") {
                return Err(Error::config(
                    "mount target",
                    "cannot mount over / (use rootdir or rootfs)",
                ));
            }
            if let Some(old) = by_target.insert(t.clone(), slots.len()) {
                slots[old] = None;
            }
            slots.push(Some((t, e)));
        }
        let mut normalized: Vec<(PathBuf, MountEntry)> = slots.into_iter().flatten().collect();
        normalized.sort_by_key(|(t, _)| depth(t));

        let mut m = MountStorage {
            root: RootSpec::Tmpfs,
            root_writable: c.has_runctl(Runctl::RootdirRW),
            rw_root: None,
            sources: Vec::new(),
            source_paths: Vec::new(),
            source_fds: Vec::new(),
            ops: Vec::new(),
        };
        if let Some((dir, rw)) = c.rootdir.as_ref().filter(|(_, rw)| *rw) {
            let meta = std::fs::metadata(dir)
                .map_err(|e| Error::config("rootdir", format!("{}: {}", dir.display(), e)))?;
            if !meta.is_dir() {
                return Err(Error::config(
                    "rootdir",
                    format!("not a directory: {}", dir.display()),
                ));
            }
            let s = m.add_source(dir)?;
            m.root = RootSpec::Dir { source: s };
            m.root_writable |= *rw;
            m.rw_root = Some(s);
        }
        let has_pidns = c.is_unshared(Namespace::Pid);
        for (target, e) in normalized {
            let kind = match e {
                MountEntry::Bind {
                    source,
                    readonly,
                    dev,
                    ..
                } => {
                    let meta = std::fs::metadata(&source).map_err(|err| {
                        Error::config("bindmount", format!("source {}: {}", source.display(), err))
                    })?;
                    let s = m.add_source(&source)?;
                    OwnedKind::Bind {
                        source: s,
                        readonly,
                        file: !meta.is_dir(),
                        dev,
                    }
                }
                MountEntry::Tmpfs { size, mode, .. } => OwnedKind::Tmpfs {
                    size: size.map(|s| CString::new(s.to_string()).expect("digits")),
                    mode: mode.map(|m| CString::new(format!("{m:o}")).expect("digits")),
                    readonly: false,
                },
                MountEntry::Proc { .. } => {
                    if !has_pidns {
                        return Err(Error::config(
                            "procfsmount",
                            format!(
                                "a new procfs at {} needs a new PID namespace",
                                target.display()
                            ),
                        ));
                    }
                    // Masks and read-only covers go right after the procfs they protect.
                    m.add_op(target.clone(), OwnedKind::Proc)?;
                    let present = proc_entries();
                    for name in PROC_READONLY.iter().filter(|n| present.has(n)) {
                        m.add_op(target.join(name), OwnedKind::ReadOnly)?;
                    }
                    for name in PROC_MASKED.iter().filter(|n| present.has(n)) {
                        // A directory is covered by an empty tmpfs; a file by a clone of
                        // /dev/null, one per file (a detached mount is attached once).
                        let null = if present.is_dir(name) {
                            NO_SOURCE
                        } else {
                            m.add_source(Path::new("/dev/null"))?
                        };
                        m.add_op(target.join(name), OwnedKind::Mask { null })?;
                    }
                    continue;
                }
                MountEntry::Devfs { .. } => {
                    let first = m.sources.len() as u32;
                    for n in DEVFS_NODES {
                        m.add_source(&Path::new("/dev").join(OsStr::from_bytes(n.to_bytes())))?;
                    }
                    let console = match &console {
                        Some(p) => Some(m.add_source(p)?),
                        None => None,
                    };
                    OwnedKind::Devfs {
                        first_node: first,
                        console,
                    }
                }
                MountEntry::Dir { mode, .. } => OwnedKind::Dir { mode },
                MountEntry::File { contents, .. } => OwnedKind::File {
                    contents,
                    mode: 0o644,
                },
                MountEntry::Symlink { original, .. } => OwnedKind::Symlink {
                    original: cstring("symlink", original.as_os_str())?,
                },
            };
            m.add_op(target, kind)?;
        }
        m.mark_rw_bind_targets();
        m.check_rw_mount_points()?;
        m.check_fd_budget()?;
        Ok(m)
    }
}

/// Source index of a mask that needs none (a directory, covered by an empty tmpfs).
const NO_SOURCE: u32 = u32::MAX;

/// Which of the covered procfs entries this kernel has, and which are directories.
///
/// Every procfs instance of one kernel has the same top-level entries (they depend on the
/// kernel's configuration, not on the namespace), so the host's `/proc` tells what the
/// sandbox's will hold. Covering only what exists saves a mount clone per missing entry;
/// each detached clone costs an expedited RCU grace period when it is torn down. Without a
/// readable host procfs every entry is covered (the child skips what it cannot find).
struct ProcEntries {
    /// (name, is a directory) of the entries present.
    present: Vec<(&'static str, bool)>,
    /// The host's procfs could not be read: assume every entry exists (files).
    unknown: bool,
}

impl ProcEntries {
    fn has(&self, name: &str) -> bool {
        self.unknown || self.present.iter().any(|(n, _)| *n == name)
    }

    fn is_dir(&self, name: &str) -> bool {
        self.present.iter().any(|(n, d)| *n == name && *d)
    }
}

fn proc_entries() -> &'static ProcEntries {
    static ENTRIES: crate::process_local::ProcessLocal<ProcEntries> =
        crate::process_local::ProcessLocal::new();
    ENTRIES.get_or_init(|| {
        let proc = Path::new("/proc");
        let unknown = std::fs::symlink_metadata(proc.join("self/stat")).is_err();
        let present = PROC_READONLY
            .iter()
            .chain(PROC_MASKED.iter())
            .filter_map(|name| {
                let meta = std::fs::symlink_metadata(proc.join(name)).ok()?;
                Some((*name, meta.is_dir()))
            })
            .collect();
        ProcEntries { present, unknown }
    })
}

fn expand_rootfs(dir: &Path) -> Result<Vec<MountEntry>> {
    let only = (dir == Path::new("/")).then_some(&HOST_ROOT_DIRS[..]);
    top_level_entries("rootfs", dir, only)
}

/// The top-level entries of `dir` (or only the names in `only`, those that exist) as
/// read-only binds, symlinks recreated.
fn top_level_entries(
    field: &'static str,
    dir: &Path,
    only: Option<&[&str]>,
) -> Result<Vec<MountEntry>> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| Error::config(field, format!("{}: {}", dir.display(), e)))?;
    if !meta.is_dir() {
        return Err(Error::config(
            field,
            format!("not a directory: {}", dir.display()),
        ));
    }
    let names: Vec<std::ffi::OsString> = match only {
        Some(names) => names.iter().map(|s| s.into()).collect(),
        None => {
            let mut v: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| Error::config(field, format!("{}: {}", dir.display(), e)))?
                .filter_map(|e| e.ok().map(|e| e.file_name()))
                .collect();
            v.sort();
            v
        }
    };
    let mut out = Vec::new();
    for name in names {
        let host = dir.join(&name);
        let target = Path::new("/").join(&name);
        let Ok(meta) = std::fs::symlink_metadata(&host) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let original = std::fs::read_link(&host)
                .map_err(|e| Error::config(field, format!("{}: {}", host.display(), e)))?;
            out.push(MountEntry::Symlink { original, target });
        } else {
            out.push(MountEntry::Bind {
                source: host,
                target,
                readonly: true,
                dev: false,
            });
        }
    }
    Ok(out)
}

/// Everything the child reads, owned, and what the parent needs to finish the spawn.
#[derive(Debug)]
pub(crate) struct Storage {
    pub(crate) program: CString,
    pub(crate) argv: Vec<CString>,
    pub(crate) envp: Vec<CString>,
    pub(crate) search_path: Vec<u8>,
    pub(crate) cwd: Option<CString>,
    pub(crate) hostname: Option<Vec<u8>>,
    pub(crate) rlimits: Vec<RlimitSpec>,
    pub(crate) mount: Option<MountStorage>,
    pub(crate) no_new_privs: bool,
    pub(crate) new_session: bool,
    /// The terminal on `terminal_fd` becomes the new session's controlling terminal.
    pub(crate) controlling_terminal: bool,
    /// The program's descriptor holding the terminal (see `TerminalUse::terminal_fd`).
    pub(crate) terminal_fd: RawFd,
    pub(crate) new_keyring: bool,
    pub(crate) landlock: Option<crate::landlock::Prepared>,
    /// The id maps the parent writes, when there is a user namespace.
    pub(crate) id_maps: Option<Maps>,
    /// Inner (uid_map, gid_map) for the nested user namespace, when there is one.
    pub(crate) nested: Option<(Vec<u8>, Vec<u8>)>,
    pub(crate) seccomp: Option<std::sync::Arc<crate::seccomp::Compiled>>,
    pub(crate) caps: Option<hakoniwa_runtime::CapPlan>,
    /// The sandbox holds host root's ids and may not create set-id files (see host_root).
    pub(crate) setid_denied: bool,
    pub(crate) host_proc: Cell<RawFd>,
    pub(crate) loopback_up: bool,
    pub(crate) credentials: Option<(u32, u32, Vec<u32>, bool)>,
    pub(crate) initial_ids: Option<(u32, u32)>,
    /// Written by the child: when it was released, mounted, set its identity, confined.
    pub(crate) timings: [Cell<u64>; 4],
    /// Without an init: the runtime gives the terminal to the program's process group.
    pub(crate) foreground: bool,
    /// The sandbox's init, when it runs as PID 1 (see `init.rs`).
    pub(crate) init: Option<InitStorage>,
}

/// Owned parts of the runtime's `InitPlan`.
#[derive(Debug)]
pub(crate) struct InitStorage {
    /// The sealed init executable (see `init.rs`), looked up as the last step of
    /// [`Storage::build`], once the configuration is known to be valid.
    pub(crate) memfd: RawFd,
    pub(crate) search_path: CString,
    pub(crate) control: Vec<Cell<u8>>,
    pub(crate) flags: u32,
    pub(crate) nproc: u64,
    pub(crate) deadline_ns: u64,
}

/// What the caller's terminal means for one spawn (found from its wired streams).
#[derive(Debug, Default)]
pub(crate) struct TerminalUse {
    /// The program's stdin is a terminal.
    pub(crate) stdin_is_tty: bool,
    /// The program runs under job control (the caller's controlling terminal on stdin).
    pub(crate) job_control: bool,
    /// ... and the caller's process group holds the foreground.
    pub(crate) foreground: bool,
    /// The terminal on `terminal_fd` becomes the controlling terminal of the sandbox's own
    /// session (`Command::controlling_terminal`), with the program's group in its
    /// foreground.
    pub(crate) controlling_terminal: bool,
    /// The first of the program's stdin, stdout, stderr that is a terminal (0 for stdin,
    /// the only one that counts without `controlling_terminal`).
    pub(crate) terminal_fd: RawFd,
    /// The terminal on stdout, bound as the console of a devfs.
    pub(crate) console: Option<PathBuf>,
}

/// The descriptors the child uses besides the program's own: its ends of the spawn's
/// channels (see spawn.rs).
#[derive(Debug)]
pub(crate) struct ChildEnds {
    /// The error pipe's write end (close-on-exec: EOF tells the parent `execve` happened).
    pub(crate) err_fd: RawFd,
    /// The go-ahead pipe's read end.
    pub(crate) sync_fd: RawFd,
    /// The parent's ends, closed first thing in the child.
    pub(crate) close_first: Vec<RawFd>,
    /// The socket the exit hook's listener is sent over, with a hooked filter.
    pub(crate) exit_hook_socket: Option<RawFd>,
    /// The init's events pipe (write end), with an init.
    pub(crate) events_fd: RawFd,
}

/// Whether the program gets a new session: always, unless stdin is a terminal (job
/// control; seccomp then denies TIOCSTI/TIOCLINUX). Without any filter, a new session is
/// the only protection left.
pub(crate) fn new_session(c: &Container, stdin_is_tty: bool) -> bool {
    !stdin_is_tty || c.seccomp == crate::seccomp::Seccomp::Unconfined
}

/// The init's deadline comes a moment after the supervisor's: a running supervisor kills
/// first and can still read the program's peak memory, which a kill by the init loses.
const INIT_DEADLINE_GRACE_NS: u64 = 100_000_000;

impl Storage {
    /// The complete plan of one spawn: `started_ns` is when the spawn began
    /// (`CLOCK_MONOTONIC`), the start of the wall-clock limit.
    pub(crate) fn build(
        c: &Container,
        spec: &ProcessSpec<'_>,
        tty: &TerminalUse,
        started_ns: u64,
    ) -> Result<Storage> {
        let program = cstring("program", spec.program)?;
        if program.as_bytes().is_empty() {
            return Err(Error::config("program", "empty program name"));
        }
        let mut argv = vec![program.clone()];
        for a in spec.args {
            argv.push(cstring("arg", a)?);
        }
        let mut envp = Vec::new();
        let mut search_path = DEFAULT_PATH.as_bytes().to_vec();
        for (k, v) in spec.envs {
            if k.is_empty() || k.as_bytes().contains(&b'=') {
                return Err(Error::config(
                    "env",
                    format!("invalid variable name: {:?}", k),
                ));
            }
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            envp.push(
                CString::new(kv)
                    .map_err(|_| Error::config("env", format!("NUL byte in {:?}", k)))?,
            );
            if k == "PATH" {
                search_path = v.as_bytes().to_vec();
            }
        }
        let has_mountns = c.is_unshared(Namespace::Mount);
        let cwd = match &spec.cwd {
            Some(d) => Some(cstring("current_dir", d.as_os_str())?),
            None if has_mountns => Some(c"/".to_owned()),
            None => None,
        };
        let hostname = match &c.hostname {
            Some(h) if h.len() > 64 || h.is_empty() => {
                return Err(Error::config(
                    "hostname",
                    format!("must be 1 to 64 bytes: {h:?}"),
                ))
            }
            Some(h) => Some(h.as_bytes().to_vec()),
            None => None,
        };
        if hostname.is_some() && !c.is_unshared(Namespace::Uts) {
            return Err(Error::config(
                "hostname",
                "setting the host name needs a UTS namespace",
            ));
        }
        // With an init, RLIMIT_NPROC is set by the init's child for the program: the init
        // itself counts as a process of the same user, and a limit of 1 would stop its fork.
        let use_init = c.init && c.is_unshared(Namespace::Pid);
        let nproc = c
            .rlimits
            .get(&crate::rlimit::Rlimit::Nproc)
            .filter(|_| use_init)
            .map(|(soft, hard)| (*soft).max(*hard));
        let rlimits = c
            .rlimits
            .iter()
            .filter(|(r, _)| !(use_init && **r == crate::rlimit::Rlimit::Nproc))
            .map(|(r, (soft, hard))| {
                if soft > hard {
                    Err(Error::config(
                        "setrlimit",
                        format!("{}: soft limit {soft} above hard limit {hard}", r.name()),
                    ))
                } else {
                    Ok(RlimitSpec {
                        resource: *r as u32,
                        soft: *soft,
                        hard: *hard,
                    })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let mount = if has_mountns {
            Some(MountStorage::build(c, tty.console.clone())?)
        } else {
            if !c.mounts.is_empty() || c.rootfs.is_some() || c.rootdir.is_some() {
                return Err(Error::config(
                    "mount",
                    "mounts, rootfs and rootdir need a mount namespace",
                ));
            }
            None
        };
        let landlock = match &c.landlock {
            Some(r) if !r.is_empty() => {
                let abi = crate::landlock::kernel_abi().map_err(Error::Landlock)?;
                Some(r.prepare(abi).map_err(Error::Landlock)?)
            }
            _ => None,
        };
        let init = if use_init {
            use hakoniwa_runtime::init_proto::{FLAG_FOREGROUND, FLAG_JOB_CONTROL};
            let mut flags = 0;
            if tty.job_control || tty.controlling_terminal {
                flags |= FLAG_JOB_CONTROL;
            }
            if tty.foreground || tty.controlling_terminal {
                flags |= FLAG_FOREGROUND;
            }
            flags |= hakoniwa_runtime::init_proto::terminal_fd_flags(tty.terminal_fd);
            Some(InitStorage {
                memfd: -1,
                search_path: CString::new(search_path.clone())
                    .map_err(|_| Error::config("env", "NUL byte in PATH"))?,
                control: (0..=hakoniwa_runtime::init_proto::CONTROL_LEN)
                    .map(|_| Cell::new(0))
                    .collect(),
                flags,
                nproc: nproc.unwrap_or(u64::MAX),
                // The init enforces the deadline too, so it holds while the supervisor is
                // stopped.
                deadline_ns: spec.wait_timeout.map_or(0, |d| {
                    started_ns
                        .saturating_add(d.as_nanos() as u64)
                        .saturating_add(INIT_DEADLINE_GRACE_NS)
                }),
            })
        } else {
            None
        };
        let mut storage = Storage {
            foreground: init.is_none() && tty.foreground,
            init,
            landlock,
            id_maps: None,
            nested: None,
            seccomp: None,
            caps: None,
            setid_denied: false,
            host_proc: Cell::new(-1),
            loopback_up: c.is_unshared(Namespace::Network),
            initial_ids: None,
            timings: Default::default(),
            credentials: c.credentials.as_ref().map(|(u, g, groups)| {
                (*u, *g, groups.clone().unwrap_or_default(), groups.is_none())
            }),
            program,
            argv,
            envp,
            search_path,
            cwd,
            hostname,
            rlimits,
            mount,
            no_new_privs: !c.has_runctl(Runctl::AllowNewPrivs),
            // A terminal of its own needs a session of its own (see the runtime's plan).
            new_session: tty.controlling_terminal || new_session(c, tty.stdin_is_tty),
            controlling_terminal: tty.controlling_terminal,
            terminal_fd: tty.terminal_fd,
            // A new session keyring keeps the caller's keys out of reach of the key system
            // calls. The built-in profile denies those calls outright (and /proc/keys is
            // masked), so there it would only cost a key of the caller's quota
            // (kernel.keys.maxkeys: 200 for an unprivileged user) per running sandbox.
            new_keyring: c.seccomp != crate::seccomp::Seccomp::Podman,
        };
        let euid = rustix::process::geteuid().as_raw();
        let egid = rustix::process::getegid().as_raw();
        storage.plan_identity(c, euid, egid)?;
        storage.plan_confinement(c, euid, egid)?;
        if let Some(init) = storage.init.as_mut() {
            init.memfd = crate::init::memfd()?;
        }
        Ok(storage)
    }

    /// The id maps (checked), the ids the child starts as, the nested namespace's maps
    /// (`euid`, `egid`: the caller's).
    fn plan_identity(&mut self, c: &Container, euid: u32, egid: u32) -> Result<()> {
        if !c.is_unshared(Namespace::User) {
            if c.uidmaps.is_some() || c.gidmaps.is_some() {
                return Err(Error::config("uidmap", "id maps need a user namespace"));
            }
            return Ok(());
        }
        let maps = Maps::plan(&c.uidmaps, &c.gidmaps, euid, egid)?;
        self.initial_ids = maps.initial_ids();
        if c.is_unshared(Namespace::Mount) {
            self.nested = maps.nested();
        }
        self.id_maps = Some(maps);
        Ok(())
    }

    /// Capabilities and the seccomp program, which follow what the program will really
    /// hold; the set-id rule for a sandbox holding host root's ids (see host_root.rs).
    fn plan_confinement(&mut self, c: &Container, euid: u32, egid: u32) -> Result<()> {
        let userns = self.id_maps.is_some();
        let no_maps: &[IdMap] = &[];
        let (uidmaps, gidmaps) = match &self.id_maps {
            Some(m) => (&m.uid[..], &m.gid[..]),
            None => (no_maps, no_maps),
        };
        // The container's set as uid 0 (in its own user namespace, or as real root), none
        // otherwise.
        let uid_inside = if userns {
            crate::idmap::inside(uidmaps, euid).or(self.initial_ids.map(|(u, _)| u))
        } else {
            Some(euid)
        };
        let uid_inside = match &c.credentials {
            Some((uid, _, _)) => Some(*uid),
            None => uid_inside,
        };
        // A uid-0 program keeps only the container's capability set (Podman's by default).
        let all = crate::seccomp::all_caps();
        if c.caps & !all != 0 {
            return Err(Error::config(
                "capabilities",
                format!("unknown capability bits {:#x}", c.caps & !all),
            ));
        }
        // A process limit that the kernel would not enforce is refused; a sandbox holding
        // host root's ids may not leave set-id files or file capabilities behind.
        crate::host_root::check_nproc(
            c.rlimits.contains_key(&crate::rlimit::Rlimit::Nproc),
            crate::host_root::program_host_uid(userns, uidmaps, uid_inside, euid),
        )?;
        let deny_setid = !c.has_runctl(Runctl::AllowSetid)
            && crate::host_root::reaches_host_root(userns, uidmaps, gidmaps, euid, egid);
        let container_caps = if deny_setid {
            c.caps & !(1u64 << crate::host_root::CAP_SETFCAP)
        } else {
            c.caps
        };
        let last_cap = all.count_ones().saturating_sub(1);
        let caps = if uid_inside == Some(0) {
            self.caps = Some(hakoniwa_runtime::CapPlan {
                keep: container_caps,
                last_cap,
            });
            container_caps
        } else {
            // Any other program loses its effective and permitted sets at `execve`, but the
            // bounding set would stay full; empty it (the child still holds CAP_SETPCAP in
            // the user namespace it was cloned into).
            if userns {
                self.caps = Some(hakoniwa_runtime::CapPlan { keep: 0, last_cap });
            }
            0
        };
        self.setid_denied = deny_setid;
        self.seccomp = crate::seccomp::compile(
            &c.seccomp,
            caps,
            deny_setid,
            // With an init, the init reports the program's own rusage: no hook needed.
            c.peak_memory && self.init.is_none(),
        )?;
        if let (Some(init), Some(filter)) = (&self.init, &self.seccomp) {
            crate::init::check_filter(
                &filter.program.instructions,
                &filter.program.profile,
                init.flags & hakoniwa_runtime::init_proto::FLAG_JOB_CONTROL != 0,
                init.deadline_ns != 0,
                init.nproc != u64::MAX,
            )?;
        }
        Ok(())
    }

    /// The exit hook is a variant of the seccomp program (unconfined means no filter at
    /// all), made only when the caller asked for peak memory and there is no init.
    pub(crate) fn has_exit_hook(&self) -> bool {
        self.seccomp.as_ref().is_some_and(|s| s.hooked.is_some())
    }

    /// What setup reports without failing.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> = self
            .seccomp
            .iter()
            .flat_map(|c| c.warnings.iter().cloned())
            .collect();
        if self.setid_denied && self.seccomp.is_none() {
            warnings.push(
                "set-id files can be created: the sandbox holds host root's ids and has no \
                 seccomp filter to deny set-id modes (only CAP_SETFCAP is dropped)"
                    .into(),
            );
        }
        if let Some(l) = &self.landlock {
            warnings.extend(
                l.report()
                    .dropped
                    .iter()
                    .map(|d| format!("landlock: not enforced: {d}")),
            );
        }
        warnings
    }

    /// Build the borrowed [`Plan`] and run `f` with it. `f` must not return before the
    /// child has exec'd or exited.
    pub(crate) fn with_plan<R>(
        &self,
        ends: &ChildEnds,
        fds: &[FdMap],
        f: impl FnOnce(&Plan<'_>) -> R,
    ) -> R {
        let argv: Vec<*const c_char> = self
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        let envp: Vec<*const c_char> = self
            .envp
            .iter()
            .map(|a| a.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        let fd_scratch: Vec<Cell<RawFd>> = fds.iter().map(|_| Cell::new(-1)).collect();
        let sources: Vec<&std::ffi::CStr> = self
            .mount
            .iter()
            .flat_map(|m| m.sources.iter().map(|s| s.as_c_str()))
            .collect();
        let ops: Vec<MountOp<'_>> = self
            .mount
            .iter()
            .flat_map(|m| m.ops.iter())
            .map(|op| MountOp {
                target: &op.target_c,
                kind: match &op.kind {
                    OwnedKind::Bind {
                        source,
                        readonly,
                        file,
                        dev,
                    } => MountKind::Bind {
                        source: *source,
                        readonly: *readonly,
                        file: *file,
                        dev: *dev,
                    },
                    OwnedKind::Tmpfs {
                        size,
                        mode,
                        readonly,
                    } => MountKind::Tmpfs {
                        size: size.as_deref(),
                        mode: mode.as_deref(),
                        readonly: *readonly,
                    },
                    OwnedKind::Proc => MountKind::Proc,
                    OwnedKind::Devfs {
                        first_node,
                        console,
                    } => MountKind::Devfs {
                        first_node: *first_node,
                        console: *console,
                    },
                    OwnedKind::Dir { mode } => MountKind::Dir { mode: *mode },
                    OwnedKind::File { contents, mode } => MountKind::File {
                        contents,
                        mode: *mode,
                    },
                    OwnedKind::Symlink { original } => MountKind::Symlink { original },
                    OwnedKind::Mask { null } => MountKind::Mask { null: *null },
                    OwnedKind::ReadOnly => MountKind::ReadOnly,
                },
                create: op.in_rw_bind.is_none(),
            })
            .collect();
        let mount_plan = self.mount.as_ref().map(|m| MountPlan {
            root: m.root,
            root_writable: m.root_writable,
            sources: &sources,
            source_fds: &m.source_fds,
            attach_points: &ATTACH_POINTS,
            ops: &ops,
        });
        let landlock = self.landlock.as_ref().map(|p| p.plan());
        // The init's argv is the program's behind its own name; its envp is the control
        // text, the program and the search path in front of the program's environment.
        let init_argv: Vec<*const c_char> =
            std::iter::once(hakoniwa_runtime::init_proto::INIT_NAME.as_ptr())
                .chain(argv.iter().copied())
                .collect();
        let init_envp: Vec<*const c_char> = match &self.init {
            Some(i) => [
                i.control.as_ptr() as *const c_char,
                self.program.as_ptr(),
                i.search_path.as_ptr(),
            ]
            .into_iter()
            .chain(envp.iter().copied())
            .collect(),
            None => Vec::new(),
        };
        let plan = Plan {
            err_fd: ends.err_fd,
            sync_fd: ends.sync_fd,
            close_first: &ends.close_first,
            mount: mount_plan.as_ref(),
            nested_userns: self
                .nested
                .as_ref()
                .map(|(u, g)| hakoniwa_runtime::NestedUserns {
                    uid_map: u,
                    gid_map: g,
                }),
            host_proc: &self.host_proc,
            initial_ids: self.initial_ids,
            timings: &self.timings,
            loopback_up: self.loopback_up,
            hostname: self.hostname.as_deref(),
            rlimits: &self.rlimits,
            new_keyring: self.new_keyring,
            new_session: self.new_session,
            controlling_terminal: self.controlling_terminal,
            terminal_fd: self.terminal_fd,
            foreground: self.foreground,
            init: self.init.as_ref().map(|i| hakoniwa_runtime::InitPlan {
                memfd: i.memfd,
                events_fd: ends.events_fd,
                argv: init_argv.as_ptr(),
                envp: init_envp.as_ptr(),
                control: &i.control,
                flags: i.flags,
                nproc: i.nproc,
                deadline_ns: i.deadline_ns,
            }),
            credentials: self
                .credentials
                .as_ref()
                .map(
                    |(uid, gid, groups, optional)| hakoniwa_runtime::Credentials {
                        uid: *uid,
                        gid: *gid,
                        groups: Some(groups),
                        groups_optional: *optional,
                    },
                ),
            caps: self.caps,
            no_new_privs: self.no_new_privs,
            cwd: self.cwd.as_deref(),
            fds,
            fd_scratch: &fd_scratch,
            landlock: landlock.as_ref(),
            exit_hook: ends
                .exit_hook_socket
                .zip(self.seccomp.as_ref().and_then(|c| c.hooked.as_deref()))
                .map(|(socket, filter)| hakoniwa_runtime::ExitHook { filter, socket }),
            seccomp: self
                .seccomp
                .as_ref()
                .map(|c| c.program.instructions.as_slice()),
            program: &self.program,
            search_path: &self.search_path,
            argv: argv.as_ptr(),
            envp: envp.as_ptr(),
        };
        f(&plan)
    }

    /// A readable name for the plan entry an error record points at (with `errno`, what
    /// the failure means when the engine chose it).
    pub(crate) fn describe(
        &self,
        stage: hakoniwa_runtime::Stage,
        index: u32,
        errno: i32,
    ) -> Option<String> {
        use hakoniwa_runtime::Stage as S;
        if index == hakoniwa_runtime::NO_INDEX {
            return match stage {
                S::Exec => Some(self.program.to_string_lossy().into_owned()),
                S::Chdir => self.cwd.as_ref().map(|c| c.to_string_lossy().into_owned()),
                S::Hostname => self
                    .hostname
                    .as_ref()
                    .map(|h| String::from_utf8_lossy(h).into_owned()),
                _ => None,
            };
        }
        let i = index as usize;
        match stage {
            S::MountSource => self
                .mount
                .as_ref()?
                .source_paths
                .get(i)
                .map(|p| p.display().to_string()),
            S::MountRoot => self
                .mount
                .as_ref()?
                .source_paths
                .get(i)
                .map(|p| p.display().to_string()),
            S::Mount | S::MountTarget | S::ProcMask => {
                let m = self.mount.as_ref()?;
                let op = m.ops.get(i)?;
                let source_path = |s: u32| {
                    m.source_paths
                        .get(s as usize)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                };
                let mut text = match &op.kind {
                    OwnedKind::Bind { source, .. } => {
                        format!("{} -> {}", source_path(*source), op.target.display())
                    }
                    _ => op.target.display().to_string(),
                };
                const ENOENT: i32 = 2;
                const EROFS: i32 = 30;
                match (&op.in_rw_bind, stage, errno) {
                    (Some((bind, rel)), S::MountTarget, ENOENT) => {
                        let host = m.source_paths.get(*bind as usize).map(|p| p.join(rel));
                        text.push_str(&format!(
                            "; the mount point is missing in a read-write bind and is never \
                             created on the host: create {} first",
                            host.unwrap_or_default().display()
                        ));
                    }
                    (_, S::MountTarget, EROFS) => text.push_str(
                        "; it lies in a read-only mount, where nothing is created \
                         (a file may only replace an existing one there)",
                    ),
                    _ => {}
                }
                Some(text)
            }
            S::Landlock => {
                let plan = self.landlock.as_ref()?.plan();
                match plan.fs_rules.get(i) {
                    Some(r) => Some(r.path.to_string_lossy().into_owned()),
                    None => plan
                        .net_rules
                        .get(i - plan.fs_rules.len())
                        .map(|r| format!("port {}", r.port)),
                }
            }
            S::Rlimit => self.rlimits.get(i).and_then(|r| {
                crate::rlimit::Rlimit::ALL
                    .get(r.resource as usize)
                    .map(|r| format!("RLIMIT_{}", r.name().to_uppercase()))
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(c: &crate::Container) -> MountStorage {
        MountStorage::build(c, None).expect("plan")
    }

    #[test]
    fn only_proc_entries_this_kernel_has_get_a_mask() {
        let m = mounts(&crate::Container::new());
        let files: Vec<&str> = PROC_MASKED
            .iter()
            .copied()
            .filter(|n| {
                std::fs::symlink_metadata(Path::new("/proc").join(n)).is_ok_and(|m| !m.is_dir())
            })
            .collect();
        let nulls = m
            .source_paths
            .iter()
            .filter(|p| *p == Path::new("/dev/null"))
            .count();
        assert_eq!(nulls, files.len(), "one /dev/null clone per masked file");
        for op in &m.ops {
            if matches!(op.kind, OwnedKind::Mask { .. } | OwnedKind::ReadOnly) {
                assert!(
                    Path::new("/proc")
                        .join(op.target.strip_prefix("/proc").unwrap())
                        .exists(),
                    "{} is covered but does not exist",
                    op.target.display()
                );
            }
        }
    }

    #[test]
    fn a_later_mount_on_the_same_target_replaces_the_earlier_one_in_order() {
        let mut c = crate::Container::empty();
        c.unshare(Namespace::Mount);
        for i in 0..1000 {
            c.bindmount_ro("/usr", format!("/t/{}", i % 500));
        }
        c.tmpfsmount("/t/7").bindmount_ro("/etc", "/t/3");
        let m = mounts(&c);
        let targets: Vec<String> = m
            .ops
            .iter()
            .map(|o| o.target.display().to_string())
            .collect();
        assert_eq!(targets.len(), 500);
        // Equal depth keeps the order of the surviving (last) entries.
        let mut want: Vec<String> = (0..500)
            .filter(|i| *i != 7 && *i != 3)
            .map(|i| format!("/t/{i}"))
            .collect();
        want.extend(["/t/7".to_string(), "/t/3".to_string()]);
        assert_eq!(targets, want);
        assert!(matches!(m.ops[498].kind, OwnedKind::Tmpfs { .. }));
        let OwnedKind::Bind { source, .. } = m.ops[499].kind else {
            panic!("a bind")
        };
        assert_eq!(m.source_paths[source as usize], Path::new("/etc"));
    }
}
