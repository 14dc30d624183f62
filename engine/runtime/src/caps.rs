//! Dropping capabilities from all five sets: the bounding and ambient sets first (while
//! `CAP_SETPCAP` is still held), then effective, permitted and inheritable with `capset`
//! once the final identity is in place.

use crate::plan::CapPlan;
use crate::sys::{self, SysResult};

/// Drop everything not in `plan.keep` from the bounding set and clear the ambient set.
pub fn drop_bounding(plan: &CapPlan) -> SysResult<()> {
    for cap in 0..=plan.last_cap.min(63) {
        if plan.keep & (1u64 << cap) == 0 {
            sys::prctl(sys::PR_CAPBSET_DROP, u64::from(cap), 0, 0, 0)?;
        }
    }
    sys::prctl(sys::PR_CAP_AMBIENT, sys::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0).map(drop)
}

/// Reduce effective and permitted to `plan.keep`, clear inheritable.
pub fn set(plan: &CapPlan) -> SysResult<()> {
    sys::capset(plan.keep, plan.keep, 0)
}
