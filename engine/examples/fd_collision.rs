//! Test helper: pass descriptors at exactly the numbers the engine's own pipes will get in
//! this (single-threaded) process, then run a missing program. The setup error must still
//! arrive (prints "ok"), not be lost because a passed descriptor replaced the error pipe.
use std::os::fd::AsRawFd;

fn main() {
    let next = rustix::io::dup(std::io::stdin()).expect("dup");
    let n = next.as_raw_fd();
    drop(next);
    // Six descriptors to pass (they take n..n+5); targets n+6..n+11 are where the error
    // pipe, the go-ahead pipe and the exit-hook socket pair will be created.
    let fds: Vec<_> = (0..6)
        .map(|_| rustix::io::dup(std::io::stdin()).expect("dup"))
        .collect();
    let mut c = hakoniwa::Container::new();
    c.rootfs("/");
    let mut cmd = c.command("/no/such/program");
    for (i, fd) in fds.into_iter().enumerate() {
        cmd.preserve_fd(fd, n + 6 + i as i32);
    }
    match cmd.status() {
        Err(hakoniwa::Error::Setup {
            stage: hakoniwa::Stage::Exec,
            errno: 2,
            ..
        }) => println!("ok"),
        other => println!("bad: {other:?}"),
    }
}
