//! Test helper: bind /usr/share read-only at /m/0 .. /m/99 (enough fresh mount points for
//! the child to clone the sources on a helper thread) and print how many /m holds and
//! whether /m/7 is read-only.
//!
//! `binds_probe --without-clone-threads` first installs a seccomp filter that refuses
//! `clone` with `CLONE_THREAD` (the child then does everything on one thread) and prints
//! `clone threads: EPERM` once it is in place.
#[path = "../tests/common/filters.rs"]
#[allow(dead_code)]
mod filters;

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--without-clone-threads") {
        filters::without_clone_threads();
        println!("clone threads: EPERM");
    }
    let mut c = hakoniwa::Container::new();
    c.rootfs("/");
    for i in 0..100 {
        c.bindmount_ro("/usr/share", format!("/m/{i}"));
    }
    let out = c
        .command("/bin/sh")
        .args([
            "-c",
            "ls /m | wc -l; touch /m/7/x 2>&1 | grep -o 'Read-only file system'",
        ])
        .output()
        .expect("spawn");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    std::process::exit(out.status.code());
}
