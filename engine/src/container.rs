//! `Container`: what the sandbox is — namespaces, id maps, filesystem, limits, policy.
//!
//! A `Container` is plain, cloneable configuration (`Clone + Send + Sync`). It does nothing
//! until a [`Command`](crate::Command) made by [`Container::command`] is spawned, so one container can run
//! many commands, from many threads at once. Builder methods never fail: invalid values are
//! reported by `spawn()` as [`crate::Error::Config`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::idmap::IdMap;
use crate::mount::{BindAccess, Mount};
use crate::namespace::Namespace;
use crate::rlimit::Rlimit;
use crate::runctl::Runctl;

/// The sandbox configuration. See the module docs.
///
/// # Examples
/// ```no_run
/// use hakoniwa::Container;
/// let status = Container::new().rootfs("/").command("/bin/true").status().unwrap();
/// assert!(status.success());
/// ```
///
/// # Kernel interfaces
///
/// - [`Container::unshare`], [`Container::share`] use [namespaces(7)](https://man7.org/linux/man-pages/man7/namespaces.7.html), [clone(2)](https://man7.org/linux/man-pages/man2/clone.2.html)
/// - [`Container::uidmap`], [`Container::uidmaps`] and the gid versions use [user_namespaces(7)](https://man7.org/linux/man-pages/man7/user_namespaces.7.html), [newuidmap(1)](https://man7.org/linux/man-pages/man1/newuidmap.1.html), [subuid(5)](https://man7.org/linux/man-pages/man5/subuid.5.html)
/// - [`Container::hostname`] uses [sethostname(2)](https://man7.org/linux/man-pages/man2/gethostname.2.html), [uts_namespaces(7)](https://man7.org/linux/man-pages/man7/uts_namespaces.7.html)
/// - [`Container::setrlimit`] uses [getrlimit(2)](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
/// - [`Container::rootfs`], [`Container::rootdir`], the bind mounts use [mount_namespaces(7)](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html), [mount_setattr(2)](https://man7.org/linux/man-pages/man2/mount_setattr.2.html), [openat2(2)](https://man7.org/linux/man-pages/man2/openat2.2.html), [pivot_root(2)](https://man7.org/linux/man-pages/man2/pivot_root.2.html)
/// - [`Container::tmpfsmount`] uses [tmpfs(5)](https://man7.org/linux/man-pages/man5/tmpfs.5.html)
/// - [`Container::procfsmount`] uses [proc(5)](https://man7.org/linux/man-pages/man5/proc.5.html), [pid_namespaces(7)](https://man7.org/linux/man-pages/man7/pid_namespaces.7.html)
/// - [`Container::devfsmount`] uses [pty(7)](https://man7.org/linux/man-pages/man7/pty.7.html), [null(4)](https://man7.org/linux/man-pages/man4/null.4.html)
/// - [`Container::landlock`] uses [landlock(7)](https://man7.org/linux/man-pages/man7/landlock.7.html)
/// - [`Container::seccomp`] uses [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html)
/// - [`Container::cap_add`], [`Container::cap_drop`], [`Container::capabilities`] use [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)
/// - [`Container::network`] uses [network_namespaces(7)](https://man7.org/linux/man-pages/man7/network_namespaces.7.html)
/// - [`Container::user`] uses [credentials(7)](https://man7.org/linux/man-pages/man7/credentials.7.html), [setresuid(2)](https://man7.org/linux/man-pages/man2/setresuid.2.html), [setgroups(2)](https://man7.org/linux/man-pages/man2/getgroups.2.html)
/// - [`Runctl::AllowNewPrivs`] uses [prctl(2)](https://man7.org/linux/man-pages/man2/prctl.2.html)
#[derive(Clone, Debug)]
pub struct Container {
    pub(crate) namespaces: u8,
    pub(crate) uidmaps: Option<Vec<IdMap>>,
    pub(crate) gidmaps: Option<Vec<IdMap>>,
    pub(crate) hostname: Option<String>,
    pub(crate) rlimits: BTreeMap<Rlimit, (u64, u64)>,
    pub(crate) rootfs: Option<PathBuf>,
    pub(crate) rootdir: Option<(PathBuf, bool)>,
    pub(crate) mounts: Vec<Mount>,
    pub(crate) runctl: Vec<Runctl>,
    pub(crate) landlock: Option<crate::landlock::Ruleset>,
    pub(crate) seccomp: crate::seccomp::Seccomp,
    pub(crate) caps: u64,
    pub(crate) network: Option<crate::network::Network>,
    pub(crate) credentials: Option<(u32, u32, Option<Vec<u32>>)>,
    pub(crate) init: bool,
    pub(crate) peak_memory: bool,
}

