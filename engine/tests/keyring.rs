//! Session keyrings and the caller's key quota. One test per binary: it counts the caller's
//! keys, which any other sandbox running at the same time would change.
mod common;

use common::*;
use hakoniwa::seccomp::Seccomp;
use hakoniwa::Stdio;

/// The number of keys the caller's uid holds (`qnkeys` in /proc/key-users), 0 if none.
fn my_key_count() -> u32 {
    let uid = euid();
    std::fs::read_to_string("/proc/key-users")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let (who, rest) = l.split_once(':')?;
            (who.trim().parse::<u32>().ok()? == uid).then(|| {
                rest.split_whitespace()
                    .nth(2)
                    .and_then(|q| q.split('/').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

/// The caller's key count while 20 sandboxes of `c` sleep, minus the count before.
fn keys_held_by_twenty_sandboxes(c: &hakoniwa::Container) -> i64 {
    let before = my_key_count() as i64;
    let mut children: Vec<_> = (0..20)
        .map(|_| {
            // Killed below: they only have to outlive the count, however slow the spawns.
            c.command("/bin/sleep")
                .arg("600")
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let during = my_key_count() as i64;
    for ch in &mut children {
        ch.kill().unwrap();
        ch.wait().unwrap();
    }
    during - before
}

#[test]
fn sandboxes_under_the_built_in_profile_take_nothing_from_the_callers_key_quota() {
    // The built-in profile denies the key calls: no keyring is created per sandbox, so an
    // unprivileged caller (200 keys by default) can run hundreds at once.
    let held = keys_held_by_twenty_sandboxes(&sandbox());
    assert!(
        held < 5,
        "20 sandboxes took {held} keys of the caller's quota"
    );
    // Control: a profile that allows the key calls gets a new session keyring each, which
    // the kernel counts against the caller's quota while the sandbox runs.
    let mut audit = sandbox();
    audit.seccomp(Seccomp::Audit);
    let held = keys_held_by_twenty_sandboxes(&audit);
    assert!(
        held >= 15,
        "20 sandboxes under the audit profile took only {held} keys"
    );
}
