//! Engine core: identity, namespaces, exit codes and typed setup errors (issue 2).
mod common;

use common::*;
use std::os::fd::OwnedFd;

use hakoniwa::{Container, Error, ErrorKind, ExitReason, Namespace, Rlimit, Stage};

#[test]
fn seed_example_runs_as_written() {
    let out = std::process::Command::new(example("seed"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"echo seed-ok $$\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // PID 1 is the sandbox's init; the program is its first child.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "seed-ok 2");
}

#[test]
fn id_shows_caller_ids_by_default() {
    let (code, out, _) = sh(&sandbox(), "id -u; id -g");
    assert_eq!(code, 0);
    assert_eq!(out, format!("{}\n{}\n", euid(), egid()));
}

#[test]
fn uidmap_zero_makes_root() {
    let mut c = sandbox();
    c.uidmap(0).gidmap(0);
    let (code, out, err) = sh(&c, "id");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("uid=0(root) gid=0(root)"), "{out}");
}

#[test]
fn the_init_is_pid_1_and_the_program_sees_only_the_sandbox() {
    let (code, out, err) = sh(&sandbox(), "echo $$; ps -e -o pid= -o comm=");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("2"));
    let procs: Vec<&str> = lines.map(str::trim).collect();
    assert_eq!(procs.len(), 3, "{procs:?}");
    assert_eq!(procs[0], "1 hakoniwa-init", "{procs:?}");
    assert!(procs[1].starts_with("2 sh"), "{procs:?}");
    assert!(procs[2].ends_with("ps"), "{procs:?}");
}

#[test]
fn without_the_init_the_program_is_pid_1() {
    let mut c = sandbox();
    c.init(false);
    let (code, out, err) = sh(&c, "echo $$; ps -e -o pid= -o comm=");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"));
    let procs: Vec<&str> = lines.map(str::trim).collect();
    assert_eq!(procs.len(), 2, "{procs:?}");
    assert!(procs[0].starts_with("1 sh"), "{procs:?}");
    assert!(procs[1].ends_with("ps"), "{procs:?}");
}

#[test]
fn hostname_with_uts_namespace() {
    let mut c = sandbox();
    c.hostname("hakoniwa-test");
    let (code, out, _) = sh(&c, "cat /proc/sys/kernel/hostname");
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "hakoniwa-test");
}

#[test]
fn namespaces_differ_exactly_when_unshared() {
    let cases: [&[Namespace]; 3] = [
        &[],
        &[
            Namespace::Cgroup,
            Namespace::Ipc,
            Namespace::Network,
            Namespace::Uts,
        ],
        &[Namespace::Ipc],
    ];
    for extra in cases {
        let mut c = sandbox();
        for ns in extra {
            c.unshare(*ns);
        }
        let names: Vec<&str> = Namespace::ALL.iter().map(|n| n.proc_name()).collect();
        let script = names
            .iter()
            .map(|n| format!("readlink /proc/self/ns/{n}"))
            .collect::<Vec<_>>()
            .join(";");
        let (code, out, err) = sh(&c, &script);
        assert_eq!(code, 0, "{err}");
        for (ns, inside) in Namespace::ALL.iter().zip(out.lines()) {
            let host = std::fs::read_link(format!("/proc/self/ns/{}", ns.proc_name())).unwrap();
            let unshared = c.is_unshared(*ns);
            assert_eq!(
                inside != host.to_str().unwrap(),
                unshared,
                "{ns:?}: inside {inside}, host {host:?}, unshared {unshared}"
            );
        }
    }
}

#[test]
fn empty_container_shares_everything() {
    let c = Container::empty();
    let (code, out, _) = sh(
        &c,
        "readlink /proc/self/ns/mnt /proc/self/ns/pid /proc/self/ns/user",
    );
    assert_eq!(code, 0);
    for (line, ns) in out.lines().zip(["mnt", "pid", "user"]) {
        assert_eq!(
            line,
            std::fs::read_link(format!("/proc/self/ns/{ns}"))
                .unwrap()
                .to_str()
                .unwrap()
        );
    }
}

#[test]
fn exit_125_and_127_are_program_exits_not_setup_errors() {
    for code in [0, 1, 125, 126, 127] {
        let s = sandbox()
            .command("/bin/sh")
            .args(["-c", &format!("exit {code}")])
            .status()
            .unwrap();
        assert_eq!(s.exit_code(), Some(code));
        assert_eq!(s.code(), code);
        assert_eq!(s.reason, ExitReason::Exited);
    }
}

