//! Parent-side compilation of a container and a process spec into the child's [`Plan`].
//!
//! Everything the child will read is built here, before `clone`: C strings, argv/envp
//! pointer arrays, the ordered mount plan, limits. [`Storage`] owns it all; the borrowed
//! [`Plan`] only exists inside [`Storage::with_plan`], whose caller keeps the frame alive
//! until the child has exec'd or exited.

use std::cell::Cell;
use std::ffi::{c_char, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use hakoniwa_runtime::{FdMap, Plan, RawFd, RlimitSpec};

use crate::container::Container;
use crate::error::{Error, Result};
use crate::idmap::{IdMap, Maps};
use crate::layout::Layout;
use crate::mount_plan::MountStorage;
use crate::namespace::Namespace;
use crate::process_spec::ProcessSpec;
use crate::runctl::Runctl;

/// Default `PATH` for a program name without a slash when the command sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn cstring(field: &'static str, s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| Error::config(field, format!("contains a NUL byte: {:?}", s)))
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
    /// The host's pidfd for the init to watch (see `host_watch.rs`); without one the
    /// sandbox is cloned by the main thread or a spawner thread (see `spawn.rs`).
    pub(crate) host_pidfd: Option<std::os::fd::OwnedFd>,
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
    /// A read end of the same pipe for the init, with an init.
    pub(crate) events_read_fd: RawFd,
    /// The request pipe's read end, with an init (see `init_proto::Control::request_fd`).
    pub(crate) requests_fd: RawFd,
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
            let layout = Layout::of(c)?;
            Some(MountStorage::build(
                layout,
                c.is_unshared(Namespace::Pid),
                tty.console.as_deref(),
            )?)
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
                host_pidfd: None,
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
        let watch_host = !crate::spawn::on_main_thread()
            && crate::host_watch::program_cannot_ptrace_init(storage.caps.as_ref())
            && storage.seccomp.as_ref().is_none_or(|f| f.init_watch);
        if let Some(init) = storage.init.as_mut() {
            init.memfd = crate::init::memfd()?;
            if watch_host {
                init.host_pidfd = crate::host_watch::pidfd();
            }
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
        if let Some(init) = &mut self.init {
            if crate::init::use_shared_clone(init.flags, self.seccomp.as_deref()) {
                init.flags |= hakoniwa_runtime::init_proto::FLAG_SHARED_CLONE;
            }
        }
        if let (Some(init), Some(filter)) = (&self.init, &self.seccomp) {
            crate::init::check_compiled(
                filter,
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
        let mounts = self.mount.as_ref().map(MountStorage::lend);
        let mount_plan = mounts.as_ref().map(|m| m.plan());
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
                events_read_fd: ends.events_read_fd,
                argv: init_argv.as_ptr(),
                envp: init_envp.as_ptr(),
                control: &i.control,
                flags: i.flags,
                nproc: i.nproc,
                deadline_ns: i.deadline_ns,
                host_pidfd: i
                    .host_pidfd
                    .as_ref()
                    .map_or(-1, std::os::fd::AsRawFd::as_raw_fd),
                requests_fd: ends.requests_fd,
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
            S::MountSource | S::MountRoot => self.mount.as_ref()?.source_path(i),
            S::Mount | S::MountTarget | S::ProcMask => {
                self.mount.as_ref()?.describe_op(stage, i, errno)
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
