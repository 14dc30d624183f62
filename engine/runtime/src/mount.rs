//! Building the new root: private propagation, sources captured first, a detached tmpfs (or
//! a clone of a host directory) attached at a scratch point, every mount made onto an fd
//! resolved inside the new root, then `pivot_root(".", ".")` and a lazy detach of the old
//! root so no host path stays reachable.
//!
//! Order matters, and each step says why:
//! 1. `/` becomes `MS_REC|MS_PRIVATE` first: otherwise our mounts propagate back to the host
//!    namespace and `pivot_root` fails with EINVAL on a shared root.
//! 2. Every bind source is cloned with `open_tree(OPEN_TREE_CLONE|AT_RECURSIVE)` before any
//!    mount covers anything, so attaching the root over a scratch directory (say `/tmp`)
//!    cannot hide a source that lives below it.
//! 3. procfs is mounted while the old root is still attached: the kernel only allows a new
//!    procfs in a user namespace while a fully visible one exists in the mount namespace.
//! 4. Flags are set on the detached clone before it is attached (by `open_tree_attr` while
//!    cloning, or `mount_setattr` on kernels before 6.15), which also covers submounts and
//!    never needs to repeat the locked flags (nosuid, nodev, noexec, atime) of host mounts
//!    copied into a less privileged namespace.
//! 5. Every bind and a `rootdir` are `nodev` (as in bubblewrap): a read-only mount does not
//!    stop I/O on the device nodes below it, so a bind of `/dev` (or `--rootdir /`) would
//!    otherwise reach the host's disks. Only an explicit device bind keeps them usable; the
//!    device nodes of a devfs are bound one by one, read-only, so the program can use them
//!    but cannot chmod, chown or touch the host's inodes.
//! 6. Nothing is written into a read-only area: a `file` over an existing file there is a
//!    copy on the root tmpfs bound over it, and mount points are never created inside a
//!    read-write host directory, bind or rootdir (they would be left on the host if the
//!    supervisor is killed).
//! 7. Cost is linear: steps come ordered by depth, siblings adjacent, so a step's parent
//!    directory is resolved once for all its siblings; a mount point just made is attached
//!    by name in it. A read-only bind costs `open_tree_attr`, `mkdirat`, `move_mount`. The
//!    covers of a procfs are attached by name in it too: a read-only entry costs
//!    `open_tree_attr`, `move_mount`, a masked file (whose `/dev/null` clone got its flags
//!    when it was cloned) one `move_mount`.
//! 8. A tmpfs root is made (detached) before the sources are cloned. With many fresh steps
//!    (new directories on it that no earlier step touches, [`MountOp::fresh`]) their mount
//!    points are made in it while a helper thread clones the sources (then both threads
//!    clone). The helper is gone (out of the thread group) before anything is
//!    attached.

use core::cell::{Cell, UnsafeCell};
use core::ffi::CStr;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::fail::{Fail, Step};
use crate::path::{self, PathBuf};
use crate::plan::{MountKind, MountOp, MountPlan, RawFd, RootSpec, DEVFS_NODES};
use crate::stage::{Stage, NO_INDEX};
use crate::sys::{self, SysResult};

/// Build the new root and switch to it. On return the process's root is the new root and
/// its cwd is `/`.
pub fn setup(
    plan: &MountPlan<'_>,
    buf: &mut PathBuf,
    host_proc: Option<&Cell<RawFd>>,
) -> Result<(), Fail> {
    sys::mount_propagation(c"/", sys::MS_REC | sys::MS_PRIVATE)
        .at(Stage::MountPrivate, NO_INDEX)?;
    // Kept across pivot_root for the nested user namespace's maps (closed there).
    if let Some(slot) = host_proc {
        let fd = sys::openat(
            sys::AT_FDCWD,
            c"/proc",
            sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC,
            0,
        )
        .at(Stage::MountPrivate, NO_INDEX)?;
        slot.set(fd);
    }

    let source = |i: u32| -> Result<RawFd, Fail> {
        plan.source_fds
            .get(i as usize)
            .map(Cell::get)
            .ok_or(Fail::new(Stage::Config, sys::EINVAL, i))
    };
    let (root, attrs_set, made_until) = match plan.root {
        // A new tmpfs root is made first (detached, it covers nothing), so the fresh mount
        // points can be made in it while the sources are cloned.
        RootSpec::Tmpfs => {
            let root = new_fs(
                c"tmpfs",
                &[(c"mode", c"0755")],
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
            )
            .at(Stage::MountRoot, NO_INDEX)?;
            let (attrs_set, made_until) = clone_sources_and_premake(plan, root, buf)?;
            (root, attrs_set, made_until)
        }
        RootSpec::Dir { source: s } => {
            let attrs_set = clone_sources(plan)?;
            let fd = source(s)?;
            sys::mount_setattr_fd(
                fd,
                true,
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
                0,
                sys::MS_PRIVATE,
            )
            .at(Stage::MountRoot, s)?;
            (fd, attrs_set, 0)
        }
    };
    attach_root(root, plan.attach_points).at(Stage::MountRoot, NO_INDEX)?;

    let scratch = matches!(plan.root, RootSpec::Tmpfs);
    let mut parent = Parent::new();
    for (i, op) in plan.ops.iter().enumerate() {
        parent.forget_covered(op.target.to_bytes());
        let made = op.fresh && i < made_until;
        apply(
            root,
            scratch,
            attrs_set,
            made,
            op,
            &source,
            buf,
            &mut parent,
        )
        .map_err(|f| {
            if f.index == NO_INDEX {
                Fail {
                    index: i as u32,
                    ..f
                }
            } else {
                f
            }
        })?;
    }

    parent.forget();

    if !plan.root_writable {
        // A host directory as the root is read-only with everything below it, like a
        // read-only bind (a data disk or a tmpfs mounted inside it would stay writable
        // otherwise); our own tmpfs root only for itself, its binds have their own flags.
        let recursive = matches!(plan.root, RootSpec::Dir { .. });
        sys::mount_setattr_fd(root, recursive, sys::MOUNT_ATTR_RDONLY, 0, 0)
            .at(Stage::RemountRoot, NO_INDEX)?;
    }

    sys::fchdir(root).at(Stage::PivotRoot, NO_INDEX)?;
    sys::pivot_root(c".", c".").at(Stage::PivotRoot, NO_INDEX)?;
    sys::umount2(c".", sys::MNT_DETACH).at(Stage::PivotRoot, NO_INDEX)?;
    sys::chdir(c"/").at(Stage::PivotRoot, NO_INDEX)?;

    close_all(plan.source_fds);
    sys::close(root);
    Ok(())
}

