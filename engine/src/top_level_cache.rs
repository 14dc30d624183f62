//! The expansion of a `rootfs`/read-only `rootdir` directory into its top-level entries,
//! remembered per process between spawns while the directory is unchanged.
//!
//! Expanding `rootfs("/")` costs 7 `statx` and 4 `readlink` per spawn (and a directory
//! listing for any other directory). What the expansion sees is the directory's list of
//! names and, per name, its type and a symlink's contents. None of that can change without
//! changing the directory itself: adding, removing or renaming an entry, or replacing one
//! (by a symlink, a file, another directory), writes the directory and updates its
//! modification and change times; a symlink's contents never change in place. So the key is
//! the directory's identity and times as `stat` reports them through the path (following
//! symlinks, so a path re-pointed elsewhere, a mount over it or another root after `chroot`
//! reports another device or inode): device, inode, mtime and ctime (nanoseconds).
//!
//! Timestamps are taken from a coarse clock (a few milliseconds; seconds on some file
//! systems): two changes within one tick can leave the same times. An answer is therefore
//! only kept when the directory's ctime is older than [`SETTLED`] when it is read (like
//! git's "racily clean" rule): any later change then gets a later ctime. The change time
//! cannot be set by users (`utimes` sets it to now), unlike the modification time.
//!
//! Not seen: a mount placed over a top-level symlink itself (the path-walking kernel
//! interfaces follow the symlink; the expansion never reads what is mounted over it).
//!
//! Per process ([`ProcessLocal`]); at most [`KEPT`] directories (all are dropped when full).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::mount::Mount;
use crate::process_local::ProcessLocal;

/// How old the directory's last change must be for its answer to be kept.
const SETTLED: Duration = Duration::from_secs(2);
/// Directories remembered at once.
const KEPT: usize = 16;

/// What identifies the directory's state (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    pub(crate) fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// Whether the last change lies more than [`SETTLED`] before `now` (a clock read before
    /// the `stat` that made this stamp).
    fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(UNIX_EPOCH) else {
            return false;
        };
        let (s, ns) = self.ctime;
        let Ok(s) = u64::try_from(s) else {
            return true; // before 1970
        };
        Duration::new(s, ns.clamp(0, 999_999_999) as u32) + SETTLED < now
    }
}

/// The entries and whether each is a bind of a non-directory (see `layout.rs`).
pub(crate) type Entries = Vec<(Mount, bool)>;

type Key = (PathBuf, bool);
static CACHE: ProcessLocal<Mutex<HashMap<Key, (Stamp, Entries)>>> = ProcessLocal::new();

/// The entries of `dir` (`only`: whether the expansion is limited to fixed names, which are
/// always `layout.rs`'s `HOST_ROOT_DIRS`: a second list would need its own key) as
/// remembered for `stamp`, else made by `expand` and remembered if the directory has
/// settled. `now` is a clock read taken before the `stat` that made `stamp`.
pub(crate) fn entries<E>(
    dir: &Path,
    only: bool,
    stamp: Stamp,
    now: SystemTime,
    expand: impl FnOnce() -> Result<Entries, E>,
) -> Result<Entries, E> {
    let cache = CACHE.get_or_init(Default::default);
    let key = (dir.to_path_buf(), only);
    if let Some((seen, entries)) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        if *seen == stamp {
            return Ok(entries.clone());
        }
    }
    let entries = expand()?;
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if stamp.settled(now) {
        if cache.len() >= KEPT && !cache.contains_key(&key) {
            cache.clear();
        }
        cache.insert(key, (stamp, entries.clone()));
    } else {
        cache.remove(&key);
    }
    Ok(entries)
}

/// Whether an answer for `dir` is remembered (for tests).
#[cfg(test)]
pub(crate) fn remembers(dir: &Path, only: bool) -> bool {
    CACHE
        .get()
        .is_some_and(|c| c.lock().unwrap().contains_key(&(dir.to_path_buf(), only)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_directory_unchanged_for_a_while_is_remembered() {
        let stamp = Stamp {
            dev: 1,
            ino: 2,
            mtime: (1000, 0),
            ctime: (1000, 500),
        };
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert!(!stamp.settled(at(1001)));
        assert!(stamp.settled(at(1003)));
        // A clock set before 1970 trusts nothing.
        assert!(!stamp.settled(UNIX_EPOCH - Duration::from_secs(1)));
    }

    #[test]
    fn a_remembered_directory_that_gains_an_entry_is_read_again() {
        let d = std::env::temp_dir().join(format!("hakoniwa-tlc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a")).unwrap();
        let names = || -> Vec<String> {
            crate::layout::rootfs_entries(&d)
                .unwrap()
                .iter()
                .map(|m| m.target().display().to_string())
                .collect()
        };
        // Fresh: read, not remembered (its ctime is within SETTLED).
        assert_eq!(names(), ["/a"]);
        assert!(!remembers(&d, false));
        std::thread::sleep(SETTLED + Duration::from_millis(100));
        assert_eq!(names(), ["/a"]);
        assert!(remembers(&d, false));
        std::fs::write(d.join("b"), "").unwrap();
        assert_eq!(names(), ["/a", "/b"]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
