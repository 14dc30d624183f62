//! Writing the child's uid/gid maps from the parent.
//!
//! The child waits (on the go-ahead pipe) until this is done: before the maps exist its ids
//! are unmapped and it could not even create files. A privileged caller writes any map
//! directly. An unprivileged caller may write a one-line map of its own id (after denying
//! `setgroups` for the gid map); anything else goes through the setuid `newuidmap` /
//! `newgidmap` helpers from the `uidmap` package, which check `/etc/subuid` and `/etc/subgid`.

use std::io::Write;

use crate::container::IdMap;
use crate::error::{Error, Result, Stage};

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

/// Write both maps for the child `pid`.
pub(crate) fn write(pid: i32, uid: &[IdMap], gid: &[IdMap], euid: u32, egid: u32) -> Result<()> {
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
