//! Test helper: run `sh -c SCRIPT` in a default sandbox (`rootfs("/")`, devfs, tmpfs /tmp),
//! forwarding its stdout, stderr and exit code. Options before the script:
//! `--uid0` (`uidmap(0).gidmap(0)`), `--unconfined` (no seccomp filter),
//! `--cap-add NAME` (repeatable).
//!
//! `cargo run --example sandbox_sh -- --uid0 'id -u; keyctl show @s'`
use hakoniwa::Container;

fn main() {
    let mut c = Container::new();
    c.rootfs("/").devfsmount("/dev").tmpfsmount("/tmp");
    let mut args = std::env::args().skip(1);
    let script = loop {
        match args.next().as_deref() {
            Some("--uid0") => {
                c.uidmap(0).gidmap(0);
            }
            Some("--unconfined") => {
                c.seccomp(hakoniwa::seccomp::Seccomp::Unconfined);
            }
            Some("--cap-add") => {
                let name = args.next().expect("--cap-add NAME");
                let n = hakoniwa::caps::from_name(&name).expect("unknown capability");
                c.cap_add(n);
            }
            Some(s) => break s.to_string(),
            None => {
                eprintln!("usage: sandbox_sh [--uid0] [--unconfined] [--cap-add NAME].. SCRIPT");
                std::process::exit(2);
            }
        }
    };
    match c
        .command("/bin/sh")
        .args(["-c", &script])
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .status()
    {
        Ok(s) => std::process::exit(s.code()),
        Err(e) => {
            eprintln!("sandbox_sh: {e}");
            std::process::exit(125);
        }
    }
}
