//! Turning container-profile entries (names, action, args, includes/excludes) into a
//! [`Policy`], shared by the OCI loader and the built-in default profile.
//!
//! Entry selection follows containers/common: `includes.caps` needs every listed capability,
//! `excludes.caps` drops the entry if any listed capability is held, `includes.arches` /
//! `excludes.arches` are matched against the native architecture's Go name (`amd64`).
//!
//! Rule merging follows libseccomp, which the OCI runtimes use:
//! - a rule whose action equals the default action is not added (libseccomp refuses it and
//!   the runtimes skip it);
//! - once a system call has an unconditional rule, that first unconditional rule decides
//!   for the whole system call (later rules are ignored; an unconditional rule replaces
//!   earlier conditional ones). A dropped rule with a *different* action is reported.
//! - conditional rules are kept in order; the first matching one decides.

use std::collections::BTreeMap;

use crate::arch::Arch;
use crate::policy::{Action, Condition, Policy};
use crate::{Error, Warning};

/// Which entries apply.
pub(crate) struct Filter<'a> {
    pub includes_caps: &'a [u32],
    pub excludes_caps: &'a [u32],
    pub includes_arches: &'a [&'a str],
    pub excludes_arches: &'a [&'a str],
}

impl Filter<'_> {
    pub fn applies(&self, caps: u64, native: Arch) -> bool {
        let has = |c: &u32| caps & (1u64 << c) != 0;
        self.includes_caps.iter().all(has)
            && !self.excludes_caps.iter().any(has)
            && (self.includes_arches.is_empty()
                || self
                    .includes_arches
                    .iter()
                    .any(|a| native.matches_go_name(a)))
            && !self
                .excludes_arches
                .iter()
                .any(|a| native.matches_go_name(a))
    }
}

struct Pending {
    name: String,
    rules: Vec<(Vec<Condition>, Action)>,
}

/// Collects rules per system call, then applies the libseccomp merge rules.
pub(crate) struct Builder {
    default: Action,
    native: Arch,
    syscalls: BTreeMap<u32, Pending>,
    pub warnings: Vec<Warning>,
    /// Rules offered with [`Builder::add`], before any is dropped or merged.
    offered: usize,
}

impl Builder {
    pub fn new(default: Action, native: Arch) -> Self {
        Builder {
            default,
            native,
            syscalls: BTreeMap::new(),
            warnings: Vec::new(),
            offered: 0,
        }
    }

    /// Add one rule for `name`. Unknown names are reported as warnings.
    pub fn add(&mut self, name: &str, conditions: &[Condition], action: Action) {
        self.offered += 1;
        if action == self.default {
            return;
        }
        let Some(nr) = self.native.syscall_nr(name) else {
            let w = Warning(format!(
                "syscall `{name}` is unknown on {:?} and was not added",
                self.native
            ));
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
            return;
        };
        self.syscalls
            .entry(nr)
            .or_insert_with(|| Pending {
                name: name.to_owned(),
                rules: Vec::new(),
            })
            .rules
            .push((conditions.to_vec(), action));
    }

    /// Add the merged rules to `policy`.
    pub fn finish(mut self, policy: &mut Policy) -> Result<Vec<Warning>, Error> {
        policy.add_profile_rules(self.offered);
        // By number: the names were looked up once already, in `add`.
        for (&nr, p) in &self.syscalls {
            let uncond = p.rules.iter().find(|(c, _)| c.is_empty()).map(|&(_, a)| a);
            if let Some(action) = uncond {
                let dropped: Vec<Action> = p
                    .rules
                    .iter()
                    .filter(|(_, a)| *a != action)
                    .map(|&(_, a)| a)
                    .collect();
                if !dropped.is_empty() {
                    self.warnings.push(Warning(format!(
                        "syscall `{}`: the unconditional {action:?} rule overrides {dropped:?}",
                        p.name
                    )));
                }
                policy.rule_nr(nr, Vec::new(), action)?;
            } else {
                for (c, a) in &p.rules {
                    policy.rule_nr(nr, c.clone(), *a)?;
                }
            }
        }
        Ok(self.warnings)
    }
}
