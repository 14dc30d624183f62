//! Landlock and seccomp: the parsed, validated settings and their mapping to the engine.
//!
//! [`apply_confinement`] is the single integration point with the engine's planned
//! `hakoniwa::landlock` and `Container::seccomp` APIs. Until they land, it accepts the
//! defaults (no landlock, the `podman` seccomp profile, or `unconfined`) and rejects
//! anything else with a clear error instead of silently running unconfined.

use std::collections::BTreeSet;
use std::path::PathBuf;

use hakoniwa::Container;

use crate::config::{FsAccess, LandlockResource};

/// Landlock settings gathered from the command line and the profile.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LandlockConfig {
    /// Resources to restrict (explicit, or implied by a rule).
    pub restrict: BTreeSet<LandlockResource>,
    /// File-system rules: path and access.
    pub fs: Vec<(PathBuf, FsAccess)>,
    /// TCP ports that may be bound.
    pub tcp_bind: Vec<u16>,
    /// TCP ports that may be connected to.
    pub tcp_connect: Vec<u16>,
}

impl LandlockConfig {
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
/// INTEGRATION POINT: when the engine gains `Container::landlock(Ruleset)` and
/// `Container::seccomp(profile)`, build the `Ruleset` here (`restrict` per resource, one
/// `add_fs_rule` per `fs` entry, `add_net_rule` per port) and pass the seccomp choice on.
pub fn apply_confinement(
    _container: &mut Container,
    landlock: &LandlockConfig,
    seccomp: &SeccompChoice,
) -> Result<(), String> {
    if !landlock.is_empty() {
        return Err(
            "landlock/seccomp are not available in this build (landlock rules were given)".into(),
        );
    }
    match seccomp {
        SeccompChoice::Podman => {
            log::debug!("Seccomp: podman (default profile; not enforced by this build's engine)");
            Ok(())
        }
        SeccompChoice::Unconfined => {
            log::debug!("Seccomp: unconfined");
            Ok(())
        }
        other => Err(format!(
            "landlock/seccomp are not available in this build (seccomp profile {})",
            other.name()
        )),
    }
}
