//! `hakoniwa run`: flags, defaults and exit codes, through the real binary.

mod common;

use std::collections::BTreeSet;

use common::*;

#[test]
fn the_sandbox_shows_an_empty_root_its_own_proc_and_the_init_as_pid_1() {
    hk(&["run", "--", "sh", "-c", "pwd; ls /; ls /proc; ps aux"]).ok();
    let out = hk(&[
        "run",
        "--",
        "sh",
        "-c",
        "pwd; echo @@; ls /; echo @@; ls /proc; echo @@; ps aux",
    ]);
    out.ok();
    let parts: Vec<&str> = out.stdout.split("@@\n").collect();
    assert_eq!(parts.len(), 4, "{}", out.stdout);
    assert_eq!(parts[0].trim(), "/");
    let got: BTreeSet<&str> = parts[1].lines().collect();
    let mut want: BTreeSet<&str> = [
        "bin", "etc", "lib", "lib32", "lib64", "libx32", "sbin", "usr",
    ]
    .into_iter()
    .filter(|d| std::path::Path::new("/").join(d).exists())
    .collect();
    want.insert("proc");
    assert_eq!(got, want);
    let proc: BTreeSet<&str> = parts[2].lines().collect();
    for e in ["1", "self", "meminfo", "cpuinfo"] {
        assert!(proc.contains(e), "/proc lacks {e}: {proc:?}");
    }
    // PID 1 is the sandbox's init, the program PID 2, both the caller's user.
    let line = |pid: &str| {
        parts[3]
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(pid))
            .unwrap_or_else(|| panic!("no PID {pid} line: {}", parts[3]))
    };
    let (pid1, pid2) = (line("1"), line("2"));
    assert_eq!(
        pid1.split_whitespace().next(),
        Some(whoami().as_str()),
        "{pid1}"
    );
    assert!(pid1.trim_end().ends_with("hakoniwa-init"), "{pid1}");
    assert_eq!(
        pid2.split_whitespace().next(),
        Some(whoami().as_str()),
        "{pid2}"
    );
    assert!(pid2.contains("sh -c"), "{pid2}");
}

#[test]
fn without_a_command_the_sandbox_runs_bin_sh() {
    let out = hk(&["run"]);
    out.ok();
}

#[test]
fn dd_copies_from_the_devfs_to_a_tmpfs_with_every_namespace_unshared() {
    hk(&[
        "run",
        "--unshare-all",
        "--devfs",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--",
        "dd",
        "if=/dev/random",
        "of=/tmp/o",
        "count=1",
        "bs=4",
    ])
    .ok();
}

#[test]
fn a_wall_time_kill_exits_137_and_names_the_limit() {
    let out = hk(&["run", "--limit-walltime", "1", "--", "sleep", "2"]);
    assert_eq!(out.code, 137, "{}", out.stderr);
    assert!(out.stderr.contains("--limit-walltime"), "{}", out.stderr);
    assert!(out.stderr.contains("wall-clock"), "{}", out.stderr);
}

