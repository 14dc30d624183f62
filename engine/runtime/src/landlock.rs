//! Landlock on raw syscalls: create the ruleset the parent negotiated, open each rule path
//! `O_PATH` (inside the new root), add the rules, restrict. Fails closed: any error aborts
//! the spawn.

use crate::fail::{Fail, Step};
use crate::path;
use crate::plan::LandlockPlan;
use crate::stage::{Stage, NO_INDEX};
use crate::sys;

const RULE_PATH_BENEATH: u32 = 1;
const RULE_NET_PORT: u32 = 2;

/// Rights that only make sense on directories (ABI 1..): READ_DIR, REMOVE_DIR, REMOVE_FILE,
/// MAKE_*, REFER. Masked off for rules on other file types.
const DIR_ONLY: u64 = (1 << 3) | (1 << 4) | (1 << 5) | (0x7f << 6) | (1 << 13);

#[repr(C, packed)]
struct PathBeneath {
    allowed_access: u64,
    parent_fd: i32,
}

#[repr(C)]
struct NetPort {
    allowed_access: u64,
    port: u64,
}

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

/// Size of `struct landlock_ruleset_attr` for an ABI: fs only (1..3), + net (4, 5),
/// + scoped (6..).
fn attr_size(abi: u32) -> usize {
    match abi {
        0..=3 => 8,
        4 | 5 => 16,
        _ => 24,
    }
}

/// Apply `plan` to the calling thread.
///
/// A plan that handles nothing (no handled fs or net rights, no scopes) is a no-op: the
/// kernel would refuse such a ruleset (`ENOMSG`), and there is nothing to enforce.
/// A plan whose handled bits do not fit the ruleset attribute of its ABI (net rights below
/// ABI 4, scopes below ABI 6) fails with `EINVAL` instead of silently losing them.
pub fn apply(plan: &LandlockPlan<'_>) -> Result<(), Fail> {
    if plan.handled_fs == 0 && plan.handled_net == 0 && plan.scoped == 0 {
        return Ok(());
    }
    let size = attr_size(plan.abi);
    if plan.abi == 0 || (size < 16 && plan.handled_net != 0) || (size < 24 && plan.scoped != 0) {
        return Err(Fail::new(Stage::Landlock, sys::EINVAL, NO_INDEX));
    }
    let attr = RulesetAttr {
        handled_access_fs: plan.handled_fs,
        handled_access_net: plan.handled_net,
        scoped: plan.scoped,
    };
    // SAFETY: `attr` is live and 24 bytes long, `size` is at most 24.
    let ruleset =
        unsafe { sys::landlock_create_ruleset(&attr as *const RulesetAttr as *const u8, size, 0) }
            .at(Stage::Landlock, NO_INDEX)? as i32;
    let r = add_rules(ruleset, plan).and_then(|()| {
        sys::landlock_restrict_self(ruleset, plan.restrict_flags).at(Stage::Landlock, NO_INDEX)
    });
    sys::close(ruleset);
    r
}

fn add_rules(ruleset: i32, plan: &LandlockPlan<'_>) -> Result<(), Fail> {
    if plan.fs_rules.is_empty() {
        return add_net_rules(ruleset, plan);
    }
    let root = sys::openat(
        sys::AT_FDCWD,
        c"/",
        sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC,
        0,
    )
    .at(Stage::Landlock, NO_INDEX)?;
    let r = add_fs_rules(ruleset, root, plan);
    sys::close(root);
    r?;
    add_net_rules(ruleset, plan)
}

fn add_fs_rules(ruleset: i32, root: i32, plan: &LandlockPlan<'_>) -> Result<(), Fail> {
    for (i, rule) in plan.fs_rules.iter().enumerate() {
        let i = i as u32;
        let fd = path::open_in(root, path::relative_cstr(rule.path), sys::O_PATH, 0)
            .at(Stage::Landlock, i)?;
        let is_dir = sys::openat(fd, c".", sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC, 0)
            .map(sys::close)
            .is_ok();
        let mut access = rule.access & plan.handled_fs;
        if !is_dir {
            access &= !DIR_ONLY;
        }
        let attr = PathBeneath {
            allowed_access: access,
            parent_fd: fd,
        };
        // SAFETY: `attr` is a live landlock_path_beneath_attr.
        let r = unsafe {
            sys::landlock_add_rule(
                ruleset,
                RULE_PATH_BENEATH,
                &attr as *const PathBeneath as *const u8,
            )
        };
        sys::close(fd);
        r.at(Stage::Landlock, i)?;
    }
    Ok(())
}

fn add_net_rules(ruleset: i32, plan: &LandlockPlan<'_>) -> Result<(), Fail> {
    let base = plan.fs_rules.len() as u32;
    for (i, rule) in plan.net_rules.iter().enumerate() {
        let attr = NetPort {
            allowed_access: rule.access & plan.handled_net,
            port: rule.port,
        };
        // SAFETY: `attr` is a live landlock_net_port_attr.
        unsafe {
            sys::landlock_add_rule(ruleset, RULE_NET_PORT, &attr as *const NetPort as *const u8)
        }
        .at(Stage::Landlock, base + i as u32)?;
    }
    Ok(())
}
