//! The built-in default profile against the upstream Podman JSON profile loaded through the
//! OCI loader: identical decisions for every system call number and the relevant argument
//! vectors, except the differences listed in `intended_difference`.

mod common;

use common::{arg_vectors, numbers};
use hakoniwa_seccomp::caps::{cap_mask, ALL_CAPS, PODMAN_DEFAULT_CAPS};
use hakoniwa_seccomp::interp::{run, SeccompData};
use hakoniwa_seccomp::{from_oci_json, podman_default, Action, Arch, Policy};

const X86_64: u32 = 0xc000_003e;

fn podman_json() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/seccomp/podman.json"
    );
    match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        // In CI the reference must be there (shared/ is laid beside the clone): never pass
        // without comparing. Outside CI a checkout without shared/ skips loudly.
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("the Podman reference profile is required in CI at {path}: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: the Podman reference profile is not available at {path}: {e}");
            None
        }
    }
}

/// Every intended difference between `podman_default` (ours) and podman.json (theirs).
fn intended_difference(nr: u32, args: &[u64; 6], ours: Action, theirs: Action) -> bool {
    let ioctl = Arch::X86_64.syscall_nr("ioctl").unwrap();
    // ioctl(fd, TIOCSTI), TIOCLINUX, TIOCSETD and the other terminal requests: EPERM
    // instead of allowed (request is an int: only the low 32 bits count).
    let tty = nr == ioctl
        && hakoniwa_seccomp::terminal::is_denied(args[1])
        && ours == Action::Errno(1)
        && theirs == Action::Allow;
    // add_key, keyctl, request_key: EPERM instead of allowed (or ENOSYS where unlisted):
    // the caller's keys would otherwise be reachable by serial number.
    let keys = ["add_key", "keyctl", "request_key"]
        .iter()
        .any(|n| Arch::X86_64.syscall_nr(n) == Some(nr))
        && ours == Action::Errno(1)
        && matches!(theirs, Action::Allow | Action::Errno(38));
    tty || keys
}

fn compare(caps: u64, text: &str) {
    let ours = podman_default(caps);
    let (theirs, warnings) = from_oci_json(text, caps).expect("podman.json loads");
    // Names unknown on x86_64 are reported, not dropped silently.
    for name in ["_llseek", "chown32", "mmap2"] {
        assert!(
            warnings.iter().any(|w| w.0.contains(&format!("`{name}`"))),
            "no warning for {name}: {warnings:?}"
        );
    }
    assert_eq!(theirs.arches(), ours.arches());
    let p_ours = ours.compile().unwrap().instructions;
    let p_theirs = theirs.compile().unwrap().instructions;

    let mut args = arg_vectors(&[&ours, &theirs]);
    // Requests around TIOCSTI / TIOCLINUX with junk in the high word.
    for r in [
        0x5411u64,
        0x5412,
        0x5413,
        0x541b,
        0x541c,
        0x541d,
        0x5423,
        0x5424,
        0x540c,
        0x4b3a,
        0x4bff,
        0x4c00,
        0x5606,
        0x8068_5600,
    ] {
        args.push([0, r, 0, 0, 0, 0]);
        args.push([0, r | 0xdead_beef_0000_0000, 0, 0, 0, 0]);
    }
    let mut differences = 0;
    for arch in [X86_64, 0x4000_0003, 0xc000_00b7] {
        for nr in numbers() {
            for a in &args {
                let d = SeccompData::new(arch, nr, *a);
                let x = Action::from_ret_value(run(&p_ours, &d).unwrap()).unwrap();
                let y = Action::from_ret_value(run(&p_theirs, &d).unwrap()).unwrap();
                if x != y {
                    assert!(
                        arch == X86_64 && intended_difference(nr, a, x, y),
                        "caps {caps:#x}: arch {arch:#x} nr {nr} ({:?}) args {a:x?}: ours {x:?}, podman.json {y:?}",
                        Arch::X86_64.syscall_name(nr)
                    );
                    differences += 1;
                }
            }
        }
    }
    // The TIOCSTI/TIOCLINUX difference must actually be there.
    assert!(
        differences >= 4,
        "caps {caps:#x}: only {differences} differences"
    );
}

#[test]
fn podman_default_matches_podman_json_caps_none() {
    if let Some(t) = podman_json() {
        compare(0, &t);
    }
}

#[test]
fn podman_default_matches_podman_json_caps_podman_default_set() {
    if let Some(t) = podman_json() {
        compare(cap_mask(PODMAN_DEFAULT_CAPS), &t);
    }
}

#[test]
fn podman_default_matches_podman_json_caps_all() {
    if let Some(t) = podman_json() {
        compare(ALL_CAPS, &t);
    }
}

fn decide(p: &Policy, name: &str, args: [u64; 6]) -> Action {
    let prog = p.compile().unwrap().instructions;
    let nr = Arch::X86_64.syscall_nr(name).unwrap();
    Action::from_ret_value(run(&prog, &SeccompData::new(X86_64, nr, args)).unwrap()).unwrap()
}

#[test]
fn podman_default_decisions() {
    let none = podman_default(0);
    assert_eq!(none.name(), "podman-default");
    assert_eq!(decide(&none, "read", [0; 6]), Action::Allow);
    assert_eq!(decide(&none, "kexec_load", [0; 6]), Action::Errno(1));
    assert_eq!(decide(&none, "add_key", [0; 6]), Action::Errno(1));
    assert_eq!(decide(&none, "io_uring_setup", [0; 6]), Action::Errno(38));
    assert_eq!(
        decide(&none, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
        Action::Allow
    );
    assert_eq!(
        decide(&none, "personality", [0x1, 0, 0, 0, 0, 0]),
        Action::Errno(38)
    );
    assert_eq!(
        decide(&none, "socket", [16, 3, 9, 0, 0, 0]),
        Action::Errno(22)
    );
    assert_eq!(decide(&none, "socket", [16, 3, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(decide(&none, "socket", [2, 1, 9, 0, 0, 0]), Action::Allow);
    assert_eq!(decide(&none, "chroot", [0; 6]), Action::Errno(1));
    assert_eq!(decide(&none, "mount", [0; 6]), Action::Allow);
    assert_eq!(decide(&none, "arch_prctl", [0; 6]), Action::Allow);
    assert_eq!(
        decide(&none, "ioctl", [0, 0x5412, 0, 0, 0, 0]),
        Action::Errno(1)
    );
    assert_eq!(
        decide(&none, "ioctl", [0, 0x1_0000_541c, 0, 0, 0, 0]),
        Action::Errno(1)
    );
    assert_eq!(
        decide(&none, "ioctl", [0, 0x5413, 0, 0, 0, 0]),
        Action::Allow
    );
    let podman = podman_default(cap_mask(PODMAN_DEFAULT_CAPS));
    assert_eq!(decide(&podman, "chroot", [0; 6]), Action::Allow);
    assert_eq!(decide(&podman, "sethostname", [0; 6]), Action::Errno(1));
    let all = podman_default(ALL_CAPS);
    assert_eq!(decide(&all, "socket", [16, 3, 9, 0, 0, 0]), Action::Allow);
    assert_eq!(decide(&all, "bpf", [0; 6]), Action::Allow);
    assert_eq!(decide(&all, "init_module", [0; 6]), Action::Allow);
}
