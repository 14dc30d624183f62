//! Sandboxes whose ids are the host's root ids: what the kernel does not stop there, and
//! what the engine does instead.
//!
//! A root caller's default map is `0 0 1`: the program runs as host uid 0 (kuid 0) inside
//! its own user namespace. Two kernel rules then work against the sandbox:
//! - files it creates in a read-write bind belong to host root, so a set-user-ID copy of a
//!   shell, or a file capability (`security.capability`), left there lets any host user
//!   become root. Unless the caller opts out ([`crate::Runctl::AllowSetid`]), the program
//!   loses `CAP_SETFCAP` and the seccomp filter denies set-id modes
//!   ([`crate::seccomp::filter::setid`]);
//! - `RLIMIT_NPROC` is not enforced for kuid 0 (`INIT_USER`): a process limit would not
//!   hold, so it is refused with an error that says why.

use crate::error::{Error, Result};
use crate::idmap::IdMap;

/// `CAP_SETFCAP`: writing `security.capability` extended attributes.
pub(crate) const CAP_SETFCAP: u32 = 31;

fn maps_host_zero(maps: &[IdMap]) -> bool {
    // A range contains host id 0 only if it starts there.
    maps.iter().any(|m| m.host_id == 0 && m.count > 0)
}

/// Whether the sandbox can hold the host's uid 0 or gid 0 (`userns`: the maps in use;
/// otherwise the caller's own ids).
pub(crate) fn reaches_host_root(
    userns: bool,
    uidmaps: &[IdMap],
    gidmaps: &[IdMap],
    euid: u32,
    egid: u32,
) -> bool {
    if userns {
        maps_host_zero(uidmaps) || maps_host_zero(gidmaps)
    } else {
        euid == 0 || egid == 0
    }
}

/// The host uid the program runs as (`uid_inside` mapped back), if known.
pub(crate) fn program_host_uid(
    userns: bool,
    uidmaps: &[IdMap],
    uid_inside: Option<u32>,
    euid: u32,
) -> Option<u32> {
    if !userns {
        return Some(uid_inside.unwrap_or(euid));
    }
    let u = uid_inside?;
    uidmaps
        .iter()
        .find(|m| u >= m.container_id && u - m.container_id < m.count)
        .map(|m| m.host_id + (u - m.container_id))
}

/// Refuse a process limit that the kernel would not enforce (the program runs as kuid 0).
pub(crate) fn check_nproc(limited: bool, program_host_uid: Option<u32>) -> Result<()> {
    if limited && program_host_uid == Some(0) {
        return Err(Error::config(
            "limit_nproc",
            "the program would run as host uid 0, which the kernel exempts from RLIMIT_NPROC, \
             so the process limit would not hold; map the sandbox to other host ids \
             (e.g. uid map 0 100000 65536) or run the program as another mapped user \
             (e.g. --userns auto --user 65534)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(container_id: u32, host_id: u32, count: u32) -> IdMap {
        IdMap::ranges(&[(container_id, host_id, count)])[0]
    }

    #[test]
    fn a_map_reaches_host_root_only_when_it_contains_host_id_zero() {
        assert!(reaches_host_root(true, &[map(0, 0, 1)], &[], 0, 0));
        assert!(reaches_host_root(
            true,
            &[map(0, 1000, 1)],
            &[map(5, 0, 1)],
            1000,
            1000
        ));
        assert!(!reaches_host_root(
            true,
            &[map(0, 100000, 65536)],
            &[map(0, 100000, 65536)],
            0,
            0
        ));
        assert!(reaches_host_root(false, &[], &[], 0, 1000));
        assert!(!reaches_host_root(false, &[], &[], 1000, 1000));
    }

    #[test]
    fn the_program_host_uid_follows_the_map() {
        let m = [map(0, 100000, 65536)];
        assert_eq!(program_host_uid(true, &m, Some(0), 0), Some(100000));
        assert_eq!(program_host_uid(true, &m, Some(65534), 0), Some(165534));
        assert_eq!(program_host_uid(true, &[map(0, 0, 1)], Some(0), 0), Some(0));
        assert_eq!(program_host_uid(false, &[], None, 0), Some(0));
    }

    #[test]
    fn a_process_limit_for_host_root_is_refused_with_the_reason() {
        let e = check_nproc(true, Some(0)).unwrap_err().to_string();
        assert!(e.contains("RLIMIT_NPROC"), "{e}");
        assert!(check_nproc(true, Some(1000)).is_ok());
        assert!(check_nproc(false, Some(0)).is_ok());
    }
}