/// Wait until the helper thread behind `pidfd` is gone (not only exiting: out of the thread
/// group, so the process is single-threaded again for what needs that, like
/// `unshare(CLONE_NEWUSER)`), then close the pidfd. What the helper wrote before it exited is
/// visible after this.
fn join(pidfd: RawFd) {
    sys::wait_thread_gone(pidfd);
    sys::close(pidfd);
    core::sync::atomic::fence(Ordering::Acquire);
}

/// The directory that holds the previous step's target, kept open for the next step with the
/// same parent. Steps come ordered by depth with siblings in the caller's order, so a
/// thousand binds below one directory resolve it once instead of once per bind (each walk
/// is one `openat2` per path component).
///
/// A directory only changes when a step targets it or one of its ancestors (a mount covers
/// it, a link or file replaces it): such a step drops the cached descriptor first.
struct Parent {
    /// The directory, relative to the root (no leading slash); empty with `fd == -1`.
    path: PathBuf,
    fd: RawFd,
    /// `fd` is the root's own descriptor (the root directory itself), not ours to close.
    borrowed: bool,
}

impl Parent {
    const fn new() -> Self {
        Parent {
            path: PathBuf::new(),
            fd: -1,
            borrowed: false,
        }
    }

    /// Close the cached descriptor.
    fn forget(&mut self) {
        if self.fd >= 0 && !self.borrowed {
            sys::close(self.fd);
        }
        self.fd = -1;
        self.borrowed = false;
        self.path.truncate(0);
    }

    /// Forget the cached directory if a step at `target` may change it (the target is the
    /// directory or one of its ancestors).
    fn forget_covered(&mut self, target: &[u8]) {
        if self.fd >= 0 && changes(target, self.path.as_cstr().to_bytes()) {
            self.forget();
        }
    }

    /// An `O_PATH` descriptor of the directory `dir` (relative to `root`), created like
    /// `mkdir -p` unless `create` is false; owned by the cache.
    fn open(
        &mut self,
        root: RawFd,
        dir: &[u8],
        buf: &mut PathBuf,
        create: bool,
    ) -> SysResult<RawFd> {
        if self.fd >= 0 && self.path.as_cstr().to_bytes() == dir {
            return Ok(self.fd);
        }
        self.forget();
        if dir.is_empty() {
            // The root's descriptor is that directory already (no lookup, nothing to close).
            self.fd = root;
            self.borrowed = true;
            return Ok(root);
        }
        let fd = path::ensure_dir(root, dir, buf, create)?;
        if self.path.set(dir).is_ok() {
            self.fd = fd;
        } else {
            sys::close(fd);
            return Err(sys::ENAMETOOLONG);
        }
        Ok(fd)
    }
}

/// Whether a step at `target` (absolute) may change the directory `dir` (relative to the
/// root): the target is the directory itself or one of its ancestors.
fn changes(target: &[u8], dir: &[u8]) -> bool {
    let t = path::relative(target);
    match dir.strip_prefix(t) {
        Some(rest) => t.is_empty() || rest.is_empty() || rest.first() == Some(&b'/'),
        None => false,
    }
}

/// Where a step's mount goes.
enum Point {
    /// An open mount point (an `O_PATH` descriptor, or the file just created).
    Open(RawFd),
    /// The directory this step has just created in the cached parent directory `dir`: the
    /// mount is attached to it by name, which saves opening it. `move_mount` does not follow
    /// a final symlink, so the name cannot lead anywhere else.
    Made {
        /// The parent (owned by the cache).
        dir: RawFd,
    },
}

/// The mount point `target` inside `root`: a directory, or a non-directory for `file` (an
/// empty file is created for a missing one). Missing parents are created like `mkdir -p`;
/// with `create` false nothing is created and a missing component is `ENOENT`. Resolution
/// never leaves `root` (see [`path::open_in`]). A directory made here comes back as
/// [`Point::Made`] when `by_name` allows it, else opened. `made`: the directory was made
/// already (see [`premake`]); it is attached by name.
#[allow(clippy::too_many_arguments)]
fn mount_point(
    root: RawFd,
    target: &[u8],
    file: bool,
    create: bool,
    by_name: bool,
    made: bool,
    buf: &mut PathBuf,
    parent: &mut Parent,
) -> SysResult<Point> {
    let rel = path::relative(target);
    let (dir, name) = path::split_last(rel);
    if made && by_name && !file && !name.is_empty() && name != b"." && name != b".." {
        let dir = parent.open(root, dir, buf, false)?;
        return Ok(Point::Made { dir });
    }
    if name.is_empty() || name == b"." || name == b".." {
        let fd = if file {
            path::ensure_file(root, target, buf, create)
        } else {
            path::ensure_dir(root, target, buf, create)
        };
        return fd.map(Point::Open);
    }
    let dir_fd = parent.open(root, dir, buf, create)?;
    if create {
        // Create the last component in the (resolved) parent; an existing one is fine and
        // is opened below, following links inside the root as any lookup does.
        buf.set(name)?;
        if file {
            match sys::openat(
                dir_fd,
                buf.as_cstr(),
                sys::O_CREAT | sys::O_EXCL | sys::O_WRONLY | sys::O_NOFOLLOW | sys::O_CLOEXEC,
                0o644,
            ) {
                Ok(fd) => return Ok(Point::Open(fd)),
                Err(sys::EEXIST) => {}
                Err(e) => return Err(e),
            }
        } else {
            match sys::mkdirat(dir_fd, buf.as_cstr(), 0o755) {
                Ok(()) if by_name => return Ok(Point::Made { dir: dir_fd }),
                Ok(()) | Err(sys::EEXIST) => {}
                Err(e) => return Err(e),
            }
        }
    }
    buf.set(rel)?;
    let kind = if file { 0 } else { sys::O_DIRECTORY };
    path::open_in(root, buf.as_cstr(), sys::O_PATH | kind, 0).map(Point::Open)
}

