//! Test helper: bind DIR read-only at /data and try to write into its submount /data/sub.
//! Prints the shell's error (expected: "sub: Read-only file system").
fn main() {
    let dir = std::env::args().nth(1).expect("usage: ro_probe DIR");
    let mut c = hakoniwa::Container::new();
    c.rootfs("/").bindmount_ro(&dir, "/data");
    let out = c
        .command("/bin/sh")
        .args(["-c", "touch /data/sub/x 2>&1 | grep -o 'Read-only file system' | sed 's/^/sub: /'; test ! -e /data/sub/x"])
        .output()
        .expect("spawn");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    std::process::exit(out.status.code());
}