impl Default for Container {
    fn default() -> Self {
        Container::new()
    }
}

impl Container {
    /// A sandbox with new user, mount and PID namespaces; the caller's uid and gid map to
    /// themselves; the root is an empty tmpfs with a procfs at `/proc`.
    pub fn new() -> Self {
        let mut c = Container::empty();
        c.unshare(Namespace::User)
            .unshare(Namespace::Mount)
            .unshare(Namespace::Pid);
        c.procfsmount("/proc");
        c
    }

    /// No namespaces at all: the program runs in the host's filesystem and process tree,
    /// confined only by limits, landlock and seccomp.
    pub fn empty() -> Self {
        Container {
            namespaces: 0,
            uidmaps: None,
            gidmaps: None,
            hostname: None,
            rlimits: BTreeMap::new(),
            rootfs: None,
            rootdir: None,
            mounts: Vec::new(),
            runctl: Vec::new(),
            landlock: None,
            seccomp: crate::seccomp::Seccomp::Podman,
            caps: crate::caps::DEFAULT,
            network: None,
            credentials: None,
            init: true,
            peak_memory: false,
        }
    }

    /// Create a new namespace of this kind for the program.
    pub fn unshare(&mut self, ns: Namespace) -> &mut Self {
        self.namespaces |= ns.bit();
        self
    }

    /// Share the caller's namespace of this kind (undo [`Container::unshare`]).
    pub fn share(&mut self, ns: Namespace) -> &mut Self {
        self.namespaces &= !ns.bit();
        self
    }

    /// Whether a namespace is unshared.
    pub fn is_unshared(&self, ns: Namespace) -> bool {
        self.namespaces & ns.bit() != 0
    }

    /// Map one uid: the caller's uid appears as `container_id` inside.
    pub fn uidmap(&mut self, container_id: u32) -> &mut Self {
        let host_id = rustix::process::geteuid().as_raw();
        self.uidmaps = Some(vec![IdMap {
            container_id,
            host_id,
            count: 1,
        }]);
        self
    }

    /// Map one gid: the caller's gid appears as `container_id` inside.
    pub fn gidmap(&mut self, container_id: u32) -> &mut Self {
        let host_id = rustix::process::getegid().as_raw();
        self.gidmaps = Some(vec![IdMap {
            container_id,
            host_id,
            count: 1,
        }]);
        self
    }

    /// Map uid ranges `(container, host, count)`. Ranges other than the caller's own id
    /// are written through the setuid `newuidmap` helper when the caller is not root.
    pub fn uidmaps(&mut self, maps: &[(u32, u32, u32)]) -> &mut Self {
        self.uidmaps = Some(IdMap::ranges(maps));
        self
    }

    /// Map gid ranges `(container, host, count)` (through `newgidmap` when needed).
    pub fn gidmaps(&mut self, maps: &[(u32, u32, u32)]) -> &mut Self {
        self.gidmaps = Some(IdMap::ranges(maps));
        self
    }

    /// Set the host name; implies a new UTS namespace.
    pub fn hostname(&mut self, name: &str) -> &mut Self {
        self.hostname = Some(name.to_string());
        self.unshare(Namespace::Uts)
    }