/// An open mount point (see [`mount_point`]).
fn open_mount_point(
    root: RawFd,
    target: &[u8],
    create: bool,
    buf: &mut PathBuf,
    parent: &mut Parent,
) -> SysResult<RawFd> {
    match mount_point(root, target, false, create, false, false, buf, parent)? {
        Point::Open(fd) => Ok(fd),
        Point::Made { .. } => Err(sys::EINVAL),
    }
}

/// Attach the detached mount `mnt` at `target` (see [`mount_point`]); `mnt` stays open.
#[allow(clippy::too_many_arguments)]
fn attach_at(
    mnt: RawFd,
    root: RawFd,
    target: &[u8],
    file: bool,
    create: bool,
    made: bool,
    buf: &mut PathBuf,
    parent: &mut Parent,
) -> Result<(), Fail> {
    match mount_point(root, target, file, create, true, made, buf, parent)
        .at(Stage::MountTarget, NO_INDEX)?
    {
        Point::Open(t) => attach(mnt, t),
        Point::Made { dir } => {
            let (_, name) = path::split_last(path::relative(target));
            buf.set(name)
                .and_then(|()| sys::move_mount_at(mnt, dir, buf.as_cstr()))
        }
    }
    .at(Stage::Mount, NO_INDEX)
}

/// The flags of a bind: always `nosuid`; `nodev` unless it is a device bind.
fn bind_attrs(readonly: bool, dev: bool) -> u64 {
    let mut set = sys::MOUNT_ATTR_NOSUID;
    if readonly {
        set |= sys::MOUNT_ATTR_RDONLY;
    }
    if !dev {
        set |= sys::MOUNT_ATTR_NODEV;
    }
    set
}

/// The flags a source clone gets for the step that attaches it: a bind's (see
/// [`bind_attrs`]), a mask's `/dev/null` (read-only) and a devfs node's (read-only, `nosuid`,
/// `noexec`); nothing for a rootdir, which gets its own below.
fn source_attrs(op: &MountOp<'_>) -> impl Iterator<Item = (u32, u64)> {
    let (first, count, attrs) = match op.kind {
        MountKind::Bind {
            source,
            readonly,
            dev,
            ..
        } => (source, 1, bind_attrs(readonly, dev)),
        MountKind::Mask { null } => (null, 1, sys::MOUNT_ATTR_RDONLY),
        MountKind::Devfs { first_node, .. } => (first_node, DEVFS_NODES.len() as u32, NODE_ATTRS),
        _ => (0, 0, 0),
    };
    let console = match op.kind {
        MountKind::Devfs {
            console: Some(c), ..
        } => Some((c, NODE_ATTRS)),
        _ => None,
    };
    (0..count)
        .map(move |i| (first.saturating_add(i), attrs))
        .chain(console)
}

/// The flags of a device node bound into a devfs: read-only, so the node still works as
/// the device but the host's inode cannot be chmod-ed, chown-ed or touched (as root,
/// `chmod 000 /dev/null` would break the host).
const NODE_ATTRS: u64 = sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC;

/// Flags of every source clone.
const CLONE_FLAGS: u32 = sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC | sys::AT_RECURSIVE;

/// Clone every source with `open_tree(OPEN_TREE_CLONE|AT_RECURSIVE)`, before anything is
/// mounted. A source gets the flags of the step that attaches it (and private propagation)
/// in the same call with `open_tree_attr` where the kernel has it (6.15); returns whether
/// every such source got them that way, else each step sets them before it attaches its
/// source (setting them twice is harmless).
fn clone_sources(plan: &MountPlan<'_>) -> Result<bool, Fail> {
    for slot in plan.source_fds {
        slot.set(-1);
    }
    let mut all_set = true;
    for op in plan.ops {
        clone_step_sources(plan, op, &mut all_set)?;
    }
    clone_other_sources(plan)?;
    Ok(all_set)
}

/// Clone the sources of one step that are not cloned yet (see [`clone_sources`]);
/// `all_set` turns false at the first `open_tree_attr` that fails.
fn clone_step_sources(
    plan: &MountPlan<'_>,
    op: &MountOp<'_>,
    all_set: &mut bool,
) -> Result<(), Fail> {
    for (source, attrs) in source_attrs(op) {
        let (Some(src), Some(slot)) = (
            plan.sources.get(source as usize),
            plan.source_fds.get(source as usize),
        ) else {
            continue;
        };
        if slot.get() >= 0 {
            continue;
        }
        let mut fd = None;
        if *all_set {
            match sys::open_tree_attr(sys::AT_FDCWD, src, CLONE_FLAGS, attrs, sys::MS_PRIVATE) {
                Ok(f) => fd = Some(f),
                // An older kernel (ENOSYS), a filter, or a failure open_tree reports again.
                Err(_) => *all_set = false,
            }
        }
        let fd = match fd {
            Some(fd) => fd,
            None => {
                sys::open_tree(sys::AT_FDCWD, src, CLONE_FLAGS).at(Stage::MountSource, source)?
            }
        };
        slot.set(fd);
    }
    Ok(())
}

