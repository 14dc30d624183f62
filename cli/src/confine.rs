//! Landlock and seccomp: the parsed, validated settings and their mapping to the engine.
//!
//! [`apply_confinement`] maps them onto `hakoniwa::landlock::Ruleset` and
//! `Container::seccomp`; nothing is silently dropped (a rule for a resource that is not
//! restricted, or a kernel that cannot enforce a resource, is an error).

use std::collections::BTreeSet;
use std::path::PathBuf;

use hakoniwa::Container;

use crate::config::{FsAccess, LandlockResource};

/// Landlock settings gathered from the command line and the profile.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LandlockConfig {
    /// Resources to restrict (explicit, or implied by a rule).
    pub restrict: BTreeSet<LandlockResource>,
    /// Resources a profile left unrestricted (`unrestrict = true`): their rules are ignored.
    pub unrestricted: BTreeSet<LandlockResource>,
    /// File-system rules: path and access.
    pub fs: Vec<(PathBuf, FsAccess)>,
    /// TCP ports that may be bound.
    pub tcp_bind: Vec<u16>,
    /// TCP ports that may be connected to.
    pub tcp_connect: Vec<u16>,
}

impl LandlockConfig {
    /// Drop the rules of resources a profile unrestricted and nothing restricted again (the
    /// original ignores rules of a resource that is not restricted).
    pub fn drop_unrestricted_rules(&mut self) {
        let off =
            |r: LandlockResource| self.unrestricted.contains(&r) && !self.restrict.contains(&r);
        let (fs, bind, connect) = (
            off(LandlockResource::Fs),
            off(LandlockResource::TcpBind),
            off(LandlockResource::TcpConnect),
        );
        for (gone, what) in [(fs, "fs"), (bind, "tcp.bind"), (connect, "tcp.connect")] {
            if gone {
                log::debug!(
                    "Landlock: {what} is unrestricted by the profile; its rules are ignored"
                );
            }
        }
        if fs {
            self.fs.clear();
        }
        if bind {
            self.tcp_bind.clear();
        }
        if connect {
            self.tcp_connect.clear();
        }
    }

    /// Whether nothing is restricted.
    pub fn is_empty(&self) -> bool {
        self.restrict.is_empty()
            && self.fs.is_empty()
            && self.tcp_bind.is_empty()
            && self.tcp_connect.is_empty()
    }
}

/// The seccomp profile to install.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum SeccompChoice {
    /// The built-in default (podman's profile).
    #[default]
    Podman,
    /// Log instead of blocking.
    Audit,
    /// No filter.
    Unconfined,
    /// An OCI seccomp JSON file.
    File(PathBuf),
}

impl SeccompChoice {
    /// Parse `podman`, `audit`, `unconfined` or a path to an existing file.
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "podman" => SeccompChoice::Podman,
            "audit" => SeccompChoice::Audit,
            "unconfined" => SeccompChoice::Unconfined,
            "" => return Err("empty seccomp profile".into()),
            path => {
                let p = PathBuf::from(path);
                if !p.is_file() {
                    return Err(format!(
                        "seccomp profile is not podman, audit, unconfined or an existing file: {path}"
                    ));
                }
                SeccompChoice::File(p)
            }
        })
    }

    /// Name for logs and JSON.
    pub fn name(&self) -> String {
        match self {
            SeccompChoice::Podman => "podman".into(),
            SeccompChoice::Audit => "audit".into(),
            SeccompChoice::Unconfined => "unconfined".into(),
            SeccompChoice::File(p) => p.display().to_string(),
        }
    }
}

/// Map the landlock and seccomp settings onto the container.
///
/// Every listed resource is restricted in `Enforce` mode (a kernel that cannot enforce it is
/// an error); `r`, `w` and `x` map onto the full access sets of the running landlock ABI.
pub fn apply_confinement(
    container: &mut Container,
    landlock: &LandlockConfig,
    seccomp: &SeccompChoice,
) -> Result<(), String> {
    use hakoniwa::landlock::{self as ll, CompatMode, Resource, Ruleset};
    if !landlock.is_empty() {
        let mut r = Ruleset::new();
        for res in &landlock.restrict {
            let res = match res {
                LandlockResource::Fs => Resource::Fs,
                LandlockResource::TcpBind => Resource::TcpBind,
                LandlockResource::TcpConnect => Resource::TcpConnect,
                LandlockResource::UnixAbstract => {
                    r.scope(ll::Scope::AbstractUnixSocket, CompatMode::Enforce);
                    continue;
                }
                LandlockResource::Signal => {
                    r.scope(ll::Scope::Signal, CompatMode::Enforce);
                    continue;
                }
            };
            r.restrict(res, CompatMode::Enforce);
        }
        for (path, access) in &landlock.fs {
            let mut a = ll::FsAccess::empty();
            a.set(ll::FsAccess::R, access.r);
            a.set(ll::FsAccess::W, access.w);
            a.set(ll::FsAccess::X, access.x);
            r.add_fs_rule(path.clone(), a);
        }
        for port in &landlock.tcp_bind {
            r.add_net_rule(*port, Resource::TcpBind);
        }
        for port in &landlock.tcp_connect {
            r.add_net_rule(*port, Resource::TcpConnect);
        }
        container.landlock(r);
    }
    let profile = match seccomp {
        SeccompChoice::Podman => hakoniwa::seccomp::Seccomp::Podman,
        SeccompChoice::Audit => hakoniwa::seccomp::Seccomp::Audit,
        SeccompChoice::Unconfined => hakoniwa::seccomp::Seccomp::Unconfined,
        SeccompChoice::File(p) => {
            let json = std::fs::read_to_string(p)
                .map_err(|e| format!("seccomp profile {}: {e}", p.display()))?;
            hakoniwa::seccomp::Seccomp::Oci {
                name: p.display().to_string(),
                json,
            }
        }
    };
    container.seccomp(profile);
    Ok(())
}
