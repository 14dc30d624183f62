//! [`Ruleset`] (configuration), its negotiation against an ABI, and the [`Prepared`] result.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use hakoniwa_runtime::{LandlockFsRule, LandlockNetRule, LandlockPlan};

use super::abi::{self, LATEST_ABI, NET_ABI, SCOPE_ABI};
use super::{CompatMode, Dropped, FsAccess, LandlockError, NotEnforced, Resource, Scope};

/// What to restrict with landlock, and what stays allowed. Plain data: build it, clone it,
/// share it; nothing touches the kernel until [`Ruleset::prepare`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruleset {
    fs: Option<CompatMode>,
    tcp_bind: Option<CompatMode>,
    tcp_connect: Option<CompatMode>,
    scope_abstract_unix: Option<CompatMode>,
    scope_signal: Option<CompatMode>,
    fs_rules: Vec<(PathBuf, FsAccess)>,
    net_rules: Vec<(u16, Resource)>,
}

impl Ruleset {
    /// A ruleset that restricts nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Restrict `resource`: everything of it is denied except what rules allow. Calling it
    /// again for the same resource replaces the mode.
    pub fn restrict(&mut self, resource: Resource, mode: CompatMode) -> &mut Self {
        *self.resource_slot(resource) = Some(mode);
        self
    }

    /// Allow `access` to `path` and everything beneath it. `path` must be absolute; it is
    /// resolved inside the sandbox. Requires [`Resource::Fs`] to be restricted.
    pub fn add_fs_rule(&mut self, path: impl Into<PathBuf>, access: FsAccess) -> &mut Self {
        self.fs_rules.push((path.into(), access));
        self
    }

    /// Allow TCP `port` for `resource` ([`Resource::TcpBind`] or
    /// [`Resource::TcpConnect`]), which must be restricted.
    pub fn add_net_rule(&mut self, port: u16, resource: Resource) -> &mut Self {
        self.net_rules.push((port, resource));
        self
    }

    /// Confine the sandbox to its own landlock domain for `scope` (ABI 6). Calling it again
    /// for the same scope replaces the mode.
    pub fn scope(&mut self, scope: Scope, mode: CompatMode) -> &mut Self {
        match scope {
            Scope::AbstractUnixSocket => self.scope_abstract_unix = Some(mode),
            Scope::Signal => self.scope_signal = Some(mode),
        }
        self
    }

    /// Whether nothing is restricted and no scope is set.
    pub fn is_empty(&self) -> bool {
        self.fs.is_none()
            && self.tcp_bind.is_none()
            && self.tcp_connect.is_none()
            && self.scope_abstract_unix.is_none()
            && self.scope_signal.is_none()
            && self.fs_rules.is_empty()
            && self.net_rules.is_empty()
    }

    fn resource_slot(&mut self, resource: Resource) -> &mut Option<CompatMode> {
        match resource {
            Resource::Fs => &mut self.fs,
            Resource::TcpBind => &mut self.tcp_bind,
            Resource::TcpConnect => &mut self.tcp_connect,
        }
    }

    fn mode(&self, resource: Resource) -> Option<CompatMode> {
        match resource {
            Resource::Fs => self.fs,
            Resource::TcpBind => self.tcp_bind,
            Resource::TcpConnect => self.tcp_connect,
        }
    }

