//! The layout policy: from a container's root choice and its [`Mount`] entries to the ordered
//! steps that build the new root.
//!
//! 1. **Expansion.** `rootfs(dir)` becomes read-only binds of `dir`'s top-level entries (for
//!    `/` only [`HOST_ROOT_DIRS`]) and symlinks recreated as symlinks; a read-only
//!    `rootdir(dir)` becomes the same for every top-level entry, on a tmpfs root (nothing is
//!    ever written into it). Entries come first in this order: rootdir's, rootfs's, then the
//!    caller's.
//! 2. **Normalisation.** Targets must be absolute; `.`, repeated and trailing slashes are
//!    dropped; `..` and `/` itself are refused.
//! 3. **De-duplication.** A later entry on a target replaces an earlier one.
//! 4. **Order.** Shallow targets first (a parent is mounted before what lies in it); entries
//!    of equal depth keep the caller's order.
//! 5. **procfs covers.** Right after each procfs, the [`PROC_READONLY`] entries this kernel
//!    has are made read-only and the [`PROC_MASKED`] ones are masked (an empty read-only
//!    tmpfs over a directory, `/dev/null` over a file).
//! 6. **Mount points on the host.** A mount point that lies in a read-write host directory
//!    (a read-write bind of a directory, or a read-write rootdir where nothing else covers it)
//!    is never created: it would be left on the host if the supervisor were killed. Such
//!    steps carry the host path ([`Step::host_mount_point`]).
//!
//! Everything is linear in the number of entries (an index by target, a stable sort by depth,
//! a walk up each target's ancestors).
//!
//! # Examples
//! ```
//! use hakoniwa::{layout::{Action, Layout}, Container};
//! let mut c = Container::empty();
//! c.unshare(hakoniwa::Namespace::Mount)
//!     .tmpfsmount("/tmp/a/")
//!     .tmpfsmount("/tmp")
//!     .dir("/tmp/./b", 0o700);
//! let layout = Layout::of(&c).unwrap();
//! let order: Vec<_> = layout.steps().iter().map(|s| s.target.display().to_string()).collect();
//! assert_eq!(order, ["/tmp", "/tmp/a", "/tmp/b"]);
//! assert!(matches!(layout.steps()[0].action, Action::Entry { index: 1, .. }));
//! ```

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::container::Container;
use crate::error::{Error, Result};
use crate::mount::{BindAccess, Mount};
use crate::runctl::Runctl;

/// Top-level directories `rootfs("/")` takes from the host.
pub const HOST_ROOT_DIRS: [&str; 8] = [
    "bin", "etc", "lib", "lib32", "lib64", "libx32", "sbin", "usr",
];

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

/// Where an entry of the layout comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Origin {
    /// A top-level entry of a read-only `rootdir`.
    Rootdir,
    /// A top-level entry of the `rootfs` directory.
    Rootfs,
    /// Added by the caller (`bindmount_ro`, `procfsmount`, `file`, ...).
    Caller,
}

/// One entry of the layout: a [`Mount`] with its target normalised, and its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Entry {
    /// The entry, target normalised.
    pub mount: Mount,
    /// Where it comes from.
    pub origin: Origin,
}

/// How the root of the new mount namespace is made.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Root {
    /// A new tmpfs (also under a read-only `rootdir`, whose entries are bound into it).
    #[default]
    Tmpfs,
    /// A read-write `rootdir`: the host directory itself.
    Dir(PathBuf),
}

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Action {
    /// Apply [`Layout::entries`]`[index]`.
    Entry {
        /// Index into [`Layout::entries`].
        index: usize,
        /// For a bind: its source is not a directory, so the mount point is a file.
        file: bool,
    },
    /// Make an existing procfs entry read-only (bound onto itself).
    ProcReadOnly,
    /// Mask an existing procfs entry: an empty read-only tmpfs over a directory, the host's
    /// `/dev/null` over anything else.
    ProcMask {
        /// The entry is a directory on this kernel.
        dir: bool,
    },
}

