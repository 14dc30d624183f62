//! Many spawns from many threads (issue 2): outputs correct, nothing leaked.
mod common;

use common::*;

/// The tests of this file count process-wide things (descriptors, children, mappings):
/// they run one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn sixteen_threads_fifty_spawns_each() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let c = sandbox();
    // Warm up the spawner thread so its descriptors are not counted as a leak.
    assert!(c.command("/bin/true").status().unwrap().success());
    let fds_before = fd_count();
    let children_before = child_count();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let msg = format!("t{t}-i{i}");
                    let out = c.command("/bin/echo").arg(&msg).output().unwrap();
                    assert!(out.status.success());
                    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{msg}\n"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(fd_count(), fds_before, "descriptor leak");
    assert_eq!(child_count(), children_before, "zombie or stray child");
}

/// Lines of this process's memory map (one per mapping).
fn mapping_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

#[test]
fn a_thousand_spawns_leave_the_number_of_mappings_bounded() {
    // Each spawn's child runs on a private stack (two mappings with its guard page): they
    // are reused, also after a spawn that fails in the child, never left behind.
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let c = sandbox();
    assert!(c.command("/bin/true").status().unwrap().success());
    let before = mapping_count();
    for i in 0..1000 {
        if i % 10 == 0 {
            let e = c.command("/nonexistent/program").status().unwrap_err();
            assert!(e.to_string().contains("/nonexistent/program"), "{e}");
        } else {
            assert!(c.command("/bin/true").status().unwrap().success());
        }
    }
    let after = mapping_count();
    // Slack for what the other test of this binary may have left before (idle stacks,
    // allocator arenas), far below the 2000 a leak would add.
    assert!(
        after < before + 100,
        "{before} mappings before, {after} after"
    );
}
