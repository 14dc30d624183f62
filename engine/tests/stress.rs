//! Many spawns from many threads (issue 2): outputs correct, nothing leaked.
mod common;

use common::*;

#[test]
fn sixteen_threads_fifty_spawns_each() {
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