    /// Negotiate against landlock ABI `abi` (normally [`kernel_abi()`](super::kernel_abi);
    /// 0 means no landlock) and build what the child needs.
    ///
    /// Errors, checked in this order: invalid rules ([`LandlockError::BadPath`],
    /// [`LandlockError::EmptyAccess`], [`LandlockError::NotANetResource`]), rules for
    /// resources that are not restricted ([`LandlockError::RuleWithoutRestriction`]), then
    /// resources the ABI cannot enforce in [`CompatMode::Enforce`]
    /// ([`LandlockError::Unsupported`]).
    pub fn prepare(&self, abi: u32) -> Result<Prepared, LandlockError> {
        let kernel_abi = abi;
        let abi = abi.min(LATEST_ABI);

        let mut paths = Vec::with_capacity(self.fs_rules.len());
        for (path, access) in &self.fs_rules {
            let shown = path.display().to_string();
            if !path.is_absolute() {
                return Err(LandlockError::BadPath(shown));
            }
            let c = CString::new(path.as_os_str().as_bytes())
                .map_err(|_| LandlockError::BadPath(shown.clone()))?;
            if access.is_empty() {
                return Err(LandlockError::EmptyAccess(shown));
            }
            if self.fs.is_none() {
                return Err(LandlockError::RuleWithoutRestriction {
                    resource: "fs",
                    rule: shown,
                });
            }
            paths.push(c);
        }
        for &(port, resource) in &self.net_rules {
            if resource == Resource::Fs {
                return Err(LandlockError::NotANetResource { port });
            }
            if self.mode(resource).is_none() {
                return Err(LandlockError::RuleWithoutRestriction {
                    resource: resource.name(),
                    rule: port.to_string(),
                });
            }
        }

        let mut report = Enforcement {
            abi,
            handled_fs: 0,
            handled_net: 0,
            scoped: 0,
            dropped: Vec::new(),
        };
        let mut negotiate =
            |what: NotEnforced, mode: Option<CompatMode>, needed: u32, rules: usize| match mode {
                None => Ok(false),
                Some(_) if abi >= needed => Ok(true),
                Some(CompatMode::Enforce) => Err(LandlockError::Unsupported {
                    resource: match what {
                        NotEnforced::Resource(r) => r.name(),
                        NotEnforced::Scope(s) => s.name(),
                        NotEnforced::FsRight(_) => "fs",
                    },
                    needed_abi: needed,
                    kernel_abi,
                }),
                Some(CompatMode::BestEffort) => {
                    report.dropped.push(Dropped {
                        what,
                        needed_abi: needed,
                        kernel_abi,
                        rules,
                    });
                    Ok(false)
                }
            };
        let count = |r: Resource| self.net_rules.iter().filter(|(_, x)| *x == r).count();
        let res = NotEnforced::Resource;
        let fs = negotiate(
            res(Resource::Fs),
            self.fs,
            Resource::Fs.min_abi(),
            self.fs_rules.len(),
        )?;
        let net = |r: Resource, mode| (res(r), mode, NET_ABI, count(r));
        let scope = |s: Scope, mode| (NotEnforced::Scope(s), mode, SCOPE_ABI, 0);
        let mut enforced = [false; 4];
        for (on, (what, mode, needed, rules)) in enforced.iter_mut().zip([
            net(Resource::TcpBind, self.tcp_bind),
            net(Resource::TcpConnect, self.tcp_connect),
            scope(Scope::AbstractUnixSocket, self.scope_abstract_unix),
            scope(Scope::Signal, self.scope_signal),
        ]) {
            *on = negotiate(what, mode, needed, rules)?;
        }
        let [bind, connect, unix, signal] = enforced;

        if fs {
            report.handled_fs = abi::fs_rights(abi);
            // Rights newer than the ABI stay unrestricted: say so (REFER on ABI 1 is
            // always denied by the kernel, which is stricter, so it is not listed).
            for (bit, since) in [(abi::FS_TRUNCATE, 3), (abi::FS_IOCTL_DEV, 5)] {
                if report.handled_fs & bit == 0 {
                    report.dropped.push(Dropped {
                        what: NotEnforced::FsRight(bit),
                        needed_abi: since,
                        kernel_abi,
                        rules: 0,
                    });
                }
            }
        }
        if bind {
            report.handled_net |= abi::NET_BIND_TCP;
        }
        if connect {
            report.handled_net |= abi::NET_CONNECT_TCP;
        }
        if unix {
            report.scoped |= abi::SCOPE_ABSTRACT_UNIX_SOCKET;
        }
        if signal {
            report.scoped |= abi::SCOPE_SIGNAL;
        }

        let paths = if fs { paths } else { Vec::new() };
        let mut fs_rules = Vec::with_capacity(paths.len());
        for (c, (_, access)) in paths.iter().zip(&self.fs_rules) {
            // SAFETY: the bytes live in the heap buffer of a `CString` that is moved into
            // `Prepared::paths` below together with this reference; that buffer does not
            // move when the `CString` or the `Vec` moves, `Prepared` never mutates or
            // drops `paths` while it lives, and the `'static` lifetime never leaves
            // `Prepared` (`plan` shortens it to the borrow of `self`).
            let path: &'static CStr = unsafe { &*(c.as_c_str() as *const CStr) };
            fs_rules.push(LandlockFsRule {
                path,
                access: access.rights(abi),
            });
        }
        let net_rules = self
            .net_rules
            .iter()
            .filter_map(|&(port, r)| {
                let bit = match r {
                    Resource::TcpBind if bind => abi::NET_BIND_TCP,
                    Resource::TcpConnect if connect => abi::NET_CONNECT_TCP,
                    _ => return None,
                };
                Some(LandlockNetRule {
                    port: u64::from(port),
                    access: bit,
                })
            })
            .collect();

        Ok(Prepared {
            fs_rules,
            net_rules,
            paths,
            report,
        })
    }
}

