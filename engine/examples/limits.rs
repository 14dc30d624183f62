//! Limits: resource limits (`setrlimit`) and a wall-clock limit, and how the status
//! reports which one ended the program.
//!
//! `cargo run -p hakoniwa-sandbox --example limits` (shown in docs/rust.md, run by
//! engine/tests/examples.rs)
use std::time::Duration;

use hakoniwa::{Container, ExitReason, Rlimit};

fn main() -> Result<(), hakoniwa::Error> {
    let mut container = Container::new();
    container
        .rootfs("/")
        .setrlimit(Rlimit::Nofile, 64, 64)
        // Seconds of CPU time: SIGXCPU at the soft limit, SIGKILL at the hard one.
        .setrlimit(Rlimit::Cpu, 1, 2);
    let out = container
        .command("/bin/sh")
        .args(["-c", "ulimit -n"])
        .output()?;
    print!("open files: {}", String::from_utf8_lossy(&out.stdout));

    let busy = container
        .command("/bin/sh")
        .args(["-c", "while :; do :; done"])
        .status()?;
    assert_eq!(busy.reason, ExitReason::CpuTimeExceeded);
    println!("busy loop: {:?}", busy.reason);

    let sleeper = container
        .command("/bin/sleep")
        .arg("60")
        .wait_timeout(Duration::from_millis(300)) // the whole sandbox is killed
        .status()?;
    println!("sleep 60: {:?}, code {}", sleeper.reason, sleeper.code());
    Ok(())
}
