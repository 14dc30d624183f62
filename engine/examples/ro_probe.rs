//! Test helper: bind DIR read-only at /data and try to write into its submount /data/sub.
//! Prints the shell's error (expected: "sub: Read-only file system").
//!
//! `ro_probe --without-open-tree-attr DIR` first installs a seccomp filter that makes
//! `open_tree_attr` fail with ENOSYS (as on kernels before 6.15) for this process and the
//! sandboxes it starts, and prints `open_tree_attr: ENOSYS` once it is in place.
#[path = "../tests/common/filters.rs"]
#[allow(dead_code)]
mod filters;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--without-open-tree-attr") {
        args.remove(0);
        filters::without_open_tree_attr();
        println!("open_tree_attr: ENOSYS");
    }
    let dir = args
        .first()
        .expect("usage: ro_probe [--without-open-tree-attr] DIR");
    let mut c = hakoniwa::Container::new();
    c.rootfs("/").bindmount_ro(dir, "/data");
    let out = c
        .command("/bin/sh")
        .args(["-c", "touch /data/sub/x 2>&1 | grep -o 'Read-only file system' | sed 's/^/sub: /'; test ! -e /data/sub/x"])
        .output()
        .expect("spawn");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    std::process::exit(out.status.code());
}