    /// Set a resource limit (`u64::MAX` = unlimited).
    pub fn setrlimit(&mut self, resource: Rlimit, soft: u64, hard: u64) -> &mut Self {
        self.rlimits.insert(resource, (soft, hard));
        self
    }

    /// Populate the root from another root directory: for `"/"` the host's `/bin /etc /lib
    /// /lib32 /lib64 /libx32 /sbin /usr` (those that exist), for any other directory every
    /// top-level entry. Directories are bound read-only; symlinks are recreated.
    pub fn rootfs(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.rootfs = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Use an existing host directory as the root instead of a tmpfs (read-only unless
    /// `rw`). Device nodes in it do not work (`nodev`).
    ///
    /// A read-only rootdir is never written to: the root is a tmpfs that holds read-only
    /// binds (recursive, so mounts below them are read-only too) of the directory's
    /// top-level entries, so missing mount points are made in the tmpfs, and a
    /// [`Container::file`] over an existing file is a copy bound over it. A read-write
    /// rootdir is the root itself, and must hold the mount points the layout needs (`/proc`
    /// and the targets of mounts): the engine creates none on the host, so `spawn()` fails
    /// with [`crate::Error::Config`] naming each missing one.
    pub fn rootdir(&mut self, dir: impl AsRef<Path>, rw: bool) -> &mut Self {
        self.rootdir = Some((dir.as_ref().to_path_buf(), rw));
        self
    }

    /// Add one entry to the filesystem layout (what the builder methods below do; see
    /// [`Mount`] and [`crate::layout`] for how entries combine).
    ///
    /// # Examples
    /// ```
    /// use hakoniwa::{Container, Mount};
    /// let mut c = Container::new();
    /// c.mount(Mount::Tmpfs { target: "/tmp".into(), size: Some(1 << 20), mode: Some(0o1777) });
    /// ```
    pub fn mount(&mut self, entry: Mount) -> &mut Self {
        self.mounts.push(entry);
        self
    }

    fn add_bind(&mut self, source: &Path, target: &Path, access: BindAccess) -> &mut Self {
        self.mount(Mount::Bind {
            source: source.into(),
            target: target.into(),
            access,
        })
    }

    /// Bind a host path read-only (recursively) at `target`. Device nodes below it do not
    /// work (`nodev`).
    pub fn bindmount_ro(
        &mut self,
        source: impl AsRef<Path>,
        target: impl AsRef<Path>,
    ) -> &mut Self {
        self.add_bind(source.as_ref(), target.as_ref(), BindAccess::ReadOnly)
    }

    /// Bind a host path read-write at `target`. Device nodes below it do not work
    /// (`nodev`). Mount points are never created inside it: a mount whose target lies in
    /// this bind needs its mount point to exist on the host already (setup fails with
    /// `ENOENT` naming the host path otherwise).
    pub fn bindmount_rw(
        &mut self,
        source: impl AsRef<Path>,
        target: impl AsRef<Path>,
    ) -> &mut Self {
        self.add_bind(source.as_ref(), target.as_ref(), BindAccess::ReadWrite)
    }

    /// Bind a host path read-write at `target` **with device access**: the program can
    /// open, read and write the host device nodes below it.
    ///
    /// # Warning
    /// This is dangerous. A device bind of `/dev` lets the program read and overwrite the
    /// host's disks (`/dev/sda`, loop devices), inject input (`/dev/uinput`) and reach
    /// terminals and `/dev/kvm`, within the caller's own permissions. Bind single nodes you
    /// need (say one `/dev/dri/renderD128`) rather than directories; the minimal
    /// [`Container::devfsmount`] is enough for most programs.
    ///
    /// # Examples
    /// ```no_run
    /// use hakoniwa::Container;
    /// let mut c = Container::new();
    /// c.rootfs("/").bindmount_dev("/dev/dri/renderD128", "/dev/dri/renderD128");
    /// ```
    pub fn bindmount_dev(
        &mut self,
        source: impl AsRef<Path>,
        target: impl AsRef<Path>,
    ) -> &mut Self {
        self.add_bind(source.as_ref(), target.as_ref(), BindAccess::Device)
    }

    /// A minimal /dev at `target`: a tmpfs with the host's `null`, `zero`, `full`, `random`,
    /// `urandom` and `tty` nodes bound read-only (they work as devices; their host inodes
    /// cannot be changed), a private devpts, `shm` and the usual links.
    pub fn devfsmount(&mut self, target: impl AsRef<Path>) -> &mut Self {
        self.mount(Mount::Devfs {
            target: target.as_ref().into(),
        })
    }

    /// A new tmpfs at `target`.
    pub fn tmpfsmount(&mut self, target: impl AsRef<Path>) -> &mut Self {
        self.mount(Mount::Tmpfs {
            target: target.as_ref().into(),
            size: None,
            mode: None,
        })
    }

    /// A new tmpfs with an optional size limit (bytes) and mode.
    pub fn tmpfsmount_with(
        &mut self,
        target: impl AsRef<Path>,
        size: Option<u64>,
        mode: Option<u32>,
    ) -> &mut Self {
        self.mount(Mount::Tmpfs {
            target: target.as_ref().into(),
            size,
            mode,
        })
    }

    /// A new procfs (requires a new PID namespace).
    pub fn procfsmount(&mut self, target: impl AsRef<Path>) -> &mut Self {
        self.mount(Mount::Proc {
            target: target.as_ref().into(),
        })
    }

    /// Create a directory (and its parents).
    pub fn dir(&mut self, target: impl AsRef<Path>, mode: u32) -> &mut Self {
        self.mount(Mount::Dir {
            target: target.as_ref().into(),
            mode,
        })
    }

    /// Create a file with contents (and its parents).
    pub fn file(&mut self, target: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> &mut Self {
        self.mount(Mount::File {
            target: target.as_ref().into(),
            contents: contents.as_ref().to_vec(),
        })
    }

    /// Create a symbolic link `link -> original`.
    pub fn symlink(&mut self, original: impl AsRef<Path>, link: impl AsRef<Path>) -> &mut Self {
        self.mount(Mount::Symlink {
            original: original.as_ref().into(),
            target: link.as_ref().into(),
        })
    }

    /// Confine the program with a landlock ruleset (applied after the mounts, so rule
    /// paths are paths inside the sandbox). See [`crate::landlock`].
    pub fn landlock(&mut self, ruleset: crate::landlock::Ruleset) -> &mut Self {
        self.landlock = Some(ruleset);
        self
    }

    /// Choose the seccomp filter (default: [`crate::seccomp::Seccomp::Podman`]).
    pub fn seccomp(&mut self, profile: crate::seccomp::Seccomp) -> &mut Self {
        self.seccomp = profile;
        self
    }

    /// Give a uid-0 program a capability beyond the default set (number, see
    /// [`crate::caps::from_name`]). Unknown numbers are reported by `spawn()`.
    pub fn cap_add(&mut self, cap: u32) -> &mut Self {
        self.caps |= 1u64.checked_shl(cap).unwrap_or(1 << 63);
        self
    }

    /// Take a capability away from a uid-0 program.
    pub fn cap_drop(&mut self, cap: u32) -> &mut Self {
        self.caps &= !1u64.checked_shl(cap).unwrap_or(0);
        self
    }

    /// Keep exactly these capabilities for a uid-0 program (`0` drops all).
    pub fn capabilities(&mut self, mask: u64) -> &mut Self {
        self.caps = mask;
        self
    }

    /// Choose the network: `Network::None` (new namespace, `lo` up), `Network::Host` (share
    /// the caller's, even if unshared before) or pasta (`Pasta::default().args([...])`).
    pub fn network(&mut self, network: impl Into<crate::network::Network>) -> &mut Self {
        let network = network.into();
        match network {
            crate::network::Network::Host => self.share(Namespace::Network),
            _ => self.unshare(Namespace::Network),
        };
        self.network = Some(network);
        self
    }

    /// Run the program as `uid`/`gid` of the sandbox's user namespace (those ids must be
    /// mapped, e.g. with [`Container::uidmaps`]). `groups` sets the supplementary groups;
    /// `None` clears them where the user namespace allows `setgroups` and leaves them
    /// otherwise.
    pub fn user(&mut self, uid: u32, gid: u32, groups: Option<&[u32]>) -> &mut Self {
        self.credentials = Some((uid, gid, groups.map(<[u32]>::to_vec)));
        self
    }

    /// Run a small init as PID 1 of the PID namespace (the default), or the program itself
    /// (`false`, the original hakoniwa's layout).
    ///
    /// The init (`hakoniwa-init`, its own static executable run from a sealed memfd, under
    /// the same mounts, identity, landlock and seccomp as the program) starts the program in
    /// its own process group, forwards signals to it, reaps orphans, and reports the
    /// program's end (its wait status and `rusage`), so the program behaves as it does
    /// outside a sandbox: Ctrl-C and `kill -TERM` end a program without handlers, Ctrl-Z
    /// stops it, `kill -SEGV $$` gives 139. `ps` inside shows `hakoniwa-init` as PID 1 and
    /// the program as PID 2; the init counts as one process of the user for
    /// `RLIMIT_NPROC`. A custom seccomp profile must allow what the init needs: `clone`,
    /// `wait4`, `kill`, `rt_sigtimedwait`, `rt_sigprocmask`, `setpgid`, `ioctl(TIOCSPGRP)`,
    /// `prctl`, `prlimit64`, `fcntl`, `close_range`, `clock_gettime`, `write`, `execve`,
    /// `execveat` (the engine checks the filter before spawning and names what is missing).
    ///
    /// With `false` the program is PID 1, and the kernel's rules for PID 1 apply: it
    /// receives only signals it has a handler for (Ctrl-C, Ctrl-Z and `kill -TERM` do
    /// nothing to a program without handlers; only SIGKILL from outside always works), it
    /// cannot die from a signal it sends itself, and orphans it does not wait for stay
    /// zombies until the sandbox ends. The program still gets its own process group and the
    /// terminal's foreground. Without a PID namespace there is no init either way.
    ///
    /// # Examples
    /// ```no_run
    /// use hakoniwa::Container;
    /// let mut c = Container::new();
    /// c.rootfs("/").init(false); // the program is PID 1
    /// let out = c.command("/bin/sh").args(["-c", "echo $$"]).output().unwrap();
    /// assert_eq!(out.stdout, b"1\n");
    /// ```
    pub fn init(&mut self, on: bool) -> &mut Self {
        self.init = on;
        self
    }

    /// Measure the program's own peak memory (`ExitStatus::usage.max_rss_kb`; default off).
    ///
    /// The sandbox's seccomp program then turns the program's `exit_group` into a user
    /// notification that an engine thread answers after reading `VmHWM` (see the crate
    /// docs): a round trip at exit and one engine thread per process. Without a seccomp
    /// filter ([`crate::seccomp::Seccomp::Unconfined`]) there is nothing to hook and the
    /// figure stays `None`, as it does when this is off.
    ///
    /// # Examples
    /// ```no_run
    /// let mut c = hakoniwa::Container::new();
    /// c.rootfs("/").peak_memory(true);
    /// let s = c.command("/bin/true").status().unwrap();
    /// println!("{:?} KiB", s.usage.max_rss_kb);
    /// ```
    pub fn peak_memory(&mut self, on: bool) -> &mut Self {
        self.peak_memory = on;
        self
    }

    /// Turn on a run-time switch.
    pub fn runctl(&mut self, ctl: Runctl) -> &mut Self {
        if !self.runctl.contains(&ctl) {
            self.runctl.push(ctl);
        }
        self
    }

    /// Whether a run-time switch is on.
    pub fn has_runctl(&self, ctl: Runctl) -> bool {
        self.runctl.contains(&ctl)
    }
}

/// Reading the configuration back, so front ends and bindings can show it (the CLI's
/// `--print-config`, a C or Python caller's own checks). The values are as set: nothing is
/// validated or resolved here ([`crate::Command::prepare`] does that).
///
/// # Examples
/// ```
/// use hakoniwa::{Container, Namespace, Rlimit};
/// let mut c = Container::new();
/// c.hostname("box").setrlimit(Rlimit::Nofile, 64, 64);
/// assert_eq!(c.get_hostname(), Some("box"));
/// assert!(c.get_namespaces().any(|ns| ns == Namespace::Uts));
/// assert_eq!(c.get_rlimit(Rlimit::Nofile), Some((64, 64)));
/// ```
impl Container {
    /// The namespaces unshared, in [`Namespace::ALL`] order.
    pub fn get_namespaces(&self) -> impl Iterator<Item = Namespace> + '_ {
        Namespace::ALL
            .iter()
            .copied()
            .filter(|ns| self.is_unshared(*ns))
    }

    /// The uid map as set (`None`: the caller's uid maps to itself).
    pub fn get_uidmaps(&self) -> Option<&[IdMap]> {
        self.uidmaps.as_deref()
    }

    /// The gid map as set (`None`: the caller's gid maps to itself).
    pub fn get_gidmaps(&self) -> Option<&[IdMap]> {
        self.gidmaps.as_deref()
    }

    /// The host name, when set.
    pub fn get_hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }

    /// The `(soft, hard)` limit set for a resource.
    pub fn get_rlimit(&self, resource: Rlimit) -> Option<(u64, u64)> {
        self.rlimits.get(&resource).copied()
    }

    /// Every resource limit set, as `(resource, soft, hard)` in [`Rlimit`] order.
    pub fn get_rlimits(&self) -> impl Iterator<Item = (Rlimit, u64, u64)> + '_ {
        self.rlimits
            .iter()
            .map(|(r, (soft, hard))| (*r, *soft, *hard))
    }