/// One step of building the new root, in the order the child applies them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Step {
    /// Absolute, normalised path inside the sandbox.
    pub target: PathBuf,
    /// What to do there.
    pub action: Action,
    /// For a mount point inside a read-write host directory (a read-write bind of a
    /// directory, or a read-write rootdir): where it lies on the host. Nothing is created
    /// there; the mount point must exist.
    pub host_mount_point: Option<PathBuf>,
}

/// A container's filesystem layout with the policy applied (see the module docs). The
/// default is an empty layout on a tmpfs root.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Layout {
    root: Root,
    root_writable: bool,
    entries: Vec<Entry>,
    steps: Vec<Step>,
}

impl Layout {
    /// The layout of `container`. Reads the host: the `rootfs`/`rootdir` directories, bind
    /// sources (whether each is a directory) and which procfs entries this kernel has.
    ///
    /// Fails with [`Error::Config`] for a missing or non-directory `rootfs`/`rootdir`, a
    /// relative target, a target with `..`, a mount over `/` or a missing bind source.
    pub fn of(container: &Container) -> Result<Layout> {
        let c = container;
        let mut entries = Vec::new();
        // For each expanded bind, whether its source is a file, as the expansion saw it (one
        // `stat` per entry instead of two); `None` for the caller's entries.
        let mut known_file: Vec<Option<bool>> = Vec::new();
        let mut expanded = |origin, typed: Vec<(Mount, bool)>| {
            for (mount, file) in typed {
                entries.push(Entry { mount, origin });
                known_file.push(Some(file));
            }
        };
        if let Some((dir, false)) = &c.rootdir {
            expanded(Origin::Rootdir, top_level_entries("rootdir", dir, None)?);
        }
        if let Some(dir) = &c.rootfs {
            expanded(Origin::Rootfs, typed_rootfs_entries(dir)?);
        }
        entries.extend(tagged(Origin::Caller, c.mounts.iter().cloned()));
        for e in &mut entries {
            let t = normalize_target("mount target", e.mount.target())?;
            if t == Path::new("/") {
                return Err(Error::config(
                    "mount target",
                    "cannot mount over / (use rootdir or rootfs)",
                ));
            }
            *e.mount.target_mut() = t;
        }
        let root = match &c.rootdir {
            Some((dir, true)) => {
                let meta = std::fs::metadata(dir)
                    .map_err(|e| Error::config("rootdir", format!("{}: {}", dir.display(), e)))?;
                if !meta.is_dir() {
                    return Err(Error::config(
                        "rootdir",
                        format!("not a directory: {}", dir.display()),
                    ));
                }
                Root::Dir(dir.clone())
            }
            _ => Root::Tmpfs,
        };
        let order = ordered(&entries);
        let mut steps = Vec::with_capacity(order.len() + PROC_COVERS);
        for index in order {
            let e = &entries[index];
            let file = match (&e.mount, known_file.get(index).copied().flatten()) {
                (Mount::Bind { .. }, Some(file)) => file,
                (Mount::Bind { source, .. }, None) => !is_dir(source).map_err(|err| {
                    Error::config("bindmount", format!("source {}: {}", source.display(), err))
                })?,
                _ => false,
            };
            steps.push(Step {
                target: e.mount.target().to_path_buf(),
                action: Action::Entry { index, file },
                host_mount_point: None,
            });
            if let Mount::Proc { target } = &e.mount {
                steps.extend(proc_covers(target, proc_entries()));
            }
        }
        let rw_root = match &root {
            Root::Dir(d) => Some(d.as_path()),
            Root::Tmpfs => None,
        };
        mark_host_mount_points(&mut steps, &entries, rw_root);
        Ok(Layout {
            root_writable: c.has_runctl(Runctl::RootdirRW) || rw_root.is_some(),
            root,
            entries,
            steps,
        })
    }

