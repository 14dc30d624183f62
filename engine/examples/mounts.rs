//! Custom mounts: a read-only and a read-write bind of host directories, a tmpfs, a
//! minimal /dev, and a directory, a file and a symbolic link created in the new root.
//!
//! `cargo run -p hakoniwa-sandbox --example mounts` (shown in docs/rust.md, run by
//! engine/tests/examples.rs)
use hakoniwa::Container;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = std::env::temp_dir().join(format!("hakoniwa-mounts-{}", std::process::id()));
    std::fs::create_dir_all(host.join("out"))?;
    std::fs::write(host.join("input.txt"), "hello from the host\n")?;

    let mut container = Container::new();
    container
        .rootfs("/")
        .bindmount_ro(&host, "/data") // recursively read-only
        .bindmount_rw(host.join("out"), "/out")
        .tmpfsmount("/tmp")
        .devfsmount("/dev") // null, zero, full, random, urandom, tty, pts, shm
        .dir("/work", 0o755)
        .file("/config/greeting.txt", "hello from the config\n")
        .symlink("/data/input.txt", "/input");
    let script = "cat /input /config/greeting.txt; echo written > /out/result.txt; \
                  touch /data/x 2>/dev/null || echo /data is read-only; \
                  echo scratch > /tmp/s && cat /tmp/s; ls /";
    let output = container.command("/bin/sh").args(["-c", script]).output()?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    print!(
        "host sees: {}",
        std::fs::read_to_string(host.join("out/result.txt"))?
    );
    std::fs::remove_dir_all(&host)?;
    Ok(())
}