/// Clone the sources no step attaches (a rootdir).
fn clone_other_sources(plan: &MountPlan<'_>) -> Result<(), Fail> {
    for (i, (src, slot)) in plan.sources.iter().zip(plan.source_fds).enumerate() {
        if slot.get() < 0 {
            let fd = sys::open_tree(sys::AT_FDCWD, src, CLONE_FLAGS);
            slot.set(fd.at(Stage::MountSource, i as u32)?);
        }
    }
    Ok(())
}

/// Below this many fresh steps their mount points are made as the steps come, after the
/// sources were cloned on this thread (a helper thread costs more than it saves).
const PARALLEL_MIN: usize = 32;

/// Stack of the helper thread: it only loops over `open_tree` (measured: under 1 KiB deep in
/// a debug build).
const HELPER_STACK: usize = 16 * 1024;

/// Clone the sources (see [`clone_sources`]) and, for a plan with at least [`PARALLEL_MIN`]
/// fresh steps (see [`MountOp::fresh`]), make their mount points on the detached tmpfs
/// `root` at the same time: a helper thread of this process clones the steps' sources from
/// the first step on while this one makes the mount points, then clones from the last step
/// back until the two meet. Both are mostly kernel work that does not contend, so with a
/// free core they take about half the time (with 1,000 binds here ~4 ms each). Returns
/// `clone_sources`'s answer and the index of the first step whose mount point was not made
/// here (see [`premake`]). Without a thread (an error, a filter) everything runs on this
/// one; where a clone fails, all are closed and cloned again on this thread, so the error
/// is the one the steps' order gives.
fn clone_sources_and_premake(
    plan: &MountPlan<'_>,
    root: RawFd,
    buf: &mut PathBuf,
) -> Result<(bool, usize), Fail> {
    if plan.ops.iter().filter(|op| op.fresh).count() < PARALLEL_MIN {
        return Ok((clone_sources(plan)?, 0));
    }
    // Grow the descriptor table for every source (and some) while it is not shared: shared,
    // each growth waits for an RCU grace period (9 ms over the five growths of 1,000 binds
    // here, 25 ms for an unprivileged user), alone it does not. Up to the open-file limit:
    // no descriptor can lie beyond it.
    if let Ok(low) = sys::fcntl(root, sys::F_DUPFD_CLOEXEC, 0) {
        sys::close(low as RawFd);
        let limit = sys::getrlimit_soft(sys::RLIMIT_NOFILE).unwrap_or(u64::MAX);
        let want = ((low + plan.sources.len() + 64) as u64).min(limit.saturating_sub(1));
        if let Ok(high) = sys::fcntl(root, sys::F_DUPFD_CLOEXEC, want) {
            sys::close(high as RawFd);
        }
    }
    for slot in plan.source_fds {
        slot.set(-1);
    }
    let helper = Helper {
        plan,
        steps: Steps::new(plan.ops.len()),
        cloned: UnsafeCell::new(Ok(true)),
    };
    let mut stack = [0u8; HELPER_STACK];
    // SAFETY: `stack` and `helper` live in this frame, which waits below until the thread
    // is gone before either goes away or is reused; `helper_main` never returns.
    let started = unsafe {
        crate::clone::spawn_thread(
            &mut stack,
            helper_main,
            &helper as *const Helper<'_> as *mut u8,
        )
    };
    let Ok(thread) = started else {
        return Ok((clone_sources(plan)?, 0));
    };
    let made_until = premake(plan.ops, root, buf);
    let mut all_set = true;
    let mut ours = Ok(());
    while let Some(i) = helper.steps.take_last() {
        if let Some(op) = plan.ops.get(i) {
            ours = clone_step_sources(plan, op, &mut all_set);
            if ours.is_err() {
                break;
            }
        }
    }
    join(thread);
    // SAFETY: the helper is gone: nothing else touches `cloned` any more.
    let theirs = unsafe { *helper.cloned.get() };
    match (theirs, ours) {
        (Ok(set), Ok(())) => {
            clone_other_sources(plan)?;
            Ok((set && all_set, made_until))
        }
        _ => {
            close_all(plan.source_fds);
            Ok((clone_sources(plan)?, made_until))
        }
    }
}

/// The steps whose sources are still to be cloned, taken from both ends: the helper takes
/// the first, the other thread the last, until none is left.
struct Steps(AtomicU64);

impl Steps {
    /// Steps `0..n`.
    fn new(n: usize) -> Self {
        Steps(AtomicU64::new(n as u64 & 0xffff_ffff))
    }

    /// Take the first step left (its index).
    fn take_first(&self) -> Option<usize> {
        self.take(true)
    }

    /// Take the last step left (its index).
    fn take_last(&self) -> Option<usize> {
        self.take(false)
    }

    /// The range left is `first..end`, kept as `first << 32 | end`.
    fn take(&self, first: bool) -> Option<usize> {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let (start, end) = (cur >> 32, cur & 0xffff_ffff);
            if start >= end {
                return None;
            }
            let (next, taken) = if first {
                ((start + 1) << 32 | end, start)
            } else {
                (start << 32 | (end - 1), end - 1)
            };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(taken as usize),
                Err(now) => cur = now,
            }
        }
    }
}