#[test]
fn a_wall_time_limit_takes_fractions_and_quiet_keeps_its_kill_silent() {
    // A fraction is accepted (ample time for `true`, whatever the machine's load).
    hk(&["run", "--limit-walltime", "5.5", "--", "true"]).ok();
    let out = hk(&["run", "-q", "--limit-walltime", "0.2", "--", "sleep", "1"]);
    assert_eq!(out.code, 137);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let bad = hk(&["run", "--limit-walltime", "soon", "--", "true"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("--limit-walltime"), "{}", bad.stderr);
    // A negative value is a value, not an unknown flag.
    for flag in ["--limit-walltime", "--limit-nofile", "--limit-as"] {
        let bad = hk(&["run", flag, "-1", "--", "true"]);
        assert_eq!(bad.code, 1, "{flag}: {}", bad.stderr);
        assert!(
            bad.stderr
                .contains(&format!("invalid value for {flag}: \"-1\"")),
            "{}",
            bad.stderr
        );
    }
}

#[test]
fn a_path_with_a_colon_is_bound_escaped_on_the_command_line_and_as_it_is_in_a_profile() {
    let d = temp_dir("colon");
    let dir = d.join("at 10:00");
    std::fs::create_dir(&dir).unwrap();
    write(&dir.join("f"), "in it\n");
    let escaped = s(&dir).replace(':', "\\:");
    let out = hk(&[
        "run",
        "-b",
        &format!("{escaped}:/data\\:x"),
        "--",
        "cat",
        "/data:x/f",
    ]);
    out.ok();
    assert_eq!(out.stdout, "in it\n");
    // Unescaped, the colon separates the sandbox's path, as it always did.
    let out = hk(&["run", "-b", s(&dir), "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    let profile = d.join("colon.toml");
    write(
        &profile,
        &format!(
            "[[mounts]]\nsource = {:?}\ndestination = \"/data\"\n",
            s(&dir)
        ),
    );
    let out = hk(&["run", "-c", s(&profile), "--", "cat", "/data/f"]);
    out.ok();
    assert_eq!(out.stdout, "in it\n");
}

#[test]
fn program_exit_125_is_passed_through_silently() {
    let out = hk(&["run", "--", "sh", "-c", "exit 125"]);
    assert_eq!(out.code, 125);
    assert!(!out.stderr.contains("sandbox"), "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(hk(&["run", "--", "sh", "-c", "exit 7"]).code, 7);
}

#[test]
fn a_cpu_limit_ends_the_program_with_sigxcpu_and_is_reported_as_such() {
    let out = hk(&[
        "run",
        "--limit-cpu",
        "1",
        "--json-status",
        "-",
        "--",
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    // The soft limit's SIGXCPU ends the program (it is not PID 1, which would ignore it).
    assert_eq!(out.code, 128 + 24, "{}", out.stderr);
    assert!(out.stderr.contains("--limit-cpu"), "{}", out.stderr);
    let v = status_doc(&out.stdout);
    assert_eq!(v["reason"], "cpu_time_exceeded");
    assert_eq!(v["limit"], "cpu");
}

#[test]
fn a_file_size_limit_ends_the_program_with_sigxfsz() {
    let out = hk(&[
        "run",
        "--devfs",
        "/dev",
        "--tmpfs",
        "/t",
        "--limit-fsize",
        "1K",
        "--json-status",
        "-",
        "--",
        "dd",
        "if=/dev/zero",
        "of=/t/x",
        "bs=4K",
        "count=1",
    ]);
    // SIGXFSZ ends dd, as outside a sandbox (as PID 1 it ignored the signal and its write
    // failed with EFBIG instead).
    assert_eq!(out.code, 128 + 25, "{}", out.stderr);
    assert!(out.stderr.contains("--limit-fsize"), "{}", out.stderr);
    let v = status_doc(&out.stdout);
    assert_eq!(v["reason"], "file_size_exceeded");
}

#[test]
fn a_program_missing_from_an_empty_root_is_127() {
    let out = hk(&["run", "--rootfs", "none", "--", "/bin/true"]);
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/bin/true: no such file inside the sandbox"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_read_only_bind_refuses_writes_and_a_read_write_bind_keeps_them() {
    let d = temp_dir("bind");
    write(&d.join("f"), "hello");
    let out = hk(&[
        "run",
        "-b",
        &format!("{}:/data", s(&d)),
        "--",
        "cat",
        "/data/f",
    ]);
    out.ok();
    assert_eq!(out.stdout, "hello");
    let out = hk(&[
        "run",
        "-b",
        s(&d),
        "--",
        "sh",
        "-c",
        &format!("echo x > {}/g", s(&d)),
    ]);
    assert_ne!(out.code, 0, "read-only bind was writable");
    hk(&[
        "run",
        "-B",
        &format!("{}:/data", s(&d)),
        "--",
        "sh",
        "-c",
        "echo w > /data/g",
    ])
    .ok();
    assert_eq!(std::fs::read_to_string(d.join("g")).unwrap(), "w\n");
}

#[test]
fn a_missing_bind_source_is_named_in_the_error() {
    let out = hk(&["run", "-b", "/no/such/dir-hk", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("/no/such/dir-hk"), "{}", out.stderr);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    let out = hk(&["run", "-B", "/no/such/rw-hk:/x", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("/no/such/rw-hk"), "{}", out.stderr);
}

#[test]
fn tmpfs_dir_and_symlink_flags_make_what_they_name() {
    let out = hk(&[
        "run",
        "--tmpfs",
        "/scratch",
        "--dir",
        "/made/here",
        "--symlink",
        "/usr/bin:/ubin",
        "--",
        "sh",
        "-c",
        "echo a > /scratch/a && cat /scratch/a && stat -c %a /made/here && readlink /ubin && /ubin/true",
    ]);
    out.ok();
    assert_eq!(out.stdout, "a\n700\n/usr/bin\n");
    let bad = hk(&["run", "--symlink", "nocolon", "--", "true"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("ORIGINAL:LINK"), "{}", bad.stderr);
    let rel = hk(&["run", "--tmpfs", "relative", "--", "true"]);
    assert_eq!(rel.code, 1);
}

#[test]
fn a_rootdir_is_read_only_unless_rw_and_keeps_no_mount_points() {
    let d = temp_dir("rootdir");
    write(&d.join("marker"), "m");
    let out = hk(&["run", "--rootdir", s(&d), "--", "cat", "/marker"]);
    out.ok();
    assert_eq!(out.stdout, "m");
    let ro = hk(&["run", "--rootdir", s(&d), "--", "sh", "-c", "echo x > /new"]);
    assert_ne!(ro.code, 0);
    // The mount points and symlinks made for --rootfs / are cleaned up afterwards.
    let names = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&d), ["marker"]);
    // Read-write: the mount points must exist (the engine creates none there).
    let rw = hk(&["run", "--rootdir", &format!("{}:rw", s(&d)), "--", "true"]);
    assert_eq!(rw.code, 1, "{}", rw.stderr);
    assert!(
        rw.stderr.contains(s(&d.join("proc"))) && rw.stderr.contains("create them"),
        "{}",
        rw.stderr
    );
    assert_eq!(names(&d), ["marker"]);
    for top in ["etc", "usr", "lib32", "libx32", "proc"] {
        let host = std::path::Path::new("/").join(top);
        if top == "proc" || host.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            std::fs::create_dir(d.join(top)).unwrap();
        }
    }
    hk(&[
        "run",
        "--rootdir",
        &format!("{}:rw", s(&d)),
        "--",
        "sh",
        "-c",
        "echo x > /new",
    ])
    .ok();
    assert_eq!(std::fs::read_to_string(d.join("new")).unwrap(), "x\n");
    assert!(names(&d).contains(&"new".to_string()));
    // Again: the links the first run wrote (bin -> usr/bin, ...) are reused, not an error.
    let again = hk(&[
        "run",
        "--rootdir",
        &format!("{}:rw", s(&d)),
        "--",
        "sh",
        "-c",
        "echo y > /new2",
    ]);
    again.ok();
    assert_eq!(std::fs::read_to_string(d.join("new2")).unwrap(), "y\n");
    let missing = hk(&["run", "--rootdir", "/no/such/root-hk", "--", "true"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("/no/such/root-hk"));
}

#[test]
fn a_rootfs_directory_gives_its_top_level_entries() {
    let d = temp_dir("rootfs");
    std::os::unix::fs::symlink("/usr/bin", d.join("bin")).unwrap();
    std::fs::create_dir(d.join("usr")).unwrap();
    let out = hk(&[
        "run",
        "--rootfs",
        s(&d),
        "-b",
        "/usr",
        "-b",
        "/lib",
        "--",
        "/bin/ls",
        "/",
    ]);
    // /lib may be a symlink on merged-/usr hosts; the bind then follows it, and without a
    // /lib64 the dynamic loader is missing (named, 126).
    if out.code == 0 {
        assert!(out.stdout.contains("bin"), "{}", out.stdout);
    } else {
        assert_eq!(out.code, 126, "{}", out.stderr);
        assert!(out.stderr.contains("its dynamic loader"), "{}", out.stderr);
    }
    let bad = hk(&["run", "--rootfs", "/no/such/rootfs-hk", "--", "true"]);
    assert_eq!(bad.code, 1);
}

#[test]
fn each_unshare_flag_gives_its_own_namespace_and_the_rest_are_shared() {
    for (flag, ns) in [
        ("--unshare-cgroup", "cgroup"),
        ("--unshare-ipc", "ipc"),
        ("--unshare-network", "net"),
        ("--unshare-uts", "uts"),
    ] {
        let path = format!("/proc/self/ns/{ns}");
        let shared = hk(&["run", "--", "readlink", &path]);
        shared.ok();
        assert_eq!(
            shared.stdout.trim(),
            host_ns(ns),
            "{ns} should be shared by default"
        );
        let new = hk(&["run", flag, "--", "readlink", &path]);
        new.ok();
        assert_ne!(new.stdout.trim(), host_ns(ns), "{flag}");
    }
    let all = hk(&[
        "run",
        "--unshare-all",
        "--",
        "sh",
        "-c",
        "for n in cgroup ipc net uts; do readlink /proc/self/ns/$n; done",
    ]);
    all.ok();
    for (line, ns) in all.stdout.lines().zip(["cgroup", "ipc", "net", "uts"]) {
        assert_ne!(line, host_ns(ns));
    }
}

#[test]
fn network_none_host_and_pasta_give_the_expected_namespace() {
    let host = hk(&[
        "run",
        "--unshare-all",
        "--network",
        "host",
        "--",
        "readlink",
        "/proc/self/ns/net",
    ]);
    host.ok();
    assert_eq!(host.stdout.trim(), host_ns("net"));
    let none = hk(&[
        "run",
        "--network",
        "none",
        "--",
        "readlink",
        "/proc/self/ns/net",
    ]);
    none.ok();
    assert_ne!(none.stdout.trim(), host_ns("net"));
    let pasta = hk(&[
        "run",
        "--network",
        "pasta:-T,80",
        "--",
        "ip",
        "-o",
        "-4",
        "addr",
    ]);
    pasta.ok();
    assert!(pasta.stdout.contains("eth0"), "{}", pasta.stdout);
    let bad = hk(&[
        "run",
        "--network",
        "pasta:--no-such-pasta-option",
        "--",
        "true",
    ]);
    assert_eq!(bad.code, 125);
    assert!(
        bad.stderr.contains("--network pasta: pasta failed")
            && bad.stderr.contains("no-such-pasta-option"),
        "{}",
        bad.stderr
    );
    let bad = hk(&["run", "--network", "bridge", "--", "true"]);
    assert_eq!(bad.code, 1);
}

#[test]
fn a_hostname_implies_a_uts_namespace() {
    let out = hk(&[
        "run",
        "--hostname",
        "hk-box",
        "--",
        "sh",
        "-c",
        "hostname; readlink /proc/self/ns/uts",
    ]);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "hk-box");
    assert_ne!(lines[1], host_ns("uts"));
}

#[test]
fn uid_and_gid_maps_set_the_ids_inside_and_bad_maps_are_refused() {
    let out = hk(&[
        "run",
        "-u",
        "0",
        "-g",
        "0",
        "--",
        "sh",
        "-c",
        "id -u; id -g",
    ]);
    out.ok();
    assert_eq!(out.stdout, "0\n0\n");
    let out = hk(&[
        "run",
        "--uidmap",
        "1234",
        "--gidmap",
        "4321",
        "--",
        "sh",
        "-c",
        "id -u; id -g",
    ]);
    out.ok();
    assert_eq!(out.stdout, "1234\n4321\n");
    for bad in ["x", "0:y", "0:1:2:3", "0:0:0"] {
        let out = hk(&["run", "-u", bad, "--", "true"]);
        assert_eq!(out.code, 1, "{bad}");
        assert!(out.stderr.contains("invalid uid map"), "{}", out.stderr);
    }
    let out = hk(&["run", "-g", "nope", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("invalid gid map"), "{}", out.stderr);
}

#[test]
fn userns_auto_maps_a_subordinate_range_or_names_etc_subuid() {
    let conflict = hk(&["run", "--userns", "auto", "-u", "0", "--", "true"]);
    assert_eq!(conflict.code, 1);
    assert!(conflict.stderr.contains("conflicts"), "{}", conflict.stderr);
    let out = hk(&["run", "--userns", "auto", "--", "cat", "/proc/self/uid_map"]);
    let me = whoami();
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_string();
    let has_range = std::fs::read_to_string("/etc/subuid")
        .unwrap_or_default()
        .lines()
        .any(|l| {
            l.split(':').next() == Some(me.as_str()) || l.split(':').next() == Some(uid.as_str())
        });
    if has_range {
        out.ok();
        assert!(out.stdout.lines().count() >= 2, "{}", out.stdout);
    } else {
        assert_eq!(out.code, 125);
        assert!(out.stderr.contains("/etc/subuid"), "{}", out.stderr);
    }
}

#[test]
fn user_switches_to_a_mapped_user_and_refuses_an_unmapped_one() {
    // A range of ids that includes nobody (65534) is needed: as root map one directly,
    // as an unprivileged user take the subordinate range (--userns auto).
    let root = rustix::process::geteuid().is_root();
    let maps: Vec<&str> = if root {
        vec!["-u", "0:100000:65536", "-g", "0:100000:65536"]
    } else {
        vec!["--userns", "auto"]
    };
    let mut a = vec!["run"];
    a.extend(&maps);
    a.extend(["--user", "nobody:nogroup", "--", "id"]);
    let out = hk(&a);
    out.ok();
    assert!(
        out.stdout
            .starts_with("uid=65534(nobody) gid=65534(nogroup)"),
        "{}",
        out.stdout
    );
    // An unmapped user: a setup error naming the stage, with a hint.
    let out = hk(&["run", "--user", "nobody", "--", "true"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr.contains("stage credentials") && out.stderr.contains("not mapped"),
        "{}",
        out.stderr
    );
    let out = hk(&["run", "--user", "no-such-user-here", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no-such-user-here"), "{}", out.stderr);
    let bad = hk(&["run", "--user", ":grp", "--", "true"]);
    assert_eq!(bad.code, 1);
}

#[test]
fn setenv_sets_copies_and_skips_variables_next_to_the_default_path() {
    let out = hk_with(
        &[
            "run",
            "-e",
            "A=1",
            "-e",
            "B=x=y",
            "-e",
            "C=",
            "-e",
            "HK_FROM_HOST",
            "-e",
            "HK_UNSET_VAR",
            "--",
            "env",
        ],
        &[("HK_FROM_HOST", "copied")],
    );
    out.ok();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "A=1",
            "B=x=y",
            "C=",
            "HK_FROM_HOST=copied",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        ]
    );
    let bad = hk(&["run", "-e", "=v", "--", "true"]);
    assert_eq!(bad.code, 1);
}

#[test]
fn the_working_directory_is_set_inside_and_a_missing_one_is_named() {
    let d = temp_dir("workdir");
    let out = hk(&["run", "-w", s(&d), "--", "sh", "-c", "pwd; echo hi > here"]);
    out.ok();
    assert_eq!(out.stdout.trim(), s(&d));
    assert_eq!(std::fs::read_to_string(d.join("here")).unwrap(), "hi\n");
    let out = hk(&["run", "-w", ":/usr", "--", "pwd"]);
    out.ok();
    assert_eq!(out.stdout.trim(), "/usr");
    let bad = hk(&["run", "-w", "/no/such/wd-hk", "--", "pwd"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("/no/such/wd-hk"));
}

fn limit_line(limits: &str, name: &str) -> Vec<String> {
    let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
    line[name.len()..]
        .split_whitespace()
        .take(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn limit_flags_set_the_programs_resource_limits() {
    // A process limit for a program that would be host uid 0 is refused (kuid 0 ignores it):
    // as root, map the sandbox elsewhere.
    let maps: &[&str] = if rustix::process::geteuid().is_root() {
        &["-u", "0:100000:65536", "-g", "0:100000:65536"]
    } else {
        &[]
    };
    let mut args = vec!["run"];
    args.extend(maps);
    args.extend([
        "--limit-as",
        "64M",
        "--limit-core",
        "0",
        "--limit-cpu",
        "5",
        "--limit-fsize",
        "512K",
        "--limit-nofile",
        "64",
        "--limit-nproc",
        "1000",
        "--",
        "cat",
        "/proc/self/limits",
    ]);
    let out = hk(&args);
    out.ok();
    let l = &out.stdout;
    assert_eq!(limit_line(l, "Max address space"), ["67108864", "67108864"]);
    assert_eq!(limit_line(l, "Max core file size"), ["0", "0"]);
    // CPU: the hard limit is one second above the soft one (SIGXCPU first, then SIGKILL).
    assert_eq!(limit_line(l, "Max cpu time"), ["5", "6"]);
    assert_eq!(limit_line(l, "Max file size"), ["524288", "524288"]);
    assert_eq!(limit_line(l, "Max open files"), ["64", "64"]);
    assert_eq!(limit_line(l, "Max processes"), ["1000", "1000"]);
    let out = hk(&["run", "--limit-as", "2G", "--", "cat", "/proc/self/limits"]);
    out.ok();
    assert_eq!(
        limit_line(&out.stdout, "Max address space")[0],
        "2147483648"
    );
    let bad = hk(&["run", "--limit-nofile", "many", "--", "true"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("--limit-nofile"), "{}", bad.stderr);
}

#[test]
fn no_new_privs_is_set_unless_new_privileges_are_allowed() {
    let out = hk(&["run", "--", "grep", "NoNewPrivs", "/proc/self/status"]);
    out.ok();
    assert!(out.stdout.contains('1'), "{}", out.stdout);
    let out = hk(&[
        "run",
        "--allow-new-privs",
        "--",
        "grep",
        "NoNewPrivs",
        "/proc/self/status",
    ]);
    out.ok();
    assert!(out.stdout.contains('0'), "{}", out.stdout);
}

#[test]
fn landlock_and_seccomp_flags_are_validated() {
    for args in [
        vec!["--landlock-tcp-bind", "70000"],
        vec!["--landlock-tcp-connect", "80,http"],
    ] {
        let mut a = vec!["run"];
        a.extend(args);
        a.extend(["--", "true"]);
        let out = hk(&a);
        assert_eq!(out.code, 1, "{a:?}");
        assert!(out.stderr.contains("invalid port"), "{}", out.stderr);
    }
    let out = hk(&["run", "--landlock-restrict", "fs,udp", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("udp"), "{}", out.stderr);
    let out = hk(&["run", "--seccomp", "/no/such/profile.json", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("/no/such/profile.json"));
    // Enforced: rx on /usr lets `true` run; restricting fs without rules denies the exec.
    hk(&[
        "run",
        "--landlock-fs-rx",
        "/usr",
        "--landlock-fs-ro",
        "/etc:/usr/share,/usr/lib",
        "--",
        "true",
    ])
    .ok();
    let out = hk(&[
        "run",
        "--landlock-restrict",
        "fs,tcp.bind,tcp.connect",
        "--",
        "true",
    ]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("stage exec (/usr/bin/true, errno 13): Permission denied\n"),
        "{}",
        out.stderr
    );
    hk(&["run", "--landlock-tcp-connect", "80,443", "--", "true"]).ok();
    hk(&["run", "--seccomp", "audit", "--", "true"]).ok();
    hk(&["run", "--seccomp", "podman", "--", "true"]).ok();
    hk(&["run", "--seccomp", "unconfined", "--", "true"]).ok();
}

#[test]
fn json_status_reports_exits_walltime_kills_and_setup_failures() {
    let d = temp_dir("json");
    let f = d.join("status.json");
    hk(&[
        "run",
        "--unshare-ipc",
        "--json-status",
        s(&f),
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    let v = status_doc(&std::fs::read_to_string(&f).unwrap());
    assert_eq!(v["reason"], "exited");
    assert_eq!(v["code"], 3);
    assert_eq!(v["exit_code"], 3);
    assert!(v["signal"].is_null());
    assert!(v["limit"].is_null());
    assert!(v["real_time"].as_f64().unwrap() >= 0.0);
    assert!(v["max_rss_kb"].as_u64().is_some());
    assert!(v["minor_faults"].as_u64().is_some());
    assert!(v["voluntary_switches"].as_u64().is_some());
    let ns: Vec<&str> = v["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for want in ["ipc", "mount", "pid", "user"] {
        assert!(ns.contains(&want), "{ns:?}");
    }
    assert!(v["landlock"].is_null(), "no landlock was asked for");
    assert_eq!(v["seccomp"]["profile"], "podman-default");

    let out = hk(&[
        "run",
        "--limit-walltime",
        "0.3",
        "--json-status",
        "-",
        "--",
        "sleep",
        "2",
    ]);
    assert_eq!(out.code, 137);
    let v = status_doc(&out.stdout);
    assert_eq!(v["reason"], "wall_time_exceeded");
    assert_eq!(v["limit"], "walltime");
    assert_eq!(v["signal"], 9);

    let out = hk(&[
        "run",
        "--rootfs",
        "none",
        "--json-status",
        "-",
        "--",
        "/bin/true",
    ]);
    assert_eq!(out.code, 127);
    let v = status_doc(&out.stdout);
    assert_eq!(v["reason"], "setup_failed");
    assert_eq!(v["code"], 127);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("no such file inside the sandbox"));
}

#[test]
fn verbose_mode_logs_each_setup_step_and_quiet_runs_log_nothing() {
    let out = hk(&[
        "run",
        "-v",
        "--tmpfs",
        "/tmp",
        "-u",
        "0",
        "--limit-nofile",
        "32",
        "--",
        "true",
    ]);
    out.ok();
    let e = &out.stderr;
    for want in [
        "[hakoniwa] Unshare namespaces:",
        "Mount:   tmpfs: /tmp",
        "Mount:    proc: /proc",
        "Mount: bind_ro: /usr -> /usr",
        "UID mapping: container_id: 0, host_id: ",
        "Rlimit: nofile",
        "Execve: \"",
        "Exited: exited (code 0)",
        "Metric:         VmHWM: ",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    let quiet = hk(&["run", "--", "true"]);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

#[test]
fn cap_add_cap_drop_and_allow_setid_change_the_capability_set() {
    let caps = |args: &[&str]| {
        let mut a = vec!["run", "--uidmap", "0", "--gidmap", "0"];
        a.extend(args);
        a.extend(["--", "grep", "CapBnd", "/proc/self/status"]);
        let out = hk(&a);
        out.ok();
        u64::from_str_radix(out.stdout.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    // As root, uid 0 inside is host root: CAP_SETFCAP goes with the set-id block.
    let default = if rustix::process::geteuid().is_root() {
        hakoniwa::caps::DEFAULT & !(1 << 31)
    } else {
        hakoniwa::caps::DEFAULT
    };
    assert_eq!(caps(&[]), default);
    assert_eq!(caps(&["--cap-add", "SYS_ADMIN"]), default | (1 << 21));
    assert_eq!(caps(&["--allow-setid"]), hakoniwa::caps::DEFAULT);
    assert_eq!(
        caps(&["--cap-drop", "ALL", "--cap-add", "CAP_KILL"]),
        1 << 5
    );
    let out = hk(&["run", "--cap-add", "NOT_A_CAP", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("NOT_A_CAP"), "{}", out.stderr);
}

#[test]
fn json_status_reports_what_is_enforced() {
    let out = hk(&[
        "run",
        "--landlock-fs-rx",
        "/usr",
        "--json-status",
        "-",
        "--",
        "true",
    ]);
    out.ok();
    let v = status_doc(&out.stdout);
    assert_eq!(v["landlock"]["fs_rules"], 1);
    let handled: Vec<&str> = v["landlock"]["handled_fs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        handled.contains(&"execute") && handled.contains(&"read_file"),
        "landlock sets are names: {handled:?}"
    );
    assert!(v["landlock"]["abi"].as_u64().unwrap() >= 1);
    assert_eq!(v["seccomp"]["profile"], "podman-default");
    assert!(v["seccomp"]["instructions"].as_u64().unwrap() > 100);
    assert_eq!(v["seccomp"]["architectures"][0], "x86_64");
    let total = v["setup_ms"]["total"].as_f64().unwrap();
    let parts: f64 = [
        "prepare", "clone", "idmap", "network", "release", "mounts", "identity", "confine", "exec",
    ]
    .iter()
    .map(|k| v["setup_ms"][k].as_f64().unwrap())
    .sum();
    assert!(
        total > 0.0 && v["setup_ms"]["mounts"].as_f64().unwrap() > 0.0,
        "{}",
        v["setup_ms"]
    );
    assert!(
        (parts - total).abs() <= total * 0.05 + 0.05,
        "parts {parts} vs total {total}"
    );
    let out = hk(&[
        "run",
        "--seccomp",
        "unconfined",
        "--json-status",
        "-",
        "--",
        "true",
    ]);
    let v = status_doc(&out.stdout);
    assert!(v["seccomp"].is_null() && v["landlock"].is_null());
}

#[test]
fn a_program_reaches_a_host_server_through_pasta() {
    use std::io::Write;
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = host.accept().unwrap();
        s.write_all(b"via pasta\n").unwrap();
    });
    let script = format!(
        "use IO::Socket::INET; my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => {port}) or die $!; print scalar <$c>"
    );
    let out = hk(&[
        "run",
        "--devfs",
        "/dev",
        "--network",
        &format!("pasta:-T,{port}"),
        "--",
        "perl",
        "-e",
        &script,
    ]);
    out.ok();
    assert_eq!(out.stdout, "via pasta\n");
    server.join().unwrap();
}

#[test]
fn json_schema_prints_the_schema_shipped_in_the_repository() {
    let out = hk(&["run", "--json-schema"]);
    out.ok();
    let printed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(printed, common::schema::status_schema());
}

#[test]
fn json_status_times_are_rounded_to_microseconds() {
    let out = hk(&["run", "--json-status", "-", "--", "true"]);
    out.ok();
    let v = status_doc(&out.stdout);
    let text = &out.stdout;
    for key in ["real_time", "user_time", "system_time"] {
        let raw = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("\"{key}\"")))
            .unwrap();
        let digits = raw.rsplit('.').next().unwrap().trim_end_matches(',');
        assert_eq!(digits.len(), 6, "{raw}");
        assert!(v[key].as_f64().is_some());
    }
}