#[test]
fn signal_death_is_128_plus_signal() {
    let s = sandbox()
        .command("/bin/sh")
        .args(["-c", "kill -TERM $$; sleep 1"])
        .status()
        .unwrap();
    // PID 1 ignores signals without a handler, so use a subshell that is not PID 1.
    let s2 = sandbox()
        .command("/bin/sh")
        .args(["-c", "sh -c 'kill -TERM $$'; echo $?"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&s2.stdout).trim(), "143");
    assert!(s.exit_code().is_some() || s.signal().is_some());
    let mut child = sandbox().command("/bin/sleep").arg("10").spawn().unwrap();
    child.kill().unwrap();
    let st = child.wait().unwrap();
    assert_eq!(st.signal(), Some(9));
    assert_eq!(st.code(), 137);
    assert_eq!(st.reason, ExitReason::Signaled);
}

#[test]
fn exec_of_missing_program_is_a_typed_setup_error() {
    let err = sandbox().command("/no/such/program").status().unwrap_err();
    match &err {
        Error::Setup {
            stage: Stage::Exec,
            target,
            errno: 2,
        } => {
            assert_eq!(target.as_deref(), Some("/no/such/program"))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("exec"), "{err}");
}

#[test]
fn missing_working_directory_is_a_chdir_error() {
    let err = sandbox()
        .command("/bin/true")
        .current_dir("/nonexistent")
        .status()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Setup {
                stage: Stage::Chdir,
                errno: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn rlimit_that_cannot_be_raised_is_an_rlimit_error() {
    let mut c = sandbox();
    c.setrlimit(Rlimit::Nofile, 1 << 30, 1 << 30);
    let err = c.command("/bin/true").status().unwrap_err();
    match err {
        Error::Setup {
            stage: Stage::Rlimit,
            target,
            errno,
        } => {
            assert_eq!(target.as_deref(), Some("RLIMIT_NOFILE"));
            assert_eq!(errno, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn rlimits_apply_inside() {
    let mut c = sandbox();
    c.setrlimit(Rlimit::Nofile, 64, 128)
        .setrlimit(Rlimit::Core, 0, 0);
    let (code, out, _) = sh(&c, "ulimit -n; ulimit -H -n; ulimit -c");
    assert_eq!(code, 0);
    assert_eq!(out, "64\n128\n0\n");
}

#[test]
fn configuration_errors_come_from_spawn() {
    let mut c = sandbox();
    c.bindmount_ro("/definitely/missing", "/x");
    let err = c.command("/bin/true").status().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config {
                field: "bindmount",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("/definitely/missing"), "{err}");

    let mut c = sandbox();
    c.uidmaps(&[(0, 1000, 0)]);
    assert!(matches!(
        c.command("/bin/true").status().unwrap_err(),
        Error::Config {
            field: "uidmap",
            ..
        }
    ));

    let mut c = Container::empty();
    c.procfsmount("/proc");
    assert!(matches!(
        c.command("/bin/true").status().unwrap_err(),
        Error::Config { .. }
    ));
}

#[test]
fn environment_is_not_inherited() {
    std::env::set_var("HAKONIWA_SECRET", "leak");
    let (code, out, _) = sh(&sandbox(), "env");
    assert_eq!(code, 0);
    assert!(!out.contains("HAKONIWA_SECRET"), "{out}");
    let out = sandbox()
        .command("/usr/bin/env")
        .env("A", "1")
        .env("B", "2=3")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let mut lines: Vec<&str> = s.lines().collect();
    lines.sort();
    assert_eq!(lines, ["A=1", "B=2=3"]);
}

#[test]
fn program_name_is_searched_in_path_inside() {
    let out = sandbox().command("echo").arg("found").output().unwrap();
    assert_eq!(out.stdout, b"found\n");
}

#[test]
fn wait_twice_returns_the_same_status() {
    let mut child = sandbox()
        .command("/bin/sh")
        .args(["-c", "exit 3"])
        .spawn()
        .unwrap();
    let a = child.wait().unwrap();
    let b = child.wait().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.code(), 3);
    assert_eq!(child.try_wait().unwrap(), Some(a));
}

#[test]
fn try_wait_and_pidfd() {
    // The program waits for its input before it sleeps: still running when try_wait looks,
    // however long this thread is held up.
    let mut child = sandbox()
        .command("/bin/sh")
        .args(["-c", "read -r go; exec sleep 0.2"])
        .stdin(hakoniwa::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(child.id() > 1);
    let _ = child.pidfd();
    assert_eq!(child.try_wait().unwrap(), None);
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let s = child.wait().unwrap();
    assert!(s.success());
    assert!(s.usage.real_time >= std::time::Duration::from_millis(150));
}

#[test]
fn usage_figures_are_filled() {
    let s = sandbox()
        .command("/bin/sh")
        // The loop takes CPU time; the sleep blocks (at least one voluntary switch, however
        // idle or busy the machine is).
        .args([
            "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.01",
        ])
        .status()
        .unwrap();
    assert!(s.success());
    let u = s.usage;
    assert!(
        u.user_time + u.system_time > std::time::Duration::ZERO,
        "{u:?}"
    );
    assert!(u.minor_faults > 0, "{u:?}");
    assert!(u.voluntary_switches + u.involuntary_switches > 0, "{u:?}");
}

#[test]
fn peak_memory_is_absent_unless_asked_for() {
    for init in [true, false] {
        let mut c = sandbox();
        c.init(init);
        let s = c.command("/bin/true").status().unwrap();
        assert!(s.success());
        assert_eq!(s.usage.max_rss_kb, None, "init {init}");
    }
    // Unconfined without the init: no filter to hook, so no figure even when asked (never
    // the host-polluted ru_maxrss).
    let mut c = sandbox();
    c.seccomp(hakoniwa::seccomp::Seccomp::Unconfined)
        .init(false)
        .peak_memory(true);
    let s = c.command("/bin/true").status().unwrap();
    assert!(s.success());
    assert_eq!(s.usage.max_rss_kb, None);
}

#[test]
fn peak_memory_is_reported_when_asked_for() {
    // From the init's report, and from the exit hook without the init.
    for init in [true, false] {
        let mut c = sandbox();
        c.peak_memory(true).init(init);
        let s = c.command("/bin/true").status().unwrap();
        assert!(s.success());
        assert!(s.usage.max_rss_kb.is_some_and(|kb| kb > 0), "{:?}", s.usage);
    }
}

/// The exit hook is folded into the one filter: the program sees exactly one filter under
/// every profile whether or not peak memory is measured, and none when unconfined.
#[test]
fn the_program_sees_one_seccomp_filter_under_every_profile() {
    use hakoniwa::seccomp::Seccomp;
    for (profile, want) in [
        (Seccomp::Podman, "1"),
        (Seccomp::Audit, "1"),
        (Seccomp::Unconfined, "0"),
    ] {
        for (peak, init) in [(false, true), (true, true), (false, false), (true, false)] {
            let mut c = sandbox();
            c.seccomp(profile.clone()).peak_memory(peak).init(init);
            let (code, out, err) = sh(&c, "grep Seccomp_filters /proc/self/status");
            assert_eq!(code, 0, "{err}");
            assert_eq!(
                out.split_whitespace().nth(1),
                Some(want),
                "{profile:?}, peak memory {peak}, init {init}: {out}"
            );
        }
    }
}

/// Every configuration error `spawn` returns before starting anything, `prepare` returns
/// too, with the same kind and text.
#[test]
fn prepare_returns_the_configuration_errors_spawn_would() {
    let bad_landlock = || {
        let mut r = hakoniwa::landlock::Ruleset::new();
        r.add_fs_rule("/usr", hakoniwa::landlock::FsAccess::R);
        r
    };
    let configs: Vec<(ErrorKind, Container)> = vec![
        (ErrorKind::Config, {
            let mut c = sandbox();
            c.hostname(&"h".repeat(65));
            c
        }),
        (ErrorKind::Config, {
            let mut c = sandbox();
            c.bindmount_ro("/definitely/missing", "/x");
            c
        }),
        (ErrorKind::Config, {
            let mut c = sandbox();
            c.uidmaps(&[(0, 1000, 0)]);
            c
        }),
        (ErrorKind::Config, {
            let mut c = sandbox();
            c.cap_add(62);
            c
        }),
        (ErrorKind::Landlock, {
            let mut c = sandbox();
            c.landlock(bad_landlock());
            c
        }),
        (ErrorKind::Seccomp, {
            let mut c = sandbox();
            c.seccomp(hakoniwa::seccomp::Seccomp::Oci {
                name: "bad.json".into(),
                json: r#"{"defaultAction":"SCMP_ACT_BOGUS"}"#.into(),
            });
            c
        }),
    ];
    for (kind, c) in configs {
        let mut cmd = c.command("/bin/true");
        let prepared = cmd.prepare().expect_err("an invalid configuration");
        let spawned = cmd.spawn().expect_err("an invalid configuration");
        assert_eq!(prepared.kind(), kind, "{prepared:?}");
        assert_eq!(prepared, spawned);
    }
}

/// `prepare` starts no process: a program that would write to a pipe never does.
#[test]
fn prepare_runs_nothing() {
    let (r, w) = std::io::pipe().unwrap();
    let mut cmd = sandbox().command("/bin/sh");
    cmd.args(["-c", "echo ran"]).stdout(OwnedFd::from(w));
    // Children are counted in a forked copy of this process: it has one thread and none of
    // the sandboxes other tests of this binary run meanwhile, so a new one is prepare's.
    let counted = in_forked_process(|| {
        let children = child_count();
        cmd.prepare().expect("a valid configuration");
        child_count() == children
    });
    assert_eq!(counted, OK, "prepare started a process");
    cmd.prepare().expect("a valid configuration");
    drop(cmd); // closes the command's copy of the write end
    let mut out = String::new();
    std::io::Read::read_to_string(&mut { r }, &mut out).unwrap();
    assert_eq!(out, "", "the program ran");
}

/// `prepare` reports what the sandbox will enforce, as the spawned child does, and leaves
/// the command as it was (its stdout descriptor still works for the spawn).
#[test]
fn prepare_reports_what_spawn_enforces_and_leaves_the_command_reusable() {
    let (r, w) = std::io::pipe().unwrap();
    let mut c = sandbox();
    c.hostname("box");
    let mut cmd = c.command("/bin/sh");
    cmd.args(["-c", "hostname"]).stdout(OwnedFd::from(w));
    let planned = cmd.prepare().expect("a valid configuration");
    assert!(planned.namespaces.contains(&Namespace::Uts));
    assert!(planned.seccomp.is_some());
    assert!(planned.timings.prepare > std::time::Duration::ZERO);
    assert_eq!(planned.timings.total, std::time::Duration::ZERO);
    let mut child = cmd.spawn().expect("spawn after prepare");
    let mut enforced = child.enforcement().clone();
    assert!(child.wait().unwrap().success());
    drop(cmd);
    let mut out = String::new();
    std::io::Read::read_to_string(&mut { r }, &mut out).unwrap();
    assert_eq!(out, "box\n");
    enforced.timings = planned.timings;
    assert_eq!(enforced, planned);
}

/// Every public type is `Send` and `Sync` (the crate docs say so): a host may build,
/// spawn, supervise and report from any thread. Checked at compile time.
#[test]
fn every_public_type_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    use hakoniwa::landlock as ll;
    use hakoniwa::seccomp as sc;
    send_sync::<Container>();
    send_sync::<hakoniwa::Command>();
    send_sync::<hakoniwa::Child>();
    send_sync::<hakoniwa::ChildStdin>();
    send_sync::<hakoniwa::ChildStdout>();
    send_sync::<hakoniwa::ChildStderr>();
    send_sync::<hakoniwa::Output>();
    send_sync::<hakoniwa::Stdio>();
    send_sync::<hakoniwa::ExitStatus>();
    send_sync::<ExitReason>();
    send_sync::<hakoniwa::Usage>();
    send_sync::<hakoniwa::Enforced>();
    send_sync::<hakoniwa::Enforcement>();
    send_sync::<hakoniwa::LandlockReport>();
    send_sync::<hakoniwa::SeccompReport>();
    send_sync::<hakoniwa::SetupTimings>();
    send_sync::<Error>();
    send_sync::<ErrorKind>();
    send_sync::<Stage>();
    send_sync::<Namespace>();
    send_sync::<hakoniwa::Network>();
    send_sync::<hakoniwa::Pasta>();
    send_sync::<Rlimit>();
    send_sync::<hakoniwa::Runctl>();
    send_sync::<hakoniwa::IdMap>();
    send_sync::<hakoniwa::Mount>();
    send_sync::<hakoniwa::BindAccess>();
    send_sync::<hakoniwa::layout::Layout>();
    send_sync::<hakoniwa::layout::Entry>();
    send_sync::<hakoniwa::layout::Step>();
    send_sync::<ll::Ruleset>();
    send_sync::<ll::Prepared>();
    send_sync::<ll::Enforcement>();
    send_sync::<ll::LandlockError>();
    send_sync::<ll::NotEnforced>();
    send_sync::<ll::Dropped>();
    send_sync::<ll::Resource>();
    send_sync::<ll::CompatMode>();
    send_sync::<ll::Scope>();
    send_sync::<ll::FsAccess>();
    send_sync::<sc::Seccomp>();
}