/// What a [`Prepared`] ruleset enforces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enforcement {
    /// ABI the ruleset is built for: the kernel's, capped at [`LATEST_ABI`].
    pub abi: u32,
    /// `handled_access_fs`: all filesystem rights of `abi` when `Fs` is restricted, else 0.
    pub handled_fs: u64,
    /// `handled_access_net` (`NET_BIND_TCP`, `NET_CONNECT_TCP`).
    pub handled_net: u64,
    /// `scoped` (`SCOPE_ABSTRACT_UNIX_SOCKET`, `SCOPE_SIGNAL`).
    pub scoped: u64,
    /// Requested restrictions that are not enforced (their `Display` is one line each):
    /// resources and scopes dropped in [`CompatMode::BestEffort`], and filesystem rights
    /// newer than `abi` (in either mode). Empty when everything requested is enforced.
    pub dropped: Vec<Dropped>,
}

impl Enforcement {
    /// Whether the ruleset restricts nothing (the child then skips landlock entirely).
    pub fn is_noop(&self) -> bool {
        self.handled_fs == 0 && self.handled_net == 0 && self.scoped == 0
    }
}

/// A negotiated ruleset: owns the rule paths and rule tables the child reads.
///
/// Not `Clone` on purpose: its rule table points into its own path storage.
#[derive(Debug)]
pub struct Prepared {
    // Points into `paths`; declared first so it is dropped first.
    fs_rules: Vec<LandlockFsRule<'static>>,
    net_rules: Vec<LandlockNetRule>,
    paths: Vec<CString>,
    report: Enforcement,
}

impl Prepared {
    /// The plan for [`hakoniwa_runtime::landlock::apply`], borrowing from `self`.
    pub fn plan(&self) -> LandlockPlan<'_> {
        LandlockPlan {
            abi: self.report.abi,
            handled_fs: self.report.handled_fs,
            handled_net: self.report.handled_net,
            scoped: self.report.scoped,
            fs_rules: &self.fs_rules,
            net_rules: &self.net_rules,
            restrict_flags: 0,
        }
    }

    /// What is enforced and what was dropped.
    pub fn report(&self) -> &Enforcement {
        &self.report
    }

    /// Number of path rules kept (equals the configured ones unless `Fs` was dropped).
    pub fn fs_rule_count(&self) -> usize {
        debug_assert_eq!(self.fs_rules.len(), self.paths.len());
        self.paths.len()
    }
}