    /// How the root is made.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Whether the root stays writable after setup (`Runctl::RootdirRW`, a read-write
    /// rootdir).
    pub fn root_writable(&self) -> bool {
        self.root_writable
    }

    /// Every entry after expansion, targets normalised, in the caller's order (rootdir's,
    /// rootfs's, then the caller's); entries replaced by a later one on the same target are
    /// kept here but have no step.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The steps the child applies, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

fn tagged(origin: Origin, mounts: impl IntoIterator<Item = Mount>) -> impl Iterator<Item = Entry> {
    mounts.into_iter().map(move |mount| Entry { mount, origin })
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

/// Whether `path` (following links) is a directory: one `statx` asking only for the type
/// (a thousand binds are a thousand of these before the clone; `std::fs::metadata` asks
/// for everything and costs a third more).
fn is_dir(path: &Path) -> std::io::Result<bool> {
    use rustix::fs::{statx, AtFlags, FileType, StatxFlags, CWD};
    let st = statx(CWD, path, AtFlags::STATX_DONT_SYNC, StatxFlags::TYPE)?;
    Ok(FileType::from_raw_mode(st.stx_mode.into()) == FileType::Directory)
}

fn depth(p: &Path) -> usize {
    p.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count()
}

/// Indices of the entries that take effect (the last one on each target), shallow targets
/// first, equal depth in the entries' order. Targets must be normalised.
fn ordered(entries: &[Entry]) -> Vec<usize> {
    let mut last: HashMap<&Path, usize> = HashMap::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        last.insert(e.mount.target(), i);
    }
    let mut order: Vec<(usize, usize)> = entries
        .iter()
        .enumerate()
        .filter(|(i, e)| last.get(e.mount.target()) == Some(i))
        .map(|(i, e)| (depth(e.mount.target()), i))
        .collect();
    // Stable: equal depth keeps the entries' order.
    order.sort_by_key(|&(d, _)| d);
    order.into_iter().map(|(_, i)| i).collect()
}

/// Upper bound of the covers one procfs gets.
const PROC_COVERS: usize = PROC_READONLY.len() + PROC_MASKED.len();

/// Which of the covered procfs entries this kernel has, and which are directories.
///
/// Every procfs instance of one kernel has the same top-level entries (they depend on the
/// kernel's configuration, not on the namespace), so the host's `/proc` tells what the
/// sandbox's will hold. Covering only what exists saves a mount clone per missing entry;
/// each detached clone costs an expedited RCU grace period when it is torn down. Without a
/// readable host procfs every entry is covered (the child skips what it cannot find).
#[derive(Debug)]
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
        list_proc().unwrap_or(ProcEntries {
            present: Vec::new(),
            unknown: true,
        })
    })
}

/// The covered entries of the host's `/proc`, from one listing of its fixed entries (a
/// procfs lists them before the processes, so the listing stops at the first pid): four
/// system calls instead of one `lstat` per name, which matters to a CLI that starts afresh
/// for every sandbox. `None` when `/proc` cannot be listed; `unknown` when it is not a
/// full procfs (no `self` or no `stat`).
fn list_proc() -> Option<ProcEntries> {
    use rustix::fs::{FileType, Mode, OFlags, RawDir};
    let fd = rustix::fs::open(
        "/proc",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    // Small reads: the fixed entries (54 here) take two, and the last may hold a few pids,
    // each of which procfs must look up (a 4 KiB read listing 70 of them cost more than
    // the 14 lstat calls this replaces; two 1 KiB reads cost half as much).
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1024];
    let mut dir = RawDir::new(&fd, &mut buf);
    let (mut present, mut has_self, mut has_stat) = (Vec::new(), false, false);
    while let Some(entry) = dir.next() {
        let entry = entry.ok()?;
        let name = entry.file_name().to_bytes();
        if name.first().is_some_and(u8::is_ascii_digit) {
            break; // the processes: every fixed entry came before
        }
        has_self |= name == b"self";
        has_stat |= name == b"stat";
        if let Some(n) = PROC_READONLY
            .iter()
            .chain(PROC_MASKED.iter())
            .find(|n| n.as_bytes() == name)
        {
            present.push((*n, entry.file_type() == FileType::Directory));
        }
    }
    // A procfs mounted with `subset=pid` lists `self` but none of the fixed entries; the
    // sandbox's own procfs has them all, so then every entry is covered.
    Some(ProcEntries {
        present,
        unknown: !(has_self && has_stat),
    })
}