    /// The directory [`Container::rootfs`] populates the root from.
    pub fn get_rootfs(&self) -> Option<&Path> {
        self.rootfs.as_deref()
    }

    /// The directory [`Container::rootdir`] uses as the root, and whether it is writable.
    pub fn get_rootdir(&self) -> Option<(&Path, bool)> {
        self.rootdir.as_ref().map(|(dir, rw)| (dir.as_path(), *rw))
    }

    /// The filesystem layout's entries in the order they were added (the procfs of
    /// [`Container::new`] first), without the `rootfs`/`rootdir` expansion; the layout
    /// with it is [`crate::layout::Layout::of`].
    pub fn get_mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// The run-time switches turned on, in the order they were.
    pub fn get_runctl(&self) -> &[Runctl] {
        &self.runctl
    }

    /// The landlock ruleset, when one is set.
    pub fn get_landlock(&self) -> Option<&crate::landlock::Ruleset> {
        self.landlock.as_ref()
    }

    /// The seccomp filter choice.
    pub fn get_seccomp(&self) -> &crate::seccomp::Seccomp {
        &self.seccomp
    }

    /// The capabilities a uid-0 program keeps (bit n = capability n).
    pub fn get_capabilities(&self) -> u64 {
        self.caps
    }

    /// The network choice, when one was made with [`Container::network`] (`None`: the
    /// namespace setting alone decides).
    pub fn get_network(&self) -> Option<&crate::network::Network> {
        self.network.as_ref()
    }

