//! Issue "seccomp ... Architecture": on x86_64, i386 (`int $0x80`) and x32 (`nr | 0x40000000`)
//! system calls are denied unless the profile explicitly allows those architectures, and an
//! allowed foreign architecture gets the profile's default action (the decision documented
//! in `engine/seccomp/src/lib.rs`, "Architectures"). The probe is `tests/probes/arch_probe.c`,
//! built with gcc at test time and run from a read-only bind at /probe.
#![cfg(target_arch = "x86_64")]

use std::path::PathBuf;

use hakoniwa::seccomp::Seccomp;
use hakoniwa::{Container, ExitReason};

const ENOSYS: i64 = 38;
const EPERM: i64 = 1;

/// The probe, built into a directory of its own that is removed on drop.
struct Probe(PathBuf);

impl Probe {
    fn build(tag: &str) -> Probe {
        let dir = std::env::temp_dir().join(format!("hakoniwa-arch-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let probe = Probe(dir);
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/probes/arch_probe.c");
        let out = std::process::Command::new("gcc")
            .args(["-static", "-nostdlib", "-O1", "-o"])
            .arg(probe.0.join("arch_probe"))
            .arg(src)
            .output()
            .expect("gcc is required (installed by .ci/setup)");
        assert!(out.status.success(), "building the probe failed: {out:?}");
        probe
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one probe run showed: the printed return value, or the signal that killed it.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Returned(i64),
    Killed { signal: i32, seccomp: bool },
}

fn parse(stdout: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(stdout);
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("probe output {s:?}"))
}

/// Run the probe on the host, without any sandbox or filter.
fn on_host(p: &Probe, which: &str) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let out = std::process::Command::new(p.0.join("arch_probe"))
        .arg(which)
        .output()
        .unwrap();
    match out.status.signal() {
        Some(signal) => Outcome::Killed {
            signal,
            seccomp: false,
        },
        None => {
            assert_eq!(out.status.code(), Some(0), "{out:?}");
            Outcome::Returned(parse(&out.stdout))
        }
    }
}

fn in_sandbox(p: &Probe, seccomp: Seccomp, which: &str) -> Outcome {
    let mut c = Container::new();
    // The probe itself is PID 1: these minimal profiles allow only what it needs, not what
    // the sandbox's init needs (see `a_profile_that_starves_the_init_is_refused_by_name`).
    c.bindmount_ro(&p.0, "/probe").seccomp(seccomp).init(false);
    let out = c
        .command("/probe/arch_probe")
        .arg(which)
        .output()
        .expect("spawn");
    match out.status.signal() {
        Some(signal) => Outcome::Killed {
            signal,
            seccomp: out.status.reason == ExitReason::SeccompViolation,
        },
        None => {
            assert_eq!(out.status.code(), 0, "{out:?}");
            Outcome::Returned(parse(&out.stdout))
        }
    }
}

/// An OCI profile whose default action is `ERRNO(EPERM)` (distinct from the ENOSYS the
/// engine gives to x32 numbers it does not allow), allowing only what the probe needs.
fn oci_eperm(arches: &[&str]) -> Seccomp {
    let arches: Vec<String> = arches.iter().map(|a| format!("\"{a}\"")).collect();
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
            "architectures":[{}],
            "syscalls":[{{"names":["execve","write","exit_group","exit"],"action":"SCMP_ACT_ALLOW"}}]}}"#,
        arches.join(",")
    );
    Seccomp::Oci {
        name: "arch-eperm".into(),
        json,
    }
}

/// What the kernel itself does with the call, or None (with a message) when it cannot run
/// at all (no IA32 emulation / no x32 ABI): then a sandbox without a filter can't differ.
fn kernel_supports(p: &Probe, which: &str) -> Option<i64> {
    match on_host(p, which) {
        Outcome::Returned(r) if r == -ENOSYS => {
            eprintln!("SKIPPED half: this kernel returns ENOSYS for {which} system calls itself");
            None
        }
        Outcome::Returned(r) => {
            assert!(r > 0, "host {which} getpid returned {r}");
            Some(r)
        }
        Outcome::Killed { signal, .. } => {
            eprintln!("SKIPPED half: {which} system calls kill the process on this kernel (signal {signal})");
            None
        }
    }
}