/// The covers of a procfs at `target`: read-only entries first, then masks, only for the
/// entries `present` has.
fn proc_covers<'a>(target: &'a Path, present: &'a ProcEntries) -> impl Iterator<Item = Step> + 'a {
    let read_only = PROC_READONLY
        .iter()
        .filter(|n| present.has(n))
        .map(|n| (*n, Action::ProcReadOnly));
    let masked = PROC_MASKED.iter().filter(|n| present.has(n)).map(|n| {
        (
            *n,
            Action::ProcMask {
                dir: present.is_dir(n),
            },
        )
    });
    read_only.chain(masked).map(move |(name, action)| Step {
        target: target.join(name),
        action,
        host_mount_point: None,
    })
}

/// Set [`Step::host_mount_point`] for every mount point that lies in a read-write host
/// directory: the covering mount is the deepest earlier step whose target is an ancestor (a
/// read-write bind of a directory), or none while the root is a read-write rootdir.
/// Directories, files and links are not mount points and are left alone.
fn mark_host_mount_points(steps: &mut [Step], entries: &[Entry], rw_root: Option<&Path>) {
    // Without a read-write root or directory bind no mount point lies in a host directory:
    // skip the walk (a hash-map entry and a path copy per step, on every spawn).
    if rw_root.is_none()
        && !steps
            .iter()
            .any(|s| rw_dir_bind_source(s, entries).is_some())
    {
        return;
    }
    let mut seen: HashMap<PathBuf, usize> = HashMap::with_capacity(steps.len());
    for i in 0..steps.len() {
        let step = &steps[i];
        let is_mount_point = match step.action {
            Action::Entry { index, .. } => entries[index].mount.is_mount_point(),
            Action::ProcReadOnly | Action::ProcMask { .. } => false,
        };
        let mut host = None;
        if is_mount_point {
            let cover = step
                .target
                .ancestors()
                .skip(1)
                .find_map(|a| seen.get(a).map(|&c| &steps[c]));
            host = match cover {
                Some(c) => rw_dir_bind_source(c, entries)
                    .zip(step.target.strip_prefix(&c.target).ok())
                    .map(|(source, rel)| source.join(rel)),
                None => {
                    rw_root.map(|r| r.join(step.target.strip_prefix("/").unwrap_or(&step.target)))
                }
            };
        }
        let target = steps[i].target.clone();
        steps[i].host_mount_point = host;
        seen.insert(target, i);
    }
}

/// The host directory behind `step` when it is a read-write bind of a directory.
fn rw_dir_bind_source<'a>(step: &Step, entries: &'a [Entry]) -> Option<&'a Path> {
    let Action::Entry { index, file: false } = step.action else {
        return None;
    };
    match &entries[index].mount {
        Mount::Bind {
            source,
            access: BindAccess::ReadWrite | BindAccess::Device,
            ..
        } => Some(source),
        _ => None,
    }
}

/// What `rootfs(dir)` puts at the top of the new root: for `/` the [`HOST_ROOT_DIRS`] that
/// exist, for any other directory every top-level entry (sorted by name); directories and
/// files as read-only binds, symlinks recreated with the same contents.
///
/// # Examples
/// ```
/// use hakoniwa::{layout::rootfs_entries, Mount};
/// for m in rootfs_entries("/".as_ref()).unwrap() {
///     match m {
///         Mount::Bind { source, target, .. } => println!("bind {} -> {}", source.display(), target.display()),
///         Mount::Symlink { original, target } => println!("link {} -> {}", target.display(), original.display()),
///         _ => unreachable!(),
///     }
/// }
/// ```
pub fn rootfs_entries(dir: &Path) -> Result<Vec<Mount>> {
    Ok(typed_rootfs_entries(dir)?
        .into_iter()
        .map(|(m, _)| m)
        .collect())
}

