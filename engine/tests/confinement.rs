//! Landlock through the whole spawn path: rules resolve inside the sandbox (issue 4).
mod common;

use common::*;
use hakoniwa::landlock::LandlockError;
use hakoniwa::landlock::{CompatMode, FsAccess, Resource, Ruleset};
use hakoniwa::{Error, ErrorKind, Stage};

fn confined(rules: &[(&str, FsAccess)]) -> hakoniwa::Container {
    let mut r = Ruleset::new();
    r.restrict(Resource::Fs, CompatMode::Enforce);
    for (p, a) in rules {
        r.add_fs_rule(*p, *a);
    }
    let mut c = sandbox();
    c.tmpfsmount("/tmp").landlock(r);
    c
}

#[test]
fn landlock_rules_apply_to_paths_inside_the_sandbox() {
    let rx = FsAccess::R | FsAccess::X;
    let c = confined(&[
        ("/usr", rx),
        ("/etc", FsAccess::R),
        ("/tmp", FsAccess::R | FsAccess::W),
    ]);
    let (code, out, err) = sh(
        &c,
        "echo ok > /tmp/f && cat /tmp/f; ls /proc >/dev/null 2>&1 || echo proc-denied",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "ok\nproc-denied\n");
}

#[test]
fn landlock_missing_rule_path_is_a_setup_error_naming_it() {
    let c = confined(&[
        ("/usr", FsAccess::R | FsAccess::X),
        ("/not/here", FsAccess::R),
    ]);
    let err = c.command("/bin/true").status().unwrap_err();
    match &err {
        Error::Setup {
            stage: Stage::Landlock,
            target,
            errno: 2,
        } => assert_eq!(target.as_deref(), Some("/not/here")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn landlock_rule_without_restriction_is_a_typed_landlock_error() {
    let mut r = Ruleset::new();
    r.add_fs_rule("/usr", FsAccess::R);
    let mut c = sandbox();
    c.landlock(r);
    let err = c.command("/bin/true").status().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Landlock(LandlockError::RuleWithoutRestriction { resource: "fs", rule })
                if rule == "/usr"
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Landlock);
    assert_eq!(err.stage(), Some(Stage::Config));
    assert!(err.to_string().contains("/usr"), "{err}");
}

/// `perl -e 'syscall(...)'` as a probe: prints the errno (0 on success).
fn probe(c: &hakoniwa::Container, call: &str) -> String {
    // `$d` is a writable "/" for calls that take a path (perl refuses string literals there).
    let script = format!("my $d = \"/\"; $r = syscall({call}); print $r == -1 ? $! + 0 : 0");
    let out = c
        .command("/usr/bin/perl")
        .args(["-e", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn default_seccomp_profile_decisions() {
    let mut c = sandbox();
    c.uidmap(1000).gidmap(1000).devfsmount("/dev"); // not root inside: no capabilities
    assert_eq!(
        probe(&c, "246, 0, 0, 0, 0"),
        "1",
        "kexec_load must give EPERM"
    );
    assert_eq!(probe(&c, "323, 0"), "1", "userfaultfd must give EPERM");
    assert_eq!(
        probe(&c, "425, 0, 0"),
        "38",
        "an unlisted syscall (io_uring_setup) gives ENOSYS"
    );
    assert_eq!(
        probe(&c, "135, 0xffffffff"),
        "0",
        "personality(0xffffffff) works"
    );
    assert_eq!(
        probe(&c, "41, 16, 3, 9"),
        "22",
        "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) gives EINVAL"
    );
    assert_eq!(probe(&c, "39"), "0", "getpid works");
}

#[test]
fn unconfined_has_no_filter_and_default_has_one() {
    let (_, out, _) = sh(&sandbox(), "grep Seccomp: /proc/self/status");
    assert_eq!(out.trim(), "Seccomp:\t2");
    let mut c = sandbox();
    c.seccomp(hakoniwa::seccomp::Seccomp::Unconfined);
    let (_, out, _) = sh(&c, "grep Seccomp: /proc/self/status");
    assert_eq!(out.trim(), "Seccomp:\t0");
}

#[test]
fn kill_process_action_reports_seccomp_violation() {
    let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#;
    let mut c = sandbox();
    c.seccomp(hakoniwa::seccomp::Seccomp::Oci {
        name: "kill-getpid".into(),
        json: json.into(),
    });
    let s = c
        .command("/usr/bin/perl")
        .args(["-e", "print $$"])
        .status()
        .unwrap();
    assert_eq!(s.signal(), Some(31));
    assert_eq!(s.reason, hakoniwa::ExitReason::SeccompViolation);
}

#[test]
fn a_profile_refusing_or_killing_shared_memory_clones_still_runs_the_program() {
    // The init starts the program with a CLONE_VM | CLONE_VFORK clone; a profile that
    // refuses clones sharing memory (no threads), or kills a process for one, must still
    // get its program run (the init forks instead).
    for action in ["SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"] {
        let json = format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["clone"],"action":"{action}","args":[{{"index":0,"value":256,"valueTwo":256,"op":"SCMP_CMP_MASKED_EQ"}}]}}]}}"#
        );
        let mut c = sandbox();
        c.seccomp(hakoniwa::seccomp::Seccomp::Oci {
            name: "no-shared-clones".into(),
            json,
        });
        let out = c.command("/bin/echo").arg("ran").output().unwrap();
        assert!(out.status.success(), "{action}: {:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n", "{action}");
    }
}

