//! Namespaces: the program is PID 2 of its own PID namespace (under the sandbox's init,
//! PID 1) and uid 0 of its own user namespace, with its own host name (UTS) and IPC namespace.
//!
//! `cargo run -p hakoniwa-sandbox --example namespaces` (shown in docs/rust.md, run by
//! engine/tests/examples.rs)
use hakoniwa::{Container, Namespace};

fn main() -> Result<(), hakoniwa::Error> {
    let mut container = Container::new(); // new user, mount and PID namespaces; /proc
    container
        .rootfs("/") // the host's /usr, /bin, /lib*, /etc, /sbin, read-only
        .unshare(Namespace::Ipc)
        .hostname("sandbox") // implies a new UTS namespace
        .uidmap(0) // the caller's uid and gid appear as 0 inside
        .gidmap(0);
    let output = container
        .command("/bin/sh")
        .args([
            "-c",
            "echo pid=$$ uid=$(id -u) host=$(uname -n); ps -e -o pid=,comm=",
        ])
        .output()?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    println!("{}", output.status);
    Ok(())
}
