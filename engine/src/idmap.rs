//! Writing the child's uid/gid maps from the parent.
//!
//! The child waits (on the go-ahead pipe) until this is done: before the maps exist its ids
//! are unmapped and it could not even create files. A privileged caller writes any map
//! directly. An unprivileged caller may write a one-line map of its own id (after denying
//! `setgroups` for the gid map); anything else goes through the setuid `newuidmap` /
//! `newgidmap` helpers from the `uidmap` package, which check `/etc/subuid` and `/etc/subgid`.

use std::io::Write;

use crate::error::{Error, Result, Stage};

/// One range of an id map: `count` ids starting at `container_id` inside map to ids
/// starting at `host_id` outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IdMap {
    /// First id inside the sandbox.
    pub container_id: u32,
    /// First id on the host.
    pub host_id: u32,
    /// Number of ids.
    pub count: u32,
}

impl IdMap {
    /// Ranges from `(container_id, host_id, count)` triples.
    pub(crate) fn ranges(maps: &[(u32, u32, u32)]) -> Vec<IdMap> {
        maps.iter()
            .map(|&(container_id, host_id, count)| IdMap {
                container_id,
                host_id,
                count,
            })
            .collect()
    }
}

/// The maps to write for a container (defaults: the caller's own ids mapped to themselves).
pub(crate) fn effective(maps: &Option<Vec<IdMap>>, own: u32) -> Vec<IdMap> {
    maps.clone().unwrap_or_else(|| {
        vec![IdMap {
            container_id: own,
            host_id: own,
            count: 1,
        }]
    })
}

/// The id inside the sandbox that host id `host` maps to, if any range covers it.
pub(crate) fn inside(maps: &[IdMap], host: u32) -> Option<u32> {
    maps.iter()
        .find(|m| host >= m.host_id && host - m.host_id < m.count)
        .map(|m| m.container_id + (host - m.host_id))
}

