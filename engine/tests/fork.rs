//! The engine's process-wide state survives `fork()` of the host (issue 11): a host that
//! spawned once, then forks (Python's `multiprocessing`, C and Go workers), can spawn in the
//! forked process. Each test forks a process that spawns and reports through its exit code;
//! the parent waits at most 60 s for it.
mod common;

use std::time::Duration;

use common::*;

/// A spawn that must finish well within its wall-clock limit, with the peak-memory figure
/// read by the exit hook (no init: the init would report the figure itself).
fn spawns_with_peak_memory() -> bool {
    let mut c = sandbox();
    c.peak_memory(true).init(false);
    let s = c
        .command("/bin/true")
        .wait_timeout(Duration::from_secs(20))
        .status()
        .expect("spawn");
    if !(s.success() && s.usage.max_rss_kb.is_some()) {
        eprintln!("after fork: {s:?}");
        return false;
    }
    true
}

#[test]
fn the_exit_hook_works_in_a_forked_host() {
    // Before the fork: the exit-hook thread, the seccomp cache and a spawner thread exist.
    assert!(spawns_with_peak_memory());
    assert!(std::thread::spawn(spawns_with_peak_memory).join().unwrap());
    // In the forked process only this thread exists; the sandbox used to hang in its
    // exit_group until the wall-clock limit (the notifier's thread stayed in the parent).
    assert_eq!(in_forked_process(spawns_with_peak_memory), OK);
}

#[test]
fn spawner_threads_are_recreated_in_a_forked_host() {
    // A spawn from a non-main thread starts a spawner thread in this process.
    assert!(std::thread::spawn(spawns_with_peak_memory).join().unwrap());
    // In the forked process, spawns from the forked thread and from new threads work.
    let code = in_forked_process(|| {
        spawns_with_peak_memory()
            && std::thread::spawn(spawns_with_peak_memory).join().unwrap()
            && std::thread::spawn(spawns_with_peak_memory).join().unwrap()
    });
    assert_eq!(code, OK);
}

#[test]
fn a_forked_host_keeps_spawning_and_so_does_the_parent() {
    assert!(spawns_with_peak_memory());
    for _ in 0..2 {
        assert_eq!(in_forked_process(spawns_with_peak_memory), OK);
    }
    // The parent's own engine state is untouched by its children's.
    assert!(spawns_with_peak_memory());
}

#[test]
fn a_forked_process_dropping_its_copy_of_a_child_leaves_the_parent_s_sandbox_running() {
    let mut child = sandbox().command("/bin/sleep").arg("30").spawn().unwrap();
    let original: *const hakoniwa::Child = &child;
    let code = in_forked_process(|| {
        // SAFETY: the forked process's own copy of the parent's memory: it never uses
        // `child` again (it leaves with _exit), so this duplicate is its only owner, as
        // when a Python worker collects an object it inherited.
        let mut copy = unsafe { std::ptr::read(original) };
        // Waiting there is refused with a message saying why.
        let refused = copy.try_wait().unwrap_err().to_string();
        drop(copy);
        refused.contains("another process spawned")
    });
    assert_eq!(code, OK);
    std::thread::sleep(Duration::from_millis(200)); // a kill would have landed by now
    assert!(
        child.try_wait().unwrap().is_none(),
        "the parent's sandbox was ended by the forked process's drop"
    );
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().signal, Some(9));
}

/// State letter (`/proc/PID/stat`) of the pasta serving the sandbox whose PID 1 is `pid`
/// (pasta's command line ends with it), if one runs.
fn pasta_state_for(pid: u32) -> Option<char> {
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if cmd.starts_with(b"pasta\0") && cmd.ends_with(format!("\0{pid}\0").as_bytes()) {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            return stat.rsplit(") ").next().and_then(|s| s.chars().next());
        }
    }
    None
}

#[test]
fn a_forked_process_dropping_its_copy_of_a_child_leaves_the_parent_s_pasta_running() {
    let mut c = sandbox();
    c.network(hakoniwa::Network::Pasta(hakoniwa::Pasta::default()));
    let mut child = c.command("/bin/sleep").arg("30").spawn().unwrap();
    let state = pasta_state_for(child.id());
    assert!(matches!(state, Some('S' | 'R')), "pasta: {state:?}");
    let original: *const hakoniwa::Child = &child;
    let code = in_forked_process(|| {
        // SAFETY: as in the test above: the forked process's only owner of the duplicate.
        drop(unsafe { std::ptr::read(original) });
        true
    });
    assert_eq!(code, OK);
    let state = pasta_state_for(child.id());
    assert!(
        matches!(state, Some('S' | 'R')),
        "pasta after the fork's drop: {state:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        pasta_state_for(child.id()),
        None,
        "pasta stops with the sandbox"
    );
}
