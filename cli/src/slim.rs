//! Shed the start-up code's pages while the sandbox runs.
//!
//! Nothing else maps the `hakoniwa` executable, so every page of it that start-up touched
//! (argument parsing, profile loading, the engine's preparation: most of a 3 MiB text
//! segment, mapped in 64 KiB fault-around chunks) counts fully in the supervisor's
//! resident and proportional set sizes for as long as the program runs. While it waits,
//! the supervisor runs a few pages of code. `MADV_DONTNEED` on the executable's read-only
//! and executable mappings drops those page-table entries; the pages stay in the page
//! cache, and whatever the supervisor runs later (the wait loop, the exit report) faults
//! back in from there. Only clean, never-written mappings are touched: the writable and
//! relocated (RELRO) ones hold this process's own data and stay.

/// Drop the executable's clean read-only and executable page mappings (best effort).
pub fn release_startup_pages() {
    if let Ok(exe) = std::fs::read_link("/proc/self/exe") {
        release_clean_mappings_of(&exe);
    }
}

/// Drop this process's page-table entries of every private, never-written read-only or
/// executable mapping of `file` (best effort).
fn release_clean_mappings_of(file: &std::path::Path) {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for (start, end) in clean_mappings_of(&smaps, file) {
        // SAFETY: a private, never-written file mapping (no anonymous pages): dropping
        // its page-table entries makes later accesses read the same bytes from the page
        // cache.
        let _ = unsafe {
            rustix::mm::madvise(
                start as *mut std::ffi::c_void,
                end - start,
                rustix::mm::Advice::LinuxDontNeed,
            )
        };
    }
}

/// The address ranges of `file`'s `r--p` and `r-xp` mappings in `smaps` that hold no
/// anonymous (copied-on-write) pages.
fn clean_mappings_of(smaps: &str, file: &std::path::Path) -> Vec<(usize, usize)> {
    // Each mapping: a header line `start-end perms offset dev inode path`, then fields.
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        if let Some(rest) = line.strip_prefix("Anonymous:") {
            // RELRO is read-only after relocation but holds copied (anonymous) pages: only
            // mappings without any are dropped.
            if let (Some(range), Some("0")) = (current.take(), rest.split_whitespace().next()) {
                found.push(range);
            }
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else {
            continue;
        };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue; // a field line, not a header
        };
        let ours = f.nth(3).map(std::path::Path::new) == Some(file);
        current = (ours && matches!(perms, "r--p" | "r-xp")).then_some((start, end));
    }
    found
}

#[cfg(test)]
mod tests {
    use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
    use std::path::Path;

    const LEN: usize = 256 * 1024;

    /// Resident KiB of the mapping that starts at `addr`, read from /proc/self/smaps.
    fn resident_kib(addr: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let header = format!("{addr:x}-");
        let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&header));
        assert!(lines.next().is_some(), "no mapping at {addr:x}");
        let rss = lines.find(|l| l.starts_with("Rss:")).unwrap();
        rss.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// A file of LEN bytes in a directory of its own, removed on drop.
    struct Scratch(std::path::PathBuf);
    impl Scratch {
        fn new(name: &str) -> (Self, std::fs::File) {
            let dir = std::env::temp_dir().join(format!("hk-slim-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("mapped");
            std::fs::write(&path, vec![7u8; LEN]).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            (Self(dir), file)
        }
        fn path(&self) -> std::path::PathBuf {
            self.0.join("mapped").canonicalize().unwrap()
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Map `file` privately with `prot`, read every page and return the address.
    fn map_and_touch(file: &std::fs::File, prot: ProtFlags) -> usize {
        // SAFETY: a fresh private mapping of a file nobody else writes; unmapped by the
        // test before it returns.
        let addr = unsafe {
            rustix::mm::mmap(std::ptr::null_mut(), LEN, prot, MapFlags::PRIVATE, file, 0)
        }
        .unwrap();
        for page in (0..LEN).step_by(4096) {
            // SAFETY: inside the mapping just made.
            let byte = unsafe { std::ptr::read_volatile((addr as *const u8).add(page)) };
            assert_eq!(byte, 7);
        }
        addr as usize
    }

    fn unmap(addr: usize) {
        // SAFETY: the mapping made by map_and_touch, no longer referenced.
        unsafe { rustix::mm::munmap(addr as *mut std::ffi::c_void, LEN) }.unwrap();
    }

    #[test]
    fn a_clean_read_only_file_mapping_loses_its_resident_pages() {
        let (scratch, file) = Scratch::new("clean");
        let addr = map_and_touch(&file, ProtFlags::READ);
        assert!(resident_kib(addr) > 0);
        super::release_clean_mappings_of(&scratch.path());
        let after = resident_kib(addr);
        // Still readable: the bytes come back from the page cache.
        // SAFETY: inside the mapping.
        let byte = unsafe { std::ptr::read_volatile(addr as *const u8) };
        unmap(addr);
        assert_eq!(after, 0, "resident KiB after shedding");
        assert_eq!(byte, 7);
    }

    #[test]
    fn a_read_only_mapping_with_written_pages_is_kept() {
        let (scratch, file) = Scratch::new("relro");
        let addr = map_and_touch(&file, ProtFlags::READ | ProtFlags::WRITE);
        // Written then made read-only, as the loader does to RELRO.
        // SAFETY: inside the mapping.
        unsafe { std::ptr::write_volatile(addr as *mut u8, 9) };
        // SAFETY: the whole mapping made above.
        unsafe { rustix::mm::mprotect(addr as *mut std::ffi::c_void, LEN, MprotectFlags::READ) }
            .unwrap();
        let before = resident_kib(addr);
        super::release_clean_mappings_of(&scratch.path());
        let after = resident_kib(addr);
        // SAFETY: inside the mapping.
        let byte = unsafe { std::ptr::read_volatile(addr as *const u8) };
        unmap(addr);
        assert_eq!(after, before);
        assert_eq!(byte, 9, "the written page must survive");
    }

    #[test]
    fn only_clean_read_only_and_executable_mappings_of_the_file_are_chosen() {
        let smaps = "\
1000-2000 r--p 00000000 08:01 12 /usr/bin/x
Anonymous:             0 kB
2000-4000 r-xp 00001000 08:01 12 /usr/bin/x
Anonymous:             0 kB
4000-5000 r--p 00003000 08:01 12 /usr/bin/x
Anonymous:             4 kB
5000-6000 rw-p 00004000 08:01 12 /usr/bin/x
Anonymous:             0 kB
6000-7000 r--p 00000000 08:01 13 /usr/lib/y.so
Anonymous:             0 kB
";
        assert_eq!(
            super::clean_mappings_of(smaps, Path::new("/usr/bin/x")),
            vec![(0x1000, 0x2000), (0x2000, 0x4000)]
        );
    }
}