#[test]
fn default_profile_denies_i386_and_x32_with_enosys() {
    let p = Probe::build("default");
    // The default (Podman) profile lists x86 and x32 as sub-architectures, as containers/common
    // does, so their calls get its default action: ERRNO(ENOSYS). getpid is allowed natively.
    assert_eq!(
        in_sandbox(&p, Seccomp::Podman, "i386"),
        Outcome::Returned(-ENOSYS)
    );
    assert_eq!(
        in_sandbox(&p, Seccomp::Podman, "x32"),
        Outcome::Returned(-ENOSYS)
    );
}

#[test]
fn a_profile_that_starves_the_init_is_refused_by_name() {
    let p = Probe::build("starved");
    let mut c = Container::new();
    c.bindmount_ro(&p.0, "/probe")
        .seccomp(oci_eperm(&["SCMP_ARCH_X86_64"]));
    let e = c
        .command("/probe/arch_probe")
        .arg("bogus")
        .status()
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, hakoniwa::Error::Config { .. }), "{e:?}");
    assert!(
        msg.contains("does not allow execveat") && msg.contains("init(false)"),
        "{msg}"
    );
}

#[test]
fn unconfined_behaves_like_the_kernel() {
    let p = Probe::build("unconfined");
    // The probe is the sandbox's PID 1, so a working getpid returns 1 whatever arch it used.
    if kernel_supports(&p, "i386").is_some() {
        assert_eq!(
            in_sandbox(&p, Seccomp::Unconfined, "i386"),
            Outcome::Returned(1),
            "without a filter, i386 getpid must work as it does on the host"
        );
    }
    match kernel_supports(&p, "x32") {
        Some(_) => assert_eq!(
            in_sandbox(&p, Seccomp::Unconfined, "x32"),
            Outcome::Returned(1)
        ),
        None => assert_eq!(
            in_sandbox(&p, Seccomp::Unconfined, "x32"),
            on_host(&p, "x32"),
            "without a filter, x32 must fail as it does on the host"
        ),
    }
}

#[test]
fn profile_without_foreign_arches_kills_i386_and_gives_x32_enosys() {
    let p = Probe::build("native");
    let native_only = || oci_eperm(&["SCMP_ARCH_X86_64"]);
    // i386 is a bad architecture: the process is killed (SIGSYS), never the default action.
    assert_eq!(
        in_sandbox(&p, native_only(), "i386"),
        Outcome::Killed {
            signal: 31,
            seccomp: true
        }
    );
    // x32 numbers get ENOSYS, not the profile's default action (EPERM here).
    assert_eq!(
        in_sandbox(&p, native_only(), "x32"),
        Outcome::Returned(-ENOSYS)
    );
    // Control: the probe itself (execve, write, exit_group) runs under this profile.
    let mut c = Container::new();
    c.bindmount_ro(&p.0, "/probe")
        .seccomp(native_only())
        .init(false);
    let s = c
        .command("/probe/arch_probe")
        .arg("bogus")
        .status()
        .unwrap();
    assert_eq!(s.code(), 2, "the probe itself runs under this profile");
}

#[test]
fn profile_that_allows_foreign_arches_gives_them_its_default_action() {
    let p = Probe::build("allowed");
    let all = || oci_eperm(&["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    assert_eq!(in_sandbox(&p, all(), "i386"), Outcome::Returned(-EPERM));
    assert_eq!(in_sandbox(&p, all(), "x32"), Outcome::Returned(-EPERM));
    // The same through archMap sub-architectures of the native entry.
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
        "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
        "syscalls":[{"names":["execve","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let map = || Seccomp::Oci {
        name: "arch-map".into(),
        json: json.into(),
    };
    assert_eq!(in_sandbox(&p, map(), "i386"), Outcome::Returned(-EPERM));
    assert_eq!(in_sandbox(&p, map(), "x32"), Outcome::Returned(-ENOSYS));
}