    /// The `(uid, gid, groups)` set with [`Container::user`].
    pub fn get_user(&self) -> Option<(u32, u32, Option<&[u32]>)> {
        self.credentials
            .as_ref()
            .map(|(uid, gid, groups)| (*uid, *gid, groups.as_deref()))
    }

    /// Whether an init runs as PID 1 (with a PID namespace).
    pub fn get_init(&self) -> bool {
        self.init
    }

    /// Whether the program's peak memory is measured.
    pub fn get_peak_memory(&self) -> bool {
        self.peak_memory
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_container_shows_its_defaults() {
        let c = Container::new();
        let ns: Vec<Namespace> = c.get_namespaces().collect();
        for n in [Namespace::User, Namespace::Mount, Namespace::Pid] {
            assert!(ns.contains(&n), "{n:?} in {ns:?}");
        }
        assert_eq!(ns.len(), 3);
        assert!(c.get_uidmaps().is_none() && c.get_gidmaps().is_none());
        assert_eq!(c.get_hostname(), None);
        assert_eq!(c.get_rlimits().count(), 0);
        assert_eq!(c.get_rootfs(), None);
        assert_eq!(c.get_rootdir(), None);
        assert!(c.get_runctl().is_empty());
        assert!(c.get_landlock().is_none());
        assert_eq!(c.get_seccomp(), &crate::seccomp::Seccomp::Podman);
        assert_eq!(c.get_capabilities(), crate::caps::DEFAULT);
        assert!(c.get_network().is_none());
        assert_eq!(c.get_user(), None);
        assert!(c.get_init());
        assert!(!c.get_peak_memory());
    }

    #[test]
    fn a_container_shows_every_setting_it_holds() {
        let mut c = Container::empty();
        c.unshare(Namespace::User)
            .uidmaps(&[(0, 100_000, 65_536)])
            .gidmaps(&[(0, 200_000, 10), (10, 300_000, 5)])
            .hostname("box")
            .setrlimit(Rlimit::Nofile, 64, 128)
            .setrlimit(Rlimit::As, 1, 2)
            .rootfs("/srv/root")
            .rootdir("/srv/dir", true)
            .runctl(Runctl::AllowSetid)
            .runctl(Runctl::AllowNewPrivs)
            .landlock(crate::landlock::Ruleset::new())
            .seccomp(crate::seccomp::Seccomp::Audit)
            .capabilities(0b101)
            .network(crate::network::Network::None)
            .user(5, 6, Some(&[7, 8]))
            .init(false)
            .peak_memory(true);
        let ns: Vec<Namespace> = c.get_namespaces().collect();
        for n in [Namespace::User, Namespace::Uts, Namespace::Network] {
            assert!(ns.contains(&n), "{n:?} in {ns:?}");
        }
        assert_eq!(ns.len(), 3);
        let id = |container_id, host_id, count| IdMap {
            container_id,
            host_id,
            count,
        };
        assert_eq!(c.get_uidmaps(), Some(&[id(0, 100_000, 65_536)][..]));
        assert_eq!(
            c.get_gidmaps(),
            Some(&[id(0, 200_000, 10), id(10, 300_000, 5)][..])
        );
        assert_eq!(c.get_hostname(), Some("box"));
        assert_eq!(c.get_rlimit(Rlimit::Nofile), Some((64, 128)));
        assert_eq!(c.get_rlimit(Rlimit::Cpu), None);
        let mut limits: Vec<_> = c.get_rlimits().collect();
        limits.sort_by_key(|(r, _, _)| *r as u32);
        let mut want = vec![(Rlimit::Nofile, 64, 128), (Rlimit::As, 1, 2)];
        want.sort_by_key(|(r, _, _)| *r as u32);
        assert_eq!(limits, want);
        assert_eq!(c.get_rootfs(), Some(Path::new("/srv/root")));
        assert_eq!(c.get_rootdir(), Some((Path::new("/srv/dir"), true)));
        assert_eq!(c.get_runctl(), [Runctl::AllowSetid, Runctl::AllowNewPrivs]);
        assert!(c.has_runctl(Runctl::AllowSetid) && !c.has_runctl(Runctl::RootdirRW));
        assert!(c.get_landlock().is_some());
        assert_eq!(c.get_seccomp(), &crate::seccomp::Seccomp::Audit);
        assert_eq!(c.get_capabilities(), 0b101);
        assert!(matches!(
            c.get_network(),
            Some(crate::network::Network::None)
        ));
        assert_eq!(c.get_user(), Some((5, 6, Some(&[7, 8][..]))));
        assert!(!c.get_init());
        assert!(c.get_peak_memory());
    }
}