/// [`rootfs_entries`], each with whether it is a bind of a file (see [`top_level_entries`]).
fn typed_rootfs_entries(dir: &Path) -> Result<Vec<(Mount, bool)>> {
    let only = (dir == Path::new("/")).then_some(&HOST_ROOT_DIRS[..]);
    top_level_entries("rootfs", dir, only)
}

/// The top-level entries of `dir` (or only the names in `only`, those that exist) as
/// read-only binds, symlinks recreated; each with whether it is a bind of a non-directory
/// (false for a symlink), from the one `lstat` that classified it: the entry is not a
/// symlink, so following it would find the same type. Remembered between spawns while
/// `dir` is unchanged (`top_level_cache.rs`).
fn top_level_entries(
    field: &'static str,
    dir: &Path,
    only: Option<&[&str]>,
) -> Result<Vec<(Mount, bool)>> {
    // Read the clock before the `stat`: see top_level_cache.rs.
    let now = std::time::SystemTime::now();
    let meta = std::fs::metadata(dir)
        .map_err(|e| Error::config(field, format!("{}: {}", dir.display(), e)))?;
    if !meta.is_dir() {
        return Err(Error::config(
            field,
            format!("not a directory: {}", dir.display()),
        ));
    }
    let stamp = crate::top_level_cache::Stamp::of(&meta);
    crate::top_level_cache::entries(dir, only.is_some(), stamp, now, || {
        read_top_level_entries(field, dir, only)
    })
}