/// Check ranges: non-empty, no overflow, no overlap inside or outside, at most 340 lines.
pub(crate) fn validate(field: &'static str, maps: &[IdMap]) -> Result<()> {
    if maps.is_empty() || maps.len() > 340 {
        return Err(Error::config(
            field,
            format!("needs 1 to 340 ranges, got {}", maps.len()),
        ));
    }
    for (i, m) in maps.iter().enumerate() {
        if m.count == 0 {
            return Err(Error::config(
                field,
                format!("range {}:{}:0 is empty", m.container_id, m.host_id),
            ));
        }
        if m.container_id.checked_add(m.count).is_none() || m.host_id.checked_add(m.count).is_none()
        {
            return Err(Error::config(
                field,
                format!(
                    "range {}:{}:{} overflows",
                    m.container_id, m.host_id, m.count
                ),
            ));
        }
        for o in &maps[..i] {
            let overlap = |a: u32, b: u32| a < b + o.count.min(u32::MAX - b) && b < a + m.count;
            if overlap(m.container_id, o.container_id) || overlap(m.host_id, o.host_id) {
                return Err(Error::config(
                    field,
                    format!(
                        "ranges {}:{}:{} and {}:{}:{} overlap",
                        o.container_id, o.host_id, o.count, m.container_id, m.host_id, m.count
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn direct_ok(maps: &[IdMap], own: u32, privileged: bool) -> bool {
    privileged || (maps.len() == 1 && maps[0].host_id == own && maps[0].count == 1)
}

fn lines(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.count))
        .collect()
}

fn write_file(pid: i32, name: &str, contents: &str) -> Result<()> {
    let path = format!("/proc/{pid}/{name}");
    let r = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(contents.as_bytes()));
    r.map_err(|e| {
        Error::setup(
            Stage::IdMap,
            Some(format!(
                "{name}: {}",
                contents.trim_end().replace('\n', ", ")
            )),
            e.raw_os_error().unwrap_or(0),
        )
    })
}

fn helper(tool: &str, pid: i32, maps: &[IdMap]) -> Result<()> {
    let mut cmd = std::process::Command::new(tool);
    cmd.arg(pid.to_string());
    for m in maps {
        cmd.args([
            m.container_id.to_string(),
            m.host_id.to_string(),
            m.count.to_string(),
        ]);
    }
    let out = cmd.output().map_err(|e| {
        Error::setup(
            Stage::IdMap,
            Some(format!("{tool} (install the uidmap package)")),
            e.raw_os_error().unwrap_or(2),
        )
    })?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(Error::setup(
            Stage::IdMap,
            Some(format!("{tool}: {msg}")),
            1,
        ));
    }
    Ok(())
}

/// The maps of a sandbox with a user namespace, checked, and the caller's own ids.
#[derive(Debug)]
pub(crate) struct Maps {
    pub(crate) uid: Vec<IdMap>,
    pub(crate) gid: Vec<IdMap>,
    /// The caller's effective uid and gid.
    pub(crate) euid: u32,
    pub(crate) egid: u32,
}

impl Maps {
    /// The maps to write (the container's, or the caller's own ids mapped to themselves),
    /// validated.
    pub(crate) fn plan(
        uid: &Option<Vec<IdMap>>,
        gid: &Option<Vec<IdMap>>,
        euid: u32,
        egid: u32,
    ) -> Result<Maps> {
        let maps = Maps {
            uid: effective(uid, euid),
            gid: effective(gid, egid),
            euid,
            egid,
        };
        validate("uidmap", &maps.uid)?;
        validate("gidmap", &maps.gid)?;
        Ok(maps)
    }

    /// When the caller's own ids are not mapped, the child could not create a single file:
    /// the ids it switches to first (0 if mapped, else the lowest mapped id).
    pub(crate) fn initial_ids(&self) -> Option<(u32, u32)> {
        let pick = |m: &[IdMap]| {
            if m.iter().any(|r| r.container_id == 0) {
                0
            } else {
                m.iter().map(|r| r.container_id).min().unwrap_or(0)
            }
        };
        if inside(&self.uid, self.euid).is_none() || inside(&self.gid, self.egid).is_none() {
            Some((pick(&self.uid), pick(&self.gid)))
        } else {
            None
        }
    }

    /// The (uid_map, gid_map) lines of the nested user namespace, where every id mapped in
    /// the sandbox maps to itself. The nested namespace maps itself from inside, which the
    /// kernel allows only for a single id: multi-range maps get none (and keep the mount
    /// flags unlocked, as documented).
    pub(crate) fn nested(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let single = |m: &[IdMap]| m.len() == 1 && m[0].count == 1;
        (single(&self.uid) && single(&self.gid))
            .then(|| (identity_lines(&self.uid), identity_lines(&self.gid)))
    }

    /// Write both maps for the child `pid`.
    pub(crate) fn write(&self, pid: i32) -> Result<()> {
        let (uid, gid, euid, egid) = (&self.uid, &self.gid, self.euid, self.egid);
        let privileged = euid == 0;
        if direct_ok(uid, euid, privileged) {
            write_file(pid, "uid_map", &lines(uid))?;
        } else {
            helper("newuidmap", pid, uid)?;
        }
        if direct_ok(gid, egid, privileged) {
            if !privileged {
                write_file(pid, "setgroups", "deny")?;
            }
            write_file(pid, "gid_map", &lines(gid))?;
        } else {
            helper("newgidmap", pid, gid)?;
        }
        Ok(())
    }
}

/// Identity lines: every id of `maps`' inside ranges maps to itself.
fn identity_lines(maps: &[IdMap]) -> Vec<u8> {
    maps.iter()
        .map(|m| format!("{0} {0} {1}\n", m.container_id, m.count))
        .collect::<String>()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(container_id: u32, host_id: u32, count: u32) -> IdMap {
        IdMap::ranges(&[(container_id, host_id, count)])[0]
    }

    fn refusal(maps: &[IdMap]) -> String {
        validate("uidmap", maps)
            .expect_err("the map is refused")
            .to_string()
    }

    #[test]
    fn a_map_without_ranges_or_with_more_than_340_is_refused() {
        assert!(refusal(&[]).contains("needs 1 to 340 ranges, got 0"));
        let many: Vec<IdMap> = (0..341).map(|i| map(i, 100_000 + i, 1)).collect();
        assert!(refusal(&many).contains("got 341"));
        assert!(validate("uidmap", &many[..340]).is_ok());
    }

    #[test]
    fn an_empty_range_is_refused_by_name() {
        let e = refusal(&[map(0, 1000, 1), map(5, 2000, 0)]);
        assert!(
            e.contains("uidmap") && e.contains("range 5:2000:0 is empty"),
            "{e}"
        );
    }

    #[test]
    fn a_range_that_overflows_either_side_is_refused() {
        assert!(refusal(&[map(u32::MAX, 0, 2)]).contains("overflows"));
        assert!(refusal(&[map(0, u32::MAX - 1, 2)]).contains("overflows"));
        // Ending exactly at the top of the id space does not overflow.
        assert!(validate("uidmap", &[map(0, u32::MAX - 2, 2)]).is_ok());
    }

    #[test]
    fn overlapping_ranges_inside_or_outside_are_refused() {
        let inside = refusal(&[map(0, 1000, 10), map(9, 5000, 1)]);
        assert!(
            inside.contains("ranges 0:1000:10 and 9:5000:1 overlap"),
            "{inside}"
        );
        let outside = refusal(&[map(0, 1000, 10), map(100, 1005, 10)]);
        assert!(outside.contains("overlap"), "{outside}");
        let covering = refusal(&[map(5, 5000, 1), map(0, 1000, 10)]);
        assert!(covering.contains("overlap"), "{covering}");
    }

    #[test]
    fn adjacent_ranges_are_accepted() {
        let m = [
            map(0, 1000, 1),
            map(1, 100_000, 65_536),
            map(65_537, 1001, 1),
        ];
        assert!(validate("uidmap", &m).is_ok());
    }

    #[test]
    fn without_a_map_the_callers_own_id_maps_to_itself() {
        assert_eq!(effective(&None, 1000), vec![map(1000, 1000, 1)]);
        let given = vec![map(0, 100_000, 65_536)];
        assert_eq!(effective(&Some(given.clone()), 1000), given);
    }

    #[test]
    fn a_host_id_is_found_inside_the_range_that_covers_it() {
        let m = [map(0, 1000, 1), map(1, 100_000, 65_536)];
        assert_eq!(inside(&m, 1000), Some(0));
        assert_eq!(inside(&m, 100_000), Some(1));
        assert_eq!(inside(&m, 165_535), Some(65_536));
        assert_eq!(inside(&m, 165_536), None);
        assert_eq!(inside(&m, 0), None);
    }

    #[test]
    fn only_a_single_own_id_or_a_privileged_caller_writes_maps_directly() {
        assert!(direct_ok(&[map(0, 1000, 1)], 1000, false));
        assert!(!direct_ok(&[map(0, 1001, 1)], 1000, false));
        assert!(!direct_ok(&[map(0, 1000, 2)], 1000, false));
        assert!(!direct_ok(
            &[map(0, 1000, 1), map(1, 100_000, 10)],
            1000,
            false
        ));
        assert!(direct_ok(&[map(0, 100_000, 65_536)], 0, true));
        assert_eq!(
            lines(&[map(0, 1000, 1), map(1, 100_000, 65_536)]),
            "0 1000 1\n1 100000 65536\n"
        );
    }

    fn maps(uid: &[IdMap], gid: &[IdMap], own: u32) -> Maps {
        Maps::plan(&Some(uid.to_vec()), &Some(gid.to_vec()), own, own).expect("valid maps")
    }

    #[test]
    fn planning_refuses_an_invalid_gid_map_by_its_name() {
        let e = Maps::plan(&None, &Some(vec![map(0, 1000, 0)]), 1000, 1000)
            .expect_err("an empty range")
            .to_string();
        assert!(e.contains("gidmap"), "{e}");
    }

    #[test]
    fn a_caller_whose_ids_are_unmapped_starts_as_root_or_the_lowest_mapped_id() {
        assert_eq!(
            maps(&[map(0, 1000, 1)], &[map(0, 1000, 1)], 1000).initial_ids(),
            None
        );
        let m = maps(&[map(0, 100_000, 10)], &[map(0, 100_000, 10)], 1000);
        assert_eq!(m.initial_ids(), Some((0, 0)));
        let m = maps(&[map(5, 100_000, 10)], &[map(7, 100_000, 1)], 1000);
        assert_eq!(m.initial_ids(), Some((5, 7)));
        // One unmapped side is enough to switch both.
        let m = maps(&[map(0, 1000, 1)], &[map(3, 100_000, 1)], 1000);
        assert_eq!(m.initial_ids(), Some((0, 3)));
    }

    #[test]
    fn only_single_id_maps_get_a_nested_identity_map() {
        let m = maps(&[map(0, 1000, 1)], &[map(5, 1000, 1)], 1000);
        assert_eq!(m.nested(), Some((b"0 0 1\n".to_vec(), b"5 5 1\n".to_vec())));
        let m = maps(&[map(0, 100_000, 65_536)], &[map(0, 1000, 1)], 1000);
        assert_eq!(m.nested(), None);
    }
}
