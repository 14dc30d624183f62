//! The peak-memory figure is the program's own, not the host's (issue 2). One test per
//! binary: the host deliberately holds 500 MiB.
mod common;

use std::time::Duration;

use common::*;

#[test]
fn peak_rss_is_the_programs_own_even_from_a_large_host() {
    let ballast = vec![0x5au8; 500 << 20]; // memset: every page touched
    std::hint::black_box(&ballast);
    let mut c = sandbox();
    c.devfsmount("/dev").peak_memory(true);

    // Uses little: far below the host's 500 MiB.
    let s = c.command("/bin/true").status().unwrap();
    assert!(s.success());
    let kb = s.usage.max_rss_kb.expect("asked for");
    assert!(kb < 50 * 1024, "{kb} KiB");

    // Uses about 100 MiB itself: reported as such (and still below the host's).
    let s = c
        .command("/usr/bin/perl")
        .args(["-e", "my $x = 'a' x (100 * 1024 * 1024); print length $x"])
        .stdout(hakoniwa::Stdio::null())
        .status()
        .unwrap();
    assert!(s.success());
    let kb = s.usage.max_rss_kb.expect("asked for");
    assert!((100 * 1024..400 * 1024).contains(&kb), "{kb} KiB");

    // Killed by the wall-clock limit after allocating: the reading taken before the kill.
    // perl says when it holds the memory, so a slow machine cannot make the test read a
    // figure from before the allocation.
    let mut child = c
        .command("/usr/bin/perl")
        .args([
            "-e",
            "my $x = 'b' x (60 * 1024 * 1024); $| = 1; print qq(allocated\n); sleep 60",
        ])
        .stdout(hakoniwa::Stdio::piped())
        .wait_timeout(Duration::from_secs(4))
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(
        line, "allocated\n",
        "perl did not allocate within the limit"
    );
    let s = child.wait().unwrap();
    assert_eq!(s.reason, hakoniwa::ExitReason::WallTimeExceeded);
    let kb = s.usage.max_rss_kb.expect("asked for");
    assert!((60 * 1024..400 * 1024).contains(&kb), "{kb} KiB");
    drop(ballast);
}
