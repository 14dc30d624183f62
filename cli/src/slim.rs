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
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    // Each mapping: a header line `start-end perms offset dev inode path`, then fields.
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        if let Some(rest) = line.strip_prefix("Anonymous:") {
            // RELRO is read-only after relocation but holds copied (anonymous) pages: only
            // mappings without any are dropped.
            if let (Some((start, end)), Some("0")) =
                (current.take(), rest.split_whitespace().next())
            {
                // SAFETY: a private, never-written file mapping of our own executable:
                // dropping its page-table entries makes later accesses read the same bytes
                // from the page cache.
                let _ = unsafe {
                    rustix::mm::madvise(
                        start as *mut std::ffi::c_void,
                        end - start,
                        rustix::mm::Advice::LinuxDontNeed,
                    )
                };
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
        let ours = f.nth(3).map(std::path::Path::new) == Some(exe.as_path());
        current = (ours && matches!(perms, "r--p" | "r-xp")).then_some((start, end));
    }
}

#[cfg(test)]
mod tests {
    /// (resident KiB, size KiB) of this executable's clean read-only and executable mappings.
    fn exe_pages() -> (u64, u64) {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let (mut rss, mut size, mut ours) = ((0, 0), 0, false);
        for line in smaps.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.first() {
                Some(&"Size:") => size = f[1].parse().unwrap(),
                Some(&"Rss:") if ours => {
                    rss.0 += f[1].parse::<u64>().unwrap();
                    rss.1 += size;
                }
                Some(r) if r.contains('-') && f.len() >= 6 => {
                    ours = std::path::Path::new(f[5]) == exe && f[1] == "r-xp";
                }
                _ => {}
            }
        }
        rss
    }

    /// Run in a process of its own (see below): other test threads would fault the pages
    /// straight back in.
    #[test]
    fn shedding_alone() {
        if std::env::var_os("HK_SLIM_ALONE").is_none() {
            return;
        }
        let (before, size) = exe_pages();
        assert!(before > 0 && size > 0);
        super::release_startup_pages();
        let (after, _) = exe_pages();
        assert!(after < before, "resident code {before} KiB -> {after} KiB");
    }

    #[test]
    fn shedding_drops_the_executables_code_pages() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "slim::tests::shedding_alone", "--test-threads=1"])
            .env("HK_SLIM_ALONE", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("1 passed"), "{text}");
    }
}