#[test]
fn invalid_oci_profile_is_a_typed_seccomp_error_naming_the_field() {
    let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_BOGUS"}]}"#;
    let mut c = sandbox();
    c.seccomp(hakoniwa::seccomp::Seccomp::Oci {
        name: "bad.json".into(),
        json: json.into(),
    });
    let err = c.command("/bin/true").status().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Seccomp {
                profile,
                error: hakoniwa::seccomp::filter::Error::InvalidProfile { field, .. },
            } if profile == "bad.json" && field == "syscalls[0].action"
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Seccomp);
    assert!(err.to_string().contains("syscalls[0].action"), "{err}");
}

#[test]
fn exit_status_reports_what_was_enforced() {
    let c = confined(&[("/usr", FsAccess::R | FsAccess::X)]);
    let s = c.command("/bin/true").status().unwrap();
    assert!(s.success());
    assert!(
        s.enforced.landlock_abi >= 1 && s.enforced.landlock_fs != 0,
        "{:?}",
        s.enforced
    );
    assert!(s.enforced.seccomp_instructions > 100, "{:?}", s.enforced);
    assert!(s.enforced.no_new_privs);
    let ns = s.enforced.namespaces;
    for n in [
        hakoniwa::Namespace::User,
        hakoniwa::Namespace::Mount,
        hakoniwa::Namespace::Pid,
    ] {
        assert!(ns & (1 << n as u32) != 0, "{ns:#b}");
    }
    let mut c = sandbox();
    c.seccomp(hakoniwa::seccomp::Seccomp::Unconfined);
    let s = c.command("/bin/true").status().unwrap();
    assert_eq!(
        (s.enforced.seccomp_instructions, s.enforced.landlock_abi),
        (0, 0)
    );
}

#[test]
fn capability_conditions_follow_the_programs_real_capabilities() {
    // socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT): the kernel lets anyone create it, the
    // profile only with CAP_AUDIT_WRITE (EINVAL otherwise). So the result is the filter's
    // decision, made with the capabilities the program really holds (upstream assumed all).
    let audit = "41, 16, 3, 9";
    let mut user = sandbox();
    user.uidmap(1000).gidmap(1000).devfsmount("/dev");
    assert_eq!(
        probe(&user, audit),
        "22",
        "no capabilities: denied by the filter"
    );
    let mut root = sandbox();
    root.uidmap(0).gidmap(0).devfsmount("/dev");
    assert_eq!(
        probe(&root, audit),
        "22",
        "uid 0 with the default set (no AUDIT_WRITE)"
    );
    let mut added = sandbox();
    added
        .uidmap(0)
        .gidmap(0)
        .devfsmount("/dev")
        .cap_add(hakoniwa::caps::from_name("AUDIT_WRITE").unwrap());
    assert_eq!(
        probe(&added, audit),
        "0",
        "cap_add(AUDIT_WRITE) reaches the filter"
    );
    // chroot: allowed with CAP_SYS_CHROOT, which uid 0 has by default.
    assert_eq!(probe(&root, "161, $d"), "0");
    let mut dropped = sandbox();
    dropped
        .uidmap(0)
        .gidmap(0)
        .devfsmount("/dev")
        .cap_drop(hakoniwa::caps::from_name("SYS_CHROOT").unwrap());
    assert_eq!(probe(&dropped, "161, $d"), "1");
}

/// An OCI profile refusing `fcntl(fd, F_SETFD, FD_CLOEXEC)` for descriptors above `above`.
fn refusing_cloexec_above(above: u32) -> hakoniwa::seccomp::Seccomp {
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["fcntl"],"action":"SCMP_ACT_ERRNO","args":[{{"index":0,"value":{above},"op":"SCMP_CMP_GT"}},{{"index":1,"value":2,"op":"SCMP_CMP_EQ"}},{{"index":2,"value":1,"op":"SCMP_CMP_EQ"}}]}}]}}"#
    );
    hakoniwa::seccomp::Seccomp::Oci {
        name: format!("no-cloexec-above-{above}"),
        json,
    }
}

#[test]
fn a_profile_refusing_the_inits_close_on_exec_is_refused_by_name() {
    // The init marks the engine's descriptors close-on-exec again; refused, they would
    // reach the program (the host's pidfd, the error pipe the engine waits on).
    let mut c = sandbox();
    c.seccomp(refusing_cloexec_above(0));
    let e = c.command("/bin/true").status().unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("does not allow fcntl(F_SETFD, FD_CLOEXEC)"),
        "{e}"
    );
}

#[test]
fn an_init_refused_close_on_exec_for_other_descriptors_fails_the_spawn() {
    // The check before the spawn tries the usual descriptor numbers; a profile refusing
    // the call for others passes it, and the init then fails the spawn rather than hand
    // its descriptors to the program (which ran with them, and the spawn waited for it to end).
    let mut c = sandbox();
    c.seccomp(refusing_cloexec_above(5));
    let e = c
        .command("/bin/sh")
        .args(["-c", "ls -l /proc/self/fd; sleep 2"])
        .output()
        .unwrap_err();
    assert_eq!(e.stage(), Some(Stage::Init), "{e:?}");
}

#[test]
fn a_profile_refusing_the_inits_epoll_wait_is_refused_by_name() {
    // The init waits for its signals and the engine's requests with epoll_wait; the
    // program alone (no init) does not need it.
    let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["epoll_wait"],"action":"SCMP_ACT_ERRNO"}]}"#;
    let refusing = || hakoniwa::seccomp::Seccomp::Oci {
        name: "no-epoll-wait".into(),
        json: json.into(),
    };
    let mut c = sandbox();
    c.seccomp(refusing());
    let e = c.command("/bin/true").status().unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
    assert!(e.to_string().contains("does not allow epoll_wait"), "{e}");
    let mut alone = sandbox();
    alone.seccomp(refusing()).init(false);
    assert!(alone.command("/bin/true").status().unwrap().success());
}