/// [`top_level_entries`] as read from the host now (no cache).
fn read_top_level_entries(
    field: &'static str,
    dir: &Path,
    only: Option<&[&str]>,
) -> Result<Vec<(Mount, bool)>> {
    let names: Vec<OsString> = match only {
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
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let host = dir.join(&name);
        let target = Path::new("/").join(&name);
        let Ok(meta) = std::fs::symlink_metadata(&host) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let original = std::fs::read_link(&host)
                .map_err(|e| Error::config(field, format!("{}: {}", host.display(), e)))?;
            out.push((Mount::Symlink { original, target }, false));
        } else {
            let bind = Mount::Bind {
                source: host,
                target,
                access: BindAccess::ReadOnly,
            };
            out.push((bind, !meta.is_dir()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::Namespace;

    /// A container with a mount namespace and nothing else (no procfs, no rootfs).
    fn bare() -> Container {
        let mut c = Container::empty();
        c.unshare(Namespace::Mount);
        c
    }

    fn targets(l: &Layout) -> Vec<String> {
        l.steps()
            .iter()
            .map(|s| s.target.display().to_string())
            .collect()
    }

    fn host_mount_point(l: &Layout, target: &str) -> Option<PathBuf> {
        let step = l.steps().iter().find(|s| s.target == Path::new(target));
        step.unwrap().host_mount_point.clone()
    }

    fn config_error(r: Result<Layout>) -> String {
        match r {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    /// A directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let d =
                std::env::temp_dir().join(format!("hakoniwa-layout-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_target_is_normalised_before_anything_compares_it() {
        let n = |p: &str| normalize_target("t", Path::new(p)).map(|p| p.display().to_string());
        assert_eq!(n("/a//b/./c/").unwrap(), "/a/b/c");
        assert_eq!(n("/").unwrap(), "/");
        assert_eq!(n("//x").unwrap(), "/x");
        assert!(matches!(n("a/b"), Err(Error::Config { .. })));
        assert!(matches!(n("/a/../b"), Err(Error::Config { .. })));

        let mut c = bare();
        c.tmpfsmount("/t/").dir("//t/./d", 0o700).tmpfsmount("/t");
        let l = Layout::of(&c).unwrap();
        assert_eq!(targets(&l), ["/t", "/t/d"]);
        assert_eq!(l.entries()[1].mount.target(), Path::new("/t/d"));
    }

    #[test]
    fn a_relative_target_a_dotdot_and_the_root_itself_are_refused() {
        let mut c = bare();
        c.tmpfsmount("tmp");
        assert!(config_error(Layout::of(&c)).contains("must be absolute: tmp"));
        let mut c = bare();
        c.tmpfsmount("/tmp/../etc");
        assert!(config_error(Layout::of(&c)).contains("'..'"));
        let mut c = bare();
        c.tmpfsmount("/.");
        assert!(config_error(Layout::of(&c)).contains("cannot mount over /"));
    }

    #[test]
    fn a_later_entry_on_the_same_target_replaces_the_earlier_one_in_order() {
        let mut c = bare();
        for i in 0..1000 {
            c.bindmount_ro("/usr", format!("/t/{}", i % 500));
        }
        c.tmpfsmount("/t/7").bindmount_ro("/etc", "/t/3");
        let l = Layout::of(&c).unwrap();
        // Equal depth keeps the order of the surviving (last) entries.
        let mut want: Vec<String> = (0..500)
            .filter(|i| *i != 7 && *i != 3)
            .map(|i| format!("/t/{i}"))
            .collect();
        want.extend(["/t/7".to_string(), "/t/3".to_string()]);
        assert_eq!(targets(&l), want);
        let mount = |s: &Step| match s.action {
            Action::Entry { index, .. } => l.entries()[index].mount.clone(),
            other => panic!("{other:?}"),
        };
        assert!(matches!(mount(&l.steps()[498]), Mount::Tmpfs { .. }));
        assert!(
            matches!(mount(&l.steps()[499]), Mount::Bind { source, .. } if source == Path::new("/etc"))
        );
        // Replaced entries stay listed, in the caller's order.
        assert_eq!(l.entries().len(), 1002);
    }

    #[test]
    fn parents_are_mounted_before_their_children_whatever_the_order_given() {
        let mut c = bare();
        c.tmpfsmount("/a/b/c")
            .file("/a/b/c/d/f", "x")
            .tmpfsmount("/z")
            .tmpfsmount("/a/b")
            .symlink("/z", "/a/l")
            .tmpfsmount("/a");
        let l = Layout::of(&c).unwrap();
        assert_eq!(
            targets(&l),
            ["/z", "/a", "/a/b", "/a/l", "/a/b/c", "/a/b/c/d/f"]
        );
    }

    #[test]
    fn rootfs_slash_is_the_host_root_directories_that_exist() {
        let mut c = bare();
        c.rootfs("/");
        let l = Layout::of(&c).unwrap();
        let want: Vec<String> = HOST_ROOT_DIRS
            .iter()
            .filter(|d| Path::new("/").join(d).symlink_metadata().is_ok())
            .map(|d| format!("/{d}"))
            .collect();
        let got: Vec<String> = l
            .entries()
            .iter()
            .map(|e| {
                assert_eq!(e.origin, Origin::Rootfs);
                e.mount.target().display().to_string()
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(rootfs_entries(Path::new("/")).unwrap().len(), want.len());
    }

    #[test]
    fn a_rootfs_directory_becomes_read_only_binds_of_its_entries_and_recreated_links() {
        let d = TempDir::new("rootfs");
        std::fs::create_dir(d.0.join("usr")).unwrap();
        std::fs::write(d.0.join("file"), "x").unwrap();
        std::os::unix::fs::symlink("usr/bin", d.0.join("bin")).unwrap();
        let got = rootfs_entries(&d.0).unwrap();
        assert_eq!(
            got,
            [
                Mount::Symlink {
                    original: "usr/bin".into(),
                    target: "/bin".into()
                },
                Mount::Bind {
                    source: d.0.join("file"),
                    target: "/file".into(),
                    access: BindAccess::ReadOnly
                },
                Mount::Bind {
                    source: d.0.join("usr"),
                    target: "/usr".into(),
                    access: BindAccess::ReadOnly
                },
            ]
        );
        // A caller's entry on the same target wins over the expansion.
        let mut c = bare();
        c.rootfs(&d.0).tmpfsmount("/usr");
        let l = Layout::of(&c).unwrap();
        assert_eq!(targets(&l), ["/bin", "/file", "/usr"]);
        assert!(matches!(
            l.steps()[2].action,
            Action::Entry {
                index: 3,
                file: false
            }
        ));
        assert!(matches!(
            l.steps()[1].action,
            Action::Entry {
                index: 1,
                file: true
            }
        ));
        let missing = d.0.join("missing");
        assert!(config_error(Layout::of(bare().rootfs(&missing))).contains("missing"));
        assert!(
            config_error(Layout::of(bare().rootfs(d.0.join("file")))).contains("not a directory")
        );
    }

    #[test]
    fn a_callers_bind_over_an_expanded_entry_gets_its_own_sources_type() {
        let d = TempDir::new("rootfs-types");
        std::fs::create_dir(d.0.join("usr")).unwrap();
        std::fs::write(d.0.join("file"), "x").unwrap();
        let mut c = bare();
        // A file over the expanded directory, a directory over the expanded file.
        c.rootfs(&d.0)
            .bindmount_ro(d.0.join("file"), "/usr")
            .bindmount_ro(&d.0, "/file");
        let l = Layout::of(&c).unwrap();
        let files: Vec<(String, bool)> = l
            .steps()
            .iter()
            .map(|s| match s.action {
                Action::Entry { file, .. } => (s.target.display().to_string(), file),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            files,
            [("/usr".to_string(), true), ("/file".to_string(), false)]
        );
    }

    #[test]
    fn a_read_only_rootdir_is_a_tmpfs_root_holding_binds_of_its_entries() {
        let d = TempDir::new("rootdir");
        std::fs::create_dir(d.0.join("etc")).unwrap();
        let mut c = bare();
        c.rootdir(&d.0, false).tmpfsmount("/tmp");
        let l = Layout::of(&c).unwrap();
        assert_eq!(l.root(), &Root::Tmpfs);
        assert!(!l.root_writable());
        assert_eq!(l.entries()[0].origin, Origin::Rootdir);
        assert_eq!(l.entries()[1].origin, Origin::Caller);
        assert_eq!(targets(&l), ["/etc", "/tmp"]);
        assert!(l.steps().iter().all(|s| s.host_mount_point.is_none()));
    }

    #[test]
    fn only_the_proc_entries_the_kernel_has_are_covered_right_after_the_procfs() {
        let present = ProcEntries {
            present: vec![("sys", true), ("kcore", false), ("acpi", true)],
            unknown: false,
        };
        let got: Vec<(String, Action)> = proc_covers(Path::new("/proc"), &present)
            .map(|s| (s.target.display().to_string(), s.action))
            .collect();
        assert_eq!(
            got,
            [
                ("/proc/sys".to_string(), Action::ProcReadOnly),
                ("/proc/kcore".to_string(), Action::ProcMask { dir: false }),
                ("/proc/acpi".to_string(), Action::ProcMask { dir: true }),
            ]
        );
        // An unreadable host procfs: every entry is covered, as a file.
        let unknown = ProcEntries {
            present: Vec::new(),
            unknown: true,
        };
        let all: Vec<Step> = proc_covers(Path::new("/p"), &unknown).collect();
        assert_eq!(all.len(), PROC_READONLY.len() + PROC_MASKED.len());
        assert!(all
            .iter()
            .all(|s| s.action != Action::ProcMask { dir: true }));

        // In a layout: the covers follow their procfs, before the next entry of its depth.
        let mut c = bare();
        c.procfsmount("/proc").tmpfsmount("/tmp");
        let l = Layout::of(&c).unwrap();
        let t = targets(&l);
        assert_eq!(t.first().map(String::as_str), Some("/proc"));
        assert_eq!(t.last().map(String::as_str), Some("/tmp"));
        for (s, name) in l.steps()[1..l.steps().len() - 1].iter().zip(
            PROC_READONLY
                .iter()
                .chain(PROC_MASKED.iter())
                .filter(|n| proc_entries().has(n)),
        ) {
            assert_eq!(s.target, Path::new("/proc").join(name));
            assert!(Path::new("/proc").join(name).symlink_metadata().is_ok());
        }
    }

    #[test]
    fn one_listing_of_proc_finds_what_a_look_at_each_name_finds() {
        let listed = list_proc().expect("/proc can be listed");
        assert!(!listed.unknown, "the host's /proc is a procfs");
        for name in PROC_READONLY.iter().chain(PROC_MASKED.iter()) {
            let meta = Path::new("/proc").join(name).symlink_metadata().ok();
            assert_eq!(listed.has(name), meta.is_some(), "{name}");
            assert_eq!(
                listed.is_dir(name),
                meta.is_some_and(|m| m.is_dir()),
                "{name}"
            );
        }
        // Directories and files both occur among them on this kernel (sys, keys).
        assert!(listed.present.iter().any(|(_, d)| *d) && listed.present.iter().any(|(_, d)| !*d));
    }

    #[test]
    fn a_mount_point_inside_a_read_write_host_directory_names_its_host_path() {
        let d = TempDir::new("rw");
        std::fs::write(d.0.join("f"), "x").unwrap();
        let mut c = bare();
        c.bindmount_rw(&d.0, "/rw")
            .tmpfsmount("/rw/a/b")
            .dir("/rw/made", 0o755)
            .bindmount_ro(&d.0, "/ro")
            .tmpfsmount("/ro/a")
            .bindmount_dev(&d.0, "/dev")
            .tmpfsmount("/dev/shm")
            .bindmount_rw(d.0.join("f"), "/file")
            .tmpfsmount("/rw/a/b/c");
        let l = Layout::of(&c).unwrap();
        let host = |t: &str| host_mount_point(&l, t);
        assert_eq!(host("/rw"), None);
        assert_eq!(host("/rw/a/b"), Some(d.0.join("a/b")));
        // Not a mount point: created as asked (in the host directory).
        assert_eq!(host("/rw/made"), None);
        assert_eq!(host("/ro/a"), None);
        assert_eq!(host("/dev/shm"), Some(d.0.join("shm")));
        // Covered by the tmpfs at /rw/a/b, not by the bind.
        assert_eq!(host("/rw/a/b/c"), None);

        // A read-write rootdir: what no mount covers lies in the host directory.
        let mut c = bare();
        c.rootdir(&d.0, true)
            .tmpfsmount("/tmp")
            .tmpfsmount("/tmp/x")
            .procfsmount("/proc");
        let l = Layout::of(&c).unwrap();
        assert_eq!(l.root(), &Root::Dir(d.0.clone()));
        assert!(l.root_writable());
        let host = |t: &str| host_mount_point(&l, t);
        assert_eq!(host("/tmp"), Some(d.0.join("tmp")));
        assert_eq!(host("/proc"), Some(d.0.join("proc")));
        assert_eq!(host("/tmp/x"), None);
        assert!(l
            .steps()
            .iter()
            .filter(|s| s.target.starts_with("/proc") && s.target != Path::new("/proc"))
            .all(|s| s.host_mount_point.is_none()));
    }

    #[test]
    fn a_missing_bind_source_is_named() {
        let mut c = bare();
        c.bindmount_ro("/no/such/source", "/x");
        let m = config_error(Layout::of(&c));
        assert!(m.contains("/no/such/source"), "{m}");
    }
}