/// What the helper thread of [`clone_sources_and_premake`] works on.
struct Helper<'p> {
    plan: &'p MountPlan<'p>,
    steps: Steps,
    /// Whether its clones all got their flags, or the first failure; written by the helper
    /// before it exits.
    cloned: UnsafeCell<Result<bool, Fail>>,
}

/// The helper thread: clone the sources of the steps it takes, leave the answer, exit.
///
/// # Safety
/// `arg` points at a [`Helper`] that stays alive until the thread has exited.
unsafe extern "C" fn helper_main(arg: *mut u8) -> ! {
    // SAFETY: the function contract.
    let helper = unsafe { &*(arg as *const Helper<'_>) };
    let plan = helper.plan;
    let mut all_set = true;
    let mut r = Ok(true);
    // Each step's sources are its own (no two steps share one), so the two threads never
    // touch the same slot of `source_fds`; the other reads them only after this one exited.
    while let Some(i) = helper.steps.take_first() {
        if let Some(op) = plan.ops.get(i) {
            if let Err(f) = clone_step_sources(plan, op, &mut all_set) {
                r = Err(f);
                break;
            }
        }
    }
    // SAFETY: as above; this thread is the only one using `cloned` until it has exited.
    unsafe { *helper.cloned.get() = r.map(|_| all_set) };
    sys::exit_thread()
}

/// Make the mount points of the fresh steps on the detached tmpfs `root`, in order, like
/// their steps would (`mkdir -p` with mode 0755). Returns the index of the first step not
/// made: at the first failure this stops, and the steps from there make their own mount
/// points, so an error is reported by the step where it happens, as without this.
fn premake(ops: &[MountOp<'_>], root: RawFd, buf: &mut PathBuf) -> usize {
    let mut parent = Parent::new();
    let mut until = ops.len();
    for (i, op) in ops.iter().enumerate().filter(|(_, op)| op.fresh) {
        match mount_point(
            root,
            op.target.to_bytes(),
            false,
            true,
            true,
            false,
            buf,
            &mut parent,
        ) {
            Ok(Point::Made { .. }) => {}
            Ok(Point::Open(fd)) => {
                // Not a new directory (a name like `.`): the step handles it itself.
                sys::close(fd);
                until = i;
                break;
            }
            Err(_) => {
                until = i;
                break;
            }
        }
    }
    parent.forget();
    until
}

/// Close the source descriptors: with one `close_range` when they are consecutive numbers
/// (the usual case: they were opened one after the other, in whatever order), else one
/// `close_range` per run of consecutive numbers, rising or falling, in slot order (a few
/// runs where two threads cloned them, see [`clone_sources_and_premake`]).
fn close_all(fds: &[Cell<RawFd>]) {
    let min = fds.iter().map(Cell::get).min().unwrap_or(-1);
    let max = fds.iter().map(Cell::get).max().unwrap_or(-1);
    // Distinct descriptors whose span is their number are exactly that range.
    let consecutive = usize::try_from(max - min).is_ok_and(|span| span + 1 == fds.len());
    if min >= 0 && consecutive && sys::close_range(min as u32, max as u32, 0).is_ok() {
        return;
    }
    // The run so far: its first and last descriptor.
    let mut run: Option<(RawFd, RawFd)> = None;
    for fd in fds.iter().map(Cell::get).filter(|&fd| fd >= 0) {
        run = match run {
            Some((first, last))
                if (fd == last + 1 && first <= last) || (fd == last - 1 && first >= last) =>
            {
                Some((first, fd))
            }
            Some((first, last)) => {
                close_run(first.min(last), first.max(last));
                Some((fd, fd))
            }
            None => Some((fd, fd)),
        };
    }
    if let Some((first, last)) = run {
        close_run(first.min(last), first.max(last));
    }
}

/// Close the descriptors `first..=last`, all ours.
fn close_run(first: RawFd, last: RawFd) {
    if first == last || sys::close_range(first as u32, last as u32, 0).is_err() {
        for fd in first..=last {
            sys::close(fd);
        }
    }
}

/// Attach the detached root at the first usable scratch point of the private host tree.
fn attach_root(root: RawFd, points: &[&CStr]) -> SysResult<()> {
    let mut last = sys::ENOENT;
    for p in points {
        match sys::move_mount_to_path(root, p) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Whether `name` in `dir` is a symlink whose contents are exactly `original`.
fn same_link(dir: RawFd, name: &CStr, original: &CStr) -> bool {
    let want = original.to_bytes();
    let mut buf = [0u8; 1024];
    match sys::readlinkat(dir, name, &mut buf) {
        Ok(n) if want.len() < buf.len() => buf.get(..n) == Some(want),
        _ => false,
    }
}

/// Name of the staging file on the root tmpfs (removed again before the next step).
const STAGED_FILE: &CStr = c".hakoniwa-staged-file";

/// Give the existing file `rel` (which lies in a read-only mount) new contents without
/// touching it: write them to a staging file on the root tmpfs, bind that file read-only
/// over `rel`, and unlink the staging name. A missing `rel` stays `EROFS`: nothing can be
/// created in a read-only area.
fn cover_with_file(root: RawFd, rel: &CStr, contents: &[u8], mode: u32) -> SysResult<()> {
    let target = match path::open_in(root, rel, sys::O_PATH, 0) {
        Ok(fd) => fd,
        Err(sys::ENOENT) => return Err(sys::EROFS),
        Err(e) => return Err(e),
    };
    let staged = match sys::openat(
        root,
        STAGED_FILE,
        sys::O_CREAT | sys::O_EXCL | sys::O_WRONLY | sys::O_NOFOLLOW | sys::O_CLOEXEC,
        u64::from(mode),
    ) {
        Ok(fd) => fd,
        Err(e) => {
            sys::close(target);
            return Err(e);
        }
    };
    let r = sys::write_all(staged, contents)
        .and_then(|()| sys::fchmod(staged, mode))
        .and_then(|()| {
            sys::open_tree(
                staged,
                c"",
                sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC | sys::AT_EMPTY_PATH,
            )
        });
    sys::close(staged);
    let r = r.and_then(|m| {
        let attrs = sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
        let r = sys::mount_setattr_fd(m, false, attrs, 0, 0)
            .and_then(|()| sys::move_mount_fd(m, target));
        sys::close(m);
        r
    });
    sys::close(target);
    // The bind holds the inode; the name goes either way.
    let _ = sys::unlinkat(root, STAGED_FILE, 0);
    r
}

/// A new detached filesystem instance with string options.
pub fn new_fs(fstype: &CStr, opts: &[(&CStr, &CStr)], attrs: u64) -> SysResult<RawFd> {
    let fs = sys::fsopen(fstype)?;
    let r = (|| {
        for (k, v) in opts {
            sys::fsconfig_string(fs, k, v)?;
        }
        sys::fsconfig_create(fs)?;
        sys::fsmount(fs, attrs)
    })();
    sys::close(fs);
    r
}

/// Move a detached mount onto `target`; closes `target` (the mount fd stays with the caller's
/// bookkeeping: source fds are closed after `pivot_root`).
fn attach(mnt: RawFd, target: RawFd) -> SysResult<()> {
    let r = sys::move_mount_fd(mnt, target);
    sys::close(target);
    r
}

/// Like [`attach`], and also closes `mnt` (for mounts this module created itself).
fn attach_owned(mnt: RawFd, target: RawFd) -> SysResult<()> {
    let r = attach(mnt, target);
    sys::close(mnt);
    r
}

/// Apply one step. `scratch` says the root is our own tmpfs (still writable here), where a
/// file destined for a read-only area can be staged; `made`: its mount point was made
/// already (see [`premake`]).
#[allow(clippy::too_many_arguments)]
fn apply(
    root: RawFd,
    scratch: bool,
    attrs_set: bool,
    made: bool,
    op: &MountOp<'_>,
    source: &dyn Fn(u32) -> Result<RawFd, Fail>,
    buf: &mut PathBuf,
    parent: &mut Parent,
) -> Result<(), Fail> {
    let target = op.target.to_bytes();
    let create = op.create;
    match op.kind {
        MountKind::Bind {
            source: s,
            readonly,
            file,
            dev,
        } => {
            let src = source(s)?;
            if !attrs_set {
                sys::mount_setattr_fd(src, true, bind_attrs(readonly, dev), 0, sys::MS_PRIVATE)
                    .at(Stage::Mount, NO_INDEX)?;
            }
            attach_at(src, root, target, file, create, made, buf, parent)
        }
        MountKind::Tmpfs {
            size,
            mode,
            readonly,
        } => {
            let mut attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
            if readonly {
                attrs |= sys::MOUNT_ATTR_RDONLY;
            }
            let mut opts: [(&CStr, &CStr); 2] = [(c"mode", c"0755"), (c"mode", c"0755")];
            let mut n = 0;
            for (k, v) in [(c"size", size), (c"mode", mode)] {
                if let (Some(v), Some(slot)) = (v, opts.get_mut(n)) {
                    *slot = (k, v);
                    n += 1;
                }
            }
            let mnt =
                new_fs(c"tmpfs", opts.get(..n).unwrap_or(&[]), attrs).at(Stage::Mount, NO_INDEX)?;
            let r = attach_at(mnt, root, target, false, create, made, buf, parent);
            sys::close(mnt);
            r
        }
        MountKind::Proc => {
            let mnt = new_fs(
                c"proc",
                &[],
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
            )
            .at(Stage::Mount, NO_INDEX)?;
            let r = attach_at(mnt, root, target, false, create, made, buf, parent);
            sys::close(mnt);
            r
        }
        MountKind::Devfs {
            first_node,
            console,
        } => {
            let t = open_mount_point(root, target, create, buf, parent)
                .at(Stage::MountTarget, NO_INDEX)?;
            devfs(t, first_node, console, attrs_set, source, buf)
        }
        MountKind::Dir { mode } => {
            let fd = open_mount_point(root, target, create, buf, parent)
                .at(Stage::MountTarget, NO_INDEX)?;
            // An O_PATH fd cannot be fchmod-ed; reopen the directory itself.
            let r = sys::openat(
                fd,
                c".",
                sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC,
                0,
            )
            .and_then(|d| {
                let r = sys::fchmod(d, mode);
                sys::close(d);
                r
            });
            sys::close(fd);
            r.at(Stage::MountTarget, NO_INDEX)
        }
        MountKind::File { contents, mode } => {
            let rel = path::relative(target);
            let (dir, _) = path::split_last(rel);
            parent
                .open(root, dir, buf, create)
                .at(Stage::MountTarget, NO_INDEX)?;
            buf.set(rel).at(Stage::MountTarget, NO_INDEX)?;
            // O_NONBLOCK: a FIFO an earlier program left in a read-write rootdir gives
            // ENXIO instead of blocking the set-up forever (for a regular file it changes
            // nothing; device nodes are refused by nodev).
            let fd = match path::open_in(
                root,
                buf.as_cstr(),
                sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC | sys::O_NOCTTY | sys::O_NONBLOCK,
                u64::from(mode),
            ) {
                Ok(fd) => fd,
                Err(sys::EROFS) if scratch => {
                    return cover_with_file(root, buf.as_cstr(), contents, mode)
                        .at(Stage::MountTarget, NO_INDEX)
                }
                Err(e) => return Err(Fail::new(Stage::MountTarget, e, NO_INDEX)),
            };
            let r = sys::write_all(fd, contents).and_then(|()| sys::fchmod(fd, mode));
            sys::close(fd);
            r.at(Stage::MountTarget, NO_INDEX)
        }
        MountKind::Symlink { original } => {
            let rel = path::relative(target);
            let (dir, name) = path::split_last(rel);
            let dir = parent
                .open(root, dir, buf, create)
                .at(Stage::MountTarget, NO_INDEX)?;
            buf.set(name)
                .and_then(|()| {
                    match sys::symlinkat(original, dir, buf.as_cstr()) {
                        // The same link from an earlier run of a read-write rootdir is fine.
                        Err(sys::EEXIST) if same_link(dir, buf.as_cstr(), original) => Ok(()),
                        r => r,
                    }
                })
                .at(Stage::MountTarget, NO_INDEX)
        }
        MountKind::Mask { null } => {
            let Some((dir, name)) = cover_dir(root, target, buf, parent)? else {
                return Ok(()); // this kernel has no such entry
            };
            mask(dir, name, source(null).ok(), attrs_set, buf).at(Stage::ProcMask, NO_INDEX)
        }
        MountKind::ReadOnly => {
            let Some((dir, name)) = cover_dir(root, target, buf, parent)? else {
                return Ok(()); // this kernel has no such entry
            };
            read_only(dir, name, buf).at(Stage::ProcMask, NO_INDEX)
        }
    }
}

/// The directory that holds a cover's target (cached in `parent`) and the target's name in
/// it; `None` where the directory is missing. Nothing is created.
fn cover_dir<'t>(
    root: RawFd,
    target: &'t [u8],
    buf: &mut PathBuf,
    parent: &mut Parent,
) -> Result<Option<(RawFd, &'t [u8])>, Fail> {
    let (dir, name) = path::split_last(path::relative(target));
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Fail::new(Stage::ProcMask, sys::EINVAL, NO_INDEX));
    }
    match parent.open(root, dir, buf, false) {
        Ok(fd) => Ok(Some((fd, name))),
        Err(sys::ENOENT) => Ok(None),
        // Resolving a path in the new root, as for any mount point (ENOSYS: no openat2).
        Err(e) => Err(Fail::new(Stage::MountTarget, e, NO_INDEX)),
    }
}

/// Whether `name` in `dir` is a directory (not following a final symlink).
fn is_dir(dir: RawFd, name: &CStr) -> bool {
    let flags = sys::O_PATH | sys::O_DIRECTORY | sys::O_NOFOLLOW | sys::O_CLOEXEC;
    sys::openat(dir, name, flags, 0).map(sys::close).is_ok()
}

/// Mask `name` in `dir`: the `/dev/null` clone `null` (made read-only here unless
/// `attrs_set`) over a file, an empty read-only tmpfs over a directory. The plan gives a
/// clone where the host's procfs has a file and none for a directory; where the entry
/// turns out to be a directory after all, the tmpfs covers it. A missing entry is skipped.
/// Covers are attached by name: `move_mount` does not follow a final symlink.
fn mask(
    dir: RawFd,
    name: &[u8],
    null: Option<RawFd>,
    attrs_set: bool,
    buf: &mut PathBuf,
) -> SysResult<()> {
    buf.set(name)?;
    if let Some(n) = null {
        let r = if attrs_set {
            Ok(())
        } else {
            sys::mount_setattr_fd(n, false, sys::MOUNT_ATTR_RDONLY, 0, 0)
        };
        match r.and_then(|()| sys::move_mount_at(n, dir, buf.as_cstr())) {
            Ok(()) | Err(sys::ENOENT) => return Ok(()),
            Err(e) if !is_dir(dir, buf.as_cstr()) => return Err(e),
            Err(_) => {}
        }
    }
    let m = new_fs(c"tmpfs", &MASK_DIR_OPTIONS, MASK_DIR_ATTRS)?;
    let r = sys::move_mount_at(m, dir, buf.as_cstr());
    sys::close(m);
    match r {
        Err(sys::ENOENT) => Ok(()),
        r => r,
    }
}

/// The tmpfs that masks a directory: empty, no room, no permissions.
pub const MASK_DIR_OPTIONS: [(&CStr, &CStr); 2] = [(c"size", c"0"), (c"mode", c"0000")];
/// Its mount flags: read-only, `nosuid`, `nodev`, `noexec`.
pub const MASK_DIR_ATTRS: u64 = sys::MOUNT_ATTR_RDONLY
    | sys::MOUNT_ATTR_NOSUID
    | sys::MOUNT_ATTR_NODEV
    | sys::MOUNT_ATTR_NOEXEC;

/// Make `name` in `dir` read-only (and `nosuid`) with everything below it, by binding it
/// onto itself: one `open_tree_attr` (Linux 6.15), else `open_tree` and `mount_setattr`.
/// A missing entry is skipped.
fn read_only(dir: RawFd, name: &[u8], buf: &mut PathBuf) -> SysResult<()> {
    const FLAGS: u32 = sys::OPEN_TREE_CLONE
        | sys::OPEN_TREE_CLOEXEC
        | sys::AT_RECURSIVE
        | sys::AT_SYMLINK_NOFOLLOW;
    const ATTRS: u64 = sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID;
    buf.set(name)?;
    let m = match sys::open_tree_attr(dir, buf.as_cstr(), FLAGS, ATTRS, 0) {
        Ok(m) => m,
        Err(sys::ENOENT) => return Ok(()),
        // An older kernel (ENOSYS) or a filter: the two calls report a real failure.
        Err(_) => {
            let m = match sys::open_tree(dir, buf.as_cstr(), FLAGS) {
                Ok(m) => m,
                Err(sys::ENOENT) => return Ok(()),
                Err(e) => return Err(e),
            };
            if let Err(e) = sys::mount_setattr_fd(m, true, ATTRS, 0, 0) {
                sys::close(m);
                return Err(e);
            }
            m
        }
    };
    let r = sys::move_mount_at(m, dir, buf.as_cstr());
    sys::close(m);
    r
}

/// A minimal /dev on its own tmpfs (`nosuid,noexec`): host device nodes bound onto empty
/// files (`mknod` is not allowed in a user namespace), a private devpts, `shm`, and links.
fn devfs(
    target: RawFd,
    first_node: u32,
    console: Option<u32>,
    attrs_set: bool,
    source: &dyn Fn(u32) -> Result<RawFd, Fail>,
    buf: &mut PathBuf,
) -> Result<(), Fail> {
    let dev = match new_fs(
        c"tmpfs",
        &[(c"mode", c"0755")],
        sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
    ) {
        Ok(fd) => fd,
        Err(e) => {
            sys::close(target);
            return Err(Fail::new(Stage::Mount, e, NO_INDEX));
        }
    };
    // Attach first so the fd can be used as a directory of the live tree.
    sys::move_mount_fd(dev, target).at(Stage::Mount, NO_INDEX)?;
    sys::close(target);
    let r = devfs_fill(dev, first_node, console, attrs_set, source, buf);
    sys::close(dev);
    r
}

/// Bind the device node clone `src` onto a new empty file `name` of `dev`, with
/// [`NODE_ATTRS`] (set here unless the clone already has them).
fn bind_node(dev: RawFd, name: &CStr, src: RawFd, attrs_set: bool) -> SysResult<()> {
    let f = sys::openat(
        dev,
        name,
        sys::O_CREAT | sys::O_EXCL | sys::O_WRONLY | sys::O_CLOEXEC,
        0o666,
    )?;
    let r = if attrs_set {
        Ok(())
    } else {
        sys::mount_setattr_fd(src, false, NODE_ATTRS, 0, 0)
    };
    r.and_then(|()| attach(src, f))
}

/// A new `nosuid` filesystem on a new directory `name` of `dev`.
fn submount(
    dev: RawFd,
    name: &CStr,
    mode: u32,
    fstype: &CStr,
    opts: &[(&CStr, &CStr)],
    attrs: u64,
) -> SysResult<()> {
    sys::mkdirat(dev, name, mode)?;
    let mnt = new_fs(fstype, opts, sys::MOUNT_ATTR_NOSUID | attrs)?;
    match sys::openat(
        dev,
        name,
        sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC,
        0,
    ) {
        Ok(t) => attach_owned(mnt, t),
        Err(e) => {
            sys::close(mnt);
            Err(e)
        }
    }
}

fn devfs_fill(
    dev: RawFd,
    first_node: u32,
    console: Option<u32>,
    attrs_set: bool,
    source: &dyn Fn(u32) -> Result<RawFd, Fail>,
    _buf: &mut PathBuf,
) -> Result<(), Fail> {
    for (i, name) in DEVFS_NODES.iter().enumerate() {
        let src = source(first_node + i as u32)?;
        bind_node(dev, name, src, attrs_set).at(Stage::Mount, NO_INDEX)?;
    }
    let at = |e: i32| Fail::new(Stage::Mount, e, NO_INDEX);
    submount(
        dev,
        c"pts",
        0o755,
        c"devpts",
        &[(c"ptmxmode", c"0666"), (c"mode", c"620")],
        sys::MOUNT_ATTR_NOEXEC,
    )
    .map_err(at)?;
    submount(
        dev,
        c"shm",
        0o1777,
        c"tmpfs",
        &[(c"mode", c"1777")],
        sys::MOUNT_ATTR_NODEV,
    )
    .map_err(at)?;
    for (link, to) in [
        (c"ptmx", c"pts/ptmx"),
        (c"fd", c"/proc/self/fd"),
        (c"stdin", c"/proc/self/fd/0"),
        (c"stdout", c"/proc/self/fd/1"),
        (c"stderr", c"/proc/self/fd/2"),
    ] {
        sys::symlinkat(to, dev, link).map_err(at)?;
    }
    if let Some(c) = console {
        bind_node(dev, c"console", source(c)?, attrs_set).map_err(at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_changes_the_cached_directory_only_at_it_or_an_ancestor() {
        assert!(changes(b"/a/b", b"a/b"));
        assert!(changes(b"/a", b"a/b"));
        assert!(changes(b"/", b"a"));
        assert!(!changes(b"/a/bc", b"a/b"));
        assert!(!changes(b"/ab", b"a/b"));
        assert!(!changes(b"/a/b/c", b"a/b"));
        assert!(!changes(b"/x", b""));
    }

    #[test]
    fn steps_taken_from_both_ends_are_each_taken_once() {
        for n in [0usize, 1, 2, 7] {
            let steps = Steps::new(n);
            let mut seen = [0u8; 7];
            let mut k = 0;
            loop {
                let t = if k % 3 == 0 {
                    steps.take_last()
                } else {
                    steps.take_first()
                };
                let Some(c) = t.and_then(|i| seen.get_mut(i)) else {
                    break;
                };
                *c += 1;
                k += 1;
            }
            assert_eq!(k, n);
            assert!(seen.iter().take(n).all(|&c| c == 1), "{n}: {seen:?}");
            assert_eq!(steps.take_first(), None);
            assert_eq!(steps.take_last(), None);
        }
        let steps = Steps::new(3);
        assert_eq!(steps.take_first(), Some(0));
        assert_eq!(steps.take_last(), Some(2));
        assert_eq!(steps.take_last(), Some(1));
        assert_eq!(steps.take_first(), None);
    }
}
